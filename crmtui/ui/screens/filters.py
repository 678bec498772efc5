"""The filter prompt of a list (`F`): one box per filter the vendor's list takes.

Choices complete as you type (tab accepts) and are checked before the list changes;
an empty box means "any". enter applies, ctrl+r clears every box, escape cancels.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Static

from crmtui.fields import FieldError, edit_text, validate
from crmtui.model import Choice, FieldSpec, FieldType, KindInfo
from crmtui.text import inert
from crmtui.ui.screens.board import group_field
from crmtui.ui.widgets.inert_input import InertInput

Filters = dict[str, str]


def filter_specs(info: KindInfo, specs: list[FieldSpec]) -> list[FieldSpec]:
    """The kind's filters with their choices (from the field of the same key).

    Choices whose labels repeat (a "Closing" stage in two pipelines) are told apart by
    their group's label.
    """
    by_key = {spec.key: spec for spec in specs}
    out = []
    for spec in info.filters:
        field = by_key.get(spec.key)
        choices = spec.choices or (field.choices if field else [])
        if field is not None:
            choices = _distinct(choices, group_field(specs, field))
        out.append(spec.model_copy(update={"choices": choices, "required": False}))
    return out


def _distinct(choices: list[Choice], groups: FieldSpec | None) -> list[Choice]:
    labels = [c.label for c in choices]
    out = []
    for choice in choices:
        if labels.count(choice.label) > 1 and groups is not None and choice.group:
            group = groups.choice_label(choice.group) or choice.group
            choice = choice.model_copy(update={"label": f"{choice.label} ({group})"})
        out.append(choice)
    return out


def filter_value(spec: FieldSpec, text: str) -> str | None:
    """The ``Query.filters`` text for what was typed; None for "any"."""
    if not text.strip():
        return None
    value = validate(spec, text)
    if spec.type is FieldType.BOOL:
        return "true" if value else "false"
    return None if value is None else str(value)


def describe(specs: list[FieldSpec], filters: Filters) -> str:
    """ "Status: Won · Value from: 1,000.00" for a list's heading."""
    by_key = {spec.key: spec for spec in specs}
    parts = []
    for key, value in filters.items():
        spec = by_key.get(key)
        shown = (spec.choice_label(value) if spec else None) or value
        if spec is not None and spec.type is FieldType.BOOL:
            shown = "yes" if value == "true" else "no"
        parts.append(f"{spec.label if spec else key}: {shown}")
    return " · ".join(parts)


class FilterScreen(ModalScreen[Filters | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+r", "clear", "Clear all"),
        Binding("ctrl+s", "apply", "Apply"),
    ]

    def __init__(self, title: str, specs: list[FieldSpec], current: Filters) -> None:
        super().__init__()
        self.title_text = title
        self.specs = specs
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="filter-dialog"):
            yield Static(inert(self.title_text), classes="screen-title")
            for spec in self.specs:
                yield self._row(spec)
            yield Static("", id="filter-error", classes="field-error")
            yield Static(
                "tab next box · enter applies · ctrl+r clears · escape cancels", classes="hint"
            )

    def _row(self, spec: FieldSpec) -> Horizontal:
        value = self.current.get(spec.key)
        text = ""
        if value is not None:
            text = spec.choice_label(value) or edit_text(spec, value)
            if spec.type is FieldType.BOOL:
                text = "yes" if value == "true" else "no"
        labels = [c.label for c in spec.choices]
        hint = {FieldType.BOOL: "yes or no", FieldType.MONEY: "an amount"}.get(spec.type, "any")
        editor = InertInput(  # the labels are vendor text: drawn inert
            text,
            placeholder=" · ".join(labels[:4]) + (" …" if len(labels) > 4 else "") or hint,
            suggester=SuggestFromList(labels, case_sensitive=False) if labels else None,
            id=f"filter-{spec.key}",
            classes="filter-input",
        )
        label = Label(inert(spec.label), classes="field-label")
        return Horizontal(label, editor, classes="filter-row")

    def on_mount(self) -> None:
        inputs = list(self.query(".filter-input").results(Input))
        if inputs:
            inputs[0].focus()

    def chosen(self) -> Filters:
        """The filters typed so far (``FieldError`` naming the first bad box)."""
        out: Filters = {}
        for spec in self.specs:
            value = filter_value(spec, self.query_one(f"#filter-{spec.key}", Input).value)
            if value is not None:
                out[spec.key] = value
        return out

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_apply()

    def action_apply(self) -> None:
        try:
            filters = self.chosen()
        except FieldError as exc:
            self.query_one("#filter-error", Static).update(inert(f"⚠ {exc}"))
            return
        self.dismiss(filters)

    def action_clear(self) -> None:
        for editor in self.query(".filter-input").results(Input):
            editor.value = ""

    def action_cancel(self) -> None:
        self.dismiss(None)
