"""Deals: ``/deals`` (filters, orders, create, update, delete, bulk owner update), a
contact's deals, deal activities and deal notes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from crmtui.sandbox.activecampaign.common import (
    AcCall,
    Problem,
    SortKey,
    as_int,
    check,
    contains,
    empty,
    equals,
    field_contains,
    filter_time,
    int_text,
    invalid,
    listing,
    not_found,
    ordered,
    records,
    text_problems,
    when,
    with_links,
)
from crmtui.sandbox.activecampaign.contract import declared
from crmtui.sandbox.activecampaign.customfields import render_datum, set_value, value_problem
from crmtui.sandbox.activecampaign.data import (
    EMAIL_TYPES,
    TAGS,
    Db,
    Row,
    add_note,
    plain_stamp,
    stamp,
)
from crmtui.sandbox.kit import reply

DEAL_LINKS = (
    "activities",
    "contact",
    "contactDeals",
    "group",
    "nextTask",
    "notes",
    "account",
    "customerAccount",
    "organization",
    "owner",
    "scoreValues",
    "stage",
    "tasks",
    "dealActivities",
    "dealCustomFieldData",
)
# Deal attribute -> the dealActivities ``dataType`` an edit of it writes.
CREATE = declared("POST /deals")  # its required fields and status values
LOGGED = {"title": "title", "value": "value", "status": "status", "owner": "userid"}
Predicate = Callable[[Row], bool]


def render_deal(row: Row) -> Row:
    return with_links(row, "deals", DEAL_LINKS)


def find_deal(db: Db, id: str) -> Row:
    deal = db.deals.get(id)
    if deal is None:
        raise not_found("Deal", id)
    return deal


# -- filters and orders --------------------------------------------------------------


def _time_bound(key: str, bound: datetime, *, after: bool) -> Predicate:
    """``created_after``/``updated_before`` and the like: ``after`` includes the bound."""
    if after:
        return lambda d: when(d[key]) >= bound
    return lambda d: when(d[key]) < bound


def deal_filters(c: AcCall) -> list[Predicate]:
    """The documented ``filters[...]`` of ``GET /deals`` as predicates (unknown ignored)."""
    db, f = c.db, c.filters()
    out: list[Predicate] = []
    if f.get("search"):
        out.append(_search(db, f["search"], f.get("search_field", "all")))
    if "title" in f:
        out.append(field_contains("title", f["title"]))
    for name in ("stage", "group", "status", "owner"):
        if name in f:
            out.append(equals(name, str(as_int(f[name]))))
    if "nextdate_range" in f:
        out.append(_next_range(c, f["nextdate_range"]))
    if "tag" in f:
        out.append(_tag(db, f["tag"]))
    if "tasktype" in f:
        typed = {t["relid"] for t in db.tasks.values() if t["dealTasktype"] == f["tasktype"]}
        out.append(lambda d: d["id"] in typed)
    for name, field, after in (
        ("created_before", "cdate", False),
        ("created_after", "cdate", True),
        ("updated_before", "mdate", False),
        ("updated_after", "mdate", True),
    ):
        if name in f:
            out.append(_time_bound(field, filter_time(f[name]), after=after))
    if "organization" in f:
        org = str(as_int(f["organization"]))
        out.append(lambda d: db.contacts.get(d["contact"] or "", {}).get("orgid") == org)
    if "minimum_value" in f:
        low = as_int(f["minimum_value"]) * 100
        out.append(lambda d: int(d["value"]) >= low)
    if "maximum_value" in f:
        high = as_int(f["maximum_value"]) * 100
        out.append(lambda d: int(d["value"]) <= high)
    for name, test in (
        ("score", lambda a, b: a == b),
        ("score_greater_than", lambda a, b: a > b),
        ("score_less_than", lambda a, b: a < b),
    ):
        if name in f:
            out.append(_score(db, f[name], test))
    return out


def _search(db: Db, text: str, field: str) -> Predicate:
    hit = contains(text)

    def match(deal: Row) -> bool:
        contact = db.contacts.get(deal["contact"] or "", {})
        org = db.accounts.get(deal["account"] or "", {}).get("name")
        person = f"{contact.get('firstName', '')} {contact.get('lastName', '')} "
        parts = {
            "title": [deal["title"]],
            "contact": [person, contact.get("email")],
            "org": [org],
        }
        chosen = parts.get(field) or [v for values in parts.values() for v in values]
        return any(hit(v) for v in chosen)

    return match


def _next_range(c: AcCall, value: str) -> Predicate:
    """upcoming: next task due within 7 days; scheduled: due later; overdue; no-task."""
    now = c.now

    def due(deal: Row) -> Any:
        return when(deal["nextdate"]) if deal["nextdate"] else None

    tests: dict[str, Predicate] = {
        "upcoming": lambda d: due(d) is not None and now <= due(d) < now + timedelta(days=7),
        "scheduled": lambda d: due(d) is not None and due(d) >= now,
        "overdue": lambda d: due(d) is not None and due(d) < now,
        "no-task": lambda d: due(d) is None,
    }
    return tests.get(value, lambda d: True)


def _tag(db: Db, value: str) -> Predicate:
    """Tag id (or name) of the primary contact; -1 any tag, -2 no tag."""
    tags = db.contact_tags
    if value == "-1":
        return lambda d: bool(tags.get(d["contact"] or ""))
    if value == "-2":
        return lambda d: not tags.get(d["contact"] or "")
    tag = value if value.isdigit() else str(TAGS.index(value) + 1) if value in TAGS else "0"
    return lambda d: tag in tags.get(d["contact"] or "", [])


def _score(db: Db, value: str, test: Callable[[int, int], bool]) -> Predicate:
    score_id, _, number = value.partition(":")
    target = as_int(number)
    return lambda d: (
        score_id in db.deal_scores.get(d["id"], {})
        and test(db.deal_scores[d["id"]][score_id], target)
    )


def deal_orders(c: AcCall) -> dict[str, SortKey]:
    db, now = c.db, c.now

    def contact(d: Row) -> Row:
        return db.contacts.get(d["contact"] or "", {})

    def next_action(d: Row) -> tuple[int, Any]:
        """Next task due first, then no task, then overdue."""
        if not d["nextdate"]:
            return (1, 0)
        due = when(d["nextdate"])
        return (2, due) if due < now else (0, due)

    return {
        "title": lambda d: d["title"].lower(),
        "value": lambda d: int(d["value"]),
        "cdate": lambda d: when(d["cdate"]),
        "contact_name": lambda d: contact(d).get("firstName", "").lower(),
        "contact_orgname": lambda d: (
            db.accounts.get(contact(d).get("orgid", ""), {}).get("name", "").lower()
        ),
        "next-action": next_action,
    }


def currencies(deals: list[Row]) -> dict[str, Any]:
    out: dict[str, dict[str, Any]] = {}
    for deal in deals:
        entry = out.setdefault(
            deal["currency"].upper(), {"currency": deal["currency"], "total": 0, "value": 0}
        )
        entry["total"] += 1
        entry["value"] += int(deal["value"])
    return {k: {**v, "total": str(v["total"]), "value": str(v["value"])} for k, v in out.items()}


# -- /deals -------------------------------------------------------------------------------


async def list_deals(c: AcCall) -> Any:
    tests = deal_filters(c)
    rows = [d for d in c.db.deals.values() if all(t(d) for t in tests)]
    rows = ordered(rows, c.orders(), deal_orders(c))
    page, total = c.page(rows)
    meta = {"total": total, "currencies": currencies(rows)}
    return {"deals": [render_deal(d) for d in page], "meta": meta}


async def get_deal(c: AcCall) -> Any:
    return {"deal": render_deal(find_deal(c.db, c.id))}


def _side(c: AcCall, deal: Row) -> dict[str, Any]:
    """What create and update responses side-load with the deal."""
    contact = c.db.contacts.get(deal["contact"] or "")
    return {
        "contacts": [contact] if contact else [],
        "dealStages": [c.db.stages[deal["stage"]]] if deal["stage"] in c.db.stages else [],
        "deal": render_deal(deal),
    }


def _problems(c: AcCall, body: dict[str, Any], deal: Row | None) -> list[Problem]:
    """Validation of a create (``deal`` None) or an update body."""
    db, out = c.db, []
    creating = deal is None
    for name in CREATE.required:
        if creating and (body.get(name) is None or str(body.get(name)).strip() == ""):
            out.append(Problem(f"The deal {name} was not provided.", "field_missing", name))
    if "title" in body and not creating and not str(body["title"] or "").strip():
        out.append(Problem("The deal title was not provided.", "field_missing", "title"))
    if body.get("value") not in (None, "") or (not creating and body.get("value") == ""):
        # an update's empty value would leave the deal with none (every later list of
        # deals sums them): not valid, as any other value that is no whole number
        value = int_text(body["value"])
        if value is None or int(value) < 0:
            out.append(Problem("The deal value is not valid.", "field_invalid", "value"))
    currency = body.get("currency")
    if currency not in (None, "") and (len(str(currency)) != 3 or not str(currency).isalpha()):
        out.append(Problem("The deal currency is not valid.", "field_invalid", "currency"))
    if creating and not body.get("contact") and not body.get("account"):
        out.append(Problem("The deal contact was not provided.", "field_missing", "contact"))
    if creating and not body.get("group") and not body.get("stage"):
        out.append(Problem("The deal pipeline was not provided.", "field_missing", "group"))
    for name, table in (
        ("contact", db.contacts),
        ("account", db.accounts),
        ("owner", db.users),
        ("group", db.groups),
        ("stage", db.stages),
    ):
        if body.get(name) not in (None, "") and int_text(body[name]) not in table:
            out.append(Problem(f"The deal {name} was not found.", "related_missing", name))
    if "status" in body and int_text(body["status"]) not in CREATE.choices["status"]:
        out.append(Problem("The deal status is not valid.", "field_invalid", "status"))
    if "percent" in body and not 0 <= int(int_text(body["percent"]) or -1) <= 100:
        out.append(Problem("The deal percent is not valid.", "field_invalid", "percent"))
    out.extend(_placement_problems(c, body, deal))
    out.extend(text_problems(body, ("title", "description"), "deal"))
    fields, shape = records(body, "fields", "deal")
    out.extend(shape)
    for item in fields:
        problem = value_problem(db, item.get("customFieldId"), item.get("fieldValue"))
        if problem:
            out.append(problem)
    return out


def _placement(c: AcCall, body: dict[str, Any], deal: Row | None) -> tuple[str | None, str | None]:
    """The (group, stage) a body puts the deal in: a lone group means its first stage."""
    db = c.db
    group, stage = int_text(body.get("group")), int_text(body.get("stage"))
    if stage and not group:
        group = db.stages[stage]["group"] if stage in db.stages else None
        if deal is not None and group != deal["group"] and "group" not in body:
            group = deal["group"]  # a stage alone must belong to the deal's pipeline
    if deal is not None and group == deal["group"] and not stage:
        stage = deal["stage"]  # the same pipeline again: the deal keeps its stage
    if group and not stage and group in db.groups:
        stages = db.stages_of(group)
        stage = stages[0]["id"] if stages else None
    return group, stage


def _placement_problems(c: AcCall, body: dict[str, Any], deal: Row | None) -> list[Problem]:
    group, stage = _placement(c, body, deal)
    if not (group and stage) or group not in c.db.groups or stage not in c.db.stages:
        return []
    if c.db.stages[stage]["group"] != group:
        title = "The deal stage does not belong to the pipeline."
        return [Problem(title, "field_invalid", "stage")]
    return []


async def create_deal(c: AcCall) -> Any:
    body = await c.body("deal")
    check(_problems(c, body, None))
    db = c.db
    group, stage = _placement(c, body, None)
    contact = int_text(body.get("contact"))
    account = int_text(body.get("account")) or (db.contacts[contact]["orgid"] if contact else None)
    did = db.next_id("deals")
    deal = {
        "id": did,
        "hash": f"{abs(hash((did, str(c.now)))) % 16**8:08x}",
        "owner": int_text(body.get("owner")) or c.user,
        "contact": contact,
        "organization": account,
        "account": account,
        "customerAccount": account,
        "group": group,
        "stage": stage,
        "title": str(body["title"]).strip(),
        "description": str(body.get("description") or ""),
        "percent": int_text(body.get("percent")) or "0",
        "value": int_text(body["value"]),
        "currency": str(body["currency"]).lower(),
        "status": int_text(body.get("status")) or "0",
        "winProbability": None,
        "winProbabilityMdate": None,
        "cdate": stamp(c.now),
        "mdate": stamp(c.now),
        "edate": plain_stamp(c.now),
        "nextdate": None,
        "nexttaskid": None,
        "nextdealid": did,
        "activitycount": "0",
        "isDisabled": False,
    }
    db.deals[did] = deal
    db.log(did, "", "add", at=c.now, user=c.user)
    for item in body.get("fields") or []:
        set_value(c, did, item["customFieldId"], item.get("fieldValue"), item.get("fieldCurrency"))
    return reply(_side(c, deal), 201)


def apply_deal(c: AcCall, deal: Row, body: dict[str, Any]) -> None:
    """Apply a validated update body, logging what AC's timeline shows."""
    group, stage = _placement(c, body, deal)
    changes: dict[str, Any] = {}
    for name in ("title", "description", "currency", "value", "owner", "contact", "account"):
        if name in body and body[name] is not None:
            changes[name] = str(body[name]).strip()
    changes.update({k: int_text(body[k]) for k in ("status", "percent") if k in body})
    if "value" in changes:
        changes["value"] = int_text(changes["value"])
    if "currency" in changes:
        changes["currency"] = changes["currency"].lower()
    if "account" in changes:
        changes["organization"] = changes["customerAccount"] = changes["account"]
    if group:
        changes["group"] = group
    if stage:
        changes["stage"] = stage
    for name, new in changes.items():
        old = deal.get(name)
        if new == old:
            continue
        deal[name] = new
        data_type = "d_stageid" if name == "stage" else LOGGED.get(name)
        if data_type:
            was = "" if old is None else str(old)
            # dataId is the related object's id, never a new value (see __init__)
            related = new if data_type in ("d_stageid", "userid") else deal["id"]
            c.db.log(
                deal["id"], data_type, "update", at=c.now, user=c.user, data_id=related, old=was
            )
    for item in body.get("fields") or []:
        set_value(c, deal["id"], item["customFieldId"], item.get("fieldValue"))
    deal["mdate"] = stamp(c.now)


async def update_deal(c: AcCall) -> Any:
    deal = find_deal(c.db, c.id)
    body = await c.body("deal")
    check(_problems(c, body, deal))
    apply_deal(c, deal, body)
    return _side(c, deal)


async def delete_deal(c: AcCall) -> Any:
    find_deal(c.db, c.id)
    drop_deals(c.db, {c.id})
    return empty()


def drop_deals(db: Db, ids: set[str]) -> None:
    """Delete deals with everything that hangs off them."""
    for did in ids:
        db.deals.pop(did, None)
        db.deal_scores.pop(did, None)
    for table, key in (
        (db.activities, "deal"),
        (db.notes, "relid"),
        (db.contact_deals, "deal"),
        (db.cf_data, "dealId"),
    ):
        for rid in [r["id"] for r in table.values() if r[key] in ids]:
            del table[rid]
    for rid in [t["id"] for t in db.tasks.values() if t["reltype"] == "Deal" and t["relid"] in ids]:
        del db.tasks[rid]


async def bulk_update(c: AcCall) -> Any:
    """``PATCH /deals/bulkUpdate``: new owners for many deals."""
    body = await c.body()
    items = body.get("deals") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise invalid([Problem("No deals were provided.", "field_missing", "deals")])
    problems = []
    for item in items:
        owner = int_text(item.get("ownerId")) if isinstance(item, dict) else None
        if owner is None:
            problems.append(Problem("The owner was not provided.", "field_missing", "ownerId"))
        elif owner not in c.db.users:
            problems.append(Problem("The owner was not found.", "related_missing", "ownerId"))
    check(problems)
    result: dict[str, list[str]] = {"success": [], "nochange": [], "failed": []}
    for item in items:
        did = int_text(item.get("id")) or ""
        deal = c.db.deals.get(did)
        if deal is None:
            result["failed"].append(str(item.get("id")))
        elif deal["owner"] == int_text(item["ownerId"]):
            result["nochange"].append(did)
        else:
            apply_deal(c, deal, {"owner": item["ownerId"]})
            result["success"].append(did)
    return result


async def contact_deals_of(c: AcCall) -> Any:
    """``GET /contacts/{id}/deals``: deals whose primary contact this is."""
    if c.id not in c.db.contacts:
        raise not_found("Subscriber", c.id)
    rows = sorted((d for d in c.db.deals.values() if d["contact"] == c.id), key=_id)
    page, total = c.page(rows)
    return {"deals": [render_deal(d) for d in page], "meta": {"total": total}}


async def deal_field_data(c: AcCall) -> Any:
    """``GET /deals/{id}/dealCustomFieldData``: the deal's custom field values."""
    find_deal(c.db, c.id)
    rows = sorted((r for r in c.db.cf_data.values() if r["dealId"] == c.id), key=_id)
    page, total = c.page(rows)
    return listing("dealCustomFieldData", [render_datum(r) for r in page], total)


def linked(
    name: str, field: str, table: str, render: Callable[[Row], Row]
) -> Callable[[AcCall], Any]:
    """A deal's link to one record (``/deals/{id}/stage``): ``{name: <the record>}``, the
    record that the deal's ``field`` names in the ``Db`` table ``table``; ``null`` when the
    deal has none (an account-only deal's ``contact``, ``nextTask`` with no open task)."""

    def handler(c: AcCall) -> Any:
        rows: dict[str, Row] = getattr(c.db, table)
        row = rows.get(find_deal(c.db, c.id)[field] or "")
        return {name: render(row) if row else None}

    return handler


def _id(row: Row) -> int:
    return int(row["id"])


# -- /dealActivities ------------------------------------------------------------------------


def render_activity(row: Row) -> Row:
    out = with_links(row, "dealActivities", ("deal", "user", "stage"))
    return out


async def list_activities(c: AcCall) -> Any:
    """Newest first; ``deal``, ``exclude=email``, ``filters[data_type|data_id]``."""
    deal = c.params.get("id") or c.param("deal")
    if c.params.get("id"):
        find_deal(c.db, c.id)
    f = c.filters()
    exclude = c.param("exclude") == "email"
    rows = [
        a
        for a in c.db.activities.values()
        if (deal is None or a["deal"] == int_text(deal))
        and not (exclude and a["dataType"] in EMAIL_TYPES)
        and ("data_type" not in f or a["dataType"] == f["data_type"])
        and ("data_id" not in f or a["dataId"] == f["data_id"])
    ]
    rows.sort(key=lambda a: (when(a["cdate"]), int(a["id"])), reverse=True)
    page, total = c.page(rows)
    return listing("dealActivities", [render_activity(a) for a in page], total)


# -- notes (public v3, outside the seed) ----------------------------------------------------


def render_note(row: Row) -> Row:
    return with_links(row, "notes", ("activities", "owner", "user", "mentions"))


async def list_deal_notes(c: AcCall) -> Any:
    find_deal(c.db, c.id)
    rows = [n for n in c.db.notes.values() if n["relid"] == c.id and n["reltype"] == "Deal"]
    rows.sort(key=_id)
    page, total = c.page(rows)
    return listing("notes", [render_note(n) for n in page], total)


async def create_deal_note(c: AcCall) -> Any:
    deal = find_deal(c.db, c.id)
    text = str((await c.body("note")).get("note") or "").strip()
    check([] if text else [Problem("The note was not provided.", "field_missing", "note")])
    note = add_note(c.db, c.id, text, c.user, c.now)
    deal["mdate"] = stamp(c.now)
    return reply({"note": render_note(note)}, 201)


async def update_deal_note(c: AcCall) -> Any:
    find_deal(c.db, c.id)
    note_id = str(c.params["note"])
    note = c.db.notes.get(note_id)
    if note is None or note["relid"] != c.id:
        raise not_found("Note", note_id)
    text = str((await c.body("note")).get("note") or "").strip()
    check([] if text else [Problem("The note was not provided.", "field_missing", "note")])
    note.update(note=text, mdate=stamp(c.now))
    return {"note": render_note(note)}


async def get_note(c: AcCall) -> Any:
    note = c.db.notes.get(c.id)
    if note is None:
        raise not_found("Note", c.id)
    return {"note": render_note(note)}
