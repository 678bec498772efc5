"""The status line: online or offline, queued edits, rate budget and the last request.

It also says ``sent ✓`` for a few seconds when the vendor confirms an edit, and that
edits wait behind a refused one (with what to do).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from textual.widgets import Static

from crmtui.model import Change, ChangeOp, ChangeState
from crmtui.service import Crm
from crmtui.text import inert

SENT_SHOWN = 4.0  # seconds ``sent ✓`` stays in the status line

HOLDER_WORDS = {
    ChangeState.REJECTED: "a refused change",
    ChangeState.CONFLICT: "a conflicting change",
    ChangeState.UNCERTAIN: "a change that may have arrived",
}


class SentMarks:
    """Edits the vendor confirmed in the last ``SENT_SHOWN`` seconds (the app keeps one;
    every status line reads it)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._marks: deque[tuple[float, Change]] = deque()

    def add(self, change: Change) -> None:
        self._marks.append((self.clock(), change))

    def recent(self, profile: str | None = None) -> list[Change]:
        """The edits confirmed lately (of ``profile``, or every one), oldest first."""
        since = self.clock() - SENT_SHOWN
        while self._marks and self._marks[0][0] < since:
            self._marks.popleft()
        return [c for _, c in self._marks if profile is None or c.ref.profile == profile]


def waiting_text(crm: Crm, holder: Change) -> str:
    """``waiting behind a refused change: Amount`` — what holds an edit back."""
    if holder.op is ChangeOp.UPDATE:
        specs = {s.key: s for s in crm.cached_fields(holder.ref.profile, holder.ref.kind)}
        what = ", ".join(specs[k].label if k in specs else k for k in holder.values)
    else:
        what = crm.describe(holder)
    words = HOLDER_WORDS.get(holder.state, "an earlier change")
    return f"waiting behind {words}: {what}"


def sent_text(crm: Crm, sent: list[Change]) -> str:
    if len(sent) == 1:
        return f"sent ✓ {crm.describe(sent[0], cut=24)}"
    return f"sent ✓ {len(sent)} edits"


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
        self._text: str | None = None  # the text shown

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
        marks = getattr(self.app, "sent_marks", None)
        if isinstance(marks, SentMarks) and (sent := marks.recent(self.profile)):
            parts.append(sent_text(crm, sent))
        if waiting := crm.waiting(self.profile):
            holder = next(iter(waiting.values()))
            edits = "" if len(waiting) == 1 else f"{len(waiting)} edits "  # room at 80
            parts.append(f"{edits}{waiting_text(crm, holder)} (ctrl+o)")
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
        text = "  ·  ".join(parts)
        if text == self._text:  # each second, and at every service event: mostly unchanged,
            return  # and an update lays out and paints the whole screen again
        self._text = text
        self.update(inert(text))  # profile names, paths, transport errors
