"""The status line: online or offline, queued edits, rate budget and the last request."""

from __future__ import annotations

from textual.widgets import Static

from crmtui.service import Crm
from crmtui.text import inert


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    StatusBar.-offline { background: $warning 30%; color: $text; }
    StatusBar.-refused { background: $error 30%; color: $text; }
    """

    def __init__(self, crm: Crm, profile: str | None = None) -> None:
        super().__init__("")
        self.crm = crm
        self.profile = profile

    def on_mount(self) -> None:
        self.update_status()
        self.set_interval(1.0, self.update_status)

    def update_status(self) -> None:
        crm = self.crm
        known = crm.profile_names
        names = [n for n in ([self.profile] if self.profile else known) if n in known]
        states = [crm.status(n) for n in names]
        refused = [s.name for s in states if s.auth_failed]
        offline = [s.name for s in states if s.online is False]
        if not states:
            online = "no profiles"
        elif refused and len(states) == 1:
            online = "⚠ sign-in failed — check the profile's credentials in config.toml"
        elif offline and len(states) == 1:
            online = "○ offline — browsing the cache"
        elif refused or offline:
            online = "  ·  ".join(
                [
                    *([f"⚠ sign-in failed: {', '.join(refused)}"] if refused else []),
                    *([f"○ offline: {', '.join(offline)}"] if offline else []),
                ]
            )
        elif any(s.online for s in states):
            online = "● online"
        else:
            online = "◌ connecting…"
        queued = crm.queued(self.profile)
        parts = [online, f"⇅ {queued} queued edit{'s' if queued != 1 else ''}"]
        for state in states:  # after a 429 the client holds requests: say so, briefly
            if (budget := crm.budget(state.name)) is not None and budget.wait > 0.5:
                parts.append(
                    f"⏳ {state.vendor_label} rate limit: next request in {budget.wait:.0f} s"
                )
        steady = getattr(self.app, "steady_status", False)
        if self.profile and not steady and (budget := crm.budget(self.profile)) is not None:
            parts.append(
                f"budget {budget.remaining:,.0f}/{budget.capacity:,.0f} ({budget.budget.describe()})"
            )
        entries = crm.request_log()
        if entries and not steady:
            last = entries[-1]
            status = last.status or last.error or "…"
            parts.append(f"last: {last.method} {last.path[:40]} {status} {last.ms:.0f} ms")
        self.set_class(bool(offline) and not refused, "-offline")
        self.set_class(bool(refused), "-refused")
        self.update(inert("  ·  ".join(parts)))  # profile names, paths, transport errors
