"""The board on every vendor with stages: moves, Won and Lost from the keys, pipelines.

Freshsales deals by stage per pipeline (won and lost are stages, the lost reason asked),
SalesSeek deals by phase per funnel (won and lost are phases), SalesforceIQ list items by
status per list, Salesloft people by person stage (no won or lost: the board says so in
Salesloft's words), ActiveCampaign deals by stage per pipeline (won and lost a status).
Every move goes through the outbox; the vendor's own copy (read back from the sandbox
through the adapter) holds the new value once the outbox is flushed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList

from crmtui.model import FieldType, KindInfo, Record, Role
from crmtui.ui.screens.board import BoardScreen, LostReasonScreen
from tests.helpers.ui import Demo, open_board_at_start, open_kind, open_vendor, wait_for

SIZE = (160, 48)

# vendor -> the kind whose board is tested, and whether it has several pipelines
BOARDS = {
    "freshsales": ("deal", True),
    "salesseek": ("deal", True),
    "salesforceiq": (None, False),  # the first list with a status (a pipeline list)
    "salesloft": ("contact", False),
    "activecampaign": ("deal", True),
}
STAGED = ["freshsales", "salesseek", "salesforceiq", "activecampaign"]


def board_kind(demo: Demo, vendor: str) -> KindInfo:
    kind, _ = BOARDS[vendor]
    infos = demo.crm.cached_kinds(f"demo-{vendor}")
    found = [i for i in infos if i.board_field and (kind is None or i.kind == kind)]
    assert found, f"{vendor} declares no board on {kind}"
    return found[0]


async def open_board(pilot: Pilot, demo: Demo, vendor: str) -> BoardScreen:
    await open_vendor(pilot)
    info = board_kind(demo, vendor)
    return await open_board_at_start(pilot, await open_kind(pilot, info.kind), 30)


async def flushed(pilot: Pilot, demo: Demo, vendor: str) -> None:
    await demo.crm.outbox.wait_idle()
    await wait_for(pilot, lambda: demo.crm.queued(f"demo-{vendor}") == 0)


async def vendor_copy(demo: Demo, record: Record) -> Record:
    """The record as the vendor holds it now (read from the sandbox, not the cache)."""
    return await demo.crm.adapter(record.profile).get(record.kind, record.id)


def notices(pilot: Pilot) -> list[str]:
    return [str(n.message) for n in pilot.app._notifications]


def first_card(board: BoardScreen) -> Record:
    """Highlight the first card on the board (the first column that has one)."""
    number = next(n for n, column in enumerate(board.columns) if column.records)
    board.column, board.card = number, 0
    board._select()
    card = board.current
    assert card is not None
    return card


async def move_a_card_to_the_next_stage(
    pilot: Pilot, demo: Demo, vendor: str, board: BoardScreen
) -> None:
    """`>` moves a card to the next open stage: shown at once, sent through the outbox."""
    stage_key = board.info.board_field or ""
    # a card whose next column is an open stage
    for number, column in enumerate(board.columns[:-1]):
        if column.records and board.columns[number + 1].choice.outcome is None:
            break
    else:
        pytest.fail(f"no card on {vendor}'s board can move to an open stage")
    board.column, board.card = number, 0
    board._select()
    card = board.current
    assert card is not None
    target = board.columns[number + 1].choice
    await pilot.press("greater_than_sign")
    await wait_for(pilot, lambda: demo.crm.cached(card.ref).fields[stage_key] == target.value)
    # it shows at once in the next column, highlighted
    await wait_for(pilot, lambda: board.column == number + 1 and board.current.id == card.id)
    await flushed(pilot, demo, vendor)
    assert (await vendor_copy(demo, card)).fields[stage_key] == target.value


async def won_from_the_board(pilot: Pilot, demo: Demo, vendor: str, board: BoardScreen) -> None:
    card = first_card(board)
    status = board.info.role(Role.STATUS)
    assert status, f"{vendor}: a board with outcomes shows each card's status"
    await pilot.press("w")
    await wait_for(pilot, lambda: any("marked won" in n for n in notices(pilot)))
    await flushed(pilot, demo, vendor)
    assert (await vendor_copy(demo, card)).fields[status] == "won"
    # an open-only board no longer shows it
    await wait_for(pilot, lambda: card.id not in {r.id for c in board.columns for r in c.records})


async def lost_reason_cancelled_queues_nothing(
    pilot: Pilot, demo: Demo, vendor: str, board: BoardScreen
) -> None:
    card = first_card(board)
    await pilot.press("x")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, LostReasonScreen))
    await pilot.press("escape")
    await wait_for(pilot, lambda: pilot.app.screen is board)
    assert demo.crm.queued(f"demo-{vendor}") == 0
    assert demo.crm.cached(card.ref).fields == card.fields


async def lost_from_the_board_with_its_reason_where_asked(
    pilot: Pilot, demo: Demo, vendor: str, board: BoardScreen
) -> None:
    card = first_card(board)
    reason_key = board.info.lost_reason
    await pilot.press("x")
    picked = None
    if reason_key:  # Freshsales: the lost reason is asked, from the vendor's reasons
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, LostReasonScreen))
        options = pilot.app.screen.query_one(OptionList)
        assert options.option_count > 1
        await pilot.press("down", "enter")  # the second reason
        picked = options.get_option_at_index(1).id
    else:
        assert not isinstance(pilot.app.screen, LostReasonScreen)
    await wait_for(pilot, lambda: any("marked lost" in n for n in notices(pilot)))
    await flushed(pilot, demo, vendor)
    held = await vendor_copy(demo, card)
    assert held.fields[board.info.role(Role.STATUS) or ""] == "lost"
    if reason_key:
        assert held.fields[reason_key] == picked


async def salesloft_says_its_stages_have_no_won_or_lost(
    pilot: Pilot, demo: Demo, board: BoardScreen
) -> None:
    assert "Stage" in str(board.query_one("#board-title").render()) or board.columns
    await pilot.press("w")
    await wait_for(pilot, lambda: any("none is won or lost" in n for n in notices(pilot)))
    assert demo.crm.queued("demo-salesloft") == 0


async def the_pipeline_choice_switches_columns(pilot: Pilot, board: BoardScreen) -> None:
    title = str(board.query_one("#board-title").render())
    first = [c.choice.value for c in board.columns]
    pipeline = board.info.role(Role.PIPELINE) or ""
    await pilot.press("p")
    await wait_for(pilot, lambda: str(board.query_one("#board-title").render()) != title)
    await wait_for(pilot, lambda: not board.refreshing)
    assert [c.choice.value for c in board.columns] != first
    # every card shown belongs to the pipeline the title names
    shown = board.group_filter
    cards = [r for c in board.columns for r in c.records]
    assert all(str(r.fields.get(pipeline)) == shown for r in cards)


async def p_goes_to_the_next_salesforceiq_pipeline_list(
    pilot: Pilot, demo: Demo, board: BoardScreen
) -> None:
    """SalesforceIQ keeps each pipeline as a list of its own: p shows the next list's
    board (its own statuses as columns)."""
    lists = [i for i in demo.crm.cached_kinds("demo-salesforceiq") if i.board_field]
    assert len(lists) > 1
    await pilot.press("p")
    await wait_for(
        pilot,
        lambda: isinstance(pilot.app.screen, BoardScreen) and pilot.app.screen is not board,
    )
    other = pilot.app.screen
    assert other.info.kind == lists[(lists.index(board.info) + 1) % len(lists)].kind
    await wait_for(pilot, lambda: not other.refreshing and other.columns)
    assert other.info.label in str(other.query_one("#board-title").render())
    await pilot.press("escape")  # back to the list, not to the first board
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, BoardScreen))


@pytest.mark.parametrize("vendor", list(BOARDS))
async def test_the_board_moves_wins_loses_and_switches_pipeline(
    vendor_demo: Callable[[str], Demo], vendor: str
) -> None:
    """One app per vendor, the scenarios one after the other on different cards: a move
    to the next stage, Won, Lost (its reason cancelled, then given, where asked; Salesloft
    saying it has no won or lost), then the next pipeline."""
    demo = vendor_demo(vendor)
    async with demo.app.run_test(size=SIZE, notifications=True) as pilot:
        board = await open_board(pilot, demo, vendor)
        await move_a_card_to_the_next_stage(pilot, demo, vendor, board)
        if vendor == "salesloft":
            await salesloft_says_its_stages_have_no_won_or_lost(pilot, demo, board)
        else:
            await won_from_the_board(pilot, demo, vendor, board)
            if board.info.lost_reason:
                await lost_reason_cancelled_queues_nothing(pilot, demo, vendor, board)
            await lost_from_the_board_with_its_reason_where_asked(pilot, demo, vendor, board)
        if BOARDS[vendor][1]:
            await the_pipeline_choice_switches_columns(pilot, board)
        elif vendor == "salesforceiq":
            await p_goes_to_the_next_salesforceiq_pipeline_list(pilot, demo, board)


# -- what each vendor declares ---------------------------------------------------------


@pytest.mark.parametrize("vendor", list(BOARDS))
async def test_won_and_lost_are_declared_on_fields_the_vendor_takes(
    wire: Callable[..., Any], vendor: str
) -> None:
    """Every board's Won and Lost resolve, in every pipeline, to writable fields and
    choices the kind offers; a kind without them says why; the lost reason is a writable
    field of the kind."""
    adapter = wire(vendor).adapter
    boards = [info for info in await adapter.kinds() if info.board_field]
    assert boards, f"{vendor} offers no board"
    for info in boards:
        specs = {spec.key: spec for spec in await adapter.fields(info.kind)}
        stage = specs[info.role(Role.STAGE) or ""]
        assert stage.writable and stage.type is FieldType.CHOICE
        groups = {c.group for c in stage.choices}
        for outcome in ("won", "lost"):
            values = info.outcome_values.get(outcome, {})
            for key, value in values.items():
                assert specs[key].writable and specs[key].choice(value) is not None
            for group in groups:
                closing = [c for c in stage.choices if c.group == group and c.outcome == outcome]
                assert closing or values or info.outcome_note, (info.kind, group, outcome)
        if info.lost_reason:
            reason = specs[info.lost_reason]
            assert reason.writable and reason.choices
        if vendor == "salesloft":
            assert not any(c.outcome for c in stage.choices) and info.outcome_note
