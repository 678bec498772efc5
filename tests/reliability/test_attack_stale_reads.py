"""Attacks on the stale-read rule (a vendor read that left before a change of a record
was confirmed is not stored over it): as the vendor, the network and a fast user would.

Races are made exact with held requests (``HeldReply``: the vendor reads its data at
once and the reply waits; ``HeldRequest`` below: the request itself waits, so the vendor
reads its data only once let go); no sleeps. The ActiveCampaign sandbox stamps a deal's
``mdate`` in whole seconds, as ActiveCampaign does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from starlette.types import Receive, Scope, Send

from crmtui import sandbox
from crmtui.model import ChangeState, Query, Record, RecordRef, utcnow
from crmtui.sandbox.activecampaign.data import stamp
from crmtui.service import Crm
from crmtui.store import Store
from crmtui.store import records as store_records
from tests.helpers.gates import WAIT, HeldReply
from tests.helpers.service import ORIGIN, PROFILE, build_crm, close_crm


@dataclass
class HeldRequest(HeldReply):
    """The first request that ``matches`` waits before the vendor sees it: the vendor
    reads its data only after ``release()`` (a read that left, delayed on the way)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._takes(scope):
            self.reached.set()
            await asyncio.to_thread(self.released.wait, WAIT)
        await self.app(scope, receive, send)


@dataclass
class Vendor:
    """The service over the ActiveCampaign sandbox, with a gate in front of it."""

    crm: Crm
    app: Any

    @property
    def db(self) -> Any:
        return self.app.state.db

    def ref(self, id: str, kind: str = "deal") -> RecordRef:
        return RecordRef(profile=PROFILE, kind=kind, id=id)

    def hold(self, matches: Any, *, before: bool = False) -> HeldReply:
        """Hold the next request that ``matches`` (its reply; ``before``: the request)."""
        gate = (HeldRequest if before else HeldReply)(self.app, matches)
        self.crm.http.mount_app(ORIGIN, gate)
        return gate

    async def settle(self) -> None:
        await self.crm.outbox.flush(PROFILE)
        await self.crm.outbox.wait_idle()

    def cached(self, id: str, kind: str = "deal") -> Record:
        found = self.crm.cached(self.ref(id, kind))
        assert found is not None, f"{kind} {id} is not in the cache"
        return found

    def deal(self, index: int = 0) -> str:
        """The id of an open deal of the sandbox."""
        return [d["id"] for d in self.db.deals.values() if d["status"] == "0"][index]

    async def edit_during(self, gate: HeldReply, read: Awaitable[Any], deal: str) -> Any:
        """Start ``read``; once ``gate`` holds it, rename ``deal`` "Ours" and let the
        outbox send it (confirmed). Returns the read, still held."""
        reading = asyncio.ensure_future(read)
        await gate.answered()
        await self.crm.edit(self.ref(deal), {"name": "Ours"})
        await self.settle()
        return reading

    async def synced(self, deal: str) -> tuple[str, str]:
        """The deal's name and description as cached after a sync."""
        await self.crm.sync(PROFILE, ["deal"])
        shown = self.cached(deal).fields
        return shown["name"], shown["description"]

    def newest(self) -> str:
        """The id of the deal changed last: an incremental sync's page holds it."""
        return max(self.db.deals.values(), key=lambda d: d["mdate"])["id"]


def deals_page(method: str, path: str, query: str) -> bool:
    return method == "GET" and path.endswith("/deals")


def one_deal(id: str) -> Any:
    return lambda method, path, query: method == "GET" and path.endswith(f"/deals/{id}")


@pytest.fixture
async def vendor(tmp_path: Path) -> AsyncIterator[Vendor]:
    app = sandbox.create_app("activecampaign")
    crm = build_crm(Store(tmp_path / "cache.sqlite3"), app)
    await crm.fields(PROFILE, "deal")
    await crm.sync(PROFILE, ["deal"])  # every deal cached; the next sync is incremental
    try:
        yield Vendor(crm, app)
    finally:
        await close_crm(crm)


# -- incremental syncs after a confirmed edit ------------------------------------------


async def test_someone_elses_change_in_the_same_second_as_our_edit_shows_after_a_sync(
    vendor: Vendor,
) -> None:
    """Our edit is confirmed; in the same second (ActiveCampaign stamps whole seconds)
    someone else (an automation our edit set off, a teammate) changes another field of
    the deal. The next sync must bring their change: the cached copy is the one our
    write's reply carried, with the same ``mdate`` as theirs."""
    deal = vendor.deal()
    await vendor.crm.edit(vendor.ref(deal), {"name": "Ours"})
    await vendor.settle()
    assert vendor.cached(deal).fields["name"] == "Ours"
    vendor.db.deals[deal]["description"] = "set by the automation"  # mdate: the same second

    assert await vendor.synced(deal) == ("Ours", "set by the automation")


async def test_a_sync_page_skipped_for_our_edit_does_not_lose_a_same_second_change(
    vendor: Vendor,
) -> None:
    """A sync page leaves; our edit is confirmed; someone else changes the deal in the
    same second; the vendor then reads the page (it holds both changes). The page is not
    stored over our edit (it left before), but the change someone else made must come
    with a later sync."""
    deal = vendor.deal()
    gate = vendor.hold(deals_page, before=True)
    sync = await vendor.edit_during(gate, vendor.crm.sync(PROFILE, ["deal"]), deal)
    vendor.db.deals[deal]["description"] = "set by the automation"  # mdate: the same second
    gate.release()
    await sync
    assert vendor.cached(deal).fields["name"] == "Ours"

    assert await vendor.synced(deal) == ("Ours", "set by the automation")


async def test_a_later_change_skipped_by_a_sync_page_comes_with_the_next_sync(
    vendor: Vendor,
) -> None:
    """A sync page read before our edit landed is held; our edit is confirmed; a second
    later someone else changes the deal. The page is not stored over our edit; the next
    sync brings their change (the sync's mark did not pass it)."""
    deal = vendor.deal()
    gate = vendor.hold(deals_page)
    sync = await vendor.edit_during(gate, vendor.crm.sync(PROFILE, ["deal"]), deal)
    later = vendor.app.state.clock() + timedelta(seconds=2)
    vendor.db.deals[deal].update(description="theirs", mdate=stamp(later))
    gate.release()
    await sync
    assert vendor.cached(deal).fields["name"] == "Ours"

    assert await vendor.synced(deal) == ("Ours", "theirs")


async def test_a_sync_does_not_count_a_record_it_left_as_cached(vendor: Vendor) -> None:
    """A sync page read before our edit landed is not stored over it: the sync's count
    of new or changed records (``crmtui sync`` prints it) does not count that deal."""
    deal = vendor.newest()
    gate = vendor.hold(deals_page)
    sync = await vendor.edit_during(gate, vendor.crm.sync(PROFILE, ["deal"]), deal)
    gate.release()

    [result] = await sync

    assert (result.changed, vendor.cached(deal).fields["name"]) == (0, "Ours")


# -- creates while a list read is in flight ----------------------------------------------


@pytest.mark.parametrize("read", ["sync", "refresh"])
async def test_a_create_confirmed_while_a_list_read_is_in_flight_stays_listed(
    vendor: Vendor, read: str
) -> None:
    """A list read left before the new deal existed and comes back without it: nothing
    takes its absence as a delete; the deal is listed once, under its real id."""
    before = vendor.crm.count(PROFILE, "deal")
    gate = vendor.hold(deals_page)
    reading = asyncio.ensure_future(
        vendor.crm.sync(PROFILE, ["deal"])
        if read == "sync"
        else vendor.crm.refresh(PROFILE, "deal", Query(per_page=100))
    )
    await gate.answered()
    contact = vendor.db.deals[vendor.deal()]["contact"]
    values = {"name": "Made meanwhile", "amount": "12", "contact": contact}
    await vendor.crm.create(PROFILE, "deal", values)
    await vendor.settle()
    gate.release()
    await reading

    made = [
        r
        for r in vendor.crm.window(PROFILE, "deal", offset=0, limit=500)
        if r.title == "Made meanwhile"
    ]
    assert [r.id.startswith("local:") for r in made] == [False]
    assert vendor.crm.count(PROFILE, "deal") == before + 1
    await vendor.crm.sync(PROFILE, ["deal"])
    assert vendor.crm.count(PROFILE, "deal") == before + 1


# -- the confirmations kept --------------------------------------------------------------


@pytest.mark.parametrize("jump", [timedelta(days=2), timedelta(days=-2)])
async def test_a_clock_that_jumps_does_not_let_a_stale_read_back_in(
    vendor: Vendor, monkeypatch: pytest.MonkeyPatch, jump: timedelta
) -> None:
    """A record refresh is in flight; our edit of the deal is confirmed; the computer's
    clock then jumps (a laptop waking, a clock put right) and another edit is confirmed.
    The refresh, read before our edit, must still not put the old name back."""
    deal, other = vendor.deal(0), vendor.deal(1)
    gate = vendor.hold(one_deal(deal))
    reading = asyncio.ensure_future(vendor.crm.get(vendor.ref(deal)))
    await gate.answered()
    if jump < timedelta(0):  # the clock was behind when our edit was confirmed
        monkeypatch.setattr(store_records, "utcnow", lambda: utcnow() + jump)
    await vendor.crm.edit(vendor.ref(deal), {"name": "Ours"})
    await vendor.settle()
    monkeypatch.setattr(store_records, "utcnow", lambda: utcnow() + max(jump, timedelta(0)))
    await vendor.crm.edit(vendor.ref(other), {"name": "Another edit"})
    await vendor.settle()
    gate.release()
    got = await reading

    assert (got.fields["name"], vendor.cached(deal).fields["name"]) == ("Ours", "Ours")


# -- timelines -----------------------------------------------------------------------


def deal_tasks(id: str) -> Any:
    """The last request of a deal's timeline read (its tasks)."""

    def matches(method: str, path: str, query: str) -> bool:
        wanted = parse_qs(query).get("filters[relid]")
        return method == "GET" and path.endswith("/dealTasks") and wanted == [id]

    return matches


async def test_a_note_confirmed_during_the_first_timeline_read_keeps_the_rest(
    vendor: Vendor,
) -> None:
    """The record screen opens a deal never opened before (no timeline cached): its
    timeline read is in flight when the user's note is sent and confirmed. The timeline
    then shows the note and every entry the deal had before it, not the note alone."""
    ref = vendor.ref(vendor.deal())
    before = await vendor.crm.adapter(PROFILE).timeline(ref.kind, ref.id)  # not cached
    gate = vendor.hold(deal_tasks(ref.id))
    reading = asyncio.ensure_future(vendor.crm.timeline(ref))
    await gate.answered()
    await vendor.crm.add_note(ref, "Called them, all good")
    await vendor.settle()
    gate.release()
    shown = await reading
    cached = vendor.crm.cached_timeline(ref) or []

    for timeline in (shown, cached):
        assert [a.id for a in before if a.id not in {b.id for b in timeline}] == []
        assert any("Called them, all good" in (a.body or a.summary) for a in timeline)


# -- record refreshes --------------------------------------------------------------------


async def test_a_refresh_of_a_record_edited_then_queued_for_delete_is_not_taken_as_deleted(
    vendor: Vendor,
) -> None:
    """A record refresh is in flight; the user's edit of the deal is confirmed, then the
    user deletes it, the delete still queued (the vendor still has the deal). The
    refresh hands the record back, as for any record hidden by a queued delete, and does
    not say the deal was deleted (a bulk edit, an undo would take it as gone)."""
    deal = vendor.deal()
    gate = vendor.hold(one_deal(deal))
    reading = await vendor.edit_during(gate, vendor.crm.get(vendor.ref(deal)), deal)
    vendor.crm.outbox.paused = True  # the delete waits in the outbox
    await vendor.crm.delete(vendor.ref(deal))
    gate.release()

    got = await reading

    assert (got.id, got.fields["name"], deal in vendor.db.deals) == (deal, "Ours", True)


async def test_two_edits_confirmed_in_quick_succession_with_reads_between_keep_the_last(
    vendor: Vendor,
) -> None:
    """A list refresh leaves; the first edit is confirmed; a record refresh leaves (the
    vendor reads the first edit); the second edit is confirmed; then both replies come,
    the newer read first. Neither puts an older name back: the second edit shows."""
    deal = vendor.deal()
    listing = vendor.hold(deals_page)
    listed = await vendor.edit_during(
        listing, vendor.crm.refresh(PROFILE, "deal", Query(per_page=100)), deal
    )
    refresh = vendor.hold(one_deal(deal))
    reading = asyncio.ensure_future(vendor.crm.get(vendor.ref(deal)))
    await refresh.answered()
    await vendor.crm.edit(vendor.ref(deal), {"name": "Second"})
    await vendor.settle()
    refresh.release()
    got = await reading
    listing.release()
    await listed

    assert (got.fields["name"], vendor.cached(deal).fields["name"]) == ("Second", "Second")


async def test_a_list_read_from_before_a_conflict_does_not_hide_their_value(
    vendor: Vendor,
) -> None:
    """A list refresh leaves; someone else renames the deal; the user's rename of it is
    sent and found in conflict (the outbox read theirs right before writing). The
    refresh, read before their rename, then comes back. The user keeps theirs (discards
    the edit): the deal shows their name, not the one from before both."""
    deal = vendor.deal()
    gate = vendor.hold(deals_page)
    reading = asyncio.ensure_future(vendor.crm.refresh(PROFILE, "deal", Query(per_page=100)))
    await gate.answered()
    later = vendor.app.state.clock() + timedelta(seconds=2)
    vendor.db.deals[deal].update(title="Theirs", mdate=stamp(later))
    change = await vendor.crm.edit(vendor.ref(deal), {"name": "Mine"})
    await vendor.settle()
    assert change is not None
    assert vendor.crm.change(change.id).state is ChangeState.CONFLICT
    gate.release()
    await reading

    vendor.crm.discard(change.id)

    assert vendor.cached(deal).fields["name"] == "Theirs"


async def test_a_sync_page_from_before_an_undo_in_conflict_does_not_hide_their_value(
    vendor: Vendor,
) -> None:
    """The user undoes a deal crmtui created (a delete that expects the values created);
    someone renamed the deal meanwhile, so the outbox, reading it right before deleting,
    finds a conflict and deletes nothing. A sync page that left before that read comes
    back after: the user keeps the deal (discards the undo) and sees their name."""
    contact = vendor.db.deals[vendor.deal()]["contact"]
    made = await vendor.crm.create(PROFILE, "deal", {"name": "Made", "contact": contact})
    await vendor.settle()
    deal = next(d["id"] for d in vendor.db.deals.values() if d["title"] == "Made")
    plan = await vendor.crm.undo.plan(made.id)
    gate = vendor.hold(deals_page)
    reading = asyncio.ensure_future(vendor.crm.sync(PROFILE, ["deal"]))
    await gate.answered()
    later = vendor.app.state.clock() + timedelta(seconds=2)
    vendor.db.deals[deal].update(title="Theirs", mdate=stamp(later))
    [undo] = vendor.crm.undo.apply(plan)
    await vendor.settle()
    assert vendor.crm.change(undo.id).state is ChangeState.CONFLICT
    gate.release()
    await reading

    vendor.crm.discard(undo.id)

    assert vendor.cached(deal).fields["name"] == "Theirs"


# -- a profile forgotten -----------------------------------------------------------------


async def test_a_profile_forgotten_while_a_list_read_is_in_flight_stays_forgotten(
    vendor: Vendor, tmp_path: Path
) -> None:
    """``crmtui forget`` (another process) forgets the profile while this one's list
    read is in flight: the read, which left before, does not put the forgotten
    profile's records back in the cache."""
    gate = vendor.hold(deals_page)
    reading = asyncio.ensure_future(vendor.crm.refresh(PROFILE, "deal", Query(per_page=100)))
    await gate.answered()
    other = Store(tmp_path / "cache.sqlite3")
    other.delete_profile(PROFILE)
    gate.release()
    await reading

    assert (other.count(PROFILE, "deal"), vendor.crm.count(PROFILE, "deal")) == (0, 0)
    other.close()


async def test_a_profile_forgotten_while_a_sync_is_in_flight_keeps_no_bookkeeping(
    vendor: Vendor, tmp_path: Path
) -> None:
    """``crmtui forget`` while a sync's page is in flight: the sync stores none of its
    records, nor its mark or cursor (a later sync of the profile, added again, would go
    on from that mark and never bring the forgotten records back), nor the profile."""
    gate = vendor.hold(deals_page)
    syncing = asyncio.ensure_future(vendor.crm.sync(PROFILE, ["deal"]))
    await gate.answered()
    other = Store(tmp_path / "cache.sqlite3")
    other.delete_profile(PROFILE)
    gate.release()
    await syncing

    assert (other.count(PROFILE, "deal"), other.get_sync_state(PROFILE, "deal")) == (0, None)
    assert other.last_synced(PROFILE) is None
    other.close()
