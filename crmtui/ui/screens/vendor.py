"""A vendor's screen: one tab per kind, in the vendor's own words, each a virtual list.

A list shows the cache at once and refreshes it from the vendor in the background; the
next page is fetched as the cursor nears the end of what is cached. `/` searches the
cache instantly and the vendor in the background; `s` cycles the sort column and `S`
reverses it; `v` cycles the vendor's views (quick filters such as "Overdue"); `F`
filters by the vendor's list filters (the cache too where they are exact field values);
`b` opens the board of a kind that has one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Input, LoadingIndicator, Static, TabbedContent, TabPane

from crmtui.http import CrmError
from crmtui.model import FieldSpec, KindInfo, Query, Record, RecordRef, Role
from crmtui.service import CacheWriteError, Crm, ListChanged
from crmtui.text import clean, inert
from crmtui.ui.messages import CrmEvent
from crmtui.ui.open_copy import LINK_BINDINGS, RecordLinks
from crmtui.ui.screens.create import start_create
from crmtui.ui.screens.filters import FilterScreen, describe, filter_specs
from crmtui.ui.widgets.inert_input import InertInput
from crmtui.ui.widgets.record_table import Column, RecordTable
from crmtui.ui.widgets.status import StatusBar

if TYPE_CHECKING:
    from crmtui.ui.app import CrmApp

PAGE = 100


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


class KindView(RecordLinks, Vertical):
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
        *LINK_BINDINGS,  # the row's record: o opens it in the web app, y its name, Y its link
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
    vendor_total: reactive[int | None] = reactive(None, init=False)
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
        if "order" in changed:
            self.table.sort_by(self.sort, self.descending)
        self.table.reload(keep_cursor=False)
        self._show_facts()
        self.fetch_page(first=True)

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
            return self.view_rows[offset : offset + limit]
        return self.crm.window(
            self.profile, self.info.kind, offset=offset, limit=limit, **self._options()
        )

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
            sort=self.sort,
            descending=self.descending,
            view=self.view,
            filters=dict(self.filters),
            cursor=cursor,
            per_page=PAGE,
        )

    @work(group="page", exclusive=True, exit_on_error=False)
    async def fetch_page(self, first: bool = False) -> None:
        if not first and self.next_cursor is None:
            return
        self.fetching, self.problem = True, ""
        try:
            page = await self.crm.refresh(
                self.profile, self.info.kind, self._query(None if first else self.next_cursor)
            )
        except (CrmError, CacheWriteError) as exc:  # a locked cache too
            self.problem = str(exc)
            self.fetching = False
            return
        self.next_cursor = page.next_cursor
        if page.view_counts:
            self.view_counts = dict(page.view_counts)
        if page.total is not None and not self.search_text:
            self.vendor_total = page.total
        if self.view_rows is not None:
            self.view_rows = (self.view_rows if not first else []) + page.records
            self.table.reload()
        self.fetching = False

    def _show_facts(self) -> None:
        shown = self.table.row_count
        total = (
            f" of {self.vendor_total:,}"
            if self.vendor_total is not None and self.view_rows is None
            else ""
        )
        parts = [f"{shown:,}{total} {self.info.label.lower()}"]
        if self.search_text:
            cached = "" if self.info.searchable else " (cached only)"
            parts.append(f"matching “{self.search_text}”{cached}")
        if self.sort:
            label = next((c.label for c in self.table.columns if c.key == self.sort), self.sort)
            parts.append(f"sorted by {label} {'▼' if self.descending else '▲'}")
        if self.filters:
            specs = filter_specs(self.info, self.crm.cached_fields(self.profile, self.info.kind))
            parts.append(f"filter: {describe(specs, self.filters)}")
        if self.fetching:
            parts.append("loading…")
        if self.problem:
            parts.append(f"⚠ {self.problem}")
        self.query_one(".facts", Static).update(inert(" · ".join(parts)))  # search, errors
        self.query_one(".list-view-name", Static).update(self._views_line())

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
        keys = [
            c.key for c in self.table.columns if c.key in self.info.sortable or c.key == "title"
        ]
        if not keys:
            return
        self.sort = keys[(keys.index(self.sort) + 1) % len(keys)] if self.sort in keys else keys[0]

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
            self.app.push_screen(BoardScreen(self.crm, self.profile, self.info))

    def action_create(self) -> None:
        start_create(self.app, self.crm, self.profile, self.info)

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
        yield Footer()

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
