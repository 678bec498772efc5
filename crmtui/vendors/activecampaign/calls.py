"""A call or meeting logged on a deal (``L``) as ActiveCampaign records one.

The seed documents no call log: its deal activities (``/dealActivities``) are written by
the server only. What it documents is deal tasks of the account's task types
(``/dealTasks``, ``/dealTasktypes``; the defaults are Call, Email, Lunch and Meeting), and
ActiveCampaign's own app logs a call as a deal task of type Call marked done. So a
logged call is ``POST /dealTasks`` of the "Call" (or "Meeting") type, ``status: 1``,
its note as ``note``, ``duedate`` when it happened and ``edate`` that plus the
duration (the vendor's "end time (due + duration)"); the deal's timeline then shows it
("Call done"). It can be deleted (``DELETE /dealTasks/{id}``): undo takes it back.

Decision: no outcome is offered. Tasks take an ``outcomeId`` and ``/dealTasks`` filters by
``outcome_id``, but no documented route lists the outcomes, so crmtui cannot offer them
in the account's words. Calls are logged on deals: the seed's contact routes are those
linking contacts to deals, and a contact has no timeline here.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import TYPE_CHECKING

from crmtui.fields import iso
from crmtui.http import Rejected
from crmtui.model import Activity, ActivityType, Kind, RecordRef
from crmtui.vendors.activecampaign.resources import txt
from crmtui.vendors.activecampaign.transport import call
from crmtui.vendors.mapping import ActivityLog, Logged, path_id

if TYPE_CHECKING:
    from crmtui.vendors.activecampaign.adapter import ActiveCampaign

PREFIX = "dealTask:"  # the id of a logged call's task, as ``log_call`` returns it

CALLS = ActivityLog(
    on=(Kind.DEAL,),
    activities={"call": "Call", "meeting": "Meeting"},
    kind="completed deal task",
    duration=True,
    unkept="ActiveCampaign lists no call outcomes",
    follow_up=Kind.TASK,
    deletable=True,
)


async def log_call(adapter: ActiveCampaign, ref: RecordRef, logged: Logged) -> Activity:
    """POST the done task on the deal; it as the deal's timeline shows it."""
    await adapter._config()
    word = CALLS.activities[logged.activity]
    active = [t for t in adapter._types.values() if txt(t.get("status")) != "1"]
    task_type = next((t for t in active if txt(t.get("title")).lower() == word.lower()), None)
    if task_type is None:
        raise Rejected(adapter.label, f"ActiveCampaign has no {word} task type here")
    start = logged.occurred_at.astimezone(UTC)
    end = start + timedelta(minutes=logged.duration or 0)
    task = {
        "relid": int(ref.id),
        "ownerType": "deal",
        "dealTasktype": txt(task_type["id"]),
        "title": word,
        "note": logged.note,
        "duedate": iso(start),
        "edate": iso(end),
        "status": 1,
    }
    made = (await call(adapter.session, "POST", "dealTasks", json={"dealTask": task}))["dealTask"]
    minutes = f" · {logged.duration} min" if logged.duration else ""
    return Activity(
        id=f"{PREFIX}{txt(made['id'])}",
        type=ActivityType.MEETING if logged.activity == "meeting" else ActivityType.CALL,
        occurred_at=start,
        summary=f"{word} done{minutes}",
        body=logged.note,
        who=adapter._user_name(made.get("user")),
        family="tasks",
        raw=made,
    )


async def delete_call(adapter: ActiveCampaign, id: str) -> None:
    """DELETE the done task ``log_call`` made."""
    await call(adapter.session, "DELETE", f"dealTasks/{path_id(id.removeprefix(PREFIX))}")
