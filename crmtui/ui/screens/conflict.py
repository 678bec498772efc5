"""A conflict: base, theirs and mine, field by field; the user picks, nothing is lost."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

from crmtui.fields import display
from crmtui.model import Change
from crmtui.service import Crm
from crmtui.text import inert
from crmtui.ui.widgets.fit_table import FitTable
from crmtui.ui.widgets.footer import KeysFooter

CELL_LIMIT = 200  # characters of a value in the comparison (a long note is cut)


class ConflictScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("space,enter", "flip", "Mine ⇄ theirs"),
        Binding("m", "all('mine')", "All mine"),
        Binding("t", "all('theirs')", "All theirs"),
        Binding("ctrl+s", "apply", "Apply choice"),
    ]

    def __init__(self, crm: Crm, change: Change) -> None:
        super().__init__()
        self.crm = crm
        self.change = change
        self.choices = {key: "mine" for key in change.values}

    def compose(self) -> ComposeResult:
        record = self.crm.cached(self.change.ref)
        title = record.title if record else self.change.ref.id
        yield Static(
            inert(f"Conflict — {title} changed on the server since your edit"),
            classes="screen-title",
        )
        yield Static(
            "Pick per field: mine is sent on top of the server's version; theirs drops my value. "
            "space flips a field, m/t pick all, ctrl+s applies.",
            classes="hint",
        )
        yield FitTable(id="conflict", cursor_type="row")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(FitTable)
        table.add_columns("Field", "Base (when I edited)", "Theirs (server now)", "Mine", "Keep")
        table.fit_like(name="Field", whole=["Keep"])
        self.fill()
        table.focus()

    def fill(self) -> None:
        specs = {
            s.key: s for s in self.crm.cached_fields(self.change.ref.profile, self.change.ref.kind)
        }
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        currency = self.crm.currency(self.change.ref)  # amounts: "8,000.00 GBP"
        for key, mine in self.change.values.items():
            spec = specs.get(key)
            keep = self.choices[key]
            base, theirs = self.change.base.get(key), self.change.theirs.get(key)
            table.add_row(
                inert(spec.label if spec else key),
                inert(display(spec, base, currency=currency), limit=CELL_LIMIT),
                inert(display(spec, theirs, currency=currency), limit=CELL_LIMIT),
                inert(display(spec, mine, currency=currency), limit=CELL_LIMIT),
                "▶ mine" if keep == "mine" else "▶ theirs",
                key=key,
            )
        table.move_cursor(row=min(row, max(0, table.row_count - 1)))

    def action_flip(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key:
            self.choices[key] = "theirs" if self.choices[key] == "mine" else "mine"
            self.fill()

    def action_all(self, which: str) -> None:
        self.choices = dict.fromkeys(self.choices, which)
        self.fill()

    def action_apply(self) -> None:
        self.crm.resolve(self.change.id, self.choices)
        kept = [k for k, v in self.choices.items() if v == "mine"]
        self.notify(
            "Sending your values again"
            if kept
            else "Kept the server's values; your edit was dropped (u in the outbox brings it back)"
        )
        self.app.pop_screen()
