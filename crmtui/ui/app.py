"""The Textual app: screens on top of one ``Crm`` service; all I/O in workers."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from crmtui.config import Config
from crmtui.model import RecordRef
from crmtui.service import Crm, Notice
from crmtui.service.events import Event
from crmtui.ui.commands import CrmCommands
from crmtui.ui.messages import CrmEvent
from crmtui.ui.widgets.status import StatusBar

RETRY_EVERY = 5.0  # seconds between looks for queued edits whose retry time has come


class CrmApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "crmtui"
    COMMANDS: ClassVar = App.COMMANDS | {CrmCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+k", "search", "Search all", priority=True),
        Binding("ctrl+o", "outbox", "Outbox"),
        Binding("ctrl+l", "request_log", "Requests", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        crm: Crm,
        *,
        title: str = "crmtui",
        config: Config | None = None,
        steady_status: bool = False,
    ) -> None:
        super().__init__()
        self.crm = crm
        # Snapshots: leave out figures that drift with the wall clock (budget, ms).
        self.steady_status = steady_status
        self.config = config
        self.title = title
        self._unsubscribe = crm.subscribe(self._on_service_event)

    def _on_service_event(self, event: Event) -> None:
        if isinstance(event, Notice):
            self.notify(event.text, severity=event.severity, timeout=8)  # type: ignore[arg-type]
        for screen in self.screen_stack:
            screen.post_message(CrmEvent(event))
        for bar in self.screen.query(StatusBar):
            bar.update_status()

    def on_mount(self) -> None:
        from crmtui.ui.screens.home import HomeScreen

        self.push_screen(HomeScreen(self.crm))
        self.set_interval(RETRY_EVERY, self._retry_due)
        for profile in self.crm.states:
            self.crm.outbox.kick(profile)

    def _retry_due(self) -> None:
        for profile in self.crm.states:
            self.crm.outbox.kick(profile)

    async def on_unmount(self) -> None:
        self._unsubscribe()
        await self.crm.close()
        await self.crm.http.aclose()
        self.crm.store.close()

    # -- navigation used by screens and commands ----------------------------------

    def open_profile(self, profile: str) -> None:
        from crmtui.ui.screens.vendor import VendorScreen

        self.push_screen(VendorScreen(self.crm, profile))

    def open_record(self, ref: RecordRef) -> None:
        from crmtui.ui.screens.record import RecordScreen

        self.push_screen(RecordScreen(self.crm, ref))

    def action_help(self) -> None:
        from crmtui.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_search(self) -> None:
        from crmtui.ui.screens.search import SearchScreen

        if not isinstance(self.screen, SearchScreen):
            self.push_screen(SearchScreen(self.crm))

    def action_outbox(self) -> None:
        from crmtui.ui.screens.outbox import OutboxScreen

        if not isinstance(self.screen, OutboxScreen):
            self.push_screen(OutboxScreen(self.crm))

    def action_request_log(self) -> None:
        from crmtui.ui.screens.log import RequestLogScreen

        if not isinstance(self.screen, RequestLogScreen):
            self.push_screen(RequestLogScreen(self.crm))
