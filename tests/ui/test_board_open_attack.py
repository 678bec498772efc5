"""`b` opens the board on the list's highlighted record, under awkward records: an empty
list, a won record (the board shows closed cards then, and keeps doing so on `p`), a
record moved to another pipeline after the list read it, a record with no stage or a
stage that is no column, and `b` pressed three times at once. One app run on
ActiveCampaign (three pipelines; won and lost are a status), the scenarios in turn."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from crmtui.model import Record, Role
from crmtui.ui.screens.board import BoardScreen
from crmtui.ui.screens.vendor import KindView
from tests.helpers.ui import Demo, open_kind, settle, wait_for

SIZE = (160, 48)


def _notices(pilot: Pilot) -> list[str]:
    return [str(n.message) for n in pilot.app._notifications]


def _cards(board: BoardScreen) -> list[Record]:
    return [record for column in board.columns for record in column.records]


async def _highlight(pilot: Pilot, view: KindView, record_id: str) -> Record:
    table = view.table

    def found() -> bool:
        for row in range(table.row_count):
            record = table.record_at(row)
            if record is not None and record.id == record_id:
                table.cursor = row
                return True
        return False

    await wait_for(pilot, found)
    await wait_for(pilot, lambda: table.current is not None and table.current.id == record_id)
    assert table.current is not None
    return table.current


async def _press_board(pilot: Pilot, *keys: str) -> BoardScreen:
    await pilot.press(*keys)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, BoardScreen))
    board = pilot.app.screen
    assert isinstance(board, BoardScreen)
    await wait_for(pilot, lambda: not board.refreshing and bool(board.columns), 30)
    await settle(pilot)
    return board


async def _back(pilot: Pilot, view: KindView) -> None:
    await pilot.press("escape")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, BoardScreen))
    view.table.focus()
    await pilot.pause()


async def test_b_opens_the_board_on_awkward_records(vendor_demo: Callable[[str], Demo]) -> None:
    demo = vendor_demo("activecampaign")
    async with demo.app.run_test(size=SIZE, notifications=True) as pilot:
        view = await open_kind(pilot, "deal")
        info, crm = view.info, view.crm
        stage_key = info.role(Role.STAGE) or ""
        status_key = info.role(Role.STATUS) or ""
        specs = {s.key: s for s in crm.cached_fields(view.profile, info.kind)}
        stages = specs[stage_key].choices
        rows = [view.table.record_at(i) for i in range(view.table.row_count)]
        records = [r for r in rows if r is not None]
        first_group = stages[0].group

        # 1. three b at once: one board, on the record's pipeline, its card selected
        some = next(r for r in records if r.fields[status_key] == "open")
        await _highlight(pilot, view, some.id)
        board = await _press_board(pilot, "b", "b", "b")
        assert sum(isinstance(s, BoardScreen) for s in pilot.app.screen_stack) == 1
        assert board.current is not None and board.current.id == some.id
        await _back(pilot, view)

        # 2. a won record: its pipeline with closed cards shown, it selected; p keeps "all"
        won = next(
            r
            for r in records
            if r.fields[status_key] == "won"
            and specs[stage_key].choice(str(r.fields[stage_key])).group != first_group
        )
        await _highlight(pilot, view, won.id)
        board = await _press_board(pilot, "b")
        assert board.current is not None and board.current.id == won.id
        assert not board.open_only
        assert any(c.fields[status_key] != "open" for c in _cards(board))
        assert board.group_value == specs[stage_key].choice(str(won.fields[stage_key])).group
        title = str(board.query_one("#board-title").render())
        group = board.group
        await pilot.press("p")
        await wait_for(pilot, lambda: str(board.query_one("#board-title").render()) != title)
        await wait_for(pilot, lambda: not board.refreshing)
        assert board.group == (group + 1) % len(board.groups)
        assert not board.open_only and board.current is not None
        assert all(
            str(c.fields[info.role(Role.PIPELINE) or ""]) == board.group_filter
            for c in _cards(board)
        )
        await _back(pilot, view)

        # 3. moved to another pipeline after the list read it (the list's row is stale):
        # the board opens where the record is now, and finds it
        mover = next(
            r
            for r in records
            if r.fields[status_key] == "open" and r.id not in (some.id, won.id)
            and str(r.fields[stage_key]) == stages[0].value
        )  # fmt: skip
        listed = await _highlight(pilot, view, mover.id)
        elsewhere = next(c for c in stages if c.group != first_group and c.outcome is None)
        pipeline = info.role(Role.PIPELINE) or ""
        moved = listed.model_copy(
            update={"fields": {**listed.fields, stage_key: elsewhere.value,
                               pipeline: elsewhere.group}}
        )  # fmt: skip
        crm.store.upsert_records([moved])  # no event: the list still shows the old stage
        assert view.table.current is not None
        assert view.table.current.fields[stage_key] == stages[0].value
        board = await _press_board(pilot, "b")
        # (the board's refresh from the vendor then puts the vendor's stage back in the
        # cache: the card leaves, the pipeline shown stays)
        assert board.group_value == elsewhere.group
        await _back(pilot, view)

        # 4. no stage, then a stage that is no column: the board says so, no crash
        for value, said in ((None, "its stage is empty"), ("999", "its stage is '999'")):
            odd = next(
                r
                for r in records
                if r.fields[status_key] == "open" and r.id not in (some.id, won.id, mover.id)
            )
            await _highlight(pilot, view, odd.id)
            crm.store.upsert_records(
                [odd.model_copy(update={"fields": {**odd.fields, stage_key: value}})]
            )
            board = await _press_board(pilot, "b")
            assert any(odd.title in n and said in n for n in _notices(pilot)), _notices(pilot)
            assert board.group == 0
            await _back(pilot, view)

        # 5. an empty list (a search matching nothing): the board's own start
        view.search_text = "no deal is called this"
        await wait_for(pilot, lambda: view.table.row_count == 0 and not view.fetching)
        assert view.table.current is None
        board = await _press_board(pilot, "b")
        assert board.group == 0 and board.open_only
        assert board.current is not None
        await _back(pilot, view)
