"""Bulk edit: one field set to one value on many records, previewed before anything is
queued (a dry run), then queued as one ordinary change per record.

- **The preview** (``Bulk.plan``): each record's value before → after, in field and choice
  labels as the record shows them, validated exactly as an inline edit is
  (``Crm.validate``: a stage against the record's own pipeline, a money amount against
  its currency...). A record that already holds the value is *skipped* and says so; one
  the value does not fit is *refused* with the validation's words. Nothing is queued.
- **The cost**: how many requests sending the changes takes (the adapter counts them,
  ``Vendor.update_requests``: the outbox reads each record before it writes it, and some
  vendors read related records too), against the profile's rate budget as the status
  line shows it, and how long the pacing takes when it does not fit in what is left.
  A record whose row lacks the field (a list that does not carry custom fields) is read
  from the vendor first, so its edit is based on the vendor's value; those reads are
  made by the preview and counted apart (``BulkPlan.read_requests``).
- **Apply** (``Bulk.apply``): each change queued through ``Crm.edit`` (validated again on
  the record as it is then, so an edit made meanwhile is not overwritten by a stale
  preview), one change per record, each undoable by ``u`` like any edit, and all of
  them at once from the list of recent changes (``Change.batch``, ``Undo.plan_batch``).
  The outbox sends them one after another within the budget; ``Bulk.progress`` says how
  many are sent.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from crmtui.fields import FieldError, display, same_value
from crmtui.http import CrmError, NotFound, Offline, RateBudget
from crmtui.model import Change, ChangeState, FieldSpec, FieldType, Record, RecordRef, Role
from crmtui.service.references import EMPTY

if TYPE_CHECKING:
    from crmtui.http.log import LogEntry
    from crmtui.service.crm import Crm

RowAction = Literal["change", "skip", "refused"]
YIELD_EVERY = 50  # records previewed or queued between two turns of the event loop


@dataclass(frozen=True)
class BulkRow:
    """One record of the preview."""

    ref: RecordRef
    title: str
    action: RowAction
    before: str  # the value now, as the record shows it ("empty" when it has none)
    after: str  # the value it gets (the same as before when skipped or refused)
    reason: str = ""  # skipped: "already Won"; refused: why the value does not fit

    @property
    def line(self) -> str:
        """``Keystone renewal: Qualified → Won`` (or why it is left alone)."""
        if self.action == "change":
            return f"{self.title}: {self.before} → {self.after}"
        return f"{self.title}: {self.reason}"


@dataclass(frozen=True)
class BulkCost:
    """What sending the changes costs against the profile's rate budget."""

    requests: int  # requests the outbox sends for them
    budget: RateBudget | None  # the vendor's budget the status line shows (None: unknown)
    remaining: float = 0.0  # requests that may go at once now
    capacity: float = 0.0
    seconds: float = 0.0  # how long pacing takes beyond what fits in ``remaining``

    @property
    def text(self) -> str:
        """``14 requests · budget 40/40 (40 per minute) · sent at once``."""
        requests = f"{self.requests:,} request{'s' if self.requests != 1 else ''}"
        if self.budget is None:
            return requests
        budget = f"budget {self.remaining:,.0f}/{self.capacity:,.0f} ({self.budget.describe()})"
        if self.requests == 0:
            pace = "nothing to send"
        elif self.seconds <= 0:
            pace = "sent at once"
        else:
            pace = f"paced over about {duration(self.seconds)}"
        return f"{requests} · {budget} · {pace}"


def duration(seconds: float) -> str:
    """``45 s``, ``3 min 20 s``, ``1 h 5 min``: a pacing time as a person says it."""
    total = max(1, math.ceil(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


@dataclass(frozen=True)
class BulkPlan:
    """The dry run of setting ``spec`` to ``text`` on some records (nothing queued)."""

    profile: str
    kind: str
    spec: FieldSpec
    text: str  # the value as the user typed or picked it
    rows: tuple[BulkRow, ...]
    cost: BulkCost
    read_requests: int = 0  # requests the preview made to read records lacking the field
    values: dict[RecordRef, Any] = field(default_factory=dict, compare=False)  # typed

    @property
    def changes(self) -> list[BulkRow]:
        return [row for row in self.rows if row.action == "change"]

    @property
    def skipped(self) -> list[BulkRow]:
        return [row for row in self.rows if row.action == "skip"]

    @property
    def refused(self) -> list[BulkRow]:
        return [row for row in self.rows if row.action == "refused"]

    @property
    def summary(self) -> str:
        """``Stage → Won: 23 to change, 2 already Won (skipped), 1 refused``."""
        parts = [f"{len(self.changes)} to change"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped (already {self.target})")
        if self.refused:
            parts.append(f"{len(self.refused)} refused")
        return f"{self.spec.label} → {self.target}: " + ", ".join(parts)

    @property
    def target(self) -> str:
        """The new value as records show it."""
        shown = next((row.after for row in self.changes), None)
        if shown is None:
            shown = next((row.before for row in self.skipped), None)
        return shown or self.text or EMPTY


@dataclass(frozen=True)
class BulkProgress:
    """How far the changes of an applied bulk edit are (``Bulk.progress``)."""

    sent: int
    total: int
    waiting: int  # need the user: refused, conflict, uncertain
    withdrawn: int  # discarded (undone) before they were sent

    @property
    def done(self) -> bool:
        return self.sent + self.waiting + self.withdrawn >= self.total

    @property
    def text(self) -> str:
        """``12 of 23 sent`` (``, 1 needs you in the outbox``)."""
        line = f"{self.sent} of {self.total} sent"
        if self.waiting:
            line += f", {self.waiting} need{'s' if self.waiting == 1 else ''} you in the outbox"
        if self.withdrawn:
            line += f", {self.withdrawn} withdrawn"
        return line


class Bulk:
    """Bulk edit in the service (``Crm.bulk``): the app's bulk screen and
    ``Client.bulk_edit`` in notebooks."""

    def __init__(self, crm: Crm) -> None:
        self.crm = crm

    async def fields(self, profile: str, kind: str) -> list[FieldSpec]:
        """The fields a bulk edit may set: every writable field the kind declares."""
        return [spec for spec in await self.crm.fields(profile, kind) if spec.writable]

    async def plan(
        self, profile: str, kind: str, ids: Iterable[str], key: str, text: Any
    ) -> BulkPlan:
        """The preview of setting field ``key`` to ``text`` (as typed: a choice by label
        or value) on the records ``ids`` of ``kind``; nothing is queued.

        ``FieldError`` when the field cannot be set at all (unknown, read-only)."""
        specs = {spec.key: spec for spec in await self.crm.fields(profile, kind)}
        spec = specs.get(key)
        if spec is None or not spec.writable:
            label = spec.label if spec else key
            vendor = self.crm.vendor_label(profile)
            raise FieldError(f"{label} cannot be changed in {vendor}")
        info = self.crm.kind_info(profile, kind)
        money = info.role(Role.CURRENCY) if info else None
        refs = [RecordRef(profile=profile, kind=kind, id=str(i)) for i in dict.fromkeys(ids)]
        records, gone, read_requests = await self._records(refs, key)
        rows: list[BulkRow] = []
        values: dict[RecordRef, Any] = {}
        sending: list[Record] = []
        for n, ref in enumerate(refs):
            if n % YIELD_EVERY == YIELD_EVERY - 1:  # thousands of rows: the screens go on
                await asyncio.sleep(0)
            record = records.get(ref)
            if record is None:
                rows.append(self._missing(ref, spec, gone=ref in gone))
                continue

            def shown(value: Any, record: Record = record) -> str:
                """As the record and the outbox show it: an amount in its currency, a
                reference by the record's name, a choice by its label."""
                if money and spec.type is FieldType.MONEY and value not in (None, ""):
                    return display(spec, value, currency=record.fields.get(money)) or EMPTY
                return self.crm.references.describe(profile, kind, spec, value)

            now = record.fields.get(key)
            before = shown(now)
            title = record.title or f"{ref.kind} {ref.id}"
            try:
                value = (await self.crm.validate(ref, {key: text}))[key]
            except FieldError as exc:
                rows.append(BulkRow(ref, title, "refused", before, before, str(exc)))
                continue
            if same_value(now, value):
                rows.append(BulkRow(ref, title, "skip", before, before, f"already {before}"))
                continue
            rows.append(BulkRow(ref, title, "change", before, shown(value)))
            values[ref] = value
            sending.append(record)
        return BulkPlan(
            profile=profile,
            kind=kind,
            spec=spec,
            text=str(text),
            rows=tuple(rows),
            cost=self.cost(profile, sending, [key]),
            read_requests=read_requests,
            values=values,
        )

    def _missing(self, ref: RecordRef, spec: FieldSpec, *, gone: bool = False) -> BulkRow:
        """A record whose value is not known here (not cached, or cached without the
        field) and could not be read from the vendor, or that the vendor has no more
        (``gone``: deleted there)."""
        vendor = self.crm.vendor_label(ref.profile)
        cached = self.crm.cached(ref)
        what = f"its {spec.label} is not in the cache" if cached else "not in the cache"
        reason = f"{what} and {vendor} could not be read: try again once it answers"
        if gone:
            info = self.crm.kind_info(ref.profile, ref.kind)
            singular = (info.singular if info else ref.kind).lower()
            reason = f"{vendor} has no such {singular} (deleted there?): nothing to change"
        title = cached.title if cached and cached.title else f"{ref.kind} {ref.id}"
        return BulkRow(ref, title, "refused", EMPTY, EMPTY, reason)

    async def _records(
        self, refs: Sequence[RecordRef], key: str
    ) -> tuple[dict[RecordRef, Record], set[RecordRef], int]:
        """The records as cached; those whose row lacks ``key`` (or is partial) read from
        the vendor first, so an edit is based on the vendor's value. Returns them, those
        the vendor said it has no more (404), and how many requests those reads made."""
        found: dict[RecordRef, Record] = {}
        unread: list[RecordRef] = []
        for ref in refs:
            record = self.crm.cached(ref)
            if record is not None and not record.partial and key in record.fields:
                found[ref] = record
            elif not ref.id.startswith("local:"):
                unread.append(ref)
            elif record is not None:
                found[ref] = record
        gone: set[RecordRef] = set()
        if not unread:
            return found, gone, 0
        profile = refs[0].profile
        made: list[LogEntry] = []
        stop = self.crm.watch_requests(
            lambda entry: made.append(entry) if entry.profile == profile else None
        )
        try:
            for ref in unread:
                try:
                    await self.crm.get(ref)
                except NotFound:
                    gone.add(ref)
                    continue
                except (Offline, CrmError):
                    pass
                record = self.crm.cached(ref)
                if record is not None and key in record.fields:
                    found[ref] = record
        finally:
            stop()
        return found, gone, len(made)

    def cost(self, profile: str, records: Sequence[Record], keys: Sequence[str] = ()) -> BulkCost:
        """What sending an update of ``keys`` of each of ``records`` costs (the adapter
        counts it)."""
        try:
            requests = self.crm.adapter(profile).update_requests(records, keys)
        except CrmError:
            requests = 2 * len(records)
        budget = self.crm.budget(profile)
        if budget is None:
            return BulkCost(requests, None)
        rate = budget.budget.per_second
        over = max(0.0, requests - budget.remaining)  # beyond what may go at once
        seconds = (over / rate if rate else 0.0) + (budget.wait if requests else 0.0)
        return BulkCost(
            requests,
            budget.budget,
            remaining=budget.remaining,
            capacity=budget.capacity,
            seconds=seconds,
        )

    async def apply(self, plan: BulkPlan) -> list[Change]:
        """Queue the plan's changes, one per record, in its order; returns them.

        Each is validated again on the record as it is now (``Crm.edit``): one that now
        holds the value is not queued; one the value no longer fits is left out (its
        error in the outbox would help no one) and the caller sees fewer changes. They
        share one ``Change.batch``: the list of recent changes undoes them as one
        (``Undo.plan_batch``)."""
        queued: list[Change] = []
        batch = uuid.uuid4().hex
        for n, row in enumerate(plan.changes):
            if n % YIELD_EVERY == YIELD_EVERY - 1:  # one transaction each: let the loop run
                await asyncio.sleep(0)
            try:
                change = await self.crm.edit(row.ref, {plan.spec.key: plan.text}, batch=batch)
            except (FieldError, CrmError):
                continue
            if change is not None:
                queued.append(change)
        return queued

    def progress(self, changes: Sequence[Change]) -> BulkProgress:
        """How many of ``changes`` (``apply``'s) the vendor has, and how many wait."""
        sent = waiting = withdrawn = 0
        stuck = {ChangeState.REJECTED, ChangeState.CONFLICT, ChangeState.UNCERTAIN}
        for change in changes:
            now = self.crm.change(change.id)
            if now is None:
                withdrawn += 1
            elif now.state is ChangeState.DONE:
                sent += 1
            elif now.state in stuck:
                waiting += 1
        return BulkProgress(sent, len(changes), waiting, withdrawn)
