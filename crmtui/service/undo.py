"""Undo: a change still queued is withdrawn; a sent one is taken back by its compensating
edit, previewed first and sent through the outbox like any edit.

- **Queued** (pending, failed, refused, conflict, uncertain): withdrawn at once, as a
  discard (``Crm.discard``: the record shows the vendor's value again, and the outbox's
  "undo a discard" brings it back while the service runs). A change **being sent** cannot
  be withdrawn: it says so. One that may have reached the vendor already (its reply never
  came, or uncertain) is withdrawn with that caution: withdrawing does not reach the vendor.
- **Sent** update: the compensating update sets each field back to the value it had
  before (``Change.base``) and *expects the value that was sent* (its own ``base`` is the
  sent ``values``). The outbox reads the vendor's record before it writes: a field someone
  changed since is a conflict shown in the outbox, never overwritten silently.
- **Sent** create: the new record is deleted, where its kind offers a delete
  (``KindInfo.deletable``); otherwise the vendor's words say there is no way. The plan
  reads the record and names each field changed since crmtui created it; the delete
  *expects the values created* (its ``base``): the outbox reads the record right before
  deleting, and a field someone changed since is a conflict shown in the outbox, never
  deleted silently. A record already gone is taken as deleted (said so).
- **Sent** logged call: deleted where the vendor offers it, without that check (no
  vendor's API in crmtui reads one logged call back): the plan says so.
- A sent note or delete cannot be taken back from here (no vendor lets crmtui restore a
  deleted record, and notes are not deleted through crmtui): the plan says so.
- A sent change whose record has edits still queued is not undone until they are sent or
  withdrawn: the outbox rebases a queued update on each completed one of its record, so
  the compensating edit would no longer expect the value that was sent.
- The compensating change names the change it takes back (``Change.undoes``): ``u``
  walks back through the history (a sent change already taken back, and its undo, are
  passed over), and the list of recent changes says which were undone.
- A bulk edit's changes share one ``Change.batch``: ``plan_batch`` previews undoing them
  all (each as above: withdrawn, or its compensating edit with the usual conflict check;
  one that cannot be undone says why and the others go on), ``apply_batch`` does it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from crmtui.fields import display, same_value
from crmtui.http import CrmError, NotFound
from crmtui.model import Change, ChangeOp, ChangeState, FieldSpec, Record, RecordRef, Role
from crmtui.service.calls import LOG_KIND, log_target
from crmtui.service.outbox import NOTE_KIND, note_target
from crmtui.store import ChangeBusy
from crmtui.store.outbox import BEING_SENT

if TYPE_CHECKING:
    from crmtui.service.crm import Crm

UndoAction = Literal["withdraw", "compensate", "refused"]
RECENT = 200  # changes the list of recent changes shows at most, newest first


class CannotUndo(ValueError):
    """The change cannot be undone (now): the text says why and what to do."""


@dataclass(frozen=True)
class UndoStep:
    """One field of a compensating update, as the record shows values."""

    key: str
    label: str
    now: str  # the value the record has now
    back: str  # the value the undo sets back
    sent: str  # the value the change sent (what the undo expects to find)
    moved: bool  # the record no longer holds the value sent: someone changed it since


@dataclass(frozen=True)
class UndoPlan:
    """What undoing ``change`` does: ``withdraw`` it (still queued), send ``compensation``
    (already sent), or nothing (``refused``, ``reason`` says why)."""

    change: Change
    action: UndoAction
    title: str  # the record's title
    what: str  # the change in field labels (``Crm.describe``)
    steps: tuple[UndoStep, ...] = ()
    reason: str = ""  # refused: why; withdraw: a caution (it may have arrived)
    compensation: Change | None = field(default=None, compare=False)

    @property
    def lines(self) -> list[str]:
        """The preview, one line per field: ``Stage: Won → back to Lost``."""
        if self.action == "withdraw" and self.reason:
            return [f"Withdraw: {self.what}", self.reason]
        if self.action == "withdraw":
            return [f"Withdraw (never sent): {self.what}"]
        if self.action == "refused":
            return [self.reason]
        if self.compensation is not None and self.compensation.ref.kind == LOG_KIND:
            line = f"Delete the logged {self.what.removeprefix('logged: ')} from {self.title}"
            return [line, self.reason] if self.reason else [line]
        if self.compensation is not None and self.compensation.op is ChangeOp.DELETE:
            changed = [
                f"{step.label} changed since: you created it with {step.sent}, now {step.now}"
                for step in self.steps
                if step.moved
            ]
            return [f"Delete {self.title} (it was created by this change)", *changed]
        lines = []
        for step in self.steps:
            line = f"{step.label}: {step.now} → back to {step.back}"
            if step.moved:
                line += f"  (changed since: you sent {step.sent})"
            lines.append(line)
        return lines

    @property
    def moved(self) -> bool:
        """Someone changed a field since the change was sent: the undo will conflict."""
        return any(step.moved for step in self.steps)


@dataclass(frozen=True)
class BatchUndoPlan:
    """What undoing a whole bulk edit does: the plan of each of its changes."""

    batch: str
    plans: tuple[UndoPlan, ...]

    @property
    def doable(self) -> list[UndoPlan]:
        """The changes that are withdrawn or taken back (not refused)."""
        return [plan for plan in self.plans if plan.action != "refused"]

    @property
    def title(self) -> str:
        """``Bulk edit: 25 records``."""
        count = len(self.plans)
        return f"Bulk edit: {count} record{'s' if count != 1 else ''}"

    @property
    def lines(self) -> list[str]:
        """One line per record: ``Keystone: Stage: Won → back to Lost`` (or why not)."""
        out = [f"{len(self.doable)} of {len(self.plans)} undone:"]
        for plan in self.plans:
            if plan.action == "refused":
                out.append(f"{plan.title}: not undone — {plan.reason}")
            else:
                out.extend(f"{plan.title}: {line}" for line in plan.lines)
        return out

    @property
    def moved(self) -> bool:
        """Someone changed a record since: that undo will conflict (the others go on)."""
        return any(plan.moved for plan in self.plans)


def _target(change: Change) -> RecordRef:
    """The record a change is about (a note, a logged call: the record it is on)."""
    if change.op is ChangeOp.CREATE and change.ref.kind == NOTE_KIND:
        return note_target(change)
    if change.ref.kind == LOG_KIND:  # logged, or its undo (a delete naming it too)
        return log_target(change)
    return change.ref


class Undo:
    """Undo in the service (``Crm.undo``): ``u`` and ``U`` in the app, ``Client.undo`` in
    notebooks."""

    def __init__(self, crm: Crm) -> None:
        self.crm = crm

    def recent(
        self, profile: str | None = None, ref: RecordRef | None = None, limit: int = RECENT
    ) -> list[Change]:
        """The changes of ``profile`` (every profile by default), or of one record, newest
        first: queued, being sent, refused, and sent ones (kept a week)."""
        found = self.crm.store.changes(profile=ref.profile if ref else profile)
        if ref is not None:
            found = [c for c in found if _target(c) == ref]
        return found[::-1][:limit]

    def undone(self, profile: str | None = None) -> dict[str, Change]:
        """``{id of a change: the change taking it back}`` (undos still in the outbox)."""
        return {c.undoes: c for c in self.crm.store.changes(profile=profile) if c.undoes}

    def target(self, profile: str | None = None, ref: RecordRef | None = None) -> Change | None:
        """The change ``u`` undoes: the latest of the record (``ref``) or of ``profile``,
        passing over sent changes already taken back and their sent undos."""
        changes = self.recent(profile, ref)
        taken_back = {c.undoes for c in changes if c.undoes}
        for change in changes:
            sent = change.state is ChangeState.DONE
            if sent and (change.undoes or change.id in taken_back):
                continue
            return change
        return None

    def batch(self, batch: str, profile: str | None = None) -> list[Change]:
        """The changes of one bulk edit (``Change.batch``), in the order queued."""
        return [c for c in self.crm.store.changes(profile=profile) if c.batch == batch]

    async def plan_batch(self, batch: str, profile: str | None = None) -> BatchUndoPlan:
        """What undoing every change of a bulk edit would do (nothing is queued)."""
        changes = self.batch(batch, profile)
        if not changes:
            raise CannotUndo("this bulk edit is no longer in the outbox: nothing to undo")
        return BatchUndoPlan(batch, tuple([await self.plan(c.id) for c in changes]))

    def apply_batch(self, plan: BatchUndoPlan) -> tuple[list[Change], list[str]]:
        """Carry out a confirmed bulk undo, change by change: what was withdrawn or
        queued, and why any left were not (``apply``'s words, the record named)."""
        done: list[Change] = []
        problems: list[str] = []
        batch = uuid.uuid4().hex  # the undos too are one entry of the list
        for item in plan.doable:
            if item.compensation is not None:
                compensation = item.compensation.model_copy(update={"batch": batch})
                item = replace(item, compensation=compensation)
            try:
                done.extend(self.apply(item))
            except (CannotUndo, ChangeBusy) as exc:
                problems.append(f"{item.title}: {exc}")
        return done, problems

    def title_of(self, change: Change) -> str:
        """The title of the record ``change`` is about, as cached."""
        target = _target(change)
        record = self.crm.cached(target)
        if record is not None and record.title:
            return record.title
        info = self.crm.kind_info(target.profile, target.kind)
        return f"{info.singular if info else target.kind} {target.id}"

    async def plan(self, change_id: str) -> UndoPlan:
        """What undoing the change would do, for the user to confirm (nothing is queued).

        A sent update is compared with the record as the vendor has it now (as cached when
        the vendor cannot be reached; the outbox checks again before it writes)."""
        change = self.crm.store.get_change(change_id)
        if change is None:
            raise CannotUndo("this change is no longer in the outbox: nothing to undo")
        title, what = self.title_of(change), self.crm.describe(change)

        def refused(reason: str) -> UndoPlan:
            return UndoPlan(change, "refused", title, what, reason=reason)

        if change.state is ChangeState.SENDING:
            return refused(f"It cannot be withdrawn: {BEING_SENT}.")
        vendor = self.crm.vendor_label(change.ref.profile)
        if change.state is not ChangeState.DONE:
            caution = ""  # a lost reply: withdrawing it here does not take it back there
            if change.state is ChangeState.UNCERTAIN or self.crm.store.maybe_sent(change.id):
                caution = (
                    f"It may have reached {vendor} already (its reply never came): check there."
                )
            return UndoPlan(change, "withdraw", title, what, reason=caution)
        later = self.undone(change.ref.profile).get(change.id)
        if later is not None:
            state = "sent" if later.state is ChangeState.DONE else "in the outbox"
            return refused(f"It is undone already (the undo is {state}).")
        if change.op is ChangeOp.CREATE and change.ref.kind == NOTE_KIND:
            return refused(f"A sent note cannot be taken back from crmtui: remove it in {vendor}.")
        if change.op is ChangeOp.DELETE:
            return refused(
                f"A deleted record cannot be brought back from crmtui: restore it in {vendor}"
                " if it keeps deleted records."
            )
        queued = [c for c in self.crm.changes(change.ref.profile) if c.ref == change.ref]
        if queued:
            return refused(
                f"This record has {len(queued)} edit{'s' if len(queued) > 1 else ''} still "
                "queued: undo once they are sent, or withdraw them first (u)."
            )
        if change.op is ChangeOp.CREATE and change.ref.kind == LOG_KIND:
            return self._plan_unlog(change, title, what)
        if change.op is ChangeOp.CREATE:
            return await self._plan_delete(change, title, what)
        return await self._plan_update(change, title, what)

    async def _read(self, ref: RecordRef) -> Record | None:
        """The record as the vendor has it now; as cached when the vendor cannot be
        reached (the outbox checks again before it writes). ``NotFound``: it is gone."""
        try:
            return await self.crm.get(ref)
        except NotFound:
            raise
        except CrmError:
            return self.crm.cached(ref)

    def _shown(self, ref: RecordRef, record: Record) -> Callable[[str, Any], str]:
        """A field's value of ``record`` as the record shows it (labels, names, money)."""
        specs: dict[str, FieldSpec] = {
            s.key: s for s in self.crm.cached_fields(ref.profile, ref.kind)
        }
        info = self.crm.kind_info(ref.profile, ref.kind)
        money = info.role(Role.CURRENCY) if info else None
        currency = record.fields.get(money) if money else None  # amounts: "8,000.00 GBP"

        def shown(key: str, value: Any) -> str:
            return display(specs.get(key), value, currency=str(currency or "") or None) or "—"

        return shown

    def _label(self, ref: RecordRef, key: str) -> str:
        spec = next(
            (s for s in self.crm.cached_fields(ref.profile, ref.kind) if s.key == key), None
        )
        return spec.label if spec else key

    async def _plan_delete(self, change: Change, title: str, what: str) -> UndoPlan:
        ref = change.ref
        info = self.crm.kind_info(ref.profile, ref.kind)
        vendor = self.crm.vendor_label(ref.profile)
        if ref.id.startswith("local:"):
            reason = f"{vendor} did not say which record it made: remove it in {vendor}."
            return UndoPlan(change, "refused", title, what, reason=reason)
        if info is not None and not info.deletable:
            reason = (
                f"{vendor} offers no way to delete {info.label.lower()}: remove it in {vendor}."
            )
            return UndoPlan(change, "refused", title, what, reason=reason)
        try:
            record = await self._read(ref)
        except NotFound:
            reason = f"{title} is already deleted in {vendor}: nothing to undo."
            return UndoPlan(change, "refused", title, what, reason=reason)
        if record is None:
            reason = "The record is not in the cache and the vendor cannot be reached now."
            return UndoPlan(change, "refused", title, what, reason=reason)
        shown = self._shown(ref, record)
        # What crmtui created, as far as the record shows it (a value the vendor keeps
        # elsewhere, e.g. a contact's related account, cannot be compared).
        created = {k: v for k, v in change.values.items() if k in record.fields}
        steps = tuple(
            UndoStep(
                key=key,
                label=self._label(ref, key),
                now=shown(key, record.fields.get(key)),
                back="—",
                sent=shown(key, value),
                moved=not same_value(record.fields.get(key), value),
            )
            for key, value in created.items()
        )
        compensation = Change(
            ref=ref,
            op=ChangeOp.DELETE,
            base=created,  # expects what was created: the outbox checks before deleting
            base_updated_at=record.updated_at,
            undoes=change.id,
        )
        title = record.title or title
        return UndoPlan(change, "compensate", title, what, steps, compensation=compensation)

    def _plan_unlog(self, change: Change, title: str, what: str) -> UndoPlan:
        """A sent logged call is deleted where its vendor offers it (``ActivityLog.
        deletable``): the delete names the vendor's id of the call and the record it is on."""
        vendor = self.crm.vendor_label(change.ref.profile)
        made = self.crm.store.result_of(change.id)
        if not self.crm.calls.declared(change.ref.profile).deletable:
            reason = f"{vendor} offers no way to delete a logged call: remove it in {vendor}."
            return UndoPlan(change, "refused", title, what, reason=reason)
        if made is None:
            reason = f"{vendor} did not say which call it logged: remove it in {vendor}."
            return UndoPlan(change, "refused", title, what, reason=reason)
        compensation = Change(
            ref=change.ref.model_copy(update={"id": made}),
            op=ChangeOp.DELETE,
            values={k: change.values[k] for k in ("target_kind", "target_id")},
            undoes=change.id,
        )
        unchecked = (
            f"Deleted without a check: crmtui cannot read a logged call back from {vendor},"
            " so a change someone made to it since would not be seen."
        )
        return UndoPlan(
            change, "compensate", title, what, reason=unchecked, compensation=compensation
        )

    async def _plan_update(self, change: Change, title: str, what: str) -> UndoPlan:
        ref = change.ref
        record: Record | None
        try:
            record = await self._read(ref)
        except NotFound:
            record = self.crm.cached(ref)
        if record is None:
            reason = "The record is not in the cache and the vendor cannot be reached now."
            return UndoPlan(change, "refused", title, what, reason=reason)
        shown = self._shown(ref, record)
        steps = []
        for key, sent in change.values.items():
            now, back = record.fields.get(key), change.base.get(key)
            if same_value(now, back) and not same_value(now, sent):
                continue  # already back (someone set it back): nothing to send for it
            steps.append(
                UndoStep(
                    key=key,
                    label=self._label(ref, key),
                    now=shown(key, now),
                    back=shown(key, back),
                    sent=shown(key, sent),
                    moved=not same_value(now, sent),
                )
            )
        if not steps:
            reason = f"{record.title or title} already has the old values back: nothing to undo."
            return UndoPlan(change, "refused", record.title or title, what, reason=reason)
        compensation = Change(
            ref=ref,
            values={s.key: change.base.get(s.key) for s in steps},
            base={s.key: change.values[s.key] for s in steps},  # expects what was sent
            base_updated_at=record.updated_at,
            undoes=change.id,
        )
        return UndoPlan(
            change,
            "compensate",
            record.title or title,
            what,
            steps=tuple(steps),
            compensation=compensation,
        )

    def apply(self, plan: UndoPlan) -> list[Change]:
        """Carry out a confirmed plan: withdraw the change, or queue its compensating
        edit; returns what was withdrawn or queued.

        ``ChangeBusy``: it is being sent now. ``CannotUndo``: the plan says no, or the
        change moved on since the plan (e.g. it was sent meanwhile: plan again)."""
        if plan.action == "refused":
            raise CannotUndo(plan.reason)
        now = self.crm.store.get_change(plan.change.id)
        if now is None:
            raise CannotUndo("this change is no longer in the outbox: nothing to undo")
        if now.state is ChangeState.SENDING:
            raise ChangeBusy(BEING_SENT)
        if plan.action == "withdraw":
            if now.state is ChangeState.DONE:
                raise CannotUndo("it was sent meanwhile: undo it again to take it back")
            return self.crm.discard(now.id)
        compensation = plan.compensation
        if compensation is None or now.state is not ChangeState.DONE:
            raise CannotUndo("the change moved on since the preview: undo it again")
        if now.id in self.undone(now.ref.profile):
            raise CannotUndo("it is undone already")
        if any(c.ref == now.ref for c in self.crm.changes(now.ref.profile)):
            raise CannotUndo("this record has edits still queued: undo once they are sent")
        return [self.crm.queue(compensation, what="the undo", summary_prefix="Undo: ")]
