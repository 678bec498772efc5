"""Offline: edits wait in the outbox, reads come from the cache, and everything goes
out in order once the vendor answers again."""

from __future__ import annotations

import pytest

from crmtui.http import Offline
from crmtui.model import ChangeState, Query
from crmtui.sandbox.serve import serving
from crmtui.service import StatusChanged
from tests.helpers.service import PROFILE, Rig, build_crm


async def test_offline_edits_wait_then_go_in_order(rig: Rig) -> None:
    crm = rig.crm
    deal = await rig.open_deal()
    ref = rig.ref(deal.id)
    old_cents = rig.db.deals[deal.id]["value"]
    rig.offline()
    first = await crm.edit(ref, {"amount": "1000"})
    second = await crm.edit(ref, {"amount": "2000"})
    assert first is not None and second is not None
    await rig.settle()

    assert crm.queued(PROFILE) == 2
    waiting = rig.change(first)
    assert waiting.state is ChangeState.FAILED and waiting.next_retry_at is not None
    assert "offline" in (waiting.last_error or "").lower()
    assert rig.change(second).state is ChangeState.PENDING  # behind the first, in order
    assert crm.states[PROFILE].online is False
    assert any(not e.online and e.profile == PROFILE for e in rig.seen(StatusChanged))
    assert rig.db.deals[deal.id]["value"] == old_cents

    # Reads keep working from the cache, showing the queued edits.
    assert crm.cached(ref).fields["amount"] == "2000.00"
    assert (await crm.get(ref)).fields["amount"] == "2000.00"
    assert [r.id for r in crm.search(deal.title)][:1] == [deal.id]
    assert crm.count(PROFILE, "deal") == 100

    rig.online()
    await crm.refresh(PROFILE, "deal", Query(per_page=100))  # the vendor answers again
    await rig.settle()
    assert crm.states[PROFILE].online is True
    assert rig.seen(StatusChanged)[-1] == StatusChanged(PROFILE, True, "")
    assert crm.queued() == 0
    assert [rig.change(c).state for c in (first, second)] == [ChangeState.DONE] * 2
    assert rig.db.deals[deal.id]["value"] == "200000"
    assert rig.value_moves(deal.id)[-2:] == [(old_cents, "100000"), ("100000", "200000")]
    assert crm.cached(ref).fields["amount"] == "2000.00"


async def test_a_flush_after_the_vendor_is_back_sends_at_once(rig: Rig) -> None:
    """No waiting out the backoff of the offline attempts once a request succeeds."""
    deal = await rig.open_deal()
    rig.offline()
    change = await rig.crm.edit(rig.ref(deal.id), {"amount": "10"})
    await rig.settle()
    assert rig.change(change).state is ChangeState.FAILED
    rig.online()
    await rig.crm.get(rig.ref(deal.id))
    await rig.settle()
    assert rig.change(change).state is ChangeState.DONE
    assert rig.db.deals[deal.id]["value"] == "1000"


async def test_offline_without_a_cache_says_so(rig: Rig) -> None:
    rig.offline()
    try:
        await rig.crm.refresh(PROFILE, "deal")
    except Offline as exc:
        assert "could not connect" in str(exc)
    else:
        raise AssertionError("a refresh offline must fail")
    assert rig.crm.states[PROFILE].online is False


@pytest.mark.loopback
async def test_a_stopped_server_on_loopback_is_offline_too(rig: Rig) -> None:
    """Over real HTTP: the server goes away (connection refused), edits wait for it."""
    deal = await rig.open_deal()
    with serving(rig.app) as origin:
        crm = build_crm(rig.store, rig.app, origin=origin, mount=False)
        await crm.fields(PROFILE, "deal")
    change = await crm.edit(rig.ref(deal.id), {"amount": "321"})
    assert change is not None
    await crm.outbox.flush(PROFILE)
    await crm.outbox.wait_idle()
    stored = crm.store.get_change(change.id)
    assert stored is not None and stored.state is ChangeState.FAILED
    assert "could not connect" in (stored.last_error or "")
    assert crm.states[PROFILE].online is False
    await crm.outbox.stop()
    await crm.http.aclose()
