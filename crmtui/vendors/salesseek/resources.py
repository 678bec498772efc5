"""SalesSeek's kinds: where each lives in the API, and its records read as neutral fields.

Kinds: ``company`` = Organizations, ``contact`` = Individuals, ``deal`` = Opportunities
(shown as "Deals"), ``task`` = Tasks, ``group`` = Groups. Custom fields are keyed
``cf_<name>`` (lower-case, underscores) from their definitions; dropDown values are option
ids (choices).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from crmtui import fields as fv
from crmtui.model import Choice, FieldSpec, FieldType, RelatedRef
from crmtui.vendors.base import record_id

Row = dict[str, Any]
Mapped = tuple[
    str, str, dict[str, Any], dict[str, list[RelatedRef]]
]  # title, subtitle, fields, related

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


def ref(value: Any) -> Any:
    """A reference to another record (owner, organization, phase...): checked as record
    ids are (``record_id``), so ``{"evil": 1}`` or ``1.5`` is refused, never stored."""
    if value is None or value == "":
        return value
    return record_id("SalesSeek", value, "reference to a record")


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def first(items: Any, medium: str) -> str | None:
    """The first ``communication`` value of a medium (or, failing that, of that name)."""
    for item in items or []:
        if item.get("medium") == medium:
            return item.get("value")
    for item in items or []:
        if str(item.get("name", "")).lower() == medium:
            return item.get("value")
    return None


def naive(value: Any) -> str | None:
    """A neutral datetime (ISO, aware) as SalesSeek's naive UTC timestamp."""
    dt = fv.parse_datetime(value)
    return None if dt is None else dt.replace(tzinfo=None).isoformat(timespec="seconds")


def tags(raw: dict[str, Any]) -> list[str]:
    return [t.get("name", "") for t in raw.get("tags") or [] if isinstance(t, dict)]


def org_ref(raw: dict[str, Any]) -> dict[str, list[RelatedRef]]:
    org_id = ref(raw.get("organization_id"))
    if not org_id:
        return {}
    name = raw.get("organization_name") or (raw.get("organization") or {}).get("name") or org_id
    return {"Organization": [RelatedRef(kind="company", id=org_id, title=name)]}


def read_company(raw: Row) -> Mapped:
    comm = raw.get("communication")
    locations = raw.get("locations") or []
    fields = {
        "name": raw.get("name"),
        "phone": first(comm, "phone"),
        "website": first(comm, "website"),
        "email": first(comm, "email"),
        "city": locations[0].get("address") if locations else None,
        "owner": ref(raw.get("owner_id")),
        "comments": raw.get("comments"),
        "tags": tags(raw),
    }
    return raw.get("name") or "", fields["website"] or fields["phone"] or "", fields, {}


def read_contact(raw: Row) -> Mapped:
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
        "email": first(comm, "email"),
        "phone": first(comm, "phone"),
        "owner": ref(raw.get("owner_id")),
        "comments": raw.get("comments"),
        "lead": bool(ref(raw.get("source_id"))),
        "tags": tags(raw),
    }
    subtitle = " · ".join(p for p in (raw.get("role"), company_name) if p)
    return name or fields["email"] or "", subtitle, fields, org_ref(raw)


def read_deal(raw: Row) -> Mapped:
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
        "tags": tags(raw),
    }
    money_text = f"{amount} {raw.get('currency') or ''}".strip() if amount else ""
    subtitle = " · ".join(p for p in (company_name, phase, money_text) if p)
    return raw.get("name") or "", subtitle, fields, org_ref(raw)


def read_task(raw: Row) -> Mapped:
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


def read_group(raw: Row) -> Mapped:
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


READERS: dict[str, Callable[[Row], Mapped]] = {
    "company": read_company,
    "contact": read_contact,
    "deal": read_deal,
    "task": read_task,
    "group": read_group,
}
CUSTOM_KINDS = ("company", "contact", "deal")  # the kinds with custom fields


def custom_spec(d: Row) -> FieldSpec:
    kind = {
        "dropDown": FieldType.CHOICE,
        "checkbox": FieldType.BOOL,
        "number": FieldType.NUMBER,
        "currency": FieldType.MONEY,
        "date": FieldType.DATE,
    }.get(d["type"], FieldType.TEXT)
    choices = [Choice(value=o["id"], label=str(o["value"])) for o in d.get("options") or []]
    return FieldSpec(
        key=f"cf_{slug(d['name'])}",
        label=d["name"],
        type=kind,
        writable=True,
        required=bool(d.get("required")),
        custom=True,
        choices=choices,
    )


def custom_value(d: Row, value: Any) -> Any:
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


def custom_out(d: Row, value: Any) -> Any:
    if value is None:
        return None
    match d["type"]:
        case "checkbox":
            return "true" if value else "false"
        case "date":
            parsed = fv.parse_date(value)
            return parsed.strftime("%m/%d/%Y") if parsed else None
    return str(value)
