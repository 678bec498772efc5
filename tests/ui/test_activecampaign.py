"""ActiveCampaign in the app: Pipelines, Deals and Tasks, the deal filters and the board.

Driven with Pilot against the ActiveCampaign sandbox in-process; what reached the
"vendor" is checked in the sandbox's own data (``demo.db``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, ListView

from crmtui.model import ActivityType, ChangeState, Record
from crmtui.ui.screens.board import BoardScreen
from crmtui.ui.screens.filters import FilterScreen
from crmtui.ui.screens.record import FieldItem, RecordScreen
from crmtui.ui.screens.vendor import KindView
from tests.helpers.ui import (
    Demo,
    open_board_at_start,
    open_current,
    open_field,
    open_kind,
    settle,
    type_into,
    wait_for,
)

PROFILE = "demo-activecampaign"
SIZE = (130, 40)
STATUS = {"0": "open", "1": "won", "2": "lost"}


@pytest.fixture
def ac(vendor_demo: Callable[[str], Demo]) -> Demo:
    return vendor_demo("activecampaign")


async def open_board(pilot: Pilot) -> BoardScreen:
    return await open_board_at_start(pilot, await open_kind(pilot, "deal"))


async def set_filters(pilot: Pilot, view: KindView, **typed: str) -> None:
    await pilot.press("F")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FilterScreen))
    for key, text in typed.items():
        pilot.app.screen.query_one(f"#filter-{key}", Input).value = text
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, FilterScreen))
    await wait_for(pilot, lambda: not view.fetching and view.table.row_count > 0)


def rows(view: KindView) -> list[Record]:
    return view.table._fetch(0, 1000)


def open_deals_of(demo: Demo, group: str) -> dict[str, list[dict]]:
    """The sandbox's open deals of a pipeline, by stage id."""
    out: dict[str, list[dict]] = {}
    for deal in demo.db.deals.values():
        if deal["group"] == group and str(deal["status"]) == "0":
            out.setdefault(deal["stage"], []).append(deal)
    return out


# -- the board ------------------------------------------------------------------------


async def test_board_moves_a_deal_to_the_next_stage(ac: Demo) -> None:
    async with ac.app.run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        assert "Sales Pipeline" in str(board.query_one("#board-title").render())
        stages = [column.choice.label for column in board.columns]
        assert stages[:2] == ["To Contact", "Qualified"]

        # the columns hold the sandbox's open deals of the pipeline, stage by stage
        expected = open_deals_of(ac, "1")
        for column in board.columns:
            assert {r.id for r in column.records} == {
                d["id"] for d in expected.get(column.choice.value, [])
            }

        deal = board.current
        assert deal is not None and deal.fields["stage"] == "1"
        # the vendor answers slowly (rate limits are off in UI tests: the send would be
        # done before the queued mark could be seen)
        ac.sandbox.state.faults.latency = 1.0
        await pilot.press("shift+right")
        await wait_for(pilot, lambda: ac.crm.cached(deal.ref).fields["stage"] == "2")
        # it shows at once in the next column, highlighted, marked queued until sent
        await wait_for(pilot, lambda: board.column == 1 and board.current.id == deal.id)
        assert board.columns[1].marks.get(deal.id, "").startswith("⇅")
        ac.sandbox.state.faults.latency = 0.0
        await ac.crm.outbox.wait_idle()
        await wait_for(pilot, lambda: ac.crm.queued(PROFILE) == 0)
        assert ac.db.deals[deal.id]["stage"] == "2"
        await wait_for(pilot, lambda: deal.id not in board.columns[1].marks)

        activities = await ac.crm.timeline(deal.ref)
        moves = [a for a in activities if a.type is ActivityType.STAGE_CHANGE]
        assert moves[0].summary == "Stage: To Contact → Qualified"

        # `<` puts it back, and the highlight follows it
        await pilot.press("less_than_sign")
        await wait_for(pilot, lambda: board.column == 0 and board.current.id == deal.id)
        await ac.crm.outbox.wait_idle()
        await wait_for(pilot, lambda: ac.crm.queued(PROFILE) == 0)
        assert ac.db.deals[deal.id]["stage"] == "1"


async def test_board_columns_totals_pipelines_and_open(ac: Demo) -> None:
    async with ac.app.run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        await pilot.press("p")
        await wait_for(
            pilot,
            lambda: (
                "Renewals" in str(board.query_one("#board-title").render())
                and not board.refreshing
                and board.current is not None
            ),
        )
        expected = open_deals_of(ac, "2")
        assert [c.choice.label for c in board.columns] == [
            "Upcoming",
            "In Review",
            "Quote Sent",
            "Signed",
        ]
        for column in board.columns:
            deals = expected.get(column.choice.value, [])
            header = str(column.render()).splitlines()[1]
            total = sum(Decimal(d["value"]) for d in deals) / 100
            assert header.startswith(f"{len(deals)} · {total:,.2f} USD") or not deals

        # keys: → and l, ↓ and j move the highlight; enter opens that deal
        await pilot.press("l", "right", "left")
        assert board.column == 1
        column = board.columns[1]
        if len(column.records) > 1:
            await pilot.press("j")
            assert board.current == column.records[1]
        target = board.current
        assert target is not None
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
        assert pilot.app.screen.ref == target.ref
        await pilot.press("escape")

        # `a` adds the won and lost deals
        await wait_for(pilot, lambda: pilot.app.screen is board)
        counted = sum(len(c.records) for c in board.columns)
        await pilot.press("a")
        everything = [d for d in ac.db.deals.values() if d["group"] == "2"]
        await wait_for(pilot, lambda: sum(len(c.records) for c in board.columns) > counted)
        assert sum(len(c.records) for c in board.columns) == len(everything)


# -- the deals list -------------------------------------------------------------------


async def test_deals_filter_by_status_pipeline_and_value(ac: Demo) -> None:
    async with ac.app.run_test(size=SIZE) as pilot:
        view = await open_kind(pilot, "deal")
        tabs = [str(tab.label) for tab in pilot.app.screen.query("ContentTab")]
        assert tabs[:3] == ["Pipelines", "Deals", "Tasks"]
        await set_filters(pilot, view, status="Won")
        won = [d for d in ac.db.deals.values() if str(d["status"]) == "1"]
        await wait_for(pilot, lambda: view.table.row_count == len(won))
        assert {r.fields["status"] for r in rows(view)} == {"won"}
        assert "filter: Status: Won" in str(view.query_one(".facts").render())

        await set_filters(pilot, view, status="won", pipeline="Renewals")
        renewals = [d["id"] for d in won if d["group"] == "2"]
        await wait_for(pilot, lambda: view.table.row_count == len(renewals))
        assert sorted(r.id for r in rows(view)) == sorted(renewals)

        # a value range is the vendor's to apply: the list shows its answer
        await set_filters(pilot, view, status="", pipeline="", min_value="50000")
        big = [d["id"] for d in ac.db.deals.values() if int(d["value"]) >= 5_000_000]
        await wait_for(pilot, lambda: view.table.row_count == len(big))
        assert all(Decimal(r.fields["amount"]) >= 50000 for r in rows(view))

        # a choice that is not one is refused in the prompt, with the reason
        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, FilterScreen))
        pilot.app.screen.query_one("#filter-stage", Input).value = "Closing"
        await pilot.press("enter")
        error = pilot.app.screen.query_one("#filter-error")
        assert "several choices" in str(error.render())
        pilot.app.screen.query_one("#filter-stage", Input).value = "Closing (EMEA Partners)"
        await pilot.press("enter")
        await wait_for(pilot, lambda: view.filters.get("stage") == "15")


# -- edits through the record screen ----------------------------------------------------


async def test_deal_fields_edit_through_the_record_screen(ac: Demo) -> None:
    async with ac.app.run_test(size=SIZE) as pilot:
        await open_kind(pilot, "deal")
        screen = await open_current(pilot)
        typed = {
            "name": "Renamed in crmtui",
            "amount": "4321.50",
            "status": "Won",
            # the owner is picked among the users (tests/ui/test_references_users.py)
            "expected_close": "2031-03-04",
        }
        for key, text in typed.items():
            item = await open_field(pilot, key)
            await type_into(pilot, item, text)
            await wait_for(pilot, lambda item=item: not item.editing)
            assert ac.crm.cached(screen.ref).fields[key] is not None
        await ac.crm.outbox.wait_idle()
        await wait_for(pilot, lambda: ac.crm.queued(PROFILE) == 0)
        row = ac.db.deals[screen.ref.id]
        assert row["title"] == "Renamed in crmtui"
        assert int(row["value"]) == 432150
        assert str(row["status"]) == "1"
        forecast = ac.db.forecast_meta()["id"]
        assert any(
            d["dealId"] == screen.ref.id
            and d["customFieldId"] == forecast
            and str(d["fieldValue"]).startswith("2031-03-04")
            for d in ac.db.cf_data.values()
        )


async def test_task_fields_edit_through_the_record_screen(ac: Demo) -> None:
    async with ac.app.run_test(size=SIZE) as pilot:
        await open_kind(pilot, "task")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
        screen = pilot.app.screen
        assert isinstance(screen, RecordScreen)
        was_done = bool(ac.crm.cached(screen.ref).fields["done"])
        for key, text in {
            "subject": "Call back about pricing",
            "due_at": "2031-05-06 14:30",
            "type": "Meeting",
        }.items():
            item = await open_field(pilot, key)
            await type_into(pilot, item, text)
            await wait_for(pilot, lambda item=item: not item.editing)
        done = await open_field_without_editor(pilot, screen, "done")
        await pilot.press("enter")  # enter flips a done field
        await wait_for(pilot, lambda: bool(done.value) is not was_done)
        await ac.crm.outbox.wait_idle()
        await wait_for(pilot, lambda: ac.crm.queued(PROFILE) == 0)
        row = ac.db.tasks[screen.ref.id]
        assert row["title"] == "Call back about pricing"
        assert row["duedate"].startswith("2031-05-06")
        meeting = next(t["id"] for t in ac.db.tasktypes.values() if t["title"] == "Meeting")
        assert row["dealTasktype"] == meeting
        assert int(row["status"]) == (0 if was_done else 1)


async def open_field_without_editor(pilot: Pilot, screen: RecordScreen, key: str) -> FieldItem:
    """Highlight a field without opening its editor (a done field flips on enter)."""
    fields = screen.query_one("#fields", ListView)
    items = list(fields.query(FieldItem))
    fields.focus()
    fields.index = next(i for i, item in enumerate(items) if item.spec.key == key)
    await pilot.pause()
    return items[fields.index]


async def test_a_refused_edit_shows_activecampaigns_message(ac: Demo) -> None:
    async with ac.app.run_test(size=SIZE) as pilot:
        await open_kind(pilot, "deal")
        screen = await open_current(pilot)
        item = await open_field(pilot, "currency")
        await type_into(pilot, item, "1AB")  # three characters, but not a currency
        await ac.crm.outbox.wait_idle()
        message = "The deal currency is not valid."
        await wait_for(pilot, lambda: any(message in n.message for n in pilot.app._notifications))
        (change,) = [c for c in ac.crm.changes(PROFILE) if c.ref == screen.ref]
        assert change.state is ChangeState.REJECTED
        assert message in (change.last_error or "")
        assert ac.db.deals[screen.ref.id]["currency"] != "1ab"
        pending = screen.query_one("#record-pending")
        await wait_for(pilot, lambda: "edit refused" in str(pending.render()))


# -- snapshots ---------------------------------------------------------------------------


def test_snapshot_deals_list(snap_compare, ac: Demo) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_kind(pilot, "deal")
        await settle(pilot)

    assert snap_compare(ac.app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_board(snap_compare, ac: Demo) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_board(pilot)
        await pilot.press("right", "down")
        await settle(pilot)

    assert snap_compare(ac.app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_deal_record(snap_compare, ac: Demo) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_kind(pilot, "deal")
        await open_current(pilot)
        await settle(pilot)

    assert snap_compare(ac.app, terminal_size=SIZE, run_before=run_before)
