"""A list opened while a sync is part way shows the rows of the records stored so far
(sorted among themselves); when the rest of the sync is stored, the screen must show the
list as it now is: at the top of the list, its true first rows (seen: "Adam Larsen"
headed Freshsales contacts when only the first page of 300 was stored, and stayed there,
the rows sorted before it hidden above, until the user scrolled). The highlight stays on
the record the user was on, and the facts line counts from it.

The sync's pages after its first are held by a gate (the adapter's ``list_page``), and
the list's own page reads with them, so the list is opened over exactly the sync's first
page, whatever the machine's speed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent
from textual.worker import WorkerState

from crmtui.model import Page, Query, Record
from crmtui.ui.screens.vendor import KindView
from crmtui.ui.widgets.record_table import COUNT_LATER_FROM, Column, RecordTable
from tests.helpers.ui import Demo, busy, open_vendor, screen_text, settle, wait_for

SIZE = (120, 30)
PER_PAGE = 100


class HeldSync:
    """``crm.sync`` of one kind, its pages after the first held until ``release``, and
    the list's own page reads with them (the cache holds the sync's first page only)."""

    def __init__(self, demo: Demo, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.crm, self.kind = demo.crm, kind
        self.profile = demo.crm.profile_names[0]
        self.gate = asyncio.Event()
        self.held = 0  # page reads waiting at the gate now
        adapter = demo.crm.adapter(self.profile)
        real = adapter.list_page

        async def list_page(kind: str, query: Query) -> Page:
            first = query.updated_since is not None and query.cursor is None  # the sync's
            if kind == self.kind and query.per_page > 1 and not first and not self.gate.is_set():
                self.held += 1
                try:
                    await self.gate.wait()
                finally:
                    self.held -= 1
            return await real(kind, query)

        monkeypatch.setattr(adapter, "list_page", list_page)
        self.task: asyncio.Task[Any] | None = None

    def start(self) -> None:
        sync = self.crm.sync(self.profile, [self.kind], per_page=PER_PAGE)
        self.task = asyncio.create_task(sync)

    def stored(self) -> int:
        return self.crm.count(self.profile, self.kind)

    async def rest(self, pilot: Pilot[Any]) -> None:
        """Let the rest of the sync through; until it is stored and the app has shown it."""
        self.gate.set()
        await wait_for(pilot, lambda: self.task is not None and self.task.done())
        await settle(pilot)


def working(pilot: Pilot[Any]) -> bool:
    """Whether the app still works at something other than the list's held page read."""
    return any(
        w.group != "page" and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
        for w in pilot.app.workers
    )


async def calm(pilot: Pilot[Any]) -> None:
    """Until the app has done all it can while the sync is held, and painted it."""
    await wait_for(pilot, lambda: not working(pilot))
    await pilot.pause()
    await wait_for(pilot, lambda: not working(pilot))


def facts(view: KindView) -> str:
    return str(view.query_one(".facts", Static).render())


def shown_lines(pilot: Pilot[Any], view: KindView) -> list[str]:
    """The table's row lines as the screen draws them (below its header)."""
    table = view.table
    lines = screen_text(pilot.app).splitlines()
    first = table.region.y + 1
    return lines[first : first + table.page_rows]


def unlike(lines: list[str], records: list[Record]) -> list[tuple[str, str]]:
    """The rows' lines that do not show the record of their place (its name first: the
    name column is wider than the 16 characters compared)."""
    return [
        (line, record.title)
        for line, record in zip(lines, records, strict=True)
        if not line[1:].startswith(record.title[:16])
    ]


def listed(view: KindView) -> list[Record]:
    """Every row of the list as the cache holds it now, in the list's order (its sort,
    search and filters)."""
    crm, profile, kind = view.crm, view.profile, view.info.kind
    options: dict[str, Any] = {"sort": view.sort, "descending": view.descending}
    options.update(search=view.search_text, filters=dict(view.filters))
    return crm.window(profile, kind, offset=0, limit=crm.count(profile, kind), **options)


async def open_part_way(pilot: Pilot[Any], sync: HeldSync) -> KindView:
    """The list of the sync's kind, opened with its first page stored and the rest held."""
    await wait_for(pilot, lambda: pilot.app.screen_stack)
    sync.start()
    await wait_for(pilot, lambda: sync.held == 1)
    screen = await open_vendor(pilot)
    tab = f"tab-{sync.kind}"
    screen.query_one(TabbedContent).active = tab
    view = screen.query_one(f"#{tab} KindView", KindView)
    await wait_for(pilot, lambda: sync.held == 2 and view.table.showing() and view.table.row_count)
    view.table.focus()
    await calm(pilot)
    assert sync.stored() == PER_PAGE  # part way: the sync's first page
    return view


Step = Callable[[Pilot[Any], KindView], Awaitable[None]]


async def at_top(pilot: Pilot[Any], view: KindView) -> None:
    return None


async def sort_by_email(pilot: Pilot[Any], view: KindView) -> None:
    view.sort = "email"  # as `s` picks it (a column the cache sorts, not the vendor)
    await wait_for(pilot, lambda: view.table.sort_key == "email")


async def search_an(pilot: Pilot[Any], view: KindView) -> None:
    await pilot.press("slash", "a", "n", "enter")  # the cache's rows matching "an"
    await wait_for(pilot, lambda: view.search_text == "an" and view.table.has_focus)


async def only_won(pilot: Pilot[Any], view: KindView) -> None:
    view.filters = {"status": "won"}  # as `F` sets it (the cache applies it too)
    await wait_for(pilot, lambda: view.table.row_count and view.table.showing())


async def scrolled(pilot: Pilot[Any], view: KindView) -> None:
    """Two pages down and a few rows on: the page no longer shows the list's top."""
    await pilot.press("pagedown", "pagedown", "j", "j", "j")


@dataclass
class Case:
    vendor: str
    kind: str
    label: str  # the kind as the facts line counts it
    step: Step  # what the user did with the list before the rest was stored


CASES = {
    "by name": Case("freshsales", "contact", "contacts", at_top),
    "sorted by another column": Case("freshsales", "contact", "contacts", sort_by_email),
    "searched": Case("freshsales", "contact", "contacts", search_an),
    "filtered": Case("activecampaign", "deal", "deals", only_won),
    "scrolled": Case("freshsales", "contact", "contacts", scrolled),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
async def test_the_screen_shows_the_list_as_stored_once_the_sync_is_stored(
    vendor_demo: Callable[[str], Demo], monkeypatch: pytest.MonkeyPatch, case: Case
) -> None:
    """At the top: the list's true first rows, the highlight moved down with its record.
    Scrolled: the highlighted record on the same screen line, the true rows around it
    (the rows the user was reading do not move under their eyes)."""
    demo = vendor_demo(case.vendor)
    sync = HeldSync(demo, case.kind, monkeypatch)
    async with demo.app.run_test(size=SIZE) as pilot:
        view = await open_part_way(pilot, sync)
        table = view.table
        await case.step(pilot, view)
        await calm(pilot)
        chosen, top = table.current, int(table.scroll_offset.y)
        assert chosen is not None
        line = table.cursor - top
        before = listed(view)

        await sync.rest(pilot)
        truth = listed(view)
        assert len(truth) > len(before)
        where = next(i for i, r in enumerate(truth) if r.id == chosen.id)
        assert table.current is not None and table.current.id == chosen.id  # still on it
        assert table.cursor == where
        if top == 0:
            assert truth[0].id != before[0].id  # rows that sort above the first one came
            assert int(table.scroll_offset.y) == 0
        else:
            assert table.cursor - int(table.scroll_offset.y) == line
        top = int(table.scroll_offset.y)
        assert not unlike(shown_lines(pilot, view), truth[top : top + table.page_rows])
        counted = f"{where + 1:,} of {len(truth):,} {case.label}"
        assert facts(view).startswith(counted), facts(view)


# -- the table alone: a record that moves far, and a page pushed off the top ----------


def person(i: int) -> Record:
    return Record(vendor="v", profile="p", kind="people", id=f"p{i}", title=f"Person {i:04}")


class Stored:
    """A list over the records stored so far (sorted by name), as the cache reads it."""

    def __init__(self, records: list[Record]) -> None:
        self.records = records

    def fetch(self, offset: int, limit: int) -> list[Record]:
        return [r.model_copy() for r in self.records[offset : offset + limit]]  # new objects

    def count(self) -> int:
        return len(self.records)


class ListApp(App[None]):
    def __init__(self, stored: Stored) -> None:
        super().__init__()
        self.table = RecordTable(stored.fetch, stored.count, [Column("title", "Name")])

    def compose(self) -> ComposeResult:
        yield self.table

    def on_mount(self) -> None:
        self.table.reload()


async def test_a_record_far_down_the_first_page_stays_highlighted_when_the_rest_arrives() -> None:
    """A sync's first page held every third record of the list: the record on row 190 of
    200 is on row 570 of 600 once the rest is stored, farther than the rows around the
    cursor that are looked through first."""
    everyone = [person(i) for i in range(600)]
    stored = Stored(everyone[::3])
    app = ListApp(stored)
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.table
        table.jump_to(190)
        await wait_for(pilot, lambda: table.current is not None and table.current.id == "p570")
        line = table.cursor - int(table.scroll_offset.y)
        assert int(table.scroll_offset.y) > 0

        stored.records = everyone  # the rest of the sync, stored at once
        table.reload()
        await wait_for(pilot, lambda: not busy(pilot) and table.showing())
        assert table.current is not None and table.current.id == "p570"
        assert table.cursor == 570 and table.cursor - int(table.scroll_offset.y) == line


async def test_a_page_at_the_top_follows_its_record_pushed_past_the_page() -> None:
    """At the top, rows that sort first come: the page stays at the top while the
    highlighted record is still on it; pushed farther, the page follows the record (it
    stays highlighted, on its line), never a row the user did not choose."""
    everyone = [person(i) for i in range(400)]
    stored = Stored(everyone[300:])
    app = ListApp(stored)
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.table
        await pilot.press("j", "j")
        await wait_for(pilot, lambda: table.current is not None and table.current.id == "p302")

        stored.records = everyone[290:]  # ten sort above: the page stays at the top
        table.reload()
        await wait_for(pilot, lambda: not busy(pilot) and table.showing())
        assert int(table.scroll_offset.y) == 0 and table.cursor == 12
        assert table.current is not None and table.current.id == "p302"

        stored.records = everyone  # 290 more: past the page, and past the rows around
        table.reload()
        await wait_for(pilot, lambda: not busy(pilot) and table.showing())
        assert table.current is not None and table.current.id == "p302"
        assert table.cursor == 302 and int(table.scroll_offset.y) == 302 - 12


async def test_a_long_list_counted_later_keeps_its_highlighted_record_too() -> None:
    """A list long enough to be counted in the background (a sync storing pages of a
    long list): its highlighted record stays highlighted, on its line, as rows arrive
    above it (it kept its row number: another record, the rows moving under the eyes)."""
    everyone = [person(i) for i in range(COUNT_LATER_FROM + 200)]
    stored = Stored(everyone[100:])  # the first hundred names are not stored yet
    app = ListApp(stored)
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.table
        table.jump_to(15_000)
        chosen = f"p{15_100}"
        await wait_for(pilot, lambda: table.current is not None and table.current.id == chosen)
        line = table.cursor - int(table.scroll_offset.y)

        stored.records = everyone
        table.reload(background=True)  # as a sync's ListChanged does
        await wait_for(pilot, lambda: not busy(pilot) and table.row_count == len(everyone))
        await wait_for(pilot, lambda: not busy(pilot) and table.showing())
        assert table.current is not None and table.current.id == chosen
        assert table.cursor == 15_100 and table.cursor - int(table.scroll_offset.y) == line
