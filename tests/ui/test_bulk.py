"""Bulk edit in the app (issue 17 point 4), one app run: marking rows (space, V, A) shows
on the rows and in the facts line; e picks a field and a value, the preview shows each
record's before → after and the cost; escape queues nothing; y queues one change per
record, the screen counts them sent, the requests sent are the preview's figure, and u
takes one back. The palette's "Bulk edit…" opens it on the list.

The cost against what each vendor is sent is checked for all five vendors in
tests/service/test_bulk.py (no app needed for it)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, OptionList, Static

from crmtui.fields import same_value
from crmtui.http.log import LogEntry
from crmtui.model import ChangeState, Role
from crmtui.ui.screens.bulk import BulkEditScreen
from crmtui.ui.screens.help import HelpScreen
from crmtui.ui.screens.undo import UndoPreview
from crmtui.ui.screens.vendor import KindView
from crmtui.ui.widgets.selection import MARK
from tests.helpers.ui import build_demo, open_deals, run_command, wait_for

SIZE = (140, 44)


def row_text(view: KindView, index: int) -> str:
    """The row as drawn (the table's line for it: the header is line 0)."""
    table = view.table
    return table.render_line(index - int(table.scroll_offset.y) + 1).text


def facts(view: KindView) -> str:
    return str(view.query_one(".facts", Static).render())


async def pick(pilot: object, options: OptionList, option_id: str) -> None:
    index = next(
        i for i in range(options.option_count) if options.get_option_at_index(i).id == option_id
    )
    options.highlighted = index
    await pilot.press("enter")  # type: ignore[attr-defined]


async def test_bulk_edit_from_the_keyboard(tmp_path: Path) -> None:
    demo = build_demo("freshsales", tmp_path / "cache.sqlite3")
    crm = demo.crm
    async with demo.app.run_test(size=SIZE) as pilot:
        view = await open_deals(pilot)
        table = view.table
        profile = view.profile
        await pilot.press("home")

        # space marks the row and moves down; the mark is drawn, the count said
        await pilot.press("space")
        await pilot.pause()
        first = table.record_at(0)
        assert first is not None and table.cursor == 1
        assert row_text(view, 0).startswith(MARK) and not row_text(view, 1).startswith(MARK)
        assert "1 marked" in facts(view)
        # V marks from the last marked row to the cursor
        await pilot.press("down", "down", "V")
        await pilot.pause()
        assert len(view.selection) == 4
        assert all(row_text(view, i).startswith(MARK) for i in range(4))
        # A: every row the list shows; again: none
        await pilot.press("A")
        await pilot.pause()
        assert len(view.selection) == table.row_count > 4
        await pilot.press("A")
        await pilot.pause()
        assert len(view.selection) == 0 and not row_text(view, 0).startswith(MARK)
        assert "marked" not in facts(view)

        # mark three rows, e: the field, then the value
        await pilot.press("home", "space", "space", "space")
        marked = [r for i in range(3) if (r := table.record_at(i)) is not None]
        info = view.info
        stage = info.role(Role.STAGE)
        assert stage is not None
        spec = next(s for s in crm.cached_fields(profile, "deal") if s.key == stage)
        target = spec.choice(marked[0].fields[stage])
        assert target is not None

        async def preview() -> BulkEditScreen:
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, BulkEditScreen))
            screen = pilot.app.screen
            assert isinstance(screen, BulkEditScreen)
            fields = screen.query_one("#bulk-fields", OptionList)
            await wait_for(pilot, lambda: fields.option_count > 0)
            await pick(pilot, fields, stage)
            values = screen.query_one("#bulk-values", OptionList)
            await wait_for(pilot, lambda: values.display and values.option_count > 0)
            await pick(pilot, values, target.label)
            await wait_for(pilot, lambda: screen.plan is not None)
            return screen

        screen = await preview()
        plan = screen.plan
        assert plan is not None and len(plan.rows) == 3
        summary = str(screen.query_one("#bulk-summary", Static).render())
        cost = str(screen.query_one("#bulk-cost", Static).render())
        assert summary == plan.summary and "already" in summary  # the first is there
        assert cost.startswith(f"Cost: {plan.cost.requests} request") and "budget" in cost
        assert screen.query_one("#bulk-rows").display
        # escape: nothing queued, the marks kept
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(pilot.app.screen, BulkEditScreen))
        assert crm.queued(profile) == 0 and len(view.selection) == 3

        # again, and y: one change per record, sent, counted
        screen = await preview()
        plan = screen.plan
        assert plan is not None and plan.changes
        sent: list[LogEntry] = []
        stop = crm.watch_requests(sent.append)
        await pilot.press("y")
        progress = screen.query_one("#bulk-progress", Static)
        total = len(plan.changes)
        await wait_for(pilot, lambda: f"{total} of {total} sent" in str(progress.render()))
        stop()
        assert len(sent) == plan.cost.requests
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(pilot.app.screen, BulkEditScreen))
        assert len(view.selection) == 0  # a confirmed edit clears the marks
        changed = [row.ref for row in plan.changes]
        adapter = crm.adapter(profile)
        for ref in changed:
            there = await adapter.get(ref.kind, ref.id)
            assert same_value(there.fields[stage], plan.values[ref])

        # u takes the last one back (previewed, confirmed)
        last = changed[-1]
        old = next(r for r in marked if r.ref == last).fields[stage]
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, UndoPreview))
        await pilot.press("y")
        await wait_for(pilot, lambda: not isinstance(pilot.app.screen, UndoPreview))
        await wait_for(
            pilot,
            lambda: all(c.state is ChangeState.DONE for c in crm.undo.recent(profile)[:1]),
        )
        there = await adapter.get(last.kind, last.id)
        assert same_value(there.fields[stage], old)

        # the palette's Bulk edit… on the list: the row under the cursor
        table.focus()
        await run_command(pilot, "Bulk edit")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, BulkEditScreen))
        screen = pilot.app.screen
        assert isinstance(screen, BulkEditScreen) and len(screen.ids) == 1
        # a typed value: y and n are letters there, not the preview's answers
        fields = screen.query_one("#bulk-fields", OptionList)
        await wait_for(pilot, lambda: fields.option_count > 0)
        await pick(pilot, fields, "name")
        box = screen.query_one("#bulk-input", Input)
        await wait_for(pilot, lambda: box.has_focus)
        await pilot.press("N", "y", "n")
        assert box.value == "Nyn" and pilot.app.screen is screen
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(pilot.app.screen, BulkEditScreen))
        assert crm.queued(profile) == 0

        # the help lists the keys
        table.focus()
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        help_rows = pilot.app.screen.query_one(DataTable)
        actions = {str(help_rows.get_row_at(i)[1]) for i in range(help_rows.row_count)}
        assert {"Mark row", "Mark range", "Mark all shown", "Edit marked"} <= actions
