"""Search everything: every cached record of every profile, ranked, offline too."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from crmtui.model import RecordRef
from crmtui.service import Crm
from crmtui.text import inert
from crmtui.ui.widgets.inert_input import InertInput
from crmtui.ui.widgets.vim import VimOptionList

LABEL_LIMIT = 300  # characters of a result's title and summary


class SearchScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("down", "results", "Results", show=False),
    ]

    def __init__(self, crm: Crm) -> None:
        super().__init__()
        self.crm = crm
        self.refs: dict[str, RecordRef] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="search-dialog"):
            yield InertInput(
                placeholder="Search names, emails, companies, deals… (every profile)",
                id="search-input",
            )
            yield VimOptionList(id="search-results")
            yield Static("", id="search-facts", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        results = self.query_one(OptionList)
        results.clear_options()
        self.refs.clear()
        text = event.value.strip()
        if not text:
            self.query_one("#search-facts", Static).update("")
            return
        records = self.crm.search(text, limit=50)
        labels = {n: self.crm.vendor_label(n) for n in self.crm.profile_names}
        for i, record in enumerate(records):
            key = str(i)
            self.refs[key] = record.ref
            sub = f" — {record.subtitle[:LABEL_LIMIT]}" if record.subtitle else ""
            where = f"  [{labels.get(record.profile, record.profile)} · {record.kind}]"
            label = inert(f"{record.title}{sub}", limit=LABEL_LIMIT)
            results.add_option(Option(label.append_text(inert(where)), id=key))
        self.query_one("#search-facts", Static).update(
            f"{len(records)} result{'s' if len(records) != 1 else ''} · ↓ to choose · enter opens"
        )
        if records:
            results.highlighted = 0

    @on(Input.Submitted)
    def _submitted(self) -> None:
        results = self.query_one(OptionList)
        if results.option_count:
            self._open(results.get_option_at_index(results.highlighted or 0).id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._open(event.option.id)

    def _open(self, key: str | None) -> None:
        ref = self.refs.get(key or "")
        if ref is not None:
            self.dismiss()
            self.app.open_record(ref)  # type: ignore[attr-defined]

    def action_results(self) -> None:
        self.query_one(OptionList).focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
