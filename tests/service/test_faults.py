"""Transient faults are retried (by the client, then by the outbox); adapter bugs are
reported in words and never lose the edit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crmtui.http import CrmError
from crmtui.model import ChangeState, utcnow
from crmtui.service import Notice
from crmtui.service import outbox as outbox_module
from tests.helpers.service import PROFILE, Rig


@pytest.mark.parametrize("faults", [["500", "500"], ["429", "503"], ["drop", "502"]])
async def test_a_few_faults_are_retried_until_the_edit_is_done(rig: Rig, faults: list[str]) -> None:
    deal = await rig.open_deal()
    rig.app.state.faults.update({"next": faults})
    change = await rig.crm.edit(rig.ref(deal.id), {"amount": "4321"})
    assert change is not None
    await rig.settle()
    assert rig.change(change).state is ChangeState.DONE
    assert rig.db.deals[deal.id]["value"] == "432100"
    assert not rig.app.state.faults.next
    assert sum(rig.app.state.faults.counts.values()) == len(faults)


async def test_more_faults_than_retries_waits_for_the_next_retry(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    deal = await rig.open_deal()
    attempts = rig.crm.http.max_retries + 1
    rig.app.state.faults.update({"next": ["500"] * attempts})
    change = await rig.crm.edit(rig.ref(deal.id), {"amount": "4321"})
    assert change is not None
    await rig.settle()
    failed = rig.change(change)
    assert failed.state is ChangeState.FAILED and failed.attempts == 1
    assert failed.next_retry_at is not None and failed.next_retry_at > utcnow()
    assert "HTTP 500" in (failed.last_error or "")
    assert rig.crm.states[PROFILE].online is True  # the vendor answered, badly
    assert any("retry" in n.text for n in rig.seen(Notice))

    await rig.settle()  # too early: nothing is sent
    assert rig.change(change).state is ChangeState.FAILED
    assert rig.db.deals[deal.id]["value"] != "432100"

    later = failed.next_retry_at + timedelta(seconds=1)
    monkeypatch.setattr(outbox_module, "utcnow", lambda: later)
    await rig.settle()
    assert rig.change(change).state is ChangeState.DONE
    assert rig.db.deals[deal.id]["value"] == "432100"
    assert rig.crm.queued() == 0


async def test_retry_after_is_how_long_the_outbox_waits(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Retry-After longer than the client sleeps through is left to the outbox."""
    deal = await rig.open_deal()
    rig.app.state.faults.update({"next": ["429"], "retry_after": 120})
    before = utcnow()
    change = await rig.crm.edit(rig.ref(deal.id), {"amount": "4321"})
    assert change is not None
    await rig.settle()
    failed = rig.change(change)
    assert failed.state is ChangeState.FAILED
    assert failed.next_retry_at is not None
    assert (
        before + timedelta(seconds=119) <= failed.next_retry_at <= utcnow() + timedelta(seconds=121)
    )


def _explode(*args: object, **kwargs: object) -> object:
    async def boom() -> object:
        raise KeyError("stage")

    return boom()


async def test_an_adapter_bug_on_send_keeps_the_edit(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    deal = await rig.open_deal()
    monkeypatch.setattr(rig.crm.adapter(PROFILE), "update", _explode)
    change = await rig.crm.edit(rig.ref(deal.id), {"amount": "4321"})
    assert change is not None
    await rig.settle()
    kept = rig.change(change)
    assert kept.state in (ChangeState.FAILED, ChangeState.REJECTED)
    assert "KeyError" in (kept.last_error or "") and "Traceback" not in (kept.last_error or "")
    assert rig.crm.queued() == 1
    assert rig.crm.cached(rig.ref(deal.id)).fields["amount"] == "4321.00"
    assert any(n.severity == "error" and "KeyError" in n.text for n in rig.seen(Notice))

    monkeypatch.undo()
    rig.crm.retry(change.id)
    await rig.settle()
    assert rig.change(change).state is ChangeState.DONE
    assert rig.db.deals[deal.id]["value"] == "432100"


async def test_an_adapter_bug_on_read_is_a_crm_error_in_words(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    deal = await rig.open_deal()
    monkeypatch.setattr(rig.crm.adapter(PROFILE), "get", _explode)
    with pytest.raises(CrmError) as caught:
        await rig.crm.get(rig.ref(deal.id))
    text = str(caught.value)
    assert text.startswith("ActiveCampaign: unexpected problem (KeyError: 'stage')")
    assert isinstance(caught.value.__cause__, KeyError)


def test_retry_delays_grow_and_honour_retry_after() -> None:
    first = outbox_module.retry_delay(1)
    assert outbox_module.RETRY_BASE / 2 <= first <= outbox_module.RETRY_BASE
    assert outbox_module.retry_delay(30) <= outbox_module.RETRY_CAP
    assert outbox_module.retry_delay(3, retry_after=42.0) == 42.0
