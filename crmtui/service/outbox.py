"""Sending the outbox: every queued edit reaches the vendor exactly once, or stays queued.

Rules (README "Offline and the outbox"):

* Changes of one record go in order (the store hands out only the oldest unfinished
  change of a record); different records go one after another within the profile's
  rate budget.
* **Leave if changed**, field by field: before an update is sent the record is read from
  the server. If a field being changed has moved on the server since the edit was based
  (it is neither the base value nor already the new value), the change becomes a
  *conflict* with the server's values kept beside it, and nothing is sent. Fields the
  server changed that the edit does not touch are not a conflict: they are left alone.
  (MODEL.md says any move of ``updated_at`` is a conflict; that made every second edit of
  the same record conflict with our own first one, so the check is per field.)
* After a change is done, later queued changes of the same record are rebased on the
  server's new version, so they do not conflict with their own predecessor.
* Transient failures (offline, timeouts, 5xx, 429, unreadable replies) retry with
  backoff, ``Retry-After`` first; the vendor saying no (a 4xx) marks the change rejected
  with the vendor's message; a 401 waits for the user to fix credentials.
* A create whose reply was lost (the app died between sending and the answer) is not
  posted blindly again: the adapter's ``create`` is given the same idempotency key.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from crmtui.fields import same_value
from crmtui.http import AuthError, CrmError, NotFound, Offline
from crmtui.model import Change, ChangeOp, ChangeState, RecordRef, utcnow
from crmtui.service.events import ListChanged, RecordChanged

if TYPE_CHECKING:
    from crmtui.service.crm import Crm

NOTE_KIND = "note"  # outbox creates of this kind are notes added to a record's timeline
RETRY_BASE = 5.0  # seconds before the first retry of a transient failure
RETRY_CAP = 600.0
AUTH_RETRY = 300.0


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    if retry_after is not None:
        return retry_after
    ceiling = min(RETRY_CAP, RETRY_BASE * 2 ** max(0, attempts - 1))
    return ceiling * (0.5 + random.random() / 2)


class Outbox:
    def __init__(self, crm: Crm) -> None:
        self.crm = crm
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[int]] = set()
        self.paused = False  # e.g. while the user works offline on purpose

    def kick(self, profile: str) -> None:
        """Send what can be sent, in the background (no-op without a running loop)."""
        if self.paused:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self.flush(profile))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def wake(self, profile: str) -> None:
        """The vendor answers again: failed changes are due now, not at their backoff."""
        store = self.crm.store
        for change in store.changes(profile=profile, states=[ChangeState.FAILED]):
            store.set_state(change.id, ChangeState.FAILED, last_error=change.last_error)
        self.kick(profile)

    async def flush_all(self) -> int:
        sent = 0
        for profile in self.crm.states:
            sent += await self.flush(profile)
        return sent

    async def flush(self, profile: str) -> int:
        """Send every change of ``profile`` that is due; return how many went through."""
        lock = self._locks.setdefault(profile, asyncio.Lock())
        sent = 0
        async with lock:
            while not self.paused:
                due = self.crm.store.sendable(profile, utcnow())
                if not due:
                    break
                progressed = False
                for change in due:
                    ok = await self._send(change)
                    sent += ok
                    progressed = progressed or ok
                    if self.crm.states[profile].online is False:
                        return sent  # offline: stop and wait for the next retry
                if not progressed:
                    break
        return sent

    async def _send(self, change: Change) -> bool:
        crm, store = self.crm, self.crm.store
        profile = change.ref.profile
        store.set_state(change.id, ChangeState.SENDING)
        try:
            adapter = crm.adapter(profile)
            if change.op is ChangeOp.UPDATE:
                current = await crm.call(profile, adapter.get(change.ref.kind, change.ref.id))
                clashing = {
                    key
                    for key, mine in change.values.items()
                    if not same_value(current.fields.get(key), change.base.get(key))
                    and not same_value(current.fields.get(key), mine)
                }
                if clashing:
                    store.upsert_records([current], synced_at=utcnow())  # theirs, kept
                    store.set_state(
                        change.id,
                        ChangeState.CONFLICT,
                        last_error="changed on the server since you edited it",
                        theirs={k: current.fields.get(k) for k in change.values},
                        theirs_updated_at=current.updated_at,
                    )
                    crm.notice(
                        f"{current.title}: {', '.join(sorted(clashing))} changed on the server "
                        "since your edit. Open the outbox to compare and choose.",
                        "warning",
                        profile,
                    )
                    crm._outbox_changed(profile)
                    return False
                result = await crm.call(profile, adapter.update(change))
                store.complete(change.id, result)
                self._rebase_followers(change.ref, result.updated_at, result.fields)
                timeline = store.get_timeline(change.ref)
                if timeline is not None:  # the queued entry leaves; the vendor's comes next
                    store.put_timeline(
                        change.ref, [a for a in timeline if a.id != f"local:{change.id}"]
                    )
            elif change.op is ChangeOp.CREATE and change.ref.kind == NOTE_KIND:
                target = RecordRef(
                    profile=profile,
                    kind=str(change.values["target_kind"]),
                    id=str(change.values["target_id"]),
                )
                activity = await crm.call(
                    profile, adapter.add_note(target, str(change.values["text"]))
                )
                store.complete(change.id, None)
                timeline = [
                    a for a in store.get_timeline(target) or [] if a.id != f"local:{change.id}"
                ]
                store.put_timeline(target, [activity, *timeline])
                crm.emit(RecordChanged(target))
            elif change.op is ChangeOp.CREATE:
                record = await crm.call(
                    profile, adapter.create(change.ref.kind, change.values, change.idempotency_key)
                )
                store.complete(change.id, record)
            else:
                with contextlib.suppress(NotFound):
                    await crm.call(profile, adapter.delete(change.ref))
                store.complete(change.id, None)
                store.mark_deleted(change.ref)
        except CrmError as exc:
            self._failed(change, exc)
            return False
        except Exception as exc:  # an adapter bug must not lose the edit nor kill the app
            store.set_state(
                change.id,
                ChangeState.FAILED,
                last_error=f"unexpected error: {exc}",
                next_retry_at=utcnow() + timedelta(seconds=RETRY_CAP),
            )
            crm.notice(f"Could not send an edit: {exc}", "error", profile)
            crm._outbox_changed(profile)
            return False
        crm.emit(RecordChanged(change.ref))
        crm.emit(ListChanged(profile, change.ref.kind))
        crm._outbox_changed(profile)
        return True

    def _failed(self, change: Change, exc: CrmError) -> None:
        crm, store = self.crm, self.crm.store
        profile = change.ref.profile
        attempts = change.attempts + 1
        if exc.retryable:
            delay = retry_delay(attempts, exc.retry_after)
            store.set_state(
                change.id,
                ChangeState.FAILED,
                last_error=str(exc),
                next_retry_at=utcnow() + timedelta(seconds=delay),
            )
            if not isinstance(exc, Offline):
                crm.notice(f"{exc} Will retry in {delay:.0f} s.", "warning", profile)
        elif isinstance(exc, AuthError):
            store.set_state(
                change.id,
                ChangeState.FAILED,
                last_error=str(exc),
                next_retry_at=utcnow() + timedelta(seconds=AUTH_RETRY),
            )
            crm.notice(str(exc), "error", profile)
        else:
            store.set_state(change.id, ChangeState.REJECTED, last_error=str(exc))
            crm.notice(f"{exc} Your edit is kept in the outbox.", "error", profile)
        crm._outbox_changed(profile)

    def _rebase_followers(
        self, ref: RecordRef, updated_at: datetime | None, fields: dict[str, Any]
    ) -> None:
        store = self.crm.store
        for other in store.changes(
            profile=ref.profile, states=[ChangeState.PENDING, ChangeState.FAILED]
        ):
            if other.ref == ref and other.op is ChangeOp.UPDATE:
                store.rebase_change(
                    other.id,
                    values=other.values,
                    base={k: fields.get(k) for k in other.values},
                    base_updated_at=updated_at,
                )

    async def stop(self) -> None:
        self.paused = True
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def wait_idle(self) -> None:
        """Wait for background sends (tests and `crmtui sync`)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
