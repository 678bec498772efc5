"""A cold start: a new process opens the cache and paints the first rows of the list.

``python -m benchmarks.first_paint DB STARTED`` prints one JSON line: ``first_paint_s``
(seconds since ``STARTED``, the parent's ``time.time()`` just before it started this
process: interpreter, imports, opening the store, count, first window, first paint)
and ``rss_mb`` (this process's peak resident memory, ``VmHWM``: ``ru_maxrss`` would
report the parent's size, since Linux keeps it across the fork and exec of a child).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


async def main(db: str, started: float) -> dict[str, float]:
    from benchmarks.tables import SIZE, TableApp, record_table
    from crmtui.store import Store

    store = Store(db)
    table = record_table(store)
    app = TableApp(table)
    async with app.run_test(size=SIZE) as pilot:
        table.reload()
        await pilot.pause()
        painted = time.time()
        assert table.fetches > 0 and table.row_count > 0
    store.close()
    return {"first_paint_s": painted - started, "rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """This process's own peak resident memory (MB)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], float(sys.argv[2])))))
