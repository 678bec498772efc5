"""Validating and applying the bodies of create/update requests (``{"deal": {...}}``)."""

from __future__ import annotations

import re
from typing import Any

from crmtui.sandbox.freshsales.contract import CREATES
from crmtui.sandbox.freshsales.data import (
    ACTIVITY_OUTCOMES,
    ACTIVITY_TYPES,
    BUSINESS_TYPES,
    CAMPAIGNS,
    COMPETITORS,
    CONTACT_STATUSES,
    CURRENCIES,
    CURRENCY,
    DEAL_PRODUCTS,
    DEAL_REASONS,
    DEAL_TYPES,
    INDUSTRY_TYPES,
    LANGUAGES,
    LEAD_REASONS,
    LEAD_SOURCES,
    LEAD_STAGES,
    PAYMENT_STATUSES,
    PIPELINE_STAGES,
    PIPELINES,
    STAGE,
    TARGET_KIND,
    TERRITORIES,
    Db,
    Row,
    money,
    parse_day,
    parse_when,
    ts,
)
from crmtui.sandbox.kit import ApiError


def invalid(message: str) -> ApiError:
    """A validation error: 400, as accounts made after August 2018 get them."""
    return ApiError(400, message)


_REFS: dict[str, list[Row]] = {
    "territory_id": TERRITORIES,
    "lead_source_id": LEAD_SOURCES,
    "campaign_id": CAMPAIGNS,
    "contact_status_id": CONTACT_STATUSES,
    "currency_id": CURRENCIES,
    "deal_reason_id": DEAL_REASONS,
    "deal_type_id": DEAL_TYPES,
    "deal_product_id": DEAL_PRODUCTS,
    "deal_payment_status_id": PAYMENT_STATUSES,
    "deal_pipeline_id": PIPELINES,
    "industry_type_id": INDUSTRY_TYPES,
    "business_type_id": BUSINESS_TYPES,
    "lead_stage_id": LEAD_STAGES,
    "lead_reason_id": LEAD_REASONS,
    "sales_activity_type_id": ACTIVITY_TYPES,
    "task_type_id": ACTIVITY_TYPES,
    "sales_activity_outcome_id": ACTIVITY_OUTCOMES,
    "outcome_id": ACTIVITY_OUTCOMES,
}
_REF_IDS = {name: {r["id"] for r in rows} for name, rows in _REFS.items()}
_REF_IDS["deal_stage_id"] = set(STAGE)

TEXT = "text"
PERSON_TEXT = [
    "first_name",
    "last_name",
    "job_title",
    "work_number",
    "mobile_number",
    "address",
    "city",
    "state",
    "zipcode",
    "country",
    "time_zone",
    "medium",
    "keyword",
    "facebook",
    "twitter",
    "linkedin",
]
ACCOUNT_TEXT = [
    "name",
    "address",
    "city",
    "state",
    "zipcode",
    "country",
    "website",
    "phone",
    "facebook",
    "twitter",
    "linkedin",
]

# field -> how its input is read; unknown fields are ignored, as the real API does
WRITABLE: dict[str, dict[str, str]] = {
    "contacts": {
        **dict.fromkeys(PERSON_TEXT, TEXT),
        "email": "email",
        "emails": "emails",
        "owner_id": "user",
        "territory_id": "ref",
        "lead_source_id": "ref",
        "campaign_id": "ref",
        "contact_status_id": "ref",
        "lead_score": "int",
        "custom_field": "custom",
    },
    "leads": {
        **dict.fromkeys(PERSON_TEXT, TEXT),
        "email": "email",
        "emails": "emails",
        "owner_id": "user",
        "territory_id": "ref",
        "lead_source_id": "ref",
        "campaign_id": "ref",
        "lead_stage_id": "ref",
        "lead_reason_id": "ref",
        "lead_score": "int",
        "custom_field": "custom",
    },
    "sales_accounts": {
        **dict.fromkeys(ACCOUNT_TEXT, TEXT),
        "owner_id": "user",
        "territory_id": "ref",
        "industry_type_id": "ref",
        "business_type_id": "ref",
        "number_of_employees": "int",
        "annual_revenue": "int",
        "parent_sales_account_id": "account",
        "custom_field": "custom",
    },
    "deals": {
        "name": TEXT,
        "amount": "money",
        "currency_id": "ref",
        "sales_account_id": "account",
        "deal_pipeline_id": "ref",
        "deal_stage_id": "ref",
        "deal_reason_id": "ref",
        "deal_type_id": "ref",
        "deal_product_id": "ref",
        "deal_payment_status_id": "ref",
        "lead_source_id": "ref",
        "campaign_id": "ref",
        "territory_id": "ref",
        "owner_id": "user",
        "expected_close": "date",
        "closed_date": "date",
        "probability": "percent",
        "custom_field": "custom",
    },
    "tasks": {
        "title": TEXT,
        "description": TEXT,
        "due_date": "datetime",
        "owner_id": "user",
        "status": "status",
        "targetable_type": "target_type",
        "targetable_id": "int",
        "outcome_id": "ref",
        "task_type_id": "ref",
    },
    "appointments": {
        "title": TEXT,
        "description": TEXT,
        "location": TEXT,
        "time_zone": TEXT,
        "from_date": "datetime",
        "end_date": "datetime",
        "is_allday": "bool",
        "targetable_type": "target_type",
        "targetable_id": "int",
        "outcome_id": "ref",
        "latitude": TEXT,
        "longitude": TEXT,
        "checkedin_at": "datetime",
    },
    "notes": {"description": TEXT, "targetable_type": "target_type", "targetable_id": "int"},
    "sales_activities": {
        "title": TEXT,
        "notes": TEXT,
        "sales_activity_type_id": "ref",
        "sales_activity_outcome_id": "ref",
        "start_date": "datetime",
        "end_date": "datetime",
        "owner_id": "user",
        "targetable_type": "target_type",
        "targetable_id": "int",
        "location": TEXT,
        "latitude": TEXT,
        "longitude": TEXT,
        "checkedin_at": "datetime",
        "custom_field": "custom",
    },
}
# required on create: as the contract declares each kind's create
REQUIRED: dict[str, tuple[str, ...]] = {kind: CREATES[kind].required for kind in WRITABLE}
CUSTOM_FIELDS: dict[str, dict[str, str]] = {
    "contacts": {"cf_preferred_language": "choice:languages", "cf_newsletter": "bool"},
    "leads": {"cf_primary": "bool"},
    "sales_accounts": {"cf_domain_name": TEXT, "cf_renewal_date": "date"},
    "deals": {"cf_number_of_agents": "int", "cf_competitor": "choice:competitors"},
    "sales_activities": {"cf_customer_option": "bool"},
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LABELS = {"last_name": "Last name", "name": "Name", "amount": "Deal value", "title": "Title"}


def _label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def _int(name: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise invalid(f"{_label(name)} is not a number")
    try:
        return int(str(value).strip())
    except ValueError:
        raise invalid(f"{_label(name)} is not a number") from None


def body_id(name: str, value: Any) -> int:
    """An id a body gives (``"selected_ids": [1, "2"]``): a whole number, else the 400."""
    number = _int(name, value)
    if number is None:
        raise invalid(f"{_label(name)} can't be blank")
    return number


DECIMAL_15_4 = 99_999_999_999.9999  # the largest decimal(15,4), as the CPQ tables type prices


def _number(label: str, value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise invalid(f"{label} {what}")
    try:
        return float(value)
    except ValueError:
        raise invalid(f"{label} {what}") from None


def _bound(number: float) -> str:
    return f"{number:f}".rstrip("0").rstrip(".")


def decimal(name: str, value: Any, high: float = DECIMAL_15_4) -> float:
    """A number a body gives (``2000``, ``"2000.5"``) from 0 to ``high``, else the 400."""
    label = _label(name)
    number = _number(label, value, "is not a number")
    if not 0 <= number <= high:  # NaN and the infinities fail too
        raise invalid(f"{label} must be between 0 and {_bound(high)}")
    return number


def whole(name: str, value: Any, low: int, high: int) -> int:
    """A whole number a body gives (``2``, ``"2"``, ``2.0``) from ``low`` to ``high``."""
    label = _label(name)
    number = _number(label, value, "must be a whole number")
    if not number.is_integer():  # NaN and the infinities are not
        raise invalid(f"{label} must be a whole number")
    if not low <= number <= high:
        raise invalid(f"{label} must be between {low} and {high}")
    return int(number)


def hashes(name: str, value: Any) -> list[Row]:
    """A body's list of hashes (``task_users_attributes``), else the 400."""
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise invalid(f"{name} must be a list of hashes")
    return value


def ids(name: str, value: Any) -> list[int]:
    """A body's list of ids (``contacts_added_list``), else the 400."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise invalid(f"{name} must be a list of ids")
    return [body_id(name, v) for v in value]


def read_value(db: Db, name: str, how: str, value: Any) -> Any:
    """One input value as stored, or an ``ApiError`` saying why it cannot be."""
    if how == TEXT:
        return None if value is None else str(value)
    if how in ("int", "ref", "user", "account"):
        number = _int(name, value)
        if number is None:
            return None
        known = {
            "ref": lambda: number in _REF_IDS[name],
            "user": lambda: number in db.users,
            "account": lambda: number in db.sales_accounts,
        }.get(how)
        if known is not None and not known():
            raise invalid(f"Invalid {_label(name).lower()}: {number} does not exist")
        return number
    if how == "money":
        try:
            return money(float(str(value)))
        except ValueError:
            raise invalid(f"{_label(name)} is not a number") from None
    if how == "percent":
        number = _int(name, value)
        if number is not None and not 0 <= number <= 100:
            raise invalid("Probability must be between 0 and 100")
        return number
    if how == "date":
        if value in (None, ""):
            return None
        day = parse_day(value)
        if day is None:
            raise invalid(f"{_label(name)} is not a valid date")
        return day.isoformat()
    if how == "datetime":
        if value in (None, ""):
            return None
        when = parse_when(value)
        if when is None:
            raise invalid(f"{_label(name)} is not a valid date")
        return ts(when)
    if how == "bool":
        return value in (True, "true", "1", 1)
    if how == "status":
        number = _int(name, value)
        if number not in (0, 1):
            raise invalid("Status must be 0 (open) or 1 (completed)")
        return number
    if how == "target_type":
        if value not in TARGET_KIND:
            raise invalid("Targetable type must be one of Lead, Contact, SalesAccount, Deal")
        return value
    if how == "email":
        if value in (None, ""):
            return None
        if not EMAIL.match(str(value)):
            raise invalid("Email is invalid")
        return str(value)
    raise AssertionError(how)


def read_custom(kind: str, current: Row, values: Any) -> Row:
    """A ``custom_field`` hash merged into the stored one."""
    if not isinstance(values, dict):
        raise invalid("custom_field must be a hash")
    known = CUSTOM_FIELDS.get(kind, {})
    out = dict(current)
    for name, value in values.items():
        how = known.get(name)
        if how is None:
            raise invalid(f"Unknown custom field {name}")
        if how.startswith("choice:"):
            choices = LANGUAGES if how.endswith("languages") else COMPETITORS
            if value not in (None, "", *choices):
                raise invalid(f"{value} is not a valid choice for {name}")
            out[name] = value or None
        elif how == "int":
            out[name] = _int(name, value)
        elif how == "date":
            out[name] = read_value_date(name, value)
        elif how == "bool":
            out[name] = value in (True, "true", "1", 1)
        else:
            out[name] = None if value is None else str(value)
    return out


def read_value_date(name: str, value: Any) -> str | None:
    if value in (None, ""):
        return None
    day = parse_day(value)
    if day is None:
        raise invalid(f"{name} is not a valid date")
    return day.isoformat()


def read_body(db: Db, kind: str, body: Any, wrapper: str, current: Row | None) -> Row:
    """The writable values of ``{"<wrapper>": {...}}``, checked; raises ``ApiError``."""
    if not isinstance(body, dict) or not isinstance(body.get(wrapper), dict):
        raise invalid(f"Request body must be a JSON object with a '{wrapper}' hash")
    given: Row = body[wrapper]
    values: Row = {}
    for name, how in WRITABLE[kind].items():
        if name not in given:
            continue
        if how == "custom":
            values[name] = read_custom(kind, (current or {}).get("custom_field") or {}, given[name])
        elif how == "emails":
            values[name] = read_emails(given[name])
        else:
            values[name] = read_value(db, name, how, given[name])
    merged = {**(current or {}), **values}
    for name in REQUIRED[kind]:
        if (current is None or name in values) and merged.get(name) in (None, ""):
            raise invalid(f"{_label(name)} can't be blank")
    moved = "targetable_id" in values or "targetable_type" in values
    target = db.target(merged.get("targetable_type") or "", merged.get("targetable_id") or 0)
    if moved and target is None:
        raise invalid("Targetable not found: no such lead, contact, account or deal")
    return values


def read_emails(value: Any) -> list[Row]:
    """``emails``: a list of ``{"value", "is_primary"}`` hashes (or of plain strings)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise invalid("emails must be a list")
    out: list[Row] = []
    for i, item in enumerate(value):
        if not isinstance(item, str | dict):
            raise invalid("emails must be a list of addresses or hashes")
        entry = {"value": item} if isinstance(item, str) else dict(item or {})
        address = str(entry.get("value") or "")
        if not EMAIL.match(address):
            raise invalid("Email is invalid")
        primary = bool(entry.get("is_primary")) if "is_primary" in entry else i == 0
        out.append(
            {
                "id": entry.get("id"),
                "value": address,
                "is_primary": primary,
                "label": entry.get("label"),
            }
        )
    if out and not any(e["is_primary"] for e in out):
        out[0]["is_primary"] = True
    return out


def stage_for(deal: Row, values: Row) -> None:
    """Keep a deal's stage and pipeline consistent after ``values`` are read."""
    for name in ("deal_stage_id", "deal_pipeline_id"):
        if name in values and values[name] is None:  # null or "": a deal is always in one
            raise invalid(f"{_label(name)} can't be blank")
    stage_id = values.get("deal_stage_id")
    pipeline_id = values.get("deal_pipeline_id")
    if stage_id is not None:
        stage = STAGE[stage_id]
        if pipeline_id is not None and stage["deal_pipeline_id"] != pipeline_id:
            raise invalid("Deal stage does not belong to the deal pipeline")
        values["deal_pipeline_id"] = stage["deal_pipeline_id"]
    elif pipeline_id is not None and pipeline_id != deal.get("deal_pipeline_id"):
        values["deal_stage_id"] = PIPELINE_STAGES[pipeline_id][0]["id"]
    final_stage = STAGE[values.get("deal_stage_id") or deal["deal_stage_id"]]
    reason = values.get("deal_reason_id", deal.get("deal_reason_id"))
    if reason is not None and final_stage["forecast_type"] != "Lost":
        if "deal_reason_id" in values:
            raise invalid('Lost reason can be set only if the deal is in "Lost" stage')
        values["deal_reason_id"] = None


def base_amount(amount: str | None, currency_id: int | None) -> str | None:
    if amount is None:
        return None
    rate = float(CURRENCY.get(currency_id or 0, CURRENCIES[0])["exchange_rate"])
    return money(float(amount) * rate)
