"""The records cache: upserts from the server, single reads, windows of a list, search.

Lists are read as windows, never whole. A long list's order is built once in the
background (``positions``: its rowids in order), then a window anywhere is a slice of it;
until then, and while a change is caught up, a window is read with ``LIMIT``/``OFFSET``
over an index from the nearer end. Sorting by title or a date walks an index of
(list, is_deleted, column, id); sorting or filtering by a field key walks an
expression index built the first time it is needed (see ``indexes``: numbers, money and
numeric text compare as numbers, empty values last). Ties are broken by id, so a window
never shuffles between reads. A whole list's size comes from ``record_counts``, which
triggers keep exact; a filtered or searched list's from its built order when there is
one.

Windows and search results carry no ``raw`` (it lives in its own table so list rows stay
small); ``get_record`` includes it. A record hidden by a queued delete, or gone on the
server, is left out of lists and ``get_record`` returns None for it.

A read from a vendor is stored with the ``read_mark`` it took when it left: a record a
change of which the vendor confirmed meanwhile (the outbox's ``complete``, in any
process sharing the file) keeps the confirmed version, not the one read before it.
"""

from __future__ import annotations

import copy
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from crmtui.model import ChangeState, KindInfo, Record, RecordRef, utcnow
from crmtui.store import indexes, optimistic, positions, ranking, rows
from crmtui.store.db import (
    LIST_OF,
    MEMORY,
    CacheWriteError,
    Database,
    HasDatabase,
    dumps,
    from_stamp,
    to_text,
)
from crmtui.store.fts import WEIGHTS, fts_query

SEARCH_CAP = 250
# Characters of JSON from which a write of records goes through a second connection (see
# ``_writing``) and a row read is kept decoded (see ``RecordsMixin._decoded``): a record
# with a field of a few megabytes or more.
LARGE = 1_000_000
# The record screen's read (``get_record_preview``): a row with a long value as
# ``records_preview`` holds it (cut when it was written, see ``db.LONG_VALUE``), else the
# row as stored (nothing in it is long). One statement: one snapshot of the file. The
# long row itself is not read: its key and rowid come from the key's index.
_KEY = "r.profile = :profile AND r.kind = :kind AND r.id = :id"
_PREVIEWED = ", ".join(f"p.{name.strip()}" for name in rows.COLUMNS.split(","))
_STORED = ", ".join(f"r.{name.strip()}" for name in rows.COLUMNS.split(","))
_PREVIEW_SQL = f"""
SELECT {_PREVIEWED}, NULL, p.lengths, p.cut_titles, p.is_deleted
FROM records r JOIN records_preview p ON p.rec = r.rowid WHERE {_KEY}
UNION ALL
SELECT {_STORED}, {rows.KEYS}, '{{}}', 0, r.is_deleted FROM records r
WHERE {_KEY} AND NOT EXISTS (SELECT 1 FROM records_preview WHERE rec = r.rowid)
"""


_KEY_NAMES = ("profile", "kind", "id")
# The path of the field ``:key`` (``:path``: by key) in a row of ``records r``: in an array
# row, its place in the list's keys (none: NULL, nothing found), else by key.
_FIELD_PATH = (
    "(CASE WHEN substr(r.fields, 1, 1) = '[' THEN (SELECT '$[' || e.key || ']'"
    " FROM lists l, json_each(l.keys) e WHERE l.list = r.list AND e.value = :key)"
    " ELSE :path END)"
)

# A key a JSON path spells: nothing in it that JSON escapes.
_SPELLED = re.compile(r'[^"\\\x00-\x1f]*')
# A field of an object row by its name (the last of that name, as a read of the row
# takes it): for a key no JSON path spells (``get_field``).
_FIELD_BY_NAME = (
    "SELECT e.type, CASE WHEN e.type IN ('array', 'object') THEN json(e.value) ELSE e.value END"
    " FROM records r, json_each(r.fields) e WHERE r.profile = :profile AND r.kind = :kind"
    " AND r.id = :id AND r.is_deleted = 0 AND substr(r.fields, 1, 1) = '{' AND e.key = :key"
    " ORDER BY e.id DESC LIMIT 1"
)


class RecordPreview(NamedTuple):
    """A record as the record screen shows it (``get_record_preview``): its long text
    values cut (then ``record.partial``), and each cut value's whole length in
    characters, by field key."""

    record: Record
    lengths: dict[str, int]


_BM25 = f"bm25(records_fts, {', '.join(str(w) for w in WEIGHTS)})"
_RANKED = f"SELECT rowid, {_BM25} AS score FROM records_fts WHERE records_fts MATCH ?"
_ARRAY_TEXT = " >= '[' AND {v} < '\\'"  # json_extract of an array: '[...]' text


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


def _any(conn: sqlite3.Connection, profile: str, kind: str, clause: str, params: list[Any]) -> bool:
    """Whether a live record of the list meets ``clause`` (one probe of an index)."""
    found = conn.execute(
        f"SELECT 1 FROM records WHERE list = {LIST_OF} AND is_deleted = 0 AND {clause} LIMIT 1",
        [profile, kind, *params],
    ).fetchone()
    return found is not None


def _filter_clause(
    conn: sqlite3.Connection, profile: str, kind: str, field: str, value: str
) -> tuple[str, list[Any]]:
    """The WHERE term of a filter, shaped so its index can answer it.

    The candidate values and the array (tags) branch that no live record can meet are
    left out (each checked with one index probe), so the usual filter is one equality
    and a title-ordered window walks the index without sorting.
    """
    place = indexes.slot(list_keys(conn, profile, kind), field)
    name, definition = indexes.filter_index(field, place)
    indexes.ensure(conn, name, definition)
    v = indexes.extract(field, place)
    candidates = _candidates(value)
    present = [c for c in candidates[1:] if _any(conn, profile, kind, f"{v} = ?", [c])]
    candidates = [candidates[0], *present]
    clause = f"{v} = ?" if len(candidates) == 1 else f"{v} IN ({', '.join('?' * len(candidates))})"
    params: list[Any] = list(candidates)
    arrays = f"{v}{_ARRAY_TEXT.format(v=v)}"
    if _any(conn, profile, kind, arrays, []):
        member = "EXISTS (SELECT 1 FROM json_each(r.fields, ?) WHERE value = ?)"
        paths = [indexes.json_path(field)]
        if place is not None:  # an array row's value at its place, an object row's by key
            member = member.replace(
                "?", "CASE WHEN substr(r.fields, 1, 1) = '[' THEN ? ELSE ? END", 1
            )
            paths.insert(0, indexes.path(field, place))
        clause = f"({clause} OR ({arrays} AND {member}))"
        params += [*paths, value]
    return clause, params


def list_keys(conn: sqlite3.Connection, profile: str, kind: str) -> tuple[str, ...] | None:
    """The keys of a list's array rows (``db``, schema 12), None while it has none."""
    found = conn.execute(
        "SELECT keys FROM lists WHERE profile = ? AND kind = ?", (profile, kind)
    ).fetchone()
    return rows.keys_of(found[0]) if found and found[0] is not None else None


class RecordsMixin(HasDatabase):
    """Records: upsert, get, delete marks, windows, counts and search."""

    def read_mark(self) -> int:
        """Where the cache's confirmed writes stand: taken right before a read leaves for
        the vendor, and given with what it brought to ``upsert_records`` (``left_at``).

        It counts the changes vendors confirmed (``note_confirmed``), in the file, so a
        confirmation by another process sharing the cache counts too."""
        with self._db.read() as conn:
            return _last_confirmed(conn)

    @contextmanager
    def storing_read(self, key: RecordRef, left_at: int) -> Iterator[bool]:
        """A write transaction for storing what a read brought about ``key`` (a record's
        ``timeline_key``): yields True when a change of it was confirmed since the read
        left (``read_mark``), and then the read is not to be stored (``upsert_records``'s
        rule, for what is stored apart from records). Writes inside it join it."""
        with self._db.transaction() as conn:
            yield rows.key(key) in confirmed_since(conn, left_at)

    def upsert_records(
        self,
        records: Iterable[Record],
        *,
        synced_at: datetime | None = None,
        left_at: int | None = None,
        newest: bool = False,
    ) -> int:
        """Store records as the server sent them; returns how many were written.

        A record with unfinished changes keeps showing the user's values for the changed
        fields; the server's version is kept beside it (see ``server_version``).

        ``left_at``: the ``read_mark`` taken when the read left for the vendor. A record
        a change of which the vendor confirmed since (an edit, a delete) is left as the
        cache holds it: the read may have been answered before that change landed, and
        would put the value from before it back (or a deleted record back in its list)
        until the next read. The next read brings any later change. None: every record
        is written (a caller that read nothing from a vendor).

        ``newest``: the records are as the vendor holds them now, read right before a
        write (the outbox's read that found a conflict): noted as a confirmation is, so
        a read that left before it is not stored over them either (a list read from
        before someone else's change would hide it once the user keeps theirs).
        """
        batch = list(records)
        if not batch:
            return 0
        synced = synced_at or utcnow()
        # Encoded before the write lock is taken: a 20 MB field takes a while, and the
        # UI's reads go on meanwhile when this runs in a thread.
        params = {rows.key(r): rows.row_params(rows.Version(r), server=None) for r in batch}
        raws = {rows.key(r): rows.encode(r.raw) for r in batch}
        size = sum(len(p[9]) for p in params.values()) + sum(map(len, raws.values()))
        try:
            with _writing(self._db, large=size >= LARGE) as conn:
                # read in the write's transaction: no confirmation comes in between
                since = confirmed_since(conn, left_at) if left_at is not None else Confirmed()
                written = [r for r in batch if rows.key(r) not in since]
                locked = _locked_keys(conn, {r.profile for r in written})
                plain = [rows.key(r) for r in written if rows.key(r) not in locked]
                rows.write_many(conn, (params[k] for k in plain), {k: raws[k] for k in plain})
                refreshed = [r for r in written if rows.key(r) in locked]
                for record in refreshed:
                    server = rows.Version(record)
                    optimistic.rebuild(conn, record.ref, server=server)
                rows.write_raw(conn, refreshed)
                if not since.forgotten:
                    _note_profiles(conn, {(r.profile, r.vendor) for r in batch}, synced)
                for record in written if newest else ():
                    note_confirmed(conn, record.ref)
        except (sqlite3.Error, OSError) as exc:  # locked by another process, read-only, full
            raise CacheWriteError.of(
                exc,
                self._db.path,
                "the records read",
                outcome="The list was not updated",
                again="refresh again",
            ) from exc
        return len(written)

    def get_record(self, ref: RecordRef) -> Record | None:
        """One record as the user sees it (queued edits applied), with its raw payload.

        A large row (``LARGE``) is decoded after the connection's lock is let go, and
        its decoded form is kept: read again while nothing in the file changed, or while
        the row's text is the same (a refresh that brought the record as it was), it is
        not decoded again (the record screen reads a record with a 20 MB field right
        after its refresh read it). Each caller gets its own copy.
        """
        kept: tuple[Any, Any, Any] | None = self.__dict__.get("_large_row")
        with self._db.read_aside() as conn:  # a 20 MB row takes a while: off the UI's lock
            # nothing written by this connection (total_changes) or another one
            # (data_version, which a commit elsewhere moves) since: the row is the same
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            state = (ref, id(conn), version, conn.total_changes)  # each connection counts
            same = kept is not None and kept[0] == state
            row = kept[1] if same and kept is not None else rows.fetch(conn, ref)
        found: tuple[rows.Version, rows.Version | None] | None
        reuse = kept is not None and kept[0][0] == ref and kept[1] == row  # texts compared
        found = copy.deepcopy(kept[2]) if reuse and kept is not None else rows.decode(row)
        if row is not None and sum(len(c) for c in row if isinstance(c, str)) >= LARGE:
            decoded = kept[2] if reuse and kept is not None else copy.deepcopy(found)
            self.__dict__["_large_row"] = (state, row, decoded)
        if found is None or found[0].deleted:
            return None
        return found[0].record

    def get_record_preview(self, ref: RecordRef) -> RecordPreview | None:
        """One record as the record screen shows it: ``get_record`` without its raw
        payload, each text value longer than ``db.LONG_VALUE`` characters (and a title or
        subtitle as long) cut to its first ``db.PREVIEW_CUT``, with the whole value's
        length beside it (``get_field`` reads it whole).

        A record with a 20 MB field costs what a small one does: its values were cut
        when it was written (``records_preview``), so this reads a few kilobytes; the
        long value is neither read, nor parsed, nor made a Python string.
        """
        with self._db.read_aside() as conn:
            key = dict(zip(_KEY_NAMES, rows.key(ref), strict=True))
            row = conn.execute(_PREVIEW_SQL, key).fetchone()
        if row is None or row[-1]:  # none, or hidden (deleted)
            return None
        *columns, lengths, cut_titles, _ = row
        cut = json.loads(lengths)
        record = rows.to_record(columns, partial=bool(cut or cut_titles))
        return RecordPreview(record, {str(k): int(v) for k, v in cut.items()})

    def get_field(self, ref: RecordRef, key: str) -> Any:
        """One field's whole value as the user sees it (queued edits applied); None when
        the record or the field is not cached. For a value ``get_record_preview`` cut:
        SQLite finds it in the row, so only that value is read (in a thread, a 20 MB one
        takes a few milliseconds of the interpreter's time)."""
        named = {"key": key, **dict(zip(_KEY_NAMES, rows.key(ref), strict=True))}
        # a key JSON escapes (a quote, a backslash, a control character) has no path in
        # an object row (SQLite's ends a quoted key at the first quote and compares it
        # with the key as escaped; ``json_path`` drops quotes: another key's path):
        # found by name
        path = indexes.json_path(key) if _SPELLED.fullmatch(key) else None
        with self._db.read_aside() as conn:
            found = conn.execute(
                f"SELECT json_type(r.fields, {_FIELD_PATH}), json_extract(r.fields, {_FIELD_PATH})"
                " FROM records r WHERE profile = :profile AND kind = :kind AND id = :id"
                " AND is_deleted = 0",
                {"path": path, **named},
            ).fetchone()
            if path is None and found is not None and found[0] is None:
                found = conn.execute(_FIELD_BY_NAME, named).fetchone()
        if found is None or found[0] is None:
            return None
        kind, value = found
        if kind in ("array", "object"):
            return json.loads(value)
        if kind in ("true", "false"):
            return kind == "true"
        return value

    def updated_stamps(self, profile: str, kind: str, ids: list[str]) -> dict[str, str | None]:
        """``updated_at`` (as ``db.to_text``) of the cached, not deleted, records among ``ids``.

        A sync skips records the cache already holds at the same version. None for a
        record a change of which a vendor confirmed (kept in ``confirmed_writes``): its
        cached version is the one the write's reply carried, and someone else's change
        in the same second carries the same stamp at a vendor that stamps whole seconds
        (ActiveCampaign; an automation our edit set off), so the stamp tells nothing.
        """
        with self._db.read() as conn:
            found = conn.execute(
                "SELECT id, updated_at FROM records WHERE profile = ? AND kind = ?"
                " AND is_deleted = 0 AND id IN (SELECT value FROM json_each(?))",
                (profile, kind, dumps(ids)),
            )
            stamps = {id_: to_text(from_stamp(stamp)) for id_, stamp in found.fetchall()}
            for id_ in _confirmed_among(conn, profile, kind, list(stamps)):
                stamps[id_] = None
            return stamps

    def titles(self, profile: str, kind: str, ids: Iterable[str]) -> dict[str, str]:
        """The titles of the cached, not deleted, records of ``kind`` among ``ids`` (one
        query however many): what a reference to each is shown as."""
        with self._db.read() as conn:
            found = conn.execute(
                "SELECT id, title FROM records WHERE profile = ? AND kind = ?"
                " AND is_deleted = 0 AND id IN (SELECT value FROM json_each(?))",
                (profile, kind, dumps(sorted(set(ids)))),
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
        """How many records a list shows (deleted ones excluded).

        A whole list's size is read from ``record_counts`` (kept by triggers), not
        counted; a filtered one is counted from its filter's index.
        """
        with self._db.read() as conn:
            if not search and not filters:
                return _cached_count(conn, profile, kind)
            where, params = _where(conn, profile, kind, search, filters)
            built = self._positions.count(conn, (profile, kind, where, tuple(params), ()))
            if built is not None:
                return built
            return int(
                conn.execute(f"SELECT count(*) FROM records r {where}", params).fetchone()[0]
            )

    def count_profile(self, profile: str) -> int:
        """How many records of a profile are cached (every kind)."""
        with self._db.read() as conn:
            found = conn.execute(
                "SELECT coalesce(sum(n), 0) FROM record_counts WHERE profile = ?", (profile,)
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
        """``limit`` records of a list from ``offset``, in a stable order (title by default).

        A long list's order is built once in the background (``positions``), then any
        window is a slice of it: the middle costs what the top does. Until then (and
        while a change is being caught up), a window past the middle of a whole list is
        read backwards from its end, so the last page costs what the first does.
        """
        offset, limit = max(offset, 0), max(limit, 0)
        with self._db.read() as conn:
            spec, order = _spec(conn, profile, kind, sort, descending, search, filters)
            with positions.one_moment(conn):  # after _spec: it may write the sort's index
                built = self._positions.get(conn, spec)
                if built is not None:
                    return rows.select_rowids(conn, built[offset : offset + limit])
                total = None if search or filters else _cached_count(conn, profile, kind)
                if total is None or total >= positions.BUILD_FROM:
                    via = _found_by(conn, profile, kind, search, filters)
                    self._positions.request(spec, via)
                where, params = spec[2], list(spec[3])
                if total is None or offset + limit // 2 <= total // 2:
                    return _walked(conn, where, params, order.parts(), limit, offset)
                limit = max(0, min(limit, total - offset))
                parts = order.parts(reverse=True)
                return _walked(conn, where, params, parts, limit, total - offset - limit)[::-1]

    def prepare_list(
        self,
        profile: str,
        kind: str,
        *,
        sort: str | None = None,
        descending: bool = False,
        search: str = "",
        filters: dict[str, str] | None = None,
    ) -> int:
        """Build a list's order now (blocking: run it in a thread); returns its length.

        ``window`` starts the same build in the background by itself; this is for
        callers that want every window of the list quick before they start.
        """
        with self._db.read() as conn:
            spec, _ = _spec(conn, profile, kind, sort, descending, search, filters)
            built = self._positions.get(conn, spec)
            via = _found_by(conn, profile, kind, search, filters)
        if built is not None:
            return len(built)
        return self._positions.build(spec, via)

    @property
    def _positions(self) -> positions.Positions:
        with self._db.lock:
            found: positions.Positions | None = self.__dict__.get("_built_positions")
            if found is None:
                found = self.__dict__["_built_positions"] = positions.Positions(self._db)
            return found

    def ensure_sort_index(self, profile: str, kind: str, field: str) -> None:
        """Build the indexes that sort a list by ``field`` both ways (else built lazily).

        Built like ``build_indexes``: on a side connection, so list reads go on.
        """
        with self._db.read() as conn:
            types = {field: _field_type(conn, profile, kind, field)}
            keys = list_keys(conn, profile, kind)
        self.build_indexes(indexes.for_list([field], [], types, keys))

    def list_indexes(self, profile: str, info: KindInfo) -> list[tuple[str, str]]:
        """The indexes a list of ``info`` sorts and filters by that are not built yet.

        Sorts: the shown columns the vendor lets the user sort by (``columns`` and
        ``sortable``), both ways; filters: the filter keys that are field keys (the ones
        the cache applies). (name, definition) pairs for ``build_indexes``.
        """
        with self._db.read() as conn:
            types = _field_types(conn, profile, info.kind)
            keys = list_keys(conn, profile, info.kind)
            built = {
                name
                for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
            }
        sorts = [key for key in info.columns if key in info.sortable]
        filters = [spec.key for spec in info.filters if not types or spec.key in types]
        wanted = indexes.for_list(sorts, filters, types, keys)
        return [ix for ix in wanted if ix[0] not in built]

    def build_indexes(self, wanted: list[tuple[str, str]]) -> int:
        """Build indexes (``list_indexes``) and return how many were built. Blocking:
        run it in a thread. Each index is its own transaction on a second connection
        (WAL: the UI's reads go on meanwhile; a write waits for at most one index).
        A database too busy to take the write is left for the next time.
        """
        done = 0
        with self._db.side() as conn:
            for name, definition in wanted:
                try:
                    indexes.ensure(conn, name, definition)
                except sqlite3.OperationalError:
                    break
                done += 1
        return done

    def search(
        self,
        text: str,
        *,
        limit: int = 50,
        profiles: list[str] | None = None,
        kinds: list[str] | None = None,
    ) -> list[Record]:
        """Records matching ``text`` (last word as a prefix), best match first (bm25).

        bm25 costs a few microseconds per match, too much for a word that a fifth of a
        million records contain. Up to ``SEARCH_CAP`` matches every one is ranked; past
        that (a very common word) the candidates are the first ``SEARCH_CAP`` title
        matches, ranked, else the first ``SEARCH_CAP`` matches anywhere; the full
        ranking runs only when those leave fewer than ``limit`` in scope.

        A prefix makes SQLite merge the match lists of every word it begins before the
        first match comes out (20 ms for a word in a fifth of a million records). So
        when the last word is itself a common whole word (more than ``SEARCH_CAP``
        matches, which the index tells without that merge), the candidates are the
        records with that word: "renewal" ranks records saying "renewal", not also
        "renewals", which only a rarer word would reach.
        """
        query = fts_query(text)
        if query is None:
            return []
        clauses = ["r.is_deleted = 0"]
        scope: list[Any] = []
        for column, values in (("profile", profiles), ("kind", kinds)):
            if values is not None:
                clauses.append(f"r.{column} IN ({', '.join('?' * len(values))})")
                scope.extend(values)
        where = " AND ".join(clauses)

        def ranked(match: str, cap: int | None) -> list[Record]:
            """The best ``limit`` in scope among the (first ``cap``) matches of ``match``:
            bm25 runs once per candidate, inside SQLite."""
            candidates = f"{_RANKED} LIMIT ?" if cap is not None else _RANKED
            tail = (
                f"JOIN ({candidates}) f ON f.rowid = r.rowid WHERE {where}"
                " ORDER BY f.score, r.title COLLATE NOCASE, r.id LIMIT ?"
            )
            capped = [cap] if cap is not None else []
            return rows.select_records(conn, tail, [match, *capped, *scope, limit])

        with self._db.read() as conn:
            try:
                typed = query
                whole = fts_query(text, prefix=False)
                if whole is not None and _matches_over(conn, whole, SEARCH_CAP):
                    query = whole  # a common whole word: no prefix merge
                elif not _matches_over(conn, query, SEARCH_CAP):  # every match, ranked
                    return ranked(query, None)
                for title_only in (True, False):  # bm25's order, without its scan
                    hits = ranking.capped(
                        conn,
                        text,
                        prefix=query == typed,
                        title_only=title_only,
                        where=where,
                        scope=scope,
                        cap=SEARCH_CAP,
                        limit=limit,
                    )
                    if hits is None:  # text this tokenizing may read otherwise
                        hits = ranked(f"title : ({query})" if title_only else query, SEARCH_CAP)
                    if len(hits) == limit:
                        return hits
                return ranked(typed, None)
            except sqlite3.OperationalError:  # input the tokenizer reads as nothing
                return []


@contextmanager
def _writing(db: Database, *, large: bool) -> Iterator[sqlite3.Connection]:
    """A write transaction: ``db.transaction()``, or, for a ``large`` write, one on a
    second connection (``db.side()``), so the UI's reads on the main connection go on
    while a thread writes a 20 MB field (WAL: readers are not blocked by a writer).

    The side transaction is ``BEGIN IMMEDIATE`` like the main one: it reads the queued
    edits it must not overwrite (``_locked_keys``) and writes in one transaction, as a
    second crmtui process does, so the outbox's rules hold the same way. A write nested
    in a transaction this thread holds on the main connection stays in it.
    """
    nested = False
    if db.lock.acquire(blocking=False):  # free, or held by this very thread
        try:
            nested = db.conn.in_transaction
        finally:
            db.lock.release()
    if not large or nested or str(db.path) == MEMORY:
        with db.transaction() as conn:
            yield conn
        return
    with db.side() as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _spec(
    conn: sqlite3.Connection,
    profile: str,
    kind: str,
    sort: str | None,
    descending: bool,
    search: str,
    filters: dict[str, str] | None,
) -> tuple[positions.Spec, indexes.Order]:
    """A list as ``positions`` knows it, and its order."""
    where, params = _where(conn, profile, kind, search, filters)
    order = _order(conn, profile, kind, sort, descending)
    return (profile, kind, where, tuple(params), order.parts()), order


def _found_by(
    conn: sqlite3.Connection, profile: str, kind: str, search: str, filters: dict[str, str] | None
) -> str | None:
    """The index a list's order is built through (``Positions.build``'s ``via``): a
    filtered list's (not searched) first filter's."""
    if search or not filters:
        return None
    field = next(iter(filters))
    return indexes.filter_index(field, indexes.slot(list_keys(conn, profile, kind), field))[0]


def _walked(
    conn: sqlite3.Connection,
    where: str,
    params: list[Any],
    parts: tuple[indexes.Part, ...],
    limit: int,
    offset: int,
) -> list[Record]:
    """``limit`` rows from ``offset`` of ``records r`` ``where``, in the order of
    ``parts`` (``Order.parts``). An order in two parts (ascending by a field, empty values
    last) reads the rowids of each part in its index's order, one part after the other
    (UNION ALL runs its selects in turn), then those rows."""
    if len(parts) == 1:
        tail = f"{where} ORDER BY {parts[0][1]} LIMIT ? OFFSET ?"
        return rows.select_records(conn, tail, [*params, limit, offset])
    walks = " UNION ALL ".join(
        f"SELECT * FROM (SELECT r.rowid FROM records r {where}{condition}"
        f" ORDER BY {order} LIMIT -1)"
        for condition, order in parts
    )
    found = conn.execute(f"{walks} LIMIT ? OFFSET ?", [*params * len(parts), limit, offset])
    return rows.select_rowids(conn, [rowid for (rowid,) in found])


def _order(
    conn: sqlite3.Connection, profile: str, kind: str, sort: str | None, descending: bool
) -> indexes.Order:
    """The order of a list, its index built first when it is a field's."""
    field_type, place = None, None
    if sort and sort not in indexes.COLUMN_SORTS:
        field_type = _field_type(conn, profile, kind, sort)
        place = indexes.slot(list_keys(conn, profile, kind), sort)
    order = indexes.order(sort, descending, field_type, place)
    if order.index is not None:
        indexes.ensure(conn, *order.index)
    return order


def _matches_over(conn: sqlite3.Connection, query: str, cap: int) -> bool:
    """Whether the FTS query matches more than ``cap`` records (stops at ``cap + 1``)."""
    found = conn.execute(
        "SELECT count(*) FROM (SELECT rowid FROM records_fts WHERE records_fts MATCH ? LIMIT ?)",
        (query, cap + 1),
    ).fetchone()
    return int(found[0]) > cap


def _cached_count(conn: sqlite3.Connection, profile: str, kind: str) -> int:
    found = conn.execute(
        "SELECT n FROM record_counts WHERE profile = ? AND kind = ?", (profile, kind)
    ).fetchone()
    return int(found[0]) if found else 0


def _where(
    conn: sqlite3.Connection,
    profile: str,
    kind: str,
    search: str,
    filters: dict[str, str] | None,
) -> tuple[str, list[Any]]:
    clauses = [f"r.list = {LIST_OF}", "r.is_deleted = 0"]
    params: list[Any] = [profile, kind]
    query = fts_query(search) if search else None
    if query is not None:
        clauses.append("r.rowid IN (SELECT rowid FROM records_fts WHERE records_fts MATCH ?)")
        params.append(query)
    for field, value in (filters or {}).items():
        clause, clause_params = _filter_clause(conn, profile, kind, field, value)
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


def _field_types(conn: sqlite3.Connection, profile: str, kind: str) -> dict[str, str | None]:
    """Every cached field spec's key and type ({} when the specs were never stored)."""
    found = conn.execute(
        "SELECT json_extract(value, '$.key'), json_extract(value, '$.type')"
        " FROM field_specs, json_each(field_specs.data) WHERE profile = ? AND kind = ?",
        (profile, kind),
    )
    return {key: type_ for key, type_ in found}


def _locked_keys(conn: sqlite3.Connection, profiles: set[str]) -> set[tuple[str, str, str]]:
    """(profile, kind, id) of every record with an unfinished change in ``profiles``."""
    marks = ", ".join("?" * len(profiles))
    found = conn.execute(
        f"SELECT DISTINCT profile, kind, record_id FROM outbox"
        f" WHERE state != ? AND profile IN ({marks})",
        (ChangeState.DONE.value, *profiles),
    )
    return {(p, k, i) for p, k, i in found}


# The vendor's confirmations of changes, one row per record (its latest): ``seq`` counts
# them across every process sharing the file (AUTOINCREMENT: never reused, so
# ``sqlite_sequence`` holds the last one even once rows are pruned). Decided: a counter
# in the file, not a clock (a read and a confirmation a few microseconds apart, two
# processes, a clock set back) nor the vendor's ``updated_at`` (whole seconds at some
# vendors, their clock). A table made when first needed: no schema version for it.
_CONFIRMED = """
CREATE TABLE IF NOT EXISTS confirmed_writes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    profile TEXT NOT NULL,
    kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    confirmed_at TEXT NOT NULL,
    UNIQUE (profile, kind, record_id)
)
"""
# A confirmation is kept a day and until ``CONFIRMED_KEPT_LEAST`` later ones were noted:
# far longer than any read is in flight (only a read that left before it needs it), and
# the table stays small (a day's rows, or the last thousand). Both, not the day alone: a
# jump of the computer's clock (a laptop waking, a clock put right) must not drop one
# that a read still in flight needs.
CONFIRMED_KEPT_FOR = timedelta(days=1)
CONFIRMED_KEPT_LEAST = 1_000


# A record's timeline, as ``confirmed_writes`` names it: a kind no record has.
_TIMELINE_OF = "timeline of "


def timeline_key(ref: RecordRef) -> RecordRef:
    """How a confirmed note or logged call on ``ref`` (or a logged call's delete) is
    noted (``note_confirmed``): a timeline read that left before it is not stored."""
    return ref.model_copy(update={"kind": _TIMELINE_OF + ref.kind})


def note_confirmed(conn: sqlite3.Connection, ref: RecordRef) -> None:
    """The vendor confirmed a change of ``ref`` (in the transaction that marks it done):
    a read that left before this is not stored over it (``upsert_records``)."""
    _note(conn, rows.key(ref))


def _note(conn: sqlite3.Connection, key: tuple[str, str, str]) -> None:
    """``note_confirmed`` of (profile, kind, id), old confirmations pruned."""
    now = utcnow()
    conn.execute(_CONFIRMED)
    conn.execute(
        "INSERT OR REPLACE INTO confirmed_writes (profile, kind, record_id, confirmed_at)"
        " VALUES (?, ?, ?, ?)",
        (*key, to_text(now)),
    )
    conn.execute(  # by seq first: its key's range, then the few rows in it
        "DELETE FROM confirmed_writes WHERE seq <= ? AND confirmed_at < ? AND profile != ''",
        (_last_confirmed(conn) - CONFIRMED_KEPT_LEAST, to_text(now - CONFIRMED_KEPT_FOR)),
    )


# A profile forgotten (``crmtui forget``), as ``confirmed_writes`` notes it: a key no
# record has, naming no profile (the forgotten one's name must not stay in the file),
# never pruned (``positions.version`` reads the last one: one row). A
# read of any profile that left before is not stored (its records, timelines, sync
# bookkeeping), in any process: the forgotten records stay forgotten, and a read of
# another profile is only read again by its next refresh or sync.
_FORGOTTEN = ("", "", "")


def forget_confirmed(conn: sqlite3.Connection, profile: str) -> None:
    """Drop a forgotten profile's confirmations and note that a profile was forgotten
    (``Store.delete_profile``): a read in flight then is not stored (``Confirmed``)."""
    if _last_confirmed(conn):
        conn.execute("DELETE FROM confirmed_writes WHERE profile = ?", (profile,))
    _note(conn, _FORGOTTEN)


def _last_confirmed(conn: sqlite3.Connection) -> int:
    """The ``seq`` of the last confirmation ever noted (0: none; the outbox's
    AUTOINCREMENT made ``sqlite_sequence`` with the schema)."""
    found = conn.execute(
        "SELECT seq FROM sqlite_sequence WHERE name = 'confirmed_writes'"
    ).fetchone()
    return int(found[0]) if found else 0


@dataclass(frozen=True)
class Confirmed:
    """What was confirmed after a read mark: ``key in it`` for a (profile, kind, id) with
    a change confirmed since; every key once a profile was forgotten since
    (``forget_confirmed``: which one is not kept)."""

    keys: frozenset[tuple[str, str, str]] = frozenset()

    @property
    def forgotten(self) -> bool:
        return _FORGOTTEN in self.keys

    def __contains__(self, key: object) -> bool:
        return key in self.keys or self.forgotten


def confirmed_since(conn: sqlite3.Connection, mark: int) -> Confirmed:
    """The records with a change confirmed after ``mark`` (and whether a profile was
    forgotten since)."""
    if _last_confirmed(conn) <= mark:  # the usual case: one lookup, no table read
        return Confirmed()
    found = conn.execute(
        "SELECT profile, kind, record_id FROM confirmed_writes WHERE seq > ?", (mark,)
    )
    return Confirmed(frozenset((p, k, i) for p, k, i in found))


def _confirmed_among(
    conn: sqlite3.Connection, profile: str, kind: str, ids: list[str]
) -> list[str]:
    """Those of ``ids`` of ``kind`` a change of which a vendor confirmed (kept in
    ``confirmed_writes``; none when nothing was ever confirmed: no table read)."""
    if not ids or not _last_confirmed(conn):
        return []
    found = conn.execute(
        "SELECT record_id FROM confirmed_writes WHERE profile = ? AND kind = ?"
        " AND record_id IN (SELECT value FROM json_each(?))",
        (profile, kind, dumps(ids)),
    )
    return [id_ for (id_,) in found]


def _note_profiles(
    conn: sqlite3.Connection, pairs: set[tuple[str, str]], synced_at: datetime
) -> None:
    conn.executemany(
        "INSERT INTO profiles (profile, vendor, last_synced) VALUES (?, ?, ?)"
        " ON CONFLICT (profile) DO UPDATE SET vendor = excluded.vendor,"
        " last_synced = max(coalesce(profiles.last_synced, ''), excluded.last_synced)",
        [(profile, vendor, to_text(synced_at)) for profile, vendor in pairs],
    )
