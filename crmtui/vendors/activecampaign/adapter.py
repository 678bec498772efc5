"""ActiveCampaign (API v3, deals): pipelines, deals, deal tasks and read-only contacts.

- Auth: ``Api-Token: <key>`` on every request; the profile gives ``account`` (the API
  URL ``https://<account>.api-us1.com/api/3``; ``base_url`` overrides it) and the secret
  ``api_key``. AC answers a bad key with 403; it also sends stray 403s under load, so
  one 403 on a read is retried once before it is reported (a write never is).
- Budget: 5 requests/second per account, sent evenly (burst 1) so that the server's
  one-second window is never exceeded; 429 and 503 are retried by the shared client.
- Paging: ``limit``/``offset``; the cursor is the next offset as text. Numbers and ids
  come as strings (``meta.total`` sometimes a number): everything is coerced.
- Deals: ``value`` is cents → ``amount`` money text; currency upper-cased; ``status``
  0/1/2 → open/won/lost; pipeline = ``group``; the close date is the built-in
  "Forecasted Close Date" custom field (``expected_close``); other custom fields are
  ``cf_<label>``. Custom fields and secondary contacts are read by ``get`` only (lists
  would cost one request per deal).
- Deal filters: ``query.filters`` keys pipeline, stage, status, owner, company,
  min_value, max_value (whole dollars, as AC takes them), task_type → ``filters[...]``;
  sorts title, amount, created_at, contact, company, next_task_due → ``orders[...]``.
  ``updated_since`` → ``filters[updated_after]`` (AC has no order by update time, so a
  sync dedupes by id).
- Timeline: ``/dealActivities?deal=ID`` with the deal's notes and tasks for the text,
  newest first. A task's timeline is its deal's ``task`` activities for that task.
- Creates have no idempotency key: a create first looks for the same deal (title,
  value, contact) or task (deal, title, due) and returns it instead of a duplicate.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from crmtui.fields import (
    cents_to_money,
    html_to_text,
    iso,
    money_to_cents,
    parse_date,
    parse_datetime,
)
from crmtui.http import PermissionDenied, RateBudget, Rejected, VendorSession
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
    Setting,
    SettingKind,
    Vendor,
    https_url,
    record_id,
)

Row = dict[str, Any]
# The <account> of https://<account>.api-us1.com (another host: set base_url instead).
ACCOUNT = Setting(
    "account",
    "Account name",
    help="The <account> of https://<account>.api-us1.com",
    kind=SettingKind.HOST_LABEL,
    domains=("api-us1.com",),
    example="acme",
)
STATUS = {"0": "open", "1": "won", "2": "lost"}
STATUS_CODE = {label: code for code, label in STATUS.items()}
FORECAST = "Forecasted Close Date"
PAGE_MAX = 100
DEAL_FILTERS = {
    "pipeline": "group",
    "stage": "stage",
    "status": "status",
    "owner": "owner",
    "company": "organization",
    "min_value": "minimum_value",
    "max_value": "maximum_value",
    "task_type": "tasktype",
}
DEAL_ORDERS = {
    "title": "title",
    "amount": "value",
    "created_at": "cdate",
    "contact": "contact_name",
    "company": "contact_orgname",
    "next_task_due": "next-action",
}
DEAL_VIEWS: dict[str, tuple[str, dict[str, str]]] = {
    "open": ("Open deals", {"filters[status]": "0"}),
    "won": ("Won", {"filters[status]": "1"}),
    "lost": ("Lost", {"filters[status]": "2"}),
    "overdue": ("Overdue tasks", {"filters[status]": "0", "filters[nextdate_range]": "overdue"}),
    "upcoming": ("Tasks this week", {"filters[nextdate_range]": "upcoming"}),
    "no-task": ("No next task", {"filters[status]": "0", "filters[nextdate_range]": "no-task"}),
}
DEAL_FILTER_SPECS = [
    FieldSpec(key="pipeline", label="Pipeline", type=FieldType.CHOICE),
    FieldSpec(key="stage", label="Stage", type=FieldType.CHOICE),
    FieldSpec(key="status", label="Status", type=FieldType.CHOICE),
    FieldSpec(key="owner", label="Owner", type=FieldType.USER),
    FieldSpec(key="min_value", label="Value from", type=FieldType.MONEY, min=0),
    FieldSpec(key="max_value", label="Value up to", type=FieldType.MONEY, min=0),
]
TASK_FILTERS = {"owner": "assignee_userid", "type": "d_tasktypeid", "status": "status"}
TASK_FILTER_SPECS = [
    FieldSpec(key="owner", label="Assignee", type=FieldType.USER),
    FieldSpec(key="type", label="Type", type=FieldType.CHOICE),
    FieldSpec(key="done", label="Done", type=FieldType.BOOL),
]
TASK_VIEWS: dict[str, tuple[str, dict[str, str]]] = {
    "open": ("Open", {"filters[status]": "0"}),
    "overdue": ("Overdue", {"filters[duedate_range]": "overdue"}),
    "upcoming": ("Due this week", {"filters[duedate_range]": "upcoming"}),
    "done": ("Done", {"filters[status]": "1"}),
}
CF_TYPES = {
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
    "dropdown": FieldType.CHOICE,
    "radio": FieldType.CHOICE,
    "multiselect": FieldType.MULTI_CHOICE,
    "checkbox": FieldType.MULTI_CHOICE,
    "currency": FieldType.MONEY,
    "number": FieldType.NUMBER,
}
TASK_ACTIVITY = {"call": ActivityType.CALL, "email": ActivityType.EMAIL}


def parse_error(response: httpx.Response) -> str | None:
    """AC's ``{"message": ...}`` or the titles of a v3 ``errors`` array."""
    body = json_object(response)
    if body is None:
        return None
    if body.get("message"):
        return str(body["message"])
    titles = [str(e.get("title")) for e in body.get("errors") or [] if isinstance(e, dict)]
    return "; ".join(t for t in titles if t) or None


def txt(value: Any) -> str:
    """A v3 value (string, number or null) as text."""
    return "" if value is None else str(value)


def ref(value: Any) -> str:
    """A v3 reference to another record (owner, contact, account, stage...) as text, ""
    for none: checked as record ids are (``record_id``), so ``{"evil": 1}`` or ``1.5``
    is refused, never stored as text."""
    if value is None or value == "":
        return ""
    return record_id("ActiveCampaign", value, "reference to a record")


def slug(label: str) -> str:
    return "cf_" + re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def total_of(body: Row) -> int:
    return int(str((body.get("meta") or {}).get("total") or 0))


class ActiveCampaign(Vendor):
    name = "activecampaign"
    label = "ActiveCampaign"
    settings = (
        ACCOUNT,
        Setting("api_key", "API key", secret=True, help="Settings → Developer"),
    )
    budget = RateBudget(5, 1, burst=1, note="per account; 429 (sometimes 503) past it")
    notes_listed = True  # deal notes show on the deal's timeline

    @classmethod
    def default_base_url(cls, profile: Any) -> str:
        return https_url(ACCOUNT.host(profile.setting("account")), "/api/3/", ACCOUNT.domains)

    def connect(self) -> VendorSession:
        key = self.profile.secret("api_key")
        self._users: dict[str, Row] | None = None
        self._groups: dict[str, Row] = {}
        self._stages: dict[str, Row] = {}
        self._types: dict[str, Row] = {}
        self._meta: dict[str, Row] = {}
        self._contacts: dict[str, Row] = {}
        self._config_loaded = False
        return self.http.session(
            profile=self.profile.name,
            vendor=self.label,
            base_url=self.base_url(),
            auth=HeaderTokenAuth("Api-Token", "{secret}", key),
            limiter=self.limiter,
            parse_error=parse_error,
            secrets=(key,),
        )

    # -- transport ------------------------------------------------------------------

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; a single stray 403 on a read is retried once.

        A write is never sent again here (no automatic re-send of a write): its 403 is
        raised as retryable, so the outbox sends it again later, after its delay. A 403
        proves nothing was applied, so that later try is safe; a 403 that persists shows
        in the outbox with each try.
        """
        try:
            return await self.session.json(method, path, **kwargs)
        except PermissionDenied as exc:
            if method.upper() != "GET":
                exc.retryable = True  # maybe a stray one: the outbox tries again later
                raise
            return await self.session.json(method, path, **kwargs)

    async def _all(self, path: str, plural: str, params: dict[str, Any] | None = None) -> list[Row]:
        """Every page of a collection."""
        rows: list[Row] = []
        while True:
            query = {**(params or {}), "limit": PAGE_MAX, "offset": len(rows)}
            body = await self._call("GET", path, params=query)
            batch = body.get(plural) or []
            rows.extend(batch)
            if not batch or len(rows) >= total_of(body):
                return rows

    # -- configuration (cached) -----------------------------------------------------

    async def _config(self) -> None:
        """Pipelines with their stages, task types, users and deal custom fields."""
        if self._config_loaded:
            return
        body = await self._call("GET", "dealGroups", params={"limit": PAGE_MAX})
        self._groups = {g["id"]: g for g in body.get("dealGroups") or []}
        self._stages = {s["id"]: s for s in body.get("dealStages") or []}
        types = await self._all("dealTasktypes", "dealTasktypes")
        self._types = {t["id"]: t for t in types}
        self._meta = {
            m["id"]: m for m in await self._all("dealCustomFieldMeta", "dealCustomFieldMeta")
        }
        self._users = {u["id"]: u for u in await self._all("users", "users")}
        self._config_loaded = True

    def _stage_order(self) -> list[Row]:
        """Stages in board order: pipeline by pipeline, each by its ``order``."""
        return sorted(
            self._stages.values(), key=lambda s: (int(s["group"]), int(s["order"]), int(s["id"]))
        )

    def _user_name(self, uid: Any) -> str:
        user = (self._users or {}).get(txt(uid))
        if not user:
            return ""
        return f"{user['firstName']} {user['lastName']}".strip() or user["username"]

    def _forecast(self) -> Row | None:
        return next((m for m in self._meta.values() if m["fieldLabel"] == FORECAST), None)

    async def _contact(self, cid: Any) -> Row | None:
        cid = txt(cid)
        if not cid or cid == "0":
            return None
        if cid not in self._contacts:
            self._contacts[cid] = (await self._call("GET", f"contacts/{cid}"))["contact"]
        return self._contacts[cid]

    @staticmethod
    def _person(contact: Row | None) -> str:
        if not contact:
            return ""
        name = f"{contact.get('firstName') or ''} {contact.get('lastName') or ''}".strip()
        return name or txt(contact.get("email"))

    # -- schema -----------------------------------------------------------------------

    async def kinds(self) -> list[KindInfo]:
        return [
            KindInfo(
                kind=Kind.PIPELINE,
                label="Pipelines",
                singular="Pipeline",
                columns=["title", "currency", "stages"],
                sortable=["title"],
                roles={Role.TITLE: "name", Role.CURRENCY: "currency"},
            ),
            KindInfo(
                kind=Kind.DEAL,
                label="Deals",
                singular="Deal",
                columns=[
                    "title",
                    "amount",
                    "stage",
                    "pipeline",
                    "status",
                    "owner",
                    "next_task_due",
                ],
                sortable=list(DEAL_ORDERS),
                roles={
                    Role.TITLE: "name",
                    Role.AMOUNT: "amount",
                    Role.CURRENCY: "currency",
                    Role.PIPELINE: "pipeline",
                    Role.STAGE: "stage",
                    Role.STATUS: "status",
                    Role.OWNER: "owner",
                },
                references={"contact": Kind.CONTACT},
                editable=True,
                creatable=True,
                deletable=True,
                has_timeline=True,
                views={k: label for k, (label, _) in DEAL_VIEWS.items()},
                board_field="stage",
                filters=DEAL_FILTER_SPECS,
            ),
            KindInfo(
                kind=Kind.TASK,
                label="Tasks",
                singular="Task",
                columns=["title", "type", "due_at", "done", "owner"],
                sortable=[],
                roles={
                    Role.TITLE: "subject",
                    Role.DUE: "due_at",
                    Role.DONE: "done",
                    Role.OWNER: "owner",
                },
                references={"deal": Kind.DEAL, "contact": Kind.CONTACT},
                day_views=["overdue"],
                editable=True,
                creatable=True,
                deletable=True,
                has_timeline=True,
                views={k: label for k, (label, _) in TASK_VIEWS.items()},
                filters=TASK_FILTER_SPECS,
            ),
            KindInfo(
                kind=Kind.CONTACT,
                label="Contacts",
                singular="Contact",
                columns=["title", "email", "phone"],
                sortable=[],
                roles={Role.TITLE: "name"},
            ),
        ]

    async def fields(self, kind: str) -> list[FieldSpec]:
        await self._config()
        if kind == Kind.DEAL:
            return self._deal_specs()
        if kind == Kind.TASK:
            return self._task_specs()
        if kind == Kind.PIPELINE:
            return [
                FieldSpec(key="name", label="Title"),
                FieldSpec(key="currency", label="Currency"),
                FieldSpec(key="stages", label="Stages"),
            ]
        if kind == Kind.CONTACT:
            return [
                FieldSpec(key=key, label=label)
                for key, label in (
                    ("first_name", "First name"),
                    ("last_name", "Last name"),
                    ("name", "Name"),
                    ("email", "Email"),
                    ("phone", "Phone"),
                    ("company", "Account"),
                )
            ]
        raise Rejected(self.label, f"ActiveCampaign has no {kind} records here")

    def _user_choices(self) -> list[Choice]:
        return [Choice(value=uid, label=self._user_name(uid)) for uid in (self._users or {})]

    def _deal_specs(self) -> list[FieldSpec]:
        forecast = self._forecast()
        specs = [
            FieldSpec(key="name", label="Title", writable=True, required=True, max_length=255),
            # sent empty, a deal's value stays as it was: refused instead (type 0)
            FieldSpec(
                key="amount",
                label="Value",
                type=FieldType.MONEY,
                writable=True,
                min=0,
                clearable=False,
                decimals=2,  # `value` is integer cents: KWD 1.005 cannot be kept
            ),
            FieldSpec(key="currency", label="Currency", writable=True, max_length=3),
            FieldSpec(
                key="pipeline",
                label="Pipeline",
                type=FieldType.CHOICE,
                writable=True,
                choices=[Choice(value=g["id"], label=g["title"]) for g in self._groups.values()],
            ),
            FieldSpec(
                key="stage",
                label="Stage",
                type=FieldType.CHOICE,
                writable=True,
                choices=[
                    Choice(value=s["id"], label=s["title"], group=s["group"])
                    for s in self._stage_order()
                ],
            ),
            FieldSpec(
                key="status",
                label="Status",
                type=FieldType.CHOICE,
                writable=True,
                choices=[Choice(value=v, label=v.title()) for v in STATUS.values()],
            ),
            FieldSpec(
                key="owner",
                label="Owner",
                type=FieldType.USER,
                writable=True,
                choices=self._user_choices(),
            ),
            FieldSpec(
                key="probability",
                label="Probability (%)",
                type=FieldType.NUMBER,
                writable=True,
                min=0,
                max=100,
                decimals=0,  # `percent` is an integer
                clearable=False,  # ActiveCampaign: "The deal percent is not valid"
            ),
            FieldSpec(
                key="expected_close",
                label="Forecasted close date",
                type=FieldType.DATE,
                writable=forecast is not None,
            ),
            FieldSpec(key="description", label="Description", writable=True),
            FieldSpec(key="contact", label="Primary contact"),
            FieldSpec(key="company", label="Account"),
            FieldSpec(key="next_task_due", label="Next task due", type=FieldType.DATETIME),
            FieldSpec(key="win_probability", label="Win probability", type=FieldType.NUMBER),
        ]
        for meta in self._meta.values():
            if meta["fieldLabel"] != FORECAST:
                specs.append(self._custom_spec(meta))
        return specs

    @staticmethod
    def _custom_spec(meta: Row) -> FieldSpec:
        options = meta.get("fieldOptions") or []
        return FieldSpec(
            key=slug(meta["fieldLabel"]),
            label=meta["fieldLabel"],
            type=CF_TYPES.get(meta["fieldType"], FieldType.TEXT),
            writable=True,
            required=bool(int(meta.get("isRequired") or 0)),
            custom=True,
            choices=[Choice(value=o, label=o) for o in options],
            decimals=2 if meta["fieldType"] == "currency" else None,  # cents, as `value`
        )

    def _task_specs(self) -> list[FieldSpec]:
        active = [t for t in self._types.values() if txt(t.get("status")) != "1"]
        return [
            # sent empty, a task's title and due date stay as they were: refused instead
            FieldSpec(key="subject", label="Title", writable=True, clearable=False),
            FieldSpec(key="body", label="Note", writable=True),
            FieldSpec(
                key="due_at", label="Due", type=FieldType.DATETIME, writable=True, clearable=False
            ),
            FieldSpec(key="done", label="Done", type=FieldType.BOOL, writable=True),
            FieldSpec(
                key="type",
                label="Type",
                type=FieldType.CHOICE,
                writable=True,
                choices=[Choice(value=t["id"], label=t["title"]) for t in active],
            ),
            FieldSpec(
                key="owner",
                label="Assignee",
                type=FieldType.USER,
                writable=True,
                choices=self._user_choices(),
            ),
            FieldSpec(key="deal", label="Deal"),
            FieldSpec(key="contact", label="Contact"),
            FieldSpec(key="completed_at", label="Done at", type=FieldType.DATETIME),
        ]

    # -- reads ------------------------------------------------------------------------

    async def list_page(self, kind: str, query: Query) -> Page:
        await self._config()
        offset = int(query.cursor or 0)
        params: dict[str, Any] = {"limit": min(max(query.per_page, 1), PAGE_MAX), "offset": offset}
        if kind == Kind.DEAL:
            path, plural = "deals", "deals"
            params.update(self._deal_params(query))
        elif kind == Kind.TASK:
            path, plural = "dealTasks", "dealTasks"
            params.update(self._task_params(query))
        elif kind == Kind.PIPELINE:
            path, plural = "dealGroups", "dealGroups"
            if query.search:
                params["filters[title]"] = query.search
            if query.sort == "title":
                params["orders[title]"] = "DESC" if query.descending else "ASC"
        elif kind == Kind.CONTACT:
            path, plural = "contacts", "contacts"
            if query.search:
                params["search"] = query.search
        else:
            raise Rejected(self.label, f"ActiveCampaign has no {kind} records here")
        body = await self._call("GET", path, params=params)
        rows = body.get(plural) or []
        if kind == Kind.PIPELINE:
            self._stages.update({s["id"]: s for s in body.get("dealStages") or []})
        total = total_of(body)
        records = [self._record(kind, row) for row in rows]
        following = offset + len(rows)
        return Page(
            records=records,
            total=total,
            next_cursor=str(following) if rows and following < total else None,
        )

    def _deal_params(self, query: Query) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if query.view:
            params.update(self._view(DEAL_VIEWS, query.view))
        if query.search:
            params["filters[search]"] = query.search
        for key, value in query.filters.items():
            if key not in DEAL_FILTERS:
                raise Rejected(self.label, f"deals cannot be filtered by {key}")
            if key == "status":
                value = STATUS_CODE.get(value, value)
            elif key in ("min_value", "max_value"):
                value = str(int(Decimal(str(value))))
            params[f"filters[{DEAL_FILTERS[key]}]"] = value
        if query.updated_since:
            params["filters[updated_after]"] = iso(query.updated_since)
        if query.sort:
            if query.sort not in DEAL_ORDERS:
                raise Rejected(self.label, f"deals cannot be sorted by {query.sort}")
            params[f"orders[{DEAL_ORDERS[query.sort]}]"] = "DESC" if query.descending else "ASC"
        return params

    def _task_params(self, query: Query) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if query.view:
            params.update(self._view(TASK_VIEWS, query.view))
        if query.search:
            params["filters[title]"] = query.search
        for key, value in query.filters.items():
            if key in ("deal", "contact"):
                params["filters[reltype]"] = "Deal" if key == "deal" else "Subscriber"
                params["filters[relid]"] = value
            elif key == "done":
                params["filters[status]"] = "1" if str(value).lower() in ("1", "true") else "0"
            elif key in TASK_FILTERS:
                params[f"filters[{TASK_FILTERS[key]}]"] = value
            else:
                raise Rejected(self.label, f"tasks cannot be filtered by {key}")
        return params

    def _view(self, views: dict[str, tuple[str, dict[str, str]]], view: str) -> dict[str, str]:
        if view not in views:
            raise Rejected(self.label, f"there is no view {view!r}")
        return views[view][1]

    def _record(self, kind: str, row: Row) -> Record:
        if kind == Kind.DEAL:
            return self._deal_record(row)
        if kind == Kind.TASK:
            return self._task_record(row)
        if kind == Kind.PIPELINE:
            return self._pipeline_record(row)
        return self._contact_record(row)

    def _base(self, kind: str, row: Row, title: str, **extra: Any) -> Record:
        return Record(
            vendor=self.name,
            profile=self.profile.name,
            kind=kind,
            id=(rid := record_id(self.label, row.get("id"), kind)),
            title=title,
            remote_url=self.record_url(kind, rid),
            raw=row,
            **extra,
        )

    def _deal_record(self, row: Row) -> Record:
        amount = cents_to_money(row.get("value") or 0)
        currency = txt(row.get("currency")).upper()
        stage = self._stages.get(txt(row.get("stage")), {})
        fields = {
            "name": row.get("title"),
            "amount": amount,
            "currency": currency,
            "pipeline": ref(row.get("group")),
            "stage": ref(row.get("stage")),
            "status": STATUS.get(txt(row.get("status")), "open"),
            "probability": int(txt(row.get("percent")) or 0),
            "owner": ref(row.get("owner")) or None,
            "contact": ref(row.get("contact")) or None,
            "company": ref(row.get("account")) or None,
            "description": row.get("description") or "",
            "next_task_due": iso(parse_datetime(row.get("nextdate"))),
            "win_probability": row.get("winProbability"),
        }
        subtitle = " · ".join(p for p in (f"{amount} {currency}", stage.get("title", "")) if p)
        return self._base(
            Kind.DEAL,
            row,
            txt(row.get("title")),
            subtitle=subtitle,
            created_at=parse_datetime(row.get("cdate")),
            updated_at=parse_datetime(row.get("mdate")),
            fields=fields,
        )

    def _task_record(self, row: Row) -> Record:
        kind_title = self._types.get(txt(row.get("dealTasktype")), {}).get("title", "Task")
        note = txt(row.get("note"))
        subject = txt(row.get("title")) or (note.splitlines()[0] if note else kind_title)
        is_deal = row.get("reltype") == "Deal"
        due = parse_datetime(row.get("duedate"))
        fields = {
            "subject": subject,
            "body": html_to_text(note),
            "due_at": iso(due),
            "done": int(txt(row.get("status")) or 0) == 1,
            "type": txt(row.get("dealTasktype")),
            "owner": ref(row.get("assignee")) or None,
            "deal": ref(row.get("relid")) if is_deal else None,
            "contact": None if is_deal else ref(row.get("relid")),
            "completed_at": iso(parse_datetime(row.get("donedate"))),
        }
        subtitle = f"{kind_title} · due {due:%Y-%m-%d %H:%M}" if due else kind_title
        return self._base(
            Kind.TASK,
            row,
            subject,
            subtitle=subtitle,
            created_at=parse_datetime(row.get("cdate")),
            updated_at=parse_datetime(row.get("udate")),
            fields=fields,
        )

    def _pipeline_record(self, row: Row) -> Record:
        stages = [self._stages[s] for s in row.get("stages") or [] if s in self._stages]
        stages.sort(key=lambda s: int(s["order"]))
        fields = {
            "name": row.get("title"),
            "currency": txt(row.get("currency")).upper(),
            "stages": " → ".join(s["title"] for s in stages),
        }
        return self._base(
            Kind.PIPELINE,
            row,
            txt(row.get("title")),
            subtitle=f"{len(stages)} stages",
            created_at=parse_datetime(row.get("cdate")),
            updated_at=parse_datetime(row.get("udate")),
            fields=fields,
        )

    def _contact_record(self, row: Row) -> Record:
        fields = {
            "first_name": row.get("firstName"),
            "last_name": row.get("lastName"),
            "name": self._person(row),
            "email": row.get("email"),
            "phone": row.get("phone"),
            "company": txt(row.get("orgid")) or None,
        }
        return self._base(
            Kind.CONTACT,
            row,
            self._person(row),
            subtitle=txt(row.get("email")),
            created_at=parse_datetime(row.get("cdate")),
            updated_at=parse_datetime(row.get("udate")),
            fields=fields,
        )

    async def get(self, kind: str, id: str) -> Record:
        await self._config()
        if kind == Kind.DEAL:
            return await self._get_deal(id)
        if kind == Kind.TASK:
            record = self._task_record((await self._call("GET", f"dealTasks/{id}"))["dealTask"])
            await self._relate_task(record)
            return record
        if kind == Kind.PIPELINE:
            body = await self._call("GET", f"dealGroups/{id}")
            self._stages.update({s["id"]: s for s in body.get("dealStages") or []})
            return self._pipeline_record(body["dealGroup"])
        if kind == Kind.CONTACT:
            record = self._contact_record((await self._call("GET", f"contacts/{id}"))["contact"])
            deals = await self._call("GET", f"contacts/{id}/deals", params={"limit": PAGE_MAX})
            record.related["Deals"] = [
                RelatedRef(kind=Kind.DEAL, id=d["id"], title=d["title"])
                for d in deals.get("deals") or []
            ]
            return record
        raise Rejected(self.label, f"ActiveCampaign has no {kind} records here")

    async def _get_deal(self, id: str) -> Record:
        record = self._deal_record((await self._call("GET", f"deals/{id}"))["deal"])
        data = await self._all(
            "dealCustomFieldData", "dealCustomFieldData", {"filters[dealId]": id}
        )
        record.fields.update(self._custom_values(data))
        secondary = await self._call("GET", f"deals/{id}/contactDeals", params={"limit": PAGE_MAX})
        for contact in secondary.get("contacts") or []:
            self._contacts[contact["id"]] = contact
        contacts = []
        primary = await self._contact(record.fields["contact"])
        if primary:
            contacts.append(
                RelatedRef(kind=Kind.CONTACT, id=primary["id"], title=self._person(primary))
            )
        for link in secondary.get("contactDeals") or []:
            person = self._person(self._contacts.get(txt(link["contact"])))
            contacts.append(RelatedRef(kind=Kind.CONTACT, id=ref(link["contact"]), title=person))
        record.related["Contacts"] = contacts
        pipeline = self._groups.get(record.fields["pipeline"])
        if pipeline:
            record.related["Pipeline"] = [
                RelatedRef(kind=Kind.PIPELINE, id=pipeline["id"], title=pipeline["title"])
            ]
        return record

    def _custom_values(self, data: list[Row]) -> dict[str, Any]:
        """Custom field values by key; every defined field is present (None if unset)."""
        out: dict[str, Any] = {
            slug(m["fieldLabel"]): None for m in self._meta.values() if m["fieldLabel"] != FORECAST
        }
        out["expected_close"] = None
        for datum in data:
            meta = self._meta.get(txt(datum.get("customFieldId")))
            if meta is None:
                continue
            value = self._custom_value(meta, datum.get("fieldValue"))
            key = "expected_close" if meta["fieldLabel"] == FORECAST else slug(meta["fieldLabel"])
            out[key] = value
        return out

    @staticmethod
    def _custom_value(meta: Row, value: Any) -> Any:
        if value in (None, ""):
            return None
        kind = meta["fieldType"]
        if kind == "date":
            day = parse_date(value)
            return day.isoformat() if day else None
        if kind == "datetime":
            return iso(parse_datetime(value))
        if kind == "currency":
            return cents_to_money(value)
        if kind == "number":
            number = Decimal(str(value))
            return int(number) if number == number.to_integral_value() else float(number)
        if kind in ("multiselect", "checkbox"):
            return value if isinstance(value, list) else txt(value).strip("|").split("||")
        return txt(value)

    async def _relate_task(self, record: Record) -> None:
        deal_id = record.fields["deal"]
        if deal_id:
            deal = (await self._call("GET", f"deals/{deal_id}"))["deal"]
            record.related["Deal"] = [RelatedRef(kind=Kind.DEAL, id=deal_id, title=deal["title"])]
        contact = await self._contact(record.fields["contact"])
        if contact:
            ref = RelatedRef(kind=Kind.CONTACT, id=contact["id"], title=self._person(contact))
            record.related["Contact"] = [ref]

    # -- timeline -----------------------------------------------------------------------

    async def timeline(self, kind: str, id: str) -> list[Activity]:
        await self._config()
        if kind == Kind.DEAL:
            activities = await self._all("dealActivities", "dealActivities", {"deal": id})
            notes = await self._all(f"deals/{id}/notes", "notes")
            tasks = await self._all(
                "dealTasks", "dealTasks", {"filters[reltype]": "Deal", "filters[relid]": id}
            )
        elif kind == Kind.TASK:
            task = (await self._call("GET", f"dealTasks/{id}"))["dealTask"]
            if task.get("reltype") != "Deal":
                return []
            params = {"deal": task["relid"], "filters[data_type]": "task", "filters[data_id]": id}
            activities = await self._all("dealActivities", "dealActivities", params)
            notes, tasks = [], [task]
        else:
            return []
        await self._name_contacts(activities)
        by_note = {txt(n["id"]): n for n in notes}
        by_task = {txt(t["id"]): t for t in tasks}
        out = [self._activity(a, by_note, by_task) for a in activities]
        out.sort(key=lambda a: (a.occurred_at, int(a.id)), reverse=True)
        return out

    async def _name_contacts(self, activities: list[Row]) -> None:
        for activity in activities:
            if activity.get("dataType") in ("contact", "email"):
                await self._contact(activity.get("dataId"))

    def _activity(self, row: Row, notes: dict[str, Row], tasks: dict[str, Row]) -> Activity:
        kind, summary, body, family, links = self._describe(row, notes, tasks)
        return Activity(
            id=record_id(self.label, row.get("id"), "timeline entry"),
            type=kind,
            occurred_at=parse_datetime(row.get("cdate")) or datetime.now(UTC),
            summary=summary,
            body=body,
            who=self._user_name(row.get("userid")),
            family=family,
            links=links,
            raw=row,
        )

    def _describe(
        self, row: Row, notes: dict[str, Row], tasks: dict[str, Row]
    ) -> tuple[ActivityType, str, str, str, list[RelatedRef]]:
        """(type, summary, body, family, links) of one deal activity."""
        data_type, action = txt(row.get("dataType")), txt(row.get("dataAction"))
        new, old = txt(row.get("dataId")), txt(row.get("dataOldval"))
        if data_type == "" and action == "add":
            return ActivityType.OTHER, "Deal created", "", "changes", []
        if data_type == "d_stageid":
            summary = f"Stage: {self._stage_title(old)} → {self._stage_title(new)}"
            return ActivityType.STAGE_CHANGE, summary, "", "changes", []
        if data_type == "status":
            summary = f"Marked {STATUS.get(new, new)}" if new != "0" else "Reopened"
            return ActivityType.STAGE_CHANGE, summary, "", "changes", []
        if data_type == "userid":
            summary = f"Owner: {self._user_name(old) or '—'} → {self._user_name(new)}"
            return ActivityType.OTHER, summary, "", "changes", []
        if data_type == "value":
            summary = f"Value: {cents_to_money(old or 0)} → {cents_to_money(new or 0)}"
            return ActivityType.OTHER, summary, "", "changes", []
        if data_type == "title":
            return ActivityType.OTHER, f"Renamed to {new}", f"Was: {old}", "changes", []
        if data_type == "note":
            body = html_to_text(txt(notes.get(new, {}).get("note")))
            first = body.splitlines()[0] if body else "Note"
            return ActivityType.NOTE, first[:80], body, "notes", []
        if data_type == "task":
            return self._task_activity(action, tasks.get(new), new)
        if data_type in ("contact", "email", "connection_email"):
            person = self._person(self._contacts.get(new))
            ref = [RelatedRef(kind=Kind.CONTACT, id=new, title=person)] if person else []
            if data_type == "contact":
                return ActivityType.OTHER, f"Contact added: {person}", "", "contacts", ref
            return ActivityType.EMAIL, f"Email sent to {person}".strip(), "", "emails", ref
        return ActivityType.OTHER, f"{data_type or 'deal'} {action}".strip(), "", "other", []

    def _task_activity(
        self, action: str, task: Row | None, task_id: str
    ) -> tuple[ActivityType, str, str, str, list[RelatedRef]]:
        record = self._task_record(task) if task else None
        title = record.title if record else f"task {task_id}"
        kind_title = record.subtitle.split(" · ")[0] if record else "Task"
        links = [RelatedRef(kind=Kind.TASK, id=task_id, title=title)]
        body = record.fields["body"] if record else ""
        if action == "complete":
            lowered = kind_title.lower()
            if lowered in ("meeting", "lunch"):
                kind = ActivityType.MEETING
            else:
                kind = TASK_ACTIVITY.get(lowered, ActivityType.TASK_EVENT)
            return kind, f"{kind_title} done: {title}", body, "tasks", links
        verbs = {"add": "added", "update": "updated", "delete": "deleted"}
        summary = f"{kind_title} {verbs.get(action, action)}: {title}"
        return ActivityType.TASK_EVENT, summary, body, "tasks", links

    def _stage_title(self, sid: str) -> str:
        return self._stages.get(sid, {}).get("title", f"stage {sid}" if sid else "—")

    # -- writes -------------------------------------------------------------------------

    async def update(self, change: Change) -> Record:
        await self._config()
        ref = change.ref
        if ref.kind == Kind.DEAL:
            body = {"deal": self._deal_body(change.values)}
            await self._call("PUT", f"deals/{ref.id}", json=body)
        elif ref.kind == Kind.TASK:
            body = {"dealTask": self._task_body(change.values)}
            await self._call("PUT", f"dealTasks/{ref.id}", json=body)
        else:
            raise Rejected(self.label, f"{ref.kind} records cannot be edited in ActiveCampaign")
        return await self.get(ref.kind, ref.id)

    def _deal_body(self, values: dict[str, Any]) -> Row:
        body: Row = {}
        custom: list[Row] = []
        metas = {slug(m["fieldLabel"]): m for m in self._meta.values()}
        for key, value in values.items():
            if key == "name":
                body["title"] = value
            elif key == "amount":
                body["value"] = money_to_cents(value)
            elif key == "currency":
                body["currency"] = txt(value).lower()
            elif key == "stage":
                body["stage"] = value
                stage = self._stages.get(txt(value))
                if stage:
                    body["group"] = stage["group"]
            elif key == "pipeline":
                body.setdefault("group", value)
            elif key == "status":
                body["status"] = int(STATUS_CODE.get(txt(value), txt(value)))
            elif key == "owner":
                body["owner"] = value
            elif key == "probability":
                body["percent"] = value
            elif key == "description":
                body["description"] = value or ""
            elif key == "expected_close" and self._forecast():
                custom.append(self._custom_item(self._forecast(), value))  # type: ignore[arg-type]
            elif key in metas:
                custom.append(self._custom_item(metas[key], value))
            else:
                raise Rejected(self.label, f"a deal's {key} cannot be changed in ActiveCampaign")
        if custom:
            body["fields"] = custom
        return body

    @staticmethod
    def _custom_item(meta: Row, value: Any) -> Row:
        if meta["fieldType"] == "currency":
            value = money_to_cents(value)
        elif value is None:
            value = ""
        elif not isinstance(value, list):
            value = str(value)
        return {"customFieldId": int(meta["id"]), "fieldValue": value}

    def _task_body(self, values: dict[str, Any]) -> Row:
        body: Row = {}
        for key, value in values.items():
            if key == "subject":
                body["title"] = value
            elif key == "body":
                body["note"] = value or ""
            elif key == "due_at":
                body["duedate"] = value
            elif key == "done":
                body["status"] = 1 if value else 0
            elif key == "type":
                body["dealTasktype"] = value
            elif key == "owner":
                body["assignee"] = value
            else:
                raise Rejected(self.label, f"a task's {key} cannot be changed in ActiveCampaign")
        return body

    async def create(self, kind: str, values: dict[str, Any], idempotency_key: str) -> Record:
        await self._config()
        if kind == Kind.DEAL:
            return await self._create_deal(values)
        if kind == Kind.TASK:
            return await self._create_task(values)
        raise Rejected(self.label, f"{kind} records cannot be created from crmtui")

    async def find_created(
        self, kind: str, values: dict[str, Any], idempotency_key: str
    ) -> Record | None:
        await self._config()
        if kind == Kind.DEAL and values.get("name"):
            existing = await self._created_deal(self._new_deal_body(values))
            return await self.get(Kind.DEAL, existing) if existing else None
        if kind == Kind.TASK and values.get("due_at"):
            body = self._new_task_body(values)
            return await self._created_task(body)
        # A deal without a title has nothing to match it by, nor a task without a due
        # date (each try gets "tomorrow").
        raise CannotTell(self.label, f"a {kind} like this cannot be looked up")

    async def _create_deal(self, values: dict[str, Any]) -> Record:
        body = self._new_deal_body(values)
        existing = await self._created_deal(body)
        if existing:
            return await self.get(Kind.DEAL, existing)
        created = await self._call("POST", "deals", json={"deal": body})
        return await self.get(Kind.DEAL, txt(created["deal"]["id"]))

    def _new_deal_body(self, values: dict[str, Any]) -> Row:
        """The body of a new deal, with the pipeline and currency defaults filled in."""
        values = dict(values)
        extra = {k: values.pop(k) for k in ("contact", "company") if k in values}
        body = self._deal_body(values)
        if "stage" not in body and "group" not in body and self._groups:
            body["group"] = next(iter(self._groups))
        group = self._groups.get(txt(body.get("group")), {})
        body.setdefault("currency", txt(group.get("currency")) or "usd")
        body.setdefault("value", 0)
        if extra.get("contact"):
            body["contact"] = extra["contact"]
        if extra.get("company"):
            body["account"] = extra["company"]
        return body

    async def _created_deal(self, body: Row) -> str | None:
        """A deal this create already made: same title, value and contact."""
        if not body.get("title"):
            return None
        params = {"filters[title]": body["title"]}
        found = await self._call("GET", "deals", params={**params, "limit": PAGE_MAX})
        for deal in found.get("deals") or []:
            if (
                deal["title"] == body["title"]
                and txt(deal["value"]) == txt(body.get("value"))
                and txt(deal.get("contact")) == txt(body.get("contact") or deal.get("contact"))
            ):
                return txt(deal["id"])
        return None

    async def _create_task(self, values: dict[str, Any]) -> Record:
        body = self._new_task_body(values)
        earlier = await self._created_task(body)
        if earlier is not None:
            return earlier
        created = await self._call("POST", "dealTasks", json={"dealTask": body})
        return await self.get(Kind.TASK, txt(created["dealTask"]["id"]))

    def _new_task_body(self, values: dict[str, Any]) -> Row:
        values = dict(values)
        deal, contact = values.pop("deal", None), values.pop("contact", None)
        if not deal and not contact:
            raise Rejected(self.label, "a task needs a deal or a contact")
        body = self._task_body(values)
        body["relid"] = deal or contact
        body["ownerType"] = "deal" if deal else "contact"
        active = [t["id"] for t in self._types.values() if txt(t.get("status")) != "1"]
        body.setdefault("dealTasktype", active[0] if active else "1")
        body.setdefault("duedate", iso(datetime.now(UTC) + timedelta(days=1)))
        return body

    async def _created_task(self, body: Row) -> Record | None:
        """A task this create already made: same title and due date on the same record."""
        params = {
            "filters[relid]": body["relid"],
            "filters[title]": body.get("title") or "",
            "limit": PAGE_MAX,
        }
        found = await self._call("GET", "dealTasks", params=params)
        due = parse_datetime(body["duedate"])
        for task in found.get("dealTasks") or []:
            if task.get("title") == body.get("title") and parse_datetime(task["duedate"]) == due:
                return await self.get(Kind.TASK, txt(task["id"]))
        return None

    async def delete(self, ref: RecordRef) -> None:
        paths = {Kind.DEAL: "deals", Kind.TASK: "dealTasks"}
        if ref.kind not in paths:
            raise Rejected(self.label, f"{ref.kind} records cannot be deleted from crmtui")
        await self._call("DELETE", f"{paths[Kind(ref.kind)]}/{ref.id}")

    async def add_note(self, ref: RecordRef, text: str) -> Activity:
        if ref.kind != Kind.DEAL:
            return await super().add_note(ref, text)
        await self._config()
        note = (await self._call("POST", f"deals/{ref.id}/notes", json={"note": {"note": text}}))[
            "note"
        ]
        body = html_to_text(txt(note.get("note")))
        return Activity(
            id=f"note-{note['id']}",
            type=ActivityType.NOTE,
            occurred_at=parse_datetime(note.get("cdate")) or datetime.now(UTC),
            summary=(body.splitlines() or ["Note"])[0][:80],
            body=body,
            who=self._user_name(note.get("userid")),
            family="notes",
            raw=note,
        )

    def record_url(self, kind: str, id: str) -> str | None:
        account = self.profile.setting("account")
        pages = {Kind.DEAL: "deals", Kind.CONTACT: "contacts"}
        if not account or kind not in pages:
            return None
        try:
            name = ACCOUNT.host(account).removesuffix(".api-us1.com")
            path = f"/app/{pages[Kind(kind)]}/{id}"
            return https_url(f"{name}.activehosted.com", path, ("activehosted.com",))
        except ValueError:
            return None
