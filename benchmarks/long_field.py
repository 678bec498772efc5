"""A record with one huge field: how long the record screen and the whole-value view take,
and how long the event loop is blocked meanwhile.

``python -m benchmarks.long_field [MB]`` (default 19: a reply must stay under the 20 MB
limit) gives a Freshsales sandbox contact a job title of that size, reads it into the
cache, then prints one JSON line:

- ``open_record_s``: ``open_record`` until the screen has drawn the field with its "more"
  marker, from the cache (the screen's background refresh from the vendor left out; the
  record not read since it was cached); ``open_stall_s``: the longest time the event loop
  was blocked meanwhile (a task that ticks every millisecond measures the longest gap
  between its ticks, less the tick itself).
- ``open_with_refresh_s``: the same with that refresh (it fetches the record again and
  writes it to the cache); ``refresh_s``: until the refresh has landed (the screen's
  load worker is done); ``open_refresh_stall_s``: the longest stall from the open until
  then.
- ``refresh_stall_s``: the longest stall during a refresh alone (``r`` on the drawn
  screen), the vendor's record as cached; ``changed_refresh_stall_s``: the same when
  the vendor's value changed since (the cache is written again).
- The ``_small_`` figures are the same for that contact with a short job title: on a
  busy machine the screen's own drawing stalls the loop too, and the difference is what
  the large value costs.
- The sandbox runs in a process of its own, served over loopback HTTP (uvicorn,
  ``crmtui.sandbox.serve``), as a real vendor answers from its server: its encoding of a
  19 MB reply is not crmtui's work, and in the app's event loop it stalled that loop by
  itself. It encodes a long value once, not at every reply; ``sandbox_encode_s`` says
  what one encoding of the record costs.
- ``service_get_stall_s`` / ``service_changed_get_stall_s``: the longest stalls while
  ``Crm.get`` alone refreshes the record (no app drawing), as cached / changed since;
  ``cached_read_s``: a first ``Crm.cached`` read of it (the whole record, decoded),
  ``cached_read_again_s`` a second one with nothing written since;
  ``cached_preview_read_s``: a ``Crm.cached_preview_async`` read (what the record screen
  reads, in a thread, as it opens: the long value cut by SQLite, with its length).
  ``service_preview_read_stall_s``, ``service_whole_read_stall_s``,
  ``service_get_preview_stall_s``: the longest stalls (no app drawing) while the screen's
  read (``Crm.cached_preview_async``), the whole record's (``Crm.cached_async``, what the
  screen read before) and the screen's refresh (``Crm.get_preview``) run.
  ``load`` and ``load_after`` are the 1-minute load average before and after the run
  (the machine's other work stalls the loop too: compare runs at a similar load).
- ``view_all_s``: ``v`` until the whole-value view has drawn its first screen;
  ``view_end_s``: ``G`` until the view has drawn the value's last rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

PROFILE = "demo-freshsales"
CONTACT = 16000001
ORIGIN = "http://freshsales.localhost"  # the demo profile's sandbox, served elsewhere here
SMALL = "Head of Sales"
TICK = 0.001
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
    """The longest gap between the ticks of a task on the event loop, while ``watch`` runs."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._on = False

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
        try:
            yield self
        finally:
            self._on = False
            await task


async def main(megabytes: float) -> dict[str, float]:
    from crmtui.ui.screens.record import RecordScreen

    load = RecordScreen.load
    RecordScreen.load = lambda self: None  # type: ignore[assignment,method-assign]
    try:
        small = await measure(0, views=False)
        quiet = await measure(megabytes)
    finally:
        RecordScreen.load = load  # type: ignore[method-assign]
    service = await service_figures(megabytes)
    small_busy = await measure(0, views=False)
    busy = await measure(megabytes, views=False)
    changed = await measure(megabytes, views=False, change=True)
    return {
        **quiet,
        "open_record_small_s": small["open_record_s"],
        "open_stall_small_s": small["open_stall_s"],
        "open_with_refresh_s": busy["open_record_s"],
        "refresh_s": busy["refresh_s"],
        "open_refresh_stall_s": busy["open_refresh_stall_s"],
        "open_refresh_stall_small_s": small_busy["open_refresh_stall_s"],
        "refresh_stall_s": busy["refresh_stall_s"],
        "refresh_stall_small_s": small_busy["refresh_stall_s"],
        "changed_refresh_stall_s": changed["refresh_stall_s"],
        "sandbox_encode_s": quiet["sandbox_encode_s"],
        **service,
    }


async def service_figures(megabytes: float) -> dict[str, float]:
    """The data path alone, without the app's drawing (which on a busy machine stalls the
    loop by itself): the longest stalls while ``Crm.get`` refreshes the record (as cached,
    then changed on the vendor), and the time of a first ``Crm.cached`` read of it (the
    record screen's before it read the record with its long values cut, from the cache, on
    the event loop), and of a ``Crm.cached_preview_async`` read (the screen's now)."""
    from crmtui.model import RecordRef

    figures: dict[str, float] = {}
    with demo_with(megabytes) as demo:
        ref = RecordRef(profile=PROFILE, kind="contact", id=str(CONTACT))
        async with demo.app.run_test(size=(150, 45)) as pilot:  # on its home screen
            await demo.crm.get(ref)
            await pilot.pause(1.0)
            for name in ("service_get_stall_s", "service_changed_get_stall_s"):
                if name.startswith("service_changed"):
                    await demo.change()
                async with Stalls().watch() as getting:
                    await demo.crm.get(ref)
                figures[name] = round(getting.longest, 3)
            await pilot.pause(0.5)
            reads = {  # the record screen's reads, and the whole record's (as it read it)
                "service_preview_read_stall_s": demo.crm.cached_preview_async,
                "service_whole_read_stall_s": demo.crm.cached_async,
                "service_get_preview_stall_s": demo.crm.get_preview,
            }
            for name, read in reads.items():
                demo.crm.store.__dict__.pop("_large_row", None)  # a cold read
                async with Stalls().watch() as reading:
                    await read(ref)
                figures[name] = round(reading.longest, 3)
            await pilot.pause(0.5)
            demo.crm.store.__dict__.pop("_large_row", None)  # a cold read
            started = time.perf_counter()
            demo.crm.cached(ref)
            figures["cached_read_s"] = round(time.perf_counter() - started, 3)
            started = time.perf_counter()
            demo.crm.cached(ref)
            figures["cached_read_again_s"] = round(time.perf_counter() - started, 3)
            started = time.perf_counter()
            await demo.crm.cached_preview_async(ref)
            figures["cached_preview_read_s"] = round(time.perf_counter() - started, 3)
    return figures


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
    from crmtui.sandbox.freshsales import app as module
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

    module.JSONResponse = Reply  # type: ignore[misc]
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


async def measure(megabytes: float, *, views: bool = True, change: bool = False) -> dict[str, Any]:
    """The figures of one run; ``views=False``: the refresh's instead of the viewer's."""
    from crmtui.ui.screens.record import RecordScreen

    loads: list[Any] = []  # the screen's background refreshes (``RecordScreen.load``)
    load = RecordScreen.load
    if not views:

        def watched(screen: RecordScreen) -> Any:
            worker = load(screen)  # type: ignore[func-returns-value]
            loads.append(worker)
            return worker

        RecordScreen.load = watched  # type: ignore[assignment,method-assign]
    try:
        return await _measure(megabytes, views, change, loads)
    finally:
        RecordScreen.load = load  # type: ignore[method-assign]


async def _measure(megabytes: float, views: bool, change: bool, loads: list[Any]) -> dict[str, Any]:
    from textual.widgets import ListView

    from crmtui.model import RecordRef
    from crmtui.ui.screens.record import FieldItem, RecordScreen
    from crmtui.ui.screens.text_view import TextViewScreen
    from crmtui.ui.widgets.long_text import LongText

    value = job_title(megabytes)
    figures: dict[str, Any] = {"field_mb": round(len(value) / 1e6, 1)}
    with demo_with(megabytes) as demo:
        ref = RecordRef(profile=PROFILE, kind="contact", id=str(CONTACT))
        app = demo.app
        async with app.run_test(size=(150, 45)) as pilot:
            await demo.crm.get(ref)  # in the cache, as after a sync
            await pilot.pause(0.2)
            demo.crm.store.__dict__.pop("_large_row", None)  # not read since: a cold open
            started = time.perf_counter()
            json.dumps({"id": CONTACT, "job_title": value})  # what the sandbox's process does
            figures["sandbox_encode_s"] = round(time.perf_counter() - started, 3)

            def marker_shown() -> bool:
                screen = app.screen
                if not isinstance(screen, RecordScreen):
                    return False
                items = [i for i in screen.query(FieldItem) if i.spec.key == "job_title"]
                if not megabytes:
                    return bool(items) and "Head" in str(items[0].value_label.render())
                return bool(items) and "more" in str(items[0].more_label.render())

            async with Stalls().watch() as opening:
                started = time.perf_counter()
                app.open_record(ref)
                while not marker_shown():
                    await pilot.pause(0.001)
                await pilot.pause()  # the paint
                figures["open_record_s"] = round(time.perf_counter() - started, 3)
            figures["open_stall_s"] = round(opening.longest, 3)
            if not views:
                if not any(loads):  # the refresh is left out: the open is all
                    return figures
                async with Stalls().watch() as refreshing:
                    for worker in loads:
                        if worker is not None:  # None: the refresh is left out
                            await worker.wait()
                figures["refresh_s"] = round(time.perf_counter() - started, 3)
                figures["open_refresh_stall_s"] = round(max(opening.longest, refreshing.longest), 3)
                # the screen is drawn and settled: a refresh alone (r), the vendor's
                # value as cached, or changed since (the cache is written again)
                await pilot.pause(0.5)
                if change:
                    await demo.change()
                async with Stalls().watch() as reloading:
                    await pilot.press("r")
                    await loads[-1].wait()
                    await pilot.pause()
                figures["refresh_stall_s"] = round(reloading.longest, 3)
                return figures

            screen = app.screen
            fields = screen.query_one("#fields", ListView)
            fields.focus()
            fields.index = next(
                n for n, i in enumerate(screen.query(FieldItem)) if i.spec.key == "job_title"
            )
            await pilot.pause()
            started = time.perf_counter()
            await pilot.press("v")
            while not isinstance(app.screen, TextViewScreen) or not app.screen.query(LongText):
                await pilot.pause(0.001)
            await pilot.pause()
            figures["view_all_s"] = round(time.perf_counter() - started, 3)

            viewer = app.screen.query_one(LongText)
            started = time.perf_counter()
            await pilot.press("G")
            await pilot.pause()
            figures["view_end_s"] = round(time.perf_counter() - started, 3)
            assert viewer.scroll_offset.y > 0 or viewer.rows < 40
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(int(sys.argv[2]), float(sys.argv[3]))
    else:
        load = round(os.getloadavg()[0], 2)
        figures = asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 19.0))
        print(json.dumps({"load": load, "load_after": round(os.getloadavg()[0], 2), **figures}))
