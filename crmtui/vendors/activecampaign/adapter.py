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

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from crmtui.fields import html_to_text, iso, parse_datetime
from crmtui.http import NotFound, RateBudget, Rejected
from crmtui.model import (
    Activity,
    ActivityType,
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
from crmtui.vendors.activecampaign.calls import CALLS, delete_call, log_call
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
    RESOURCES,
    USERS,
    custom_field_spec,
    custom_item,
    custom_value,
    describe,
    person_name,
    ref,
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
from crmtui.vendors.auth import Connection, HeaderToken
from crmtui.vendors.base import (
    CannotTell,
    Setting,
    SettingKind,
    Vendor,
    https_url,
    record_id,
)
from crmtui.vendors.mapping import (
    Anchor,
    Context,
    Logged,
    Notes,
    Resource,
    number,
    path_id,
    slug_key,
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


# What a stage must hold to be used: its pipeline, title and place (numbers where sorted).
STAGE_KEYS = ("group", "title", "order")


def usable(rows: Any, *needed: str) -> dict[str, Row]:
    """A lookup reply's rows by id text, leaving out a row that is not an object, has no
    usable id or lacks one of ``needed`` (``group``/``order`` must be numbers): one
    malformed stage or user must not break every list of the session (decision: a
    deal in a stage left out shows its stage id, as an unknown stage does)."""
    found: dict[str, Row] = {}
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or not isinstance(row.get("id"), str | int):
            continue
        if any(row.get(key) is None for key in needed):
            continue
        if any(number(row.get(key)) is None for key in ("group", "order") if key in needed):
            continue
        found[txt(row["id"])] = row
    return found


class ActiveCampaign(DealTimeline, Vendor):
    name = "activecampaign"
    label = "ActiveCampaign"
    settings = (
        ACCOUNT,
        Setting("api_key", "API key", secret=True, help="Settings → Developer"),
    )
    # 5 a second, counted by the vendor: paced at 4 (margin) so that requests bunched on
    # the way by a stall of up to 50 ms still arrive at most 5 in any second
    budget = RateBudget(5, 1, burst=1, margin=0.2, note="per account; 429 (sometimes 503) past it")
    notes_listed = True  # deal notes show on the deal's timeline
    activity_log = CALLS  # a call or meeting logged: a done deal task (``calls``)
    notes = Notes(on=(Kind.DEAL,))  # deal notes: POST deals/{id}/notes
    connection = Connection(
        auth=HeaderToken("api_key", "Api-Token", "{secret}"), errors=parse_error
    )
    resources = RESOURCES

    # The account's configuration, loaded once (``_config``) before anything is read.
    _groups: dict[str, Row]  # pipeline id -> pipeline
    _stages: dict[str, Row]  # stage id -> stage (more are learnt as pipelines are read)
    _types: dict[str, Row]  # task type id -> task type
    _meta: dict[str, Row]  # custom field id -> its definition
    _users: dict[str, Row]  # user id -> user
    _contacts: dict[str, Row]  # contact id -> contact, as read

    @classmethod
    def default_base_url(cls, profile: Any) -> str:
        return https_url(ACCOUNT.host(profile.setting("account")), "/api/3/", ACCOUNT.domains)

    # -- configuration (cached) -----------------------------------------------------

    async def whoami(self) -> str | None:
        """The API key's user: ``GET /users/me`` -> ``{"user": {"id": ...}}``."""

        async def load() -> str | None:
            user = (await call(self.session, "GET", "users/me")).get("user")
            found = user.get("id") if isinstance(user, dict) else None
            return None if found is None else record_id(self.label, found, "user")

        return await self.cached("me", load)

    async def _config(self) -> None:
        """Pipelines with their stages, task types, users and deal custom fields (once)."""
        await self.cached("config", self._load_config)

    async def _load_config(self) -> bool:
        body = await call(self.session, "GET", "dealGroups", params={"limit": PAGE_MAX})
        self._groups = usable(body.get("dealGroups"), "title")
        self._stages = usable(body.get("dealStages"), *STAGE_KEYS)
        types = await read_all(self.session, "dealTasktypes", "dealTasktypes")
        self._types = usable(types, "title")
        metas = await read_all(self.session, "dealCustomFieldMeta", "dealCustomFieldMeta")
        self._meta = usable(metas, "fieldLabel")
        self._users = usable(await read_all(self.session, "users", "users"))
        self._contacts = {}
        return True

    def _tables(self) -> Context:
        """The lookups the readers and writers use (see ``resources``)."""
        stages = self._stages
        return self.context(
            {
                "stage_group": {sid: txt(s["group"]) for sid, s in stages.items()},
                "stage_title": {sid: txt(s["title"]) for sid, s in stages.items()},
                "stage_order": {sid: txt(s["order"]) for sid, s in stages.items()},
                "task_types": {tid: txt(t["title"]) for tid, t in self._types.items()},
            }
        )

    def _stage_order(self) -> list[Row]:
        """Stages in board order: pipeline by pipeline, each by its ``order``."""
        return sorted(
            self._stages.values(), key=lambda s: (int(s["group"]), int(s["order"]), int(s["id"]))
        )

    def _user_name(self, uid: Any) -> str:
        user = (self._users or {}).get(txt(uid))
        if not user:
            return ""
        name = f"{txt(user.get('firstName'))} {txt(user.get('lastName'))}".strip()
        return name or txt(user.get("username"))

    def _forecast(self) -> Row | None:
        return next((m for m in self._meta.values() if m["fieldLabel"] == FORECAST), None)

    async def _contact(self, cid: Any) -> Row | None:
        cid = txt(cid)
        if not cid or cid == "0":
            return None
        if cid not in self._contacts:
            try:
                body = await call(self.session, "GET", f"contacts/{path_id(cid)}")
            except NotFound:  # a deal's contact deleted (or an odd id): the deal still opens
                return None
            self._contacts[cid] = body.get("contact") or {}
        return self._contacts[cid] or None

    # -- schema -----------------------------------------------------------------------

    async def kinds(self) -> list[KindInfo]:
        def info(kind: Kind, **more: Any) -> KindInfo:
            return RESOURCES[kind].kind_info(**more)

        return [
            info(
                Kind.PIPELINE,
                columns=["title", "currency", "stages"],
                sortable=["title"],
            ),
            info(
                Kind.DEAL,
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
                editable=True,
                creatable=True,
                deletable=True,
                has_timeline=True,
                views={k: label for k, (label, _) in DEAL_VIEWS.items()},
                board_field="stage",
                # won and lost are the deal's status (0 open, 1 won, 2 lost), not stages;
                # the deals API documents no lost reason
                outcome_values={"won": {"status": "won"}, "lost": {"status": "lost"}},
                filters=DEAL_FILTER_SPECS,
            ),
            info(
                Kind.TASK,
                columns=["title", "type", "due_at", "done", "owner"],
                sortable=[],
                day_views=["overdue"],
                editable=True,
                creatable=True,
                deletable=True,
                has_timeline=True,
                views={k: label for k, (label, _) in TASK_VIEWS.items()},
                filters=TASK_FILTER_SPECS,
            ),
            info(
                Kind.CONTACT,
                columns=["title", "email", "phone"],
                sortable=[],
            ),
        ]

    async def build_fields(self, resource: Resource) -> list[FieldSpec]:
        await self._config()
        specs = await super().build_fields(resource)
        if self._forecast() is None:  # no "Forecasted Close Date" field to write it to
            specs = [
                s.model_copy(update={"writable": False}) if s.key == "expected_close" else s
                for s in specs
            ]
        return specs

    async def choices(self, source: str) -> list[Choice]:
        if source == "users":
            users = ((self._users[uid], self._user_name(uid)) for uid in self._users)
            return [c for u, name in users if (c := USERS.choice(u, name)) is not None]
        if source == "pipelines":
            return [Choice(value=g["id"], label=g["title"]) for g in self._groups.values()]
        if source == "stages":
            return [
                Choice(value=s["id"], label=s["title"], group=s["group"])
                for s in self._stage_order()
            ]
        if source == "task_types":
            active = [t for t in self._types.values() if txt(t.get("status")) != "1"]
            return [Choice(value=t["id"], label=t["title"]) for t in active]
        return await super().choices(source)

    async def custom_fields(self, resource: Resource) -> list[FieldSpec]:
        if resource.kind != Kind.DEAL:
            return []
        return [custom_field_spec(m) for m in self._meta.values() if m["fieldLabel"] != FORECAST]

    # -- reads ------------------------------------------------------------------------

    async def list_page(self, kind: str, query: Query) -> Page:
        await self._config()
        resource = self.resource(kind)
        per_page = min(max(query.per_page, 1), PAGE_MAX)
        anchor = Anchor.read(query.cursor)  # the last id read: a deletion skips none
        offset, limit = anchor.window(per_page, PAGE_MAX)
        params = resource.paging.params(str(offset), limit)
        if kind == Kind.DEAL:
            params.update(deal_params(query))
        elif kind == Kind.TASK:
            params.update(task_params(query))
        elif kind == Kind.PIPELINE:
            if query.search:
                params["filters[title]"] = query.search
            if query.sort == "title":
                params["orders[title]"] = "DESC" if query.descending else "ASC"
        elif query.search:
            params["search"] = query.search
        body = await call(self.session, "GET", resource.path, params=params)
        rows = body.get(resource.path) or []
        if kind == Kind.PIPELINE:
            self._stages.update(usable(body.get("dealStages"), *STAGE_KEYS))
        ctx = self._tables()
        more = resource.paging.next_cursor(str(offset), limit, len(rows), body) is not None
        return Page(
            records=[self._record(kind, row, ctx) for row in anchor.kept(rows)],
            total=total_of(body),
            next_cursor=anchor.next(rows, more, per_page, PAGE_MAX),
        )

    def _record(self, kind: str, row: Row, ctx: Context | None = None) -> Record:
        ctx = ctx or self._tables()
        fields = self.resource(kind).read(row, ctx)
        title, subtitle = describe(kind, row, fields, ctx)
        return Record(
            vendor=self.name,
            profile=self.profile.name,
            kind=kind,
            id=(rid := record_id(self.label, row.get("id"), kind)),
            title=title,
            subtitle=subtitle,
            created_at=parse_datetime(row.get("cdate")),
            updated_at=parse_datetime(row.get("mdate" if kind == Kind.DEAL else "udate")),
            remote_url=self.record_url(kind, rid),
            fields=fields,
            raw=row,
        )

    def _task_record(self, row: Row) -> Record:
        return self._record(Kind.TASK, row)

    async def get(self, kind: str, id: str) -> Record:
        await self._config()
        if kind == Kind.DEAL:
            return await self._get_deal(id)
        if kind == Kind.TASK:
            record = self._task_record(
                (await call(self.session, "GET", f"dealTasks/{path_id(id)}"))["dealTask"]
            )
            await self._relate_task(record)
            return record
        if kind == Kind.PIPELINE:
            body = await call(self.session, "GET", f"dealGroups/{path_id(id)}")
            self._stages.update(usable(body.get("dealStages"), *STAGE_KEYS))
            return self._record(kind, body["dealGroup"])
        if kind == Kind.CONTACT:
            record = self._record(
                kind, (await call(self.session, "GET", f"contacts/{path_id(id)}"))["contact"]
            )
            deals = await call(
                self.session, "GET", f"contacts/{path_id(id)}/deals", params={"limit": PAGE_MAX}
            )
            record.related["Deals"] = [
                RelatedRef(kind=Kind.DEAL, id=txt(d["id"]), title=txt(d.get("title")) or "—")
                for d in usable(deals.get("deals")).values()
            ]
            return record
        raise Rejected(self.label, f"ActiveCampaign has no {kind} records here")

    async def _get_deal(self, id: str) -> Record:
        record = self._record(
            Kind.DEAL, (await call(self.session, "GET", f"deals/{path_id(id)}"))["deal"]
        )
        data = await read_all(
            self.session, "dealCustomFieldData", "dealCustomFieldData", {"filters[dealId]": id}
        )
        record.fields.update(self._custom_values(data))
        secondary = await call(
            self.session, "GET", f"deals/{path_id(id)}/contactDeals", params={"limit": PAGE_MAX}
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
                RelatedRef(kind=Kind.PIPELINE, id=txt(pipeline["id"]), title=txt(pipeline["title"]))
            ]
        return record

    def _custom_values(self, data: list[Row]) -> dict[str, Any]:
        """Custom field values by key; every defined field is present (None if unset)."""
        out: dict[str, Any] = {
            slug_key(m["fieldLabel"]): None
            for m in self._meta.values()
            if m["fieldLabel"] != FORECAST
        }
        out["expected_close"] = None
        for datum in data:
            meta = self._meta.get(txt(datum.get("customFieldId")))
            if meta is None:
                continue
            value = custom_value(meta, datum.get("fieldValue"))
            key = (
                "expected_close" if meta["fieldLabel"] == FORECAST else slug_key(meta["fieldLabel"])
            )
            out[key] = value
        return out

    async def _relate_task(self, record: Record) -> None:
        deal_id = record.fields["deal"]
        if deal_id:
            deal = (await call(self.session, "GET", f"deals/{path_id(deal_id)}"))["deal"]
            title = txt(deal.get("title")) if isinstance(deal, dict) else ""
            record.related["Deal"] = [RelatedRef(kind=Kind.DEAL, id=deal_id, title=title or "—")]
        contact = await self._contact(record.fields["contact"])
        if contact:
            ref = RelatedRef(kind=Kind.CONTACT, id=contact["id"], title=person_name(contact))
            record.related["Contact"] = [ref]

    # -- writes -------------------------------------------------------------------------

    async def update(self, change: Change) -> Record:
        await self._config()
        ref = change.ref
        if ref.kind == Kind.DEAL:
            body = self._deal_body(change.values)
        elif ref.kind == Kind.TASK:
            body = self._task_body(change.values)
        else:
            raise Rejected(self.label, f"{ref.kind} records cannot be edited in ActiveCampaign")
        resource = self.resource(ref.kind)
        await call(self.session, "PUT", resource.item(ref.id), json=resource.wrap(body))
        return await self.get(ref.kind, ref.id)

    def update_requests(self, records: Sequence[Record], keys: Sequence[str] = ()) -> int:
        """Per record: its read (a deal: the deal, its custom field data and its contacts;
        a task: the task and its deal), its primary contact the first time one is met
        (kept for the run), the PUT, then the same read again (``update`` reads the
        record back); the pipelines, task types, fields and users once if not loaded."""
        known = set(self._contacts)
        total = 0 if "config" in self.lookups else 4
        for record in records:
            if record.kind == Kind.DEAL:
                reads = 3
            elif record.kind == Kind.TASK:
                reads = 2 if txt(record.fields.get("deal")) not in ("", "0") else 1
            else:
                reads = 1
            contact = txt(record.fields.get("contact"))
            if record.kind in (Kind.DEAL, Kind.TASK) and contact not in ("", "0", *known):
                known.add(contact)
                total += 1
            total += reads + 1 + reads
        return total

    def _deal_body(self, values: dict[str, Any]) -> Row:
        """A deal's attributes through the mapping; its custom fields (the close date's
        among them) as ``fields`` items."""
        metas = {slug_key(m["fieldLabel"]): m for m in self._meta.values()}
        forecast = self._forecast()
        if forecast is not None:
            metas["expected_close"] = forecast
        custom = [custom_item(metas[k], v) for k, v in values.items() if k in metas]
        declared = {k: v for k, v in values.items() if k not in metas}
        body = self.resource(Kind.DEAL).write(declared, self._tables())
        if custom:
            body["fields"] = custom
        return body

    def _task_body(self, values: dict[str, Any]) -> Row:
        return self.resource(Kind.TASK).write(values, self._tables())

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
        """The deal or task the create itself looks for before it posts (``_created_deal``,
        ``_created_task``): not the base's ``lookalikes`` + ``holds``, since AC is matched
        on the body it was sent (title, value in cents, contact; a task's title and due
        time on its deal or contact), not on every neutral value of the create."""
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
        if ref.kind not in (Kind.DEAL, Kind.TASK):
            raise Rejected(self.label, f"{ref.kind} records cannot be deleted from crmtui")
        await call(self.session, "DELETE", self.resource(ref.kind).item(ref.id))

    async def log_activity(self, ref: RecordRef, logged: Logged) -> Activity:
        return await log_call(self, ref, logged)

    async def delete_logged(self, ref: RecordRef, id: str) -> None:
        await delete_call(self, id)

    async def add_note(self, ref: RecordRef, text: str) -> Activity:
        if not self.notes.take(ref.kind):
            return await super().add_note(ref, text)
        await self._config()
        note = (
            await call(
                self.session,
                "POST",
                f"deals/{path_id(ref.id)}/notes",
                json={"note": {"note": text}},
            )
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

    def web_root(self) -> str | None:
        """``https://<account>.activehosted.com/``: the account's login address, as AC's
        help documents it ("your login URL would be mynewcompany.activehosted.com"). A
        record's page under it (``app/deals/<id>``) is a convention, not documented."""
        account = self.profile.setting("account")
        if not account:
            return None
        try:
            name = ACCOUNT.host(account).removesuffix(".api-us1.com")
            return https_url(f"{name}.activehosted.com", "/", ("activehosted.com",))
        except ValueError:
            return None
