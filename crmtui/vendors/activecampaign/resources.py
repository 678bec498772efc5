"""ActiveCampaign's kinds, declared: pipelines, deals, deal tasks and read-only contacts.

From each ``Resource`` come the kind's specs, reader and writer
(``crmtui.vendors.mapping``). Numbers and ids come as strings (``meta.total`` sometimes a
number): everything is coerced. Deals: ``value`` is cents -> ``amount`` money text;
currency upper-cased; ``status`` 0/1/2 -> open/won/lost; pipeline = ``group`` (a stage
sent carries its pipeline); the close date is the built-in "Forecasted Close Date"
custom field (``expected_close``); other custom fields are ``cf_<label>``, read by
``get`` only and written as ``fields`` items.

The lookups a reader needs come as ``Context.tables``: ``stage_group`` and
``stage_title``/``stage_order`` (stage id -> its pipeline, title, place) and
``task_types`` (task type id -> title).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from crmtui.fields import (
    cents_to_money,
    html_to_text,
    iso,
    local_text,
    money_text,
    money_to_cents,
    parse_date,
    parse_datetime,
)
from crmtui.http import Rejected
from crmtui.model import Choice, FieldSpec, FieldType, Kind, Role
from crmtui.vendors.base import record_id
from crmtui.vendors.mapping import (
    AS_SENT,
    Codec,
    Context,
    Field,
    IsoDatetime,
    Json,
    Offset,
    Resource,
    UserShape,
    Via,
    by_kind,
    custom_spec,
    number,
    slug_key,
)

Row = dict[str, Any]
STATUS = {"0": "open", "1": "won", "2": "lost"}
STATUS_CODE = {label: code for code, label in STATUS.items()}
FORECAST = "Forecasted Close Date"
# A user as ``GET /users`` lists it (its user group is a link, not a role: none shown)
USERS = UserShape(name=("firstName", "lastName"), email="email")
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


def person_name(contact: Row | None) -> str:
    if not contact:
        return ""
    name = f"{contact.get('firstName') or ''} {contact.get('lastName') or ''}".strip()
    return name or txt(contact.get("email"))


def custom_field_spec(meta: Row) -> FieldSpec:
    spec = custom_spec(
        slug_key(meta["fieldLabel"]),
        meta["fieldLabel"],
        meta["fieldType"],
        CF_TYPES,
        required=bool(int(meta.get("isRequired") or 0)),
        choices=[Choice(value=o, label=o) for o in meta.get("fieldOptions") or []],
    )
    if meta["fieldType"] == "currency":  # cents, as `value`
        spec = spec.model_copy(update={"decimals": 2})
    return spec


def custom_value(meta: Row, value: Any) -> Any:
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
        return number(value)  # text that is no number reads as empty
    if kind in ("multiselect", "checkbox"):
        return value if isinstance(value, list) else txt(value).strip("|").split("||")
    return txt(value)


def custom_item(meta: Row, value: Any) -> Row:
    if meta["fieldType"] == "currency":
        value = money_to_cents(value)
    elif value is None:
        value = ""
    elif not isinstance(value, list):
        value = str(value)
    return {"customFieldId": int(meta["id"]), "fieldValue": value}


# -- codecs ------------------------------------------------------------------------------------


REF = Via(lambda raw: ref(raw) or None)  # owner, contact, account: None for none
ID = Via(ref)  # pipeline, stage: "" for none
VALUE = Via(lambda raw: cents_to_money(raw or 0), money_to_cents)  # cents; none is 0.00
CURRENCY = Via(lambda raw: txt(raw).upper(), lambda value: txt(value).lower())
STATUS_ = Via(
    lambda raw: STATUS.get(txt(raw), "open"), lambda v: int(STATUS_CODE.get(txt(v), txt(v)))
)
PERCENT = Via(lambda raw: int(txt(raw) or 0))
OR_EMPTY = Via(lambda raw: raw or "", lambda value: value or "")  # AC empties text with ""
HTML = Via(lambda raw: html_to_text(txt(raw)), lambda value: value or "")
DONE = Via(lambda raw: int(txt(raw) or 0) == 1, lambda value: 1 if value else 0)
MOMENT = Via(lambda raw: iso(parse_datetime(raw)))  # sent as given
TXT = Via(txt)


# -- fields ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Stage(Field):
    """A deal's stage: sending one also sends its pipeline (``group``)."""

    def write(self, body: Json, value: Any, codec: Codec, ctx: Context) -> None:
        body["stage"] = value
        group = ctx.tables.get("stage_group", {}).get(txt(value))
        if group:
            body["group"] = group


@dataclass(frozen=True, kw_only=True)
class Pipeline(Field):
    """A deal's pipeline: the stage's own pipeline wins when both are sent."""

    def write(self, body: Json, value: Any, codec: Codec, ctx: Context) -> None:
        body.setdefault("group", value)


@dataclass(frozen=True, kw_only=True)
class ForecastDate(Field):
    """The close date: the "Forecasted Close Date" custom field (``get`` reads it; sent as
    a custom field item, see ``custom_item``), so never sent as an attribute."""

    path: str = ""
    omit_empty: bool = True

    def read(self, item: Mapping[str, Any], codec: Codec, ctx: Context) -> Any:
        return None

    def write(self, body: Json, value: Any, codec: Codec, ctx: Context) -> None:
        raise Rejected(ctx.vendor, "a deal's expected_close cannot be changed in ActiveCampaign")


@dataclass(frozen=True, kw_only=True)
class Subject(Field):
    """A task's title: its first note line, else its type's name, when it has none."""

    def read(self, item: Mapping[str, Any], codec: Codec, ctx: Context) -> Any:
        note = txt(item.get("note"))
        kind_title = task_type(item, ctx)
        return txt(item.get("title")) or (note.splitlines()[0] if note else kind_title)


def task_type(row: Mapping[str, Any], ctx: Context) -> str:
    """The title of a task's type ("Call", "Email"...), "Task" when unknown."""
    return ctx.tables.get("task_types", {}).get(txt(row.get("dealTasktype")), "Task")


def _task_deal(row: Row, ctx: Context) -> Any:
    return ref(row.get("relid")) if row.get("reltype") == "Deal" else None


def _task_contact(row: Row, ctx: Context) -> Any:
    return None if row.get("reltype") == "Deal" else ref(row.get("relid"))


def _stages(row: Row, ctx: Context) -> str:
    titles, order = ctx.tables.get("stage_title", {}), ctx.tables.get("stage_order", {})
    known = [s for s in row.get("stages") or [] if s in titles]
    return " → ".join(titles[s] for s in sorted(known, key=lambda s: int(order[s])))


def _person(row: Row, ctx: Context) -> str:
    return person_name(row)


def _org(row: Row, ctx: Context) -> str | None:
    return txt(row.get("orgid")) or None


CHOICE, DATETIME, MONEY, NUMBER = (
    FieldType.CHOICE,
    FieldType.DATETIME,
    FieldType.MONEY,
    FieldType.NUMBER,
)
STATUSES = tuple(Choice(value=v, label=v.title()) for v in STATUS.values())
NEXT = IsoDatetime()


def _f(key: str, path: str, label: str, type: FieldType = FieldType.TEXT, **kw: Any) -> Field:
    return Field(key=key, path=path, label=label, type=type, **kw)


def _read(key: str, path: str, label: str, type: FieldType = FieldType.TEXT, **kw: Any) -> Field:
    return _f(key, path, label, type, writable=False, **kw)


def _derived(key: str, label: str, reader: Callable[[Row, Context], Any], **kw: Any) -> Field:
    """A value made of several attributes (or a lookup): read only."""
    return Field(
        key=key, label=label, writable=False, reader=lambda item, ctx: reader(dict(item), ctx), **kw
    )


RESOURCES = by_kind(
    Resource(
        kind=Kind.PIPELINE,
        path="dealGroups",
        wrapper="dealGroup",
        label="Pipelines",
        singular="Pipeline",
        paging=Offset(total="meta.total"),
        codecs=AS_SENT,
        fields=(
            _read("name", "title", "Title", role=Role.TITLE),
            _read("currency", "currency", "Currency", codec=CURRENCY, role=Role.CURRENCY),
            _derived("stages", "Stages", _stages),
        ),
    ),
    Resource(
        kind=Kind.DEAL,
        path="deals",
        wrapper="deal",
        label="Deals",
        singular="Deal",
        web="app/deals/{id}",  # the web app's page: a convention (see ActiveCampaign.web_root)
        paging=Offset(total="meta.total"),
        # deal activities: d_stageid, status, value, title and userid changes (timeline.py)
        timeline_fields=("stage", "status", "amount", "name", "owner"),
        codecs=AS_SENT,
        fields=(
            _f("name", "title", "Title", required=True, max_length=255, role=Role.TITLE),
            # sent empty, a deal's value stays as it was: refused instead (type 0)
            _f(
                "amount",
                "value",
                "Value",
                MONEY,
                codec=VALUE,
                min=0,
                clearable=False,
                decimals=2,
                role=Role.AMOUNT,
            ),  # `value` is integer cents: KWD 1.005 cannot be kept
            _f(
                "currency",
                "currency",
                "Currency",
                codec=CURRENCY,
                max_length=3,
                role=Role.CURRENCY,
            ),
            Pipeline(
                key="pipeline",
                path="group",
                label="Pipeline",
                type=CHOICE,
                codec=ID,
                choices="pipelines",
                role=Role.PIPELINE,
            ),
            Stage(
                key="stage",
                path="stage",
                label="Stage",
                type=CHOICE,
                codec=ID,
                choices="stages",
                role=Role.STAGE,
            ),
            _f(
                "status",
                "status",
                "Status",
                CHOICE,
                codec=STATUS_,
                options=STATUSES,
                role=Role.STATUS,
            ),
            _f(
                "owner",
                "owner",
                "Owner",
                FieldType.USER,
                codec=REF,
                choices="users",
                role=Role.OWNER,
            ),
            # `percent` is an integer; ActiveCampaign: "The deal percent is not valid"
            _f(
                "probability",
                "percent",
                "Probability (%)",
                NUMBER,
                codec=PERCENT,
                min=0,
                max=100,
                decimals=0,
                clearable=False,
            ),
            ForecastDate(key="expected_close", label="Forecasted close date", type=FieldType.DATE),
            _f("description", "description", "Description", codec=OR_EMPTY),
            # the deal's primary contact: required in a create (``_new_deal_body``), and
            # changed by ``PUT /deals/{id}`` with ``deal.contact`` (never emptied: a deal
            # keeps a primary contact)
            _f(
                "contact",
                "contact",
                "Primary contact",
                codec=REF,
                refers_to=Kind.CONTACT,
                required=True,  # "The deal contact was not provided" (422) without it
                clearable=False,
            ),
            # the deal's account id: the seed documents no route naming an account and the
            # app has no accounts kind, so it is read (filters, sorts) but not shown: a
            # bare id would pass for a name (issue 15)
            _read("company", "account", "Account", codec=REF, offered=False),
            _read("next_task_due", "nextdate", "Next task due", DATETIME, codec=NEXT),
            _read("win_probability", "winProbability", "Win probability", NUMBER),
        ),
    ),
    Resource(
        kind=Kind.TASK,
        path="dealTasks",
        wrapper="dealTask",
        label="Tasks",
        singular="Task",
        paging=Offset(total="meta.total"),
        codecs=AS_SENT,
        fields=(
            # sent empty, a task's title and due date stay as they were: refused instead
            Subject(
                key="subject",
                path="title",
                label="Title",
                clearable=False,
                role=Role.TITLE,
            ),
            _f("body", "note", "Note", codec=HTML),
            _f("due_at", "duedate", "Due", DATETIME, codec=MOMENT, clearable=False, role=Role.DUE),
            _f("done", "status", "Done", FieldType.BOOL, codec=DONE, role=Role.DONE),
            _f("type", "dealTasktype", "Type", CHOICE, codec=TXT, choices="task_types"),
            _f(
                "owner",
                "assignee",
                "Assignee",
                FieldType.USER,
                codec=REF,
                choices="users",
                role=Role.OWNER,
            ),
            # taken in a create only, as relid/ownerType (``_new_task_body``)
            _derived("deal", "Deal", _task_deal, refers_to=Kind.DEAL, on_create=True),
            _derived("contact", "Contact", _task_contact, refers_to=Kind.CONTACT, on_create=True),
            _read("completed_at", "donedate", "Done at", DATETIME, codec=NEXT),
        ),
    ),
    Resource(
        kind=Kind.CONTACT,
        path="contacts",
        wrapper="contact",
        label="Contacts",
        singular="Contact",
        web="app/contacts/{id}",
        paging=Offset(total="meta.total"),
        codecs=AS_SENT,
        fields=(
            _read("first_name", "firstName", "First name"),
            _read("last_name", "lastName", "Last name"),
            _derived("name", "Name", _person, role=Role.TITLE),
            _read("email", "email", "Email"),
            _read("phone", "phone", "Phone"),
            _derived("company", "Account", _org, offered=False),  # an id: see the deal's
        ),
    ),
)


def describe(kind: str, row: Row, fields: Json, ctx: Context) -> tuple[str, str]:
    """A record's title and subtitle."""
    if kind == Kind.DEAL:
        stage = ctx.tables.get("stage_title", {}).get(txt(row.get("stage")), "")
        money = money_text(fields["amount"], fields["currency"])  # the one money format
        return txt(row.get("title")), " · ".join(p for p in (money, stage) if p)
    if kind == Kind.TASK:
        kind_title, due = task_type(row, ctx), parse_datetime(row.get("duedate"))
        return fields["subject"], f"{kind_title} · due {local_text(due)}" if due else kind_title
    if kind == Kind.PIPELINE:
        known = [s for s in row.get("stages") or [] if s in ctx.tables.get("stage_title", {})]
        return txt(row.get("title")), f"{len(known)} stages"
    return person_name(row), txt(row.get("email"))
