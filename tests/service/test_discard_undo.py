"""Discard and undo through the service (ActiveCampaign sandbox).

- ``undo_discard`` brings a discarded change back exactly as it was, in its place in its
  record's order; the vendor then gets every edit once, in order, with no conflict.
- Later edits of the record were based on the discarded values (the record showed them
  queued): they are based on what the discarded change was based on, so that sent alone
  they do not conflict with a value the server never had.
"""

from __future__ import annotations

from crmtui.model import ChangeState
from crmtui.service.events import ChangeSent
from tests.helpers.service import PROFILE, Rig


async def test_undo_brings_a_discarded_edit_back_in_its_place(rig: Rig) -> None:
    crm = rig.crm
    deal = await rig.open_deal()
    ref = rig.ref(deal.id)
    rig.offline()  # queued, not sent
    first = await crm.edit(ref, {"amount": "1,111.00"})
    second = await crm.edit(ref, {"description": "Renamed in the outbox"})
    third = await crm.edit(ref, {"amount": "3,333.00"})
    assert first and second and third
    before = crm.changes(PROFILE)
    assert [c.id for c in before] == [first.id, second.id, third.id]

    assert [c.id for c in crm.discard(first.id)] == [first.id]
    assert crm.cached(ref).fields["amount"] == "3333.00"  # the later edit still shows
    rebased = crm.change(third.id)
    assert rebased is not None and rebased.base == {"amount": deal.fields["amount"]}

    back = crm.undo_discard()
    assert [c.id for c in back] == [first.id]
    assert crm.change(first.id) == before[0]  # exactly as it was
    assert [c.id for c in crm.changes(PROFILE)] == [first.id, second.id, third.id]
    assert not crm.can_undo_discard and crm.undo_discard() == []

    rig.online()
    for _ in range(3):
        await rig.settle()
    assert all(c.state is ChangeState.DONE for c in crm.store.changes(profile=PROFILE))
    assert rig.db.deals[deal.id]["value"] in (333300, "333300")
    assert rig.db.deals[deal.id]["description"] == "Renamed in the outbox"
    sent = [e.change.id for e in rig.seen(ChangeSent)]
    assert sent == [first.id, second.id, third.id]


async def test_a_discarded_edit_no_longer_holds_back_nor_conflicts(rig: Rig) -> None:
    crm = rig.crm
    deal = await rig.open_deal()
    ref = rig.ref(deal.id)
    rig.offline()
    first = await crm.edit(ref, {"amount": "1,111.00"})
    later = await crm.edit(ref, {"amount": "2,222.00"})
    assert first and later
    crm.discard(first.id)
    rig.online()
    await rig.settle()
    done = crm.change(later.id)
    assert done is not None and done.state is ChangeState.DONE  # not a conflict
    assert rig.db.deals[deal.id]["value"] in (222200, "222200")
