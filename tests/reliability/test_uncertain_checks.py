"""Checks of a write whose outcome is unknown decide right, whatever the clocks and text.

- A note whose reply was lost is found again without comparing the vendor's clock with
  ours (the notes like it seen before it was posted are not ours), also when its text
  looks like HTML (both copies read the same way).
- An update that landed and was then set back by someone else (ABA) is not sent again
  over their change: it is a conflict, theirs shown.
- Two identical creates made on purpose are both sent; a check never adopts the record
  another done change made.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from benchmarks.soak import PLANS
from crmtui.model import Change, ChangeState, utcnow
from tests.helpers.reliability import ArmWrites, Rig

NOTE_VENDORS = ["freshsales", "salesseek", "salesloft", "activecampaign"]  # notes listed


def armed(rig: Rig) -> ArmWrites:
    writes = ArmWrites(rig.app)
    rig.crm.http.mount_app(f"http://{rig.vendor}.localhost", writes)
    return writes


def notes_with(rig: Rig, marker: str) -> int:
    """How many notes holding ``marker`` the vendor keeps."""
    return sum(marker in str(row) for row in rig.plan.note_rows(rig.app.state.db).values())


async def retried(rig: Rig) -> None:
    """The failed change is due now and sent again (after its check)."""
    rig.crm.outbox.wake(rig.vendor)
    await rig.settle()


@pytest.mark.parametrize("vendor", NOTE_VENDORS)
@pytest.mark.parametrize(
    "how",
    ["vendor clock 3 min behind", "text that looks like HTML"],
)
async def test_a_note_whose_reply_was_lost_is_posted_once(
    rigs: Callable[..., Rig], vendor: str, how: str
) -> None:
    options: dict[str, Any] = {}
    marker = f"mk{vendor[:4]}"
    text = f"Called {marker} about renewal"
    if how.startswith("vendor clock"):
        options["now"] = utcnow() - timedelta(minutes=3)
    else:
        text = f"{marker}: use <b>bold</b> here"
    rig = rigs(vendor, **options)
    writes = armed(rig)
    ref = await rig.some(rig.plan.browse)
    writes.armed.append("lost")
    change = await rig.crm.add_note(ref, text)
    await rig.settle()
    first = rig.crm.store.get_change(change.id)
    assert first is not None and first.state is ChangeState.FAILED, first
    assert notes_with(rig, marker) == 1  # applied, the reply lost

    await retried(rig)
    done = rig.crm.store.get_change(change.id)
    assert done is not None and done.state is ChangeState.DONE, done.last_error
    assert notes_with(rig, marker) == 1, f"{vendor}: the note was posted twice ({how})"


@pytest.mark.parametrize("vendor", ["freshsales", "salesseek", "salesloft", "activecampaign"])
async def test_an_update_that_landed_and_was_set_back_is_not_sent_again(
    rigs: Callable[..., Rig], vendor: str
) -> None:
    rig = rigs(vendor)
    writes = armed(rig)
    ref = await rig.some()
    field, adapter = rig.plan.edit_field, rig.crm.adapter(vendor)
    cached = rig.crm.cached(ref)
    assert cached is not None
    before = cached.fields.get(field)  # what the rep saw (an older version: the seed's)
    writes.armed.append("lost")
    change = await rig.crm.edit(ref, {field: "Mine"})
    assert change is not None
    await rig.settle()
    assert (await adapter.get(ref.kind, ref.id)).fields[field] == "Mine"  # it landed

    # someone else sets it back; our check then sees the base value at a newer version
    await adapter.update(Change(ref=ref, values={field: before}))
    await retried(rig)

    kept = rig.crm.store.get_change(change.id)
    assert kept is not None and kept.state is ChangeState.CONFLICT, kept
    assert kept.theirs == {field: before}
    assert (await adapter.get(ref.kind, ref.id)).fields[field] == before  # theirs, kept


@pytest.mark.parametrize("vendor", ["freshsales", "salesseek"])
async def test_the_same_create_made_twice_on_purpose_makes_two_records(
    rigs: Callable[..., Rig], vendor: str
) -> None:
    rig = rigs(vendor)
    writes = armed(rig)
    plan, db = PLANS[vendor], rig.app.state.db
    await rig.some(plan.browse)
    await rig.crm.fields(vendor, plan.create_kind)
    values = plan.create_values("Twice on purpose", db)
    first = await rig.crm.create(vendor, plan.create_kind, values)
    await rig.settle()
    second = await rig.crm.create(vendor, plan.create_kind, values)
    await rig.settle()
    # a third, answered 503 (it may have landed: checked first) and not landed
    writes.armed.append("503")
    third = await rig.crm.create(vendor, plan.create_kind, values)
    await rig.settle()
    await retried(rig)

    made = [r for r in plan.create_rows(db).values() if "Twice on purpose" in str(r)]
    assert len(made) == 3, f"{vendor}: {len(made)} records for 3 creates"
    states = [rig.crm.store.get_change(c.id) for c in (first, second, third)]
    assert all(c is not None and c.state is ChangeState.DONE for c in states), states


@pytest.mark.parametrize("vendor", ["freshsales", "salesseek", "salesloft", "activecampaign"])
async def test_an_update_on_a_record_that_moved_before_it_was_sent_is_sent_after_a_500(
    rigs: Callable[..., Rig], vendor: str
) -> None:
    """Records move for reasons of their own between an edit and its send (a note, a
    workflow, someone saving the same value). An update whose send failed in a way that
    may have landed (a 500) but did not is checked and sent again: not a false conflict."""
    rig = rigs(vendor)
    writes = armed(rig)
    ref = await rig.some()
    field, adapter = rig.plan.edit_field, rig.crm.adapter(vendor)
    cached = rig.crm.cached(ref)
    assert cached is not None
    rig.crm.outbox.paused = True  # queued while the record moves on the server
    change = await rig.crm.edit(ref, {field: "Mine"})
    assert change is not None
    await adapter.update(Change(ref=ref, values={field: cached.fields.get(field)}))
    rig.crm.outbox.paused = False
    writes.armed.append("500")  # the vendor failed and applied nothing; we cannot know
    await rig.crm.outbox.flush(vendor)
    failed = rig.crm.store.get_change(change.id)
    assert failed is not None and failed.state is not ChangeState.DONE, failed
    await retried(rig)

    kept = rig.crm.store.get_change(change.id)
    assert kept is not None and kept.state is ChangeState.DONE, kept
    assert (await adapter.get(ref.kind, ref.id)).fields[field] == "Mine"
