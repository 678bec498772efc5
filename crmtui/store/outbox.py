"""The durable outbox: every edit waits here until the vendor confirmed it.

- ``enqueue`` writes the change and the optimistic row in one transaction.
- States: pending -> sending -> done | failed (retried at ``next_retry_at``) | rejected |
  conflict. ``seq`` (insertion order) is the order of changes; only the oldest change
  of a record that is not done is sendable, so one record's changes go in order.
- A create shows a placeholder record ``local:<change id>``; ``complete`` swaps it for
  the server's record and re-points later changes (and values naming the placeholder,
  e.g. a new contact's company) to the real id.
- Done changes stay a week as history, then are pruned on open.
- On open, a change left in ``sending`` (the app died mid-request) is pending again, with
  ``maybe_sent`` set: the service checks the vendor before sending it again.
- Discarding a create discards the later changes of its placeholder too.
- ``edit_change`` replaces the change's values; resolving a conflict rebases the change
  on the server version the user saw (``base`` takes ``theirs``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from crmtui.model import Change, ChangeOp, ChangeState, Record, RecordRef, utcnow
from crmtui.store import optimistic, rows
from crmtui.store.db import HasDatabase, to_text

DONE_KEPT_FOR = timedelta(days=7)
INTERRUPTED = "Interrupted while sending; it may have reached the vendor."
_DONE = ChangeState.DONE.value


class ChangeBusy(ValueError):
    """The change is being sent or is done, so it cannot be edited or discarded now."""


_SAVE = """
INSERT INTO outbox (id, profile, kind, record_id, state, next_retry_at, done_at, data)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    profile = excluded.profile, kind = excluded.kind, record_id = excluded.record_id,
    state = excluded.state, next_retry_at = excluded.next_retry_at,
    done_at = excluded.done_at, data = excluded.data
"""

_SENDABLE = """
SELECT o.data FROM outbox o
WHERE o.profile = ?
  AND (o.state = 'pending'
       OR (o.state = 'failed' AND (o.next_retry_at IS NULL OR o.next_retry_at <= ?)))
  AND NOT EXISTS (
      SELECT 1 FROM outbox p
      WHERE p.profile = o.profile AND p.kind = o.kind AND p.record_id = o.record_id
        AND p.seq < o.seq AND p.state != 'done')
ORDER BY o.seq
"""


def _save(conn: sqlite3.Connection, change: Change) -> None:
    ref = change.ref
    done_at = to_text(utcnow()) if change.state is ChangeState.DONE else None
    conn.execute(
        _SAVE,
        (
            change.id,
            ref.profile,
            ref.kind,
            ref.id,
            change.state.value,
            to_text(change.next_retry_at),
            done_at,
            change.model_dump_json(),
        ),
    )


def _load(conn: sqlite3.Connection, change_id: str) -> Change:
    found = conn.execute("SELECT data FROM outbox WHERE id = ?", (change_id,)).fetchone()
    if found is None:
        raise KeyError(f"no queued change {change_id}")
    return Change.model_validate_json(found[0])


def _select(conn: sqlite3.Connection, sql: str, params: Iterable[Any]) -> list[Change]:
    return [Change.model_validate_json(data) for (data,) in conn.execute(sql, tuple(params))]


def recover(conn: sqlite3.Connection, now: datetime) -> None:
    """After a restart: changes caught mid-send are pending again; old history goes."""
    for change in _select(conn, "SELECT data FROM outbox WHERE state = 'sending'", ()):
        _save(
            conn,
            change.model_copy(update={"state": ChangeState.PENDING, "last_error": INTERRUPTED}),
        )
    conn.execute(
        "DELETE FROM outbox WHERE state = ? AND done_at < ?", (_DONE, to_text(now - DONE_KEPT_FOR))
    )


def _swap_value(value: Any, old: str, new: str) -> Any:
    if value == old:
        return new
    if isinstance(value, list):
        return [new if item == old else item for item in value]
    return value


def _repoint(conn: sqlite3.Connection, old: RecordRef, new: RecordRef) -> None:
    """Every change, value and timeline naming the placeholder ``old`` now names ``new``."""
    sql = "SELECT data FROM outbox WHERE profile = ? ORDER BY seq"
    touched: set[RecordRef] = set()
    for change in _select(conn, sql, (old.profile,)):
        values = {k: _swap_value(v, old.id, new.id) for k, v in change.values.items()}
        ref = new if change.ref == old else change.ref
        if ref == change.ref and values == change.values:
            continue
        _save(conn, change.model_copy(update={"ref": ref, "values": values}))
        if change.state is not ChangeState.DONE and ref != new:
            touched.add(ref)
    for table in ("timelines", "activities"):
        conn.execute(
            f"UPDATE OR REPLACE {table} SET record_id = ?"
            " WHERE profile = ? AND kind = ? AND record_id = ?",
            (new.id, *rows.key(old)),
        )
    for ref in touched:
        optimistic.rebuild(conn, ref)


class OutboxMixin(HasDatabase):
    """Queued edits: enqueue, state changes, completion, discard and edit."""

    def enqueue(self, change: Change, *, vendor: str | None = None) -> Change:
        """Queue ``change`` and show it in the cached record at once; returns it as stored.

        A create gets the placeholder id ``local:<change.id>`` (``vendor`` names the
        vendor of the placeholder record when the profile has no records yet).
        """
        update: dict[str, Any] = {"state": ChangeState.PENDING}
        if change.op is ChangeOp.CREATE:
            ref = change.ref
            update["ref"] = RecordRef(
                profile=ref.profile, kind=ref.kind, id=optimistic.placeholder_id(change)
            )
        stored = change.model_copy(update=update, deep=True)
        with self._db.transaction() as conn:
            if vendor:
                conn.execute(
                    "INSERT INTO profiles (profile, vendor) VALUES (?, ?)"
                    " ON CONFLICT (profile) DO UPDATE SET vendor = excluded.vendor",
                    (stored.ref.profile, vendor),
                )
            _save(conn, stored)
            optimistic.rebuild(conn, stored.ref)
        return stored

    def get_change(self, change_id: str) -> Change | None:
        with self._db.read() as conn:
            try:
                return _load(conn, change_id)
            except KeyError:
                return None

    def changes(
        self, *, profile: str | None = None, states: Iterable[ChangeState] | None = None
    ) -> list[Change]:
        """Changes (done ones included unless ``states`` says otherwise), oldest first."""
        clauses, params = ["1"], []
        if profile is not None:
            clauses.append("profile = ?")
            params.append(profile)
        if states is not None:
            wanted = [ChangeState(s).value for s in states]
            clauses.append(f"state IN ({', '.join('?' * len(wanted))})")
            params.extend(wanted)
        sql = f"SELECT data FROM outbox WHERE {' AND '.join(clauses)} ORDER BY seq"
        with self._db.read() as conn:
            return _select(conn, sql, params)

    def sendable(self, profile: str, now: datetime) -> list[Change]:
        """Changes to send now: pending or due failed ones, the oldest per record only."""
        with self._db.read() as conn:
            return _select(conn, _SENDABLE, (profile, to_text(now)))

    def maybe_sent(self, change_id: str) -> bool:
        """Whether the change was ever handed to the vendor (it may have arrived)."""
        with self._db.read() as conn:
            found = conn.execute("SELECT maybe_sent FROM outbox WHERE id = ?", (change_id,))
            row = found.fetchone()
        return bool(row and row[0])

    def set_state(
        self,
        change_id: str,
        state: ChangeState,
        *,
        last_error: str | None = None,
        next_retry_at: datetime | None = None,
        theirs: dict[str, Any] | None = None,
        theirs_updated_at: datetime | None = None,
    ) -> None:
        """Move a change to ``state``; ``sending`` counts an attempt (done: see ``complete``).

        ``theirs``/``theirs_updated_at``: for a conflict, the server's values and version.
        """
        state = ChangeState(state)
        if state is ChangeState.DONE:
            self.complete(change_id, None)
            return
        with self._db.transaction() as conn:
            change = _load(conn, change_id)
            update: dict[str, Any] = {
                "state": state,
                "last_error": last_error,
                "next_retry_at": next_retry_at,
            }
            if theirs is not None:
                update["theirs"] = dict(theirs)
            if theirs_updated_at is not None:
                update["theirs_updated_at"] = theirs_updated_at
            if state is ChangeState.SENDING:
                update["attempts"] = change.attempts + 1
                conn.execute("UPDATE outbox SET maybe_sent = 1 WHERE id = ?", (change_id,))
            _save(conn, change.model_copy(update=update))

    def complete(self, change_id: str, server_record: Record | None) -> None:
        """The vendor confirmed the change: mark it done and cache the server's record.

        ``server_record`` is the record as the server has it afterwards;
        None when there is none (a delete) or the adapter did not return it, in which
        case the change's values are taken as the server's (a create without it just
        drops its placeholder).
        """
        with self._db.transaction() as conn:
            change = _load(conn, change_id)
            done = change.model_copy(
                update={"state": ChangeState.DONE, "last_error": None, "next_retry_at": None}
            )
            _save(conn, done)
            ref = change.ref
            if change.op is ChangeOp.CREATE:
                rows.delete(conn, ref)
                if server_record is None:  # e.g. a note: nothing to cache as a record
                    return
                _repoint(conn, ref, server_record.ref)
                ref = server_record.ref
            if server_record is not None:
                optimistic.rebuild(conn, ref, server=rows.Version(server_record))
                rows.write_raw(conn, [server_record])
                return
            found = rows.read(conn, ref)
            if found is None:
                return
            kept = found[1] or found[0]
            vendor = kept.record.vendor
            optimistic.rebuild(conn, ref, server=optimistic.apply(kept, change, vendor))

    def discard(self, change_id: str) -> None:
        """Drop a queued change and show the record without it (a create: with its followers)."""
        with self._db.transaction() as conn:
            try:
                change = _load(conn, change_id)
            except KeyError:
                return
            if change.state is ChangeState.SENDING:
                raise ChangeBusy("the change is being sent")
            conn.execute("DELETE FROM outbox WHERE id = ?", (change_id,))
            if change.op is ChangeOp.CREATE:
                conn.execute(
                    "DELETE FROM outbox WHERE profile = ? AND kind = ? AND record_id = ?",
                    rows.key(change.ref),
                )
            optimistic.rebuild(conn, change.ref)

    def edit_change(
        self,
        change_id: str,
        values: dict[str, Any],
        *,
        base_updated_at: datetime | None = None,
    ) -> None:
        """Replace the values of a queued, failed, rejected or conflicting change; pending again.

        For a conflict the change is rebased: ``base`` takes ``theirs`` and
        ``base_updated_at`` the server version kept for the record (or the one given).
        """
        with self._db.transaction() as conn:
            change = _load(conn, change_id)
            if change.state in (ChangeState.SENDING, ChangeState.DONE):
                raise ChangeBusy(f"the change is {change.state.value}")
            update: dict[str, Any] = {
                "values": dict(values),
                "state": ChangeState.PENDING,
                "last_error": None,
                "next_retry_at": None,
                "theirs": {},
            }
            if change.state is ChangeState.CONFLICT:
                found = rows.read(conn, change.ref)
                server = found[1] if found else None
                update["base"] = {**change.base, **change.theirs}
                update["base_updated_at"] = (
                    base_updated_at
                    or change.theirs_updated_at
                    or (server.record.updated_at if server else change.base_updated_at)
                )
                update["theirs_updated_at"] = None
            elif base_updated_at is not None:
                update["base_updated_at"] = base_updated_at
            _save(conn, change.model_copy(update=update))
            optimistic.rebuild(conn, change.ref)

    def rebase_change(
        self,
        change_id: str,
        *,
        values: dict[str, Any],
        base: dict[str, Any],
        base_updated_at: datetime | None,
    ) -> None:
        """Set what a change sends and the server version it is based on (state kept)."""
        with self._db.transaction() as conn:
            change = _load(conn, change_id)
            if change.state in (ChangeState.SENDING, ChangeState.DONE):
                raise ChangeBusy(f"the change is {change.state.value}")
            update = {
                "values": dict(values),
                "base": dict(base),
                "base_updated_at": base_updated_at,
                "theirs": {},
                "theirs_updated_at": None,
            }
            _save(conn, change.model_copy(update=update))
            optimistic.rebuild(conn, change.ref)

    def queued_count(self, profile: str | None = None) -> int:
        """Changes not done yet (what the status bar shows as queued)."""
        sql, params = "SELECT count(*) FROM outbox WHERE state != ?", [_DONE]
        if profile is not None:
            sql += " AND profile = ?"
            params.append(profile)
        with self._db.read() as conn:
            return int(conn.execute(sql, params).fetchone()[0])
