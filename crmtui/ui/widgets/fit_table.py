"""A ``DataTable`` whose columns fit the screen, as the record lists' do.

The screens' small tables (My day, home, outbox, recent changes, request log, a
conflict) add rows as before; this table keeps each row's cells as given and draws them
at widths from ``record_table.column_widths``: each column as wide as its content (capped
at ``CAP``, its label whole when there is room), the widest giving way first on a narrow
screen (dates and amounts last), every cut ending in "…", and no horizontal scrollbar. It
re-fits when its width changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text, TextType
from textual import events
from textual.widgets.data_table import ColumnKey, RowKey

from crmtui.model import FieldSpec, FieldType
from crmtui.ui.widgets.record_table import CAP, FLOOR, Column, by_content, column_widths, fit, flat
from crmtui.ui.widgets.vim import CellType, VimDataTable


def fit_cell(cell: object, width: int) -> object:
    """A cell at most ``width`` cells wide: as it is when it fits, else its text cut with
    "…" (on one line, in the cell's style)."""
    text = Text.from_markup(cell) if isinstance(cell, str) else cell  # as DataTable reads it
    if not isinstance(text, Text):
        return cell
    plain = text.plain
    if flat(plain, width) == plain and cell_len(plain) <= width:
        return cell
    return Text(fit(plain, width).rstrip(), style=text.style, end="")


def _plain(cell: object) -> str:
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return cell.plain if isinstance(cell, Text) else str(cell)


class FitTable(VimDataTable[CellType]):
    """A row-cursor ``DataTable`` fitted to its width (see the module)."""

    DEFAULT_CSS: ClassVar[str] = """
    FitTable { overflow-x: hidden; scrollbar-size-vertical: 0; }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fit_columns: list[tuple[ColumnKey, Column]] = []
        self._raw: list[tuple[tuple[object, ...], RowKey, TextType | None]] = []
        self._fitting = False
        self._pending = False
        self._version = 0  # bumped when rows or columns change
        self._fitted = (-1, -1)  # the (width, version) drawn: a resize of height alone, none

    def given(self, row_key: RowKey) -> list[str]:
        """A row's cells as they were added (their text, uncut), by its key."""
        return next([_plain(c) for c in row] for row, key, _ in self._raw if key == row_key)

    def fit_like(self, *, name: str | None = None, whole: Iterable[str] = ()) -> None:
        """Say which column (by label) holds the rows' names (it keeps more width than
        the others) and which are cut only when nothing else can give (dates, amounts,
        short names: a cut date is no date)."""
        kept = set(whole)
        self._fit_columns = [
            (
                key,
                Column(
                    key="title" if column.label == name else column.label,
                    label=column.label,
                    spec=(
                        FieldSpec(key=column.label, label=column.label, type=FieldType.DATE)
                        if column.label in kept
                        else None
                    ),
                ),
            )
            for key, column in self._fit_columns
        ]
        self._version += 1
        self._later()

    def add_column(
        self,
        label: TextType,
        *,
        width: int | None = None,
        key: str | None = None,
        default: CellType | None = None,
    ) -> ColumnKey:
        column_key = super().add_column(label, width=width, key=key, default=default)
        text = _plain(label)
        self._fit_columns.append((column_key, Column(key=text, label=text, width=width or 0)))
        self._version += 1
        return column_key

    def add_row(
        self,
        *cells: CellType,
        height: int | None = 1,
        key: str | None = None,
        label: TextType | None = None,
    ) -> RowKey:
        row_key = super().add_row(*cells, height=height, key=key, label=label)
        if not self._fitting:
            self._raw.append((cells, row_key, label))
            self._version += 1
            self._later()
        return row_key

    def clear(self, columns: bool = False) -> FitTable[CellType]:
        super().clear(columns)
        if not self._fitting:
            self._raw.clear()
            self._version += 1
            if columns:
                self._fit_columns.clear()
        return self

    def on_resize(self, event: events.Resize) -> None:
        self._later()

    def _later(self) -> None:
        if not self._pending:
            self._pending = True
            self.call_later(self._refit)

    def _refit(self) -> None:
        self._pending = False
        width = self.size.width
        if width <= 0 or not self._fit_columns or not self.is_attached:
            return
        if self._fitted == (width, self._version):
            return
        self._fitted = (width, self._version)
        columns = [column for _, column in self._fit_columns]
        # A label of up to ``FLOOR`` cells counts as content: "Tries" is not cut to "…"
        # while a long value beside it keeps 40 cells; a longer label may be, to ``FLOOR``.
        cells = [[c.width] if c.width else [min(cell_len(c.label), FLOOR)] for c in columns]
        for row, _, _ in self._raw:
            for sizes, cell in zip(cells, row, strict=False):
                sizes.append(cell_len(flat(_plain(cell), CAP * 4)))
        shares = [by_content(c.label, sizes) for c, sizes in zip(columns, cells, strict=True)]
        wanted, content, longest = ([share[i] for share in shares] for i in range(3))
        # A DataTable pads each cell with a space on either side: one "gap" more per column.
        widths = column_widths(columns, wanted, content, longest, width - len(columns))
        cursor, scroll_y = self.cursor_coordinate, self.scroll_y
        self._fitting = True
        try:
            super().clear()
            for (key, column), size in zip(self._fit_columns, widths, strict=True):
                shown = self.columns[key]
                shown.width, shown.auto_width = size, False
                shown.label = Text(fit(column.label, size).rstrip(), end="")
            for row, row_key, label in self._raw:
                fitted = [fit_cell(c, w) for c, w in zip(row, widths, strict=False)]
                super().add_row(*fitted, key=row_key.value, label=label)  # type: ignore[arg-type]
        finally:
            self._fitting = False
        if self.row_count:
            self.scroll_to(y=scroll_y, animate=False, immediate=True)
            self.move_cursor(row=min(cursor.row, self.row_count - 1))  # kept on screen
