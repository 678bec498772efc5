"""Small caches beside the records: timelines, kinds and field specs, sync bookkeeping.

A timeline that was never fetched reads as None (the service then fetches it); one
fetched empty reads as []. ``put_timeline`` replaces the whole timeline.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from pydantic import ConfigDict, TypeAdapter
from pydantic_core import PydanticSerializationError

from crmtui.model import Activity, FieldSpec, KindInfo, RecordRef, utcnow
from crmtui.store import rows
from crmtui.store.db import CacheWriteError, HasDatabase, dumps, from_text, to_text
from crmtui.store.records import confirmed_since

# built when first used, as the models are (``crmtui.model._Model``)
_KINDS = TypeAdapter(list[KindInfo], config=ConfigDict(defer_build=True))
_SPECS = TypeAdapter(list[FieldSpec], config=ConfigDict(defer_build=True))

_PUT_ACTIVITY = """
INSERT OR REPLACE INTO activities (profile, kind, record_id, id, occurred_at, data)
VALUES (?, ?, ?, ?, ?, ?)
"""


def _activity_row(ref: RecordRef, activity: Activity) -> tuple[str, ...]:
    occurred = to_text(activity.occurred_at) or ""
    try:
        data = activity.model_dump_json()
    except PydanticSerializationError:
        # text with a lone surrogate, made in code (a queued note's entry), which no UTF-8
        # write takes: stored with U+FFFD, as its change is (``Change.values``)
        data = rows.encode(activity.model_dump(mode="json"))
    return (*rows.key(ref), activity.id, occurred, data)


class CacheMixin(HasDatabase):
    """Timelines, the schema cache and sync state."""

    def put_timeline(self, ref: RecordRef, activities: list[Activity]) -> None:
        """Replace the cached timeline of a record with what the server sent."""
        with self._db.transaction() as conn:
            conn.execute(
                "DELETE FROM activities WHERE profile = ? AND kind = ? AND record_id = ?",
                rows.key(ref),
            )
            conn.executemany(_PUT_ACTIVITY, [_activity_row(ref, a) for a in activities])
            conn.execute(
                "INSERT OR REPLACE INTO timelines (profile, kind, record_id, fetched_at)"
                " VALUES (?, ?, ?, ?)",
                (*rows.key(ref), to_text(utcnow())),
            )

    def get_timeline(self, ref: RecordRef) -> list[Activity] | None:
        """The cached timeline, newest first; None when it was never fetched."""
        with self._db.read() as conn:
            fetched = conn.execute(
                "SELECT 1 FROM timelines WHERE profile = ? AND kind = ? AND record_id = ?",
                rows.key(ref),
            ).fetchone()
            if fetched is None:
                return None
            found = conn.execute(
                "SELECT data FROM activities WHERE profile = ? AND kind = ? AND record_id = ?"
                " ORDER BY occurred_at DESC, id DESC",
                rows.key(ref),
            ).fetchall()
        return [Activity.model_validate_json(data) for (data,) in found]

    def add_activity(self, ref: RecordRef, activity: Activity) -> None:
        """Add (or replace, by id) one entry, e.g. a note the user just wrote."""
        with self._db.transaction() as conn:
            conn.execute(_PUT_ACTIVITY, _activity_row(ref, activity))

    def put_kinds(self, profile: str, kinds: list[KindInfo], *, left_at: int | None = None) -> None:
        """Remember a profile's kinds (``CacheWriteError`` when the cache cannot be written).

        ``left_at``: the ``read_mark`` taken before they were asked of the vendor; not
        kept when a profile was forgotten since (as ``put_sync_state``)."""
        data = _KINDS.dump_json(kinds).decode()
        try:
            with self._db.transaction() as conn:
                if _forgotten_since(conn, left_at):
                    return
                conn.execute(
                    "INSERT OR REPLACE INTO kinds (profile, data) VALUES (?, ?)", (profile, data)
                )
        except (sqlite3.Error, OSError) as exc:
            raise CacheWriteError.of(exc, self._db.path, "the kinds it offers") from exc

    def get_kinds(self, profile: str) -> list[KindInfo] | None:
        with self._db.read() as conn:
            found = conn.execute("SELECT data FROM kinds WHERE profile = ?", (profile,)).fetchone()
        return _KINDS.validate_json(found[0]) if found else None

    def put_fields(
        self, profile: str, kind: str, specs: list[FieldSpec], *, left_at: int | None = None
    ) -> None:
        """Remember a kind's fields (``CacheWriteError`` when the cache cannot be written).

        ``left_at``: as ``put_kinds``'."""
        try:
            with self._db.transaction() as conn:
                if _forgotten_since(conn, left_at):
                    return
                conn.execute(
                    "INSERT OR REPLACE INTO field_specs (profile, kind, data) VALUES (?, ?, ?)",
                    (profile, kind, _SPECS.dump_json(specs).decode()),
                )
        except (sqlite3.Error, OSError) as exc:
            raise CacheWriteError.of(exc, self._db.path, "the fields of a kind") from exc

    def get_fields(self, profile: str, kind: str) -> list[FieldSpec] | None:
        with self._db.read() as conn:
            found = conn.execute(
                "SELECT data FROM field_specs WHERE profile = ? AND kind = ?", (profile, kind)
            ).fetchone()
        return _SPECS.validate_json(found[0]) if found else None

    def get_sync_state(self, profile: str, kind: str) -> dict[str, Any] | None:
        """What the service saved about the last sync of a kind (cursor, counts...)."""
        with self._db.read() as conn:
            found = conn.execute(
                "SELECT data FROM sync_state WHERE profile = ? AND kind = ?", (profile, kind)
            ).fetchone()
        return dict(json.loads(found[0])) if found else None

    def put_sync_state(
        self, profile: str, kind: str, state: dict[str, Any], *, left_at: int | None = None
    ) -> None:
        """Save sync bookkeeping (JSON-able; datetimes are written as ISO text).

        ``left_at``: the ``read_mark`` taken when the sync began. Not saved when a
        profile was forgotten since (``crmtui forget``, in any process): a sync of the
        forgotten one, added again, reads it whole instead of going on from a mark whose
        records are gone (which one is not kept: another profile's sync reads again)."""
        with self._db.transaction() as conn:
            if _forgotten_since(conn, left_at):
                return
            conn.execute(
                "INSERT OR REPLACE INTO sync_state (profile, kind, data) VALUES (?, ?, ?)",
                (profile, kind, dumps(_jsonable(state))),
            )

    def forgotten(self, profile: str, since: int) -> bool:
        """Whether ``profile`` was forgotten (``crmtui forget``, in any process) since the
        ``read_mark`` ``since``: a read of many pages stops there (``profile_forgotten``)."""
        with self._db.read() as conn:
            return profile_forgotten(conn, profile, since)

    def last_synced(self, profile: str) -> datetime | None:
        """When records of the profile were last written from the server."""
        with self._db.read() as conn:
            found = conn.execute(
                "SELECT last_synced FROM profiles WHERE profile = ?", (profile,)
            ).fetchone()
        return from_text(found[0]) if found else None


def _forgotten_since(conn: sqlite3.Connection, left_at: int | None) -> bool:
    """Whether a profile was forgotten (``crmtui forget``, in any process) since the read
    mark ``left_at`` was taken (None: not asked). Which one is not kept: what a read of
    another profile brought is read again next time."""
    return left_at is not None and confirmed_since(conn, left_at).forgotten


def profile_forgotten(conn: sqlite3.Connection, profile: str, mark: int) -> bool:
    """Whether ``profile`` was forgotten since the read mark ``mark``: a profile was
    (which one is not kept) and the cache holds nothing of it (not added again since;
    a profile read or synced has its kinds kept, one edited its outbox)."""
    if not confirmed_since(conn, mark).forgotten:
        return False
    return not any(
        conn.execute(f"SELECT 1 FROM {table} WHERE profile = ? LIMIT 1", (profile,)).fetchone()
        for table in _HOLDING_A_PROFILE
    )


_HOLDING_A_PROFILE = ("kinds", "outbox", "records", "field_specs", "sync_state", "profiles")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_text(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
