"""Log a call or meeting on a record (`L` on a record or a list's highlighted row, "Log
a call or meeting" in the command palette).

The form is the service's (``Crm.calls.form``): the activity (call, meeting) in the
vendor's words, its own outcomes where it has them (a Salesloft disposition and
sentiment, a Freshsales outcome of that activity's type), the duration where it keeps
one, the note, and a follow-up task (subject and due date) where the vendor has tasks;
what the vendor does not keep is said under the title. It is the create form
(``CreateScreen``): each value is checked as it is left, by the service's validation,
and a refused save keeps the form as typed. Saving queues the call through the outbox
(``Crm.calls.log``), offline too: it shows at once on the record's timeline, marked
queued, then as the vendor records it; the follow-up task is queued as a create. Where
the vendor logs no call (or not on this kind of record) `L` and the palette say so in
its words, and no form opens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import on
from textual.widget import Widget
from textual.widgets import Select, Static

from crmtui.fields import FieldError
from crmtui.http import CrmError
from crmtui.model import Change, FieldSpec, KindInfo, Record, RecordRef
from crmtui.service import Crm
from crmtui.service.calls import ACTIVITY, LOG_KIND, LogForm, LoggedCall
from crmtui.text import inert
from crmtui.ui.open_copy import RecordLinks
from crmtui.ui.screens.create import CreateScreen, CreatesRecords

if TYPE_CHECKING:
    from textual.app import App

TITLE = "Log a call or meeting"


def start_log(app: App[Any], crm: Crm, ref: RecordRef) -> None:
    """Open the form of a call logged on ``ref``, or say why the vendor logs none there."""
    why = crm.calls.refusal(ref)
    if why is not None:
        app.notify(why, severity="warning")
        return
    app.run_worker(_open_form(app, crm, ref), group="log", exit_on_error=False)


async def _open_form(app: App[Any], crm: Crm, ref: RecordRef) -> None:
    try:
        form = await crm.calls.form(ref)
    except CrmError as exc:
        app.notify(str(exc), severity="error")
        return
    if form.refusal is not None:
        app.notify(form.refusal, severity="warning")
        return
    record = await crm.cached_async(ref)

    screen = LogCallScreen(crm, form, on=record)

    def done(change: Change | None) -> None:
        if change is not None:
            more = " and a follow-up task" if screen.logged and screen.logged.follow_up else ""
            app.notify(f"Logged{more} — sending to {form.vendor}", title="Logged")

    await app.push_screen(screen, done)


def log_commands(
    app: App[Any], crm: Crm, screen: object
) -> list[tuple[str, str, Callable[[], object]]]:
    """The palette's "Log a call or meeting" on a record's screen or a list's highlighted
    row: what it logs there, or, in the vendor's words, why it cannot."""
    ref = screen.create_context()[1] if isinstance(screen, CreatesRecords) else None
    focused = getattr(screen, "focused", None)
    chain = [*focused.ancestors_with_self] if isinstance(focused, Widget) else []
    row = next((n for n in chain if isinstance(n, RecordLinks)), None)
    ref = ref or (row.link_ref() if row is not None else None)
    if ref is None:
        return []
    why = crm.calls.refusal(ref)
    vendor = crm.vendor_label(ref.profile)
    task = " with a follow-up task" if crm.calls.declared(ref.profile).follow_up else ""
    help_text = why or f"L: log a call on this record in {vendor},{task}".rstrip(",")
    return [(TITLE, help_text, lambda: start_log(app, crm, ref))]


class LogCallScreen(CreateScreen):
    """The form of a logged call (the create form over the log's fields); dismissed with
    what was queued (None: cancelled)."""

    def __init__(self, crm: Crm, form: LogForm, *, on: Record | None = None) -> None:
        info = KindInfo(kind=LOG_KIND, label="Calls", singular="Call")
        super().__init__(crm, form.ref.profile, info, form.specs, on=on)
        self.form = form
        self.logged: LoggedCall | None = None  # what the save queued

    def on_mount(self) -> None:
        super().on_mount()
        title = f"{TITLE} — {self.form.vendor}"
        unkept = [self.form.unkept] if self.form.unkept else []  # what the vendor keeps not
        if self.form.task is None:  # no follow-up field: say why, not leave it missing
            unkept.append(f"No follow-up task: {self.form.vendor} has no tasks crmtui can create")
        if self.from_record is not None:
            lines = [f"On: {self.from_record.title}", *unkept]
            self.query_one("#create-from", Static).update(inert("\n".join(lines)))
        else:
            title = "\n".join([title, *unkept])
        self.query_one("#create-title", Static).update(inert(title))
        self._refresh_outcomes()

    def _default(self, spec: FieldSpec) -> Any:
        """The activity starts on the first (a call); others on none."""
        if spec.key == ACTIVITY and spec.choices:
            return spec.choices[0].value
        return super()._default(spec)

    def _choices(self, spec: FieldSpec) -> list[tuple[Any, str]]:
        """An outcome's choices: those of the activity chosen (a Freshsales call's are
        not a meeting's)."""
        activity = self.text_of(ACTIVITY) or (self.form.specs[0].choices[0].value)
        return [(inert(c.label), c.value) for c in spec.choices if c.group in (None, activity)]

    @on(Select.Changed, f"#field-{ACTIVITY}")
    def _activity_changed(self) -> None:
        self._refresh_outcomes()

    def _refresh_outcomes(self) -> None:
        for spec in self.specs:
            if spec.key == ACTIVITY or not any(c.group for c in spec.choices):
                continue
            found = self.query(f"#field-{spec.key}")
            select = found.first() if found else None
            if isinstance(select, Select):
                kept = self.text_of(spec.key)
                options = self._choices(spec)
                select.set_options(options)
                if kept in {value for _, value in options}:
                    select.value = kept

    async def check_field(self, key: str) -> bool:
        """Check one value as the service will (the activity it goes with)."""
        text = self.text_of(key)
        spec = next(s for s in self.specs if s.key == key)
        if not text and not spec.required:
            self._show_error(key, "")
            return True
        try:
            self.crm.calls.check(self.form, {ACTIVITY: self.text_of(ACTIVITY), key: text})
        except (FieldError, CrmError) as exc:
            self._show_error(key, str(exc))
            return False
        self._show_error(key, "")
        return True

    async def submit(self, texts: dict[str, str]) -> Change | None:
        """Queue the call (and its follow-up task): the create form's save does the rest."""
        self.logged = await self.crm.calls.log(self.form.ref, texts)
        return self.logged.change
