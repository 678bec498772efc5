"""The whole job from the keyboard (issue 17), per vendor: what the tests of each point
leave out, one app run per vendor, the scenarios one after the other on different
records so they do not meet.

What each point's own tests cover already (one app per vendor there): create from a list
and a record (test_create: every vendor; offline on SalesSeek), undo after send with the
vendor holding the old value back (test_undo: every vendor), Won from the board
(test_board_vendors: every vendor; Salesloft says its stages have no won), open and copy
(test_open_copy: every vendor), log a call with its follow-up task (test_log_call:
Salesloft, Freshsales, SalesSeek; offline on SalesSeek). Here, per vendor:

- **log** a call with its follow-up task where no app test logs one (ActiveCampaign;
  SalesforceIQ, which has no tasks: the form says so in its words);
- **bulk edit** of 25 records of the board's kind (deals; Salesloft's people): ``space``
  marks 25 rows, ``e`` sets the stage, ``enter y`` typed with no pause confirms the
  preview; the requests the sandbox receives until every change is sent are the
  preview's cost, and the vendor then holds the new stage on each;
- **offline** create and log where no test does (every vendor but SalesSeek): the new
  record shows at once (a local id, queued), the call on the timeline at once; both go
  when the vendor is back, and the vendor then holds them.

And the gaps of issue 17.3 this found: ``U`` undoes a bulk edit as one entry (Salesloft,
Freshsales: the service's, the same for every vendor); a typed value, enter and y with
no pause confirm the preview (SalesSeek); the undo of a sent create that a colleague
changed since stops as a conflict whose screen shows what changed and the choice
(Freshsales).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, Static

from crmtui.fields import same_value
from crmtui.model import (
    Change,
    ChangeOp,
    ChangeState,
    FieldSpec,
    FieldType,
    Record,
    RecordRef,
    Role,
)
from crmtui.service.bulk import BulkPlan
from crmtui.ui.screens.board import group_field
from crmtui.ui.screens.bulk import BulkEditScreen, value_choices
from crmtui.ui.screens.conflict import ConflictScreen
from crmtui.ui.screens.create import CreateScreen
from crmtui.ui.screens.log_call import LogCallScreen
from crmtui.ui.screens.outbox import OutboxScreen
from crmtui.ui.screens.record import RecordScreen
from crmtui.ui.screens.undo import UndoListScreen, UndoPreview
from crmtui.ui.widgets.timeline import Timeline, TimelineEntry
from tests.helpers.calls import follow_ups, vendor_calls
from tests.helpers.service import Unreachable
from tests.helpers.ui import (
    Demo,
    build_demo,
    burst,
    fill_field,
    open_kind,
    open_record,
    wait_for,
)

SIZE = (140, 44)
MARKED = 25  # rows a bulk edit marks
AWAY = 30  # the place (in the cache's order) of the record a call is logged on: not marked


@dataclass(frozen=True)
class Job:
    """What one vendor's app run does beyond its points' own tests."""

    bulk: str  # the kind bulk-edited (its stage), a prefix for SalesforceIQ lists
    log_on: str | None = None  # a call logged online on a record of this kind
    no_follow_up: str = ""  # the form's words when the vendor has no follow-up task
    offline_create: tuple[str, dict[str, str]] | None = None  # kind, values ("" the title)
    picks: dict[str, str] = field(default_factory=dict)  # create's reference -> kind
    offline_log_on: str | None = None  # a call logged offline on a record of this kind
    undo_bulk: bool = False  # U undoes the bulk edit as one (the service's, any vendor's)


JOBS = {
    "salesseek": Job("deal"),  # creates and logs offline in test_create and test_log_call
    "salesloft": Job(
        "contact",
        offline_create=("contact", {"first_name": "Ada", "last_name": "", "email": "ada@x.io"}),
        offline_log_on="contact",
        undo_bulk=True,
    ),
    "activecampaign": Job(
        "deal",
        log_on="deal",
        offline_create=("deal", {"name": "", "amount": "1250"}),
        picks={"contact": "contact"},
        offline_log_on="deal",
    ),
    "freshsales": Job(
        "deal",
        offline_create=("contact", {"first_name": "Ada", "last_name": "", "email": "a@x.io"}),
        offline_log_on="deal",
        undo_bulk=True,
    ),
    "salesforceiq": Job(
        "list:",
        log_on="contact",
        no_follow_up="No follow-up task: SalesforceIQ has no tasks crmtui can create",
        offline_create=("contact", {"name": ""}),
        offline_log_on="contact",
    ),
}


class Counted(httpx.ASGITransport):
    """The sandbox, counting the requests it receives."""

    def __init__(self, app: object) -> None:
        super().__init__(app=app)  # type: ignore[arg-type]
        self.received: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.received.append(f"{request.method} {request.url.path}")
        return await super().handle_async_request(request)


@dataclass
class Rig:
    vendor: str
    demo: Demo
    sandbox: Counted

    @property
    def profile(self) -> str:
        return f"demo-{self.vendor}"

    @property
    def origin(self) -> str:
        return f"http://{self.vendor}.localhost"

    def offline(self) -> None:
        self.demo.crm.http.transport.mount(self.origin, Unreachable())

    def online(self) -> None:
        self.demo.crm.http.transport.mount(self.origin, self.sandbox)

    async def kind(self, prefix: str) -> str:
        kinds = await self.demo.crm.kinds(self.profile)
        return next(k.kind for k in kinds if k.kind.startswith(prefix))


def queued_entries(pilot: Pilot) -> list[TimelineEntry]:
    screen = pilot.app.screen
    assert isinstance(screen, RecordScreen)
    return [e for e in screen.query_one(Timeline).query(TimelineEntry) if e.has_class("-queued")]


async def sent_all(pilot: Pilot, rig: Rig) -> None:
    """Back online: everything queued is sent (the test fails naming what is not)."""
    crm = rig.demo.crm
    await crm.send_now(rig.profile)
    try:
        await wait_for(pilot, lambda: not crm.changes(rig.profile), timeout=20)
    except AssertionError:
        raise AssertionError(
            [(c.state, c.last_error, c.values) for c in crm.changes(rig.profile)]
        ) from None


# -- log a call with its follow-up task ---------------------------------------------------


async def log_a_call(
    pilot: Pilot, rig: Rig, note: str, follow_up: str
) -> tuple[LogCallScreen, str]:
    """`L` on the record shown, the note and (where the vendor has tasks) the follow-up
    task filled, saved; the form, and what it said under its title."""
    await pilot.press("L")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, LogCallScreen))
    screen = pilot.app.screen
    assert isinstance(screen, LogCallScreen)
    await wait_for(pilot, lambda: screen.is_mounted and screen.query("#field-note"))
    keys = {spec.key for spec in screen.specs}
    if "duration" in keys:
        await fill_field(pilot, screen, "duration", "12")
    await fill_field(pilot, screen, "note", note)
    if "follow_up" in keys:
        await fill_field(pilot, screen, "follow_up", follow_up)
        due = next(s for s in screen.specs if s.key == "follow_up_due")
        await fill_field(
            pilot, screen, "follow_up_due", "2027-01-15" + " 10:00" * (due.type.value == "datetime")
        )
    said = str(screen.query_one("#create-from", Static).render())
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
    return screen, said


async def logs_a_call_with_its_follow_up(pilot: Pilot, rig: Rig, job: Job) -> None:
    """Online: the call on the timeline at once, then in the vendor's data with its note;
    the follow-up task created, or the form saying the vendor has none."""
    assert job.log_on is not None
    demo = rig.demo
    record = await open_record(pilot, demo, rig.vendor, job.log_on, at=AWAY)
    await wait_for(pilot, lambda: demo.crm.cached_timeline(record.ref) is not None)
    before = len(vendor_calls(rig.vendor, demo.db))
    note, task = f"Whole job call {rig.vendor}", f"Whole job follow-up {rig.vendor}"
    demo.crm.outbox.paused = True  # to see it queued before it goes
    form, said = await log_a_call(pilot, rig, note, task)
    has_task = any(spec.key == "follow_up" for spec in form.specs)
    assert has_task is not bool(job.no_follow_up)
    if job.no_follow_up:  # in the vendor's words, on the form
        assert job.no_follow_up in said, said
    await wait_for(pilot, lambda: any(note in e.activity.summary for e in queued_entries(pilot)))
    demo.crm.outbox.paused = False
    await sent_all(pilot, rig)
    await wait_for(pilot, lambda: not queued_entries(pilot))  # the vendor's entry instead
    calls = vendor_calls(rig.vendor, demo.db)
    assert len(calls) == before + 1 and note in calls[-1]["note"]
    if has_task:
        assert len(follow_ups(rig.vendor, demo.db, task)) == 1
    await pilot.press("escape")


# -- offline: create and log --------------------------------------------------------------


async def creates_offline(pilot: Pilot, rig: Rig, job: Job) -> Record:
    """Offline, `c` on a list: the new record at once (a local id, queued); back online
    it goes, its id the vendor's, the vendor holding it."""
    assert job.offline_create is not None
    crm = rig.demo.crm
    kind = await rig.kind(job.offline_create[0])
    title = f"Offline {rig.vendor} 17"
    view = await open_kind(pilot, kind)
    picked = {}
    for key, other in job.picks.items():  # the first of the kind, read while online
        await crm.refresh(rig.profile, other)
        listed = crm.window(rig.profile, other, offset=0, limit=5)
        picked[key] = next(r.id for r in listed if ":" not in r.id)
    rig.offline()
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CreateScreen))
    screen = pilot.app.screen
    assert isinstance(screen, CreateScreen)
    for key, text in job.offline_create[1].items():
        await fill_field(pilot, screen, key, text or title)
    for key, value in picked.items():
        await fill_field(pilot, screen, key, value)
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, CreateScreen))

    def shown() -> list[Record]:
        return [r for r in view.table._fetch(0, 5000) if title in r.title]

    await wait_for(pilot, shown)  # at once, from the cache, before the vendor has it
    assert shown()[0].id.startswith("local:")
    await wait_for(pilot, lambda: crm.states[rig.profile].online is False)
    assert {c.state for c in crm.changes(rig.profile)} <= {ChangeState.PENDING, ChangeState.FAILED}

    rig.online()
    await sent_all(pilot, rig)
    made = [r for r in crm.window(rig.profile, kind, offset=0, limit=5000) if title in r.title]
    assert len(made) == 1 and not made[0].id.startswith("local:"), made
    there = await crm.adapter(rig.profile).get(kind, made[0].id)  # the vendor has it
    assert title in there.title
    await wait_for(pilot, lambda: shown() and not shown()[0].id.startswith("local:"))
    return there


async def undoing_a_create_someone_changed_is_settled(pilot: Pilot, rig: Rig, made: Record) -> None:
    """``u`` after the create was sent, a colleague having renamed the record since: the
    delete stops as a conflict; its screen shows what changed (the value created beside
    theirs) and the choice, keep the record first; ``m`` then deletes it all the same."""
    crm, key = rig.demo.crm, "last_name"
    created = made.fields[key]
    colleague = Change(ref=made.ref, values={key: "Renamed by a colleague"}, base={key: created})
    await crm.adapter(rig.profile).update(colleague)
    await pilot.press("u")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, UndoPreview))
    lines = str(pilot.app.screen.query_one("#undo-lines", Static).render())
    assert f"changed since: you created it with {created}, now Renamed by a colleague" in lines
    await pilot.press("y")

    def undo() -> Change | None:
        return next((c for c in crm.changes(rig.profile) if c.op is ChangeOp.DELETE), None)

    await wait_for(pilot, lambda: (u := undo()) is not None and u.state is ChangeState.CONFLICT)
    assert not await crm.adapter(rig.profile).is_deleted(made.ref)  # not deleted silently
    await pilot.press("ctrl+o")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, OutboxScreen))
    outbox = pilot.app.screen
    table = outbox.query_one(DataTable)
    await wait_for(pilot, lambda: table.row_count > 0)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConflictScreen))
    screen = pilot.app.screen
    rows = screen.query_one(DataTable)
    await wait_for(pilot, lambda: rows.row_count > 0)
    first = [str(cell) for cell in rows.get_row_at(0)]
    assert first == ["Last name", created, "Renamed by a colleague", "changed", "▶ keep the record"]
    await pilot.press("m")  # delete it all the same
    await wait_for(pilot, lambda: str(rows.get_row_at(0)[4]) == "▶ delete it")
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: not crm.changes(rig.profile), timeout=20)
    assert await crm.adapter(rig.profile).is_deleted(made.ref)
    await wait_for(pilot, lambda: pilot.app.screen is outbox)
    await pilot.press("escape")


async def logs_offline(pilot: Pilot, rig: Rig, job: Job) -> None:
    """Offline, `L`: the call on the timeline at once (queued), nothing reaches the
    vendor; back online the call (and its follow-up task) go."""
    assert job.offline_log_on is not None
    demo, crm = rig.demo, rig.demo.crm
    record = await open_record(pilot, demo, rig.vendor, job.offline_log_on, at=AWAY + 1)
    await wait_for(pilot, lambda: crm.cached_timeline(record.ref) is not None)
    before = len(vendor_calls(rig.vendor, demo.db))
    note, task = f"Offline call {rig.vendor} 17", f"Offline follow-up {rig.vendor} 17"
    rig.offline()
    form, _ = await log_a_call(pilot, rig, note, task)
    await wait_for(pilot, lambda: any(note in e.activity.summary for e in queued_entries(pilot)))
    await wait_for(pilot, lambda: crm.states[rig.profile].online is False)
    assert len(vendor_calls(rig.vendor, demo.db)) == before

    rig.online()
    await sent_all(pilot, rig)
    await wait_for(pilot, lambda: not queued_entries(pilot))
    calls = vendor_calls(rig.vendor, demo.db)
    assert len(calls) == before + 1 and note in calls[-1]["note"]
    if any(spec.key == "follow_up" for spec in form.specs):
        assert len(follow_ups(rig.vendor, demo.db, task)) == 1
    await pilot.press("escape")


# -- bulk edit of 25 records --------------------------------------------------------------


async def best_target(rig: Rig, kind: str, ids: list[str], stage: FieldSpec) -> str:
    """The stage label (as the value list offers it) that changes the most marked rows."""
    crm = rig.demo.crm
    specs = crm.cached_fields(rig.profile, kind)
    info = crm.kind_info(rig.profile, kind)
    groups = group_field(specs, stage, info.role(Role.PIPELINE) if info else None)
    best, most = "", -1
    for value, _ in value_choices(stage, groups):
        plan = await crm.bulk.plan(rig.profile, kind, ids, stage.key, value)
        if len(plan.changes) > most:
            best, most = value, len(plan.changes)
    return best


async def bulk_edit_field(pilot: Pilot, key: str) -> BulkEditScreen:
    """``e`` on the marked rows, the field ``key`` picked (enter): the bulk edit screen."""
    await pilot.press("e")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, BulkEditScreen))
    screen = pilot.app.screen
    assert isinstance(screen, BulkEditScreen)
    fields = screen.query_one("#bulk-fields", OptionList)
    await wait_for(pilot, lambda: fields.option_count > 0)
    fields.highlighted = next(
        i for i in range(fields.option_count) if fields.get_option_at_index(i).id == key
    )
    await pilot.press("enter")
    return screen


async def bulk_edits_25_at_the_previewed_cost(pilot: Pilot, rig: Rig, job: Job) -> None:
    crm = rig.demo.crm
    kind = await rig.kind(job.bulk)
    view = await open_kind(pilot, kind)
    info = crm.kind_info(rig.profile, kind)
    assert info is not None
    stage_key = info.role(Role.STAGE)
    stage = next(s for s in crm.cached_fields(rig.profile, kind) if s.key == stage_key)
    view.table.focus()
    await burst(pilot, "home", *["space"] * MARKED)  # held down: no pause between
    await wait_for(pilot, lambda: len(view.selection) == MARKED)
    marked = [r for i in range(MARKED) if (r := view.table.record_at(i)) is not None]
    assert len(marked) == MARKED
    target = await best_target(rig, kind, [r.id for r in marked], stage)

    screen = await bulk_edit_field(pilot, stage.key)
    values = screen.query_one("#bulk-values", OptionList)
    await wait_for(pilot, lambda: values.has_focus and values.option_count > 0)
    values.highlighted = next(
        i for i in range(values.option_count) if values.get_option_at_index(i).id == target
    )
    await wait_for(pilot, lambda: not any(w.is_running for w in pilot.app.workers))
    start = len(rig.sandbox.received)
    await burst(pilot, "enter", "y")  # no pause: the y confirms the preview once it is up
    await wait_for(pilot, lambda: screen.step == "sending", timeout=20)
    plan = screen.plan
    assert plan is not None and len(plan.rows) == MARKED and len(plan.changes) > MARKED // 2
    assert plan.read_requests == 0  # the rows had the stage: the preview read nothing
    cost = str(screen.query_one("#bulk-cost", Static).render())
    assert cost.startswith(f"Cost: {plan.cost.requests} request"), cost
    total = len(plan.changes)
    progress = screen.query_one("#bulk-progress", Static)
    await wait_for(pilot, lambda: f"{total} of {total} sent" in str(progress.render()), timeout=30)
    received = rig.sandbox.received[start:]
    assert len(received) == plan.cost.requests, received  # the preview's cost, exactly
    await pilot.press("escape")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, BulkEditScreen))
    assert not view.selection  # a confirmed edit clears the marks
    adapter = crm.adapter(rig.profile)
    for row in plan.changes:  # the vendor holds the new stage on each
        there = await adapter.get(row.ref.kind, row.ref.id)
        assert same_value(there.fields[stage.key], plan.values[row.ref]), row

    if job.undo_bulk:
        await undo_the_whole_bulk_edit(
            pilot, rig, plan, {r.ref: r.fields[stage.key] for r in marked}
        )


async def undo_the_whole_bulk_edit(
    pilot: Pilot, rig: Rig, plan: BulkPlan, was: dict[RecordRef, object]
) -> None:
    """``U`` lists the bulk edit as one entry; enter previews undoing all of it, ``y``
    sends it; the vendor holds each old value back, and the undo is one entry too."""
    crm, key, total = rig.demo.crm, plan.spec.key, len(plan.changes)
    adapter = crm.adapter(rig.profile)
    await pilot.press("U")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, UndoListScreen))
    table = pilot.app.screen.query_one(DataTable)
    await wait_for(pilot, lambda: table.row_count > 0)
    first = [str(cell) for cell in table.get_row_at(0)]
    assert first[1] == "sent" and first[2].startswith(f"{total} ") and "bulk edit" in first[3]
    await pilot.press("enter")
    await wait_for(
        pilot,
        lambda: isinstance(pilot.app.screen, UndoPreview) and pilot.app.screen.query("#keep"),
        timeout=20,
    )
    lines = str(pilot.app.screen.query_one("#undo-lines", Static).render())
    assert lines.startswith(f"{total} of {total} undone:"), lines
    assert not pilot.app.screen.query("#undo-warning")
    await pilot.press("y")
    await wait_for(pilot, lambda: not crm.changes(rig.profile), timeout=30)
    for row in plan.changes:  # the vendor holds the old stage back on each
        there = await adapter.get(row.ref.kind, row.ref.id)
        assert same_value(there.fields[key], was[row.ref]), row
    # the undo is one entry too, above the bulk edit, now undone
    await wait_for(pilot, lambda: str(table.get_row_at(1)[1]) == "sent, undone")
    first = [str(cell) for cell in table.get_row_at(0)]
    assert first[1] == "sent" and first[3].startswith("bulk edit: undo: "), first
    await pilot.press("escape")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, UndoListScreen))


async def a_typed_value_enter_y_with_no_pause_confirms(pilot: Pilot, rig: Rig, job: Job) -> None:
    """A date typed, enter and y with no pause: the y confirms the preview of that date
    (it went into the value's box); both marked records then hold it at the vendor."""
    crm = rig.demo.crm
    kind = await rig.kind(job.bulk)
    view = await open_kind(pilot, kind)
    date = next(s for s in await crm.bulk.fields(rig.profile, kind) if s.type is FieldType.DATE)
    view.table.focus()
    view.table.cursor = MARKED  # records the 25 above left alone
    await pilot.press("space", "space")
    await wait_for(pilot, lambda: len(view.selection) == 2)
    screen = await bulk_edit_field(pilot, date.key)
    box = screen.query_one("#bulk-input", Input)
    await wait_for(pilot, lambda: box.has_focus)
    await burst(pilot, *"2027-03-31", "enter", "y")
    await wait_for(pilot, lambda: screen.step == "sending")
    assert box.value == "2027-03-31"  # the y confirmed, it is not in the value
    plan = screen.plan
    assert plan is not None and len(plan.changes) == 2
    progress = screen.query_one("#bulk-progress", Static)
    await wait_for(pilot, lambda: "2 of 2 sent" in str(progress.render()), timeout=20)
    for row in plan.changes:
        there = await crm.adapter(rig.profile).get(row.ref.kind, row.ref.id)
        assert str(there.fields[date.key]).startswith("2027-03-31"), there.fields[date.key]
    await pilot.press("escape")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, BulkEditScreen))


@pytest.mark.parametrize("vendor", list(JOBS))
async def test_the_whole_job_on_one_app_per_vendor(tmp_path: Path, vendor: str) -> None:
    demo = build_demo(vendor, tmp_path / "cache.sqlite3")
    rig = Rig(vendor, demo, Counted(demo.sandbox))
    rig.online()
    job = JOBS[vendor]
    async with demo.app.run_test(size=SIZE, notifications=True) as pilot:
        if job.log_on:
            await logs_a_call_with_its_follow_up(pilot, rig, job)
        if job.offline_log_on:
            await logs_offline(pilot, rig, job)
        if job.offline_create:
            made = await creates_offline(pilot, rig, job)
            if vendor == "freshsales":
                await undoing_a_create_someone_changed_is_settled(pilot, rig, made)
        await bulk_edits_25_at_the_previewed_cost(pilot, rig, job)
        if vendor == "salesseek":
            await a_typed_value_enter_y_with_no_pause_confirms(pilot, rig, job)
