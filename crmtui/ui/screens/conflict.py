"""A conflict: base, theirs and mine, field by field; the user picks, nothing is lost.

An edit's conflict is settled field by field (mine is sent on top of the server's version,
theirs drops my value). A delete's (the undo of a record crmtui created, which someone
changed since) is one choice for the whole record: each field it was created with beside
the server's value now, changed ones first, then keep the record (the undo dropped: the
default, nothing of theirs is lost) or delete it all the same.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

from crmtui.fields import display, same_value
from crmtui.model import Change, ChangeOp, FieldSpec
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
        self.deleting = change.op is ChangeOp.DELETE
        if self.deleting:  # one choice for the record: kept unless asked to delete it
            self.choices = dict.fromkeys(change.base, "theirs")
        else:
            self.choices = {key: "mine" for key in change.values}

    def compose(self) -> ComposeResult:
        record = self.crm.cached(self.change.ref)
        title = record.title if record else self.change.ref.id
        if self.deleting:
            yield Static(
                inert(
                    f"Conflict — {title} changed on the server since crmtui created it: "
                    "the undo did not delete it"
                ),
                classes="screen-title",
            )
            yield Static(
                "Keep the record (the undo is dropped) or delete it all the same, with "
                "the changes below: t keeps it, m deletes it, space flips, ctrl+s applies.",
                classes="hint",
            )
        else:
            yield Static(
                inert(f"Conflict — {title} changed on the server since your edit"),
                classes="screen-title",
            )
            yield Static(
                "Pick per field: mine is sent on top of the server's version; theirs drops my "
                "value. space flips a field, m/t pick all, ctrl+s applies.",
                classes="hint",
            )
        yield FitTable(id="conflict", cursor_type="row")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(FitTable)
        if self.deleting:
            table.add_columns("Field", "Created with", "Theirs (server now)", "Changed", "Undo")
        else:
            table.add_columns(
                "Field", "Base (when I edited)", "Theirs (server now)", "Mine", "Keep"
            )
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
        if self.deleting:
            self._fill_delete(table, specs, currency)
            table.move_cursor(row=min(row, max(0, table.row_count - 1)))
            return
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

    def _fill_delete(
        self, table: DataTable[object], specs: dict[str, FieldSpec], currency: str | None
    ) -> None:
        """Each field the record was created with beside the server's now (changed ones
        first), and the one choice: keep the record or delete it."""
        base, theirs = self.change.base, self.change.theirs
        moved = {key for key in base if not same_value(theirs.get(key), base[key])}
        delete = "mine" in self.choices.values()
        for key in sorted(base, key=lambda k: k not in moved):
            spec = specs.get(key)
            table.add_row(
                inert(spec.label if spec else key),
                inert(display(spec, base[key], currency=currency), limit=CELL_LIMIT),
                inert(display(spec, theirs.get(key), currency=currency), limit=CELL_LIMIT),
                "changed" if key in moved else "",
                "▶ delete it" if delete else "▶ keep the record",
                key=key,
            )

    def action_flip(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        if self.deleting:  # one choice for the whole record
            self.action_all("theirs" if "mine" in self.choices.values() else "mine")
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
        if self.deleting:
            self.notify(
                "Deleting it all the same"
                if "mine" in self.choices.values()
                else "Kept the record; the undo was dropped (u in the outbox brings it back)"
            )
            self.app.pop_screen()
            return
        kept = [k for k, v in self.choices.items() if v == "mine"]
        self.notify(
            "Sending your values again"
            if kept
            else "Kept the server's values; your edit was dropped (u in the outbox brings it back)"
        )
        self.app.pop_screen()
