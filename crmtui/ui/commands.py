"""Command palette entries for the main actions, profiles and cached records."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from crmtui.ui.app import CrmApp


class CrmCommands(Provider):
    def _actions(self) -> list[tuple[str, str, object]]:
        app = cast("CrmApp", self.app)
        actions: list[tuple[str, str, object]] = [
            ("Search all records", "Search every profile's cached records", app.action_search),
            ("Outbox", "Queued edits: retry, discard, resolve conflicts", app.action_outbox),
            ("Request log", "Recent requests with status and timing", app.action_request_log),
            ("Help", "Key bindings of this screen", app.action_help),
            ("My day", "Overdue and today's tasks of every profile", app.action_my_day),
        ]
        for theme in app.theme_files:
            current = " (current)" if theme.name == app.theme else ""
            actions.append(
                (
                    f"Theme: {theme.label}",
                    f"{theme.description}{current}",
                    partial(app.use_theme, theme.name),
                )
            )
        for name, state in app.crm.states.items():
            actions.append(
                (f"Open {name}", f"{state.vendor_label} profile", partial(app.open_profile, name))
            )
        return actions

    async def discover(self) -> Hits:
        for title, help_text, action in self._actions():
            yield DiscoveryHit(title, action, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in self._actions():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), action, help=help_text)  # type: ignore[arg-type]
        app = cast("CrmApp", self.app)
        if len(query) >= 2:
            for record in app.crm.search(query, limit=8):
                label = f"{record.title} — {record.kind} in {record.profile}"
                yield Hit(0.5, label, partial(app.open_record, record.ref), help=record.subtitle)
