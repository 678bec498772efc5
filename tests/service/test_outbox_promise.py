"""The outbox's promise at the service: nothing half-written, nothing sent twice by hand.

- A cache that cannot be written (disk full, read-only, locked) raises ``CacheWriteError``
  saying what happened and what to do; the edit or note, its "you (queued)" timeline
  entry and its outbox row are all absent, also after a restart.
- ``retry`` of a done change is refused with the reason (service and notebook ``Client``);
  ``discard``/``retry`` of a change another sender is sending says it is being sent.
- A change whose outcome no check can tell waits as ``uncertain``: never sent by itself;
  the user sends it again, marks it arrived, or discards it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from crmtui import sandbox
from crmtui.api import Client
from crmtui.model import ChangeState, RecordRef, utcnow
from crmtui.service import Notice
from crmtui.store import CacheWriteError, ChangeBusy, Store
from crmtui.store.outbox import BEING_SENT
from tests.helpers.reliability import ArmWrites
from tests.helpers.service import ORIGIN, PROFILE, VENDOR, Rig, build_crm, close_crm

LONG = "x" * 20_000  # needs new pages in the file: a full disk refuses it


@contextmanager
def disk_full(store: Store) -> Iterator[None]:
    """The file may not grow by one page (SQLite's ``max_page_count``)."""
    conn = store._db.conn
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    yield
    conn.execute("PRAGMA max_page_count = 1073741823")


@contextmanager
def read_only(store: Store) -> Iterator[None]:
    store._db.conn.execute("PRAGMA query_only = 1")
    yield
    store._db.conn.execute("PRAGMA query_only = 0")


@contextmanager
def locked(store: Store) -> Iterator[None]:
    """Another program holds the write lock; ours waits 50 ms, not 5 s."""
    other = sqlite3.connect(str(store._db.path), isolation_level=None)
    store._db.conn.execute("PRAGMA busy_timeout = 50")
    other.execute("BEGIN IMMEDIATE")
    yield
    other.execute("ROLLBACK")
    other.close()
    store._db.conn.execute("PRAGMA busy_timeout = 5000")


TROUBLES: dict[str, tuple[Callable[[Store], Any], str]] = {
    "disk full": (disk_full, "the disk is full"),
    "read-only": (read_only, "read-only"),
    "locked": (locked, "locked"),
}


def queued_entries(store: Store) -> list[str]:
    """Every "you (queued)" timeline entry in the file, whatever its record."""
    with store._db.read() as conn:
        found = conn.execute("SELECT data FROM activities WHERE data LIKE '%you (queued)%'")
        return [data for (data,) in found]


@pytest.mark.parametrize("trouble", list(TROUBLES))
@pytest.mark.parametrize("what", ["edit", "note"])
async def test_a_cache_that_cannot_be_written_queues_nothing_and_says_so(
    rig: Rig, tmp_path: Path, trouble: str, what: str
) -> None:
    deal = await rig.open_deal()
    await rig.crm.timeline(deal.ref)  # the timeline is cached: a queued entry would show
    rig.crm.outbox.paused = True
    before = dict(deal.fields)
    condition, words = TROUBLES[trouble]
    with condition(rig.store), pytest.raises(CacheWriteError) as raised:
        if what == "edit":
            await rig.crm.edit(deal.ref, {"description": LONG})
        else:
            await rig.crm.add_note(deal.ref, LONG)
    text = str(raised.value)
    assert words in text and "cache.sqlite3" in text and "save again" in text, text
    assert "\n" not in text

    def nothing_queued(store: Store) -> None:
        assert store.queued_count() == 0
        assert store.changes() == []
        assert queued_entries(store) == []
        assert all(a.who != "you (queued)" for a in store.get_timeline(deal.ref) or [])
        record = store.get_record(deal.ref)
        assert record is not None and record.fields == before

    nothing_queued(rig.store)
    path = Path(str(rig.store._db.path))
    await close_crm(rig.crm)
    reopened = Store(path)  # a restart shows nothing queued either
    try:
        nothing_queued(reopened)
    finally:
        reopened.close()


async def test_the_cache_takes_edits_again_once_the_disk_has_room(rig: Rig) -> None:
    deal = await rig.open_deal()
    with disk_full(rig.store), pytest.raises(CacheWriteError):
        await rig.crm.edit(deal.ref, {"description": LONG})
    change = await rig.crm.edit(deal.ref, {"description": "room again"})
    assert change is not None
    await rig.settle()
    assert rig.change(change).state is ChangeState.DONE
    assert rig.db.deals[deal.id]["description"] == "room again"


async def test_retry_of_a_done_change_is_refused_and_sends_nothing(rig: Rig) -> None:
    deal = await rig.open_deal()
    change = await rig.crm.edit(deal.ref, {"description": "sent once"})
    assert change is not None
    await rig.settle()
    assert rig.change(change).state is ChangeState.DONE
    writes = rig.writes()
    client = Client(rig.crm, PROFILE)
    for retry in (rig.crm.retry, client.retry):
        with pytest.raises(ChangeBusy, match="done: the vendor confirmed it"):
            retry(change.id)
    with pytest.raises(ChangeBusy, match="nothing to send again"):
        client.retry(change)
    await rig.settle()
    assert rig.writes() == writes
    assert rig.change(change).state is ChangeState.DONE


async def test_a_change_another_sender_is_sending_cannot_be_discarded_or_retried(
    rig: Rig, tmp_path: Path
) -> None:
    deal = await rig.open_deal()
    rig.crm.outbox.paused = True
    change = await rig.crm.edit(deal.ref, {"description": "in flight"})
    assert change is not None
    other = Store(tmp_path / "cache.sqlite3")  # another process's connection
    try:
        assert other.claim(change.id, "elsewhere:1:abc", timedelta(minutes=1)) is not None
        for act in (rig.crm.discard, rig.crm.retry, Client(rig.crm, PROFILE).discard):
            with pytest.raises(ChangeBusy, match=BEING_SENT):
                act(change.id)
        assert rig.change(change).state is ChangeState.SENDING
        rig.crm.outbox.paused = False
        assert await rig.crm.outbox.flush(PROFILE) == 0  # not ours to send
        assert rig.writes() == []
    finally:
        other.close()


def note_posts(rig: Rig, deal_id: str) -> list[str]:
    return [w for w in rig.writes() if w.startswith(f"POST /api/3/deals/{deal_id}/notes")]


@pytest.fixture
def cannot_list_notes(rig: Rig) -> ArmWrites:
    """The vendor's notes cannot be read back (as SalesforceIQ's events); writes armable."""
    rig.crm.adapter(PROFILE).notes_listed = False  # type: ignore[misc]
    writes = ArmWrites(rig.app)
    rig.crm.http.mount_app(ORIGIN, writes)
    return writes


async def uncertain_note(rig: Rig, writes: ArmWrites, text: str) -> tuple[RecordRef, str]:
    deal = await rig.open_deal()
    await rig.crm.timeline(deal.ref)
    writes.armed.append("lost")  # applied; the reply never comes
    change = await rig.crm.add_note(deal.ref, text)
    await rig.settle()
    failed = rig.change(change)
    assert failed.state is ChangeState.FAILED and rig.store.maybe_sent(change.id)
    rig.crm.outbox.wake(PROFILE)
    await rig.settle()
    waiting = rig.change(change)
    assert waiting.state is ChangeState.UNCERTAIN, waiting.last_error
    assert waiting.last_error and "send again, it arrived, or discard" in waiting.last_error
    assert any("may or may not have arrived" in n.text for n in rig.seen(Notice))
    return deal.ref, change.id


async def test_an_uncertain_note_is_never_sent_by_itself(
    rig: Rig, cannot_list_notes: ArmWrites
) -> None:
    ref, change_id = await uncertain_note(rig, cannot_list_notes, "Called, left a message")
    assert len(note_posts(rig, ref.id)) == 1
    for _ in range(2):
        rig.crm.outbox.wake(PROFILE)
        await rig.settle()
    assert len(note_posts(rig, ref.id)) == 1
    assert rig.store.get_change(change_id).state is ChangeState.UNCERTAIN  # type: ignore[union-attr]


async def test_it_arrived_marks_an_uncertain_note_done_without_sending(
    rig: Rig, cannot_list_notes: ArmWrites
) -> None:
    ref, change_id = await uncertain_note(rig, cannot_list_notes, "Demo booked")
    Client(rig.crm, PROFILE).mark_arrived(change_id)
    await rig.settle()
    assert rig.store.get_change(change_id).state is ChangeState.DONE  # type: ignore[union-attr]
    assert len(note_posts(rig, ref.id)) == 1
    assert all(a.id != f"local:{change_id}" for a in rig.store.get_timeline(ref) or [])
    assert rig.crm.queued(PROFILE) == 0


async def test_send_again_sends_an_uncertain_note_once_more(
    rig: Rig, cannot_list_notes: ArmWrites
) -> None:
    ref, change_id = await uncertain_note(rig, cannot_list_notes, "Sent the quote")
    rig.crm.retry(change_id)  # the user looked in the CRM: it is not there
    await rig.settle()
    assert rig.store.get_change(change_id).state is ChangeState.DONE  # type: ignore[union-attr]
    assert len(note_posts(rig, ref.id)) == 2


async def test_an_uncertain_note_can_be_discarded(rig: Rig, cannot_list_notes: ArmWrites) -> None:
    ref, change_id = await uncertain_note(rig, cannot_list_notes, "Asked for a budget")
    rig.crm.discard(change_id)
    await rig.settle()
    assert rig.store.get_change(change_id) is None
    assert len(note_posts(rig, ref.id)) == 1


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Rig]:
    """The service rig with the vendor's clock at the real time (its notes are dated now)."""
    app = sandbox.create_app(VENDOR, seed=0, now=utcnow())
    crm = build_crm(Store(tmp_path / "live.sqlite3"), app)
    yield Rig(crm, app)
    await close_crm(crm)


@pytest.mark.parametrize(("fault", "posts"), [("lost", 2), ("500", 3)])
async def test_the_same_note_twice_lands_twice_whatever_the_second_reply(
    live: Rig, fault: str, posts: int
) -> None:
    """A lost reply (applied): found, not posted again. A 500 (not applied, outcome
    unknown to the client): the first note, with the same text, is not taken for it."""
    rig = live
    writes = ArmWrites(rig.app)
    rig.crm.http.mount_app(ORIGIN, writes)
    deal = await rig.open_deal()
    first = await rig.crm.add_note(deal.ref, "Same words twice")
    await rig.settle()
    writes.armed.append(fault)
    second = await rig.crm.add_note(deal.ref, "Same words twice")
    await rig.settle()
    assert rig.change(second).state is ChangeState.FAILED
    assert rig.store.maybe_sent(second.id)
    rig.crm.outbox.wake(PROFILE)
    await rig.settle()
    assert rig.change(first).state is ChangeState.DONE
    assert rig.change(second).state is ChangeState.DONE
    assert len(note_posts(rig, deal.id)) == posts
    notes = [n for n in rig.db.notes.values() if "Same words twice" in str(n)]
    assert len(notes) == 2
