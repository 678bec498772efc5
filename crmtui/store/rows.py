"""Record rows: a ``Record`` to the columns of ``records`` and back.

A row is a record as the user sees it (the server's version with any unfinished
changes applied). ``Version`` is a record plus its deleted flag: what the server says
(kept in the ``server`` column while changes are queued) or what a row shows.
"""

from __future__ import annotations

import json
import json.scanner
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from crmtui.model import Record, RecordRef, RelatedRef
from crmtui.store.db import dumps, from_text, to_text
from crmtui.store.fts import search_text

COLUMNS = (
    "vendor, profile, kind, id, title, subtitle, created_at, updated_at, remote_url,"
    " fields, related"
)
_PREFIXED = ", ".join(f"r.{name.strip()}" for name in COLUMNS.split(","))

UPSERT = """
INSERT INTO records (vendor, profile, kind, id, title, subtitle, created_at, updated_at,
    remote_url, fields, related, synced_at, is_deleted, server)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (profile, kind, id) DO UPDATE SET
    vendor = excluded.vendor, title = excluded.title, subtitle = excluded.subtitle,
    created_at = excluded.created_at, updated_at = excluded.updated_at,
    remote_url = excluded.remote_url, fields = excluded.fields, related = excluded.related,
    synced_at = COALESCE(excluded.synced_at, records.synced_at),
    is_deleted = excluded.is_deleted, server = excluded.server
"""

UPSERT_RAW = """
INSERT INTO records_raw (rec, raw)
SELECT rowid, ? FROM records WHERE profile = ? AND kind = ? AND id = ?
ON CONFLICT (rec) DO UPDATE SET raw = excluded.raw
"""


@dataclass(frozen=True)
class Version:
    """A record (without its raw payload) and whether it is deleted or hidden."""

    record: Record
    deleted: bool = False

    def to_json(self) -> str:
        data = self.record.model_dump(mode="json", exclude={"raw"})
        return dumps({"record": data, "deleted": self.deleted})

    @classmethod
    def from_json(cls, text: str) -> Version:
        data = json.loads(text)
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


def row_params(
    version: Version, *, synced_at: datetime | None, server: Version | None
) -> tuple[Any, ...]:
    """The parameters of ``UPSERT`` for one record, and its search text (index 11).

    The search text is derived from the fields as stored (JSON), the same way it is
    derived again to take a row out of the contentless search index (``_indexed``).
    """
    r = version.record
    fields = dumps(r.fields)
    return (
        r.vendor,
        r.profile,
        r.kind,
        r.id,
        r.title,
        r.subtitle,
        to_text(r.created_at),
        to_text(r.updated_at),
        r.remote_url,
        fields,
        _related(r),
        stored_search_text(fields),
        to_text(synced_at),
        int(version.deleted),
        server.to_json() if server else None,
    )


def write(
    conn: sqlite3.Connection,
    version: Version,
    *,
    synced_at: datetime | None = None,
    server: Version | None = None,
) -> None:
    """Insert or replace one row (raw untouched)."""
    write_many(conn, [row_params(version, synced_at=synced_at, server=server)])


def _grouped(keys: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str], list[str]]:
    groups: dict[tuple[str, str], list[str]] = {}
    for profile, kind, id_ in keys:
        groups.setdefault((profile, kind), []).append(id_)
    return groups


def stored_search_text(fields: str) -> str:
    """The indexed text of a row from its ``fields`` column."""
    return search_text(json.loads(fields))


def _indexed(
    conn: sqlite3.Connection, keys: Iterable[tuple[str, str, str]]
) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """(rowid, title, subtitle, search text) of the existing rows among ``keys``: what
    the contentless search index holds for them, to take them out of it."""
    found: dict[tuple[str, str, str], tuple[Any, ...]] = {}
    for (profile, kind), ids in _grouped(keys).items():
        cursor = conn.execute(
            "SELECT id, rowid, title, subtitle, fields FROM records"
            " WHERE profile = ? AND kind = ? AND id IN (SELECT value FROM json_each(?))",
            (profile, kind, dumps(ids)),
        )
        for id_, rowid, title, subtitle, fields in cursor:
            found[(profile, kind, id_)] = (rowid, title, subtitle, stored_search_text(fields))
    return found


def write_many(
    conn: sqlite3.Connection,
    params: Iterable[tuple[Any, ...]],
    raws: dict[tuple[str, str, str], str] | None = None,
) -> None:
    """Insert or replace rows (``row_params`` tuples) and keep the search index in step.

    ``raws``: raw payloads (JSON text) to store beside the rows, by key.

    Only rows whose indexed text changed are re-indexed. The index is written with
    plain VALUES statements: FTS5 flushes its buffer at every statement savepoint,
    which made trigger- or INSERT...SELECT-based upkeep about five times slower.
    """
    batch = {(p[1], p[2], p[3]): p for p in params}  # the last version of a key wins
    if not batch:
        return
    old = _indexed(conn, batch)
    stale = {
        key: entry
        for key, entry in old.items()
        if entry[1:] != (batch[key][4], batch[key][5], batch[key][11])
    }
    conn.executemany(
        "INSERT INTO records_fts (records_fts, rowid, title, subtitle, search_text)"
        " VALUES ('delete', ?, ?, ?, ?)",
        stale.values(),
    )
    conn.executemany(UPSERT, (p[:11] + p[12:] for p in batch.values()))
    fresh = [key for key in batch if key not in old or key in stale]
    rowids = {key: entry[0] for key, entry in _indexed(conn, fresh).items()}
    conn.executemany(
        "INSERT INTO records_fts (rowid, title, subtitle, search_text) VALUES (?, ?, ?, ?)",
        ((rowids[k], batch[k][4], batch[k][5], batch[k][11]) for k in fresh),
    )
    if raws:
        rowids.update((k, entry[0]) for k, entry in old.items())
        conn.executemany(
            "INSERT OR REPLACE INTO records_raw (rec, raw) VALUES (?, ?)",
            ((rowids[k], raw) for k, raw in raws.items() if k in rowids),
        )


def write_raw(conn: sqlite3.Connection, records: Iterable[Record]) -> None:
    conn.executemany(UPSERT_RAW, ((dumps(r.raw), r.profile, r.kind, r.id) for r in records))


def _related_refs(text: str) -> dict[str, list[RelatedRef]]:
    if text == "{}":
        return {}
    return {
        label: [RelatedRef.model_construct(**ref) for ref in refs]
        for label, refs in json.loads(text).items()
    }


def to_record(row: Sequence[Any], raw: str | None = None) -> Record:
    """A ``Record`` from the columns in ``COLUMNS`` order.

    Rows were validated when they were written, so they are not validated again: a
    window of 128 rows costs a fraction of a millisecond instead of a few.
    """
    vendor, profile, kind, id_, title, subtitle, created, updated, url, fields, related = row
    values = {
        "vendor": vendor,
        "profile": profile,
        "kind": kind,
        "id": id_,
        "title": title,
        "subtitle": subtitle,
        "created_at": from_text(created),
        "updated_at": from_text(updated),
        "remote_url": url,
        "fields": _json(fields),
        "related": _related_refs(related),
        "raw": json.loads(raw) if raw else {},
        "partial": False,
    }
    if not _FAST:
        return Record.model_construct(**values)
    # What ``model_construct`` does when every field is given, without its per-field
    # bookkeeping, which cost most of a window's time (25 µs a record).
    record = object.__new__(Record)
    _set(record, "__dict__", values)
    _set(record, "__pydantic_fields_set__", set(values))
    _set(record, "__pydantic_extra__", None)
    _set(record, "__pydantic_private__", None)
    return record


_set = object.__setattr__
_SCAN = json.scanner.make_scanner(json.JSONDecoder())


def _json(text: str) -> Any:
    """``json.loads`` of text this module wrote (valid JSON, no surrounding space),
    without its checks around the C scanner: a third of a window's parse time."""
    return _SCAN(text, 0)[0]


# The fast path holds while a record's fields are exactly these (in this order), and the
# model has no private attributes or post-init hook to set up.
_FAST = (
    tuple(Record.model_fields)
    == (
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
    and not Record.__private_attributes__
    and Record.__pydantic_post_init__ is None
)


def read(conn: sqlite3.Connection, ref: RecordRef) -> tuple[Version, Version | None] | None:
    """The row of ``ref`` (with raw) and the server version kept beside it, if any."""
    row = conn.execute(
        f"SELECT {_PREFIXED}, r.is_deleted, r.server, x.raw FROM records r"
        " LEFT JOIN records_raw x ON x.rec = r.rowid"
        " WHERE r.profile = ? AND r.kind = ? AND r.id = ?",
        key(ref),
    ).fetchone()
    if row is None:
        return None
    *columns, deleted, server, raw = row
    version = Version(to_record(columns, raw), bool(deleted))
    return version, Version.from_json(server) if server else None


def delete(conn: sqlite3.Connection, ref: RecordRef) -> None:
    """Remove a row and its index entry (raw goes with it)."""
    for entry in _indexed(conn, [key(ref)]).values():
        conn.execute(
            "INSERT INTO records_fts (records_fts, rowid, title, subtitle, search_text)"
            " VALUES ('delete', ?, ?, ?, ?)",
            entry,
        )
    conn.execute("DELETE FROM records WHERE profile = ? AND kind = ? AND id = ?", key(ref))


def delete_profile(conn: sqlite3.Connection, profile: str) -> None:
    """Remove every row of a profile and its index entries (one statement each)."""
    found = conn.execute(
        "SELECT rowid, title, subtitle, fields FROM records WHERE profile = ?", (profile,)
    )
    conn.executemany(
        "INSERT INTO records_fts (records_fts, rowid, title, subtitle, search_text)"
        " VALUES ('delete', ?, ?, ?, ?)",
        ((r, t, s, stored_search_text(f)) for r, t, s, f in found.fetchall()),
    )
    conn.execute("DELETE FROM records WHERE profile = ?", (profile,))


def select_rowids(conn: sqlite3.Connection, rowids: Sequence[int]) -> list[Record]:
    """Records (without raw) by rowid, in the order of ``rowids`` (primary-key lookups)."""
    if not rowids:
        return []
    ids = list(rowids)
    if len(ids) <= 500:
        where, params = f"r.rowid IN ({', '.join('?' * len(ids))})", ids
    else:
        where, params = "r.rowid IN (SELECT value FROM json_each(?))", [dumps(ids)]
    found = conn.execute(f"SELECT r.rowid, {_PREFIXED} FROM records r WHERE {where}", params)
    by_rowid = {row[0]: row[1:] for row in found}
    return [to_record(by_rowid[rowid]) for rowid in ids if rowid in by_rowid]


def select_records(conn: sqlite3.Connection, tail: str, params: Sequence[Any]) -> list[Record]:
    """Records (without raw) from ``records r`` followed by ``tail`` (joins, where, order)."""
    rows = conn.execute(f"SELECT {_PREFIXED} FROM records r {tail}", params).fetchall()
    return [to_record(row) for row in rows]
