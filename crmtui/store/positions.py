"""Where any row of a long list is: the list's whole order as an array of rowids.

``LIMIT/OFFSET`` walks every row before a window, so the middle of a million-row list
cost half a million steps. Instead the first read of a long list (``BUILD_FROM`` rows or
more) starts a background build of its order (one walk of its index, rowids only, on a
second connection so the app's reads go on) into an ``array``; a window at any offset is
then a slice of it and ``limit`` primary-key lookups, wherever it is (top, middle, end,
sorted either way, filtered, searched).

The walk is one SQL statement per part of the order (an aggregate of the rowids as
fixed-width hex), so SQLite runs it without Python's GIL: a walk in Python released and
took the GIL back at every row, and the app's thread, waiting for it, read its windows
up to a switch interval (5 ms) late. The hex is then turned into the array a slice at
a time (``SLICE`` rowids), the GIL let go between slices.

A built order is stamped with its list's change counter (``record_versions``, kept by
triggers on ``records``: every writer, every connection and process, moves it). When the
counter moved the order is stale: windows are read the old way (``OFFSET`` from the
nearer end) and the read asks for a rebuild. ``KEEP`` orders are kept (4 bytes a row).
"""

from __future__ import annotations

import binascii
import sqlite3
import sys
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from crmtui.store.db import MEMORY, Database, NotACache, SchemaTooNew, connect
from crmtui.store.indexes import Part

BUILD_FROM = 5_000  # shorter lists read fine with OFFSET
SETTLE_S = 0.3  # a build starts this long after it is asked for (the latest request)
KEEP = 6  # orders kept (a million-row order is 4 MB)
SLICE = 32_768  # rowids turned from hex into the array between two yields of the GIL
# How long the builder lets go of the GIL after each slice: a sleep(0) gave it back too
# soon (the app's thread, woken, lost the race and waited a switch interval, 5 ms)
YIELD_S = 0.0002

# (profile, kind, WHERE ..., its parameters, its order's parts: ``indexes.Order.parts``):
# one list as the user sees it.
Spec = tuple[str, str, str, tuple[Any, ...], tuple[Part, ...]]


def version(conn: sqlite3.Connection, profile: str, kind: str) -> tuple[int, int]:
    """The change counter of a (profile, kind), which moves with every change of its
    rows, and the last forgetting of a profile (``records.forget_confirmed``): a forget
    drops the counter (it names the profile) and a sync after it counts again from 1 with
    the forgotten rows' rowids given again, so an order built before would be taken for
    current once as many rows were written again (another process's forget and sync)."""
    found = conn.execute(
        "SELECT v FROM record_versions WHERE profile = ? AND kind = ?", (profile, kind)
    ).fetchone()
    try:
        forgot = conn.execute(
            "SELECT seq FROM confirmed_writes WHERE profile = '' AND kind = '' AND record_id = ''"
        ).fetchone()
    except sqlite3.OperationalError:  # the table is made when first needed: none yet
        forgot = None
    return (int(found[0]) if found else 0, int(forgot[0]) if forgot else 0)


@contextmanager
def one_moment(conn: sqlite3.Connection) -> Iterator[None]:
    """Reads on ``conn`` in one snapshot (a read transaction, unless one is open): a
    built order found current (``Positions.get``) and the rows it names are read at the
    same moment, so another connection's commit between them cannot show a row deleted
    since beside one renamed since."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.commit()  # (nothing when SQLite already ended it: an error rolled back)


def _typecode(conn: sqlite3.Connection) -> str:
    """The array type that holds every rowid of ``records``: 4 bytes each while they fit
    (below two billion rows they do), else 8."""
    low, high = conn.execute(
        "SELECT (SELECT min(rowid) FROM records), (SELECT max(rowid) FROM records)"
    ).fetchone()
    narrow = array("i")
    if (low or 0) >= 0 and (high or 0) < 2 ** (8 * narrow.itemsize - 1):
        return narrow.typecode
    return "q"


def _unpacked(
    conn: sqlite3.Connection, code: str, parts: int, stop: Callable[[], bool]
) -> array[int] | None:
    """The rowids of ``temp.built_order``'s parts (each ``2 * itemsize`` hex digits,
    big-endian, as ``printf('%0Nx')`` writes a two's complement), one part after the
    other, as an array of ``code``. Read a ``SLICE`` at a time (``blobopen``: SQLite
    reads without the GIL; a whole part as one value took milliseconds with it held, a
    million rows' 8 MB), the GIL let go between slices; None once ``stop()``."""
    found = array(code)
    step = 2 * found.itemsize * SLICE
    for part in range(parts):
        with conn.blobopen("built_order", "rowids", part, readonly=True, name="temp") as text:
            while piece := text.read(step):
                if stop():
                    return None
                rowids = array(code, binascii.unhexlify(piece))
                if sys.byteorder == "little":
                    rowids.byteswap()
                found += rowids
                time.sleep(YIELD_S)  # the app's thread, waiting for the GIL, takes it now
    return found


class Positions:
    """Built orders of lists, and the builds under way."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._built: OrderedDict[Spec, tuple[tuple[int, int], array[int]]] = OrderedDict()
        self._building: set[Spec] = set()
        self._next: tuple[Spec, str | None] | None = None  # a build asked for (and ``via``)
        self._builder: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.on_built: Callable[[Spec], None] | None = None

    def get(self, conn: sqlite3.Connection, spec: Spec) -> array[int] | None:
        """The order of ``spec`` if built and current (``conn``: the store's, locked)."""
        with self._lock:
            found = self._built.get(spec)
            if found is not None:
                self._built.move_to_end(spec)
        if found is None or found[0] != version(conn, spec[0], spec[1]):
            return None
        return found[1]

    def count(self, conn: sqlite3.Connection, rows: Spec) -> int | None:
        """The length of a built, current order of the same rows in any order, if any."""
        with self._lock:
            lengths = [(v, len(a)) for s, (v, a) in self._built.items() if s[:4] == rows[:4]]
        if not lengths:
            return None
        current = version(conn, rows[0], rows[1])
        return next((n for v, n in lengths if v == current), None)

    def request(self, spec: Spec, via: str | None = None) -> None:
        """Build the order of ``spec`` in the background (``via``: see ``build``).

        One builder thread, one build at a time, started ``SETTLE_S`` after the request
        (the list's first reads go first); a request waiting for it is replaced by a
        newer one (a search typed letter by letter builds the last list asked for).
        """
        if str(self._db.path) == MEMORY:
            return  # no second connection; ``build`` is called directly
        with self._lock:
            if self._closed or spec in self._building or (self._next and self._next[0] == spec):
                return
            self._next = (spec, via)
            if self._builder is None or not self._builder.is_alive():
                self._builder = threading.Thread(target=self._run, daemon=True)
                self._builder.start()

    def _run(self) -> None:
        while True:
            time.sleep(SETTLE_S)  # the list just opened reads its first page unhindered
            with self._lock:
                asked, self._next = self._next, None
                if asked is None or self._closed:
                    self._builder = None
                    return
                spec, via = asked
                self._building.add(spec)
            try:
                self.build(spec, via)
            except (sqlite3.Error, OSError, SchemaTooNew, NotACache):
                # the cache closed or is busy, or another program (a newer crmtui) took
                # the file over: windows are read the slower way, the next read asks again
                pass
            finally:
                with self._lock:
                    self._building.discard(spec)

    def build(self, spec: Spec, via: str | None = None) -> int:
        """Build the order of ``spec`` now (blocking); returns its length.

        ``via``: the index to find a filtered list's rows by (its filter's), the rows
        then sorted. SQLite would rather walk the index of the order, which reads every
        row of the whole list to test the filter: a fifth of a million deals sorted by
        amount took 5.9 s that way, 0.8 s this way. Without it when SQLite cannot read
        the rows by that index (or it is gone).
        """
        profile, kind, where, params, parts = spec

        def walked(conn: sqlite3.Connection, hint: str) -> None:
            # one statement per part, run by SQLite alone (no GIL held): the part's
            # rowids in its order (its subquery's, kept by LIMIT -1) as fixed-width hex,
            # kept in a temporary table to be read a slice at a time (``_unpacked``)
            conn.execute("DELETE FROM temp.built_order")
            for part, (condition, order) in enumerate(parts):
                conn.execute(
                    "INSERT INTO temp.built_order (part, rowids)"
                    f" SELECT ?, CAST(coalesce(group_concat(printf('%0{digits}x', k), ''), '')"
                    f" AS BLOB) FROM (SELECT r.rowid AS k FROM records r {hint}{where}"
                    f"{condition} ORDER BY {order} LIMIT -1)",
                    (part, *params),
                )

        with self._reader() as conn:
            conn.execute("BEGIN")  # one snapshot for the counter and the rows
            try:
                stamp = version(conn, profile, kind)
                code = _typecode(conn)
                digits = 2 * array(code).itemsize
                conn.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS built_order"
                    " (part INTEGER PRIMARY KEY, rowids BLOB NOT NULL)"
                )
                try:
                    walked(conn, f"INDEXED BY {via} " if via else "")
                except sqlite3.OperationalError:
                    if via is None:
                        raise
                    walked(conn, "")  # that index is gone, or of no use here
                rowids = _unpacked(conn, code, len(parts), lambda: self._closed)
                conn.execute("DROP TABLE temp.built_order")
            finally:
                conn.execute("COMMIT")
        with self._lock:
            if rowids is None or self._closed:
                return 0  # the store closed meanwhile: nothing kept
            self._built[spec] = (stamp, rowids)
            self._built.move_to_end(spec)
            while len(self._built) > KEEP:
                self._built.popitem(last=False)
        if self.on_built is not None:
            self.on_built(spec)
        return len(rowids)

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        """A connection of its own (WAL: the app's reads and writes go on meanwhile)."""
        if str(self._db.path) == MEMORY:
            with self._db.read() as conn:
                yield conn
            return
        conn = connect(self._db.path)
        try:
            yield conn
        finally:
            conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._built.clear()
