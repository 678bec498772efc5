"""The record screen is up before its record is read, and keys typed meanwhile act in order.

A record with a field of megabytes takes a while to read from the cache; the screen
shows the title the list showed at once, reads the record off the event loop, and the
keys typed before it is in wait for it: they are neither lost nor sent to an empty list.
Here the cache read waits for an event the test sets, and the vendor's own record (the
screen's refresh) is held back, so only the cache can fill the screen.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual import events
from textual.widgets import Input, ListView, Static

from crmtui.model import RecordRef
from crmtui.service import RecordPreview
from crmtui.text import more_marker
from crmtui.ui.screens.home import HomeScreen
from crmtui.ui.screens.record import FieldItem, RecordScreen
from crmtui.ui.screens.text_view import TextViewScreen
from crmtui.ui.widgets.long_text import LongText
from tests.helpers.ui import Demo, settle, wait_for

SIZE = (150, 45)
FS = "demo-freshsales"
CONTACT = RecordRef(profile=FS, kind="contact", id="16000001")
VALUE = ("Budget line for the quarterly review. " * 40 + "\n") * 3000  # about 4.6 MB


class Gates:
    """The screen's cache read and the vendor's record, each held until set."""

    def __init__(self, demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
        self.cache, self.vendor = asyncio.Event(), asyncio.Event()
        self.reads: list[RecordRef] = []
        crm = demo.crm
        cached, get = crm.cached_preview_async, crm.get_preview

        async def held_read(ref: RecordRef) -> RecordPreview | None:
            self.reads.append(ref)
            await self.cache.wait()
            return await cached(ref)

        async def held_get(ref: RecordRef) -> RecordPreview:
            await self.vendor.wait()
            return await get(ref)

        monkeypatch.setattr(crm, "cached_preview_async", held_read)
        monkeypatch.setattr(crm, "get_preview", held_get)


async def opened(pilot: Any, demo: Demo, monkeypatch: pytest.MonkeyPatch) -> tuple[Gates, str]:
    """The contact (with its long job title) cached, its screen opened from its title,
    the cache read not landed yet; returns the gates and the title."""
    demo.db.contacts[int(CONTACT.id)]["job_title"] = VALUE
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
    await demo.crm.fields(FS, "contact")
    record = await demo.crm.get(CONTACT)  # cached, as after a sync
    assert record.fields["job_title"] == VALUE
    gates = Gates(demo, monkeypatch)
    pilot.app.open_record(CONTACT, record.title)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.is_mounted and gates.reads)
    return gates, record.title


def type_ahead(app: Any, *keys: str) -> None:
    """Keys as a terminal sends them: each posted at once, none waiting for the app
    (``pilot.press`` waits until the app has taken each key)."""
    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else None))


def heading(screen: RecordScreen) -> str:
    return str(screen.query_one("#record-title", Static).render())


def downs(demo: Demo, key: str) -> list[str]:
    """The keys that highlight field ``key`` (the screen opens on the first writable one)."""
    specs = demo.crm.cached_fields(FS, "contact")
    first = next(n for n, s in enumerate(specs) if s.writable)
    return ["down"] * ([s.key for s in specs].index(key) - first)


async def test_the_screen_is_up_with_the_lists_title_before_the_record_is_read(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with demo.app.run_test(size=SIZE) as pilot:
        gates, title = await opened(pilot, demo, monkeypatch)
        screen = pilot.app.screen
        assert isinstance(screen, RecordScreen)
        await pilot.pause()
        assert heading(screen) == f"Contact: {title}"  # drawn now, the read still held
        assert screen.record is None and not screen.query(FieldItem)

        gates.cache.set()  # the cached record lands: its values fill the fields
        await wait_for(pilot, lambda: screen.query(FieldItem))
        items = {item.spec.key: item for item in screen.query(FieldItem)}
        job = items["job_title"]
        assert job.length == len(VALUE) and VALUE.startswith(str(job.value))  # its start
        hidden = len(VALUE) - len(str(job.value_label.render()))
        assert str(job.more_label.render()) == more_marker(hidden)  # cut, with its marker
        assert title in heading(screen)
        gates.vendor.set()


async def test_keys_typed_before_the_record_is_in_act_on_it_in_order(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with demo.app.run_test(size=SIZE) as pilot:
        gates, _ = await opened(pilot, demo, monkeypatch)
        # down to the long job title and v, typed with no pause before the record is in
        type_ahead(pilot.app, *downs(demo, "job_title"), "v")
        await asyncio.sleep(0.05)  # not pilot.pause: it waits for the app to take the keys
        assert isinstance(pilot.app.screen, RecordScreen)  # nothing acted on an empty list
        assert not pilot.app.screen.query(FieldItem)
        gates.cache.set()
        await wait_for(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, TextViewScreen)
                and bool(pilot.app.screen.query(LongText))
            ),
        )
        viewer = pilot.app.screen.query_one(LongText)
        assert viewer.text == VALUE  # the highlighted field, whole
        gates.vendor.set()


async def test_an_edit_typed_before_the_record_is_in_starts_from_its_value(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with demo.app.run_test(size=SIZE) as pilot:
        gates, _ = await opened(pilot, demo, monkeypatch)
        key = "last_name"
        cached = demo.crm.cached(CONTACT)
        assert cached is not None
        before = cached.fields[key]
        # e, a letter and enter, typed before the record is in: the editor opens on the
        # field's value (not an empty box), the letter goes into it, enter saves
        type_ahead(pilot.app, *downs(demo, key), "e", "end", "X", "enter")
        await asyncio.sleep(0.05)  # not pilot.pause: it waits for the app to take the keys
        assert not demo.crm.changes(FS)
        gates.cache.set()
        gates.vendor.set()  # the edit is sent: the vendor gets the value typed
        contact = demo.db.contacts[int(CONTACT.id)]
        await wait_for(pilot, lambda: contact[key] == f"{before}X")


async def test_escape_before_the_record_is_in_goes_back(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with demo.app.run_test(size=SIZE) as pilot:
        gates, _ = await opened(pilot, demo, monkeypatch)
        type_ahead(pilot.app, "escape")
        await asyncio.sleep(0.05)  # not pilot.pause: it waits for the app to take the keys
        gates.cache.set()
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        gates.vendor.set()
        await pilot.press("j", "k")  # the home screen takes keys again; nothing broke
        assert isinstance(pilot.app.screen, HomeScreen)


async def test_a_long_value_is_read_whole_only_when_v_asks_for_it(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screen reads the record with its long value cut (from the cache, then after
    the vendor's refresh): the whole 4.6 MB value is read, by itself, when v asks."""
    async with demo.app.run_test(size=SIZE) as pilot:
        demo.db.contacts[int(CONTACT.id)]["job_title"] = VALUE
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        await demo.crm.fields(FS, "contact")
        await demo.crm.get(CONTACT)  # cached, as after a sync
        store = demo.crm.store
        whole: list[RecordRef] = []
        fields: list[tuple[RecordRef, str]] = []
        get_record, get_field = store.get_record, store.get_field

        def counted_record(ref: RecordRef) -> Any:
            whole.append(ref)
            return get_record(ref)

        def counted_field(ref: RecordRef, key: str) -> Any:
            fields.append((ref, key))
            return get_field(ref, key)

        monkeypatch.setattr(store, "get_record", counted_record)
        monkeypatch.setattr(store, "get_field", counted_field)
        pilot.app.open_record(CONTACT)
        await settle(pilot)  # the cache read, the vendor's refresh and the timeline done
        screen = pilot.app.screen
        assert isinstance(screen, RecordScreen)
        job = next(i for i in screen.query(FieldItem) if i.spec.key == "job_title")
        assert job.length == len(VALUE) and len(str(job.value)) < 10_000
        assert "shows it all" in str(job.more_label.render())
        assert whole == [] and fields == []  # nothing read the whole value

        fields_list = screen.query_one("#fields", ListView)
        fields_list.focus()
        fields_list.index = list(screen.query(FieldItem)).index(job)
        await pilot.press("v")
        await wait_for(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, TextViewScreen)
                and bool(pilot.app.screen.query(LongText))
            ),
        )
        assert pilot.app.screen.query_one(LongText).text == VALUE  # whole
        assert fields == [(CONTACT, "job_title")] and whole == []


async def test_editing_a_cut_value_starts_from_the_whole_value(demo: Demo) -> None:
    """e on a value the screen shows cut opens the editor on the whole value, so a save
    never writes its start back in its place."""
    value = "Head of Sales, " * 10_000  # 150,000 characters: cut on the record screen
    async with demo.app.run_test(size=SIZE) as pilot:
        demo.db.contacts[int(CONTACT.id)]["job_title"] = value
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        await demo.crm.fields(FS, "contact")
        await demo.crm.get(CONTACT)
        pilot.app.open_record(CONTACT)
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, RecordScreen)
        job = next(i for i in screen.query(FieldItem) if i.spec.key == "job_title")
        assert job.length == len(value) and len(str(job.value)) < len(value)
        fields_list = screen.query_one("#fields", ListView)
        fields_list.focus()
        fields_list.index = list(screen.query(FieldItem)).index(job)
        await pilot.press("e")
        await wait_for(pilot, lambda: job.editing and job.query(Input))
        assert job.query_one(Input).value == value  # whole
