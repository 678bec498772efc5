"""A cold start: a new process opens the cache and paints the first rows of the list.

``python -m benchmarks.first_paint DB STARTED`` prints one JSON line: ``first_paint_s``
(seconds since ``STARTED``, the parent's ``time.time()`` just before it started this
process: interpreter, imports, opening the store, count, first window, first paint;
the imports as ``crmtui`` makes them, ``crmtui.start``)
and ``rss_mb`` (this process's peak resident memory, ``VmHWM``: ``ru_maxrss`` would
report the parent's size, since Linux keeps it across the fork and exec of a child).

The paint is timed as page-down is (``tables.ScreenWatch``): when the first screen
showing the rows is rendered to a terminal's bytes, not when ``Pilot.pause`` next
returns (it waits for the process to idle in 20 ms sleeps, after the paint).
"""

from __future__ import annotations

import asyncio
import json
import sys


async def main(db: str, started: float) -> dict[str, float]:
    from crmtui.start import starting_app

    with starting_app():  # as the ``crmtui`` command imports the app
        from benchmarks.tables import SIZE, ScreenWatch, TableApp, painted, record_table
        from crmtui.store import Store

    store = Store(db)
    table = record_table(store)
    app = TableApp(table)
    async with app.run_test(size=SIZE):
        watch = ScreenWatch(app)
        watch.ready = painted(table)
        table.reload()
        await asyncio.wait_for(watch.painted.wait(), 60)
        assert table.fetches > 0 and table.row_count > 0
    store.close()
    return {"first_paint_s": watch.painted_time - started, "rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """This process's own peak resident memory (MB)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], float(sys.argv[2])))))
