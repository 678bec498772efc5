"""A record: its fields (edited in place), related records and activity timeline.

`e` or enter edits the highlighted field right where it is: choices complete as you type
(tab accepts), numbers and dates are checked before anything is queued, and a refused
value stays in the box with the reason under it. enter on a done/not-done field flips it.
Saved edits go through the outbox and show at once here, in the list and the timeline.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, cast

from rich.cells import cell_len
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Label, ListItem, ListView, Static, TextArea
from textual.worker import WorkerCancelled, WorkerFailed

from crmtui.fields import FieldError, display, edit_text, local_zone, same_value
from crmtui.http import CrmError
from crmtui.model import (
    Activity,
    ActivityType,
    ChangeOp,
    ChangeState,
    Choice,
    FieldSpec,
    FieldType,
    KindInfo,
    Record,
    RecordRef,
    RelatedRef,
    Role,
)
from crmtui.service import (
    CacheWriteError,
    Crm,
    ListChanged,
    OutboxChanged,
    RecordChanged,
    RecordPreview,
)
from crmtui.service.references import (
    holds_users,
    is_multi,
    is_user,
    picked_value,
    reference_ids,
)
from crmtui.text import clean, fit_width, inert, more_marker, preview
from crmtui.ui.messages import CrmEvent
from crmtui.ui.open_copy import COPY_LIMIT, LINK_BINDINGS, RecordLinks
from crmtui.ui.screens.create import choose_kind
from crmtui.ui.screens.log_call import start_log
from crmtui.ui.themes import record_tone, tone_badge
from crmtui.ui.widgets.footer import KeysFooter
from crmtui.ui.widgets.inert_input import InertInput
from crmtui.ui.widgets.status import StatusBar
from crmtui.ui.widgets.timeline import Timeline
from crmtui.ui.widgets.vim import VimListView

if TYPE_CHECKING:
    from crmtui.ui.app import CrmApp

TITLE_LIMIT = 300  # characters of the heading (title and summary are vendor text: cut, inert)
LABEL_CELLS = 20  # a field's label column: app.tcss .field-label (width 22, padding 1 each side)
HOLD_KEYS = 5.0  # seconds the keys typed at a record being opened wait for it, at most


if TYPE_CHECKING:
    _Keyed = Widget  # the mixin's methods run on a Widget (FieldList, FieldEditor)
else:
    _Keyed = object


class InOrderKeys(_Keyed):
    """A widget whose own bindings act in the order the keys were typed.

    Textual runs a focused widget's (non-priority) bindings only once the key has bubbled
    back up to the App, and by then the keys typed after it have already been delivered
    to the widget and handled: in a burst (a paste, a fast typist) ``ctrl+u`` wiped the
    text typed after it, ``enter`` submitted before that text had arrived, and ``down``
    moved the list after the ``e`` typed after it had opened the previous field. Here each
    key that one of the widget's bindings takes runs its action as the key arrives, in the
    widget's own queue, between the keys typed around it.
    """

    async def _on_key(self, event: events.Key) -> None:
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            # ``Widget.run_action`` returns None: the key is the widget's once it has run
            # (escape went on to the screen and closed the record too)
            await self.run_action(binding.action)
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)


async def caught_up(widget: Widget) -> None:
    """Wait until ``widget`` has handled every key delivered to it so far.

    The screen's own keys (``e``, ``enter``, ``n``) run in the App as they arrive, before
    the keys typed ahead of them reach the focused widget; waiting here (the App takes no
    other key meanwhile) makes them act in the order typed: ``down e`` edits the next field.
    """
    done = asyncio.Event()
    if widget.is_attached and widget.call_later(done.set):
        # a widget too busy to answer: act rather than hang the app
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout=2)


async def hold_keys(until: asyncio.Event, timeout: float = HOLD_KEYS) -> None:
    """Hold the keys typed from now on until ``until`` is set (``timeout`` at most), then
    let them go on in the order typed.

    Awaited in the App's own queue, where keys arrive (``App.call_later``, or a priority
    binding's action), it makes the keys after it wait there: typed at a record being
    opened, they reach it once it shows; typed after enter in the bulk edit's value, they
    reach the preview (``y`` confirms it) instead of the value's box.
    """
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(until.wait(), timeout)


class RelatedItem(ListItem):
    """A related record in the list (vendor text, inert); selecting it opens the record."""

    def __init__(self, label: str, target: RecordRef, title: str) -> None:
        super().__init__(Label(inert(label)), classes="related-item")
        self.target = target
        self.title = title  # the heading until the record is read


class FieldList(InOrderKeys, VimListView):
    """The fields: ``up``/``down``, ``j``/``k``, ``g``/``G`` move in the order typed (see
    ``InOrderKeys``)."""


class FieldEditor(InOrderKeys, InertInput):  # a vendor's value, drawn inert
    """The in-place editor: its own keys act in the order they were typed (``InOrderKeys``).

    ``enter`` is the screen's (``RecordScreen.action_enter``): it saves once the keys
    typed before it are in, and hands the keys typed after it to whatever comes next.
    A paste of several lines is one line here, the lines joined by spaces.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "accept_suggestion", "Accept suggestion", show=False),
        Binding("escape", "cancel", "Cancel edit", show=False),
    ]

    def _on_paste(self, event: events.Paste) -> None:
        # Input keeps only the first line ("Head of\nSales EMEA" saved "Head of")
        text = event.text
        lines = text.splitlines()
        if len(lines) > 1:  # one line, the lines joined by one space ("Head of Sales EMEA")
            text = " ".join(line.strip() for line in lines if line.strip())
        if text:
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, *selection)
        event.stop()
        event.prevent_default()

    async def action_accept_suggestion(self) -> None:
        """tab: complete the text to the suggested choice's full name.

        Asked of the suggester here rather than read from the suggestion shown, which a
        worker fills in later: a tab typed right after the letters still completes them.
        """
        suggester = self.suggester
        if suggester is None or not self.value:
            return
        typed = self.value if suggester.case_sensitive else self.value.casefold()
        suggestion = await suggester.get_suggestion(typed)
        if suggestion:
            self.value = suggestion
            self.cursor_position = len(suggestion)

    def action_cancel(self) -> None:
        item = next((a for a in self.ancestors if isinstance(a, FieldItem)), None)
        if item is not None:
            item.action_cancel()


class FieldItem(ListItem):
    """One field: label, value, and an editor that opens in place.

    ``length``: the whole value's length in characters when ``value`` is only its start
    (the cache read the screen shows cuts a 20 MB value: ``Crm.cached_preview_async``);
    v and e read it whole first (``RecordScreen.whole_value``).
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel edit", show=False)]

    def __init__(
        self,
        spec: FieldSpec,
        value: object,
        currency: str | None,
        length: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(classes="field-item")
        self.spec = spec
        self.value = value
        self.currency = currency
        self.length = length
        self.ref_name = name  # a reference's value by the record's name (``Record.names``)
        self.editing = False
        self.with_values: dict[str, str] = {}  # saved with this field's edit (``open_editor``)
        # Kept at hand: a value that arrives before the row is mounted still shows.
        self.more_label = Label("", classes="field-more")  # under a value cut short
        self._marker = ""  # the more label's text
        self.value_label = Label(self._shown(), classes="field-value")

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-row"):
            yield Label(inert(self.label_text()), classes="field-label")
            yield self.value_label
        if self.more_label.display:  # mounted for a value cut short only (``_shown``)
            yield self.more_label

    def set_spec(self, spec: FieldSpec) -> None:
        """The field as the vendor now describes it (its label redrawn)."""
        if spec == self.spec:
            return
        self.spec = spec
        for label in self.query(".field-label").results(Label):
            label.update(inert(self.label_text()))
        if not self.editing:  # its value as the spec shows it (a choice's new label)
            self.value_label.update(self._shown())

    def label_text(self) -> str:
        """The label in its column, cut with … so that a writable field's ✎ always shows."""
        mark = " ✎" if self.spec.writable else ""
        label = clean(self.spec.label)
        if cell_len(label) + len(mark) > LABEL_CELLS:
            label = fit_width(label, LABEL_CELLS - len(mark))
        return f"{label}{mark}"

    def _shown(self) -> Text:
        """The value's first line, inert; when there is more, the marker line says how
        much and that v shows it all (a 20 MB note costs what its first line costs)."""
        shown = preview(self.full_text() or "—", lines=1)
        length, value = self.length, self.value
        unread = length - len(value) if length is not None and isinstance(value, str) else 0
        hidden = shown.hidden + max(unread, 0)
        marker = more_marker(hidden) if hidden else ""
        if marker != self._marker:  # an update lays the whole screen out again
            self._marker = marker
            self.more_label.update(marker)
        self.more_label.display = hidden > 0
        if hidden and self.is_mounted and self.more_label.parent is None:
            # a widget less for each field shown whole: the screen opens sooner
            self.mount(self.more_label)
        return Text(shown.text, end="")

    @property
    def cut(self) -> bool:
        """Whether ``value`` is only the start of the field's value (see ``length``)."""
        return self.length is not None

    def full_text(self) -> str:
        """The value as shown (not cleaned: the viewer cleans what it draws); only its
        start when ``cut``."""
        if self.ref_name is not None:  # a reference: the record's name, never its id
            return self.ref_name
        return display(self.spec, self.value, currency=self.currency)

    def set_value(
        self,
        value: object,
        currency: str | None,
        length: int | None = None,
        name: str | None = None,
    ) -> None:
        new = (value, currency, length, name)
        if new == (self.value, self.currency, self.length, self.ref_name) and type(value) is type(
            self.value
        ):
            return  # the same (a refresh brings the value shown): nothing drawn again
        self.value, self.currency, self.length, self.ref_name = new
        if not self.editing:
            self.value_label.update(self._shown())

    def open_editor(
        self,
        offered: Sequence[Choice] | None = None,
        *,
        note: str = "",
        text: str | None = None,
        with_values: dict[str, str] | None = None,
    ) -> None:
        """Open the editor in place. ``offered``: the choices to offer (by default all of
        the field's; a stage's are its pipeline's, ``RecordScreen.offered``), each label
        once. ``note`` goes before the hint; ``text`` replaces the value as the editor's
        start. ``with_values``: saved in the same edit (a pipeline moved with its stage)."""
        if self.editing:
            return
        self.editing = True
        self.with_values = dict(with_values or {})
        offered = self.spec.choices if offered is None else offered
        choices = list(dict.fromkeys(c.label for c in offered))  # a label once (Won · Lost)
        if text is None:
            text = edit_text(self.spec, self.value)
            if self.spec.type in (FieldType.CHOICE, FieldType.USER):
                text = self.spec.choice_label(self.value) or text
        placeholder = {
            FieldType.DATE: "YYYY-MM-DD",
            FieldType.DATETIME: "YYYY-MM-DD HH:MM",
            FieldType.MONEY: "amount, e.g. 12500.00",
            FieldType.NUMBER: "a number",
            FieldType.BOOL: "yes or no",
        }.get(self.spec.type, self.spec.label)
        editor = FieldEditor(
            text,
            placeholder=placeholder,
            suggester=SuggestFromList(choices, case_sensitive=False) if choices else None,
            classes="field-editor",
        )
        hint = ""
        if choices:
            hint = "choices: " + " · ".join(choices[:12]) + (" …" if len(choices) > 12 else "")
            hint += " — tab or → completes"
        elif self.spec.type is FieldType.DATETIME:
            zone = local_zone()
            hint = f"in your time zone, {getattr(zone, 'key', zone)}, or add one: +01:00, UTC"
        hint = f"{note}\n{hint}" if note and hint else note or hint
        self.mount(editor)
        self.mount(Static(inert(hint, multiline=True), classes="field-hint"))
        self.mount(Static("", classes="field-error"))
        self.query_one(".field-value", Label).display = False
        # Focus now, not later: ``Widget.focus()`` only schedules it (``call_later``), and
        # the keys typed right after ``e`` would still go to the list (``n`` opening the
        # note dialog, ``f`` cycling the timeline filter) instead of into the editor.
        self.screen.set_focus(editor)

    def close_editor(self) -> None:
        if not self.editing:
            return
        self.editing = False
        self.with_values = {}
        for widget in self.query(".field-editor, .field-hint, .field-error"):
            widget.remove()
        value = self.query_one(".field-value", Label)
        value.display = True
        value.update(self._shown())

    def show_error(self, message: str) -> None:
        for error in self.query(".field-error").results(Static):
            error.update(inert(f"⚠ {message}", multiline=True))  # a vendor's 422

    def action_cancel(self) -> None:
        self.close_editor()
        parent = self.parent
        if isinstance(parent, ListView):
            parent.focus()


class NoteScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save note"),
    ]

    def __init__(self, text: str = "", error: str = "") -> None:
        super().__init__()
        self.text, self.error = text, error  # a note that could not be saved, and why

    def compose(self) -> ComposeResult:
        with Vertical(id="note-dialog"):
            yield Static("New note — ctrl+s saves, escape cancels", classes="screen-title")
            yield TextArea(self.text, id="note-text")
            if self.error:
                yield Static(inert(f"⚠ {self.error}", multiline=True), classes="field-error")

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class RecordScreen(RecordLinks, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        # Priority: run as the key arrives, before the keys typed after it are delivered,
        # so that they land in the editor this opens (see ``FieldEditor``).
        # Each waits for the keys typed before it (``caught_up``): they act in order.
        Binding("e", "edit", "Edit field", priority=True),
        Binding("enter", "enter", "Edit field", show=False, priority=True),
        Binding("n", "note", "Add note", priority=True),
        Binding("f", "filter", "Filter timeline"),
        Binding("c", "create", "New…", show=False),  # a task, deal... (this record prefilled)
        Binding("L", "log_call", "Log a call", show=False),  # or a meeting, with a follow-up
        Binding("r", "reload", "Refresh"),
        Binding("v", "view_field", "View whole field", show=False),  # the cut value says so
        Binding("tab", "app.focus_next", "Next pane", show=False),
        *LINK_BINDINGS,  # o opens it in the web app, y copies the field, Y its link
    ]

    def __init__(self, crm: Crm, ref: RecordRef, title: str = "") -> None:
        """``title``: the record's title as the screen it is opened from shows it, the
        heading until the record is read (from the cache, in a thread: ``open_cached``)."""
        super().__init__()
        self.crm = crm
        self.ref = ref
        self.title_hint = title
        self.record: Record | None = None  # long values cut (``lengths``)
        self.lengths: dict[str, int] = {}  # the whole lengths of the values cut, by key
        self.specs: list[FieldSpec] = crm.cached_fields(ref.profile, ref.kind)
        self.opened = asyncio.Event()  # the cached record is in (or there is none)
        self._reads = 0  # reads of the record started (``_show``: the newest one wins)
        self._shown = 0  # the read shown last
        self._sent: set[str] | None = None  # the ids of this record's sent edits (``_show_sent``)
        self._related: list[tuple[str, str, str, str]] | None = None  # the related listed
        self._rereading = False  # the vendor's record is being read after a send (``reread``)

    def compose(self) -> ComposeResult:
        yield Static("", id="record-title", classes="screen-title")
        yield Static("", id="record-pending")
        with Horizontal(id="record-body"):
            with VerticalScroll(id="record-left"):
                yield FieldList(id="fields")
                yield Static("Related", classes="section-title")
                yield ListView(id="related")
            yield Timeline(id="timeline")
        yield StatusBar(self.crm, self.ref.profile)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.render_record()  # the heading the list showed; the fields once they are read
        info = self._kind_info()
        if info is not None:
            note = "" if info.has_timeline else info.timeline_note
            self.timeline.configure(info.families, note)
        self.timeline.show(None, loading=True)
        self.query_one("#fields", ListView).focus()
        self.app.call_later(self._hold_keys)
        self.open_cached()
        self.load()

    @property
    def timeline(self) -> Timeline:
        return self.query_one(Timeline)

    def _kind_info(self) -> KindInfo | None:
        return self.crm.kind_info(self.ref.profile, self.ref.kind)

    # -- loading -------------------------------------------------------------------------

    async def _hold_keys(self) -> None:
        """The keys typed while the cached record is read wait for it, in the order typed.

        Run in the App's own queue, where keys arrive: until the record shows, the keys
        after this wait behind it, then ``j j e`` edits the third field, ``v`` views the
        value, escape leaves (not before: a cache read is a fraction of a second even for
        a 20 MB field). A read that takes longer than ``HOLD_KEYS`` lets them go.
        """
        await hold_keys(self.opened)

    @work(group="cached", exit_on_error=False)
    async def open_cached(self) -> None:
        """The record and its timeline as cached, read in a thread: the screen is up at
        once. A long value comes cut, with its length (``Crm.cached_preview_async``): a
        record with a 20 MB field opens as a small one does."""
        try:
            await self._read()
        except Exception as exc:  # a damaged cache: the vendor's record may still come
            self.notify(f"Could not read this record from the cache: {exc}", severity="error")
            return
        finally:
            self.opened.set()  # the keys typed meanwhile go on (``_hold_keys``)
        activities = await self.crm.cached_timeline_async(self.ref)
        if self.timeline.fetching:  # not yet replaced by the vendor's timeline
            self.timeline.show(activities, loading=True)

    async def _read(self) -> None:
        """Show the record as cached now (read in a thread, long values cut)."""
        self._reads += 1
        read = self._reads
        found = await self.crm.cached_preview_async(self.ref)
        if self._sending_done():  # read as an edit was sent: the vendor's record comes
            return
        self._show(found, read)

    def _show(self, found: RecordPreview | None, read: int) -> None:
        """Show ``found``, from the ``read``-th read, unless a later read is shown already
        (reads land in any order; each write to the record starts a new one)."""
        if read <= self._shown:
            return
        self._shown = read
        if found is not None:
            self.record, self.lengths = found
        self.render_record()

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        if self._kind_info() is None:  # opened before its vendor's tabs: roles, labels
            with contextlib.suppress(CrmError):
                await self.crm.kinds(self.ref.profile)
        # the cached record shown first: the vendor's (a 20 MB field to download, on the
        # event loop a chunk at a time) does not hold up the screen's first frame
        await self.opened.wait()
        # numbered as it starts, as a cache read is: an edit queued while the vendor's
        # record downloads is read after it, and that read wins (numbered at the end, the
        # download showed the value from before a second quick enter on a yes/no field,
        # and a third flipped from that)
        self._reads += 1
        read = self._reads
        try:
            self.specs = await self.crm.fields(self.ref.profile, self.ref.kind)
            found = await self.crm.get_preview(self.ref)  # long values cut, as cached
        except CrmError as exc:
            self.notify(str(exc), severity="warning")
            self.render_record()
        else:
            self._show(found, read)
        # one timeline fetch: the refresh's RecordChanged starts one too (``record_changed``),
        # and the later cancels the earlier (a Freshsales timeline brings the record again:
        # a 20 MB field was downloaded three times at each open)
        self.load_timeline()

    @work(group="timeline", exclusive=True, exit_on_error=False)
    async def load_timeline(self) -> None:
        await self._load_timeline()

    async def _load_timeline(self) -> None:
        try:
            activities = await self.crm.timeline(self.ref)
        except CrmError as exc:
            self.timeline.show(None)
            self.notify(str(exc), severity="warning")
            return
        self.timeline.show(activities)
        self._sending_done()

    def _show_sent(self) -> bool:
        """The edits of this record sent from crmtui (the outbox history, kept a week) in
        the timeline, where the vendor's own timeline does not record a change of their
        fields (``KindInfo.timeline_fields``): queued at once, then sent, never gone.
        Whether an edit was sent since the last look (not on the first)."""
        info = self._kind_info()
        recorded = set(info.timeline_fields) if info else set()
        done = [
            change
            for change in self.crm.undo.recent(self.ref.profile, self.ref)
            if change.state is ChangeState.DONE
            and change.op is ChangeOp.UPDATE
            and change.ref == self.ref
        ]
        self.timeline.set_sent(
            [
                Activity(
                    id=f"sent:{change.id}",
                    type=ActivityType.OTHER,
                    occurred_at=change.created_at,  # as the queued entry was
                    summary=self.crm.describe(change),
                    who="you (sent)",
                )
                for change in done
                if not recorded.issuperset(change.values)
            ]
        )
        ids, before = {c.id for c in done}, self._sent
        self._sent = ids
        return before is not None and bool(ids - before)

    # -- rendering -----------------------------------------------------------------------

    def _specs(self) -> list[FieldSpec]:
        record = self.record
        if self.specs:
            return self.specs
        if record is None:
            return []
        return [FieldSpec(key=k, label=k.replace("_", " ").title()) for k in record.fields]

    def render_record(self) -> None:
        record = self.record
        title = self.query_one("#record-title", Static)
        info = self._kind_info()
        kind_label = info.singular if info else self.ref.kind.title()
        if record is None:
            hint = self.title_hint[:TITLE_LIMIT]
            title.update(
                Content(clean(f"{kind_label}: {hint}", limit=TITLE_LIMIT)) if hint else "Loading…"
            )
            return
        sub = f" — {record.subtitle[:TITLE_LIMIT]}" if record.subtitle else ""
        words = f"{kind_label}: {record.title[:TITLE_LIMIT]}{sub}"
        heading = Content(clean(words, limit=TITLE_LIMIT))  # inert, never markup
        tone = record_tone(record, info)
        title.update(heading + Content.from_markup(f"  {tone_badge(tone)}") if tone else heading)
        self._render_pending()
        fields = self.query_one("#fields", ListView)
        items = {item.spec.key: item for item in fields.query(FieldItem)}
        currency_key = info.role(Role.CURRENCY) if info else None
        currency = record.fields.get(currency_key) if currency_key else None
        specs = self._specs()
        # The same fields (the vendor's specs after the cache's: new labels or choices):
        # updated in place. A rebuild is removed a frame later, so the rows a key typed
        # meanwhile acts on (and an open editor's text) would be the ones going away.
        if list(items) == [s.key for s in specs]:
            for spec in specs:
                items[spec.key].set_spec(spec)
                value = record.fields.get(spec.key)
                items[spec.key].set_value(
                    value, currency, self.lengths.get(spec.key), record.names.get(spec.key)
                )
        else:
            index = fields.index
            highlighted = fields.highlighted_child
            key = highlighted.spec.key if isinstance(highlighted, FieldItem) else None
            fields.clear()
            fields.extend(
                FieldItem(
                    s,
                    record.fields.get(s.key),
                    currency,
                    self.lengths.get(s.key),
                    record.names.get(s.key),
                )
                for s in specs
            )
            keys = [s.key for s in specs]
            if key in keys:  # the same field stays highlighted, wherever it moved
                fields.index = keys.index(key)
            elif index is not None:
                fields.index = min(index, len(specs) - 1)
            elif specs:  # just opened: the first field that can be edited (e, enter edit it)
                fields.index = next((n for n, s in enumerate(specs) if s.writable), 0)
        related = self.query_one("#related", ListView)
        listed = [
            (label, r.kind, r.id, r.title) for label, refs in record.related.items() for r in refs
        ]
        if listed == self._related:  # unchanged: not rebuilt (two quick rebuilds listed twice)
            return
        self._related = listed
        related.clear()
        for label, refs in record.related.items():
            for ref in refs:
                target = RecordRef(profile=self.ref.profile, kind=ref.kind, id=ref.id)
                related.append(RelatedItem(f"{label}: {ref.title}", target, ref.title))
        if not record.related:
            related.append(ListItem(Label("—")))

    def _render_pending(self) -> None:
        changes = [c for c in self.crm.changes(self.ref.profile) if c.ref == self.ref]
        text = ""
        if changes:
            states = {c.state for c in changes}
            if ChangeState.CONFLICT in states:
                text = "⚠ this record changed on the server since your edit — ctrl+o to compare and choose"
            elif ChangeState.REJECTED in states:
                error = next(c.last_error for c in changes if c.state is ChangeState.REJECTED)
                text = f"⚠ edit refused: {error} — ctrl+o to fix or discard"
            elif ChangeState.UNCERTAIN in states:
                label = self.crm.vendor_label(self.ref.profile)
                text = f"⚠ it is not known whether your edit reached {label} — ctrl+o to decide"
            else:
                text = f"⇅ {len(changes)} edit{'s' if len(changes) > 1 else ''} queued — will be sent when {self.crm.vendor_label(self.ref.profile)} answers"
        self.query_one("#record-pending", Static).update(inert(text))  # the vendor's refusal

    # -- events --------------------------------------------------------------------------

    def on_crm_event(self, message: CrmEvent) -> None:
        event = message.event
        if isinstance(event, RecordChanged) and event.ref == self.ref:
            self.record_changed()
        elif isinstance(event, OutboxChanged | ListChanged) and event.profile == self.ref.profile:
            self._render_pending()
            self._sending_done()  # an edit sent: its entry stays, as sent

    @work(group="cached", exit_on_error=False)
    async def record_changed(self) -> None:
        """The record changed in the cache: read again (in a thread) and shown."""
        if self._sending_done():  # the vendor's record is coming: the screen keeps its own
            return
        await self._read()
        cached = await self.crm.cached_timeline_async(self.ref)
        if cached is not None:
            self.timeline.show(cached)
        if not any(c.ref == self.ref for c in self.crm.changes(self.ref.profile)):
            self.load_timeline()  # sent: the vendor's timeline now has the edit

    def _sending_done(self) -> bool:
        """Whether the vendor's record is being read again after an edit of it was sent
        (``reread``, started here when one was sent since the last look): the screen
        keeps what it shows until it is in."""
        if self._show_sent():
            self._rereading = True  # now: a cache read landing meanwhile is not shown
            self.reread()
        return self._rereading

    @work(group="reread", exclusive=True, exit_on_error=False)
    async def reread(self) -> None:
        """An edit of this record was sent: the record and its timeline as the vendor has
        them now (``load``). The vendor's reply to an update may leave out what its read
        embeds (the account in the title, the related records): until the read is in,
        the screen keeps what it shows, the values edited included."""
        try:
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await self.load().wait()
        finally:
            self._rereading = False
        await self._read()  # the cache, with the vendor's record (or as the reply left it)

    @on(ListView.Selected, "#fields")
    async def _field_selected(self, event: ListView.Selected) -> None:
        await self.action_edit()

    @on(ListView.Selected, "#related")
    def _related_selected(self, event: ListView.Selected) -> None:
        if isinstance(event.item, RelatedItem):
            cast("CrmApp", self.app).open_record(event.item.target, event.item.title)

    def _current_item(self) -> FieldItem | None:
        fields = self.query_one("#fields", ListView)
        item = fields.highlighted_child
        return item if isinstance(item, FieldItem) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "enter":  # edits from the fields list, saves from a field's editor
            return self.focused is self.query_one("#fields", ListView) or isinstance(
                self.focused, FieldEditor
            )
        if action in ("edit", "note"):  # typed into a box, they are letters
            return not isinstance(self.focused, Input | TextArea)
        return True

    async def action_enter(self) -> None:
        focused = self.focused
        if isinstance(focused, FieldEditor):
            await caught_up(focused)  # the text typed before enter is in
            item = next((a for a in focused.ancestors if isinstance(a, FieldItem)), None)
            if item is not None and item.editing:
                await self.save(item, focused.value)
            return
        await caught_up(self.query_one("#fields", ListView))
        item = self._current_item()
        target = self._reference(item)
        if item is not None and target is not None and isinstance(item.value, str | int):
            # a reference opens the record it names (``e`` picks another one)
            ref = RecordRef(profile=self.ref.profile, kind=target, id=str(item.value))
            cast("CrmApp", self.app).open_record(ref, item.ref_name or "")
            return
        if item is not None and target is not None and len(reference_ids(item.value)) > 0:
            self._open_one_of(item, target)  # several records: which one to open
            return
        if item is not None and holds_users(item.spec) and reference_ids(item.value):
            self._open_user_of(item)  # several users: which one's card
            return
        if item is not None and is_user(item.spec) and reference_ids(item.value):
            # a user (an owner): its card (``e`` picks another one)
            from crmtui.ui.screens.user_card import UserCardScreen

            card = UserCardScreen(self.crm, self.ref.profile, self.ref.kind, item.spec, item.value)
            self.app.push_screen(card)
            return
        await self.action_edit()

    def _reference(self, item: FieldItem | None) -> str | None:
        """The kind ``item``'s field refers to (``KindInfo.references``), if it is one."""
        info = self._kind_info()
        if item is None or info is None:
            return None
        return info.references.get(item.spec.key)

    async def action_edit(self) -> None:
        await caught_up(self.query_one("#fields", ListView))  # ``down e``: the next field
        item = self._current_item()
        if item is None:
            return
        if not item.spec.writable:
            vendor = self.crm.vendor_label(self.ref.profile)
            self.notify(f"{item.spec.label} cannot be changed in {vendor}", severity="warning")
            return
        if item.spec.type is FieldType.BOOL:
            # flipped from the value shown now, which the save shows at once: two quick
            # enters flip it twice
            await self.save(item, "no" if item.value else "yes")
            return
        target = self._reference(item)
        if holds_users(item.spec) or (target is not None and is_multi(item.spec)):
            self._pick_several(item, target)  # several: marked, then confirmed
            return
        if target is not None or is_user(item.spec):  # picked by name (a user: or email)
            self._pick(item, target)
            return
        if item.cut:  # the editor starts from the whole value
            item.value, item.length = await self.whole_value(item), None
        item.open_editor(self.offered(item.spec))

    @work(group="pick", exit_on_error=False)
    async def _pick(self, item: FieldItem, target: str | None) -> None:
        """``e`` on a reference: the picker (search as you type over the cache; a user
        field's: over the vendor's users its choices hold); the one picked is queued by
        its id."""
        from crmtui.ui.widgets.reference_picker import USER_KIND, ReferencePicker

        current = "" if item.value in (None, "") else str(item.value)
        users = item.spec.choices if target is None else None
        kind = target or USER_KIND
        picker = ReferencePicker(
            self.crm, self.ref.profile, kind, item.spec.label, current, users=users
        )
        picked = await self.app.push_screen_wait(picker)
        if picked is not None:
            await self.save(item, picked.id)

    def _held(self, item: FieldItem, target: str | None) -> list[RelatedRef]:
        """The records a multi-reference field holds, by name (as the cache has them);
        ``target`` None: the users a field holding several users holds (named by its
        choices)."""
        ids = reference_ids(item.value)
        if target is None:
            from crmtui.ui.widgets.reference_picker import USER_KIND

            name = item.spec.choice_label
            return [RelatedRef(kind=USER_KIND, id=i, title=name(i) or "") for i in ids]
        titles = self.crm.references.titles(self.ref.profile, [(target, i) for i in ids])
        return [RelatedRef(kind=target, id=i, title=titles.get((target, i), "")) for i in ids]

    @work(group="pick", exit_on_error=False)
    async def _pick_several(self, item: FieldItem, target: str | None) -> None:
        """``e`` on a field holding several records (``target`` None: several users):
        those it holds are marked, space marks or unmarks, enter queues the marked ones
        (validated, through the outbox)."""
        from crmtui.ui.widgets.reference_picker import USER_KIND, MultiReferencePicker

        held = self._held(item, target)
        users = item.spec.choices if target is None else None
        picker = MultiReferencePicker(
            self.crm, self.ref.profile, target or USER_KIND, item.spec.label, held, users=users
        )
        picked = await self.app.push_screen_wait(picker)
        if picked is None:
            return
        try:
            text = picked_value(item.spec, [r.id for r in picked])
        except FieldError as exc:
            self.notify(str(exc), severity="error")
            return
        await self.save(item, text)

    @work(group="pick", exit_on_error=False)
    async def _open_user_of(self, item: FieldItem) -> None:
        """enter on a field holding several users: one of them picked, then its card."""
        from crmtui.ui.screens.user_card import UserCardScreen
        from crmtui.ui.widgets.reference_picker import USER_KIND, ReferencePicker

        held = self._held(item, None)
        chosen: RelatedRef | None = held[0] if len(held) == 1 else None
        if chosen is None:
            label = f"{item.spec.label} (open one)"
            chooser = ReferencePicker(self.crm, self.ref.profile, USER_KIND, label, among=held)
            chosen = await self.app.push_screen_wait(chooser)
        if chosen is not None:
            card = UserCardScreen(self.crm, self.ref.profile, self.ref.kind, item.spec, chosen.id)
            await self.app.push_screen(card)

    @work(group="pick", exit_on_error=False)
    async def _open_one_of(self, item: FieldItem, target: str) -> None:
        """enter on a field holding several records: one of them picked, then opened."""
        from crmtui.ui.widgets.reference_picker import ReferencePicker

        held = self._held(item, target)
        if len(held) == 1:
            ref = RecordRef(profile=self.ref.profile, kind=target, id=held[0].id)
            cast("CrmApp", self.app).open_record(ref, held[0].title)
            return
        picker = ReferencePicker(
            self.crm, self.ref.profile, target, f"{item.spec.label} (open one)", among=held
        )
        picked = await self.app.push_screen_wait(picker)
        if picked is not None:
            ref = RecordRef(profile=self.ref.profile, kind=target, id=picked.id)
            cast("CrmApp", self.app).open_record(ref, picked.title)

    def _grouping(self) -> tuple[FieldSpec, FieldSpec] | None:
        """(pipeline, stage) specs when the kind's stages are grouped by its pipeline (the
        vendor's mapping declares both roles and each stage's ``Choice.group``)."""
        info = self._kind_info()
        keys = (info.role(Role.PIPELINE), info.role(Role.STAGE)) if info else (None, None)
        specs = {s.key: s for s in self._specs()}
        pipe, stage = (specs.get(k) if k else None for k in keys)
        if pipe is None or stage is None or not any(c.group for c in stage.choices):
            return None
        return pipe, stage

    def offered(self, spec: FieldSpec, pipeline: object = None) -> list[Choice]:
        """The choices the editor offers for ``spec``: a stage's are those of the record's
        pipeline (or of ``pipeline``, one being chosen), as the service checks them
        (``Crm.validate``); moving to another pipeline is the pipeline field's edit."""
        grouping = self._grouping()
        if grouping is None or spec.key != grouping[1].key:
            return list(spec.choices)
        pipe = grouping[0]
        if pipeline is None and self.record is not None:
            pipeline = self.record.fields.get(pipe.key)
        if pipeline in (None, ""):
            return list(spec.choices)
        names = {str(pipeline), pipe.choice_label(pipeline) or str(pipeline)}
        return [c for c in spec.choices if c.group in names] or list(spec.choices)

    async def _moves_pipeline(self, item: FieldItem, text: str) -> object:
        """The pipeline ``text`` names when it moves the record to another pipeline whose
        stage is then to be chosen; None otherwise (``FieldError`` when refused)."""
        grouping = self._grouping()
        if grouping is None or item.spec.key != grouping[0].key or not grouping[1].writable:
            return None
        value = (await self.crm.validate(self.ref, {item.spec.key: text}))[item.spec.key]
        before = self.record.fields.get(item.spec.key) if self.record else None
        return None if value in (None, "") or same_value(value, before) else value

    def _ask_stage(self, item: FieldItem, text: str, pipeline: object) -> None:
        """A new pipeline chosen: its stage is asked for in the stage field's editor, and
        both are queued as one edit when it is saved (escape changes neither)."""
        grouping = self._grouping()
        fields = self.query_one("#fields", ListView)
        items = list(fields.query(FieldItem))
        stage = next((i for i in items if grouping and i.spec.key == grouping[1].key), None)
        if stage is None:
            return
        choices = self.offered(stage.spec, pipeline)
        item.close_editor()
        fields.index = items.index(stage)
        name = item.spec.choice_label(pipeline) or str(pipeline)
        stage.open_editor(
            choices,
            note=f"{item.spec.label} → {name}: pick its {stage.spec.label.lower()}"
            " (enter moves the record; escape changes neither)",
            text=choices[0].label if choices else "",
            with_values={item.spec.key: text},
        )

    async def save(self, item: FieldItem, text: str) -> None:
        """Validate and queue ``text`` now: the App takes the keys typed after it only once
        this is done, so they reach the list (or the editor, if refused) in order."""
        try:
            pipeline = await self._moves_pipeline(item, text)
            if pipeline is not None:
                self._ask_stage(item, text, pipeline)
                return
            change = await self.crm.edit(self.ref, {**item.with_values, item.spec.key: text})
        except Exception as exc:  # whatever it is, the user is told why
            # refused, or the cache could not be written (disk full, read-only, locked):
            # the editor stays open with the typed text, the reason under it
            known = isinstance(exc, FieldError | CrmError | CacheWriteError)
            reason = str(exc) if known and str(exc) else f"{item.spec.label}: {exc!r}"
            if not known:
                reason += " — not saved; correct the value, or escape to keep the old one"
            if item.editing:
                item.show_error(reason)
            else:
                self.notify(reason, severity="error")
            return
        item.close_editor()
        if item.spec.type is FieldType.BOOL:
            # shown flipped now, not when a read lands: the cache read below is not shown
            # when the edit was sent meanwhile (the vendor's read comes), and a second
            # quick enter flips from the value shown
            item.set_value(text == "yes", item.currency, item.length, item.ref_name)
            # and shown as the newest read: a read started before the flip (a refresh's
            # cache read, the vendor's record) is not shown when it lands after it. The
            # flip's own read below is not shown when the edit was sent meanwhile, and
            # the older read put the value from before back: the next quick enter flipped
            # from that, and the vendor kept the value from before the flips
            self._reads += 1
            self._shown = self._reads
        self.query_one("#fields", ListView).focus()
        self.screen.set_focus(self.query_one("#fields", ListView))  # now, for the next key
        await self._read()  # with the edit, as queued
        if change is not None:
            self.notify(
                f"{item.spec.label} saved — sending to {self.crm.vendor_label(self.ref.profile)}"
            )

    async def action_note(self, text: str = "", error: str = "") -> None:
        why = self.crm.note_refusal(self.ref)  # the kind takes no notes: no dialog
        if why is not None:
            self.notify(why, severity="warning")
            return

        def done(text: str | None) -> None:
            if text and text.strip():
                self.add_note(text)

        if self.focused is not None:
            await caught_up(self.focused)
        screen = NoteScreen(text, error)
        await self.app.push_screen(screen, done)
        # focused now, not when the dialog is shown: the keys typed after ``n`` are the note
        screen.set_focus(screen.query_one(TextArea))

    @work(group="note", exit_on_error=False)
    async def add_note(self, text: str) -> None:
        try:
            await self.crm.add_note(self.ref, text)
        except (FieldError, CrmError, CacheWriteError) as exc:
            await self.action_note(text, str(exc))  # the note is not lost: back in the dialog
            return
        # read off the loop: the timeline may hold a 20 MB note
        self.timeline.show(await self.crm.cached_timeline_async(self.ref))

    def action_create(self) -> None:
        choose_kind(self.app, self.crm, self.ref.profile, self.ref)

    def action_log_call(self) -> None:
        start_log(self.app, self.crm, self.ref)

    def create_context(self) -> tuple[str, RecordRef | None]:
        """`c` and the palette's "New …" create in this record's profile, with this record
        prefilled where a field refers to its kind (``CreatesRecords``)."""
        return self.ref.profile, self.ref

    def action_filter(self) -> None:
        family = self.timeline.cycle_family()
        self.notify(f"Timeline: {self.timeline.label(family)}", timeout=2)

    async def whole_value(self, item: FieldItem) -> object:
        """``item``'s whole value, read from the cache in a thread when it is cut (the
        value shown when the record has gone from the cache meanwhile)."""
        if not item.cut:
            return item.value
        value = await self.crm.cached_field_async(self.ref, item.spec.key)
        return item.value if value is None else value

    async def action_view_field(self) -> None:
        """The highlighted field's whole value, however long, in a scrollable view: a cut
        value is read whole (and split into its lines) in a thread; the keys typed after
        v wait for it (escape closes the view)."""
        from crmtui.ui.screens.text_view import TextViewScreen
        from crmtui.ui.widgets.long_text import LongText

        item = self._current_item()
        if item is None:
            return
        if not item.cut:
            self.app.push_screen(TextViewScreen(item.spec.label, item.full_text()))
            return
        value = await self.whole_value(item)
        text = value if isinstance(value, str) else display(item.spec, value)
        lines = await asyncio.to_thread(LongText.split, text)
        await self.app.push_screen(TextViewScreen(item.spec.label, text, lines=lines))

    def action_copy_value(self) -> None:
        item = self._current_item()
        if item is not None and item.length is not None and item.length > COPY_LIMIT:
            # cut: longer than a copy takes, so refused as ``copy_value`` refuses it
            self.notify(
                f"{item.spec.label} is too long to copy through the terminal"
                f" ({item.length:,} characters, {COPY_LIMIT:,} at most); v shows it whole",
                severity="warning",
            )
            return
        super().action_copy_value()

    def action_reload(self) -> None:
        self.load()

    def link_ref(self) -> RecordRef:
        return self.ref

    def copy_target(self) -> tuple[str, str] | None:
        item = self._current_item()
        return None if item is None else (item.spec.label, item.full_text())
