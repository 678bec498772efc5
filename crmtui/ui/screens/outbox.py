"""The outbox: every queued edit with its state; retry, discard, or resolve a conflict.

An *uncertain* change may have reached the vendor and crmtui could not check: the user
looks in the vendor's app and chooses send again (``r``), it arrived (``m``) or discard.

Discarding asks first (the change named in field labels) and ``u`` brings the last
discarded change back, exactly as it was, while the app runs. An edit held back by an
earlier refused (or conflicting, or uncertain) edit of its record says so, and what to do.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Static

from crmtui.model import Change, ChangeState
from crmtui.service import ChangeBusy, Crm
from crmtui.service.references import not_cached
from crmtui.text import inert
from crmtui.ui.messages import CrmEvent
from crmtui.ui.widgets.fit_table import FitTable
from crmtui.ui.widgets.footer import KeysFooter
from crmtui.ui.widgets.status import StatusBar, waiting_text


def selected_change(table: DataTable[object], crm: Crm) -> Change | None:
    """The change on the table's cursor row (rows are keyed by change id), if any."""
    if not table.row_count:
        return None
    key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    return crm.change(key) if key else None


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


CUT = 24  # characters of each value in the Change column (the new value stays in sight)

# What to do about the change holding others back, by its state.
UNBLOCK = {
    ChangeState.REJECTED: "fix it on its record (enter) or discard it (d)",
    ChangeState.CONFLICT: "compare and choose (enter) or discard it (d)",
    ChangeState.UNCERTAIN: "send it again (r), mark it arrived (m) or discard it (d)",
}


def record_title(crm: Crm, change: Change) -> str:
    """The changed record by its title; one the cache no longer holds by its kind's name
    and ``#id (not in cache)``, never a bare id that reads like a name."""
    record = crm.cached(change.ref)
    if record is not None:
        return record.title
    info = crm.kind_info(change.ref.profile, change.ref.kind)
    singular = info.singular if info is not None else change.ref.kind
    return f"{singular} {not_cached(change.ref.id)}"


class ConfirmDiscard(ModalScreen[bool]):
    """Discard this change? Names it (record, fields as labels); vendor text is inert.
    ``y`` discards; ``n``, escape or enter on "Keep it" (focused first) keep it."""

    DEFAULT_CSS = """
    ConfirmDiscard { align: center middle; }
    #discard-dialog {
        width: 76; max-width: 100%; height: auto; border: thick $error; background: $surface;
    }
    #discard-record { text-style: bold; padding: 1 1 0 1; }
    #discard-what { padding: 0 1 1 1; }
    #discard-buttons { height: auto; align-horizontal: right; padding: 0 1; }
    #discard-buttons Button { margin: 0 0 0 2; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Discard"),
        Binding("n,escape", "answer(False)", "Keep it"),
    ]

    def __init__(self, title: str, what: str, state: str) -> None:
        super().__init__()
        self.title_text, self.what, self.state = title, what, state

    def compose(self) -> ComposeResult:
        with Vertical(id="discard-dialog"):
            yield Static("Discard this change?", classes="screen-title")
            yield Static(inert(self.title_text, limit=200), id="discard-record")
            yield Static(inert(self.what, multiline=True, limit=600), id="discard-what")
            yield Static(
                inert(
                    f"State: {self.state}. The record shows the vendor's value again; "
                    "u in the outbox brings the change back while crmtui runs."
                ),
                classes="hint",
            )
            with Horizontal(id="discard-buttons"):
                yield Button("Keep it (n)", id="keep")
                yield Button("Discard (y)", id="discard", variant="error")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "discard")

    def action_answer(self, discard: bool) -> None:
        self.dismiss(discard)


class OutboxScreen(Screen[None]):
    DEFAULT_CSS = """
    OutboxScreen #outbox { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("enter", "resolve", "Compare / open", id="open"),
        Binding("r", "retry", "Retry now", id="retry"),
        Binding("d", "discard", "Discard", id="discard"),
        Binding("u", "undo_discard", "Undo discard", id="undo_discard"),
        Binding("m", "arrived", "It arrived", id="arrived"),
    ]

    def __init__(self, crm: Crm) -> None:
        super().__init__()
        self.crm = crm
        self.waiting: dict[str, Change] = {}  # change id -> the change holding it back

    def compose(self) -> ComposeResult:
        yield Static("Outbox — edits waiting for the vendor, oldest first", classes="screen-title")
        yield FitTable(id="outbox", cursor_type="row", zebra_stripes=True)
        yield Static("", id="outbox-detail", classes="hint")
        yield StatusBar(self.crm)
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(FitTable)
        table.add_columns("Profile", "Record", "Change", "State", "Tries", "Last error")
        table.fit_like(name="Record", whole=["Tries"])
        self.fill()
        table.focus()

    def fill(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        self.waiting = self.crm.waiting()
        for change in self.crm.changes():
            holder = self.waiting.get(change.id)
            state = STATE_TEXT.get(change.state, change.state.value)
            table.add_row(
                inert(change.ref.profile),
                inert(record_title(self.crm, change), limit=40),
                inert(self.crm.describe(change, cut=CUT), limit=60),  # field and choice labels
                inert(waiting_text(self.crm, holder), limit=60) if holder else state,
                str(change.attempts),
                inert(change.last_error or "", limit=80),  # the vendor's words
                key=change.id,
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        self.show_detail()

    def show_detail(self) -> None:
        """Under the table: why the highlighted edit waits, or the vendor's words on it
        whole, and what to do; or that the outbox is empty (and what ``u`` brings back)."""
        table = self.query_one(DataTable)
        change = self._selected()
        lines = []
        if not table.row_count:
            lines.append("Nothing queued: every edit has reached its vendor.")
        elif change is not None and (holder := self.waiting.get(change.id)) is not None:
            todo = UNBLOCK.get(holder.state, "settle it")
            lines.append(
                f"This edit is {waiting_text(self.crm, holder)} "
                f"({record_title(self.crm, holder)}). Edits of a record go in order: "
                f"select that change and {todo}; then this one is sent."
            )
        elif change is not None and change.last_error:  # whole: the column cuts it
            state = STATE_TEXT.get(change.state, change.state.value)
            todo = UNBLOCK.get(change.state, "")
            lines.append(f"{state}: {change.last_error}" + (f" — {todo}." if todo else ""))
        if self.crm.can_undo_discard:
            lines.append("u brings back the last discarded change.")
        self.query_one("#outbox-detail", Static).update(inert(" ".join(lines), multiline=True))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def _selected(self) -> Change | None:
        return selected_change(self.query_one(DataTable), self.crm)

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
        """Ask, naming the change; a change being sent is not discarded (it says so)."""
        change = self._selected()
        if change is None:
            return
        if change.state is ChangeState.SENDING:
            self.notify(
                "Not discarded: it is being sent; wait or retry later (if the vendor "
                "refuses it, discard it then).",
                severity="warning",
            )
            return
        title = record_title(self.crm, change)
        what = self.crm.describe(change)
        state = STATE_TEXT.get(change.state, change.state.value)

        def answered(discard: bool | None) -> None:
            if discard:
                self._discard(change.id, f"{title} — {what}")

        self.app.push_screen(ConfirmDiscard(title, what, state), answered)

    def _discard(self, change_id: str, named: str) -> None:
        try:
            gone = self.crm.discard(change_id)
        except ChangeBusy as exc:  # it started sending while the dialog was open
            self.notify(f"Not discarded: {exc}", severity="warning")
        else:
            if gone:
                more = f" (and {len(gone) - 1} later change(s) of the new record)"
                self.notify(
                    f"Discarded: {named}{more if len(gone) > 1 else ''}. The record shows "
                    "the vendor's value again; u in the outbox brings it back."
                )
        self.fill()

    def action_undo_discard(self) -> None:
        """``u`` here: bring back the last discarded change; with none discarded in this
        run, the app's ``u`` (undo the latest change)."""
        back = self.crm.undo_discard()
        if not back:
            cast("CrmApp", self.app).action_undo()
            return
        first = back[0]
        self.notify(
            f"Back in the outbox: {record_title(self.crm, first)} — {self.crm.describe(first)}"
        )
        self.fill()
        table = self.query_one(DataTable)
        with contextlib.suppress(Exception):
            table.move_cursor(row=table.get_row_index(first.id))

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
