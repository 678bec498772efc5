"""A virtual table of records: it asks for the rows on screen and nothing more.

Rows come from a ``fetch(offset, limit)`` callback (a window read from SQLite) in blocks
of ``BLOCK`` rows, with a few blocks kept; the row count comes from ``count()``. A list
of a million cached records costs the same to show as a list of fifty.

Painting never reads: ``render_line`` draws what the block cache holds (a blank row for
a block not read yet, and asks for it). A worker thread fills the cache ahead of the
cursor in both directions (the page above, the two below) after every move, so a page
down finds its rows ready; a jump (``G``, the scrollbar, ``jump_to``) reads its screen's
rows first, in one read it waits for at most ``JUMP_WAIT_S`` (then it paints blanks and
they follow within the read), so its first frame shows them; the pages around it are
read after that paint. ``reload(background=True)`` counts in the worker too,
so a search typed into a long list never waits for its count (older answers dropped).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, cast

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import WorkType

from crmtui.fields import display, local_text, local_width
from crmtui.model import FieldSpec, FieldType, KindInfo, Record
from crmtui.text import clean, fit_width
from crmtui.ui.themes import record_tone, tone_style, toned_keys
from crmtui.ui.widgets.selection import marked_text

BLOCK = 128
AHEAD_PAGES = 2  # pages read ahead of the cursor (and one behind it)
COUNT_LATER_FROM = 20_000  # rows of a list whose reload may count in the background
KEEP_BLOCKS = 12
# A jump (the cursor's page moves to rows not read yet) waits this long for them before
# its frame is painted (blank rows then, filled when the read ends). A window of a built
# list takes 1-3 ms; a read this slow would show its rows a frame or two later anyway.
JUMP_WAIT_S = 0.03
PAINT_WAIT_S = 0.1  # the read-ahead after a jump waits this long for its paint at most
_UNSET = object()  # nothing highlighted yet
_jump_reads: concurrent.futures.ThreadPoolExecutor | None = None


def _jump_reader() -> concurrent.futures.ThreadPoolExecutor:
    """The thread that reads a jump's rows (one read at a time, as the key's wait is)."""
    global _jump_reads
    if _jump_reads is None:
        _jump_reads = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="jump")
    return _jump_reads


_holding = False  # the cyclic collector is off until a frame is sent (``_hold_collection``)


def _hold_collection() -> None:
    """Keep Python's cyclic collector off until the frame being drawn is sent (the
    loop's next turn: the screen's update sends its frame in this one)."""
    global _holding
    if gc.isenabled():
        gc.disable()
        _holding = True
    if _holding:  # (again if a loop closed before its turn came: never left off)
        try:
            asyncio.get_running_loop().call_soon(_release_collection)
        except RuntimeError:  # drawn outside a running loop (a test's direct render)
            _release_collection()


def _release_collection() -> None:
    global _holding
    if _holding:
        _holding = False
        gc.enable()


async def _painted_or_not(painted: asyncio.Event) -> None:
    """Until ``painted`` is set, or a few frames have passed (a table not shown is not
    painted: its reads are not held back for ever)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(painted.wait(), PAINT_WAIT_S)


def _find_in(
    fetch: Callable[[int, int], list[Record]], id_: str, blocks: Iterable[int]
) -> int | None:
    """The row of record ``id_`` in these blocks of a list, read one by one in this order
    (in a worker thread: the source's reads, not a table's cache, which is the loop's)."""
    for block in blocks:
        for i, record in enumerate(fetch(block * BLOCK, BLOCK), block * BLOCK):
            if record.id == id_:
                return i
    return None


@dataclass(frozen=True)
class _Anchor:
    """The record the cursor was on before a reload (``RecordTable._stay_on``)."""

    id: str
    line: int  # its line on the page (0: the page's first row)
    at_top: bool  # the page showed the top of the list


@dataclass
class Column:
    key: str
    label: str
    spec: FieldSpec | None = None
    width: int = 0  # 0: share the free width
    currency: str | None = None  # the key of the field holding a money cell's currency

    @property
    def right(self) -> bool:
        return self.spec is not None and self.spec.type in (FieldType.MONEY, FieldType.NUMBER)

    def cell(self, record: Record) -> str:
        if self.key == "title":
            return record.title
        if self.key == "subtitle":
            return record.subtitle
        if self.key == "updated_at":
            return local_text(record.updated_at)
        if self.key in record.names:  # a reference, by the record's name (``Crm.window``)
            return record.names[self.key]
        value = record.fields.get(self.key)
        currency = None
        if self.currency and self.spec and self.spec.type is FieldType.MONEY:
            currency = record.fields.get(self.currency)
        return display(self.spec, value, currency=currency)


def _work(job: Callable[[], Coroutine[Any, Any, None]]) -> WorkType[None]:
    """An async job for ``run_worker``, typed so (mypy cannot pick from its union alone);
    a function, not a coroutine: a worker cancelled before it starts leaves none behind."""
    return cast("WorkType[None]", job)


def natural_width(column: Column) -> int:
    if column.width:
        return column.width
    if column.key == "title":
        return 0
    kind = column.spec.type if column.spec else FieldType.TEXT
    return {
        FieldType.MONEY: 16,
        FieldType.NUMBER: 9,
        FieldType.DATE: 11,
        FieldType.DATETIME: local_width() + 1,
        FieldType.BOOL: 5,
        FieldType.CHOICE: 16,
        FieldType.USER: 16,
    }.get(kind, 22 if column.key != "updated_at" else local_width() + 1)


def flat(text: str, width: int) -> str:
    """A cell's text on one line, inert (vendor text), cut to a little over ``width``."""
    return " ".join(clean(text, limit=width * 4 + 64).split())


def fit(text: str, width: int, right: bool = False) -> str:
    if width <= 0:
        return ""
    text = flat(text, width)
    if cell_len(text) > width:  # cut: "…" ends the words kept, not a space
        text = set_cell_size(text, width - 1).rstrip() + "…"
    return fit_width(text, width, right=right)  # in cells: a wide character takes two


CAP = 40  # a column's width by content at most: a longer value is cut with "…"
FLOOR = 8  # a column shrinks to this on a narrow screen before the name column does
TITLE_FLOOR = 18


Wanted = tuple[list[int], list[int], list[int]]


def content_widths(columns: list[Column], sample: list[Record] | None) -> Wanted:
    """Each column's widths for ``sample`` (or its type's width without rows): with room
    for its label and a sort arrow, its longest cell capped at ``CAP``, and uncapped."""
    wanted, content, longest = [], [], []
    for column in columns:
        if column.width:
            sizes = [column.width]
        elif sample:
            sizes = [cell_len(flat(column.cell(r), CAP * 4)) for r in sample]
        else:
            sizes = [natural_width(column) or 24]
        want, most, size = by_content(column.label, sizes, room=2)  # " ▲"
        wanted.append(want)
        content.append(most)
        longest.append(size)
    return wanted, content, longest


def by_content(label: str, sizes: Iterable[int], room: int = 0) -> tuple[int, int, int]:
    """A column's (wanted, content, longest) widths from its cells' widths: its longest
    cell capped at ``CAP``, with room for its label (and ``room`` more, a sort arrow)."""
    size = max(1, max(sizes, default=1))
    content = min(CAP, size)
    return max(content, cell_len(label) + room), content, size


WHOLE = (FieldType.MONEY, FieldType.NUMBER, FieldType.DATE, FieldType.DATETIME, FieldType.BOOL)


def whole(column: Column) -> bool:
    """Whether a column's values are cut only when nothing else can give (an amount or a
    date cut is no amount or date)."""
    return column.key == "updated_at" or (column.spec is not None and column.spec.type in WHOLE)


def column_widths(
    columns: list[Column], wanted: list[int], content: list[int], longest: list[int], total: int
) -> list[int]:
    """Widths that fit ``total`` cells (a space after each column).

    Each column as wide as its content and label; spare room goes to the cells cut at
    ``CAP``. On a narrow screen the labels are cut first (to their column's content), then
    the widest column narrows a cell at a time (the name to ``TITLE_FLOOR``, the others to
    ``FLOOR``; amounts and dates not at all), so every column keeps the most telling part
    of its values; only then anything, to 3 cells.
    """
    widths = list(wanted)
    gaps = len(columns)
    spare = total - gaps - sum(widths)
    while spare > 0:
        cut = [i for i, w in enumerate(widths) if w < longest[i]]
        if not cut:
            break
        for i in cut[:spare]:
            widths[i] += 1
        spare = total - gaps - sum(widths)
    floors = [
        w if whole(c) else min(w, TITLE_FLOOR if c.key == "title" else FLOOR)
        for c, w in zip(columns, content, strict=True)
    ]
    for least in (content, floors, [3] * len(columns)):
        while sum(widths) + gaps > total:
            shrinkable = [i for i, w in enumerate(widths) if w > least[i]]
            if not shrinkable:
                break
            widest = max(shrinkable, key=lambda i: (widths[i] - least[i], -i))
            widths[widest] -= 1
    return widths


class RecordTable(ScrollView, can_focus=True):
    """A keyboard-driven table over a window source."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Up", show=False, id="cursor_up"),
        Binding("down,j", "move(1)", "Down", show=False, id="cursor_down"),
        Binding("pageup,ctrl+b", "page(-1)", "Page up", show=False, id="page_up"),
        Binding("pagedown,ctrl+f", "page(1)", "Page down", show=False, id="page_down"),
        Binding("home,g", "jump(0)", "First", show=False, id="first"),
        Binding("end,G", "jump(-1)", "Last", show=False, id="last"),
        Binding("enter", "open", "Open", id="open"),
        Binding("left,h", "switch_tab(-1)", "Prev tab", show=False),
        Binding("right,l", "switch_tab(1)", "Next tab", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "record-table--header",
        "record-table--cursor",
        "record-table--odd",
        "record-table--pending",
        "record-table--selected",
    }

    DEFAULT_CSS = """
    RecordTable { height: 1fr; overflow: hidden hidden; }
    RecordTable > .record-table--header { text-style: bold; background: $panel; color: $text; }
    RecordTable > .record-table--cursor { background: $accent 40%; }
    RecordTable:focus > .record-table--cursor { background: $accent; color: $text; }
    RecordTable > .record-table--odd { background: $surface-lighten-1 20%; }
    RecordTable > .record-table--selected { text-style: bold; }
    """

    cursor: reactive[int] = reactive(0, repaint=False)
    # the list's order, shown in the header (the source sorts: ``sort_by`` then ``reload``)
    sort_key: reactive[str | None] = reactive(None)
    descending: reactive[bool] = reactive(False)

    class Opened(Message):
        def __init__(self, table: RecordTable, record: Record) -> None:
            super().__init__()
            self.table = table
            self.record = record

    class Highlighted(Message):
        def __init__(self, table: RecordTable, record: Record | None) -> None:
            super().__init__()
            self.table = table
            self.record = record

    class TabRequested(Message):
        """left/right on a list: the screen moves to the neighbouring tab."""

        def __init__(self, delta: int) -> None:
            super().__init__()
            self.delta = delta

    class Reloaded(Message):
        """A background reload (``reload(background=True)``) has its row count."""

        def __init__(self, table: RecordTable) -> None:
            super().__init__()
            self.table = table

    class NearEnd(Message):
        """The cursor is close to the last cached row: time to fetch the next page."""

        def __init__(self, table: RecordTable) -> None:
            super().__init__()
            self.table = table

    def __init__(
        self,
        fetch: Callable[[int, int], list[Record]],
        count: Callable[[], int],
        columns: list[Column],
        *,
        sort_key: str | None = None,
        descending: bool = False,
        info: KindInfo | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._fetch = fetch
        self._count = count
        self.columns = columns
        self.sort_key = sort_key
        self.descending = descending
        self.info = info  # the rows' kind: its roles tone the status and stage cells
        self._blocks: OrderedDict[int, list[Record]] = OrderedDict()
        self._loading: set[int] = set()  # blocks a worker is reading
        # the rows of a jump's screen by index, read before their blocks (``_read_screen``)
        self._screen_rows: dict[int, Record] = {}
        self._ahead_asked = False  # a paint met a row not read yet
        # set once the table is painted after a jump read its screen: the read-ahead's
        # worker waits for it (it starts at once: the table is busy until it is done)
        self._painted = asyncio.Event()
        self._painted.set()
        # a jump's read left to a worker (its epoch, the rows it reads, its future)
        self._screen_read: tuple[int, range, concurrent.futures.Future[list[Record]]] | None = None
        # run once the next paint of the table is done (by name: the latest of each kind)
        self._after_paint: dict[str, Callable[[], None]] = {}
        self._anchor: _Anchor | None = None  # where the cursor was before a reload
        self._epoch = 0  # moves on every reload: reads of an older source are dropped
        self.row_count = 0
        self.fetches = 0  # windows read, for benchmarks
        # Rendering caches: column widths per width, each row's text per widths, and
        # the widget's base style during one paint (Textual computes it on every read).
        self._widths_for: tuple[Any, list[int]] = ((), [])
        self._wanted_for: tuple[Any, Wanted] = ((), ([], [], []))
        self._texts: dict[int, str] = {}
        self._texts_for: tuple[int, ...] = ()
        self._base_style: Style | None = None
        self._paint_styles: tuple[Style, Style, Style] | None = None
        # (width, column widths, top row) during one paint: the same for each of its lines.
        # Python's cyclic collector is held off from the paint until its frame is sent
        # (``_hold_collection``): drawing a screen of new rows makes thousands of
        # objects, and a collection they set off, walking the objects kept (the rows
        # read, the strips drawn), took 2 to 15 ms in the middle of a jump's frame.
        self._paint_at: tuple[int, list[int], int] | None = None
        # Each row's finished strip (by index and whether the cursor is on it) and the
        # header's, for the styles they were drawn with: a page down re-draws nothing
        # ``_warm`` prepared, a cursor move re-draws two lines.
        self._strips: dict[tuple[int, bool], Strip] = {}
        self._strips_for: tuple[Any, ...] = ()
        self._header: tuple[tuple[Any, ...], Strip] | None = None
        self._highlighted: object = _UNSET
        self._near_end_at = -1  # the row count NearEnd was last posted for
        # ``G``: the cursor follows the last row while the source reads the rest
        self._follow_end = False
        # asks the source for every row it has not read yet (a vendor's further pages)
        self.more_rows: Callable[[], None] | None = None
        # whether a row is marked for a bulk edit (``crmtui.ui.widgets.selection``)
        self.marked: Callable[[Record], bool] | None = None

    # -- data --------------------------------------------------------------------------

    def reload(self, *, keep_cursor: bool = True, background: bool = False) -> None:
        """Re-read the count and drop cached rows (after the cache changed).

        ``background``: when the list is long (``COUNT_LATER_FROM`` rows), count in a
        worker thread and post ``Reloaded`` when done (a newer reload drops the older
        count); the rows on screen are re-read meanwhile. A short list is counted now.
        """
        background = background and self.row_count >= COUNT_LATER_FROM
        anchor = self.cached_at(self.cursor) if keep_cursor and not self._follow_end else None
        self._anchor = None
        if anchor is not None:
            at_top = int(self.scroll_offset.y) == 0
            self._anchor = _Anchor(anchor.id, self.cursor - int(self.scroll_offset.y), at_top)
        self._epoch += 1
        self._blocks.clear()
        self._screen_rows.clear()
        self._loading.clear()
        self._texts.clear()
        self._strips.clear()
        self._near_end_at = -1
        if not keep_cursor:
            self._follow_end = False
            self.cursor = 0
        if background:
            self.refresh()
            epoch = self._epoch

            async def count_later() -> None:  # not started yet: no coroutine left over
                await self._count_later(epoch)

            self.run_worker(_work(count_later), group="count", exclusive=True)
            return
        self._counted(self._count(), read_screen=True)

    async def _count_later(self, epoch: int) -> None:
        count = await asyncio.to_thread(self._count)
        if epoch == self._epoch:
            self._counted(count)
            self.post_message(self.Reloaded(self))

    def _counted(self, count: int, *, read_screen: bool = False) -> None:
        rows_before, self.row_count = self.row_count, count
        self.virtual_size = Size(self.size.width, self.row_count + 1)
        last = self.row_count - 1
        self.cursor = max(0, last if self._follow_end else min(self.cursor, last))
        anchor, self._anchor = self._anchor, None
        if anchor is not None and self.row_count < COUNT_LATER_FROM:
            self._stay_on(anchor, rows_before)
        elif anchor is not None:  # a long list: its rows near the cursor, read off the loop
            near = dict.fromkeys(
                block
                for row in self._likely_rows(rows_before)
                for block in (row // BLOCK, row // BLOCK - 1, row // BLOCK + 1)
                if 0 <= block * BLOCK < self.row_count
            )
            self._look_for(anchor, list(near))
        self._keep_cursor_in_view()
        top = int(self.scroll_offset.y)
        end = min(self.row_count, top + self.page_rows)
        if read_screen and (end <= 2 * BLOCK or self.row_count < COUNT_LATER_FROM):
            # the screen's rows now, as the count was, where that read is quick whatever
            # the cache holds (the top, a short list); else the worker reads them
            for index in (*range(top, end, BLOCK), end - 1):
                self.record_at(index)
        self.refresh()
        self._after_paint["warm"] = partial(self._warm, self.cursor)
        self._highlight(self.cursor, force=True)
        self._read_ahead()

    def _stay_on(self, anchor: _Anchor, rows_before: int) -> None:
        """Keep the cursor on the record it was on when rows were added, removed or moved
        above it (a sync storing its pages, an edit in a sorted list). Short lists: their
        rows read quickly whatever the cache (a long list's record is looked for by a
        worker in the blocks where it likely is, ``_counted``; the page as below).

        What a user reading the list expects of its page:
        - a page at the top of the list stays at the top, the rows that now sort first
          shown (a list opened while a sync was part way showed the first of the rows
          stored then; once the rest is stored its true first rows head it), and the
          highlight moves down with its record, as long as that record is on the page;
        - else (a scrolled page, or the record pushed below the top page) the page
          scrolls with the record, so it stays on the same screen line: the rows the user
          was reading do not move under their eyes.

        The record is looked for now nearest first around the cursor's row, and around the
        row it would be at had the list grown or shrunk evenly (a sync of a vendor's pages
        in another order: a record far down the first page moves far); not there (many
        rows came or went on one side of it), a worker reads the rest of the list for it
        and the cursor moves to it then, unless the user moved it meanwhile. Not in the
        list (filtered out, deleted): the cursor keeps its row."""
        index = self._find_near(anchor.id, rows_before)
        if index is None:
            self._look_for(anchor, range(-(-self.row_count // BLOCK)))
            return
        self._move_with(anchor, index)

    def _look_for(self, anchor: _Anchor, blocks: Iterable[int]) -> None:
        """Have a worker read ``blocks`` for the anchor's record and move the cursor to it
        (``_move_with``), unless the list was reloaded or the user moved it meanwhile."""
        epoch, cursor, fetch = self._epoch, self.cursor, self._fetch

        async def find() -> None:
            found = await asyncio.to_thread(_find_in, fetch, anchor.id, blocks)
            if found is not None and epoch == self._epoch and cursor == self.cursor:
                self._move_with(anchor, found)

        self.run_worker(_work(find), group="anchor", exclusive=True)

    def _move_with(self, anchor: _Anchor, index: int) -> None:
        """Put the cursor on row ``index``, the anchor's record, its page as ``_stay_on``
        says."""
        if index == self.cursor:
            return
        if not (anchor.at_top and index < self.page_rows):
            top = max(0, index - anchor.line)
            self.scroll_to(y=top, animate=False, immediate=True, force=True)
        self.cursor = index

    def _likely_rows(self, rows_before: int) -> list[int]:
        """Where the cursor's record likely is after a reload: the cursor's row, and the
        row it would be at had the list grown or shrunk evenly (when that is farther than
        a block: else the rows around the cursor cover it)."""
        at = self.cursor
        centres = [at]
        if rows_before > 0 and self.row_count != rows_before:
            scaled = min(self.row_count - 1, at * self.row_count // rows_before)
            if abs(scaled - at) > BLOCK:
                centres.append(scaled)
        return centres

    def _find_near(self, id_: str, rows_before: int) -> int | None:
        """The row of record ``id_`` (``_stay_on``): nearest first around the cursor's
        row and around its evenly scaled row, ``BLOCK`` rows each way at most."""
        centres = self._likely_rows(rows_before)
        for step in range(BLOCK + 1):
            for centre in centres:
                for index in (centre - step, centre + step) if step else (centre,):  # above first
                    record = self.record_at(index)
                    if record is not None and record.id == id_:
                        return index
        return None

    def set_source(
        self,
        fetch: Callable[[int, int], list[Record]],
        count: Callable[[], int],
    ) -> None:
        self._fetch, self._count = fetch, count
        self.reload(keep_cursor=False)
        self.scroll_to(y=0, animate=False, immediate=True, force=True)

    def record_at(self, index: int) -> Record | None:
        """The record at ``index``, read now if its block is not cached (not for painting:
        ``cached_at`` is)."""
        if index < 0 or index >= self.row_count:
            return None
        block = index // BLOCK
        if block not in self._blocks and index not in self._screen_rows:
            self.fetches += 1
            self._keep(block, self._fetch(block * BLOCK, BLOCK))
        return self.cached_at(index)

    def cached_at(self, index: int) -> Record | None:
        """The record at ``index`` if its block is cached (None: not read yet, or none)."""
        if index < 0 or index >= self.row_count:
            return None
        block, offset = divmod(index, BLOCK)
        rows = self._blocks.get(block)
        if rows is None:
            return self._screen_rows.get(index)
        self._blocks.move_to_end(block)
        return rows[offset] if offset < len(rows) else None

    def showing(self) -> bool:
        """Whether every row on screen is cached (painted as a row, not a blank)."""
        top = int(self.scroll_offset.y)
        return not self._unread(top, min(self.row_count, top + self.page_rows))

    def _unread(self, start: int, end: int) -> list[int]:
        """The rows from ``start`` to before ``end`` that are not cached."""
        blocks = self._blocks
        screen = self._screen_rows
        return [i for i in range(start, end) if i // BLOCK not in blocks and i not in screen]

    def _keep(self, block: int, rows: list[Record]) -> None:
        first = block * BLOCK
        if self._screen_rows:  # the same records as on screen (``Highlighted`` is not re-sent)
            screen = self._screen_rows
            rows = [
                self._same(first + i, screen.pop(first + i, None), r) for i, r in enumerate(rows)
            ]
        self._blocks[block] = rows
        self._blocks.move_to_end(block)
        while len(self._blocks) > KEEP_BLOCKS:
            self._blocks.popitem(last=False)

    def _read_screen(self, top: int) -> None:
        """Read the rows of the screen from row ``top`` now, before its frame is painted,
        when they are not cached (a jump: ``G``, ``jump_to``, a page farther than the
        read-ahead): one read of just those rows, in a thread, waited for at most
        ``JUMP_WAIT_S``. The first frame then shows the rows, not blanks (Textual paints
        the frame after a blank one up to two frame periods later). A slower read (or
        one that fails) is left to a worker, as any read-ahead; the blocks around (the
        screen's own too) are read after the paint (``_read_ahead``)."""
        top = max(0, min(top, self.row_count - self.page_rows))
        unread = self._unread(top, min(self.row_count, top + self.page_rows))
        if not unread:
            return
        start, limit = unread[0], unread[-1] + 1 - unread[0]
        epoch, screen = self._epoch, range(top, top + self.page_rows)
        if self._screen_read is not None and not self._screen_read[2].done():
            was, asked, earlier = self._screen_read  # an earlier jump's, still in flight
            if was == epoch and start in asked and unread[-1] in asked:
                return  # it reads these rows: its worker shows them
            earlier.cancel()  # a screen left before its read began is not read
        read = _jump_reader().submit(self._fetch, start, limit)
        try:
            rows = read.result(timeout=JUMP_WAIT_S)
        except Exception:  # slow, or failed: a worker has it (and raises as ever)
            self._screen_read = (epoch, range(start, start + limit), read)

            async def arrive() -> None:
                self._arrived_screen(epoch, screen, start, await asyncio.wrap_future(read))

            self.run_worker(_work(arrive), group="rows")
            return
        self._arrived_screen(epoch, screen, start, rows)
        if self._painted.is_set():
            self._painted = asyncio.Event()
        self._after_paint["read ahead"] = self._painted.set

    def _arrived_screen(self, epoch: int, screen: range, start: int, rows: list[Record]) -> None:
        """Keep the rows of ``screen`` read from row ``start`` (``_read_screen``), with
        those an earlier jump read on it (its other rows are let go), and repaint them."""
        if epoch != self._epoch:
            return
        self.fetches += 1
        kept = {i: row for i, row in self._screen_rows.items() if i in screen}
        for i, row in enumerate(rows, start):  # rows read before keep their records
            kept[i] = self._same(i, self.cached_at(i), row)
        self._screen_rows = kept
        self.refresh()
        # once the jump has put the cursor where it goes (not for the row it leaves)
        self.call_later(lambda: self._highlight(self.cursor))

    def _same(self, index: int, held: Record | None, read: Record) -> Record:
        """The record ``read`` for row ``index``, or the one held for it when they are
        the same data: ``Highlighted`` is not sent again for a row read twice, and a row
        read after its record changed or went (deleted: the rows below moved up) shows
        what was read (its text formatted again)."""
        if held is None:
            return read
        if held == read:
            return held
        self._forget_row(index)
        return read

    def _read_ahead(self) -> None:
        """Have a worker read the blocks of the screen, the page above it and the pages
        below it that are not cached yet (after the next paint, when a jump has just
        read the screen's rows: they are painted first; the worker is started now, so
        the table is busy until they are read)."""
        self._ahead_asked = False
        if not self.row_count:
            return
        top, rows = int(self.scroll_offset.y), self.page_rows
        first = max(0, top - rows) // BLOCK
        last = min(self.row_count - 1, top + (1 + AHEAD_PAGES) * rows) // BLOCK
        self._want(range(first, last + 1))

    def _want(self, blocks: Iterable[int]) -> None:
        # the screen's blocks first, then the ones below, then above
        top = int(self.scroll_offset.y) // BLOCK
        missing = sorted(
            (b for b in blocks if b not in self._blocks and b not in self._loading),
            key=lambda b: (b < top, abs(b - top)),
        )
        if missing:
            self._loading.update(missing)
            epoch, painted = self._epoch, self._painted

            async def load() -> None:
                if not painted.is_set():  # after the paint of a jump's rows (``_read_screen``)
                    await _painted_or_not(painted)
                if epoch == self._epoch:
                    await self._load(epoch, missing)

            self.run_worker(_work(load), group="rows")

    async def _load(self, epoch: int, blocks: list[int]) -> None:
        fetch = self._fetch
        try:
            for block in blocks:
                rows = await asyncio.to_thread(fetch, block * BLOCK, BLOCK)
                if epoch != self._epoch:
                    return
                self.fetches += 1
                self._loading.discard(block)
                self._keep(block, rows)
                top = int(self.scroll_offset.y)
                if block * BLOCK < top + self.page_rows and (block + 1) * BLOCK > top:
                    self.refresh()  # rows of the screen arrived
                    self._highlight(self.cursor)
            self.call_after_refresh(self._warm, self.cursor)  # not before this paint
        finally:
            if epoch == self._epoch:
                self._loading.difference_update(blocks)

    @property
    def current(self) -> Record | None:
        return self.record_at(self.cursor)

    # -- rendering -----------------------------------------------------------------------

    def _widths(self, total: int) -> list[int]:
        wanted = self._wanted()
        key = (total, id(wanted), *map(id, self.columns))
        if self._widths_for[0] != key:
            self._widths_for = (key, column_widths(self.columns, *wanted, total))
        return self._widths_for[1]

    def _wanted(self) -> Wanted:
        """Each column's width by its content: (capped at ``CAP``, its longest cell), from
        the first cached block of rows, or the rows of a jump's screen read before any
        block (once per reload: widths do not jump as the cursor moves). Formatting
        only: painting never reads the cache file."""
        read = bool(self._blocks or self._screen_rows)
        key = (self._epoch, read, *map(id, self.columns))
        if self._wanted_for[0] != key:
            screen = list(self._screen_rows.values())
            sample = self._blocks[min(self._blocks)] if self._blocks else screen or None
            self._wanted_for = (key, content_widths(self.columns, sample))
        return self._wanted_for[1]

    def _line_text(self, cells: list[str], widths: list[int]) -> str:
        parts = []
        for column, cell, width in zip(self.columns, cells, widths, strict=True):
            parts.append(fit(cell, width, column.right))
        return " " + " ".join(parts)

    def _row_text(self, index: int, record: Record, widths: list[int], width: int) -> str:
        """A row's text at these widths (cached: a row is formatted once, not per paint)."""
        key = (width, *widths, *map(id, self.columns))
        if self._texts_for != key:
            self._texts.clear()
            self._strips.clear()
            self._texts_for = key
        elif len(self._texts) > KEEP_BLOCKS * BLOCK:
            self._forget_far_rows()
        text = self._texts.get(index)
        if text is None:
            cells = [c.cell(record) for c in self.columns]
            text = self._texts[index] = fit_width(self._line_text(cells, widths), width)
        return text

    def _forget_far_rows(self) -> None:
        """Forget the formatted rows farther from the cursor than half of them are.

        Clearing them all (as this did) made the next paint format every row of the
        screen, once every dozen page-downs: the slowest presses of a long scroll.
        """
        by_distance = sorted(self._texts, key=lambda index: abs(index - self.cursor))
        for index in by_distance[len(by_distance) // 2 :]:
            self._forget_row(index)

    def _forget_row(self, index: int) -> None:
        """Forget row ``index``'s text and strips (formatted again when next painted)."""
        self._texts.pop(index, None)
        self._strips.pop((index, False), None)
        self._strips.pop((index, True), None)

    def on_unmount(self) -> None:
        _release_collection()  # a table gone (the app quitting) leaves the collector on

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base_style = self.rich_style  # once per paint, not once per line
        self._paint_styles = self._row_styles(self._base_style)
        width = self.size.width
        self._paint_at = (width, self._widths(width - 1), int(self.scroll_offset.y))
        _hold_collection()  # no collection in the middle of a frame (see ``_paint_at``)
        try:
            return super().render_lines(crop)
        finally:
            self._base_style = self._paint_styles = self._paint_at = None
            waiting, self._after_paint = self._after_paint, {}
            for callback in waiting.values():  # after this frame is sent (that comes first)
                self.call_later(callback)

    def _row_styles(self, base: Style) -> tuple[Style, Style, Style]:
        """(base, cursor row, odd row) styles."""
        cursor = self.get_component_rich_style("record-table--cursor")
        return base, cursor, self.get_component_rich_style("record-table--odd")

    def render_line(self, y: int) -> Strip:
        if self._paint_at is None:
            width = self.size.width
            paint = (width, self._widths(width - 1), int(self.scroll_offset.y))
        else:
            paint = self._paint_at
        width, widths, top = paint
        if y == 0:
            return self._header_strip(width, widths)
        index = top + y - 1
        record = self.cached_at(index)  # painting never reads the cache file
        base = self._base_style or self.rich_style
        if record is None:
            if 0 <= index < self.row_count and not self._ahead_asked:
                self._ahead_asked = True
                self.call_later(self._read_ahead)
            return Strip.blank(width, base)
        return self._row_strip(index, record, widths, width, base)

    def _header_strip(self, width: int, widths: list[int]) -> Strip:
        style = self.get_component_rich_style("record-table--header")
        key = (width, *widths, self.sort_key, self.descending, style, *map(id, self.columns))
        if self._header is None or self._header[0] != key:
            labels = []
            for column, cell in zip(self.columns, widths, strict=True):
                label = column.label
                if column.key == self.sort_key:  # the arrow stays when the label is cut
                    arrow = "▼" if self.descending else "▲"
                    label = f"{fit(label, cell - 2).rstrip()} {arrow}" if cell > 2 else arrow
                labels.append(label)
            text = fit_width(self._line_text(labels, widths), width)
            self._header = (key, Strip([Segment(text, style)]))
        return self._header[1]

    def _row_strip(
        self, index: int, record: Record, widths: list[int], width: int, base: Style
    ) -> Strip:
        """A row's strip, cached for the styles of this paint (theme, focus)."""
        text = self._row_text(index, record, widths, width)  # clears strips on new widths
        styles = self._paint_styles or self._row_styles(base)
        base, cursor, odd = styles
        if self._strips_for != styles:
            self._strips.clear()
            self._strips_for = styles
        on_cursor = index == self.cursor
        strip = self._strips.get((index, on_cursor))
        if strip is None:
            style = base + cursor if on_cursor else (base + odd if index % 2 else base)
            if record.id.startswith("local:"):
                style = style + Style(italic=True)
            if self.marked is not None and self.marked(record):  # marked for a bulk edit
                text = marked_text(text)
                # its own style only (bold): with the table's colours it put the plain
                # background over the cursor's, and the highlight vanished on a marked row
                selected = self.get_component_rich_style("record-table--selected", partial=True)
                style = style + selected
            segments = [Segment(text, style)] if on_cursor else None
            strip = Strip(segments or self._toned(text, record, widths, style), width)
            self._strips[(index, on_cursor)] = strip
        return strip

    def _toned(self, text: str, record: Record, widths: list[int], style: Style) -> list[Segment]:
        """The row, its status/stage cells in the theme's stage colour (open/won/lost)."""
        tone = record_tone(record, self.info)
        if tone is None:
            return [Segment(text, style)]
        toned = style + tone_style(self.app, tone)
        keys = toned_keys(self.info)
        segments, start, offset = [], 0, 1
        for column, width in zip(self.columns, widths, strict=True):
            if column.key in keys:
                segments += [Segment(text[start:offset], style)]
                segments += [Segment(text[offset : offset + width], toned)]
                start = offset + width
            offset += width + 1
        segments.append(Segment(text[start:], style))
        return [segment for segment in segments if segment.text]

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, self.row_count + 1)
        self.call_after_refresh(self._keep_cursor_in_view)

    def _keep_cursor_in_view(self) -> None:
        """Scroll so the cursor's row is on screen (after a resize or a shorter list)."""
        top = int(self.scroll_offset.y)
        top = max(0, min(top, self.row_count - self.page_rows))
        if self.cursor < top:
            top = self.cursor
        elif self.cursor >= top + self.page_rows:
            top = self.cursor - self.page_rows + 1
        if top != int(self.scroll_offset.y):
            self.scroll_to(y=max(0, top), animate=False, immediate=True, force=True)

    # -- movement --------------------------------------------------------------------------

    @property
    def page_rows(self) -> int:
        return max(1, self.size.height - 1)

    def watch_cursor(self, old: int, new: int) -> None:
        top = int(self.scroll_offset.y)
        if new < top:  # the scroll repaints the whole table
            self.scroll_to(y=new, animate=False, immediate=True, force=True)
        elif new >= top + self.page_rows:
            self.scroll_to(y=new - self.page_rows + 1, animate=False, immediate=True, force=True)
        else:  # the page stays: repaint the two rows the cursor left and reached
            for index in (old, new):
                self.refresh(Region(0, index - top + 1, self.size.width, 1))
        self._highlight(new)
        self._read_ahead()
        self._after_paint["warm"] = partial(self._warm, new)  # not before the move's paint
        near = self.row_count - self.page_rows * 2
        if self.row_count and new >= near and self._near_end_at != self.row_count:
            self._near_end_at = self.row_count  # once until more rows arrive
            self.post_message(self.NearEnd(self))

    def _highlight(self, index: int, *, force: bool = False) -> None:
        """Post ``Highlighted`` when the record under the cursor is another one (once its
        block is read, when it is not cached yet)."""
        if force:
            self._highlighted = _UNSET
        record = self.cached_at(index)
        if record is None and 0 <= index < self.row_count:
            return  # posted when its block arrives (``_load``)
        if record is not self._highlighted:
            self._highlighted = record
            self.post_message(self.Highlighted(self, record))

    def _warm(self, cursor: int) -> None:
        """After a paint: format the cached pages around ``cursor`` ahead of the keys."""
        if self.size.width <= 1:
            return
        widths = self._widths(self.size.width - 1)
        base = self.rich_style
        top, rows = int(self.scroll_offset.y), self.page_rows
        for index in (*range(top + rows, top + 2 * rows), *range(max(0, top - rows), top)):
            record = self.cached_at(index)
            if record is not None:
                self._row_strip(index, record, widths, self.size.width, base)

    def action_move(self, delta: int) -> None:
        self._follow_end = False
        if self.row_count:
            self.cursor = max(0, min(self.row_count - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        """Move the view a page and the cursor with it (at an end: the first/last row)."""
        self._follow_end = False
        if not self.row_count:
            return
        rows = self.page_rows
        self._read_screen(int(self.scroll_offset.y) + direction * rows)
        top = self._scroll_rows(direction * rows)
        cursor = max(0, min(self.row_count - 1, self.cursor + direction * rows))
        self.cursor = max(top, min(top + rows - 1, cursor))  # on a row of the new page

    def _scroll_rows(self, delta: int) -> int:
        """Scroll the view ``delta`` rows (clamped) now; returns its new top row."""
        top = int(self.scroll_offset.y)
        new = max(0, min(self.row_count - self.page_rows, top + delta))
        if new != top:
            self.scroll_to(y=new, animate=False, immediate=True, force=True)
        return new

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._wheel(event, 3)

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._wheel(event, -3)

    def _wheel(self, event: events.MouseEvent, delta: int) -> None:
        """The wheel scrolls the view; the cursor stays on a row of it (no scrollbar: the
        facts line says where the cursor is)."""
        event.stop()
        event.prevent_default()
        if not self.row_count:
            return
        self._follow_end = False
        top = self._scroll_rows(delta)
        self.cursor = max(top, min(top + self.page_rows - 1, self.cursor, self.row_count - 1))
        self._read_ahead()

    def action_jump(self, where: int) -> None:
        if self.row_count:
            # the last row: rows the source has not read yet follow (``more_rows``)
            self._follow_end = where != 0 and self.more_rows is not None
            index = 0 if where == 0 else self.row_count - 1
            self._read_screen(self._top_for(index))  # its rows in the first frame
            self.cursor = index
            if self._follow_end and self.more_rows is not None:
                self.more_rows()

    def jump_to(self, index: int) -> None:
        """Put the cursor on row ``index`` (clamped), its page on screen."""
        if self.row_count:
            index = max(0, min(self.row_count - 1, index))
            self._read_screen(self._top_for(index))
            if index == self.cursor:
                self.watch_cursor(index, index)  # scrolled away: bring it back
            self.cursor = index

    def _top_for(self, index: int) -> int:
        """The top row of the page that shows row ``index`` (``watch_cursor``'s scroll)."""
        top = int(self.scroll_offset.y)
        return index if index < top else max(top, index - self.page_rows + 1)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._read_ahead()  # the page moved, maybe not by the cursor
        self.call_later(self._cursor_into_view)

    def _cursor_into_view(self) -> None:
        """The page was scrolled away from the cursor: the cursor moves onto the page (it is
        always on a row on screen: enter opens what is seen)."""
        top = int(self.scroll_offset.y)
        if self.row_count and not top <= self.cursor < top + self.page_rows:
            self.cursor = max(top, min(top + self.page_rows - 1, self.cursor, self.row_count - 1))

    def action_switch_tab(self, delta: int) -> None:
        self.post_message(self.TabRequested(delta))

    def action_open(self) -> None:
        record = self.current
        if record is not None:
            self.post_message(self.Opened(self, record))

    async def _on_click(self, event: events.Click) -> None:
        if event.y == 0 or not self.row_count:
            return
        index = int(self.scroll_offset.y) + event.y - 1
        if 0 <= index < self.row_count:
            if index == self.cursor and event.chain > 1:
                self.action_open()
            self.cursor = index

    def marks_changed(self) -> None:
        """The rows marked for a bulk edit changed (``marked``): draw them again."""
        self._strips.clear()
        self.refresh()

    def sort_by(self, key: str | None, descending: bool) -> None:
        self.sort_key, self.descending = key, descending

    def state(self) -> dict[str, Any]:
        return {"rows": self.row_count, "cursor": self.cursor, "fetches": self.fetches}
