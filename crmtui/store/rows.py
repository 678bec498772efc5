"""Record rows: a ``Record`` to the columns of ``records`` and back.

A row is a record as the user sees it (the server's version with any unfinished
changes applied). ``Version`` is a record plus its deleted flag: what the server says
(kept in the ``server`` column while changes are queued) or what a row shows.

A row's fields are a JSON array of their values when their keys are exactly its list's
``keys``, in order (``db``, schema 12; the list's keys are read with the row, ``KEYS``),
else a JSON object as the record holds them.
"""

from __future__ import annotations

import json
import json.encoder
import json.scanner
import sqlite3
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, cast

from crmtui import jsonslices
from crmtui.model import Record, RecordRef, RelatedRef, whole_text
from crmtui.store import fts
from crmtui.store.db import LONG_VALUE, dumps, from_stamp, to_stamp
from crmtui.store.fts import search_text

# A string this long is escaped in slices of this many characters: a thread that stores a
# 20 MB field then lets the event loop run between slices (one ``json.dumps`` of it held
# the interpreter a third of a second).
SLICE = 1 << 18


def _string(text: str) -> str:
    escape = json.encoder.encode_basestring
    if len(text) <= SLICE:
        return escape(text)
    parts = (escape(text[i : i + SLICE])[1:-1] for i in range(0, len(text), SLICE))
    return '"' + "".join(parts) + '"'


_MAKE_ENCODER = json.encoder.c_make_encoder  # type: ignore[attr-defined]
_ENCODER = _MAKE_ENCODER and _MAKE_ENCODER(None, str, _string, None, ":", ",", False, False, True)


def encode(value: Any) -> str:
    """``dumps`` (the same text), a long string escaped a slice at a time (``SLICE``),
    made whole (``whole_text``: a lone surrogate, which no UTF-8 write takes, as U+FFFD;
    text a vendor sent is whole already, this is for a record made in code)."""
    if _ENCODER is None:  # a Python without json's C encoder
        return whole_text(dumps(value))
    return whole_text("".join(_ENCODER(value, 0)))


COLUMNS = (
    "vendor, profile, kind, id, title, subtitle, created_at, updated_at, remote_url,"
    " fields, related"
)
# The keys of the list of a row of ``records r`` when its fields are an array (``db``,
# schema 12), read with it (one snapshot): ``to_record``'s last column after ``COLUMNS``.
KEYS = (
    "CASE WHEN substr(r.fields, 1, 1) = '[' THEN (SELECT keys FROM lists WHERE list = r.list) END"
)
_PREFIXED = ", ".join(f"r.{name.strip()}" for name in COLUMNS.split(",")) + f", {KEYS}"

# A list, a board, My day and search show a record on one line: their rows carry the
# first ``PREVIEW_CHARS`` characters of a long title or subtitle, and of each text value
# of a record whose fields take more than ``PREVIEW_ROW`` bytes of JSON (cut by SQLite,
# so a 20 MB value is never read whole into a window, on the event loop), and are marked
# ``partial``. ``get_record`` reads a record whole.
PREVIEW_CHARS = 1_000
PREVIEW_ROW = 64 * 1024


def _cut(column: str) -> str:
    return (
        f"CASE WHEN length(CAST({column} AS BLOB)) > {PREVIEW_CHARS}"
        f" THEN substr({column}, 1, {PREVIEW_CHARS}) ELSE {column} END"
    )


_LONG_FIELDS = f"length(CAST(r.fields AS BLOB)) > {PREVIEW_ROW}"
_PREVIEW_FIELDS = (
    f"CASE WHEN {_LONG_FIELDS} THEN (SELECT json_group_object(key, CASE type"
    f" WHEN 'text' THEN substr(value, 1, {PREVIEW_CHARS})"
    " WHEN 'true' THEN json('true') WHEN 'false' THEN json('false')"
    " WHEN 'array' THEN json(value) WHEN 'object' THEN json(value)"
    " ELSE value END) FROM json_each(r.fields)) ELSE r.fields END"
)
_CUT = (
    f"{_LONG_FIELDS} OR length(CAST(r.title AS BLOB)) > {PREVIEW_CHARS}"
    f" OR length(CAST(r.subtitle AS BLOB)) > {PREVIEW_CHARS}"
)
# ``COLUMNS`` of ``records r`` as a window carries them, and whether anything was cut.
_PREVIEW_COLUMNS = ", ".join(
    _cut(f"r.{name}")
    if name in ("title", "subtitle")
    else _PREVIEW_FIELDS
    if name == "fields"
    else f"r.{name}"
    for name in (name.strip() for name in COLUMNS.split(","))
)
_PREVIEWED = f"{_PREVIEW_COLUMNS}, {KEYS}, {_CUT}"
# The same by rowid, the list's keys joined (``lists l``): a window's rows by rowid cost
# what they did before schema 12 (the subquery of ``KEYS`` took 0.04 ms of 128 rows).
_BY_ROWID = (
    f"SELECT r.rowid, {_PREVIEW_COLUMNS}, CASE WHEN substr(r.fields, 1, 1) = '[' THEN l.keys"
    f" END, {_CUT} FROM records r LEFT JOIN lists l ON l.list = r.list WHERE "
)

# ``synced_at`` is no longer written (nothing read it: a profile's last sync is kept in
# ``profiles``); a row written again drops the stamp an older crmtui left in it. ``list``:
# the number of the row's (profile, kind) (``lists``), which its key keeps.
UPSERT = """
INSERT INTO records (vendor, profile, kind, id, title, subtitle, created_at, updated_at,
    remote_url, fields, related, is_deleted, server, list)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (profile, kind, id) DO UPDATE SET
    vendor = excluded.vendor, title = excluded.title, subtitle = excluded.subtitle,
    created_at = excluded.created_at, updated_at = excluded.updated_at,
    remote_url = excluded.remote_url, fields = excluded.fields, related = excluded.related,
    synced_at = NULL, is_deleted = excluded.is_deleted, server = excluded.server
"""

_RAW_KEY = "SELECT rowid FROM records WHERE profile = ? AND kind = ? AND id = ?"
UPSERT_RAW = """
INSERT INTO records_raw (rec, raw) SELECT rowid, ? FROM records
    WHERE profile = ? AND kind = ? AND id = ?
ON CONFLICT (rec) DO UPDATE SET raw = excluded.raw
"""

# A record's raw payload (the vendor's JSON as it came: ``get_record``'s ``raw``, never
# listed, searched nor sorted) is stored zlib-compressed when that makes it smaller (a
# vendor's record of 1-3 KB of JSON packs to a third or less: issue 16, the cache's size
# per record), and not at all when it is empty (``{}``: read back as ``{}``). Packed
# payloads are BLOBs, plain ones text, so a cache keeps both kinds side by side.
RAW_PACK_FROM = 100  # bytes of JSON below which packing does not pay
_EMPTY_RAW = "{}"


def pack_raw(text: str) -> str | bytes | None:
    """A raw payload (JSON text) as ``records_raw`` stores it (None: not stored)."""
    if text == _EMPTY_RAW:
        return None
    data = text.encode()
    if len(data) < RAW_PACK_FROM:
        return text
    packed = zlib.compress(data, 6)  # zlib lets go of the interpreter while it works
    return packed if len(packed) < len(data) else text


def unpack_raw(stored: str | bytes | None) -> str | None:
    """The JSON text of a stored raw payload (``pack_raw``'s inverse).

    Bytes that do not unpack are a damaged cache, as a corrupt page is: raised as
    SQLite's error so the user is told which file and how to salvage its queued edits
    (``health.at_run_time``), never a record shown without the payload it was read with.
    """
    if isinstance(stored, bytes):
        try:
            return zlib.decompress(stored).decode()
        except (zlib.error, UnicodeDecodeError) as exc:
            error = f"a record's vendor payload in it does not unpack: {exc}"
            raise sqlite3.DatabaseError(error) from exc
    return stored


@dataclass(frozen=True)
class Version:
    """A record (without its raw payload) and whether it is deleted or hidden."""

    record: Record
    deleted: bool = False

    def to_json(self) -> str:
        data = self.record.model_dump(mode="json", exclude={"raw"})
        return encode({"record": data, "deleted": self.deleted})

    @classmethod
    def from_json(cls, text: str) -> Version:
        data = _loads(text)
        return cls(Record.model_validate(data["record"]), bool(data["deleted"]))

    def deleted_as(self, deleted: bool) -> Version:
        return replace(self, deleted=deleted)


def key(ref: RecordRef | Record) -> tuple[str, str, str]:
    return (ref.profile, ref.kind, ref.id)


def _related(record: Record) -> str:
    related = record.related
    if not related:
        return "{}"
    return dumps({label: [ref.model_dump() for ref in refs] for label, refs in related.items()})


def _fits(text: str, bound: int) -> bool:
    """Whether ``text`` takes at most ``bound`` bytes of UTF-8 as stored (a lone
    surrogate, which UTF-8 cannot encode, is stored as U+FFFD: three bytes, as
    ``surrogatepass`` counts it)."""
    if len(text) * 4 <= bound:
        return True
    return len(text) <= bound and len(text.encode("utf-8", "surrogatepass")) <= bound


def _shape(record: Record, fields: str) -> tuple[tuple[str, ...], str] | None:
    """A record's field keys and its values as a JSON array (``fields``: its fields as
    an object), when its row may be stored so: not empty, and nothing in it long enough
    for SQL to read it key by key (a window's preview of a row of more than
    ``PREVIEW_ROW`` bytes, the record screen's of a row with a long title: ``db``)."""
    if not record.fields or not _fits(fields, PREVIEW_ROW):
        return None
    if not (_fits(record.title, LONG_VALUE) and _fits(record.subtitle, LONG_VALUE)):
        return None
    return tuple(record.fields), encode(list(record.fields.values()))


def row_params(version: Version, *, server: Version | None) -> tuple[Any, ...]:
    """The parameters of ``UPSERT`` for one record, a place for its search text (index
    11, None: ``write_many`` derives it from the fields as stored, JSON, the same way it
    is derived again to take a row out of the contentless search index, and only when
    the row is indexed anew), and its fields' keys and values as an array (index 14,
    ``_shape``: ``write_many`` stores that when the keys are its list's)."""
    r = version.record
    fields = encode(r.fields)
    return (
        r.vendor,
        r.profile,
        r.kind,
        r.id,
        whole_text(r.title),
        whole_text(r.subtitle),
        to_stamp(r.created_at),
        to_stamp(r.updated_at),
        r.remote_url,
        fields,
        whole_text(_related(r)),
        None,
        int(version.deleted),
        server.to_json() if server else None,
        _shape(r, fields),
    )


def write(conn: sqlite3.Connection, version: Version, *, server: Version | None = None) -> None:
    """Insert or replace one row (raw untouched). A record written alone (an edit, a
    record made here) does not set its list's keys: a vendor's list does (``write_many``)."""
    write_many(conn, [row_params(version, server=server)], shapes=False)


def _grouped(keys: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str], list[str]]:
    groups: dict[tuple[str, str], list[str]] = {}
    for profile, kind, id_ in keys:
        groups.setdefault((profile, kind), []).append(id_)
    return groups


def stored_search_text(fields: str, *, whole: bool = False) -> str:
    """The indexed text of a row from its ``fields`` column (``whole``: of a row indexed
    before values were cut to ``fts.INDEXED_CHARS``, listed in ``records_fts_whole``).
    An array row's values are its fields' in their order: the same text."""
    values = _json(fields)
    if isinstance(values, list):
        values = dict(enumerate(values))
    return search_text(values, limit=None if whole else fts.INDEXED_CHARS)


# The columns ``UPSERT`` writes, in its order (a row's own, to compare).
_STORED = (
    "r.vendor, r.profile, r.kind, r.id, r.title, r.subtitle, r.created_at, r.updated_at,"
    " r.remote_url, r.fields, r.related, r.is_deleted, r.server"
)


def _stored(params: tuple[Any, ...]) -> tuple[Any, ...]:
    """What ``params`` (``row_params``, made ``_keyless``) would store, as ``_STORED``
    reads it back."""
    return params[:11] + params[12:14]


def _keyless(params: tuple[Any, ...], keys: tuple[str, ...] | None) -> tuple[Any, ...]:
    """``params`` with its fields as its list stores them: an array when their keys are
    the list's ``keys``, else the object."""
    shape = params[14]
    if keys is None or shape is None or shape[0] != keys:
        return params
    return (*params[:9], shape[1], *params[10:])


@lru_cache(maxsize=256)
def keys_of(text: str) -> tuple[str, ...]:
    """A list's keys (``lists.keys``, a JSON array) as a tuple (parsed once per text).

    Anything else (not JSON, not an array of distinct texts) is a damaged cache, raised
    as SQLite's error (``health.at_run_time`` names the file and what to do), never
    read as names: a string's letters, an object's keys or a name twice would show
    values under other fields' names, or lose one."""
    try:
        keys = json.loads(text)
    except ValueError:
        keys = None
    if (
        not isinstance(keys, list)
        or not all(isinstance(k, str) for k in keys)
        or len(set(keys)) != len(keys)
    ):
        raise sqlite3.DatabaseError("a list's field names in it are damaged")
    return tuple(keys)


def _whole_keys(keys: tuple[str, ...]) -> bool:
    """Whether ``keys`` are stored as they are (no lone surrogate: two of them stored as
    U+FFFD would name a list's keys twice, ``keys_of``)."""
    return all(key.isascii() or whole_text(key) == key for key in keys)


def _list_keys(
    conn: sqlite3.Connection,
    lists: dict[tuple[str, str], int],
    params: Iterable[tuple[Any, ...]],
    *,
    shapes: bool,
) -> dict[int, tuple[str, ...] | None]:
    """The keys of each of ``lists`` by number. A list without keys yet gets the most
    common keys among ``params`` (``shapes``: a vendor's batch), in this transaction,
    never changed after: its rows are read with them (``db``, schema 12)."""
    found: dict[int, tuple[str, ...] | None] = {}
    read = "SELECT keys FROM lists WHERE list = ?"
    counts: dict[int, Counter[tuple[str, ...]]] = {}
    for number in lists.values():
        (text,) = conn.execute(read, (number,)).fetchone()
        found[number] = None if text is None else keys_of(text)
        if text is None and shapes:
            counts[number] = Counter()
    for p in params if counts else ():
        number = lists[p[1], p[2]]
        if number in counts and p[14] is not None and _whole_keys(p[14][0]):
            counts[number][p[14][0]] += 1
    for number, counted in counts.items():
        if counted:
            keys = counted.most_common(1)[0][0]
            conn.execute(
                "UPDATE lists SET keys = ? WHERE list = ? AND keys IS NULL",
                (encode(list(keys)), number),
            )
            (text,) = conn.execute(read, (number,)).fetchone()
            found[number] = keys_of(text)
    return found


@dataclass
class _Row:
    """An existing row: its rowid, its columns (``_STORED``), and whether it was indexed
    with its values whole (``records_fts_whole``), and its title and subtitle whole
    (``records_fts_titles_whole``)."""

    rowid: int
    columns: tuple[Any, ...]
    whole: bool
    titles_whole: bool = False

    def index_entry(self) -> tuple[Any, ...]:
        """(rowid, title, subtitle, search text): what the index holds for the row."""
        text = stored_search_text(self.columns[9], whole=self.whole)
        return (self.rowid, *titles(self.columns[4], self.columns[5], self.titles_whole), text)


def titles(title: str | None, subtitle: str | None, whole: bool) -> tuple[str | None, ...]:
    """A row's title and subtitle as the index holds them (``whole``: as indexed before
    they were cut to ``fts.INDEXED_CHARS``)."""
    return (title, subtitle) if whole else (fts.indexed(title), fts.indexed(subtitle))


def _by_key(
    conn: sqlite3.Connection, keys: Iterable[tuple[str, str, str]], columns: str
) -> Iterator[tuple[tuple[str, str, str], list[Any]]]:
    """``columns`` of the existing rows among ``keys`` (of ``records r`` and, when they
    list them, ``records_fts_whole w`` and ``records_fts_titles_whole t``), by key."""
    for (profile, kind), ids in _grouped(keys).items():
        cursor = conn.execute(
            f"SELECT r.id, {columns} FROM records r"
            " LEFT JOIN records_fts_whole w ON w.rec = r.rowid"
            " LEFT JOIN records_fts_titles_whole t ON t.rec = r.rowid"
            " WHERE r.profile = ? AND r.kind = ? AND r.id IN (SELECT value FROM json_each(?))",
            (profile, kind, dumps(ids)),
        )
        for id_, *values in cursor:
            yield (profile, kind, id_), values


def _existing(
    conn: sqlite3.Connection, keys: Iterable[tuple[str, str, str]]
) -> dict[tuple[str, str, str], _Row]:
    """The existing rows among ``keys``."""
    found = _by_key(conn, keys, f"r.rowid, w.rec IS NOT NULL, t.rec IS NOT NULL, {_STORED}")
    return {k: _Row(v[0], tuple(v[3:]), bool(v[1]), bool(v[2])) for k, v in found}


def _rowids(
    conn: sqlite3.Connection, keys: Iterable[tuple[str, str, str]]
) -> dict[tuple[str, str, str], int]:
    """The rowids of the existing rows among ``keys``."""
    return {k: v[0] for k, v in _by_key(conn, keys, "r.rowid")}


def _unindex(conn: sqlite3.Connection, rows: Iterable[_Row]) -> None:
    """Take rows out of the contentless search index (with the text they were indexed
    with) and off ``records_fts_whole`` and ``records_fts_titles_whole``."""
    rows = list(rows)
    conn.executemany(
        "INSERT INTO records_fts (records_fts, rowid, title, subtitle, search_text)"
        " VALUES ('delete', ?, ?, ?, ?)",
        (row.index_entry() for row in rows),
    )
    conn.executemany(
        "DELETE FROM records_fts_whole WHERE rec = ?", ((r.rowid,) for r in rows if r.whole)
    )
    conn.executemany(
        "DELETE FROM records_fts_titles_whole WHERE rec = ?",
        ((r.rowid,) for r in rows if r.titles_whole),
    )


def write_many(
    conn: sqlite3.Connection,
    params: Iterable[tuple[Any, ...]],
    raws: dict[tuple[str, str, str], str] | None = None,
    *,
    shapes: bool = True,
) -> None:
    """Insert or replace rows (``row_params`` tuples) and keep the search index in step.

    ``raws``: raw payloads (JSON text) to store beside the rows, by key.

    A row that would not change is not written again (nor its raw payload, if that is
    the same): a refresh that brings a record with a 20 MB field as it was costs a
    comparison, not a rewrite of 20 MB. Only
    rows whose indexed text changed are re-indexed. The index is written with plain
    VALUES statements: FTS5 flushes its buffer at every statement savepoint, which made
    trigger- or INSERT...SELECT-based upkeep about five times slower.

    ``shapes``: a list without keys yet takes the most common keys of the batch's rows
    (``_list_keys``); a row is stored as an array when its keys are its list's.
    """
    batch = {(p[1], p[2], p[3]): p for p in params}  # the last version of a key wins
    if not batch:
        return
    lists = _lists(conn, {(p[1], p[2]) for p in batch.values()})
    keys = _list_keys(conn, lists, batch.values(), shapes=shapes)
    batch = {k: _keyless(p, keys[lists[k[:2]]]) for k, p in batch.items()}
    old = _existing(conn, batch)
    changed = {k: p for k, p in batch.items() if k not in old or old[k].columns != _stored(p)}
    texts: dict[tuple[str, str, str], str] = {}

    def text(key: tuple[str, str, str]) -> str:
        if key not in texts:
            texts[key] = batch[key][11] or stored_search_text(batch[key][9])
        return texts[key]

    stale = [
        row
        for key, row in old.items()
        if key in changed
        and (
            row.whole
            or row.titles_whole
            or row.columns[4:6] != batch[key][4:6]
            or (row.columns[9] != batch[key][9] and row.index_entry()[3] != text(key))
        )
    ]
    stale_keys = {(r.columns[1], r.columns[2], r.columns[3]) for r in stale}
    _unindex(conn, stale)
    conn.executemany(UPSERT, ((*_stored(p), lists[p[1], p[2]]) for p in changed.values()))
    fresh = [key for key in changed if key not in old or key in stale_keys]
    rowids = {k: row.rowid for k, row in old.items()}  # an upsert keeps a row's rowid
    rowids.update(_rowids(conn, [k for k in fresh if k not in old]))
    conn.executemany(
        "INSERT INTO records_fts (rowid, title, subtitle, search_text) VALUES (?, ?, ?, ?)",
        ((rowids[k], *titles(batch[k][4], batch[k][5], False), text(k)) for k in fresh),
    )
    if raws:
        rowids.update(_rowids(conn, [k for k in raws if k not in rowids]))
        kept = _raws(conn, [rowids[k] for k in raws if k in old])
        packed = {rowids[k]: pack_raw(raw) for k, raw in raws.items() if k in rowids}
        conn.executemany(
            "INSERT OR REPLACE INTO records_raw (rec, raw) VALUES (?, ?)",
            ((rec, raw) for rec, raw in packed.items() if raw is not None and kept.get(rec) != raw),
        )
        conn.executemany(
            "DELETE FROM records_raw WHERE rec = ?",
            ((rec,) for rec, raw in packed.items() if raw is None and rec in kept),
        )


def _lists(conn: sqlite3.Connection, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The numbers of lists ``(profile, kind)`` (``db.LIST_OF``), new ones numbered."""
    conn.executemany("INSERT OR IGNORE INTO lists (profile, kind) VALUES (?, ?)", pairs)
    find = "SELECT list FROM lists WHERE profile = ? AND kind = ?"
    return {pair: int(conn.execute(find, pair).fetchone()[0]) for pair in pairs}


def _raws(conn: sqlite3.Connection, rowids: list[int]) -> dict[int, str | bytes]:
    """The stored raw payloads of ``rowids`` (as stored: ``pack_raw``)."""
    if not rowids:
        return {}
    found = conn.execute(
        "SELECT rec, raw FROM records_raw WHERE rec IN (SELECT value FROM json_each(?))",
        (dumps(rowids),),
    )
    return dict(found.fetchall())


def write_raw(conn: sqlite3.Connection, records: Iterable[Record]) -> None:
    """Store the raw payloads of records already written (``pack_raw``)."""
    for r in records:
        packed = pack_raw(encode(r.raw))
        if packed is None:
            conn.execute(f"DELETE FROM records_raw WHERE rec = ({_RAW_KEY})", key(r))
        else:
            conn.execute(UPSERT_RAW, (packed, *key(r)))


def _related_refs(text: str) -> dict[str, list[RelatedRef]]:
    if text == "{}":
        return {}
    return {
        label: [RelatedRef.model_construct(**ref) for ref in refs]
        for label, refs in json.loads(text).items()
    }


def to_record(row: Sequence[Any], raw: str | None = None, *, partial: bool = False) -> Record:
    """A ``Record`` from the columns in ``COLUMNS`` order and the row's list's keys when
    its fields are an array (``KEYS``) (``partial``: values were cut).

    Rows were validated when they were written, so they are not validated again: a
    window of 128 rows costs a fraction of a millisecond instead of a few.
    """
    vendor, profile, kind, id_, title, subtitle, created, updated, url, fields, related, keys = row
    parsed = _json(fields)
    if keys is not None:
        parsed = _named(keys_of(keys), parsed)
    elif type(parsed) is list:  # an array row whose list lost its keys: nothing names them
        raise sqlite3.DatabaseError("a record's fields in it have no names")
    values = {
        "vendor": vendor,
        "profile": profile,
        "kind": kind,
        "id": id_,
        "title": title,
        "subtitle": subtitle,
        "created_at": from_stamp(created),
        "updated_at": from_stamp(updated),
        "remote_url": url,
        "fields": parsed,
        "related": _related_refs(related),
        "raw": _loads(raw) if raw else {},
        "partial": partial,
    }
    if _PRIVATE is None:
        return Record.model_construct(**values)
    return _constructed(values, _PRIVATE)


def _named(keys: tuple[str, ...], values: list[Any]) -> dict[str, Any]:
    """An array row's fields: its list's ``keys`` with its ``values`` (``zip`` unchecked,
    a fifth quicker than ``strict=True``, so their counts are compared first)."""
    if len(values) != len(keys):
        error = f"a record's fields hold {len(values)} values for {len(keys)} keys"
        raise sqlite3.DatabaseError(error)
    return dict(zip(keys, values))  # noqa: B905


def _constructed(values: dict[str, Any], private: _Factories) -> Record:
    """What ``model_construct`` makes of ``values`` (every field given, in order, nothing
    else), without its per-field bookkeeping, which cost most of a window's time (a
    record in 3 µs instead of 7): its state set directly, each private attribute
    (``private``: name, default factory) to a new default as its post-init sets them."""
    record = object.__new__(Record)
    _set(record, "__dict__", values)
    _set(record, "__pydantic_fields_set__", set(values))
    _set(record, "__pydantic_extra__", None)
    _set(record, "__pydantic_private__", {name: make() for name, make in private} or None)
    return record


_set = object.__setattr__
_SCAN = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def _json(text: str) -> Any:
    """``json.loads`` of text this module wrote (valid JSON, no surrounding space),
    without its checks around the C scanner: a third of a window's parse time."""
    if len(text) > jsonslices.SLICE:
        return jsonslices.loads(text)  # a long field: the event loop runs between slices
    return _SCAN(text, 0)[0]


def _loads(text: str) -> Any:
    """``json.loads``; a long text (a 20 MB field) a slice at a time (``jsonslices``), so
    a thread reading it lets the event loop run."""
    return jsonslices.loads(text) if len(text) > jsonslices.SLICE else json.loads(text)


# A private attribute's name and default factory.
_Factories = tuple[tuple[str, Callable[[], Any]], ...]
_FIELDS = (
    "vendor",
    "profile",
    "kind",
    "id",
    "title",
    "subtitle",
    "created_at",
    "updated_at",
    "remote_url",
    "fields",
    "related",
    "raw",
    "partial",
)


def _fast_private() -> _Factories | None:
    """The private attributes ``_constructed`` sets up, or None where it would not make
    what ``model_construct`` makes: a record's fields other than these (in this order),
    a private attribute without a plain default factory, a post-init hook of the model's
    own (pydantic's sets up the private attributes); and checked on a sample record."""
    factories = []
    for name, attr in Record.__private_attributes__.items():
        if attr.default_factory is None or attr.default_factory_takes_validated_data:
            return None
        factories.append((name, cast("Callable[[], Any]", attr.default_factory)))
    hook = Record.__pydantic_post_init__ and Record.model_post_init
    if tuple(Record.model_fields) != _FIELDS or (
        hook and (factories == [] or getattr(hook, "__name__", "") != "init_private_attributes")
    ):
        return None
    sample: dict[str, Any] = dict.fromkeys(_FIELDS, "")
    sample.update(fields={}, related={}, raw={}, partial=False)
    made, wanted = _constructed(dict(sample), tuple(factories)), Record.model_construct(**sample)
    state = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
    same = all(getattr(made, name) == getattr(wanted, name) for name in state)
    return tuple(factories) if same else None


_PRIVATE = _fast_private()


def fetch(conn: sqlite3.Connection, ref: RecordRef) -> tuple[Any, ...] | None:
    """The row of ``ref`` as stored, undecoded (``decode`` makes it what ``read`` returns):
    a caller can decode a large row after it let go of the connection's lock."""
    row: tuple[Any, ...] | None = conn.execute(
        f"SELECT {_PREFIXED}, r.is_deleted, r.server, x.raw FROM records r"
        " LEFT JOIN records_raw x ON x.rec = r.rowid"
        " WHERE r.profile = ? AND r.kind = ? AND r.id = ?",
        key(ref),
    ).fetchone()
    return row


def decode(row: tuple[Any, ...] | None) -> tuple[Version, Version | None] | None:
    """The row (``fetch``) and the server version kept beside it, if any."""
    if row is None:
        return None
    *columns, deleted, server, raw = row
    version = Version(to_record(columns, unpack_raw(raw)), bool(deleted))
    return version, Version.from_json(server) if server else None


def read(conn: sqlite3.Connection, ref: RecordRef) -> tuple[Version, Version | None] | None:
    """The row of ``ref`` (with raw) and the server version kept beside it, if any."""
    return decode(fetch(conn, ref))


def delete(conn: sqlite3.Connection, ref: RecordRef) -> None:
    """Remove a row and its index entry (raw goes with it)."""
    _unindex(conn, _existing(conn, [key(ref)]).values())
    conn.execute("DELETE FROM records WHERE profile = ? AND kind = ? AND id = ?", key(ref))


def delete_profile(conn: sqlite3.Connection, profile: str) -> None:
    """Remove every row of a profile and its index entries (one statement each)."""
    found = conn.execute(
        "SELECT r.rowid, r.title, r.subtitle, r.fields, w.rec IS NOT NULL, t.rec IS NOT NULL"
        " FROM records r LEFT JOIN records_fts_whole w ON w.rec = r.rowid"
        " LEFT JOIN records_fts_titles_whole t ON t.rec = r.rowid WHERE r.profile = ?",
        (profile,),
    )
    conn.executemany(
        "INSERT INTO records_fts (records_fts, rowid, title, subtitle, search_text)"
        " VALUES ('delete', ?, ?, ?, ?)",
        (
            (rowid, *titles(title, subtitle, whole_titles), stored_search_text(f, whole=whole))
            for rowid, title, subtitle, f, whole, whole_titles in found.fetchall()
        ),
    )
    for table in ("records_fts_whole", "records_fts_titles_whole"):
        conn.execute(
            f"DELETE FROM {table} WHERE rec IN (SELECT rowid FROM records WHERE profile = ?)",
            (profile,),
        )
    conn.execute("DELETE FROM records WHERE profile = ?", (profile,))
    conn.execute("DELETE FROM lists WHERE profile = ?", (profile,))


def select_rowids(conn: sqlite3.Connection, rowids: Sequence[int]) -> list[Record]:
    """Records (without raw, long texts previewed: ``PREVIEW_CHARS``) by rowid, in the
    order of ``rowids`` (primary-key lookups)."""
    if not rowids:
        return []
    ids = list(rowids)
    params: list[Any]
    if len(ids) <= 500:
        where, params = f"r.rowid IN ({', '.join('?' * len(ids))})", ids
    else:
        where, params = "r.rowid IN (SELECT value FROM json_each(?))", [dumps(ids)]
    found = conn.execute(_BY_ROWID + where, params)
    by_rowid = {row[0]: row[1:] for row in found}
    return [_previewed(by_rowid[rowid]) for rowid in ids if rowid in by_rowid]


def select_records(conn: sqlite3.Connection, tail: str, params: Sequence[Any]) -> list[Record]:
    """Records (without raw, long texts previewed: ``PREVIEW_CHARS``) from ``records r``
    followed by ``tail`` (joins, where, order)."""
    rows = conn.execute(f"SELECT {_PREVIEWED} FROM records r {tail}", params).fetchall()
    return [_previewed(row) for row in rows]


def _previewed(row: Sequence[Any]) -> Record:
    """A record from a row of ``_PREVIEWED``."""
    return to_record(row[:-1], partial=bool(row[-1]))
