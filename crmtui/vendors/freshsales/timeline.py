"""Freshsales timelines: ``/api/<resource>/<id>/activities`` entries, and the notes, tasks
and appointments a record embeds, as ``Activity`` s."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from crmtui.fields import html_to_text, parse_datetime
from crmtui.model import Activity, ActivityType, Kind, RelatedRef
from crmtui.vendors.freshsales.records import by_id, embedded_list, name, ref_id
from crmtui.vendors.freshsales.resources import resource_of, target
from crmtui.vendors.mapping import Bool01, Context, Json

_ACTION_TYPES = (
    ("STAGE", ActivityType.STAGE_CHANGE),
    ("NOTE", ActivityType.NOTE),
    ("EMAIL", ActivityType.EMAIL),
    ("CALL", ActivityType.CALL),
    ("PHONE", ActivityType.CALL),
    ("APPOINTMENT", ActivityType.MEETING),
    ("MEETING", ActivityType.MEETING),
    ("TASK", ActivityType.TASK_EVENT),
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def assemble(
    body: Json,
    types: Mapping[str, str],
    record: Json | None,
    record_body: Json,
    outcomes: Mapping[str, str] | None = None,
) -> list[Activity]:
    """A record's timeline, newest first: the entries of its activities reply ``body``
    (sales activity type id -> name in ``types``), then the notes, tasks and
    appointments the ``record`` embeds that the activities do not already cover (by
    actionable type and id); ``outcomes``: sales activity outcome id -> name."""
    users = by_id(body.get("users"))
    activities: list[Activity] = []
    covered: set[tuple[str, str]] = set()
    for item in body.get("activities") or []:
        if isinstance(item, dict):
            activities.append(activity(item, users, types))
            if item.get("actionable_type") and item.get("actionable_id") is not None:
                covered.add((str(item["actionable_type"]).lower(), str(item["actionable_id"])))
    if record is not None:
        activities.extend(embedded(record, record_body, covered, types, outcomes or {}))
    activities.sort(key=lambda a: a.occurred_at, reverse=True)
    return activities


def _activity_type(action: str) -> ActivityType:
    upper = action.upper()
    return next((kind for word, kind in _ACTION_TYPES if word in upper), ActivityType.OTHER)


def activity(item: Json, users: dict[str, Json], types: Mapping[str, str]) -> Activity:
    """One entry of ``/<resource>/<id>/activities``.

    A sales activity takes its type from its sales activity type (Call, Meeting...),
    named by ``/api/selector/sales_activity_types``.
    """
    action = str(item.get("action_type") or "")
    data = item.get("action_data")
    summary, body = _action_text(action, data)
    kind_word = action
    if isinstance(data, dict) and "SALES_ACTIVITY" in action.upper():
        kind_word = types.get(str(data.get("sales_activity_type_id")), "")
        kind_word = kind_word or str(data.get("sales_activity_type_name") or "")
        summary = str(data.get("title") or summary)
        outcome = data.get("outcome_name")
        if outcome:
            summary = f"{summary} ({outcome})"
    links = []
    kind, tid = target(item)
    if kind is not None and tid is not None:
        shown = item.get("targetable_name") or f"{resource_of(kind).singular} {tid}"
        links.append(RelatedRef(kind=kind, id=tid, title=str(shown)))
    return Activity(
        id=str(item.get("composite_id") or item.get("id") or f"{action}:{item.get('created_at')}"),
        type=_activity_type(kind_word),
        occurred_at=parse_datetime(item.get("created_at")) or _EPOCH,
        summary=summary,
        body=body,
        who=name(users.get(str(item.get("user_id")))) if item.get("user_id") is not None else "",
        family=action.lower(),
        links=links,
        raw=item,
    )


def _action_text(action: str, data: Any) -> tuple[str, str]:
    label = action.replace("_", " ").capitalize() or "Activity"
    if isinstance(data, str):
        return html_to_text(data) or label, ""
    if not isinstance(data, dict):
        return label, ""
    if data.get("stage_name"):
        return f"Stage changed to {data['stage_name']}", ""
    head = data.get("title") or data.get("subject") or data.get("name")
    text = html_to_text(str(data.get("description") or data.get("body") or data.get("notes") or ""))
    if head:
        return f"{label}: {head}", text
    return (text.splitlines()[0] if text else label), text


_EMBEDDED = (
    ("notes", "note"),
    ("tasks", "task"),
    ("appointments", "appointment"),
    ("sales_activities", "sales_activity"),
)


def embedded(
    record: Json,
    body: Json,
    covered: set[tuple[str, str]],
    types: Mapping[str, str],
    outcomes: Mapping[str, str],
) -> Iterable[Activity]:
    """Notes, tasks, appointments and sales activities embedded in a record, unless
    activities had them (sales activity type id -> name in ``types``)."""
    users = by_id(body.get("users"))
    fallback = parse_datetime(record.get("updated_at"))
    for key, kind in _EMBEDDED:
        for item in embedded_list(record, body, key, f"{kind}_ids"):
            if not isinstance(item, dict) or (kind, str(item.get("id"))) in covered:
                continue
            if kind == "note":
                yield note_activity(item, users, fallback)
            elif kind == "task":
                yield _task_activity(item, users, fallback)
            elif kind == "appointment":
                yield _appointment_activity(item, users, fallback)
            else:
                yield _sales_activity(item, users, types, outcomes, fallback)


def _sales_activity(
    item: Json,
    users: Mapping[str, Json],
    types: Mapping[str, str],
    outcomes: Mapping[str, str],
    fallback: datetime | None,
) -> Activity:
    """An embedded sales activity (``include=sales_activities``): a call, a meeting...
    as its sales activity type names it, with its outcome."""
    kind_word = types.get(str(item.get("sales_activity_type_id")), "")
    summary = str(item.get("title") or kind_word or "Sales activity")
    outcome = outcomes.get(str(item.get("sales_activity_outcome_id")))
    return Activity(
        id=f"sales_activity:{item.get('id')}",
        type=_activity_type(kind_word),
        occurred_at=_when(item, ("start_date", "created_at", "updated_at"), fallback),
        summary=f"{summary} ({outcome})" if outcome else summary,
        body=html_to_text(str(item.get("notes") or "")),
        who=name(users.get(str(item.get("owner_id")))) if item.get("owner_id") else "",
        family="sales_activity",
        raw=item,
    )


def _when(item: Json, keys: Iterable[str], fallback: datetime | None) -> datetime:
    for key in keys:
        moment = parse_datetime(item.get(key))
        if moment is not None:
            return moment
    return fallback or _EPOCH


def note_activity(item: Json, users: Mapping[str, Json], fallback: datetime | None) -> Activity:
    text = html_to_text(str(item.get("description") or ""))
    return Activity(
        id=f"note:{item.get('id')}",
        type=ActivityType.NOTE,
        occurred_at=_when(item, ("created_at", "updated_at"), fallback),
        summary=text.splitlines()[0] if text else "Note",
        body=text,
        who=name(users.get(str(item.get("creater_id")))) if item.get("creater_id") else "",
        family="note",
        raw=item,
    )


def _task_activity(item: Json, users: Mapping[str, Json], fallback: datetime | None) -> Activity:
    done = bool(Bool01().read(item.get("status"), Context("Freshsales")))
    return Activity(
        id=f"task:{item.get('id')}",
        type=ActivityType.TASK_EVENT,
        occurred_at=_when(item, ("updated_at", "created_at", "due_date"), fallback),
        summary=f"Task{' (done)' if done else ''}: {item.get('title') or ''}".rstrip(": "),
        body=html_to_text(str(item.get("description") or "")),
        who=name(users.get(str(item.get("owner_id")))) if item.get("owner_id") else "",
        family="task",
        links=[
            RelatedRef(
                kind=Kind.TASK, id=ref_id(item.get("id")), title=str(item.get("title") or "")
            )
        ],
        raw=item,
    )


def _appointment_activity(
    item: Json, users: Mapping[str, Json], fallback: datetime | None
) -> Activity:
    return Activity(
        id=f"appointment:{item.get('id')}",
        type=ActivityType.MEETING,
        occurred_at=_when(item, ("from_date", "created_at"), fallback),
        summary=f"Appointment: {item.get('title') or ''}".rstrip(": "),
        body=html_to_text(str(item.get("description") or "")),
        who=name(users.get(str(item.get("creater_id")))) if item.get("creater_id") else "",
        family="appointment",
        raw=item,
    )


def stage_entry(deal: Json, stage: str) -> list[Activity]:
    """A deal's move to its current ``stage`` at its ``stage_updated_time`` (none when
    either is unknown)."""
    moved = parse_datetime(deal.get("stage_updated_time"))
    if moved is None or not stage:
        return []
    return [
        Activity(
            id=f"stage:{deal.get('id')}:{deal.get('deal_stage_id')}",
            type=ActivityType.STAGE_CHANGE,
            occurred_at=moved,
            summary=f"Stage changed to {stage}",
            family="stage_change",
            raw={k: deal.get(k) for k in ("id", "deal_stage_id", "stage_updated_time")},
        )
    ]
