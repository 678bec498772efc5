"""A call logged on a record (``L``) as SalesSeek records one: an activity of its type
``auto:call`` ("A call was logged", the seed's Activity Types), ``POST /api/activities``
with the note (HTML, as notes are kept), ``target_date`` when it happened, ``item_type``
and ``item_id`` the record (as the seed's create sample does for a note).

The seed's activity attributes hold no outcome and no duration, and no meeting type, so
only a call is logged, with its note; the form says what is not kept. An activity can be
deleted (``DELETE /api/activities/{activity_id}``): undo takes it back.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING

from crmtui.http import Rejected
from crmtui.model import Activity, Kind, RecordRef
from crmtui.vendors.mapping import ActivityLog, Logged, path_id
from crmtui.vendors.salesseek.resources import PATHS
from crmtui.vendors.salesseek.timeline import TIMELINE_KINDS, activity, note_html

if TYPE_CHECKING:
    from crmtui.vendors.salesseek.adapter import SalesSeek

CALLS = ActivityLog(
    on=(Kind.CONTACT, Kind.DEAL, Kind.COMPANY),
    activities={"call": "Call"},
    kind="call activity",
    unkept="SalesSeek keeps no outcome and no duration for a call",
    follow_up=Kind.TASK,
    deletable=True,
)


async def log_call(adapter: SalesSeek, ref: RecordRef, logged: Logged) -> Activity:
    """POST the ``auto:call`` activity; it as the record's timeline shows it."""
    if ref.kind not in TIMELINE_KINDS:
        raise Rejected(adapter.label, "SalesSeek logs calls on individuals, organizations, deals")
    when = logged.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body: dict[str, object] = {
        "note": note_html(logged.note) if logged.note else None,
        "created": None,
        "target_date": when,
        "activity_type": "auto:call",
        "item_type": PATHS[ref.kind],
        "item_id": ref.id,
        "tags": [],
    }
    return activity(await adapter.session.json("POST", "activities", json=body))


async def delete_call(adapter: SalesSeek, id: str) -> None:
    """DELETE the activity ``log_call`` made."""
    await adapter.session.request("DELETE", f"activities/{path_id(id)}", expect_json=False)
