"""A jump in a long list (``G``, a row by number, a page past the rows read ahead) shows its
rows in its first frame: just they are read, in one read, before that frame (the blocks
around them after it); a read that does not come back in time leaves the frame blank and
the keys free, and fills it later."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from crmtui.model import Record
from crmtui.ui.widgets import record_table
from crmtui.ui.widgets.record_table import BLOCK, Column, RecordTable
from tests.helpers.ui import wait_for

LONG = 5_000
SIZE = (60, 20)  # 19 rows a page


class Source:
    """``LONG`` deals; notes each read (offset, limit); a read of ``held`` rows waits for
    ``release`` (a slow cache)."""

    def __init__(self) -> None:
        self.rows = [
            Record(vendor="x", profile="p", kind="deal", id=str(i), title=f"Deal {i:05}")
            for i in range(LONG)
        ]
        self.reads: list[tuple[int, int]] = []
        self.held: range = range(0)
        self.release = threading.Event()

    def read(self, offset: int, limit: int) -> list[Record]:
        self.reads.append((offset, limit))
        if any(i in self.held for i in range(offset, offset + limit)):
            assert self.release.wait(30), "the test never let the slow read go"
        return [r.model_copy() for r in self.rows[offset : offset + limit]]  # as read anew


class JumpApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.source = Source()
        self.table = RecordTable(
            self.source.read, lambda: len(self.source.rows), [Column("title", "Name")]
        )

        self.highlighted: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.table

    def on_record_table_highlighted(self, message: RecordTable.Highlighted) -> None:
        if message.record is not None:
            self.highlighted.append(message.record.id)


def titles(table: RecordTable) -> list[str | None]:
    top = int(table.scroll_offset.y)
    found = [table.cached_at(i) for i in range(top, top + table.page_rows)]
    return [r.title if r else None for r in found]


async def opened(pilot: Pilot, app: JumpApp) -> RecordTable:
    table = app.table
    table.reload()
    table.focus()
    await wait_for(pilot, lambda: table.showing() and not table._loading)
    return table


@asynccontextmanager
async def shown(
    monkeypatch: pytest.MonkeyPatch, wait: float
) -> AsyncIterator[tuple[Pilot, JumpApp, RecordTable]]:
    """The long list opened and at rest, a jump waiting at most ``wait`` seconds for its
    screen's rows before its frame."""
    monkeypatch.setattr(record_table, "JUMP_WAIT_S", wait)
    app = JumpApp()
    async with app.run_test(size=SIZE) as pilot:
        yield pilot, app, await opened(pilot, app)


async def test_a_jump_has_its_rows_before_its_first_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    async with shown(monkeypatch, 30.0) as (pilot, app, table):  # however slow the machine
        for jump, first in (
            (lambda: table.jump_to(LONG // 2), LONG // 2 - 18),
            (lambda: table.action_jump(-1), LONG - 19),  # G
            (lambda: table.action_jump(0), 0),  # g
            (lambda: table.jump_to(3_001), 3_001 - 18),
        ):
            reads = len(app.source.reads)
            jump()  # no frame painted since: the first one shows these rows
            assert table.showing()
            assert titles(table) == [f"Deal {i:05}" for i in range(first, first + 19)]
            assert len(app.source.reads) - reads <= 1  # the pages around: after the frame
            await wait_for(pilot, lambda: not table._loading)
        assert table.current is not None and table.current.title == "Deal 03001"


async def test_a_jump_reads_just_its_screen_then_the_blocks_around_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with shown(monkeypatch, 30.0) as (pilot, app, table):
        reads = len(app.source.reads)
        table.jump_to(20 * BLOCK + 5)  # the page: rows 2,547 to 2,565, across two blocks
        assert app.source.reads[reads:] == [(2_547, 19)]
        assert titles(table) == [f"Deal {i:05}" for i in range(2_547, 2_566)]
        await wait_for(pilot, lambda: not table._loading and len(app.source.reads) > reads + 2)
        assert (19 * BLOCK, BLOCK) in app.source.reads and (20 * BLOCK, BLOCK) in app.source.reads
        assert titles(table) == [f"Deal {i:05}" for i in range(2_547, 2_566)]
        await pilot.pause()  # the messages posted meanwhile are handled
        assert app.highlighted.count("2565") == 1  # once: its block brought the same record


async def test_a_slow_jump_paints_blank_rows_keeps_the_keys_and_fills_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with shown(monkeypatch, 0.01) as (pilot, app, table):
        app.source.held = range(4_000, 4_001)
        try:
            table.jump_to(4_000)  # returned while its read still waits
            assert not table.showing()
            await pilot.press("down")  # a key is handled meanwhile
            assert table.cursor == 4_001
            assert not table.showing()
        finally:
            app.source.release.set()
        await wait_for(pilot, lambda: table.showing() and not table._loading)
        assert titles(table) == [f"Deal {i:05}" for i in range(3_983, 4_002)]
        assert table.current is not None and table.current.title == "Deal 04001"
        assert app.source.reads.count((3_982, 19)) == 1  # read once, not again


async def test_no_collection_runs_while_a_frame_is_drawn_and_the_collector_is_back_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    collecting: list[bool] = []
    draw = RecordTable.render_line

    def noting(table: RecordTable, y: int) -> object:
        collecting.append(gc.isenabled())
        return draw(table, y)

    monkeypatch.setattr(RecordTable, "render_line", noting)
    assert gc.isenabled()
    async with shown(monkeypatch, 30.0) as (pilot, _app, table):
        for _ in range(3):
            collecting.clear()
            table.jump_to(LONG // 2 if table.cursor < LONG // 2 else 0)
            await wait_for(pilot, lambda: bool(collecting) and not table._loading)
            assert not any(collecting)  # a new screen of rows drawn, no collection in it
            await wait_for(pilot, gc.isenabled)  # on again once the frame is sent
    await asyncio.sleep(0)  # the loop's next turn after the app's last frame
    assert gc.isenabled()


async def test_an_app_that_quits_before_its_frame_is_sent_leaves_the_collector_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The loop closes with the collector's release still waiting for its turn (here:
    never run, as when the app quits in that turn): the table going leaves it on."""
    dropped: list[object] = []

    class Closing:
        def call_soon(self, callback: object) -> None:
            dropped.append(callback)  # the loop closed before this turn came

    assert gc.isenabled()
    try:
        async with shown(monkeypatch, 30.0) as (_pilot, _app, table):
            with monkeypatch.context() as patched:
                patched.setattr(record_table.asyncio, "get_running_loop", Closing)
                table.render_lines(table.region.reset_offset)
            assert dropped and not gc.isenabled()
        assert gc.isenabled()
    finally:
        gc.enable()
