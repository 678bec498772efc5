"""A read-only view of a long text (a 20 MB note) that draws only the lines on screen.

The text is split into its lines once; each line is wrapped at the widget's width by
counting characters, so finding row ``n`` is a binary search over the lines' row counts
and drawing a screen cleans (``crmtui.text.clean``) and styles only the rows shown. A
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

    def __init__(self, text: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = text
        self.lines = text.split("\n")
        self._ends: list[int] = []  # rows up to and including each line, at _width
        self._width = 0

    @property
    def rows(self) -> int:
        return self._ends[-1] if self._ends else 0

    def _wrap(self, width: int) -> None:
        width = max(1, width)
        if width != self._width:
            self._width = width
            self._ends = list(accumulate(max(1, -(-len(line) // width)) for line in self.lines))
        self.virtual_size = Size(width, self.rows)

    def on_mount(self) -> None:
        self._wrap(self.scrollable_content_region.width)

    def on_resize(self, event: events.Resize) -> None:
        self._wrap(self.scrollable_content_region.width)

    def row_text(self, row: int) -> str:
        """The (cleaned) text of display row ``row``; "" past the end."""
        if not 0 <= row < self.rows:
            return ""
        index = bisect_right(self._ends, row)
        first = self._ends[index - 1] if index else 0
        start = (row - first) * self._width
        return clean(self.lines[index][start : start + self._width], limit=None)

    def render_line(self, y: int) -> Strip:
        style = self.rich_style
        width = self.scrollable_content_region.width
        text = self.row_text(int(self.scroll_offset.y) + y)
        return Strip([Segment(text, style)]).adjust_cell_length(width, style)
