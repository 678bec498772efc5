"""Undoing a sent create (issue 17 point 3) never deletes someone else's newer change
silently: the plan reads the record and names each field changed since crmtui created it,
and the compensating delete expects what was created. The outbox reads the record right
before deleting: a field someone changed since makes the undo a conflict shown in the
outbox, and the record stays at the vendor; a record already deleted there makes the undo
done, said so. Service level, on the Freshsales and SalesSeek sandboxes (both document
their deletes); the colleague writes to the sandbox's own data, behind crmtui's back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from crmtui.demo import demo_crm
from crmtui.http import Http
from crmtui.model import Change, ChangeState, RecordRef
from crmtui.service import Crm, Event
from crmtui.service.events import Notice
from tests.helpers.waits import no_sleep

VENDORS = ["freshsales", "salesseek"]


@dataclass
class Demo:
    vendor: str
    crm: Crm
    sandbox: Any
    events: list[Event] = field(default_factory=list)

    @property
    def profile(self) -> str:
        return f"demo-{self.vendor}"

    def company(self, ref: RecordRef) -> dict[str, Any] | None:
        """The company as the vendor's own data holds it (None: not there)."""
        db = self.sandbox.state.db
        if self.vendor == "freshsales":
            found: dict[str, Any] | None = db.sales_accounts.get(int(ref.id))
            return found
        found = db.organizations.get(ref.id)
        return found

    def notices(self) -> list[str]:
        return [e.text for e in self.events if isinstance(e, Notice)]


@pytest.fixture(params=VENDORS)
async def demo(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Demo]:
    crm, demos = demo_crm(
        vendors=[request.param],
        store_path=tmp_path / "cache.sqlite3",
        http=Http(sleep=no_sleep),
        rate_limits=False,
    )
    async with crm:
        made = Demo(request.param, crm, demos[0].app)
        crm.subscribe(made.events.append)
        await crm.kinds(made.profile)
        await crm.fields(made.profile, "company")
        yield made


async def sent_company(demo: Demo, name: str) -> Change:
    """A company crmtui created, sent: the done change, naming the vendor's id."""
    change = await demo.crm.create(demo.profile, "company", {"name": name})
    await demo.crm.send_now(demo.profile)
    done = demo.crm.change(change.id)
    assert done is not None and done.state is ChangeState.DONE, done
    assert demo.company(done.ref) is not None
    return done


async def test_undo_of_a_create_checks_the_record_before_deleting(demo: Demo) -> None:
    crm, profile = demo.crm, demo.profile

    # 1. a colleague renamed it since: the preview says so, the undo stops as a conflict
    edited = await sent_company(demo, "Made by mistake")
    colleague = demo.company(edited.ref)
    assert colleague is not None
    colleague["name"] = "Renamed by a colleague"
    plan = await crm.undo.plan(edited.id)
    assert plan.action == "compensate" and plan.moved
    assert plan.lines == [
        "Delete Renamed by a colleague (it was created by this change)",
        "Name changed since: you created it with Made by mistake, now Renamed by a colleague",
    ]
    [undo] = crm.undo.apply(plan)
    await crm.send_now(profile)
    conflict = crm.change(undo.id)
    assert conflict is not None and conflict.state is ChangeState.CONFLICT
    assert conflict.last_error == (
        "not deleted: Name changed on the server since crmtui created it. Discard this "
        f"change (d) to keep the record, or delete it in {crm.vendor_label(profile)}."
    )
    assert conflict.theirs == {"name": "Renamed by a colleague"}
    assert [c.id for c in crm.changes(profile)] == [undo.id]  # shown in the outbox
    assert demo.company(edited.ref) == colleague  # still there, untouched
    assert (
        "Renamed by a colleague: Name changed on the server since crmtui created it, so it "
        "was not deleted. Open the outbox (ctrl+o) to see it."
    ) in demo.notices()
    crm.discard(undo.id)  # the rep keeps the colleague's record
    assert crm.changes(profile) == []

    # 2. nobody touched it: the preview is the delete alone, and it is deleted
    plain = await sent_company(demo, "Typo company")
    plan = await crm.undo.plan(plain.id)
    assert plan.lines == ["Delete Typo company (it was created by this change)"]
    assert not plan.moved
    crm.undo.apply(plan)
    await crm.send_now(profile)
    assert crm.changes(profile) == []
    assert demo.company(plain.ref) is None
    assert await crm.adapter(profile).is_deleted(plain.ref)

    # 3. deleted at the vendor between the preview and the send: done, and said so
    gone = await sent_company(demo, "Deleted elsewhere")
    plan = await crm.undo.plan(gone.id)
    assert not plan.moved
    await crm.adapter(profile).delete(gone.ref)  # a colleague deletes it there
    [undo] = crm.undo.apply(plan)
    await crm.send_now(profile)
    done = crm.change(undo.id)
    assert done is not None and done.state is ChangeState.DONE
    assert crm.changes(profile) == []
    assert any(
        "Deleted elsewhere was already deleted in" in text and "the undo is done" in text
        for text in demo.notices()
    )
    assert crm.cached(gone.ref) is None  # gone from the lists too

    # ... and one already deleted when the undo is planned: nothing to undo, said so
    early = await sent_company(demo, "Deleted before the undo")
    await crm.adapter(profile).delete(early.ref)
    plan = await crm.undo.plan(early.id)
    vendor = crm.vendor_label(profile)
    assert plan.action == "refused"
    assert plan.lines == [
        f"Deleted before the undo is already deleted in {vendor}: nothing to undo."
    ]


async def test_undo_of_a_logged_call_says_it_is_deleted_without_a_check(demo: Demo) -> None:
    crm, profile = demo.crm, demo.profile
    page = await crm.refresh(profile, "contact")
    ref = page.records[0].ref
    logged = await crm.calls.log(ref, {"activity": "call", "note": "Left a message"})
    await crm.send_now(profile)
    plan = await crm.undo.plan(logged.change.id)
    vendor = crm.vendor_label(profile)
    assert plan.action == "compensate"
    assert plan.lines[1] == (
        f"Deleted without a check: crmtui cannot read a logged call back from {vendor},"
        " so a change someone made to it since would not be seen."
    )
