"""What a key press costs the table: a cursor move repaints two rows, a page down re-draws
no row it prepared, and its messages go out only when something changed."""

from __future__ import annotations

from textual.app import App, ComposeResult

from crmtui.model import Record
from crmtui.ui.widgets.record_table import Column, RecordTable

ROWS = 500


def records() -> list[Record]:
    return [
        Record(vendor="x", profile="p", kind="deal", id=str(i), title=f"Deal {i:04}")
        for i in range(ROWS)
    ]


class Counting(RecordTable):
    """Counts the rows drawn while painting, the lines painted and the messages posted."""

    def __init__(self, rows: list[Record]) -> None:
        super().__init__(lambda o, n: rows[o : o + n], lambda: len(rows), [Column("title", "Name")])
        self.drawn: list[int] = []
        self.lines: list[int] = []
        self.posted: list[str] = []

    def _toned(self, text, record, widths, style):  # type: ignore[no-untyped-def]
        if self._paint_styles is not None:  # drawn while painting, not ahead of time
            self.drawn.append(int(record.id))
        return super()._toned(text, record, widths, style)

    def render_line(self, y: int):  # type: ignore[no-untyped-def]
        self.lines.append(y)
        return super().render_line(y)

    def post_message(self, message) -> bool:  # type: ignore[no-untyped-def]
        self.posted.append(type(message).__name__)
        return super().post_message(message)


class TableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.table = Counting(records())

    def compose(self) -> ComposeResult:
        yield self.table


async def test_a_cursor_move_repaints_only_the_two_rows_it_touches() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.table
        table.reload()
        table.focus()
        await pilot.pause()
        table.lines.clear()
        await pilot.press("down")
        await pilot.pause()
        assert table.cursor == 1
        assert sorted(set(table.lines)) == [1, 2]  # rows 0 and 1, under the header


async def test_page_down_draws_no_row_that_was_prepared_after_the_last_key() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.table
        table.reload()
        table.focus()
        await pilot.pause()
        for _ in range(3):
            await pilot.press("pagedown")
            await pilot.pause()
            table.drawn.clear()
            top = int(table.scroll_offset.y)
            await pilot.press("pagedown")
            await pilot.pause()
            assert int(table.scroll_offset.y) > top
            # only the row the cursor left is drawn anew (as a plain row)
            assert len(table.drawn) <= 1


async def test_messages_only_when_something_changed() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.table
        table.reload()
        table.focus()
        await pilot.pause()
        await pilot.press("end")
        await pilot.pause()
        table.posted.clear()
        for key in ("up", "down", "up", "down"):  # near the end all along
            await pilot.press(key)
            await pilot.pause()
        assert table.posted.count("NearEnd") == 0  # said once, when the end came near
        assert table.posted.count("Highlighted") == 4
        table.posted.clear()
        await pilot.press("end")  # already there: nothing changes
        await pilot.pause()
        assert "Highlighted" not in table.posted
