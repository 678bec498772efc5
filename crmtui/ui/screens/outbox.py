"""The outbox: every queued edit with its state; retry, discard, or resolve a conflict.

An *uncertain* change may have reached the vendor and crmtui could not check: the user
looks in the vendor's app and chooses send again (``r``), it arrived (``m``) or discard.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from crmtui.model import Change, ChangeState
from crmtui.service import ChangeBusy, Crm
from crmtui.text import inert
from crmtui.ui.messages import CrmEvent
from crmtui.ui.widgets.status import StatusBar
from crmtui.ui.widgets.vim import VimDataTable

if TYPE_CHECKING:
    from crmtui.ui.app import CrmApp

STATE_TEXT = {
    ChangeState.PENDING: "queued",
    ChangeState.SENDING: "sending…",
    ChangeState.FAILED: "will retry",
    ChangeState.REJECTED: "refused",
    ChangeState.CONFLICT: "conflict",
    ChangeState.UNCERTAIN: "arrived? you decide",
}


def describe(change: Change) -> str:
    values = ", ".join(
        f"{k} → {str(v)[:80]}" for k, v in change.values.items() if not k.startswith("target_")
    )
    return f"{change.op.value}: {values}"


class OutboxScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("enter", "resolve", "Compare / open", id="open"),
        Binding("r", "retry", "Retry now", id="retry"),
        Binding("d", "discard", "Discard", id="discard"),
        Binding("m", "arrived", "It arrived", id="arrived"),
    ]

    def __init__(self, crm: Crm) -> None:
        super().__init__()
        self.crm = crm

    def compose(self) -> ComposeResult:
        yield Static("Outbox — edits waiting for the vendor, oldest first", classes="screen-title")
        yield VimDataTable(id="outbox", cursor_type="row", zebra_stripes=True)
        yield Static("", id="outbox-detail", classes="hint")
        yield StatusBar(self.crm)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Profile", "Record", "Change", "State", "Tries", "Last error")
        self.fill()
        table.focus()

    def fill(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for change in self.crm.changes():
            record = self.crm.cached(change.ref)
            title = record.title if record else f"{change.ref.kind} {change.ref.id}"
            table.add_row(
                inert(change.ref.profile),
                inert(title, limit=40),
                inert(describe(change), limit=60),
                STATE_TEXT.get(change.state, change.state.value),
                str(change.attempts),
                inert(change.last_error or "", limit=80),  # the vendor's words
                key=change.id,
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        empty = "Nothing queued: every edit has reached its vendor." if not table.row_count else ""
        self.query_one("#outbox-detail", Static).update(empty)

    def _selected(self) -> Change | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.crm.change(key) if key else None

    def on_crm_event(self, message: CrmEvent) -> None:
        self.fill()

    def action_retry(self) -> None:
        change = self._selected()
        if change is not None:
            try:
                self.crm.retry(change.id)
            except ChangeBusy as exc:
                self.notify(f"Not sent again: {exc}", severity="warning")
            self.fill()

    def action_discard(self) -> None:
        change = self._selected()
        if change is not None:
            try:
                self.crm.discard(change.id)
            except ChangeBusy as exc:
                self.notify(f"Not discarded: {exc}", severity="warning")
            else:
                self.notify("Edit discarded; the record shows the server's value again")
            self.fill()

    def action_arrived(self) -> None:
        """The user saw an uncertain change in the vendor's app: done, not sent again."""
        change = self._selected()
        if change is None:
            return
        if change.state is not ChangeState.UNCERTAIN:
            self.notify(
                "Only a change marked 'arrived? you decide' is marked done by hand; "
                "crmtui checks the others with the vendor itself.",
                severity="warning",
            )
            return
        try:
            self.crm.mark_arrived(change.id)
        except ChangeBusy as exc:
            self.notify(f"Not marked: {exc}", severity="warning")
        else:
            self.notify("Marked as arrived; it will not be sent again")
        self.fill()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_resolve()  # enter on the table: the table's own enter comes first

    def action_resolve(self) -> None:
        change = self._selected()
        if change is None:
            return
        if change.state is ChangeState.CONFLICT:
            from crmtui.ui.screens.conflict import ConflictScreen

            self.app.push_screen(ConflictScreen(self.crm, change))
        elif not change.ref.id.startswith("local:") or change.ref.kind != "note":
            cast("CrmApp", self.app).open_record(change.ref)
