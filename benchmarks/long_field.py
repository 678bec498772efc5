"""A record with one huge field against a small one: how long the record screen takes to
open and how long the event loop is blocked while it opens, refreshes and shows the value.

``python -m benchmarks.long_field [MB] [RUNS]`` (default 19 MB: a reply must stay under the
20 MB limit; 3 runs) gives a Freshsales sandbox contact a job title of that size (the
*large* record) or a short one (the *small* record, the baseline), reads it into the
cache as a sync does, and opens its record screen in the app. Each run measures both
records and prints one JSON line; a last line sums the runs up. Each record is measured
in a process of its own (``--measure MB``), as a user runs one app in one process:
nothing of the record measured before (its threads still decoding or writing, its app's
garbage for the collector to walk) weighs on the next. Per record:

- ``open_s``: ``open_record`` until the first frame that shows the job title row (with
  its "more" marker for the large value) is drawn, from the cache; the screen's refresh
  from the vendor starts at the same time, as it does for a user.
- ``open_stall_s``: the longest time the event loop was blocked meanwhile (a task that
  ticks every millisecond measures the longest gap between its ticks, less the tick).
- ``refresh_stall_s``: the longest stall from that frame until the screen's refresh
  has landed (the vendor's record fetched again, as cached; its timeline too, for which
  Freshsales's documented call brings the record again, with its value).
- ``changed_refresh_s`` / ``changed_refresh_stall_s``: ``r`` after the vendor's value
  changed ("Changed. " put before it): until the new value is drawn, and the longest
  stall meanwhile (the record downloaded, stored again, read back, drawn).
- ``view_s`` / ``view_stall_s``: ``v`` on the job title until the whole-value view has
  drawn its first rows (the large value read whole from the cache and split into its
  lines first), and the longest stall meanwhile.
- ``<phase>_cpu_s`` for ``open``, ``refresh``, ``changed_refresh`` and ``view``: the CPU
  time the event loop's thread used in that phase (from the same start to the same end
  as its stall). Unlike the stalls and times, a busy machine hardly changes it: compare
  it when the load differs.
- ``<phase>_gc_s``: the CPU time of the longest pass of Python's cyclic garbage collector
  in that phase (every thread waits for it: a full pass over the app's objects stalled
  the loop 100 to 300 ms before crmtui froze the objects it makes at start).
- ``load``: the 1-minute load average when the run starts (the machine's other work
  stalls the loop too, and slows everything down: compare runs at a similar load).

The summary line: the worst large ``open_s`` of the runs (``opens_within_100ms``: is it
100 ms or less; the small record's own ``open_s`` says what the screen costs without
any large value), and for ``open_s`` and each stall what the large value costs: the
difference large minus small of a run, the worst and the median of the runs (on a busy
machine the app's own drawing stalls the loop by itself, and runs vary by hundreds of
milliseconds), with ``value_costs_within_100ms``: are the worst all 100 ms or less;
the median of what the large value costs in loop-thread CPU by phase, which the load
hardly changes (``median_cpu_cost_of_value_s``); the small record's medians, what the
screen costs by itself (``median_small_s``).

The sandbox runs in a process of its own, served over loopback HTTP (uvicorn,
``crmtui.sandbox.serve``), as a real vendor answers from its server: its encoding of a
19 MB reply is not crmtui's work, and in the app's process it stalled the loop by
itself. It encodes a long value once, not at every reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

PROFILE = "demo-freshsales"
CONTACT = 16000001
ORIGIN = "http://freshsales.localhost"  # the demo profile's sandbox, served elsewhere here
SMALL = "Head of Sales"
CHANGED = "Changed. "
TICK = 0.001
LIMIT = 0.1  # seconds: what the issue allows a screen to take because of one large value
STALLS = ("open_stall_s", "refresh_stall_s", "changed_refresh_stall_s", "view_stall_s")
CPUS = ("open_cpu_s", "refresh_cpu_s", "changed_refresh_cpu_s", "view_cpu_s")
ENCODED: dict[int, tuple[str, bytes]] = {}  # the sandbox's long strings by id: (it, its JSON)


def job_title(megabytes: float) -> str:
    """The contact's job title: ``megabytes`` of lines of text (0: a short one)."""
    line = "The quick brown fox jumps over the lazy dog. " * 20 + "\n"
    return line * int(megabytes * 1_000_000 / len(line)) or SMALL


def pre_encode(value: str) -> str:
    """``value``, encoded once for the sandbox's replies (see ``demo_with``)."""
    ENCODED[id(value)] = (value, json.dumps(value, ensure_ascii=False).encode())
    return value


class Stalls:
    """The longest gap between the ticks of a task on the event loop, while ``watch`` runs;
    the CPU time the loop's thread used meanwhile (``cpu``), and the CPU time of the
    longest pass of Python's cyclic garbage collector (``gc``: it stops every thread)."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.cpu = 0.0
        self.gc = 0.0
        self._on = False
        self._gc_start = 0.0

    def _collecting(self, phase: str, info: dict[str, Any]) -> None:
        # the CPU time of the collecting thread: a busy machine does not inflate it
        if phase == "start":
            self._gc_start = time.thread_time()
        elif self._gc_start:
            self.gc = max(self.gc, time.thread_time() - self._gc_start)

    async def _tick(self) -> None:
        last = time.perf_counter()
        while self._on:
            await asyncio.sleep(TICK)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last - TICK)
            last = now

    @contextlib.asynccontextmanager
    async def watch(self) -> Any:
        self._on = True
        task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)  # the ticker has started
        gc.callbacks.append(self._collecting)
        cpu = time.thread_time()  # the loop's thread: this one
        try:
            yield self
        finally:
            self.cpu = time.thread_time() - cpu
            gc.callbacks.remove(self._collecting)
            self._on = False
            await task


class Frames:
    """When the app draws a frame that meets a condition (``App._display`` is where a
    frame the compositor made goes to the terminal; headless, it goes nowhere)."""

    def __init__(self, app: Any) -> None:
        self.wanted: Callable[[], bool] | None = None
        self.drawn: float | None = None
        display = app._display

        def _display(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            waiting = self.wanted is not None and self.drawn is None
            if waiting and renderable is not None and self.wanted is not None and self.wanted():
                self.drawn = time.perf_counter()

        app._display = _display

    def _drawn(self) -> float | None:
        return self.drawn  # set by the next frame drawn (``_display``)

    async def until(self, wanted: Callable[[], bool], timeout: float = 120.0) -> float:
        """The time of the first frame drawn from now on while ``wanted()`` holds."""
        self.wanted, self.drawn = wanted, None
        deadline = time.perf_counter() + timeout
        while (drawn := self._drawn()) is None:
            if time.perf_counter() > deadline:
                raise TimeoutError("the frame never came")
            await asyncio.sleep(TICK)
        self.wanted = None
        return drawn


async def main(megabytes: float, runs: int) -> None:
    opens: list[float] = []
    costs: dict[str, list[float]] = {}  # large minus small, by figure, a run each
    smalls: list[dict[str, float]] = []
    for run in range(1, runs + 1):
        load = round(os.getloadavg()[0], 2)
        small = measure_apart(0)
        smalls.append(small)
        large = measure_apart(megabytes)
        print(json.dumps({"run": run, "load": load, "large": large, "small": small}), flush=True)
        opens.append(large["open_s"])
        for name in ("open_s", *STALLS, *CPUS):
            costs.setdefault(name, []).append(round(large[name] - small[name], 3))
    worst = {name: max(costs[name]) for name in ("open_s", *STALLS)}
    summary = {
        "field_mb": round(len(job_title(megabytes)) / 1e6, 1),
        "runs": runs,
        "load_after": round(os.getloadavg()[0], 2),
        "worst_large_open_s": max(opens),
        "opens_within_100ms": max(opens) <= LIMIT,
        "worst_cost_of_value_s": worst,
        "median_cost_of_value_s": {name: statistics.median(costs[name]) for name in worst},
        "median_cpu_cost_of_value_s": {name: statistics.median(costs[name]) for name in CPUS},
        "median_small_s": {
            name: statistics.median(s[name] for s in smalls) for name in ("open_s", *STALLS, *CPUS)
        },
        "value_costs_within_100ms": max(worst.values()) <= LIMIT,
    }
    print(json.dumps(summary), flush=True)


class Loopback(httpx.AsyncBaseTransport):
    """The demo profile's requests sent over loopback HTTP to the sandbox's process."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._http = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        return await self._http.handle_async_request(request)

    async def aclose(self) -> None:
        await self._http.aclose()


class Bench:
    """The demo app, its profile's sandbox in another process (``serve``)."""

    def __init__(self, demo: Any, port: int) -> None:
        self.demo, self.app, self.crm, self.port = demo, demo.app, demo.crm, port

    async def change(self) -> None:
        """The vendor's job title changes (``Changed. `` before it)."""
        async with httpx.AsyncClient() as client:
            reply = await client.post(f"http://127.0.0.1:{self.port}/_bench/change")
            reply.raise_for_status()


@contextlib.contextmanager
def demo_with(megabytes: float) -> Iterator[Bench]:
    """The demo app with the contact's job title ``job_title(megabytes)``, its
    Freshsales sandbox served by a process of its own (``serve``) over loopback."""
    from tests.helpers.net import free_port, wait_port
    from tests.helpers.ui import build_demo

    port = free_port()
    command = [sys.executable, "-m", "benchmarks.long_field", "--serve", str(port), str(megabytes)]
    sandbox = subprocess.Popen(command, cwd=Path(__file__).resolve().parents[1])
    try:
        wait_port(port, timeout=120)
        with tempfile.TemporaryDirectory() as folder:
            demo = build_demo("freshsales", Path(folder) / "cache.sqlite3")
            demo.crm.http.transport.mount(ORIGIN, Loopback(port))
            yield Bench(demo, port)
    finally:
        sandbox.terminate()
        sandbox.wait(30)


def serve(port: int, megabytes: float) -> None:
    """The demo's Freshsales sandbox (as ``build_demo`` makes it) with the contact's job
    title ``job_title(megabytes)``, on 127.0.0.1:``port`` until terminated. A long value
    is encoded once, not at every reply (its JSON bytes joined into each reply); POST
    /_bench/change puts "Changed. " before it."""
    from starlette.responses import JSONResponse, PlainTextResponse

    from crmtui.demo import demo_profiles
    from crmtui.sandbox import kit as module  # the kit makes every sandbox's replies
    from crmtui.sandbox.serve import run

    encoded = ENCODED

    class Reply(JSONResponse):
        def render(self, content: Any) -> bytes:
            def swap(item: Any) -> Any:
                if isinstance(item, str) and len(item) > 100_000:
                    if id(item) not in encoded:
                        pre_encode(item)
                    return f"\x00{id(item)}\x00"
                if isinstance(item, dict):
                    return {k: swap(v) for k, v in item.items()}
                if isinstance(item, list):
                    return [swap(v) for v in item]
                return item

            text = json.dumps(swap(content), ensure_ascii=False, separators=(",", ":"))
            # the long strings' JSON (bytes, made once) between the rest's: one join
            parts = re.split(r'"\\u0000(\d+)\\u0000"', text)
            return b"".join(
                encoded[int(part)][1] if n % 2 else part.encode() for n, part in enumerate(parts)
            )

    module.JSONResponse = Reply  # type: ignore[attr-defined]
    sandbox = demo_profiles(vendors=["freshsales"], rate_limits=False)[0].app
    value = job_title(megabytes)
    contact = sandbox.state.db.contacts[CONTACT]
    contact["job_title"] = pre_encode(value)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/_bench/change":
            contact["job_title"] = pre_encode("Changed. " + value)
            await PlainTextResponse("changed")(scope, receive, send)
            return
        await sandbox(scope, receive, send)

    run(app, port=port, log_level="warning")


async def measure(megabytes: float) -> dict[str, float]:
    """The figures of one record: the contact with ``job_title(megabytes)``."""
    from crmtui.ui.screens.record import RecordScreen

    loads: list[Any] = []  # the screen's refreshes (``RecordScreen.load``), as started
    load = RecordScreen.load

    def watched(screen: RecordScreen) -> Any:
        worker = load(screen)
        loads.append(worker)
        return worker

    RecordScreen.load = watched  # type: ignore[method-assign]
    try:
        return await _measure(megabytes, loads)
    finally:
        RecordScreen.load = load  # type: ignore[method-assign]


def measure_apart(megabytes: float) -> dict[str, float]:
    """``measure(megabytes)`` in a process of its own, as a user runs one app in one
    process: nothing of the record measured before (its threads still decoding or
    writing, its app's garbage for the collector to walk, Python's garbage collector
    frozen by the first app only) weighs on this one."""
    command = [sys.executable, "-m", "benchmarks.long_field", "--measure", str(megabytes)]
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(command, cwd=root, check=True, stdout=subprocess.PIPE, text=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def note(figures: dict[str, float], phase: str, stalls: Stalls) -> None:
    """``phase``'s figures: its longest stall, the loop thread's CPU, the longest GC pass."""
    figures[f"{phase}_stall_s"] = round(stalls.longest, 3)
    figures[f"{phase}_cpu_s"] = round(stalls.cpu, 3)
    figures[f"{phase}_gc_s"] = round(stalls.gc, 3)


async def _measure(megabytes: float, loads: list[Any]) -> dict[str, float]:
    from textual import events
    from textual.widgets import ListView

    from crmtui.model import RecordRef
    from crmtui.ui.screens.record import FieldItem, RecordScreen
    from crmtui.ui.screens.text_view import TextViewScreen
    from crmtui.ui.widgets.long_text import LongText

    figures: dict[str, float] = {}
    with demo_with(megabytes) as demo:
        ref = RecordRef(profile=PROFILE, kind="contact", id=str(CONTACT))
        app = demo.app
        async with app.run_test(size=(150, 45)):
            frames = Frames(app)
            await demo.crm.fields(PROFILE, "contact")  # in the cache, as after a sync
            await demo.crm.get(ref)
            await asyncio.sleep(0.5)
            demo.crm.store.__dict__.pop("_large_row", None)  # not read since
            gc.collect()  # the setup's garbage (its 19 MB download) is not the screen's

            def job_title_row() -> FieldItem | None:
                screen = app.screen
                if not isinstance(screen, RecordScreen):
                    return None
                items = [i for i in screen.query(FieldItem) if i.spec.key == "job_title"]
                return items[0] if items else None

            def shown(start: str) -> Callable[[], bool]:
                def check() -> bool:
                    row = job_title_row()
                    if row is None or not str(row.value_label.render()).startswith(start):
                        return False
                    return not megabytes or "more" in str(row.more_label.render())

                return check

            def key(name: str) -> None:  # as a terminal sends it: the app is not waited for
                app.post_message(events.Key(name, name))

            async def refreshed() -> None:  # the screen's latest refresh has landed
                while not loads:
                    await asyncio.sleep(TICK)
                await loads[-1].wait()
                screen = app.screen  # and its timeline, and the reads they started
                while any(w.node is screen and not w.is_finished for w in app.workers):
                    await asyncio.sleep(TICK)

            first = job_title(megabytes)[:10]
            async with Stalls().watch() as opening:
                started = time.perf_counter()
                app.open_record(ref)
                drawn = await frames.until(shown(first))
            figures["open_s"] = round(drawn - started, 3)
            note(figures, "open", opening)
            async with Stalls().watch() as refreshing:
                await refreshed()
            note(figures, "refresh", refreshing)

            await asyncio.sleep(0.5)
            await demo.change()
            await asyncio.sleep(0.5)
            count = len(loads)
            async with Stalls().watch() as changing:
                started = time.perf_counter()
                key("r")
                drawn = await frames.until(shown(CHANGED))
                figures["changed_refresh_s"] = round(drawn - started, 3)
                while len(loads) == count:
                    await asyncio.sleep(TICK)
                await refreshed()
            note(figures, "changed_refresh", changing)

            await asyncio.sleep(0.5)
            screen = app.screen
            fields = screen.query_one("#fields", ListView)
            fields.focus()
            fields.index = next(
                n for n, i in enumerate(screen.query(FieldItem)) if i.spec.key == "job_title"
            )
            await asyncio.sleep(0.2)

            def viewing() -> bool:
                view = app.screen
                return isinstance(view, TextViewScreen) and bool(view.query(LongText))

            async with Stalls().watch() as opening_view:
                started = time.perf_counter()
                key("v")
                drawn = await frames.until(viewing)
            figures["view_s"] = round(drawn - started, 3)
            note(figures, "view", opening_view)
            await asyncio.sleep(0.2)
            viewer = app.screen.query_one(LongText)
            assert viewer.text.startswith(CHANGED) and len(viewer.text) > len(first)
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(int(sys.argv[2]), float(sys.argv[3]))
    elif sys.argv[1:2] == ["--measure"]:
        print(json.dumps(asyncio.run(measure(float(sys.argv[2])))), flush=True)
    else:
        size = float(sys.argv[1]) if len(sys.argv) > 1 else 19.0
        asyncio.run(main(size, int(sys.argv[2]) if len(sys.argv) > 2 else 3))
