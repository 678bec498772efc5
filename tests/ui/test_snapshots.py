"""SVG snapshots of the main screens on the Freshsales demo (fixed data and clock).

After an intended change of the UI: `pytest tests/ui --snapshot-update`, then look at
the pictures in the report before committing them.
"""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input

from crmtui.ui.screens.home import HomeScreen
from crmtui.ui.screens.record import RecordScreen
from crmtui.ui.widgets.timeline import Timeline
from tests.helpers.ui import Demo, open_deals, open_field, settle, wait_for

SIZE = (130, 40)


def test_home(snap_compare, demo: Demo) -> None:
    async def run_before(pilot: Pilot) -> None:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        await wait_for(pilot, lambda: all(s.online for s in demo.crm.states.values()))
        await settle(pilot)

    assert snap_compare(demo.app, terminal_size=SIZE, run_before=run_before)


def test_deals_list(snap_compare, demo: Demo) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_deals(pilot)
        await settle(pilot)

    assert snap_compare(demo.app, terminal_size=SIZE, run_before=run_before)


async def _open_first_deal(pilot: Pilot) -> RecordScreen:
    await open_deals(pilot)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
    screen = pilot.app.screen
    assert isinstance(screen, RecordScreen)
    timeline = screen.query_one(Timeline)
    await wait_for(pilot, lambda: not timeline.fetching and timeline.activities)
    return screen


def test_deal_record_with_timeline(snap_compare, demo: Demo) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _open_first_deal(pilot)
        await settle(pilot)

    assert snap_compare(demo.app, terminal_size=SIZE, run_before=run_before)


def test_edit_in_progress_with_a_refused_value(snap_compare, demo: Demo) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _open_first_deal(pilot)
        item = await open_field(pilot, "amount")
        editor = item.query_one(Input)
        editor.cursor_blink = False  # a blinking cursor would make the picture flaky
        editor.value = ""
        await pilot.press(*list("12x"), "enter")
        await wait_for(
            pilot, lambda: "not a number" in str(item.query_one(".field-error").render())
        )
        await settle(pilot)

    assert snap_compare(demo.app, terminal_size=SIZE, run_before=run_before)
