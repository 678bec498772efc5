"""Headless Textual measurements: first paint, page-down, and the stock DataTable.

Each measurement runs a small ``App`` under ``App.run_test()`` (no terminal needed); a
"paint" is a key press or mount followed by ``pilot.pause()``, which returns once the
app has processed the messages and refreshed the screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from benchmarks.data import COLUMNS, KIND, PROFILE, SPECS
from crmtui.model import Record
from crmtui.store import Store
from crmtui.ui.widgets.record_table import Column, RecordTable

SIZE = (120, 40)


def columns() -> list[Column]:
    specs = {spec.key: spec for spec in SPECS}
    return [
        Column(key, specs[key].label if key in specs else "Deal", specs.get(key)) for key in COLUMNS
    ]


class TableApp(App[None]):
    """An app showing one table, as the vendor screen does."""

    def __init__(self, table: RecordTable | DataTable | None = None) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        if self.table is not None:
            yield self.table


def record_table(store: Store, count: int | None = None) -> RecordTable:
    """A ``RecordTable`` over the benchmark deals (the first ``count`` of them)."""

    def fetch(offset: int, limit: int) -> list[Record]:
        return store.window(PROFILE, KIND, offset=offset, limit=limit)

    def rows() -> int:
        total = store.count(PROFILE, KIND)
        return total if count is None else min(count, total)

    return RecordTable(fetch, rows, columns())


async def page_downs(store: Store, presses: int) -> list[float]:
    """Milliseconds from each page-down key press to the refreshed screen."""
    table = record_table(store)
    app = TableApp(table)
    samples = []
    async with app.run_test(size=SIZE) as pilot:
        table.reload()
        table.focus()
        await pilot.pause()
        for _ in range(presses):
            started = time.perf_counter()
            await pilot.press("pagedown")
            await pilot.pause()
            samples.append((time.perf_counter() - started) * 1000)
        assert table.cursor > 0, "the table did not move"
    return samples


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
    cols = columns()
    records = store.window(PROFILE, KIND, offset=0, limit=rows)
    cells = [tuple(c.cell(r) for c in cols) for r in records]

    def fill_stock(table: DataTable) -> None:
        table.add_columns(*(c.label for c in cols))
        table.add_rows(cells)

    stock = await time_to_paint(DataTable, fill_stock)
    ours = await time_to_paint(lambda: record_table(store, rows), lambda t: t.reload())
    return stock, ours
