"""Our own writes are never taken for someone else's: an edit does not conflict with us.

An edit whose send ended without a readable answer (a 500, a dropped connection: it may
have landed) is checked with the vendor before it is sent again. Meanwhile crmtui itself
may write on the same record, e.g. a note, which moves the record's version on vendors
that stamp a record when a note is added to it (a Salesloft person is "last contacted",
an ActiveCampaign deal is touched). The check must not read that move as someone else
setting the record back (the "it may have arrived, and the old value is back" conflict):
the soak left such edits, and the edits queued behind them, in the outbox for the user.

- The edit did not land, our note moved the record: sent again once, done.
- The edit did land (a lost reply), our note moved the record, a second edit of the same
  field waits behind it: the first is decided done without being sent twice, the second
  is sent once; the vendor holds the second.
- Someone else changed the field meanwhile: still a conflict, theirs kept and shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from benchmarks.soak import Witness
from crmtui.model import Change, ChangeState, RecordRef
from tests.helpers.reliability import Rig

# Vendors whose record is stamped when a note is added to it (the version moves).
STAMPED = ["salesloft", "activecampaign"]


def witnessed(rig: Rig) -> Witness:
    """Every write request the sandbox receives, counted; faults armed for the next ones."""
    witness = Witness(rig.app)
    rig.crm.http.mount_app(f"http://{rig.vendor}.localhost", witness)
    return witness


async def on_server(rig: Rig, ref: RecordRef) -> dict[str, Any]:
    return (await rig.crm.adapter(rig.vendor).get(ref.kind, ref.id)).fields


async def noted(rig: Rig, ref: RecordRef, text: str) -> None:
    """A note of ours on ``ref``, posted (the failed edit is not due yet: it stays)."""
    note = await rig.crm.add_note(ref, text)
    await rig.settle()
    posted = rig.crm.store.get_change(note.id)
    assert posted is not None and posted.state is ChangeState.DONE, posted


async def retried(rig: Rig) -> None:
    """The failed edit is due now: checked with the vendor, then sent or decided."""
    rig.crm.outbox.wake(rig.vendor)
    await rig.settle()


def state(rig: Rig, change: Change) -> Change:
    stored = rig.crm.store.get_change(change.id)
    assert stored is not None
    return stored


@dataclass
class Failed:
    """An edit of some record whose first send met ``fault``: it failed, maybe sent."""

    witness: Witness
    ref: RecordRef
    field: str
    change: Change


async def failed_edit(rig: Rig, fault: str, value: str) -> Failed:
    witness = witnessed(rig)
    ref = await rig.some()
    field = rig.plan.edit_field
    witness.armed.append(fault)
    change = await rig.crm.edit(ref, {field: value})
    assert change is not None
    await rig.settle()
    assert state(rig, change).state is ChangeState.FAILED
    return Failed(witness, ref, field, change)


@pytest.mark.parametrize("fault", ["500", "drop"])
@pytest.mark.parametrize("vendor", STAMPED)
async def test_an_edit_that_did_not_land_is_sent_again_after_our_own_note(
    rigs: Callable[..., Rig], vendor: str, fault: str
) -> None:
    rig = rigs(vendor)
    field = rig.plan.edit_field
    seeded = await rig.some()
    stamp = (await rig.crm.adapter(vendor).get(seeded.kind, seeded.id)).updated_at
    before = (await on_server(rig, seeded)).get(field)
    edit = await failed_edit(rig, fault, "Mine after a fault")  # the vendor applied nothing
    assert edit.ref == seeded
    assert (await on_server(rig, seeded)).get(field) == before  # it did not land

    await noted(rig, seeded, "Called about the renewal")
    moved = (await rig.crm.adapter(vendor).get(seeded.kind, seeded.id)).updated_at
    assert stamp is not None and moved is not None and moved > stamp  # our note moved it

    await retried(rig)
    done = state(rig, edit.change)
    assert done.state is ChangeState.DONE, f"{vendor} after {fault}: {done.last_error}"
    assert (await on_server(rig, seeded)).get(field) == "Mine after a fault"
    assert edit.witness.count("Mine after a fault") == 2  # the failed send and one more


@pytest.mark.parametrize("vendor", STAMPED)
async def test_an_edit_whose_reply_was_lost_is_done_once_and_the_next_edit_goes(
    rigs: Callable[..., Rig], vendor: str
) -> None:
    rig = rigs(vendor)
    lost = await failed_edit(rig, "lost", "First of mine")  # applied, the reply never came
    assert (await on_server(rig, lost.ref)).get(lost.field) == "First of mine"  # it landed

    second = await rig.crm.edit(lost.ref, {lost.field: "Second of mine"})  # waits behind
    assert second is not None
    await noted(rig, lost.ref, "Called about the renewal")
    await retried(rig)

    for change in (lost.change, second):
        assert state(rig, change).state is ChangeState.DONE, state(rig, change).last_error
    assert (await on_server(rig, lost.ref)).get(lost.field) == "Second of mine"
    assert lost.witness.count("First of mine") == 1  # never sent twice
    assert lost.witness.count("Second of mine") == 1


@pytest.mark.parametrize("vendor", STAMPED)
async def test_someone_elses_change_of_the_field_is_still_a_conflict(
    rigs: Callable[..., Rig], vendor: str
) -> None:
    rig = rigs(vendor)
    mine = await failed_edit(rig, "500", "Mine")
    theirs = Change(ref=mine.ref, values={mine.field: "Theirs"})
    await rig.crm.adapter(vendor).update(theirs)  # another writer, then our note
    await noted(rig, mine.ref, "Called about the renewal")
    await retried(rig)

    kept = state(rig, mine.change)
    assert kept.state is ChangeState.CONFLICT, kept
    assert kept.theirs == {mine.field: "Theirs"}
    assert (await on_server(rig, mine.ref)).get(mine.field) == "Theirs"  # theirs, kept
    assert mine.witness.count("Mine") == 1  # the failed send only
