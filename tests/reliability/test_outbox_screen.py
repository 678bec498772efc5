"""The outbox screen under the outbox's rules: refusals are messages, never a crash.

- ``d`` (discard) or ``r`` (retry) on a change another process is sending says "it is
  being sent; wait or retry later", and the change stays queued.
- An uncertain change shows as such; ``m`` (it arrived) marks it done without sending.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from crmtui.model import Change, ChangeState, Query
from crmtui.store import Store
from crmtui.store.outbox import BEING_SENT
from crmtui.ui.screens.home import HomeScreen
from crmtui.ui.screens.outbox import OutboxScreen
from tests.helpers.ui import Demo, build_demo, wait_for

PROFILE = "demo-freshsales"


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    return build_demo("freshsales", tmp_path / "cache.sqlite3")


def messages(pilot: Pilot) -> list[str]:
    return [str(n.message) for n in pilot.app._notifications]


async def queued_edit(demo: Demo, title: str) -> Change:
    crm = demo.crm
    crm.outbox.paused = True  # queued, not sent: the test decides who sends it
    page = await crm.refresh(PROFILE, "contact", Query(per_page=5))
    await crm.fields(PROFILE, "contact")
    change = await crm.edit(page.records[0].ref, {"job_title": title})
    assert change is not None
    return change


async def open_outbox(pilot: Pilot) -> DataTable:
    await pilot.press("ctrl+o")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, OutboxScreen))
    table = pilot.app.screen.query_one(DataTable)
    await wait_for(pilot, lambda: table.row_count == 1)
    return table


async def test_discard_or_retry_of_a_change_being_sent_says_wait(
    demo: Demo, tmp_path: Path
) -> None:
    elsewhere = Store(tmp_path / "cache.sqlite3")  # a notebook on the same cache sends it
    try:
        async with demo.app.run_test(size=(120, 36), notifications=True) as pilot:
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
            change = await queued_edit(demo, "Head of being sent")
            assert elsewhere.claim(change.id, "notebook-host:1:x", timedelta(minutes=5))
            await open_outbox(pilot)
            await pilot.press("d")
            await wait_for(pilot, lambda: any(BEING_SENT in m for m in messages(pilot)))
            assert any(m.startswith("Not discarded") for m in messages(pilot))
            await pilot.press("r")
            await wait_for(
                pilot, lambda: any(m.startswith("Not sent again") for m in messages(pilot))
            )
            assert isinstance(pilot.app.screen, OutboxScreen)  # no crash
            stored = demo.crm.store.get_change(change.id)
            assert stored is not None and stored.state is ChangeState.SENDING
    finally:
        elsewhere.close()


async def test_it_arrived_settles_an_uncertain_change(demo: Demo) -> None:
    async with demo.app.run_test(size=(120, 36), notifications=True) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        change = await queued_edit(demo, "Head of maybe")
        demo.crm.store.set_state(change.id, ChangeState.UNCERTAIN, last_error="cannot check")
        writes = [e for e in demo.crm.http.log.recent(PROFILE) if e.method != "GET"]
        table = await open_outbox(pilot)
        assert "arrived? you decide" in [str(c) for c in table.get_row_at(0)]
        await pilot.press("m")
        await wait_for(pilot, lambda: table.row_count == 0)
        assert any("will not be sent again" in m for m in messages(pilot))
        stored = demo.crm.store.get_change(change.id)
        assert stored is not None and stored.state is ChangeState.DONE
        assert [e for e in demo.crm.http.log.recent(PROFILE) if e.method != "GET"] == writes
