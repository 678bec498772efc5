"""Reads through the cache and validated edits through the outbox, as a rep sees them."""

from __future__ import annotations

import pytest

from crmtui.fields import FieldError
from crmtui.model import ChangeState, Query
from crmtui.service import ListChanged, OutboxChanged, RecordChanged
from tests.helpers.service import PROFILE, Rig


async def test_refresh_fills_the_cache_that_lists_read(rig: Rig) -> None:
    crm = rig.crm
    assert crm.count(PROFILE, "deal") == 0 and crm.window(PROFILE, "deal", offset=0, limit=5) == []
    page = await crm.refresh(PROFILE, "deal", Query(per_page=25))
    assert len(page.records) == 25 and page.total == len(rig.db.deals)
    assert ListChanged(PROFILE, "deal") in rig.events
    assert crm.count(PROFILE, "deal") == 25
    window = crm.window(PROFILE, "deal", offset=0, limit=10)
    titles = sorted((r.title for r in page.records), key=str.lower)
    assert [r.title for r in window] == titles[:10]
    assert crm.window(PROFILE, "deal", offset=20, limit=10)[-1].title == titles[-1]


async def test_the_cache_answers_until_a_refresh_brings_news(rig: Rig) -> None:
    deal = await rig.open_deal()
    rig.db.deals[deal.id]["title"] = "Renamed by a colleague"
    assert rig.crm.cached(rig.ref(deal.id)).title == deal.title  # stale, but at once
    rig.events.clear()
    await rig.crm.refresh(PROFILE, "deal", Query(per_page=100))
    assert rig.crm.cached(rig.ref(deal.id)).title == "Renamed by a colleague"
    assert rig.seen(ListChanged) == [ListChanged(PROFILE, "deal")]
    found = rig.crm.search("renamed colleague")
    assert [r.id for r in found] == [deal.id]


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ({"amount": "12x"}, "not a number"),
        ({"amount": "-5"}, "at least"),
        ({"name": ""}, "required"),
        ({"status": "sleeping"}, "not one of"),
        ({"probability": "120"}, "at most"),
        ({"win_probability": "30"}, "cannot be changed"),
        ({"contact": "no-such-contact"}, "Primary contact"),
    ],
)
async def test_a_bad_value_is_refused_before_anything_is_queued(
    rig: Rig, texts: dict[str, str], message: str
) -> None:
    deal = await rig.open_deal()
    before = dict(rig.db.deals[deal.id])
    rig.events.clear()
    with pytest.raises(FieldError, match=message):
        await rig.crm.edit(rig.ref(deal.id), texts)
    await rig.settle()
    assert rig.crm.queued() == 0 and rig.crm.changes() == []
    assert rig.writes() == []
    assert rig.db.deals[deal.id] == before
    assert rig.crm.cached(rig.ref(deal.id)) == deal
    assert not rig.seen(OutboxChanged)


async def test_a_good_edit_shows_at_once_and_reaches_the_vendor(rig: Rig) -> None:
    deal = await rig.open_deal()
    ref = rig.ref(deal.id)
    old_cents = rig.db.deals[deal.id]["value"]
    rig.events.clear()
    change = await rig.crm.edit(ref, {"amount": "1,250.00"})
    assert change is not None and change.values == {"amount": "1250.00"}
    assert change.base == {"amount": deal.fields["amount"]}
    assert rig.crm.queued(PROFILE) == 1
    assert rig.crm.cached(ref).fields["amount"] == "1250.00"
    row = next(r for r in rig.crm.window(PROFILE, "deal", offset=0, limit=200) if r.id == deal.id)
    assert row.fields["amount"] == "1250.00"
    assert rig.db.deals[deal.id]["value"] == old_cents  # not sent yet
    assert RecordChanged(ref) in rig.events and OutboxChanged(PROFILE, 1) in rig.events

    await rig.settle()
    assert rig.db.deals[deal.id]["value"] == "125000"
    assert rig.value_moves(deal.id)[-1] == (old_cents, "125000")
    assert rig.crm.queued() == 0 and rig.crm.changes() == []
    assert rig.change(change).state is ChangeState.DONE
    assert rig.crm.cached(ref).fields["amount"] == "1250.00"
    assert rig.crm.store.server_version(ref) is None  # the row is the server's again
    assert rig.seen(OutboxChanged)[-1] == OutboxChanged(PROFILE, 0)


async def test_an_edit_that_changes_nothing_is_not_queued(rig: Rig) -> None:
    deal = await rig.open_deal()
    assert await rig.crm.edit(rig.ref(deal.id), {"amount": deal.fields["amount"]}) is None
    assert rig.crm.queued() == 0


async def test_edits_of_several_fields_and_records_all_arrive(rig: Rig) -> None:
    deal = await rig.open_deal()
    other = next(d for d in rig.db.deals.values() if d["id"] != deal.id and d["status"] == "0")
    await rig.crm.edit(rig.ref(deal.id), {"name": "Bigger pilot", "probability": "40"})
    await rig.crm.edit(rig.ref(other["id"]), {"status": "won"})
    assert rig.crm.queued() == 2
    await rig.settle()
    assert rig.db.deals[deal.id]["title"] == "Bigger pilot"
    assert rig.db.deals[deal.id]["percent"] == "40"
    assert rig.db.deals[other["id"]]["status"] == "1"
    assert rig.crm.queued() == 0
    assert rig.crm.cached(rig.ref(deal.id)).title == "Bigger pilot"
