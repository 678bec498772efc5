"""The help screen: every key binding of the screen it was opened from."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from crmtui.text import inert
from crmtui.ui.widgets.vim import VimDataTable

# A copy is written to the clipboard by the terminal (OSC 52): one that ignores it copies
# nothing, and crmtui cannot tell.
COPY_NOTE = "Copies go through your terminal (OSC 52); in tmux: set -g set-clipboard on"


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        yield Static(
            inert(f"Keys on this screen ({type(self.under).__name__.removesuffix('Screen')})"),
            id="help-title",
        )
        yield VimDataTable(id="help-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Action")
        keys: dict[tuple[str, str], list[str]] = {}  # one row per action, all its keys
        for active in self.under.active_bindings.values():
            binding = active.binding
            label = binding.description or binding.action
            shown = binding.key_display or self.app.get_key_display(binding)
            row = keys.setdefault((label, binding.action), [])
            if shown not in row:
                row.append(shown)
        for (label, action), all_keys in keys.items():
            table.add_row(inert(" ".join(all_keys)), inert(label), key=f"{action}:{label}")
        table.add_row("ctrl+p", "Command palette")
        if any(key[1] == "copy_value" for key in keys):  # y and Y: the terminal copies
            table.add_row("y Y", COPY_NOTE, key="copy-note")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
