"""The request log: method, path, status and milliseconds, secrets already redacted."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

from crmtui.fields import to_local
from crmtui.http.log import LogEntry
from crmtui.service import Crm
from crmtui.text import inert
from crmtui.ui.widgets.fit_table import FitTable
from crmtui.ui.widgets.footer import KeysFooter


class RequestLogScreen(Screen[None]):
    DEFAULT_CSS = """
    RequestLogScreen FitTable { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, crm: Crm) -> None:
        super().__init__()
        self.crm = crm
        self._unwatch: Callable[[], None] = lambda: None

    def compose(self) -> ComposeResult:
        yield Static("Request log — the most recent requests, newest last", classes="screen-title")
        yield FitTable(cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(FitTable)
        table.add_columns("Time", "Profile", "Method", "Path", "Status", "ms", "Try")
        table.fit_like(name="Path", whole=["Time", "Method", "Status", "ms", "Try"])
        for entry in self.crm.request_log():
            self._add(entry)
        self._unwatch = self.crm.watch_requests(self._add)
        table.move_cursor(row=table.row_count - 1)

    def on_unmount(self) -> None:
        self._unwatch()

    def _add(self, entry: LogEntry) -> None:
        status = str(entry.status) if entry.status else entry.error or "—"
        self.query_one(DataTable).add_row(
            to_local(entry.at).strftime("%H:%M:%S"),
            inert(entry.profile),
            inert(entry.method),
            inert(entry.path, limit=80),
            inert(status),
            f"{entry.ms:.0f}",
            str(entry.attempt),
        )
