"""A sender confirms its claim right before each write: one that lost it sends nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from crmtui.model import ChangeState, Record
from crmtui.store.outbox import recover_stale
from tests.helpers.service import PROFILE, Rig


def take_over(rig: Rig, change_id: str) -> None:
    """Another process takes the change over (as if this sender's lease had run out on
    another host): it is recovered as maybe sent and claimed by that process."""
    with rig.store._db.transaction() as conn:
        conn.execute(
            "UPDATE outbox SET owner = 'other-host:1:x', lease_until = '2000-01-01' WHERE id = ?",
            (change_id,),
        )
        recover_stale(conn, rig.store.changes()[0].created_at + timedelta(days=1))
    assert rig.store.claim(change_id, "other-host:2:new", timedelta(minutes=1)) is not None


@pytest.mark.parametrize("op", ["update", "delete"])
async def test_a_sender_that_lost_its_claim_before_writing_sends_nothing(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, op: str
) -> None:
    deal = await rig.open_deal()
    adapter = rig.crm.adapter(PROFILE)
    real_get, real_is_deleted = adapter.get, adapter.is_deleted
    ids: list[str] = []

    async def slow_get(kind: str, id: str) -> Record:  # the read before an update
        found = await real_get(kind, id)
        take_over(rig, ids[0])
        return found

    async def slow_is_deleted(ref: Any) -> bool:
        take_over(rig, ids[0])
        return await real_is_deleted(ref)

    monkeypatch.setattr(adapter, "get", slow_get)
    monkeypatch.setattr(adapter, "is_deleted", slow_is_deleted)
    if op == "update":
        change = await rig.crm.edit(rig.ref(deal.id), {"amount": "4321"})
    else:
        change = await rig.crm.delete(rig.ref(deal.id))
        rig.store._db.conn.execute("UPDATE outbox SET maybe_sent = 1")  # checked first
    assert change is not None
    ids.append(change.id)
    await rig.settle()

    assert rig.writes() == []  # nothing sent by the sender that lost its claim
    kept = rig.change(change)
    assert kept.state is ChangeState.SENDING  # the new owner's claim, untouched
    with rig.store._db.read() as conn:
        owner = conn.execute("SELECT owner FROM outbox WHERE id = ?", (change.id,)).fetchone()
    assert owner == ("other-host:2:new",)
