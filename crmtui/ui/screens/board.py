"""A board: one column per choice of a kind's stage (``Role.STAGE``, deal stages), cards below.

Generic over any kind with ``KindInfo.board_field``: the field's choices are the
columns, one board per ``Choice.group`` (a pipeline); the group's own field is the choice
field whose values are those groups (e.g. ``pipeline``). Cards come from the cache at
once (one window read per board) and the vendor is paged through in the background.

Keys: ←/→ (h/l) columns, ↑/↓ (k/j) cards, shift+→/shift+← (or > / <) move the card to the
next/previous column through the outbox, w marks it won and x lost (asking the lost reason
where the kind declares one), enter opens it, p/P cycle the boards (the kind's pipelines;
for a kind of one pipeline, the profile's other kinds with a board), a shows all cards or
only open ones, r refreshes from the vendor.

Won and lost are what the kind declares: the stage of the board whose ``Choice.outcome``
it is (a vendor whose won and lost are stages), else ``KindInfo.outcome_values`` (a
vendor keeping the outcome in a status), else ``KindInfo.outcome_note`` says why not.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from crmtui.fields import FieldError, display, money_text
from crmtui.http import CrmError
from crmtui.model import (
    ChangeState,
    Choice,
    FieldSpec,
    FieldType,
    KindInfo,
    Query,
    Record,
    Role,
)
from crmtui.service import CacheWriteError, Crm, ListChanged, OutboxChanged
from crmtui.text import clean, inert
from crmtui.ui.messages import CrmEvent
from crmtui.ui.themes import choice_tone, record_tone, tone_style
from crmtui.ui.widgets.footer import KeysFooter
from crmtui.ui.widgets.record_table import fit
from crmtui.ui.widgets.status import StatusBar

if TYPE_CHECKING:
    from crmtui.ui.app import CrmApp

CARD_LINES = 4  # three lines of card and one of space
HEADER_LINES = 3
MAX_CARDS = 5000  # cards read from the cache per board
PAGE = 100
MIN_WIDTH = 20  # a column's narrowest
MARKS = {
    ChangeState.PENDING: "⇅ queued",
    ChangeState.SENDING: "⇅ sending",
    ChangeState.FAILED: "⇅ queued (retrying)",
    ChangeState.REJECTED: "⚠ refused",
    ChangeState.CONFLICT: "⚠ conflict",
    ChangeState.UNCERTAIN: "⚠ arrived?",
}


def board_groups(spec: FieldSpec) -> list[str | None]:
    """The boards of a board field: its choices' groups, in the choices' order."""
    groups: list[str | None] = []
    for choice in spec.choices:
        if choice.group not in groups:
            groups.append(choice.group)
    return groups or [None]


def group_field(
    specs: list[FieldSpec], board: FieldSpec, pipeline: str | None = None
) -> FieldSpec | None:
    """The choice field whose choices are the board field's groups (e.g. the pipeline):
    the kind's ``Role.PIPELINE`` field (``pipeline``) when its choices name them, else
    any choice field whose choices do. A group names a choice by value or by label."""
    groups = {g for g in board_groups(board) if g is not None}
    if not groups:
        return None
    ordered = sorted(specs, key=lambda spec: spec.key != pipeline)
    for spec in ordered:
        names = {c.value for c in spec.choices} | {c.label for c in spec.choices}
        if spec.key != board.key and spec.type is FieldType.CHOICE and groups <= names:
            return spec
    return None


def group_choice(spec: FieldSpec | None, group: str | None) -> Choice | None:
    """The choice of the group field a board's group names (by value, else by label)."""
    if spec is None or group is None:
        return None
    return spec.choice(group) or next((c for c in spec.choices if c.label == group), None)


def total_text(records: list[Record], info: KindInfo) -> str:
    """The sum of the cards' amounts (``Role.AMOUNT``), per currency, in the one money
    format (``fields.money_text``): "12,500.00 USD + 8,000 JPY"."""
    amount, currency = info.role(Role.AMOUNT), info.role(Role.CURRENCY)
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for record in records:
        fields = record.fields
        try:
            value = Decimal(str((fields.get(amount) if amount else None) or 0))
        except InvalidOperation:
            continue
        sums[str((fields.get(currency) if currency else None) or "")] += value
    parts = [money_text(amount, currency) for currency, amount in sorted(sums.items())]
    return " + ".join(parts) or money_text(0)


class StageColumn(Widget):
    """One column: its heading (name, count, total) and the cards that fit."""

    DEFAULT_CSS = """
    StageColumn { height: 1fr; padding: 0 1; }
    StageColumn.-current { background: $boost; }
    """

    def __init__(self, choice: Choice, card: CardText) -> None:
        super().__init__()
        self.choice = choice
        self.card = card
        self.records: list[Record] = []
        self.marks: dict[str, str] = {}
        self.selected: int | None = None  # the highlighted card, on the current column
        self.top = 0

    def show(self, records: list[Record], marks: dict[str, str]) -> None:
        self.records, self.marks = records, marks
        self.refresh()

    def select(self, index: int | None) -> None:
        self.selected = index
        self.set_class(index is not None, "-current")
        self.refresh()

    @property
    def fits(self) -> int:
        return max(1, (self.size.height - HEADER_LINES) // CARD_LINES)

    def _scroll(self) -> None:
        if self.selected is None:
            self.top = min(self.top, max(0, len(self.records) - self.fits))
            return
        if self.selected < self.top:
            self.top = self.selected
        elif self.selected >= self.top + self.fits:
            self.top = self.selected - self.fits + 1

    def render(self) -> Text:
        width = max(4, self.size.width)
        self._scroll()
        count = len(self.records)
        text = Text(no_wrap=True, overflow="crop")
        heading = tone_style(self.app, choice_tone(self.choice), bold=True)
        text.append(fit(self.choice.label, width) + "\n", style=heading)
        facts = f"{count} · {total_text(self.records, self.card.info)}" if count else "empty"
        text.append(fit(facts, width) + "\n", style="dim")
        text.append("─" * width + "\n", style="dim")
        shown = self.records[self.top : self.top + self.fits]
        for offset, record in enumerate(shown):
            index = self.top + offset
            chosen = index == self.selected
            lines = self.card(record, self.marks.get(record.id, ""), width - 1)
            for number, line in enumerate(lines):
                style = "bold" if number == 0 else ""
                if chosen:
                    style += " reverse"
                if number == 2 and record.id in self.marks:
                    style += " italic"
                bar = tone_style(self.app, record_tone(record, self.card.info), bold=chosen)
                text.append("▌" if chosen else "│", style=bar if chosen else bar + Style(dim=True))
                text.append(line + "\n", style=style.strip())
            text.append("\n")
        hidden = count - self.top - len(shown)
        more = [f"↑ {self.top} more"] if self.top else []
        more += [f"↓ {hidden} more"] if hidden > 0 else []
        text.append(fit(" · ".join(more), width), style="dim")
        return text


class CardText:
    """The three lines of a card: title; amount; owner and state (by the kind's roles)."""

    def __init__(self, specs: dict[str, FieldSpec], info: KindInfo) -> None:
        self.specs = specs
        self.info = info

    def _field(self, role: Role, record: Record) -> tuple[FieldSpec | None, Any]:
        key = self.info.role(role)
        return (self.specs.get(key), record.fields.get(key)) if key else (None, None)

    def __call__(self, record: Record, mark: str, width: int) -> list[str]:
        currency = self._field(Role.CURRENCY, record)[1]
        amount = self._field(Role.AMOUNT, record)[1]
        money = money_text(amount, str(currency or "")) or "—"
        owner = display(*self._field(Role.OWNER, record)) or "no owner"
        status_spec, value = self._field(Role.STATUS, record)
        status = str(value or "")
        state = mark or (display(status_spec, status) if status != "open" else "")
        tail = f"  {state}" if state else ""
        return [
            fit(record.title, width),
            fit(money, width),
            fit(owner, max(0, width - len(tail))) + tail,
        ]


class BoardScreen(Screen[None]):
    """One board of a kind: columns of cards, moved from column to column with the keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("left,h", "column(-1)", "Column", show=False),
        Binding("right,l", "column(1)", "Column", show=False),
        Binding("up,k", "card(-1)", "Card", show=False),
        Binding("down,j", "card(1)", "Card", show=False),
        Binding("home,g", "card(-100000)", "First card", show=False),
        Binding("end,G", "card(100000)", "Last card", show=False),
        Binding("shift+right,greater_than_sign", "move(1)", "Move →", key_display=">"),
        Binding("shift+left,less_than_sign", "move(-1)", "Move ←", key_display="<"),
        Binding("w", "outcome('won')", "Won"),
        Binding("x", "outcome('lost')", "Lost"),
        Binding("enter", "open", "Open"),
        Binding("p", "board(1)", "Next pipeline"),
        Binding("P", "board(-1)", "Previous pipeline", show=False),
        Binding("a", "all", "Open/all"),
        Binding("r", "refresh", "Refresh", show=False),
    ]

    def __init__(
        self, crm: Crm, profile: str, info: KindInfo, around: Record | None = None
    ) -> None:
        """``around``: the record the list had highlighted; the board opens on its
        pipeline with its card selected (closed ones shown too when it is closed)."""
        super().__init__()
        assert info.board_field, f"{info.kind} has no board"
        self.crm = crm
        self.profile = profile
        self.info = info
        # the columns' field: the kind's stage (``board_field`` declares the board and is
        # that same field, tests/vendors/test_roles.py checks it)
        self.stage_key: str = info.role(Role.STAGE) or info.board_field or ""
        self.specs: dict[str, FieldSpec] = {}
        self.groups: list[str | None] = []
        self.group = 0
        self.column = 0
        self.card = 0
        self.selected_id: str | None = None
        self.open_only = True
        self.refreshing = False
        self.around = around

    def compose(self) -> ComposeResult:
        yield Static("", id="board-title", classes="screen-title")
        yield Static("", id="board-facts", classes="hint")
        yield Horizontal(id="board")
        yield StatusBar(self.crm, self.profile)
        yield KeysFooter()

    async def on_mount(self) -> None:
        self._set_specs(self.crm.cached_fields(self.profile, self.info.kind))
        if self.around is not None:  # as the cache holds it now: an edit or a sync since
            # the list read it may have moved it to another stage or pipeline, or closed it
            self.around = await self.crm.cached_async(self.around.ref) or self.around
        self._open_around()
        await self.build()
        self.load()

    # -- what the board is made of ----------------------------------------------------

    @property
    def board_spec(self) -> FieldSpec | None:
        return self.specs.get(self.stage_key)

    @property
    def group_spec(self) -> FieldSpec | None:
        board = self.board_spec
        pipeline = self.info.role(Role.PIPELINE)
        return group_field(list(self.specs.values()), board, pipeline) if board else None

    @property
    def group_value(self) -> str | None:
        """The current board's group, as the stages' ``Choice.group`` names it."""
        return self.groups[self.group] if self.groups else None

    @property
    def group_filter(self) -> str | None:
        """The value of the group field the current board's cards hold (a pipeline id)."""
        choice = group_choice(self.group_spec, self.group_value)
        return choice.value if choice else None

    def _set_specs(self, specs: list[FieldSpec]) -> None:
        shown = self.group_value if self.groups else None
        self.specs = {spec.key: spec for spec in specs}
        board = self.board_spec
        self.groups = board_groups(board) if board else []
        if shown is not None and shown in self.groups:  # fresh specs: the same pipeline
            self.group = self.groups.index(shown)
        self.group = min(self.group, max(0, len(self.groups) - 1))

    def _open_around(self) -> None:
        """Start on the board (pipeline) of the record the list had highlighted, once
        (when the specs are first known: from the cache, else from the vendor)."""
        record, board = self.around, self.board_spec
        if record is None or board is None:
            return
        self.around = None  # a later refresh keeps the place the user went to
        value = record.fields.get(self.stage_key)
        stage = board.choice(str(value)) if value not in (None, "") else None
        if stage is not None and stage.group in self.groups:
            self.group = self.groups.index(stage.group)
        else:  # on no column of any board: say so rather than highlight another card
            shown = f"'{value}'" if value not in (None, "") else "empty"
            self.notify(
                clean(f"{record.title} is on no board: its {board.label.lower()} is {shown}"),
                severity="warning",
                markup=False,
            )
        status = self.status_spec
        if status is not None and self.can_filter_open:
            self.open_only = str(record.fields.get(status.key, "")) == "open"
        self.selected_id = record.id

    def stages(self) -> list[Choice]:
        board = self.board_spec
        if board is None:
            return []
        return [c for c in board.choices if c.group == self.group_value]

    @property
    def status_spec(self) -> FieldSpec | None:
        """The kind's ``Role.STATUS`` field, whose "open" value a board shows by default."""
        return self.specs.get(self.info.role(Role.STATUS) or "")

    @property
    def can_filter_open(self) -> bool:
        status = self.status_spec
        return status is not None and status.choice("open") is not None

    def _cache_filters(self) -> dict[str, str]:
        filters: dict[str, str] = {}
        group, value = self.group_spec, self.group_filter
        if group is not None and value is not None:
            filters[group.key] = value
        status = self.status_spec
        if self.open_only and status is not None and self.can_filter_open:
            filters[status.key] = "open"
        return filters

    @property
    def columns(self) -> list[StageColumn]:
        return list(self.query(StageColumn))

    # -- building and filling ---------------------------------------------------------

    async def build(self) -> None:
        """(Re)make the columns for the current board, then fill them from the cache."""
        board = self.query_one("#board", Horizontal)
        await board.remove_children()
        card = CardText(self.specs, self.info)
        await board.mount_all([StageColumn(choice, card) for choice in self.stages()])
        self._size_columns()
        board.refresh(layout=True)
        self._show_title()
        self.fill()

    def fill(self) -> None:
        """Read the board's cards from the cache and put each in its column."""
        columns = self.columns
        if not columns:
            self._show_facts([])
            return
        key = self.stage_key
        records = self.crm.window(
            self.profile,
            self.info.kind,
            offset=0,
            limit=MAX_CARDS,
            sort=amount if (amount := self.info.role(Role.AMOUNT)) in self.specs else None,
            descending=True,
            filters=self._cache_filters(),
        )
        by_stage: dict[str, list[Record]] = {c.choice.value: [] for c in columns}
        for record in records:
            cards = by_stage.get(str(record.fields.get(key)))
            if cards is not None:
                cards.append(record)
        marks = self._marks()
        for column in columns:
            column.show(by_stage[column.choice.value], marks)
        self._place_cursor()
        self._show_facts([r for cards in by_stage.values() for r in cards])

    def _marks(self) -> dict[str, str]:
        return {
            change.ref.id: MARKS.get(change.state, "")
            for change in self.crm.changes(self.profile)
            if change.ref.kind == self.info.kind
        }

    def _place_cursor(self) -> None:
        """Keep the highlighted card (wherever it went), else the same place."""
        columns = self.columns
        if self.selected_id is not None:
            for number, column in enumerate(columns):
                ids = [r.id for r in column.records]
                if self.selected_id in ids:
                    self.column, self.card = number, ids.index(self.selected_id)
                    break
        self._select()

    def _select(self) -> None:
        columns = self.columns
        if not columns:
            return
        self.column = max(0, min(self.column, len(columns) - 1))
        current = columns[self.column]
        self.card = max(0, min(self.card, len(current.records) - 1))
        for number, column in enumerate(columns):
            column.select(self.card if number == self.column and column.records else None)
        record = self.current
        self.selected_id = record.id if record else None
        self.query_one("#board", Horizontal).scroll_to_widget(current, animate=False)

    @property
    def current(self) -> Record | None:
        columns = self.columns
        if not columns or self.column >= len(columns):
            return None
        records = columns[self.column].records
        return records[self.card] if 0 <= self.card < len(records) else None

    def _show_title(self) -> None:
        group = self.group_spec
        value = self.group_value
        choice = group_choice(group, value)
        name = choice.label if choice else (value or "")
        where = f" — {group.label if group else 'Board'}: {name}" if value is not None else ""
        position = f" ({self.group + 1} of {len(self.groups)})" if len(self.groups) > 1 else ""
        title = inert(f"{self.info.label} board{where}{position}")  # a pipeline's name
        self.query_one("#board-title", Static).update(title)

    def _show_facts(self, records: list[Record]) -> None:
        which = "open " if self.open_only and self.can_filter_open else ""
        total = total_text(records, self.info)
        parts = [f"{len(records)} {which}{self.info.label.lower()}", f"Σ {total}"]
        if self.refreshing:
            parts.append("refreshing…")
        if not self.columns:
            parts = [f"{self.info.label} have no stages to show yet"]
        self.query_one("#board-facts", Static).update(inert(" · ".join(parts)))

    # -- loading from the vendor --------------------------------------------------------

    @work(group="board", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        """Fresh specs, then every page of the board's records from the vendor."""
        self.refreshing = True
        try:
            specs = await self.crm.fields(self.profile, self.info.kind)
            if {s.key: s for s in specs} != self.specs or not self.columns:
                self._set_specs(specs)
                self._open_around()  # when the cache had no specs yet
                await self.build()
            filters = {}
            group, value = self.group_spec, self.group_filter
            if group is not None and value is not None:
                filters[group.key] = value
            cursor: str | None = None
            while True:
                query = Query(filters=filters, cursor=cursor, per_page=PAGE)
                page = await self.crm.refresh(self.profile, self.info.kind, query)
                cursor = page.next_cursor
                if cursor is None:
                    break
        except (CrmError, CacheWriteError) as exc:  # a locked cache too
            self.notify(str(exc), severity="warning")
        finally:
            self.refreshing = False
            self.fill()

    # -- events ---------------------------------------------------------------------------

    def on_crm_event(self, message: CrmEvent) -> None:
        event = message.event
        if (
            isinstance(event, ListChanged | OutboxChanged)
            and event.profile == self.profile
            and (isinstance(event, OutboxChanged) or event.kind == self.info.kind)
        ):
            self.fill()

    def on_screen_resume(self) -> None:
        self.fill()

    def on_resize(self, event: events.Resize) -> None:
        self._size_columns()
        self.call_after_refresh(self._select)

    def _size_columns(self) -> None:
        """Share the width; past ``MIN_WIDTH`` a column each the board scrolls sideways."""
        columns = self.columns
        if columns:
            width = max(MIN_WIDTH, self.size.width // len(columns))
            for column in columns:
                column.styles.width = width

    # -- actions --------------------------------------------------------------------------

    def action_column(self, delta: int) -> None:
        self.column += delta
        self._select()

    def action_card(self, delta: int) -> None:
        self.card += delta
        self._select()

    async def action_board(self, delta: int) -> None:
        if len(self.groups) < 2:
            self._other_board(delta)
            return
        self.group = (self.group + delta) % len(self.groups)
        self.column = self.card = 0
        self.selected_id = None
        await self.build()
        self.load()

    def _other_board(self, delta: int) -> None:
        """A kind of one pipeline: p shows the profile's next kind with a board (a vendor
        keeping each pipeline as a kind of its own: SalesforceIQ's lists)."""
        boards = [info for info in self.crm.cached_kinds(self.profile) if info.board_field]
        kinds = [info.kind for info in boards]
        if len(boards) < 2 or self.info.kind not in kinds:
            return
        other = boards[(kinds.index(self.info.kind) + delta) % len(boards)]
        self.app.switch_screen(BoardScreen(self.crm, self.profile, other))

    def action_all(self) -> None:
        if not self.can_filter_open:
            return
        self.open_only = not self.open_only
        self.fill()
        self.notify("Showing open ones only" if self.open_only else "Showing all, won and lost too")

    def action_refresh(self) -> None:
        self.load()

    def action_open(self) -> None:
        record = self.current
        if record is not None:
            cast("CrmApp", self.app).open_record(record.ref, record.title)

    def action_move(self, delta: int) -> None:
        record = self.current
        columns = self.columns
        if record is None:
            return
        target = self.column + delta
        if not 0 <= target < len(columns):
            self.notify(
                f"{record.title} is already in the {'last' if delta > 0 else 'first'} stage"
            )
            return
        choice = columns[target].choice
        if choice.outcome is not None:  # a Won or Lost stage: as w and x do
            self.action_outcome(choice.outcome)
            return
        self.move(record, {self.stage_key: choice.value})

    # -- won and lost ---------------------------------------------------------------------

    def outcome_edit(self, outcome: str) -> dict[str, str] | None:
        """The values closing a record as ``outcome`` ("won"/"lost"), as the kind declares
        them: the board's stage of that outcome, else ``KindInfo.outcome_values``."""
        stage = next((c for c in self.stages() if c.outcome == outcome), None)
        if stage is not None:
            return {self.stage_key: stage.value}
        values = self.info.outcome_values.get(outcome)
        return dict(values) if values else None

    @property
    def lost_reason_spec(self) -> FieldSpec | None:
        spec = self.specs.get(self.info.lost_reason or "")
        return spec if spec is not None and spec.writable else None

    def action_outcome(self, outcome: str) -> None:
        record = self.current
        if record is None:
            return
        values = self.outcome_edit(outcome)
        if values is None:
            note = self.info.outcome_note or (
                f"{self.info.label} here have no {outcome} outcome to set from the board"
            )
            self.notify(clean(note), severity="warning", markup=False)
            return
        reason = self.lost_reason_spec if outcome == "lost" else None
        if reason is None:
            self.move(record, values, outcome)
            return
        required = self.info.lost_reason_required or reason.required

        def chosen(picked: str | None) -> None:
            if picked is None:
                return  # cancelled: nothing queued
            self.move(record, {**values, **({reason.key: picked} if picked else {})}, outcome)

        self.app.push_screen(LostReasonScreen(record.title, reason, required), chosen)

    @work(group="move", exit_on_error=False)
    async def move(self, record: Record, values: dict[str, str], outcome: str = "") -> None:
        self.selected_id = record.id
        try:
            change = await self.crm.edit(record.ref, values)
        except (FieldError, CrmError) as exc:
            self.notify(clean(str(exc)), severity="error", markup=False)
            return
        if outcome and change is not None:
            self.notify(clean(f"{record.title} marked {outcome} (queued)"), markup=False)
        self.fill()


class LostReasonScreen(ModalScreen[str | None]):
    """Why the record was lost: one of the field's choices (or its text); "" for none
    when the vendor does not require one; None when cancelled (escape)."""

    DEFAULT_CSS = """
    LostReasonScreen { align: center middle; }
    LostReasonScreen > #lost-box { width: 60; height: auto; max-height: 80%;
        border: round $accent; background: $surface; padding: 0 1; }
    LostReasonScreen OptionList { height: auto; max-height: 20; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    NONE = "\x00none"  # the option id of "no reason"

    def __init__(self, title: str, spec: FieldSpec, required: bool) -> None:
        super().__init__()
        self.record_title = title
        self.spec = spec
        self.required = required

    def compose(self) -> ComposeResult:
        need = "required" if self.required else "optional"
        with Vertical(id="lost-box"):
            yield Static(inert(f"Lost: {self.record_title}"), classes="screen-title")
            yield Static(inert(f"{self.spec.label} ({need})"), classes="hint")
            if self.spec.choices:
                options = [Option(inert(c.label), id=c.value) for c in self.spec.choices]
                if not self.required:
                    options.append(Option("— no reason —", id=self.NONE))
                yield OptionList(*options, id="lost-reasons")
            else:
                yield Input(placeholder=self.spec.label, id="lost-reason-text")
            yield Static("enter marks it lost · escape leaves it as it is", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#lost-reasons, #lost-reason-text").focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        picked = event.option.id or ""
        self.dismiss("" if picked == self.NONE else picked)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text and self.required:
            self.notify(f"{self.spec.label} is required to mark it lost", severity="warning")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
