"""Pipelines (``/dealGroups``) and their stages (``/dealStages``, moving a stage's deals)."""

from __future__ import annotations

from typing import Any

from crmtui.sandbox.activecampaign.common import (
    AcCall,
    Problem,
    as_int,
    check,
    contains,
    empty,
    int_text,
    invalid,
    listing,
    not_found,
    ordered,
    when,
    with_links,
)
from crmtui.sandbox.activecampaign.contract import declared
from crmtui.sandbox.activecampaign.data import Db, Row, stage_row, stamp
from crmtui.sandbox.activecampaign.deals import apply_deal, drop_deals, render_deal

DEFAULT_STAGES = ("To Contact", "In Contact", "Follow Up")
# what a stage body writes as given (``group`` and ``order`` are placed apart)
STAGE_FIELDS = tuple(
    f for f in declared("PUT /dealStages/{id}").fields or () if f not in ("group", "order")
)


def render_stage(row: Row) -> Row:
    return with_links(row, "dealStages", ("group",))


def render_group(row: Row) -> Row:
    return with_links(row, "dealGroups", ("stages", "groups", "users"))


def _stage(db: Db, id: str) -> Row:
    row = db.stages.get(id)
    if row is None:
        raise not_found("DealStage", id)
    return row


def _group(db: Db, id: str) -> Row:
    row = db.groups.get(id)
    if row is None:
        raise not_found("DealGroup", id)
    return row


# -- /dealStages --------------------------------------------------------------------------


async def list_stages(c: AcCall) -> Any:
    f = c.filters()
    rows = list(c.db.stages.values())
    if "title" in f:
        hit = contains(f["title"])
        rows = [s for s in rows if hit(s["title"])]
    if "d_groupid" in f:
        rows = [s for s in rows if s["group"] == str(as_int(f["d_groupid"]))]
    rows = ordered(rows, c.orders(), {"title": lambda s: s["title"].lower()})
    page, total = c.page(rows)
    return listing("dealStages", [render_stage(s) for s in page], total)


def _place(db: Db, stage: Row, order: int | None, reorder: bool) -> None:
    """Put ``stage`` at ``order`` in its pipeline; ``reorder`` renumbers the others."""
    others = [s for s in db.stages_of(stage["group"]) if s["id"] != stage["id"]]
    if order is None:
        order = max((int(s["order"]) for s in others), default=0) + 1
    stage["order"] = str(order)
    if reorder:
        others.insert(min(max(order - 1, 0), len(others)), stage)
        for index, row in enumerate(others, start=1):
            row["order"] = str(index)
    db.groups[stage["group"]]["stages"] = [s["id"] for s in db.stages_of(stage["group"])]


async def create_stage(c: AcCall) -> Any:
    body = await c.body("dealStage")
    problems = []
    if not str(body.get("title") or "").strip():
        problems.append(Problem("The stage title was not provided.", "field_missing", "title"))
    group = int_text(body.get("group"))
    if group not in c.db.groups:
        problems.append(Problem("The pipeline was not found.", "related_missing", "group"))
    check(problems, 400)
    sid = c.db.next_id("stages")
    stage = stage_row(sid, str(group), "", 1, c.now)
    stage.update({k: str(body[k]) for k in STAGE_FIELDS if body.get(k) is not None})
    c.db.stages[sid] = stage
    order = as_int(body["order"]) if body.get("order") not in (None, "") else None
    _place(c.db, stage, order, as_int(c.param("reorder"), 0) == 1)
    return {"dealStage": render_stage(stage)}


async def get_stage(c: AcCall) -> Any:
    return {"dealStage": render_stage(_stage(c.db, c.id))}


async def update_stage(c: AcCall) -> Any:
    stage = _stage(c.db, c.id)
    body = await c.body("dealStage")
    if "title" in body and not str(body["title"] or "").strip():
        check([Problem("The stage title was not provided.", "field_missing", "title")], 400)
    stage.update({k: str(body[k]) for k in STAGE_FIELDS if body.get(k) is not None})
    if body.get("order") not in (None, ""):
        _place(c.db, stage, as_int(body["order"]), as_int(c.param("reorder"), 0) == 1)
    stage["udate"] = stamp(c.now)
    return {"dealStage": render_stage(stage)}


def move_deals(c: AcCall, source: Row, target: Row) -> list[Row]:
    """Every deal of ``source`` into ``target`` (each move logged on the deal)."""
    moved = [d for d in c.db.deals.values() if d["stage"] == source["id"]]
    for deal in moved:
        apply_deal(c, deal, {"stage": target["id"]})
    return moved


async def delete_stage(c: AcCall) -> Any:
    """Its deals move to the pipeline's first remaining stage (refused if none is left)."""
    stage = _stage(c.db, c.id)
    rest = [s for s in c.db.stages_of(stage["group"]) if s["id"] != stage["id"]]
    has_deals = any(d["stage"] == stage["id"] for d in c.db.deals.values())
    if has_deals and not rest:
        title = "The last stage of a pipeline cannot be deleted while it has deals."
        check([Problem(title, "field_invalid", "stage")], 400)
    if rest:
        move_deals(c, stage, rest[0])
    del c.db.stages[stage["id"]]
    c.db.groups[stage["group"]]["stages"] = [s["id"] for s in rest]
    return empty()


async def move_stage_deals(c: AcCall) -> Any:
    """``PUT /dealStages/{id}/deals`` with ``{"deal": {"stage": target}}``."""
    source = _stage(c.db, c.id)
    target_id = int_text((await c.body("deal")).get("stage"))
    target = c.db.stages.get(target_id or "")
    if target is None:
        raise invalid([Problem("The target stage was not found.", "related_missing", "stage")])
    if target["group"] != source["group"]:
        title = "Target stage does not belong to same pipeline"
        raise invalid([Problem(title, "field_invalid", "stage")])
    moved = move_deals(c, source, target)
    return {"deals": [render_deal(d) for d in moved]}


# -- /dealGroups --------------------------------------------------------------------------


def _group_body(c: AcCall, groups: list[Row]) -> dict[str, Any]:
    ids = {g["id"] for g in groups}
    stages = [render_stage(s) for s in c.db.stages.values() if s["group"] in ids]
    return {"dealStages": sorted(stages, key=lambda s: int(s["id"]))}


async def list_groups(c: AcCall) -> Any:
    f, db = c.filters(), c.db
    rows = list(db.groups.values())
    if "title" in f:
        hit = contains(f["title"])
        rows = [g for g in rows if hit(g["title"])]
    if "have_stages" in f:
        want = as_int(f["have_stages"]) == 1
        rows = [g for g in rows if bool(db.stages_of(g["id"])) == want]
    counts: dict[str, int] = {}
    for deal in db.deals.values():
        counts[deal["group"]] = counts.get(deal["group"], 0) + 1
    keys = {
        "title": lambda g: g["title"].lower(),
        "popular": lambda g: (counts.get(g["id"], 0), when(g["cdate"])),
    }
    rows = ordered(rows, c.orders(), keys)
    page, total = c.page(rows)
    return listing("dealGroups", [render_group(g) for g in page], total, **_group_body(c, page))


def _group_problems(body: dict[str, Any], creating: bool) -> list[Problem]:
    out = []
    if (creating or "title" in body) and not str(body.get("title") or "").strip():
        out.append(Problem("The pipeline title was not provided.", "field_missing", "title"))
    currency = body.get("currency")
    if currency is not None and (len(str(currency)) != 3 or not str(currency).isalpha()):
        out.append(Problem("The pipeline currency is not valid.", "field_invalid", "currency"))
    return out


def _apply_group(group: Row, body: dict[str, Any]) -> None:
    for key in ("title", "currency", "allgroups", "allusers", "autoassign"):
        if body.get(key) is not None:
            group[key] = str(body[key]).strip()
    group["currency"] = group["currency"].lower()


async def create_group(c: AcCall) -> Any:
    """A new pipeline gets AC's default stages."""
    body = await c.body("dealGroup")
    check(_group_problems(body, True), 400)
    gid = c.db.next_id("groups")
    group: Row = {
        "id": gid,
        "title": "",
        "currency": "usd",
        "autoassign": "1",
        "allusers": "1",
        "allgroups": "1",
        "stages": [],
        "cdate": stamp(c.now),
        "udate": stamp(c.now),
    }
    _apply_group(group, body)
    c.db.groups[gid] = group
    for order, title in enumerate(DEFAULT_STAGES, start=1):
        sid = c.db.next_id("stages")
        c.db.stages[sid] = stage_row(sid, gid, title, order, c.now)
        group["stages"].append(sid)
    return {"dealGroup": render_group(group), **_group_body(c, [group])}


async def get_group(c: AcCall) -> Any:
    group = _group(c.db, c.id)
    return {"dealGroup": render_group(group), **_group_body(c, [group])}


async def update_group(c: AcCall) -> Any:
    group = _group(c.db, c.id)
    body = await c.body("dealGroup")
    check(_group_problems(body, False), 400)
    _apply_group(group, body)
    group["udate"] = stamp(c.now)
    return {"dealGroup": render_group(group), **_group_body(c, [group])}


async def delete_group(c: AcCall) -> Any:
    """Deletes the pipeline with its stages and deals."""
    group = _group(c.db, c.id)
    drop_deals(c.db, {d["id"] for d in c.db.deals.values() if d["group"] == group["id"]})
    for stage in c.db.stages_of(group["id"]):
        del c.db.stages[stage["id"]]
    del c.db.groups[group["id"]]
    return empty()
