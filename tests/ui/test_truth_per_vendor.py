"""Names, never ids, and one money and date format, on SalesSeek, Salesloft, ActiveCampaign
and SalesforceIQ (issue 15.1 and 15.2; Freshsales has its own tests: test_names_not_ids,
test_one_format). One app per vendor doing, in sequence:

- a reference field of a record shows the referenced record's name (its label no "… id"),
  enter opens that record, ``e`` picks another by typing its name, and the queued change
  reads in labels and names in the outbox and the timeline (Salesloft: a task's Person,
  which v2 takes only when the task is made: ``e`` opens no picker, queues nothing);
- the record's amount and a date are shown in the one format (``fields.money_text``,
  ``date_text``) on the record, its title, the list row, search, the outbox, the board
  card and My day's dates; a queued amount and date show everywhere at once;
- Salesloft: a task marked done and given a new due date while queued shows "Completed"
  and the moved "Due at" at once (the fields the vendor changes with the edit), on the
  record and its row, and is what the vendor holds once sent;
- at 80x24 the record still shows the reference by name and the queued values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, ListView

from crmtui.fields import date_text, display, money_text
from crmtui.model import Record, RecordRef
from crmtui.sandbox.fake import Fake
from crmtui.ui.screens.board import BoardScreen
from crmtui.ui.screens.outbox import OutboxScreen
from crmtui.ui.screens.record import FieldItem, RecordScreen
from crmtui.ui.screens.search import SearchScreen
from crmtui.ui.screens.vendor import KindView, VendorScreen
from crmtui.ui.widgets.timeline import Timeline
from tests.helpers.ui import (
    Demo,
    build_demo,
    highlight,
    open_current,
    open_field,
    open_kind,
    open_my_day,
    pick_reference,
    screen_text,
    settle,
    type_into,
    type_text,
    wait_for,
)

BIG, SMALL = (160, 48), (80, 24)
UNGROUPED = re.compile(r"(?<![\d,.])\d{4,}\.\d{2}\b")  # "7200.00": money not in the one format
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
MONTH_WORDS = re.compile(r"\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\w* \d{4}")
NEW_DATE = "2027-01-15"


@dataclass(frozen=True)
class Case:
    vendor: str
    kind: str  # the kind of the record (a prefix: SalesforceIQ's lists)
    ref: str  # its reference field
    target: str  # the kind that field refers to
    label: str  # the reference's label
    amount: str | None = None  # its money field (None: the vendor keeps no money)
    date: str | None = None  # a writable date field
    tasks: bool = True  # the vendor has tasks: My day has rows
    pick: bool = True  # the reference can be changed (else: set when the record is made)
    wanted: tuple[str, ...] = ()  # more fields the record holds
    row: tuple[tuple[str, object], ...] = ()  # values the record holds

    @property
    def profile(self) -> str:
        return f"demo-{self.vendor}"


CASES = [
    Case("salesseek", "deal", "company", "company", "Organization", "amount", "expected_close"),
    # a task's person: PUT /v2/tasks takes none (given when the task is made); its
    # status and due moment follow a queued completion and due date
    Case(
        "salesloft",
        "task",
        "contact",
        "contact",
        "Person",
        pick=False,
        wanted=("due_date", "due_at"),
        row=(("status", "open"),),
    ),
    Case(
        "activecampaign",
        "deal",
        "contact",
        "contact",
        "Primary contact",
        "amount",
        "expected_close",
    ),
    Case(
        "salesforceiq",
        "list:",
        "contact",
        "contact",
        "Contact",
        "amount",
        "expected_close",
        tasks=False,
    ),
]


def heading(pilot: Pilot) -> str:
    return screen_text(pilot.app).splitlines()[0]


def field(screen: RecordScreen, key: str) -> FieldItem:
    return next(i for i in screen.query(FieldItem) if i.spec.key == key)


async def point_at(pilot: Pilot, screen: RecordScreen, key: str) -> FieldItem:
    """The fields list on field ``key`` (read-only ones too: ``highlight`` is for those
    that can be edited)."""
    fields = screen.query_one("#fields", ListView)
    fields.focus()

    def there() -> bool:
        keys = [i.spec.key for i in fields.query(FieldItem)]
        if key in keys and fields.index != keys.index(key):
            fields.index = keys.index(key)
        return key in keys and fields.index == keys.index(key)

    await wait_for(pilot, there)
    await pilot.pause()
    await wait_for(pilot, there)
    return field(screen, key)


async def back_to(pilot: Pilot, screen: type) -> None:
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, screen))


async def open_row(
    pilot: Pilot, view: KindView, wanted: list[str], **values: object
) -> RecordScreen:
    """Move the list's cursor to the first loaded row whose ``wanted`` fields hold a value
    (and whose fields hold ``values``) and open it."""
    table = view.table
    rows = [table.record_at(n) for n in range(min(table.row_count, 100))]
    index = next(
        n
        for n, r in enumerate(rows)
        if r is not None
        and all(r.fields.get(k) for k in wanted)
        and all(r.fields.get(k) == v for k, v in values.items())
    )
    table.jump_to(index)
    await wait_for(pilot, lambda: table.current is not None and table.current.id == rows[index].id)
    return await open_current(pilot, timeline=False)


async def check_reference(
    pilot: Pilot, demo: Demo, case: Case, screen: RecordScreen, targets: list[Record]
) -> tuple[Record, Record | None]:
    """The reference shown by name, opened with enter, picked by name: (old, new; None
    when it cannot be changed)."""
    record = screen.record
    assert record is not None
    old = await demo.crm.get(
        RecordRef(profile=case.profile, kind=case.target, id=str(record.fields[case.ref]))
    )
    titles = [r.title for r in targets]
    new = next(r for r in targets if r.id != old.id and r.title and titles.count(r.title) == 1)

    item = await point_at(pilot, screen, case.ref)
    await wait_for(pilot, lambda: item.full_text() == old.title)
    label = item.label_text()
    assert label.startswith(case.label) and not re.search(r"\bid\b", label, re.I), label
    assert old.id not in str(item.value_label.render())

    await pilot.press("enter")  # opens the referenced record
    await wait_for(
        pilot, lambda: isinstance(pilot.app.screen, RecordScreen) and pilot.app.screen is not screen
    )
    opened = pilot.app.screen
    assert isinstance(opened, RecordScreen)
    assert opened.ref == RecordRef(profile=case.profile, kind=case.target, id=old.id)
    await pilot.press("escape")
    await wait_for(pilot, lambda: pilot.app.screen is screen)

    item = await point_at(pilot, screen, case.ref)
    if not case.pick:  # e says so: no picker, nothing queued
        await pilot.press("e")
        await settle(pilot)
        assert pilot.app.screen is screen and not demo.crm.changes(case.profile)
        return old, None
    await pick_reference(pilot, new.title, new.id)  # typed, searched in the cache
    await pilot.press("enter")
    await wait_for(pilot, lambda: pilot.app.screen is screen)
    await wait_for(pilot, lambda: field(screen, case.ref).full_text() == new.title)
    said = f"{case.label}: {old.title} → {new.title}"
    queued = [demo.crm.describe(c) for c in demo.crm.changes(case.profile)]
    assert said in queued, queued
    pane = screen.query_one(Timeline)
    await wait_for(pilot, lambda: any(said in a.summary for a in pane.activities))
    assert not any(new.id in a.summary for a in pane.activities)
    return old, new


async def check_money_and_date(
    pilot: Pilot, demo: Demo, case: Case, screen: RecordScreen, picked: Record
) -> None:
    """The amount and a date in the one format on every screen, queued ones at once."""
    record = screen.record
    assert record is not None and case.amount and case.date
    currency = record.fields.get("currency")  # None: SalesforceIQ keeps no currency
    old = money_text(record.fields[case.amount], currency)
    assert old and not UNGROUPED.search(old)
    await wait_for(pilot, lambda: old in screen_text(pilot.app))
    assert not UNGROUPED.search(screen_text(pilot.app)), screen_text(pilot.app)

    await type_into(pilot, await open_field(pilot, case.amount), "8123")
    new = money_text("8123", currency)
    assert new.startswith("8,123.00")
    await wait_for(pilot, lambda: field(screen, case.amount).full_text() == new)
    if old in heading(pilot) or (record.subtitle and old in record.subtitle):
        await wait_for(pilot, lambda: new in heading(pilot) and old not in heading(pilot))
    await type_into(pilot, await open_field(pilot, case.date), NEW_DATE)
    await wait_for(pilot, lambda: field(screen, case.date).full_text() == date_text(NEW_DATE))

    await pilot.press("ctrl+o")  # the outbox: labels and values as the record shows them
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, OutboxScreen))
    await wait_for(pilot, lambda: f"→ {new}" in screen_text(pilot.app))
    outbox = screen_text(pilot.app)
    assert f"→ {NEW_DATE}" in outbox and f"→ {picked.title}" in outbox[:20_000]
    assert f"→ {picked.id}" not in outbox and "None" not in outbox
    assert not UNGROUPED.search(outbox), outbox
    await back_to(pilot, RecordScreen)

    await pilot.press("ctrl+k")  # search: the queued amount
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, SearchScreen))
    await type_text(pilot, pilot.app.screen.query_one(Input), record.title[:24])
    await wait_for(pilot, lambda: new in screen_text(pilot.app))
    assert old not in screen_text(pilot.app) and not UNGROUPED.search(screen_text(pilot.app))
    await back_to(pilot, RecordScreen)

    await back_to(pilot, VendorScreen)  # the list row: the queued amount and date
    await wait_for(pilot, lambda: new in screen_text(pilot.app))
    row = next(line for line in screen_text(pilot.app).splitlines() if new in line)
    info = demo.crm.kind_info(case.profile, record.kind)
    columns = info.columns if info else []
    assert case.date not in columns or NEW_DATE in row, row
    assert case.ref not in columns or picked.title[:8] in row, row
    assert not UNGROUPED.search(screen_text(pilot.app))

    await pilot.press("b")  # the board card, on the board of the record's pipeline
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, BoardScreen))
    board = pilot.app.screen
    assert isinstance(board, BoardScreen)
    cards = await board_cards(pilot, board, record.id)
    assert cards and new in cards[0] and old not in cards[0], cards
    await back_to(pilot, VendorScreen)


async def board_cards(pilot: Pilot, board: BoardScreen, id: str) -> list[str]:
    """The lines of the card of record ``id`` as its column draws them, ``p`` pressed
    until the board showing it is up ([]: on no board); won and lost cards shown too."""
    if board.open_only and board.can_filter_open:
        await pilot.press("a")
        await wait_for(pilot, lambda: not board.open_only)
    for _ in range(max(len(board.groups), 1)):
        await wait_for(pilot, lambda: board.current is not None)
        cards = [
            "\n".join(column.card(r, "", 40))
            for column in board.columns
            for r in column.records
            if r.id == id
        ]
        if cards:
            return cards
        shown = board.group
        await pilot.press("p")
        await wait_for(pilot, lambda: board.group != shown)  # noqa: B023
    return []


async def check_my_day(pilot: Pilot, done: str = "") -> None:
    """My day's dates in the one format (never "12 days ago" nor "17 Nov 2026"); the
    task ``done`` (its completion queued) is not listed."""
    day = await open_my_day(pilot)
    assert all(task.record.id != done for task in day.tasks)
    text = screen_text(pilot.app)
    assert "ago" not in text and not MONTH_WORDS.search(text), text
    assert len(ISO_DATE.findall(text)) >= len(day.tasks) > 0, text
    await pilot.press("escape")


async def check_task_done_and_moved(pilot: Pilot, screen: RecordScreen) -> str:
    """A Salesloft task marked done and moved while queued: its Status and Due at show
    what the vendor will make of them at once, on the record and its list row; the Due
    at shown."""
    record = screen.record
    assert record is not None and record.fields["status"] == "open"
    old_at = field(screen, "due_at").full_text()
    await wait_for(pilot, lambda: field(screen, "status").full_text() == "Open")

    await type_into(pilot, await open_field(pilot, "due_date"), "2026-12-05")
    await wait_for(pilot, lambda: field(screen, "due_date").full_text() == "2026-12-05")
    at = field(screen, "due_at").full_text()
    assert at.startswith("2026-12-05 ") and at[10:] == old_at[10:], (old_at, at)
    done = await highlight(pilot, screen, "done")
    await pilot.press("enter")  # a yes/no field flips
    await wait_for(pilot, lambda: done.full_text() == "✓")
    await wait_for(pilot, lambda: field(screen, "status").full_text() == "Completed")
    assert field(screen, "due_at").full_text() == at

    await pilot.press("ctrl+o")  # the outbox: labels, dates in the one format
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, OutboxScreen))
    await wait_for(pilot, lambda: "→ 2026-12-05" in screen_text(pilot.app))
    assert "Due date:" in screen_text(pilot.app) and "None" not in screen_text(pilot.app)
    await back_to(pilot, RecordScreen)
    await pilot.resize_terminal(*SMALL)  # 80x24: the same values
    await wait_for(pilot, lambda: "Completed" in screen_text(pilot.app))
    await pilot.resize_terminal(*BIG)
    await back_to(pilot, VendorScreen)
    await wait_for(pilot, lambda: "2026-12-05" in screen_text(pilot.app))
    row = next(line for line in screen_text(pilot.app).splitlines() if "2026-12-05" in line)
    assert "Completed" in row and "Open" not in row, row
    return at


@pytest.mark.parametrize("case", CASES, ids=[c.vendor for c in CASES])
async def test_names_and_one_format(case: Case, tmp_path: Path) -> None:
    demo = build_demo(case.vendor, tmp_path / "cache.sqlite3")
    demo.app.clock = lambda: Fake.NOW  # the demo's day: My day has tasks due
    crm = demo.crm
    async with demo.app.run_test(size=BIG) as pilot:
        kinds = await crm.kinds(case.profile)
        specs = {k.kind: await crm.fields(case.profile, k.kind) for k in kinds}
        kind = next(
            k.kind
            for k in kinds
            if k.kind.startswith(case.kind)
            and case.ref in k.references
            and (not case.pick or any(s.key == case.ref and s.writable for s in specs[k.kind]))
        )
        targets = (await crm.refresh(case.profile, case.target)).records
        view = await open_kind(pilot, kind)
        wanted = [case.ref, *([case.amount] if case.amount else []), *case.wanted]
        screen = await open_row(pilot, view, wanted, **dict(case.row))
        await settle(pilot)
        crm.outbox.paused = True  # queued: what every screen shows before it is sent

        old, new = await check_reference(pilot, demo, case, screen, targets)
        ref = screen.ref
        if case.amount and new is not None:
            await check_money_and_date(pilot, demo, case, screen, new)
            demo.app.open_record(ref)
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
        shown = (new or old).title[:20]
        await pilot.resize_terminal(*SMALL)  # 80x24: still by name
        await wait_for(pilot, lambda: shown in screen_text(pilot.app))
        await pilot.resize_terminal(*BIG)
        due_at = ""
        if case.wanted:
            screen = pilot.app.screen
            assert isinstance(screen, RecordScreen)
            due_at = await check_task_done_and_moved(pilot, screen)
        else:
            await back_to(pilot, VendorScreen)
        if case.tasks:
            await check_my_day(pilot, done=ref.id if due_at else "")
        crm.outbox.paused = False
        crm.outbox.kick(case.profile)
        await wait_for(pilot, lambda: not crm.changes(case.profile), timeout=20)
        record = await crm.get(ref)  # what was shown queued is what the vendor made of it
        if new is not None:
            assert record.fields[case.ref] == new.id  # the id is what was sent
        if due_at:
            assert record.fields["status"] == "completed"
            spec = next(s for s in specs[kind] if s.key == "due_at")
            assert display(spec, record.fields["due_at"]) == due_at
