"""The record screen tells the truth at a glance (issue 15, point 4), on every vendor.

It opens on the first field that can be edited (``e`` edits it at once); ``j``/``k``,
``g``/``G`` move in the fields; every writable label keeps its ✎; tab and → complete a
choice; a stage is chosen among its own pipeline's stages, each once, and moving to
another pipeline is the pipeline's edit, which then asks for a stage of it; an edit
shows in the timeline as queued at once, then as the vendor records it, or as sent by
crmtui where the vendor's timeline records no such change; after an edit the title and
the related records keep what they showed. One app run per vendor does its checks in
turn (CI time).
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input, Label, ListView, Static

from crmtui.model import FieldSpec, Role
from crmtui.ui.screens.record import FieldItem, RecordScreen
from crmtui.ui.widgets.timeline import Timeline
from tests.helpers.ui import (
    Demo,
    highlight,
    open_field,
    open_kind,
    open_record,
    settle,
    type_into,
    wait_for,
)

SIZE = (160, 48)


def heading(screen: RecordScreen) -> str:
    return str(screen.query_one("#record-title", Static).render())


def related(screen: RecordScreen) -> list[str]:
    return [str(label.render()) for label in screen.query("#related Label").results(Label)]


def fields(screen: RecordScreen) -> ListView:
    return screen.query_one("#fields", ListView)


def items(screen: RecordScreen) -> list[FieldItem]:
    return list(fields(screen).query(FieldItem))


def entries(screen: RecordScreen) -> list[tuple[str, str]]:
    """The timeline's entries as (who, summary), newest first."""
    return [(a.who, a.summary) for a in screen.query_one(Timeline).entries()]


def hint(item: FieldItem) -> str:
    return str(item.query_one(".field-hint", Static).render())


def offered(hint_text: str) -> list[str]:
    """The choices a hint lists (``choices: A · B — tab or → completes``)."""
    line = next(line for line in hint_text.splitlines() if line.startswith("choices: "))
    return line.removeprefix("choices: ").split(" — ")[0].split(" · ")


async def opens_on_the_first_writable_field(pilot: Pilot, screen: RecordScreen) -> None:
    """Focused on open, ``e`` edits the first writable field; j/k/G/g move; every
    writable label shows its ✎ whatever its length."""
    listed = fields(screen)
    rows = items(screen)
    first = next(n for n, item in enumerate(rows) if item.spec.writable)
    await wait_for(pilot, lambda: screen.focused is listed and listed.index == first)
    await pilot.press("e")
    await wait_for(pilot, lambda: rows[first].editing and rows[first].query(Input))
    await pilot.press("escape")
    await wait_for(pilot, lambda: not rows[first].editing and screen.focused is listed)
    await pilot.press("j")
    assert listed.index == first + 1
    await pilot.press("k")
    assert listed.index == first
    await pilot.press("G")
    assert listed.index == len(rows) - 1
    await pilot.press("g")
    assert listed.index == 0
    for item in rows:
        label = str(item.query_one(".field-label", Label).render())
        assert label.endswith(" ✎") == item.spec.writable, label
        assert len(label) <= 20, label  # within its column: the ✎ is never cut off


async def completes_with_tab_and_right(pilot: Pilot, key: str) -> str:
    """tab, then →, complete the first choice offered from its first letters."""
    item = await open_field(pilot, key)
    editor = item.query_one(Input)
    choice = offered(hint(item))[0]
    for accept in ("tab", "right"):
        editor.value = ""
        await pilot.press(*choice[:2])
        await pilot.press(accept)
        await wait_for(pilot, lambda: editor.value == choice)
        assert item.editing and pilot.app.screen.focused is editor  # the editor stays
    await pilot.press("escape")
    await wait_for(pilot, lambda: not item.editing)
    return choice


def pipeline_stages(demo: Demo, screen: RecordScreen, pipeline: object = None) -> list[str]:
    """The stage labels of the record's pipeline (or of ``pipeline``), each once."""
    info = demo.crm.kind_info(screen.ref.profile, screen.ref.kind)
    assert info is not None and screen.record is not None
    specs = {s.key: s for s in demo.crm.cached_fields(screen.ref.profile, screen.ref.kind)}
    pipe, stage = specs[info.roles[Role.PIPELINE]], specs[info.roles[Role.STAGE]]
    value = screen.record.fields[pipe.key] if pipeline is None else pipeline
    names = {str(value), pipe.choice_label(value)}
    return list(dict.fromkeys(c.label for c in stage.choices if c.group in names))


async def stages_are_the_pipelines_own(pilot: Pilot, demo: Demo, screen: RecordScreen) -> None:
    """The stage editor offers the record's pipeline's stages, each label once."""
    info = demo.crm.kind_info(screen.ref.profile, screen.ref.kind)
    assert info is not None
    stage = await open_field(pilot, info.roles[Role.STAGE])
    shown = offered(hint(stage))
    assert shown == pipeline_stages(demo, screen)[:12]
    assert len(shown) == len(set(shown))  # no label twice (SalesSeek: Won · Lost twice)
    every = {c.label for c in stage.spec.choices}
    assert len(every) > len(set(shown))  # other pipelines' stages are left out
    await pilot.press("escape")
    await wait_for(pilot, lambda: not stage.editing)


def spec_of(demo: Demo, screen: RecordScreen, key: str) -> FieldSpec:
    specs = demo.crm.cached_fields(screen.ref.profile, screen.ref.kind)
    return next(s for s in specs if s.key == key)


async def edit_shows_in_the_timeline(
    pilot: Pilot,
    demo: Demo,
    screen: RecordScreen,
    key: str,
    text: str,
    *,
    recorded: str | None = None,
) -> None:
    """An edit shows in the timeline as queued at once; once sent, as the vendor records
    it (``recorded``: its words) or else as sent by crmtui. The heading's other parts and
    the related records stay on screen throughout, and after."""
    # from a screen at rest: an earlier edit's read-back may still change what it shows
    await wait_for(
        pilot, lambda: not demo.crm.changes(screen.ref.profile) and not screen._rereading
    )
    await settle(pilot)
    label = spec_of(demo, screen, key).label
    record = screen.record
    assert record is not None
    before_heading, before_related = heading(screen), related(screen)
    # the heading's parts that name no amount or date (the account, the stage...), but
    # the value edited
    was = spec_of(demo, screen, key).choice_label(record.fields.get(key))
    parts = record.subtitle.split(" · ")
    kept = [p for p in parts if p and p != was and not any(c.isdigit() for c in p)]
    demo.crm.outbox.paused = True  # queued: the timeline says so before it is sent
    item = await open_field(pilot, key)
    await type_into(pilot, item, text)
    await wait_for(pilot, lambda: not item.editing)
    await wait_for(
        pilot, lambda: any(w == "you (queued)" and label in s for w, s in entries(screen))
    )
    assert related(screen) == before_related
    demo.crm.outbox.paused = False
    demo.crm.send_due(screen.ref.profile)
    seen: list[str] = []  # the heading at each look while it is sent and read back

    def done() -> bool:
        seen.append(heading(screen))
        assert related(screen) == before_related, related(screen)  # never emptied
        return not demo.crm.changes(screen.ref.profile) and not screen._rereading

    await wait_for(pilot, done, timeout=20)
    await settle(pilot)
    seen.append(heading(screen))
    for part in kept:  # the account (Freshsales) and the rest stay in the title
        assert all(part in shown for shown in seen), (part, seen, before_heading)
    assert related(screen) == before_related
    timeline = entries(screen)
    assert not any(w == "you (queued)" for w, _ in timeline)
    ours = [s for w, s in timeline if w == "you (sent)" and label in s]
    if recorded is None:  # the vendor's timeline has no such entry: ours stays, as sent
        assert ours, timeline
    else:
        assert not ours and any(recorded in s for _, s in timeline), timeline


async def test_freshsales_record(vendor_demo: Callable[[str], Demo]) -> None:
    demo = vendor_demo("freshsales")
    async with demo.app.run_test(size=SIZE) as pilot:
        screen = await open_record(pilot, demo, "freshsales", "deal")
        await settle(pilot)
        await opens_on_the_first_writable_field(pilot, screen)
        await completes_with_tab_and_right(pilot, "stage")
        await stages_are_the_pipelines_own(pilot, demo, screen)
        # the title kept its account after an edit (it lost it until r)
        await edit_shows_in_the_timeline(pilot, demo, screen, "amount", "8000")
        await edit_shows_in_the_timeline(pilot, demo, screen, "expected_close", "2026-12-24")
        stage = pipeline_stages(demo, screen)[0]
        await edit_shows_in_the_timeline(
            pilot, demo, screen, "stage", stage, recorded=f"Stage changed to {stage}"
        )


async def test_activecampaign_record(vendor_demo: Callable[[str], Demo]) -> None:
    demo = vendor_demo("activecampaign")
    async with demo.app.run_test(size=SIZE) as pilot:
        screen = await open_record(pilot, demo, "activecampaign", "deal")
        await settle(pilot)
        await opens_on_the_first_writable_field(pilot, screen)  # "Forecasted close date ✎"
        await stages_are_the_pipelines_own(pilot, demo, screen)
        ref = screen.ref
        record = screen.record
        assert record is not None
        pipeline = str(record.fields["pipeline"])
        pipes = spec_of(demo, screen, "pipeline").choices
        other = next(c for c in pipes if c.value != pipeline)
        theirs = next(
            s
            for s in pipeline_stages(demo, screen, other.value)
            if s not in pipeline_stages(demo, screen)
        )
        # a stage of another pipeline is refused, never a silent move
        item = await open_field(pilot, "stage")
        await type_into(pilot, item, theirs)
        error = item.query_one(".field-error", Static)
        await wait_for(pilot, lambda: str(error.render()).strip())
        assert "change the pipeline first" in str(error.render())
        assert item.editing and not demo.crm.changes(ref.profile)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not item.editing)

        # the pipeline's edit asks for one of its stages; escape changes neither
        item = await open_field(pilot, "pipeline")
        await type_into(pilot, item, other.label)
        stage = next(i for i in items(screen) if i.spec.key == "stage")
        await wait_for(pilot, lambda: stage.editing and stage.query(Input))
        assert offered(hint(stage)) == pipeline_stages(demo, screen, other.value)[:12]
        assert f"Pipeline → {other.label}" in hint(stage)
        assert not demo.crm.changes(ref.profile)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not stage.editing)
        assert not demo.crm.changes(ref.profile)

        demo.crm.outbox.paused = True
        item = await open_field(pilot, "pipeline")
        await type_into(pilot, item, other.label)
        await wait_for(pilot, lambda: stage.editing and stage.query(Input))
        await type_into(pilot, stage, theirs)  # both, as one edit
        await wait_for(pilot, lambda: not stage.editing)
        (change,) = demo.crm.changes(ref.profile)
        assert change.values.keys() == {"pipeline", "stage"}
        demo.crm.outbox.paused = False
        demo.crm.send_due(ref.profile)
        await wait_for(pilot, lambda: not demo.crm.changes(ref.profile), timeout=20)
        vendor = await demo.crm.get(ref)
        assert str(vendor.fields["pipeline"]) == other.value
        assert spec_of(demo, screen, "stage").choice_label(vendor.fields["stage"]) == theirs

        # the vendor's timeline records a value change: its entry, not a copy of ours
        await edit_shows_in_the_timeline(pilot, demo, screen, "amount", "1234", recorded="Value:")


async def test_salesseek_record(vendor_demo: Callable[[str], Demo]) -> None:
    demo = vendor_demo("salesseek")
    async with demo.app.run_test(size=SIZE) as pilot:
        screen = await open_record(pilot, demo, "salesseek", "deal")
        await settle(pilot)
        await opens_on_the_first_writable_field(pilot, screen)
        await stages_are_the_pipelines_own(pilot, demo, screen)  # Won · Lost once
        await completes_with_tab_and_right(pilot, "currency")
        await edit_shows_in_the_timeline(pilot, demo, screen, "amount", "2600")


async def test_salesloft_record(vendor_demo: Callable[[str], Demo]) -> None:
    demo = vendor_demo("salesloft")
    async with demo.app.run_test(size=SIZE) as pilot:
        screen = await open_record(pilot, demo, "salesloft", "company")
        await settle(pilot)
        await opens_on_the_first_writable_field(pilot, screen)
        await edit_shows_in_the_timeline(pilot, demo, screen, "name", "Atlas Robotics AG")
        await pilot.press("escape")

        # an overdue task marked done and moved: the list and the record say so
        view = await open_kind(pilot, "task")
        table = view.table
        row = next(
            i
            for i in range(table.row_count)
            if (r := table.record_at(i)) is not None and r.fields.get("status") == "open"
        )
        task = table.record_at(row)
        assert task is not None
        table.cursor = row
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
        screen = pilot.app.screen
        assert isinstance(screen, RecordScreen)
        await settle(pilot)
        done = await highlight(pilot, screen, "done")
        await pilot.press("enter")
        await wait_for(pilot, lambda: done.value is True)
        due = await open_field(pilot, "due_date")
        await type_into(pilot, due, "2026-12-05")
        await wait_for(pilot, lambda: not demo.crm.changes(screen.ref.profile), timeout=20)
        await settle(pilot)
        shown = {i.spec.key: str(i.value_label.render()) for i in items(screen)}
        assert shown["due_date"] == "2026-12-05"
        assert shown["due_at"].startswith("2026-12-05"), shown  # one due, in step
        assert shown["status"] == "Completed"
        timeline = entries(screen)
        assert any(w == "you (sent)" and "Due date" in s for w, s in timeline), timeline
        await pilot.press("escape")
        await settle(pilot)
        text = table.render_line(row - int(table.scroll_offset.y) + 1).text
        assert "2026-12-05" in text and "Completed" in text, text
        assert str(task.fields["due_date"]) not in text


async def test_salesforceiq_record(vendor_demo: Callable[[str], Demo]) -> None:
    demo = vendor_demo("salesforceiq")
    async with demo.app.run_test(size=SIZE) as pilot:
        screen = await open_record(pilot, demo, "salesforceiq", "company")
        await settle(pilot)
        await opens_on_the_first_writable_field(pilot, screen)
        assert related(screen)  # its contacts and deals, kept through the edit
        await edit_shows_in_the_timeline(pilot, demo, screen, "name", "Acme Logistics AG")
