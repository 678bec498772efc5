"""A whole long value (a field cut on the record screen), scrollable, read only."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from crmtui.text import amount, inert
from crmtui.ui.widgets.footer import KeysFooter
from crmtui.ui.widgets.long_text import LongText


class TextViewScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,v", "app.pop_screen", "Back"),
    ]

    def __init__(self, title: str, text: str, *, lines: list[str] | None = None) -> None:
        """``lines``: ``LongText.split(text)``, when it was made already (in a thread)."""
        super().__init__()
        self.heading = title
        self.text = text
        self.lines = lines

    def compose(self) -> ComposeResult:
        size = len(self.text)
        facts = f"{self.heading} — {amount(size)} character{'s' if size != 1 else ''}"
        yield Static(inert(facts), classes="screen-title")
        yield Static("↑/↓ j/k scroll · g/G top and end · escape goes back", classes="hint")
        yield LongText(self.text, lines=self.lines, id="long-text")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(LongText).focus()
