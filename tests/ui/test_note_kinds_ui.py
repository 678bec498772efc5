"""`n` (add a note) on a record whose kind takes no notes says so, in the vendor's words,
and opens no note dialog: the note is not typed only to fail later in the outbox. On a
kind that takes notes the dialog opens as before. (Every vendor's kinds are checked
without an app in tests/service/test_note_kinds.py.)"""

from __future__ import annotations

from pathlib import Path

from crmtui.ui.screens.record import NoteScreen, RecordScreen
from tests.helpers.ui import build_demo, open_record, wait_for

SIZE = (140, 48)


async def test_n_on_a_kind_that_takes_no_notes_says_so_and_opens_no_dialog(
    tmp_path: Path,
) -> None:
    demo = build_demo("activecampaign", tmp_path / "cache.sqlite3")
    message = "ActiveCampaign takes notes on deals, not on tasks"
    async with demo.app.run_test(size=SIZE, notifications=True) as pilot:
        await open_record(pilot, demo, "activecampaign", "task")
        await pilot.press("n")
        await wait_for(
            pilot, lambda: any(message in str(n.message) for n in pilot.app._notifications)
        )
        await pilot.pause()
        assert isinstance(pilot.app.screen, RecordScreen)
        assert not demo.crm.changes("demo-activecampaign")

        await pilot.press("escape")
        await open_record(pilot, demo, "activecampaign", "deal")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, NoteScreen))
