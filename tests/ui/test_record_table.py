"""What a key press costs the table: a cursor move repaints two rows, a page down re-draws
no row it prepared, and its messages go out only when something changed."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult

from benchmarks.data import deals
from crmtui.model import Record
from crmtui.ui.widgets import record_table
from crmtui.ui.widgets.record_table import Column, RecordTable
from tests.helpers.ui import build_demo, open_kind, wait_for

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


async def test_a_long_scroll_keeps_drawing_only_the_row_the_cursor_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The formatted rows are bounded (``KEEP_BLOCKS * BLOCK``): past the bound the rows
    far from the cursor are forgotten, not all of them (then every row of the next
    screen was drawn inside its paint)."""
    monkeypatch.setattr(record_table, "KEEP_BLOCKS", 2)  # 256 formatted rows at most
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.table
        table.reload()
        table.focus()
        await pilot.pause()
        for _ in range(20):  # 19 rows a page: 380 rows formatted, the bound passed
            table.drawn.clear()
            await pilot.press("pagedown")
            await pilot.pause()
            assert len(table.drawn) <= 1
        assert table.cursor >= 19 * 20 - 1
        assert len(table._texts) <= 2 * record_table.BLOCK + 1


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


# -- a long list: painting reads nothing, a worker reads ahead -----------------------

LONG = 5_000


class Watched(RecordTable):
    """A table over ``LONG`` rows that notes every read and whether a paint made it."""

    def __init__(self) -> None:
        self.reads: list[tuple[int, bool]] = []  # (offset, while painting)
        self.painting = False
        self.source: list[Record] = [
            Record(vendor="x", profile="p", kind="deal", id=str(i), title=f"Deal {i:05}")
            for i in range(LONG)
        ]
        super().__init__(self._read, lambda: len(self.source), [Column("title", "Name")])

    def _read(self, offset: int, limit: int) -> list[Record]:
        in_paint = self.painting and threading.current_thread() is threading.main_thread()
        self.reads.append((offset, in_paint))
        return self.source[offset : offset + limit]

    def render_line(self, y: int):  # type: ignore[no-untyped-def]
        self.painting = True
        try:
            return super().render_line(y)
        finally:
            self.painting = False


class LongApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.table = Watched()
        self.reloaded: list[int] = []

    def compose(self) -> ComposeResult:
        yield self.table

    def on_record_table_reloaded(self, message: RecordTable.Reloaded) -> None:
        self.reloaded.append(message.table.row_count)


def screen_titles(table: RecordTable) -> list[str | None]:
    top = int(table.scroll_offset.y)
    found = [table.cached_at(i) for i in range(top, top + table.page_rows)]
    return [r.title if r else None for r in found]


async def rows_shown(pilot, table: RecordTable, *, cursor: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Wait until the screen (with the cursor on it, unless scrolled away) shows rows."""
    for _ in range(100):
        await pilot.pause()
        top = int(table.scroll_offset.y)
        on_screen = not cursor or top <= table.cursor < top + table.page_rows
        if on_screen and table.showing() and not table._loading:
            return
    raise AssertionError("the rows never arrived")


async def shown(pilot, app: LongApp) -> Watched:  # type: ignore[no-untyped-def]
    """The long table loaded, focused, its first page on screen."""
    app.table.reload()
    app.table.focus()
    await rows_shown(pilot, app.table)
    return app.table


async def test_no_read_while_painting_and_rows_are_read_ahead_both_ways() -> None:
    app = LongApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = await shown(pilot, app)
        for move in ("end", "home", "pagedown", "pagedown", "pageup"):
            await pilot.press(move)
            await rows_shown(pilot, table)
        table.jump_to(LONG // 2)
        await rows_shown(pilot, table)
        table.scroll_to(y=3_210, animate=False, force=True)  # not by the cursor
        await rows_shown(pilot, table, cursor=False)
        assert screen_titles(table) == [f"Deal {i:05}" for i in range(3_210, 3_210 + 19)]
        table.jump_to(LONG // 2)
        await rows_shown(pilot, table)
        top, page = int(table.scroll_offset.y), table.page_rows
        assert table.current is not None and table.current.title == f"Deal {LONG // 2:05}"
        assert table.cached_at(top - page) is not None  # the page above
        assert table.cached_at(top + 2 * page) is not None  # and the pages below
        assert table.reads and not any(painting for _, painting in table.reads)


async def test_page_down_finds_its_rows_read_before_the_key() -> None:
    app = LongApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = await shown(pilot, app)
        table.jump_to(LONG // 3)
        await rows_shown(pilot, table)
        for _ in range(20):
            reads = len(table.reads)
            await pilot.press("pagedown")
            assert table.showing()  # the new page was there when the key came
            await rows_shown(pilot, table)
            assert len(table.reads) - reads <= 1  # at most the next block, ahead


async def test_a_long_list_counts_in_the_background_and_drops_stale_counts(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from crmtui.ui.widgets import record_table

    monkeypatch.setattr(record_table, "COUNT_LATER_FROM", 100)
    app = LongApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.table
        table.reload()
        await rows_shown(pilot, table)
        table.source = table.source[:1_000]
        table.reload(keep_cursor=False, background=True)
        table.source = table.source[:10]  # typed on: the first count is stale
        table.reload(keep_cursor=False, background=True)
        assert table.row_count == LONG  # nothing waited for a count
        for _ in range(100):
            await pilot.pause()
            if table.row_count == 10:
                break
        await rows_shown(pilot, table)
        assert table.row_count == 10 and screen_titles(table)[:10] == [
            f"Deal {i:05}" for i in range(10)
        ]
        assert app.reloaded == [10]  # the stale count was never applied nor announced


async def test_the_vendor_screen_paints_its_rows_without_touching_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the real path (vendor screen, service, SQLite cache) a paint never runs a
    statement: rows come from the table's block cache, filled by its worker threads."""
    demo = build_demo("freshsales", tmp_path / "cache.sqlite3")
    profile = next(iter(demo.crm.states))
    more = [
        r.model_copy(update={"profile": profile, "id": f"b{r.id}"}) for r in deals(4 * LONG // 5)
    ]  # enough rows that jumping about leaves blocks to read
    demo.crm.store.upsert_records(more)
    painting = threading.local()
    in_paint: list[str] = []
    statements: list[str] = []

    def trace(sql: str) -> None:
        statements.append(sql)
        if getattr(painting, "on", False):
            in_paint.append(sql)

    for name in ("render_line", "render_lines"):
        original = getattr(RecordTable, name)

        def watched(self: RecordTable, *args: Any, _original: Any = original) -> Any:
            painting.on = True
            try:
                return _original(self, *args)
            finally:
                painting.on = False

        monkeypatch.setattr(RecordTable, name, watched)
    demo.crm.store._db.conn.set_trace_callback(trace)  # every statement of the cache file
    async with demo.app.run_test(size=(120, 30)) as pilot:
        view = await open_kind(pilot, "deal")
        table = view.table
        await wait_for(pilot, lambda: table.row_count >= len(more))
        keys = ("end", "home", "pagedown", "pagedown", "s", "down", "down", "enter", "S")
        for key in (*keys, "end", "pageup"):  # s: the picker, a column's order
            await pilot.press(key)
            await rows_shown(pilot, table)
        table.jump_to(table.row_count // 2)
        await rows_shown(pilot, table)
        assert table.current is not None
    assert statements  # the trace sees the cache's reads (from the worker threads)
    assert in_paint == []
