"""Offline in the app (Freshsales demo): the cache answers, edits queue with a visible
count, go out in order when the vendor is back, and a conflict made meanwhile is settled
from the outbox with each choice doing what it says."""

from __future__ import annotations

from decimal import Decimal

import httpx
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList, Static, TabbedContent

from crmtui.model import ChangeState, RecordRef
from crmtui.ui.screens.conflict import ConflictScreen
from crmtui.ui.screens.home import HomeScreen
from crmtui.ui.screens.outbox import OutboxScreen
from crmtui.ui.screens.record import RecordScreen
from crmtui.ui.screens.search import SearchScreen
from crmtui.ui.screens.vendor import KindView, VendorScreen
from crmtui.ui.widgets.record_table import RecordTable
from crmtui.ui.widgets.status import StatusBar
from tests.helpers.ui import Demo, no_sleep, open_deals, open_field, type_into, wait_for

PROFILE = "demo-freshsales"
ORIGIN = "http://freshsales.localhost"
SIZE = (140, 42)


class FailingTransport(httpx.AsyncBaseTransport):
    """No network: every request is refused at connect time."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("network unreachable", request=request)


def offline(demo: Demo) -> None:
    demo.crm.http.sleep = no_sleep
    demo.crm.http.transport.mount(ORIGIN, FailingTransport())


def online(demo: Demo) -> None:
    demo.crm.http.mount_app(ORIGIN, demo.sandbox)


def status(pilot: Pilot) -> str:
    return str(pilot.app.screen.query_one(StatusBar).render())


def amount_of(demo: Demo, deal_id: str) -> Decimal:
    return Decimal(str(demo.db.table("deals")[int(deal_id)]["amount"]))


async def open_current(pilot: Pilot, view: KindView) -> RecordScreen:
    view.table.focus()
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
    screen = pilot.app.screen
    assert isinstance(screen, RecordScreen)
    return screen


async def edit_amount(pilot: Pilot, text: str) -> None:
    item = await open_field(pilot, "amount")
    await type_into(pilot, item, text)
    await wait_for(pilot, lambda: not item.editing)


async def back_to_deals(pilot: Pilot) -> KindView:
    """Escape to the home screen and open the deals list again."""
    while not isinstance(pilot.app.screen, HomeScreen):
        await pilot.press("escape")
        await pilot.pause()
    await pilot.press("enter")
    await wait_for(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, VendorScreen)
            and pilot.app.screen.query(KindView)
            and not pilot.app.screen.query_one("#kinds-loading").display  # every tab is in
        ),
    )
    pilot.app.screen.query_one(TabbedContent).active = "tab-deal"
    view = pilot.app.screen.query_one("#tab-deal KindView", KindView)
    await wait_for(
        pilot,
        lambda: (
            view.query(RecordTable) and view.table.row_count > 0 and view.table.region.height > 0
        ),
    )
    return view


async def test_offline_the_cache_answers_edits_queue_and_go_out_in_order(demo: Demo) -> None:
    async with demo.app.run_test(size=SIZE) as pilot:
        view = await open_deals(pilot)
        cached = demo.crm.count(PROFILE, "deal")
        deal = view.table.current
        assert deal is not None and cached > 0
        word = deal.title.split()[0]

        offline(demo)
        await pilot.press("r")  # the list asks the vendor: no answer
        await wait_for(pilot, lambda: demo.crm.states[PROFILE].online is False)
        await wait_for(pilot, lambda: "offline" in status(pilot))

        # the list opens again from the cache, and searches it
        view = await back_to_deals(pilot)
        assert view.table.row_count == cached
        await wait_for(pilot, lambda: "offline" in status(pilot))
        await pilot.press("slash", *word)
        await wait_for(pilot, lambda: view.search_text == word)
        assert 0 < view.table.row_count < cached
        assert all(word.lower() in r.title.lower() for r in view.table._fetch(0, 50))

        # global search too
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, SearchScreen))
        await pilot.press(*word)
        results = pilot.app.screen.query_one(OptionList)
        await wait_for(pilot, lambda: results.option_count > 0)
        shown = [str(results.get_option_at_index(i).prompt) for i in range(results.option_count)]
        assert any(deal.title in text for text in shown)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, VendorScreen))

        # two edits queue, the count shows in the status bar, the record says so
        view.table.focus()
        view.table.cursor = next(
            i for i in range(view.table.row_count) if view.table.record_at(i).id == deal.id
        )
        screen = await open_current(pilot, view)
        before = amount_of(demo, deal.id)
        await edit_amount(pilot, "1111")
        await edit_amount(pilot, "2222")
        assert demo.crm.queued(PROFILE) == 2
        await wait_for(pilot, lambda: "⇅ 2 queued edits" in status(pilot))
        await wait_for(pilot, lambda: "offline" in status(pilot))
        pending = screen.query_one("#record-pending", Static)
        await wait_for(pilot, lambda: "2 edits queued" in str(pending.render()))
        assert demo.crm.cached(screen.ref).fields["amount"] == "2222.00"
        assert amount_of(demo, deal.id) == before  # nothing reached the vendor

        # the vendor is back: the next request finds it, the queue goes out in order
        online(demo)
        await pilot.press("r")
        await wait_for(pilot, lambda: demo.crm.queued(PROFILE) == 0)
        await demo.crm.outbox.wait_idle()
        assert amount_of(demo, deal.id) == Decimal("2222")  # the last edit was sent last
        sent = [
            e for e in demo.crm.http.log.entries if e.method == "PUT" and f"/{deal.id}" in e.path
        ]
        assert len(sent) == 2 and all(e.status == 200 for e in sent)
        await wait_for(pilot, lambda: "⇅ 0 queued edits" in status(pilot))
        await wait_for(pilot, lambda: "● online" in status(pilot))
        await wait_for(pilot, lambda: "queued" not in str(pending.render()))


async def conflict_on(
    demo: Demo, pilot: Pilot, view: KindView, row: int, mine: str, theirs: str
) -> RecordRef:
    """Offline, edit the amount of the deal at ``row``; the vendor's copy changes too."""
    view.table.cursor = row
    screen = await open_current(pilot, view)
    await edit_amount(pilot, mine)
    deal = demo.db.table("deals")[int(screen.ref.id)]
    deal["amount"] = theirs
    deal["updated_at"] = "2026-11-20T10:00:00Z"
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, VendorScreen))
    return screen.ref


async def settle_from_outbox(pilot: Pilot) -> ConflictScreen:
    """Open the outbox's first row (a conflict) and its conflict view."""
    await pilot.press("ctrl+o")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, OutboxScreen))
    table = pilot.app.screen.query_one(DataTable)
    await wait_for(pilot, lambda: table.row_count > 0)
    assert "conflict" in [str(c) for c in table.get_row_at(0)]
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConflictScreen))
    screen = pilot.app.screen
    assert isinstance(screen, ConflictScreen)
    return screen


async def test_a_conflict_made_offline_is_settled_from_the_outbox(demo: Demo) -> None:
    async with demo.app.run_test(size=SIZE) as pilot:
        view = await open_deals(pilot)
        offline(demo)
        kept = await conflict_on(demo, pilot, view, 0, "3333", "4444")
        dropped = await conflict_on(demo, pilot, view, 1, "5555", "6666")
        assert demo.crm.queued(PROFILE) == 2

        online(demo)
        view.table.focus()
        await pilot.press("r")  # the vendor answers: both edits meet the new versions
        await wait_for(
            pilot,
            lambda: [c.state for c in demo.crm.changes(PROFILE)] == [ChangeState.CONFLICT] * 2,
        )
        assert (amount_of(demo, kept.id), amount_of(demo, dropped.id)) == (4444, 6666)

        # the first: theirs and mine side by side; keep mine
        screen = await settle_from_outbox(pilot)
        row = [str(c) for c in screen.query_one(DataTable).get_row_at(0)]
        assert row[0] == "Deal value" and "4,444" in row[2] and "3,333" in row[3]
        assert row[4] == "▶ mine"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: demo.crm.queued(PROFILE) == 1)
        await demo.crm.outbox.wait_idle()
        assert amount_of(demo, kept.id) == Decimal("3333")  # mine, sent on top of theirs
        assert demo.crm.cached(kept).fields["amount"] == "3333.00"

        # the second: take theirs
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, OutboxScreen))
        await pilot.press("escape")
        screen = await settle_from_outbox(pilot)
        row = [str(c) for c in screen.query_one(DataTable).get_row_at(0)]
        assert "6,666" in row[2] and "5,555" in row[3]
        await pilot.press("t")
        await wait_for(
            pilot, lambda: str(screen.query_one(DataTable).get_row_at(0)[4]) == "▶ theirs"
        )
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: demo.crm.queued(PROFILE) == 0)
        assert amount_of(demo, dropped.id) == Decimal("6666")  # nothing sent over theirs
        assert demo.crm.cached(dropped).fields["amount"] == "6666.00"
        await wait_for(pilot, lambda: "⇅ 0 queued edits" in status(pilot))
