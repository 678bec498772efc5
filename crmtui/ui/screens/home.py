"""Home: every profile with its vendor, online state, last sync and queued edits."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from crmtui.fields import local_text
from crmtui.http import CrmError
from crmtui.service import Crm
from crmtui.text import inert
from crmtui.ui.messages import CrmEvent
from crmtui.ui.widgets.status import StatusBar
from crmtui.ui.widgets.vim import VimDataTable

if TYPE_CHECKING:
    from crmtui.ui.app import CrmApp


class HomeScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open profile", id="open"),
        Binding("slash", "app.search", "Search", key_display="/", id="find"),
        Binding("d", "app.my_day", "My day", id="my_day"),
        Binding("r", "check", "Reconnect", id="refresh"),
    ]

    def __init__(self, crm: Crm) -> None:
        super().__init__()
        self.crm = crm

    def compose(self) -> ComposeResult:
        yield Static(inert(f"{self.app.title} — your CRM profiles"), classes="screen-title")
        yield VimDataTable(id="profiles", cursor_type="row", zebra_stripes=True)
        yield Static(
            "enter opens a profile · d: my day · / or ctrl+k searches every cached record · "
            "ctrl+o shows queued edits · ? lists every key",
            classes="hint",
        )
        yield StatusBar(self.crm)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Profile", "Vendor", "Status", "Cached", "Last sync", "Queued edits")
        self.fill()
        table.focus()
        self.action_check()

    def fill(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for name in self.crm.profile_names:
            profile = self.crm.summary(name)
            if profile.online is None:
                status = "◌ not checked"
            elif profile.online:
                status = "● online"
            else:
                status = "○ offline"
            if profile.message and profile.online is not True:
                status += f" — {profile.message[:60]}"
            table.add_row(
                inert(name),
                inert(profile.vendor_label),
                inert(status),  # the vendor's words when it refused
                f"{profile.cached:,}",
                local_text(profile.last_synced) if profile.last_synced else "never",
                str(profile.queued),
                key=name,
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    def on_crm_event(self, message: CrmEvent) -> None:
        self.fill()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            cast("CrmApp", self.app).open_profile(event.row_key.value)

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            if key:
                cast("CrmApp", self.app).open_profile(key)

    def action_check(self) -> None:
        """Reach every profile (loads its kinds), so the status column tells the truth."""
        for name in self.crm.profile_names:
            self.run_worker(self._check(name), group="check", exit_on_error=False)

    async def _check(self, profile: str) -> None:
        with contextlib.suppress(CrmError):  # the status column shows the failure
            await self.crm.kinds(profile, refresh=True)
        self.fill()
