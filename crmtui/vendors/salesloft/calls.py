"""A call logged on a person (``L``) as Salesloft records one: ``POST /v2/activities/calls``
(``salesloft-contract.md``: ``person_id*``, ``duration`` in seconds, ``disposition`` and
``sentiment`` matching the team's lists, ``notes``).

The disposition and sentiment are chosen among the team's own (``GET call_dispositions``,
``GET call_sentiments``), sent by name as the contract says ("must match the team
lists"). Salesloft has meetings, but no documented way to create one, and a call is
only a person's (an account has no ``person_id``). The calls route has no DELETE (the
contract lists only list, get and POST), so a logged call cannot be taken back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmtui.model import Activity, Kind, RecordRef
from crmtui.vendors.mapping import ActivityLog, LogChoice, Logged
from crmtui.vendors.salesloft.timeline import call_activity

if TYPE_CHECKING:
    from crmtui.vendors.salesloft.adapter import Salesloft

CALLS = ActivityLog(
    on=(Kind.CONTACT,),
    activities={"call": "Call"},
    kind="call",
    choices=(
        LogChoice("disposition", "Disposition", "call_dispositions"),
        LogChoice("sentiment", "Sentiment", "call_sentiments"),
    ),
    duration=True,
    follow_up=Kind.TASK,
    deletable=False,
)


async def log_call(adapter: Salesloft, ref: RecordRef, logged: Logged) -> Activity:
    """POST the call; the call as the person's timeline shows it."""
    body: dict[str, object] = {"person_id": int(ref.id)}
    if logged.duration is not None:
        body["duration"] = logged.duration * 60
    for key in ("disposition", "sentiment"):
        if logged.choices.get(key):
            body[key] = logged.choices[key]
    if logged.note:
        body["notes"] = logged.note
    reply = await adapter.session.json("POST", "activities/calls", json=body)
    return call_activity(reply["data"], await adapter._names("users"))
