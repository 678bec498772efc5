"""Deal custom fields: ``/dealCustomFieldMeta`` (definitions) and ``/dealCustomFieldData``
(values, with bulk create and bulk update)."""

from __future__ import annotations

from datetime import date
from typing import Any

from crmtui.sandbox.activecampaign.common import (
    AcCall,
    Problem,
    as_int,
    check,
    empty,
    int_text,
    invalid,
    listing,
    meta_not_found,
    text_problems,
    with_links,
)
from crmtui.sandbox.activecampaign.contract import declared
from crmtui.sandbox.activecampaign.data import (
    Db,
    Row,
    datum_row,
    meta_row,
    parse_stamp,
    plain_stamp,
    stamp,
)

FIELD_TYPES = declared("POST /dealCustomFieldMeta").choices["fieldType"]


def field_value(meta: Row, value: Any) -> Any:
    """The value as stored for the field's type; raises ValueError if it cannot be."""
    kind, options = meta["fieldType"], meta.get("fieldOptions") or []
    if value is None or value == "":
        return ""
    if kind == "date":
        return date.fromisoformat(str(value)).isoformat()
    if kind == "datetime":
        if parse_stamp(str(value)) is None:
            raise ValueError(value)
        return str(value)
    if kind == "number":
        float(str(value))
        return str(value)
    if kind == "currency":
        return str(int(str(value)))
    if kind in ("dropdown", "radio"):
        if options and str(value) not in options:
            raise ValueError(value)
        return str(value)
    if kind in ("multiselect", "checkbox"):
        items = value if isinstance(value, list) else str(value).strip("|").split("||")
        if options and any(str(v) not in options for v in items):
            raise ValueError(value)
        return [str(v) for v in items]
    return str(value)


def value_problem(db: Db, field_id: Any, value: Any, index: int = 0) -> Problem | None:
    """Why ``value`` cannot go into custom field ``field_id`` (None if it can)."""
    meta = db.cf_meta.get(int_text(field_id) or "")
    if meta is None:
        return Problem("The custom field was not found.", "related_missing", "customFieldId")
    try:
        field_value(meta, value)
    except (ValueError, TypeError):
        label = meta["fieldLabel"]
        return Problem(f"{value!r} is not a valid {label}.", "field_invalid", "fieldValue")
    return None


def set_value(ctx: AcCall, deal_id: str, field_id: str, value: Any, currency: Any = None) -> Row:
    """Create or update a deal's value of one field (validated already)."""
    db, field_id = ctx.db, str(int(str(field_id)))
    stored = field_value(db.cf_meta[field_id], value)
    row = next(
        (
            r
            for r in db.cf_data.values()
            if r["dealId"] == deal_id and r["customFieldId"] == field_id
        ),
        None,
    )
    if row is None:
        row = datum_row(db, deal_id, field_id, stored, ctx.now)
    row["fieldValue"] = stored
    row["updatedTimestamp"] = plain_stamp(ctx.now)
    if currency:
        row["fieldCurrency"] = str(currency).lower()
    touch_deal(ctx, deal_id)
    return row


def touch_deal(ctx: AcCall, deal_id: str) -> None:
    deal = ctx.db.deals.get(deal_id)
    if deal is not None:
        deal["mdate"] = stamp(ctx.now)


def render_meta(row: Row) -> Row:
    return with_links(row, "dealCustomFieldMeta", ("dealCustomFieldData",))


def render_datum(row: Row) -> Row:
    return with_links(row, "dealCustomFieldData", ("deal", "customField"))


# -- /dealCustomFieldMeta ----------------------------------------------------------------


async def list_meta(c: AcCall) -> Any:
    rows = sorted(c.db.cf_meta.values(), key=lambda m: int(m["id"]))
    page, total = c.page(rows)
    return listing("dealCustomFieldMeta", [render_meta(r) for r in page], total)


async def create_meta(c: AcCall) -> Any:
    body = await c.body("dealCustomFieldMetum")
    problems = _meta_shape(body)
    if not problems and not str(body.get("fieldLabel") or "").strip():
        problems.append(Problem("The field label was not provided.", "field_missing", "fieldLabel"))
    if body.get("fieldType") not in FIELD_TYPES:
        problems.append(Problem("The field type is not valid.", "field_invalid", "fieldType"))
    check(problems)
    mid = c.db.next_id("cf_meta")
    row = meta_row(mid, str(body["fieldLabel"]).strip(), body["fieldType"], None, c.now)
    _apply_meta(row, body)
    c.db.cf_meta[mid] = row
    return {"dealCustomFieldMetum": render_meta(row)}


def _meta_shape(body: dict[str, Any]) -> list[Problem]:
    """A label that is no text, or options that are no list: v3's 422 ``field_invalid``."""
    problems = text_problems(body, ("fieldLabel", "fieldDefault", "fieldDefaultCurrency"), "field")
    if not isinstance(body.get("fieldOptions", []), list | None):
        problems.append(
            Problem("The field fieldOptions is not valid.", "field_invalid", "fieldOptions")
        )
    return problems


def _apply_meta(row: Row, body: dict[str, Any]) -> None:
    for key in ("fieldLabel", "fieldOptions", "fieldDefault", "fieldDefaultCurrency"):
        if key in body:
            row[key] = body[key]
    for key in ("isRequired", "isFormVisible", "displayOrder"):
        if key in body:
            row[key] = as_int(body[key])


def _meta(c: AcCall) -> Row:
    row = c.db.cf_meta.get(c.id)
    if row is None:
        raise meta_not_found()
    return row


async def get_meta(c: AcCall) -> Any:
    return {"dealCustomFieldMetum": render_meta(_meta(c))}


async def update_meta(c: AcCall) -> Any:
    row = _meta(c)
    body = await c.body("dealCustomFieldMetum")
    check(_meta_shape(body))
    _apply_meta(row, body)
    row["updatedTimestamp"] = plain_stamp(c.now)
    return {"dealCustomFieldMetum": render_meta(row)}


async def delete_meta(c: AcCall) -> Any:
    _meta(c)
    del c.db.cf_meta[c.id]
    for rid in [r["id"] for r in c.db.cf_data.values() if r["customFieldId"] == c.id]:
        del c.db.cf_data[rid]
    return empty()


# -- /dealCustomFieldData -----------------------------------------------------------------


async def list_data(c: AcCall) -> Any:
    deal = c.filters().get("dealId")
    rows = [r for r in c.db.cf_data.values() if deal is None or r["dealId"] == int_text(deal)]
    rows.sort(key=lambda r: int(r["id"]))
    page, total = c.page(rows)
    return listing("dealCustomFieldData", [render_datum(r) for r in page], total)


def _new_problems(c: AcCall, item: dict[str, Any]) -> list[Problem]:
    deal_id = int_text(item.get("dealId"))
    problems = []
    if deal_id is None or deal_id not in c.db.deals:
        problems.append(Problem("The deal was not found.", "related_missing", "dealId"))
    field_id = item.get("customFieldId", item.get("dealCustomFieldMetumId"))
    problem = value_problem(c.db, field_id, item.get("fieldValue"))
    if "fieldValue" not in item:  # required on create (contract.py)
        problems.append(Problem("The field value was not provided.", "field_missing", "fieldValue"))
    if problem:
        problems.append(problem)
    elif deal_id and any(
        r["dealId"] == deal_id and r["customFieldId"] == int_text(field_id)
        for r in c.db.cf_data.values()
    ):
        problems.append(Problem("The deal already has this field.", "field_invalid", "dealId"))
    return problems


def _create(c: AcCall, item: dict[str, Any]) -> Row:
    field_id = item.get("customFieldId", item.get("dealCustomFieldMetumId"))
    deal_id = str(int_text(item["dealId"]))
    return set_value(c, deal_id, str(field_id), item.get("fieldValue"), item.get("fieldCurrency"))


async def create_datum(c: AcCall) -> Any:
    item = await c.body("dealCustomFieldDatum")
    check(_new_problems(c, item))
    return {"dealCustomFieldDatum": render_datum(_create(c, item))}


def _items(body: Any) -> list[dict[str, Any]]:
    items = body.get("dealCustomFieldData") if isinstance(body, dict) else body
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        problem = Problem("No field values were provided.", "field_missing", "dealCustomFieldData")
        raise invalid([problem])
    return items


async def bulk_create(c: AcCall) -> Any:
    items = _items(await c.body())
    check([p for item in items for p in _new_problems(c, item)])
    rows = [render_datum(_create(c, item)) for item in items]
    return {"dealCustomFieldData": rows}


async def bulk_update(c: AcCall) -> Any:
    items = _items(await c.body())
    problems = []
    for item in items:
        row = c.db.cf_data.get(int_text(item.get("id")) or "")
        if row is None:
            problems.append(Problem("The field value was not found.", "related_missing", "id"))
        elif problem := value_problem(c.db, row["customFieldId"], item.get("fieldValue")):
            problems.append(problem)
    check(problems)
    rows = []
    for item in items:
        row = c.db.cf_data[str(int_text(item["id"]))]
        rows.append(render_datum(_update(c, row, item)))
    return {"dealCustomFieldData": rows}


def _update(c: AcCall, row: Row, item: dict[str, Any]) -> Row:
    currency = item.get("fieldCurrency")
    return set_value(c, row["dealId"], row["customFieldId"], item.get("fieldValue"), currency)


def _datum(c: AcCall) -> Row:
    row = c.db.cf_data.get(c.id)
    if row is None:
        raise meta_not_found()
    return row


async def get_datum(c: AcCall) -> Any:
    return {"dealCustomFieldDatum": render_datum(_datum(c))}


async def update_datum(c: AcCall) -> Any:
    row = _datum(c)
    item = await c.body("dealCustomFieldDatum")
    problem = value_problem(c.db, row["customFieldId"], item.get("fieldValue"))
    check([problem] if problem else [])
    return {"dealCustomFieldDatum": render_datum(_update(c, row, item))}


async def delete_datum(c: AcCall) -> Any:
    row = _datum(c)
    del c.db.cf_data[row["id"]]
    touch_deal(c, row["dealId"])
    return empty()
