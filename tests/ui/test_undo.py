"""Undo (issue 17 point 3), on every vendor: ``u`` withdraws a queued edit (the vendor
never gets it), takes a sent one back after a preview (the vendor holds the old value
again), and never overwrites a value someone else changed since (a conflict, shown);
``U`` lists the recent changes and ``enter`` undoes one the same way.

The vendor's value is read from the vendor through its adapter (not the cache); "someone
else" writes through the vendor's API the same way, behind the app's back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from crmtui.api import Client, open_demo
from crmtui.http import Http
from crmtui.model import Change, ChangeState, RecordRef
from crmtui.service.undo import CannotUndo
from crmtui.ui.screens.help import HelpScreen
from crmtui.ui.screens.record import FieldItem, RecordScreen
from crmtui.ui.screens.undo import UndoListScreen, UndoPreview
from tests.helpers.ui import (
    Demo,
    highlight,
    no_sleep,
    open_field,
    open_record,
    run_command,
    type_into,
    wait_for,
)

SIZE = (130, 40)

# vendor, kind (a prefix), a writable text field of it
CASES = [
    ("salesseek", "deal", "name"),
    ("salesloft", "company", "name"),
    ("activecampaign", "deal", "name"),
    ("freshsales", "deal", "name"),
    ("salesforceiq", "company", "name"),
]
IDS = [case[0] for case in CASES]


async def vendor_value(demo: Demo, ref: RecordRef, key: str) -> Any:
    """The field as the vendor holds it now (read from the vendor, not the cache)."""
    record = await demo.crm.adapter(ref.profile).get(ref.kind, ref.id)
    return record.fields.get(key)


async def someone_else_sets(demo: Demo, ref: RecordRef, key: str, value: str, was: Any) -> None:
    """A colleague's edit, through the vendor's API, behind the app's back."""
    change = Change(ref=ref, values={key: value}, base={key: was})
    await demo.crm.adapter(ref.profile).update(change)


def shown(item: FieldItem) -> str:
    return str(item.query_one(".field-value", Static).render())


def notices(pilot: Pilot) -> list[str]:
    return [n.message for n in pilot.app._notifications]


async def edit(pilot: Pilot, screen: RecordScreen, key: str, text: str) -> Change:
    """Type ``text`` into the field; the change queued for it."""
    item = await open_field(pilot, key)
    await type_into(pilot, item, text)
    await wait_for(pilot, lambda: not item.editing)
    crm = screen.crm

    def queued() -> Change | None:  # this edit's change, not an earlier one of the record
        change = crm.undo.target(ref=screen.ref)
        return change if change is not None and change.values.get(key) == text else None

    await wait_for(pilot, lambda: queued() is not None)
    change = queued()
    assert change is not None
    return change


async def sent_edit(pilot: Pilot, demo: Demo, screen: RecordScreen, key: str, text: str) -> Change:
    """On the record of ``screen``: ``key`` set to ``text`` and sent; the change."""
    change = await edit(pilot, screen, key, text)

    def done() -> bool:
        now = demo.crm.change(change.id)
        return now is not None and now.state is ChangeState.DONE

    await wait_for(pilot, done, timeout=20)
    assert await vendor_value(demo, screen.ref, key) == text
    return change


async def preview(pilot: Pilot) -> UndoPreview:
    await pilot.press("u")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, UndoPreview))
    screen = pilot.app.screen
    assert isinstance(screen, UndoPreview)
    return screen


def label_of(demo: Demo, ref: RecordRef, key: str) -> str:
    return next(s.label for s in demo.crm.cached_fields(ref.profile, ref.kind) if s.key == key)


@pytest.mark.parametrize(("vendor", "kind", "key"), CASES, ids=IDS)
async def test_undo_on_every_vendor(
    vendor: str, kind: str, key: str, vendor_demo: Callable[[str], Demo]
) -> None:
    """One app per vendor, on one record, scenario after scenario (each leaves nothing to
    undo behind it, the conflict comes last): ``u`` withdraws a queued edit; ``u`` after
    send previews and sets the old value back; ``U`` lists a change and ``enter`` undoes
    it; an undo never overwrites a value someone else changed since."""
    demo = vendor_demo(vendor)
    async with demo.app.run_test(size=SIZE) as pilot:
        screen = await open_record(pilot, demo, vendor, kind)
        ref = screen.ref
        old = await vendor_value(demo, ref, key)
        label = label_of(demo, ref, key)

        # -- u withdraws a queued edit: the vendor never gets it
        demo.crm.outbox.paused = True  # the edit stays queued (as offline)
        change = await edit(pilot, screen, key, "Withdrawn before it went")
        assert demo.crm.cached(ref).fields[key] == "Withdrawn before it went"  # type: ignore[union-attr]
        await pilot.press("u")
        await wait_for(pilot, lambda: demo.crm.change(change.id) is None)
        await wait_for(pilot, lambda: any("Withdrawn" in n for n in notices(pilot)))
        assert demo.crm.cached(ref).fields[key] == old  # type: ignore[union-attr]
        item = await highlight(pilot, screen, key)
        await wait_for(pilot, lambda: shown(item).strip() == str(old))
        demo.crm.outbox.paused = False
        assert await demo.crm.send_now(ref.profile) == 0  # nothing left to send
        assert await vendor_value(demo, ref, key) == old

        # -- u after send previews, and sets the old value back when confirmed
        await sent_edit(pilot, demo, screen, key, "Sent then undone")
        dialog = await preview(pilot)
        text = str(dialog.query_one("#undo-lines", Static).render())
        assert f"{label}: Sent then undone → back to {old}" in text
        assert not dialog.query("#undo-warning")
        assert await vendor_value(demo, ref, key) == "Sent then undone"  # nothing sent yet
        await pilot.press("y")
        await wait_for(pilot, lambda: not demo.crm.changes(ref.profile), timeout=20)
        assert await vendor_value(demo, ref, key) == old
        assert demo.crm.cached(ref).fields[key] == old  # type: ignore[union-attr]
        item = await highlight(pilot, screen, key)
        await wait_for(pilot, lambda: shown(item).strip() == str(old))
        # u again walks back: the edit and its undo are passed over, nothing else to undo
        pilot.app.clear_notifications()
        await pilot.press("u")
        await wait_for(pilot, lambda: any("Nothing to undo" in n for n in notices(pilot)))

        # -- U lists the change in field labels, and enter undoes it
        await sent_edit(pilot, demo, screen, key, "Listed change")
        await pilot.press("U")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, UndoListScreen))
        table = pilot.app.screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count > 0)
        first = [str(cell) for cell in table.get_row_at(0)]
        assert first[1] == "sent"
        assert f"{label}: " in first[3] and "Listed change" in first[3]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, UndoPreview))
        await pilot.press("y")
        await wait_for(pilot, lambda: not demo.crm.changes(ref.profile), timeout=20)
        assert await vendor_value(demo, ref, key) == old
        await wait_for(pilot, lambda: "undone" in str(table.get_row_at(1)[1]))
        await pilot.press("escape")
        await wait_for(pilot, lambda: pilot.app.screen is screen)

        # -- an undo is a conflict when someone changed the value since
        pilot.app.clear_notifications()
        change = await sent_edit(pilot, demo, screen, key, "Mine, sent")
        await someone_else_sets(demo, ref, key, "A colleague's name", "Mine, sent")
        dialog = await preview(pilot)
        assert dialog.query("#undo-warning")  # said before anything is sent
        await pilot.press("y")

        def conflicted() -> bool:
            undo = [c for c in demo.crm.changes(ref.profile) if c.undoes == change.id]
            return bool(undo) and undo[0].state is ChangeState.CONFLICT

        await wait_for(pilot, conflicted, timeout=20)
        assert await vendor_value(demo, ref, key) == "A colleague's name"  # not overwritten
        assert any("changed on the server" in n for n in notices(pilot))


async def test_undo_off_a_record_help_palette_and_a_change_being_sent(
    vendor_demo: Callable[[str], Demo],
) -> None:
    """On one Freshsales app: the palette offers undo and the recent changes; help names
    ``u`` and ``U``; ``u`` off a record undoes the latest change and never stacks dialogs;
    a change being sent cannot be withdrawn and says so."""
    demo = vendor_demo("freshsales")
    async with demo.app.run_test(size=SIZE) as pilot:
        # -- the palette offers undo and the recent changes
        await wait_for(pilot, lambda: pilot.app.screen_stack)
        await run_command(pilot, "Undo last change")
        await wait_for(pilot, lambda: any("Nothing to undo" in n for n in notices(pilot)))
        await run_command(pilot, "Recent changes")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, UndoListScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(pilot.app.screen, UndoListScreen))

        # -- help names u and U
        screen = await open_record(pilot, demo, "freshsales", "deal")
        ref = screen.ref
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        help_screen = pilot.app.screen
        await wait_for(
            pilot,
            lambda: help_screen.query(DataTable) and help_screen.query_one(DataTable).row_count > 1,
        )
        table = help_screen.query_one(DataTable)
        rows = {
            str(table.get_row_at(n)[0]): str(table.get_row_at(n)[1]) for n in range(table.row_count)
        }
        assert rows.get("u") == "Undo last change"
        assert rows.get("U") == "Recent changes (undo)"
        await pilot.press("escape")
        await wait_for(pilot, lambda: pilot.app.screen is screen)

        # -- u off a record undoes the latest change, and never stacks dialogs
        old = await vendor_value(demo, ref, "name")
        change = await sent_edit(pilot, demo, screen, "name", "Undone from the list")
        await pilot.press("escape")  # back to the home screen: every profile
        await wait_for(pilot, lambda: not isinstance(pilot.app.screen, RecordScreen))
        dialog = await preview(pilot)
        assert dialog.plan.change.id == change.id
        await pilot.press("u")  # u over the dialog does not stack another one
        await pilot.pause()
        assert pilot.app.screen is dialog
        await pilot.press("n")  # kept: nothing queued
        await wait_for(pilot, lambda: not isinstance(pilot.app.screen, UndoPreview))
        assert not demo.crm.changes(ref.profile)
        assert await vendor_value(demo, ref, "name") == "Undone from the list"
        await preview(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: not demo.crm.changes(ref.profile), timeout=20)
        assert await vendor_value(demo, ref, "name") == old

        # -- a change being sent cannot be withdrawn, and says so
        demo.crm.outbox.paused = True
        pilot.app.clear_notifications()
        screen = await open_record(pilot, demo, "freshsales", "deal")
        change = await edit(pilot, screen, "name", "In flight")
        # another process of another host is sending it right now
        claimed = demo.crm.store.claim(change.id, "elsewhere:1:x", timedelta(minutes=5))
        assert claimed is not None
        await pilot.press("u")
        await wait_for(pilot, lambda: any("being sent" in n for n in notices(pilot)))
        now = demo.crm.change(change.id)
        assert now is not None and now.state is ChangeState.SENDING  # still there, untouched
        assert isinstance(pilot.app.screen, RecordScreen)  # no crash, no dialog


# -- the notebook API (Client.undo) and what cannot be undone ---------------------------------


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    crm = await open_demo(
        "freshsales", store_path=tmp_path / "cache.sqlite3", http=Http(sleep=no_sleep)
    )
    yield crm
    await crm.close()


async def test_client_undo_takes_back_a_sent_edit(client: Client) -> None:
    deal = (await client.records("deal", limit=1))[0]
    old = deal.fields["name"]
    change = await client.edit(deal, name="Renamed in a notebook")
    assert change is not None
    await client.sync_outbox()
    plan = await client.undo(change, preview=True)
    assert plan.lines == [f"Name: Renamed in a notebook → back to {old}"]
    assert not client.outbox  # a preview queues nothing
    await client.undo(change)
    assert not (await client.sync_outbox())
    vendor = client.service.adapter(client.profile)
    assert (await vendor.get("deal", deal.id)).fields["name"] == old
    with pytest.raises(CannotUndo, match="undone already"):
        await client.undo(change)


async def test_undo_of_a_sent_create_deletes_the_record_it_made(client: Client) -> None:
    change = await client.create("company", name="Made by mistake")
    await client.sync_outbox()
    made = client.service.change(change.id)
    assert made is not None and not made.ref.id.startswith("local:")
    plan = await client.undo(change, preview=True)
    assert plan.lines == ["Delete Made by mistake (it was created by this change)"]
    await client.undo(change)
    assert not (await client.sync_outbox())
    assert await client.service.adapter(client.profile).is_deleted(made.ref)


async def test_a_sent_note_cannot_be_taken_back_and_says_where_to_remove_it(
    client: Client,
) -> None:
    deal = (await client.records("deal", limit=1))[0]
    note = await client.add_note(deal, "Called, left a message")
    await client.sync_outbox()
    with pytest.raises(CannotUndo, match="remove it in Freshsales"):
        await client.undo(note)
    assert not client.outbox


async def test_undo_withdraws_a_queued_create_and_its_record_goes(client: Client) -> None:
    client.service.outbox.paused = True
    change = await client.create("company", name="Never sent")
    assert client.service.cached(change.ref) is not None  # shown at once, queued
    plan = await client.undo(change)
    assert plan.action == "withdraw"
    assert not client.outbox and client.service.cached(change.ref) is None
    client.service.outbox.paused = False
    assert not (await client.sync_outbox()).sent


async def test_withdrawing_an_edit_whose_reply_never_came_says_it_may_have_arrived(
    client: Client,
) -> None:
    client.service.outbox.paused = True
    deal = (await client.records("deal", limit=1))[0]
    change = await client.edit(deal, name="Reply lost")
    assert change is not None
    store = client.service.store
    claimed = store.claim(change.id, "gone:1:x", timedelta(minutes=5))
    assert claimed is not None  # sent, and its reply never came: pending, maybe sent
    store.set_state(change.id, ChangeState.FAILED, owner="gone:1:x", maybe_sent=True)
    plan = await client.undo(change)
    assert plan.action == "withdraw"
    assert (
        plan.lines[1]
        == "It may have reached Freshsales already (its reply never came): check there."
    )
    assert not client.outbox
