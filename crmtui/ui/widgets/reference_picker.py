"""Pick a record for a reference field (an account, a contact, a deal…), by name.

Search as you type over the cache's records of the field's target kind (works offline):
with nothing typed, the first cached records in title order; each keystroke searches in a
thread, the newest search winning. ``enter`` (or a click) picks the highlighted record,
``escape`` keeps the field as it was. The screen's result is the picked record's
``RelatedRef`` (its id is what an edit queues), or None.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from crmtui.model import Record, RelatedRef
from crmtui.service import Crm
from crmtui.text import inert
from crmtui.ui.widgets.inert_input import InertInput
from crmtui.ui.widgets.vim import VimOptionList

SHOWN = 50  # records listed at most (type more to narrow them)
LABEL_LIMIT = 200  # characters of a record's title and subtitle


class ReferencePicker(ModalScreen[RelatedRef | None]):
    """Choose a record of ``kind`` in ``profile`` for the field ``label``."""

    DEFAULT_CSS = """
    ReferencePicker { align: center middle; }
    #picker-dialog {
        width: 80; max-width: 100%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    #picker-results { height: auto; max-height: 20; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "results", "Results", show=False),
    ]

    def __init__(self, crm: Crm, profile: str, kind: str, label: str, current: str = "") -> None:
        super().__init__()
        self.crm, self.profile, self.kind, self.label = crm, profile, kind, label
        self.current = current  # the id the field holds now: highlighted when listed
        self.found: list[Record] = []
        self.generation = 0  # of the text typed: an older search's results are dropped
        self.shown = -1  # the generation whose results are shown
        self.pick_when_shown = False  # enter came before the latest results

    def compose(self) -> ComposeResult:
        info = self.crm.kind_info(self.profile, self.kind)
        plural = (info.label if info else self.kind).lower()
        with Vertical(id="picker-dialog"):
            yield Static(
                inert(f"{self.label}: pick one of the cached {plural}"), classes="screen-title"
            )
            yield InertInput(placeholder="type to search by name", id="picker-input")
            yield VimOptionList(id="picker-results")
            yield Static("", id="picker-facts", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._search(self.generation, "")

    @on(Input.Changed, "#picker-input")
    def _changed(self, event: Input.Changed) -> None:
        self.generation += 1
        self._search(self.generation, event.value.strip())

    @work(thread=True, exclusive=True, group="pick", exit_on_error=False)
    def _search(self, generation: int, text: str) -> None:
        """The cache's records of the kind matching ``text`` (all of them, by title, when
        empty), read off the event loop; shown if still wanted."""
        if generation != self.generation:
            return
        if text:
            records = self.crm.search(text, limit=SHOWN, profiles=[self.profile], kinds=[self.kind])
        else:
            records = self.crm.window(self.profile, self.kind, offset=0, limit=SHOWN)
        if generation == self.generation:
            self.app.call_from_thread(self._show, generation, records)

    def _show(self, generation: int, records: list[Record]) -> None:
        if generation != self.generation:
            return
        self.shown, self.found = generation, records
        results = self.query_one(OptionList)
        results.clear_options()
        for i, record in enumerate(records):
            sub = f" — {record.subtitle}" if record.subtitle else ""
            results.add_option(Option(inert(f"{record.title}{sub}", limit=LABEL_LIMIT), id=str(i)))
        ids = [r.id for r in records]
        if records:
            results.highlighted = ids.index(self.current) if self.current in ids else 0
        typed = self.query_one(Input).value.strip()
        facts = (
            f"{len(records)} found · ↓ to choose · enter picks · escape keeps the field"
            if records
            else f"No cached record matches {typed!r}; a sync brings the vendor's"
            if typed
            else "Nothing of this kind is cached yet; open its tab to read it"
        )
        self.query_one("#picker-facts", Static).update(inert(facts))
        if self.pick_when_shown:
            self.pick_when_shown = False
            self._pick(results.highlighted)

    @on(Input.Submitted, "#picker-input")
    def _submitted(self) -> None:
        if self.shown != self.generation:  # the results of what was typed are on the way
            self.pick_when_shown = True
            return
        self._pick(self.query_one(OptionList).highlighted)

    @on(OptionList.OptionSelected, "#picker-results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(event.option_index)

    def _pick(self, index: int | None) -> None:
        if index is None or not 0 <= index < len(self.found):
            return
        record = self.found[index]
        self.dismiss(RelatedRef(kind=record.kind, id=record.id, title=record.title))

    def action_results(self) -> None:
        self.query_one(OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
