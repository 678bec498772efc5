"""A record with one huge field: how long the record screen and the whole-value view take.

``python -m benchmarks.long_field [MB]`` (default 19: a reply must stay under the 20 MB
limit) gives a Freshsales sandbox contact a job title of that size, reads it into the
cache, then prints one JSON line: ``open_record_s`` (``open_record`` until the screen
has drawn the field with its "more" marker, from the cache, the screen's background
refresh from the vendor left out), ``open_with_refresh_s`` (the same with that refresh:
it fetches the record again and writes it to the cache, blocking the event loop while
it does), ``view_all_s`` (``v`` until the whole-value view has drawn its first screen)
and ``view_end_s`` (``G`` until the view has drawn the value's last rows).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

PROFILE = "demo-freshsales"
CONTACT = 16000001


async def main(megabytes: float) -> dict[str, float]:
    from crmtui.ui.screens.record import RecordScreen

    load = RecordScreen.load
    RecordScreen.load = lambda self: None  # type: ignore[assignment,method-assign]
    try:
        quiet = await measure(megabytes)
    finally:
        RecordScreen.load = load  # type: ignore[method-assign]
    busy = await measure(megabytes)
    return {**quiet, "open_with_refresh_s": busy["open_record_s"]}


async def measure(megabytes: float) -> dict[str, float]:
    from textual.widgets import ListView

    from crmtui.model import RecordRef
    from crmtui.ui.screens.record import FieldItem, RecordScreen
    from crmtui.ui.screens.text_view import TextViewScreen
    from crmtui.ui.widgets.long_text import LongText
    from tests.ui.conftest import build_demo

    line = "The quick brown fox jumps over the lazy dog. " * 20 + "\n"
    value = line * int(megabytes * 1_000_000 / len(line))
    with tempfile.TemporaryDirectory() as folder:
        demo = build_demo("freshsales", Path(folder) / "cache.sqlite3")
        demo.db.contacts[CONTACT]["job_title"] = value
        ref = RecordRef(profile=PROFILE, kind="contact", id=str(CONTACT))
        app = demo.app
        async with app.run_test(size=(150, 45)) as pilot:
            await demo.crm.get(ref)  # in the cache, as after a sync

            def marker_shown() -> bool:
                screen = app.screen
                if not isinstance(screen, RecordScreen):
                    return False
                items = [i for i in screen.query(FieldItem) if i.spec.key == "job_title"]
                return bool(items) and "more" in str(items[0].more_label.render())

            started = time.perf_counter()
            app.open_record(ref)
            while not marker_shown():
                await pilot.pause(0.001)
            await pilot.pause()  # the paint
            opened = time.perf_counter() - started

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
            viewed = time.perf_counter() - started

            viewer = app.screen.query_one(LongText)
            started = time.perf_counter()
            await pilot.press("G")
            await pilot.pause()
            ended = time.perf_counter() - started
            assert viewer.scroll_offset.y > 0 or viewer.rows < 40
    return {
        "field_mb": round(len(value) / 1e6, 1),
        "open_record_s": round(opened, 3),
        "view_all_s": round(viewed, 3),
        "view_end_s": round(ended, 3),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 19.0))))
