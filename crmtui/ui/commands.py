"""Command palette entries for the main actions, profiles and cached records."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from crmtui.text import inert, markup_literal
from crmtui.ui.open_copy import RecordLinks
from crmtui.ui.screens.create import create_commands
from crmtui.ui.screens.log_call import log_commands
from crmtui.ui.screens.search import kind_name
from crmtui.ui.widgets.selection import bulk_edit_here

if TYPE_CHECKING:
    from crmtui.ui.app import CrmApp


class CrmCommands(Provider):
    def _actions(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = cast("CrmApp", self.app)
        actions: list[tuple[str, str, Callable[[], object]]] = [
            ("Search all records", "Search every profile's cached records", app.action_search),
            ("Outbox", "Queued edits: retry, discard, resolve conflicts", app.action_outbox),
            ("Request log", "Recent requests with status and timing", app.action_request_log),
            ("Help", "Key bindings of this screen", app.action_help),
            ("My day", "Overdue and today's tasks of every profile", app.action_my_day),
            (
                "Undo last change",
                "u: withdraw it if still queued, or take it back (previewed) if sent",
                app.action_undo,
            ),
            ("Recent changes (undo)", "U: recent changes and what each did", app.action_undo_list),
            (
                "Bulk edit…",
                "e on a list: set a field on the marked rows (space, V, A mark them), previewed",
                partial(bulk_edit_here, app),
            ),
        ]
        actions += self._record_actions()
        actions += create_commands(app, app.crm, self.screen)  # "New task"... on a profile
        actions += log_commands(app, app.crm, self.screen)  # "Log a call..." on a record
        for theme in app.theme_files:
            current = " (current)" if theme.name == app.theme else ""
            actions.append(
                (
                    f"Theme: {theme.label}",
                    f"{theme.description}{current}",
                    partial(app.use_theme, theme.name),
                )
            )
        for name in app.crm.profile_names:
            vendor = app.crm.vendor_label(name)
            actions.append((f"Open {name}", f"{vendor} profile", partial(app.open_profile, name)))
        return actions

    def _record_actions(self) -> list[tuple[str, str, Callable[[], object]]]:
        """Open in web app, copy value, copy web link: on a screen showing a record (the
        record screen, a list's highlighted row), for that record."""
        focused = self.screen.focused
        chain = [*focused.ancestors_with_self] if focused is not None else []
        target = next((n for n in [*chain, self.screen] if isinstance(n, RecordLinks)), None)
        if target is None:
            return []
        return [
            (title, help_text, getattr(target, f"action_{action}"))
            for title, help_text, action in target.LINK_COMMANDS
        ]

    async def discover(self) -> Hits:
        for title, help_text, action in self._actions():
            # profile names and theme labels are the user's files' words: never markup
            yield DiscoveryHit(inert(title), action, help=markup_literal(help_text))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in self._actions():
            score = matcher.match(title)
            if score > 0:
                shown = matcher.highlight(markup_literal(title))
                yield Hit(score, shown, action, help=markup_literal(help_text))
        app = cast("CrmApp", self.app)
        if len(query) >= 2:
            # On the loop, not in a thread: the cache's search of 8 hits takes a few ms, and
            # a search still pending in a thread when Enter arrives sometimes left Textual's
            # palette closing without running the highlighted command (seen in ~1 of 5
            # runs of test_my_day_from_the_palette; never in 10 runs without the thread).
            for record in app.crm.search(query, limit=8):
                # vendor text: a Text label is never markup; help is, so it is escaped
                named = kind_name(app.crm, record.profile, record.kind)  # a list's own name
                label = inert(f"{record.title} — {named} in {record.profile}")
                help_text = markup_literal(record.subtitle)
                yield Hit(
                    0.5, label, partial(app.open_record, record.ref, record.title), help=help_text
                )
