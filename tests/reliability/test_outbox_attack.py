"""Attacks on "our own write is no sign of someone else" (``ours_since_sent``).

An edit whose send ended with an unknown outcome is checked before it is sent again; the
old value on a newer version of the record means someone may have set our landed edit
back, so it becomes a conflict (theirs shown, nothing sent). A note of ours on the
record moves its version too (Salesloft, ActiveCampaign), so such a note excuses the
newer version. These tests hold that the excuse never covers someone else's write:

- a note of ours that certainly did not land (the vendor refused it: 429 after every
  retry) excuses nothing: someone's revert is a conflict, not overwritten;
- a note of ours that landed excuses the version it made, not a later one: someone's
  revert after it (the vendor's clock says so) is a conflict, not overwritten;
- the note landing after the check read the record (another sender on the same cache)
  excuses nothing in the version the check read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from benchmarks.soak import Witness, no_sleep, profile_for, unpace
from crmtui import sandbox
from crmtui.http import Http
from crmtui.model import Change, ChangeState, RecordRef, utcnow
from crmtui.service import Crm
from crmtui.store import Store
from tests.helpers.reliability import CHECKS, Rig

# Vendors whose record is stamped when a note is added to it (the version moves).
STAMPED = ["salesloft", "activecampaign"]


async def held(rig: Rig, ref: RecordRef, field: str) -> Any:
    """What the vendor holds in ``field`` of ``ref`` now."""
    return (await rig.crm.adapter(rig.vendor).get(ref.kind, ref.id)).fields.get(field)


def state(crm: Crm, change: Change) -> Change:
    stored = crm.store.get_change(change.id)
    assert stored is not None
    return stored


@dataclass
class Landed:
    """An edit of some record that reached the vendor, whose reply was lost."""

    witness: Witness
    ref: RecordRef
    field: str
    before: Any  # the field's value before the edit
    change: Change


async def landed_edit(rig: Rig, value: str) -> Landed:
    witness = Witness(rig.app)  # counts every write the vendor receives
    rig.crm.http.mount_app(f"http://{rig.vendor}.localhost", witness)
    ref = await rig.some()
    field = rig.plan.edit_field
    before = await held(rig, ref, field)
    witness.armed.append("lost")  # applied by the vendor, the reply never came
    change = await rig.crm.edit(ref, {field: value})
    assert change is not None
    await rig.settle()
    assert state(rig.crm, change).state is ChangeState.FAILED
    assert await held(rig, ref, field) == value  # it landed
    return Landed(witness, ref, field, before, change)


async def set_back(rig: Rig, edit: Landed) -> None:
    """Someone else sets the field back to what it was (another user, in the vendor)."""
    theirs = Change(ref=edit.ref, values={edit.field: edit.before})
    await rig.crm.adapter(rig.vendor).update(theirs)


@asynccontextmanager
async def beside(rig: Rig, account: Any = None) -> AsyncIterator[Crm]:
    """Another crmtui on the same cache (another process, in this one): on the same
    vendor account, or on another ``account`` (a sandbox app) of the same vendor, whose
    profile is named ``<vendor>-b``."""
    path = rig.crm.store.path
    assert path is not None
    http = Http(sleep=no_sleep)
    if account is None:
        http.mount_app(f"http://{rig.vendor}.localhost", rig.app)
        profile = rig.crm.adapter(rig.vendor).profile
    else:
        http.mount_app(f"http://{rig.vendor}-b.localhost", account)
        profile = profile_for(rig.vendor, f"http://{rig.vendor}-b.localhost", f"{rig.vendor}-b")
    crm = Crm(Store(path), http, [profile])
    unpace(crm, virtual=True)
    crm.outbox.check_delays = CHECKS
    try:
        yield crm
    finally:
        await crm.close()
        await http.aclose()
        crm.store.close()


async def noted(crm: Crm, ref: RecordRef) -> None:
    """A note of ours on ``ref``, posted by ``crm`` (where the failed edit is not due)."""
    note = await crm.add_note(ref, "Called about the renewal")
    await crm.outbox.flush(ref.profile)
    await crm.outbox.wait_idle()
    assert state(crm, note).state is ChangeState.DONE


async def checked(rig: Rig) -> None:
    """The failed edit is due now: checked with the vendor, then sent or decided."""
    rig.crm.outbox.wake(rig.vendor)
    await rig.settle()


async def check_keeps_theirs(rig: Rig, edit: Landed, value: str = "Mine, landed") -> None:
    """The edit, due now, is checked: a conflict, their value kept, ours not sent again."""
    await checked(rig)
    kept = state(rig.crm, edit.change)
    assert kept.state is ChangeState.CONFLICT, f"{rig.vendor}: {kept.state} {kept.last_error}"
    assert await held(rig, edit.ref, edit.field) == edit.before  # theirs, not overwritten
    assert edit.witness.count(value) == 1  # the lost send only


@pytest.mark.parametrize("vendor", STAMPED)
async def test_a_note_the_vendor_refused_does_not_hide_someone_setting_our_edit_back(
    rigs: Callable[..., Rig], vendor: str
) -> None:
    rig = rigs(vendor)
    edit = await landed_edit(rig, "Mine, landed")
    await set_back(rig, edit)

    # our note on the record is refused every time (429: certainly not processed)
    retries = rig.crm.http.max_retries + 1
    edit.witness.armed.extend(["429-bare"] * retries)
    note = await rig.crm.add_note(edit.ref, "Called about the renewal")
    await rig.settle()
    refused = state(rig.crm, note)
    assert refused.state is ChangeState.FAILED, refused
    assert not rig.crm.store.maybe_sent(note.id)  # it did not land
    assert edit.witness.count("Called about the renewal") == retries

    await check_keeps_theirs(rig, edit)


@pytest.mark.parametrize("vendor", STAMPED)
async def test_someone_setting_our_edit_back_after_our_note_landed_is_a_conflict(
    rigs: Callable[..., Rig], vendor: str
) -> None:
    edit = await landed_edit(rig := rigs(vendor), "Mine, landed")
    # our note, posted by e.g. `crmtui sync` beside the app (the edit is not due there)
    async with beside(rig) as other:
        await noted(other, edit.ref)

    rig.app.state.clock.anchor += timedelta(seconds=30)  # half a minute later...
    await set_back(rig, edit)  # ...someone sets our landed edit back

    await check_keeps_theirs(rig, edit)


class AfterRead:
    """In front of a sandbox: the next GET of ``path`` is answered by the sandbox, then
    ``meanwhile`` runs, then the answer reaches the client (a write of another sender
    lands between the vendor reading the record and the check seeing it)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.path = ""
        self.meanwhile: Callable[[], Awaitable[None]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hook = self.meanwhile
        if hook is None or scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        if not scope["path"].endswith(self.path):  # another read: as it is
            await self.app(scope, receive, send)
            return
        self.meanwhile = None
        answer: list[Any] = []

        async def keep(message: Any) -> None:
            answer.append(message)

        await self.app(scope, receive, keep)
        await hook()
        for message in answer:
            await send(message)


async def test_our_note_landing_after_the_check_read_the_record_excuses_nothing(
    rigs: Callable[..., Rig],
) -> None:
    rig = rigs("salesloft")
    edit = await landed_edit(rig, "Mine, landed")
    await set_back(rig, edit)
    gate = AfterRead(edit.witness)
    rig.crm.http.mount_app("http://salesloft.localhost", gate)
    rig.crm.outbox.check_delays = ()  # the check reads the record once

    async with beside(rig) as other:

        async def our_note_there() -> None:
            await noted(other, edit.ref)

        gate.path = f"/{edit.ref.id}"
        gate.meanwhile = our_note_there
        await check_keeps_theirs(rig, edit)
    assert gate.meanwhile is None  # the note went while the check read the record


async def test_our_note_on_the_same_id_in_another_profile_excuses_nothing(
    rigs: Callable[..., Rig],
) -> None:
    edit = await landed_edit(rig := rigs("salesloft"), "Mine, landed")
    await set_back(rig, edit)
    # a second Salesloft account in the same cache: the same seed, so the same ids
    account = sandbox.create_app("salesloft", rate_limit=False, now=utcnow())
    async with beside(rig, account) as other:
        twin = RecordRef(profile="salesloft-b", kind=edit.ref.kind, id=edit.ref.id)
        await noted(other, twin)
    assert edit.witness.count("Called about the renewal") == 0  # not on this account

    await check_keeps_theirs(rig, edit)


@pytest.mark.parametrize("vendor", STAMPED)
async def test_keeping_mine_after_someone_set_our_edit_back_sends_it_once(
    rigs: Callable[..., Rig], vendor: str
) -> None:
    """Once the user has seen their value and chosen ours, ours goes (it conflicted again
    at every try: the old value on a version newer than our first send)."""
    edit = await landed_edit(rig := rigs(vendor), "Mine, landed")
    await set_back(rig, edit)
    await check_keeps_theirs(rig, edit)  # shown, theirs kept

    rig.crm.resolve(edit.change.id, {edit.field: "mine"})  # the user keeps theirs out
    await rig.settle()
    kept = state(rig.crm, edit.change)
    assert kept.state is ChangeState.DONE, f"{vendor}: {kept.state} {kept.last_error}"
    assert await held(rig, edit.ref, edit.field) == "Mine, landed"
    assert edit.witness.count("Mine, landed") == 2  # the lost send and the chosen one
