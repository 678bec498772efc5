"""Attacks on a RecordTable's jumps (G, g, jump_to, a page past the read-ahead): the
screen's rows read before the frame, the blocks around after it.

The table reads from a list of records held here, through a ``fetch`` a test can hold
(a slow cache) at will: reads of just a screen's rows and reads of whole blocks are held
apart, so a test decides what arrives first.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.worker import WorkerFailed

from crmtui.model import Record
from crmtui.ui.widgets.record_table import BLOCK, Column, RecordTable
from tests.helpers.ui import busy, wait_for

SIZE = (80, 24)


def deal(i: int, tag: str = "") -> Record:
    return Record(vendor="v", profile="p", kind="deals", id=f"{tag}d{i}", title=f"{tag}Deal {i}")


class Source:
    """Records in a list; a read of a screen (fewer rows than a block) or of a block
    waits while its gate is closed."""

    def __init__(self, rows: int, tag: str = "") -> None:
        self.records = [deal(i, tag) for i in range(rows)]
        self.screen_gate = threading.Event()
        self.block_gate = threading.Event()
        self.screen_gate.set()
        self.block_gate.set()
        self.reads: list[tuple[int, int]] = []  # (offset, limit) of each read done
        self.waiting = 0  # reads waiting at a gate now
        self.lock = threading.Lock()

    def fetch(self, offset: int, limit: int) -> list[Record]:
        gate = self.block_gate if limit == BLOCK else self.screen_gate
        if not gate.is_set():
            with self.lock:
                self.waiting += 1
            gate.wait(10)
            with self.lock:
                self.waiting -= 1
        # new objects each read, as a cache file's reads are
        rows = [record.model_copy() for record in self.records[offset : offset + limit]]
        with self.lock:
            self.reads.append((offset, limit))
        return rows

    def count(self) -> int:
        return len(self.records)

    def table(self) -> RecordTable:
        return RecordTable(self.fetch, self.count, [Column("title", "Deal", width=12)])

    def hold(self) -> None:
        """The cache turns slow: every read waits until ``release``."""
        self.screen_gate.clear()
        self.block_gate.clear()

    def release(self) -> None:
        self.screen_gate.set()
        self.block_gate.set()


class TableApp(App[None]):
    def __init__(self, table: RecordTable) -> None:
        super().__init__()
        self.table = table
        self.highlighted: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield self.table

    def on_mount(self) -> None:
        self.table.reload()

    def on_record_table_highlighted(self, message: RecordTable.Highlighted) -> None:
        self.highlighted.append(None if message.record is None else message.record.id)


def shown(table: RecordTable) -> list[str]:
    """The table's rows as painted (blank rows: "")."""
    return [table.render_line(y).text.strip() for y in range(1, table.size.height)]


async def idle(pilot: Pilot[None], source: Source) -> None:
    """Until the table's reads are done (none waits at a gate)."""
    await wait_for(pilot, lambda: not busy(pilot) and source.waiting == 0)
    await pilot.pause()


@asynccontextmanager
async def running(
    source: Source, table: RecordTable | None = None
) -> AsyncIterator[tuple[Pilot[None], TableApp, RecordTable]]:
    """The table (``source``'s by default) in an app, its first screen read."""
    table = table or source.table()
    app = TableApp(table)
    async with app.run_test(size=SIZE) as pilot:
        await idle(pilot, source)
        yield pilot, app, table


def on(table: RecordTable, id_: str) -> bool:
    """Whether the cursor is on the record ``id_``."""
    return table.current is not None and table.current.id == id_


async def test_slow_jump_back_and_forth_highlights_the_last_row_once() -> None:
    """G g G with a slow cache: the last record is highlighted once, not once per read."""
    source = Source(5000)
    async with running(source) as (pilot, app, table):
        source.hold()
        app.highlighted.clear()
        await pilot.press("G", "g", "G")
        await wait_for(pilot, lambda: source.waiting >= 1)
        source.screen_gate.set()  # the screens' reads arrive, then the blocks
        await wait_for(pilot, table.showing)
        await wait_for(pilot, lambda: screen_reads(source))
        await pilot.pause()
        source.block_gate.set()
        await idle(pilot, source)
        assert on(table, "d4999")
        assert app.highlighted == ["d4999"]
        assert shown(table)[-1].startswith("Deal 49")


async def test_a_jump_over_rows_read_short_does_not_highlight_the_old_row_again() -> None:
    """Records deleted after the count: a screen's read returns fewer rows than asked.
    A jump whose read spans rows read before (the cursor's among them) sends
    ``Highlighted`` for the row it lands on only, not the row it leaves once more."""
    source = Source(5000)
    async with running(source) as (pilot, app, table):
        del source.records[4990:]  # deleted meanwhile: the list holds 4990 rows now
        source.block_gate.clear()  # the blocks around come later
        table.action_jump(-1)  # G: rows 4977-4989 of the screen read
        table.jump_to(4985)
        await pilot.pause()
        assert app.highlighted[-1] == "d4985"
        app.highlighted.clear()
        table.jump_to(4970)  # its screen's read spans 4970-4992
        await pilot.pause()
        assert app.highlighted == ["d4970"]
        source.block_gate.set()
        await idle(pilot, source)
        assert app.highlighted == ["d4970"]
        assert on(table, "d4970")


async def test_blocks_read_after_a_deletion_replace_the_jumps_rows() -> None:
    """Records deleted between a jump's read of its screen and the read of the blocks
    around it: once the blocks are read the table shows what they hold (the deleted
    records gone), not the screen's earlier rows."""
    source = Source(5000)
    async with running(source) as (pilot, _app, table):
        source.block_gate.clear()
        await pilot.press("G")
        await wait_for(pilot, table.showing)
        del source.records[4980:4985]  # five deleted meanwhile
        source.block_gate.set()
        await idle(pilot, source)
        ids = [record.id for i in range(4960, 5000) if (record := table.cached_at(i))]
        gone = {f"d{i}" for i in range(4980, 4985)}
        assert not gone & set(ids), ids
        assert len(ids) == len(set(ids))  # no record listed twice
        assert table.cached_at(4980) is not None and table.cached_at(4980).id == "d4985"
        rows = shown(table)  # rows 4977-4999 on screen: the last five none now
        assert "Deal 4980" not in rows and "Deal 4984" not in rows, rows
        assert rows[3] == "Deal 4985" and rows[15] == "Deal 4997", rows
        assert rows[17] == "Deal 4999" and not any(rows[18:]), rows


async def test_a_new_list_never_shows_a_slow_jumps_rows_of_the_old_one() -> None:
    """A filter (a new source) while a jump's read of the old list is in flight: the
    old rows are dropped, the new list's rows shown."""
    old = Source(5000)
    new = Source(3000, tag="x")
    async with running(old) as (pilot, app, table):
        old.hold()
        await pilot.press("G")
        await wait_for(pilot, lambda: old.waiting >= 1)
        table.set_source(new.fetch, new.count)
        await pilot.pause()
        assert app.highlighted[-1] == "xd0"
        app.highlighted.clear()
        await pilot.press("G")
        old.release()
        await idle(pilot, new)
        await wait_for(pilot, table.showing)
        await idle(pilot, old)
        rows = shown(table)
        assert all(row.startswith("xDeal") for row in rows), rows
        assert on(table, "xd2999")
        assert app.highlighted == ["xd2999"]


async def test_a_sort_while_a_jump_reads_shows_the_new_order_only() -> None:
    """The same source sorted the other way (``reload``) while a jump's read runs."""
    source = Source(5000)
    flipped = {"on": False}
    fetch = source.fetch

    def sorted_fetch(offset: int, limit: int) -> list[Record]:
        if not flipped["on"]:
            return fetch(offset, limit)
        rows = fetch(len(source.records) - offset - limit, limit)
        return rows[::-1]

    table = RecordTable(sorted_fetch, source.count, [Column("title", "Deal")])
    async with running(source, table) as (pilot, app, _):
        source.screen_gate.clear()
        await pilot.press("G")
        await wait_for(pilot, lambda: source.waiting >= 1)
        flipped["on"] = True
        table.reload(keep_cursor=False)
        source.screen_gate.set()
        await idle(pilot, source)
        assert table.cursor == 0
        assert shown(table)[:3] == ["Deal 4999", "Deal 4998", "Deal 4997"]
        assert app.highlighted[-1] == "d4999"


async def test_keys_during_a_slow_jump_highlight_where_the_cursor_is() -> None:
    """G then k k before the slow read arrives: the cursor's record is highlighted once
    it is read, the last row never."""
    source = Source(5000)
    async with running(source) as (pilot, app, table):
        source.hold()
        app.highlighted.clear()
        await pilot.press("G", "k", "k")
        source.release()
        await idle(pilot, source)
        assert on(table, "d4997")
        assert app.highlighted == ["d4997"]


async def test_quitting_while_a_jump_reads(caplog: pytest.LogCaptureFixture) -> None:
    """The app quits while a jump's read is in flight: no error, no wait for the read,
    nothing logged when the read ends after the app."""
    source = Source(5000)
    async with running(source) as (pilot, app, _table):
        source.hold()
        await pilot.press("G", "g", "G")
        await wait_for(pilot, lambda: source.waiting >= 1)
        app.exit()
    assert app.return_code in (0, None) and source.waiting >= 1  # it did not wait
    source.release()  # the reads end after the app
    for _ in range(1000):
        if source.waiting == 0 and len(source.reads) >= 3:
            break
        await asyncio.sleep(0.01)
    assert source.waiting == 0
    await asyncio.sleep(0)  # a callback of the ended read would run now
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def test_resize_during_a_slow_jump() -> None:
    """The terminal grows while a jump's read is in flight: the taller screen is filled,
    the cursor on the last row, on screen."""
    source = Source(5000)
    async with running(source) as (pilot, _app, table):
        source.hold()
        await pilot.press("G")
        await pilot.resize_terminal(80, 40)
        source.release()
        await idle(pilot, source)
        await wait_for(pilot, table.showing)
        rows = shown(table)
        assert len(rows) == 39 and all(rows), rows
        assert rows[-1].startswith("Deal 49")
        assert on(table, "d4999")


async def test_empty_and_one_row_lists_jump() -> None:
    for rows in (0, 1):
        source = Source(rows)
        async with running(source) as (pilot, app, table):
            await pilot.press("G", "g", "pagedown", "G", "pageup", "j", "k")
            table.jump_to(7)
            await idle(pilot, source)
            assert table.cursor == 0
            assert (table.current.id if table.current else None) == ("d0" if rows else None)
            assert app.highlighted[-1] == ("d0" if rows else None)


async def test_page_down_held_over_a_long_list() -> None:
    """Page-down pressed many times with no pause, then G g G g: the cursor ends on the
    right record, every row on screen painted, each record highlighted at most once
    in a row."""
    source = Source(20_000)
    async with running(source) as (pilot, app, table):
        await pilot.press(*["pagedown"] * 30)
        await idle(pilot, source)
        assert table.current is not None and table.current.id == f"d{30 * 23}"
        await pilot.press("G", "g", "G", "g", "G")
        await idle(pilot, source)
        assert on(table, "d19999")
        assert shown(table)[-1].startswith("Deal 19")
        pairs = zip(app.highlighted, app.highlighted[1:], strict=False)
        assert all(a != b for a, b in pairs), app.highlighted


async def test_a_failing_read_on_a_jump_is_not_swallowed() -> None:
    """The cache fails on a jump's read: the error ends the app as any failed read
    does (no hang, no blank screen left as if nothing happened)."""
    source = Source(5000)

    def fetch(offset: int, limit: int) -> list[Record]:
        if offset > 1000:
            raise RuntimeError("disk I/O error")
        return source.fetch(offset, limit)

    table = RecordTable(fetch, source.count, [Column("title", "Deal")])
    with pytest.raises(WorkerFailed, match="disk I/O error"):
        async with running(source, table) as (pilot, app, _):
            await pilot.press("G")
            await wait_for(pilot, lambda: not app.is_running)


async def test_a_jump_to_a_screen_partly_read_by_the_last_jump_shows_all_its_rows() -> None:
    """G, then a jump to a screen that overlaps G's (its lower rows G's upper ones),
    before the blocks around arrive: every row of the new screen is painted, those read
    by G too (not blank until the blocks come)."""
    source = Source(5000)
    async with running(source) as (pilot, _app, table):
        source.block_gate.clear()  # the blocks around come later
        await pilot.press("G")
        await wait_for(pilot, table.showing)
        table.jump_to(4960)  # rows 4960-4982 on screen: 4977-4982 read by G
        await pilot.pause()
        rows = shown(table)
        assert all(rows), rows
        assert rows[0].startswith("Deal 49") and table.current is not None
        assert table.current.id == "d4960"
        source.block_gate.set()
        await idle(pilot, source)


def screen_reads(source: Source) -> list[tuple[int, int]]:
    """The reads of a screen's rows (not of a block) the cache answered."""
    return [read for read in source.reads if read[1] != BLOCK]


async def test_a_slow_screen_is_read_once_however_often_it_is_jumped_to() -> None:
    """G g G g G on a slow cache: the last screen's rows are asked for once while that
    read runs, not once more per G."""
    source = Source(5000)
    async with running(source) as (pilot, _app, table):
        source.hold()
        await pilot.press("G", "g", "G", "g", "G")
        await wait_for(pilot, lambda: source.waiting >= 1)
        source.release()
        await idle(pilot, source)
        assert on(table, "d4999") and table.showing()
        assert screen_reads(source) == [(4977, 23)]


async def test_page_down_held_on_a_slow_cache_reads_no_screen_it_left() -> None:
    """Page-down held while the cache is slow: the screens passed before their read
    began are not read; the one the cursor is on is."""
    source = Source(5000)
    async with running(source) as (pilot, _app, table):
        source.hold()
        await pilot.press(*["pagedown"] * 10)
        assert table.cursor == 230
        source.release()
        await idle(pilot, source)
        await wait_for(pilot, table.showing)
        assert shown(table)[0] == "Deal 230"
        reads = screen_reads(source)
        assert len(reads) <= 2 and reads[-1][0] <= 230 < sum(reads[-1]), reads


async def test_a_jump_while_a_reload_counts_lands_on_the_new_last_row() -> None:
    """A long list loses rows (a sync deleted them) and is counted again in the
    background; G meanwhile (the old count): once counted the cursor is on the new last
    row, its screen painted, and no row past the end was highlighted."""
    source = Source(30_000)
    counting = threading.Event()
    counting.set()
    count = source.count

    def slow_count() -> int:
        counting.wait(10)
        return count()

    table = RecordTable(source.fetch, slow_count, [Column("title", "Deal", width=12)])
    async with running(source, table) as (pilot, app, _):
        await pilot.press("pagedown")
        counting.clear()
        del source.records[25_000:]
        table.reload(background=True)
        await pilot.press("G")
        app.highlighted.clear()
        counting.set()
        await idle(pilot, source)
        await wait_for(pilot, table.showing)
        assert table.row_count == 25_000 and on(table, "d24999")
        assert shown(table)[-1] == "Deal 24999"
        assert app.highlighted == ["d24999"]


async def test_a_jump_on_an_unread_screen_highlights_only_where_it_lands() -> None:
    """A long list reloaded (its rows read again later) with the cursor on its last row,
    then a jump to a row of the same screen before the rows arrive: ``Highlighted`` is
    sent for the row jumped to, not first for the row the cursor leaves."""
    source = Source(30_000)
    async with running(source) as (pilot, app, table):
        await pilot.press("G")
        await idle(pilot, source)
        source.block_gate.clear()  # the blocks read after the reload come later
        table.reload()
        await pilot.pause()
        app.highlighted.clear()
        table.jump_to(29_990)
        await pilot.pause()
        assert app.highlighted == ["d29990"]
        source.block_gate.set()
        await idle(pilot, source)
        assert app.highlighted == ["d29990"] and on(table, "d29990")


async def test_after_a_jump_the_table_is_busy_until_the_pages_around_are_read() -> None:
    """Right after a jump (its screen read before the frame) the table's workers still
    owe the pages around it: one waiting for the table to be idle then pressing
    page-down finds that page read (no read of its own on the key)."""
    source = Source(5000)
    async with running(source) as (pilot, _app, table):
        table.jump_to(2000)
        await wait_for(pilot, lambda: not busy(pilot))
        before = len(screen_reads(source))
        await pilot.press("pagedown")
        assert len(screen_reads(source)) == before
        await wait_for(pilot, table.showing)
        assert shown(table)[0] == "Deal 2001"


async def test_a_table_not_shown_reads_the_rows_around_a_jump() -> None:
    """A jump on a table not shown (never painted): the pages around are read anyway,
    not held for a paint that does not come; shown again, its screen is painted."""
    source = Source(5000)
    async with running(source) as (pilot, _app, table):
        table.display = False
        await pilot.pause()
        table.jump_to(3000)
        await wait_for(pilot, lambda: not busy(pilot) and not table._loading)
        table.display = True
        await wait_for(pilot, lambda: table.size.height == SIZE[1] and table.showing())
        rows = shown(table)
        assert all(rows) and rows[0] == "Deal 3000" and on(table, "d3000")


async def test_the_terminal_shrinks_during_a_slow_jump() -> None:
    """The terminal shrinks while a jump's read is in flight: the cursor's row stays on
    screen and the rows shown are the right ones."""
    source = Source(5000)
    async with running(source) as (pilot, _app, table):
        source.hold()
        await pilot.press("G", "k")
        await pilot.resize_terminal(80, 8)
        source.release()
        await idle(pilot, source)
        # settled: the shrunk screen painted with the cursor's row on it (the scroll that
        # keeps the cursor in view follows the resize by a frame on a busy machine)
        await wait_for(
            pilot,
            lambda: table.size.height == 8 and table.showing() and "Deal 4998" in shown(table),
        )
        rows = shown(table)  # the cursor's row on screen, the last line (its page kept)
        assert rows == [f"Deal {i}" for i in range(4992, 4999)], rows
        assert on(table, "d4998")
