"""LongText: a huge value, wrapped lazily; every character shown once, none past the edge."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import App, ComposeResult

from crmtui.text import clean
from crmtui.ui.widgets.long_text import LongText

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
        await pilot.press("G")
        await pilot.pause()
        assert view.scroll_offset.y == max(0, view.rows - view.scrollable_content_region.height)
