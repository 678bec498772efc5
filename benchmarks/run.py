"""A million records at the speed of a keystroke: the list, search and sync benchmarks.

    python benchmarks/run.py [--records N] [--repeat R] [--db PATH] [--json]

Builds N deals (default 1,000,000) in a temporary cache through ``Store.upsert_records``
(``--db PATH`` keeps the built file and reuses it when it already holds N deals),
then measures, each timed figure over repeated runs (median, p95, min, max):

- ``list_open_ms``: count + the first window (what opening a list reads)
- ``deep_window_ms``: a window at the very end of the list
- ``window_any_ms``: a window of ``BLOCK`` rows anywhere: the top, the middle, the end
  and random offsets of the list as it comes, sorted by every shown column both ways,
  filtered (``stage``), filtered and sorted, and searched, each list's order built first
  (``Store.prepare_list``; ``positions_build_s`` the time those builds took)
- ``page_down_mid_ms`` / ``page_down_sorted_ms`` / ``page_down_filtered_ms``: page-down
  as ``page_down_ms`` but from the middle of the list, of the list sorted by amount
  (descending) and of the list filtered by stage; ``jump_ms``: ``G``/``g`` or a jump to
  a random row (a scrollbar drag, a percentage) until that page's rows are painted
- ``page_down_ms``: page-down in a real ``RecordTable`` under ``App.run_test()``, key
  event to the refreshed screen (``tables.ScreenWatch``); ``pilot_page_down_ms`` the
  same through ``Pilot.press`` + ``pause``, whose 20 ms idle polls dominate it, and
  ``pilot_bare_ms`` that figure for a bare app with one ``Static`` (the control)
- ``sort_ms``: count + first window sorted by a JSON field (amount, as numbers); the
  first sample of a fresh cache includes building the field's index (see ``max``)
- ``filter_ms``: count + first window of a field filter (stage), same note
- ``first_sort_ms``: the first sort by a shown column (expected close, both ways: the
  slower) after ``Crm.prepare`` built the list's indexes in the background (the run
  drops that column's sort indexes first, so each run builds them again);
  ``ui_stall_ms_max`` the longest window read while that build ran (a UI reading
  windows every 20 ms, at offsets all over the list; ``ui_stall_ordered_ms`` those read
  once the list's order was built, the ones before were OFFSET reads),
  ``ui_quiet_ms_max`` the same reads with no build running (OFFSET paging alone),
  ``index_build_s`` how long it took
- ``search_ms``: ``Store.search`` of everyday words, common and rare
- ``bytes_per_record``: the cache's pages in use (after the benchmark built every index
  the list needs) over the number of deals; ``bytes_per_record_by_part`` the same split
  by what holds them (the records table, the search index, sort and filter indexes...),
  read from SQLite's ``dbstat``
- ``first_paint_s`` / ``rss_mb``: a new process opening the cache and painting the list
- ``sync_rate_ratio``: a sync's request rate over a shrunk Freshsales limit (see
  ``benchmarks/syncrate.py``); ``sync_429`` the 429s it met
- ``datatable_ratio``: Textual's ``DataTable`` time to show 100k rows over ours

With ``--json`` the last line is one JSON object with every figure. ``--size`` measures
only the cache's size (after the list's indexes are built, as above), ``search_ms`` and
``window_any_ms``: the figures a change to the cache's layout moves, in a few minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import data, syncrate, tables
from crmtui.http import Http
from crmtui.model import KindInfo
from crmtui.service import Crm
from crmtui.store import Store, indexes, records
from crmtui.ui.widgets.record_table import BLOCK

SEARCHES = ("acme", "tariq", "renewal", "allen expansion", "northwind", "sso")
SHOWN_LISTS: list[dict[str, Any]] = [
    *({"sort": key, "descending": down} for key in data.COLUMNS for down in (False, True)),
    {"filters": {"stage": "3"}},
    {"filters": {"stage": "3"}, "sort": "amount", "descending": True},
    {"search": "renewal"},
]
SORTED = {"sort": "amount", "descending": True}
FILTERED = {"filters": {"stage": "3"}}
DATATABLE_ROWS = 100_000
LIST = (data.PROFILE, data.KIND)
REBUILT = "expected_close"  # the shown column whose sort indexes each run builds again
INFO = KindInfo(
    kind=data.KIND,
    label="Deals",
    singular="Deal",
    columns=data.COLUMNS,
    sortable=data.COLUMNS,
    filters=[spec for spec in data.SPECS if spec.key in ("stage", "owner")],
)


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median": round(statistics.median(ordered), 3),
        "p95": round(p95, 3),
        "min": round(ordered[0], 3),
        "max": round(ordered[-1], 3),
        "n": len(ordered),
    }


# CPU milliseconds of this process for each sample of some figures (``timed_ms``'s
# ``cpu``): what the figure costs whatever else the shared machine runs.
CPU: dict[str, list[float]] = {}


def timed_ms(work: Callable[[], Any], repeat: int, cpu: str | None = None) -> list[float]:
    samples = []
    for _ in range(repeat):
        started, used = time.perf_counter(), time.process_time()
        work()
        samples.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            CPU.setdefault(cpu, []).append((time.process_time() - used) * 1000)
    return samples


def list_queries(store: Store, count: int, repeat: int) -> dict[str, list[float]]:
    p, k = data.PROFILE, data.KIND

    def opened(**options: Any) -> Callable[[], None]:
        filters = options.get("filters")
        return lambda: (
            store.count(p, k, filters=filters),
            store.window(p, k, offset=0, limit=BLOCK, **options),
        )

    words = iter(SEARCHES * repeat)
    return {
        "list_open_ms": timed_ms(opened(), repeat),
        "deep_window_ms": timed_ms(
            lambda: store.window(p, k, offset=max(0, count - BLOCK), limit=BLOCK), repeat
        ),
        "sort_ms": timed_ms(opened(sort="amount", descending=True), repeat),
        "filter_ms": timed_ms(opened(filters={"stage": "3"}), repeat),
        "search_ms": timed_ms(
            lambda: store.search(next(words)), repeat * len(SEARCHES), "search_cpu_ms"
        ),
    }


def any_windows(store: Store, randoms: int) -> tuple[list[float], float]:
    """(milliseconds of windows all over every shown list, seconds to build the lists'
    orders)."""
    p, k = data.PROFILE, data.KIND
    rng = random.Random(16)
    samples: list[float] = []
    build_s = 0.0
    for options in SHOWN_LISTS:
        started = time.perf_counter()
        total = store.prepare_list(p, k, **options)
        build_s += time.perf_counter() - started
        ends = [0, total // 2, max(0, total - BLOCK)]
        for offset in [*ends, *(rng.randrange(max(1, total)) for _ in range(randoms))]:
            samples += timed_ms(
                lambda o=offset, opts=options: store.window(p, k, offset=o, limit=BLOCK, **opts),
                1,
                "window_any_cpu_ms",
            )
    return samples, build_s


def bytes_per_record(db: Path, records: int) -> float:
    """The cache's pages in use over the number of deals."""
    conn = sqlite3.connect(db)
    try:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    return (pages - free) * size / max(1, records)


def _part(name: str) -> str:
    """What a table or index of the cache is part of, as ``bytes_by_part`` groups them."""
    for prefix, part in (
        ("records_fts", "search index"),
        ("records_sort_", "sort indexes"),
        ("records_filter_", "filter indexes"),
    ):
        if name.startswith(prefix):
            return part
    known = ("records", "records_raw", "records_preview", "records_by_title")
    if name in known or name.startswith("records_by_"):
        return name
    return "records key" if name == "sqlite_autoindex_records_1" else "other"


def bytes_by_part(db: Path, records: int) -> dict[str, float]:
    """Bytes per deal of each part of the cache (``dbstat``: its pages, by table or index)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        found = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    finally:
        conn.close()
    parts: dict[str, float] = {}
    for name, size in found:
        parts[_part(name)] = parts.get(_part(name), 0) + size / max(1, records)
    return {part: round(size, 1) for part, size in sorted(parts.items(), key=lambda p: -p[1])}


def drop_sort_indexes(store: Store, field: str) -> None:
    """Forget ``field``'s sort indexes, so the next ``Crm.prepare`` builds them again."""
    with store._db.read() as conn:
        keys = records.list_keys(conn, *LIST)  # the field's place in the list's rows
        for name, _ in indexes.for_list([field], [], {}, keys):
            conn.execute(f"DROP INDEX IF EXISTS {name}")


async def prepared_sorts(store: Store) -> dict[str, Any]:
    """Build the list's indexes in the background while windows are read every 20 ms;
    then time the first sort by the rebuilt column, both ways."""
    drop_sort_indexes(store, REBUILT)
    http = Http()
    crm = Crm(store, http, [])
    stalls: list[float] = []
    total = store.count(*LIST)
    spots = [(i * max(1, total // 97) * 13) % max(1, total - BLOCK) for i in range(97)]

    def read(i: int) -> float:
        spot = spots[i % len(spots)]
        return timed_ms(lambda: store.window(*LIST, offset=spot, limit=BLOCK), 1)[0]

    # the reads at offsets all over the list ask for its order (``positions``): until it
    # is built they are OFFSET reads, after it slices of it (``ordered``: those stalls)
    ordered_at: list[float] = []
    store._positions.on_built = lambda spec: ordered_at.append(time.perf_counter())
    ordered: list[float] = []
    started = time.perf_counter()
    build = crm.prepare(data.PROFILE, INFO)
    assert build is not None, "nothing to build"
    while not build.done():
        stalls.append(read(len(stalls)))
        if ordered_at:
            ordered.append(stalls[-1])
        await asyncio.sleep(0.02)
    built = await build
    build_s = time.perf_counter() - started
    store._positions.on_built = None
    quiet = [read(i) for i in range(min(len(stalls), 200))]  # the same reads, no build
    firsts = []
    for descending in (False, True):
        firsts += timed_ms(
            lambda d=descending: (
                store.count(*LIST),
                store.window(*LIST, offset=0, limit=BLOCK, sort=REBUILT, descending=d),
            ),
            1,
        )
    await http.aclose()
    print(f"  {built} indexes built in {build_s:.1f} s", file=sys.stderr)
    if ordered_at:
        print(f"  the list's order built after {ordered_at[0] - started:.2f} s", file=sys.stderr)
    return {
        "stalls": stalls or [0.0],
        "ordered": ordered or [0.0],
        "quiet": quiet or [0.0],
        "firsts": firsts,
        "build_s": build_s,
    }


def cold_starts(db: Path, repeat: int) -> tuple[list[float], list[float]]:
    """(first paint seconds, peak RSS MB) of ``repeat`` new processes (after one more,
    not counted)."""
    paints, rss = [], []
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    # Modules read compiled, as an installed app's are (pip compiles them): the first
    # start, not counted, writes what a changed source or the environment left uncompiled.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for start in range(repeat + 1):
        started = time.time()
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.first_paint", str(db), repr(started)],
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
            env=env,
        )
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        if start:
            paints.append(figures["first_paint_s"])
            rss.append(figures["rss_mb"])
    return paints, rss


def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        model = next((line.split(":", 1)[1].strip() for line in info if "model name" in line), "")
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version()}


def open_built(db: Path, records: int) -> tuple[Store, float]:
    """The store at ``db`` holding ``records`` deals (built unless it already holds them).

    What the process made until then is frozen out of the garbage collector's walks
    (``gc.freeze``), as the app freezes what its start made (``crmtui.start``, and
    ``freeze_startup_objects`` at mount): the figures that follow are the app's reads
    and paints, not full collections walking the benchmark's own setup."""
    store = Store(db)
    if store.count(data.PROFILE, data.KIND) == records:
        print(f"  reusing {records:,} records in {db.name}", file=sys.stderr)
        _frozen()
        return store, 0.0
    store.delete_profile(data.PROFILE)

    def built(done: int, seconds: float) -> None:
        if done % 100_000 == 0 or done == records:
            print(f"  built {done:,} records in {seconds:.0f} s", file=sys.stderr)

    build_s = data.build(store, records, progress=built)
    print(f"  {records:,} records written in {build_s:.1f} s", file=sys.stderr)
    _frozen()
    return store, build_s


def _frozen() -> None:
    gc.collect()
    gc.freeze()


def shown(name: str, samples: list[float]) -> list[float]:
    """Print a figure as soon as it is measured (stderr, with the load average then: a
    run that fails later keeps what it measured), and return its samples."""
    figures = stats(samples)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"  {name}: median {figures['median']:.2f} p95 {figures['p95']:.2f}"
        f" max {figures['max']:.2f} (n {figures['n']}) · load {load}",
        file=sys.stderr,
        flush=True,
    )
    return samples


async def measure(args: argparse.Namespace, db: Path) -> dict[str, Any]:
    store, build_s = open_built(db, args.records)
    prepared = await prepared_sorts(store)
    samples = {
        name: shown(name, v) for name, v in list_queries(store, args.records, args.repeat).items()
    }
    windows, positions_s = any_windows(store, args.repeat)
    samples["window_any_ms"] = shown("window_any_ms", windows)
    samples["ui_stall_ms"] = shown("ui_stall_ms", prepared["stalls"])
    samples["ui_stall_ordered_ms"] = shown("ui_stall_ordered_ms", prepared["ordered"])
    samples["ui_quiet_ms"] = shown("ui_quiet_ms", prepared["quiet"])
    samples["first_sort_ms"] = shown("first_sort_ms", prepared["firsts"])
    lists: dict[str, dict[str, Any]] = {
        "page_down_ms": {},
        "page_down_mid_ms": {"middle": True},
        "page_down_sorted_ms": {"middle": True, **SORTED},
        "page_down_filtered_ms": {"middle": True, **FILTERED},
    }
    for name, options in lists.items():
        cpu = CPU.setdefault(name.replace("_ms", "_cpu_ms"), [])
        samples[name] = shown(
            name, await tables.page_downs(store, args.presses, cpu=cpu, **options)
        )
    for name in (
        "search_cpu_ms",
        "window_any_cpu_ms",
        *(n.replace("_ms", "_cpu_ms") for n in lists),
    ):
        samples[name] = shown(name, CPU.get(name) or [0.0])
    samples["jump_ms"] = shown("jump_ms", await tables.jumps(store, max(8, args.presses // 3)))
    pilot, bare = await tables.pilot_page_downs(store, max(1, args.presses // 3))
    samples["pilot_page_down_ms"], samples["pilot_bare_ms"] = pilot, bare
    stock, ours = [], []
    rows = min(DATATABLE_ROWS, args.records)
    for _ in range(args.datatable_repeat):
        s, o = await tables.datatable_vs_recordtable(store, rows)
        stock.append(s)
        ours.append(o)
    store.close()
    per_record = bytes_per_record(db, args.records)
    by_part = bytes_by_part(db, args.records)
    print(f"  bytes_per_record: {per_record:.0f} {by_part}", file=sys.stderr, flush=True)
    paints, rss = cold_starts(db, args.cold_repeat)
    shown("first_paint_s", paints)
    try:
        rate: syncrate.SyncRate | None = await syncrate.measure()
    except Exception as exc:  # a sync broken elsewhere leaves the list's figures
        print(f"  sync rate not measured: {exc}", file=sys.stderr)
        rate = None
    ratios = [s / o for s, o in zip(stock, ours, strict=True)]
    return {
        "records": args.records,
        "build_s": round(build_s, 1),
        "load_average": os.getloadavg(),  # the machine is shared: figures under load
        "index_build_s": round(prepared["build_s"], 1),
        "positions_build_s": round(positions_s, 2),
        "bytes_per_record": round(per_record),
        "bytes_per_record_by_part": by_part,
        "db_mb": round(sum(f.stat().st_size for f in db.parent.glob(db.name + "*")) / 2**20, 1),
        "samples": samples,
        "first_paint": paints,
        "rss": rss,
        "datatable_s": stock,
        "recordtable_s": ours,
        "datatable_ratios": ratios,
        "sync": rate,
    }


async def measure_size(args: argparse.Namespace, db: Path) -> dict[str, Any]:
    """``--size``: the cache's size with every index the list needs, search and windows."""
    store, build_s = open_built(db, args.records)
    await prepared_sorts(store)
    samples = {
        name: shown(name, v) for name, v in list_queries(store, args.records, args.repeat).items()
    }
    windows, _ = any_windows(store, args.repeat)
    samples["window_any_ms"] = shown("window_any_ms", windows)
    for name in ("search_cpu_ms", "window_any_cpu_ms"):  # the same in CPU time: under load
        samples[name] = shown(name, CPU.get(name) or [0.0])
    store.close()
    s = {name: stats(values) for name, values in samples.items()}
    return {
        "records": args.records,
        "build_s": round(build_s, 1),
        "search_ms_p50": s["search_ms"]["median"],
        "search_ms_p95": s["search_ms"]["p95"],
        "window_any_ms_p95": s["window_any_ms"]["p95"],
        "search_cpu_ms_p95": s["search_cpu_ms"]["p95"],
        "window_any_cpu_ms_p95": s["window_any_cpu_ms"]["p95"],
        "bytes_per_record": round(bytes_per_record(db, args.records)),
        "bytes_per_record_by_part": bytes_by_part(db, args.records),
        "load_average": os.getloadavg(),
    }


def summary(raw: dict[str, Any]) -> dict[str, Any]:
    s = {name: stats(values) for name, values in raw["samples"].items()}
    sync = raw["sync"]
    sync_figures = {
        "sync_rate_ratio": round(sync.ratio, 3) if sync else None,
        "sync_429": sync.rejected if sync else None,
        "sync_requests": sync.requests if sync else None,
    }
    return {
        "records": raw["records"],
        "first_paint_s": stats(raw["first_paint"])["median"],
        "list_open_ms": s["list_open_ms"]["median"],
        "page_down_ms_p50": s["page_down_ms"]["median"],
        "page_down_ms_p95": s["page_down_ms"]["p95"],
        "sort_ms_p50": s["sort_ms"]["median"],
        "filter_ms_p50": s["filter_ms"]["median"],
        "first_sort_ms": s["first_sort_ms"]["max"],
        "ui_stall_ms_max": s["ui_stall_ms"]["max"],
        "ui_quiet_ms_max": s["ui_quiet_ms"]["max"],
        "index_build_s": raw["index_build_s"],
        "deep_window_ms_p50": s["deep_window_ms"]["median"],
        "search_ms_p50": s["search_ms"]["median"],
        "search_ms_p95": s["search_ms"]["p95"],
        "window_any_ms_p95": s["window_any_ms"]["p95"],
        # the same figures in CPU milliseconds (this process, or the event loop's thread
        # for page-down): comparable between a quiet and a loaded machine
        **{f"{name}_p95": s[name]["p95"] for name in s if name.endswith("_cpu_ms")},
        "page_down_mid_ms_p95": s["page_down_mid_ms"]["p95"],
        "page_down_sorted_ms_p95": s["page_down_sorted_ms"]["p95"],
        "page_down_filtered_ms_p95": s["page_down_filtered_ms"]["p95"],
        "jump_ms_p95": s["jump_ms"]["p95"],
        "bytes_per_record": raw["bytes_per_record"],
        "bytes_per_record_by_part": raw["bytes_per_record_by_part"],
        "positions_build_s": raw["positions_build_s"],
        "load_average": raw["load_average"],
        "pilot_page_down_ms_p50": s["pilot_page_down_ms"]["median"],
        "pilot_bare_ms_p50": s["pilot_bare_ms"]["median"],
        "rss_mb": round(max(raw["rss"]), 1),
        **sync_figures,
        "datatable_ratio": round(statistics.median(raw["datatable_ratios"]), 2),
        "datatable_s": stats(raw["datatable_s"]),
        "recordtable_s": stats(raw["recordtable_s"]),
        "build_s": raw["build_s"],
        "db_mb": raw["db_mb"],
        "stats": {
            **s,
            "first_paint_s": stats(raw["first_paint"]),
            "rss_mb": stats(raw["rss"]),
            "datatable_ratio": stats(raw["datatable_ratios"]),
        },
        "machine": machine(),
    }


def table(result: dict[str, Any]) -> str:
    lines = [f"{'metric':<20} {'median':>10} {'p95':>10} {'min':>10} {'max':>10} {'n':>4}"]
    for name, figures in result["stats"].items():
        cells = " ".join(f"{figures[k]:>10.2f}" for k in ("median", "p95", "min", "max"))
        lines.append(f"{name:<20} {cells} {figures['n']:>4}")
    lines.append(
        f"sync_rate_ratio {result['sync_rate_ratio']} ({result['sync_requests']} requests,"
        f" {result['sync_429']} × 429) · datatable_ratio {result['datatable_ratio']:.2f}"
        f" · records {result['records']:,} · build {result['build_s']} s · db {result['db_mb']} MB"
    )
    lines.append(
        f"bytes_per_record {result['bytes_per_record']} · positions built in"
        f" {result['positions_build_s']} s · load average"
        f" {' '.join(f'{x:.2f}' for x in result['load_average'])} (at the end)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7, help="samples of each store query")
    parser.add_argument("--presses", type=int, default=60, help="page-down key presses")
    parser.add_argument("--cold-repeat", type=int, default=3, help="cold starts")
    parser.add_argument("--datatable-repeat", type=int, default=2)
    parser.add_argument("--db", type=Path, help="cache file to build once and reuse")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--size", action="store_true", help="size, search and windows only")
    args = parser.parse_args(argv)
    if args.size:
        with tempfile.TemporaryDirectory(prefix="crmtui-bench-") as folder:
            db = args.db or Path(folder) / "bench.sqlite3"
            print(json.dumps(asyncio.run(measure_size(args, db))))
        return 0
    if args.db is not None:
        result = summary(asyncio.run(measure(args, args.db)))
    else:
        with tempfile.TemporaryDirectory(prefix="crmtui-bench-") as folder:
            result = summary(asyncio.run(measure(args, Path(folder) / "bench.sqlite3")))
    print(table(result))
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
