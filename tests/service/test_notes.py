"""Notes: shown in the timeline at once (queued), then replaced by the vendor's entry."""

from __future__ import annotations

import pytest

from crmtui.fields import FieldError
from tests.helpers.service import Rig

TEXT = "Called Dana: wants the pilot in May\nSend the revised quote by Friday"


async def test_a_note_shows_at_once_then_is_the_servers(rig: Rig) -> None:
    deal = await rig.open_deal()
    ref = rig.ref(deal.id)
    before = await rig.crm.timeline(ref)
    change = await rig.crm.add_note(ref, TEXT)
    queued = rig.crm.cached_timeline(ref)
    assert queued is not None and len(queued) == len(before) + 1
    assert queued[0].id == f"local:{change.id}"
    assert queued[0].who == "you (queued)"
    assert queued[0].summary == "Called Dana: wants the pilot in May" and queued[0].body == TEXT
    assert rig.crm.queued() == 1

    await rig.settle()
    notes = [n for n in rig.db.notes.values() if n["relid"] == deal.id and n["note"] == TEXT]
    assert len(notes) == 1
    after = rig.crm.cached_timeline(ref)
    assert after is not None and len(after) == len(before) + 1
    assert after[0].id == f"note-{notes[0]['id']}" and after[0].body == TEXT
    assert not [a for a in after if a.id.startswith("local:")]
    assert rig.crm.queued() == 0
    fresh = await rig.crm.timeline(ref)
    assert len([a for a in fresh if a.body == TEXT]) == 1  # once, whatever its id


async def test_a_queued_note_survives_a_timeline_refresh(rig: Rig) -> None:
    deal = await rig.open_deal()
    ref = rig.ref(deal.id)
    await rig.crm.timeline(ref)
    rig.crm.outbox.paused = True
    change = await rig.crm.add_note(ref, TEXT)
    refreshed = await rig.crm.timeline(ref)
    assert refreshed[0].id == f"local:{change.id}"
    rig.crm.outbox.paused = False
    await rig.settle()
    assert len([n for n in rig.db.notes.values() if n["note"] == TEXT]) == 1


async def test_an_empty_note_is_refused(rig: Rig) -> None:
    deal = await rig.open_deal()
    with pytest.raises(FieldError):
        await rig.crm.add_note(rig.ref(deal.id), "   \n ")
    assert rig.crm.queued() == 0
