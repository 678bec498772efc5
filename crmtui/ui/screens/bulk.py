"""The bulk edit (``e`` on a list with marked rows; "Bulk edit…" in the palette).

Three steps, each left by escape with nothing queued: pick the field (every writable
field of the kind), pick or type its value (a choice by its label, once even when
several pipelines have it: each record gets its own pipeline's), then the preview (the
dry run, ``crmtui.service.bulk``): each record's value before → after, the records
skipped (already there) or refused (the value does not fit it, in the inline edit's
words), and what sending costs against the vendor's rate budget. ``y`` queues one change
per record in the outbox; the screen then follows the sending, ``n of N sent``, until
escape closes it (the outbox goes on sending).

``enter`` is the screen's own key (a priority binding): it takes the field or the value
once the keys typed before it are in, and the keys typed after it wait until the next
step is up (``record.hold_keys``): ``2027-03-31 enter y`` typed with no pause confirms
the preview of that date, the ``y`` never lands in the value's box.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from crmtui.fields import FieldError
from crmtui.http import CrmError
from crmtui.model import Change, FieldSpec, FieldType, KindInfo, Record, Role
from crmtui.service import CacheWriteError, Crm
from crmtui.service.bulk import BulkPlan
from crmtui.text import inert
from crmtui.ui.screens.board import group_field
from crmtui.ui.screens.record import caught_up, hold_keys
from crmtui.ui.widgets.inert_input import InertInput
from crmtui.ui.widgets.vim import VimDataTable, VimOptionList

HINTS = {
    FieldType.DATE: "a date: YYYY-MM-DD (empty: clear it)",
    FieldType.DATETIME: "a date and time: YYYY-MM-DD HH:MM (empty: clear it)",
    FieldType.MONEY: "an amount (empty: clear it)",
    FieldType.NUMBER: "a number (empty: clear it)",
}


def value_choices(spec: FieldSpec, groups: FieldSpec | None = None) -> list[tuple[str, str]]:
    """(value as typed, prompt) of a choice or yes/no field; [] for a typed value. A
    label several pipelines share is offered once, naming them (by ``groups``' labels:
    a pipeline's name, where a vendor's stages name it by id)."""
    if spec.type is FieldType.BOOL:
        return [("yes", "Yes"), ("no", "No")]
    by_label: dict[str, list[str]] = {}
    for choice in spec.choices:
        named = by_label.setdefault(choice.label, [])
        group = choice.group and ((groups and groups.choice_label(choice.group)) or choice.group)
        if group and group not in named:
            named.append(group)
    return [
        (label, f"{label}  ({', '.join(named)})" if len(named) > 1 else label)
        for label, named in by_label.items()
    ]


class BulkEditScreen(ModalScreen[bool]):
    """Set one field on ``ids`` of a kind: field, value, preview, confirm, progress.
    Dismissed with True when changes were queued."""

    DEFAULT_CSS = """
    BulkEditScreen { align: center middle; }
    #bulk-dialog {
        width: 100; max-width: 100%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    #bulk-dialog OptionList { height: auto; max-height: 20; border: none; }
    #bulk-rows { height: auto; max-height: 20; }
    #bulk-summary { text-style: bold; padding: 1 0 0 0; }
    #bulk-cost, #bulk-progress { padding: 0 0 1 0; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        # in the App's queue as it arrives: the keys after it wait for the next step
        Binding("enter", "enter", "Pick", show=False, priority=True),
        Binding("y", "confirm", "Queue the changes", show=False),
        Binding("n", "decline", "Cancel", show=False),
    ]

    def __init__(
        self,
        crm: Crm,
        profile: str,
        info: KindInfo,
        ids: list[str],
        shown: Callable[[], list[Record]] | None = None,
    ) -> None:
        super().__init__()
        self.crm, self.profile, self.info, self.ids = crm, profile, info, ids
        self.shown = shown  # the rows the list shows now: a marked one it hides is named
        self.step = "field"  # field, value, preview, sending
        self.spec: FieldSpec | None = None
        self.plan: BulkPlan | None = None
        self.specs: dict[str, FieldSpec] = {}
        self.changes: list[Change] = []
        self._ticking: Timer | None = None
        self.previewed = asyncio.Event()  # the preview asked last is up (or said why not)

    @property
    def what(self) -> str:
        """``25 deals`` (``1 deal``)."""
        count = len(self.ids)
        return f"{count:,} {(self.info.label if count > 1 else self.info.singular).lower()}"

    def compose(self) -> ComposeResult:
        with Vertical(id="bulk-dialog"):
            yield Static(inert(f"Bulk edit: {self.what}"), classes="screen-title", id="bulk-title")
            yield Static("", classes="hint", id="bulk-hint")
            yield VimOptionList(id="bulk-fields")
            yield VimOptionList(id="bulk-values")
            yield InertInput(id="bulk-input")
            yield Static("", id="bulk-summary")
            yield Static("", id="bulk-cost")
            yield VimDataTable[object](id="bulk-rows", cursor_type="row", zebra_stripes=True)
            yield Static("", id="bulk-progress")

    def on_mount(self) -> None:
        for selector in ("#bulk-values", "#bulk-input", "#bulk-rows", "#bulk-progress"):
            self.query_one(selector).display = False
        self.query_one("#bulk-summary").display = self.query_one("#bulk-cost").display = False
        self.load_fields()

    def _hint(self, text: str) -> None:
        self.query_one("#bulk-hint", Static).update(inert(text, multiline=True))

    # -- 1. the field --------------------------------------------------------------------

    @work(exclusive=True, exit_on_error=False)
    async def load_fields(self) -> None:
        try:
            specs = await self.crm.bulk.fields(self.profile, self.info.kind)
        except CrmError as exc:
            self._hint(f"⚠ {exc}")
            return
        self.specs = {spec.key: spec for spec in specs}
        if not specs:
            vendor = self.crm.vendor_label(self.profile)
            self._hint(f"{vendor} lets no field of {self.info.label.lower()} be changed")
            return
        fields = self.query_one("#bulk-fields", OptionList)
        fields.add_options([Option(inert(spec.label), id=spec.key) for spec in specs])
        fields.highlighted = 0
        fields.focus()
        self._hint(f"Set which field on {self.what}? (enter picks, escape cancels)")

    async def action_enter(self) -> None:
        """enter on the field, the value picked or the value typed: taken once the keys
        typed before it are in; the keys typed after it go to the next step, the preview's
        included (held until it is up)."""
        focused = self.focused
        if isinstance(focused, OptionList) and focused.id in ("bulk-fields", "bulk-values"):
            await caught_up(focused)  # ``down enter``: the option moved to
            option = focused.highlighted_option
            if option is None:
                return
            if focused.id == "bulk-fields":
                spec = self.specs.get(str(option.id))
                if spec is not None:
                    self.pick_value(spec)  # focuses the next step at once
                return
            text = str(option.id)
        elif isinstance(focused, Input) and focused.id == "bulk-input":
            await caught_up(focused)  # the value typed before enter is in
            text = focused.value
        else:
            return
        if self.step == "value":
            self.previewed.clear()
            self.preview(text)
            await hold_keys(self.previewed)

    @on(OptionList.OptionSelected, "#bulk-fields")
    def _field_picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        spec = self.specs.get(str(event.option.id))
        if spec is not None:
            self.pick_value(spec)

    # -- 2. the value --------------------------------------------------------------------

    def pick_value(self, spec: FieldSpec) -> None:
        self.spec, self.step = spec, "value"
        self.query_one("#bulk-fields").display = False
        pipeline = self.info.role(Role.PIPELINE)
        choices = value_choices(spec, group_field(list(self.specs.values()), spec, pipeline))
        if choices:
            values = self.query_one("#bulk-values", OptionList)
            values.clear_options()
            values.add_options([Option(inert(prompt), id=value) for value, prompt in choices])
            values.highlighted = 0
            values.display = True
            self.set_focus(values)
            self._hint(f"{spec.label} of {self.what}: pick the new value")
        else:
            box = self.query_one("#bulk-input", Input)
            box.placeholder = HINTS.get(spec.type, "the new value (empty: clear it)")
            box.display = True
            self.set_focus(box)  # at once: the next key typed goes into the box
            self._hint(f"{spec.label} of {self.what}: type the new value, then enter")

    @on(OptionList.OptionSelected, "#bulk-values")
    def _value_picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.preview(str(event.option.id))

    @on(Input.Submitted, "#bulk-input")
    def _value_typed(self, event: Input.Submitted) -> None:
        event.stop()
        self.preview(event.value)

    # -- 3. the preview ------------------------------------------------------------------

    @work(exclusive=True, exit_on_error=False)
    async def preview(self, text: str) -> None:
        try:
            await self._preview(text)
        finally:
            self.previewed.set()  # the keys typed meanwhile go on (``action_enter``)

    async def _preview(self, text: str) -> None:
        spec = self.spec
        if spec is None:
            return
        self._hint("Working out what changes…")
        try:
            plan = await self.crm.bulk.plan(self.profile, self.info.kind, self.ids, spec.key, text)
        except (FieldError, CrmError) as exc:
            self._hint(f"⚠ {exc}")
            return
        hidden: set[str] = set()
        if self.shown is not None:
            shown = await asyncio.to_thread(self.shown)  # a long list: off the screen's loop
            hidden = set(self.ids) - {record.id for record in shown}
        self.plan, self.step = plan, "preview"
        for selector in ("#bulk-values", "#bulk-input"):
            self.query_one(selector).display = False
        summary = plan.summary
        if hidden:
            count = len(hidden)
            summary += (
                f" · {count:,} of them not in the list as it shows now (marked before a "
                "search or filter: 'not shown' below)"
            )
        self.query_one("#bulk-summary", Static).update(inert(summary))
        self.query_one("#bulk-cost", Static).update(inert(self.cost_line(plan)))
        self.query_one("#bulk-summary").display = self.query_one("#bulk-cost").display = True
        table = self.query_one("#bulk-rows", VimDataTable)
        table.clear(columns=True)
        table.add_columns("Record", f"{spec.label} now", "After")
        for row in plan.rows:
            after = {"change": row.after, "skip": f"skipped: {row.reason}"}.get(
                row.action, f"refused: {row.reason}"
            )
            title = f"{row.title} (not shown)" if row.ref.id in hidden else row.title
            table.add_row(inert(title), inert(row.before), inert(after))
        table.display = True
        self.set_focus(table)  # at once (``focus()`` waits its turn behind the held keys)
        vendor = self.crm.vendor_label(self.profile)
        if plan.changes:
            count = len(plan.changes)
            self._hint(
                f"y queues {count} change{'s' if count > 1 else ''} in the outbox, one per "
                f"record, sent to {vendor} paced within its budget (u undoes each, U then "
                "enter all of them); "
                "escape cancels: nothing is queued."
            )
        else:
            self._hint("Nothing to change: escape closes.")

    def cost_line(self, plan: BulkPlan) -> str:
        line = f"Cost: {plan.cost.text}"
        if plan.read_requests:
            line += f" (the preview read records first: {plan.read_requests:,} requests)"
        if self.crm.status(self.profile).online is False:
            vendor = self.crm.vendor_label(self.profile)
            line += f" · offline: they wait in the outbox until {vendor} answers"
        return line

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``y`` and ``n`` answer the preview only: typed ahead while a value is picked or
        typed (keys pressed with no pause), they neither queue nor cancel anything."""
        if action in ("confirm", "decline"):
            return self.step == "preview"
        return True

    def action_decline(self) -> None:
        if self.step == "preview":
            self.action_cancel()

    def action_confirm(self) -> None:
        if self.step == "preview" and self.plan is not None and self.plan.changes:
            self.apply(self.plan)

    @work(exclusive=True, exit_on_error=False)
    async def apply(self, plan: BulkPlan) -> None:
        self.step = "sending"
        try:
            self.changes = await self.crm.bulk.apply(plan)
        except CacheWriteError as exc:
            self._hint(f"⚠ Nothing more queued: {exc}")
        left_out = len(plan.changes) - len(self.changes)
        note = f" ({left_out} changed meanwhile: left out)" if left_out else ""
        self._hint(
            f"Queued {len(self.changes)} change{'s' if len(self.changes) != 1 else ''}{note}. "
            "escape closes; the outbox (ctrl+o) goes on sending."
        )
        self.query_one("#bulk-progress").display = True
        self._show_progress()
        self._ticking = self.set_interval(0.25, self._show_progress)

    def _show_progress(self) -> None:
        progress = self.crm.bulk.progress(self.changes)
        self.query_one("#bulk-progress", Static).update(inert(f"Progress: {progress.text}"))
        if progress.done and self._ticking is not None:
            self._ticking.stop()
            self._ticking = None

    def action_cancel(self) -> None:
        if self.step == "sending":
            self.dismiss(True)
            return
        self.app.notify("Bulk edit cancelled: nothing was queued")
        self.dismiss(False)
