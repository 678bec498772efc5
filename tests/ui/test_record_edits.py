"""The record screen's editor: local times, and a cache that cannot be written.

Times are shown and typed in the user's zone (the system's, or ``timezone`` in
config.toml) and reach the vendor in UTC. When the cache cannot be written (disk full),
the editor keeps the typed text and says what happened and what to do.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from crmtui.config import Config
from crmtui.fields import local_zone, use_timezone
from crmtui.ui.screens.record import FieldItem
from tests.helpers.ui import Demo, build_demo, highlight, open_record, sent, wait_for

SIZE = (130, 40)


@pytest.fixture
def system_zone() -> Iterator[Callable[[str], None]]:
    """Sets the system's zone (``TZ``) for the app; restores it afterwards."""
    before = os.environ.get("TZ")

    def use(name: str) -> None:
        os.environ["TZ"] = name

    yield use
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    use_timezone(None)


def shown(item: FieldItem) -> str:
    return str(item.query_one(".field-value", Static).render())


@pytest.mark.parametrize(
    ("zone", "how", "typed", "utc", "mark"),
    [
        # New York: 09:00 EST is 14:00 UTC (it used to be sent as 09:00 UTC, 04:00 local)
        ("America/New_York", "TZ", "2026-12-01 09:00", "2026-12-01T14:00:00+00:00", "EST"),
        # Berlin in config.toml, in summer time; the system's zone (TZ) is ignored then
        ("Europe/Berlin", "config", "2026-07-01 09:00", "2026-07-01T07:00:00+00:00", "CEST"),
        # the day the clocks go back: the zone picks which 01:30 was meant
        ("America/New_York", "TZ", "2026-11-01 01:30 EST", "2026-11-01T06:30:00+00:00", "EST"),
    ],
)
async def test_times_are_shown_and_typed_in_the_users_zone_and_sent_in_utc(
    zone: str,
    how: str,
    typed: str,
    utc: str,
    mark: str,
    system_zone: Callable[[str], None],
    tmp_path: Path,
) -> None:
    config = None
    if how == "config":
        system_zone("Asia/Tokyo")
        path = tmp_path / "config.toml"
        path.write_text(f'timezone = "{zone}"\n', encoding="utf-8")
        config = Config.load(path)
    else:
        system_zone(zone)
    demo = build_demo("freshsales", tmp_path / "cache.sqlite3", config=config)
    assert getattr(local_zone(), "key", None) == zone
    async with demo.app.run_test(size=SIZE) as pilot:
        screen = await open_record(pilot, demo, "freshsales", "task")
        item = await highlight(pilot, screen, "due_at")
        await pilot.press("e", "ctrl+u", *typed, "enter")
        await wait_for(pilot, lambda: not item.editing)
        assert await sent(pilot, demo, screen.ref, "due_at") == utc
        day, time = typed.split()[:2]
        assert shown(item) == f"{day} {time} {mark}"  # shown back as typed, zone marked

        await pilot.press("e")  # the editor offers the same local time, marked
        editor = item.query_one(Input)
        assert editor.value == f"{day} {time} {mark}"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not item.editing)
        assert not demo.crm.changes(screen.ref.profile)  # unchanged: nothing queued


async def test_a_full_disk_keeps_the_editor_open_with_the_text_and_says_why(
    vendor_demo: Callable[[str], Demo],
) -> None:
    demo = vendor_demo("freshsales")
    async with demo.app.run_test(size=SIZE) as pilot:
        screen = await open_record(pilot, demo, "freshsales", "deal")
        item = await highlight(pilot, screen, "name")
        before = dict(demo.crm.cached(screen.ref).fields)  # type: ignore[union-attr]
        conn = demo.crm.store._db.conn  # the disk is full: the cache cannot grow
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        typed = "A much longer deal name " * 40
        await pilot.press("e", "ctrl+u")
        item.query_one(Input).insert_text_at_cursor(typed)  # a paste
        await pilot.press("enter")
        error = item.query_one(".field-error", Static)
        await wait_for(pilot, lambda: str(error.render()).strip())
        assert item.editing and item.query_one(Input).value == typed  # nothing lost
        message = str(error.render())
        assert "disk is full" in message and "free some disk space" in message
        assert not demo.crm.changes(screen.ref.profile)  # nothing shown as queued
        assert demo.crm.cached(screen.ref).fields == before  # type: ignore[union-attr]

        conn.execute("PRAGMA max_page_count = 1073741823")  # space again: enter saves it
        await pilot.press("enter")
        await wait_for(pilot, lambda: not item.editing)
        assert await sent(pilot, demo, screen.ref, "name") == typed.strip()
