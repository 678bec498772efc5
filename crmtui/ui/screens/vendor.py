"""A vendor's screen: one tab per kind, in the vendor's own words, each a virtual list.

A list shows the cache at once and refreshes it from the vendor in the background; the
next page is fetched as the cursor nears the end of what is cached. `/` searches the
cache instantly and the vendor in the background; `s` picks the sort column and its
direction, `S` reverses it; `G` reads the vendor's pages to the last row; `v` cycles the vendor's views (quick filters such as "Overdue"); `F`
filters by the vendor's list filters (the cache too where they are exact field values);
`b` opens the board of a kind that has one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Input, LoadingIndicator, Static, TabbedContent, TabPane
from textual.worker import WorkerCancelled, WorkerFailed

from crmtui.http import CrmError
from crmtui.model import FieldSpec, KindInfo, Query, Record, RecordRef, Role
from crmtui.service import CacheWriteError, Crm, ListChanged
from crmtui.text import clean, inert
from crmtui.ui.messages import CrmEvent
from crmtui.ui.open_copy import LINK_BINDINGS, RecordLinks
from crmtui.ui.screens.create import start_create
from crmtui.ui.screens.filters import FilterScreen, describe, filter_specs
from crmtui.ui.screens.log_call import start_log
from crmtui.ui.widgets import show
from crmtui.ui.widgets.footer import KeysFooter
from crmtui.ui.widgets.inert_input import InertInput
from crmtui.ui.widgets.record_table import Column, RecordTable
from crmtui.ui.widgets.selection import SELECT_BINDINGS, Selecting
from crmtui.ui.widgets.status import StatusBar

if TYPE_CHECKING:
    from crmtui.ui.app import CrmApp

PAGE = 100
FILL_PAGES = 5  # pages read at most in a row while a search or view fills no screen


def columns_for(info: KindInfo, specs: list[FieldSpec]) -> list[Column]:
    by_key = {spec.key: spec for spec in specs}
    currency = info.role(Role.CURRENCY)
    columns = []
    for key in info.columns:
        spec = by_key.get(key)
        label = (
            "Name"
            if key == "title"
            else ("Updated" if key == "updated_at" else (spec.label if spec else key))
        )
        columns.append(Column(key, label, spec, currency=currency))
    return columns


def sort_key(field: str) -> Callable[[Record], tuple[int, float, str]]:
    """A record's place in a list sorted by ``field`` (numbers as numbers, then text
    without case, empty values last)."""

    def place(record: Record) -> tuple[int, float, str]:
        value = record.title if field == "title" else record.fields.get(field)
        if value is None or value == "":
            return (2, 0.0, "")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (0, float(value), "")
        try:
            return (0, float(str(value)), "")
        except ValueError:
            return (1, 0.0, str(value).casefold())

    return place


class KindView(Selecting, RecordLinks, Vertical):
    """One tab: search box, view name, the virtual table and a line of facts.

    The list's state (search, sort, view, filters) is reactive: an action sets it, the
    watchers re-read the cache and ask the vendor, once per burst of changes (``S`` sets
    the sort and its direction: one reload, one request).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", key_display="/"),
        Binding("s", "sort", "Sort"),
        Binding("S", "reverse", "Reverse", show=False),
        Binding("v", "view", "View"),
        Binding("r", "refresh", "Refresh"),
        Binding("F", "filter", "Filter"),
        Binding("b", "board", "Board"),
        Binding("c", "create", "New", show=False),  # a record of this tab's kind
        Binding("L", "log_call", "Log a call", show=False),  # on the highlighted row's record
        *LINK_BINDINGS,  # the row's record: o opens it in the web app, y its name, Y its link
        *SELECT_BINDINGS,  # space, V, A mark rows; e sets a field on them (bulk edit)
    ]

    # what the list shows: each change re-reads the cache and asks the vendor
    search_text: reactive[str] = reactive("", init=False)
    sort: reactive[str | None] = reactive(None, init=False)
    descending: reactive[bool] = reactive(False, init=False)
    view: reactive[str | None] = reactive(None, init=False)  # a vendor view (quick filter)
    filters: reactive[dict[str, str]] = reactive(dict, init=False)  # Query.filters (`F`)
    # what the vendor said, shown in the facts line
    fetching: reactive[bool] = reactive(False, init=False)
    view_counts: reactive[dict[str, int]] = reactive(dict, init=False)  # view -> its size
    vendor_total: reactive[int | None] = reactive(None, init=False)  # of the query shown
    problem: reactive[str] = reactive("", init=False)  # the last page's error

    def __init__(self, crm: Crm, profile: str, info: KindInfo) -> None:
        super().__init__(classes="kind-view")
        self.crm = crm
        self.profile = profile
        self.info = info
        self.view_rows: list[Record] | None = None  # a vendor view's members, when one is on
        self.next_cursor: str | None = None
        self.activated = False
        self._changed: set[str] = set()  # "order" / "query": state changed, not applied yet
        self.kind_total: int | None = None  # the vendor's count of the whole kind
        self.answered = False  # the vendor answered the query shown (its first page)
        self._want_rest = False  # `G`: read the vendor's pages to the end
        self._whole: bool | None = None  # the cache holds the whole kind (None: not asked)
        self._sorted_for: tuple[Any, list[Record]] = ((), [])

    def compose(self) -> ComposeResult:
        with Horizontal(classes="list-bar"):
            yield InertInput(
                placeholder=f"/ search {self.info.label.lower()}", classes="list-search"
            )
            yield Static("", classes="list-view-name")
        yield RecordTable(self._fetch, self._count, [Column("title", "Name")], info=self.info)
        with Horizontal(classes="list-facts"):
            yield LoadingIndicator()
            yield Static("", classes="facts")

    @property
    def table(self) -> RecordTable:
        return self.query_one(RecordTable)

    def on_mount(self) -> None:
        self.query_one(LoadingIndicator).display = False
        specs = self.crm.cached_fields(self.profile, self.info.kind)
        self.table.columns = columns_for(self.info, specs)
        self.table.more_rows = self.read_rest
        self.watch_marks()
        self.table.reload()
        self._show_facts()

    def activate(self) -> None:
        """First shown: ask the vendor (hidden tabs cost no requests of the budget)."""
        if not self.activated:
            self.activated = True
            self.crm.prepare(self.profile, self.info)  # a long list: its indexes, ahead
            self.load_fields()
            self.fetch_page(first=True)

    # -- the state's watchers --------------------------------------------------------

    def watch_search_text(self) -> None:
        self._new_query()
        self.table.reload(keep_cursor=False, background=True)  # a long list counts later
        self._show_facts()

    def watch_sort(self) -> None:
        self._apply_later("order")

    def watch_descending(self) -> None:
        self._apply_later("order")

    def watch_view(self) -> None:
        self._apply_later("query")

    def watch_filters(self) -> None:
        self._apply_later("query")

    def watch_fetching(self, on: bool) -> None:
        self.query_one(LoadingIndicator).display = on
        self._show_facts()

    def watch_view_counts(self) -> None:
        self._show_facts()

    def watch_vendor_total(self) -> None:
        self._show_facts()

    def watch_problem(self) -> None:
        self._show_facts()

    def _apply_later(self, what: str) -> None:
        if not self._changed:
            self.call_later(self._apply)
        self._changed.add(what)

    def _apply(self) -> None:
        """The sort, view or filters changed: re-read the cache, then ask the vendor."""
        changed, self._changed = self._changed, set()
        if "query" in changed:
            self.view_rows = [] if self._vendor_side() else None
            self._new_query()
        if "order" in changed:
            self.table.sort_by(self.sort, self.descending)
        self.table.reload(keep_cursor=False)
        self._show_facts()
        self.fetch_page(first=True)

    def _new_query(self) -> None:
        """Another set of rows: what the vendor said of the last one no longer holds."""
        self.vendor_total, self.answered, self._want_rest = None, False, False
        self.next_cursor = None

    # -- the window source ----------------------------------------------------------

    def _options(self) -> dict[str, Any]:
        return {
            "sort": self.sort,
            "descending": self.descending,
            "search": self.search_text,
            "filters": self._cache_filters(),
        }

    def _cache_filters(self) -> dict[str, str]:
        """The filters the cache can apply too: exact values of the kind's fields."""
        keys = {spec.key for spec in self.crm.cached_fields(self.profile, self.info.kind)}
        return {k: v for k, v in self.filters.items() if k in keys}

    def _vendor_side(self) -> bool:
        """Rows only the vendor can pick (a view, a value range): shown as its pages."""
        return self.view is not None or len(self._cache_filters()) < len(self.filters)

    def _fetch(self, offset: int, limit: int) -> list[Record]:
        if self.view_rows is not None:
            return self._ordered(self.view_rows)[offset : offset + limit]
        return self.crm.window(
            self.profile, self.info.kind, offset=offset, limit=limit, **self._options()
        )

    def _ordered(self, rows: list[Record]) -> list[Record]:
        """A view's rows in the list's order: the vendor's, or sorted here by a column the
        vendor cannot sort by (once per set of rows and order)."""
        sort = self.sort
        if sort is None or sort in self.info.sortable:
            return rows
        key = (id(rows), len(rows), sort, self.descending)
        if self._sorted_for[0] != key:
            self._sorted_for = (key, sorted(rows, key=sort_key(sort), reverse=self.descending))
        return self._sorted_for[1]

    def _count(self) -> int:
        if self.view_rows is not None:
            return len(self.view_rows)
        return self.crm.count(
            self.profile, self.info.kind, search=self.search_text, filters=self._cache_filters()
        )

    # -- loading ------------------------------------------------------------------------

    @work(group="fields", exclusive=True, exit_on_error=False)
    async def load_fields(self) -> None:
        try:
            specs = await self.crm.fields(self.profile, self.info.kind)
        except CrmError:
            return
        self.table.columns = columns_for(self.info, specs)
        self.table.refresh()

    def _query(self, cursor: str | None) -> Query:
        return Query(
            # a kind the vendor cannot search: its pages, searched in the cache
            search=self.search_text if self.info.searchable else "",
            # a column the vendor cannot sort by: the cache sorts what it sends
            sort=self.sort if self.sort in self.info.sortable else None,
            descending=self.descending,
            view=self.view,
            filters=dict(self.filters),
            cursor=cursor,
            per_page=PAGE,
        )

    def read_rest(self) -> None:
        """`G`: read the vendor's pages to the end (the cursor follows the last row)."""
        self._want_rest = True
        if not self.fetching and (self.next_cursor is not None or not self.answered):
            self.fetch_page(first=not self.answered)

    @work(group="page", exclusive=True, exit_on_error=False)
    async def fetch_page(self, first: bool = False) -> None:
        if not first and self.next_cursor is None:
            return
        self.fetching, self.problem = True, ""
        try:
            pages = 0
            while True:
                await self._read_page(first)
                first, pages = False, pages + 1
                if self.next_cursor is None:
                    break
                # a vendor that picks a view's or a search's rows from each page on its
                # side (SalesSeek) may answer a page with none: read on to fill a screen
                short = pages < FILL_PAGES and self._count() < self.table.page_rows
                if not (self._want_rest or short):
                    break
        except (CrmError, CacheWriteError) as exc:  # a locked cache too
            self.problem = str(exc)
        finally:
            self._want_rest = False  # read to the end, or stopped by an error
            self.fetching = False

    async def _read_page(self, first: bool) -> None:
        query = self._query(None if first else self.next_cursor)
        page = await self.crm.refresh(self.profile, self.info.kind, query)
        self.next_cursor = page.next_cursor
        if page.view_counts:
            self.view_counts = dict(page.view_counts)
        # the query sent, not the list's state: a kind the vendor cannot search is asked
        # for all its records while the list searches the cache
        whole_kind = not (query.view or query.filters or query.search)
        if page.total is not None and whole_kind:
            self.kind_total = page.total
        if page.total is not None and (self.info.searchable or not self.search_text):
            self.vendor_total = page.total  # of this query (a search the vendor ran too)
        self.answered = True
        if self.view_rows is not None:
            self.view_rows = (self.view_rows if not first else []) + page.records
            self.table.reload()
        else:
            self._show_facts()

    def count_text(self) -> str:
        """How many rows the list holds, as far as is known: "300", "≥100" (more pages to
        read and no total from the vendor) or "counting…" (nothing known yet); never the
        rows read so far as if they were all."""
        rows = self.table.row_count
        total = self.vendor_total
        if self.view_rows is not None:  # the vendor's pages of a view or a range
            if total is None and self.view:
                total = self.view_counts.get(self.view)
            if total is not None:
                return f"{max(rows, total):,}"
            if self.answered and self.next_cursor is None:
                return f"{rows:,}"
        elif self.search_text or self.filters:  # the cache's matches: all, if it is whole
            searched = self.info.searchable or not self.search_text  # the vendor's too
            if self._cache_whole() or (searched and self.answered and not self.next_cursor):
                return f"{rows:,}"  # or the vendor's matches all read into it
        elif total is not None or self.kind_total is not None:
            return f"{max(rows, total if total is not None else self.kind_total or 0):,}"
        elif self.answered and self.next_cursor is None:
            return f"{rows:,}"
        return f"≥{rows:,}" if rows else "counting…"

    def _cache_whole(self) -> bool:
        """Whether the cache holds every record of the kind (the vendor said how many)."""
        if self.kind_total is None:
            return False
        if self._whole is None:  # once per change of the cache, not per cursor move
            self._whole = self.crm.count(self.profile, self.info.kind) >= self.kind_total
        return self._whole

    def _show_facts(self) -> None:
        count = self.count_text()
        parts = [f"{count} {self.info.label.lower()}"]
        if self.table.row_count:
            parts[0] = f"{self.table.cursor + 1:,} of {parts[0]}"
        if self.search_text:
            cached = "" if self.info.searchable else " (cached only)"
            parts.append(f"matching “{self.search_text}”{cached}")
        if self.sort:
            label = next((c.label for c in self.table.columns if c.key == self.sort), self.sort)
            parts.append(f"sorted by {label} {'▼' if self.descending else '▲'}")
        if self.filters:
            specs = filter_specs(self.info, self.crm.cached_fields(self.profile, self.info.kind))
            parts.append(f"filter: {describe(specs, self.filters)}")
        if marks := self.marks_fact():
            parts.append(marks)
        if self.fetching:
            parts.append("loading…")
        if self.problem:
            parts.append(f"⚠ {self.problem}")
        show(self.query_one(".facts", Static), inert(" · ".join(parts)))  # search, errors
        show(self.query_one(".list-view-name", Static), self._views_line())

    def _views_line(self) -> Text:
        """The view on; with the vendor's counts, every view and its count (v cycles)."""
        if not self.view_counts:
            label = self.info.views.get(self.view or "", "")
            return inert(f"view: {label}" if label else "")
        line = Text("v: ")
        for i, (view, label) in enumerate(self.info.views.items()):
            count = self.view_counts.get(view)
            text = label if count is None else f"{label} ({count:,})"
            line.append(" · " if i else "")
            line.append_text(inert(text, style="bold reverse" if view == self.view else ""))
        return line

    # -- events --------------------------------------------------------------------------

    def on_crm_event(self, message: CrmEvent) -> None:
        event = message.event
        if (
            isinstance(event, ListChanged)
            and event.profile == self.profile
            and event.kind == self.info.kind
        ):
            self._whole = None
            if self.view_rows is None:
                self.table.reload(background=True)  # a sync writing a long list: no hitch
            self._show_facts()

    @on(RecordTable.NearEnd)
    def _near_end(self) -> None:
        if self.next_cursor is not None and not self.fetching:
            self.fetch_page()

    @on(RecordTable.Opened)
    def _open(self, event: RecordTable.Opened) -> None:
        cast("CrmApp", self.app).open_record(event.record.ref, event.record.title)

    @on(Input.Changed, ".list-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.search_text = event.value.strip()

    @on(RecordTable.Reloaded)
    @on(RecordTable.Highlighted)
    def _reloaded(self) -> None:
        self._show_facts()

    @on(Input.Submitted, ".list-search")
    def _search_submitted(self) -> None:
        self.table.focus()
        if self.info.searchable:
            self.fetch_page(first=True)

    def action_search(self) -> None:
        if not self.info.searchable:
            vendor = self.crm.vendor_label(self.profile)
            self.app.notify(
                f"{vendor} cannot search {self.info.label.lower()}: "
                "this searches the ones in the cache only (r fetches more)"
            )
        self.query_one(".list-search", Input).focus()

    def action_sort(self) -> None:
        """Pick any shown column and a direction (the cache sorts by any field; the
        vendor is asked to when it can)."""
        from crmtui.ui.screens.sort import Order, SortScreen

        columns = [(c.key, c.label) for c in self.table.columns]
        if not columns:
            return

        def done(order: Order | None) -> None:
            if order is not None:
                self.sort, self.descending = order  # one reload: the watchers gather

        current = (self.sort or "title", self.descending)
        title = f"Sort {self.info.label.lower()} by"
        self.app.push_screen(SortScreen(title, columns, current), done)

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.sort = self.sort or "title"

    def action_view(self) -> None:
        views = list(self.info.views)
        if not views:
            self.app.notify(f"{self.info.label} have no views to choose from")
            return
        order = [None, *views]
        self.view = (
            order[(order.index(self.view) + 1) % len(order)] if self.view in order else views[0]
        )

    def action_refresh(self) -> None:
        self.fetch_page(first=True)

    def shown_rows(self) -> list[Record]:
        """Every row the list shows (its search, view and filters): ``A`` marks them."""
        return self._fetch(0, self._count())

    async def read_all_rows(self) -> bool:
        """``A``: the vendor's pages to the end first (as ``G`` reads them), so every row
        the list matches is marked, not only the first page; False when reading stopped
        short (offline, an error: ``problem`` says which)."""
        self._want_rest = True
        if self.fetching:  # a page on its way: it reads on to the end
            while self.fetching:
                await asyncio.sleep(0.05)
        elif self.next_cursor is not None or not self.answered:
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await self.fetch_page(first=not self.answered).wait()
        self._want_rest = False
        return self.answered and self.next_cursor is None

    def marks_shown(self) -> None:
        self._show_facts()

    def link_ref(self) -> RecordRef | None:
        record = self.table.current
        return None if record is None else record.ref

    def copy_target(self) -> tuple[str, str] | None:
        record = self.table.current
        return None if record is None else ("Name", record.title)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "board":
            return self.info.board_field is not None
        if action == "filter":
            return bool(self.info.filters)
        return True

    def action_board(self) -> None:
        from crmtui.ui.screens.board import BoardScreen

        if self.info.board_field:
            around = self.table.current
            self.app.push_screen(BoardScreen(self.crm, self.profile, self.info, around))

    def action_create(self) -> None:
        start_create(self.app, self.crm, self.profile, self.info)

    def action_log_call(self) -> None:
        ref = self.link_ref()
        if ref is None:
            self.notify("No record highlighted to log a call on", severity="warning")
            return
        start_log(self.app, self.crm, ref)

    def action_filter(self) -> None:
        specs = filter_specs(self.info, self.crm.cached_fields(self.profile, self.info.kind))

        def done(filters: dict[str, str] | None) -> None:
            if filters is not None:
                self.filters = filters  # the watcher applies it when it differs

        title = f"Filter {self.info.label.lower()}"
        self.app.push_screen(FilterScreen(title, specs, self.filters), done)


class VendorScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("left,h", "tab(-1)", "Prev tab", show=False),
        Binding("right,l", "tab(1)", "Next tab", show=False),
    ]

    def __init__(self, crm: Crm, profile: str) -> None:
        super().__init__()
        self.crm = crm
        self.profile = profile

    def compose(self) -> ComposeResult:
        vendor = self.crm.vendor_label(self.profile)
        yield Static(inert(f"{vendor} — {self.profile}"), classes="screen-title")
        yield LoadingIndicator(id="kinds-loading")
        yield TabbedContent(id="kinds")
        yield StatusBar(self.crm, self.profile)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.load_kinds()

    @work(exclusive=True, exit_on_error=False)
    async def load_kinds(self) -> None:
        try:
            kinds = await self.crm.kinds(self.profile)
        except CrmError as exc:
            self.query_one("#kinds-loading").display = False
            error = Static(inert(f"⚠ {exc}"), classes="error")
            self.mount(error, before=self.query_one(TabbedContent))
            return
        tabs = self.query_one(TabbedContent)
        for info in kinds:
            await tabs.add_pane(
                TabPane(
                    Content(clean(info.label)),  # not markup: a list's name on SalesforceIQ
                    KindView(self.crm, self.profile, info),
                    id=f"tab-{info.kind.replace(':', '-')}",
                )
            )
        self.query_one("#kinds-loading").display = False
        if kinds:
            self.focus_table()

    def focus_table(self) -> None:
        tabs = self.query_one(TabbedContent)
        if tabs.active_pane is not None:
            for view in tabs.active_pane.query(KindView):
                view.activate()
            for table in tabs.active_pane.query(RecordTable):
                table.focus()

    @on(TabbedContent.TabActivated)
    def _tab_activated(self) -> None:
        self.call_after_refresh(self.focus_table)

    @on(RecordTable.TabRequested)
    def _tab_requested(self, event: RecordTable.TabRequested) -> None:
        self.action_tab(event.delta)

    def action_tab(self, delta: int) -> None:
        tabs = self.query_one(TabbedContent)
        panes = [pane.id for pane in tabs.query(TabPane) if pane.id]
        if not panes or tabs.active not in panes:
            return
        tabs.active = panes[(panes.index(tabs.active) + delta) % len(panes)]

    def create_context(self) -> tuple[str, RecordRef | None]:
        """`c` and the palette's "New …" create in this profile (``CreatesRecords``)."""
        return self.profile, None

    def on_crm_event(self, message: CrmEvent) -> None:
        for view in self.query(KindView):
            view.post_message(CrmEvent(message.event))
