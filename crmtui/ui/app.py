"""The Textual app: screens on top of one ``Crm`` service; all I/O in workers."""

from __future__ import annotations

import asyncio
import gc
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.theme import Theme

from crmtui.config import Config, ConfigError
from crmtui.fields import use_timezone
from crmtui.model import RecordRef, utcnow
from crmtui.service import Crm, Notice
from crmtui.service.events import ChangeSent, Event
from crmtui.text import clean
from crmtui.ui import themes
from crmtui.ui.commands import CrmCommands
from crmtui.ui.messages import CrmEvent
from crmtui.ui.widgets.status import SentMarks, StatusBar

RETRY_EVERY = 5.0  # seconds between looks for queued edits whose retry time has come
NOTICE_LIMIT = 2_000  # characters of a notification (a vendor's error page can be long)


_FROZEN = False  # ``freeze_startup_objects`` has run in this process


def freeze_startup_objects() -> None:
    """Keep the objects made at start (modules, classes, the service, Textual's styles)
    out of every later garbage collection, once a process.

    Python's cyclic collector now and then walks every object the program holds: with
    crmtui's ~90,000 at start that full walk held the event loop for 100 to 300 ms, in
    the middle of opening a record or drawing a frame. Frozen (``gc.freeze``), they are
    never walked again; a collection only walks what was made since. Once a process:
    an app run again in it (tests) would freeze the garbage of the one before.
    """
    global _FROZEN
    if not _FROZEN:
        _FROZEN = True
        gc.freeze()


class CrmApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "crmtui"
    COMMANDS: ClassVar = App.COMMANDS | {CrmCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("ctrl+k", "search", "Search all", priority=True, id="search"),
        Binding("ctrl+o", "outbox", "Outbox", id="outbox"),
        Binding("ctrl+l", "request_log", "Requests", show=False, id="request_log"),
        Binding("u", "undo", "Undo last change", show=False, id="undo"),
        Binding("U", "undo_list", "Recent changes (undo)", show=False, id="undo_list"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
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
        use_timezone(config.timezone if config else None)  # times shown and typed in it
        self.title = title
        self._unsubscribe = crm.subscribe(self._on_service_event)
        self.theme_files = themes.register(self)
        self.clock = utcnow  # "now" for My day (tests and screenshots pin it)
        self.sent_marks = SentMarks()  # edits the vendor just confirmed: "sent ✓" a while

    def _fatal_error(self) -> None:
        """A crash: the traceback without local variables (they hold customer records).

        Textual prints tracebacks with ``show_locals=True``; a record's field values in a
        crash report would leak into terminals, logs and bug reports. The exit status is
        1 (``return_code``), which the command returns. An SQLite error of the cache
        (a page found corrupt while in use) is one line instead: the file, what to do, and
        the queued edits in it (``Store.unusable``).
        """
        import rich
        from rich.segment import Segments
        from rich.text import Text
        from rich.traceback import Traceback

        self.bell()
        problem = self.crm.unusable(self._exception) if self._exception else None
        if problem is not None:  # the cache failed while in use: its one line, no traceback
            self.error_console.soft_wrap = True  # one line (the terminal wraps it), not cut
            self._exit_renderables.append(Text(f"crmtui: {problem}"))
            self._close_messages_no_wait()
            return
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(
            Segments(self.console.render(traceback, self.console.options))
        )
        self._close_messages_no_wait()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(themes.VARIABLE_DEFAULTS)

    def _apply_preferences(self) -> None:
        """The config's theme and ``[keys]``; a theme chosen later is saved back to it."""
        wanted = self.config.theme if self.config else None
        if wanted and wanted not in self.available_themes:
            self.notify(f"Theme {wanted!r} not found; using {themes.DEFAULT_THEME}", timeout=8)
            wanted = None
        self.theme = wanted or themes.DEFAULT_THEME
        for warning in self.config.warnings if self.config else []:
            self.notify(warning, severity="warning", timeout=12, markup=False)
        if self.config and self.config.keys:
            for line in self.config.unknown_bindings(binding_ids()):  # with the nearest id
                self.notify(line, severity="warning", timeout=12, markup=False)
            self.set_keymap(self.config.keys)
        self.theme_changed_signal.subscribe(self, self._remember_theme)

    def _remember_theme(self, theme: Theme) -> None:
        config = self.config
        if config is None or config.theme == theme.name:
            return
        if config.theme is None and theme.name == themes.DEFAULT_THEME:
            return  # the default, applied at startup: nothing to write
        config.theme = theme.name
        self.run_worker(self._save_config(config), group="config")

    async def _save_config(self, config: Config) -> None:
        """Save the chosen theme in a thread: a config file of megabytes takes seconds to
        parse and write, and the screen keeps answering meanwhile. ``Config.save`` runs
        one save at a time, each writing the latest choice (none when already written):
        the last theme chosen is the one in the file."""
        try:
            await asyncio.to_thread(config.save)
        except (OSError, ConfigError) as exc:  # ConfigError: the file is no longer TOML
            self.notify(f"Theme not saved: {exc}", severity="warning", markup=False)

    def use_theme(self, name: str) -> None:
        """Switch to a registered theme (remembered in the config, when there is one)."""
        self.theme = name
        label = next((t.label for t in self.theme_files if t.name == name), name)
        where = f" — saved in {self.config.path.name}" if self.config else ""
        self.notify(f"Theme: {label}{where}", timeout=3)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is plain text: messages carry vendor text (a 422's words).

        ``markup`` is accepted for Textual's signature and ignored: no notification of
        crmtui is markup, so ``[/]`` or ``[@click=…]`` in an error shows as typed.
        """
        super().notify(
            clean(message, multiline=True, limit=NOTICE_LIMIT),
            title=clean(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def _on_service_event(self, event: Event) -> None:
        if isinstance(event, Notice):
            self.notify(event.text, severity=event.severity, timeout=8)
        elif isinstance(event, ChangeSent):
            self.sent_marks.add(event.change)
        for screen in self.screen_stack:
            screen.post_message(CrmEvent(event))
        for bar in self.screen.query(StatusBar):
            bar.update_status()

    def on_mount(self) -> None:
        from crmtui.ui.screens.home import HomeScreen

        freeze_startup_objects()
        self._apply_preferences()
        self.push_screen(HomeScreen(self.crm))
        self.set_interval(RETRY_EVERY, self.crm.send_due)  # queued edits whose time has come
        self.crm.send_due()

    async def on_unmount(self) -> None:
        """The app owns its service (``open_crm``): closed as the app ends."""
        self._unsubscribe()
        await self.crm.close()

    # -- navigation used by screens and commands ----------------------------------

    def open_profile(self, profile: str) -> None:
        from crmtui.ui.screens.vendor import VendorScreen

        self.push_screen(VendorScreen(self.crm, profile))

    def open_record(self, ref: RecordRef, title: str = "") -> None:
        """``title``: the record's title as the caller shows it (the heading until the
        record is read)."""
        from crmtui.ui.screens.record import RecordScreen

        self.push_screen(RecordScreen(self.crm, ref, title))

    def action_my_day(self) -> None:
        from crmtui.ui.screens.my_day import MyDayScreen

        if not isinstance(self.screen, MyDayScreen):
            self.push_screen(MyDayScreen(self.crm, now=self.clock))

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

    def action_undo(self) -> None:
        from crmtui.ui.screens.undo import undo_latest

        undo_latest(self)

    def action_undo_list(self) -> None:
        from crmtui.ui.screens.undo import open_undo_list

        open_undo_list(self)

    def action_request_log(self) -> None:
        from crmtui.ui.screens.log import RequestLogScreen

        if not isinstance(self.screen, RequestLogScreen):
            self.push_screen(RequestLogScreen(self.crm))


def binding_ids() -> set[str]:
    """The ids a ``[keys]`` table of config.toml can rebind (every screen's and list's)."""
    from crmtui.ui.screens import board, home, my_day, outbox, record, undo, vendor
    from crmtui.ui.widgets import record_table, vim

    owners: list[type[DOMNode]] = [
        CrmApp,
        home.HomeScreen,
        my_day.MyDayScreen,
        outbox.OutboxScreen,
        vendor.VendorScreen,
        vendor.KindView,
        record.RecordScreen,
        board.BoardScreen,
        undo.UndoListScreen,
        record_table.RecordTable,
        vim.VimDataTable,
    ]
    return {
        b.id
        for owner in owners
        for b in owner.BINDINGS
        if isinstance(b, Binding) and b.id is not None
    }
