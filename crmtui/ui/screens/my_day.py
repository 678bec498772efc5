"""My day: your overdue and today's tasks in every profile, grouped, from the cache.

A task is a record of a kind declaring ``Role.DUE`` (whatever the vendor names the
field); ``Role.DONE`` (a bool, or a choice with ``KindInfo.done_values``) says it is done.
The list shows what the cache knows at once (offline too) and refreshes each profile's
tasks from its vendor in the background (the kind's ``day_views``, e.g. "overdue" and
"today", else its first page): a handful of requests per profile. "Overdue" is a task
whose due time has passed (or whose due date is before today); "Today" is the rest of
what is due today, in the local time zone. enter opens the task.

Mine by default: a task whose ``Role.OWNER`` is the user the profile signs in as
(``Crm.me``, each vendor's own answer); ``a`` shows everyone's. A profile whose vendor
cannot say who that is shows everyone's tasks and says so. Due times are shown as
everywhere else (``fields.local_text``, ``fields.date_text``); "About" names the record the task is
about (a reference's title, never its id).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

from crmtui.fields import date_text, display, local_text, parse_date, parse_datetime, to_local
from crmtui.http import CrmError
from crmtui.model import FieldSpec, KindInfo, Query, Record, RecordRef, Role, utcnow
from crmtui.service import CacheWriteError, Crm, ListChanged
from crmtui.text import inert
from crmtui.ui.messages import CrmEvent
from crmtui.ui.widgets.fit_table import FitTable
from crmtui.ui.widgets.footer import KeysFooter
from crmtui.ui.widgets.status import StatusBar

if TYPE_CHECKING:
    from crmtui.ui.app import CrmApp

READ = 500  # cached tasks read per window
MAX_READ = 20_000  # per profile: My day never reads a whole huge cache
NAME_READS = 25  # records a refresh reads from the vendor to name "About" (not cached)


@dataclass(frozen=True)
class DayTask:
    record: Record
    due: datetime | date
    overdue: bool

    @property
    def has_time(self) -> bool:
        return isinstance(self.due, datetime)


def task_kinds(kinds: list[KindInfo]) -> list[KindInfo]:
    """The kinds My day lists: those with a due date (``Role.DUE``)."""
    return [info for info in kinds if info.role(Role.DUE)]


def due_of(record: Record, info: KindInfo) -> datetime | date | None:
    """The task's due time (aware, local) or due date: ``Role.DUE``, else ``DUE_DATE``."""
    for role in (Role.DUE, Role.DUE_DATE):
        key = info.role(role)
        due = _due(record.fields.get(key) if key else None)
        if due is not None:
            return due
    return None


def _due(value: Any) -> datetime | date | None:
    """A date field's value ("2026-11-20", as ``crmtui.model`` keeps it) or a datetime's."""
    if not isinstance(value, str) or not value:
        return None
    if len(value) <= len("2026-11-20"):  # a date: the day, no time
        return parse_date(value)
    moment = parse_datetime(value)
    return to_local(moment) if moment is not None else None


def classify(record: Record, info: KindInfo, now: datetime) -> DayTask | None:
    """A ``DayTask`` when the open task is overdue or due today, else None."""
    if info.is_done(record.fields):
        return None
    due = due_of(record, info)
    today = to_local(now).date()
    if isinstance(due, datetime):
        if due < now:
            return DayTask(record, due, True)
        return DayTask(record, due, False) if due.date() == today else None
    if isinstance(due, date):
        return DayTask(record, due, due < today) if due <= today else None
    return None


def cached_tasks(crm: Crm, profile: str, info: KindInfo, now: datetime) -> list[DayTask]:
    """The overdue and today's tasks of a kind in the cache, soonest due first."""
    keys = {spec.key for spec in crm.cached_fields(profile, info.kind)}
    roles = (info.role(Role.DUE), info.role(Role.DUE_DATE))
    sort = next((key for key in roles if key in keys), None)
    horizon = (to_local(now) + timedelta(days=2)).date()
    found: list[DayTask] = []
    for offset in range(0, MAX_READ, READ):
        batch = crm.window(profile, info.kind, offset=offset, limit=READ, sort=sort)
        found += [task for task in (classify(r, info, now) for r in batch) if task is not None]
        last = due_of(batch[-1], info) if batch else None
        if len(batch) < READ or (sort and last and _day(last) > horizon):
            break  # sorted by due: the rest is due later
    return found


def _day(due: datetime | date) -> date:
    return due.date() if isinstance(due, datetime) else due


def _sort_key(task: DayTask) -> tuple[date, str, str]:
    time = task.due.strftime("%H:%M") if isinstance(task.due, datetime) else "99:99"
    return (_day(task.due), time, task.record.title.lower())


def due_text(task: DayTask) -> str:
    """The due time as every screen shows a moment ("2026-11-20 14:30", in the user's
    zone, marked unless it is UTC), a due date alone as a date ("2026-11-20"): the one
    format of ``crmtui.fields``, never "12 days ago" instead."""
    if isinstance(task.due, datetime):
        return local_text(task.due)
    return date_text(task.due)


def about(crm: Crm, record: Record, info: KindInfo) -> str:
    """The record a task is about, by name: its first reference (``KindInfo.references``)
    holding a value, titled by the task's related records or the cached record; else its
    first related record; "" when neither is known (never an id, never the subtitle)."""
    titles = {(r.kind, r.id): r.title for refs in record.related.values() for r in refs}
    for key, kind in info.references.items():
        value = record.fields.get(key)
        if value in (None, "") or isinstance(value, list | dict):
            continue
        title = titles.get((kind, str(value)))
        if not title:
            cached = crm.cached(RecordRef(profile=record.profile, kind=kind, id=str(value)))
            title = cached.title if cached is not None else ""
        if not title:  # a name the vendor sends beside the id (``contact_name``)
            named = record.fields.get(f"{key}_name")
            title = named if isinstance(named, str) else ""
        if title:
            return title
    return next(iter(titles.values()), "")


def unnamed(crm: Crm, record: Record, info: KindInfo) -> RecordRef | None:
    """The record a task refers to when ``about`` cannot name it from the cache."""
    if about(crm, record, info):
        return None
    for key, kind in info.references.items():
        value = record.fields.get(key)
        if value not in (None, "") and not isinstance(value, list | dict):
            return RecordRef(profile=record.profile, kind=kind, id=str(value))
    return None


def mine(tasks: list[DayTask], info: KindInfo, me: str | None) -> list[DayTask]:
    """The tasks whose ``Role.OWNER`` is ``me`` (all of them when ``me`` is unknown or the
    kind declares no owner)."""
    owner = info.role(Role.OWNER)
    if me is None or owner is None:
        return tasks
    return [t for t in tasks if str(t.record.fields.get(owner) or "") == me]


class MyDayScreen(Screen[None]):
    DEFAULT_CSS = """
    MyDayScreen #my-day { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("enter", "open", "Open task", id="open"),
        Binding("a", "everyone", "Mine/everyone's", id="everyone"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]

    def __init__(self, crm: Crm, now: Callable[[], datetime] = utcnow) -> None:
        super().__init__()
        self.crm = crm
        self.now = now
        self.refs: dict[str, RecordRef] = {}
        self.tasks: list[DayTask] = []
        self.refreshing: set[str] = set()
        self.problems: dict[str, str] = {}
        self.everyone = False  # a: everyone's tasks, not only the signed-in user's
        self.unknown_me: list[str] = []  # profiles whose vendor cannot say who you are

    def compose(self) -> ComposeResult:
        yield Static("", id="my-day-title", classes="screen-title")
        yield FitTable(id="my-day", cursor_type="row")
        yield Static("", id="my-day-facts", classes="hint")
        yield StatusBar(self.crm)
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(FitTable)
        table.add_columns("Due", "Task", "About", "Owner", "Profile")
        # The task and About give way first; a due time, an owner, a profile are kept whole.
        table.fit_like(name="Task", whole=["Due", "Owner", "Profile"])
        self.fill()
        table.focus()
        self.action_refresh()

    # -- showing -------------------------------------------------------------------------

    def fill(self) -> None:
        now = self.now()
        self.tasks, self.unknown_me = [], []
        kinds: dict[tuple[str, str], KindInfo] = {}
        known = False  # some profile's tasks are the user's own
        for profile in self.crm.profile_names:
            me = self.crm.cached_me(profile)
            infos = task_kinds(self.crm.cached_kinds(profile))
            if me is None and infos and not self.everyone:  # shown: everyone's of it
                self.unknown_me.append(profile)
            known = known or (me is not None and bool(infos))
            for info in infos:
                kinds[profile, info.kind] = info
                found = cached_tasks(self.crm, profile, info, now)
                self.tasks += found if self.everyone else mine(found, info, me)
        owners = {key: self._owner_spec(*key, info) for key, info in kinds.items()}
        which = "everyone's" if self.everyone or not known else "your"
        title = f"My day — {which} overdue and today's tasks, every profile"
        self.query_one("#my-day-title", Static).update(title)
        table = self.query_one(DataTable)
        current = self._current_key()
        table.clear()
        self.refs.clear()
        for overdue, heading in ((True, "Overdue"), (False, "Today")):
            group = sorted((t for t in self.tasks if t.overdue is overdue), key=_sort_key)
            color = self._color("error" if overdue else "accent")
            table.add_row(Text(f"{heading} ({len(group)})", style=f"bold {color}"), key=heading)
            for task in group:
                record = task.record
                key = f"{record.profile}/{record.kind}/{record.id}"
                self.refs[key] = record.ref
                when = Text(due_text(task), style=color if overdue else "")
                info = kinds[record.profile, record.kind]
                spec = owners[record.profile, record.kind]
                owner = display(spec, record.fields.get(spec.key)) if spec else ""
                cells = (record.title, about(self.crm, record, info), owner, record.profile)
                table.add_row(when, *map(inert, cells), key=key)
        if current in self.refs:
            table.move_cursor(row=table.get_row_index(current))
        elif self.refs:  # the first task, not a heading
            first = next(key for key in table.rows if key.value in self.refs)
            table.move_cursor(row=table.get_row_index(first))
        self._show_facts()

    def _owner_spec(self, profile: str, kind: str, info: KindInfo) -> FieldSpec | None:
        key = info.role(Role.OWNER)
        specs = self.crm.cached_fields(profile, kind) if key else []
        return next((spec for spec in specs if spec.key == key), None)

    def _color(self, variable: str) -> str:
        return self.app.theme_variables.get(variable, "")

    def _current_key(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _show_facts(self) -> None:
        overdue = sum(t.overdue for t in self.tasks)
        parts = [f"{overdue} overdue · {len(self.tasks) - overdue} due today"]
        if self.refreshing:
            parts.append(f"refreshing {', '.join(sorted(self.refreshing))}…")
        parts += [f"⚠ {name}: {text}" for name, text in sorted(self.problems.items())]
        for profile in self.unknown_me:
            vendor = self.crm.vendor_label(profile)
            why = (
                f"{vendor} does not say which user you are"
                if self.crm.knows_me(profile)
                else f"until {vendor} says which user you are"  # not asked yet, or offline
            )
            parts.append(f"{profile}: everyone's tasks ({why})")
        parts.append("a shows yours only" if self.everyone else "a shows everyone's")
        parts.append("enter opens · r refreshes")
        self.query_one("#my-day-facts", Static).update(inert(" · ".join(parts)))

    # -- refreshing ----------------------------------------------------------------------

    def action_everyone(self) -> None:
        self.everyone = not self.everyone
        self.fill()

    def action_refresh(self) -> None:
        for profile in self.crm.profile_names:
            self.run_worker(self._refresh(profile), group=f"refresh-{profile}", exclusive=True)

    async def _refresh(self, profile: str) -> None:
        self.refreshing.add(profile)
        self._show_facts()
        try:
            await self.crm.me(profile)  # whose tasks are "mine"; None: the vendor won't say
            self._refill()
            for info in task_kinds(await self.crm.kinds(profile)):
                await self.crm.fields(profile, info.kind)  # the owners' names
                for query in refresh_queries(info):
                    await self.crm.refresh(profile, info.kind, query)
            self.fill()
            await self._name_abouts(profile)
            self.problems.pop(profile, None)
        except (CrmError, CacheWriteError) as exc:  # a locked cache too
            self.problems[profile] = str(exc)[:80]
        finally:
            self.refreshing.discard(profile)
        self._refill()

    async def _name_abouts(self, profile: str) -> None:
        """Read the records the listed tasks are about that the cache lacks (a few), so
        "About" names them."""
        missing: dict[RecordRef, None] = {}
        for task in self.tasks:
            record = task.record
            info = self.crm.kind_info(profile, record.kind) if record.profile == profile else None
            ref = unnamed(self.crm, record, info) if info else None
            if ref is not None:
                missing[ref] = None
        for ref in list(missing)[:NAME_READS]:
            try:
                await self.crm.get(ref)
            except CrmError:  # gone, or not allowed: the task shows without it
                continue

    def on_crm_event(self, message: CrmEvent) -> None:
        event = message.event
        if not isinstance(event, ListChanged) or self._lists(event):
            self._refill()

    def _lists(self, event: ListChanged) -> bool:
        info = self.crm.kind_info(event.profile, event.kind)
        return info is not None and info.role(Role.DUE) is not None

    @work(group="fill", exclusive=True, exit_on_error=False)
    async def _refill(self) -> None:
        """Re-read the cache once after a burst of changes."""
        self.fill()

    # -- opening -------------------------------------------------------------------------

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self._open(event.row_key.value)

    def action_open(self) -> None:
        self._open(self._current_key())

    def _open(self, key: str | None) -> None:
        ref = self.refs.get(key or "")
        if ref is not None:
            cast("CrmApp", self.app).open_record(ref)


def refresh_queries(info: KindInfo) -> list[Query]:
    """The pages to fetch for a task kind: its ``day_views``, else its first page."""
    views = [view for view in info.day_views if view in info.views]
    return [Query(view=view, per_page=100) for view in views] or [Query(per_page=100)]
