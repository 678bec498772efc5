"""The help screen: every key binding of the screen it was opened from."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        yield Static(
            f"Keys on this screen ({type(self.under).__name__.removesuffix('Screen')})",
            id="help-title",
        )
        yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Action")
        seen: set[tuple[str, str]] = set()
        for key, active in self.under.active_bindings.items():
            binding = active.binding
            label = binding.description or binding.action
            shown = binding.key_display or self.app.get_key_display(binding)
            if (shown, label) in seen:
                continue
            seen.add((shown, label))
            table.add_row(shown, label, key=f"{key}:{label}")
        table.add_row("ctrl+p", "Command palette")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
