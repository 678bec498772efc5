"""Pick a record for a reference field (an account, a contact, a deal…), or a user for an
owner, by name.

Search as you type, offline: a record kind's cached records (with nothing typed, the
first cached records in title order; each keystroke searches in a thread, the newest
search winning), or the vendor's users as the field's cached choices hold them (matched
by name or email, ``match_users``). ``enter`` (or a click) picks the highlighted one,
``escape`` keeps the field as it was. ``ReferencePicker``'s result is the picked
``RelatedRef`` (its id is what an edit queues), or None.

A field holding several records (``MultiReferencePicker``): the records it holds are
marked at first; ``space`` in the list marks or unmarks the highlighted one, ``enter``
confirms the marked ones (in the order marked), ``escape`` keeps the field. Its result
is the list of marked ``RelatedRef`` s, or None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from crmtui.model import Choice, RelatedRef
from crmtui.service import Crm
from crmtui.service.references import match_users, not_cached
from crmtui.text import inert
from crmtui.ui.widgets.inert_input import InertInput
from crmtui.ui.widgets.vim import VimOptionList

SHOWN = 50  # records listed at most (type more to narrow them)
LABEL_LIMIT = 200  # characters of a record's title and subtitle
USER_KIND = "user"  # the kind a picked user's ``RelatedRef`` names

ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class Found:
    """One record (or user) listed: what a pick gives and what the line shows."""

    kind: str
    id: str
    title: str
    subtitle: str = ""

    @property
    def ref(self) -> RelatedRef:
        return RelatedRef(kind=self.kind, id=self.id, title=self.title)


def user_found(choice: Choice) -> Found:
    """A user choice as a listed line: its name, then its email and role."""
    sub = " · ".join(p for p in (choice.email, choice.role) if p)
    return Found(USER_KIND, choice.value, choice.label, sub)


class _Picker(ModalScreen[ResultT], Generic[ResultT]):
    """The search box and the results, for ``kind`` in ``profile`` (or ``users``)."""

    DEFAULT_CSS = """
    _Picker { align: center middle; }
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

    def __init__(
        self,
        crm: Crm,
        profile: str,
        kind: str,
        label: str,
        current: str = "",
        *,
        users: Sequence[Choice] | None = None,
        among: Sequence[RelatedRef] | None = None,
    ) -> None:
        super().__init__()
        self.crm, self.profile, self.kind, self.label = crm, profile, kind, label
        self.current = current  # the id the field holds now: highlighted when listed
        self.users = list(users) if users is not None else None  # a user field's choices
        self.among = list(among) if among is not None else None  # only these (to open one)
        self.found: list[Found] = []
        self.generation = 0  # of the text typed: an older search's results are dropped
        self.shown = -1  # the generation whose results are shown
        self.pick_when_shown = False  # enter came before the latest results

    def tab(self) -> str:
        """The kind's tab name ("Accounts"): what the picker lists, in its words."""
        info = self.crm.kind_info(self.profile, self.kind)
        return info.label if info else self.kind

    def heading(self) -> str:
        if self.among is not None:
            return self.label
        if self.users is not None:
            return f"{self.label}: pick one of the users"
        return f"{self.label}: pick one of the cached {self.tab().lower()}"

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-dialog"):
            yield Static(inert(self.heading()), classes="screen-title")
            yield Static("", id="picker-marked", classes="hint")
            yield InertInput(placeholder=self.placeholder(), id="picker-input")
            yield VimOptionList(id="picker-results")
            yield Static("", id="picker-facts", classes="hint")

    def placeholder(self) -> str:
        return "type a name or an email" if self.users is not None else "type to search by name"

    def on_mount(self) -> None:
        self.query_one("#picker-marked", Static).display = False
        self.query_one(Input).focus()
        self._search(self.generation, "")

    @on(Input.Changed, "#picker-input")
    def _changed(self, event: Input.Changed) -> None:
        self.generation += 1
        self._search(self.generation, event.value.strip())

    def _search(self, generation: int, text: str) -> None:
        if self.users is not None:  # the users are at hand: no thread
            self._show(generation, [user_found(c) for c in match_users(self.users, text, SHOWN)])
        elif self.among is not None:
            wanted = text.casefold()
            among = [r for r in self.among if wanted in (r.title or r.id).casefold()]
            self._show(
                generation, [Found(r.kind, r.id, r.title or not_cached(r.id)) for r in among]
            )
        else:
            self._search_cache(generation, text)

    @work(thread=True, exclusive=True, group="pick", exit_on_error=False)
    def _search_cache(self, generation: int, text: str) -> None:
        """The cache's records of the kind matching ``text`` (all of them, by title, when
        empty), read off the event loop; shown if still wanted."""
        if generation != self.generation:
            return
        if text:
            records = self.crm.search(text, limit=SHOWN, profiles=[self.profile], kinds=[self.kind])
        else:
            records = self.crm.window(self.profile, self.kind, offset=0, limit=SHOWN)
        found = [Found(r.kind, r.id, r.title, r.subtitle) for r in records]
        if generation == self.generation:
            self.app.call_from_thread(self._show, generation, found)

    def line(self, found: Found) -> str:
        sub = f" — {found.subtitle}" if found.subtitle else ""
        return f"{found.title}{sub}"

    def _show(self, generation: int, found: list[Found]) -> None:
        if generation != self.generation:
            return
        self.shown, self.found = generation, found
        results = self.query_one(OptionList)
        highlighted = results.highlighted
        results.clear_options()
        for i, one in enumerate(found):
            results.add_option(Option(inert(self.line(one), limit=LABEL_LIMIT), id=str(i)))
        ids = [f.id for f in found]
        if found:
            results.highlighted = ids.index(self.current) if self.current in ids else 0
            if highlighted is not None and self.keep_highlight():
                results.highlighted = min(highlighted, len(found) - 1)
        self.query_one("#picker-facts", Static).update(inert(self.facts()))
        if self.pick_when_shown:
            self.pick_when_shown = False
            self._pick(results.highlighted)

    def keep_highlight(self) -> bool:
        """Whether a redraw of the same results keeps the highlighted line."""
        return False

    def facts(self) -> str:
        typed = self.query_one(Input).value.strip()
        if self.found:
            return f"{len(self.found)} found · ↓ to choose · enter picks · escape keeps the field"
        if self.users is not None:
            if typed:
                return f"No user matches {typed!r}"
            return "No user known yet; a refresh (r) reads the vendor's users"
        tab = self.tab()
        if typed:
            return f"No cached {tab.lower()} match {typed!r}: open the {tab} tab (or sync) to read more"
        return f"No {tab.lower()} cached yet: open the {tab} tab (or sync) to read them"

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
        raise NotImplementedError

    def action_results(self) -> None:
        self.query_one(OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReferencePicker(_Picker[RelatedRef | None]):
    """Choose one record of ``kind`` in ``profile`` (or one of ``users``) for the field
    ``label``."""

    DEFAULT_CSS = _Picker.DEFAULT_CSS.replace("_Picker {", "ReferencePicker {")

    def _pick(self, index: int | None) -> None:
        if index is None or not 0 <= index < len(self.found):
            return
        self.dismiss(self.found[index].ref)


class MultiReferencePicker(_Picker[list[RelatedRef] | None]):
    """Choose several records of ``kind`` for the field ``label``; ``chosen``: those it
    holds now (marked at first, in their order)."""

    DEFAULT_CSS = _Picker.DEFAULT_CSS.replace("_Picker {", "MultiReferencePicker {")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "mark", "Mark", show=False),
    ]

    def __init__(
        self,
        crm: Crm,
        profile: str,
        kind: str,
        label: str,
        chosen: Sequence[RelatedRef] = (),
        *,
        users: Sequence[Choice] | None = None,
    ) -> None:
        super().__init__(crm, profile, kind, label, users=users)
        self.marked: dict[str, RelatedRef] = {r.id: r for r in chosen}

    def heading(self) -> str:
        if self.users is not None:
            return f"{self.label}: mark the users it holds"
        return f"{self.label}: mark the cached {self.tab().lower()} it holds"

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#picker-marked", Static).display = True
        self._show_marked()

    def line(self, found: Found) -> str:
        box = "[x]" if found.id in self.marked else "[ ]"
        return f"{box} {super().line(found)}"

    def keep_highlight(self) -> bool:
        return self.shown == self.generation and bool(self.found)

    def facts(self) -> str:
        if self.found:
            return (
                f"{len(self.found)} found · ↓ to choose · space marks or unmarks · "
                "enter keeps the marked ones · escape keeps the field"
            )
        return super().facts()

    def _show_marked(self) -> None:
        names = ", ".join(r.title or not_cached(r.id) for r in self.marked.values())
        text = f"Marked ({len(self.marked)}): {names}" if self.marked else "None marked"
        self.query_one("#picker-marked", Static).update(inert(text, limit=LABEL_LIMIT))

    def action_mark(self) -> None:
        """space: mark the highlighted record, or unmark it."""
        results = self.query_one(OptionList)
        index = results.highlighted
        if index is None or not 0 <= index < len(self.found):
            return
        found = self.found[index]
        if found.id in self.marked:
            del self.marked[found.id]
        else:
            self.marked[found.id] = found.ref
        self._show_marked()
        self._show(self.generation, self.found)  # the boxes redrawn, the line kept

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "mark":  # typed into the box, a space is a space
            return not isinstance(self.focused, Input)
        return True

    def _pick(self, index: int | None) -> None:
        """enter: the marked records (whatever is highlighted)."""
        self.dismiss(list(self.marked.values()))
