"""Sending the outbox: every queued edit reaches the vendor exactly once, or stays queued.

Rules (README "Offline and the outbox"):

* Changes of one record go in order (the store hands out only the oldest unfinished
  change of a record); different records go one after another within the profile's
  rate budget.
* **One sender per change**, across processes (the app, notebooks, ``crmtui sync``
  sharing one cache): a change is sent only by the ``Outbox`` that claimed it in the
  store (``Store.claim``: owner and lease in the same UPDATE that moves it to
  ``sending``); the lease is renewed while the request runs. Claims of senders that died
  are recovered as *maybe sent* (see below), never as a plain retry.
* **Leave if changed**, field by field: before an update is sent the record is read from
  the server. If a field being changed has moved on the server since the edit was based
  (it is neither the base value nor already the new value), the change becomes a
  *conflict* with the server's values kept beside it, and nothing is sent. Fields the
  server changed that the edit does not touch are not a conflict: they are left alone.
  (MODEL.md says any move of ``updated_at`` is a conflict; that made every second edit of
  the same record conflict with our own first one, so the check is per field.) When the
  server already holds every new value, the update is done without sending.
* After a change is done, later queued changes of the same record are rebased on the
  server's new version (by the store, as it completes it), so they do not conflict with
  their own predecessor.
* Transient failures (offline, timeouts, 5xx, 429, unreadable replies) retry with
  backoff, ``Retry-After`` first; the vendor saying no (a 4xx) marks the change rejected
  with the vendor's message; a 401 waits for the user to fix credentials.
* **Unknown outcomes are checked, never guessed.** A write whose outcome is unknown (the
  error says ``maybe_applied``: a lost reply, a timeout after sending; or its sender died
  mid-send) is *maybe sent*, and before it is sent again the vendor is asked whether it
  arrived: an update by its values (new values: done; base values: send; others:
  conflict; base values on a newer version than the edit's: conflict too, as it may
  have landed and been set back by someone, unless a write of ours on the record, a note
  on it, may have landed since and the version is not newer than the vendor's time of
  it: vendors stamp a record when a note is added), a delete
  by whether the record is gone (``is_deleted``), a create by the adapter's ``find_created`` (the idempotency key, or a
  look-up by its values; never a record another done change made), a note by its text
  on the record's timeline: before a note is posted, the ids of the notes with its text
  already there are kept with the change, and a later one with its text (read the same
  way on both sides, ``html_to_text``) not made by another done change is ours; no clock
  is compared. A
  write may land after our timeout, so a check that finds nothing looks again after
  each of ``check_delays`` before it decides "not there, send". Where
  the adapter cannot look (``CannotTell``, or ``notes_listed`` False), the change waits
  as ``uncertain`` and the user decides in the outbox: send again, it arrived, discard.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from crmtui.fields import html_to_text, same_value
from crmtui.http import AuthError, CrmError, NotFound, Offline
from crmtui.model import (
    Activity,
    Change,
    ChangeOp,
    ChangeState,
    Record,
    RecordRef,
    Role,
    utcnow,
)
from crmtui.service.calls import LOG_KIND, log_target, logged
from crmtui.service.events import (
    ChangeSent,
    ListChanged,
    Notice,
    OutboxChanged,
    RecordChanged,
    Severity,
)
from crmtui.service.ports import Ports
from crmtui.store import ChangeBusy, ClaimLost
from crmtui.store.outbox import OursSince, owner_id
from crmtui.vendors.base import CannotTell, Vendor

T = TypeVar("T")

NOTE_KIND = "note"  # outbox creates of this kind are notes added to a record's timeline
RETRY_BASE = 5.0  # seconds before the first retry of a transient failure
RETRY_CAP = 600.0
AUTH_RETRY = 300.0
LEASE = 60.0  # seconds a claim holds without renewal; renewed every third of it
CHECK_DELAYS = (2.0, 8.0)  # seconds before looking again for a write that may land late
# A version of a record at most this long after the vendor's time of our note on it may be
# the note's stamp (vendors give whole seconds: ActiveCampaign's deal ``mdate``).
OURS_SLACK = timedelta(seconds=1)
# Only for a note queued by an older crmtui (no ``seen_notes``): one found on the timeline
# counts as ours when made at most this long before the change was queued.
NOTE_CLOCK_SKEW = timedelta(minutes=2)


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    if retry_after is not None:
        return retry_after
    ceiling = min(RETRY_CAP, RETRY_BASE * 2.0 ** max(0, attempts - 1))
    return ceiling * (0.5 + random.random() / 2)


def _plain(text: str) -> str:
    """Note text as compared with a vendor's copy, both read the same way: as the adapters
    read a vendor's note (``html_to_text``: typed ``<b>bold</b>`` comes back as ``bold``),
    with whitespace runs as one space."""
    return " ".join(html_to_text(text).split())


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def note_target(change: Change) -> RecordRef:
    """The record a queued note is written on."""
    return RecordRef(
        profile=change.ref.profile,
        kind=str(change.values["target_kind"]),
        id=str(change.values["target_id"]),
    )


class Outbox:
    """Sends the queued changes of the profiles, through the service's ``Ports``."""

    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        self.store = ports.store
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[int]] = set()
        self.paused = False  # e.g. while the user works offline on purpose
        self.owner = owner_id()  # this sender's name in the claims it makes
        self.lease = LEASE
        self.check_delays: tuple[float, ...] = CHECK_DELAYS
        # waits between a check's looks (``check_delays``); tests pass a clock they move
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

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
        self.store.make_due(profile)
        self.kick(profile)

    def changed(self, profile: str) -> None:
        """Tell the listeners how many changes of ``profile`` are queued now."""
        self.ports.emit(OutboxChanged(profile, self.store.queued_count(profile)))

    def _notice(self, text: str, severity: Severity, profile: str) -> None:
        self.ports.emit(Notice(text, severity, profile))

    def _holding(self, change: Change) -> str:
        """For the notice of a change that now waits for the user: the later edits it
        holds back (they go once it is fixed, sent again or discarded), or ""."""
        held = sum(
            1 for holder in self.store.held_back(change.ref.profile).values() if holder == change.id
        )
        if not held:
            return ""
        edits = "edit" if held == 1 else "edits"
        return (
            f" {held} later {edits} of this record wait behind it: fix it or discard it in "
            "the outbox (ctrl+o)."
        )

    async def flush_all(self, profiles: list[str]) -> int:
        sent = 0
        for profile in profiles:
            sent += await self.flush(profile)
        return sent

    async def flush(self, profile: str) -> int:
        """Send every change of ``profile`` that is due; return how many went through."""
        lock = self._locks.setdefault(profile, asyncio.Lock())
        sent = 0
        async with lock:
            if self.store.recover_stale():  # claims of senders that died
                self.changed(profile)
            while not self.paused:
                due = self.store.sendable(profile, utcnow())
                if not due:
                    break
                progressed = False
                for change in due:
                    ok = await self._send(change)
                    sent += ok
                    progressed = progressed or ok
                    if self.ports.online(profile) is False:
                        return sent  # offline: stop and wait for the next retry
                if not progressed:
                    break
        return sent

    # -- one change -------------------------------------------------------------------

    async def _send(self, change: Change) -> bool:
        """Claim ``change`` and deliver it; False when another sender has it."""
        lease = timedelta(seconds=self.lease)
        claimed = self.store.claim(change.id, self.owner, lease, utcnow())
        if claimed is None:
            return False
        renewal = asyncio.ensure_future(self._renew(claimed.id))
        try:
            return await self._deliver(claimed)
        except asyncio.CancelledError:  # stopped mid-send (the app closes): unknown outcome
            now = self.store.get_change(claimed.id)
            if now is not None and now.state is ChangeState.SENDING:
                self._settle(claimed, ChangeState.PENDING, last_error=None, maybe_sent=True)
            raise
        finally:
            renewal.cancel()

    async def _renew(self, change_id: str) -> None:
        """Keep the claim while the request runs (another process would recover it)."""
        lease = timedelta(seconds=self.lease)
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                if not self.store.renew(change_id, self.owner, lease):
                    return
            except Exception:  # a locked or full disk: try again at the next turn
                continue

    async def _deliver(self, change: Change) -> bool:
        profile = change.ref.profile
        unsure = self.store.maybe_sent(change.id)
        try:
            adapter = self.ports.adapter(profile)
            if change.op is ChangeOp.UPDATE:
                done = await self._update(adapter, change, unsure)
            elif change.op is ChangeOp.CREATE and change.ref.kind == NOTE_KIND:
                done = await self._note(adapter, change, unsure)
            elif change.op is ChangeOp.CREATE and change.ref.kind == LOG_KIND:
                done = await self._log(adapter, change, unsure)
            elif change.op is ChangeOp.CREATE:
                done = await self._create(adapter, change, unsure)
            elif change.ref.kind == LOG_KIND:  # the undo of a logged call
                done = await self._unlog(adapter, change)
            else:
                done = await self._delete(adapter, change, unsure)
        except ClaimLost:  # another sender took it over (or the user settled it): theirs
            self.changed(profile)
            return False
        except CannotTell as exc:
            self._uncertain(change, exc)
            return False
        except CrmError as exc:
            self._failed(change, exc)
            return False
        except Exception as exc:  # an adapter bug must not lose the edit nor kill the app
            detail = self.ports.redact(str(exc))  # shown, and kept in the cache
            self._settle(
                change,
                ChangeState.FAILED,
                last_error=f"unexpected error: {detail}",
                next_retry_at=utcnow() + timedelta(seconds=RETRY_CAP),
                maybe_sent=True,  # the write may have gone out before the bug struck
            )
            self._notice(f"Could not send an edit: {detail}", "error", profile)
            self.changed(profile)
            return False
        if not done:
            return False
        self.ports.emit(RecordChanged(change.ref))
        self.ports.emit(ListChanged(profile, change.ref.kind))
        self.changed(profile)
        self.ports.emit(ChangeSent(change))
        return True

    def _confirm_claim(self, change: Change) -> None:
        """Right before a write request: this sender still holds the claim (renewed), or
        ``ClaimLost`` and nothing is sent (e.g. it was paused past its lease on another
        host and the change was taken over)."""
        if not self.store.renew(change.id, self.owner, timedelta(seconds=self.lease)):
            raise ClaimLost("the change was taken over by another sender")

    async def _look(self, probe: Callable[[], Awaitable[T | None]]) -> T | None:
        """What ``probe`` finds; while nothing, looked for again after each of
        ``check_delays`` (a write that timed out may land after our timeout)."""
        for delay in (0.0, *self.check_delays):
            if delay:
                await self.sleep(delay)
            found = await probe()
            if found is not None:
                return found
        return None

    # -- per operation ------------------------------------------------------------------

    @staticmethod
    def _clashing(change: Change, current: Record) -> set[str]:
        """Fields moved on the server since the edit was based (neither base nor mine)."""
        return {
            key
            for key, mine in change.values.items()
            if not same_value(current.fields.get(key), change.base.get(key))
            and not same_value(current.fields.get(key), mine)
        }

    @staticmethod
    def _ours(ours: OursSince, current: Record) -> bool:
        """Whether ``current``'s version may be a write of ours since the update was sent
        (a note on the record): one may have landed, and when the vendor's time of each is
        known, the version is not newer than the latest (``OURS_SLACK`` after it)."""
        if not ours.landed:
            return False
        if ours.until is None or current.updated_at is None:
            return True
        return _aware(current.updated_at) <= _aware(ours.until) + OURS_SLACK

    @staticmethod
    def _arrived(change: Change, current: Record) -> bool:
        return all(same_value(current.fields.get(k), v) for k, v in change.values.items())

    async def _update(self, adapter: Vendor, change: Change, unsure: bool) -> bool:
        store = self.store
        profile, ref = change.ref.profile, change.ref

        async def read() -> tuple[Record, OursSince, int]:
            # our writes on the record as they are before the read: one landing after it
            # (another sender's) is not in what it reads, so it excuses nothing there
            ours, left = store.ours_written(change.id), store.read_mark()
            return await self.ports.call(profile, adapter.get(ref.kind, ref.id)), ours, left

        current, ours, left = await read()
        if unsure:  # an earlier try may still land: look again before sending
            for delay in self.check_delays:
                if self._arrived(change, current) or self._clashing(change, current):
                    break
                await self.sleep(delay)
                current, ours, left = await read()
        clashing = self._clashing(change, current)
        arrived = self._arrived(change, current)
        # ABA: it may have landed and someone then set the old value back. The server
        # shows the base value on a newer version than the one our last send was read at:
        # someone wrote after that send, and sending again could undo their change, so the
        # user decides (theirs shown), nothing is sent. (Compared with the version read
        # right before the send, not the one the edit was based on: records move for
        # other reasons, e.g. a note bumps an ActiveCampaign deal, and the soak showed
        # the wider rule holding back edits that had never landed.) A newer version is no
        # sign of someone else when a write of ours on the record (a note on it) may have
        # landed since that send (``ours_since``, kept by the store across senders, read
        # before the record): the soak showed our own note making a not-landed edit a
        # conflict. Not when the vendor refused it (it did not land), nor a version newer
        # than the vendor's time of our note (someone wrote after it).
        moved = (
            unsure
            and not clashing
            and not arrived
            and change.sent_on_updated_at is not None
            and current.updated_at is not None
            and _aware(current.updated_at) > _aware(change.sent_on_updated_at)
            and not self._ours(ours, current)
        )
        if clashing or moved:  # theirs, kept (newest: a read from before is not stored over it)
            store.upsert_records([current], synced_at=utcnow(), left_at=left, newest=True)
            self._settle(
                change,
                ChangeState.CONFLICT,
                last_error=(
                    "changed on the server since you edited it"
                    if clashing
                    else "it may have arrived, and the record changed on the server since "
                    "(the old value is back): compare and choose"
                ),
                theirs={k: current.fields.get(k) for k in change.values},
                theirs_updated_at=current.updated_at,
            )
            what = ", ".join(sorted(clashing or change.values))
            self._notice(
                f"{current.title}: {what} changed on the server "
                "since your edit. Open the outbox to compare and choose." + self._holding(change),
                "warning",
                profile,
            )
            self.changed(profile)
            return False
        if arrived:
            result = current  # the server has every new value already: nothing to send
        else:
            self._confirm_claim(change)
            change = store.sending_on(change.id, self.owner, current.updated_at)
            result = await self.ports.call(profile, adapter.update(change))
        # later updates of the record are rebased on it
        store.complete(change.id, result, owner=self.owner)
        timeline = store.get_timeline(ref)
        if timeline is not None:  # the queued entry leaves; the vendor's comes next
            store.put_timeline(ref, [a for a in timeline if a.id != f"local:{change.id}"])
        return True

    async def _create(self, adapter: Vendor, change: Change, unsure: bool) -> bool:
        profile, kind = change.ref.profile, change.ref.kind
        record: Record | None = None
        if unsure:

            async def earlier() -> Record | None:
                found = await self.ports.call(
                    profile, adapter.find_created(kind, change.values, change.idempotency_key)
                )
                # one another done change made (the same create made twice on purpose)
                if found is not None and self.store.made_by_other(change, found.id):
                    return None
                return found

            record = await self._look(earlier)
        if record is None:
            values = await self._owned(adapter, change)
            self._confirm_claim(change)
            record = await self.ports.call(
                profile, adapter.create(kind, values, change.idempotency_key)
            )
        self.store.complete(change.id, record, result_id=record.id, owner=self.owner)
        return True

    async def _owned(self, adapter: Vendor, change: Change) -> dict[str, Any]:
        """A create's values, with the signed-in user as its owner where the kind requires
        one and none was given: a record created (or a call's follow-up task logged)
        offline, before crmtui could ask who signs in, starts on you as the form says
        (Freshsales refused such a task: "Owner id can't be blank")."""
        profile, kind = change.ref.profile, change.ref.kind
        info = next((i for i in self.store.get_kinds(profile) or [] if i.kind == kind), None)
        owner = info.role(Role.OWNER) if info else None
        if not owner or change.values.get(owner) not in (None, ""):
            return change.values
        spec = next((s for s in self.store.get_fields(profile, kind) or [] if s.key == owner), None)
        if spec is None or not spec.required:
            return change.values
        me = await self.ports.call(profile, adapter.whoami())
        return {**change.values, owner: me} if me else change.values

    async def _note(self, adapter: Vendor, change: Change, unsure: bool) -> bool:
        store = self.store
        target, text = note_target(change), str(change.values["text"])
        activity: Activity | None = None
        if unsure:
            if not adapter.notes_listed:
                raise CannotTell(adapter.label, f"{adapter.label} cannot list its notes back")
            activity = await self._look(lambda: self._find_note(adapter, change, target, text))
        elif adapter.notes_listed:
            # Not posted yet (not maybe sent): the notes like it already there are not
            # ours, kept with the change (durably, before the post) for the check after a
            # lost reply.
            wanted = _plain(text)
            before = await self.ports.call(target.profile, adapter.timeline(target.kind, target.id))
            seen = [a.id for a in before if _plain(a.body or a.summary) == wanted]
            change = store.note_seen(change.id, self.owner, seen)
        if activity is None:
            self._confirm_claim(change)
            activity = await self.ports.call(target.profile, adapter.add_note(target, text))
        # the note's time by the vendor's clock: a version of the record after it is not ours
        made = activity.occurred_at
        store.complete(change.id, None, result_id=activity.id, owner=self.owner, made_at=made)
        gone = {f"local:{change.id}", activity.id}
        timeline = [a for a in store.get_timeline(target) or [] if a.id not in gone]
        store.put_timeline(target, [activity, *timeline])
        self.ports.emit(RecordChanged(target))
        return True

    async def _log(self, adapter: Vendor, change: Change, unsure: bool) -> bool:
        """A call logged on a record (``Crm.calls``), recorded as the vendor's documented
        activity kind; its entry takes the queued one's place on the record's timeline.
        One whose reply was lost is not looked for (a vendor's calls are not told apart by
        their text as notes are): the user decides."""
        target = log_target(change)
        if unsure:
            raise CannotTell(adapter.label, "crmtui cannot look for a call logged earlier")
        self._confirm_claim(change)
        activity = await self.ports.call(
            target.profile, adapter.log_activity(target, logged(change, adapter.activity_log))
        )
        self.store.complete(change.id, None, result_id=activity.id, owner=self.owner)
        gone = {f"local:{change.id}", activity.id}
        timeline = [a for a in self.store.get_timeline(target) or [] if a.id not in gone]
        self.store.put_timeline(target, [activity, *timeline])
        self.ports.emit(RecordChanged(target))
        return True

    async def _unlog(self, adapter: Vendor, change: Change) -> bool:
        """Delete a logged call (its undo); one already gone is taken as deleted."""
        target = log_target(change)
        self._confirm_claim(change)
        with contextlib.suppress(NotFound):
            await self.ports.call(target.profile, adapter.delete_logged(target, change.ref.id))
        self.store.complete(change.id, None, owner=self.owner)
        timeline = [a for a in self.store.get_timeline(target) or [] if a.id != change.ref.id]
        self.store.put_timeline(target, timeline)
        self.ports.emit(RecordChanged(target))
        return True

    async def _find_note(
        self, adapter: Vendor, change: Change, target: RecordRef, text: str
    ) -> Activity | None:
        """The note ``change`` made, on the target's timeline: the same text, not among
        the notes like it seen there before it was first posted (``seen_notes``) nor made
        by another done change (the same note posted twice on purpose). No clock is
        compared: the vendor's may differ from ours.

        A change queued by an older crmtui (no ``seen_notes``): the same text made at or
        after it was queued, beyond those of other changes like it done since."""
        activities = await self.ports.call(target.profile, adapter.timeline(target.kind, target.id))
        wanted = _plain(text)
        if change.seen_notes is not None:
            taken = set(change.seen_notes) | self.store.done_like_results(change)
            ours = [
                a for a in activities if a.id not in taken and _plain(a.body or a.summary) == wanted
            ]
            return min(ours, key=lambda a: _aware(a.occurred_at)) if ours else None
        since = _aware(change.created_at) - NOTE_CLOCK_SKEW
        found = sorted(
            (
                a
                for a in activities
                if _aware(a.occurred_at) >= since and _plain(a.body or a.summary) == wanted
            ),
            key=lambda a: _aware(a.occurred_at),
        )
        theirs = len(self.store.done_like(change, since))
        return found[theirs] if len(found) > theirs else None

    async def _delete(self, adapter: Vendor, change: Change, unsure: bool) -> bool:
        store, ref = self.store, change.ref

        async def gone() -> bool | None:
            return await self.ports.call(ref.profile, adapter.is_deleted(ref)) or None

        if not (unsure and await self._look(gone)):
            verdict = await self._delete_check(adapter, change) if change.base else "delete"
            if verdict == "conflict":
                return False
            if verdict == "delete":
                self._confirm_claim(change)
                with contextlib.suppress(NotFound):
                    await self.ports.call(ref.profile, adapter.delete(ref))
            else:  # already gone: nothing to send
                record = store.server_version(ref) or store.get_record(ref)
                self._notice(
                    f"{record.title if record else 'The record'} was already deleted in "
                    f"{adapter.label}: nothing left to delete, the undo is done.",
                    "information",
                    ref.profile,
                )
        store.complete(change.id, None, owner=self.owner)
        store.mark_deleted(ref)
        return True

    async def _delete_check(
        self, adapter: Vendor, change: Change
    ) -> Literal["delete", "gone", "conflict"]:
        """A delete that expects values (``base``: the undo of a create expects what was
        created) reads the record right before deleting: "gone" when it is deleted
        already, "conflict" (settled so, theirs kept beside it, nothing deleted) when a
        field someone changed since, else "delete"."""
        ref = change.ref
        left = self.store.read_mark()
        try:
            current = await self.ports.call(ref.profile, adapter.get(ref.kind, ref.id))
        except NotFound:
            return "gone"
        moved = sorted(
            k for k, v in change.base.items() if not same_value(current.fields.get(k), v)
        )
        if not moved:
            return "delete"
        specs = {s.key: s.label for s in self.store.get_fields(ref.profile, ref.kind) or []}
        named = ", ".join(specs.get(key, key) for key in moved)
        # theirs, kept (newest: a read from before is not stored over it)
        self.store.upsert_records([current], synced_at=utcnow(), left_at=left, newest=True)
        self._settle(
            change,
            ChangeState.CONFLICT,
            last_error=(
                f"not deleted: {named} changed on the server since crmtui created "
                "it. Discard this change (d) to keep the record, or delete it in "
                f"{adapter.label}."
            ),
            theirs={k: current.fields.get(k) for k in change.base},
            theirs_updated_at=current.updated_at,
        )
        self._notice(
            f"{current.title}: {named} changed on the server since crmtui created "
            "it, so it was not deleted. Open the outbox (ctrl+o) to see it.",
            "warning",
            ref.profile,
        )
        self.changed(ref.profile)
        return "conflict"

    # -- outcomes -----------------------------------------------------------------------

    def _settle(self, change: Change, state: ChangeState, **details: Any) -> None:
        """End this sender's claim with ``state`` (unless another sender took it over)."""
        with contextlib.suppress(ChangeBusy):
            self.store.set_state(change.id, state, owner=self.owner, **details)

    def _uncertain(self, change: Change, exc: CrmError) -> None:
        """It may have arrived and there is no way to check: the user decides."""
        profile = change.ref.profile
        vendor = exc.vendor
        named = {NOTE_KIND: "note", LOG_KIND: "logged call"}
        what = named.get(change.ref.kind, f"new {change.ref.kind}")
        self._settle(
            change,
            ChangeState.UNCERTAIN,
            last_error=(
                f"Its reply never came, so it may have reached {vendor}, and crmtui cannot "
                f"check ({exc.message}). Look in {vendor}, then choose: send again, it "
                "arrived, or discard."
            ),
        )
        self._notice(
            f"{vendor}: your {what} may or may not have arrived (the reply never came) and "
            "crmtui cannot check. Open the outbox to decide: send again, it arrived, or "
            "discard.",
            "warning",
            profile,
        )
        self.changed(profile)

    def _failed(self, change: Change, exc: CrmError) -> None:
        profile = change.ref.profile
        attempts = change.attempts
        maybe = True if exc.maybe_applied else None  # then checked before it is sent again
        if exc.retryable or exc.maybe_applied:
            delay = retry_delay(attempts, exc.retry_after)
            self._settle(
                change,
                ChangeState.FAILED,
                last_error=str(exc),
                next_retry_at=utcnow() + timedelta(seconds=delay),
                maybe_sent=maybe,
            )
            if exc.maybe_applied:
                self._notice(
                    f"{exc} It may have arrived: crmtui checks with the vendor before "
                    f"sending it again (in {delay:.0f} s).",
                    "warning",
                    profile,
                )
            elif not isinstance(exc, Offline):
                self._notice(f"{exc} Will retry in {delay:.0f} s.", "warning", profile)
        elif isinstance(exc, AuthError):
            self._settle(
                change,
                ChangeState.FAILED,
                last_error=str(exc),
                next_retry_at=utcnow() + timedelta(seconds=AUTH_RETRY),
            )
            self._notice(str(exc), "error", profile)
        else:
            self._settle(change, ChangeState.REJECTED, last_error=str(exc))
            self._notice(
                f"{exc} Your edit is kept in the outbox.{self._holding(change)}", "error", profile
            )
        self.changed(profile)

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
