"""Freshsales's kinds, declared on the mapping: paths, views, sorts, embeds and fields.

Values written: amounts as numbers, dates as ``YYYY-MM-DD``, times as
``YYYY-MM-DDTHH:MM:SSZ``, ids as integers, task ``done`` as ``status`` 1/0, deal
``currency`` (an ISO code) as ``currency_id`` through the ``currencies`` table
(``/api/selector/currencies``), deal ``status`` (open/won/lost) read from its stage.
A contact's ``company`` (its primary sales account) is read-only here: the doc deprecates
``sales_account_id`` and ``sales_accounts`` replaces the whole list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from crmtui.model import Choice, FieldType, Kind, Role
from crmtui.vendors.mapping import (
    Bool01,
    Codec,
    Context,
    CustomFields,
    Field,
    Id,
    Json,
    Mapped,
    PageNumber,
    Paging,
    Resource,
    TextId,
    UserShape,
    by_kind,
    dig,
    record_id,
    vendor_id,
)

# Freshsales targetable type (any spelling it uses) -> neutral kind.
TARGET_KINDS = {
    "lead": Kind.LEAD,
    "contact": Kind.CONTACT,
    "salesaccount": Kind.COMPANY,
    "sales_account": Kind.COMPANY,
    "deal": Kind.DEAL,
}
# The kind -> its ``targetable_type`` (what notes, tasks and appointments point at).
TARGETABLE: dict[str, str] = {
    Kind.LEAD: "Lead",
    Kind.CONTACT: "Contact",
    Kind.COMPANY: "SalesAccount",
    Kind.DEAL: "Deal",
}


def ref_id(value: Any) -> str:
    """The id of a record a record refers to, checked as record ids are (``record_id``)."""
    return record_id("Freshsales", value, "reference to a record")


def target(item: Json) -> tuple[str | None, str | None]:
    """The record a task, note or activity points at: ``(kind, id)`` or ``(None, None)``."""
    found = item.get("targetable")
    if isinstance(found, dict) and found.get("id") is not None:
        kind, tid = found.get("type"), found.get("id")
    else:
        kind, tid = item.get("targetable_type"), item.get("targetable_id")
    if kind is None or tid is None:
        return None, None
    return TARGET_KINDS.get(str(kind).lower()), ref_id(tid)


@dataclass(frozen=True, kw_only=True)
class Target(Field):
    """One of a task's four links (``targetable``): holds the id when the task points
    at a record of ``refers_to``, else nothing. Sent empty, a link stays as it was, so
    it cannot be cleared (refused before it is queued)."""

    path: str = "targetable"
    clearable: bool = False
    omit_empty: bool = True

    def read(self, item: Mapping[str, Any], codec: Codec, ctx: Context) -> Any:
        kind, tid = target(dict(item))
        return tid if kind is not None and kind == self.refers_to else None

    def write(self, body: Json, value: Any, codec: Codec, ctx: Context) -> None:
        if value not in (None, "") and self.refers_to is not None:
            body["targetable_type"] = TARGETABLE[self.refers_to]
            body["targetable_id"] = vendor_id(value)


@dataclass(frozen=True, kw_only=True)
class Email(Field):
    """``email``, or the primary address of ``emails`` (``[{"value", "is_primary"}]``)."""

    def read(self, item: Mapping[str, Any], codec: Codec, ctx: Context) -> Any:
        value = dig(item, self.at) or primary_email(item.get("emails"))
        return codec.read(value, ctx)


def primary_email(emails: Any) -> str | None:
    if not isinstance(emails, list):
        return None
    found = [e for e in emails if isinstance(e, dict) and e.get("value")]
    found.sort(key=lambda e: not e.get("is_primary"))
    return str(found[0]["value"]) if found else None


class CurrencyCode(Mapped):
    """A deal's ``currency_id`` shown as its ISO code; a code is written upper-cased."""

    def encode(self, value: Any, ctx: Context) -> Any:
        return super().encode(str(value).upper(), ctx)


# Choice sources (``Field.choices``) read from their own endpoints; any other source
# names a ``/api/selector/<name>`` list, with the field settings' choices as fallback.
OWNERS, CURRENCIES, STAGES, PIPELINES, OUTCOMES = (
    "owners",
    "currencies",
    "stages",
    "pipelines",
    "outcomes",
)
OWN_SOURCES = {OWNERS, CURRENCIES, STAGES, PIPELINES, OUTCOMES}
# An owner as ``/api/selector/owners`` lists it (id, display_name, email; no role)
USERS = UserShape(name="display_name", email="email")
# The kinds with a documented activities feed (``/api/<resource>/<id>/activities``: the
# doc has it for leads and contacts only). Accounts and deals show what their record
# embeds instead. Decision where the doc is silent: their notes (and a deal's tasks and
# appointments) are asked for as embeds too: the doc's deal sample links a deal's notes,
# tasks and appointments, notes are written to accounts and deals (``targetable_type``),
# and a note crmtui wrote must be found again on the record's timeline.
ACTIVITY_FEEDS = (Kind.LEAD, Kind.CONTACT)
# Lookup tables (``Context.tables``) the adapter loads before reading or writing deals.
CURRENCY_TABLE, STATUS_TABLE = "currencies", "deal_status"
STATUSES = tuple(Choice(value=v, label=v.title()) for v in ("open", "won", "lost"))


@dataclass(frozen=True, kw_only=True)
class FsResource(Resource):
    """What Freshsales says about a resource besides its fields."""

    columns: tuple[str, ...]
    sorts: Mapping[str, str]  # neutral key -> documented sort field
    include: str  # embeds for get()
    timeline_include: str  # embeds that carry timeline entries
    day_views: tuple[str, ...] = ()  # the views My day refreshes
    paging: Paging = field(
        default_factory=lambda: PageNumber(total_pages="meta.total_pages", total="meta.total")
    )
    codecs: Mapping[FieldType, Codec] = field(
        default_factory=lambda: {FieldType.CHOICE: Id(), FieldType.USER: Id()}
    )
    custom: CustomFields | None = field(default_factory=lambda: CustomFields("custom_field", "cf_"))


def _f(
    key: str, label: str, type: FieldType = FieldType.TEXT, path: str = "", **more: Any
) -> Field:
    return Field(key=key, label=label, type=type, path=path, **more)


T, N, M, C = FieldType.TEXT, FieldType.NUMBER, FieldType.MONEY, FieldType.CHOICE
_OWNER = _f("owner", "Owner", FieldType.USER, "owner_id", choices=OWNERS, role=Role.OWNER)
_SCORE = _f("lead_score", "Score", N, writable=False)
_LAST = _f("last_contacted", "Last contacted", FieldType.DATETIME, writable=False)
_OPEN_DEALS = _f("open_deals_amount", "Open deals", M, writable=False, decimals=2)
_PERSON = (
    _f("first_name", "First name"),
    _f("last_name", "Last name"),
    _f("name", "Name", T, "display_name", writable=False, role=Role.TITLE),
    Email(key="email", label="Email"),
    _f("phone", "Work", T, "work_number"),
    _f("mobile_number", "Mobile"),
    _f("job_title", "Job title"),
    _f("city", "City"),
    _f("state", "State"),
    _f("country", "Country"),
    _OWNER,
    _SCORE,
    _LAST,
)
# The doc's lead and contact tables: "Either Email/Mobile/Twitter ID is required". crmtui
# offers no Twitter field, so a new contact or lead needs an email or a mobile number.
_REACHABLE = (("email", "mobile_number"),)
_ACCOUNT_ID = TextId()  # a sales account id, written as given
_SORT_COMMON = {"created_at": "created_at", "updated_at": "updated_at"}

RESOURCES = by_kind(
    FsResource(
        kind=Kind.CONTACT,
        create_needs=_REACHABLE,
        path="contacts",
        wrapper="contact",
        label="Contacts",
        singular="Contact",
        web="contacts/{id}",  # the web app's page: a convention (see auth.web_root)
        columns=("title", "email", "phone", "job_title", "city", "owner"),
        sorts={
            **_SORT_COMMON,
            "lead_score": "lead_score",
            "open_deals_amount": "open_deals_amount",
            "last_contacted": "last_contacted",
        },
        include="owner,sales_accounts,deals",
        timeline_include="notes,tasks,appointments",
        fields=(
            *_PERSON,
            _f(
                "company",
                "Account",
                T,
                "sales_account_id",
                writable=False,
                codec=_ACCOUNT_ID,
                refers_to=Kind.COMPANY,
            ),
            _f("contact_status_id", "Status", C, choices="contact_statuses"),
            _OPEN_DEALS,
        ),
    ),
    FsResource(
        kind=Kind.LEAD,
        create_needs=_REACHABLE,
        path="leads",
        wrapper="lead",
        label="Leads",
        singular="Lead",
        web="leads/{id}",
        columns=("title", "email", "company", "lead_score", "owner"),
        sorts={
            **_SORT_COMMON,
            "lead_score": "lead_score",
            "lead_stage": "lead_stage",
            "last_contacted": "last_contacted",
        },
        include="owner",
        timeline_include="notes,tasks,appointments",
        fields=(
            *_PERSON,
            _f("company", "Company", T, "company.name"),
            _f("lead_stage_id", "Lead stage", C),
        ),
    ),
    FsResource(
        kind=Kind.COMPANY,
        path="sales_accounts",
        wrapper="sales_account",
        label="Accounts",
        singular="Account",
        web="accounts/{id}",
        columns=("title", "city", "industry", "open_deals_amount", "owner"),
        sorts={
            **_SORT_COMMON,
            "open_deals_amount": "open_deals_amount",
            "last_contacted": "last_contacted",
        },
        include="owner,contacts,deals",
        # tasks and appointments are the doc's embeds; notes: see ACTIVITY_FEEDS
        timeline_include="notes,tasks,appointments",
        fields=(
            _f("name", "Name", role=Role.TITLE),
            _f("website", "Website"),
            _f("phone", "Phone"),
            _f("address", "Address"),
            _f("city", "City"),
            _f("state", "State"),
            _f("country", "Country"),
            _f("industry", "Industry", C, "industry_type_id", choices="industry_types"),
            _f("business_type_id", "Business type", C, choices="business_types"),
            # whole numbers only: Freshsales refuses 12.5 employees
            _f("size", "Employees", N, "number_of_employees", decimals=0),
            _f("annual_revenue", "Annual revenue", N, decimals=0),
            _OWNER,
            _OPEN_DEALS,
            _LAST,
        ),
    ),
    FsResource(
        kind=Kind.DEAL,
        path="deals",
        wrapper="deal",
        label="Deals",
        singular="Deal",
        web="deals/{id}",
        timeline_fields=("stage", "status"),  # a stage move (the status is the stage's)
        columns=("title", "amount", "stage", "expected_close", "owner"),
        sorts={
            **_SORT_COMMON,
            "amount": "amount",
            "expected_close": "expected_close",
            "last_contacted": "last_contacted",
        },
        include="owner,contacts,sales_account",
        # sales_activities is the doc's embed; notes, tasks, appointments: see ACTIVITY_FEEDS
        timeline_include="sales_activities,notes,tasks,appointments",
        fields=(
            _f("name", "Name", role=Role.TITLE),
            # "decimal (15,2)": KWD 1.005 cannot be kept
            _f("amount", "Deal value", M, decimals=2, role=Role.AMOUNT),
            _f(
                "currency",
                "Currency",
                C,
                "currency_id",
                choices=CURRENCIES,
                codec=CurrencyCode(CURRENCY_TABLE, "currency"),
                role=Role.CURRENCY,
            ),
            _f(
                "pipeline", "Pipeline", C, "deal_pipeline_id", choices=PIPELINES, role=Role.PIPELINE
            ),
            _f("stage", "Deal stage", C, "deal_stage_id", choices=STAGES, role=Role.STAGE),
            _f(
                "status",
                "Status",
                C,
                "deal_stage_id",
                writable=False,
                options=STATUSES,
                codec=Mapped(STATUS_TABLE, keep_unknown=False),
                role=Role.STATUS,
            ),
            _f("probability", "Probability", N, decimals=0),
            _f("expected_close", "Expected close", FieldType.DATE),
            _f("closed_date", "Closed on", FieldType.DATE, writable=False),
            _OWNER,
            _f(
                "company",
                "Account",
                T,
                "sales_account_id",
                codec=_ACCOUNT_ID,
                refers_to=Kind.COMPANY,
            ),
            _f("deal_type_id", "Type", C, choices="deal_types"),
            _f("deal_reason_id", "Lost reason", C, choices="deal_reasons"),
        ),
    ),
    FsResource(
        kind=Kind.TASK,
        path="tasks",
        wrapper="task",
        label="Tasks",
        singular="Task",
        columns=("title", "due_at", "done", "owner"),
        sorts={},
        include="owner,users,targetable",
        timeline_include="",
        day_views=("overdue", "due_today"),
        fields=(
            # "Title can't be blank": required though no field settings say so
            _f("subject", "Title", T, "title", required=True, role=Role.TITLE),
            _f("body", "Description", T, "description"),
            _f("due_at", "Due", FieldType.DATETIME, "due_date", required=True, role=Role.DUE),
            _f("done", "Done", FieldType.BOOL, "status", codec=Bool01(), role=Role.DONE),
            # "owner_id*": the doc marks it required in a task's create
            replace(_OWNER, required=True),
            _f("outcome", "Outcome", C, "outcome_id", choices=OUTCOMES),
            Target(key="contact", label="Contact", refers_to=Kind.CONTACT),
            Target(key="lead", label="Lead", refers_to=Kind.LEAD),
            Target(key="company", label="Account", refers_to=Kind.COMPANY),
            Target(key="deal", label="Deal", refers_to=Kind.DEAL),
        ),
    ),
)

TASK_VIEWS = {
    "open": "Open",
    "due_today": "Due today",
    "due_tomorrow": "Due tomorrow",
    "overdue": "Overdue",
    "completed": "Completed",
}

# Freshsales's custom field types (``/api/settings/<resource>/fields``) -> ours.
SETTINGS_TYPES = {
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


def resource_of(kind: str) -> FsResource:
    """The Freshsales resource of a kind known to be declared (a task's target...)."""
    found = RESOURCES[kind]
    assert isinstance(found, FsResource)
    return found
