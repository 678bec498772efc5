"""Lists that move with vim keys as well as the arrows: j/k, g/G, ctrl+f/ctrl+b.

The bindings carry ids (``cursor_down``, ``cursor_up``, ``first``, ``last``,
``page_down``, ``page_up``), the same ids as ``RecordTable``'s, so one ``[keys]`` entry
of config.toml moves the key in every list of the app.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import DataTable, ListView, OptionList

CellType = TypeVar("CellType")


class VimDataTable(DataTable[CellType]):
    """A ``DataTable`` (row cursor) with vim movement keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False, id="cursor_down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="cursor_up"),
        Binding("home,g", "scroll_top", "First", show=False, id="first"),
        Binding("end,G", "scroll_bottom", "Last", show=False, id="last"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="page_down"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="page_up"),
    ]


# The vim movement keys of the option and field lists (actions named first/last, as
# OptionList and VimListView call them).
_MOVES: list[BindingType] = [
    Binding("down,j", "cursor_down", "Down", show=False, id="cursor_down"),
    Binding("up,k", "cursor_up", "Up", show=False, id="cursor_up"),
    Binding("home,g", "first", "First", show=False, id="first"),
    Binding("end,G", "last", "Last", show=False, id="last"),
    Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="page_down"),
    Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="page_up"),
]


class VimOptionList(OptionList):
    """An ``OptionList`` with vim movement keys."""

    BINDINGS: ClassVar[list[BindingType]] = list(_MOVES)


class VimListView(ListView):
    """A ``ListView`` with vim movement keys (a record's fields)."""

    BINDINGS: ClassVar[list[BindingType]] = list(_MOVES)

    def action_first(self) -> None:
        if self._nodes:
            self.index = 0

    def action_last(self) -> None:
        if self._nodes:
            self.index = len(self._nodes) - 1

    def _page(self) -> int:
        """Rows in one page: the lines the list's scrolling parent shows (a row is a line)."""
        parent = self.parent
        height = parent.scrollable_content_region.height if isinstance(parent, Widget) else 0
        return max(1, (height or self.size.height) - 1)

    def action_page_down(self) -> None:
        if self._nodes:
            self.index = min(len(self._nodes) - 1, (self.index or 0) + self._page())

    def action_page_up(self) -> None:
        if self._nodes:
            self.index = max(0, (self.index or 0) - self._page())
