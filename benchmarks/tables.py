"""Headless Textual measurements: first paint, page-down, and the stock DataTable.

Each measurement runs a small ``App`` under ``App.run_test()`` (no terminal needed).

Page-down is timed from the key event entering the app to the screen update that
shows the moved cursor, rendered to the terminal's bytes as ``App._display`` would
(``page_downs``): the clock is read when those bytes are made, not when the timing
coroutine next runs (the loop may run the table's formatting of the next page first). ``Pilot.press`` + ``pause`` cannot time that: Textual's
``wait_for_idle`` sleeps in 20 ms steps (three of them per press), so it measures about
60 ms even for a bare app with one ``Static``; ``pilot_page_downs`` keeps that figure,
with the bare app as its control, to show the split.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Static

from benchmarks.data import COLUMNS, KIND, PROFILE, SPECS
from crmtui.model import KindInfo, Record, Role
from crmtui.store import Store
from crmtui.ui.widgets.record_table import Column, RecordTable

if TYPE_CHECKING:  # the stock table is imported where it is compared: not in a cold start
    from textual.widgets import DataTable

SIZE = (120, 40)
# the roles the vendor screen's table reads (currency of money cells, stage and status tone)
INFO = KindInfo(
    kind=KIND,
    label="Deals",
    singular="Deal",
    roles={Role.CURRENCY: "currency", Role.STAGE: "stage", Role.STATUS: "status"},
)


def columns() -> list[Column]:
    specs = {spec.key: spec for spec in SPECS}
    return [
        Column(
            key, specs[key].label if key in specs else "Deal", specs.get(key), currency="currency"
        )
        for key in COLUMNS
    ]


class TableApp(App[None]):
    """An app showing one table, as the vendor screen does."""

    def __init__(self, table: RecordTable | DataTable | None = None) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        if self.table is not None:
            yield self.table


def record_table(store: Store, count: int | None = None, **options: Any) -> RecordTable:
    """A ``RecordTable`` over the benchmark deals (the first ``count`` of them), sorted,
    filtered or searched by ``options`` (those of ``Store.window``)."""

    def fetch(offset: int, limit: int) -> list[Record]:
        return store.window(PROFILE, KIND, offset=offset, limit=limit, **options)

    def rows() -> int:
        total = store.count(
            PROFILE, KIND, search=options.get("search", ""), filters=options.get("filters")
        )
        return total if count is None else min(count, total)

    return RecordTable(
        fetch,
        rows,
        columns(),
        sort_key=options.get("sort"),
        descending=bool(options.get("descending")),
        info=INFO,
    )


def painted(table: RecordTable, cursor: int | None = None) -> Callable[[], bool]:
    """Whether the screen shows the rows (not blanks waiting for a read), with the cursor
    moved off ``cursor`` (when given) and on screen."""

    def ready() -> bool:
        top = int(table.scroll_offset.y)
        moved = cursor is None or table.cursor != cursor
        return moved and top <= table.cursor < top + table.page_rows and table.showing()

    return ready


async def settle(pilot: Any, table: RecordTable) -> None:
    """Wait until the table's screen and the pages around it are read."""
    for _ in range(500):
        await pilot.pause()
        if painted(table)() and not table._loading:
            return
    raise RuntimeError("the table's rows never arrived")


class ScreenWatch:
    """Times from a key event to the next screen update, rendered as a terminal's bytes."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.cpu: list[float] = []  # the event loop thread's CPU milliseconds of each act
        self._painted_at = (0.0, 0.0)  # (wall, thread CPU) clocks when the screen was sent
        self.painted_time = 0.0  # ``time.time()`` then (compared with another process's)
        self.painted = asyncio.Event()
        self.ready: Callable[[], bool] = lambda: False
        self._display = app._display
        app._display = self._paint  # type: ignore[method-assign]

    def _paint(self, screen: Any, renderable: Any) -> None:
        self._display(screen, renderable)
        if renderable is not None and not self.painted.is_set() and self.ready():
            render = getattr(renderable, "render_segments", None)
            if render is not None:
                render(self.app.console)  # what the terminal driver would be sent
            # the screen is sent now: what the loop runs next (the callbacks waiting for
            # this paint, a table formatting the next page) is not on the key's path
            self._painted_at = time.perf_counter(), time.thread_time()
            self.painted_time = time.time()
            self.painted.set()

    async def key(self, key: str, ready: Callable[[], bool]) -> float:
        """Milliseconds from sending ``key`` to the first update after ``ready()``."""
        driver = self.app._driver
        assert driver is not None
        return await self.act(lambda: driver.send_message(events.Key(key, None)), ready)

    async def act(self, action: Callable[[], Any], ready: Callable[[], bool]) -> float:
        """Milliseconds from ``action()`` (a key, a jump) to the first update after
        ``ready()``."""
        self.painted.clear()
        self.ready = ready
        started, cpu = time.perf_counter(), time.thread_time()
        action()
        await asyncio.wait_for(self.painted.wait(), 5)
        painted, painted_cpu = self._painted_at
        self.cpu.append((painted_cpu - cpu) * 1000)  # what a shared machine's load
        return (painted - started) * 1000  # leaves out of the wall time


async def page_downs(
    store: Store,
    presses: int,
    *,
    middle: bool = False,
    cpu: list[float] | None = None,
    **options: Any,
) -> list[float]:
    """Milliseconds from each page-down key to the screen showing the next page's rows
    (``ScreenWatch``), from the top of the list or from its ``middle``; ``options``
    sort, filter or search the list (``Store.window``'s); ``cpu`` gets the event loop
    thread's CPU milliseconds of each press."""
    table = record_table(store, **options)
    app = TableApp(table)
    samples = []
    async with app.run_test(size=SIZE) as pilot:
        table.reload()
        table.focus()
        await settle(pilot, table)
        if middle:
            table.jump_to(table.row_count // 2)
            await settle(pilot, table)
        watch = ScreenWatch(app)
        for _ in range(presses):
            samples.append(await watch.key("pagedown", painted(table, table.cursor)))
            await pilot.pause()  # let the app settle: presses are a person's, not a flood
        assert table.cursor > 0, "the table did not move"
    if cpu is not None:
        cpu.extend(watch.cpu)
    return samples


async def jumps(store: Store, count: int, *, seed: int = 16) -> list[float]:
    """Milliseconds from a jump (``G``, ``g``, or to a random row as a scrollbar drag or
    a typed percentage lands) to the screen showing that page's rows."""
    table = record_table(store)
    app = TableApp(table)
    samples = []
    rng = random.Random(seed)
    async with app.run_test(size=SIZE) as pilot:
        table.reload()
        table.focus()
        await settle(pilot, table)
        watch = ScreenWatch(app)
        for i in range(count):
            before = table.cursor
            if i % 4 == 0:
                samples.append(await watch.key("G" if before == 0 else "g", painted(table, before)))
            else:
                target = rng.randrange(table.row_count)
                target += int(target == before)
                jump = lambda t=target: table.jump_to(t)  # noqa: E731
                samples.append(await watch.act(jump, painted(table, before)))
            await settle(pilot, table)
    return samples


class BareApp(App[None]):
    """The control: one ``Static`` and nothing else."""

    def compose(self) -> ComposeResult:
        yield Static("page down")


async def pilot_page_downs(store: Store, presses: int) -> tuple[list[float], list[float]]:
    """(RecordTable, bare app) milliseconds of ``Pilot.press`` + ``pause`` per page-down."""

    async def timed(app: App[Any], table: RecordTable | None) -> list[float]:
        samples = []
        async with app.run_test(size=SIZE) as pilot:
            if table is not None:
                table.reload()
                table.focus()
            await pilot.pause()
            for _ in range(presses):
                started = time.perf_counter()
                await pilot.press("pagedown")
                await pilot.pause()
                samples.append((time.perf_counter() - started) * 1000)
        return samples

    table = record_table(store)
    return await timed(TableApp(table), table), await timed(BareApp(), None)


async def time_to_paint(
    make: Callable[[], RecordTable | DataTable], fill: Callable[..., None]
) -> float:
    """Seconds from mounting a table (and filling it) to its first painted screen."""
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        started = time.perf_counter()
        table = make()
        await app.mount(table)
        fill(table)
        await pilot.pause()
        return time.perf_counter() - started


async def datatable_vs_recordtable(store: Store, rows: int) -> tuple[float, float]:
    """(stock DataTable seconds, RecordTable seconds) to show ``rows`` deals."""
    from textual.widgets import DataTable

    cols = columns()
    records = store.window(PROFILE, KIND, offset=0, limit=rows)
    cells = [tuple(c.cell(r) for c in cols) for r in records]

    def fill_stock(table: DataTable) -> None:
        table.add_columns(*(c.label for c in cols))
        table.add_rows(cells)

    stock = await time_to_paint(DataTable, fill_stock)
    ours = await time_to_paint(lambda: record_table(store, rows), lambda t: t.reload())
    return stock, ours
