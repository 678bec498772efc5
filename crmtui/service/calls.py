"""Log a call or meeting on a record (``L``): ``Crm.calls``.

Each vendor declares how it records one (``Vendor.activity_log``, a
``mapping.ActivityLog`` in its package): the kinds it may be logged on, the activities
(call, meeting) in its words, its own outcome-like choices (a Salesloft disposition and
sentiment, a Freshsales outcome), whether it keeps a duration, and the kind a follow-up
task is created as. The form is made of that declaration (``LogForm.specs``), checked by
the same validation as every edit (``crmtui.fields.validate``), so a vendor's outcome is
one of its own or refused.

A logged call is queued like a note: a create of ``LOG_KIND`` naming the record it is on
(``target_kind``/``target_id``), shown at once on the record's timeline as queued, sent
by the outbox (``Vendor.log_activity``) when the vendor can be reached, offline too; the
vendor's entry then takes its place. The follow-up task is an ordinary create of the
vendor's task kind (``Crm.create``), its subject and due date from the form, its record
the one the call is on, its owner you; it is checked before anything is queued, so a
refused follow-up queues neither. The choices a form offers are kept in the cache, so the
form opens offline with the choices last read.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmtui.fields import FieldError, display, iso, parse_datetime, validate
from crmtui.http import CrmError
from crmtui.model import (
    Activity,
    ActivityType,
    Change,
    ChangeOp,
    Choice,
    FieldSpec,
    FieldType,
    KindInfo,
    RecordRef,
    Role,
    utcnow,
)
from crmtui.store import CacheWriteError
from crmtui.vendors.mapping import ActivityLog, Logged

if TYPE_CHECKING:
    from crmtui.service.crm import Crm

LOG_KIND = "logged_call"  # outbox creates of this kind are calls logged on a record
ACTIVITY, NOTE, DURATION = "activity", "note", "duration"
FOLLOW_UP, FOLLOW_UP_DUE = "follow_up", "follow_up_due"
WHEN = "occurred_at"
MAX_MINUTES = 24 * 60
TYPES = {"call": ActivityType.CALL, "meeting": ActivityType.MEETING}


@dataclass(frozen=True)
class LogForm:
    """What ``L`` on ``ref`` offers: the fields (``specs``, in the vendor's words), the
    kind a follow-up task is created as (None: the vendor has none), what the vendor does
    not keep (``unkept``), or why nothing can be logged here (``refusal``)."""

    ref: RecordRef
    vendor: str
    specs: list[FieldSpec] = field(default_factory=list)
    task: KindInfo | None = None
    unkept: str = ""
    refusal: str | None = None
    kind: str = ""  # what the vendor records it as ("sales activity")


@dataclass(frozen=True)
class LoggedCall:
    """What ``Calls.log`` queued: the logged call and the follow-up task (None: none)."""

    change: Change
    follow_up: Change | None = None


def log_target(change: Change) -> RecordRef:
    """The record a logged call (or a note: they name it the same way) is on."""
    return RecordRef(
        profile=change.ref.profile,
        kind=str(change.values["target_kind"]),
        id=str(change.values["target_id"]),
    )


def logged(change: Change, log: ActivityLog) -> Logged:
    """The neutral call a queued ``LOG_KIND`` change holds, for the vendor's
    ``log_activity``."""
    values = change.values
    minutes = values.get(DURATION)
    when = parse_datetime(values.get(WHEN)) or change.created_at
    return Logged(
        activity=str(values.get(ACTIVITY) or "call"),
        occurred_at=when,
        note=str(values.get(NOTE) or ""),
        duration=None if minutes is None else int(minutes),
        choices={c.key: str(values[c.key]) for c in log.choices if values.get(c.key)},
    )


class Calls:
    """Log a call or meeting (``Crm.calls``): the form, the log and its description."""

    def __init__(self, crm: Crm) -> None:
        self.crm = crm

    def declared(self, profile: str) -> ActivityLog:
        """The vendor's declaration (nothing logged when the profile cannot be opened)."""
        try:
            return self.crm.adapter(profile).activity_log
        except CrmError:
            return ActivityLog()

    def refusal(self, ref: RecordRef) -> str | None:
        """Why no call can be logged on ``ref``, in the vendor's words (None: it can)."""
        log = self.declared(ref.profile)
        vendor = self.crm.vendor_label(ref.profile)
        if not log.activities or not (log.on or log.anywhere):
            return log.refusal or f"{vendor} offers no way to log a call from crmtui"
        info = self.crm.kind_info(ref.profile, ref.kind)
        if ref.kind in log.on or (log.anywhere and info is not None and info.has_timeline):
            return None
        kinds = {k.kind: k.label.lower() for k in self.crm.cached_kinds(ref.profile)}
        where = " and ".join(kinds.get(k, k) for k in log.on) or "records with a timeline"
        what = info.label.lower() if info else ref.kind
        return f"{vendor} logs calls on {where}, not on {what}"

    async def form(self, ref: RecordRef) -> LogForm:
        """The form of a call logged on ``ref`` (its choices read from the vendor, or as
        last read when it cannot be reached), or its ``refusal``."""
        vendor = self.crm.vendor_label(ref.profile)
        if self.crm.kind_info(ref.profile, ref.kind) is None:
            with contextlib.suppress(CrmError):
                await self.crm.kinds(ref.profile)
        why = self.refusal(ref)
        if why is not None:
            return LogForm(ref, vendor, refusal=why)
        log = self.declared(ref.profile)
        specs = [
            FieldSpec(
                key=ACTIVITY,
                label="Activity",
                type=FieldType.CHOICE,
                writable=True,
                required=True,
                clearable=False,
                choices=[Choice(value=k, label=v) for k, v in log.activities.items()],
            ),
            *await self._choices(ref.profile, log),
        ]
        if log.duration:
            specs.append(
                FieldSpec(
                    key=DURATION,
                    label="Duration (minutes)",
                    type=FieldType.NUMBER,
                    writable=True,
                    min=0,
                    max=MAX_MINUTES,
                    decimals=0,
                )
            )
        specs.append(FieldSpec(key=NOTE, label="Note", type=FieldType.TEXT, writable=True))
        task = self._task_kind(ref.profile, log)
        if task is not None:
            due = await self._due_spec(ref.profile, task)
            specs.append(
                FieldSpec(key=FOLLOW_UP, label="Follow-up task", type=FieldType.TEXT, writable=True)
            )
            specs.append(due.model_copy(update={"key": FOLLOW_UP_DUE, "label": "Follow-up due"}))
        return LogForm(ref, vendor, specs, task, log.unkept, kind=log.kind)

    async def _choices(self, profile: str, log: ActivityLog) -> list[FieldSpec]:
        """The vendor's own choices (outcomes...), kept in the cache for offline use."""
        if not log.choices:
            return []
        adapter = self.crm.adapter(profile)
        specs = []
        left = self.crm.store.read_mark()  # a profile forgotten meanwhile keeps none
        try:
            for choice in log.choices:
                found = await self.crm.call(profile, adapter.log_choices(choice.source))
                specs.append(
                    FieldSpec(
                        key=choice.key,
                        label=choice.label,
                        type=FieldType.CHOICE,
                        writable=True,
                        choices=found,
                    )
                )
        except CrmError:
            kept = self.crm.store.get_fields(profile, LOG_KIND)
            if kept is not None:
                return kept
            # never read (offline since): the choices are not offered, the call still is
            return []
        with contextlib.suppress(CacheWriteError):
            self.crm.store.put_fields(profile, LOG_KIND, specs, left_at=left)
        return specs

    def _task_kind(self, profile: str, log: ActivityLog) -> KindInfo | None:
        info = self.crm.kind_info(profile, log.follow_up) if log.follow_up else None
        if info is None or not info.creatable or info.role(Role.TITLE) is None:
            return None
        return info

    async def _due_spec(self, profile: str, task: KindInfo) -> FieldSpec:
        """The task kind's due field a create gives (a date or a datetime, as the vendor
        keeps it)."""
        with contextlib.suppress(CrmError):
            specs = await self.crm.fields(profile, task.kind)
            due = _due_key(task, specs)
            found = next((s for s in specs if s.key == due), None)
            if found is not None:
                return found.model_copy(update={"required": False})
        return FieldSpec(key=FOLLOW_UP_DUE, label="Follow-up due", type=FieldType.DATE)

    # -- logging ------------------------------------------------------------------

    async def log(self, ref: RecordRef, texts: dict[str, Any]) -> LoggedCall:
        """Queue the call (and its follow-up task) logged on ``ref`` with what the user
        typed; ``FieldError`` naming the field (nothing queued) when a value is refused,
        ``CrmError`` when the vendor logs no call there."""
        form = await self.form(ref)
        if form.refusal is not None:
            raise CrmError(form.vendor, f"{form.refusal}; nothing was queued")
        values = self.check(form, texts)
        task_texts = await self._follow_up(form, texts)
        now = utcnow()
        base = {k: v for k, v in values.items() if k not in (FOLLOW_UP, FOLLOW_UP_DUE)}
        change = Change(
            ref=RecordRef(profile=ref.profile, kind=LOG_KIND, id="new"),
            op=ChangeOp.CREATE,
            values={**base, WHEN: iso(now), "target_kind": ref.kind, "target_id": ref.id},
        )
        change = change.model_copy(
            update={"ref": RecordRef(profile=ref.profile, kind=LOG_KIND, id=f"local:{change.id}")}
        )
        entry = Activity(
            id=f"local:{change.id}",
            type=TYPES.get(str(values[ACTIVITY]), ActivityType.CALL),
            occurred_at=now,
            summary=self.summary(change),
            body=str(values.get(NOTE) or ""),
            who="you (queued)",
        )
        queued = self.crm.queue(change, what="your call", shown=(ref, entry))
        follow_up = None
        if form.task is not None and task_texts is not None:
            follow_up = await self.crm.create(ref.profile, form.task.kind, task_texts)
        return LoggedCall(queued, follow_up)

    def check(self, form: LogForm, texts: dict[str, Any]) -> dict[str, Any]:
        """The typed values of the log's own fields (``FieldError`` naming the field)."""
        values: dict[str, Any] = {}
        activity = str(texts.get(ACTIVITY) or "")
        for spec in form.specs:
            text = texts.get(spec.key, "")
            if text in ("", None) and not spec.required:
                continue
            grouped = any(c.group for c in spec.choices)
            values[spec.key] = validate(spec, text, group={activity} if grouped else None)
        return values

    async def _follow_up(self, form: LogForm, texts: dict[str, Any]) -> dict[str, str] | None:
        """The follow-up task's create texts, checked as a create checks them (None: no
        follow-up asked); ``FieldError`` saying it is the follow-up's."""
        subject = str(texts.get(FOLLOW_UP) or "").strip()
        due = str(texts.get(FOLLOW_UP_DUE) or "").strip()
        if form.task is None or not subject:
            if due:
                raise FieldError("Follow-up due: give the follow-up task a subject too")
            return None
        task, ref = form.task, form.ref
        listed = await self.crm.fields(ref.profile, task.kind)
        specs = {s.key: s for s in listed}
        out = {str(task.role(Role.TITLE)): subject}
        due_key = _due_key(task, listed)
        if due and due_key:
            out[due_key] = due
        for key, kind in task.references.items():
            if kind == ref.kind:
                out[key] = ref.id
        owner = task.role(Role.OWNER)
        me = await self.crm.me(ref.profile)
        if owner and me and owner in specs and (specs[owner].writable or specs[owner].on_create):
            out[owner] = me
        out = {k: v for k, v in out.items() if k in specs}
        try:
            await self.crm.validate(RecordRef(profile=ref.profile, kind=task.kind, id="new"), out)
        except FieldError as exc:
            raise FieldError(f"Follow-up task: {exc}") from None
        return out

    # -- how a logged call reads --------------------------------------------------

    def summary(self, change: Change) -> str:
        """A logged call as the timeline and the outbox show it: ``Call · No Answer ·
        5 min: first line of the note``."""
        values = change.values
        log = self.declared(change.ref.profile)
        activity = str(values.get(ACTIVITY) or "call")
        parts = [log.activities.get(activity, activity.capitalize())]
        specs = {s.key: s for s in self.crm.store.get_fields(change.ref.profile, LOG_KIND) or []}
        for choice in log.choices:
            if values.get(choice.key):
                parts.append(display(specs.get(choice.key), values[choice.key]) or "")
        if values.get(DURATION) is not None:
            parts.append(f"{values[DURATION]} min")
        text = " · ".join(p for p in parts if p)
        lines = str(values.get(NOTE) or "").strip().splitlines()
        return f"{text}: {lines[0][:80]}" if lines else text


def _due_key(task: KindInfo, specs: list[FieldSpec]) -> str | None:
    """The key of the task kind's due field a create may give (``Role.DUE``, else
    ``Role.DUE_DATE``: a vendor keeping both may take only one)."""
    given = {s.key for s in specs if s.writable or s.on_create}
    keys = [task.role(Role.DUE), task.role(Role.DUE_DATE)]
    return next((key for key in keys if key in given), None)
