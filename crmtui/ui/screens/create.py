"""Create a record (`c`, and "New …" in the command palette): a task, a deal, a contact.

The form is made of the kind's declared fields (``Crm.fields``: those the vendor takes
in a create, ``FieldSpec.writable`` or ``on_create``), in the vendor's order and words,
the required ones marked. What a field is for comes from the kind's roles and
references, never from the vendor's name:

- a reference (``KindInfo.references``) is picked among the cached records of the kind
  it points at (type to search), the record you are on chosen when it is of that kind;
- the stage (``Role.STAGE``) offers the stages of the pipeline chosen (``Role.PIPELINE``,
  matched by the pipeline's value or label as ``Choice.group`` holds it);
- a choice or a user is picked from the vendor's choices; a flag is a checkbox;
  anything else is typed.

Each value is checked as it is left, by the service's own validation (``Crm.validate``
on the placeholder ``new``), and the error shows under its field; saving checks them
all again and queues the create through the outbox (``Crm.create``): the new record
shows in its list at once (italic, ``local:`` id) and takes the vendor's id once sent,
offline too. A refused save keeps the form as typed. A kind the vendor cannot create
is said so in its words (``refusal``), and no form opens.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Checkbox, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from crmtui.fields import FieldError
from crmtui.http import CrmError
from crmtui.model import Change, FieldSpec, FieldType, KindInfo, Record, RecordRef, Role
from crmtui.service import CacheWriteError, Crm
from crmtui.text import clean, inert
from crmtui.ui.widgets.footer import KeysFooter
from crmtui.ui.widgets.inert_input import InertInput

if TYPE_CHECKING:
    from textual.app import App

NEW = "new"  # the id ``Crm.validate`` checks a create's values under
PICKS = 500  # cached records offered for a reference (the record you are on always)
HINTS: dict[FieldType, str] = {
    FieldType.DATE: "YYYY-MM-DD",
    FieldType.DATETIME: "YYYY-MM-DD HH:MM (your time)",
    FieldType.NUMBER: "a number",
    FieldType.MONEY: "an amount",
    FieldType.MULTI_CHOICE: "values separated by commas",
}


@runtime_checkable
class CreatesRecords(Protocol):
    """A screen `c` creates from: its profile, and the record it is on (None: a list)."""

    def create_context(self) -> tuple[str, RecordRef | None]: ...


def refusal(crm: Crm, profile: str, info: KindInfo) -> str | None:
    """Why ``info``'s kind cannot be created, in the vendor's words (None: it can)."""
    if info.creatable:
        return None
    vendor = crm.vendor_label(profile)
    return f"{vendor} offers no way to create {info.label.lower()} from crmtui"


def formable(spec: FieldSpec) -> bool:
    """Whether a create may give ``spec``'s field."""
    return spec.writable or spec.on_create


def start_create(
    app: App[Any], crm: Crm, profile: str, info: KindInfo, on: RecordRef | None = None
) -> None:
    """Open the form of a new ``info`` record (the record ``on`` prefilled where a field
    refers to its kind), or say why the vendor cannot create one."""
    why = refusal(crm, profile, info)
    if why is not None:
        app.notify(why, severity="warning")
        return
    app.run_worker(_open_form(app, crm, profile, info, on), group="create", exit_on_error=False)


async def _open_form(
    app: App[Any], crm: Crm, profile: str, info: KindInfo, on: RecordRef | None
) -> None:
    try:
        specs = await crm.fields(profile, info.kind)
    except CrmError as exc:
        app.notify(str(exc), severity="error")
        return
    record = await crm.cached_async(on) if on is not None else None
    me = await crm.me(profile)  # the owner a new record starts with (asked once a run)
    targets = {info.references[s.key] for s in specs if formable(s) and s.key in info.references}
    for target in sorted(targets):
        if not crm.window(profile, target, offset=0, limit=1):  # something to pick from
            with contextlib.suppress(CrmError):
                await crm.refresh(profile, target)

    def done(change: Change | None) -> None:
        if change is not None:
            vendor = crm.vendor_label(profile)
            app.notify(f"New {info.singular.lower()} queued — sending to {vendor}", title="Created")

    await app.push_screen(CreateScreen(crm, profile, info, specs, on=record, me=me), done)


def choose_kind(app: App[Any], crm: Crm, profile: str, on: RecordRef | None) -> None:
    """`c` on a record: which kind to create, those that can refer to it first."""
    kinds = crm.cached_kinds(profile)
    if on is not None:
        kinds = sorted(kinds, key=lambda k: on.kind not in k.references.values())

    def chosen(kind: str | None) -> None:
        info = next((k for k in kinds if k.kind == kind), None)
        if info is not None:
            start_create(app, crm, profile, info, on)

    app.push_screen(KindChoice(crm, profile, kinds), chosen)


def create_commands(
    app: App[Any], crm: Crm, screen: object
) -> list[tuple[str, str, Callable[[], object]]]:
    """The palette's "New <kind>" entries on a screen of one profile: a kind the vendor
    cannot create says so (and its entry says it again when chosen)."""
    if not isinstance(screen, CreatesRecords):
        return []
    profile, on = screen.create_context()
    out: list[tuple[str, str, Callable[[], object]]] = []
    for info in crm.cached_kinds(profile):
        why = refusal(crm, profile, info)
        help_text = why or f"Create a {info.singular.lower()} in {crm.vendor_label(profile)}"

        def run(info: KindInfo = info) -> None:
            start_create(app, crm, profile, info, on)

        out.append((f"New {info.singular.lower()}", help_text, run))
    return out


class KindChoice(ModalScreen[str | None]):
    """Which kind of record to create."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    KindChoice > Vertical { width: 50; height: auto; max-height: 80%; border: round $accent;
        background: $surface; padding: 0 1; }
    KindChoice OptionList { height: auto; max-height: 20; }
    """

    def __init__(self, crm: Crm, profile: str, kinds: list[KindInfo]) -> None:
        super().__init__()
        self.crm = crm
        self.profile = profile
        self.kinds = kinds

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(inert(f"New — {self.crm.vendor_label(self.profile)}"))
            options = []
            for info in self.kinds:
                why = refusal(self.crm, self.profile, info)
                label = info.singular if why is None else f"{info.singular} — {why}"
                options.append(Option(inert(label), id=info.kind))
            yield OptionList(*options, id="create-kinds")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class CreateScreen(ModalScreen[Change | None]):
    """The form of a new record; dismissed with the queued create (None: cancelled)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Create"),
    ]
    DEFAULT_CSS = """
    CreateScreen > Vertical { width: 80; height: 90%; border: round $accent;
        background: $surface; padding: 0 1; }
    CreateScreen #create-fields { height: 1fr; }
    CreateScreen .create-label { margin-top: 1; }
    CreateScreen .create-error { color: $error; height: auto; }
    CreateScreen #create-problem { color: $error; height: auto; }
    """

    def __init__(
        self,
        crm: Crm,
        profile: str,
        info: KindInfo,
        specs: list[FieldSpec],
        *,
        on: Record | None = None,
        me: str | None = None,
    ) -> None:
        super().__init__()
        self.crm = crm
        self.profile = profile
        self.info = info
        self.specs = [s for s in specs if formable(s)]
        self.from_record = on
        self.me = me  # the signed-in user's id: the owner's first value
        self.errors: dict[str, str] = {}

    @property
    def new_ref(self) -> RecordRef:
        return RecordRef(profile=self.profile, kind=self.info.kind, id=NEW)

    # -- the form ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        vendor = self.crm.vendor_label(self.profile)
        with Vertical():
            yield Static(inert(f"New {self.info.singular} — {vendor}"), id="create-title")
            if self.from_record is not None:
                yield Static(inert(f"From: {self.from_record.title}"), id="create-from")
            with VerticalScroll(id="create-fields"):
                for spec in self.specs:
                    mark = " *" if spec.required else ""
                    yield Static(inert(f"{spec.label}{mark}"), classes="create-label")
                    yield self._widget(spec)
                    yield Static("", id=f"error-{_css(spec.key)}", classes="create-error")
            yield Static("", id="create-problem")
            yield KeysFooter()

    def _widget(self, spec: FieldSpec) -> Widget:
        wid = f"field-{_css(spec.key)}"
        target = self.info.references.get(spec.key)
        if target is not None:
            picks = self._picks(target)
            on = (
                self.from_record.id
                if self.from_record is not None and self.from_record.kind == target
                else None
            )
            chosen = on if on in {value for _, value in picks} else Select.NULL
            return Select(picks, prompt="(none)", value=chosen, id=wid)
        if spec.type is FieldType.BOOL:
            return Checkbox(id=wid)
        if spec.choices and spec.type in (FieldType.CHOICE, FieldType.USER):
            return Select(self._choices(spec), prompt="(none)", value=self._default(spec), id=wid)
        hint = HINTS.get(spec.type, "")
        if spec.type is FieldType.MONEY:
            currency = self.info.role(Role.CURRENCY)
            hint = f"an amount{' (in the currency chosen)' if currency else ''}"
        return InertInput(placeholder=hint, id=wid)

    def _picks(self, kind: str) -> list[tuple[Any, str]]:
        """The cached records of ``kind``, by title, the record you are on first."""
        records = self.crm.window(self.profile, kind, offset=0, limit=PICKS)
        if self.from_record is not None and self.from_record.kind == kind:
            records = [self.from_record, *(r for r in records if r.id != self.from_record.id)]
        return [(inert(r.title or r.id), r.id) for r in records if not r.id.startswith("local:")]

    def _choices(self, spec: FieldSpec) -> list[tuple[Any, str]]:
        """A choice field's options; a stage's those of the pipeline chosen (all, with
        their pipeline's name, when the form has no pipeline)."""
        choices = spec.choices
        if spec.key == self.info.role(Role.STAGE):
            pipe = self.info.role(Role.PIPELINE)
            pipe_spec = next((s for s in self.specs if s.key == pipe), None)
            if pipe_spec is not None:
                chosen = self.text_of(pipe_spec.key) or _first(pipe_spec)
                group = {chosen, pipe_spec.choice_label(chosen) or chosen} if chosen else set()
                choices = [c for c in choices if c.group is None or c.group in group]
            else:
                return [(inert(_grouped(c.group, c.label)), c.value) for c in choices]
        return [(inert(c.label), c.value) for c in choices]

    def _default(self, spec: FieldSpec) -> Any:
        """The pipeline starts on the first one (its stages offered), the owner on you;
        others on none."""
        if spec.key == self.info.role(Role.PIPELINE) and spec.choices:
            return _first(spec)
        if spec.key == self.info.role(Role.OWNER) and spec.choice(self.me) is not None:
            return self.me
        return Select.NULL

    def on_mount(self) -> None:
        for widget in self.query("#create-fields > Input, #create-fields > Select"):
            widget.focus()
            break

    # -- values -----------------------------------------------------------------------

    def text_of(self, key: str) -> str:
        """What the form holds for ``key`` as the user's text ("" when nothing)."""
        found = self.query(f"#field-{_css(key)}")
        if not found:
            return ""
        widget = found.first()
        if isinstance(widget, Select):
            value = widget.value
            return "" if value is Select.NULL or value is None else str(value)
        if isinstance(widget, Checkbox):
            return "yes" if widget.value else ""
        if isinstance(widget, Input):
            return widget.value.strip()
        return ""

    def texts(self) -> dict[str, str]:
        """The values to create with: every one given, and the required ones (empty:
        the validation says they are required)."""
        out = {}
        for spec in self.specs:
            text = self.text_of(spec.key)
            if text or spec.required:
                out[spec.key] = text
        return out

    def _checked_with(self, key: str) -> dict[str, str]:
        """The values a field is checked with: the currency and pipeline it will have."""
        keys = [self.info.role(Role.CURRENCY), self.info.role(Role.PIPELINE)]
        return {k: self.text_of(k) for k in keys if k and k != key and self.text_of(k)}

    async def check_field(self, key: str) -> bool:
        """Check one field as the service would; its error under it. True: it passes."""
        spec = next(s for s in self.specs if s.key == key)
        text = self.text_of(key)
        if not text and not spec.required:
            self._show_error(key, "")
            return True
        try:
            await self.crm.validate(self.new_ref, {**self._checked_with(key), key: text})
        except FieldError as exc:
            self._show_error(key, str(exc))
            return False
        except CrmError as exc:
            self._show_error(key, str(exc))
            return False
        self._show_error(key, "")
        return True

    def _show_error(self, key: str, text: str) -> None:
        if text:
            self.errors[key] = text
        else:
            self.errors.pop(key, None)
        with contextlib.suppress(Exception):
            self.query_one(f"#error-{_css(key)}", Static).update(inert(text))

    @on(Input.Blurred)
    def _left(self, event: Input.Blurred) -> None:
        key = self._key_of(event.input)
        if key is not None:
            self.run_check(key)

    @on(Select.Changed)
    def _picked(self, event: Select.Changed) -> None:
        key = self._key_of(event.select)
        if key is None:
            return
        if key == self.info.role(Role.PIPELINE):
            self._refresh_stages()
        self.run_check(key)

    def _refresh_stages(self) -> None:
        stage = self.info.role(Role.STAGE)
        spec = next((s for s in self.specs if s.key == stage), None)
        found = self.query(f"#field-{_css(stage)}") if stage else None
        if spec is None or not found:
            return
        select = found.first()
        if isinstance(select, Select):
            kept = self.text_of(spec.key)
            options = self._choices(spec)
            select.set_options(options)
            if kept in {value for _, value in options}:
                select.value = kept

    def _key_of(self, widget: Widget) -> str | None:
        wid = widget.id or ""
        return next(
            (s.key for s in self.specs if wid == f"field-{_css(s.key)}"),
            None,
        )

    @work(group="check", exit_on_error=False)
    async def run_check(self, key: str) -> None:
        await self.check_field(key)

    # -- saving -----------------------------------------------------------------------

    async def action_save(self) -> None:
        problem = self.query_one("#create-problem", Static)
        problem.update("")
        texts = self.texts()
        passed = [await self.check_field(key) for key in texts]
        if not all(passed):
            problem.update(inert(f"{len(self.errors)} to fix: nothing was queued"))
            self._focus_first_error()
            return
        try:
            change = await self.submit(texts)
        except (FieldError, CrmError, CacheWriteError) as exc:
            problem.update(inert(f"⚠ {exc}"))  # the form stays as typed
            return
        self.dismiss(change)

    async def submit(self, texts: dict[str, str]) -> Change | None:
        """Queue the checked form (a create; the log-a-call form queues its call)."""
        return await self.crm.create(self.profile, self.info.kind, texts)

    def _focus_first_error(self) -> None:
        for spec in self.specs:
            if spec.key in self.errors:
                found = self.query(f"#field-{_css(spec.key)}")
                if found:
                    found.first().focus()
                return

    def action_cancel(self) -> None:
        self.dismiss(None)


def _css(key: str) -> str:
    """A field key as a widget id (vendor keys may hold dots or colons)."""
    return "".join(c if c.isalnum() or c in "-_" else f"_{ord(c):x}_" for c in key)


def _grouped(group: str | None, label: str) -> str:
    return f"{clean(group)} — {label}" if group else label


def _first(spec: FieldSpec) -> str:
    return spec.choices[0].value if spec.choices else ""
