"""Deal tasks (``/dealTasks``) and task types (``/dealTasktypes``, moving a type's tasks)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from crmtui.sandbox.activecampaign.common import (
    AcCall,
    ApiError,
    Problem,
    as_int,
    bad_request,
    check,
    empty,
    equals,
    field_contains,
    filter_time,
    int_text,
    listing,
    not_found,
    when,
    with_links,
)
from crmtui.sandbox.activecampaign.contract import declared
from crmtui.sandbox.activecampaign.data import Db, Row, new_task, parse_stamp, stamp
from crmtui.sandbox.activecampaign.deals import find_deal
from crmtui.sandbox.kit import reply

TASK_LINKS = ("notes", "activities", "user", "deal", "dealTasktype", "taskOutcome")
CREATE = declared("POST /dealTasks")  # its required fields and status values
TYPE_STATUS = declared("POST /dealTasktypes").choices["status"]
RELTYPES = {"deal": "Deal", "contact": "Subscriber", "subscriber": "Subscriber"}
Predicate = Callable[[Row], bool]


def render_task(row: Row, single: bool = False) -> Row:
    """A task; like AC, ``status`` is a number in lists and a string alone."""
    out = with_links(row, "dealTasks", TASK_LINKS)
    if single:
        out["status"] = str(out["status"])
    return out


def _task(db: Db, id: str) -> Row:
    row = db.tasks.get(id)
    if row is None:
        raise not_found("DealTask", id)
    return row


def _log(c: AcCall, task: Row, action: str) -> None:
    """Task events on a deal's timeline; the deal's next task and ``mdate`` follow."""
    if task["reltype"] != "Deal" or task["relid"] not in c.db.deals:
        return
    c.db.log(
        task["relid"],
        "task",
        action,
        at=c.now,
        user=c.user,
        data_id=task["id"],
        is_add_task=action == "add",
    )
    c.db.refresh_next(task["relid"])
    c.db.deals[task["relid"]]["mdate"] = stamp(c.now)


# -- /dealTasks ---------------------------------------------------------------------------


def task_filters(c: AcCall) -> list[Predicate]:
    f = c.filters()
    out: list[Predicate] = []
    for name, field in (("title", "title"), ("note", "note")):
        if name in f:
            out.append(field_contains(field, f[name]))
    if "reltype" in f:
        reltype = RELTYPES.get(f["reltype"].lower(), f["reltype"])
        out.append(lambda t: t["reltype"] == reltype)
    for name, field in (
        ("relid", "relid"),
        ("status", "status"),
        ("d_tasktypeid", "dealTasktype"),
        ("userid", "user"),
        ("assignee_userid", "assignee"),
        ("outcome_id", "outcomeId"),
    ):
        if name in f:
            out.append(equals(field, str(as_int(f[name]))))
    if "duedate" in f:
        day = f["duedate"][:10]
        out.append(lambda t: t["duedate"][:10] == day)
    if "due_after" in f:
        bound = filter_time(f["due_after"])
        out.append(lambda t: when(t["duedate"]) > bound)
    if "due_before" in f:
        bound = filter_time(f["due_before"])
        out.append(lambda t: when(t["duedate"]) < bound)
    if "duedate_range" in f:
        out.append(_range(c, f["duedate_range"]))
    return out


def _range(c: AcCall, value: str) -> Predicate:
    """``YYYY-MM-DD+YYYY-MM-DD`` (inclusive days) or upcoming|scheduled|overdue (open)."""
    now = c.now
    named: dict[str, Predicate] = {
        "upcoming": lambda t: now <= when(t["duedate"]) < now + timedelta(days=7),
        "scheduled": lambda t: when(t["duedate"]) >= now,
        "overdue": lambda t: when(t["duedate"]) < now,
    }
    if value in named:
        test = named[value]
        return lambda t: int(t["status"]) == 0 and test(t)
    start, _, end = value.replace(" ", "+").partition("+")
    if not start or not end:
        raise bad_request()
    return lambda t: start <= t["duedate"][:10] <= end


async def list_tasks(c: AcCall) -> Any:
    tests = task_filters(c)
    rows = [t for t in c.db.tasks.values() if all(test(t) for test in tests)]
    rows.sort(key=lambda t: int(t["id"]))
    page, total = c.page(rows)
    return listing("dealTasks", [render_task(t) for t in page], total)


async def deal_tasks(c: AcCall) -> Any:
    """``GET /deals/{id}/tasks``: the deal's tasks, in id order."""
    find_deal(c.db, c.id)
    rows = [t for t in c.db.tasks.values() if t["reltype"] == "Deal" and t["relid"] == c.id]
    rows.sort(key=lambda t: int(t["id"]))
    page, total = c.page(rows)
    return listing("dealTasks", [render_task(t) for t in page], total)


def _task_problems(c: AcCall, body: dict[str, Any], creating: bool) -> list[Problem]:
    db, out = c.db, []
    if creating:
        for name in CREATE.required:
            if body.get(name) in (None, ""):
                out.append(Problem(f"The task {name} was not provided.", "field_missing", name))
    reltype = RELTYPES.get(str(body.get("ownerType") or "deal").lower())
    if reltype is None:
        out.append(Problem("The task owner type is not valid.", "field_invalid", "ownerType"))
    relid = int_text(body.get("relid"))
    if body.get("relid") not in (None, ""):
        table = db.deals if reltype == "Deal" else db.contacts
        if relid not in table:
            out.append(
                Problem("The task's deal or contact was not found.", "related_missing", "relid")
            )
    for name in ("duedate", "edate"):
        if body.get(name) not in (None, "") and parse_stamp(str(body[name])) is None:
            out.append(Problem(f"The task {name} is not a date.", "field_invalid", name))
    for name, table in (("dealTasktype", db.tasktypes), ("assignee", db.users)):
        if body.get(name) not in (None, "") and int_text(body[name]) not in table:
            out.append(Problem(f"The task {name} was not found.", "related_missing", name))
    if "status" in body and int_text(body["status"]) not in CREATE.choices["status"]:
        out.append(Problem("The task status is not valid.", "field_invalid", "status"))
    return out


async def create_task(c: AcCall) -> Any:
    body = await c.body("dealTask")
    check(_task_problems(c, body, True), 400)
    reltype = RELTYPES[str(body.get("ownerType") or "deal").lower()]
    due = parse_stamp(str(body["duedate"]))
    assert due is not None  # _task_problems refused a missing or unreadable duedate
    task = new_task(
        c.db,
        reltype,
        str(int_text(body["relid"])),
        str(int_text(body["dealTasktype"])),
        due,
        c.user,
        c.now,
        body.get("title"),
        str(body.get("note") or ""),
        int_text(body.get("assignee")),
    )
    if body.get("edate"):
        task["edate"] = stamp(parse_stamp(str(body["edate"])))
    _log(c, task, "add")
    if int_text(body.get("status")) == "1":
        _complete(c, task)
    return reply({"dealTask": render_task(task, single=True)}, 201)


def _complete(c: AcCall, task: Row) -> None:
    task.update(status=1, donedate=stamp(c.now), udate=stamp(c.now))
    _log(c, task, "complete")


async def get_task(c: AcCall) -> Any:
    return {"dealTask": render_task(_task(c.db, c.id), single=True)}


async def update_task(c: AcCall) -> Any:
    """Partial; a new ``duedate`` without ``edate`` keeps the duration."""
    task = _task(c.db, c.id)
    body = await c.body("dealTask")
    check(_task_problems(c, body, False), 400)
    changed = _apply_task(task, body)
    status = int_text(body.get("status"))
    task["udate"] = stamp(c.now)
    if status == "1" and int(task["status"]) == 0:
        task["outcomeId"] = int_text(body.get("outcomeId")) or task["outcomeId"]
        _complete(c, task)
    elif status == "0" and int(task["status"]) == 1:
        task.update(status=0, donedate=None)
        _log(c, task, "update")
    elif changed:
        _log(c, task, "update")
    return {"dealTask": render_task(task, single=True)}


def _apply_task(task: Row, body: dict[str, Any]) -> bool:
    before = dict(task)
    for name in ("title", "note", "outcomeInfo"):
        if name in body:
            task[name] = body[name]
    for name in ("dealTasktype", "assignee", "relid"):
        if body.get(name) not in (None, ""):
            task[name] = int_text(body[name])
    if body.get("ownerType"):
        task["reltype"] = RELTYPES[str(body["ownerType"]).lower()]
    task["owner"] = {
        "type": "deal" if task["reltype"] == "Deal" else "contact",
        "id": task["relid"],
    }
    # _task_problems refused a duedate that is not a date
    if body.get("duedate") and (due := parse_stamp(str(body["duedate"]))):
        old_due, old_end = when(task["duedate"]), when(task["edate"])
        task["duedate"] = stamp(due)
        task["edate"] = stamp(due + (old_end - old_due))
    if body.get("edate"):
        task["edate"] = stamp(parse_stamp(str(body["edate"])))
    return task != before


async def delete_task(c: AcCall) -> Any:
    task = _task(c.db, c.id)
    del c.db.tasks[task["id"]]
    _log(c, task, "delete")
    return empty()


# -- /dealTasktypes -----------------------------------------------------------------------


def render_type(row: Row) -> Row:
    return with_links(row, "dealTasktypes", ("dealTasks", "taskOutcomes"))


def _type(db: Db, id: str) -> Row:
    row = db.tasktypes.get(id)
    if row is None:
        raise not_found("DealTasktype", id)
    return row


async def list_types(c: AcCall) -> Any:
    rows = sorted(c.db.tasktypes.values(), key=lambda t: int(t["id"]))
    page, total = c.page(rows)
    return listing("dealTasktypes", [render_type(t) for t in page], total)


def _type_problems(body: dict[str, Any], creating: bool) -> list[Problem]:
    out = []
    if (creating or "title" in body) and not str(body.get("title") or "").strip():
        out.append(Problem("The task type title was not provided.", "field_missing", "title"))
    if "status" in body and int_text(body["status"]) not in TYPE_STATUS:
        out.append(Problem("The task type status is not valid.", "field_invalid", "status"))
    return out


def _apply_type(row: Row, body: dict[str, Any]) -> None:
    if body.get("title") is not None:
        row["title"] = str(body["title"]).strip()
    for name in ("status", "defduration"):
        if body.get(name) is not None:
            row[name] = int_text(body[name]) or "0"


async def create_type(c: AcCall) -> Any:
    body = await c.body("dealTasktype")
    check(_type_problems(body, True), 400)
    tid = c.db.next_id("tasktypes")
    row = {"id": tid, "title": "", "status": "0", "defduration": "0"}
    row.update(cdate=stamp(c.now), udate=stamp(c.now))
    _apply_type(row, body)
    c.db.tasktypes[tid] = row
    return {"dealTasktype": render_type(row)}


async def get_type(c: AcCall) -> Any:
    return {"dealTasktype": render_type(_type(c.db, c.id))}


async def update_type(c: AcCall) -> Any:
    row = _type(c.db, c.id)
    body = await c.body("dealTasktype")
    check(_type_problems(body, False), 400)
    _apply_type(row, body)
    row["udate"] = stamp(c.now)
    return {"dealTasktype": render_type(row)}


async def delete_type(c: AcCall) -> Any:
    """Refused (403) while tasks use the type."""
    row = _type(c.db, c.id)
    if any(t["dealTasktype"] == row["id"] for t in c.db.tasks.values()):
        raise ApiError(403, "Forbidden")
    del c.db.tasktypes[row["id"]]
    return empty()


async def move_type_tasks(c: AcCall) -> Any:
    """``PUT /dealTasktypes/{id}/dealTasks`` with ``{"dealTask": {"dealTasktype": X}}``."""
    source = _type(c.db, c.id)
    target = int_text((await c.body("dealTask")).get("dealTasktype"))
    if target not in c.db.tasktypes:
        check([Problem("The task type was not found.", "related_missing", "dealTasktype")], 400)
    moved = [t for t in c.db.tasks.values() if t["dealTasktype"] == source["id"]]
    for task in moved:
        task.update(dealTasktype=target, udate=stamp(c.now))
        _log(c, task, "update")
    return listing("dealTasks", [render_task(t) for t in moved], len(moved))
