"""Soak: thousands of random browses, edits, notes and creates against all five sandboxes.

Every sandbox is served over real loopback HTTP (uvicorn, 127.0.0.1) with faults at
10% (429, 500, 503, dropped connections, malformed JSON, and lost replies: the write is
applied, then the connection drops before the answer; drawn from a seeded RNG). One
``Crm`` (one ``Http``, one SQLite cache) drives them all, as the app does. Afterwards:

* every edit the outbox acknowledged (``DONE``) is in the sandbox's own data;
* every edit not acknowledged is still in the outbox;
* no create or note was applied twice (each carries a unique marker; the sandbox holds
  it once).

A check for a write whose outcome is unknown looks again once no write is left in the
sandboxes (``Settle``: each that reached one has landed), not after a fixed wait (in the
process that serves them).

Then the faults are switched off and the outbox drained (an uncertain change is decided
as its user would: looked up in the vendor's data): every change must land exactly once.
Exit status 1 if any check fails.

    python benchmarks/soak.py --ops 3000 --seconds 150 --seed 1

``--processes N`` (2 or more): N worker processes share one cache file, each doing
``--ops`` operations, while the parent serves the sandboxes and kills a random worker
with SIGKILL at random moments (every ``--kill-every`` seconds on average), starting it
again as a user would.
The faults add late writes (applied after the client's 2 s timeout gave up) and 3xx
answers. Every worker journals each change it was told is queued; the final audit
counts duplicates (a create or note in the sandbox twice), edits lost (told queued,
then gone or never done) and changes acknowledged but not applied. All three must be 0.

    python benchmarks/soak.py --processes 3 --ops 2000 --seconds 900 --seed 1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmtui import sandbox
from crmtui.http import CrmError, Http, RateBudget, RateLimiter
from crmtui.model import Change, ChangeOp, ChangeState, Query, RecordRef, utcnow
from crmtui.sandbox.faults import CONTROL_PATH, Faults
from crmtui.sandbox.serve import serving
from crmtui.service import Crm
from crmtui.service.outbox import NOTE_KIND
from crmtui.store import CacheWriteError, Store
from crmtui.vendors.base import Profile

Rows = Callable[[Any], dict[Any, Any]]


@dataclass(frozen=True)
class Plan:
    """What the soak (and the fault matrix) does with one vendor."""

    browse: str  # a kind with a timeline
    edit_kind: str
    edit_field: str  # a writable text field
    edit_rows: Rows  # the sandbox table holding ``edit_kind``
    create_kind: str
    create_values: Callable[[str, Any], dict[str, Any]]  # (marker, sandbox db) -> values
    create_rows: Rows
    direct: bool = False  # queue the create as is: a field it needs is not writable
    note_rows: Rows = lambda db: {}  # where the sandbox keeps notes on ``browse`` records


def _task(
    about: Rows | None = None, due: tuple[str, str] = ("due_at", "2031-01-02T10:00:00Z")
) -> Callable[[str, Any], dict[str, Any]]:
    """A task's values; ``about``: the table whose first row the task is for; ``due``:
    the field and value of its due time (Salesloft's API takes a due date only)."""

    def values(marker: str, db: Any) -> dict[str, Any]:
        out = {"subject": marker, due[0]: due[1]}
        if about is not None:
            out["contact"] = str(next(iter(about(db))))
            if hasattr(db, "users"):
                out["owner"] = str(next(iter(db.users)))
        return out

    return values


PLANS: dict[str, Plan] = {
    "freshsales": Plan(
        "contact",
        "contact",
        "job_title",
        lambda db: db.contacts,
        "task",
        _task(lambda db: db.contacts),
        lambda db: db.tasks,
        note_rows=lambda db: db.notes,
    ),
    "salesseek": Plan(
        "contact",
        "contact",
        "job_title",
        lambda db: db.individuals,
        "task",
        _task(),
        lambda db: db.tasks,
        note_rows=lambda db: db.activities,
    ),
    "salesloft": Plan(
        "contact",
        "contact",
        "job_title",
        lambda db: db.tables["people"],
        "task",
        _task(lambda db: db.tables["people"], due=("due_date", "2031-01-02")),
        lambda db: db.tables["tasks"],
        note_rows=lambda db: db.tables["notes"],
    ),
    "activecampaign": Plan(
        "deal",
        "deal",
        "description",
        lambda db: db.deals,
        "deal",  # a task cannot be tied to a deal or contact from crmtui
        lambda marker, db: {"name": marker, "amount": "1200.00", "contact": "1"},
        lambda db: db.deals,
        direct=True,  # the deal's contact is required, and not a writable field
        note_rows=lambda db: db.notes,
    ),
    "salesforceiq": Plan(
        "contact",
        "contact",
        "job_title",
        lambda db: db.contacts,
        "contact",
        # with an email: a note on a contact the soak made goes to its events, and
        # SalesforceIQ logs an event only with a participant's email or phone (crmtui
        # refuses it otherwise: the soak's own notes on name-only contacts were refused)
        lambda marker, db: {"name": marker, "email": f"{marker}@example.com"},
        lambda db: db.contacts,
        note_rows=lambda db: dict(enumerate(db.events)),
    ),
}

VENDORS = tuple(PLANS)


async def no_sleep(seconds: float) -> None:
    """Client retries are not slept through: the sandbox answers again at once."""
    return None


def profile_for(vendor: str, origin: str, name: str | None = None) -> Profile:
    """A profile reaching ``vendor``'s sandbox at ``origin`` with its default credentials."""
    info = sandbox.info(vendor)
    return Profile(
        name=name or vendor,
        vendor=vendor,
        base_url=origin + info.base_path,
        settings=dict(info.settings),
        secrets=dict(info.secrets),
    )


class VirtualClock:
    """A limiter's clock that a wait moves on at once (tests: a 429's hold costs nothing)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def unpace(crm: Crm, *, virtual: bool = False) -> None:
    """Lift every adapter's client-side pacing (the sandboxes' own limits are off).

    ``virtual``: a 429's hold is waited on a ``VirtualClock`` instead of real time.
    """
    for name in crm.states:
        adapter = crm.adapter(name)
        budget = RateBudget(10_000, 1)
        if virtual:
            clock = VirtualClock()
            adapter.limiter = RateLimiter(budget, clock=clock, sleep=clock.sleep)
        else:
            adapter.limiter = RateLimiter(budget)
        adapter.session.limiter = adapter.limiter


def rows_with(rows: dict[Any, Any], marker: str) -> list[Any]:
    """Ids of the rows whose JSON holds ``marker``."""
    return [key for key, row in rows.items() if marker in json.dumps(row, default=str)]


def row_of(rows: dict[Any, Any], id: str) -> Any:
    for key, row in rows.items():
        if str(key) == id or (isinstance(row, dict) and str(row.get("id")) == id):
            return row
    return None


class Witness:
    """In front of a sandbox: every write request it receives, in order, with its body.

    ``slow``: seconds each write waits before it reaches the sandbox (a slow vendor);
    ``armed``: faults for the next writes (not GETs), one each, in order. The sandbox's
    own fault middleware (inside) applies them, so a ``late`` or ``lost`` write is still
    counted here once per request that reached the vendor. One more fault is the
    Witness's own: ``held``, a late write with no timer: it waits here (the client
    gives up meanwhile) until ``land()``, then the sandbox applies it. ``in_flight``:
    writes that reached the vendor and are not applied (or refused) yet.
    """

    def __init__(self, app: Any, slow: float = 0.0) -> None:
        self.app = app
        self.slow = slow
        self.armed: list[str] = []
        self.writes: list[tuple[str, str, str]] = []  # (method, path, body)
        self.in_flight = 0
        self._held: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] == "GET" or scope["path"] == CONTROL_PATH:
            await self.app(scope, receive, send)
            return
        messages: list[dict[str, Any]] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        body = b"".join(m.get("body", b"") for m in messages).decode("utf-8", "replace")
        held: asyncio.Event | None = None
        with self._lock:
            self.writes.append((scope["method"], scope["path"], body))
            self.in_flight += 1
            fault = self.armed.pop(0) if self.armed else None
            if fault == "held":
                held = asyncio.Event()
                self._held.append((asyncio.get_running_loop(), held))
            elif fault is not None:
                self.app.state.faults.next.appendleft(fault)
        try:
            if held is not None:
                await held.wait()
            if self.slow:
                await asyncio.sleep(self.slow)
            replay = iter(messages)

            async def again() -> Any:
                return next(replay, None) or await receive()

            await self.app(scope, again, send)
        finally:
            with self._lock:
                self.in_flight -= 1

    def land(self) -> None:
        """The ``held`` writes go on to the sandbox (from any thread)."""
        with self._lock:
            held, self._held = self._held, []
        for loop, event in held:
            loop.call_soon_threadsafe(event.set)

    def count(self, marker: str, method: str | None = None) -> int:
        """Writes whose path or body holds ``marker`` (of ``method`` only, if given)."""
        with self._lock:
            return sum(
                (method is None or m == method) and (marker in path or marker in body)
                for m, path, body in self.writes
            )


class Landing:
    """In front of a sandbox: how many writes are in it now, reached and not yet applied
    or refused (a ``late`` one waits there)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.writes = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] == "GET":
            await self.app(scope, receive, send)
            return
        self.writes += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.writes -= 1


class Settle:
    """The outbox's wait before a check looks again for a write of unknown outcome
    (``Outbox.sleep``) in the process that serves the sandboxes: over as soon as no
    write is in any of them (each that reached one is applied: the next look sees the
    truth), and after the outbox's own delay at the latest. (The shared soak's worker
    processes wait their delays in full: a write a killed worker sent may not have been
    read by the sandbox yet.)"""

    def __init__(self, landings: dict[str, Landing]) -> None:
        self.landings = landings

    async def __call__(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        pause = 0.002
        while time.monotonic() < deadline and any(x.writes for x in self.landings.values()):
            await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(0.05, pause * 2)


# -- the run --------------------------------------------------------------------------

TEMPLATE = "<<marker>>"
MARKER = re.compile(r"soak\w*-(?:edit|new|note)-\d+-[0-9a-f]{6}")


def templates(apps: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each vendor's create values with a placeholder marker (ids read from its sandbox),
    so that a process without the sandbox's data can make them."""
    return {
        vendor: PLANS[vendor].create_values(TEMPLATE, app.state.db) for vendor, app in apps.items()
    }


def filled(template: dict[str, Any], marker: str) -> dict[str, Any]:
    return {
        k: v.replace(TEMPLATE, marker) if isinstance(v, str) else v for k, v in template.items()
    }


@dataclass
class Tally:
    """What happened, for the report."""

    ops: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # CrmError class names
    raw: list[str] = field(default_factory=list)  # anything that was not a CrmError
    edits: list[tuple[Change, str]] = field(default_factory=list)  # (change, marker)
    creates: list[tuple[Change, str]] = field(default_factory=list)
    notes: list[tuple[Change, str]] = field(default_factory=list)


Queued = Callable[[str, Change, str], None]
"""Told of every change a user queued: (operation, change, marker)."""


@dataclass
class Soak:
    crm: Crm
    templates: dict[str, dict[str, Any]]
    rng: random.Random
    tally: Tally = field(default_factory=Tally)
    serial: int = 0
    prefix: str = "soak"  # markers: <prefix>-<what>-<serial>-<random>
    on_queued: Queued | None = None
    on_op: Callable[[str, str | None], None] | None = None  # (operation, error shown)

    def marker(self, what: str) -> str:
        self.serial += 1
        return f"{self.prefix}-{what}-{self.serial:05d}-{self.rng.randrange(16**6):06x}"

    async def one(self, vendor: str) -> None:
        """One random operation on one vendor, as a user would do it."""
        plan = PLANS[vendor]
        roll = self.rng.random()
        op = (
            "list"
            if roll < 0.22
            else "get"
            if roll < 0.40
            else "timeline"
            if roll < 0.48
            else "edit"
            if roll < 0.80
            else "note"
            if roll < 0.90
            else "create"
        )
        self.tally.ops[op] += 1
        shown: str | None = None
        try:
            await getattr(self, op)(vendor, plan)
        except CrmError as exc:
            shown = type(exc).__name__
            if not str(exc).startswith(self.crm.adapter(vendor).label):
                self.tally.raw.append(f"{vendor} {op}: error text without the vendor: {exc}")
        except CacheWriteError as exc:  # e.g. the cache locked by another process: told
            shown = type(exc).__name__
        except Exception as exc:
            self.tally.raw.append(f"{vendor} {op}: {type(exc).__name__}: {exc}")
            if self.on_op is not None:  # a worker: journaled now, it may be killed later
                self.on_op(op, None)
                self.on_op("raw", self.tally.raw[-1])
                return
        if shown is not None:
            self.tally.errors[shown] += 1
        if self.on_op is not None:
            self.on_op(op, shown)

    def _queued(self, op: str, change: Change, marker: str) -> None:
        {"edit": self.tally.edits, "note": self.tally.notes, "create": self.tally.creates}[
            op
        ].append((change, marker))
        if self.on_queued is not None:
            self.on_queued(op, change, marker)

    def _pick(self, vendor: str, kind: str) -> RecordRef | None:
        total = self.crm.count(vendor, kind)
        if not total:
            return None
        offset = self.rng.randrange(min(total, 200))
        records = self.crm.window(vendor, kind, offset=offset, limit=1)
        if not records or records[0].id.startswith("local:"):
            return None
        return RecordRef(profile=vendor, kind=kind, id=records[0].id)

    async def list(self, vendor: str, plan: Plan) -> None:
        kind = self.rng.choice([plan.browse, plan.edit_kind, plan.create_kind])
        page = await self.crm.refresh(vendor, kind, Query(per_page=25))
        if page.next_cursor and self.rng.random() < 0.5:  # sync-like paging
            await self.crm.refresh(vendor, kind, Query(per_page=25, cursor=page.next_cursor))

    async def get(self, vendor: str, plan: Plan) -> None:
        ref = self._pick(vendor, plan.edit_kind)
        if ref is None:
            await self.list(vendor, plan)
            return
        await self.crm.get(ref)

    async def timeline(self, vendor: str, plan: Plan) -> None:
        ref = self._pick(vendor, plan.browse)
        if ref is not None:
            await self.crm.timeline(ref)

    async def edit(self, vendor: str, plan: Plan) -> None:
        ref = self._pick(vendor, plan.edit_kind)
        if ref is None:
            await self.crm.refresh(vendor, plan.edit_kind, Query(per_page=50))
            return
        await self.crm.fields(vendor, plan.edit_kind)
        marker = self.marker("edit")
        change = await self.crm.edit(ref, {plan.edit_field: marker})
        if change is not None:
            self._queued("edit", change, marker)

    async def note(self, vendor: str, plan: Plan) -> None:
        ref = self._pick(vendor, plan.browse)
        if ref is None:
            await self.crm.refresh(vendor, plan.browse, Query(per_page=50))
            return
        marker = self.marker("note")
        self._queued("note", await self.crm.add_note(ref, f"Called about {marker}"), marker)

    async def create(self, vendor: str, plan: Plan) -> None:
        await self.crm.fields(vendor, plan.create_kind)
        marker = self.marker("new")
        values = filled(self.templates[vendor], marker)
        if plan.direct:
            ref = RecordRef(profile=vendor, kind=plan.create_kind, id="new")
            change = self.crm.store.enqueue(Change(ref=ref, op=ChangeOp.CREATE, values=values))
            self.crm.outbox.kick(vendor)
        else:
            change = await self.crm.create(vendor, plan.create_kind, values)
        self._queued("create", change, marker)

    async def run(self, ops: int, seconds: float, workers: int = 5) -> None:
        deadline = time.monotonic() + seconds
        left = iter(range(ops))

        async def worker() -> None:
            for _ in left:
                if time.monotonic() > deadline:
                    return
                await self.one(self.rng.choice(VENDORS))

        await asyncio.gather(*(worker() for _ in range(workers)))

    async def drain(self, rounds: int, seconds: float, apps: dict[str, Any] | None = None) -> None:
        """Send what is queued: failed changes are made due now, ``rounds`` times.

        ``apps``: the sandboxes, for deciding uncertain changes as their user would.
        """
        await drain(self.crm, rounds, seconds, apps)


async def drain(crm: Crm, rounds: int, seconds: float, apps: dict[str, Any] | None) -> None:
    deadline = time.monotonic() + seconds
    for _ in range(rounds):
        if not crm.queued() or time.monotonic() > deadline:
            break
        if apps is not None:
            decide_uncertain(crm, apps)
        for vendor in crm.states:
            crm.outbox.wake(vendor)
        await crm.outbox.wait_idle()
        await crm.outbox.flush_all(crm.profile_names)


def marker_of(change: Change) -> str | None:
    found = MARKER.search(json.dumps(change.values, default=str))
    return found.group(0) if found else None


def landed(change: Change, apps: dict[str, Any]) -> int:
    """How many times the note or create ``change`` is in its sandbox's data."""
    plan, db = PLANS[change.ref.profile], apps[change.ref.profile].state.db
    marker = marker_of(change)
    if marker is None:
        return 0
    rows = plan.note_rows(db) if change.ref.kind == NOTE_KIND else plan.create_rows(db)
    return len(rows_with(rows, marker))


def decide_uncertain(crm: Crm, apps: dict[str, Any]) -> int:
    """As their user would: each uncertain change looked up in the vendor's own data (its
    app); there, "it arrived"; not there, "send again". Returns how many were decided."""
    decided = 0
    for change in crm.store.changes(states=[ChangeState.UNCERTAIN]):
        if change.op is ChangeOp.CREATE and landed(change, apps):
            crm.mark_arrived(change.id)
        else:
            crm.retry(change.id)
        decided += 1
    return decided


# -- the checks ------------------------------------------------------------------------


def state(crm: Crm, change: Change) -> ChangeState | None:
    stored = crm.store.get_change(change.id)
    return stored.state if stored is not None else None


def check(crm: Crm, apps: dict[str, Any], tally: Tally, *, all_done: bool) -> list[str]:
    """The invariants; a list of what is wrong (empty when all hold)."""
    problems: list[str] = list(tally.raw)
    latest: dict[tuple[str, str], tuple[Change, str]] = {}
    for change, marker in tally.edits:
        latest[(change.ref.profile, change.ref.id)] = (change, marker)
    for change, marker in tally.edits:
        vendor, plan = change.ref.profile, PLANS[change.ref.profile]
        now = state(crm, change)
        if now is None:
            problems.append(f"{vendor} edit {marker}: left the outbox without being sent")
        elif now is not ChangeState.DONE and all_done:
            problems.append(f"{vendor} edit {marker}: still {now} after the final drain")
        elif now is ChangeState.DONE and latest[(vendor, change.ref.id)][1] == marker:
            row = row_of(plan.edit_rows(apps[vendor].state.db), change.ref.id)
            if row is None or marker not in json.dumps(row, default=str):
                problems.append(f"{vendor} edit {marker}: acknowledged but not in the sandbox")
    for change, marker in tally.creates + tally.notes:
        vendor = change.ref.profile
        what = "note" if change.ref.kind == NOTE_KIND else "create"
        found = landed(change, apps)
        now = state(crm, change)
        if found > 1:
            problems.append(f"{vendor} {what} {marker}: applied {found} times")
        if now is ChangeState.DONE and not found:
            problems.append(f"{vendor} {what} {marker}: acknowledged but not in the sandbox")
        if now is None:
            problems.append(f"{vendor} {what} {marker}: left the outbox without being sent")
        elif now is not ChangeState.DONE and all_done:
            problems.append(f"{vendor} {what} {marker}: still {now} after the final drain")
    return problems


def duplicates(apps: dict[str, Any], tally: Tally) -> int:
    return sum(landed(c, apps) > 1 for c, _ in tally.creates + tally.notes)


@dataclass
class Audit:
    """The shared cache's outbox against the sandboxes' data, after the final drain."""

    changes: int = 0
    done: int = 0
    duplicates: int = 0
    lost: int = 0  # queued (the user was told so), then gone or never sent
    unapplied: int = 0  # done (acknowledged), yet not in the sandbox
    refused: int = 0  # rejected or in conflict: kept in the outbox, the user told
    problems: list[str] = field(default_factory=list)


def audit(store: Store, apps: dict[str, Any], journal: list[dict[str, Any]]) -> Audit:
    """Every change in the cache (done ones stay a week) and every one a user was told
    was queued (``journal``): landed once, acknowledged only when applied, none lost."""
    result = Audit()
    changes = store.changes()
    by_id = {c.id: c for c in changes}
    result.changes = len(changes)
    for entry in journal:
        if entry["id"] not in by_id:
            result.lost += 1
            result.problems.append(f"{entry['vendor']} {entry['op']} {entry['marker']}: gone")
    latest: dict[RecordRef, Change] = {}
    for change in changes:
        marker = marker_of(change) or change.id
        where = f"{change.ref.profile} {change.op.value} {change.ref.kind} {marker}"
        if change.state in (ChangeState.REJECTED, ChangeState.CONFLICT):
            result.refused += 1
            continue
        if change.state is not ChangeState.DONE:
            result.lost += 1
            result.problems.append(f"{where}: still {change.state.value} after the drain")
            continue
        result.done += 1
        if change.op is ChangeOp.CREATE:
            found = landed(change, apps)
            if found > 1:
                result.duplicates += 1
                result.problems.append(f"{where}: applied {found} times")
            elif found == 0:
                result.unapplied += 1
                result.problems.append(f"{where}: acknowledged but not in the sandbox")
        elif change.op is ChangeOp.UPDATE:
            latest[change.ref] = change
    for ref, change in latest.items():
        plan = PLANS[ref.profile]
        row = row_of(plan.edit_rows(apps[ref.profile].state.db), ref.id)
        marker = marker_of(change) or ""
        if row is None or marker not in json.dumps(row, default=str):
            result.unapplied += 1
            result.problems.append(f"{ref.profile} edit {marker}: acknowledged, not applied")
    return result


# -- wiring ---------------------------------------------------------------------------


RATES = ("rate_429", "rate_500", "rate_503", "rate_drop", "rate_malformed", "rate_lost")
# The shared soak adds writes that land after the client gave up, and 3xx answers.
SHARED_RATES = (*RATES, "rate_late", "rate_redirect")


def soak_faults(seed: int, rate: float = 0.10, kinds: tuple[str, ...] = RATES) -> Faults:
    """Faults at ``rate`` in all, shared equally by the kinds in ``kinds``."""
    share = rate / len(kinds)
    faults = Faults(retry_after=0.01, seed=seed)
    faults.update(dict.fromkeys(kinds, share))
    return faults


def serve_all(
    stack: ExitStack, seed: int, rate: float, kinds: tuple[str, ...] = RATES
) -> dict[str, tuple[Any, str, Landing]]:
    """Every sandbox on its own loopback port: vendor -> (app, origin, its ``Landing``)."""
    served: dict[str, tuple[Any, str, Landing]] = {}
    for index, vendor in enumerate(VENDORS):
        app = sandbox.create_app(  # anchored at the real time, as a vendor's clock is
            vendor,
            seed=seed,
            faults=soak_faults(seed + index, rate, kinds),
            rate_limit=False,
            now=utcnow(),
        )
        landing = Landing(app)
        served[vendor] = (app, stack.enter_context(serving(landing)), landing)
    return served


def report(figures: dict[str, Any], out: Any = sys.stdout) -> None:
    width = max(len(key) for key in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}", file=out, flush=True)


async def soak(
    ops: int, seconds: float, seed: int, *, rate: float = 0.10
) -> tuple[dict[str, Any], list[str]]:
    """Run the soak; print and return the figures and the failed checks."""
    started = time.monotonic()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        served = serve_all(stack, seed, rate)
        # A dropped connection is the point of that fault: no traceback for it.
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
        apps = {vendor: app for vendor, (app, _, _) in served.items()}
        http = Http(sleep=no_sleep)
        profiles = [profile_for(vendor, origin) for vendor, (_, origin, _) in served.items()]
        crm = Crm(Store(Path(tmp) / "cache.sqlite3"), http, profiles)
        unpace(crm)
        crm.outbox.check_delays = (0.5, 1.0)  # no late writes here: a lost reply is there
        crm.outbox.sleep = Settle({v: landing for v, (_, _, landing) in served.items()})
        run = Soak(crm, templates(apps), random.Random(seed))
        try:
            await run.run(ops, seconds)
            await crm.outbox.wait_idle()
            await run.drain(rounds=3, seconds=max(5.0, seconds / 4))
            problems = check(crm, apps, run.tally, all_done=False)
            faulted = Counter[str]()
            for app in apps.values():
                faulted.update(app.state.faults.counts)
            queued = [c for c, _ in run.tally.edits if state(crm, c) is not ChangeState.DONE]
            for app in apps.values():  # the faults stop: everything must land, once
                app.state.faults.update(dict.fromkeys(RATES, 0))
            await run.drain(rounds=10, seconds=max(10.0, seconds / 2), apps=apps)
            problems += check(crm, apps, run.tally, all_done=True)
            figures = {
                "operations": sum(run.tally.ops.values()),
                "by kind": dict(run.tally.ops),
                "requests": sum(a.session.requests_sent for a in map(crm.adapter, crm.states)),
                "faults injected": sum(faulted.values()),
                "faults by kind": dict(sorted(faulted.items())),
                "lost replies": faulted["lost"],
                "errors shown": dict(run.tally.errors),
                "edits": len(run.tally.edits),
                "edits acknowledged": len(run.tally.edits) - len(queued),
                "edits still queued": len(queued),
                "creates": len(run.tally.creates),
                "notes": len(run.tally.notes),
                "duplicates found": duplicates(apps, run.tally),
                "queued after drain": crm.queued(),
                "elapsed s": round(time.monotonic() - started, 1),
                "checks": "ok" if not problems else f"{len(problems)} FAILED",
            }
            report(figures)
            for problem in problems[:20]:
                print("  -", problem)
        finally:
            await crm.close()
            await http.aclose()
            crm.store.close()
    return figures, problems


# -- many processes on one cache ---------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 2.0  # the workers' client timeout...
LATE = 3.0  # ...a late write lands this long after it reached the sandbox...
# ...and a check looks again after these (past LATE); in the final drain sooner, once
# every write in the sandboxes has landed (``Settle``)
CHECKS = (2.0, 3.0)


def worker() -> None:
    """A worker process of the shared soak: ``sys.argv[1]`` is its job (JSON)."""
    asyncio.run(_worker(json.loads(sys.argv[1])))


async def _worker(job: dict[str, Any]) -> None:
    """Random operations on the shared cache, each written to the journal once done (a
    queued change with its marker: the user was told it is queued); then its outbox."""
    profiles = [profile_for(vendor, origin) for vendor, origin in job["origins"].items()]
    http = Http(sleep=no_sleep, timeout=TIMEOUT)
    crm = Crm(Store(job["path"]), http, profiles)
    unpace(crm)
    crm.outbox.check_delays = CHECKS
    journal = open(job["journal"], "a", buffering=1)  # noqa: SIM115 - lives as long as we do

    def queued(op: str, change: Change, marker: str) -> None:
        line = {"id": change.id, "op": op, "vendor": change.ref.profile, "marker": marker}
        journal.write(json.dumps(line) + "\n")

    def done(op: str, shown: str | None) -> None:
        if op == "raw":
            journal.write(json.dumps({"raw": shown}) + "\n")
        else:
            journal.write(json.dumps({"op": op, "error": shown}) + "\n")

    run = Soak(
        crm,
        job["templates"],
        random.Random(job["seed"]),
        prefix=f"soak{job['slot']}x{job['round']}",
        on_queued=queued,
        on_op=done,
    )
    left = job["deadline"] - time.time()
    try:
        await run.run(job["ops"], left, workers=2)
        await crm.outbox.wait_idle()
        await drain(crm, rounds=3, seconds=max(1.0, job["deadline"] - time.time()), apps=None)
    finally:
        await crm.close()
        await http.aclose()
        crm.store.close()
        journal.close()


@dataclass
class Slot:
    """One of the N worker processes, restarted after each kill until its ops are done."""

    index: int
    journal: Path
    ops: int
    proc: subprocess.Popen[bytes] | None = None
    round: int = 0
    crashes: list[str] = field(default_factory=list)

    def ops_done(self) -> int:
        return sum('"op"' in line and '"id"' not in line for line in self._lines())

    def _lines(self) -> list[str]:
        return self.journal.read_text().splitlines() if self.journal.exists() else []

    def entries(self) -> list[dict[str, Any]]:
        found = []
        for line in self._lines():
            with contextlib.suppress(ValueError):  # a line cut short by the kill
                found.append(json.loads(line))
        return found

    def start(self, job: dict[str, Any], seed: int) -> None:
        self.round += 1
        job = {
            **job,
            "journal": str(self.journal),
            "slot": self.index,
            "round": self.round,
            "seed": seed * 1000 + self.index * 100 + self.round,
            "ops": self.ops - self.ops_done(),
        }
        with self.log.open("ab") as log:  # what a worker that crashed said
            entry = "from benchmarks.soak import worker; worker()"
            self.proc = subprocess.Popen(
                [sys.executable, "-c", entry, json.dumps(job)],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    @property
    def log(self) -> Path:
        return self.journal.with_suffix(".log")

    def running(self) -> bool:
        """Whether the worker runs; a worker that ended with an error is a problem."""
        if self.proc is None or self.proc.poll() is None:
            return self.proc is not None
        if self.proc.returncode not in (0, -signal.SIGKILL):
            last = (self.log.read_text(errors="replace").strip().splitlines() or ["?"])[-1]
            self.crashes.append(f"worker {self.index} exited {self.proc.returncode}: {last}")
        self.proc = None
        return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


async def prime(path: Path, origins: dict[str, str]) -> None:
    """The cache as the app leaves it: the soak's kinds listed, their fields known."""
    http = Http(sleep=no_sleep)
    crm = Crm(Store(path), http, [profile_for(v, o) for v, o in origins.items()])
    unpace(crm)
    try:
        for vendor, plan in PLANS.items():
            for kind in {plan.browse, plan.edit_kind, plan.create_kind}:
                await crm.refresh(vendor, kind, Query(per_page=100))
                await crm.fields(vendor, kind)
    finally:
        await crm.close()
        await http.aclose()
        crm.store.close()


async def shared_soak(
    processes: int,
    ops: int,
    seconds: float,
    seed: int,
    *,
    rate: float = 0.10,
    kills: int = 1000,
    kill_every: float = 5.0,
) -> tuple[dict[str, Any], list[str]]:
    """N processes share one cache against the five loopback sandboxes; SIGKILLs at
    random moments; faults include lost replies, late writes and 3xx. Then the faults
    stop, the outbox is drained (uncertain changes decided as their user would), and the
    cache is audited against the sandboxes' data."""
    started = time.monotonic()
    rng = random.Random(seed)
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        served = serve_all(stack, seed, 0.0, SHARED_RATES)
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
        apps = {vendor: app for vendor, (app, _, _) in served.items()}
        origins = {vendor: origin for vendor, (_, origin, _) in served.items()}
        path = Path(tmp) / "cache.sqlite3"
        await prime(path, origins)
        for app in apps.values():  # the faults start once the cache is primed
            app.state.faults.update({**dict.fromkeys(SHARED_RATES, rate / len(SHARED_RATES))})
            app.state.faults.update({"late_delay": LATE, "seed": seed})
        job = {
            "path": str(path),
            "origins": origins,
            "templates": templates(apps),
            "deadline": time.time() + seconds,
        }
        slots = [Slot(i, Path(tmp) / f"journal-{i}.jsonl", ops) for i in range(processes)]
        for slot in slots:
            slot.start(job, seed)
        killed = 0
        while any(slot.running() for slot in slots):
            wake = time.monotonic() + rng.uniform(0.2, 2 * kill_every)
            while time.monotonic() < wake and any(slot.running() for slot in slots):
                await asyncio.sleep(min(0.05, wake - time.monotonic()))
            alive = [slot for slot in slots if slot.running()]
            if alive and killed < kills and time.time() < job["deadline"] - 5:
                victim = rng.choice(alive)
                victim.kill()  # kill -9 at a random moment, mid-send or not
                killed += 1
                if victim.ops_done() < victim.ops:
                    victim.start(job, seed)  # the user starts it again
        run_s = round(time.monotonic() - started, 1)
        for app in apps.values():  # the faults stop: everything must land, once
            app.state.faults.update(dict.fromkeys(SHARED_RATES, 0))
        http = Http(sleep=no_sleep)
        crm = Crm(Store(path), http, [profile_for(v, o) for v, o in origins.items()])
        unpace(crm)
        crm.outbox.check_delays = CHECKS
        crm.outbox.sleep = Settle({v: landing for v, (_, _, landing) in served.items()})
        try:
            uncertain = len(crm.store.changes(states=[ChangeState.UNCERTAIN]))
            await drain(crm, rounds=10, seconds=max(30.0, seconds / 2), apps=apps)
            journal = [e for slot in slots for e in slot.entries()]
            queued_by_users = [e for e in journal if "id" in e]
            result = audit(crm.store, apps, queued_by_users)
            raw = [e["raw"] for e in journal if "raw" in e]
            errors: Counter[str] = Counter()
            for entry in journal:
                if entry.get("error"):
                    errors[entry["error"]] += 1
            faulted = Counter[str]()
            for app in apps.values():
                faulted.update(app.state.faults.counts)
            crashes = [crash for slot in slots for crash in slot.crashes]
            refused = [
                f"{c.ref.profile} {c.op.value} {c.ref.kind}: {c.state.value}: {c.last_error}"
                for c in crm.store.changes()
                if c.state is not ChangeState.DONE
            ]
            problems = crashes + raw + result.problems
            figures = {
                "processes": processes,
                "operations": sum(slot.ops_done() for slot in slots),
                "kill -9": killed,
                "faults injected": sum(faulted.values()),
                "faults by kind": dict(sorted(faulted.items())),
                "errors shown": dict(sorted(errors.items())),
                "changes queued": result.changes,
                "told queued (journal)": len(queued_by_users),
                "uncertain, decided by the user": uncertain,
                "done": result.done,
                "refused or conflict (kept, told)": result.refused,
                "duplicates found": result.duplicates,
                "edits lost": result.lost,
                "acknowledged but not applied": result.unapplied,
                "queued after drain": crm.queued(),
                "run s": run_s,
                "elapsed s": round(time.monotonic() - started, 1),
                "checks": "ok" if not problems else f"{len(problems)} FAILED",
            }
            report(figures)
            for problem in problems[:20]:
                print("  -", problem)
            for line in refused[:10]:
                print("  not done:", line)
        finally:
            for slot in slots:
                slot.kill()
            await crm.close()
            await http.aclose()
            crm.store.close()
    return figures, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=3000, help="operations at most (a process)")
    parser.add_argument("--seconds", type=float, default=120.0, help="time limit of the run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fault-rate", type=float, default=0.10)
    parser.add_argument(
        "--processes", type=int, default=1, help="OS processes sharing one cache (2+: kill -9s)"
    )
    parser.add_argument("--kills", type=int, default=1000, help="kill -9s at most (shared mode)")
    parser.add_argument(
        "--kill-every", type=float, default=5.0, help="mean seconds between kill -9s"
    )
    args = parser.parse_args(argv)
    if args.processes > 1:
        run = shared_soak(
            args.processes,
            args.ops,
            args.seconds,
            args.seed,
            rate=args.fault_rate,
            kills=args.kills,
            kill_every=args.kill_every,
        )
    else:
        run = soak(args.ops, args.seconds, args.seed, rate=args.fault_rate)
    _, problems = asyncio.run(run)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
