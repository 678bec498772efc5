"""Salesloft timelines: a person's (or an account's) notes, calls, sent emails, completed
tasks and the CRM activities those calls and emails were logged as, merged newest first.

Only documented filters are used (``salesloft-contract.md``): notes by
``associated_with_type``/``associated_with_id``, calls and emails by ``person_id[]``
(v2 has no ``account_id`` filter on either: an account's are those of its people, the
``ACCOUNT_PEOPLE`` most recently updated), tasks by ``person_id[]`` or ``account_id[]``
with ``current_state[]=completed``, sorted by ``due_date`` (the only task sorts besides
``due_at``), CRM activities by ``ids[]``. Each source is one page of 25.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from crmtui.fields import html_to_text, parse_datetime
from crmtui.model import Activity, ActivityType, Kind
from crmtui.vendors.salesloft.codecs import ref_id

Get = Callable[[str, list[tuple[str, Any]]], Awaitable[Any]]

CRM_TYPES = {
    "call": ActivityType.CALL,
    "meeting": ActivityType.MEETING,
    "email": ActivityType.EMAIL,
}

RECENT = (("sort_by", "created_at"), ("sort_direction", "DESC"), ("per_page", 25))
SENT = (("sort_by", "send_time"), ("sort_direction", "DESC"), ("per_page", 25))
DONE = (
    ("current_state[]", "completed"),
    ("sort_by", "due_date"),
    ("sort_direction", "DESC"),
    ("per_page", 25),
)
ACCOUNT_PEOPLE = 100  # an account's timeline: the calls and emails of this many people


def users_of(raw: dict[str, Any], users: Mapping[int, str]) -> str:
    user = ref_id(raw, "user")
    return users.get(user, "") if user is not None else ""


def call_summary(raw: dict[str, Any], name: str | None = None) -> str:
    summary = f"Call to {name or raw.get('to') or 'unknown number'}"
    return f"{summary} — {raw['disposition']}" if raw.get("disposition") else summary


def email_summary(raw: dict[str, Any]) -> str:
    """``Email to <recipient> (<status>)``; a bounce is the ``bounced`` flag of a sent
    email (no status of its own among the definition's twelve)."""
    status = "bounced" if raw.get("bounced") is True else raw.get("status")
    return f"Email to {raw.get('recipient_email_address') or 'unknown'} ({status})"


def _activity(
    prefix: str,
    raw: dict[str, Any],
    type: ActivityType,
    at: Any,
    summary: str,
    body: str,
    users: dict[int, str],
) -> Activity:
    return Activity(
        id=f"{prefix}:{raw['id']}",
        type=type,
        occurred_at=parse_datetime(at) or datetime.fromtimestamp(0, UTC),
        summary=summary,
        body=body,
        who=users_of(raw, users),
        family=prefix,
        raw=raw,
    )


def note_activity(raw: dict[str, Any], users: dict[int, str]) -> Activity:
    text = html_to_text(raw.get("content") or "")
    first = text.splitlines()[0] if text else "Note"
    summary = first if len(first) <= 80 else first[:79] + "…"
    return _activity("note", raw, ActivityType.NOTE, raw.get("created_at"), summary, text, users)


def call_activity(raw: dict[str, Any], users: dict[int, str]) -> Activity:
    parts = []
    if raw.get("duration") is not None:
        minutes, seconds = divmod(int(raw["duration"]), 60)
        parts.append(f"{minutes}m {seconds:02d}s")
    if raw.get("sentiment"):
        parts.append(f"sentiment {raw['sentiment']}")
    return _activity(
        "call",
        raw,
        ActivityType.CALL,
        raw.get("created_at"),
        call_summary(raw),
        ", ".join(parts),
        users,
    )


def email_activity(raw: dict[str, Any], users: dict[int, str]) -> Activity:
    counts = raw.get("counts") or {}
    body = (
        ", ".join(f"{counts[k]} {k}" for k in ("views", "clicks", "replies") if counts.get(k))
        or "No opens yet"
    )
    at = raw.get("sent_at") or raw.get("send_after") or raw.get("created_at")
    return _activity("email", raw, ActivityType.EMAIL, at, email_summary(raw), body, users)


def task_activity(raw: dict[str, Any], users: dict[int, str]) -> Activity:
    at = raw.get("completed_at") or raw.get("updated_at")
    summary = f"Completed task: {raw.get('subject') or ''}".strip()
    return _activity("task", raw, ActivityType.TASK_EVENT, at, summary, "", users)


def crm_activity(raw: dict[str, Any], users: dict[int, str]) -> Activity:
    type = CRM_TYPES.get(str(raw.get("activity_type") or "").lower(), ActivityType.OTHER)
    body = html_to_text(raw.get("description") or "")
    summary = str(raw.get("subject") or raw.get("activity_type") or "CRM activity")
    return _activity("crm_activity", raw, type, raw.get("created_at"), summary, body, users)


async def read_timeline(
    get: Get, users_of_team: Callable[[], Awaitable[dict[int, str]]], kind: str, id: str
) -> list[Activity]:
    """The timeline of a person or an account (``[]`` for other kinds), newest first."""
    if kind not in (Kind.CONTACT, Kind.COMPANY):
        return []
    key = int(id)
    if kind == Kind.CONTACT:
        target, people = "person", [key]
        done = get("tasks", [("person_id[]", key), *DONE])
    else:
        target, people = "account", await account_people(get, key)
        done = get("tasks", [("account_id[]", key), *DONE])
    whose = [("person_id[]", p) for p in people]
    sources = (
        get("notes", [("associated_with_type", target), ("associated_with_id", key), *RECENT]),
        get("activities/calls", [*whose, *RECENT]) if people else _empty(),
        get("activities/emails", [*whose, *SENT]) if people else _empty(),
        done,
    )
    notes, calls, emails, tasks = [b.get("data") or [] for b in await asyncio.gather(*sources)]
    emails = [e for e in emails if e.get("sent_at")]
    crm_ids = {i for r in (*calls, *emails) if (i := ref_id(r, "crm_activity")) is not None}
    crm: list[dict[str, Any]] = []
    if crm_ids:
        body = await get(
            "crm_activities", [*(("ids[]", i) for i in sorted(crm_ids)), ("per_page", 100)]
        )
        crm = body.get("data") or []
    users = await users_of_team()
    activities = [
        *(note_activity(n, users) for n in notes),
        *(call_activity(c, users) for c in calls),
        *(email_activity(e, users) for e in emails),
        *(task_activity(t, users) for t in tasks),
        *(crm_activity(a, users) for a in crm),
    ]
    return sorted(activities, key=lambda a: a.occurred_at, reverse=True)


async def account_people(get: Get, account: int) -> list[int]:
    """The ids of an account's people (``people?account_id[]=``), the ``ACCOUNT_PEOPLE``
    most recently updated: v2 filters calls and emails by person, never by account."""
    body = await get(
        "people",
        [
            ("account_id[]", account),
            ("sort_by", "updated_at"),
            ("sort_direction", "DESC"),
            ("per_page", ACCOUNT_PEOPLE),
        ],
    )
    return [int(p["id"]) for p in body.get("data") or [] if isinstance(p.get("id"), int)]


async def _empty() -> dict[str, Any]:
    return {"data": []}
