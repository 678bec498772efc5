"""Logging a call on a record (issue 17 point 2), through the service, on every vendor.

The call is queued through the outbox and shows on the record's timeline at once,
marked queued; once sent, the vendor's own data holds it as its documented activity kind
(with the outcome, duration and note where it keeps them) and the timeline shows the
vendor's entry; the follow-up task is created; offline it waits and goes when back; a
call is taken back (undo) where the vendor lets crmtui delete it, and refused in its
words where not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from crmtui.demo import demo_crm
from crmtui.fields import FieldError
from crmtui.http import CrmError, Http
from crmtui.model import ActivityType, ChangeState, RecordRef
from crmtui.sandbox.freshsales.data import MEETING
from crmtui.service import Crm
from crmtui.service.calls import LOG_KIND
from tests.helpers.calls import follow_ups, vendor_calls
from tests.helpers.service import Unreachable
from tests.helpers.waits import no_sleep

NOTE = "Talked pricing with them\nSend the quote by Friday"
FOLLOW_UP = "Send the quote 17"


@dataclass(frozen=True)
class Case:
    vendor: str
    kind: str  # a prefix for SalesforceIQ lists
    picks: dict[str, str] = field(default_factory=dict)  # choice key -> label chosen
    duration: bool = True
    follow_up: bool = True
    deletable: bool = True


CASES = [
    Case("salesloft", "contact", {"disposition": "No Answer", "sentiment": "Neutral"},
         deletable=False),
    Case("freshsales", "contact", {"outcome": "No answer"}),
    Case("activecampaign", "deal"),
    Case("salesseek", "contact", duration=False),
    Case("salesforceiq", "contact", duration=False, follow_up=False, deletable=False),
]  # fmt: skip


@dataclass
class Demo:
    crm: Crm
    sandbox: Any
    profile: str

    @property
    def db(self) -> Any:
        return self.sandbox.state.db


@pytest.fixture
async def opened(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Demo]:
    vendor = request.param
    crm, demos = demo_crm(
        vendors=[vendor],
        store_path=tmp_path / "cache.sqlite3",
        http=Http(sleep=no_sleep),
        rate_limits=False,
    )
    async with crm:
        yield Demo(crm, demos[0].app, f"demo-{vendor}")


async def first_record(demo: Demo, kind: str) -> RecordRef:
    kinds = await demo.crm.kinds(demo.profile)
    kind = next(k.kind for k in kinds if k.kind.startswith(kind))
    page = await demo.crm.refresh(demo.profile, kind)
    ref = page.records[0].ref
    await demo.crm.timeline(ref)  # the record screen has it open
    return ref


def texts_for(case: Case, form: Any, *, follow_up: bool = True) -> dict[str, str]:
    texts = {"activity": "call", "note": NOTE}
    specs = {s.key: s for s in form.specs}
    for key, label in case.picks.items():
        choice = next(c for c in specs[key].choices if c.label == label)
        texts[key] = choice.value
    if case.duration:
        texts["duration"] = "7"
    if follow_up and case.follow_up:
        texts["follow_up"] = FOLLOW_UP
        due = specs["follow_up_due"]
        texts["follow_up_due"] = "2027-01-15" if due.type.value == "date" else "2027-01-15 10:00"
    return texts


async def settle(demo: Demo) -> None:
    await demo.crm.send_now(demo.profile)
    assert demo.crm.changes(demo.profile) == [], [
        (c.ref.kind, c.state, c.last_error) for c in demo.crm.changes(demo.profile)
    ]


@pytest.mark.parametrize("opened", [c.vendor for c in CASES], indirect=True)
async def test_a_logged_call_reaches_the_vendor_and_the_timeline(opened: Demo) -> None:
    demo = opened
    case = next(c for c in CASES if f"demo-{c.vendor}" == demo.profile)
    ref = await first_record(demo, case.kind)
    form = await demo.crm.calls.form(ref)
    assert form.refusal is None
    assert [s.key for s in form.specs if s.key in case.picks] == list(case.picks)
    assert ("duration" in {s.key for s in form.specs}) is case.duration
    assert (form.task is not None) is case.follow_up
    before = len(vendor_calls(case.vendor, demo.db))

    logged = await demo.crm.calls.log(ref, texts_for(case, form))

    # at once: on the timeline, queued, as the rep logged it
    shown = demo.crm.cached_timeline(ref)
    assert shown is not None and shown[0].id == f"local:{logged.change.id}"
    assert shown[0].who == "you (queued)" and shown[0].type is ActivityType.CALL
    assert shown[0].body == NOTE
    assert shown[0].summary.startswith("Call")
    for label in case.picks.values():
        assert label in shown[0].summary
    assert ("7 min" in shown[0].summary) is case.duration
    assert (logged.follow_up is not None) is case.follow_up

    await settle(demo)
    calls = vendor_calls(case.vendor, demo.db)
    assert len(calls) == before + 1
    made = calls[-1]
    assert "Talked pricing with them" in made["note"] and "quote by Friday" in made["note"]
    if case.duration:
        assert made["seconds"] in (420, 420.0)
    if case.vendor == "salesloft":
        assert made["outcome"] == ("No Answer", "Neutral") and made["on"] == ref.id
    if case.vendor == "freshsales":
        specs = {s.key: s for s in form.specs}
        assert specs["outcome"].choice_label(made["outcome"]) == "No answer"
    if case.vendor == "activecampaign":
        assert str(made["outcome"]) == "1" and str(made["on"]) == ref.id  # a done task
    if case.vendor == "salesforceiq":
        assert made["outcome"] == "Call"
    # the vendor's entry has taken the queued one's place
    after = demo.crm.cached_timeline(ref)
    assert after is not None
    assert not [a for a in after if a.id.startswith("local:")]
    assert after[0].type is ActivityType.CALL
    if case.follow_up:
        assert len(follow_ups(case.vendor, demo.db, FOLLOW_UP)) == 1

    # undo: the call taken back where the vendor lets crmtui delete it
    plan = await demo.crm.undo.plan(logged.change.id)
    if not case.deletable:
        vendor = demo.crm.vendor_label(demo.profile)
        assert plan.action == "refused"
        assert plan.reason == (
            f"{vendor} offers no way to delete a logged call: remove it in {vendor}."
        )
        return
    assert plan.action == "compensate" and plan.lines[0].startswith("Delete the logged Call")
    demo.crm.undo.apply(plan)
    await settle(demo)
    assert len(vendor_calls(case.vendor, demo.db)) == before
    gone = demo.crm.cached_timeline(ref)
    assert gone is not None and after[0].id not in {a.id for a in gone}


@pytest.mark.parametrize("opened", [c.vendor for c in CASES], indirect=True)
async def test_offline_a_logged_call_waits_and_goes_when_back(opened: Demo) -> None:
    demo = opened
    case = next(c for c in CASES if f"demo-{c.vendor}" == demo.profile)
    ref = await first_record(demo, case.kind)
    await demo.crm.calls.form(ref)  # the choices read once, kept for offline
    before = len(vendor_calls(case.vendor, demo.db))
    origin = f"http://{case.vendor}.localhost"
    demo.crm.http.transport.mount(origin, Unreachable())
    form = await demo.crm.calls.form(ref)  # offline: from the cache
    assert [s.key for s in form.specs if s.key in case.picks] == list(case.picks)
    logged = await demo.crm.calls.log(ref, texts_for(case, form, follow_up=False))
    shown = demo.crm.cached_timeline(ref)
    assert shown is not None and shown[0].id == f"local:{logged.change.id}"
    await demo.crm.outbox.wait_idle()
    [waiting] = demo.crm.changes(demo.profile)
    assert waiting.ref.kind == LOG_KIND
    assert waiting.state in (ChangeState.PENDING, ChangeState.FAILED)
    assert len(vendor_calls(case.vendor, demo.db)) == before

    demo.crm.http.mount_app(origin, demo.sandbox)  # back
    await settle(demo)
    assert len(vendor_calls(case.vendor, demo.db)) == before + 1


@pytest.mark.parametrize("opened", ["salesloft"], indirect=True)
async def test_where_and_what_a_vendor_cannot_log_is_refused(opened: Demo) -> None:
    demo = opened
    account = await first_record(demo, "company")
    why = demo.crm.calls.refusal(account)
    assert why == "Salesloft logs calls on people, not on accounts"
    with pytest.raises(CrmError, match="nothing was queued"):
        await demo.crm.calls.log(account, {"activity": "call"})
    person = await first_record(demo, "contact")
    form = await demo.crm.calls.form(person)
    bad: list[tuple[dict[str, str], str]] = [
        ({"activity": "call", "disposition": "Sleeping"}, "Disposition"),
        ({"activity": "call", "duration": "-3"}, "Duration"),
        ({"activity": "call", "duration": "ten"}, "Duration"),
        ({"activity": "call", "follow_up_due": "2027-01-15"}, "subject"),
        ({"activity": "call", "follow_up": "x", "follow_up_due": "someday"}, "Follow-up due"),
    ]
    for texts, named in bad:
        with pytest.raises(FieldError, match=named):
            await demo.crm.calls.log(person, texts)
    assert demo.crm.changes(demo.profile) == []  # nothing queued, neither call nor task
    assert form.refusal is None


@pytest.mark.parametrize("opened", ["salesloft"], indirect=True)
async def test_a_logged_call_whose_reply_is_lost_is_not_sent_twice(opened: Demo) -> None:
    """The vendor took the call but its reply was lost: crmtui cannot tell a logged call
    apart on the vendor's side, so it is not sent again by itself; the user decides
    (here: it arrived), and the queued entry leaves the timeline."""
    demo = opened
    ref = await first_record(demo, "contact")
    before = len(vendor_calls("salesloft", demo.db))
    demo.crm.outbox.paused = True
    logged = await demo.crm.calls.log(ref, {"activity": "call", "note": NOTE})
    demo.sandbox.state.faults.next.append("lost")  # the POST lands, its reply never comes
    demo.crm.outbox.paused = False
    await demo.crm.send_now(demo.profile)
    await demo.crm.send_now(demo.profile)  # checked before it is sent again: cannot tell
    [change] = demo.crm.changes(demo.profile)
    assert change.state is ChangeState.UNCERTAIN
    assert "may have reached Salesloft" in (change.last_error or "")
    assert len(vendor_calls("salesloft", demo.db)) == before + 1  # once, not twice
    demo.crm.mark_arrived(logged.change.id)
    assert demo.crm.changes(demo.profile) == []
    shown = demo.crm.cached_timeline(ref)
    assert shown is not None and f"local:{logged.change.id}" not in {a.id for a in shown}


async def test_a_vendor_that_logs_no_calls_says_so(tmp_path: Path) -> None:
    """A vendor declaring no activity log (the toy sixth vendor): refused in its words,
    nothing queued."""
    import tests.toyvendor  # noqa: F401 - registers the vendor and its sandbox

    crm, _ = demo_crm(vendors=["toy"], store_path=tmp_path / "c.sqlite3", http=Http(sleep=no_sleep))
    async with crm:
        kinds = await crm.kinds("demo-toy")
        page = await crm.refresh("demo-toy", kinds[0].kind)
        ref = page.records[0].ref
        assert crm.calls.refusal(ref) == "Toy CRM offers no way to log a call from crmtui"
        assert (await crm.calls.form(ref)).refusal == crm.calls.refusal(ref)
        with pytest.raises(CrmError, match="offers no way to log a call"):
            await crm.calls.log(ref, {"activity": "call"})
        assert crm.changes("demo-toy") == []


@pytest.mark.parametrize("opened", ["freshsales"], indirect=True)
async def test_a_meeting_takes_the_outcomes_of_meetings(opened: Demo) -> None:
    """Freshsales outcomes belong to a sales activity type: a meeting is logged as the
    account's Meeting type with a meeting's outcome; a call's outcome on a meeting is
    refused before anything is queued."""
    demo = opened
    ref = await first_record(demo, "deal")
    form = await demo.crm.calls.form(ref)
    outcomes = next(s for s in form.specs if s.key == "outcome").choices
    call_only = next(c for c in outcomes if c.group == "call" and c.label == "No answer")
    with pytest.raises(FieldError, match="Outcome"):
        await demo.crm.calls.log(ref, {"activity": "meeting", "outcome": call_only.value})
    held = next(c for c in outcomes if c.group == "meeting" and c.label == "Rescheduled")
    await demo.crm.calls.log(
        ref, {"activity": "meeting", "outcome": held.value, "duration": "45", "note": NOTE}
    )
    await settle(demo)
    made = list(demo.db.sales_activities.values())[-1]
    assert made["sales_activity_type_id"] == MEETING  # the sandbox's own Meeting type
    assert str(made["sales_activity_outcome_id"]) == held.value
    shown = demo.crm.cached_timeline(ref)
    assert shown is not None and shown[0].type is ActivityType.MEETING
