"""Lists that move with vim keys as well as the arrows: j/k, g/G, ctrl+f/ctrl+b.

The bindings carry ids (``cursor_down``, ``cursor_up``, ``first``, ``last``,
``page_down``, ``page_up``), the same ids as ``RecordTable``'s, so one ``[keys]`` entry
of config.toml moves the key in every list of the app.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.widgets import DataTable, OptionList

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


class VimOptionList(OptionList):
    """An ``OptionList`` with vim movement keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False, id="cursor_down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="cursor_up"),
        Binding("home,g", "first", "First", show=False, id="first"),
        Binding("end,G", "last", "Last", show=False, id="last"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="page_down"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="page_up"),
    ]
