"""Bulk edit attacked from the keyboard, one app run on the Freshsales contacts (300 of
them, 100 to a page): ``A`` marks every contact the list matches, not the first page;
records marked before a search hid them are named in the preview; ``n`` and ``y`` on the
value step neither cancel nor queue (only the preview answers to them)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, OptionList, Static

from crmtui.ui.screens.bulk import BulkEditScreen
from tests.helpers.ui import build_demo, open_kind, wait_for


async def test_marks_are_all_the_list_matches_and_none_is_edited_unseen(tmp_path: Path) -> None:
    demo = build_demo("freshsales", tmp_path / "cache.sqlite3")
    app = demo.app
    async with app.run_test(size=(140, 44)) as pilot:
        view = await open_kind(pilot, "contact")
        assert view.table.row_count < 300  # the first page only

        # A: every contact of the list, read to its end first
        await pilot.press("A")
        await wait_for(pilot, lambda: len(view.selection) > 0)
        assert len(view.selection) == 300
        await pilot.press("A")  # all marked: A unmarks them
        await wait_for(pilot, lambda: len(view.selection) == 0)

        # two marked, then a search hides them; one shown is marked too
        await pilot.press("home", "space", "space")
        hidden = set(view.selection.ids)
        view.search_text = "Benjamin"
        await wait_for(pilot, lambda: view.table.row_count and view.table.row_count < 10)
        view.table.focus()
        await pilot.press("home", "space", "e")
        await wait_for(pilot, lambda: isinstance(app.screen, BulkEditScreen))
        screen = app.screen
        assert isinstance(screen, BulkEditScreen)
        fields = screen.query_one("#bulk-fields", OptionList)
        await wait_for(pilot, lambda: fields.option_count > 0)

        # a choice field: n and y on its values neither cancel nor queue
        index = next(
            i for i in range(fields.option_count) if fields.get_option_at_index(i).id == "owner"
        )
        fields.highlighted = index
        await pilot.press("enter")
        values = screen.query_one("#bulk-values", OptionList)
        await wait_for(pilot, lambda: values.display and values.has_focus)
        await pilot.press("n", "y")
        assert app.screen is screen and screen.step == "value"
        assert demo.crm.queued(view.profile) == 0
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is not screen)

        # a typed value: the preview names the two the list no longer shows
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, BulkEditScreen))
        screen = app.screen
        assert isinstance(screen, BulkEditScreen)
        fields = screen.query_one("#bulk-fields", OptionList)
        await wait_for(pilot, lambda: fields.option_count > 0)
        index = next(
            i for i in range(fields.option_count) if fields.get_option_at_index(i).id == "city"
        )
        fields.highlighted = index
        await pilot.press("enter")
        box = screen.query_one("#bulk-input", Input)
        await wait_for(pilot, lambda: box.has_focus)
        await pilot.press(*"Oslo", "enter")
        await wait_for(pilot, lambda: screen.step == "preview")
        summary = str(screen.query_one("#bulk-summary", Static).render())
        assert "3 to change" in summary
        assert "2 of them not in the list as it shows now" in summary
        table = screen.query_one("#bulk-rows", DataTable)
        titles = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        not_shown = [t for t in titles if t.endswith("(not shown)")]
        assert len(not_shown) == len(hidden) == 2
        await pilot.press("escape")  # nothing queued
        await wait_for(pilot, lambda: app.screen is not screen)
        assert demo.crm.queued(view.profile) == 0
