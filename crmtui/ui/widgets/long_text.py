"""A read-only view of a long text (a 20 MB note) that draws only the lines on screen.

The text is split into its lines once; each line is wrapped at the widget's width by
counting characters (half the width for a line with non-ASCII characters, which may be
two cells wide), so finding row ``n`` is a binary search over the lines' row counts and
drawing a screen cleans (``crmtui.text.clean``) and styles only the rows shown. A
``TextArea`` or a ``Log`` take seconds to open a text of that size.

A long text is split and its rows counted in a thread, a slice at a time (a 25 MB text
of a million short lines took half a second to split and two to count, and the event
loop waited for both): meanwhile its first lines show, and ``G`` goes to the end once
the rows are counted.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from itertools import accumulate
from typing import ClassVar

from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from crmtui.text import clean

# Characters split in one go (a fraction of a millisecond): a thread splitting a long text
# lets the event loop run between two slices (one ``str.split`` of 20 MB held the
# interpreter's lock for half a second).
SLICE = 1 << 18
# Lines whose rows are counted on the event loop, when the view opens or is resized; a
# text with more gets its first ``FIRST_LINES`` counted at once and the rest in a thread.
MANY_LINES = 5_000
FIRST_LINES = 500


class LongText(ScrollView, can_focus=True):
    """Scrollable, wrapped, inert text; rows are made as they are shown."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "scroll_down", "Down", show=False),
        Binding("up,k", "scroll_up", "Up", show=False),
        Binding("pagedown,ctrl+f,space", "page_down", "Page down", show=False),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False),
        Binding("home,g", "scroll_home", "Top", show=False),
        Binding("end,G", "scroll_end", "End", show=False),
    ]

    DEFAULT_CSS = """
    LongText { height: 1fr; padding: 0 1; }
    """

    def __init__(self, text: str, *, lines: list[str] | None = None, id: str | None = None) -> None:
        """``lines``: ``split(text)`` when it was made already (in a thread); else a long
        text is split in a thread once the view is up (its first lines show meanwhile)."""
        super().__init__(id=id)
        self.text = text
        self.split_whole = lines is not None or len(text) <= SLICE  # every line known
        if lines is not None:
            self.lines = lines
        else:
            self.lines = self.split(text) if self.split_whole else text[:SLICE].split("\n")
        self.counted = False  # every line's rows counted at the current width
        self._ends: list[int] = []  # rows up to and including each line, at _width
        self._width = 0
        self._end_wanted = False  # G before the rows were counted: the end once they are

    @staticmethod
    def split(text: str) -> list[str]:
        """``text``'s lines, as the view holds them; a long text a slice at a time, so a
        thread splitting it lets the event loop run."""
        if len(text) <= SLICE:
            return text.split("\n")
        lines: list[str] = []
        start = 0  # where the line being read begins
        for stop in range(SLICE, len(text), SLICE):
            cut = text.rfind("\n", stop - SLICE, stop)
            if cut >= start:  # lines end in this slice: up to the last of them
                lines.extend(text[start:cut].split("\n"))
                start = cut + 1
        lines.extend(text[start:].split("\n"))
        return lines

    @staticmethod
    def row_ends(lines: list[str], width: int) -> list[int]:
        """The rows up to and including each line, wrapped at ``width`` (characters per
        row: the width, or half of it where a character may be wide)."""
        half = max(1, width // 2)
        return list(
            accumulate(
                max(1, -(-len(line) // (width if line.isascii() else half))) for line in lines
            )
        )

    @property
    def rows(self) -> int:
        return self._ends[-1] if self._ends else 0

    def _chunk(self, line: str) -> int:
        """Characters per row: the width, or half of it where a character may be wide."""
        return self._width if line.isascii() else max(1, self._width // 2)

    def _wrap(self, width: int) -> None:
        if not self.size.width:  # not laid out yet: wrapped at its first size (on_resize)
            return
        width = max(1, width)
        if width != self._width:
            self._width = width
            self.counted = self.split_whole and len(self.lines) <= MANY_LINES
            if self.counted:
                self._ends = self.row_ends(self.lines, width)
            else:  # the first lines now, every line in a thread
                self._ends = self.row_ends(self.lines[:FIRST_LINES], width)
                self.run_worker(self._count(width), group="rows", exclusive=True)
        self.virtual_size = Size(width, self.rows)

    async def _count(self, width: int) -> None:
        """Split the text (unless it was) and count every line's rows, in a thread; a
        count for a width the view no longer has stops."""
        text, lines = self.text, None if not self.split_whole else self.lines

        def count() -> tuple[list[str], list[int]] | None:
            whole = self.split(text) if lines is None else lines
            ends: list[int] = []
            for start in range(0, len(whole), MANY_LINES):
                if width != self._width:
                    return None
                before = ends[-1] if ends else 0
                ends.extend(
                    before + n for n in self.row_ends(whole[start : start + MANY_LINES], width)
                )
            return whole, ends

        counted = await asyncio.to_thread(count)
        if counted is None or width != self._width:  # resized meanwhile: counted again
            return
        self.lines, self._ends = counted
        self.split_whole = self.counted = True
        self.virtual_size = Size(width, self.rows)
        self.refresh()
        if self._end_wanted:
            self._end_wanted = False
            self.scroll_end(animate=False, immediate=True)

    def action_scroll_end(self) -> None:
        self._end_wanted = not self.counted
        super().action_scroll_end()

    def action_scroll_home(self) -> None:
        self._end_wanted = False
        super().action_scroll_home()

    def _text_width(self) -> int:
        """The width rows are wrapped at: the scrollbar's room is kept whether or not it
        shows, so its coming does not crop rows already wrapped."""
        return self.content_region.width - self.styles.scrollbar_size_vertical

    def on_mount(self) -> None:
        self._wrap(self._text_width())

    def on_resize(self, event: events.Resize) -> None:
        self._wrap(self._text_width())

    def row_text(self, row: int) -> str:
        """The (cleaned) text of display row ``row``; "" past the end."""
        if not 0 <= row < self.rows:
            return ""
        index = bisect_right(self._ends, row)
        first = self._ends[index - 1] if index else 0
        line = self.lines[index]
        chunk = self._chunk(line)
        start = (row - first) * chunk
        return clean(line[start : start + chunk], limit=None)

    def render_line(self, y: int) -> Strip:
        style = self.rich_style
        width = self.scrollable_content_region.width
        text = self.row_text(int(self.scroll_offset.y) + y)
        return Strip([Segment(text, style)]).adjust_cell_length(width, style)
