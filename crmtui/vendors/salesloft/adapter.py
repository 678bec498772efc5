"""Salesloft (REST API v2): people, accounts, tasks, cadences, calls and emails.

Kinds, in Salesloft's words: People (``contact``), Accounts (``company``), Tasks,
Cadences, Calls and Emails. Salesloft has no deal object (opportunities live in the CRM),
so no Deals tab is offered.

Conventions:

- Cadence members and steps are kinds ``cadence_membership`` and ``step``; they are not
  tabs but are listed with a cadence filter: ``list("cadence_membership",
  Query(filters={"cadence": id}))`` and ``list("step", Query(filters={"cadence": id}))``.
  ``get("cadence", id).related`` holds the current "Members" and the "Steps".
- Filters use neutral keys where they exist (``contact``, ``company``, ``owner``,
  ``cadence``, ``status``, ``type``); any other key is passed to the API as is.
- Task quick filters (``KindInfo.views``) are v2's ``time_interval_filter`` buckets; the
  latest ``metadata.counts`` are kept in ``task_counts`` (and ``fetch_task_counts``).
- Incremental reads (``Query.updated_since``): ``sort_by=updated_at&sort_direction=ASC&
  updated_at[gte]=<last seen, microseconds kept>``, page 1 (deep pages cost more) unless
  a whole page sits at the mark; the cursor carries the mark and the ids read at it
  (``keyset.Mark``: ``[gt]`` skipped records sharing the last row's stamp past a page
  break); ties read over pages are read again from page 1 until a pass finds no new one
  (a tie edited meanwhile moved the others up a place).
- Paging otherwise by ``page`` (cursor ``"p:<n>"``); each request is charged its
  documented cost (3/8/10/30 past page 100) and the limiter is corrected from
  ``x-ratelimit-remaining-minute``.
- Search: v2 has no free text search on people or accounts. People are searched by
  exact e-mail address, accounts by exact domain (text with a dot) or exact name,
  cadences by exact name.
- Timelines: a person's notes, calls, sent emails, completed tasks and the CRM
  activities those calls/emails were logged as (v2 cannot filter CRM activities by
  person); an account's notes, emails and completed tasks. Newest first.
- Custom fields appear as ``cf_<slug of name>`` (text, writable).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

from crmtui.fields import iso, parse_datetime
from crmtui.http import NotFound, RateBudget, Rejected, VendorSession
from crmtui.model import (
    Activity,
    Change,
    Choice,
    FieldSpec,
    Kind,
    KindInfo,
    Page,
    Query,
    Record,
    RecordRef,
    RelatedRef,
)
from crmtui.vendors.auth import Connection, HeaderToken
from crmtui.vendors.base import CannotTell, Profile, Setting, Vendor, record_id
from crmtui.vendors.mapping import (
    Context,
    Logged,
    Notes,
    Resource,
    by_kind,
    custom_spec,
    dig,
    number,
    path_id,
    slug_key,
)
from crmtui.vendors.salesloft.auth import observe_remaining, parse_error
from crmtui.vendors.salesloft.calls import CALLS, log_call
from crmtui.vendors.salesloft.codecs import CreateOnly, person_title, ref_id
from crmtui.vendors.salesloft.paging import (
    UPDATED,
    NextPage,
    list_params,
    mark_params,
    next_page,
    page_after,
    page_cost,
    sort_params,
)
from crmtui.vendors.salesloft.resources import (
    MEMBERSHIP,
    RESOURCES,
    STEP,
    TASK_VIEWS,
    USERS,
    LoftResource,
    kind_infos,
)
from crmtui.vendors.salesloft.timeline import account_people, note_activity, read_timeline

API = "https://api.salesloft.com/v2/"
# The web app, where Salesloft's help tells users to sign in ("Go to app.salesloft.com");
# a record's page under it (``app/people/<id>``) is a convention, not documented.
WEB_APP = "https://app.salesloft.com/"
NOTE_TARGETS: dict[str, str] = {Kind.CONTACT: "person", Kind.COMPANY: "account"}
CONFIG_PAGES = 20  # a config list (users, stages...) is read up to this many pages of 100
BY_PEOPLE = (Kind.CALL, Kind.EMAIL)  # listed for an account through its people


class Salesloft(Vendor):
    """The Salesloft adapter (see the module docstring for its conventions)."""

    name = "salesloft"
    label = "Salesloft"
    api_domains = ("salesloft.com",)  # API: https://api.salesloft.com/v2/
    settings = (
        Setting(
            "api_key",
            "API key or OAuth access token",
            secret=True,
            help="Salesloft → Your Applications → API Keys",
        ),
    )
    budget = RateBudget(
        600, 60, note="600 cost per minute per team; pages past 100 cost 3, 8, 10 or 30"
    )
    notes_listed = True  # notes show on the person's or account's timeline
    activity_log = CALLS  # a call logged on a person: POST activities/calls
    notes = Notes(on=tuple(NOTE_TARGETS))  # POST notes: on a person or an account
    connection = Connection(auth=HeaderToken(), errors=parse_error)
    resources = by_kind(*RESOURCES.values())
    _task_counts: dict[str, int] | None = None

    # -- connection ----------------------------------------------------------------

    @classmethod
    def default_base_url(cls, profile: Profile) -> str:
        return API

    def session_ready(self, session: VendorSession) -> None:
        session.on_response.append(self._observe)

    def _observe(self, response: httpx.Response) -> None:
        observe_remaining(self.limiter, response)

    async def _get(self, path: str, params: list[tuple[str, Any]] | None = None) -> Any:
        params = list(params or [])
        page = next((int(v) for k, v in params if k == "page"), 1)
        return await self.session.json("GET", path, params=params, cost=page_cost(page))

    async def _all(self, path: str, params: list[tuple[str, Any]] | None = None) -> list[Any]:
        """Every record of a small list (config lists: stages, users...)."""
        return await self.fetch_all(
            path, NextPage(), "data", dict(params or []), max_pages=CONFIG_PAGES
        )

    async def config(self, path: str) -> list[dict[str, Any]]:
        """A config list (users, stages, tiers...), read once per adapter."""
        return await self.cached(path, lambda: self._all(path))

    async def _names(self, path: str, key: str = "name") -> dict[int, str]:
        return {row["id"]: str(row.get(key) or "") for row in await self.config(path)}

    async def _people_names(self, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        params = [("ids[]", i) for i in sorted(ids)[:100]] + [("per_page", 100)]
        body = await self._get("people", params)
        return {p["id"]: person_title(p) for p in body.get("data") or []}

    @property
    def task_counts(self) -> dict[str, int]:
        """The latest ``metadata.counts`` of tasks (empty before tasks were read)."""
        return self._task_counts or {}

    # -- schema -------------------------------------------------------------------------

    async def kinds(self) -> list[KindInfo]:
        return kind_infos()

    async def choices(self, source: str) -> list[Choice]:
        """Users (active first), and the config lists choices name (``person_stages``,
        ``account_stages``...); call dispositions and sentiments are chosen by name."""
        if source == "users":
            users = await self.config("users")
            ordered = sorted(users, key=lambda u: (not u.get("active"), u["name"]))
            named = (
                USERS.choice(u, u["name"] + ("" if u.get("active") else " (inactive)"))
                for u in ordered
            )
            return [c for c in named if c is not None]
        rows = await self.config(source)
        rows = sorted(rows, key=lambda r: (r.get("order") or 0, str(r.get("name"))))
        choices = [Choice(value=str(r["id"]), label=str(r.get("name") or r["id"])) for r in rows]
        if source in ("call_dispositions", "call_sentiments"):
            return [Choice(value=c.label, label=c.label) for c in choices]
        return choices

    async def custom_fields(self, resource: Resource) -> list[FieldSpec]:
        """People's and accounts' custom fields: text, writable, keyed by name's slug."""
        field_type = self._resource(resource.kind).custom_type
        if not field_type:
            return []
        rows = await self._all("custom_fields", [("field_type", field_type)])
        self.lookups[f"custom_fields:{field_type}"] = rows
        return [custom_spec(slug_key(r["name"]), r["name"], "text", {}) for r in rows]

    async def _custom_names(self, field_type: str) -> dict[str, str]:
        """Custom field key -> its name, which v2 takes in ``custom_fields``."""
        rows = await self.cached(
            f"custom_fields:{field_type}",
            lambda: self._all("custom_fields", [("field_type", field_type)]),
        )
        return {slug_key(r["name"]): r["name"] for r in rows}

    # -- reads --------------------------------------------------------------------------

    async def whoami(self) -> str | None:
        """The API key's user: ``GET /v2/me`` -> ``{"data": {"id": ...}}``."""
        me = await self.cached("me", lambda: self._get("me"))
        found = (me.get("data") or {}).get("id") if isinstance(me, dict) else None
        return None if found is None else record_id(self.label, found, "user")

    def _resource(self, kind: str) -> LoftResource:
        try:
            return RESOURCES[kind]
        except KeyError:
            raise Rejected(self.label, f"Salesloft has no {kind} records") from None

    def _path(self, kind: str) -> str:
        return self._resource(kind).path

    async def list_page(self, kind: str, query: Query) -> Page:
        resource = self._resource(kind)
        path = resource.path
        people: list[tuple[str, Any]] = []
        if kind in BY_PEOPLE and "company" in query.filters:
            # v2 has no account_id filter on calls and emails: the account's people's
            found = await account_people(self._get, int(query.filters["company"]))
            if not found:
                return Page(records=[], total=0)
            people = [("person_id[]", p) for p in found]
            rest = {k: v for k, v in query.filters.items() if k != "company"}
            query = query.model_copy(update={"filters": rest})
        params = list_params(kind, query) + people
        per_page = max(1, min(100, query.per_page))
        cursor = query.cursor or ""
        if query.updated_since is not None and resource.since_filter:
            mark = UPDATED.read(cursor, iso(query.updated_since) or "")
            body = await self._get(path, [*params, *mark_params(mark, per_page)])
            rows = body.get("data") or []
            further = next_page(dig(body, "metadata.paging.next_page")) is not None
            following = mark.after(rows, further)
            return Page(
                records=await self._records(kind, mark.new(rows, following)),
                next_cursor=following.cursor() if following else None,
            )
        # no updated_at filter (tasks, users, steps): every record, page by page (the
        # sync stores only those whose updated_at changed)
        page = int(cursor[2:]) if cursor.startswith("p:") and cursor[2:].isdigit() else 1
        params += sort_params(kind, query)
        params += [("per_page", per_page), ("page", page)]
        if page == 1:
            params.append(("include_paging_counts", "true"))
        body = await self._get(path, params)
        metadata = body.get("metadata") or {}
        if kind == Kind.TASK and "counts" in metadata:
            self._task_counts = dict(metadata["counts"])
        paging = metadata.get("paging") or {}
        rows = body.get("data") or []
        more = page_after(page, len(rows), paging.get("next_page"))
        return Page(
            records=await self._records(kind, rows),
            total=int(total) if (total := number(paging.get("total_count"))) is not None else None,
            next_cursor=f"p:{more}" if more else None,
            view_counts=self._view_counts(kind, metadata),
        )

    @staticmethod
    def _view_counts(kind: str, metadata: dict[str, Any]) -> dict[str, int]:
        """The task views' sizes from ``metadata.counts`` (open tasks per time bucket)."""
        counts = metadata.get("counts") if kind == Kind.TASK else None
        if not isinstance(counts, dict):
            return {}
        found = {view: number(counts.get(view)) for view in TASK_VIEWS}
        return {view: int(count) for view, count in found.items() if count is not None}

    async def fetch_task_counts(self, query: Query | None = None) -> dict[str, int]:
        """v2's task counts (all, overdue, today, tomorrow, this_week, next_week)."""
        params = list_params(Kind.TASK, (query or Query()).model_copy(update={"view": None}))
        body = await self._get("tasks", [*params, ("per_page", 1)])
        self._task_counts = dict((body.get("metadata") or {}).get("counts") or {})
        return self.task_counts

    async def get(self, kind: str, id: str) -> Record:
        resource = self._resource(kind)
        body = await self._get(f"{resource.path}/{path_id(id)}")
        record = (await self._records(kind, [body["data"]]))[0]
        related = RELATED.get(kind)
        if related is not None:
            record.related = await related(self, body["data"])
        elif resource.person:
            record.related = await self._person_related(body["data"], resource.person)
        return record

    async def _records(self, kind: str, rows: list[dict[str, Any]]) -> list[Record]:
        """The records of a page: the declared fields read, people and users named."""
        resource = self._resource(kind)
        users = await self._names("users")
        people: dict[int, str] = {}
        if resource.person:
            ids = {i for r in rows if (i := ref_id(r, resource.person)) is not None}
            people = await self._people_names(ids)
        ctx = self.context({"people": {str(k): v for k, v in people.items()}})
        records = [self._record(resource, row, ctx, users) for row in rows]
        if resource.person:  # the person by name, even before (or without) them cached
            for record, row in zip(records, rows, strict=True):
                person = ref_id(row, resource.person)
                if person in people:
                    title = people[person]
                    record.related = {
                        "Person": [RelatedRef(kind=Kind.CONTACT, id=str(person), title=title)]
                    }
        return records

    def _record(
        self, resource: LoftResource, raw: dict[str, Any], ctx: Context, users: dict[int, str]
    ) -> Record:
        fields = resource.read(raw, ctx)
        title, subtitle = resource.headline(raw, fields, users)
        id = record_id(self.label, raw.get("id"), resource.kind)
        return Record(
            vendor=self.name,
            profile=self.profile.name,
            kind=resource.kind,
            id=id,
            title=title or f"#{id}",
            subtitle=subtitle,
            created_at=parse_datetime(raw.get("created_at")),
            updated_at=parse_datetime(raw.get("updated_at")),
            remote_url=self.record_url(resource.kind, id),
            fields=fields,
            raw=raw,
        )

    # -- related records ------------------------------------------------------------------

    async def _contact_related(self, raw: dict[str, Any]) -> dict[str, list[RelatedRef]]:
        related: dict[str, list[RelatedRef]] = {}
        account = ref_id(raw, "account")
        if account is not None:
            try:
                body = await self._get(f"accounts/{path_id(str(account))}")
                title = str(body["data"].get("name") or "")
            except NotFound:
                title = raw.get("person_company_name") or f"Account #{account}"
            related["Account"] = [RelatedRef(kind=Kind.COMPANY, id=str(account), title=title)]
        memberships = await self._get(
            "cadence_memberships",
            [("person_id", raw["id"]), ("currently_on_cadence", "true"), ("per_page", 25)],
        )
        cadences = await self._names("cadences")
        related["Cadences"] = [
            RelatedRef(kind=Kind.CADENCE, id=str(c), title=cadences.get(c, f"Cadence #{c}"))
            for m in memberships.get("data") or []
            if (c := ref_id(m, "cadence")) is not None
        ]
        return related

    async def _company_related(self, raw: dict[str, Any]) -> dict[str, list[RelatedRef]]:
        body = await self._get("people", [("account_id[]", raw["id"]), ("per_page", 25)])
        return {
            "People": [
                RelatedRef(kind=Kind.CONTACT, id=str(p["id"]), title=person_title(p))
                for p in body.get("data") or []
            ]
        }

    async def _person_related(self, raw: dict[str, Any], key: str) -> dict[str, list[RelatedRef]]:
        person = ref_id(raw, key)
        if person is None:
            return {}
        names = await self._people_names({person})
        title = names.get(person, f"Person #{person}")
        return {"Person": [RelatedRef(kind=Kind.CONTACT, id=str(person), title=title)]}

    async def _cadence_related(self, raw: dict[str, Any]) -> dict[str, list[RelatedRef]]:
        members = await self.list_page(
            MEMBERSHIP, Query(filters={"cadence": str(raw["id"]), "current": "true"}, per_page=25)
        )
        steps = await self.list_page(STEP, Query(filters={"cadence": str(raw["id"])}, per_page=100))
        # v2 cannot sort steps by their number: ordered here (by number, then day)
        ordered = sorted(
            steps.records,
            key=lambda s: (number(s.raw.get("step_number")) or 0, number(s.raw.get("day")) or 0),
        )
        return {
            "Members": [
                RelatedRef(kind=Kind.CONTACT, id=str(m.fields["contact"]), title=m.title)
                for m in members.records
                if m.fields.get("contact")
            ],
            "Steps": [RelatedRef(kind=STEP, id=s.id, title=s.title) for s in ordered],
        }

    # -- timeline ----------------------------------------------------------------------------

    async def timeline(self, kind: str, id: str) -> list[Activity]:
        return await read_timeline(self._get, lambda: self._names("users"), kind, id)

    # -- writes --------------------------------------------------------------------------------

    async def update(self, change: Change) -> Record:
        kind = change.ref.kind
        body = await self._body(kind, change.values)
        response = await self.session.json(
            "PUT", f"{self._path(kind)}/{path_id(change.ref.id)}", json=body
        )
        return (await self._records(kind, [response["data"]]))[0]

    def update_requests(self, records: Sequence[Record], keys: Sequence[str] = ()) -> int:
        """Per record: its read (a person: the person, their account and their cadence
        memberships; an account: the account and its people; a task: the task and its
        person's name twice), the PUT (a task's person named again); the cadences' names
        and the kind's custom fields once, when not loaded yet."""
        loaded = set(self.lookups) - self._stale
        total = 0
        for record in records:
            resource = RESOURCES.get(record.kind)
            person = resource is not None and resource.person is not None
            custom = f"custom_fields:{resource.custom_type}" if resource else ""
            if resource is not None and resource.custom_type and custom not in loaded:
                loaded.add(custom)
                total += 1
            if record.kind == Kind.CONTACT:
                total += 3 + (record.fields.get("company") not in (None, ""))
                if "cadences" not in loaded:
                    loaded.add("cadences")
                    total += 1
            elif record.kind == Kind.COMPANY:
                total += 3
            elif person and record.fields.get("contact") not in (None, ""):
                total += 5
            else:
                total += 2
        return total

    async def _body(
        self, kind: str, values: dict[str, Any], *, creating: bool = False
    ) -> dict[str, Any]:
        """The request body of ``values``: the declared fields, then ``custom_fields``;
        a field v2 takes only in a create (``CreateOnly``) only when ``creating``."""
        resource = RESOURCES.get(kind)
        if resource is None or not resource.changeable:
            raise Rejected(self.label, f"{kind} records cannot be edited in Salesloft")
        names = await self._custom_names(resource.custom_type) if resource.custom_type else {}
        ctx = self.context()
        first = {
            k: v
            for k, v in values.items()
            if creating and isinstance(f := resource.field(k), CreateOnly)
        }
        declared = {k: v for k, v in values.items() if k not in names and k not in first}
        body = resource.write(declared, ctx)
        for key, value in first.items():
            f = resource.field(key)
            assert f is not None
            f.write(body, value, f.codec_in(resource.codecs), ctx)
        custom = {names[k]: v for k, v in values.items() if k in names}
        if custom:
            body["custom_fields"] = custom
        return body

    async def create(self, kind: str, values: dict[str, Any], idempotency_key: str) -> Record:
        if kind == Kind.TASK:
            body = await self._task_body(values)
            body["idempotency_key"] = idempotency_key
        elif kind in (Kind.CONTACT, Kind.COMPANY):
            earlier = await self._by_natural_key(kind, values)
            if earlier is not None:
                return earlier
            body = await self._body(kind, values)
        else:
            raise Rejected(self.label, f"{kind} records cannot be created from crmtui")
        response = await self.session.json("POST", self._path(kind), json=body)
        return (await self._records(kind, [response["data"]]))[0]

    async def _task_body(self, values: dict[str, Any]) -> dict[str, Any]:
        """``POST /v2/tasks`` requires subject, person_id, user_id, task_type, due_date
        and current_state (``scheduled``, the only state a task is created in): the type
        is ``general`` and the assignee the caller (``/v2/me``) unless given; a task
        without its person or due date is refused before anything is sent."""
        if values.get("done") is True or values.get("status") == "completed":
            raise Rejected(self.label, "a Salesloft task is created open; complete it after")
        missing = [k for k in ("subject", "contact", "due_date") if values.get(k) in (None, "")]
        if missing:
            task = RESOURCES[Kind.TASK]  # the fields by the labels the form shows
            labels = [f.label for k in missing if (f := task.field(k)) is not None]
            raise Rejected(self.label, "a Salesloft task needs " + ", ".join(labels))
        open_task = {k: v for k, v in values.items() if k not in ("done", "status")}
        body = await self._body(Kind.TASK, open_task, creating=True)
        body.setdefault("task_type", "general")
        if body.get("user_id") in (None, ""):
            me = await self.cached("me", lambda: self._get("me"))
            body["user_id"] = int(me["data"]["id"])
        body["current_state"] = "scheduled"
        return body

    async def find_created(
        self, kind: str, values: dict[str, Any], idempotency_key: str
    ) -> Record | None:
        """A task by its idempotency key (lists filter by it); a person by e-mail and an
        account by domain, which Salesloft keeps unique: the one found is the earlier
        try (not compared value by value: Salesloft normalises what it keeps, so the
        base's ``lookalikes`` + ``holds`` would miss it and a replay would make a second)."""
        if kind == Kind.TASK:
            body = await self._get(self._path(kind), [("idempotency_key", idempotency_key)])
            rows = body.get("data") or []
            return (await self._records(kind, rows[:1]))[0] if rows else None
        if not (kind == Kind.CONTACT and values.get("email")) and not (
            kind == Kind.COMPANY and values.get("domain")
        ):
            raise CannotTell(self.label, f"a {kind} is found only by its email or domain")
        return await self._by_natural_key(kind, values)

    async def _by_natural_key(self, kind: str, values: dict[str, Any]) -> Record | None:
        """A replayed create: the person (by e-mail) or account (by domain) already there."""
        if kind == Kind.CONTACT and values.get("email"):
            params = [("email_addresses[]", values["email"])]
        elif kind == Kind.COMPANY and values.get("domain"):
            params = [("domain", str(values["domain"]).lower())]
        else:
            return None
        body = await self._get(self._path(kind), params)
        rows = body.get("data") or []
        return (await self._records(kind, rows[:1]))[0] if rows else None

    async def delete(self, ref: RecordRef) -> None:
        if ref.kind not in (Kind.CONTACT, Kind.COMPANY):
            raise Rejected(self.label, f"{ref.kind} records cannot be deleted from crmtui")
        await self.session.request(
            "DELETE", f"{self._path(ref.kind)}/{path_id(ref.id)}", expect_json=False
        )

    async def add_note(self, ref: RecordRef, text: str) -> Activity:
        target = NOTE_TARGETS.get(ref.kind)
        if target is None:
            raise Rejected(self.label, "Salesloft notes belong to people and accounts")
        body = {"content": text, "associated_with_type": target, "associated_with_id": int(ref.id)}
        response = await self.session.json("POST", "notes", json=body)
        return note_activity(response["data"], await self._names("users"))

    async def log_activity(self, ref: RecordRef, logged: Logged) -> Activity:
        return await log_call(self, ref, logged)

    def web_root(self) -> str | None:
        return WEB_APP


Related = Callable[[Salesloft, dict[str, Any]], Awaitable[dict[str, list[RelatedRef]]]]
# The related records of a kind besides the person a task, member, call or email is about.
RELATED: dict[str, Related] = {
    Kind.CONTACT: Salesloft._contact_related,
    Kind.COMPANY: Salesloft._company_related,
    Kind.CADENCE: Salesloft._cadence_related,
}
