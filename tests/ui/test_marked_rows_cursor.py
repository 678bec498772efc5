"""The highlight shows on a row marked for a bulk edit. Seen in the demo: after `A` (mark
every row) no row of the list was highlighted, and `space` then `k` left the cursor
invisible on the row just marked: the marked style brought the table's own background
and put it over the cursor's."""

from __future__ import annotations

from rich.style import Style

from crmtui.ui.widgets.record_table import RecordTable
from tests.helpers.ui import Demo, open_kind, wait_for

SIZE = (120, 30)


def row_style(table: RecordTable, index: int) -> Style:
    """The style a row is painted in (its first cell's: the mark or the first letter)."""
    strip = table.render_line(index - int(table.scroll_offset.y) + 1)
    style = next(iter(strip)).style
    assert style is not None
    return style


async def test_the_cursor_is_seen_on_a_marked_row(demo: Demo) -> None:
    async with demo.app.run_test(size=SIZE) as pilot:
        view = await open_kind(pilot, "contact")
        table = view.table
        highlighted = row_style(table, 0)
        plain = row_style(table, 2)  # an even row, not under the cursor
        assert highlighted.bgcolor != plain.bgcolor

        await pilot.press("space", "k")  # mark the first row, down, back up onto it
        await wait_for(pilot, lambda: table.cursor == 0 and "1 marked" in view.marks_fact())
        marked = row_style(table, 0)
        assert (marked.bgcolor, marked.color) == (highlighted.bgcolor, highlighted.color)
        assert marked.bold  # the mark is not colour alone

        await pilot.press("j", "j", "space")  # row 2 marked: its row keeps its colours
        await wait_for(pilot, lambda: table.cursor == 3 and "2 marked" in view.marks_fact())
        assert row_style(table, 2).bgcolor == plain.bgcolor and row_style(table, 2).bold
