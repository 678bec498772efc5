"""The records cache: upserts from the server, single reads, windows of a list, search.

Lists are read as windows (``LIMIT``/``OFFSET`` over an index), never whole. Sorting by
title or a date walks an index of (profile, kind, is_deleted, column, id); sorting by a
field key uses ``json_extract`` (numbers, money and numeric text compare as numbers,
empty values last). Ties are broken by id, so a window never shuffles between reads.

Windows and search results carry no ``raw`` (it lives in its own table so list rows stay
small); ``get_record`` includes it. A record hidden by a queued delete, or gone on the
server, is left out of lists and ``get_record`` returns None for it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from crmtui.model import ChangeState, FieldType, Record, RecordRef, utcnow
from crmtui.store import optimistic, rows
from crmtui.store.db import HasDatabase, dumps, to_text
from crmtui.store.fts import WEIGHTS, fts_query

_COLUMN_SORTS = {
    "title": "r.title COLLATE NOCASE",
    "subtitle": "r.subtitle COLLATE NOCASE",
    "updated_at": "r.updated_at",
    "created_at": "r.created_at",
}
_NUMERIC_TYPES = (FieldType.NUMBER, FieldType.MONEY)

# A field's value as a sort key: numbers and numeric text as numbers, other text as is.
_GENERIC_SORT = """CASE
    WHEN typeof(json_extract(r.fields, ?)) IN ('integer', 'real') THEN json_extract(r.fields, ?)
    WHEN json_extract(r.fields, ?) GLOB '[0-9-]*'
        AND json_extract(r.fields, ?) GLOB '*[0-9]*'
        AND NOT substr(json_extract(r.fields, ?), 2) GLOB '*[^0-9.]*'
        THEN CAST(json_extract(r.fields, ?) AS REAL)
    ELSE json_extract(r.fields, ?) END"""
_FILTER = (
    "(json_extract(r.fields, ?) IN ({marks})"
    " OR (json_type(r.fields, ?) = 'array'"
    " AND EXISTS (SELECT 1 FROM json_each(r.fields, ?) WHERE value = ?)))"
)


def json_path(field: str) -> str:
    """The JSON path of a field key (quoted, so any key is safe)."""
    return '$."' + field.replace('"', "") + '"'


def _candidates(value: str) -> list[Any]:
    """What a filter's text may equal in JSON: itself, a number, a boolean."""
    found: list[Any] = [value]
    if value in ("true", "false"):
        found.append(int(value == "true"))
    else:
        for parse in (int, float):
            try:
                found.append(parse(value))
                break
            except ValueError:
                continue
    return found


def _filter_clause(field: str, value: str) -> tuple[str, list[Any]]:
    path = json_path(field)
    candidates = _candidates(value)
    marks = ", ".join("?" * len(candidates))
    return _FILTER.format(marks=marks), [path, *candidates, path, path, value]


class RecordsMixin(HasDatabase):
    """Records: upsert, get, delete marks, windows, counts and search."""

    def upsert_records(
        self, records: Iterable[Record], *, synced_at: datetime | None = None
    ) -> int:
        """Store records as the server sent them; returns how many were written.

        A record with unfinished changes keeps showing the user's values for the changed
        fields; the server's version is kept beside it (see ``server_version``).
        """
        batch = list(records)
        if not batch:
            return 0
        synced = synced_at or utcnow()
        with self._db.transaction() as conn:
            locked = _locked_keys(conn, {r.profile for r in batch})
            plain = [r for r in batch if rows.key(r) not in locked]
            rows.write_many(
                conn,
                (rows.row_params(rows.Version(r), synced_at=synced, server=None) for r in plain),
                {rows.key(r): dumps(r.raw) for r in plain},
            )
            refreshed = [r for r in batch if rows.key(r) in locked]
            for record in refreshed:
                server = rows.Version(record)
                optimistic.rebuild(conn, record.ref, server=server, synced_at=synced)
            rows.write_raw(conn, refreshed)
            _note_profiles(conn, {(r.profile, r.vendor) for r in batch}, synced)
        return len(batch)

    def get_record(self, ref: RecordRef) -> Record | None:
        """One record as the user sees it (queued edits applied), with its raw payload."""
        with self._db.read() as conn:
            found = rows.read(conn, ref)
        if found is None or found[0].deleted:
            return None
        return found[0].record

    def updated_stamps(self, profile: str, kind: str, ids: list[str]) -> dict[str, str | None]:
        """``updated_at`` (as stored text) of the cached, not deleted, records among ``ids``.

        A sync skips records the cache already holds at the same version.
        """
        with self._db.read() as conn:
            found = conn.execute(
                "SELECT id, updated_at FROM records WHERE profile = ? AND kind = ?"
                " AND is_deleted = 0 AND id IN (SELECT value FROM json_each(?))",
                (profile, kind, dumps(ids)),
            )
            return dict(found.fetchall())

    def server_version(self, ref: RecordRef) -> Record | None:
        """The server's last known version of a record that has unfinished changes."""
        with self._db.read() as conn:
            found = rows.read(conn, ref)
        return found[1].record if found and found[1] else None

    def mark_deleted(self, ref: RecordRef) -> None:
        """The server says the record is gone: hide it from lists and search."""
        with self._db.transaction() as conn:
            found = rows.read(conn, ref)
            if found is None:
                return
            server = found[1]
            if server is None:
                conn.execute(
                    "UPDATE records SET is_deleted = 1 WHERE profile = ? AND kind = ? AND id = ?",
                    rows.key(ref),
                )
            else:
                optimistic.rebuild(conn, ref, server=server.deleted_as(True))

    def count(
        self,
        profile: str,
        kind: str,
        *,
        search: str = "",
        filters: dict[str, str] | None = None,
    ) -> int:
        """How many records a list shows (deleted ones excluded)."""
        where, params = _where(profile, kind, search, filters)
        with self._db.read() as conn:
            return int(
                conn.execute(f"SELECT count(*) FROM records r {where}", params).fetchone()[0]
            )

    def count_profile(self, profile: str) -> int:
        """How many records of a profile are cached (every kind)."""
        with self._db.read() as conn:
            found = conn.execute(
                "SELECT count(*) FROM records WHERE profile = ? AND is_deleted = 0", (profile,)
            ).fetchone()
        return int(found[0])

    def window(
        self,
        profile: str,
        kind: str,
        *,
        offset: int,
        limit: int,
        sort: str | None = None,
        descending: bool = False,
        search: str = "",
        filters: dict[str, str] | None = None,
    ) -> list[Record]:
        """``limit`` records of a list from ``offset``, in a stable order (title by default)."""
        where, params = _where(profile, kind, search, filters)
        with self._db.read() as conn:
            order, order_params = self._order_by(conn, profile, kind, sort, descending)
            return rows.select_records(
                conn,
                f"{where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, *order_params, max(limit, 0), max(offset, 0)],
            )

    def search(
        self,
        text: str,
        *,
        limit: int = 50,
        profiles: list[str] | None = None,
        kinds: list[str] | None = None,
    ) -> list[Record]:
        """Records matching ``text`` (last word as a prefix), best match first (bm25)."""
        query = fts_query(text)
        if query is None:
            return []
        clauses = ["records_fts MATCH ?", "r.is_deleted = 0"]
        params: list[Any] = [query]
        for column, values in (("profile", profiles), ("kind", kinds)):
            if values is not None:
                clauses.append(f"r.{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        weights = ", ".join(str(w) for w in WEIGHTS)
        tail = (
            "JOIN records_fts f ON f.rowid = r.rowid WHERE "
            + " AND ".join(clauses)
            + f" ORDER BY bm25(records_fts, {weights}), r.title COLLATE NOCASE, r.id LIMIT ?"
        )
        with self._db.read() as conn:
            try:
                return rows.select_records(conn, tail, [*params, limit])
            except sqlite3.OperationalError:  # input the tokenizer reads as nothing
                return []

    def _order_by(
        self, conn: sqlite3.Connection, profile: str, kind: str, sort: str | None, desc: bool
    ) -> tuple[str, list[Any]]:
        direction = " DESC" if desc else ""
        column = _COLUMN_SORTS.get(sort or "title")
        if column is not None:
            return f"{column}{direction}, r.id{direction}", []
        assert sort is not None
        path = json_path(sort)
        if _field_type(conn, profile, kind, sort) in _NUMERIC_TYPES:
            expr, params = "CAST(json_extract(r.fields, ?) AS REAL)", [path]
        else:
            expr, params = _GENERIC_SORT, [path] * _GENERIC_SORT.count("?")
        value = f"({expr})"
        order = f"{value} IS NULL, {value}{direction}, r.id{direction}"
        return order, [*params, *params]


def _where(
    profile: str, kind: str, search: str, filters: dict[str, str] | None
) -> tuple[str, list[Any]]:
    clauses = ["r.profile = ?", "r.kind = ?", "r.is_deleted = 0"]
    params: list[Any] = [profile, kind]
    query = fts_query(search) if search else None
    if query is not None:
        clauses.append("r.rowid IN (SELECT rowid FROM records_fts WHERE records_fts MATCH ?)")
        params.append(query)
    for field, value in (filters or {}).items():
        clause, clause_params = _filter_clause(field, value)
        clauses.append(clause)
        params.extend(clause_params)
    return "WHERE " + " AND ".join(clauses), params


def _field_type(conn: sqlite3.Connection, profile: str, kind: str, field: str) -> str | None:
    """The type of a field from the cached field specs, if they were stored."""
    found = conn.execute(
        "SELECT json_extract(value, '$.type') FROM field_specs, json_each(field_specs.data)"
        " WHERE profile = ? AND kind = ? AND json_extract(value, '$.key') = ?",
        (profile, kind, field),
    ).fetchone()
    return found[0] if found else None


def _locked_keys(conn: sqlite3.Connection, profiles: set[str]) -> set[tuple[str, str, str]]:
    """(profile, kind, id) of every record with an unfinished change in ``profiles``."""
    marks = ", ".join("?" * len(profiles))
    found = conn.execute(
        f"SELECT DISTINCT profile, kind, record_id FROM outbox"
        f" WHERE state != ? AND profile IN ({marks})",
        (ChangeState.DONE.value, *profiles),
    )
    return {(p, k, i) for p, k, i in found}


def _note_profiles(
    conn: sqlite3.Connection, pairs: set[tuple[str, str]], synced_at: datetime
) -> None:
    conn.executemany(
        "INSERT INTO profiles (profile, vendor, last_synced) VALUES (?, ?, ?)"
        " ON CONFLICT (profile) DO UPDATE SET vendor = excluded.vendor,"
        " last_synced = max(coalesce(profiles.last_synced, ''), excluded.last_synced)",
        [(profile, vendor, to_text(synced_at)) for profile, vendor in pairs],
    )
