"""A call or meeting logged on a record (``L``) as SalesforceIQ records one: an event,
``PUT /v2/events`` (the seed: "Default events of the system are meetings, phone calls,
and emails"; "a sales rep ... takes calls with a lead and an Event (the call, with notes)
is recorded through the API"), with the record's contacts as participants.

An event has a ``subject`` and a ``body`` only: the subject is the activity ("Call",
"Meeting"), the body the note. The seed documents no outcome nor duration, so neither is
offered; no id comes back and no route reads events back or deletes them, so the cache
keeps the entry (``Activity.kept``) and a logged event cannot be taken back. SalesforceIQ
has no tasks: no follow-up task. Lists are named by the account, so a call may be logged
on any record with a timeline (``anywhere``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmtui.model import Activity, ActivityType, RecordRef
from crmtui.vendors.mapping import ActivityLog, Logged

if TYPE_CHECKING:
    from crmtui.vendors.salesforceiq.adapter import SalesforceIQ

TYPES = {"call": ActivityType.CALL, "meeting": ActivityType.MEETING}

CALLS = ActivityLog(
    anywhere=True,
    activities={"call": "Call", "meeting": "Meeting"},
    kind="event",
    unkept="SalesforceIQ events keep no outcome and no duration",
    deletable=False,
)


async def log_call(adapter: SalesforceIQ, ref: RecordRef, logged: Logged) -> Activity:
    """PUT the event: the activity's name as its subject, the note as its body."""
    word = CALLS.activities[logged.activity]
    text = f"{word}\n{logged.note}" if logged.note.strip() else word
    return await adapter.log_event(ref, text, TYPES[logged.activity])
