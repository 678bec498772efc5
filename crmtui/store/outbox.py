"""The durable outbox: every edit waits here until the vendor confirmed it.

- ``enqueue`` writes the change and the optimistic row in one transaction.
- States: pending -> sending -> done | failed (retried at ``next_retry_at``) | rejected |
  conflict. ``seq`` (insertion order) is the order of changes; only the oldest change
  of a record that is not done is sendable, so one record's changes go in order.
- A create shows a placeholder record ``local:<change id>``; ``complete`` swaps it for
  the server's record and re-points later changes (and values naming the placeholder,
  e.g. a new contact's company) to the real id.
- Done changes stay a week as history, then are pruned on open. ``complete`` notes the
  confirmation (``records.note_confirmed``): a vendor read that left before it is not
  stored over the record (``upsert_records``'s ``left_at``), nor a timeline read over
  the record's timeline after a note or a logged call (``storing_read``), in any process.
- Any number of processes may share the file. A change is sent by the one that
  claims it (``claim``): the same UPDATE that moves it to ``sending`` writes the claimant
  (``owner``) and a lease, and only succeeds when the change is still due and still the
  oldest unfinished one of its record, and no unfinished create it names by its
  placeholder (a note on a new contact waits for the contact). The sender renews the
  lease while the request runs, and right before each write request (``renew`` False:
  its claim is over, it sends nothing); nobody else may change a claimed change
  (``ChangeBusy``). A sender may only end its own claim: every state change and the
  completion it makes is conditional on ``state = 'sending' AND owner = it``, so a sender
  whose claim was taken over records nothing over the newer state (``ClaimLost``).
- A claim whose owner died (a process of this host that no longer runs; elsewhere, a
  lease run out) is recovered, on open and before each flush, as pending with
  ``maybe_sent`` set: the service checks the vendor before it sends it again, never a
  plain retry. A live claim is never touched: the claim of a process of this host that
  still runs is not taken on its lease alone (it may be stopped with Ctrl-Z or waiting
  for a very slow reply, and would carry on).
- ``ours_since_sent`` (an update): a note or a logged call of ours on its record was
  sent after it (``claim`` marks it) or may still land when it was sent
  (``sending_on``), so a newer version of the record found by its check may be ours.
  ``ours_since`` names those writes, with the vendor's time of a note once done
  (``complete``'s ``made_at``); ``ours_written`` counts only those that may have landed
  (not one the vendor refused), and gives the latest time when all are known.
- ``maybe_sent``: the change may have reached the vendor (an interrupted claim, or a
  reply that never came); it stays set until the change is done or the user says "send
  again". ``uncertain``: a check could not tell; the user decides.
- Discarding a create discards the later changes of its placeholder too. ``discard``
  returns what it took out (``Discarded``: each change with its place in the order and
  its maybe-sent mark) and ``restore`` puts it back exactly so (undo, while the app runs).
- ``held_back``: changes that cannot go because an earlier change of their record (or the
  create they name) waits for the user (refused, conflict, uncertain).
- ``edit_change`` replaces the change's values; resolving a conflict rebases the change
  on the server version the user saw (``base`` takes ``theirs``), and a sent update's
  check for "set back since" compares with that version, not its first send (``_decided``).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from crmtui.model import Activity, Change, ChangeOp, ChangeState, Record, RecordRef, utcnow
from crmtui.store import optimistic, rows
from crmtui.store.cache import _PUT_ACTIVITY, _activity_row, profile_forgotten
from crmtui.store.db import CacheWriteError, HasDatabase, to_text
from crmtui.store.records import _last_confirmed, note_confirmed, timeline_key

DONE_KEPT_FOR = timedelta(days=7)
INTERRUPTED = "Interrupted while sending; it may have reached the vendor."
BEING_SENT = "it is being sent; wait or retry later"
_DONE = ChangeState.DONE.value
_SENDING = ChangeState.SENDING.value


class ChangeBusy(ValueError):
    """The change is being sent or is done, so it cannot be edited or discarded now."""


@dataclass(frozen=True)
class Discarded:
    """A change as it was in the outbox before a discard (``restore`` puts it back)."""

    change: Change
    seq: int  # its place in the order of changes
    maybe_sent: bool
    mark: int = 0  # the read mark when it was discarded: a profile forgotten since?


# States in which a change waits for the user; the later changes of its record wait too.
HOLDING = (ChangeState.REJECTED, ChangeState.CONFLICT, ChangeState.UNCERTAIN)
_HOLDING_SQL = ", ".join(f"'{state.value}'" for state in HOLDING)

# Each pending or failed change held back by a change waiting for the user: the oldest
# such earlier change of its record, else an unfinished create it names by its placeholder.
_HELD_BACK = f"""
SELECT o.id, COALESCE(
    (SELECT p.id FROM outbox p
     WHERE p.profile = o.profile AND p.kind = o.kind AND p.record_id = o.record_id
       AND p.seq < o.seq AND p.state IN ({_HOLDING_SQL})
     ORDER BY p.seq LIMIT 1),
    (SELECT c.id FROM outbox c
     WHERE c.profile = o.profile AND c.id != o.id AND c.state IN ({_HOLDING_SQL})
       AND json_extract(c.data, '$.op') = 'create'
       AND instr(o.data, '"local:' || c.id || '"') > 0
     ORDER BY c.seq LIMIT 1)) AS held_by
FROM outbox o
WHERE o.state IN ('pending', 'failed') AND (? IS NULL OR o.profile = ?)
  AND EXISTS (SELECT 1 FROM outbox h WHERE h.profile = o.profile AND h.state IN ({_HOLDING_SQL}))
"""


class ClaimLost(ChangeBusy):
    """A sender's claim on a change is over (another sender took it over, or the user
    settled it): the sender stops and records nothing over the change's newer state."""


def owner_id() -> str:
    """A claimant's name: this host, this process, and a token of the ``Outbox``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _dead(owner: str) -> bool:
    """Whether ``owner`` was a process of this host that no longer runs (or is a zombie).

    A process elsewhere, or a pid that cannot be read, counts as alive: its lease decides.
    """
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. another user's process: it exists
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[:1] == ["Z"]
    except OSError:
        return False


def _alive_here(owner: str) -> bool:
    """Whether ``owner`` is another process of this host that still runs."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    return not _dead(owner)


def _stale(owner: str | None, lease_until: str | None, now: datetime) -> bool:
    """Whether a claim is over: no owner, an owner that died, or a lease run out.

    A lease running out does not end the claim of a process of this host that still runs:
    it may only be paused (SIGSTOP, Ctrl-Z) or waiting for a very slow reply, and it will
    carry on where it was; taking its change over would send it twice.
    """
    if not owner:
        return True
    if _dead(owner):
        return True
    if _alive_here(owner):
        return False
    return not lease_until or lease_until < (to_text(now) or "")


_SAVE = """
INSERT INTO outbox (id, profile, kind, record_id, state, next_retry_at, done_at, data)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    profile = excluded.profile, kind = excluded.kind, record_id = excluded.record_id,
    state = excluded.state, next_retry_at = excluded.next_retry_at,
    done_at = excluded.done_at, data = excluded.data,
    owner = CASE WHEN excluded.state = 'sending' THEN owner END,
    lease_until = CASE WHEN excluded.state = 'sending' THEN lease_until END
"""

# An unfinished create whose placeholder id (``local:<its id>``) the change names, in its
# record or its values (e.g. a note's ``target_id``, a contact's company): the change
# waits until the create is done and the placeholder re-pointed to the vendor's id.
_WAITS_FOR_CREATE = """
      SELECT 1 FROM outbox c
      WHERE c.profile = {o}.profile AND c.id != {o}.id AND c.state != 'done'
        AND json_extract(c.data, '$.op') = 'create'
        AND instr({o}.data, '"local:' || c.id || '"') > 0"""

# The claim: due, still the oldest unfinished change of its record, not waiting for a
# create it names, and not claimed.
_CLAIM = (
    """
UPDATE outbox SET state = 'sending', owner = ?, lease_until = ?
WHERE id = ?
  AND (state = 'pending'
       OR (state = 'failed' AND (next_retry_at IS NULL OR next_retry_at <= ?)))
  AND NOT EXISTS (
      SELECT 1 FROM outbox p
      WHERE p.profile = outbox.profile AND p.kind = outbox.kind
        AND p.record_id = outbox.record_id AND p.seq < outbox.seq AND p.state != 'done')
  AND NOT EXISTS ("""
    + _WAITS_FOR_CREATE.format(o="outbox")
    + """)
"""
)

_SENDABLE = (
    """
SELECT o.data FROM outbox o
WHERE o.profile = ?
  AND (o.state = 'pending'
       OR (o.state = 'failed' AND (o.next_retry_at IS NULL OR o.next_retry_at <= ?)))
  AND NOT EXISTS (
      SELECT 1 FROM outbox p
      WHERE p.profile = o.profile AND p.kind = o.kind AND p.record_id = o.record_id
        AND p.seq < o.seq AND p.state != 'done')
  AND NOT EXISTS ("""
    + _WAITS_FOR_CREATE.format(o="o")
    + """)
ORDER BY o.seq
"""
)


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


def _claim_of(conn: sqlite3.Connection, change_id: str) -> tuple[str | None, str | None]:
    found = conn.execute("SELECT owner, lease_until FROM outbox WHERE id = ?", (change_id,))
    row = found.fetchone()
    return (row[0], row[1]) if row else (None, None)


def recover_stale(conn: sqlite3.Connection, now: datetime) -> int:
    """Claims whose owner died are pending again, marked as maybe sent; live ones stay.

    Returns how many were recovered.
    """
    found = conn.execute("SELECT id, owner, lease_until FROM outbox WHERE state = ?", (_SENDING,))
    recovered = 0
    for change_id, owner, lease_until in found.fetchall():
        if not _stale(owner, lease_until, now):
            continue
        change = _load(conn, change_id)
        update = {"state": ChangeState.PENDING, "last_error": INTERRUPTED, "next_retry_at": None}
        _save(conn, change.model_copy(update=update))
        conn.execute("UPDATE outbox SET maybe_sent = 1 WHERE id = ?", (change_id,))
        recovered += 1
    return recovered


def recover(conn: sqlite3.Connection, now: datetime) -> None:
    """On open: interrupted claims of dead processes are recovered; old history goes."""
    recover_stale(conn, now)
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


def _rebase_followers(conn: sqlite3.Connection, ref: RecordRef, server: Record) -> None:
    """Later updates of ``ref`` not sent yet are based on the server's new version, so
    they do not conflict with their own predecessor (in the transaction of its completion,
    before another sender can take them)."""
    sql = (
        "SELECT data FROM outbox WHERE profile = ? AND kind = ? AND record_id = ?"
        " AND state IN ('pending', 'failed') ORDER BY seq"
    )
    for other in _select(conn, sql, rows.key(ref)):
        if other.op is ChangeOp.UPDATE:
            base = {k: server.fields.get(k) for k in other.values}
            _save(
                conn, other.model_copy(update={"base": base, "base_updated_at": server.updated_at})
            )


def _unbase_followers(conn: sqlite3.Connection, gone: Change) -> None:
    """Later updates of a discarded update's record were based on its values (the record
    showed them queued): based on what it was based on instead, since its values never
    reach the vendor (else they would conflict with a value the server never had)."""
    sql = (
        "SELECT data FROM outbox WHERE profile = ? AND kind = ? AND record_id = ?"
        " AND state IN ('pending', 'failed') ORDER BY seq"
    )
    for other in _select(conn, sql, rows.key(gone.ref)):
        if other.op is not ChangeOp.UPDATE:
            continue
        base = {
            key: gone.base.get(key) if key in gone.values and was == gone.values[key] else was
            for key, was in other.base.items()
        }
        if base != other.base:
            _save(conn, other.model_copy(update={"base": base}))


# A write of ours on a record that is not one of its own changes: a note or a logged call
# on it (its ``values`` name it as target). Vendors stamp a record when one is added (a
# Salesloft person is "last contacted", an ActiveCampaign deal is touched).
_WRITES_ON = """
SELECT id FROM outbox
WHERE profile = ? AND id != ?
  AND (state = 'sending' OR (maybe_sent = 1 AND state IN ('pending', 'failed')))
  AND json_extract(data, '$.values.target_kind') = ?
  AND json_extract(data, '$.values.target_id') = ?
ORDER BY seq
"""


def _target(change: Change) -> RecordRef | None:
    """The record a note or a logged call writes on (None: any other change)."""
    kind, id = change.values.get("target_kind"), change.values.get("target_id")
    if not isinstance(kind, str) or id is None or isinstance(id, dict | list):
        return None
    return RecordRef(profile=change.ref.profile, kind=kind, id=str(id))


def _ours_in_flight(conn: sqlite3.Connection, change: Change) -> list[str]:
    """The writes of ours on ``change``'s record that may still land: being sent, or sent
    with an unknown outcome and not checked yet (a write may land after our timeout; one
    waiting for the user has had its check). The record's next version may be ours."""
    ref = change.ref
    found = conn.execute(_WRITES_ON, (ref.profile, change.id, ref.kind, ref.id))
    return [str(writer) for (writer,) in found.fetchall()]


def _mark_ours(conn: sqlite3.Connection, writer: Change) -> None:
    """``writer`` (a note or a logged call) is about to write on its target: the target's
    updates sent before it and not done are marked ``ours_since_sent`` (``ours_since``
    names it), so that their check does not take the version it stamps for someone else
    setting the record back."""
    for other in _sent_updates_of(conn, writer):
        if writer.id not in other.ours_since:
            ours = {**other.ours_since, writer.id: None}
            _save(conn, other.model_copy(update={"ours_since_sent": True, "ours_since": ours}))


def _sent_updates_of(conn: sqlite3.Connection, writer: Change) -> list[Change]:
    """The updates sent and not done of the record ``writer`` writes on (a note's)."""
    target = _target(writer)
    if target is None:
        return []
    sql = (
        "SELECT data FROM outbox WHERE profile = ? AND kind = ? AND record_id = ?"
        " AND state != ? ORDER BY seq"
    )
    return [
        other
        for other in _select(conn, sql, (*rows.key(target), _DONE))
        if other.op is ChangeOp.UPDATE and other.sent_on_updated_at is not None
    ]


def _landed(conn: sqlite3.Connection, writer: Change, when: datetime) -> None:
    """``writer`` is done, made at ``when`` by the vendor's clock: the updates it marked
    know that a version of their record newer than that is not its."""
    when = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    for other in _sent_updates_of(conn, writer):
        if writer.id in other.ours_since:
            ours = {**other.ours_since, writer.id: when}
            _save(conn, other.model_copy(update={"ours_since": ours}))


def _decided(conn: sqlite3.Connection, change: Change, version: datetime | None) -> dict[str, Any]:
    """For a sent update whose conflict the user settled on the server's ``version``: its
    check compares with that version from now on, as if sent on it (else the old value
    they chose to write over, on a version newer than the send, made it a conflict again
    at every try: "keep mine" after someone set our landed edit back never went)."""
    if change.op is not ChangeOp.UPDATE or change.sent_on_updated_at is None or version is None:
        return {}
    flying = _ours_in_flight(conn, change)
    return {
        "sent_on_updated_at": version,
        "ours_since_sent": bool(flying),
        "ours_since": dict.fromkeys(flying),
    }


@dataclass(frozen=True)
class OursSince:
    """The writes of ours on an update's record since it was sent (``ours_written``)."""

    landed: bool  # one of them may have landed
    until: datetime | None  # the vendor's time of the latest (None: not known for all)


class OutboxMixin(HasDatabase):
    """Queued edits: enqueue, state changes, completion, discard and edit."""

    def enqueue(
        self,
        change: Change,
        *,
        vendor: str | None = None,
        entry: tuple[RecordRef, Activity] | None = None,
        what: str = "your edit",
    ) -> Change:
        """Queue ``change`` and show it in the cached record at once; returns it as stored.

        A create gets the placeholder id ``local:<change.id>`` (``vendor`` names the
        vendor of the placeholder record when the profile has no records yet).
        ``entry``: a timeline entry (``record, activity``) showing the change as queued.
        The change, its optimistic record and the entry are written in one transaction:
        if it fails (disk full, read-only, locked) none of them is, and
        ``CacheWriteError`` says so (``what`` names the change in its text).
        """
        update: dict[str, Any] = {"state": ChangeState.PENDING}
        if change.op is ChangeOp.CREATE:
            ref = change.ref
            update["ref"] = RecordRef(
                profile=ref.profile, kind=ref.kind, id=optimistic.placeholder_id(change)
            )
        stored = change.model_copy(update=update, deep=True)
        try:
            with self._db.transaction() as conn:
                if vendor:
                    conn.execute(
                        "INSERT INTO profiles (profile, vendor) VALUES (?, ?)"
                        " ON CONFLICT (profile) DO UPDATE SET vendor = excluded.vendor",
                        (stored.ref.profile, vendor),
                    )
                if entry is not None:
                    conn.execute(_PUT_ACTIVITY, _activity_row(*entry))
                _save(conn, stored)
                optimistic.rebuild(conn, stored.ref)
        except (sqlite3.Error, OSError) as exc:
            raise CacheWriteError.of(exc, self._db.path, what) from exc
        return stored

    def claim(
        self, change_id: str, owner: str, lease: timedelta, now: datetime | None = None
    ) -> Change | None:
        """Take a due change to send it: ``sending``, owned by ``owner`` for ``lease``.

        None when it is not due at ``now`` any more, not the oldest of its record, or
        claimed by another sender (in this process or another). Counts an attempt.
        """
        now = now or utcnow()
        with self._db.transaction() as conn:
            done = conn.execute(
                _CLAIM, (owner, to_text(now + lease), change_id, to_text(now))
            ).rowcount
            if done != 1:
                return None
            change = _load(conn, change_id)
            update = {"state": ChangeState.SENDING, "attempts": change.attempts + 1}
            claimed = change.model_copy(update=update)
            _save(conn, claimed)
            _mark_ours(conn, claimed)
        return claimed

    def renew(self, change_id: str, owner: str, lease: timedelta) -> bool:
        """Extend ``owner``'s claim (while its request runs, and right before each write
        request, to confirm it still holds the claim); False if it has none now."""
        with self._db.transaction() as conn:
            return (
                conn.execute(
                    "UPDATE outbox SET lease_until = ? WHERE id = ? AND owner = ? AND state = ?",
                    (to_text(utcnow() + lease), change_id, owner, _SENDING),
                ).rowcount
                == 1
            )

    def note_seen(self, change_id: str, owner: str, ids: Iterable[str]) -> Change:
        """Keep, before ``owner`` posts the note, the ids of the notes like it already
        there (see ``Change.seen_notes``); ``ClaimLost`` when the claim is over."""
        return self._remember(change_id, owner, seen_notes=list(ids))

    def sending_on(self, change_id: str, owner: str, updated_at: datetime | None) -> Change:
        """Keep, before ``owner`` sends the update, the server version it was read at
        (see ``Change.sent_on_updated_at``); ``ClaimLost`` when the claim is over.

        ``ours_since_sent`` starts over: set when a write of ours on the record (a note
        on it) is being sent or may still land, else when one is sent later (``claim``).
        """
        with self._db.transaction() as conn:
            change = self._held(conn, change_id, owner)
            flying = _ours_in_flight(conn, change)
            update = {
                "sent_on_updated_at": updated_at,
                "ours_since_sent": bool(flying),
                "ours_since": dict.fromkeys(flying),
            }
            kept = change.model_copy(update=update)
            _save(conn, kept)
        return kept

    def ours_written(self, change_id: str) -> OursSince:
        """Whether a write of ours on the update's record may have landed since it was
        last sent (done, being sent, or sent with an unknown outcome; not one the vendor
        refused or that never went out), and the vendor's time of the latest when every
        such write is done with its time known."""
        with self._db.read() as conn:
            try:
                change = _load(conn, change_id)
            except KeyError:
                return OursSince(False, None)
            if not change.ours_since:  # none, or marked by an older crmtui: unknown
                return OursSince(change.ours_since_sent, None)
            landed, times, unknown = False, [], False
            for writer, when in change.ours_since.items():
                found = conn.execute(
                    "SELECT state, maybe_sent FROM outbox WHERE id = ?", (writer,)
                ).fetchone()
                if found is None:  # discarded: taken as not landed (a conflict at worst)
                    continue
                state, maybe = found
                if state in (_DONE, _SENDING) or maybe:
                    landed = True
                    if state == _DONE and when is not None:
                        times.append(when)
                    else:  # it may land at any time, or the vendor gave no time
                        unknown = True
        return OursSince(landed, None if unknown or not times else max(times))

    def _remember(self, change_id: str, owner: str, **update: Any) -> Change:
        with self._db.transaction() as conn:
            change = self._held(conn, change_id, owner)
            kept = change.model_copy(update=update)
            _save(conn, kept)
        return kept

    def done_like_results(self, change: Change) -> set[str]:
        """The vendor's ids of what other done changes like ``change`` made (notes)."""
        sql = (
            "SELECT data, result_id FROM outbox WHERE profile = ? AND kind = ? AND state = ?"
            " AND id != ? AND result_id IS NOT NULL"
        )
        params = (change.ref.profile, change.ref.kind, _DONE, change.id)
        with self._db.read() as conn:
            found = conn.execute(sql, params).fetchall()
        return {
            result
            for data, result in found
            if (other := Change.model_validate_json(data)).op is change.op
            and other.values == change.values
        }

    def result_of(self, change_id: str) -> str | None:
        """The vendor's id of what a done change made (``complete``'s ``result_id``)."""
        with self._db.read() as conn:
            found = conn.execute("SELECT result_id FROM outbox WHERE id = ?", (change_id,))
            row = found.fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def made_by_other(self, change: Change, result_id: str) -> bool:
        """Whether another done change of ``change``'s profile made ``result_id``."""
        sql = (
            "SELECT 1 FROM outbox WHERE profile = ? AND state = ? AND id != ? AND result_id = ?"
            " LIMIT 1"
        )
        params = (change.ref.profile, _DONE, change.id, result_id)
        with self._db.read() as conn:
            return conn.execute(sql, params).fetchone() is not None

    def recover_stale(self) -> int:
        """Claims of senders that died are pending again, as maybe sent (see the module)."""
        with self._db.read() as conn:
            if conn.execute("SELECT 1 FROM outbox WHERE state = ? LIMIT 1", (_SENDING,)).fetchone():
                with self._db.transaction():
                    return recover_stale(conn, utcnow())
        return 0

    def _guard(self, conn: sqlite3.Connection, change: Change, owner: str | None) -> None:
        """``ChangeBusy`` when a change is claimed by a live sender other than ``owner``.

        ``owner`` None: the user acting on the change, for whom an unowned claim (see
        ``set_state``) counts as live too. A sender (``owner`` given) may only end its own
        claim: ``ClaimLost`` when the change is not ``sending`` by it any more.
        """
        if owner:
            claimant, _ = _claim_of(conn, change.id)
            if change.state is not ChangeState.SENDING or claimant != owner:
                raise ClaimLost(BEING_SENT)
            return
        if change.state is not ChangeState.SENDING:
            return
        claimant, lease_until = _claim_of(conn, change.id)
        if claimant is None:
            if owner is None:
                raise ChangeBusy(BEING_SENT)
            return
        if claimant != owner and not _stale(claimant, lease_until, utcnow()):
            raise ChangeBusy(BEING_SENT)

    def _held(self, conn: sqlite3.Connection, change_id: str, owner: str) -> Change:
        """The change, checked by ``_guard``. A sender's (``owner`` given) that left the
        outbox (its profile forgotten: ``Store.delete_profile``) is ``ClaimLost`` too:
        its reply, come after, stores nothing and is no error."""
        try:
            change = _load(conn, change_id)
        except KeyError:
            if owner:
                raise ClaimLost("the change left the outbox") from None
            raise
        self._guard(conn, change, owner)
        return change

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
        owner: str | None = None,
        maybe_sent: bool | None = None,
    ) -> None:
        """Move a change to ``state``; ``sending`` counts an attempt (done: see ``complete``).

        ``theirs``/``theirs_updated_at``: for a conflict, the server's values and version.
        ``owner``: the sender ending its claim; a change another sender has claimed
        raises ``ChangeBusy``. ``sending`` here is a claim without an owner (what a
        crashed sender of an older crmtui left): ``claim`` is how senders take changes.
        ``maybe_sent``: whether it may have reached the vendor (None: as it was).
        """
        state = ChangeState(state)
        if state is ChangeState.DONE:
            self.complete(change_id, None)
            return
        with self._db.transaction() as conn:
            change = self._held(conn, change_id, owner or "")
            if maybe_sent is not None:
                conn.execute(
                    "UPDATE outbox SET maybe_sent = ? WHERE id = ?", (int(maybe_sent), change_id)
                )
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
            _save(conn, change.model_copy(update=update))

    def requeue(self, change_id: str, *, checked: bool = False) -> Change:
        """Send a change again as soon as possible ("retry now"); returns it as it was.

        ``checked``: the user checked with the vendor that it did not arrive, so it is
        sent without a check first. A done change, or one being sent, raises ``ChangeBusy``.
        """
        with self._db.transaction() as conn:
            change = _load(conn, change_id)
            if change.state is ChangeState.DONE:
                raise ChangeBusy(
                    "this change is done: the vendor confirmed it, so there is nothing to "
                    "send again (edit the record to change it once more)"
                )
            self._guard(conn, change, None)
            if checked:
                conn.execute("UPDATE outbox SET maybe_sent = 0 WHERE id = ?", (change_id,))
            update = {"state": ChangeState.PENDING, "next_retry_at": None}
            _save(conn, change.model_copy(update=update))
        return change

    def confirm(self, change_id: str) -> Change:
        """The user says the change arrived (e.g. an uncertain one): done, nothing sent.

        Returns it as it was; ``ChangeBusy`` when it is being sent.
        """
        with self._db.transaction() as conn:
            change = _load(conn, change_id)
            if change.state is not ChangeState.DONE:
                self._guard(conn, change, None)
                self.complete(change_id, None)
        return change

    def make_due(self, profile: str) -> None:
        """Failed changes of ``profile`` are due now, not at their backoff."""
        with self._db.transaction() as conn:
            sql = "SELECT data FROM outbox WHERE profile = ? AND state = 'failed'"
            for change in _select(conn, sql, (profile,)):
                if change.next_retry_at is not None:
                    _save(conn, change.model_copy(update={"next_retry_at": None}))

    def done_like(self, change: Change, since: datetime) -> list[Change]:
        """Other changes done at or after ``since`` with the same op, kind and values as
        ``change`` (e.g. the same note on the same record, posted twice on purpose)."""
        sql = (
            "SELECT data FROM outbox WHERE profile = ? AND kind = ? AND state = ?"
            " AND done_at >= ? AND id != ? ORDER BY seq"
        )
        params = (change.ref.profile, change.ref.kind, _DONE, to_text(since), change.id)
        with self._db.read() as conn:
            found = _select(conn, sql, params)
        return [c for c in found if c.op is change.op and c.values == change.values]

    def complete(
        self,
        change_id: str,
        server_record: Record | None,
        *,
        result_id: str | None = None,
        owner: str | None = None,
        made_at: datetime | None = None,
    ) -> None:
        """The vendor confirmed the change: mark it done and cache the server's record.

        ``server_record`` is the record as the server has it afterwards;
        None when there is none (a delete) or the adapter did not return it, in which
        case the change's values are taken as the server's (a create without it just
        drops its placeholder). ``result_id``: the vendor's id of what it made (a note).
        ``owner``: the sender completing its claim; ``ClaimLost`` (nothing written) when
        the change is not ``sending`` by it any more. ``made_at``: the vendor's time of
        what it made (a note's), for the updates of its record it marked (``ours_since``).
        """
        with self._db.transaction() as conn:
            change = self._held(conn, change_id, owner) if owner else _load(conn, change_id)
            done = change.model_copy(
                update={"state": ChangeState.DONE, "last_error": None, "next_retry_at": None}
            )
            _save(conn, done)
            conn.execute(
                "UPDATE outbox SET maybe_sent = 0, result_id = ? WHERE id = ?",
                (result_id, change_id),
            )
            if made_at is not None:
                _landed(conn, change, made_at)
            target = _target(change)
            if target is not None:  # a note, a logged call: a timeline read that left before
                note_confirmed(conn, timeline_key(target))  # it is not stored over it
            ref = change.ref
            if change.op is ChangeOp.CREATE:
                rows.delete(conn, ref)
                if server_record is None:  # e.g. a note: nothing to cache as a record
                    return
                _repoint(conn, ref, server_record.ref)
                ref = server_record.ref
            note_confirmed(conn, ref)  # a read that left before is not stored over it
            if server_record is not None:
                if change.op is ChangeOp.UPDATE:
                    _rebase_followers(conn, ref, server_record)
                optimistic.rebuild(conn, ref, server=rows.Version(server_record))
                rows.write_raw(conn, [server_record])
                return
            found = rows.read(conn, ref)
            if found is None:
                return
            kept = found[1] or found[0]
            vendor = kept.record.vendor
            optimistic.rebuild(conn, ref, server=optimistic.apply(kept, change, vendor))

    def discard(self, change_id: str) -> list[Discarded]:
        """Drop a queued change and show the record without it (a create: with its
        followers); returns what was dropped, as it was, for ``restore``."""
        with self._db.transaction() as conn:
            try:
                change = _load(conn, change_id)
            except KeyError:
                return []
            self._guard(conn, change, None)
            where, params = "id = ?", [change_id]
            if change.op is ChangeOp.CREATE:
                where += " OR (profile = ? AND kind = ? AND record_id = ?)"
                params.extend(rows.key(change.ref))
            found = conn.execute(
                f"SELECT seq, maybe_sent, data FROM outbox WHERE {where} AND state != ?"
                " ORDER BY seq",
                [*params, _DONE],
            ).fetchall()
            mark = _last_confirmed(conn)  # the read mark (``read_mark``) now
            gone = [
                Discarded(Change.model_validate_json(data), seq, bool(maybe), mark)
                for seq, maybe, data in found
            ]
            conn.execute(f"DELETE FROM outbox WHERE {where}", params)
            if change.op is ChangeOp.UPDATE:
                _unbase_followers(conn, change)
            optimistic.rebuild(conn, change.ref)
        return gone

    def restore(self, discarded: Iterable[Discarded]) -> list[Change]:
        """Put discarded changes back as they were: state, values, base, tries and their
        place in the order (undo of ``discard``); the records show them again. Returns
        those put back: not one of a profile forgotten since (``delete_profile``, in any
        process: the cache holds nothing of it now), which stays forgotten."""
        back: list[Change] = []
        with self._db.transaction() as conn:
            for gone in discarded:
                change = gone.change
                if profile_forgotten(conn, change.ref.profile, gone.mark):
                    continue
                conn.execute(
                    "INSERT INTO outbox (seq, id, profile, kind, record_id, state,"
                    " next_retry_at, maybe_sent, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        gone.seq,
                        change.id,
                        *rows.key(change.ref),
                        change.state.value,
                        to_text(change.next_retry_at),
                        int(gone.maybe_sent),
                        change.model_dump_json(),
                    ),
                )
                back.append(change)
            for ref in dict.fromkeys(change.ref for change in back):
                optimistic.rebuild(conn, ref)
        return back

    def held_back(self, profile: str | None = None) -> dict[str, str]:
        """Changes that wait behind a change waiting for the user (refused, conflict,
        uncertain): ``{waiting change id: id of the change holding it}``."""
        with self._db.read() as conn:
            found = conn.execute(_HELD_BACK, (profile, profile)).fetchall()
        return {waiting: holder for waiting, holder in found if holder is not None}

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
                update.update(_decided(conn, change, update["base_updated_at"]))
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
            if change.state is ChangeState.CONFLICT:
                update.update(_decided(conn, change, base_updated_at))
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
