"""Every query parameter a sandbox's contract declares on a list is applied, or is
declared ignored on its Param with the reason (issue 14 point 1).

A sandbox that silently ignores a documented filter lets an adapter relying on it pass
here while a real account answers differently (issue 14's account timeline was exactly
that). So, for each vendor below and each parameter of each served ``GET`` list of its
contract, one request with a value that must change the answer:

- a filter: a value matching nothing (``999999999``, a far-future ``[gt]``) gives fewer
  rows than the list without it; an enumerated one (a boolean, a state): some value gives
  other rows than the list without it;
- a sort key: ascending and descending give different orders, each ordered by the key
  (the row's field of that name, or the vendor's ``keys`` below);
- anything else: the vendor's explicit probe in ``probes``.

A parameter whose Param ``note`` starts with ``ignored`` is not applied on purpose, and
the same probe must then show no effect (the note stays true). A parameter added to a
contract later is probed the same way: if the sandbox does not apply it, this test fails
until it is applied or declared ignored.

A sort is held among the rows that have a value: where blanks go is the vendor's choice
(Freshsales puts them last either way).

Each of the five vendors is one :class:`Vendor` entry in ``VENDORS``: its app, credentials
(SalesSeek logs in for a cookie), where a list's rows sit in the answer, how it asks for a
whole list and sorts, concrete ids for templated paths (a single record's GET takes
``include`` on Freshsales), records for lists its seed leaves empty, and the probes the
generic ones cannot derive. Freshsales' documented ``include`` handles are held one by one
below, and its account delete's ``delete_associated_contacts_deals``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from crmtui.sandbox.activecampaign import create_app as activecampaign_app
from crmtui.sandbox.contract import Endpoint, Param
from crmtui.sandbox.freshsales import create_app as freshsales_app
from crmtui.sandbox.freshsales.data import CURRENCIES, LEAD_STAGES, STAGE
from crmtui.sandbox.salesforceiq import create_app as salesforceiq_app
from crmtui.sandbox.salesloft import create_app as salesloft_app
from crmtui.sandbox.salesseek import create_app as salesseek_app
from crmtui.sandbox.salesseek.contract import CATEGORY_FLAGS, INCLUDE_FLAGS
from crmtui.sandbox.salesseek.data import category

Json = Any
Rows = list[dict[str, Any]]
NOTHING = "999999999"  # an id no record has, and a text no record carries
FAR_FUTURE = "2999-01-01T00:00:00Z"
FAR_PAST = "1900-01-01T00:00:00Z"


@dataclass
class Probe:
    """How to see a parameter work on a list: ``fewer`` (each query gives fewer rows than
    the list without it), ``differs`` (some query gives other rows, or another order),
    ``check`` (an explicit check of the answer to ``client.get(path, params=...)``)."""

    fewer: tuple[Mapping[str, str], ...] = ()
    differs: tuple[Mapping[str, str], ...] = ()
    check: Callable[[Lister, str], Awaitable[str | None]] | None = None


class Lister:
    """Lists one vendor's sandbox in process (ASGI, no network)."""

    def __init__(self, vendor: Vendor, client: httpx.AsyncClient, app: Starlette) -> None:
        self.vendor = vendor
        self.client = client
        self.app = app

    async def answer(self, path: str, query: Mapping[str, str]) -> Json:
        whole = {**self.vendor.whole, **self.vendor.given(self.app, path)}
        reply = await self.client.get(path, params={**whole, **query})
        assert reply.status_code in (200, 201), f"{path} {dict(query)}: {reply.text[:300]}"
        return reply.json()

    async def rows(self, path: str, query: Mapping[str, str] | None = None) -> Rows:
        rows: Rows = self.vendor.rows(path, await self.answer(path, query or {}))
        return rows

    async def ids(self, path: str, query: Mapping[str, str] | None = None) -> list[Any]:
        return [r["id"] for r in await self.rows(path, query)]


@dataclass
class Vendor:
    """One vendor's sandbox as this test lists it (see the module docstring)."""

    name: str
    make: Callable[[], Starlette]
    rows: Callable[[str, Json], Rows]
    sort_query: Callable[[Param, str, str], Mapping[str, str]]  # (param, key, ASC|DESC)
    headers: Mapping[str, str] = field(default_factory=dict)  # (SalesSeek: a login cookie)
    # the query asking for a whole (first) page (none: a list answers whole unasked)
    whole: Mapping[str, str] = field(default_factory=dict)
    paths: Callable[[Starlette], Mapping[str, str]] = lambda app: {}
    # what a list of this (concrete) path needs besides ``whole`` (a mandatory filter)
    given: Callable[[Starlette, str], Mapping[str, str]] = lambda app, path: {}
    prepare: Callable[[httpx.AsyncClient, Starlette], Awaitable[None]] | None = None
    probes: Mapping[tuple[str, str], Probe] = field(default_factory=dict)
    everywhere: Mapping[str, Probe] = field(default_factory=dict)  # by name, on every list
    # (list template or "", sort key) -> the value a row is ordered by, read with the app
    keys: Mapping[tuple[str, str], Callable[[Starlette, dict[str, Any]], Any]] = field(
        default_factory=dict
    )
    sorts: tuple[str, ...] = ()  # the names of sort parameters (besides ``orders[...]``)
    direction: str = ""  # the direction parameter; a list without it is checked one way


def is_sort(vendor: Vendor, p: Param) -> bool:
    return p.name in vendor.sorts or p.name.startswith("orders[")


def ignored(p: Param) -> bool:
    return p.note.lower().startswith("ignored")


def lists(app: Starlette) -> list[Endpoint]:
    """The served GET endpoints whose contract declares query parameters."""
    return [e for e in app.state.contract.endpoints if e.method == "GET" and e.query]


def generic(vendor: Vendor, endpoint: Endpoint, p: Param) -> Probe:
    """The probe derived from the Param's shape (module docstring)."""
    if p.values is not None:
        return Probe(differs=tuple({p.name: v} for v in p.values))
    if p.ops == ("*",):
        return Probe(fewer=({f"{p.name}[{NOTHING}]": NOTHING},))
    queries: list[Mapping[str, str]] = []
    for op in p.ops:
        if op in ("gt", "gte"):
            queries.append({f"{p.name}[{op}]": FAR_FUTURE})
        elif op in ("lt", "lte"):
            queries.append({f"{p.name}[{op}]": FAR_PAST})
    if p.plain or p.array or not queries:
        queries.append({p.name: NOTHING})
    return Probe(fewer=tuple(queries))


async def sort_failure(lister: Lister, path: str, endpoint: Endpoint, p: Param) -> str | None:
    """Each key of sort parameter ``p`` orders the list both ways by the key."""
    vendor = lister.vendor
    inner = re.fullmatch(r"orders\[(.+)\]", p.name)  # ``orders[title]=ASC``: one key
    wrong: list[str] = []
    for key in (inner[1],) if inner else p.values or ():
        up = await lister.rows(path, vendor.sort_query(p, key, "ASC"))
        down = await lister.rows(path, vendor.sort_query(p, key, "DESC"))
        value = vendor.keys.get((endpoint.path, key)) or vendor.keys.get(("", key))
        if value is None and up and key in up[0]:
            value = _field(key)
        if value is None:
            wrong.append(f"sort key {key!r}: no field to check the order by (give it in keys)")
            continue
        # blanks sit where the vendor puts them (Freshsales: last either way); the order
        # is held among the rows that have a value
        values = [v for v in (_comparable(value(lister.app, r)) for r in up) if v[0]]
        back = [v for v in (_comparable(value(lister.app, r)) for r in down) if v[0]]
        both_ways = not vendor.direction or endpoint.param(vendor.direction) is not None
        if len(set(values) | set(back if both_ways else ())) < 2:
            wrong.append(f"sort key {key!r}: the data do not differ, the order cannot be seen")
        elif values != sorted(values):
            wrong.append(f"sort key {key!r} ASC is not ordered by it: {values[:8]}")
        elif both_ways and back != sorted(back, reverse=True):
            wrong.append(f"sort key {key!r} DESC is not ordered by it: {back[:8]}")
    return "; ".join(wrong) or None


def _field(key: str) -> Callable[[Starlette, dict[str, Any]], Any]:
    return lambda app, row: row.get(key)


def _comparable(value: Any) -> tuple[int, Any]:
    """None first, text without case (the vendors sort names so)."""
    if value is None:
        return (0, 0)
    if isinstance(value, str):
        return (1, value.lower())
    if isinstance(value, dict):  # a reference
        return (1, value.get("id"))
    return (1, value)


async def failure(lister: Lister, path: str, endpoint: Endpoint, p: Param) -> str | None:
    """Why ``p`` does not change the answer of ``path`` (``None``: it does)."""
    vendor = lister.vendor
    probe = vendor.probes.get((endpoint.path, p.name)) or vendor.everywhere.get(p.name)
    if probe is None and is_sort(vendor, p):
        return await sort_failure(lister, path, endpoint, p)
    derived = probe is None
    probe = probe or generic(vendor, endpoint, p)
    if probe.check is not None:
        return await probe.check(lister, path)
    rows = await lister.rows(path)
    base = [r["id"] for r in rows]
    if not base:
        return "the list is empty: nothing to see a filter on (give records in prepare)"
    for query in probe.fewer:
        got = await lister.ids(path, query)
        # fewer rows, or other ones (a first page of a longer list stays full)
        if len(got) > len(base) or set(got) == set(base):
            return f"{dict(query)} gives {len(got)} rows of {len(base)}: not applied"
    value = row_value(rows[0], p.name) if derived and p.values is None else None
    if value is not None and (p.plain or p.array):
        # and the first row's own value keeps it (a filter that drops everything fails)
        kept = await lister.ids(path, {p.name: value})
        if base[0] not in kept:
            return f"{p.name}={value!r} (the first row's) drops that row: {kept[:5]}"
    if probe.differs:
        answers = [await lister.ids(path, query) for query in probe.differs]
        if all(got == base for got in answers):
            return f"{[dict(q) for q in probe.differs]} all give the list unchanged"
    return None


def row_value(row: dict[str, Any], name: str) -> str | None:
    """The value a row shows for filter ``name``, when it shows one: the field of that
    name (``title``), of its singular (``ids`` → ``id``, ``person_ids`` → ``person``), of
    its reference (``account_id`` → ``account.id``) or in brackets (``filters[title]``)."""
    inner = re.fullmatch(r"\w+\[(\w+)\]", name)
    base = inner[1] if inner else name
    for key in (base, base.removesuffix("_ids"), base.removesuffix("_id"), base[:-1]):
        value = row.get(key)
        if isinstance(value, dict):
            value = value.get("id")
        if isinstance(value, (str, int)) and not isinstance(value, bool) and value != "":
            return str(value)
    return None


def size(name: str) -> Probe:
    """An offset-paging size parameter: ``name=1`` gives one row."""

    async def check(lister: Lister, path: str) -> str | None:
        got = await lister.rows(path, {name: "1"})
        return None if len(got) == 1 else f"{name}=1 gives {len(got)} rows"

    return Probe(check=check)


def skip(name: str) -> Probe:
    """An offset parameter: ``name=1`` starts at the list's second row."""

    async def check(lister: Lister, path: str) -> str | None:
        every = await lister.ids(path)
        after = await lister.ids(path, {name: "1"})
        good = bool(every) and after[:5] == every[1:6]
        return None if good else f"{name}=1 gives {after[:5]} of {every[:5]}"

    return Probe(check=check)


def under(key: str) -> Callable[[str, Json], Rows]:
    """A list's rows sit under ``key`` of the answer, whatever the list."""

    def rows(path: str, body: Json) -> Rows:
        found: Rows = body[key]
        return found

    return rows


def concrete(template: str, app: Starlette, vendor: Vendor) -> str:
    given = vendor.paths(app)
    if template in given:
        return given[template]
    assert "{" not in template, f"{vendor.name}: give a concrete path for {template}"
    return template


# -- Salesloft --------------------------------------------------------------------------


def _salesloft_records(app: Starlette) -> None:
    """Records for the documented lists the sandbox's team starts without (no v2
    endpoint creates them), with the fields the definition gives them; and one user
    deactivated (``visible_only``)."""
    db = app.state.db
    now = db.now
    people = sorted(db["people"])[:3]
    users = sorted(db["users"])
    db["users"][users[-1]]["_deactivated"] = True
    # the seed gives every account 3 people and no clicks: two records that differ
    for n, account in enumerate(sorted(db["accounts"])[:2], 1):
        db["accounts"][account]["counts"]["people"] = 3 + n
    for n, person in enumerate(sorted(db["people"])[:2], 1):
        db["people"][person]["counts"]["emails_clicked"] = n
    for n, person in enumerate(people, 1):
        day = now - timedelta(days=n)
        stamps = {"created_at": day, "updated_at": day}
        db.insert("call_instructions", {"id": n, "instructions": f"Call {n}", **stamps})
        db.insert(
            "meetings",
            {
                "id": n,
                "title": f"Meeting {n}",
                "status": ("booked", "pending", "failed")[n - 1],
                "start_time": now + timedelta(days=n),
                "event_id": f"event-{n}",
                "i_cal_uid": f"ical-{n}",
                "account_id": str(db["people"][person]["account"]),
                "task_id": str(n),
                "person": person,
                "booked_by_user": users[n - 1],
                "owned_by_meetings_settings": {"email_address": f"owner{n}@example.com"},
                "booked_by_meetings_settings": {"email_address": f"booker{n}@example.com"},
                "_deleted_at": day if n == 3 else None,
                **stamps,
            },
        )
        db.insert(
            "successes",
            {"id": n, "person": person, "user": users[0], "succeeded_at": day, **stamps},
        )
        db.insert(
            "activity_histories",
            {
                "id": n,
                "type": ("call", "note", "sent_email")[n - 1],
                "occurred_at": day,
                "pinned": n == 1,
                "resource_type": "person",
                "resource_id": str(person),
                "user": users[n - 1],
                **stamps,
            },
        )
        db.insert("crm_users", {"id": n, "user": users[n - 1], "crm_id": f"005{n:015d}", **stamps})


async def _salesloft_prepare(client: httpx.AsyncClient, app: Starlette) -> None:
    _salesloft_records(app)
    job = (await client.post("/v2/bulk_jobs", json={"type": "person/upsert"})).json()["data"]
    rows = [{"email_address": f"probe{n}@example.com", "first_name": "P"} for n in range(3)]
    rows.append({"first_name": "no address: an error"})
    await client.post(f"/v2/bulk_jobs/{job['id']}/job_data", json={"data": rows})
    await client.put(f"/v2/bulk_jobs/{job['id']}", json={"ready_to_execute": True})
    await client.post("/v2/bulk_jobs", json={"type": "person/upsert"})  # an open one


def _salesloft_paths(app: Starlette) -> dict[str, str]:
    job = min(app.state.db["bulk_jobs"])
    return {
        "/v2/bulk_jobs/{bulk_jobs_id}/job_data": f"/v2/bulk_jobs/{job}/job_data",
        "/v2/bulk_jobs/{bulk_jobs_id}/results": f"/v2/bulk_jobs/{job}/results",
    }


async def _per_page(lister: Lister, path: str) -> str | None:
    got = await lister.rows(path, {"per_page": "1", "page": "1"})
    return None if len(got) == 1 else f"per_page=1 gives {len(got)} rows"


async def _page(lister: Lister, path: str) -> str | None:
    one = await lister.ids(path, {"per_page": "1", "page": "1"})
    two = await lister.ids(path, {"per_page": "1", "page": "2"})
    return None if one and two and one != two else f"page 1 {one}, page 2 {two}"


async def _paging_counts(lister: Lister, path: str) -> str | None:
    body = await lister.answer(path, {"include_paging_counts": "true"})
    plain = await lister.answer(path, {"include_paging_counts": "false"})
    with_counts = "total_count" in body["metadata"]["paging"]
    without = "total_count" not in plain["metadata"]["paging"]
    return None if with_counts and without else "include_paging_counts changes no paging counts"


async def _sort_direction(lister: Lister, path: str) -> str | None:
    up = await lister.ids(path, {"sort_direction": "ASC"})
    down = await lister.ids(path, {"sort_direction": "DESC"})
    return None if up != down else "sort_direction ASC and DESC give the same order"


async def _caller_ids(lister: Lister, path: str) -> str | None:
    person = next(p for p in lister.app.state.db["people"].values() if p.get("phone"))
    found = await lister.answer(path, {"phone_number": person["phone"]})
    none = await lister.answer(path, {"phone_number": NOTHING})
    ids = [row["person"]["id"] for row in found["data"]]
    return None if person["id"] in ids and not none["data"] else f"phone_number gives {ids}"


async def _meeting_settings(lister: Lister, path: str) -> str | None:
    shown = await lister.rows(path, {"include_meetings_settings": "true"})
    hidden = await lister.rows(path, {"include_meetings_settings": "false"})
    key = "owned_by_meetings_settings"
    good = shown and all(key in r for r in shown) and not any(key in r for r in hidden)
    return None if good else "include_meetings_settings changes no meeting"


async def _cursor(lister: Lister, path: str) -> str | None:
    every = await lister.ids(path)
    after = await lister.ids(path, {"id[gt]": str(every[0])})
    return None if every[0] not in after and after else f"id[gt] gives {after} of {every}"


async def _scoped_fields(lister: Lister, path: str) -> str | None:
    """A scoped field (the definition's sensitive ``subject``) shows only when named."""
    plain = await lister.rows(path)
    named = await lister.rows(path, {"scoped_fields": "subject"})
    good = not any("subject" in r for r in plain) and any(r.get("subject") for r in named)
    return None if good else "scoped_fields=subject shows no subject, or it shows unasked"


def _cadence_name(app: Starlette, row: dict[str, Any]) -> Any:
    """The name of the cadence the person was last added to and is still on."""
    db = app.state.db
    on = [
        m
        for m in db["cadence_memberships"].values()
        if m["person"] == row["id"] and m["currently_on_cadence"]
    ]
    latest = max(on, key=lambda m: (m["added_at"], m["id"]), default=None)
    return db["cadences"][latest["cadence"]]["name"] if latest else None


def _order_of(app: Starlette, table: str, ref: dict[str, Any] | None) -> Any:
    return app.state.db[table][ref["id"]]["order"] if ref else None


def _name_of(app: Starlette, table: str, ref: dict[str, Any] | None) -> Any:
    return app.state.db[table][ref["id"]]["name"] if ref else None


SALESLOFT = Vendor(
    name="salesloft",
    make=lambda: salesloft_app(rate_limit=False),
    headers={"Authorization": "Bearer sandbox"},
    rows=under("data"),
    whole={"per_page": "100"},
    sort_query=lambda p, key, way: {p.name: key, "sort_direction": way},
    sorts=("sort_by",),
    direction="sort_direction",
    paths=_salesloft_paths,
    prepare=_salesloft_prepare,
    everywhere={
        "per_page": Probe(check=_per_page),
        "page": Probe(check=_page),
        "include_paging_counts": Probe(check=_paging_counts),
        "sort_direction": Probe(check=_sort_direction),
    },
    probes={
        **{
            (f"/v2/bulk_jobs/{{bulk_jobs_id}}/{tail}", "id"): Probe(check=_cursor)
            for tail in ("job_data", "results")
        },
        ("/v2/bulk_jobs", "id"): Probe(check=_cursor),
        ("/v2/phone_numbers/caller_ids", "phone_number"): Probe(check=_caller_ids),
        ("/v2/meetings", "include_meetings_settings"): Probe(check=_meeting_settings),
        ("/v2/activities/emails", "scoped_fields"): Probe(check=_scoped_fields),
    },
    keys={
        ("/v2/people", "name"): lambda app, row: row["display_name"],
        ("/v2/people", "account"): lambda app, row: _name_of(app, "accounts", row["account"]),
        ("/v2/people", "call_count"): lambda app, row: row["counts"]["calls"],
        ("/v2/people", "sent_emails"): lambda app, row: row["counts"]["emails_sent"],
        ("/v2/people", "clicked_emails"): lambda app, row: row["counts"]["emails_clicked"],
        ("/v2/people", "replied_emails"): lambda app, row: row["counts"]["emails_replied_to"],
        ("/v2/people", "viewed_emails"): lambda app, row: row["counts"]["emails_viewed"],
        ("/v2/accounts", "account_stage"): lambda app, row: _order_of(
            app, "account_stages", row["company_stage"]
        ),
        ("/v2/accounts", "account_tier"): lambda app, row: _order_of(
            app, "account_tiers", row["account_tier"]
        ),
        ("/v2/accounts", "account_stage_name"): lambda app, row: _name_of(
            app, "account_stages", row["company_stage"]
        ),
        ("/v2/accounts", "account_tier_name"): lambda app, row: _name_of(
            app, "account_tiers", row["account_tier"]
        ),
        ("/v2/accounts", "counts_people"): lambda app, row: row["counts"]["people"],
        ("/v2/people", "cadence_stage_name"): _cadence_name,
        ("/v2/activities/emails", "send_time"): lambda app, row: row["sent_at"],
        ("/v2/users", "group"): lambda app, row: row["group"]["id"],
        ("/v2/users", "role"): lambda app, row: (row.get("role") or {}).get("id"),
    },
)


# -- ActiveCampaign -----------------------------------------------------------------------

_AC_KEYS = {"tasks": "dealTasks"}


def _activecampaign_rows(path: str, body: Json) -> Rows:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    rows: Rows = body[_AC_KEYS.get(last, last)]
    return rows


def _activecampaign_paths(app: Starlette) -> dict[str, str]:
    db = app.state.db

    def most(rows: Any, key: str) -> str:
        counts: dict[str, int] = {}
        for row in rows:
            counts[row[key]] = counts.get(row[key], 0) + 1
        return max(counts, key=lambda k: counts[k])

    deal = most(db.tasks.values(), "relid")
    contact = most(db.deals.values(), "contact")
    return {
        "/api/3/contacts/{id}/contactDeals": f"/api/3/contacts/"
        f"{most(db.contact_deals.values(), 'contact')}/contactDeals",
        "/api/3/contacts/{id}/deals": f"/api/3/contacts/{contact}/deals",
        "/api/3/deals/{id}/contactDeals": f"/api/3/deals/"
        f"{most(db.contact_deals.values(), 'deal')}/contactDeals",
        "/api/3/deals/{id}/notes": f"/api/3/deals/{most(db.notes.values(), 'relid')}/notes",
        **{
            f"/api/3/deals/{{id}}/{tail}": f"/api/3/deals/{deal}/{tail}"
            for tail in ("dealActivities", "tasks", "dealCustomFieldData")
        },
    }


async def _search_field(lister: Lister, path: str) -> str | None:
    """A contact's name found by ``filters[search]`` is not in the deals' titles."""
    db = lister.app.state.db
    name = next(c["lastName"] for c in db.contacts.values() if c["lastName"])
    every = await lister.ids(path, {"filters[search]": name})
    titles = await lister.ids(path, {"filters[search]": name, "filters[search_field]": "title"})
    return None if set(titles) < set(every) else f"search_field=title: {len(titles)} of {every}"


def _flips(name: str) -> Probe:
    """An order whose key is no field of the row: both ways differ from each other."""

    async def check(lister: Lister, path: str) -> str | None:
        up = await lister.ids(path, {name: "ASC"})
        down = await lister.ids(path, {name: "DESC"})
        return None if up != down else f"{name} ASC and DESC give the same order"

    return Probe(check=check)


def _ac_dates(*names: str, after: bool) -> dict[tuple[str, str], Probe]:
    bound = FAR_FUTURE if after else FAR_PAST
    return {("/api/3/deals", n): Probe(fewer=({n: bound},)) for n in names}


ACTIVECAMPAIGN = Vendor(
    name="activecampaign",
    make=lambda: activecampaign_app(rate_limit=False),
    headers={"Api-Token": "sandbox"},
    rows=_activecampaign_rows,
    whole={"limit": "100"},
    sort_query=lambda p, key, way: {p.name: way},
    paths=_activecampaign_paths,
    everywhere={"limit": size("limit"), "offset": skip("offset")},
    keys={
        ("", "cdate"): lambda app, row: row["cdate"][:19],
        ("", "value"): lambda app, row: int(row["value"]),
        ("/api/3/contacts", "id"): lambda app, row: int(row["id"]),
    },
    probes={
        **{
            (path, "exclude"): Probe(fewer=({"exclude": "email"},))
            for path in ("/api/3/dealActivities", "/api/3/deals/{id}/dealActivities")
        },
        ("/api/3/deals", "filters[search_field]"): Probe(check=_search_field),
        ("/api/3/deals", "filters[nextdate_range]"): Probe(
            differs=tuple(
                {"filters[nextdate_range]": v}
                for v in ("upcoming", "scheduled", "overdue", "no-task")
            )
        ),
        **_ac_dates("filters[created_before]", "filters[updated_before]", after=False),
        **_ac_dates("filters[created_after]", "filters[updated_after]", after=True),
        ("/api/3/deals", "filters[maximum_value]"): Probe(fewer=({"filters[maximum_value]": "0"},)),
        ("/api/3/deals", "filters[score]"): Probe(fewer=({"filters[score]": "1:999"},)),
        ("/api/3/deals", "filters[score_greater_than]"): Probe(
            fewer=({"filters[score_greater_than]": "1:999"},)
        ),
        ("/api/3/deals", "filters[score_less_than]"): Probe(
            fewer=({"filters[score_less_than]": "1:-1"},)
        ),
        **{
            ("/api/3/deals", f"orders[{key}]"): _flips(f"orders[{key}]")
            for key in ("contact_name", "contact_orgname", "next-action")
        },
        ("/api/3/dealGroups", "orders[popular]"): _flips("orders[popular]"),
        ("/api/3/dealTasks", "filters[due_after]"): Probe(
            fewer=({"filters[due_after]": FAR_FUTURE},)
        ),
        **{
            ("/api/3/dealTasks", name): Probe(fewer=({name: FAR_PAST},))
            for name in ("filters[due_before]", "Fitlers[due_before]")
        },
        ("/api/3/dealTasks", "filters[duedate_range]"): Probe(
            fewer=({"filters[duedate_range]": "2999-01-01+2999-01-02"},)
        ),
        ("/api/3/contacts", "filters[updated_after]"): Probe(
            fewer=({"filters[updated_after]": FAR_FUTURE},)
        ),
    },
)


# -- SalesforceIQ -------------------------------------------------------------------------


def _salesforceiq_paths(app: Starlette) -> dict[str, str]:
    lists_ = app.state.db.lists
    biggest = max(lists_, key=lambda i: len(app.state.db.items.get(i, {})))
    return {"/v2/lists/{listId}/listitems": f"/v2/lists/{biggest}/listitems"}


async def _ids_iq(lister: Lister, path: str) -> str | None:
    every = await lister.ids(path)
    some = await lister.ids(path, {"_ids": f"{every[0]},{every[-1]}"})
    return None if sorted(some) == sorted({every[0], every[-1]}) else f"_ids gives {some[:5]}"


SALESFORCEIQ = Vendor(
    name="salesforceiq",
    make=lambda: salesforceiq_app(rate_limit=False),
    headers={"Authorization": "Basic " + base64.b64encode(b"sandbox:sandbox").decode()},
    rows=under("objects"),
    whole={"_limit": "200"},
    sort_query=lambda p, key, way: {},
    paths=_salesforceiq_paths,
    everywhere={
        "_start": skip("_start"),
        "_limit": size("_limit"),
        "_ids": Probe(check=_ids_iq),
        # changed at or after this moment (ms): none yet
        "modifiedDate": Probe(fewer=({"modifiedDate": "32503680000000"},)),
    },
)


# -- Freshsales ---------------------------------------------------------------------------

_FS_ITEMS = ("tasks", "appointments", "sales_activities")
# the view each record kind is listed through (its id: the position in the kind's
# ``/filters``): the "All ..." view; deals have none, "Open Deals" is the widest of theirs
_FS_VIEWS = {"leads": 4, "contacts": 4, "sales_accounts": 2, "deals": 1}
# a documented ``include`` handle each answer embeds something for (by the path's kind)
_FS_INCLUDES = {"activities": "user", "fields": "field_group", "appointments": "targetable"}
_FS_STAGES = {s["id"]: s["position"] for s in LEAD_STAGES}  # the vendor's stage order
_FS_INCLUDES |= {"products": "product_pricings", "cpq_documents": "products"}


def _fs_kind(path: str) -> str:
    parts = path.split("/")  # "", "api", kind, ... (or "settings"/"cpq", kind, ...)
    return parts[3] if parts[2] in ("settings", "cpq") else parts[2]


def _freshsales_rows(path: str, body: Json) -> Rows:
    last, kind = path.rsplit("/", 1)[-1], _fs_kind(path)
    if last == "fields":
        rows: Rows = body["fields"]
    elif last.startswith("activities"):  # a feed entry's id is its composite_id
        rows = [{**r, "id": r["composite_id"]} for r in body["activities"]]
    elif isinstance(body.get(kind), list):
        rows = body[kind]
    else:  # one record, under its singular name
        rows = [v for v in body.values() if isinstance(v, dict) and "id" in v][:1]
    return rows


def _freshsales_query(app: Starlette, path: str) -> Mapping[str, str]:
    """A whole first page: the largest ``per_page`` where a list pages so, and the
    mandatory ``filter`` of the task and appointment lists (their widest value)."""
    lists = tuple(f"/api/{kind}" for kind in _FS_ITEMS)
    query = {"per_page": "100"} if "/view/" in path or path in lists else {}
    if path == "/api/tasks":
        query["filter"] = "open"
    if path == "/api/appointments":
        query["filter"] = "past"
    return query


async def _freshsales_prepare(client: httpx.AsyncClient, app: Starlette) -> None:
    """A priced product, a quote with it as a line item, and a deal with it (the seed
    starts with no CPQ records: crmtui does not use CPQ)."""
    db = app.state.db
    deal = db.deals[min(db.deals)]
    contact = min(db.contacts)
    prices = [{"currency_code": c["currency_code"], "unit_price": 100} for c in CURRENCIES]
    made = await client.post(
        "/api/cpq/products",
        json={"product": {"name": "Probe product", "pricing_type": 1, "product_pricings": prices}},
    )
    assert made.status_code == 201, made.text
    product = made.json()["product"]["id"]
    document = {
        "display_name": "Probe quote",
        "document_type": "Quote",
        "cpq_document_template_name": "Sample Template",
        "deal_id": deal["id"],
        "contact_id": contact,
        "products": [{"id": product, "quantity": 1, "unit_price": 100}],
    }
    quote = await client.post("/api/cpq/cpq_documents", json={"cpq_document": document})
    assert quote.status_code == 201, quote.text
    lines = {"products": [{"id": product, "quantity": 2}]}
    sold = await client.put(f"/api/deals/{deal['id']}", json={"deal": lines})
    assert sold.status_code == 200, sold.text


def _freshsales_paths(app: Starlette) -> dict[str, str]:
    db = app.state.db
    out: dict[str, str] = {}
    for kind, view in _FS_VIEWS.items():
        out[f"/api/{kind}/view/{{view_id}}"] = f"/api/{kind}/view/{view}"
        out[f"/api/{kind}/scroll/{{view_id}}"] = f"/api/{kind}/scroll/{view}"
    for kind in ("leads", "contacts", "sales_accounts", "deals", "tasks", "appointments"):
        # the first with something ``include`` embeds: an owner; an appointment's target
        # that is none of its attendees (those are embedded without asking, as documented)
        def embeds(row: dict[str, Any]) -> bool:
            if "_attendees" not in row:
                return bool(row.get("owner_id"))
            seen = [(a["attendee"]["type"], a["attendee"]["id"]) for a in row["_attendees"]]
            target = (str(row["targetable_type"]).lower(), row["targetable_id"])
            return bool(row["targetable_type"]) and target not in seen

        first = min(i for i, r in db.table(kind).items() if embeds(r))
        out[f"/api/{kind}/{{id}}"] = f"/api/{kind}/{first}"
    for kind in ("leads", "contacts"):  # the record with the longest feed
        type_ = "Lead" if kind == "leads" else "Contact"
        busiest = max(sorted(db.table(kind))[:50], key=lambda i: len(db.items(type_, i)))
        for tail in ("activities", "activities.json"):
            out[f"/api/{kind}/{{id}}/{tail}"] = f"/api/{kind}/{busiest}/{tail}"
    db.materialize_all()
    out["/api/sales_activities/{id}"] = f"/api/sales_activities/{min(db.sales_activities)}"
    for kind in ("products", "cpq_documents"):
        out[f"/api/cpq/{kind}/{{id}}"] = f"/api/cpq/{kind}/{min(db.table(kind))}"
    return out


async def _fs_include(lister: Lister, path: str) -> str | None:
    """A documented handle embeds something the answer without it lacks."""
    handle = _FS_INCLUDES.get(path.rsplit("/", 1)[-1].split(".")[0]) or _FS_INCLUDES.get(
        _fs_kind(path), "owner"
    )
    plain = await lister.answer(path, {})
    embedded = await lister.answer(path, {"include": handle})
    return None if embedded != plain else f"include={handle} changes nothing"


async def _fs_limit(lister: Lister, path: str) -> str | None:
    """``limit=1`` gives one row, ``limit=1&page=2`` the second."""
    every = await lister.ids(path)
    first = await lister.ids(path, {"limit": "1"})
    second = await lister.ids(path, {"limit": "1", "page": "2"})
    good = len(every) > 1 and first == every[:1] and second == every[1:2]
    return None if good else f"limit=1 gives {first}, page 2 {second} of {every[:3]}"


async def _fs_page(lister: Lister, path: str) -> str | None:
    size_ = "limit" if "activities" in path else "per_page"
    one = await lister.ids(path, {size_: "1", "page": "1"})
    two = await lister.ids(path, {size_: "1", "page": "2"})
    return None if one and two and one != two else f"page 1 {one}, page 2 {two}"


async def _fs_last_fetched(lister: Lister, path: str) -> str | None:
    every = await lister.ids(path)
    after = await lister.ids(path, {"last_fetched_id": str(every[0])})
    good = len(every) > 1 and after[: len(every) - 1] == every[1:]
    return None if good else f"last_fetched_id={every[0]} gives {after[:3]} of {every[:3]}"


def _fs_deal_contacted(app: Starlette, row: dict[str, Any]) -> Any:
    """A deal is last contacted when one of its contacts was (its body shows no such
    field: the sandbox's decision, in its sort key)."""
    contacts = app.state.db.contacts
    deal = app.state.db.deals[row["id"]]
    times = [contacts[i]["last_contacted"] for i in deal["contact_ids"] if i in contacts]
    return max((t for t in times if t), default=None)


FRESHSALES = Vendor(
    name="freshsales",
    make=lambda: freshsales_app(rate_limit=False),
    headers={"Authorization": "Token token=sandbox"},
    prepare=_freshsales_prepare,  # CPQ records
    paths=_freshsales_paths,
    given=_freshsales_query,
    rows=_freshsales_rows,
    sorts=("sort",),
    sort_query=lambda p, key, way: {p.name: key, "sort_type": way.lower()},
    direction="sort_type",
    everywhere={
        "include": Probe(check=_fs_include),
        "per_page": size("per_page"),
        "page": Probe(check=_fs_page),
        "limit": size("limit"),
        "last_fetched_id": Probe(check=_fs_last_fetched),
    },
    probes={
        **{
            (f"/api/{kind}/{{id}}/{tail}", "limit"): Probe(check=_fs_limit)
            for kind in ("leads", "contacts")
            for tail in ("activities", "activities.json")
        },
    },
    keys={
        ("", "amount"): lambda app, row: float(row["amount"]) if row.get("amount") else None,
        ("", "open_deals_amount"): lambda app, row: float(row["open_deals_amount"] or 0),
        ("", "lead_stage"): lambda app, row: _FS_STAGES.get(row.get("lead_stage_id")),
        ("/api/deals/view/{view_id}", "last_contacted"): _fs_deal_contacted,
    },
)


# -- SalesSeek ----------------------------------------------------------------------------

# a field each list is ordered by in the order_by probe (its rows differ in it)
_SS_ORDER = {
    "/api/organizations": "name",
    "/api/individuals": "last_name",
    "/api/opportunities": "value",
    "/api/tasks": "due_date",
    "/api/groups": "name",
    "/api/campaigns": "name",
    "/api/activities": "created",
    "/api/tags": "name",
    "/api/custom_fields": "name",
}


def _salesseek_rows(path: str, body: Json) -> Rows:
    rows: Rows = body["rows"] if isinstance(body, dict) else body
    return rows


def _ss_group(app: Starlette) -> dict[str, Any]:
    """The static group of organizations (its page's rows are organizations)."""
    groups = app.state.db.groups.values()
    return next(g for g in groups if g["element_type"] == "organizations")


def _ss_item(app: Starlette, flag: str = "") -> dict[str, str]:
    """An item with activities whose ``flag`` brings other records' activities in: an
    organization (its individuals', its deals'), an individual (its organization's)."""
    db = app.state.db
    kind = "individuals" if flag == "include_org_related" else "organizations"
    for item_id in sorted(db.store(kind)):
        related = db.related_ids(kind, item_id, {flag} if flag else set())
        others = all(db.by_target.get(r) for r in related[:1]) and (related or not flag)
        if db.by_target.get(item_id) and others:
            return {"item_type": kind, "item_id": item_id}
    raise AssertionError(f"no {kind} with related activities for {flag}")


async def _salesseek_prepare(client: httpx.AsyncClient, app: Starlette) -> None:
    form = {"email_address": "demo@sandbox.test", "password": "sandbox"}
    assert (await client.post("/api/login", data=form)).status_code == 200  # a cookie


def _salesseek_query(app: Starlette, path: str) -> Mapping[str, str]:
    """A group page needs its group."""
    return {"group_id": _ss_group(app)["id"]} if path == "/api/group_pages" else {}


async def _ss_group_id(lister: Lister, path: str) -> str | None:
    """Another group's page has other rows."""
    groups = lister.app.state.db.groups.values()
    people = next(g for g in groups if g["element_type"] == "individuals")
    mine = await lister.ids(path)
    theirs = await lister.ids(path, {"group_id": people["id"]})
    return None if theirs and set(theirs) != set(mine) else f"group_id gives {theirs[:3]}"


async def _ss_order(lister: Lister, path: str) -> str | None:
    """``order_by=<field> asc`` and ``<field> desc`` order by the field both ways."""
    if path == "/api/group_pages":  # rows are cells: the first column is the name
        up = await lister.answer(path, {"order_by": "name asc", "columns": "name"})
        down = await lister.answer(path, {"order_by": "name desc", "columns": "name"})
        ups = [r["cells"][0].lower() for r in up["rows"]]
        downs = [r["cells"][0].lower() for r in down["rows"]]
    else:
        name = _SS_ORDER[path]
        ups = [r[name] for r in await lister.rows(path, {"order_by": f"{name} asc"})]
        downs = [r[name] for r in await lister.rows(path, {"order_by": f"{name} desc"})]
        ups = [_comparable(v) for v in ups if v is not None]
        downs = [_comparable(v) for v in downs if v is not None]
    good = len(set(ups)) > 1 and ups == sorted(ups) and downs == sorted(downs, reverse=True)
    return None if good else f"order_by asc {ups[:4]}, desc {downs[:4]}"


async def _ss_search(lister: Lister, path: str) -> str | None:
    """A word of the first row's name finds it, and not every row."""
    rows = await lister.rows(path)
    text = {"/api/individuals": "last_name", "/api/tasks": "text"}.get(path, "name")
    word = str(rows[0][text])
    found = await lister.ids(path, {"search": word})
    none = await lister.ids(path, {"search": NOTHING})
    good = rows[0]["id"] in found and len(found) < len(rows) and not none
    return None if good else f"search={word!r} gives {len(found)} of {len(rows)}"


async def _ss_rows(lister: Lister, path: str) -> str | None:
    got = await lister.rows(path, {"rows": "1"})
    every = await lister.rows(path)
    return None if len(got) == 1 < len(every) else f"rows=1 gives {len(got)} rows"


async def _ss_item_query(lister: Lister, path: str) -> str | None:
    """``item_type`` with ``item_id``: the item's own activities only."""
    item = _ss_item(lister.app)
    every = await lister.ids(path)
    own = await lister.ids(path, item)
    mine = lister.app.state.db.by_target[item["item_id"]]
    good = own and len(own) < len(every) and set(own) == set(mine)
    return None if good else f"item_type/item_id give {len(own)} of {len(every)}"


def _ss_related(flag: str) -> Probe:
    """An include flag adds the related records' activities to an item's."""

    async def check(lister: Lister, path: str) -> str | None:
        item = _ss_item(lister.app, flag)
        own = await lister.ids(path, item)
        more = await lister.ids(path, {**item, flag: "true"})
        return None if set(own) < set(more) else f"{flag}=true gives {len(more)} of {len(own)}"

    return Probe(check=check)


def _ss_category(flag: str) -> Probe:
    """A category flag set ``true`` gives that category's activities only (some)."""

    async def check(lister: Lister, path: str) -> str | None:
        every = await lister.rows(path)
        got = await lister.rows(path, {flag: "true"})
        kinds = {category(r["activity_type"]) for r in got}
        good = got and len(got) < len(every) and kinds == {flag}
        return None if good else f"{flag}=true gives {len(got)} of {len(every)}: {kinds}"

    return Probe(check=check)


async def _ss_item_type(lister: Lister, path: str) -> str | None:
    """A group page's ``item_type`` must be its group's: another is the documented 400."""
    group = _ss_group(lister.app)
    same = await lister.rows(path, {"item_type": group["element_type"]})
    other = await lister.client.get(path, params={"group_id": group["id"], "item_type": "tasks"})
    good = bool(same) and other.status_code == 400
    return None if good else f"item_type=tasks answers {other.status_code}"


async def _ss_columns(lister: Lister, path: str) -> str | None:
    body = await lister.answer(path, {"columns": "name"})
    good = body["columns"] == ["name"] and all(len(r["cells"]) == 1 for r in body["rows"])
    return None if good else f"columns=name gives {body['columns']}"


async def _ss_view(lister: Lister, path: str) -> str | None:
    every = await lister.rows(path)
    some = await lister.rows(path, {"filter": "view=individuals"})
    good = some and len(some) < len(every) and all(r["view"] == "individuals" for r in some)
    return None if good else f"filter=view=individuals gives {len(some)} of {len(every)}"


SALESSEEK = Vendor(
    name="salesseek",
    make=lambda: salesseek_app(rate_limit=False),
    rows=_salesseek_rows,
    given=_salesseek_query,
    sort_query=lambda p, key, way: {p.name: f"{key} {way.lower()}"},
    prepare=_salesseek_prepare,
    everywhere={
        "order_by": Probe(check=_ss_order),
        "rows": Probe(check=_ss_rows),
        "start": skip("start"),
        "search": Probe(check=_ss_search),
    },
    probes={
        **{
            ("/api/activities", name): Probe(check=_ss_item_query)
            for name in ("item_type", "item_id")
        },
        **{("/api/activities", flag): _ss_related(flag) for flag in INCLUDE_FLAGS},
        **{("/api/activities", flag): _ss_category(flag) for flag in CATEGORY_FLAGS},
        ("/api/group_pages", "item_type"): Probe(check=_ss_item_type),
        ("/api/group_pages", "columns"): Probe(check=_ss_columns),
        ("/api/group_pages", "group_id"): Probe(check=_ss_group_id),
        ("/api/custom_fields", "filter"): Probe(check=_ss_view),
    },
)


VENDORS: tuple[Vendor, ...] = (
    SALESLOFT,
    ACTIVECAMPAIGN,
    SALESFORCEIQ,
    FRESHSALES,
    SALESSEEK,
)


@pytest.mark.parametrize("vendor", VENDORS, ids=lambda v: v.name)
async def test_every_declared_list_parameter_is_applied_or_declared_ignored(
    vendor: Vendor,
) -> None:
    app = vendor.make()
    failures: list[str] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=f"http://{vendor.name}.test",
        headers=dict(vendor.headers),
    ) as client:
        if vendor.prepare is not None:
            await vendor.prepare(client, app)
        lister = Lister(vendor, client, app)
        checked = 0
        for endpoint in lists(app):
            path = concrete(endpoint.path, app, vendor)
            for p in endpoint.query or ():
                try:
                    why = await failure(lister, path, endpoint, p)
                except AssertionError as exc:  # a refusal of a documented request
                    why = str(exc).splitlines()[0]
                checked += 1
                where = f"{endpoint.path} {p.name}"
                if ignored(p):
                    if why is None:
                        failures.append(f"{where}: declared ignored ({p.note}) but applied")
                    elif len(p.note) < len("ignored: ") + 10:
                        failures.append(f"{where}: ignored without saying why")
                elif why is not None:
                    failures.append(f"{where}: {why}")
    assert checked
    assert not failures, f"{vendor.name}: {len(failures)} of {checked}\n" + "\n".join(failures)


def test_every_vendor_named_once() -> None:
    names = [v.name for v in VENDORS]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z]+", n) for n in names)


# the embed handles the seed documents on each Freshsales record (its "Embed Handle"
# tables); ``products`` on deals is CPQ's (the deal's line items, ``has_products``), given
# to the probed deal below (a CPQ document's one handle, ``products``, is held by
# ``_FS_INCLUDES`` above and tests/sandbox/test_freshsales_cpq_products.py)
FRESHSALES_HANDLES = {
    "leads": "owner creater updater source lead_stage lead_reason territory campaign tasks"
    " appointments notes",
    "contacts": "sales_activities owner creater updater source campaign tasks appointments"
    " notes deals sales_accounts territory sales_account",
    "sales_accounts": "owner creater updater territory business_type tasks appointments"
    " contacts deals industry_type child_sales_accounts",
    "deals": "sales_activities owner creater updater source contacts sales_account deal_stage"
    " deal_type deal_reason campaign deal_payment_status deal_product currency products",
    "tasks": "users targetable",
}


async def test_freshsales_every_documented_include_handle_embeds() -> None:
    """Each documented handle embeds something in some record's answer (the parameter
    probe above tries one handle a record; this holds the rest of the seed's tables)."""
    app = FRESHSALES.make()
    wrong: list[str] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://freshsales.test",
        headers=dict(FRESHSALES.headers),
    ) as client:
        db = app.state.db
        prices = [{"currency_code": c["currency_code"], "unit_price": 5} for c in CURRENCIES]
        product = {"name": "Probe", "pricing_type": 1, "product_pricings": prices}
        made = await client.post("/api/cpq/products", json={"product": product})
        line = {"id": made.json()["product"]["id"], "quantity": 2}
        for kind, handles in FRESHSALES_HANDLES.items():
            first = sorted(db.table(kind))[:12]
            wrapper = kind.removesuffix("s")
            # one record updated through the API, so that it has an updater (a deal: and
            # a line item, so that its ``products`` embeds one)
            body: dict[str, Any] = {"title" if kind == "tasks" else "city": "Probe"}
            if kind == "deals":
                body["products"] = [line]
            put = await client.put(f"/api/{kind}/{first[-1]}", json={wrapper: body})
            assert put.status_code == 200, put.text
            plain = {i: (await client.get(f"/api/{kind}/{i}")).json() for i in first}
            for handle in handles.split():
                for i in first:
                    got = await client.get(f"/api/{kind}/{i}", params={"include": handle})
                    answer = got.json()
                    if handle == "products":  # a line item (its key alone changes it too)
                        embedded = bool(answer[wrapper].get("products"))
                    else:
                        embedded = answer != plain[i]
                    if embedded:
                        break
                else:
                    wrong.append(f"{kind} include={handle}: no record's answer changes")
    assert not wrong, "\n".join(wrong)


async def test_freshsales_account_delete_takes_its_contacts_and_open_deals_on_request() -> None:
    """``delete_associated_contacts_deals`` (a DELETE's query, a bulk delete's body field,
    documented for accounts) deletes the account's contacts and open deals with it; without
    it they stay, and its closed deals stay either way."""
    app = FRESHSALES.make()
    db = app.state.db
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://freshsales.test",
        headers=dict(FRESHSALES.headers),
    ) as client:

        def linked(account: int) -> tuple[set[int], set[int], set[int]]:
            deals = [db.deals[d] for d in db.deals_by_account[account]]
            open_ = {d["id"] for d in deals if _fs_open(d)}
            closed = {d["id"] for d in deals if not _fs_open(d)}
            return set(db.contacts_by_account[account]), open_, closed

        accounts = [a for a in sorted(db.sales_accounts) if all(linked(a))][:3]
        plain, single, bulk = accounts
        kept = linked(plain)
        assert (await client.delete(f"/api/sales_accounts/{plain}")).status_code == 200
        assert kept[0] <= set(db.contacts) and kept[1] | kept[2] <= set(db.deals)
        for account in (single, bulk):
            contacts, open_, closed = linked(account)
            if account == single:
                query = {"delete_associated_contacts_deals": "true"}
                got = await client.delete(f"/api/sales_accounts/{account}", params=query)
            else:
                body = {"selected_ids": [account], "delete_associated_contacts_deals": True}
                got = await client.post("/api/sales_accounts/bulk_destroy", json=body)
            assert got.status_code == 200, got.text
            assert account not in db.sales_accounts
            assert not contacts & set(db.contacts) and not open_ & set(db.deals)
            assert closed <= set(db.deals)


def _fs_open(deal: dict[str, Any]) -> bool:
    return bool(STAGE[deal["deal_stage_id"]]["forecast_type"] == "Open")
