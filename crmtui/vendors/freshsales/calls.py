"""A call or meeting logged on a record (``L``) as Freshsales records one: a sales
activity, ``POST /api/sales_activities`` (seed: "Sales activities are a great way to track
activities related to a lead/contact/deal/account"; ``title``, ``sales_activity_type_id``,
``start_date``, ``end_date``, ``owner_id``, ``targetable_id``/``targetable_type``
mandatory; ``sales_activity_outcome_id`` and ``notes`` optional).

The type is the account's own "Call" or "Meeting" (``selector/sales_activity_types``,
matched by name); the outcomes offered are those of that type
(``selector/sales_activity_outcomes``, each naming its ``sales_activity_type_id``). The
duration is the span from ``start_date`` to ``end_date``; a call logged without one
spans no time. The owner is the signed-in user (``Vendor.whoami``). A logged activity
can be deleted (``DELETE /api/sales_activities/[id]``): undo takes it back.

Decision: the seed's other route, ``POST /api/phone_calls`` ("Manual Call Log"), is
documented for leads only and keeps neither an outcome nor a duration, so it is not used.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import TYPE_CHECKING

from crmtui.http import Rejected
from crmtui.model import Activity, Choice, Kind, RecordRef
from crmtui.vendors.freshsales import timeline
from crmtui.vendors.freshsales.records import name
from crmtui.vendors.freshsales.resources import TARGETABLE
from crmtui.vendors.mapping import ActivityLog, LogChoice, Logged, path_id, vendor_id

if TYPE_CHECKING:
    from crmtui.vendors.freshsales.adapter import Freshsales

OUTCOMES = "sales_activity_outcomes"
PREFIX = "sales_activity:"  # the id of a sales activity on the timeline

CALLS = ActivityLog(
    on=(Kind.CONTACT, Kind.LEAD, Kind.DEAL, Kind.COMPANY),
    activities={"call": "Call", "meeting": "Meeting"},
    kind="sales activity",
    choices=(LogChoice("outcome", "Outcome", OUTCOMES),),
    duration=True,
    follow_up=Kind.TASK,
    deletable=True,
)


async def activity_type(adapter: Freshsales, word: str) -> str:
    """The id of the account's sales activity type named ``word`` ("Call")."""
    types = await adapter._selector("sales_activity_types")
    found = next((t for t in types if name(t).lower() == word.lower() and "id" in t), None)
    if found is None:
        raise Rejected(adapter.label, f"Freshsales has no sales activity type {word!r} here")
    return str(found["id"])


async def outcome_choices(adapter: Freshsales) -> list[Choice]:
    """The outcomes of the types logged, each grouped under its activity ("call")."""
    types = {
        str(t["id"]): name(t).lower()
        for t in await adapter._selector("sales_activity_types")
        if "id" in t
    }
    words = {word.lower(): key for key, word in CALLS.activities.items()}
    out = []
    for outcome in await adapter._selector(OUTCOMES):
        activity = words.get(types.get(str(outcome.get("sales_activity_type_id")), ""))
        if activity is not None and "id" in outcome:
            out.append(Choice(value=str(outcome["id"]), label=name(outcome), group=activity))
    return out


async def log_call(adapter: Freshsales, ref: RecordRef, logged: Logged) -> Activity:
    """POST the sales activity; it as the record's timeline shows it."""
    if ref.kind not in TARGETABLE:
        raise Rejected(
            adapter.label, "Freshsales logs sales activities on leads, contacts, accounts and deals"
        )
    owner = await adapter.whoami()
    if owner is None:
        raise Rejected(
            adapter.label,
            "Freshsales did not say which user you are (no 'My Deals' view), and a sales "
            "activity needs its owner",
        )
    word = CALLS.activities[logged.activity]
    start = logged.occurred_at.astimezone(UTC)
    end = start + timedelta(minutes=logged.duration or 0)
    body: dict[str, object] = {
        "title": word,
        "sales_activity_type_id": vendor_id(await activity_type(adapter, word)),
        "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_date": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "owner_id": vendor_id(owner),
        "targetable_type": TARGETABLE[ref.kind],
        "targetable_id": vendor_id(ref.id),
    }
    if logged.choices.get("outcome"):
        body["sales_activity_outcome_id"] = vendor_id(logged.choices["outcome"])
    if logged.note:
        body["notes"] = logged.note
    reply = adapter._object(
        await adapter.session.json("POST", "sales_activities", json={"sales_activity": body}),
        "sales_activities",
    )
    item = adapter._take(reply, "sales_activity", "sales_activities")
    types = {str(t["id"]): name(t) for t in await adapter._selector("sales_activity_types")}
    outcomes = {str(o["id"]): name(o) for o in await adapter._selector(OUTCOMES) if "id" in o}
    return timeline._sales_activity(item, {}, types, outcomes, None)


async def delete_call(adapter: Freshsales, id: str) -> None:
    """DELETE the sales activity ``log_call`` made (its timeline id)."""
    own = id.removeprefix(PREFIX)
    await adapter.session.request("DELETE", f"sales_activities/{path_id(own)}", expect_json=False)
