"""SalesSeek (REST API, 2017 docs): Organizations, Individuals, Deals, Tasks and Groups.

Auth is a cookie session: ``CookieLogin`` posts the profile's email and password
(form-encoded) to ``/api/login`` when it has no cookie, keeps the ``salesseek`` cookie in
memory only, and on a 401 logs in once more and retries the request once, so an expired
session never reaches the user.

Mapping and decisions (the documentation is silent on these):

- Kinds: ``company`` = Organizations, ``contact`` = Individuals, ``deal`` = Opportunities
  (shown as "Deals"), ``task`` = Tasks, ``group`` = Groups. A group's members are browsed
  with ``list("group_member", Query(filters={"group": <group id>}))`` (Group Pages API);
  they come back as records of their own kind (contact, company or deal). ``get("group")``
  also lists the first members under ``related["Members"]``.
- Paging: ``start``/``rows`` (100 a page); the cursor is the next ``start``; the total is
  the ``Records-Total`` header. Sorting: ``order_by=<field> <asc|desc>``.
- Search: the server's ``search`` for organizations, individuals and tasks; deals have no
  documented search, so the adapter sends it and also filters each page by name itself.
- Views and ``filters`` (mine, open/won/lost, done/overdue, field equality) are applied to
  each page on the client: SalesSeek has no list filters outside smart groups. Pages may
  then hold fewer rows than asked; the cursor still moves on by the server's page.
- Incremental sync (``updated_since``): there is no "modified since" parameter; the list
  is read ``order_by=modified desc`` and stops at the first record older than the mark.
- Deals: ``stage`` is the phase id (choices: the phases of every funnel, grouped by
  funnel, from ``/api/funnels``; fallback: phases seen in deals), ``pipeline`` the funnel
  id, ``status`` open/won/lost from the phase name (SalesSeek's own ``status`` is the
  forecast status, kept as ``forecast_status``), ``probability`` = weight x 100.
- Tasks: ``subject`` is the task's ``text`` (SalesSeek has no separate subject),
  ``due_at`` its ``due_date`` (naive UTC), ``done`` its ``completed``, ``assignee`` and
  ``owner`` users; the related record fills ``contact``/``company``/``deal``.
- Custom fields are keyed ``cf_<name>`` (lower-case, underscores) from their definitions
  (``/api/custom_fields?filter=view=<type>``); dropDown values are option ids (choices).
- Timelines: ``/api/activities`` with every category flag (companies also pull in their
  individuals' and deals' activities); ``Activity.family`` is the flag that selects the
  entry (``notes``, ``communications``, ``contact_updates``, ``deals``,
  ``campaign_emails``, ``automation_emails``); ``timeline(..., families=...)`` asks the
  server for those only. Tasks and groups have no timeline.
- Rate budget: none documented; a polite 300 requests a minute (the sandbox allows 600).
- Creates: SalesSeek has no idempotency key, so ``create`` first looks for its own
  earlier result and posts only when there is none (a reply lost after the write, or
  the app killed mid-send, must not make a second record): the list searched by the
  new record's name (a task's text, a deal's or organization's name, an individual's
  last name), newest ``created`` first; the ``LOOKALIKES`` newest hits are read in full
  and one holding every value of the create is the earlier result. The adapter cannot
  tell a first try from a replay, so this runs on every create (two to six requests);
  a create identical in every value to a record already there returns that record.
- Record pages are ``https://<client_id>.salesseek.net/#<type>/<id>`` (the web app's
  routes).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Generator, Iterable
from datetime import datetime
from http.cookies import CookieError, SimpleCookie
from typing import Any, ClassVar

import httpx

from crmtui import fields as fv
from crmtui.http import NotFound, RateBudget, Rejected, VendorSession
from crmtui.http.client import json_object
from crmtui.model import (
    Activity,
    ActivityType,
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
    utcnow,
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

COOKIE = "salesseek"
CLIENT_ID = Setting(
    "client_id",
    "Account sub-domain",
    help="the <client_id> of <client_id>.salesseek.net",
    kind=SettingKind.HOST_LABEL,
    domains=("salesseek.net",),
    example="acme",
)
LOOKALIKES = 5  # newest search hits read in full when a replayed create looks for itself
PATHS = {
    "company": "organizations",
    "contact": "individuals",
    "deal": "opportunities",
    "task": "tasks",
    "group": "groups",
}
KIND_OF = {
    "organizations": "company",
    "organization": "company",
    "individuals": "contact",
    "individual": "contact",
    "opportunities": "deal",
    "opportunity": "deal",
}
# The activity list's documented filters, as the timeline offers them.
FAMILY_LABELS = {
    "notes": "Notes",
    "communications": "Communications",
    "contact_updates": "Contact updates",
    "deals": "Deals",
    "campaign_emails": "Campaign emails",
    "automation_emails": "Automation emails",
}
FAMILIES = tuple(FAMILY_LABELS)
MEMBER_COLUMNS = {
    "individuals": ["first_name", "last_name", "organization.name", "email", "phone"],
    "organizations": ["name", "website", "phone"],
    "opportunities": ["name", "organization.name", "phase_name", "value", "currency"],
}
SORTS: dict[str, dict[str, str]] = {
    "company": {"title": "name", "name": "name", "updated_at": "modified", "created_at": "created"},
    "contact": {
        "title": "full_name",
        "name": "full_name",
        "first_name": "first_name",
        "last_name": "last_name",
        "job_title": "role",
        "updated_at": "modified",
        "created_at": "created",
    },
    "deal": {
        "title": "name",
        "name": "name",
        "amount": "value",
        "stage": "phase_name",
        "expected_close": "expected_close_date",
        "updated_at": "modified",
        "created_at": "created",
    },
    "task": {
        "title": "text",
        "subject": "text",
        "due_at": "due_date",
        "done": "completed",
        "updated_at": "modified",
        "created_at": "created",
    },
    "group": {"title": "name", "name": "name", "updated_at": "modified"},
}
FORECAST = {
    "none": "None",
    "none_upside": "None Upside",
    "committed_downside": "Committed Downside",
    "committed": "Committed",
}
LABELS = {
    "auto:organization_import": "Organization imported",
    "auto:individual_import": "Individual imported",
    "auto:opportunity_import": "Deal imported",
    "auto:organization_creation": "Organization created",
    "auto:individual_creation": "Individual created",
    "auto:opportunity_creation": "Deal created",
    "archive:mailshot_sent": "Campaign sent",
    "archive:mailshot_opened": "Campaign opened",
    "automation:archive:mailshot_url_clicked": "Campaign link clicked",
    "automation:archive:mailshot_sent": "Automated email sent",
}


def family(activity_type: str) -> str:
    """The activity list flag that selects an activity type (see the docstring)."""
    if activity_type in ("note", "task:completed"):
        return "notes"
    if activity_type in ("archive:email", "auto:call"):
        return "communications"
    if activity_type.startswith("automation:"):
        return "automation_emails"
    if activity_type.startswith("archive:mailshot"):
        return "campaign_emails"
    if activity_type.startswith("auto:opportunity"):
        return "deals"
    return "contact_updates"


def parse_error(response: httpx.Response) -> str | None:
    """SalesSeek's error body: ``{"detail": "..."}``."""
    body = json_object(response)
    return str(body["detail"]) if body and body.get("detail") else None


def ref(value: Any) -> Any:
    """A reference to another record (owner, organization, phase...): checked as record
    ids are (``record_id``), so ``{"evil": 1}`` or ``1.5`` is refused, never stored."""
    if value is None or value == "":
        return value
    return record_id("SalesSeek", value, "reference to a record")


class CookieLogin(httpx.Auth):
    """Cookie-session auth: logs in when needed, and once more after a 401."""

    requires_response_body = True

    def __init__(
        self,
        login_url: str,
        email: str,
        password: str,
        on_cookie: Callable[[str], None] | None = None,
    ) -> None:
        self._login_url = login_url
        self._on_cookie = on_cookie  # e.g. the redactor: the cookie is a secret too
        self._email = email
        self._password = password
        self.cookie: str | None = None  # in memory only
        self.me: dict[str, Any] | None = None  # the login answer: the user and the account
        self.logins = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.cookie is None:
            login = yield self._login()
            if not self._accept(login):
                return  # the login's own refusal is the answer
        sent = self._sign(request)
        response = yield request
        if response.status_code != 401:
            return
        if self.cookie == sent:  # nobody has logged in again since: do it
            self.cookie = None
            login = yield self._login()
            if not self._accept(login):
                return
        self._sign(request)
        yield request

    def _login(self) -> httpx.Request:
        self.logins += 1
        return httpx.Request(
            "POST",
            self._login_url,
            data={"email_address": self._email, "password": self._password},
            headers={"Accept": "application/json"},
        )

    def _sign(self, request: httpx.Request) -> str | None:
        request.headers["Cookie"] = f"{COOKIE}={self.cookie}"
        return self.cookie

    def _accept(self, response: httpx.Response) -> bool:
        if response.status_code != 200:
            return False
        for header in response.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(header)
            except CookieError:
                continue
            if COOKIE in jar and jar[COOKIE].value:
                self.cookie = jar[COOKIE].value
                if self._on_cookie is not None:
                    self._on_cookie(self.cookie)
        try:
            self.me = response.json()
        except ValueError:
            self.me = None
        return self.cookie is not None


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _first(items: Any, medium: str) -> str | None:
    """The first ``communication`` value of a medium (or, failing that, of that name)."""
    for item in items or []:
        if item.get("medium") == medium:
            return item.get("value")
    for item in items or []:
        if str(item.get("name", "")).lower() == medium:
            return item.get("value")
    return None


def _naive(value: Any) -> str | None:
    """A neutral datetime (ISO, aware) as SalesSeek's naive UTC timestamp."""
    dt = fv.parse_datetime(value)
    return None if dt is None else dt.replace(tzinfo=None).isoformat(timespec="seconds")


def _before_now(value: Any) -> bool:
    due = fv.parse_datetime(value)
    return due is not None and due < utcnow()


def _html(text: str) -> str:
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())


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
            specs += [self._custom_spec(d) for d in await self._custom_defs(PATHS[kind])]
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

    def _custom_spec(self, d: dict[str, Any]) -> FieldSpec:
        kind = {
            "dropDown": FieldType.CHOICE,
            "checkbox": FieldType.BOOL,
            "number": FieldType.NUMBER,
            "currency": FieldType.MONEY,
            "date": FieldType.DATE,
        }.get(d["type"], FieldType.TEXT)
        choices = [Choice(value=o["id"], label=str(o["value"])) for o in d.get("options") or []]
        return FieldSpec(
            key=f"cf_{_slug(d['name'])}",
            label=d["name"],
            type=kind,
            writable=True,
            required=bool(d.get("required")),
            custom=True,
            choices=choices,
        )

    def _custom_value(self, d: dict[str, Any], value: Any) -> Any:
        if value is None or value == "":
            return None
        match d["type"]:
            case "checkbox":
                return str(value).lower() == "true"
            case "number":
                try:
                    number = float(value)
                except ValueError:
                    return None
                return int(number) if number.is_integer() else number
            case "currency":
                return fv.money(value)
            case "date":
                try:
                    return datetime.strptime(str(value), "%m/%d/%Y").date().isoformat()
                except ValueError:
                    parsed = fv.parse_date(value)
                    return parsed.isoformat() if parsed else None
        return value

    def _custom_out(self, d: dict[str, Any], value: Any) -> Any:
        if value is None:
            return None
        match d["type"]:
            case "checkbox":
                return "true" if value else "false"
            case "date":
                parsed = fv.parse_date(value)
                return parsed.strftime("%m/%d/%Y") if parsed else None
        return str(value)

    # -- reads ------------------------------------------------------------------------

    async def list_page(self, kind: str, query: Query) -> Page:
        if kind == "group_member":
            return await self._members(query)
        path = self._path(kind)
        start = int(query.cursor or 0)
        params: dict[str, Any] = {"start": start, "rows": query.per_page}
        order = self._order(kind, query)
        if order:
            params["order_by"] = order
        if query.search and kind != "group":
            params["search"] = query.search
        if kind == "group" and query.view:
            params["element_type"] = query.view
        response = await self.session.request("GET", path, params=params)
        rows = self.session.decode(response) or []
        total = int(response.headers.get("Records-Total", start + len(rows)))
        more = bool(rows) and start + len(rows) < total
        if query.updated_since is not None:
            mark = query.updated_since
            fresh = [r for r in rows if (fv.parse_datetime(r.get("modified")) or mark) >= mark]
            more = more and len(fresh) == len(rows)
            rows = fresh
        records = [await self._record(kind, r) for r in rows]
        records = [r for r in records if self._keep(kind, r, query)]
        return Page(
            records=records, total=total, next_cursor=str(start + len(rows)) if more else None
        )

    def _path(self, kind: str) -> str:
        try:
            return PATHS[kind]
        except KeyError:
            raise Rejected(self.label, f"SalesSeek has no {kind!r} records") from None

    def _order(self, kind: str, query: Query) -> str | None:
        if query.updated_since is not None:
            return "modified desc"
        if not query.sort:
            return None
        field = SORTS.get(kind, {}).get(query.sort, query.sort)
        return f"{field} {'desc' if query.descending else 'asc'}"

    def _keep(self, kind: str, record: Record, query: Query) -> bool:
        f = record.fields
        me = self.me.get("id")
        view = query.view if kind != "group" else None
        checks = {
            "mine": lambda: (f.get("assignee") if kind == "task" else f.get("owner")) == me,
            "open": lambda: not f.get("done") if kind == "task" else f.get("status") == "open",
            "won": lambda: f.get("status") == "won",
            "lost": lambda: f.get("status") == "lost",
            "done": lambda: bool(f.get("done")),
            "leads": lambda: bool(f.get("lead")),
            "overdue": lambda: not f.get("done") and _before_now(f.get("due_at")),
        }
        if view and view in checks and not checks[view]():
            return False
        if kind == "deal" and query.search and query.search.lower() not in record.title.lower():
            return False
        return all(str(f.get(k)) == str(v) for k, v in query.filters.items())

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
        start = int(query.cursor or 0)
        columns = MEMBER_COLUMNS[element]
        params: dict[str, Any] = {
            "item_type": element,
            "group_id": group_id,
            "start": start,
            "rows": query.per_page,
            "columns": ",".join(columns),
        }
        if query.sort:
            field = SORTS[KIND_OF[element]].get(query.sort, query.sort)
            params["order_by"] = f"{field} {'desc' if query.descending else 'asc'}"
        response = await self.session.request("GET", "group_pages", params=params)
        body = self.session.decode(response) or {}
        rows = body.get("rows") or []
        records = [self._member(element, columns, row) for row in rows]
        total_header = response.headers.get("Records-Total")
        total = int(total_header) if total_header else None
        more = len(rows) == query.per_page if total is None else start + len(rows) < total
        return Page(
            records=records, total=total, next_cursor=str(start + len(rows)) if more else None
        )

    def _member(self, element: str, columns: list[str], row: dict[str, Any]) -> Record:
        cells = dict(zip(columns, row.get("cells") or [], strict=False))
        for key in ("email", "phone", "website"):
            if isinstance(cells.get(key), list):
                cells[key] = next((c.get("value") for c in cells[key]), None)
        kind = KIND_OF[element]
        if kind == "contact":
            title = f"{cells.get('first_name') or ''} {cells.get('last_name') or ''}".strip()
            fields = {
                "first_name": cells.get("first_name"),
                "last_name": cells.get("last_name"),
                "company_name": cells.get("organization.name") or None,
                "email": cells.get("email"),
                "phone": cells.get("phone"),
            }
            subtitle = fields["company_name"] or ""
        elif kind == "company":
            title = str(cells.get("name") or "")
            fields = {"name": title, "website": cells.get("website"), "phone": cells.get("phone")}
            subtitle = fields["website"] or ""
        else:
            title = str(cells.get("name") or "")
            fields = {
                "name": title,
                "company_name": cells.get("organization.name") or None,
                "amount": fv.money(cells.get("value")),
                "currency": cells.get("currency"),
            }
            subtitle = f"{fields['amount'] or ''} {fields['currency'] or ''}".strip()
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
        mapper = getattr(self, f"_map_{kind}")
        title, subtitle, fields, related = mapper(raw)
        if kind in ("company", "contact", "deal"):
            values = raw.get("custom_fields") or {}
            for d in await self._custom_defs(PATHS[kind]):
                fields[f"cf_{_slug(d['name'])}"] = self._custom_value(d, values.get(d["id"]))
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

    @staticmethod
    def _tags(raw: dict[str, Any]) -> list[str]:
        return [t.get("name", "") for t in raw.get("tags") or [] if isinstance(t, dict)]

    @staticmethod
    def _org_ref(raw: dict[str, Any]) -> dict[str, list[RelatedRef]]:
        org_id = ref(raw.get("organization_id"))
        if not org_id:
            return {}
        name = raw.get("organization_name") or (raw.get("organization") or {}).get("name") or org_id
        return {"Organization": [RelatedRef(kind="company", id=org_id, title=name)]}

    def _map_company(self, raw: dict[str, Any]) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
        comm = raw.get("communication")
        locations = raw.get("locations") or []
        fields = {
            "name": raw.get("name"),
            "phone": _first(comm, "phone"),
            "website": _first(comm, "website"),
            "email": _first(comm, "email"),
            "city": locations[0].get("address") if locations else None,
            "owner": ref(raw.get("owner_id")),
            "comments": raw.get("comments"),
            "tags": self._tags(raw),
        }
        return raw.get("name") or "", fields["website"] or fields["phone"] or "", fields, {}

    def _map_contact(self, raw: dict[str, Any]) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
        comm = raw.get("communication")
        name = (
            raw.get("full_name")
            or f"{raw.get('first_name') or ''} {raw.get('last_name') or ''}".strip()
        )
        company_name = raw.get("organization_name") or (raw.get("organization") or {}).get("name")
        fields = {
            "first_name": raw.get("first_name"),
            "last_name": raw.get("last_name"),
            "name": name,
            "job_title": raw.get("role"),
            "company": ref(raw.get("organization_id")),
            "company_name": company_name,
            "email": _first(comm, "email"),
            "phone": _first(comm, "phone"),
            "owner": ref(raw.get("owner_id")),
            "comments": raw.get("comments"),
            "lead": bool(ref(raw.get("source_id"))),
            "tags": self._tags(raw),
        }
        subtitle = " · ".join(p for p in (raw.get("role"), company_name) if p)
        return name or fields["email"] or "", subtitle, fields, self._org_ref(raw)

    def _map_deal(self, raw: dict[str, Any]) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
        phase = raw.get("phase_name") or (raw.get("phase") or {}).get("name") or ""
        status = {"won": "won", "lost": "lost"}.get(phase.lower(), "open")
        amount = fv.money(raw.get("value"))
        close = fv.parse_date(raw.get("expected_close_date"))
        company_name = (raw.get("organization") or {}).get("name")
        weight = raw.get("weight")
        fields = {
            "name": raw.get("name"),
            "amount": amount,
            "currency": raw.get("currency"),
            "stage": ref(raw.get("phase_id")),
            "stage_name": phase,
            "pipeline": ref(raw.get("funnel_id")),
            "status": status,
            "probability": round(weight * 100) if isinstance(weight, int | float) else None,
            "forecast_status": raw.get("status"),
            "expected_close": close.isoformat() if close else None,
            "owner": ref(raw.get("owner_id")),
            "company": ref(raw.get("organization_id")),
            "company_name": company_name,
            "weighted_amount": fv.money(raw.get("weighted_value")),
            "stage_changed_at": fv.iso(fv.parse_datetime(raw.get("phase_last_changed"))),
            "tags": self._tags(raw),
        }
        money_text = f"{amount} {raw.get('currency') or ''}".strip() if amount else ""
        subtitle = " · ".join(p for p in (company_name, phase, money_text) if p)
        return raw.get("name") or "", subtitle, fields, self._org_ref(raw)

    def _map_task(self, raw: dict[str, Any]) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
        text = raw.get("text") or ""
        related = raw.get("related") or {}
        kind = KIND_OF.get(str(raw.get("related_type") or related.get("type") or ""))
        fields: dict[str, Any] = {
            "subject": text,
            "due_at": fv.iso(fv.parse_datetime(raw.get("due_date"))),
            "done": bool(raw.get("completed")),
            "completed_at": fv.iso(fv.parse_datetime(raw.get("complete_date"))),
            "assignee": ref(raw.get("assignee_id")),
            "owner": ref(raw.get("owner_id")),
            "related_name": related.get("name"),
            "contact": None,
            "company": None,
            "deal": None,
        }
        refs: dict[str, list[RelatedRef]] = {}
        if kind and ref(raw.get("related_id")):
            fields[kind] = ref(raw["related_id"])
            label = {"contact": "Individual", "company": "Organization", "deal": "Deal"}[kind]
            title = related.get("name") or raw["related_id"]
            refs[label] = [RelatedRef(kind=kind, id=ref(raw["related_id"]), title=title)]
        title = (text.splitlines() or [""])[0][:80]
        return title, related.get("name") or "", fields, refs

    def _map_group(self, raw: dict[str, Any]) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
        if raw.get("id") and raw.get("element_type"):
            self._groups[raw["id"]] = raw["element_type"]
        fields = {
            "name": raw.get("name"),
            "group_type": raw.get("group_type"),
            "element_type": raw.get("element_type"),
            "mailing_list": bool(raw.get("mailing_list")),
            "owner": ref(raw.get("owner_id")),
            "comments": raw.get("comments"),
        }
        subtitle = f"{raw.get('group_type') or ''} group of {raw.get('element_type') or ''}"
        return raw.get("name") or "", subtitle, fields, {}

    # -- timeline -------------------------------------------------------------------------

    async def timeline(
        self, kind: str, id: str, *, families: Iterable[str] | None = None
    ) -> list[Activity]:
        """Newest first; ``families`` limits it to some of ``FAMILIES`` (server-side)."""
        if kind not in ("company", "contact", "deal"):
            return []
        wanted = set(FAMILIES if families is None else families)
        params: dict[str, Any] = {
            "start": 0,
            "rows": 100,
            "order_by": "created desc",
            **{flag: "true" if flag in wanted else "false" for flag in FAMILIES},
            "item_type": PATHS[kind],
            "item_id": id,
        }
        if kind == "company":
            params.update(include_ind_related="true", include_deal_related="true")
        rows = await self.session.json("GET", "activities", params=params) or []
        activities = [self._activity(r) for r in rows]
        return sorted(activities, key=lambda a: a.occurred_at, reverse=True)

    def _activity(self, raw: dict[str, Any]) -> Activity:
        kind = raw.get("activity_type") or ""
        params = raw.get("params") or {}
        body = fv.html_to_text(raw.get("note"))
        first = (body.splitlines() or [""])[0][:80]
        if kind == "note":
            atype, summary = ActivityType.NOTE, first or "Note"
        elif kind == "auto:call":
            atype, summary = ActivityType.CALL, first or "Call logged"
        elif kind == "archive:email":
            atype, summary = ActivityType.EMAIL, params.get("subject") or first or "Email"
        elif kind == "auto:opportunity_movement":
            atype = ActivityType.STAGE_CHANGE
            summary = f"Moved from {params.get('from')} to {params.get('to')}"
        elif kind == "task:completed":
            atype = ActivityType.TASK_EVENT
            summary = f"Task completed: {params.get('description') or first}"[:80]
        else:
            atype = ActivityType.EMAIL if "mailshot" in kind else ActivityType.OTHER
            summary = first or LABELS.get(kind, kind)
        links = [
            RelatedRef(
                kind=KIND_OF[key], id=ref(raw[f"{key}_id"]), title=raw.get(f"{key}_name") or ""
            )
            for key in ("individual", "organization", "opportunity")
            if raw.get(f"{key}_id")
        ]
        when = fv.parse_datetime(raw.get("user_created") or raw.get("created"))
        return Activity(
            id=record_id(self.label, raw.get("id"), "timeline entry"),
            type=atype,
            occurred_at=when or utcnow(),
            summary=summary,
            body=body,
            who=(raw.get("creator") or {}).get("name") or params.get("who") or "",
            family=family(kind),
            links=links,
            raw=raw,
        )

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
            {f"cf_{_slug(d['name'])}": d for d in await self._custom_defs(PATHS[kind])}
            if kind in ("company", "contact", "deal")
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
                body["due_date"] = _naive(value)
            elif kind == "task" and key in ("contact", "company", "deal") and value:
                body["related_type"] = PATHS[key]
                body["related_id"] = value
            elif key in defs:
                custom = body.setdefault("custom_fields", {})
                custom[defs[key]["id"]] = self._custom_out(defs[key], value)
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
        if ref.kind not in ("company", "contact", "deal"):
            return await super().add_note(ref, text)
        body = {
            "note": _html(text),
            "created": None,
            "target_date": None,
            "activity_type": "note",
            "item_type": PATHS[ref.kind],
            "item_id": ref.id,
            "tags": [],
        }
        return self._activity(await self.session.json("POST", "activities", json=body))

    def record_url(self, kind: str, id: str) -> str | None:
        client_id = self.profile.setting("client_id")
        if kind not in PATHS or not client_id:
            return None
        try:
            root = https_url(CLIENT_ID.host(client_id), "/", CLIENT_ID.domains)
        except ValueError:
            return None
        return f"{root}#{PATHS[kind]}/{id}"
