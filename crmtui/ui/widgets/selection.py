"""Marking rows of a list for a bulk edit (issue 17.4).

On a list: ``space`` marks the row under the cursor (or unmarks it) and moves down,
``V`` marks every row from the last one marked to the cursor, ``A`` marks every row the
list matches (its search, view and filters; the vendor's pages read to the end first,
as ``G`` reads them), or none when they all are; ``e`` sets a field
on the marked rows (the row under the cursor when none is marked) through the bulk
edit's preview (``crmtui.ui.screens.bulk``). A marked row starts with ``MARK`` and is
drawn in the table's ``record-table--selected`` style (bold), so the mark never rests on
colour alone.

The marks are record ids, so they survive a re-sort, a reload and a search; a confirmed
bulk edit clears them. The preview names the marked records the list no longer shows
(marked before a search or a filter), so none is edited unseen.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual.binding import Binding, BindingType

from crmtui.model import KindInfo, Record

if TYPE_CHECKING:
    from textual.app import App
    from textual.widget import Widget

    from crmtui.service import Crm
    from crmtui.ui.widgets.record_table import RecordTable

    _Node = Widget  # the mixin's methods run on a list widget
else:
    _Node = object

MARK = "●"  # a marked row's first cell

SELECT_BINDINGS: list[BindingType] = [
    Binding("space", "mark_row", "Mark row", show=False, id="mark_row"),
    Binding("V", "mark_range", "Mark range", show=False, id="mark_range"),
    Binding("A", "mark_all", "Mark all shown", show=False, id="mark_all"),
    Binding("e", "bulk_edit", "Edit marked", show=False, id="bulk_edit"),
]


def marked_text(text: str) -> str:
    """A row's text with the mark in its first cell (the row's leading space)."""
    return MARK + text[1:] if text else MARK


class Selection:
    """The ids of the marked rows of one list, in the order they were marked, and the
    row last marked (where ``V`` starts)."""

    def __init__(self) -> None:
        self._ids: dict[str, None] = {}
        self.anchor: int | None = None  # the row index last marked

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, id: object) -> bool:
        return id in self._ids

    @property
    def ids(self) -> list[str]:
        return list(self._ids)

    def holds(self, record: Record) -> bool:
        return record.id in self._ids

    def toggle(self, id: str, index: int) -> bool:
        """Mark ``id`` (the row at ``index``) or unmark it; whether it is marked now."""
        if id in self._ids:
            del self._ids[id]
            return False
        self._ids[id] = None
        self.anchor = index
        return True

    def add(self, ids: list[str]) -> None:
        self._ids.update(dict.fromkeys(ids))

    def clear(self) -> None:
        self._ids.clear()
        self.anchor = None


class Selecting(_Node):
    """What a list (``KindView``) needs to mark rows and bulk-edit them: its ``table``,
    ``crm``, ``profile``, ``info`` and ``shown_rows``. ``watch_marks`` once mounted."""

    selection: Selection
    crm: Crm
    profile: str
    info: KindInfo

    if TYPE_CHECKING:

        @property
        def table(self) -> RecordTable: ...

    def shown_rows(self) -> list[Record]:
        """Every row the list shows now (``A``)."""
        raise NotImplementedError

    async def read_all_rows(self) -> bool:
        """Read the rows the list matches but has not read yet (``A`` marks them all);
        False when some could not be read."""
        return True

    @property
    def problem(self) -> str:
        """Why the last rows could not be read ("" when they were)."""
        return ""

    def watch_marks(self) -> None:
        """Draw the marks in the table (call once the table is mounted)."""
        self.selection = getattr(self, "selection", None) or Selection()
        self.table.marked = self.selection.holds

    def marks_fact(self) -> str:
        """For the list's facts line: ``3 marked (e edits them)``, or ""."""
        count = len(getattr(self, "selection", ()))
        return f"{count:,} marked (e edits them)" if count else ""

    def _marks_changed(self) -> None:
        self.table.marks_changed()
        self.marks_shown()

    def marks_shown(self) -> None:
        """Show the new count (the list's facts line)."""

    def action_mark_row(self) -> None:
        table = self.table
        record = table.current
        if record is None:
            return
        self.selection.toggle(record.id, table.cursor)
        self._marks_changed()
        table.action_move(1)

    def action_mark_range(self) -> None:
        table = self.table
        start = self.selection.anchor
        if start is None or start >= table.row_count:
            start = table.cursor
        low, high = sorted((start, table.cursor))
        records = [table.record_at(i) for i in range(low, high + 1)]
        self.selection.add([r.id for r in records if r is not None])
        self.selection.anchor = table.cursor
        self._marks_changed()

    def action_mark_all(self) -> None:
        self.run_worker(self._mark_all(), group="mark-all", exclusive=True, exit_on_error=False)

    async def _mark_all(self) -> None:
        """Every row the list matches, read to its end first (not only the rows read so
        far: "all" of a 300-row list is 300); the marks go when they all are."""
        label = self.info.label.lower()
        complete = await self.read_all_rows()
        # in a thread: a list of a million cached rows takes a while to read
        ids = [record.id for record in await asyncio.to_thread(self.shown_rows)]
        if not ids:
            self.app.notify("This list shows no row to mark")
            return
        if all(id in self.selection for id in ids):
            self.selection.clear()
            self.app.notify("No row marked")
        else:
            self.selection.add(ids)
            line = f"Marked all {len(ids):,} {label} this list shows (A again unmarks them)"
            if not complete:
                why = f": {self.problem}" if self.problem else ""
                line = (
                    f"Marked the {len(ids):,} {label} read so far: the rest of the list "
                    f"could not be read{why}"
                )
            self.app.notify(line, severity="information" if complete else "warning")
        self._marks_changed()

    def action_bulk_edit(self) -> None:
        """Set a field on the marked rows (the row under the cursor when none is)."""
        from crmtui.ui.screens.bulk import BulkEditScreen

        ids = self.selection.ids
        if not ids and (record := self.table.current) is not None:
            ids = [record.id]
        if not ids:
            self.app.notify("Mark rows first: space, V for a range, A for all shown")
            return

        def done(applied: bool | None) -> None:
            if applied:
                self.selection.clear()
                self._marks_changed()

        screen = BulkEditScreen(self.crm, self.profile, self.info, ids, shown=self.shown_rows)
        self.app.push_screen(screen, done)


def bulk_edit_here(app: App[Any]) -> None:
    """The palette's "Bulk edit…": on the focused list, else say where it works."""
    focused = app.screen.focused
    chain = [*focused.ancestors_with_self] if focused is not None else []
    target = next((node for node in chain if isinstance(node, Selecting)), None)
    if target is None:
        app.notify("Bulk edit works on a list: open one, mark rows (space, V, A), press e")
        return
    target.action_bulk_edit()
