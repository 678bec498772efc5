"""Home: every profile with its vendor, online state, last sync and queued edits.

The status column tells the truth: ``● online`` only once the vendor has answered a
request with the profile's credentials; ``⚠ sign-in failed`` when it refused them (401,
or 403 to the sign-in check), with the vendor's words and what to do under the table.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

from crmtui.fields import local_text
from crmtui.http import CrmError
from crmtui.service import Crm, ProfileSummary
from crmtui.text import inert
from crmtui.ui.messages import CrmEvent
from crmtui.ui.widgets import show
from crmtui.ui.widgets.fit_table import FitTable
from crmtui.ui.widgets.footer import KeysFooter
from crmtui.ui.widgets.status import StatusBar

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
        self.summaries: dict[str, ProfileSummary] = {}  # as the table shows them
        self._stale = False  # a service event came while another screen was over this one

    def compose(self) -> ComposeResult:
        yield Static(inert(f"{self.app.title} — your CRM profiles"), classes="screen-title")
        yield FitTable(id="profiles", cursor_type="row", zebra_stripes=True)
        yield Static("", id="profile-problem", classes="hint")
        yield Static(
            "enter opens a profile · d: my day · / or ctrl+k searches every cached record · "
            "ctrl+o shows queued edits · ? lists every key",
            classes="hint",
        )
        yield StatusBar(self.crm)
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(FitTable)
        table.add_columns("Profile", "Vendor", "Status", "Cached", "Last sync", "Queued edits")
        table.fit_like(name="Profile", whole=["Cached", "Last sync", "Queued edits"])
        self.fill()
        table.focus()
        self.action_check()

    def fill(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        self.summaries = {name: self.crm.summary(name) for name in self.crm.profile_names}
        for name, profile in self.summaries.items():
            table.add_row(
                inert(name),
                inert(profile.vendor_label),
                inert(status_text(profile)),  # the vendor's words when it refused
                f"{profile.cached:,}",
                local_text(profile.last_synced) if profile.last_synced else "never",
                str(profile.queued),
                key=name,
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        self.show_problem()

    def show_problem(self) -> None:
        """Under the table: what is wrong with the highlighted profile, whole, and what to
        do (the column has room for a few words only)."""
        problem = self.query_one("#profile-problem", Static)
        table = self.query_one(DataTable)
        name = None
        if table.row_count:
            name = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        profile = self.summaries.get(name or "")
        text = problem_text(profile) if profile else ""
        show(problem, inert(text, multiline=True))
        problem.display = bool(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_problem()

    def on_crm_event(self, message: CrmEvent) -> None:
        # Each event (a sent edit, a page of a sync, a status) re-counts every profile's
        # cache (``Crm.summary``: a query a count, on the event loop): while another
        # screen is over this one, once when it shows again, not at every event.
        if self.is_current:
            self.fill()
        else:
            self._stale = True

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
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
            await self.crm.check(profile)
        self.fill()


def status_text(profile: ProfileSummary) -> str:
    """The status column: one state, with the reason when the vendor cannot be used."""
    match profile.state:
        case "sign-in failed":
            return "⚠ sign-in failed"
        case "online":
            return "● online"
        case "offline":
            text = "○ offline"
        case _:
            text = "◌ not checked"
    return f"{text} — {profile.message[:60]}" if profile.message else text


def problem_text(profile: ProfileSummary) -> str:
    """The line under the table for a profile that cannot be used ("" when it can)."""
    if profile.state == "sign-in failed":
        return (
            f"{profile.name}: sign-in failed — {profile.message} "
            "Its queued edits wait in the outbox; r checks again."
        )
    return ""
