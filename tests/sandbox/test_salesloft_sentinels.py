"""Salesloft's sentinel filter values select what the definition says, on the filters
whose rows list them, and are refused everywhere else (issue 14 point 1).

``salesloft-contract.md``: ``"_is_null"`` / ``"_is_not_null"`` / ``[_not_in]`` are valid
only on the filters where the rows list them (people's ``locales`` spells null
``"Null"``; accounts' ``user_relationships`` also take ``_unmapped``). Every probe below
is derived from the declared contract (``crmtui/sandbox/salesloft/contract.py``): each
list Param's ``sentinels`` and its operators among the contract's ``reserved`` words. A
sentinel declared later is probed the same way; if this test cannot say what it selects
(:data:`SELECTS`, :data:`EXCLUDES`) or read the filter's field off a row
(:data:`FIELDS`), it fails until told.

For a declared sentinel the answer is compared with the rows' own values (all pages):

- ``x=_is_null`` keeps exactly the rows without a value, and with a plain value
  (``x=v,_is_null``, ``x[]=v&x[]=_is_null``) the rows with either;
- ``x[_not_in]=a,b`` (or ``x[_not_in][]=``) drops exactly the rows with one of them;
- a range filter's sentinels (``last_contacted=_is_null``) widen a range to their rows.

Where a filter does not list a reserved sentinel (``ids=_is_null``, ``name[_not_in]=``,
``last_contacted[_is_null]=``), v2's validation envelope answers 422
``{"errors": {name: [...]}}``; a sentinel that is no reserved word (``Null``) is a plain
value on a same-named filter that does not list it (accounts' ``locales``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from crmtui.sandbox.contract import Endpoint, Param
from crmtui.sandbox.salesloft import create_app

Row = dict[str, Any]
Reader = Callable[[Starlette, Row], Any]
NOTHING = "999999999"  # a value no record has
BASE = "http://salesloft.test"
AUTH = {"Authorization": "Bearer sandbox"}


def _current_cadences(app: Starlette, row: Row) -> Any:
    """The cadences a person is on now (the Person's ``cadences`` is not rendered)."""
    on = {
        m["cadence"]
        for m in app.state.db["cadence_memberships"].values()
        if m["person"] == row["id"] and m["currently_on_cadence"]
    }
    return on or None


FIELDS: dict[tuple[str, str], str | Reader] = {
    # the filter is account_stage_id, the response's reference company_stage (contract §2)
    ("/v2/accounts", "account_stage_id"): "company_stage",
    ("/v2/accounts", "last_contacted"): "last_contacted_at",
    ("/v2/people", "last_contacted"): "last_contacted_at",
    ("/v2/people", "cadence_id"): _current_cadences,  # "currently on"
}
"""Where a filter's value sits on a row when its name does not say: a row key, or how to
work it out (by default the row's key of the filter's name, without ``_id``, or singular:
``owner_id`` → ``owner``, ``email_addresses`` → ``email_address``, ``locales`` →
``locale``)."""


def blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {} or value == set()


SELECTS: dict[str, Callable[[Any, set[str]], bool]] = {
    "_is_null": lambda value, mapped: blank(value),
    "Null": lambda value, mapped: blank(value),
    "_is_not_null": lambda value, mapped: not blank(value),
    # a relationship naming a CRM user no Salesloft user is mapped to (/v2/crm_users)
    "_unmapped": lambda value, mapped: not blank(value) and str(value).lower() not in mapped,
}
"""What each sentinel value keeps, given a row's value and the mapped CRM user ids."""

EXCLUDES: dict[str, str] = {"_not_in": "drops the rows holding one of the values"}
"""The sentinel operators this test knows (each is probed as an exclusion)."""


# -- the declared contract ---------------------------------------------------------------


def contract(app: Starlette) -> Any:
    return app.state.contract


def reserved(app: Starlette) -> tuple[str, ...]:
    words: tuple[str, ...] = contract(app).reserved
    return words


def declared(app: Starlette) -> list[tuple[Endpoint, Param]]:
    """Every GET list filter declaring a sentinel value or a reserved operator."""
    words = reserved(app)
    return [
        (e, p)
        for e in contract(app).endpoints
        if e.method == "GET" and e.query
        for p in e.query
        if p.sentinels or set(p.ops) & set(words)
    ]


def field(endpoint: Endpoint, p: Param, row: Row) -> str | Reader | None:
    """The row key (or the reader) holding filter ``p``'s value (:data:`FIELDS`)."""
    given = FIELDS.get((endpoint.path, p.name))
    if given is not None:
        return given
    for key in (p.name, p.name.removesuffix("_id"), p.name.removesuffix("es"), p.name[:-1]):
        if key in row:
            return key
    return None


def reader(endpoint: Endpoint, p: Param, row: Row) -> Reader | None:
    found = field(endpoint, p, row)
    if isinstance(found, str):
        key = found
        return lambda app, row: row.get(key)
    return found


def concrete(path: str) -> str:
    return path.replace("{id}", "1").replace("{bulk_jobs_id}", "1")


# -- the data ---------------------------------------------------------------------------


def seed(app: Starlette) -> None:
    """Give each filter probed both rows without a value and rows with two or more
    values (the seed leaves ``owner_crm_id`` and ``locale`` unset, every website set),
    straight in the sandbox's tables (no v2 endpoint writes these), and map one CRM
    user (``_unmapped``)."""
    db = app.state.db
    for endpoint, p in declared(app):
        table = endpoint.path.rsplit("/", 1)[-1]
        ids = sorted(db[table])
        key = field(endpoint, p, db[table][ids[0]])
        if not isinstance(key, str):
            continue  # a computed field (cadences): the seed's data must show it
        if p.ops == ("*",):  # a keyed filter: ``name[Key]=value`` on a dict field
            if not any(db[table][i][key] for i in ids):
                for n, i in enumerate(ids[:3]):
                    db[table][i][key] = {"Account Executive": f"005PROBE{n % 2}"}
            continue
        if all(blank(db[table][i][key]) for i in ids):
            for n, i in enumerate(ids[:3]):
                db[table][i][key] = f"probe-{n + 1}"
        if not any(blank(db[table][i][key]) for i in ids):
            db[table][ids[-1]][key] = None
    users = sorted(db["users"])
    db.insert("crm_users", {"id": 1, "user": users[0], "crm_id": "005PROBE0",
                            "created_at": db.now, "updated_at": db.now})  # fmt: skip


# -- asking -----------------------------------------------------------------------------


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """A fresh sandbox in process, and a client signed in as its seed's user."""
    app = create_app(rate_limit=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=AUTH) as client:
        yield app, client


async def rows(
    client: httpx.AsyncClient, path: str, query: Mapping[str, str] | list[tuple[str, str]] = ()
) -> list[Row]:
    """Every row of a list (all its pages)."""
    items = list(query.items()) if isinstance(query, Mapping) else list(query)
    found: list[Row] = []
    page = 1
    while True:
        paging = [("per_page", "100"), ("page", str(page))]
        reply = await client.get(path, params=[*items, *paging])
        assert reply.status_code == 200, f"{path} {items}: {reply.status_code} {reply.text[:300]}"
        body = reply.json()
        found.extend(body["data"])
        if not body["metadata"]["paging"].get("next_page"):
            return found
        page += 1


async def ids(
    client: httpx.AsyncClient, path: str, query: Mapping[str, str] | list[tuple[str, str]]
) -> set[int]:
    return {r["id"] for r in await rows(client, path, query)}


def plain(value: Any) -> Any:
    """A row's value as a filter names it: a reference by its id."""
    if isinstance(value, dict) and "id" in value:
        return value["id"]
    return value


def holds(value: Any, wanted: str) -> bool:
    value = plain(value)
    if isinstance(value, (set, list, tuple)):
        return wanted in {str(v) for v in value}
    return not blank(value) and str(value).lower() == wanted.lower()


def when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


# -- the probes -------------------------------------------------------------------------


async def sentinel_failures(
    app: Starlette, client: httpx.AsyncClient, endpoint: Endpoint, p: Param
) -> list[str]:
    """Why ``p``'s declared sentinels do not select as documented (none: they do)."""
    path = endpoint.path
    every = await rows(client, path)
    assert every, f"{path}: an empty list shows no filter"
    read = reader(endpoint, p, every[0])
    if read is None:
        return [f"{path} {p.name}: no field to read it by (give it in FIELDS)"]
    mapped = {str(r["crm_id"]).lower() for r in await rows(client, "/v2/crm_users")}
    keyed = p.ops == ("*",)
    name = ""
    if keyed:
        held = [k for r in every for k in (read(app, r) or {})]
        if not held:
            return [f"{path} {p.name}: no row holds a key to filter by (seed one)"]
        name = held[0]

    def value(row: Row) -> Any:
        found = read(app, row)
        return (found or {}).get(name) if keyed else found

    values = {r["id"]: value(r) for r in every}
    key = f"{p.name}[{name}]" if keyed else p.name
    wrong: list[str] = []
    present = sorted({str(plain(v)) for v in values.values() if not blank(v)} - {""})
    sets = [v for v in values.values() if isinstance(plain(v), (set, list, tuple))]
    if sets:  # a row may hold several (cadences): the values themselves
        present = sorted({str(x) for v in sets for x in v})
    for word in p.sentinels:
        selects = SELECTS.get(word)
        if selects is None:
            wrong.append(f"{path} {p.name}: say what {word!r} selects (SELECTS)")
            continue
        want = {i for i, v in values.items() if selects(v, mapped)}
        if not want or want == set(values):
            wrong.append(f"{path} {p.name}={word}: the data cannot show it ({len(want)} rows)")
            continue
        got = await ids(client, path, {key: word})
        if got != want:
            wrong.append(f"{path} {key}={word}: {len(got)} rows, not the {len(want)} it selects")
        if keyed:
            continue
        if "gt" in p.ops:  # a range: the sentinel's rows, or the range's
            times = sorted(t for t in (when(v) for v in values.values()) if t is not None)
            middle = times[len(times) // 2]
            later = {i for i, v in values.items() if (when(v) or middle) > middle}
            either = want | later
            query = [(key, word), (f"{key}[gt]", middle.isoformat())]
            got = await ids(client, path, query)
            if got != either:
                wrong.append(f"{path} {key}={word} with [gt]: {len(got)} rows, not {len(either)}")
            continue
        if not present:
            wrong.append(f"{path} {p.name}: no row holds a value to combine {word} with")
            continue
        other = present[0]
        either = want | {i for i, v in values.items() if holds(v, other)}
        for query in ([(key, f"{other},{word}")], [(f"{key}[]", other), (f"{key}[]", word)]):
            got = await ids(client, path, query)
            if got != either:
                wrong.append(f"{path} {query}: {len(got)} rows, not the {len(either)} of either")
    for op in sorted(set(p.ops) & set(reserved(app))):
        if op not in EXCLUDES:
            wrong.append(f"{path} {p.name}[{op}]: say what it does (EXCLUDES)")
            continue
        if len(present) < 2:
            wrong.append(f"{path} {p.name}[{op}]: the data hold {present}, not two values")
            continue
        one, two = present[:2]
        kept = {i for i, v in values.items() if not holds(v, one) and not holds(v, two)}
        for query in (
            [(f"{key}[{op}]", f"{one},{two}")],
            [(f"{key}[{op}][]", one), (f"{key}[{op}][]", two)],
        ):
            got = await ids(client, path, query)
            if got != kept or got == set(values):
                wrong.append(f"{path} {query}: {len(got)} rows, not the {len(kept)} without")
        both = {i for i, v in values.items() if holds(v, one)}
        got = await ids(client, path, [(key, f"{one},{two}"), (f"{key}[{op}]", two)])
        if got != both:
            wrong.append(f"{path} {key}={one},{two} and [{op}]={two}: {len(got)}, not {len(both)}")
        for word in p.sentinels:  # an excluded sentinel drops the rows it selects
            selects = SELECTS.get(word)
            if selects is None:
                continue
            rest = {i for i, v in values.items() if not selects(v, mapped)}
            got = await ids(client, path, {f"{key}[{op}]": word})
            if got != rest:
                wrong.append(f"{path} {key}[{op}]={word}: {len(got)} rows, not {len(rest)}")
    return wrong


async def test_every_declared_sentinel_selects_as_documented(
    sandbox: tuple[Starlette, httpx.AsyncClient],
) -> None:
    app, client = sandbox
    probed = declared(app)
    # the contract table's rows listing one (salesloft-contract.md §1): at least these
    names = {(e.path, p.name) for e, p in probed}
    listed = {
        "/v2/users": "group_id",
        "/v2/accounts": "website account_stage_id owner_id last_contacted owner_crm_id"
        " user_relationships",
        "/v2/people": "last_contacted email_addresses owner_crm_id person_stage_id cadence_id"
        " import_id job_seniority locales",
    }
    assert {(path, name) for path, all in listed.items() for name in all.split()} <= names
    seed(app)
    wrong: list[str] = []
    for endpoint, p in probed:
        wrong.extend(await sentinel_failures(app, client, endpoint, p))
    assert not wrong, f"{len(wrong)} of {len(probed)} filters:\n" + "\n".join(wrong)


async def test_sentinels_are_refused_where_no_row_lists_them(
    sandbox: tuple[Starlette, httpx.AsyncClient],
) -> None:
    """Every parameter of every endpoint, given a reserved sentinel its Param does not
    list, as a value or as an operator, gets v2's 422 validation envelope naming it."""
    app, client = sandbox
    words = reserved(app)
    assert {"_is_null", "_is_not_null", "_not_in"} <= set(words)
    wrong: list[str] = []
    asked = 0
    for endpoint in contract(app).endpoints:
        path = concrete(endpoint.path)
        for p in endpoint.query or ():
            queries: list[tuple[str, str]] = []
            for word in words:
                if word not in p.sentinels:
                    where = f"{p.name}[Name]" if "*" in p.ops else p.name
                    queries.append((where, word))
                if word not in p.ops and "*" not in p.ops:
                    queries.append((f"{p.name}[{word}]", "x"))
            for key, val in queries:
                asked += 1
                reply = await client.request(endpoint.method, path, params={key: val})
                body = reply.json() if reply.content else None
                errors = body.get("errors") if isinstance(body, dict) else None
                if reply.status_code != 422 or not errors or set(errors) != {p.name}:
                    got = f"{reply.status_code} {reply.text[:80]}"
                    wrong.append(f"{endpoint.method} {path} {key}={val}: {got}")
    assert asked
    assert not wrong, f"{len(wrong)} of {asked}:\n" + "\n".join(wrong[:40])


async def test_a_sentinel_is_a_plain_value_on_a_same_named_filter_not_listing_it(
    sandbox: tuple[Starlette, httpx.AsyncClient],
) -> None:
    """People's ``locales`` take ``Null`` for "no locale"; accounts' ``locales`` do not
    list it, so there it is a locale like any other (no account has it), not a null."""
    app, client = sandbox
    words = set(reserved(app))
    found = 0
    for endpoint, p in declared(app):
        for word in set(p.sentinels) - words:
            for other in contract(app).endpoints:
                q = other.param(p.name) if other.method == "GET" and other.query else None
                if q is None or word in q.sentinels or other is endpoint:
                    continue
                found += 1
                every = await ids(client, other.path, {})
                got = await ids(client, other.path, {p.name: word})
                none = await ids(client, other.path, {p.name: NOTHING})
                assert got == none != every, f"{other.path} {p.name}={word}: {len(got)} rows"
    assert found  # accounts' locales
