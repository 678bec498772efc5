"""A cache that cannot be opened: which file, why, what to do, and the queued edits in it.

The cache holds the outbox, so a damaged file may hold edits the vendor never got. Nothing
here deletes or rewrites a damaged file:

- ``probe`` (cheap, before SQLite opens the file) and ``unusable`` (from the error SQLite
  or the OS raised) give a ``CacheUnusable``: one line naming the file, the problem and
  what to do (usually ``crmtui cache salvage``).
- ``check`` reports on a cache file without changing it (``crmtui cache check``).
- ``salvage`` moves a damaged file aside (``<name>.damaged-<UTC time>``, its ``-wal``
  beside it), starts a fresh cache and copies into it every unfinished edit it can read
  (``crmtui cache salvage``). Rows are read through SQLite where it can still read the
  table, else straight from the file's pages (``scan_outbox``: SQLite's b-tree leaf cells,
  in the main file and in its write-ahead log), the way ``sqlite3 .recover`` does.
  Edits read from raw pages may include ones the user had discarded or that were sent
  just before the damage: they come back as *uncertain* (the user decides, nothing is
  sent on its own); edits read through SQLite keep their state.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crmtui import files
from crmtui.model import Change, ChangeState

MAGIC = b"SQLite format 3\x00"
_KNOWN_STATES = {s.value for s in ChangeState}
_UNFINISHED = {s.value for s in ChangeState} - {ChangeState.DONE.value}


class CacheUnusable(Exception):
    """The cache file cannot be used; ``str()`` is one line saying which file and what to do.

    ``kind``: ``damaged`` (unreadable; salvage it), ``newer`` (written by a newer crmtui),
    ``blocked`` (a folder, a FIFO or device, a dangling link or a link to another user's
    file, no permission, a read-only place), ``foreign`` (another program's database: left
    as it is, never salvaged) or ``locked``.
    """

    def __init__(self, path: Path, kind: str, reason: str, todo: str) -> None:
        self.path = path
        self.kind = kind
        self.reason = reason
        self.todo = todo
        super().__init__(f"the cache {path} {reason}; {todo}")


def _salvage_hint(path: Path, *, newer: bool = False) -> str:
    from crmtui import locations

    db = "" if path == locations.cache_db() else f" --db {path}"
    keep = "upgrade crmtui, or run" if newer else "run"
    return (
        f"queued edits may be inside it: {keep} `crmtui cache salvage{db}` to keep it aside "
        "and recover them into a fresh cache"
    )


def _foreign_hint(path: Path) -> str:
    from crmtui import locations

    where = (
        "move it away or set CRMTUI_HOME to another folder"
        if path == locations.cache_db()
        else "give --db a file of crmtui's own (or a new name)"
    )
    return f"crmtui leaves it as it is: {where}"


def _damaged(path: Path, why: str) -> CacheUnusable:
    return CacheUnusable(path, "damaged", f"is damaged ({why})", _salvage_hint(path))


def _header(path: Path) -> bytes:
    return files.read_regular(path, 100)


# SQLite's files beside the cache: they hold committed edits (-wal) or locks; SQLite opens
# them by name, following links, so each must be a plain file of this user or absent.
_SIDE_FILES = ("-wal", "-shm", "-journal")


def _not_a_file(path: Path, shown: Path | str, what: str) -> CacheUnusable:
    return CacheUnusable(
        path,
        "blocked",
        f"cannot be used: {shown} is {what}",
        f"move {shown} away (crmtui makes its own files there), then start crmtui again",
    )


def _file_problem(path: Path) -> CacheUnusable | None:
    """The cache path and SQLite's files beside it: regular files of this user only.

    Decision: a symbolic link as the cache is followed only to a regular file owned by
    this user (someone may keep the cache on another disk); a link to anything else (a
    device, another user's file) is refused, never opened, written or chmodded. The
    ``-wal``/``-shm``/``-journal`` files beside it must not be links at all (SQLite
    makes them itself).
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            return CacheUnusable(
                path,
                "blocked",
                f"is a link to {os.readlink(path)}, which does not exist",
                "restore its target (a disk not mounted?) or remove the link",
            )
        st = None
    except OSError as exc:  # a loop of links, a name too long...
        return CacheUnusable(
            path, "blocked", f"cannot be opened ({exc.strerror or exc})", "check the path"
        )
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            return CacheUnusable(
                path, "blocked", "is a folder, not a file", "move it away and start crmtui again"
            )
        try:
            files.check_regular(path, st, own=True)
        except files.NotAFile as exc:
            if not path.is_symlink():
                return _not_a_file(path, "it", exc.what)
            return CacheUnusable(
                path,
                "blocked",
                f"is a link to {path.resolve()}, which is {exc.what}; crmtui does not "
                "open or change it",
                "remove the link (crmtui then makes its own cache file there)",
            )
    for suffix in _SIDE_FILES:
        side = Path(f"{path}{suffix}")
        try:
            side_st = side.lstat()
        except FileNotFoundError:
            continue
        except OSError:
            continue
        if stat.S_ISLNK(side_st.st_mode):
            return _not_a_file(path, side, "a symbolic link (SQLite does not make links)")
        try:
            files.check_regular(side, side_st, own=True)
        except files.NotAFile as exc:
            return _not_a_file(path, side, exc.what)
    return None


def probe(path: Path) -> CacheUnusable | None:
    """What is wrong with the file at ``path`` before SQLite opens it (None: try it)."""
    problem = _file_problem(path)
    if problem is not None:
        return problem
    if not path.exists():
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if folder.exists() and not os.access(folder, os.W_OK | os.X_OK):
            return CacheUnusable(
                path,
                "blocked",
                f"cannot be created: the folder {folder} is read-only",
                f"make it writable (chmod u+w {folder}) or set CRMTUI_HOME to another folder",
            )
        return None
    from crmtui.store.db import in_use

    if in_use(path):  # open here: reading its header would drop this process's locks
        return None
    try:
        size = path.stat().st_size
        head = _header(path)
    except PermissionError:
        return CacheUnusable(
            path, "blocked", "cannot be read (permission denied)", f"run chmod 600 {path}"
        )
    except files.NotAFile as exc:  # replaced since it was looked at
        return _not_a_file(path, "it", exc.what)
    if size == 0:
        return None  # SQLite makes an empty file a new database
    if len(head) < 100 or not head.startswith(MAGIC):
        return _damaged(path, "its header is not an SQLite header")
    page_size = _page_size(head)
    if page_size is None:
        return _damaged(path, "its header names no valid page size")
    pages, counter, valid_for = struct.unpack(">I", head[28:32]), head[24:28], head[92:96]
    if size % page_size:
        return _damaged(path, f"{size} bytes is not a whole number of {page_size}-byte pages")
    if counter == valid_for and pages[0] * page_size > size and not _checkpointing(path, size):
        return _damaged(path, f"truncated: {size} of {pages[0] * page_size} bytes")
    return None


def _checkpointing(path: Path, size: int) -> bool:
    """Whether a file that looks truncated (``size`` bytes, fewer than its header counts)
    may be another process's checkpoint under way: it writes the header page first, then
    the others from its WAL, and SQLite reads them from there meanwhile. Seen when a WAL
    with frames is beside it or the file grew since ``size`` was read (the WAL may be gone
    by then); a file truncated for good is neither, or SQLite finds it damaged itself."""
    try:
        wal = Path(f"{path}-wal").stat().st_size
    except OSError:
        wal = 0
    try:
        grown = path.stat().st_size != size
    except OSError:
        grown = False
    return wal > 0 or grown


def _page_size(head: bytes) -> int | None:
    value = int.from_bytes(head[16:18], "big")
    value = 65536 if value == 1 else value
    if value < 512 or value > 65536 or value & (value - 1):
        return None
    return value


def unusable(path: Path, exc: BaseException) -> CacheUnusable:
    """The ``CacheUnusable`` for an error raised while opening the cache at ``path``."""
    from crmtui.store.db import NotACache, SchemaTooNew

    if isinstance(exc, CacheUnusable):
        return exc
    if isinstance(exc, files.NotAFile):
        return _not_a_file(path, "it" if exc.path == path else exc.path, exc.what)
    if isinstance(exc, NotACache) and exc.foreign:
        return CacheUnusable(path, "foreign", f"is {exc}", _foreign_hint(path))
    if isinstance(exc, NotACache):
        return _damaged(path, str(exc))
    if isinstance(exc, SchemaTooNew):
        return CacheUnusable(
            path,
            "newer",
            f"was written by a newer crmtui ({exc})",
            _salvage_hint(path, newer=True),
        )
    if isinstance(exc, IsADirectoryError):
        return CacheUnusable(
            path, "blocked", "is a folder, not a file", "move it away and start crmtui again"
        )
    if isinstance(exc, FileNotFoundError) and path.is_symlink():
        return probe(path) or _damaged(path, str(exc))
    if isinstance(exc, PermissionError | FileNotFoundError):
        return CacheUnusable(
            path,
            "blocked",
            f"cannot be opened ({exc.strerror or exc})",
            f"check the permissions of {path.parent} or set CRMTUI_HOME to another folder",
        )
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return CacheUnusable(
            path,
            "locked",
            "is locked by another program",
            "close other crmtui windows or notebooks using it, then try again",
        )
    if primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN) and not os.access(
        path.parent, os.W_OK | os.X_OK
    ):
        return CacheUnusable(
            path,
            "blocked",
            f"cannot be used: its folder {path.parent} is read-only (SQLite writes its "
            "journal beside it)",
            f"make it writable (chmod u+w {path.parent}) or set CRMTUI_HOME to another folder",
        )
    if primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM):
        return CacheUnusable(
            path,
            "blocked",
            f"cannot be written ({exc})",
            f"make {path.parent} and the file writable by you, or set CRMTUI_HOME",
        )
    if isinstance(exc, OSError):
        return CacheUnusable(
            path, "blocked", f"cannot be opened ({exc.strerror or exc})", "check the disk"
        )
    if primary == sqlite3.SQLITE_FULL:  # an upgrade's write rolled back: nothing is damaged
        return CacheUnusable(
            path,
            "blocked",
            "cannot be written: the disk is full",
            "free some disk space, then start crmtui again",
        )
    return _damaged(path, str(exc))


def cache_error(exc: BaseException | None) -> BaseException | None:
    """The cache's own error behind ``exc`` (an SQLite error raised while the app ran,
    possibly wrapped by a worker or another error), or None if there is none."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, sqlite3.Error | CacheUnusable):
            return exc
        inner = getattr(exc, "error", None)  # textual's WorkerFailed
        exc = inner if isinstance(inner, BaseException) else exc.__cause__ or exc.__context__
    return None


def at_run_time(path: Path, exc: BaseException) -> CacheUnusable:
    """The one line for an SQLite error raised while the cache was in use (a page found
    corrupt, its ``-wal`` replaced...): which file, what happened, what to do, and how
    many queued edits it holds when they can still be read."""
    problem = probe(path)  # a FIFO or link put in place of the file or its -wal
    if problem is None or problem.kind == "damaged":
        problem = unusable(path, exc)
    if problem.kind not in ("damaged", "newer"):
        return problem
    try:
        edits = _counts(read_outbox(path))
    except (OSError, ValueError, sqlite3.Error):
        return problem
    todo = problem.todo.replace("queued edits may be inside it", f"it holds {edits}", 1)
    return CacheUnusable(path, problem.kind, problem.reason, todo)


# -- reading what can be read --------------------------------------------------------------


@dataclass
class Found:
    """What could be read of a cache's outbox."""

    changes: list[tuple[Change, bool]] = field(default_factory=list)  # (change, maybe sent)
    how: str = "sqlite"  # "sqlite": the outbox table; "pages": raw pages (state uncertain)
    unreadable: int = 0  # rows that looked like outbox rows but could not be decoded

    def unfinished(self) -> list[tuple[Change, bool]]:
        return [(c, sent) for c, sent in self.changes if c.state is not ChangeState.DONE]


def read_outbox(path: Path) -> Found:
    """The outbox rows of the cache at ``path``: through SQLite if it can, else from pages."""
    try:
        return _read_with_sqlite(path)
    except (sqlite3.Error, ValueError):
        return scan_outbox(path)


def _read_with_sqlite(path: Path) -> Found:
    uri = f"{path.resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        rows = conn.execute("SELECT data, maybe_sent FROM outbox ORDER BY seq").fetchall()
    finally:
        conn.close()
    found = Found(how="sqlite")
    for data, maybe_sent in rows:
        try:
            found.changes.append((Change.model_validate_json(data), bool(maybe_sent)))
        except ValueError:
            found.unreadable += 1
    return found


def scan_outbox(path: Path) -> Found:
    """Outbox rows read straight from the b-tree leaf pages of the file and its WAL.

    A row is taken for an outbox row when its columns have the outbox's shape (id, profile,
    kind, record id, a known state, ..., a Change as JSON); the newest copy of each change
    (the WAL after the file, later frames after earlier ones) wins.
    """
    blob = path.read_bytes() if path.exists() else b""
    wal = Path(f"{path}-wal")
    frames = _wal_frames(wal.read_bytes()) if wal.exists() else []
    best: Found | None = None
    sizes = [4096, 1024, 2048, 8192, 16384, 32768, 65536, 512]
    head_size = _page_size(blob[:100]) if blob.startswith(MAGIC) else None
    if frames:
        sizes.insert(0, len(frames[0][1]))
    if head_size:
        sizes.insert(0, head_size)
    for size in dict.fromkeys(sizes):
        found = _scan(blob, frames, size)
        if best is None or len(found.changes) > len(best.changes):
            best = found
        if found.changes:
            break
    return best or Found(how="pages")


def _wal_frames(wal: bytes) -> list[tuple[int, bytes]]:
    if len(wal) < 32:
        return []
    page_size = int.from_bytes(wal[8:12], "big")
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        return []
    frames, offset = [], 32
    while offset + 24 + page_size <= len(wal):
        number = int.from_bytes(wal[offset : offset + 4], "big")
        frames.append((number, wal[offset + 24 : offset + 24 + page_size]))
        offset += 24 + page_size
    return frames


def _scan(blob: bytes, frames: list[tuple[int, bytes]], page_size: int) -> Found:
    pages: dict[int, bytes] = {}
    ordered: list[tuple[int, bytes]] = []
    for index in range(len(blob) // page_size):
        page = blob[index * page_size : (index + 1) * page_size]
        pages[index + 1] = page
        ordered.append((index + 1, page))
    for number, page in frames:
        if len(page) == page_size:
            pages[number] = page
            ordered.append((number, page))
    latest: dict[str, tuple[int, Change, bool]] = {}
    unreadable: set[int] = set()
    for number, page in ordered:
        for rowid, payload in _leaf_cells(page, number, pages, page_size):
            row = _outbox_row(payload)
            if row is None:
                continue
            if isinstance(row, str):
                unreadable.add(rowid)
                continue
            change, maybe_sent = row
            latest[change.id] = (rowid, change, maybe_sent)
            unreadable.discard(rowid)
    found = Found(how="pages", unreadable=len(unreadable))
    for _, change, maybe_sent in sorted(latest.values(), key=lambda item: item[0]):
        found.changes.append((change, maybe_sent))
    return found


def _varint(buf: bytes, at: int) -> tuple[int, int]:
    value = 0
    for k in range(8):
        byte = buf[at + k]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + k + 1
    return (value << 8) | buf[at + 8], at + 9


def _leaf_cells(
    page: bytes, number: int, pages: dict[int, bytes], size: int
) -> Iterator[tuple[int, bytes]]:
    """(rowid, payload) of each cell of a table leaf page; broken cells are skipped."""
    start = 100 if number == 1 else 0
    if len(page) < start + 8 or page[start] != 0x0D:
        return
    count = int.from_bytes(page[start + 3 : start + 5], "big")
    for index in range(min(count, size // 2)):
        at = start + 8 + 2 * index
        pointer = int.from_bytes(page[at : at + 2], "big")
        if pointer < start + 8 or pointer >= size:
            continue
        try:
            length, at = _varint(page, pointer)
            rowid, at = _varint(page, at)
            yield rowid, _payload(page, at, length, pages, size)
        except (IndexError, ValueError):
            continue


def _payload(page: bytes, at: int, length: int, pages: dict[int, bytes], size: int) -> bytes:
    usable = size  # crmtui never reserves bytes at the end of a page
    most = usable - 35
    if length <= most:
        return page[at : at + length]
    least = (usable - 12) * 32 // 255 - 23
    local = least + (length - least) % (usable - 4)
    local = local if local <= most else least
    data = bytearray(page[at : at + local])
    overflow = int.from_bytes(page[at + local : at + local + 4], "big")
    seen: set[int] = set()
    while len(data) < length:
        if overflow in seen or overflow not in pages:
            raise ValueError("broken overflow chain")
        seen.add(overflow)
        chunk = pages[overflow]
        data += chunk[4:usable]
        overflow = int.from_bytes(chunk[:4], "big")
    return bytes(data[:length])


def _columns(payload: bytes) -> list[object]:
    header_size, at = _varint(payload, 0)
    types = []
    while at < header_size:
        kind, at = _varint(payload, at)
        types.append(kind)
    values: list[object] = []
    at = header_size
    widths = {1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8}
    for kind in types:
        if kind == 0:
            values.append(None)
        elif kind in widths:
            width = widths[kind]
            values.append(int.from_bytes(payload[at : at + width], "big", signed=True))
            at += width
        elif kind == 7:
            values.append(struct.unpack(">d", payload[at : at + 8])[0])
            at += 8
        elif kind in (8, 9):
            values.append(kind - 8)
        elif kind >= 12:
            width = (kind - 12) // 2
            chunk = payload[at : at + width]
            if len(chunk) < width:
                raise ValueError("short record")
            values.append(chunk.decode("utf-8") if kind % 2 else chunk)
            at += width
        else:
            raise ValueError("reserved serial type")
    return values


def _outbox_row(payload: bytes) -> tuple[Change, bool] | str | None:
    """A Change (and its maybe-sent flag) if ``payload`` is an outbox row; "?" if it
    looks like one but cannot be decoded; None if it is some other row."""
    try:
        columns = _columns(payload)
    except (IndexError, ValueError, UnicodeDecodeError):
        return None
    if len(columns) < 10 or not all(isinstance(c, str) for c in columns[1:6]):
        return None
    if columns[5] not in _KNOWN_STATES or not isinstance(columns[9], str):
        return None
    try:
        change = Change.model_validate_json(columns[9])
    except ValueError:
        return "?"
    if change.id != columns[1]:
        return "?"
    return change, bool(columns[7])


# -- check and salvage ---------------------------------------------------------------------


@dataclass
class Report:
    """What ``check`` or ``salvage`` found, as lines for the user."""

    ok: bool
    lines: list[str]


def _counts(found: Found) -> str:
    unfinished = found.unfinished()
    if not unfinished:
        return "no queued edits"
    states: dict[str, int] = {}
    for change, _ in unfinished:
        states[change.state.value] = states.get(change.state.value, 0) + 1
    each = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    return f"{len(unfinished)} queued edit(s) not sent yet ({each})"


def check(path: Path) -> Report:
    """A report on the cache at ``path``; the file is not changed."""
    if not path.exists() and not path.is_symlink():
        return Report(True, [f"{path}: no cache yet (it is made on first use)"])
    problem = probe(path)
    if problem is None:
        problem = _sqlite_check(path)
    if problem is not None and problem.kind in ("blocked", "locked", "foreign"):
        return Report(False, [str(problem)])
    found = read_outbox(path)
    edits = _counts(found)
    if found.unreadable:
        edits += f"; {found.unreadable} more could not be read"
    if problem is None:
        return Report(True, [f"{path}: sound; {edits}"])
    return Report(False, [str(problem), f"readable: {edits}"])


def _sqlite_check(path: Path) -> CacheUnusable | None:
    from crmtui.store.db import SCHEMA_VERSION, NotACache, SchemaTooNew, check_schema

    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True)
        packed, unnamed = 0, None
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise SchemaTooNew(f"schema {version}; this crmtui knows {SCHEMA_VERSION}")
            result = conn.execute("PRAGMA integrity_check(5)").fetchall()
            if [r[0] for r in result] == ["ok"]:
                check_schema(conn)  # the tables the app needs, as opening it checks them
                packed = _unpackable_raws(conn)
                unnamed = _unnamed_rows(conn) if version >= _KEYLESS else None
        finally:
            conn.close()
    except (sqlite3.Error, SchemaTooNew, NotACache) as exc:
        return unusable(path, exc)
    if [r[0] for r in result] != ["ok"]:
        return _damaged(path, _integrity_reason(result))
    if packed:
        return _damaged(path, f"{packed} record(s)' stored vendor payload does not unpack")
    if unnamed:
        return _damaged(path, unnamed)
    return None


_KEYLESS = 12  # the schema from which a list's rows may be arrays of values (``db._v12``)


def _unnamed_rows(conn: sqlite3.Connection) -> str | None:
    """What is wrong with the names of records stored as arrays of values (``rows``,
    schema 12), if anything: a list's keys damaged (``rows.keys_of``: every read, sort
    or filter of the list fails), an array row whose list has none, or of another
    count. SQLite's own check cannot see that, and reading such a record says the
    cache is damaged."""
    from crmtui.store.rows import keys_of

    damaged = _failing(keys_of, conn.execute("SELECT keys FROM lists WHERE keys IS NOT NULL"))
    if damaged:
        return f"{damaged} list(s)' field names are damaged"
    found = conn.execute(
        "SELECT count(*) FROM records r LEFT JOIN lists l ON l.list = r.list"
        " WHERE substr(r.fields, 1, 1) = '[' AND (l.keys IS NULL"
        " OR json_array_length(r.fields) != json_array_length(l.keys))"
    ).fetchone()
    if found[0]:
        return f"{found[0]} record(s)' fields do not match their list's field names"
    return None


def _unpackable_raws(conn: sqlite3.Connection) -> int:
    """How many compressed raw payloads (``rows.pack_raw``) do not unpack: SQLite's own
    check cannot see inside them, and opening such a record says the cache is damaged."""
    from crmtui.store.rows import unpack_raw

    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records_raw'"
    )
    if found.fetchone() is None:
        return 0
    return _failing(
        unpack_raw, conn.execute("SELECT raw FROM records_raw WHERE typeof(raw) = 'blob'")
    )


def _failing(read: Callable[[Any], object], found: Iterable[tuple[Any]]) -> int:
    """How many of the values ``found`` (one-column rows) ``read`` finds damaged (raises
    SQLite's error for)."""
    bad = 0
    for (value,) in found:
        try:
            read(value)
        except sqlite3.DatabaseError:
            bad += 1
    return bad


def _integrity_reason(rows: list[tuple[object, ...]]) -> str:
    """SQLite's integrity_check rows (each may span lines) as one short phrase."""
    problems = [
        line.strip()
        for row in rows
        for line in str(row[0]).splitlines()
        if line.strip() and not line.startswith("***")
    ]
    first = problems[0] if problems else "integrity check failed"
    more = f" and {len(problems) - 1} more problem(s)" if len(problems) > 1 else ""
    return f"SQLite's integrity check: {first}{more}"


def _aside_name(path: Path, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    number = 1
    while aside.exists():
        number += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{number}")
    return aside


def salvage(path: Path, now: datetime | None = None) -> Report:
    """Keep a damaged (or too new) cache aside and recover its unfinished edits into a fresh one.

    A sound cache is left alone. The damaged file is renamed, never deleted; its ``-wal``
    and ``-shm`` files keep their names beside it, so SQLite still reads them together.
    """
    from crmtui.store import Store
    from crmtui.store.outbox import _save

    now = now or datetime.now(UTC)
    if not path.exists() and not path.is_symlink():
        return Report(True, [f"{path}: no cache; nothing to salvage"])
    problem = probe(path) or _sqlite_check(path)
    if problem is None:
        return Report(True, [f"{path}: sound; nothing to salvage"])
    if problem.kind in ("blocked", "locked", "foreign"):
        return Report(False, [str(problem)])
    aside = _aside_name(path, now)
    os.replace(path, aside)
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            os.replace(side, Path(f"{aside}{suffix}"))
    found = read_outbox(aside)
    unfinished = found.unfinished()
    store = Store(path)
    try:
        with store._db.transaction() as conn:
            for change, maybe_sent in unfinished:
                sent = maybe_sent or change.state is ChangeState.SENDING
                if found.how == "pages":
                    change.state = ChangeState.UNCERTAIN
                    change.last_error = (
                        "Recovered from a damaged cache: it may have been sent or "
                        "discarded before; check the record, then send or discard it."
                    )
                elif change.state is ChangeState.SENDING:
                    change.state = ChangeState.PENDING
                _save(conn, change)
                if sent:
                    conn.execute("UPDATE outbox SET maybe_sent = 1 WHERE id = ?", (change.id,))
    finally:
        store.close()
    lines = [f"kept the damaged cache as {aside} ({problem.reason})"]
    lines.append(f"started a fresh cache at {path}")
    held = " (to check: marked uncertain)" if found.how == "pages" and unfinished else ""
    lines.append(f"recovered {len(unfinished)} queued edit(s) into it{held}")
    if found.unreadable:
        lines.append(f"{found.unreadable} row(s) looked like queued edits but could not be read")
    lines.append("records and lists are fetched again from the vendors as you browse")
    return Report(True, lines)
