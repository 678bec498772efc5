"""A read-only view of a long text (a 20 MB note) that draws only the lines on screen.

The text is split into its lines once; each line is wrapped at the widget's width by
counting characters (half the width for a line with non-ASCII characters, which may be
two cells wide), so finding row ``n`` is a binary search over the lines' row counts and
drawing a screen cleans (``crmtui.text.clean``) and styles only the rows shown. A
``TextArea`` or a ``Log`` take seconds to open a text of that size.
"""

from __future__ import annotations

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
        """``lines``: ``split(text)`` when it was made already (in a thread: a 20 MB
        text takes a while to split, and the event loop would wait for it)."""
        super().__init__(id=id)
        self.text = text
        self.lines = self.split(text) if lines is None else lines
        self._ends: list[int] = []  # rows up to and including each line, at _width
        self._width = 0

    @staticmethod
    def split(text: str) -> list[str]:
        """``text``'s lines, as the view holds them."""
        return text.split("\n")

    @property
    def rows(self) -> int:
        return self._ends[-1] if self._ends else 0

    def _chunk(self, line: str) -> int:
        """Characters per row: the width, or half of it where a character may be wide."""
        return self._width if line.isascii() else max(1, self._width // 2)

    def _wrap(self, width: int) -> None:
        width = max(1, width)
        if width != self._width:
            self._width = width
            self._ends = list(
                accumulate(max(1, -(-len(line) // self._chunk(line))) for line in self.lines)
            )
        self.virtual_size = Size(width, self.rows)

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
