"""ActiveCampaign (API v3, deals): pipelines, deals, deal tasks and read-only contacts.

The package: ``transport`` (error bodies, the stray 403 retried once on a read, whole
collections), ``resources`` (the kinds' values and custom fields), ``queries`` (filters,
sorts and views), ``timeline`` (deal activities).

- Auth: ``Api-Token: <key>`` on every request; the profile gives ``account`` (the API
  URL ``https://<account>.api-us1.com/api/3``; ``base_url`` overrides it) and the secret
  ``api_key``.
- Budget: 5 requests/second per account, sent evenly (burst 1) so that the server's
  one-second window is never exceeded; 429 and 503 are retried by the shared client.
- Paging: ``limit``/``offset``; the cursor is the next offset as text.
- Custom fields and secondary contacts are read by ``get`` only (lists would cost one
  request per deal).
- Creates have no idempotency key: a create first looks for the same deal (title,
  value, contact) or task (deal, title, due) and returns it instead of a duplicate.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from crmtui.fields import cents_to_money, html_to_text, iso, money_to_cents, parse_datetime
from crmtui.http import RateBudget, Rejected, VendorSession
from crmtui.http.auth import HeaderTokenAuth
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
from crmtui.vendors.activecampaign.queries import (
    DEAL_FILTER_SPECS,
    DEAL_ORDERS,
    DEAL_VIEWS,
    TASK_FILTER_SPECS,
    TASK_VIEWS,
    deal_params,
    task_params,
)
from crmtui.vendors.activecampaign.resources import (
    FORECAST,
    STATUS,
    STATUS_CODE,
    custom_item,
    custom_spec,
    custom_value,
    person_name,
    ref,
    slug,
    txt,
)
from crmtui.vendors.activecampaign.timeline import DealTimeline
from crmtui.vendors.activecampaign.transport import (
    PAGE_MAX,
    call,
    parse_error,
    read_all,
    total_of,
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


class ActiveCampaign(DealTimeline, Vendor):
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

    # -- configuration (cached) -----------------------------------------------------

    async def _config(self) -> None:
        """Pipelines with their stages, task types, users and deal custom fields."""
        if self._config_loaded:
            return
        body = await call(self.session, "GET", "dealGroups", params={"limit": PAGE_MAX})
        self._groups = {g["id"]: g for g in body.get("dealGroups") or []}
        self._stages = {s["id"]: s for s in body.get("dealStages") or []}
        types = await read_all(self.session, "dealTasktypes", "dealTasktypes")
        self._types = {t["id"]: t for t in types}
        self._meta = {
            m["id"]: m
            for m in await read_all(self.session, "dealCustomFieldMeta", "dealCustomFieldMeta")
        }
        self._users = {u["id"]: u for u in await read_all(self.session, "users", "users")}
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
            self._contacts[cid] = (await call(self.session, "GET", f"contacts/{cid}"))["contact"]
        return self._contacts[cid]

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
                specs.append(custom_spec(meta))
        return specs

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
            params.update(deal_params(query))
        elif kind == Kind.TASK:
            path, plural = "dealTasks", "dealTasks"
            params.update(task_params(query))
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
        body = await call(self.session, "GET", path, params=params)
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
            "name": person_name(row),
            "email": row.get("email"),
            "phone": row.get("phone"),
            "company": txt(row.get("orgid")) or None,
        }
        return self._base(
            Kind.CONTACT,
            row,
            person_name(row),
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
            record = self._task_record(
                (await call(self.session, "GET", f"dealTasks/{id}"))["dealTask"]
            )
            await self._relate_task(record)
            return record
        if kind == Kind.PIPELINE:
            body = await call(self.session, "GET", f"dealGroups/{id}")
            self._stages.update({s["id"]: s for s in body.get("dealStages") or []})
            return self._pipeline_record(body["dealGroup"])
        if kind == Kind.CONTACT:
            record = self._contact_record(
                (await call(self.session, "GET", f"contacts/{id}"))["contact"]
            )
            deals = await call(
                self.session, "GET", f"contacts/{id}/deals", params={"limit": PAGE_MAX}
            )
            record.related["Deals"] = [
                RelatedRef(kind=Kind.DEAL, id=d["id"], title=d["title"])
                for d in deals.get("deals") or []
            ]
            return record
        raise Rejected(self.label, f"ActiveCampaign has no {kind} records here")

    async def _get_deal(self, id: str) -> Record:
        record = self._deal_record((await call(self.session, "GET", f"deals/{id}"))["deal"])
        data = await read_all(
            self.session, "dealCustomFieldData", "dealCustomFieldData", {"filters[dealId]": id}
        )
        record.fields.update(self._custom_values(data))
        secondary = await call(
            self.session, "GET", f"deals/{id}/contactDeals", params={"limit": PAGE_MAX}
        )
        for contact in secondary.get("contacts") or []:
            self._contacts[contact["id"]] = contact
        contacts = []
        primary = await self._contact(record.fields["contact"])
        if primary:
            contacts.append(
                RelatedRef(kind=Kind.CONTACT, id=primary["id"], title=person_name(primary))
            )
        for link in secondary.get("contactDeals") or []:
            person = person_name(self._contacts.get(txt(link["contact"])))
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
            value = custom_value(meta, datum.get("fieldValue"))
            key = "expected_close" if meta["fieldLabel"] == FORECAST else slug(meta["fieldLabel"])
            out[key] = value
        return out

    async def _relate_task(self, record: Record) -> None:
        deal_id = record.fields["deal"]
        if deal_id:
            deal = (await call(self.session, "GET", f"deals/{deal_id}"))["deal"]
            record.related["Deal"] = [RelatedRef(kind=Kind.DEAL, id=deal_id, title=deal["title"])]
        contact = await self._contact(record.fields["contact"])
        if contact:
            ref = RelatedRef(kind=Kind.CONTACT, id=contact["id"], title=person_name(contact))
            record.related["Contact"] = [ref]

    # -- writes -------------------------------------------------------------------------

    async def update(self, change: Change) -> Record:
        await self._config()
        ref = change.ref
        if ref.kind == Kind.DEAL:
            body = {"deal": self._deal_body(change.values)}
            await call(self.session, "PUT", f"deals/{ref.id}", json=body)
        elif ref.kind == Kind.TASK:
            body = {"dealTask": self._task_body(change.values)}
            await call(self.session, "PUT", f"dealTasks/{ref.id}", json=body)
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
                custom.append(custom_item(self._forecast(), value))  # type: ignore[arg-type]
            elif key in metas:
                custom.append(custom_item(metas[key], value))
            else:
                raise Rejected(self.label, f"a deal's {key} cannot be changed in ActiveCampaign")
        if custom:
            body["fields"] = custom
        return body

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
        created = await call(self.session, "POST", "deals", json={"deal": body})
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
        found = await call(self.session, "GET", "deals", params={**params, "limit": PAGE_MAX})
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
        created = await call(self.session, "POST", "dealTasks", json={"dealTask": body})
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
        found = await call(self.session, "GET", "dealTasks", params=params)
        due = parse_datetime(body["duedate"])
        for task in found.get("dealTasks") or []:
            if task.get("title") == body.get("title") and parse_datetime(task["duedate"]) == due:
                return await self.get(Kind.TASK, txt(task["id"]))
        return None

    async def delete(self, ref: RecordRef) -> None:
        paths = {Kind.DEAL: "deals", Kind.TASK: "dealTasks"}
        if ref.kind not in paths:
            raise Rejected(self.label, f"{ref.kind} records cannot be deleted from crmtui")
        await call(self.session, "DELETE", f"{paths[Kind(ref.kind)]}/{ref.id}")

    async def add_note(self, ref: RecordRef, text: str) -> Activity:
        if ref.kind != Kind.DEAL:
            return await super().add_note(ref, text)
        await self._config()
        note = (
            await call(self.session, "POST", f"deals/{ref.id}/notes", json={"note": {"note": text}})
        )["note"]
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
