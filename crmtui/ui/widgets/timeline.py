"""A record's activity timeline, newest first, with a filter by activity family.

The vendor names its families (``KindInfo.families``: the documented filters, in order)
and, for kinds without a timeline, says why (``KindInfo.timeline_note``). The edits sent
from crmtui that the vendor's timeline does not record show among its entries
(``Timeline.set_sent``), so an edit never vanishes from the timeline once it is sent.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from crmtui.fields import local_text, local_zone
from crmtui.model import Activity, ActivityType
from crmtui.text import clean, more_marker, preview

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


class TimelineEntry(Static):
    """One activity. A long one shows its first lines and a marker saying how much more
    there is; it can then be focused (tab, a click), and ``v`` or ``enter`` shows it
    whole in the long-text viewer."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v,enter", "view_whole", "View whole entry"),
    ]

    def __init__(self, activity: Activity, *, classes: str = "") -> None:
        self.activity = activity
        summary, body = activity.summary, activity.body.strip()
        if body and body.startswith(summary.rstrip("…").rstrip()):
            summary, body = body, ""  # the summary is the body's first words: show it once
        self._parts = (summary, body)  # ``whole`` joins them when asked (a 20 MB note)
        text = Text()
        text.append(f"{ICONS.get(activity.type, '•')} ", style="bold")
        text.append(local_text(activity.occurred_at), style="dim")
        if activity.who:
            text.append(" · ", style="dim")
            text.append(clean(activity.who), style="italic")
        hidden = 0
        for part, style in ((summary, ""), (body if body != summary else "", "dim")):
            if part:
                shown = preview(part)
                text.append("\n" + shown.text, style=style)
                hidden += shown.hidden
        if hidden:
            text.append("\n" + more_marker(hidden, "v or enter"), style="italic")
        super().__init__(text, classes=classes)
        self.can_focus = hidden > 0

    @property
    def whole(self) -> str:
        """The entry's whole text, as the long-text viewer shows it."""
        summary, body = self._parts
        return summary + (f"\n\n{body}" if body and body != summary else "")

    def action_view_whole(self) -> None:
        from crmtui.ui.screens.text_view import TextViewScreen

        activity = self.activity
        title = f"{family_of(activity).capitalize()} · {local_text(activity.occurred_at)}"
        self.app.push_screen(TextViewScreen(title, self.whole))


class Timeline(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    Timeline { height: 1fr; }
    Timeline > .entry { padding: 0 1 1 1; }
    Timeline > .entry.-queued { color: $text-muted; text-style: italic; }
    Timeline > .entry:focus { background: $boost; }
    Timeline > .timeline-filters { padding: 0 1 1 1; color: $text-muted; }
    Timeline > .timeline-note { padding: 0 1 1 1; color: $warning; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.activities: list[Activity] = []
        self.sent: list[Activity] = []  # edits sent from crmtui the vendor does not record
        self.family: str | None = None
        self.fetching = True
        self.labels: dict[str, str] = {}  # family -> the vendor's name for the filter
        self.note = ""  # why the vendor gives no timeline for this kind
        self._drawn: tuple[object, ...] = ()  # what the entries drawn show (``render_entries``)
        self._heading: Static | None = None

    def configure(self, labels: dict[str, str], note: str = "") -> None:
        """Take the vendor's filter names and, for kinds without a timeline, its note."""
        self.labels, self.note = dict(labels), note
        self.render_entries()

    def label(self, family: str | None) -> str:
        """A family as the vendor names it ("everything" for no filter); one the vendor
        does not name, as words ("note_created" reads "Note created"), never a key."""
        if family is None:
            return "everything"
        return self.labels.get(family) or family.replace("_", " ").strip().capitalize()

    def families(self) -> list[str]:
        """The vendor's documented families, then any other family met in the entries."""
        seen: list[str] = list(self.labels)
        for activity in self.entries():
            family = family_of(activity)
            if family not in seen:
                seen.append(family)
        return seen

    def entries(self) -> list[Activity]:
        """The vendor's entries (and those queued) with the sent edits, newest first."""
        if not self.sent:
            return self.activities
        known = {a.id for a in self.activities}
        extra = [a for a in self.sent if a.id not in known]
        return sorted([*self.activities, *extra], key=lambda a: a.occurred_at, reverse=True)

    def set_sent(self, sent: list[Activity]) -> None:
        """The edits sent from crmtui that the vendor's timeline does not record (from
        the outbox history), shown among the entries as sent."""
        if [(a.id, a.summary) for a in sent] == [(a.id, a.summary) for a in self.sent]:
            return
        self.sent = list(sent)
        self.render_entries()

    def show(self, activities: list[Activity] | None, *, loading: bool = False) -> None:
        self.fetching = loading
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
        """Draw the entries; the same entries are kept as drawn (only their heading
        updated): a record screen shows its timeline four or five times as it opens
        (cached, loading, the vendor's, again after the refresh), and each redraw mounted
        every entry again and laid the whole screen out anew."""
        every = self.entries()
        shown = [a for a in every if self.family is None or family_of(a) == self.family]
        heading = f"Timeline — {len(shown)} entr{'y' if len(shown) == 1 else 'ies'}"
        if self.family:
            heading += f" · only {self.label(self.family)}"
            heading += "" if self.labels else " (f: next filter)"
        elif every or self.labels:
            heading += " · f filters by kind"
        if self.fetching:
            heading += " · loading…"
        heading = clean(heading)  # a family's name is the vendor's
        drawn: tuple[object, ...] = (
            self.note,
            self.family,
            tuple(self.labels.items()),
            self.fetching and not shown,
            str(local_zone()),  # the entries' times are shown in it
        )
        drawn += (tuple(every), tuple(shown[:300])) if self.labels else (tuple(shown[:300]),)
        if drawn == self._drawn and self._heading is not None and self._heading.parent is self:
            self._heading.update(Text(heading, style="bold"))
            return
        self._drawn = drawn
        self.remove_children()
        self._heading = Static(Text(heading, style="bold"), classes="timeline-heading")
        entries: list[Static] = [self._heading]
        if self.note:
            entries.append(Static(Text(clean(self.note, multiline=True)), classes="timeline-note"))
        if self.labels:
            entries.append(Static(self._filters_line(), classes="timeline-filters"))
        if not shown and not self.fetching and not self.note:
            entries.append(Static("Nothing here yet.", classes="entry"))
        for activity in shown[:300]:
            classes = "entry -queued" if activity.id.startswith("local:") else "entry"
            entries.append(TimelineEntry(activity, classes=classes))
        self.mount_all(entries)

    def _filters_line(self) -> Text:
        """Every filter with its count; the one on is highlighted."""
        counts: dict[str, int] = {}
        every = self.entries()
        for activity in every:
            counts[family_of(activity)] = counts.get(family_of(activity), 0) + 1
        line = Text("f: ")
        options: list[tuple[str | None, int]] = [(None, len(every))]
        options += [(family, counts.get(family, 0)) for family in self.families()]
        for i, (family, count) in enumerate(options):
            if i:
                line.append(" · ")
            name = "All" if family is None else self.label(family)
            shown = f"{clean(name)} {count}"
            line.append(shown, style="bold reverse" if family == self.family else "")
        return line
