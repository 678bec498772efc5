"""Leave if changed (conflicts, field by field) and the vendor saying no (rejected)."""

from __future__ import annotations

from crmtui.model import ChangeState, Record
from crmtui.service import Notice
from tests.helpers.service import PROFILE, Rig


async def conflicted(rig: Rig) -> tuple[Record, str]:
    """A deal whose amount the user edited to 1111 while a colleague set it to 7777."""
    deal = await rig.open_deal()
    change = await rig.crm.edit(rig.ref(deal.id), {"amount": "1111"})
    assert change is not None
    rig.db.deals[deal.id]["value"] = "777700"  # the server moved before the edit went out
    await rig.settle()
    return deal, change.id


async def test_a_field_changed_on_the_server_is_never_overwritten(rig: Rig) -> None:
    deal, change_id = await conflicted(rig)
    change = rig.store.get_change(change_id)
    assert change is not None and change.state is ChangeState.CONFLICT
    assert change.base == {"amount": deal.fields["amount"]}
    assert change.values == {"amount": "1111.00"}
    assert change.theirs == {"amount": "7777.00"}
    assert rig.db.deals[deal.id]["value"] == "777700"
    assert rig.writes() == []
    ref = rig.ref(deal.id)
    assert rig.crm.cached(ref).fields["amount"] == "1111.00"  # mine, still queued
    assert rig.store.server_version(ref).fields["amount"] == "7777.00"  # theirs, kept
    assert rig.crm.queued() == 1 and [c.id for c in rig.crm.changes()] == [change_id]
    assert any(n.severity == "warning" and "amount" in n.text for n in rig.seen(Notice))
    await rig.settle()  # a conflict is not retried on its own
    assert rig.db.deals[deal.id]["value"] == "777700"


async def test_keeping_mine_sends_mine(rig: Rig) -> None:
    deal, change_id = await conflicted(rig)
    rig.crm.resolve(change_id, {"amount": "mine"})
    await rig.settle()
    assert rig.db.deals[deal.id]["value"] == "111100"
    assert rig.value_moves(deal.id)[-1] == ("777700", "111100")
    assert rig.crm.queued() == 0
    assert rig.crm.cached(rig.ref(deal.id)).fields["amount"] == "1111.00"


async def test_taking_theirs_drops_mine_and_shows_theirs(rig: Rig) -> None:
    deal, change_id = await conflicted(rig)
    rig.crm.resolve(change_id, {"amount": "theirs"})
    await rig.settle()
    assert rig.crm.queued() == 0 and rig.store.get_change(change_id) is None
    assert rig.db.deals[deal.id]["value"] == "777700"
    assert rig.writes() == []
    assert rig.crm.cached(rig.ref(deal.id)).fields["amount"] == "7777.00"


async def test_a_server_change_to_another_field_is_not_a_conflict(rig: Rig) -> None:
    deal = await rig.open_deal()
    change = await rig.crm.edit(rig.ref(deal.id), {"amount": "1111"})
    assert change is not None
    rig.db.deals[deal.id]["title"] = "Renamed by a colleague"
    await rig.settle()
    assert rig.change(change).state is ChangeState.DONE
    assert rig.db.deals[deal.id]["value"] == "111100"
    assert rig.db.deals[deal.id]["title"] == "Renamed by a colleague"
    cached = rig.crm.cached(rig.ref(deal.id))
    assert cached.fields["amount"] == "1111.00" and cached.title == "Renamed by a colleague"


async def test_the_server_already_having_my_value_is_not_a_conflict(rig: Rig) -> None:
    deal = await rig.open_deal()
    change = await rig.crm.edit(rig.ref(deal.id), {"amount": "1111"})
    assert change is not None
    rig.db.deals[deal.id]["value"] = "111100"
    await rig.settle()
    assert rig.change(change).state is ChangeState.DONE


async def test_a_refusal_keeps_the_edit_with_the_vendors_words(rig: Rig) -> None:
    """ "eu" passes our check (text, at most 3 characters); ActiveCampaign says 422."""
    deal = await rig.open_deal()
    ref = rig.ref(deal.id)
    currency = rig.db.deals[deal.id]["currency"]
    change = await rig.crm.edit(ref, {"currency": "eu"})
    assert change is not None
    await rig.settle()
    stored = rig.change(change)
    assert stored.state is ChangeState.REJECTED
    assert "The deal currency is not valid" in (stored.last_error or "")
    assert rig.crm.queued() == 1
    assert rig.db.deals[deal.id]["currency"] == currency
    assert rig.crm.cached(ref).fields["currency"] == "eu"  # still shown as queued
    assert any(n.severity == "error" for n in rig.seen(Notice))
    await rig.settle()  # not retried on its own
    assert rig.change(change).state is ChangeState.REJECTED

    rig.crm.discard(change.id)
    assert rig.crm.queued() == 0
    assert rig.crm.cached(ref).fields["currency"] == currency.upper()


async def test_a_stage_gone_on_the_server_is_refused(rig: Rig) -> None:
    """The stage list was cached before an admin deleted the stage: the vendor says no."""
    deal = await rig.open_deal()
    stage = next(
        s["id"]
        for s in rig.db.stages.values()
        if s["group"] == rig.db.deals[deal.id]["group"] and s["id"] != deal.fields["stage"]
    )
    del rig.db.stages[stage]
    change = await rig.crm.edit(rig.ref(deal.id), {"stage": stage})
    assert change is not None
    await rig.settle()
    stored = rig.change(change)
    assert stored.state is ChangeState.REJECTED
    assert "stage was not found" in (stored.last_error or "")
    rig.crm.retry(change.id)  # the user insists: still refused, still kept
    await rig.settle()
    assert rig.change(change).state is ChangeState.REJECTED
    assert rig.crm.queued(PROFILE) == 1
