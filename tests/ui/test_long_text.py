"""LongText: a huge value, wrapped lazily; every character shown once, none past the edge.
A text of many lines opens at once with its first lines, and is split and its rows counted
in a thread (issue 12: no screen takes more than 100 ms to open because of one value)."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult

from crmtui.text import clean
from crmtui.ui.widgets.long_text import MANY_LINES, SLICE, LongText
from tests.helpers.ui import wait_for

TEXT = "\n".join(
    [
        "short",
        "",
        "x" * 250,  # wider than the view: three rows
        "漢字かな交じり文" * 20,  # two cells a character
        "tab\there \x1b]52;c;aGk=\x07 [bold]not markup[/]",
        "é" * 90,
    ]
)


class Viewer(App[None]):
    def compose(self) -> ComposeResult:
        yield LongText(TEXT)


async def test_every_character_once_and_no_row_wider_than_the_view() -> None:
    app = Viewer()
    async with app.run_test(size=(100, 8)) as pilot:  # taller text: a scrollbar
        await pilot.pause()
        view = app.query_one(LongText)
        width = view.scrollable_content_region.width  # the scrollbar shows: text is long
        rows = [view.row_text(n) for n in range(view.rows)]
        assert all(cell_len(row) <= width for row in rows)
        assert "".join(rows) == "".join(clean(line, limit=None) for line in TEXT.split("\n"))
        assert view.row_text(view.rows) == ""
        # each line starts a row of its own
        assert rows[0] == "short" and rows[1] == "" and rows[2] == "x" * width
        assert "␛]52;c;aGk=␇ [bold]not markup[/]" in "".join(rows)
        await pilot.press("G")  # scrolls smoothly: at the end once the scroll has run
        end = max(0, view.rows - view.scrollable_content_region.height)
        await wait_for(pilot, lambda: view.scroll_offset.y == end)
        assert view.scroll_offset.y == end

        # many lines (25 MB): up with its first lines before they are all split and
        # counted; G pressed meanwhile goes to the very end once they are
        many = "\n".join(f"line {n} of the minutes" for n in range(1_000_000))
        await view.remove()
        big = LongText(many)
        await app.mount(big)
        await wait_for(pilot, lambda: big.rows)  # laid out: wrapped at its width
        assert not big.counted and big.row_text(0) == "line 0 of the minutes"
        big.focus()
        await pilot.press("G")
        await wait_for(pilot, lambda: big.counted, timeout=60)
        await pilot.pause()
        assert big.rows == 1_000_000 and big.lines == many.split("\n")
        height = big.scrollable_content_region.height
        assert big.scroll_offset.y == big.rows - height
        assert big.row_text(big.rows - 1) == "line 999999 of the minutes"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n" * (SLICE + 3),
        "x" * (3 * SLICE) + "\nend",  # one line longer than a slice
        ("ab\n" * SLICE) + "tail",
        "".join(f"{n}\n" if n % 7 else "\r\n\n" for n in range(400_000)),
    ],
)
def test_a_long_text_is_split_into_the_lines_str_split_gives(text: str) -> None:
    assert LongText.split(text) == text.split("\n")


def test_rows_count_each_line_at_the_width_and_wide_characters_at_half() -> None:
    lines = ["", "a" * 10, "a" * 11, "漢" * 5, "é" * 6] * (MANY_LINES // 5 + 1)
    ends = LongText.row_ends(lines, 10)
    assert ends[:5] == [1, 2, 4, 5, 7] and ends[-1] == 7 * (MANY_LINES // 5 + 1)
