"""SalesSeek's kinds, declared: where each lives in the API and its fields, once each.

Kinds: ``company`` = Organizations, ``contact`` = Individuals, ``deal`` = Opportunities
(shown as "Deals"), ``task`` = Tasks, ``group`` = Groups. From each ``Resource`` come the
kind's specs, its reader and its writer (``crmtui.vendors.mapping``); what a field reads
from several attributes (a phone among ``communication``, a deal's status from its
phase's name) is a ``Field`` with a ``reader``.

Custom fields are keyed ``cf_<name>`` (lower-case, underscores) from their definitions
(``/api/custom_fields?filter=view=<type>``), read from and written to
``custom_fields[<definition id>]``; dropDown values are option ids (choices).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crmtui import fields as fv
from crmtui.http import Rejected
from crmtui.model import Choice, FieldSpec, FieldType, Follow, FollowRule, RelatedRef, Role
from crmtui.vendors.base import record_id
from crmtui.vendors.mapping import (
    AS_SENT,
    Codec,
    Context,
    Field,
    IsoDatetime,
    Json,
    Resource,
    UserShape,
    Via,
    by_kind,
    custom_spec,
    flag,
    number,
    slug_key,
    truth,
)

Row = dict[str, Any]
# A user as ``GET /api/users/{id}`` (and a record's embedded owner) holds it
USERS = UserShape(name="name", email="email_address")

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
CUSTOM_KINDS = ("company", "contact", "deal")  # the kinds with custom fields
CUSTOM_TYPES = {
    "dropDown": FieldType.CHOICE,
    "checkbox": FieldType.BOOL,
    "number": FieldType.NUMBER,
    "currency": FieldType.MONEY,
    "date": FieldType.DATE,
}
LINK_LABELS = {"contact": "Individual", "company": "Organization", "deal": "Deal"}
# a task's ``related_type`` as the seed writes it: singular (Task API > Create Task's
# sample sends ``"opportunity"``; the attribute table lists organization, individual)
RELATED_TYPE = {"contact": "individual", "company": "organization", "deal": "opportunity"}


def ref(value: Any) -> Any:
    """A reference to another record (owner, organization, phase...): checked as record
    ids are (``record_id``), so ``{"evil": 1}`` or ``1.5`` is refused, never stored."""
    if value is None or value == "":
        return value
    return record_id("SalesSeek", value, "reference to a record")


def first(items: Any, medium: str) -> str | None:
    """The first ``communication`` value of a medium (or, failing that, of that name)."""
    found: str | None = None
    for item in items or []:
        if item.get("medium") == medium:
            found = item.get("value")
            return found
    for item in items or []:
        if str(item.get("name", "")).lower() == medium:
            found = item.get("value")
            return found
    return found


def naive(value: Any) -> str | None:
    """A neutral datetime (ISO, aware) as SalesSeek's naive UTC timestamp."""
    dt = fv.parse_datetime(value)
    return None if dt is None else dt.replace(tzinfo=None).isoformat(timespec="seconds")


# -- codecs: SalesSeek takes values back as it sends them ------------------------------------


def _day(raw: Any) -> str | None:
    day = fv.parse_date(raw)
    return day.isoformat() if day else None


def _midnight(value: Any) -> str | None:
    day = _day(value)
    return f"{day}T00:00:00" if day else None


OR_EMPTY = Via(lambda raw: raw or "")  # a task's text: "" when it has none
REF = Via(ref)  # an owner, an organization, a phase: a checked id, sent as given
FLAG = Via(flag)  # a boolean (or "true"/"false"); absent reads as False, an odd value unknown
# A deal's ``value``: a JSON number, read as exact money text, sent as a float.
VALUE = Via(fv.money, lambda value: None if value is None else float(fv.money(value) or 0))
CLOSE_DATE = Via(_day, _midnight)  # ``expected_close_date``: a naive midnight timestamp


class NaiveUtc(IsoDatetime):
    """A task's ``due_date``: naive UTC, sent without a zone."""

    def encode(self, value: Any, ctx: Context) -> Any:
        return naive(value)


FORECASTS = tuple(Choice(value=k, label=v) for k, v in FORECAST.items())


# -- fields ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Link(Field):
    """A task's related record of one kind (``contact``, ``company``, ``deal``): read from
    ``related_type``/``related_id``, written as both (a link cannot be emptied)."""

    path: str = "related_id"
    offered: bool = False

    def read(self, item: Mapping[str, Any], codec: Codec, ctx: Context) -> Any:
        related = item.get("related") or {}
        kind = KIND_OF.get(str(item.get("related_type") or related.get("type") or ""))
        return (
            ref(item.get("related_id"))
            if kind == self.key and ref(item.get("related_id"))
            else None
        )

    def write(self, body: Json, value: Any, codec: Codec, ctx: Context) -> None:
        if not value:
            raise Rejected(ctx.vendor, f"{self.key!r} cannot be changed on a SalesSeek task")
        body["related_type"] = RELATED_TYPE[self.key]
        body["related_id"] = value


def _tags(raw: Row) -> list[str]:
    return [t.get("name", "") for t in raw.get("tags") or [] if isinstance(t, dict)]


def _medium(medium: str) -> Callable[[Row], Any]:
    return lambda raw: first(raw.get("communication"), medium)


def _full_name(raw: Row) -> str:
    return (
        raw.get("full_name")
        or f"{raw.get('first_name') or ''} {raw.get('last_name') or ''}".strip()
    )


def _organization_name(raw: Row) -> Any:
    return raw.get("organization_name") or (raw.get("organization") or {}).get("name")


def _phase_name(raw: Row) -> str:
    return raw.get("phase_name") or (raw.get("phase") or {}).get("name") or ""


def _status(raw: Row) -> str:
    return {"won": "won", "lost": "lost"}.get(_phase_name(raw).lower(), "open")


def _weight(raw: Row) -> int | None:
    weight = raw.get("weight")
    return round(weight * 100) if isinstance(weight, int | float) else None


def _lead(raw: Row) -> bool:
    return bool(ref(raw.get("source_id")))


def _deal_organization(raw: Row) -> Any:
    return (raw.get("organization") or {}).get("name")


def _related_name(raw: Row) -> Any:
    return (raw.get("related") or {}).get("name")


def _location(raw: Row) -> Any:
    locations = raw.get("locations") or []
    return locations[0].get("address") if locations else None


def _f(key: str, path: str, label: str, type: FieldType = FieldType.TEXT, **kw: Any) -> Field:
    return Field(key=key, path=path, label=label, type=type, **kw)


def _shown(key: str, label: str, reader: Callable[[Row], Any], **kw: Any) -> Field:
    """A value SalesSeek derives or shows, never written."""
    return _f(key, "", label, writable=False, reader=lambda item, _: reader(dict(item)), **kw)


def _user(key: str, path: str, label: str, **kw: Any) -> Field:
    return _f(key, path, label, FieldType.USER, codec=REF, choices="users", **kw)


CHOICE, DATETIME, MONEY = FieldType.CHOICE, FieldType.DATETIME, FieldType.MONEY
STATUSES = tuple(Choice(value=v, label=v.title()) for v in ("open", "won", "lost"))
TAGS = _shown("tags", "Tags", _tags, type=FieldType.MULTI_CHOICE)
OWNER = _user("owner", "owner_id", "Owner", role=Role.OWNER)
COMMENTS = _f("comments", "comments", "Comments")
# the organization, a reference (shown by its name, picked by name): the vendor's name
# of it is kept as ``company_name`` for search and titles, not offered (one field, not two)
ORGANIZATION = _f("company", "organization_id", "Organization", codec=REF, refers_to="company")
NAME = _f("name", "name", "Name", required=True, role=Role.TITLE)
# shown at once while a new organization is queued: SalesSeek names it with the record
ORGANIZATION_NAME = [Follow(field="company", sets="company_name", rule=FollowRule.NAME)]

RESOURCES = by_kind(
    Resource(
        kind="company",
        path="organizations",
        web="#organizations/{id}",  # the web app's page: a convention (see SalesSeek.web_root)
        label="Organizations",
        singular="Organization",
        codecs=AS_SENT,
        fields=(
            NAME,
            _shown("phone", "Phone", _medium("phone")),
            _shown("website", "Website", _medium("website")),
            _shown("email", "Email", _medium("email"), offered=False),
            _shown("city", "Location", _location),
            OWNER,
            COMMENTS,
            TAGS,
        ),
    ),
    Resource(
        kind="contact",
        path="individuals",
        web="#individuals/{id}",
        label="Individuals",
        singular="Individual",
        codecs=AS_SENT,
        fields=(
            _f("first_name", "first_name", "First name"),
            _f("last_name", "last_name", "Last name"),
            _shown("name", "Name", _full_name, role=Role.TITLE),
            _f("job_title", "role", "Role"),
            ORGANIZATION,
            _shown("company_name", "Organization", _organization_name, offered=False),
            _shown("email", "Email", _medium("email")),
            _shown("phone", "Phone", _medium("phone")),
            OWNER,
            COMMENTS,
            _shown("lead", "Lead", _lead, type=FieldType.BOOL),
            TAGS,
        ),
    ),
    Resource(
        kind="deal",
        path="opportunities",
        web="#opportunities/{id}",
        label="Deals",
        singular="Deal",
        codecs=AS_SENT,
        timeline_fields=("stage",),  # a phase move is an activity ("Moved from … to …")
        fields=(
            NAME,
            # SalesSeek refuses an empty value: "value must be a number"
            _f(
                "amount",
                "value",
                "Value",
                MONEY,
                codec=VALUE,
                min=0,
                clearable=False,
                role=Role.AMOUNT,
            ),
            _f(
                "currency", "currency", "Currency", CHOICE, choices="currencies", role=Role.CURRENCY
            ),
            _f("stage", "phase_id", "Phase", CHOICE, codec=REF, choices="phases", role=Role.STAGE),
            _shown("stage_name", "Phase name", _phase_name, offered=False),
            _f(
                "pipeline",
                "funnel_id",
                "Funnel",
                CHOICE,
                codec=REF,
                writable=False,
                choices="funnels",
                role=Role.PIPELINE,
            ),
            _shown("status", "Status", _status, type=CHOICE, options=STATUSES, role=Role.STATUS),
            _shown("probability", "Weight %", _weight, type=FieldType.NUMBER),
            _f("forecast_status", "status", "Forecast", CHOICE, options=FORECASTS),
            _f(
                "expected_close",
                "expected_close_date",
                "Close date",
                FieldType.DATE,
                codec=CLOSE_DATE,
            ),
            OWNER,
            ORGANIZATION,
            _shown("company_name", "Organization", _deal_organization, offered=False),
            _f(
                "weighted_amount",
                "weighted_value",
                "Weighted value",
                MONEY,
                codec=VALUE,
                writable=False,
            ),
            _f(
                "stage_changed_at",
                "phase_last_changed",
                "Phase changed",
                DATETIME,
                codec=IsoDatetime(),
                writable=False,
                offered=False,
            ),
            _shown("tags", "Tags", _tags, type=FieldType.MULTI_CHOICE, offered=False),
        ),
    ),
    Resource(
        kind="task",
        path="tasks",
        web="#tasks/{id}",
        label="Tasks",
        singular="Task",
        codecs=AS_SENT,
        fields=(
            _f("subject", "text", "Task", required=True, role=Role.TITLE, codec=OR_EMPTY),
            _f("due_at", "due_date", "Due", DATETIME, codec=NaiveUtc(), role=Role.DUE),
            _f("done", "completed", "Completed", FieldType.BOOL, codec=FLAG, role=Role.DONE),
            _user("assignee", "assignee_id", "Assignee"),
            _user("owner", "owner_id", "Owner", writable=False, role=Role.OWNER),
            _shown("related_name", "Related to", _related_name),
            _f(
                "completed_at",
                "complete_date",
                "Completed at",
                DATETIME,
                codec=IsoDatetime(),
                writable=False,
            ),
            Link(key="contact", label="Individual"),
            Link(key="company", label="Organization"),
            Link(key="deal", label="Deal"),
        ),
    ),
    Resource(
        kind="group",
        path="groups",
        web="#groups/{id}",
        label="Groups",
        singular="Group",
        codecs=AS_SENT,
        fields=(
            NAME,
            _f("group_type", "group_type", "Type", writable=False),
            _f("element_type", "element_type", "Contains", writable=False),
            _f(
                "mailing_list",
                "mailing_list",
                "Mailing list",
                FieldType.BOOL,
                codec=FLAG,
                writable=False,
            ),
            _user("owner", "owner_id", "Owner", writable=False, role=Role.OWNER),
            COMMENTS,
        ),
    ),
)


# -- titles and related records ----------------------------------------------------------------


def org_ref(raw: Row) -> dict[str, list[RelatedRef]]:
    org_id = ref(raw.get("organization_id"))
    if not org_id:
        return {}
    name = _organization_name(raw) or org_id
    return {"Organization": [RelatedRef(kind="company", id=org_id, title=name)]}


def describe(kind: str, raw: Row, fields: Json) -> tuple[str, str, dict[str, list[RelatedRef]]]:
    """A record's title, subtitle and related records."""
    name = raw.get("name") or ""
    if kind == "company":
        return name, fields["website"] or fields["phone"] or "", {}
    if kind == "contact":
        subtitle = " · ".join(str(p) for p in (raw.get("role"), fields["company_name"]) if p)
        return fields["name"] or fields["email"] or "", subtitle, org_ref(raw)
    if kind == "deal":
        amount = fields["amount"]
        money = fv.money_text(amount, fields.get("currency"))  # the one money format
        parts = (fields["company_name"], fields["stage_name"], money)
        return name, " · ".join(str(p) for p in parts if p), org_ref(raw)
    if kind == "task":
        text = str(raw.get("text") or "")
        linked = raw.get("related")
        related: Row = linked if isinstance(linked, dict) else {}
        refs: dict[str, list[RelatedRef]] = {}
        for link in LINK_LABELS:
            if fields[link]:
                title = related.get("name") or raw["related_id"]
                refs[LINK_LABELS[link]] = [RelatedRef(kind=link, id=fields[link], title=title)]
        return (text.splitlines() or [""])[0][:80], related.get("name") or "", refs
    subtitle = f"{raw.get('group_type') or ''} group of {raw.get('element_type') or ''}"
    return name, subtitle, {}


# -- custom fields -----------------------------------------------------------------------------


def custom_key(definition: Row) -> str:
    return slug_key(definition["name"])


def custom_field_spec(definition: Row) -> FieldSpec:
    options = definition.get("options") or []
    return custom_spec(
        custom_key(definition),
        definition["name"],
        definition["type"],
        CUSTOM_TYPES,
        required=bool(definition.get("required")),
        choices=[Choice(value=o["id"], label=str(o["value"])) for o in options],
    )


def custom_value(definition: Row, value: Any) -> Any:
    """A custom field's value as SalesSeek sends it -> the neutral value."""
    if value is None or value == "":
        return None
    match definition["type"]:
        case "checkbox":
            return truth(value)  # "false" is False; an odd value unknown
        case "number":
            return number(value)  # text that is no number reads as empty
        case "currency":
            return fv.money(value)
        case "date":
            try:
                return datetime.strptime(str(value), "%m/%d/%Y").date().isoformat()
            except ValueError:
                parsed = fv.parse_date(value)
                return parsed.isoformat() if parsed else None
    return value


def custom_out(definition: Row, value: Any) -> Any:
    """A neutral custom field value as SalesSeek takes it (text; dates ``MM/DD/YYYY``)."""
    if value is None:
        return None
    match definition["type"]:
        case "checkbox":
            return "true" if value else "false"
        case "date":
            parsed = fv.parse_date(value)
            return fv.strftime(parsed, "%m/%d/%Y") if parsed else None
    return str(value)
