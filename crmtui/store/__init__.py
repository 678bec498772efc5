"""The local store: SQLite cache of records, full-text search index, and the outbox.

``Store(path)`` opens (or creates, mode 0600) the cache file; ``Store(":memory:")`` is
for tests. Each part lives in its own module:

- ``db``: connection, pragmas, versioned schema, write lock, datetime text
- ``rows`` / ``records``: the records cache, windows, counts, search
- ``fts``: what is indexed and how user input becomes a safe FTS5 query
- ``optimistic``: queued changes applied on top of the server's version of a record
- ``outbox``: the durable queue of edits and its states
- ``cache``: timelines, kinds and field specs, sync state
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from crmtui.model import utcnow
from crmtui.store import health, indexes, rows
from crmtui.store.cache import CacheMixin
from crmtui.store.db import (
    MEMORY,
    CacheWriteError,
    Database,
    NotACache,
    SchemaTooNew,
    pending_upgrade,
)
from crmtui.store.health import CacheUnusable
from crmtui.store.optimistic import PLACEHOLDER_PREFIX
from crmtui.store.outbox import ChangeBusy, ClaimLost, OutboxMixin, recover
from crmtui.store.records import RecordPreview, RecordsMixin, forget_confirmed

__all__ = [
    "MEMORY",
    "PLACEHOLDER_PREFIX",
    "CacheUnusable",
    "CacheWriteError",
    "ChangeBusy",
    "ClaimLost",
    "RecordPreview",
    "SchemaTooNew",
    "Store",
    "pending_upgrade",
]

_PROFILE_TABLES = (
    "outbox",
    "activities",
    "timelines",
    "kinds",
    "field_specs",
    "sync_state",
    "record_counts",
    "record_versions",
)


class Store(RecordsMixin, OutboxMixin, CacheMixin):
    """Everything crmtui keeps on disk, behind one thread-safe object."""

    def __init__(self, path: str | Path) -> None:
        """Open the cache; ``CacheUnusable`` (one line: file, problem, what to do) if it
        cannot be used. A damaged file is never changed here (see ``store.health``)."""
        file = None if str(path) == MEMORY else Path(path)
        problem = health.probe(file) if file is not None else None
        if problem is not None:
            raise problem
        db: Database | None = None
        try:
            db = Database(path)
            # What a write frees (an edit's old version, a forgotten profile's rows) is
            # zeroed, whatever SQLite was built with: nothing deleted lingers in the file.
            db.conn.execute("PRAGMA secure_delete = ON")
            with db.transaction() as conn:
                recover(conn, utcnow())
        except (sqlite3.Error, SchemaTooNew, NotACache, OSError) as exc:
            if db is not None:
                db.close()
            if file is None:
                raise
            raise health.unusable(file, exc) from None
        self._db = db

    @property
    def path(self) -> Path | None:
        """The cache file (None: in memory), as named in its error messages."""
        return None if str(self._db.path) == MEMORY else Path(self._db.path)

    def unusable(self, exc: BaseException) -> CacheUnusable | None:
        """The one-line ``CacheUnusable`` for an SQLite error raised while in use (None:
        ``exc`` is not the cache's error, or the cache is in memory)."""
        error = health.cache_error(exc)
        if error is None or self.path is None:
            return None
        return health.at_run_time(self.path, error)

    def close(self) -> None:
        built = self.__dict__.get("_built_positions")  # ``_positions``, if ever made
        if built is not None:
            built.close()  # a build under way stops, and keeps nothing
        self._db.close()

    def integrity_check(self) -> str:
        """SQLite's own check of the file and the search index ("ok" when sound)."""
        with self._db.read() as conn:
            conn.execute("INSERT INTO records_fts (records_fts) VALUES ('integrity-check')")
            return str(conn.execute("PRAGMA integrity_check").fetchone()[0])

    def delete_profile(self, profile: str) -> bool:
        """Forget a profile: its records, timelines, schema, sync state and outbox.

        What is freed is zeroed (``secure_delete``, on since the store opened), the search
        index merged, and the WAL checkpointed into the file and truncated, so the
        forgotten data does not linger in the file. False when
        it still does: another connection (a crmtui running, mid-read) kept a read open
        past ``BUSY_S``, and the file's pages it may read were not overwritten (they are
        at the next checkpoint once it ends: a forget again, or its close).
        """
        with self._db.transaction() as conn:
            rows.delete_profile(conn, profile)
            for table in (*_PROFILE_TABLES, "profiles"):
                conn.execute(f"DELETE FROM {table} WHERE profile = ?", (profile,))
            forget_confirmed(conn, profile)
            _drop_field_indexes_of_none(conn)
            # the search index keeps a deleted row's terms (and an edited row's old ones)
            # until its segments are merged: merged into one, whole
            conn.execute("INSERT INTO records_fts (records_fts) VALUES ('optimize')")
        if str(self._db.path) == MEMORY:
            return True
        with self._db.read() as conn:
            return not conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]


def _drop_field_indexes_of_none(conn: sqlite3.Connection) -> None:
    """Drop the sort and filter indexes (``indexes``) whose field no profile left has
    (in its field specs or its lists' keys): their definitions spell the field's name,
    which must not stay in the file once its profile is forgotten. One dropped that a
    list still sorts by is built again when it is (``indexes.ensure``)."""
    known = conn.execute(
        "SELECT json_extract(f.value, '$.key') FROM field_specs, json_each(field_specs.data) f"
        " UNION SELECT k.value FROM lists, json_each(lists.keys) k WHERE lists.keys IS NOT NULL"
    ).fetchall()
    paths = [indexes.literal(indexes.json_path(str(key))) for (key,) in known if key is not None]
    found = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
        " AND (name GLOB 'records_sort_*' OR name GLOB 'records_filter_*')"
    ).fetchall()
    for name, sql in found:
        if not any(path in sql for path in paths):
            conn.execute(f'DROP INDEX "{name}"')
