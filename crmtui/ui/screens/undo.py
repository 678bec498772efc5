"""Undo from the keyboard: ``u`` undoes the latest change, ``U`` lists the recent ones.

``u`` on a record's screen undoes that record's latest change; elsewhere the latest of the
screen's profile (of every profile on the home screen). A change still queued is
withdrawn at once (the outbox's ``u`` brings it back); a sent one is shown as a preview of
its compensating edit (``Stage: Won → back to Lost``), queued only when confirmed (``y``),
and sent through the outbox, which checks first that the vendor still has what was sent.
A bulk edit is one entry of ``U``'s list (its changes share ``Change.batch``): enter
previews undoing all of them, record by record, and ``y`` queues them, each with the usual
conflict check (``Undo.plan_batch``).
Everything goes through the service (``Crm.undo``); vendor text is shown inert.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Static

from crmtui.fields import local_text
from crmtui.http import CrmError
from crmtui.model import Change, ChangeState, RecordRef
from crmtui.service import CacheWriteError, ChangeBusy, Crm
from crmtui.service.undo import BatchUndoPlan, CannotUndo, UndoPlan
from crmtui.text import inert
from crmtui.ui.messages import CrmEvent
from crmtui.ui.screens.outbox import CUT, STATE_TEXT, selected_change
from crmtui.ui.widgets.fit_table import FitTable
from crmtui.ui.widgets.footer import KeysFooter
from crmtui.ui.widgets.status import StatusBar

if TYPE_CHECKING:
    from crmtui.ui.app import CrmApp

SHOWN_STATE = {**STATE_TEXT, ChangeState.DONE: "sent"}


def scope(screen: Screen[Any]) -> tuple[str | None, RecordRef | None]:
    """What ``u`` and ``U`` look at from ``screen``: its record, else its profile (None:
    every profile)."""
    ref = getattr(screen, "ref", None)
    if isinstance(ref, RecordRef):
        return ref.profile, ref
    profile = getattr(screen, "profile", None)
    return (profile if isinstance(profile, str) else None), None


class UndoPreview(ModalScreen[bool]):
    """Undo this sent change? Each field as ``now → back to``; ``y`` queues the
    compensating edit, ``n``, escape or enter on "Keep it" (focused first) do nothing."""

    DEFAULT_CSS = """
    UndoPreview { align: center middle; }
    #undo-dialog {
        width: 80; max-width: 100%; height: auto; border: thick $warning; background: $surface;
    }
    #undo-record { text-style: bold; padding: 1 1 0 1; }
    #undo-lines { padding: 0 1 1 1; }
    #undo-warning { color: $warning; padding: 0 1 1 1; }
    #undo-buttons { height: auto; align-horizontal: right; padding: 0 1; }
    #undo-buttons Button { margin: 0 0 0 2; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Undo it"),
        Binding("n,escape", "answer(False)", "Keep it"),
    ]

    def __init__(self, plan: UndoPlan | BatchUndoPlan, vendor: str) -> None:
        super().__init__()
        self.plan, self.vendor = plan, vendor

    def compose(self) -> ComposeResult:
        plan = self.plan
        with Vertical(id="undo-dialog"):
            bulk = isinstance(plan, BatchUndoPlan)
            ask = "Undo this bulk edit?" if bulk else "Undo this sent change?"
            yield Static(ask, classes="screen-title")
            yield Static(inert(plan.title, limit=200), id="undo-record")
            yield Static(inert("\n".join(plan.lines), multiline=True, limit=2000), id="undo-lines")
            if plan.moved:
                yield Static(
                    inert(
                        "Someone changed it since you sent it: the undo will stop as a "
                        "conflict in the outbox (ctrl+o) instead of overwriting their value."
                    ),
                    id="undo-warning",
                )
            yield Static(
                inert(
                    f"Sent to {self.vendor} through the outbox; crmtui first checks that "
                    f"{self.vendor} still has what you sent."
                ),
                classes="hint",
            )
            with Horizontal(id="undo-buttons"):
                yield Button("Keep it (n)", id="keep")
                yield Button("Undo it (y)", id="undo", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "undo")

    def action_answer(self, undo: bool) -> None:
        self.dismiss(undo)


async def undo_change(app: CrmApp, change_id: str) -> None:
    """Undo one change: withdraw it, or preview its compensating edit and queue it when
    confirmed; every outcome (and every refusal) is said in a notification."""
    crm = app.crm
    try:
        plan = await crm.undo.plan(change_id)
    except (CannotUndo, CrmError) as exc:
        app.notify(f"Nothing undone: {exc}", severity="warning")
        return
    if plan.action == "refused":
        app.notify(f"Nothing undone ({plan.title}): {plan.reason}", severity="warning")
    elif plan.action == "withdraw":
        carry_out(app, plan)
    else:
        vendor = crm.vendor_label(plan.change.ref.profile)
        app.push_screen(UndoPreview(plan, vendor), partial(confirmed, app, plan))


def confirmed(app: CrmApp, plan: UndoPlan, undo: bool | None) -> None:
    """The preview's answer: the compensating edit is queued on yes only."""
    if undo:
        carry_out(app, plan)


def carry_out(app: CrmApp, plan: UndoPlan) -> None:
    try:
        app.crm.undo.apply(plan)
    except (CannotUndo, ChangeBusy, CacheWriteError) as exc:
        app.notify(f"Nothing undone ({plan.title}): {exc}", severity="warning")
        return
    if plan.action == "withdraw":
        caution = f" {plan.reason}" if plan.reason else ""
        app.notify(
            f"Withdrawn{'' if caution else ', never sent'} — {plan.title}: {plan.what}."
            f"{caution} In the outbox (ctrl+o), u brings it back.",
            severity="warning" if plan.reason else "information",
            timeout=6,
        )
    else:
        app.notify(f"Undo queued — {plan.title}: {'; '.join(plan.lines)}", timeout=6)


async def undo_batch(app: CrmApp, batch: str, profile: str | None) -> None:
    """Undo a whole bulk edit: preview every change's undo, queue them when confirmed."""
    crm = app.crm
    try:
        plan = await crm.undo.plan_batch(batch, profile)
    except (CannotUndo, CrmError) as exc:
        app.notify(f"Nothing undone: {exc}", severity="warning")
        return
    if not plan.doable:
        reasons = "; ".join(dict.fromkeys(p.reason for p in plan.plans))
        app.notify(f"Nothing undone ({plan.title}): {reasons}", severity="warning")
        return
    vendor = crm.vendor_label(plan.plans[0].change.ref.profile)

    def answered(undo: bool | None) -> None:
        if not undo:
            return
        try:
            done, problems = crm.undo.apply_batch(plan)
        except CacheWriteError as exc:
            app.notify(f"Nothing more undone ({plan.title}): {exc}", severity="warning")
            return
        more = f"; not undone: {'; '.join(problems)}" if problems else ""
        app.notify(
            f"Undo queued — {plan.title}: {len(done)} change{'s' if len(done) != 1 else ''}{more}",
            severity="warning" if problems else "information",
            timeout=6,
        )

    app.push_screen(UndoPreview(plan, vendor), answered)


def undo_latest(app: CrmApp) -> None:
    """``u``: undo the latest change of the screen's record or profile (not over a
    dialog: the preview, help, a prompt)."""
    if isinstance(app.screen, ModalScreen):
        return
    profile, ref = scope(app.screen)
    change = app.crm.undo.target(profile, ref)
    if change is None:
        where = "this record" if ref else "this profile" if profile else "any profile"
        app.notify(f"Nothing to undo: no recent change of {where}.", timeout=4)
        return
    app.run_worker(undo_change(app, change.id), group="undo", exclusive=True)


class UndoListScreen(Screen[None]):
    """``U``: the recent changes of a profile (or of every profile), newest first, with
    their state and what each did in field and choice labels; enter undoes one."""

    DEFAULT_CSS = """
    UndoListScreen #undo-list { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="undo_list_back"),
        Binding("enter", "undo_selected", "Undo", id="undo_selected"),
    ]

    def __init__(self, crm: Crm, profile: str | None = None) -> None:
        super().__init__()
        self.crm, self.profile = crm, profile

    def compose(self) -> ComposeResult:
        where = f" of {self.profile}" if self.profile else ""
        yield Static(inert(f"Recent changes{where} — newest first"), classes="screen-title")
        yield FitTable(id="undo-list", cursor_type="row", zebra_stripes=True)
        yield Static(
            "enter undoes the highlighted change: a queued one is withdrawn, a sent one "
            "is shown first as the edit that takes it back.",
            classes="hint",
        )
        yield StatusBar(self.crm, self.profile)
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(FitTable)
        table.add_columns("When", "State", "Record", "Change")
        table.fit_like(name="Record", whole=["When"])
        self.fill()
        table.focus()

    def fill(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        changes = self.crm.undo.recent(self.profile)
        undone = self.crm.undo.undone(self.profile)
        batches: dict[str, list[Change]] = {}
        for change in changes:
            if change.batch:
                batches.setdefault(change.batch, []).append(change)
        for change in changes:
            if change.batch:  # a bulk edit: one row, at its newest change
                if batches[change.batch][0] is change:
                    self._add_batch(table, batches[change.batch], undone)
                continue
            state = SHOWN_STATE.get(change.state, change.state.value)
            if change.id in undone:
                state += ", undone"
            what = self.crm.describe(change, cut=CUT)
            if change.undoes:
                what = f"undo: {what}"
            table.add_row(
                local_text(change.created_at),
                state,
                inert(self.crm.undo.title_of(change), limit=40),
                inert(what, limit=80),  # field and choice labels: vendor text
                key=change.id,
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    def _add_batch(
        self, table: DataTable[object], changes: list[Change], undone: dict[str, Change]
    ) -> None:
        """A bulk edit's row: how many records, its states, what it set."""
        newest = changes[0]
        states: dict[str, int] = {}
        for change in changes:
            shown = SHOWN_STATE.get(change.state, change.state.value)
            states[shown] = states.get(shown, 0) + 1
        state = ", ".join(
            name if count == len(changes) else f"{count} {name}" for name, count in states.items()
        )
        taken_back = sum(change.id in undone for change in changes)
        if taken_back:
            state += ", undone" if taken_back == len(changes) else f", {taken_back} undone"
        info = self.crm.kind_info(newest.ref.profile, newest.ref.kind)
        count = len(changes)
        label = (info.label if count > 1 else info.singular) if info else newest.ref.kind
        what = self.crm.describe(newest, cut=CUT)
        if newest.undoes:  # the undo of a bulk edit
            what = f"undo: {what}"
        table.add_row(
            local_text(newest.created_at),
            state,
            inert(f"{count} {label.lower()}", limit=40),
            inert(f"bulk edit: {what}", limit=80),
            key=f"batch:{newest.batch}",
        )

    def selected(self) -> Change | None:
        return selected_change(self.query_one(DataTable), self.crm)

    def selected_batch(self) -> str | None:
        """The bulk edit on the cursor row (its ``Change.batch``), if it is one."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        return key.removeprefix("batch:") if key.startswith("batch:") else None

    def on_crm_event(self, message: CrmEvent) -> None:
        self.fill()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()  # enter on a row (the table takes enter before the screen's binding)
        self.action_undo_selected()

    def action_undo_selected(self) -> None:
        batch = self.selected_batch()
        if batch is not None:
            app = cast("CrmApp", self.app)
            app.run_worker(undo_batch(app, batch, self.profile), group="undo", exclusive=True)
            return
        change = self.selected()
        if change is None:
            self.notify("Nothing to undo: no recent change.", timeout=4)
            return
        app = cast("CrmApp", self.app)
        app.run_worker(undo_change(app, change.id), group="undo", exclusive=True)


def open_undo_list(app: CrmApp) -> None:
    """``U``: the list of recent changes of the screen's profile."""
    if isinstance(app.screen, UndoListScreen | ModalScreen):
        return
    profile, _ = scope(app.screen)
    app.push_screen(UndoListScreen(app.crm, profile))
