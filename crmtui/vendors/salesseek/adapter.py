"""SalesSeek (REST API, 2017 docs): Organizations, Individuals, Deals, Tasks and Groups.

The package: ``auth`` (the cookie session), ``resources`` (each kind's paths, sorts and
fields), ``paging`` (``start``/``rows``, views applied on the client, group members),
``timeline`` (the activity list). Decisions where the documentation is silent:

- A group's members are browsed with ``list_page("group_member", Query(filters={"group":
  <group id>}))`` (Group Pages API); they come back as records of their own kind
  (contact, company or deal). ``get("group")`` also lists the first members under
  ``related["Members"]``.
- Search: the server's ``search`` for organizations, individuals and tasks; deals have no
  documented search, so the adapter sends it and also filters each page by name itself.
- Deals: ``stage`` is the phase id (choices: the phases of every funnel, grouped by
  funnel, from ``/api/funnels``; fallback: phases seen in deals), ``pipeline`` the funnel
  id, ``status`` open/won/lost from the phase name (SalesSeek's own ``status`` is the
  forecast status, kept as ``forecast_status``), ``probability`` = weight x 100.
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

from collections.abc import Iterable
from typing import Any, ClassVar

from crmtui import fields as fv
from crmtui.http import NotFound, RateBudget, Rejected, VendorSession
from crmtui.model import (
    Activity,
    Change,
    Choice,
    FieldSpec,
    FieldType,
    KindInfo,
    Page,
    Query,
    Record,
    RecordRef,
    RelatedRef,
    Role,
)
from crmtui.vendors.base import (
    CannotTell,
    Profile,
    Setting,
    SettingKind,
    Vendor,
    holds,
    https_url,
    record_id,
)
from crmtui.vendors.salesseek import paging
from crmtui.vendors.salesseek.auth import CookieLogin, parse_error
from crmtui.vendors.salesseek.resources import (
    CUSTOM_KINDS,
    FORECAST,
    PATHS,
    READERS,
    SORTS,
    custom_out,
    custom_spec,
    custom_value,
    naive,
    slug,
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


def _search_term(values: dict[str, Any]) -> str:
    """What an earlier create of ``values`` is searched by (its subject or name)."""
    names = (values.get(k) for k in ("subject", "name", "last_name", "first_name"))
    return next((str(n).strip() for n in names if n and str(n).strip()), "")


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

    def __init__(self, profile: Profile, http: Any) -> None:
        self._custom: dict[str, list[dict[str, Any]]] = {}
        self._users: list[dict[str, Any]] | None = None
        self._phases: list[dict[str, Any]] | None = None
        self._funnels: dict[str, str] = {}
        self._groups: dict[str, str] = {}  # group id -> element type
        super().__init__(profile, http)

    # -- connection ----------------------------------------------------------------

    @classmethod
    def default_base_url(cls, profile: Profile) -> str:
        return https_url(CLIENT_ID.host(profile.setting("client_id")), "/api/", CLIENT_ID.domains)

    def connect(self) -> VendorSession:
        password = self.profile.secret("password")
        self.auth = CookieLogin(
            self.base_url().rstrip("/") + "/login",
            self.profile.setting("email"),
            password,
            on_cookie=self.http.redact.add,
        )
        return self.http.session(
            profile=self.profile.name,
            vendor=self.label,
            base_url=self.base_url(),
            auth=self.auth,
            limiter=self.limiter,
            parse_error=parse_error,
            secrets=(password,),
        )

    async def close(self) -> None:
        if self.auth.cookie is None:
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
        def sortable(kind: str) -> list[str]:
            return list(SORTS[kind])

        return [
            KindInfo(
                kind="company",
                label="Organizations",
                singular="Organization",
                columns=["title", "phone", "website", "city", "owner"],
                sortable=sortable("company"),
                roles={Role.TITLE: "name", Role.OWNER: "owner"},
                editable=True,
                creatable=True,
                deletable=True,
                has_timeline=True,
                families=FAMILY_LABELS,
                views={"mine": "My organizations"},
            ),
            KindInfo(
                kind="contact",
                label="Individuals",
                singular="Individual",
                columns=["title", "job_title", "company_name", "email", "phone", "owner"],
                sortable=sortable("contact"),
                roles={Role.TITLE: "name", Role.OWNER: "owner"},
                editable=True,
                creatable=True,
                deletable=True,
                has_timeline=True,
                families=FAMILY_LABELS,
                views={"mine": "My individuals", "leads": "Leads"},
            ),
            KindInfo(
                kind="deal",
                label="Deals",
                singular="Deal",
                columns=["title", "company_name", "stage", "amount", "expected_close", "owner"],
                sortable=sortable("deal"),
                roles={
                    Role.TITLE: "name",
                    Role.AMOUNT: "amount",
                    Role.CURRENCY: "currency",
                    Role.PIPELINE: "pipeline",
                    Role.STAGE: "stage",
                    Role.STATUS: "status",
                    Role.OWNER: "owner",
                },
                editable=True,
                creatable=True,
                deletable=True,
                has_timeline=True,
                families=FAMILY_LABELS,
                views={"open": "Open deals", "won": "Won", "lost": "Lost", "mine": "My deals"},
            ),
            KindInfo(
                kind="task",
                label="Tasks",
                singular="Task",
                columns=["title", "due_at", "done", "assignee", "related_name"],
                sortable=sortable("task"),
                roles={
                    Role.TITLE: "subject",
                    Role.DUE: "due_at",
                    Role.DONE: "done",
                    Role.OWNER: "owner",
                },
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
            KindInfo(
                kind="group",
                label="Groups",
                singular="Group",
                columns=["title", "group_type", "element_type", "owner"],
                sortable=sortable("group"),
                roles={Role.TITLE: "name", Role.OWNER: "owner"},
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

    async def fields(self, kind: str) -> list[FieldSpec]:
        users = await self._user_choices()

        def user(key: str, label: str, writable: bool = True) -> FieldSpec:
            return FieldSpec(
                key=key, label=label, type=FieldType.USER, writable=writable, choices=users
            )

        def text(key: str, label: str, writable: bool = False, **kw: Any) -> FieldSpec:
            return FieldSpec(key=key, label=label, writable=writable, **kw)

        match kind:
            case "company":
                specs = [
                    text("name", "Name", True, required=True),
                    text("phone", "Phone"),
                    text("website", "Website"),
                    text("city", "Location"),
                    user("owner", "Owner"),
                    text("comments", "Comments", True),
                    FieldSpec(key="tags", label="Tags", type=FieldType.MULTI_CHOICE),
                ]
            case "contact":
                specs = [
                    text("first_name", "First name", True),
                    text("last_name", "Last name", True),
                    text("name", "Name"),
                    text("job_title", "Role", True),
                    text("company_name", "Organization"),
                    text("email", "Email"),
                    text("phone", "Phone"),
                    user("owner", "Owner"),
                    text("comments", "Comments", True),
                    FieldSpec(key="lead", label="Lead", type=FieldType.BOOL),
                    FieldSpec(key="tags", label="Tags", type=FieldType.MULTI_CHOICE),
                ]
            case "deal":
                specs = await self._deal_fields(user)
            case "task":
                specs = [
                    text("subject", "Task", True, required=True),
                    FieldSpec(key="due_at", label="Due", type=FieldType.DATETIME, writable=True),
                    FieldSpec(key="done", label="Completed", type=FieldType.BOOL, writable=True),
                    user("assignee", "Assignee"),
                    user("owner", "Owner", writable=False),
                    text("related_name", "Related to"),
                    FieldSpec(key="completed_at", label="Completed at", type=FieldType.DATETIME),
                ]
            case "group":
                specs = [
                    text("name", "Name", True, required=True),
                    text("group_type", "Type"),
                    text("element_type", "Contains"),
                    FieldSpec(key="mailing_list", label="Mailing list", type=FieldType.BOOL),
                    user("owner", "Owner", writable=False),
                    text("comments", "Comments", True),
                ]
            case _:
                raise Rejected(self.label, f"SalesSeek has no {kind!r} records")
        if kind in ("company", "contact", "deal"):
            specs += [custom_spec(d) for d in await self._custom_defs(PATHS[kind])]
        return specs

    async def _deal_fields(self, user: Any) -> list[FieldSpec]:
        phases = await self._phase_list()
        stages = [
            Choice(value=p["id"], label=p["name"], group=self._funnels.get(p["funnel_id"]))
            for p in phases
        ]
        funnels = [Choice(value=i, label=n) for i, n in self._funnels.items()]
        client = self.me.get("client") or {}
        currencies = [client.get("default_currency") or "GBP", *(client.get("currencies") or {})]
        return [
            FieldSpec(key="name", label="Name", writable=True, required=True),
            FieldSpec(  # SalesSeek refuses an empty value: "value must be a number"
                key="amount",
                label="Value",
                type=FieldType.MONEY,
                writable=True,
                min=0,
                clearable=False,
            ),
            FieldSpec(
                key="currency",
                label="Currency",
                type=FieldType.CHOICE,
                writable=True,
                choices=[Choice(value=c, label=c) for c in dict.fromkeys(currencies)],
            ),
            FieldSpec(
                key="stage", label="Phase", type=FieldType.CHOICE, writable=True, choices=stages
            ),
            FieldSpec(key="pipeline", label="Funnel", type=FieldType.CHOICE, choices=funnels),
            FieldSpec(
                key="status",
                label="Status",
                type=FieldType.CHOICE,
                choices=[Choice(value=v, label=v.title()) for v in ("open", "won", "lost")],
            ),
            FieldSpec(key="probability", label="Weight %", type=FieldType.NUMBER),
            FieldSpec(
                key="forecast_status",
                label="Forecast",
                type=FieldType.CHOICE,
                writable=True,
                choices=[Choice(value=k, label=v) for k, v in FORECAST.items()],
            ),
            FieldSpec(key="expected_close", label="Close date", type=FieldType.DATE, writable=True),
            user("owner", "Owner"),
            FieldSpec(key="company_name", label="Organization"),
            FieldSpec(key="weighted_amount", label="Weighted value", type=FieldType.MONEY),
        ]

    async def _user_choices(self) -> list[Choice]:
        if self._users is None:
            try:
                self._users = await self.session.json(
                    "GET", "users", params={"start": 0, "rows": -1}
                )
            except NotFound:  # not documented: fall back to the logged-in user
                self._users = [self.me] if self.me else []
        return [Choice(value=u["id"], label=u["name"]) for u in self._users or []]

    async def _phase_list(self) -> list[dict[str, Any]]:
        if self._phases is None:
            try:
                funnels = await self.session.json("GET", "funnels", params={"start": 0, "rows": -1})
                phases = [p for f in funnels for p in f.get("phases", [])]
                self._funnels = {f["id"]: f["name"] for f in funnels}
            except NotFound:  # not documented: the phases seen in deals
                deals = await self.session.json(
                    "GET", "opportunities", params={"start": 0, "rows": 100}
                )
                phases = list(
                    {d["phase"]["id"]: d["phase"] for d in deals if d.get("phase")}.values()
                )
                self._funnels = {
                    d["funnel"]["id"]: d["funnel"]["name"] for d in deals if d.get("funnel")
                }
            self._phases = sorted(phases, key=lambda p: (p["funnel_id"], p["order"]))
        return self._phases

    async def _custom_defs(self, view: str) -> list[dict[str, Any]]:
        if view not in self._custom:
            params = {"start": 0, "rows": -1, "filter": f"view={view}"}
            self._custom[view] = await self.session.json("GET", "custom_fields", params=params)
        return self._custom[view]

    # -- reads ------------------------------------------------------------------------

    async def list_page(self, kind: str, query: Query) -> Page:
        if kind == "group_member":
            return await self._members(query)
        response = await self.session.request(
            "GET", self._path(kind), params=paging.list_params(kind, query)
        )
        rows, total, cursor = paging.page_rows(response, self.session.decode(response) or [], query)
        records = [await self._record(kind, r) for r in rows]
        me = self.me.get("id")
        records = [r for r in records if paging.keep(kind, r, query, me)]
        return Page(records=records, total=total, next_cursor=cursor)

    def _path(self, kind: str) -> str:
        try:
            return PATHS[kind]
        except KeyError:
            raise Rejected(self.label, f"SalesSeek has no {kind!r} records") from None

    async def get(self, kind: str, id: str) -> Record:
        raw = await self.session.json("GET", f"{self._path(kind)}/{id}")
        record = await self._record(kind, raw)
        if kind == "group":
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
            group = await self.session.json("GET", f"groups/{group_id}")
            element = self._groups[group_id] = group["element_type"]
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
        title, subtitle, fields, related = READERS[kind](raw)
        if kind == "group" and raw.get("id") and raw.get("element_type"):
            self._groups[raw["id"]] = raw["element_type"]
        if kind in CUSTOM_KINDS:
            values = raw.get("custom_fields") or {}
            for d in await self._custom_defs(PATHS[kind]):
                fields[f"cf_{slug(d['name'])}"] = custom_value(d, values.get(d["id"]))
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
        simple = {
            "company": {"name": "name", "owner": "owner_id", "comments": "comments"},
            "contact": {
                "first_name": "first_name",
                "last_name": "last_name",
                "job_title": "role",
                "owner": "owner_id",
                "comments": "comments",
                "company": "organization_id",
            },
            "deal": {
                "name": "name",
                "currency": "currency",
                "stage": "phase_id",
                "pipeline": "funnel_id",
                "forecast_status": "status",
                "owner": "owner_id",
                "company": "organization_id",
            },
            "task": {
                "subject": "text",
                "done": "completed",
                "assignee": "assignee_id",
                "owner": "owner_id",
            },
            "group": {"name": "name", "comments": "comments"},
        }.get(kind, {})
        defs = (
            {f"cf_{slug(d['name'])}": d for d in await self._custom_defs(PATHS[kind])}
            if kind in CUSTOM_KINDS
            else {}
        )
        body: dict[str, Any] = {}
        for key, value in values.items():
            if key in simple:
                body[simple[key]] = value
            elif kind == "deal" and key == "amount":
                body["value"] = None if value is None else float(fv.money(value) or 0)
            elif kind == "deal" and key == "expected_close":
                close = fv.parse_date(value)
                body["expected_close_date"] = f"{close.isoformat()}T00:00:00" if close else None
            elif kind == "task" and key == "due_at":
                body["due_date"] = naive(value)
            elif kind == "task" and key in ("contact", "company", "deal") and value:
                body["related_type"] = PATHS[key]
                body["related_id"] = value
            elif key in defs:
                custom = body.setdefault("custom_fields", {})
                custom[defs[key]["id"]] = custom_out(defs[key], value)
            else:
                raise Rejected(self.label, f"{key!r} cannot be changed on a SalesSeek {kind}")
        return body

    async def update(self, change: Change) -> Record:
        kind, id = change.ref.kind, change.ref.id
        body = await self._payload(kind, change.values)
        method = "POST" if kind == "contact" else "PATCH"  # individuals update by POST [doc]
        raw = await self.session.json(method, f"{self._path(kind)}/{id}", json=body)
        return await self._record(kind, raw)

    async def create(self, kind: str, values: dict[str, Any], idempotency_key: str) -> Record:
        if kind == "group":
            raise Rejected(self.label, "groups are created in SalesSeek itself")
        body = await self._payload(kind, values)
        # No look-up first: the outbox looks (``find_created``) only when an earlier try
        # may have arrived, so a second identical create made on purpose is sent.
        path = self._path(kind) + ("/" if kind in ("contact", "deal") else "")
        raw = await self.session.json("POST", path, json=body)
        return await self._record(kind, raw)

    async def find_created(
        self, kind: str, values: dict[str, Any], idempotency_key: str
    ) -> Record | None:
        if not _search_term(values):
            raise CannotTell(self.label, f"a {kind} without a name cannot be looked up")
        return await self._find_created(kind, values)

    async def _find_created(self, kind: str, values: dict[str, Any]) -> Record | None:
        """The record an earlier try of this create made, if its reply was lost."""
        term = _search_term(values)
        if not term:
            return None
        query = Query(search=term, sort="created_at", descending=True, per_page=LOOKALIKES)
        for hit in (await self.list_page(kind, query)).records:
            record = await self.get(kind, hit.id)  # search answers are reduced: read it all
            if holds(record, values):
                return record
        return None

    async def delete(self, ref: RecordRef) -> None:
        await self.session.request("DELETE", f"{self._path(ref.kind)}/{ref.id}", expect_json=False)

    async def add_note(self, ref: RecordRef, text: str) -> Activity:
        if ref.kind not in TIMELINE_KINDS:
            return await super().add_note(ref, text)
        body = note_body(ref.kind, ref.id, text)
        return activity(await self.session.json("POST", "activities", json=body))

    def record_url(self, kind: str, id: str) -> str | None:
        client_id = self.profile.setting("client_id")
        if kind not in PATHS or not client_id:
            return None
        try:
            root = https_url(CLIENT_ID.host(client_id), "/", CLIENT_ID.domains)
        except ValueError:
            return None
        return f"{root}#{PATHS[kind]}/{id}"
