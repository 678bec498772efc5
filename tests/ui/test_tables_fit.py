"""The screens' small tables (My day, the outbox) fit the terminal: every column in sight,
every cut ending in "…", no scrollbar residue, and wider columns on a wider screen.

One app (CI time): My day at 80x24, then 160x48, then 80x24 again (it re-fits on resize);
then an edit queued while the vendor is unreachable, and the outbox at 80x24.
"""

from __future__ import annotations

import re
from pathlib import Path

from rich.cells import cell_len
from textual.pilot import Pilot

from crmtui.model import FieldType, RecordRef
from crmtui.service import Crm
from crmtui.ui.screens.home import HomeScreen
from crmtui.ui.screens.my_day import MyDayScreen
from crmtui.ui.screens.outbox import OutboxScreen
from crmtui.ui.widgets.fit_table import FitTable
from tests.helpers.service import Unreachable
from tests.helpers.ui import build_demo, screen_text, settle, wait_for

VENDOR = "freshsales"
BARS = "▁▂▃▄▅▆▇█▉▊▋▌▍▎▏▐▕"  # a scrollbar's pieces
MOMENT = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d")


def shown_cells(pilot: Pilot) -> tuple[list[str], list[tuple[list[str], list[str]]]]:
    """The table's header labels as drawn, and each row on screen as drawn (cell by cell,
    cut at the columns' widths) beside its cells as given, read from the screen's text."""
    table = pilot.app.screen.query_one(FitTable)
    width = pilot.app.size.width
    lines = screen_text(pilot.app).splitlines()
    top = table.region.y
    assert all(cell_len(line) <= width for line in lines)
    area = lines[top : top + table.region.height]
    assert not any(bar in line for line in area for bar in BARS), "\n".join(area)
    assert table.virtual_size.width <= table.size.width  # nothing to scroll sideways

    def split(line: str) -> list[str]:
        cells, x = [], table.region.x
        for column in table.ordered_columns:
            cells.append(line[x + 1 : x + 1 + column.width].rstrip())
            x += column.width + 2
        return cells

    rows = []
    first = round(table.scroll_y)
    for k, line in enumerate(area[1:]):
        index = first + k
        if index >= table.row_count:
            break
        given = table.given(table.ordered_rows[index].key)
        drawn = split(line)
        rows.append((drawn, given + [""] * (len(drawn) - len(given))))  # a heading: one cell
    return split(area[0]), rows


def check_cuts(rows: list[tuple[list[str], list[str]]]) -> int:
    """Every drawn cell is its value whole, or its beginning and "…"; the cuts counted."""
    cuts = 0
    for drawn, given in rows:
        for cell, value in zip(drawn, given, strict=True):
            value = " ".join(value.split())
            if cell == value:
                continue
            assert cell.endswith("…") and value.startswith(cell[:-1].rstrip()), (cell, value)
            cuts += 1
    return cuts


async def free_text(crm: Crm, profile: str) -> tuple[RecordRef, str]:
    """A record and a free-text field of it that takes a long value."""
    for info in await crm.kinds(profile):
        specs = await crm.fields(profile, info.kind) if info.editable else []
        for spec in specs:
            long_text = spec.type is FieldType.TEXT and (spec.max_length or 200) >= 140
            if spec.writable and long_text and not spec.choices and spec.key not in info.references:
                record = (await crm.refresh(profile, info.kind)).records[0]
                return RecordRef(profile=profile, kind=info.kind, id=record.id), spec.key
    raise AssertionError(f"{profile}: no free-text field")


async def test_my_day_and_the_outbox_fit_80_columns_and_widen_at_160(tmp_path: Path) -> None:
    demo = build_demo(VENDOR, tmp_path / "cache.sqlite3")
    app, crm = demo.app, demo.crm
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
        await settle(pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, MyDayScreen))
        await settle(pilot)
        day = app.screen.query_one(FitTable)

        labels, rows = shown_cells(pilot)
        assert labels == ["Due", "Task", "About", "Owner", "Profile"]  # all in sight
        assert len(rows) > 5
        assert check_cuts(rows) > 0  # tasks are cut at 80 columns, each with "…"
        for drawn, given in rows:  # a due time, an owner, a profile are never cut
            if MOMENT.match(given[0]):
                assert drawn[0] == given[0] and drawn[3:] == given[3:]
        assert "overdue ·" in screen_text(app)  # the facts line below the table in sight
        await pilot.press("G")  # the last row: the cursor on a row drawn on screen
        await settle(pilot)
        assert day.cursor_row == day.row_count - 1
        assert day.scroll_y <= day.cursor_row < day.scroll_y + day.size.height - 1
        narrow = [column.width for column in day.ordered_columns]

        await pilot.resize_terminal(160, 48)
        await settle(pilot)
        labels, rows = shown_cells(pilot)
        assert labels == ["Due", "Task", "About", "Owner", "Profile"]
        check_cuts(rows)
        wide = [column.width for column in day.ordered_columns]
        assert wide[1] > narrow[1] and wide[2] > narrow[2]  # the task and About widen
        assert wide[0] == narrow[0]  # the due time was whole already

        await pilot.resize_terminal(80, 24)  # and narrow again: re-fitted, not clipped
        await settle(pilot)
        assert [column.width for column in day.ordered_columns] == narrow
        check_cuts(shown_cells(pilot)[1])

        # the outbox: an edit queued while the vendor cannot be reached
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
        profile = f"demo-{VENDOR}"
        ref, key = await free_text(crm, profile)
        crm.http.transport.mount(f"http://{VENDOR}.localhost", Unreachable())
        long = "A deliberately long name so that the change column has to be cut " * 2
        change = await crm.edit(ref, {key: long.strip()})
        assert change is not None
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, OutboxScreen))
        await settle(pilot)
        labels, rows = shown_cells(pilot)
        assert len(labels) == 6 and labels[:2] == ["Profile", "Record"]
        assert rows and check_cuts(rows) > 0  # the change is cut, with "…"
