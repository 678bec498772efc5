"""SalesSeek (REST API, 2017 docs): Organizations, Individuals, Deals, Tasks and Groups.

The package: ``auth`` (the cookie session), ``resources`` (each kind's paths, sorts and
fields), ``paging`` (``start``/``rows``, views applied on the client, group members),
``timeline`` (the activity list). Decisions where the documentation is silent:

- A group's members are browsed with ``list_page("group_member", Query(filters={"group":
  <group id>}))`` (Group Pages API); they come back as records of their own kind
  (contact, company or deal). ``get("group")`` also lists the first members under
  ``related["Members"]``.
- Search: the server's ``search`` for organizations, individuals and tasks (documented;
  its answers are reduced, so the records are partial); deals have no documented search:
  the adapter reads their pages and keeps the deals whose name holds the text.
- Users, funnels and phases have no documented list (only ``GET /api/users/{id}``). The
  users offered are the signed-in user (the login answer) and the users the newest
  records embed (``owner``, ``creator``, ``assignee``), those named by id alone read with
  ``GET /api/users/{id}``; funnels and phases are those the newest deals embed
  (``funnel``, ``phase``), read ``order_by=modified desc``, ``DEAL_PAGES`` pages at most.
- Deals: ``stage`` is the phase id (choices: the phases seen, grouped by funnel, in the
  funnels' and phases' ``order``), ``pipeline`` the funnel id, ``status`` open/won/lost
  from the phase name (SalesSeek's own ``status`` is the forecast status, kept as
  ``forecast_status``), ``probability`` = weight x 100.
- Tasks: ``subject`` is the task's ``text`` (SalesSeek has no separate subject),
  ``due_at`` its ``due_date`` (naive UTC), ``done`` its ``completed``, ``assignee`` and
  ``owner`` users; the related record fills ``contact``/``company``/``deal``.
- Rate budget: none documented; a polite 300 requests a minute (the sandbox allows 600).
- Creates: SalesSeek has no idempotency key. ``create`` posts at once; ``find_created``
  (asked by the outbox only when an earlier try may have arrived) searches the list by
  the new record's name (a task's text, a deal's or organization's name, an
  individual's last name), newest ``created`` first; the ``LOOKALIKES`` newest hits are
  read in full and one holding every value of the create is the earlier result.
- Record pages are ``https://<client_id>.salesseek.net/#<type>/<id>`` (the web app's
  routes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, cast

from crmtui import fields as fv
from crmtui.http import BadResponse, NotFound, RateBudget, Rejected
from crmtui.model import (
    Activity,
    Change,
    Choice,
    FieldSpec,
    KindInfo,
    Page,
    Query,
    Record,
    RecordRef,
    RelatedRef,
)
from crmtui.vendors.auth import Connection, Login
from crmtui.vendors.base import (
    CannotTell,
    Profile,
    Setting,
    SettingKind,
    Vendor,
    https_url,
    record_id,
)
from crmtui.vendors.mapping import ActivityLog, Logged, Notes, Resource, number, path_id
from crmtui.vendors.salesseek import paging
from crmtui.vendors.salesseek.auth import CookieLogin, cookie_login, parse_error
from crmtui.vendors.salesseek.calls import CALLS, delete_call, log_call
from crmtui.vendors.salesseek.resources import (
    CUSTOM_KINDS,
    ORGANIZATION_NAME,
    RESOURCES,
    SORTS,
    USERS,
    custom_field_spec,
    custom_key,
    custom_out,
    custom_value,
    describe,
)
from crmtui.vendors.salesseek.timeline import (
    FAMILY_LABELS,
    TIMELINE_KINDS,
    activity,
    note_body,
    timeline_params,
)

CLIENT_ID = Setting(
    "client_id",
    "Account sub-domain",
    help="the <client_id> of <client_id>.salesseek.net",
    kind=SettingKind.HOST_LABEL,
    domains=("salesseek.net",),
    example="acme",
)
LOOKALIKES = 5  # newest search hits read in full when a replayed create looks for itself
RECENT = 100  # newest created deals a replayed deal create looks among (no deal search)
SAMPLE = 100  # rows a page of the newest records the users and phases are read from
DEAL_PAGES = 5  # pages of the newest changed deals the funnels and phases are read from
USER_READS = 20  # users named by id alone read one by one (``GET /api/users/{id}``)
PEOPLE = ("owner", "creator", "assignee")  # the users a record names (and embeds)


def _user(value: Any) -> dict[str, Any] | None:
    """A user object (embedded in a record, read, or the login answer) with a good id and
    a name; None for anything else."""
    if not isinstance(value, dict) or not value.get("name"):
        return None
    try:
        found = record_id("SalesSeek", value.get("id"), "user")
    except BadResponse:
        return None
    return {**value, "id": found, "name": str(value["name"])}


def _rank(value: Any) -> float:
    """An ``order`` as a number to sort by (a missing or odd one last)."""
    found = number(value)
    return float("inf") if found is None else float(found)


def _search_term(values: dict[str, Any]) -> str:
    """What an earlier create of ``values`` is searched by (its subject or name)."""
    names = (values.get(k) for k in ("subject", "name", "last_name", "first_name"))
    return next((str(n).strip() for n in names if n and str(n).strip()), "")


# A phase closing a deal: SalesSeek's funnels end in the phases "Won" and "Lost" (the
# deal's status is read from its phase name the same way, ``resources._status``).
_OUTCOMES = {"won": "won", "lost": "lost"}


class SalesSeek(Vendor):
    name: ClassVar[str] = "salesseek"
    label: ClassVar[str] = "SalesSeek"
    settings: ClassVar[tuple[Setting, ...]] = (
        CLIENT_ID,
        Setting("email", "Email address", kind=SettingKind.EMAIL, example="ann@example.com"),
        Setting("password", "Password", secret=True),
    )
    budget: ClassVar[RateBudget] = RateBudget(
        300, 60, note="not documented: a polite default of 5 requests a second"
    )
    notes_listed: ClassVar[bool] = True  # notes are activities on the record's timeline
    activity_log: ClassVar[ActivityLog] = CALLS  # an ``auto:call`` activity (``calls``)
    # a note activity: on an organization, an individual or an opportunity
    notes: ClassVar[Notes] = Notes(on=TIMELINE_KINDS)
    connection: ClassVar[Connection] = Connection(
        auth=Login(build=cookie_login, secrets=("password",)), errors=parse_error
    )
    resources: ClassVar[Mapping[str, Resource]] = RESOURCES

    # -- connection ----------------------------------------------------------------

    @classmethod
    def default_base_url(cls, profile: Profile) -> str:
        return https_url(CLIENT_ID.host(profile.setting("client_id")), "/api/", CLIENT_ID.domains)

    @property
    def auth(self) -> CookieLogin:
        """The cookie session's login (``logins``, ``cookie``, ``me``)."""
        return cast(CookieLogin, self.session.auth)

    async def close(self) -> None:
        if not self.has_session or self.auth.cookie is None:
            return
        try:
            await self.session.request("DELETE", "logout")
        finally:
            self.auth.cookie = None

    @property
    def me(self) -> dict[str, Any]:
        return self.auth.me or {}

    # -- schema -----------------------------------------------------------------------

    async def kinds(self) -> list[KindInfo]:
        def info(kind: str, **more: Any) -> KindInfo:
            return RESOURCES[kind].kind_info(sortable=list(SORTS[kind]), **more)

        return [
            info(
                "company",
                columns=["title", "phone", "website", "city", "owner"],
                editable=True,
                creatable=True,
                deletable=True,
                has_timeline=True,
                families=FAMILY_LABELS,
                views={"mine": "My organizations"},
            ),
            info(
                "contact",
                columns=["title", "job_title", "company", "email", "phone", "owner"],
                follows=ORGANIZATION_NAME,
                editable=True,
                creatable=True,
                deletable=True,
                has_timeline=True,
                families=FAMILY_LABELS,
                views={"mine": "My individuals", "leads": "Leads"},
            ),
            info(
                "deal",
                columns=["title", "company", "stage", "amount", "expected_close", "owner"],
                follows=ORGANIZATION_NAME,
                editable=True,
                creatable=True,
                deletable=True,
                has_timeline=True,
                families=FAMILY_LABELS,
                views={"open": "Open deals", "won": "Won", "lost": "Lost", "mine": "My deals"},
                # a board of phases per funnel; won and lost are the phases so named (see
                # ``_status``), SalesSeek documents no lost reason
                board_field="stage",
            ),
            info(
                "task",
                columns=["title", "due_at", "done", "assignee", "related_name"],
                day_views=["overdue"],
                editable=True,
                creatable=True,
                deletable=True,
                timeline_note=(
                    'SalesSeek has no timeline on a task: completing it logs "Task completed"'
                    " on the record it is about (under Related)."
                ),
                views={
                    "open": "Open tasks",
                    "overdue": "Overdue",
                    "done": "Completed",
                    "mine": "My tasks",
                },
            ),
            info(
                "group",
                columns=["title", "group_type", "element_type", "owner"],
                searchable=False,
                editable=True,
                timeline_note=(
                    "SalesSeek keeps activity on organizations, individuals and deals, not on"
                    " groups: open a member (under Related) for theirs."
                ),
                views={
                    "individuals": "Individual groups",
                    "organizations": "Organization groups",
                    "opportunities": "Deal groups",
                },
            ),
        ]

    async def build_fields(self, resource: Resource) -> list[FieldSpec]:
        await self._users()  # logs in first: the account's currencies come with the login
        return await super().build_fields(resource)

    async def choices(self, source: str) -> list[Choice]:
        if source == "users":
            return USERS.choices(await self._users())
        if source == "currencies":
            client = self.me.get("client") or {}
            codes = [client.get("default_currency") or "GBP", *(client.get("currencies") or {})]
            return [Choice(value=c, label=c) for c in dict.fromkeys(codes)]
        phases, funnels = await self._phases()
        if source == "phases":
            return [
                Choice(
                    value=p["id"],
                    label=p["name"],
                    group=funnels.get(p["funnel_id"]),
                    outcome=_OUTCOMES.get(str(p["name"]).strip().lower()),
                )
                for p in phases
            ]
        if source == "funnels":
            return [Choice(value=i, label=n) for i, n in funnels.items()]
        return await super().choices(source)

    async def custom_fields(self, resource: Resource) -> list[FieldSpec]:
        if resource.kind not in CUSTOM_KINDS:
            return []
        return [custom_field_spec(d) for d in await self._custom_defs(resource.path)]

    async def whoami(self) -> str | None:
        """The signed-in user: the login answer (``POST /login``) is the user."""
        if not self.me:
            await self._users()  # any request logs in first
        found = self.me.get("id")
        return None if found is None else record_id(self.label, found, "user")

    async def _users(self) -> list[dict[str, Any]]:
        """The users to offer: the signed-in user, then the users the newest records name
        (SalesSeek documents no list of users, only ``GET /api/users/{id}``)."""

        async def load() -> list[dict[str, Any]]:
            rows = [
                *await self._deals(),
                *await self._newest("organizations"),
                *await self._newest("tasks"),
            ]
            found: dict[str, dict[str, Any]] = {}
            named: list[str] = []  # ids with no embedded user
            for row in rows:
                for key in PEOPLE:
                    user = _user(row.get(key))
                    if user is not None:
                        found.setdefault(user["id"], user)
                    elif row.get(f"{key}_id"):
                        named.append(str(row[f"{key}_id"]))
            me = [u for u in [_user(self.me)] if u is not None]
            for user in me:  # the login answer is the signed-in user, offered first
                found.pop(user["id"], None)
            known = {*found, *(user["id"] for user in me)}
            for id in [i for i in dict.fromkeys(named) if i not in known][:USER_READS]:
                try:
                    user = _user(
                        await self.session.json(
                            "GET", f"users/{path_id(record_id(self.label, id))}"
                        )
                    )
                except (NotFound, BadResponse):  # deleted since, or not an id: not offered
                    continue
                if user is not None:
                    found[user["id"]] = user
            others = sorted(found.values(), key=lambda u: str(u["name"]).casefold())
            return [*me, *others]

        return await self.cached("users", load)

    async def _phases(self) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """The phases the newest deals embed (funnel by funnel, in order) and their
        funnels' names (SalesSeek documents no list of funnels or phases)."""

        async def load() -> tuple[list[dict[str, Any]], dict[str, str]]:
            deals = await self._deals()
            phases: dict[str, dict[str, Any]] = {}
            funnels: dict[str, dict[str, Any]] = {}
            for deal in deals:
                phase, funnel = deal.get("phase"), deal.get("funnel")
                if isinstance(phase, dict) and all(
                    phase.get(k) for k in ("id", "name", "funnel_id")
                ):
                    phases.setdefault(str(phase["id"]), phase)
                if isinstance(funnel, dict) and funnel.get("id"):
                    funnels.setdefault(str(funnel["id"]), funnel)

            def place(phase: dict[str, Any]) -> tuple[float, str, float, str]:
                funnel_id = str(phase["funnel_id"])
                funnel = funnels.get(funnel_id) or {}
                order = _rank(phase.get("order"))
                return (_rank(funnel.get("order")), funnel_id, order, str(phase["id"]))

            ordered = sorted(funnels.items(), key=lambda f: (_rank(f[1].get("order")), f[0]))
            names = {i: str(f.get("name") or i) for i, f in ordered}
            return sorted(phases.values(), key=place), names

        return await self.cached("phases", load)

    async def _deals(self) -> list[dict[str, Any]]:
        """The newest changed deals, ``DEAL_PAGES`` pages at most (cached)."""

        async def load() -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = []
            for page in range(DEAL_PAGES):
                found = await self._newest("opportunities", start=page * SAMPLE)
                rows += found
                if len(found) < SAMPLE:
                    break
            return rows

        return await self.cached("deal_sample", load)

    async def _newest(self, path: str, start: int = 0) -> list[dict[str, Any]]:
        """A page of ``path``'s records, newest changes first (documented list params)."""
        params = {"start": start, "rows": SAMPLE, "order_by": "modified desc"}
        rows = await self.session.json("GET", path, params=params) or []
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []

    async def _custom_defs(self, view: str) -> list[dict[str, Any]]:
        params = {"start": 0, "rows": -1, "filter": f"view={view}"}

        async def load() -> list[dict[str, Any]]:
            return list(await self.session.json("GET", "custom_fields", params=params) or [])

        return await self.cached(f"custom_fields:{view}", load)

    @property
    def _groups(self) -> dict[str, str]:
        """Group id -> the type of its elements, as groups were read."""
        groups: dict[str, str] = self.lookups.setdefault("group_elements", {})
        return groups

    # -- reads ------------------------------------------------------------------------

    async def list_page(self, kind: str, query: Query) -> Page:
        if kind == "group_member":
            return await self._members(query)
        response = await self.session.request(
            "GET", self.resource(kind).path, params=paging.list_params(kind, query)
        )
        rows, counted, cursor = paging.page_rows(
            response, self.session.decode(response) or [], query
        )
        total: int | None = counted
        records = [await self._record(kind, r) for r in rows]
        if query.search and kind in paging.SEARCHABLE:  # "reduced" answers: keep the cache's
            records = [r.model_copy(update={"partial": True}) for r in records]
        me = self.me.get("id")
        records = [r for r in records if paging.keep(kind, r, query, me)]
        if (query.view and kind != "group") or query.filters or (kind == "deal" and query.search):
            total = None  # SalesSeek's total counts the rows before ``keep`` picked them here
        return Page(records=records, total=total, next_cursor=cursor)

    async def get(self, kind: str, id: str) -> Record:
        raw = await self.session.json("GET", f"{self.resource(kind).path}/{path_id(id)}")
        record = await self._record(kind, raw)
        if kind == "group" and str(raw.get("element_type")) in paging.MEMBER_COLUMNS:
            # a group of another element type (one SalesSeek added later) shows no members
            page = await self._members(Query(filters={"group": id}, per_page=50))
            record.related["Members"] = [
                RelatedRef(kind=r.kind, id=r.id, title=r.title) for r in page.records
            ]
        return record

    async def _members(self, query: Query) -> Page:
        group_id = query.filters.get("group")
        if not group_id:
            raise Rejected(self.label, 'group members need Query(filters={"group": <group id>})')
        element = self._groups.get(group_id)
        if element is None:
            group = await self.session.json("GET", f"groups/{path_id(str(group_id))}")
            element = self._groups[group_id] = group.get("element_type")
        if str(element) not in paging.MEMBER_COLUMNS:
            raise Rejected(
                self.label,
                "this SalesSeek group holds a kind of item crmtui cannot list; open it in SalesSeek",
            )
        params = paging.member_params(element, group_id, query)
        response = await self.session.request("GET", "group_pages", params=params)
        body = self.session.decode(response) or {}
        rows = body.get("rows") or []
        records = [self._member(element, row) for row in rows]
        total, cursor = paging.member_next(response, len(rows), query)
        return Page(records=records, total=total, next_cursor=cursor)

    def _member(self, element: str, row: dict[str, Any]) -> Record:
        kind, title, subtitle, fields = paging.member_fields(element, row)
        return Record(
            vendor=self.name,
            profile=self.profile.name,
            kind=kind,
            id=(rid := record_id(self.label, row.get("id"), kind)),
            title=title or rid,
            subtitle=subtitle,
            fields=fields,
            raw=row,
            remote_url=self.record_url(kind, rid),
        )

    # -- records -----------------------------------------------------------------------

    async def _record(self, kind: str, raw: dict[str, Any]) -> Record:
        resource = self.resource(kind)
        fields = resource.read(raw, self.context())
        if kind == "group" and raw.get("id") and raw.get("element_type"):
            self._groups[raw["id"]] = raw["element_type"]
        if kind in CUSTOM_KINDS:
            values = raw.get("custom_fields") or {}
            for d in await self._custom_defs(resource.path):
                fields[custom_key(d)] = custom_value(d, values.get(d["id"]))
        title, subtitle, related = describe(kind, raw, fields)
        return Record(
            vendor=self.name,
            profile=self.profile.name,
            kind=kind,
            id=(rid := record_id(self.label, raw.get("id"), kind)),
            title=title or rid,
            subtitle=subtitle,
            created_at=fv.parse_datetime(raw.get("created")),
            updated_at=fv.parse_datetime(raw.get("modified")),
            remote_url=self.record_url(kind, raw["id"]),
            fields=fields,
            related=related,
            raw=raw,
        )

    # -- timeline -------------------------------------------------------------------------

    async def timeline(
        self, kind: str, id: str, *, families: Iterable[str] | None = None
    ) -> list[Activity]:
        """Newest first; ``families`` limits it to some of ``FAMILIES`` (server-side)."""
        if kind not in TIMELINE_KINDS:
            return []
        params = timeline_params(kind, id, families)
        rows = await self.session.json("GET", "activities", params=params) or []
        activities = [activity(r) for r in rows]
        return sorted(activities, key=lambda a: a.occurred_at, reverse=True)

    # -- writes ----------------------------------------------------------------------------

    async def _payload(self, kind: str, values: dict[str, Any]) -> dict[str, Any]:
        """The request body of ``values``: declared fields through the mapping, custom
        fields under ``custom_fields`` by definition id."""
        resource = self.resource(kind)
        defs = {}
        if kind in CUSTOM_KINDS:
            defs = {custom_key(d): d for d in await self._custom_defs(resource.path)}
        declared = {k: v for k, v in values.items() if k not in defs or resource.field(k)}
        body = resource.write(declared, self.context())
        for key, value in values.items():
            if key not in declared:
                custom = body.setdefault("custom_fields", {})
                custom[defs[key]["id"]] = custom_out(defs[key], value)
        return body

    def update_requests(self, records: Sequence[Record], keys: Sequence[str] = ()) -> int:
        """Per record its read, then the write (whose reply is the record); a group's
        read lists its members too when they are of a kind crmtui shows."""
        listed = sum(
            r.kind == "group" and str(r.fields.get("element_type")) in paging.MEMBER_COLUMNS
            for r in records
        )
        return 2 * len(records) + listed

    async def update(self, change: Change) -> Record:
        kind, id = change.ref.kind, change.ref.id
        body = await self._payload(kind, change.values)
        method = "POST" if kind == "contact" else "PATCH"  # individuals update by POST [doc]
        raw = await self.session.json(
            method, f"{self.resource(kind).path}/{path_id(id)}", json=body
        )
        return await self._record(kind, raw)

    async def create(self, kind: str, values: dict[str, Any], idempotency_key: str) -> Record:
        if kind == "group":
            raise Rejected(self.label, "groups are created in SalesSeek itself")
        body = await self._payload(kind, values)
        # No look-up first: the outbox looks (``find_created``) only when an earlier try
        # may have arrived, so a second identical create made on purpose is sent.
        path = self.resource(kind).path + ("/" if kind in ("contact", "deal") else "")
        raw = await self.session.json("POST", path, json=body)
        return await self._record(kind, raw)

    async def lookalikes(
        self, kind: str, values: dict[str, Any], idempotency_key: str
    ) -> list[Record]:
        """The newest records found by the create's name, read in full (search answers
        are reduced)."""
        term = _search_term(values)
        if not term:
            raise CannotTell(self.label, f"a {kind} without a name cannot be looked up")
        # deals have no server search: the RECENT newest created, filtered by name
        rows = LOOKALIKES if kind in paging.SEARCHABLE else RECENT
        query = Query(search=term, sort="created_at", descending=True, per_page=rows)
        hits = (await self.list_page(kind, query)).records[:LOOKALIKES]
        return [await self.get(kind, hit.id) for hit in hits]

    async def delete(self, ref: RecordRef) -> None:
        await self.session.request(
            "DELETE", f"{self.resource(ref.kind).path}/{path_id(ref.id)}", expect_json=False
        )

    async def log_activity(self, ref: RecordRef, logged: Logged) -> Activity:
        return await log_call(self, ref, logged)

    async def delete_logged(self, ref: RecordRef, id: str) -> None:
        await delete_call(self, id)

    async def add_note(self, ref: RecordRef, text: str) -> Activity:
        if not self.notes.take(ref.kind):
            return await super().add_note(ref, text)
        body = note_body(ref.kind, ref.id, text)
        return activity(await self.session.json("POST", "activities", json=body))

    def web_root(self) -> str | None:
        """``https://<client_id>.salesseek.net/``: the app is served where its API is
        (the doc: "The SalesSeek application itself is developed using this API") and
        routes in the fragment (the doc's ``callback_url`` ``…salesseek.net/#reset``); a
        record's page there (``#individuals/<id>``) is a convention, not documented."""
        client_id = self.profile.setting("client_id")
        if not client_id:
            return None
        try:
            return https_url(CLIENT_ID.host(client_id), "/", CLIENT_ID.domains)
        except ValueError:
            return None
