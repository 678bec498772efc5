"""Bulk edit in the service: the preview (before → after, skipped, refused, nothing
queued) and its request cost against what the sandbox is actually sent, per vendor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crmtui.demo import demo_crm
from crmtui.fields import FieldError, same_value
from crmtui.http import Http
from crmtui.http.log import LogEntry
from crmtui.model import FieldType, KindInfo, Record, Role
from crmtui.service import Crm
from crmtui.service.bulk import BulkPlan, duration
from tests.helpers.service import Unreachable
from tests.helpers.waits import no_sleep

VENDORS = ["freshsales", "activecampaign", "salesseek", "salesloft", "salesforceiq"]
SELECTED = 25


async def open_demo(vendor: str, path: Path, *, rate_limits: bool = False) -> Crm:
    crm, _ = demo_crm(
        vendors=[vendor],
        store_path=path / "cache.sqlite3",
        rate_limits=rate_limits,
        http=None if rate_limits else Http(sleep=no_sleep),
    )
    return crm


async def staged(crm: Crm) -> tuple[str, KindInfo, list[Record]]:
    """The profile, its first kind with a stage (deals; Salesloft's people) synced, and
    its first ``SELECTED`` records."""
    profile = crm.profile_names[0]
    info = next(i for i in await crm.kinds(profile) if i.role(Role.STAGE))
    await crm.sync(profile, [info.kind])
    await crm.fields(profile, info.kind)
    return profile, info, crm.window(profile, info.kind, offset=0, limit=SELECTED)


@pytest.fixture
async def crms(tmp_path: Path) -> AsyncIterator[list[Crm]]:
    opened: list[Crm] = []
    yield opened
    for crm in opened:
        await crm.close()


@pytest.mark.parametrize("vendor", VENDORS)
async def test_preview_cost_is_what_the_vendor_is_sent(
    vendor: str, tmp_path: Path, crms: list[Crm]
) -> None:
    crm = await open_demo(vendor, tmp_path)
    crms.append(crm)
    profile, info, records = await staged(crm)
    assert len(records) == SELECTED
    key = info.role(Role.STAGE)
    assert key is not None
    spec = next(s for s in crm.cached_fields(profile, info.kind) if s.key == key)
    # the first record's stage as the target: it (and others there) are skipped
    target = spec.choice(records[0].fields[key])
    assert target is not None
    sent: list[LogEntry] = []
    stop = crm.watch_requests(sent.append)

    plan = await crm.bulk.plan(profile, info.kind, [r.id for r in records], key, target.label)

    assert sent == [] and plan.read_requests == 0  # the rows had the field: no read
    assert crm.queued(profile) == 0  # a preview queues nothing
    assert len(plan.rows) == SELECTED
    assert plan.changes, plan.summary
    skipped = plan.skipped
    assert records[0].ref in {row.ref for row in skipped}
    for row in skipped:
        assert row.reason == f"already {target.label}" and row.before == target.label
    for row in plan.changes:  # labels, never keys
        assert row.after == target.label and row.before != row.after
        assert row.line == f"{row.title}: {row.before} → {target.label}"
    for row in plan.refused:  # a stage of another pipeline: the inline edit's words
        assert row.reason and row.before == row.after
    assert f"{len(plan.changes)} to change" in plan.summary
    assert plan.cost.requests > 0 and "request" in plan.cost.text

    changes = await crm.bulk.apply(plan)
    assert len(changes) == len(plan.changes)
    await crm.send_now(profile)
    await crm.outbox.wait_idle()
    stop()

    assert len(sent) == plan.cost.requests, [f"{e.method} {e.path}" for e in sent]
    progress = crm.bulk.progress(changes)
    assert progress.done and progress.text == f"{len(changes)} of {len(changes)} sent"
    adapter = crm.adapter(profile)
    for change in changes[:2]:  # the vendor has the new value (a stage named alike in
        there = await adapter.get(change.ref.kind, change.ref.id)  # each pipeline: its own)
        assert same_value(there.fields[key], plan.values[change.ref])
    undo = await crm.undo.plan(changes[0].id)  # each change undoable on its own
    assert undo.action == "compensate"


async def test_rows_lacking_the_field_are_read_first_and_counted_apart(
    tmp_path: Path, crms: list[Crm]
) -> None:
    """ActiveCampaign's list rows carry no custom fields (its close date is one): the
    preview reads those deals so each edit is based on the vendor's value (no false
    conflict), counts those reads apart, and the send still costs what it said."""
    crm = await open_demo("activecampaign", tmp_path)
    crms.append(crm)
    profile, _, records = await staged(crm)
    chosen = records[:6]
    assert all("expected_close" not in r.fields for r in chosen)
    sent: list[LogEntry] = []
    stop = crm.watch_requests(sent.append)
    plan = await crm.bulk.plan(
        profile, "deal", [r.id for r in chosen], "expected_close", "2031-05-04"
    )
    assert plan.read_requests == len(sent) > 0
    assert len(plan.changes) == len(chosen)
    assert all(row.after == "2031-05-04" for row in plan.changes)
    before = len(sent)
    changes = await crm.bulk.apply(plan)
    await crm.send_now(profile)
    stop()
    assert len(sent) - before == plan.cost.requests
    assert crm.bulk.progress(changes).sent == len(chosen)  # none conflicted


async def test_refusals_pacing_and_withdrawal(tmp_path: Path, crms: list[Crm]) -> None:
    crm = await open_demo("freshsales", tmp_path, rate_limits=True)
    crms.append(crm)
    profile = crm.profile_names[0]
    await crm.kinds(profile)
    specs = await crm.fields(profile, "deal")
    readonly = next(s for s in specs if not s.writable)
    with pytest.raises(FieldError, match="cannot be changed"):
        await crm.bulk.plan(profile, "deal", ["1"], readonly.key, "x")
    with pytest.raises(FieldError, match="cannot be changed"):
        await crm.bulk.plan(profile, "deal", ["1"], "no_such_field", "x")
    await crm.refresh(profile, "deal")
    records = crm.window(profile, "deal", offset=0, limit=4)
    # a value the field refuses: every record refused, with the inline edit's reason
    bad: BulkPlan = await crm.bulk.plan(profile, "deal", [r.id for r in records], "amount", "lots")
    assert not bad.changes and len(bad.refused) == len(records)
    assert all("Amount" in row.reason or "number" in row.reason for row in bad.refused)
    assert bad.cost.requests == 0 and "nothing to send" in bad.cost.text
    ids = [r.id for r in records] + ["404404404"]  # one the cache does not have
    plan = await crm.bulk.plan(profile, "deal", ids, "amount", "1234")
    # read from the vendor, which answers 404: refused as gone, not "try again"
    assert plan.refused[-1].reason.startswith("Freshsales has no such deal")
    # pacing: more requests than the budget lets go at once take time, said as such
    cost = crm.bulk.cost(profile, records * 400)
    assert cost.seconds > 0 and "paced over about" in cost.text
    assert f"({cost.budget.describe()})" in cost.text if cost.budget else False
    changes = await crm.bulk.apply(plan)
    crm.outbox.paused = True  # still queued: each is withdrawn by the undo
    for change in changes:
        crm.discard(change.id)
    progress = crm.bulk.progress(changes)
    assert progress.withdrawn == len(changes) and progress.done


def test_duration_reads_as_a_person_says_it() -> None:
    assert [duration(s) for s in (0.2, 45, 200, 3600, 3900)] == [
        "1 s",
        "45 s",
        "3 min 20 s",
        "1 h",
        "1 h 5 min",
    ]


async def test_notebook_bulk_edit(tmp_path: Path, crms: list[Crm]) -> None:
    """``Client.bulk_edit``: the field by its label, a preview that queues nothing, then
    the same edit queued (one change per record) and sent."""
    from crmtui.api import Client

    crm = await open_demo("freshsales", tmp_path)
    crms.append(crm)
    profile, info, records = await staged(crm)
    client = Client(crm, profile)
    chosen = records[:3]
    # a reference by the name of the record it names, before and after (never its id)
    await crm.sync(profile, ["company"])
    account = crm.window(profile, "company", offset=0, limit=1)[0]
    moved = await client.bulk_edit("deal", chosen, "company", account.id, preview=True)
    assert {row.after for row in moved.changes} == {account.title}
    for row in moved.rows:
        cached = crm.cached(row.ref)
        assert cached is not None and row.before == cached.names["company"]
    plan = await client.bulk_edit("Deals", chosen, "Amount", "4321", preview=True)
    assert crm.queued(profile) == 0
    assert len(plan.changes) == 3 and all("4,321" in row.after for row in plan.changes)
    plan = await client.bulk_edit(info.kind, [r.id for r in chosen], "amount", "4321")
    assert crm.queued(profile) == len(plan.changes) == 3
    await client.sync_outbox()
    for record in chosen:
        there = await crm.adapter(profile).get("deal", record.id)
        assert same_value(there.fields["amount"], "4321")


# Kinds whose read or write takes more than one request each (related records, a read
# before or after the write): the cost the adapter counts is what is sent.
OTHER_KINDS = [
    ("activecampaign", "task"),
    ("salesloft", "company"),
    ("salesloft", "task"),
    ("salesseek", "group"),
    ("salesforceiq", "company"),
    ("salesforceiq", "contact"),
]


@pytest.mark.parametrize(("vendor", "kind"), OTHER_KINDS)
async def test_cost_of_other_kinds(vendor: str, kind: str, tmp_path: Path, crms: list[Crm]) -> None:
    crm = await open_demo(vendor, tmp_path)
    crms.append(crm)
    profile = crm.profile_names[0]
    await crm.kinds(profile)
    await crm.sync(profile, [kind])
    specs = await crm.fields(profile, kind)
    # a text field other than the name (SalesforceIQ reads an account first without it)
    spec = next(s for s in specs if s.writable and s.type is FieldType.TEXT and not s.custom)
    records = crm.window(profile, kind, offset=0, limit=3)
    plan = await crm.bulk.plan(profile, kind, [r.id for r in records], spec.key, "Bulk 17")
    assert len(plan.changes) == 3, plan.summary
    sent: list[LogEntry] = []
    stop = crm.watch_requests(sent.append)
    changes = await crm.bulk.apply(plan)
    await crm.send_now(profile)
    stop()
    assert crm.bulk.progress(changes).sent == 3
    assert len(sent) == plan.cost.requests, [f"{e.method} {e.path}" for e in sent]


async def test_offline_preview_and_queue(tmp_path: Path, crms: list[Crm]) -> None:
    """Offline: the preview works from the cache and the changes wait in the outbox
    (0 sent) until the vendor answers; a row that lacks the field cannot be previewed
    and says why."""
    crm, demos = demo_crm(
        vendors=["activecampaign"],
        store_path=tmp_path / "cache.sqlite3",
        rate_limits=False,
        http=Http(sleep=no_sleep),
    )
    crms.append(crm)
    profile, info, records = await staged(crm)
    origin = "http://activecampaign.localhost"
    crm.http.transport.mount(origin, Unreachable())
    ids = [r.id for r in records[:3]]
    lacking = await crm.bulk.plan(profile, "deal", ids, "expected_close", "2031-05-04")
    assert [row.action for row in lacking.rows] == ["refused"] * 3
    assert (
        lacking.rows[0].reason.startswith("its ") and "could not be read" in lacking.rows[0].reason
    )
    assert lacking.rows[0].title == records[0].title
    key = info.role(Role.STAGE)
    assert key is not None
    spec = next(s for s in crm.cached_fields(profile, "deal") if s.key == key)
    target = spec.choice(records[0].fields[key])
    assert target is not None
    plan = await crm.bulk.plan(profile, "deal", ids, key, target.label)
    changes = await crm.bulk.apply(plan)
    assert changes and crm.queued(profile) == len(changes)
    await crm.outbox.wait_idle()
    progress = crm.bulk.progress(changes)
    assert progress.sent == 0 and not progress.done
    crm.http.mount_app(origin, demos[0].app)
    await crm.send_now(profile)
    assert crm.bulk.progress(changes).text == f"{len(changes)} of {len(changes)} sent"
