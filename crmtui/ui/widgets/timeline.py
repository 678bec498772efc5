"""A record's activity timeline, newest first, with a filter by activity family."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from crmtui.model import Activity, ActivityType

ICONS = {
    ActivityType.NOTE: "✎",
    ActivityType.CALL: "☎",
    ActivityType.EMAIL: "✉",
    ActivityType.MEETING: "◷",
    ActivityType.TASK_EVENT: "✓",
    ActivityType.STAGE_CHANGE: "⇢",
    ActivityType.OTHER: "•",
}


def family_of(activity: Activity) -> str:
    return activity.family or activity.type.value.replace("_", " ")


class Timeline(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    Timeline { height: 1fr; }
    Timeline > .entry { padding: 0 1 1 1; }
    Timeline > .entry.-queued { color: $text-muted; text-style: italic; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.activities: list[Activity] = []
        self.family: str | None = None
        self.loading = True

    def families(self) -> list[str]:
        seen: list[str] = []
        for activity in self.activities:
            family = family_of(activity)
            if family not in seen:
                seen.append(family)
        return seen

    def show(self, activities: list[Activity] | None, *, loading: bool = False) -> None:
        self.loading = loading
        if activities is not None:
            self.activities = sorted(activities, key=lambda a: a.occurred_at, reverse=True)
        self.render_entries()

    def cycle_family(self) -> str | None:
        order: list[str | None] = [None, *self.families()]
        index = order.index(self.family) if self.family in order else 0
        self.family = order[(index + 1) % len(order)]
        self.render_entries()
        return self.family

    def render_entries(self) -> None:
        self.remove_children()
        shown = [a for a in self.activities if self.family is None or family_of(a) == self.family]
        heading = f"Timeline — {len(shown)} entr{'y' if len(shown) == 1 else 'ies'}"
        if self.family:
            heading += f" · only {self.family} (f: next filter)"
        elif self.activities:
            heading += " · f filters by kind"
        if self.loading:
            heading += " · loading…"
        entries: list[Static] = [Static(Text(heading, style="bold"), classes="timeline-heading")]
        if not shown and not self.loading:
            entries.append(Static("Nothing here yet.", classes="entry"))
        for activity in shown[:300]:
            text = Text()
            text.append(f"{ICONS.get(activity.type, '•')} ", style="bold")
            text.append(activity.occurred_at.strftime("%Y-%m-%d %H:%M"), style="dim")
            if activity.who:
                text.append(" · ", style="dim")
                text.append(activity.who, style="italic")
            text.append(f"\n{activity.summary}")
            body = activity.body.strip()
            if body and body != activity.summary:
                text.append("\n" + (body if len(body) < 600 else body[:600] + "…"), style="dim")
            classes = "entry -queued" if activity.id.startswith("local:") else "entry"
            entries.append(Static(text, classes=classes))
        self.mount_all(entries)
