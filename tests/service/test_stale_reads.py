"""A vendor read in flight while an edit of the same record is confirmed never undoes it.

The read reaches the vendor first (the sandbox answers it with the record as it was),
its reply is held (``HeldReply``) while the user's edit (or delete) is sent and
confirmed, then let go. The user must keep seeing what the vendor confirmed: not the
old value, not a deleted record back in the list. A read that leaves after the
confirmation is stored as always (someone else's later change shows).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from crmtui.http import NotFound
from crmtui.model import Change, ChangeState, Query, Record, RecordRef, utcnow
from crmtui.sandbox.activecampaign.data import add_note, parse_stamp, stamp
from tests.helpers.gates import HeldReply, Matches
from tests.helpers.service import ORIGIN, PROFILE, Rig

DEALS = "/api/3/deals"


@dataclass(frozen=True)
class Read:
    """A way the app reads a record from the vendor, and which request is that read."""

    run: Callable[[Rig, Record], Awaitable[Any]]
    request: Callable[[str], Matches]  # deal id -> the read's request


async def _record(rig: Rig, deal: Record) -> Any:
    return await rig.crm.get(deal.ref)


async def _list(rig: Rig, deal: Record) -> Any:
    return await rig.crm.refresh(PROFILE, "deal", Query(per_page=100))


async def _search(rig: Rig, deal: Record) -> Any:
    return await rig.crm.refresh(PROFILE, "deal", Query(search=deal.title))


async def _sync(rig: Rig, deal: Record) -> Any:
    return await rig.crm.sync(PROFILE, ["deal"])


READS = {
    "record refresh": Read(_record, lambda id: lambda m, p, q: (m, p) == ("GET", f"{DEALS}/{id}")),
    # the deal read, then its contact's: held there, the deal's own requests are all done
    # (none of them finds it deleted)
    "record refresh, late": Read(
        _record, lambda id: lambda m, p, q: p.startswith("/api/3/contacts/")
    ),
    "list page": Read(_list, lambda id: lambda m, p, q: (m, p) == ("GET", DEALS)),
    "search": Read(_search, lambda id: lambda m, p, q: (m, p) == ("GET", DEALS)),
    # the sync's first page (not its plan, which asks for one record to learn the size)
    "sync": Read(
        _sync, lambda id: lambda m, p, q: p == DEALS and "updated_after" in q and "offset=0" in q
    ),
}


@pytest.fixture
async def deal(rig: Rig) -> Record:
    """An open deal, cached (with the deals' fields) as the app shows it."""
    return await rig.open_deal()


def shown(rig: Rig, ref: RecordRef) -> tuple[Record | None, list[Record]]:
    """The record as its screen shows it, and as the list shows it (every row of it)."""
    rows = rig.crm.window(PROFILE, ref.kind, offset=0, limit=1000)
    return rig.crm.cached(ref), [r for r in rows if r.id == ref.id]


async def edit(rig: Rig, ref: RecordRef) -> Change:
    """Queue the edit every test makes: the deal's amount to 4321."""
    change = await rig.crm.edit(ref, {"amount": "4321"})
    assert change is not None
    return change


async def confirmed_edit(rig: Rig, ref: RecordRef) -> None:
    """``edit``, sent and confirmed by the vendor."""
    change = await edit(rig, ref)
    await rig.settle()
    assert rig.change(change).state is ChangeState.DONE


async def raced(
    rig: Rig, read: str | Read, deal: Record, send: Callable[[], Awaitable[Change]]
) -> Any:
    """``read`` the deal (one of ``READS``, or another); once the vendor answered it (the
    reply held), ``send`` a change of it and see it confirmed, then let the reply go.
    Returns what the read returned (None: the vendor said the deal is gone on one of its
    next requests)."""
    how = READS[read] if isinstance(read, str) else read
    gate = HeldReply(rig.app, how.request(deal.id))
    rig.crm.http.mount_app(ORIGIN, gate)
    reading = asyncio.ensure_future(how.run(rig, deal))
    try:
        await gate.answered()  # the vendor read the deal as it was
        change = await send()
        await rig.settle()
        assert rig.change(change).state is ChangeState.DONE
    finally:
        gate.release()
    with contextlib.suppress(NotFound):
        return await reading
    return None


@pytest.mark.parametrize("read", READS)
async def test_a_read_that_left_before_an_edit_was_confirmed_does_not_undo_it(
    rig: Rig, deal: Record, read: str
) -> None:
    ref = deal.ref
    assert deal.fields["amount"] != "4321.00"

    answer = await raced(rig, read, deal, lambda: edit(rig, ref))

    assert rig.db.deals[deal.id]["value"] == "432100"
    record, rows = shown(rig, ref)
    assert record is not None and record.fields["amount"] == "4321.00"
    assert [r.fields["amount"] for r in rows] == ["4321.00"]
    if isinstance(answer, Record):  # what the record screen shows from the refresh
        assert answer.fields["amount"] == "4321.00"


@pytest.mark.parametrize("read", READS)
async def test_a_read_that_left_before_a_delete_was_confirmed_does_not_bring_it_back(
    rig: Rig, deal: Record, read: str
) -> None:
    ref = deal.ref

    answer = await raced(rig, read, deal, lambda: rig.crm.delete(ref))

    assert not isinstance(answer, Record)  # the record screen is not given it either
    assert deal.id not in rig.db.deals
    assert shown(rig, ref) == (None, [])
    listed = rig.crm.window(PROFILE, "deal", offset=0, limit=1000)
    assert {r.id for r in listed} <= set(rig.db.deals)  # every deal shown is the vendor's
    assert rig.crm.count(PROFILE, "deal") == len(listed)
    assert deal.id not in {r.id for r in rig.crm.search(deal.title, limit=1000)}


@pytest.mark.parametrize("read", READS)
async def test_a_read_that_left_after_the_confirmation_shows_a_later_change_by_someone_else(
    rig: Rig, deal: Record, read: str
) -> None:
    ref = deal.ref
    await confirmed_edit(rig, ref)
    theirs = rig.db.deals[deal.id]  # someone else edits it in the vendor afterwards
    later = parse_stamp(theirs["mdate"])
    assert later is not None
    theirs.update(value="777700", mdate=stamp(later + timedelta(minutes=1)))

    await READS[read].run(rig, deal)

    record, rows = shown(rig, ref)
    assert record is not None and record.fields["amount"] == "7777.00"
    assert [r.fields["amount"] for r in rows] == ["7777.00"]


async def test_a_store_write_of_a_read_is_kept_out_only_for_records_confirmed_since_it_left(
    rig: Rig, deal: Record
) -> None:
    """The store's side: the mark a read takes when it leaves decides, record by record."""
    other = next(r for r in rig.crm.window(PROFILE, "deal", offset=0, limit=200) if r.id != deal.id)
    store = rig.store
    left = store.read_mark()
    await confirmed_edit(rig, deal.ref)
    renamed = other.model_copy(update={"title": "Renamed by someone"})

    assert store.upsert_records([deal, renamed], left_at=left) == 1  # the other one only
    assert store.get_record(deal.ref).fields["amount"] == "4321.00"  # type: ignore[union-attr]
    assert store.get_record(other.ref).title == "Renamed by someone"  # type: ignore[union-attr]
    assert store.upsert_records([deal], left_at=store.read_mark()) == 1  # left after it
    assert store.get_record(deal.ref).fields["amount"] == deal.fields["amount"]  # type: ignore[union-attr]
    assert store.upsert_records([deal.model_copy(update={"title": "x"})]) == 1  # no mark


async def test_a_forgotten_profile_leaves_no_confirmation_behind(rig: Rig, deal: Record) -> None:
    await confirmed_edit(rig, deal.ref)
    rig.store.delete_profile(PROFILE)
    with rig.store._db.read() as conn:
        left = conn.execute("SELECT profile, kind, record_id FROM confirmed_writes").fetchall()
    assert left == [("", "", "")]  # that a profile was forgotten, not which one


async def _timeline(rig: Rig, deal: Record) -> Any:
    return await rig.crm.timeline(deal.ref)


# the timeline's first request (the outbox's own look at the notes comes after it)
TIMELINE = Read(_timeline, lambda id: lambda m, p, q: m == "GET" and p.startswith(f"{DEALS}/{id}/"))


async def test_a_timeline_read_that_left_before_a_note_was_confirmed_keeps_the_note(
    rig: Rig, deal: Record
) -> None:
    text = "Agreed on a pilot, contract next week"
    answer = await raced(rig, TIMELINE, deal, lambda: rig.crm.add_note(deal.ref, text))

    assert [n for n in rig.db.notes.values() if n.get("note") == text]  # it landed
    cached = rig.crm.cached_timeline(deal.ref) or []
    assert text in [a.body for a in answer]
    assert [a.body for a in cached].count(text) == 1


async def test_a_timeline_read_that_left_after_a_note_was_confirmed_shows_a_later_note_of_theirs(
    rig: Rig, deal: Record
) -> None:
    ours = "Agreed on a pilot, contract next week"
    change = await rig.crm.add_note(deal.ref, ours)
    await rig.settle()
    assert rig.change(change).state is ChangeState.DONE
    add_note(rig.db, deal.id, "Their note, added afterwards", "1", utcnow())

    shown = [a.body for a in await rig.crm.timeline(deal.ref)]

    assert shown.count(ours) == 1 and shown.count("Their note, added afterwards") == 1
    assert [a.body for a in rig.crm.cached_timeline(deal.ref) or []] == shown
