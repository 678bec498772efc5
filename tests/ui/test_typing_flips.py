"""Quick enters on a yes/no field: each flips it from the value the one before left.

A cache read of the record that started before a flip (a refresh's ``RecordChanged``)
and lands after it must not put the value from before the flip back on the screen: the
next enter flipped from that value, and the vendor kept the one from before the flips.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from crmtui.model import Change, FieldType, Record, RecordRef
from crmtui.service import OutboxChanged, RecordChanged, RecordPreview
from crmtui.ui.screens.record import FieldItem
from tests.helpers.ui import Demo, burst, highlight, open_record, sent, settle, wait_for

SIZE = (130, 40)


async def test_a_read_from_before_a_flip_does_not_undo_it(
    vendor_demo: Callable[[str], Demo], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``enter enter`` then ``enter`` on a yes/no field while a refresh's cache read of
    the record, started before the first enter, lands after it."""
    demo = vendor_demo("freshsales")
    crm = demo.crm
    async with demo.app.run_test(size=SIZE) as pilot:
        screen = await open_record(pilot, demo, "freshsales", "contact")
        ref = screen.ref
        fields = screen.query_one("#fields")
        key = next(i for i in fields.query(FieldItem) if i.spec.type is FieldType.BOOL).spec.key
        item = await highlight(pilot, screen, key)
        await settle(pilot)
        before = bool(item.value)

        cached, get, edit = crm.cached_preview_async, crm.get_preview, crm.edit
        adapter = crm.adapter(ref.profile)
        update = adapter.update
        stale_held, stale_go, stale_in = asyncio.Event(), asyncio.Event(), asyncio.Event()
        send_go, sent_all, vendor_go = asyncio.Event(), asyncio.Event(), asyncio.Event()
        reads: list[RecordRef] = []
        edits: list[object] = []

        async def held_update(change: Change) -> Record:  # the vendor takes it when let
            await send_go.wait()
            return await update(change)

        async def held_get(r: RecordRef) -> RecordPreview:  # the vendor's record, when let
            await vendor_go.wait()
            return await get(r)

        async def counted_edit(r: RecordRef, texts: dict[str, object]) -> Change | None:
            change = await edit(r, texts)
            edits.append(change)
            if len(edits) == 2:  # both enters acted: the vendor's reads may come
                vendor_go.set()
            return change

        async def read(r: RecordRef) -> RecordPreview | None:
            reads.append(r)
            if len(reads) == 1:  # the refresh's read: the record as before the flip
                found = await cached(r)
                stale_held.set()
                await stale_go.wait()
                stale_in.set()
                return found
            if len(reads) == 2:  # the flip's own read: slow, everything lands meanwhile
                stale_go.set()  # the read from before the flip lands first
                await stale_in.wait()  # shown: its worker went on at once, in its step
                send_go.set()  # then the vendor takes the flip
                await sent_all.wait()
            return await cached(r)

        def outbox(event: object) -> None:
            if isinstance(event, OutboxChanged) and not crm.changes(ref.profile):
                sent_all.set()

        def shown() -> bool:
            field = next(i for i in fields.query(FieldItem) if i.spec.key == key)
            return bool(field.value)

        unsubscribe = crm.subscribe(outbox)
        monkeypatch.setattr(adapter, "update", held_update)
        monkeypatch.setattr(crm, "get_preview", held_get)
        monkeypatch.setattr(crm, "edit", counted_edit)
        monkeypatch.setattr(crm, "cached_preview_async", read)

        # a refresh of the record: its cache read starts now, before the flips
        crm.emit(RecordChanged(ref))
        await wait_for(pilot, stale_held.is_set)

        # two quick enters: flipped twice, back to the value from before
        await burst(pilot, "enter", "enter")
        await wait_for(pilot, lambda: len(edits) == 2)
        assert bool(await sent(pilot, demo, ref, key)) is before
        unsubscribe()
        await settle(pilot)
        assert shown() is before
        # and a third: the opposite
        await burst(pilot, "enter")
        assert bool(await sent(pilot, demo, ref, key)) is not before
        await settle(pilot)
        assert shown() is not before
