"""`L`: log a call or meeting on a record (issue 17 point 2), in the app.

One app per vendor, for Salesloft, Freshsales and SalesSeek (every vendor's calls are
checked without an app in tests/service/test_log_call.py, ActiveCampaign and
SalesforceIQ included): `L` on a record opens the form in the vendor's words (its
outcomes, a duration where it keeps one, what it does not keep said), the save shows the
call on the timeline at once (queued), the vendor's own data then holds it with its
outcome, duration and note, the timeline shows the vendor's entry and the follow-up task
is created. Salesloft (calls on people only) says so on an account, in `L` and the
palette; Freshsales offers a meeting's outcomes for a meeting, and `L` and the palette
on a list row; SalesSeek logs a call offline, queued until the vendor is back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Select, Static

from crmtui.model import ActivityType, ChangeState
from crmtui.ui.screens.help import HelpScreen
from crmtui.ui.screens.log_call import LogCallScreen
from crmtui.ui.screens.record import RecordScreen
from crmtui.ui.widgets.timeline import Timeline, TimelineEntry
from tests.helpers.calls import follow_ups, vendor_calls
from tests.helpers.service import Unreachable
from tests.helpers.ui import (
    Demo,
    build_demo,
    fill_field,
    open_kind,
    open_record,
    palette_hits,
    palette_search,
    run_command,
    wait_for,
)

SIZE = (140, 48)
NOTE = "Talked pricing, wants the pilot in May"


@dataclass(frozen=True)
class Case:
    vendor: str
    kind: str
    picks: dict[str, str] = field(default_factory=dict)  # choice key -> label
    duration: bool = True
    due: str = "2027-01-15 10:00"  # the follow-up's due, as the vendor keeps it ("": none)
    unkept: str = ""


# ActiveCampaign and SalesforceIQ log through the same form and service: their calls,
# timelines and forms are checked without an app in tests/service/test_log_call.py (one
# app run costs several seconds of CI time).
CASES = [
    Case("salesloft", "contact", {"disposition": "Left Voicemail", "sentiment": "Positive"},
         due="2027-01-15"),
    Case("freshsales", "deal", {"outcome": "Left voicemail"}),
    Case("salesseek", "contact", duration=False,
         unkept="SalesSeek keeps no outcome and no duration for a call"),
]  # fmt: skip


def form(pilot: Pilot) -> LogCallScreen:
    screen = pilot.app.screen
    assert isinstance(screen, LogCallScreen)
    return screen


async def opened_form(pilot: Pilot) -> LogCallScreen:
    """The form `L` (or the palette) opened, once its fields are there."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, LogCallScreen))
    screen = form(pilot)
    await wait_for(pilot, lambda: screen.is_mounted and screen.query("#field-note"))
    await pilot.pause()
    return screen


async def fill(pilot: Pilot, key: str, text: str) -> None:
    await fill_field(pilot, form(pilot), key, text)


def timeline(pilot: Pilot) -> Timeline:
    screen = pilot.app.screen
    assert isinstance(screen, RecordScreen)
    return screen.query_one(Timeline)


def queued_entries(pilot: Pilot) -> list[TimelineEntry]:
    return [e for e in timeline(pilot).query(TimelineEntry) if e.has_class("-queued")]


async def log_on(pilot: Pilot, demo: Demo, case: Case, note: str, follow_up: str) -> None:
    """`L` on the record shown, the form filled as ``case`` says, saved."""
    await pilot.press("L")
    screen = await opened_form(pilot)
    vendor = demo.crm.vendor_label(f"demo-{case.vendor}")
    title = str(screen.query_one("#create-title", Static).render())
    assert title == f"Log a call or meeting — {vendor}"
    keys = {s.key for s in screen.specs}
    assert ("duration" in keys) is case.duration and ("follow_up" in keys) is bool(case.due)
    said = str(screen.query_one("#create-from", Static).render())
    assert said.startswith("On: ") and said.endswith(case.unkept or said[-1])
    for key, label in case.picks.items():
        spec = next(s for s in screen.specs if s.key == key)
        await fill(pilot, key, next(c.value for c in spec.choices if c.label == label))
    if case.duration:
        await fill(pilot, "duration", "12")
    await fill(pilot, "note", note)
    if case.due:
        await fill(pilot, "follow_up", follow_up)
        await fill(pilot, "follow_up_due", case.due)
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))


@pytest.mark.parametrize("case", CASES, ids=[c.vendor for c in CASES])
async def test_l_logs_a_call_through_the_outbox(case: Case, tmp_path: Path) -> None:
    demo = build_demo(case.vendor, tmp_path / "cache.sqlite3")
    profile = f"demo-{case.vendor}"
    follow_up = f"Send the quote {case.vendor} 17"
    async with demo.app.run_test(size=SIZE, notifications=True) as pilot:
        if case.vendor == "freshsales":
            await l_on_a_list_row(pilot)
        record = await open_record(pilot, demo, case.vendor, case.kind)
        pane = timeline(pilot)
        await wait_for(pilot, lambda: demo.crm.cached_timeline(record.ref) is not None)
        before = len(vendor_calls(case.vendor, demo.db))
        demo.crm.outbox.paused = True  # to see it queued before it goes
        await log_on(pilot, demo, case, NOTE, follow_up)

        # at once, on the timeline, marked queued
        await wait_for(pilot, lambda: queued_entries(pilot))
        entry = queued_entries(pilot)[0].activity
        assert entry.type is ActivityType.CALL and entry.who == "you (queued)"
        assert entry.summary.startswith("Call") and NOTE in entry.summary
        for label in case.picks.values():
            assert label in entry.summary
        assert ("12 min" in entry.summary) is case.duration
        assert len(demo.crm.changes(profile)) == (2 if case.due else 1)  # with the task

        demo.crm.outbox.paused = False
        await demo.crm.send_now(profile)
        await wait_for(pilot, lambda: not demo.crm.changes(profile) and not queued_entries(pilot))
        calls = vendor_calls(case.vendor, demo.db)
        assert len(calls) == before + 1
        made = calls[-1]
        assert NOTE in made["note"]
        if case.duration:
            assert made["seconds"] in (720, 720.0)
        if case.vendor == "salesloft":
            assert made["outcome"] == ("Left Voicemail", "Positive")
        assert str(made["on"]) == record.ref.id
        if case.due:
            assert len(follow_ups(case.vendor, demo.db, follow_up)) == 1
        # the vendor's entry, as its timeline shows it
        await wait_for(pilot, lambda: any(a.type is ActivityType.CALL for a in pane.activities))
        assert not [a for a in pane.activities if a.id.startswith("local:")]

        if case.vendor == "salesloft":
            await calls_on_people_only(pilot, demo)
        if case.vendor == "salesseek":
            await offline_it_waits_and_goes_when_back(pilot, demo, case)
        if case.vendor == "freshsales":
            await the_palette_logs_a_call(pilot)


async def calls_on_people_only(pilot: Pilot, demo: Demo) -> None:
    """Salesloft logs calls on people: `L` on an account says so, no form opens; the
    palette's entry says so too."""
    message = "Salesloft logs calls on people, not on accounts"
    await open_record(pilot, demo, "salesloft", "company")
    await pilot.press("L")
    await wait_for(pilot, lambda: any(message in str(n.message) for n in pilot.app._notifications))
    assert not isinstance(pilot.app.screen, LogCallScreen)
    assert not demo.crm.changes("demo-salesloft")
    await palette_search(pilot, "Log a call")
    hits = palette_hits(pilot.app)
    assert any("Log a call or meeting" in hit and message in hit for hit in hits), hits
    await pilot.press("escape")


async def offline_it_waits_and_goes_when_back(pilot: Pilot, demo: Demo, case: Case) -> None:
    """Offline: logged all the same, on the timeline at once (queued), sent once back."""
    profile = "demo-salesseek"
    origin = "http://salesseek.localhost"
    await pilot.press("escape")
    deal = await open_record(pilot, demo, "salesseek", "deal")  # not the first record
    await wait_for(pilot, lambda: demo.crm.cached_timeline(deal.ref) is not None)  # read
    before = len(vendor_calls("salesseek", demo.db))
    demo.crm.http.transport.mount(origin, Unreachable())
    note = "Offline call 17"
    await log_on(pilot, demo, case, note, "Offline follow-up 17")
    await wait_for(pilot, lambda: any(note in e.activity.summary for e in queued_entries(pilot)))
    await wait_for(pilot, lambda: demo.crm.states[profile].online is False)
    assert {c.state for c in demo.crm.changes(profile)} <= {ChangeState.PENDING, ChangeState.FAILED}
    assert len(vendor_calls("salesseek", demo.db)) == before

    demo.crm.http.mount_app(origin, demo.sandbox)  # back
    await demo.crm.send_now(profile)
    await wait_for(pilot, lambda: not demo.crm.changes(profile) and not queued_entries(pilot))
    assert len(vendor_calls("salesseek", demo.db)) == before + 1


async def the_palette_logs_a_call(pilot: Pilot) -> None:
    """On a record, the palette's "Log a call or meeting" opens the form; help lists L."""
    await run_command(pilot, "Log a call")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, LogCallScreen))
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
    await pilot.press("question_mark")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
    table = pilot.app.screen.query_one(DataTable)
    rows = {
        str(table.get_row_at(i)[1]): str(table.get_row_at(i)[0]) for i in range(table.row_count)
    }
    assert rows["Log a call"] == "L"
    await pilot.press("escape")


async def meeting_outcomes(pilot: Pilot, screen: LogCallScreen) -> None:
    select = screen.query_one("#field-outcome", Select)

    def offered() -> set[str]:
        return {str(prompt) for prompt, _ in select._options if prompt}

    assert "No answer" in offered() and "Rescheduled" not in offered()
    await fill(pilot, "activity", "meeting")
    await wait_for(pilot, lambda: "Rescheduled" in offered() and "No answer" not in offered())


async def l_on_a_list_row(pilot: Pilot) -> None:
    """On a list, `L` and the palette log on the highlighted row's record."""
    view = await open_kind(pilot, "contact")
    row = view.table.current
    assert row is not None
    for keys in (["L"], None):
        if keys:
            await pilot.press(*keys)
        else:
            await run_command(pilot, "Log a call")
        screen = await opened_form(pilot)
        assert str(screen.query_one("#create-from", Static).render()) == f"On: {row.title}"
        if keys:  # a meeting offers the outcomes of meetings, a call those of calls
            await meeting_outcomes(pilot, screen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(pilot.app.screen, LogCallScreen))
