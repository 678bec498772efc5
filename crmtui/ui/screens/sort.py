"""The sort picker of a list (`s`): every shown column, each way.

enter sorts by the highlighted choice, escape keeps the order; the list's order is
marked. `S` on the list reverses the order without the picker.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from crmtui.text import inert

Order = tuple[str, bool]  # (column key, descending)

DEFAULT_CSS = """
SortScreen { align: center middle; }
SortScreen > Vertical {
    width: 48; height: auto; max-height: 80%;
    border: thick $accent; background: $surface; padding: 0 1;
}
SortScreen OptionList { height: auto; max-height: 30; border: none; }
"""


def sort_choices(columns: list[tuple[str, str]]) -> list[tuple[Order, str]]:
    """(order, label) for each (key, label) column, ascending then descending."""
    out = []
    for key, label in columns:
        out.append(((key, False), f"{label} ▲"))
        out.append(((key, True), f"{label} ▼"))
    return out


class SortScreen(ModalScreen[Order | None]):
    """Pick a column and a direction to sort a list by."""

    DEFAULT_CSS = DEFAULT_CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, title: str, columns: list[tuple[str, str]], current: Order | None) -> None:
        super().__init__()
        self.title_text = title
        self.choices = sort_choices(columns)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(inert(self.title_text), classes="dialog-title")
            options = [
                Option(inert(label + ("  (now)" if order == self.current else "")), id=str(i))
                for i, (order, label) in enumerate(self.choices)
            ]
            yield OptionList(*options, id="sort-choices")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        orders = [order for order, _ in self.choices]
        options.highlighted = orders.index(self.current) if self.current in orders else 0
        options.focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.choices[event.option_index][0])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
