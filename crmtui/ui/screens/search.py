"""Search everything: every cached record of every profile, ranked, offline too.

Each change of the text starts a search in a thread (one worker, the newer cancelling the
older): typing never waits for the cache, and results arrive for the text as it is now.
Results of a text that has changed since are dropped (a generation count), so a slow
search for "a" never lands over the results of "acme". Enter typed before the results of
the latest text arrived opens the first of those once they do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from crmtui.model import Record, RecordRef
from crmtui.service import Crm
from crmtui.text import inert
from crmtui.ui.widgets.inert_input import InertInput
from crmtui.ui.widgets.vim import VimOptionList

if TYPE_CHECKING:
    from crmtui.ui.app import CrmApp

LABEL_LIMIT = 300  # characters of a result's title and summary


def kind_name(crm: Crm, profile: str, kind: str) -> str:
    """A kind as its vendor names one record of it ("Sales Account", a SalesforceIQ
    list's own name), never the app's key for it (``list:6773f5e0…``)."""
    info = crm.kind_info(profile, kind)
    return info.singular if info is not None else kind.replace("_", " ")


class SearchScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("down", "results", "Results", show=False),
    ]

    def __init__(self, crm: Crm) -> None:
        super().__init__()
        self.crm = crm
        self.refs: dict[str, RecordRef] = {}  # the results shown, by option id, in order
        self.generation = 0  # of the text typed: a search of an older one is dropped
        self.shown = 0  # the generation whose results are shown
        self.open_when_shown = False  # enter came before the latest results

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
        self.generation += 1
        text = event.value.strip()
        if not text:
            self.workers.cancel_group(self, "search")
            self._show(self.generation, [])
            return
        self._search(self.generation, text)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, generation: int, text: str) -> None:
        """Search the cache off the event loop; the results are shown if still wanted."""
        if generation != self.generation:  # typed on while this waited for a thread
            return
        records = self.crm.search(text, limit=50)
        if generation == self.generation:  # else a newer text's search is under way
            self.app.call_from_thread(self._show, generation, records)

    def _show(self, generation: int, records: list[Record]) -> None:
        if generation != self.generation:  # typed on since: this text is gone
            return
        self.shown = generation
        results = self.query_one(OptionList)
        results.clear_options()
        self.refs.clear()
        facts = self.query_one("#search-facts", Static)
        if not self.query_one(Input).value.strip():
            facts.update("")
            return
        labels = {n: self.crm.vendor_label(n) for n in self.crm.profile_names}
        for i, record in enumerate(records):
            key = str(i)
            self.refs[key] = record.ref
            sub = f" — {record.subtitle[:LABEL_LIMIT]}" if record.subtitle else ""
            named = kind_name(self.crm, record.profile, record.kind)
            where = f"  [{labels.get(record.profile, record.profile)} · {named}]"
            label = inert(f"{record.title}{sub}", limit=LABEL_LIMIT)
            results.add_option(Option(label.append_text(inert(where)), id=key))
        facts.update(
            f"{len(records)} result{'s' if len(records) != 1 else ''} · ↓ to choose · enter opens"
        )
        if records:
            results.highlighted = 0
        if self.open_when_shown:
            self.open_when_shown = False
            self._submitted()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        if self.shown != self.generation:  # the results of what was typed are on the way
            self.open_when_shown = True
            return
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
            cast("CrmApp", self.app).open_record(ref)

    def action_results(self) -> None:
        self.query_one(OptionList).focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
