"""ActiveCampaign's kinds: pipelines, deals, deal tasks and contacts, and their values.

Numbers and ids come as strings (``meta.total`` sometimes a number): everything is
coerced. Deals: ``value`` is cents -> ``amount`` money text; currency upper-cased;
``status`` 0/1/2 -> open/won/lost; pipeline = ``group``; the close date is the built-in
"Forecasted Close Date" custom field (``expected_close``); other custom fields are
``cf_<label>``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from crmtui.fields import cents_to_money, iso, money_to_cents, parse_date, parse_datetime
from crmtui.model import Choice, FieldSpec, FieldType
from crmtui.vendors.base import record_id

Row = dict[str, Any]
STATUS = {"0": "open", "1": "won", "2": "lost"}
STATUS_CODE = {label: code for code, label in STATUS.items()}
FORECAST = "Forecasted Close Date"
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


def slug(label: str) -> str:
    return "cf_" + re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def person_name(contact: Row | None) -> str:
    if not contact:
        return ""
    name = f"{contact.get('firstName') or ''} {contact.get('lastName') or ''}".strip()
    return name or txt(contact.get("email"))


def custom_spec(meta: Row) -> FieldSpec:
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
        number = Decimal(str(value))
        return int(number) if number == number.to_integral_value() else float(number)
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
