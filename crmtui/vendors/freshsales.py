"""Freshsales adapter (``https://{domain}.freshsales.io/api/``, ``Authorization: Token token=<key>``).

Kinds, in Freshsales's words and tab order: Contacts, Leads, Accounts (the API's
"sales accounts"), Deals and Tasks; appointments, notes and activities show in timelines.

Decisions (where the documentation is silent or ambiguous):

- Lists go through views: ``GET /api/<resource>/view/<view_id>`` with ``page``,
  ``per_page``, ``sort``, ``sort_type`` and ``include=owner``; the views come from
  ``GET /api/<resource>/filters``. With no view asked for, the filter named "All ..."
  is used (for deals, which have no such filter, the doc's "To fetch all deals" view:
  the default filter whose name holds "All", else "Recent Deals", else the first).
- ``Page.next_cursor`` is the next page number as text; ``Page.total`` is ``meta.total``.
- Sorting accepts only the fields the doc lists per kind; any other sort key is ignored
  (the view's own order is kept) rather than failing the list.
- ``Query.updated_since``: the "All" view sorted by ``updated_at`` descending; records
  older than the mark are dropped and paging stops at the first page that reaches it.
- Search: the doc has no search endpoint; the public ``GET /api/search?q=&include=<entity>``
  is used (one page, no cursor); hits become records with the title and the id only.
- Tasks list with the documented ``filter`` (open, due_today, due_tomorrow, overdue,
  completed) offered as views, ``open`` by default; paging as for views.
- Timelines: ``GET /api/<resource>/<id>/activities?include=user`` merged with the notes,
  tasks and appointments embedded by ``GET /api/<resource>/<id>?include=...`` that the
  activities do not already cover (by actionable type and id). Kinds whose activities
  endpoint answers 404 (the doc documents it for leads and contacts only) show the
  embedded entries alone.
- Values written: amounts as numbers, dates as ``YYYY-MM-DD``, times as
  ``YYYY-MM-DDTHH:MM:SSZ``, ids as integers, task ``done`` as ``status`` 1/0, deal
  ``currency`` (an ISO code) as ``currency_id`` via ``/api/selector/currencies``.
- A contact's ``company`` (its primary sales account) is read-only here: the doc
  deprecates ``sales_account_id`` and ``sales_accounts`` replaces the whole list.
- Freshsales has no idempotency key (and tasks have no custom fields or tags to hold
  one), so ``create`` first looks for its own earlier result and posts only when there
  is none: a reply lost after the write (a dropped connection, the app killed) must
  not make a second record. A task is looked for among its record's tasks
  (``GET /api/<kind>/<id>?include=tasks``); a contact, lead, account or deal among the
  ``/api/search`` hits whose email or name is exactly the one given (the newest
  ``LOOKALIKES``, read in full). A match must hold every value of the create. The
  adapter cannot tell a first try from a replay, so the look-up runs on every create
  (one or two requests more); the price is that a create identical in every value to a
  record already there (the same open task twice on one contact) returns that record.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from crmtui.fields import html_to_text, iso, money, parse_date, parse_datetime
from crmtui.http import BadResponse, Http, NotFound, RateBudget, Rejected, VendorSession
from crmtui.http.auth import HeaderTokenAuth
from crmtui.http.client import json_object
from crmtui.model import (
    Activity,
    ActivityType,
    Change,
    Choice,
    FieldSpec,
    FieldType,
    Kind,
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

Json = dict[str, Any]

# The account's host: NAME.freshsales.io (classic) or NAME.myfreshworks.com (suite).
DOMAIN = Setting(
    "domain",
    "Domain",
    help="the NAME in https://NAME.freshsales.io (or NAME.myfreshworks.com)",
    kind=SettingKind.HOST_LABEL,
    domains=("freshsales.io", "myfreshworks.com"),
    example="acme",
)


@dataclass(frozen=True)
class _Resource:
    """A Freshsales resource behind one neutral kind."""

    kind: str
    path: str  # "sales_accounts"
    wrapper: str  # "sales_account"
    targetable: str  # "SalesAccount" (notes, tasks, appointments point at it)
    label: str
    singular: str
    web: str | None  # the web app's path segment for record_url
    columns: tuple[str, ...]
    sorts: Mapping[str, str]  # neutral key -> documented sort field
    include: str  # embeds for get()
    timeline_include: str  # embeds that carry timeline entries
    roles: Mapping[Role, str] = dataclasses.field(default_factory=dict)
    references: Mapping[str, str] = dataclasses.field(default_factory=dict)  # field key -> kind
    day_views: tuple[str, ...] = ()  # the views My day refreshes


_SORT_COMMON = {"created_at": "created_at", "updated_at": "updated_at"}
_NAMED = {Role.TITLE: "name", Role.OWNER: "owner"}

RESOURCES: dict[str, _Resource] = {
    r.kind: r
    for r in (
        _Resource(
            Kind.CONTACT,
            "contacts",
            "contact",
            "Contact",
            "Contacts",
            "Contact",
            "contacts",
            ("title", "email", "phone", "job_title", "city", "owner"),
            {
                **_SORT_COMMON,
                "lead_score": "lead_score",
                "open_deals_amount": "open_deals_amount",
                "last_contacted": "last_contacted",
            },
            "owner,sales_accounts,deals",
            "notes,tasks,appointments",
            roles=_NAMED,
            references={"company": Kind.COMPANY},
        ),
        _Resource(
            Kind.LEAD,
            "leads",
            "lead",
            "Lead",
            "Leads",
            "Lead",
            "leads",
            ("title", "email", "company", "lead_score", "owner"),
            {
                **_SORT_COMMON,
                "lead_score": "lead_score",
                "lead_stage": "lead_stage",
                "last_contacted": "last_contacted",
            },
            "owner",
            "notes,tasks,appointments",
            roles=_NAMED,
        ),
        _Resource(
            Kind.COMPANY,
            "sales_accounts",
            "sales_account",
            "SalesAccount",
            "Accounts",
            "Account",
            "accounts",
            ("title", "city", "industry", "open_deals_amount", "owner"),
            {
                **_SORT_COMMON,
                "open_deals_amount": "open_deals_amount",
                "last_contacted": "last_contacted",
            },
            "owner,contacts,deals",
            "tasks,appointments",
            roles=_NAMED,
        ),
        _Resource(
            Kind.DEAL,
            "deals",
            "deal",
            "Deal",
            "Deals",
            "Deal",
            "deals",
            ("title", "amount", "stage", "expected_close", "owner"),
            {
                **_SORT_COMMON,
                "amount": "amount",
                "expected_close": "expected_close",
                "last_contacted": "last_contacted",
            },
            "owner,contacts,sales_account",
            "",
            roles={
                **_NAMED,
                Role.AMOUNT: "amount",
                Role.CURRENCY: "currency",
                Role.PIPELINE: "pipeline",
                Role.STAGE: "stage",
                Role.STATUS: "status",
            },
            references={"company": Kind.COMPANY},
        ),
        _Resource(
            Kind.TASK,
            "tasks",
            "task",
            "Task",
            "Tasks",
            "Task",
            None,
            ("title", "due_at", "done", "owner"),
            {},
            "owner,users,targetable",
            "",
            roles={
                Role.TITLE: "subject",
                Role.DUE: "due_at",
                Role.DONE: "done",
                Role.OWNER: "owner",
            },
            references={
                "contact": Kind.CONTACT,
                "lead": Kind.LEAD,
                "company": Kind.COMPANY,
                "deal": Kind.DEAL,
            },
            day_views=("overdue", "due_today"),
        ),
    )
}

TASK_VIEWS = {
    "open": "Open",
    "due_today": "Due today",
    "due_tomorrow": "Due tomorrow",
    "overdue": "Overdue",
    "completed": "Completed",
}

# Freshsales targetable type (any spelling it uses) -> neutral kind.
_TARGET_KINDS = {
    "lead": Kind.LEAD,
    "contact": Kind.CONTACT,
    "salesaccount": Kind.COMPANY,
    "sales_account": Kind.COMPANY,
    "deal": Kind.DEAL,
}


@dataclass(frozen=True)
class _Field:
    """One neutral field key and the Freshsales attribute behind it."""

    key: str
    vendor: str  # attribute name; "company.name" reads/writes a nested object
    label: str
    type: FieldType = FieldType.TEXT
    writable: bool = True
    selector: str | None = None  # /api/selector/<name> giving the choices
    codec: str = ""  # "currency" | "status01" | "status" | "target" | "email"
    required: bool = False  # required though no settings say so (tasks have none)


_OWNER = _Field("owner", "owner_id", "Owner", FieldType.USER, selector="owners")
_PERSON = (
    _Field("first_name", "first_name", "First name"),
    _Field("last_name", "last_name", "Last name"),
    _Field("name", "display_name", "Name", writable=False),
    _Field("email", "email", "Email", codec="email"),
    _Field("phone", "work_number", "Work"),
    _Field("mobile_number", "mobile_number", "Mobile"),
    _Field("job_title", "job_title", "Job title"),
    _Field("city", "city", "City"),
    _Field("state", "state", "State"),
    _Field("country", "country", "Country"),
    _OWNER,
    _Field("lead_score", "lead_score", "Score", FieldType.NUMBER, writable=False),
    _Field("last_contacted", "last_contacted", "Last contacted", FieldType.DATETIME, False),
)

FIELDS: dict[str, tuple[_Field, ...]] = {
    Kind.CONTACT: (
        *_PERSON,
        _Field("company", "sales_account_id", "Account", writable=False),
        _Field(
            "contact_status_id",
            "contact_status_id",
            "Status",
            FieldType.CHOICE,
            selector="contact_statuses",
        ),
        _Field("open_deals_amount", "open_deals_amount", "Open deals", FieldType.MONEY, False),
    ),
    Kind.LEAD: (
        *_PERSON,
        _Field("company", "company.name", "Company"),
        _Field("lead_stage_id", "lead_stage_id", "Lead stage", FieldType.CHOICE),
    ),
    Kind.COMPANY: (
        _Field("name", "name", "Name"),
        _Field("website", "website", "Website"),
        _Field("phone", "phone", "Phone"),
        _Field("address", "address", "Address"),
        _Field("city", "city", "City"),
        _Field("state", "state", "State"),
        _Field("country", "country", "Country"),
        _Field(
            "industry", "industry_type_id", "Industry", FieldType.CHOICE, selector="industry_types"
        ),
        _Field(
            "business_type_id",
            "business_type_id",
            "Business type",
            FieldType.CHOICE,
            selector="business_types",
        ),
        _Field("size", "number_of_employees", "Employees", FieldType.NUMBER),
        _Field("annual_revenue", "annual_revenue", "Annual revenue", FieldType.NUMBER),
        _OWNER,
        _Field("open_deals_amount", "open_deals_amount", "Open deals", FieldType.MONEY, False),
        _Field("last_contacted", "last_contacted", "Last contacted", FieldType.DATETIME, False),
    ),
    Kind.DEAL: (
        _Field("name", "name", "Name"),
        _Field("amount", "amount", "Deal value", FieldType.MONEY),
        _Field(
            "currency",
            "currency_id",
            "Currency",
            FieldType.CHOICE,
            selector="currencies",
            codec="currency",
        ),
        _Field("pipeline", "deal_pipeline_id", "Pipeline", FieldType.CHOICE),
        _Field("stage", "deal_stage_id", "Deal stage", FieldType.CHOICE),
        _Field("status", "deal_stage_id", "Status", FieldType.CHOICE, False, codec="status"),
        _Field("probability", "probability", "Probability", FieldType.NUMBER),
        _Field("expected_close", "expected_close", "Expected close", FieldType.DATE),
        _Field("closed_date", "closed_date", "Closed on", FieldType.DATE, writable=False),
        _OWNER,
        _Field("company", "sales_account_id", "Account"),
        _Field("deal_type_id", "deal_type_id", "Type", FieldType.CHOICE, selector="deal_types"),
        _Field(
            "deal_reason_id",
            "deal_reason_id",
            "Lost reason",
            FieldType.CHOICE,
            selector="deal_reasons",
        ),
    ),
    Kind.TASK: (
        _Field("subject", "title", "Title", required=True),  # "Title can't be blank"
        _Field("body", "description", "Description"),
        _Field("due_at", "due_date", "Due", FieldType.DATETIME, required=True),
        _Field("done", "status", "Done", FieldType.BOOL, codec="status01"),
        _OWNER,
        _Field(
            "outcome",
            "outcome_id",
            "Outcome",
            FieldType.CHOICE,
            selector="sales_activity_outcomes",
        ),
        _Field("contact", "targetable", "Contact", codec="target"),
        _Field("lead", "targetable", "Lead", codec="target"),
        _Field("company", "targetable", "Account", codec="target"),
        _Field("deal", "targetable", "Deal", codec="target"),
    ),
}

_WHOLE_NUMBERS = {"number_of_employees", "annual_revenue", "probability"}  # integers

_SETTINGS_TYPES = {
    "text": FieldType.TEXT,
    "textarea": FieldType.TEXT,
    "url": FieldType.TEXT,
    "email": FieldType.TEXT,
    "phone_number": FieldType.TEXT,
    "number": FieldType.NUMBER,
    "decimal": FieldType.NUMBER,
    "dropdown": FieldType.CHOICE,
    "radio": FieldType.CHOICE,
    "multi_select_dropdown": FieldType.MULTI_CHOICE,
    "checkbox": FieldType.BOOL,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
    "date_time": FieldType.DATETIME,
}

LOOKALIKES = 10  # exact search hits read in full when a replayed create looks for itself

_STAGE_STATUS = {"won": "won", "lost": "lost", "closed won": "won", "closed lost": "lost"}


def parse_error(response: httpx.Response) -> str | None:
    """The message of a Freshsales error body: ``{"errors": {"code", "message"}}``."""
    body = json_object(response)
    if body is None:
        return None
    errors = body.get("errors", body)
    if isinstance(errors, list):
        errors = errors[0] if errors else {}
    if isinstance(errors, dict):
        message = errors.get("message")
        if isinstance(message, list):
            return "; ".join(str(m) for m in message)
        if message:
            return str(message)
    elif isinstance(errors, str):
        return errors
    return None


def _lookup(resource: _Resource, values: Mapping[str, Any]) -> tuple[str, Any] | None:
    """How an earlier create of ``values`` is found: a task by its target record
    (``(kind, id)``), others by an exact search term (``("search", term)``); None: no way."""
    if resource.kind == Kind.TASK:
        return next(((k, values[f]) for k, f in _TARGET_FIELD.items() if values.get(f)), None)
    full_name = " ".join(str(values.get(k) or "") for k in ("first_name", "last_name"))
    term = str(values.get("email") or values.get("name") or full_name).strip()
    return ("search", term) if len(term) >= 2 else None


class Freshsales(Vendor):
    """Freshsales through its documented REST API (see the module docstring)."""

    name = "freshsales"
    label = "Freshsales"
    settings = (
        DOMAIN,
        Setting("api_key", "API key", secret=True, help="Profile Settings > API Settings"),
    )
    budget = RateBudget(1000, 3600, note="1000 requests per hour per account")
    notes_listed = True  # notes show on the record's timeline, text and time

    def __init__(self, profile: Profile, http: Http) -> None:
        self._views: dict[str, list[Json]] = {}
        self._selectors: dict[str, list[Json]] = {}
        self._stages: dict[str, Json] | None = None  # stage id -> stage (with pipeline)
        self._pipelines: list[Json] | None = None
        self._field_cache: dict[str, list[FieldSpec]] = {}
        super().__init__(profile, http)

    # -- connection ------------------------------------------------------------

    @classmethod
    def default_base_url(cls, profile: Profile) -> str:
        host = DOMAIN.host(profile.setting("domain"))
        # Freshworks-suite accounts (NAME.myfreshworks.com) serve the same API under
        # /crm/sales/api/; classic accounts (NAME.freshsales.io) under /api/.
        path = "/crm/sales/api/" if host.endswith(".myfreshworks.com") else "/api/"
        return https_url(host, path, DOMAIN.domains)

    def connect(self) -> VendorSession:
        key = self.profile.secret("api_key")
        return self.http.session(
            profile=self.profile.name,
            vendor=self.label,
            base_url=self.base_url(),
            auth=HeaderTokenAuth("Authorization", "Token token={secret}", key),
            limiter=self.limiter,
            parse_error=parse_error,
            secrets=(key,),
            # The API docs list "301/302 HTTP Redirect ... ensure that your API client
            # follows redirects": reads follow them, to the same host only (never writes).
            follow_redirects=True,
        )

    def record_url(self, kind: str, id: str) -> str | None:
        resource = RESOURCES.get(kind)
        domain = self.profile.setting("domain")
        if resource is None or resource.web is None or not domain:
            return None
        try:
            return https_url(DOMAIN.host(domain), f"/{resource.web}/{id}", DOMAIN.domains)
        except ValueError:
            return None

    # -- requests -----------------------------------------------------------------

    async def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Json:
        return self._object(await self.session.json("GET", path, params=params), path)

    def _object(self, body: Any, path: str) -> Json:
        if not isinstance(body, dict):
            raise BadResponse(self.label, f"the reply to {path} was not a JSON object")
        return body

    def _take(self, body: Json, key: str, path: str, kind: type = dict) -> Any:
        value = body.get(key)
        if not isinstance(value, kind):
            raise BadResponse(self.label, f"the reply to {path} had no {key!r}")
        return value

    def _resource(self, kind: str) -> _Resource:
        try:
            return RESOURCES[kind]
        except KeyError:
            raise Rejected(self.label, f"Freshsales has no {kind!r} records here") from None

    # -- schema ---------------------------------------------------------------------

    async def kinds(self) -> list[KindInfo]:
        infos = []
        for resource in RESOURCES.values():
            if resource.kind == Kind.TASK:
                views = dict(TASK_VIEWS)
            else:
                views = {
                    str(f["id"]): str(f.get("name", f["id"])) for f in await self._filters(resource)
                }
            infos.append(
                KindInfo(
                    kind=resource.kind,
                    label=resource.label,
                    singular=resource.singular,
                    columns=list(resource.columns),
                    sortable=list(resource.sorts),
                    searchable=resource.kind != Kind.TASK,
                    editable=True,
                    creatable=True,
                    deletable=True,
                    has_timeline=resource.kind != Kind.TASK,
                    views=views,
                    roles=dict(resource.roles),
                    references=dict(resource.references),
                    day_views=list(resource.day_views),
                )
            )
        return infos

    async def fields(self, kind: str) -> list[FieldSpec]:
        if kind not in self._field_cache:
            self._field_cache[kind] = await self._build_fields(self._resource(kind))
        return [spec.model_copy(deep=True) for spec in self._field_cache[kind]]

    async def _build_fields(self, resource: _Resource) -> list[FieldSpec]:
        settings: dict[str, Json] = {}
        if resource.kind != Kind.TASK:
            path = f"settings/{resource.path}/fields"
            for item in self._take(await self._get(path), "fields", path, list):
                if isinstance(item, dict) and item.get("name"):
                    settings[str(item["name"])] = item
        specs = []
        for field in FIELDS[resource.kind]:
            setting = settings.pop(field.vendor, {}) if field.codec != "status" else {}
            specs.append(
                FieldSpec(
                    key=field.key,
                    label=str(setting.get("label") or field.label),
                    type=field.type,
                    writable=field.writable,
                    required=(bool(setting.get("required")) or field.required) and field.writable,
                    # a task's link (targetable) sent empty stays as it was: refused instead
                    clearable=field.codec != "target",
                    # whole numbers only: Freshsales refuses 12.5 employees or 40.5 %;
                    # a deal's amount is "decimal (15,2)": KWD 1.005 cannot be kept
                    decimals=0
                    if field.vendor in _WHOLE_NUMBERS
                    else 2
                    if field.type is FieldType.MONEY
                    else None,
                    choices=await self._choices(field, setting),
                )
            )
        specs.extend(self._custom_spec(item) for item in settings.values() if _is_custom(item))
        return specs

    def _custom_spec(self, item: Json) -> FieldSpec:
        kind = _SETTINGS_TYPES.get(str(item.get("type")), FieldType.TEXT)
        return FieldSpec(
            key=str(item["name"]),
            label=str(item.get("label") or item["name"]),
            type=kind,
            writable=True,
            required=bool(item.get("required")),
            custom=True,
            choices=_setting_choices(item, kind),
        )

    async def _choices(self, field: _Field, setting: Json) -> list[Choice]:
        if field.key == "owner":
            return [
                Choice(value=str(u["id"]), label=_name(u)) for u in await self._selector("owners")
            ]
        if field.codec == "currency":
            return [Choice(value=c, label=c) for c in (await self._currencies()).values()]
        if field.codec == "status":
            return [Choice(value=v, label=v.title()) for v in ("open", "won", "lost")]
        if field.key == "stage":
            stages = await self._stage_map()
            names = {str(p["id"]): _name(p) for p in await self._pipeline_list()}
            return [
                Choice(
                    value=sid,
                    label=_name(stage),
                    group=names.get(str(stage.get("deal_pipeline_id"))),
                    color=_stage_color(stage),
                )
                for sid, stage in stages.items()
            ]
        if field.key == "pipeline":
            return [Choice(value=str(p["id"]), label=_name(p)) for p in await self._pipeline_list()]
        if field.key == "outcome":
            return [Choice(value=str(o["id"]), label=_name(o)) for o in await self._task_outcomes()]
        if field.selector:
            items = await self._selector(field.selector)
            if items:
                return [Choice(value=str(i["id"]), label=_name(i)) for i in items if "id" in i]
        return _setting_choices(setting, field.type)

    async def _selector(self, name: str) -> list[Json]:
        if name not in self._selectors:
            path = f"selector/{name}"
            try:
                body = await self.session.json("GET", path)
            except NotFound:
                body = []
            self._selectors[name] = _items(body)
        return self._selectors[name]

    async def _task_outcomes(self) -> list[Json]:
        """The outcomes of the "Task" sales activity type (all outcomes if it has none)."""
        outcomes = [o for o in await self._selector("sales_activity_outcomes") if "id" in o]
        types = await self._selector("sales_activity_types")
        task = next((t for t in types if _name(t).lower() == "task"), None)
        if task is None:
            return outcomes
        mine = [o for o in outcomes if str(o.get("sales_activity_type_id")) == str(task["id"])]
        return mine or outcomes

    async def _currencies(self) -> dict[str, str]:
        """Currency id -> ISO code (loaded once)."""
        await self._selector("currencies")
        return self._currency_codes()

    def _currency_codes(self) -> dict[str, str]:
        out = {}
        for item in self._selectors.get("currencies", []):
            code = item.get("currency_code") or item.get("code") or item.get("name")
            if "id" in item and code:
                out[str(item["id"])] = str(code).upper()
        return out

    async def _pipeline_list(self) -> list[Json]:
        if self._pipelines is None:
            self._pipelines = [p for p in await self._selector("deal_pipelines") if "id" in p]
        return self._pipelines

    async def _stage_map(self) -> dict[str, Json]:
        """Every deal stage by id, read per pipeline so each knows its pipeline."""
        if self._stages is None:
            stages: dict[str, Json] = {}
            for pipeline in await self._pipeline_list():
                path = f"selector/deal_pipelines/{pipeline['id']}/deal_stages"
                for stage in _items(await self.session.json("GET", path)):
                    stages[str(stage["id"])] = {"deal_pipeline_id": pipeline["id"], **stage}
            if not stages:
                for stage in _items(await self.session.json("GET", "selector/deal_stages")):
                    stages[str(stage["id"])] = stage
            self._stages = stages
        return self._stages

    # -- lists ------------------------------------------------------------------------

    async def _filters(self, resource: _Resource) -> list[Json]:
        if resource.path not in self._views:
            path = f"{resource.path}/filters"
            filters = self._take(await self._get(path), "filters", path, list)
            self._views[resource.path] = [f for f in filters if isinstance(f, dict) and "id" in f]
        return self._views[resource.path]

    async def _default_view(self, resource: _Resource) -> str:
        filters = await self._filters(resource)
        if not filters:
            raise BadResponse(self.label, f"Freshsales offered no views of {resource.label}")

        def named(test: Any) -> Json | None:
            return next((f for f in filters if test(str(f.get("name", "")).lower())), None)

        chosen = (
            named(lambda n: n == f"all {resource.label.lower()}")
            or named(lambda n: n.startswith("all "))
            or named(lambda n: n == "recent deals")
            or filters[0]
        )
        return str(chosen["id"])

    async def list_page(self, kind: str, query: Query) -> Page:
        resource = self._resource(kind)
        if query.search.strip() and kind != Kind.TASK:
            return await self._search(resource, query.search.strip())
        page = int(query.cursor or 1)
        params: dict[str, Any] = {"page": page, "per_page": query.per_page}
        if kind == Kind.TASK:
            path = "tasks"
            params["filter"] = query.view or query.filters.get("filter") or "open"
            params["include"] = "owner,targetable"
        else:
            view = query.view or await self._default_view(resource)
            path = f"{resource.path}/view/{view}"
            params["include"] = "owner"
        params.update(self._sort_params(resource, query))
        body = await self._get(path, params)
        items = self._take(body, resource.path, path, list)
        if kind == Kind.DEAL or kind == Kind.TASK:
            await self._prepare(kind)
        records = [self._record(resource, item, body) for item in items]
        total = _int((body.get("meta") or {}).get("total"))
        more = _has_more(page, query.per_page, len(items), body.get("meta") or {})
        if query.updated_since is not None:
            since = query.updated_since
            fresh = [r for r in records if r.updated_at is None or r.updated_at >= since]
            if resource.sorts:  # sorted newest first: stop at the first older record
                more = more and len(fresh) == len(records)
            records = fresh
        return Page(records=records, total=total, next_cursor=str(page + 1) if more else None)

    def _sort_params(self, resource: _Resource, query: Query) -> dict[str, str]:
        if query.updated_since is not None:
            return {"sort": "updated_at", "sort_type": "desc"} if resource.sorts else {}
        sort = resource.sorts.get(query.sort or "")
        if sort is None:
            return {}
        return {"sort": sort, "sort_type": "desc" if query.descending else "asc"}

    async def _search(self, resource: _Resource, text: str) -> Page:
        entity = resource.wrapper
        body = await self.session.json("GET", "search", params={"q": text, "include": entity})
        hits = body if isinstance(body, list) else _items(body)
        records = []
        for hit in hits:
            if not isinstance(hit, dict) or "id" not in hit:
                continue
            if str(hit.get("type", entity)).lower().replace(" ", "_") not in (entity, ""):
                continue
            record = self._record(resource, hit, {})
            records.append(record.model_copy(update={"partial": True}))
        return Page(records=records, total=len(records), next_cursor=None)

    async def _prepare(self, kind: str) -> None:
        """Load the lookups that parsing a record of ``kind`` needs (cached)."""
        if kind == Kind.DEAL:
            await self._currencies()
            await self._stage_map()

    # -- one record ----------------------------------------------------------------------

    async def get(self, kind: str, id: str) -> Record:
        resource = self._resource(kind)
        path = f"{resource.path}/{id}"
        body = await self._get(path, {"include": resource.include})
        await self._prepare(kind)
        return self._record(resource, self._take(body, resource.wrapper, path), body)

    def _record(self, resource: _Resource, item: Json, body: Json) -> Record:
        fields = {f.key: self._read(f, item) for f in FIELDS[resource.kind]}
        if resource.kind == Kind.TASK:
            fields = {k: v for k, v in fields.items() if v is not None or k not in _TARGET_KEYS}
        custom = item.get("custom_field")
        if isinstance(custom, dict):
            fields.update({str(k): v for k, v in custom.items()})
        related = _related(resource, item, body)
        if resource.kind == Kind.CONTACT and fields.get("company") is None:
            accounts = related.get("Accounts") or []
            fields["company"] = accounts[0].id if accounts else None
        owner = _owner_ref(item, body)
        if owner is not None:
            related["Owner"] = [owner]
        return Record(
            vendor=self.name,
            profile=self.profile.name,
            kind=resource.kind,
            id=record_id(self.label, item.get("id"), resource.kind),
            title=_title(resource, item),
            subtitle=self._subtitle(resource, item, fields, related),
            created_at=parse_datetime(item.get("created_at")),
            updated_at=parse_datetime(item.get("updated_at")),
            remote_url=self.record_url(resource.kind, str(item["id"])),
            fields=fields,
            related=related,
            raw=item,
        )

    def _subtitle(
        self, resource: _Resource, item: Json, fields: Json, related: dict[str, list[RelatedRef]]
    ) -> str:
        parts: list[str | None] = []
        if resource.kind == Kind.CONTACT:
            accounts = related.get("Accounts") or []
            parts = [fields.get("job_title"), accounts[0].title if accounts else None]
        elif resource.kind == Kind.LEAD:
            parts = [fields.get("job_title"), fields.get("company")]
        elif resource.kind == Kind.COMPANY:
            parts = [fields.get("city"), fields.get("website")]
        elif resource.kind == Kind.DEAL:
            amount = fields.get("amount")
            account = related.get("Account") or []
            stage = (self._stages or {}).get(str(fields.get("stage")))
            parts = [
                f"{fields.get('currency') or ''} {amount}".strip() if amount else None,
                _name(stage) if stage else None,
                account[0].title if account else None,
            ]
        elif resource.kind == Kind.TASK:
            due = parse_datetime(fields.get("due_at"))
            parts = ["done" if fields.get("done") else None, f"due {due:%Y-%m-%d}" if due else None]
        return " · ".join(p for p in parts if p)

    def _read(self, field: _Field, item: Json) -> Any:
        if field.codec == "target":
            kind, target = _target(item)
            if kind is None or target is None or _TARGET_FIELD.get(kind) != field.key:
                return None
            return target
        value = _dig(item, field.vendor)
        if field.codec == "email" and not value:
            value = _primary_email(item.get("emails"))
        if field.codec == "status01":
            return bool(_int(value))
        if value is None:
            return None
        if field.vendor.endswith("_id"):  # a reference (owner, account, stage...): an id
            _ref_id(value)
        if field.codec == "currency":
            return self._currency_codes().get(str(value), str(value))
        if field.codec == "status":
            return _stage_status((self._stages or {}).get(str(value)))
        return _to_neutral(field.type, value)

    # -- timeline ---------------------------------------------------------------------------

    async def timeline(self, kind: str, id: str) -> list[Activity]:
        resource = self._resource(kind)
        if kind == Kind.TASK:
            return []
        activities: list[Activity] = []
        covered: set[tuple[str, str]] = set()
        path = f"{resource.path}/{id}/activities"
        try:
            body = self._object(
                await self.session.json("GET", path, params={"include": "user"}), path
            )
        except NotFound:
            body = {}
        users = _by_id(body.get("users"))
        types = {str(t["id"]): _name(t) for t in await self._selector("sales_activity_types")}
        for item in body.get("activities") or []:
            if isinstance(item, dict):
                activities.append(_activity(item, users, types))
                if item.get("actionable_type") and item.get("actionable_id") is not None:
                    covered.add((str(item["actionable_type"]).lower(), str(item["actionable_id"])))
        if resource.timeline_include:
            path = f"{resource.path}/{id}"
            record_body = await self._get(path, {"include": resource.timeline_include})
            record = self._take(record_body, resource.wrapper, path)
            activities.extend(_embedded(record, record_body, covered))
        activities.sort(key=lambda a: a.occurred_at, reverse=True)
        return activities

    # -- writes --------------------------------------------------------------------------------

    async def update(self, change: Change) -> Record:
        resource = self._resource(change.ref.kind)
        payload = await self._payload(resource, change.values)
        path = f"{resource.path}/{change.ref.id}"
        body = self._object(
            await self.session.json("PUT", path, json={resource.wrapper: payload}), path
        )
        await self._prepare(resource.kind)
        return self._record(resource, self._take(body, resource.wrapper, path), body)

    async def create(self, kind: str, values: dict[str, Any], idempotency_key: str) -> Record:
        resource = self._resource(kind)
        payload = await self._payload(resource, values)
        await self._prepare(resource.kind)
        # No look-up first: the outbox looks (``find_created``) only when an earlier try
        # may have arrived, so a second identical create made on purpose is sent.
        path = resource.path
        body = self._object(
            await self.session.json("POST", path, json={resource.wrapper: payload}), path
        )
        await self._prepare(resource.kind)
        return self._record(resource, self._take(body, resource.wrapper, path), body)

    async def find_created(
        self, kind: str, values: dict[str, Any], idempotency_key: str
    ) -> Record | None:
        resource = self._resource(kind)
        if _lookup(resource, values) is None:
            raise CannotTell(self.label, f"a {resource.singular} like this cannot be looked up")
        await self._prepare(resource.kind)
        return await self._find_created(resource, values)

    async def _find_created(self, resource: _Resource, values: Mapping[str, Any]) -> Record | None:
        """The record an earlier try of this create made, if its reply was lost."""
        for candidate in await self._lookalikes(resource, values):
            if holds(candidate, values):
                return candidate
        return None

    async def _lookalikes(self, resource: _Resource, values: Mapping[str, Any]) -> list[Record]:
        """Records that may be this create's: a task's siblings, or exact search hits."""
        how = _lookup(resource, values)
        if how is None:
            return []
        if resource.kind == Kind.TASK:
            target = how
            path = f"{RESOURCES[target[0]].path}/{target[1]}"
            body = await self._get(path, {"include": "tasks"})
            tasks = body.get("tasks") or []
            return [self._record(resource, t, body) for t in tasks if isinstance(t, dict)]
        term = how[1]
        hits = await self.session.json(
            "GET", "search", params={"q": term, "include": resource.wrapper}
        )
        exact = [
            str(hit["id"])
            for hit in (hits if isinstance(hits, list) else _items(hits))
            if isinstance(hit, dict)
            and "id" in hit
            and term.lower() in (str(hit.get("name")).lower(), str(hit.get("email")).lower())
        ]
        return [await self.get(resource.kind, id) for id in exact[-LOOKALIKES:]]

    async def delete(self, ref: RecordRef) -> None:
        resource = self._resource(ref.kind)
        await self.session.request("DELETE", f"{resource.path}/{ref.id}", expect_json=False)

    async def add_note(self, ref: RecordRef, text: str) -> Activity:
        resource = self._resource(ref.kind)
        if ref.kind == Kind.TASK:
            raise Rejected(
                self.label, "Freshsales notes belong to leads, contacts, accounts and deals"
            )
        note = {
            "description": text,
            "targetable_type": resource.targetable,
            "targetable_id": _id(ref.id),
        }
        body = self._object(await self.session.json("POST", "notes", json={"note": note}), "notes")
        return _note_activity(self._take(body, "note", "notes"), {}, fallback=None)

    async def _payload(self, resource: _Resource, values: Mapping[str, Any]) -> Json:
        """Neutral values -> the Freshsales attributes, only for the keys given."""
        known = {f.key: f for f in FIELDS[resource.kind]}
        payload: Json = {}
        for key, value in values.items():
            field = known.get(key)
            if field is None:
                if not key.startswith("cf_"):
                    raise Rejected(self.label, f"{resource.singular} has no field {key!r}")
                payload.setdefault("custom_field", {})[key] = value
                continue
            if not field.writable:
                raise Rejected(self.label, f"{field.label} cannot be changed in Freshsales")
            if field.codec == "target":
                if value not in (None, ""):
                    kind = next(k for k, v in _TARGET_FIELD.items() if v == key)
                    payload["targetable_type"] = RESOURCES[kind].targetable
                    payload["targetable_id"] = _id(str(value))
                continue
            _put(payload, field.vendor, await self._to_vendor(field, value))
        return payload

    async def _to_vendor(self, field: _Field, value: Any) -> Any:
        if field.codec == "status01":
            return 1 if value else 0
        if value is None or value == "":
            return None
        if field.codec == "currency":
            ids = {code: cid for cid, code in (await self._currencies()).items()}
            code = str(value).upper()
            if code not in ids:
                raise Rejected(self.label, f"Freshsales has no currency {code}")
            return _id(ids[code])
        return _to_vendor(field.type, value)


# -- helpers: values -------------------------------------------------------------------------

_TARGET_FIELD = {
    Kind.LEAD: "lead",
    Kind.CONTACT: "contact",
    Kind.COMPANY: "company",
    Kind.DEAL: "deal",
}
_TARGET_KEYS = set(_TARGET_FIELD.values())


def _to_neutral(kind: FieldType, value: Any) -> Any:
    """A Freshsales value as the neutral model holds it (see ``crmtui.model``)."""
    match kind:
        case FieldType.MONEY:
            return money(value)
        case FieldType.NUMBER:
            return _number(value)
        case FieldType.DATE:
            day = parse_date(value)
            return day.isoformat() if day else None
        case FieldType.DATETIME:
            return iso(parse_datetime(value))
        case FieldType.BOOL:
            return bool(value)
        case FieldType.CHOICE | FieldType.USER:
            return str(value)
        case FieldType.MULTI_CHOICE:
            parts = value if isinstance(value, list) else str(value).split(";")
            return [str(p).strip() for p in parts if str(p).strip()]
    return value if isinstance(value, str) else str(value)


def _to_vendor(kind: FieldType, value: Any) -> Any:
    """A neutral value as Freshsales takes it (numbers, ``YYYY-MM-DD``, UTC ``...Z``)."""
    match kind:
        case FieldType.MONEY:
            amount = money(value)
            return None if amount is None else _number(Decimal(amount))
        case FieldType.NUMBER:
            return _number(value)
        case FieldType.DATE:
            day = parse_date(value)
            return day.isoformat() if day else None
        case FieldType.DATETIME:
            moment = parse_datetime(value)
            return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
        case FieldType.BOOL:
            return bool(value)
        case FieldType.CHOICE | FieldType.USER:
            return _id(str(value))
        case FieldType.MULTI_CHOICE:
            return ";".join(str(v) for v in value) if isinstance(value, list) else value
    return value


def _number(value: Any) -> int | float | None:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    if not number.is_finite():
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def _int(value: Any) -> int | None:
    number = _number(value) if value is not None else None
    return int(number) if number is not None else None


def _id(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def _primary_email(emails: Any) -> str | None:
    """The primary address of an ``emails`` list (``[{"value", "is_primary"}]``)."""
    if not isinstance(emails, list):
        return None
    found = [e for e in emails if isinstance(e, dict) and e.get("value")]
    found.sort(key=lambda e: not e.get("is_primary"))
    return str(found[0]["value"]) if found else None


def _dig(item: Json, path: str) -> Any:
    value: Any = item
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _put(payload: Json, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        payload = payload.setdefault(part, {})
    payload[last] = value


def _name(item: Mapping[str, Any] | None) -> str:
    if not item:
        return ""
    for key in ("display_name", "name", "value", "currency_code", "title"):
        if item.get(key):
            return str(item[key])
    first_last = f"{item.get('first_name') or ''} {item.get('last_name') or ''}".strip()
    return first_last or str(item.get("email") or item.get("id", ""))


def _title(resource: _Resource, item: Json) -> str:
    if resource.kind == Kind.TASK:
        return str(item.get("title") or f"Task {item['id']}")
    return _name(item) or f"{resource.singular} {item['id']}"


def _items(body: Any) -> list[Json]:
    """The list in a selector-like reply: the body itself or its first list value."""
    if isinstance(body, list):
        return [i for i in body if isinstance(i, dict)]
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, list):
                return [i for i in value if isinstance(i, dict)]
    return []


def _by_id(items: Any) -> dict[str, Json]:
    return {str(i["id"]): i for i in items or [] if isinstance(i, dict) and "id" in i}


def _is_custom(item: Json) -> bool:
    return str(item.get("name", "")).startswith("cf_") or item.get("default") is False


def _setting_choices(item: Json, kind: FieldType) -> list[Choice]:
    if kind not in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        return []
    return [
        Choice(value=str(c.get("id", c.get("value"))), label=str(c.get("value", c.get("id"))))
        for c in item.get("choices") or []
        if isinstance(c, dict)
    ]


def _stage_status(stage: Json | None) -> str | None:
    if stage is None:
        return None
    forecast = str(stage.get("forecast_type") or stage.get("name") or "").strip().lower()
    return _STAGE_STATUS.get(forecast, "open")


def _stage_color(stage: Json) -> str | None:
    return {"won": "green", "lost": "red"}.get(_stage_status(stage) or "")


def _has_more(page: int, per_page: int, count: int, meta: Json) -> bool:
    total_pages = _int(meta.get("total_pages"))
    if total_pages is not None:
        return page < total_pages
    total = _int(meta.get("total"))
    if total is not None:
        return page * per_page < total
    return count >= per_page


# -- helpers: related records ------------------------------------------------------------------


def _target(item: Json) -> tuple[str | None, str | None]:
    target = item.get("targetable")
    if isinstance(target, dict) and target.get("id") is not None:
        kind, tid = target.get("type"), target.get("id")
    else:
        kind, tid = item.get("targetable_type"), item.get("targetable_id")
    if kind is None or tid is None:
        return None, None
    return _TARGET_KINDS.get(str(kind).lower()), _ref_id(tid)


def _ref_id(value: Any) -> str:
    """The id of a record a record refers to: checked as record ids are (``record_id``),
    so ``{"evil": 1}``, ``1.5`` or ``..`` is refused, never stored as text."""
    return record_id("Freshsales", value, "reference to a record")


def _refs(kind: str, items: Any) -> list[RelatedRef]:
    return [
        RelatedRef(kind=kind, id=_ref_id(i["id"]), title=_name(i))
        for i in items or []
        if isinstance(i, dict) and i.get("id") is not None
    ]


def _embedded_list(item: Json, body: Json, key: str, ids_key: str) -> list[Json]:
    """Side-loaded records: nested in the item, or top level (filtered by the item's ids)."""
    nested = item.get(key)
    if isinstance(nested, list):
        return nested
    if isinstance(nested, dict):
        return [nested]
    top = body.get(key)
    if not isinstance(top, list):
        return []
    ids = item.get(ids_key)
    if isinstance(ids, list):
        wanted = {str(i) for i in ids}
        return [t for t in top if isinstance(t, dict) and str(t.get("id")) in wanted]
    return top


def _related(resource: _Resource, item: Json, body: Json) -> dict[str, list[RelatedRef]]:
    related: dict[str, list[RelatedRef]] = {}
    if resource.kind == Kind.DEAL:
        related["Contacts"] = _refs(
            Kind.CONTACT, _embedded_list(item, body, "contacts", "contact_ids")
        )
        accounts = _embedded_list(item, body, "sales_account", "sales_account_id")
        accounts = accounts or _embedded_list(item, body, "sales_accounts", "sales_account_ids")
        wanted = item.get("sales_account_id")
        if wanted is not None:
            accounts = [a for a in accounts if str(a.get("id")) == str(wanted)] or accounts
        related["Account"] = _refs(Kind.COMPANY, accounts[:1])
    elif resource.kind == Kind.COMPANY:
        related["Contacts"] = _refs(
            Kind.CONTACT, _embedded_list(item, body, "contacts", "contact_ids")
        )
        related["Deals"] = _refs(Kind.DEAL, _embedded_list(item, body, "deals", "deal_ids"))
    elif resource.kind == Kind.CONTACT:
        accounts = _embedded_list(item, body, "sales_accounts", "sales_account_ids")
        accounts = sorted(accounts, key=lambda a: not a.get("is_primary"))
        related["Accounts"] = _refs(Kind.COMPANY, accounts)
        related["Deals"] = _refs(Kind.DEAL, _embedded_list(item, body, "deals", "deal_ids"))
    elif resource.kind == Kind.TASK:
        kind, tid = _target(item)
        if kind is not None and tid is not None:
            plural = RESOURCES[kind].path
            found = _by_id(body.get(plural)).get(tid) or {"id": tid}
            title = _name(found) if len(found) > 1 else f"{RESOURCES[kind].singular} {tid}"
            related[RESOURCES[kind].singular] = [RelatedRef(kind=kind, id=tid, title=title)]
    return {label: refs for label, refs in related.items() if refs}


def _owner_ref(item: Json, body: Json) -> RelatedRef | None:
    owner_id = item.get("owner_id")
    owner = item.get("owner") if isinstance(item.get("owner"), dict) else None
    if owner is None and owner_id is not None:
        owner = _by_id(body.get("users")).get(str(owner_id))
    if owner is None:
        return None
    return RelatedRef(kind=Kind.USER, id=_ref_id(owner.get("id", owner_id)), title=_name(owner))


# -- helpers: timeline ---------------------------------------------------------------------------

_ACTION_TYPES = (
    ("STAGE", ActivityType.STAGE_CHANGE),
    ("NOTE", ActivityType.NOTE),
    ("EMAIL", ActivityType.EMAIL),
    ("CALL", ActivityType.CALL),
    ("PHONE", ActivityType.CALL),
    ("APPOINTMENT", ActivityType.MEETING),
    ("MEETING", ActivityType.MEETING),
    ("TASK", ActivityType.TASK_EVENT),
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _activity_type(action: str) -> ActivityType:
    upper = action.upper()
    return next((kind for word, kind in _ACTION_TYPES if word in upper), ActivityType.OTHER)


def _activity(item: Json, users: dict[str, Json], types: Mapping[str, str]) -> Activity:
    """One entry of ``/<resource>/<id>/activities``.

    A sales activity takes its type from its sales activity type (Call, Meeting...),
    named by ``/api/selector/sales_activity_types``.
    """
    action = str(item.get("action_type") or "")
    data = item.get("action_data")
    summary, body = _action_text(action, data)
    kind_word = action
    if isinstance(data, dict) and "SALES_ACTIVITY" in action.upper():
        kind_word = types.get(str(data.get("sales_activity_type_id")), "")
        kind_word = kind_word or str(data.get("sales_activity_type_name") or "")
        summary = str(data.get("title") or summary)
        outcome = data.get("outcome_name")
        if outcome:
            summary = f"{summary} ({outcome})"
    links = []
    kind, tid = _target(item)
    if kind is not None and tid is not None:
        name = item.get("targetable_name") or f"{RESOURCES[kind].singular} {tid}"
        links.append(RelatedRef(kind=kind, id=tid, title=str(name)))
    return Activity(
        id=str(item.get("composite_id") or item.get("id") or f"{action}:{item.get('created_at')}"),
        type=_activity_type(kind_word),
        occurred_at=parse_datetime(item.get("created_at")) or _EPOCH,
        summary=summary,
        body=body,
        who=_name(users.get(str(item.get("user_id")))) if item.get("user_id") is not None else "",
        family=action.lower(),
        links=links,
        raw=item,
    )


def _action_text(action: str, data: Any) -> tuple[str, str]:
    label = action.replace("_", " ").capitalize() or "Activity"
    if isinstance(data, str):
        return html_to_text(data) or label, ""
    if not isinstance(data, dict):
        return label, ""
    if data.get("stage_name"):
        return f"Stage changed to {data['stage_name']}", ""
    head = data.get("title") or data.get("subject") or data.get("name")
    text = html_to_text(str(data.get("description") or data.get("body") or data.get("notes") or ""))
    if head:
        return f"{label}: {head}", text
    return (text.splitlines()[0] if text else label), text


def _embedded(record: Json, body: Json, covered: set[tuple[str, str]]) -> Iterable[Activity]:
    """Notes, tasks and appointments embedded in a record, unless activities had them."""
    users = _by_id(body.get("users"))
    fallback = parse_datetime(record.get("updated_at"))
    for key, kind in (("notes", "note"), ("tasks", "task"), ("appointments", "appointment")):
        for item in _embedded_list(record, body, key, f"{kind}_ids"):
            if not isinstance(item, dict) or (kind, str(item.get("id"))) in covered:
                continue
            if kind == "note":
                yield _note_activity(item, users, fallback)
            elif kind == "task":
                yield _task_activity(item, users, fallback)
            else:
                yield _appointment_activity(item, users, fallback)


def _when(item: Json, keys: Iterable[str], fallback: datetime | None) -> datetime:
    for key in keys:
        moment = parse_datetime(item.get(key))
        if moment is not None:
            return moment
    return fallback or _EPOCH


def _note_activity(item: Json, users: Mapping[str, Json], fallback: datetime | None) -> Activity:
    text = html_to_text(str(item.get("description") or ""))
    return Activity(
        id=f"note:{item.get('id')}",
        type=ActivityType.NOTE,
        occurred_at=_when(item, ("created_at", "updated_at"), fallback),
        summary=text.splitlines()[0] if text else "Note",
        body=text,
        who=_name(users.get(str(item.get("creater_id")))) if item.get("creater_id") else "",
        family="note",
        raw=item,
    )


def _task_activity(item: Json, users: Mapping[str, Json], fallback: datetime | None) -> Activity:
    done = bool(_int(item.get("status")))
    return Activity(
        id=f"task:{item.get('id')}",
        type=ActivityType.TASK_EVENT,
        occurred_at=_when(item, ("updated_at", "created_at", "due_date"), fallback),
        summary=f"Task{' (done)' if done else ''}: {item.get('title') or ''}".rstrip(": "),
        body=html_to_text(str(item.get("description") or "")),
        who=_name(users.get(str(item.get("owner_id")))) if item.get("owner_id") else "",
        family="task",
        links=[
            RelatedRef(
                kind=Kind.TASK, id=_ref_id(item.get("id")), title=str(item.get("title") or "")
            )
        ],
        raw=item,
    )


def _appointment_activity(
    item: Json, users: Mapping[str, Json], fallback: datetime | None
) -> Activity:
    return Activity(
        id=f"appointment:{item.get('id')}",
        type=ActivityType.MEETING,
        occurred_at=_when(item, ("from_date", "created_at"), fallback),
        summary=f"Appointment: {item.get('title') or ''}".rstrip(": "),
        body=html_to_text(str(item.get("description") or "")),
        who=_name(users.get(str(item.get("creater_id")))) if item.get("creater_id") else "",
        family="appointment",
        raw=item,
    )
