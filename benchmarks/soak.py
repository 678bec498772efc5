"""Soak: thousands of random browses, edits and creates against all five sandboxes.

Every sandbox is served over real loopback HTTP (uvicorn, 127.0.0.1) with faults at
10% (429, 500, 503, dropped connections, malformed JSON, and lost replies: the write is
applied, then the connection drops before the answer; drawn from a seeded RNG). One
``Crm`` (one ``Http``, one SQLite cache) drives them all, as the app does. Afterwards:

* every edit the outbox acknowledged (``DONE``) is in the sandbox's own data;
* every edit not acknowledged is still in the outbox;
* no create was applied twice (each carries a unique marker; the sandbox holds it once).

Then the faults are switched off and the outbox drained: every edit and create must
land exactly once. Exit status 1 if any check fails.

    python benchmarks/soak.py --ops 3000 --seconds 150 --seed 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
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
from crmtui.store import Store
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


def _task(about: Rows | None = None) -> Callable[[str, Any], dict[str, Any]]:
    """A task's values; ``about``: the table whose first row the task is for."""

    def values(marker: str, db: Any) -> dict[str, Any]:
        out = {"subject": marker, "due_at": "2031-01-02T10:00:00Z"}
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
    ),
    "salesseek": Plan(
        "contact",
        "contact",
        "job_title",
        lambda db: db.individuals,
        "task",
        _task(),
        lambda db: db.tasks,
    ),
    "salesloft": Plan(
        "contact",
        "contact",
        "job_title",
        lambda db: db.tables["people"],
        "task",
        _task(lambda db: db.tables["people"]),
        lambda db: db.tables["tasks"],
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
    ),
    "salesforceiq": Plan(
        "contact",
        "contact",
        "job_title",
        lambda db: db.contacts,
        "contact",
        lambda marker, db: {"name": marker},
        lambda db: db.contacts,
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
    counted here once per request that reached the vendor.
    """

    def __init__(self, app: Any, slow: float = 0.0) -> None:
        self.app = app
        self.slow = slow
        self.armed: list[str] = []
        self.writes: list[tuple[str, str, str]] = []  # (method, path, body)
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
        with self._lock:
            self.writes.append((scope["method"], scope["path"], body))
            if self.armed:
                self.app.state.faults.next.appendleft(self.armed.pop(0))
        if self.slow:
            await asyncio.sleep(self.slow)
        replay = iter(messages)

        async def again() -> Any:
            return next(replay, None) or await receive()

        await self.app(scope, again, send)

    def count(self, marker: str, method: str | None = None) -> int:
        """Writes whose path or body holds ``marker`` (of ``method`` only, if given)."""
        with self._lock:
            return sum(
                (method is None or m == method) and (marker in path or marker in body)
                for m, path, body in self.writes
            )


# -- the run --------------------------------------------------------------------------


@dataclass
class Tally:
    """What happened, for the report."""

    ops: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # CrmError class names
    raw: list[str] = field(default_factory=list)  # anything that was not a CrmError
    edits: list[tuple[Change, str]] = field(default_factory=list)  # (change, marker)
    creates: list[tuple[Change, str]] = field(default_factory=list)


@dataclass
class Soak:
    crm: Crm
    apps: dict[str, Any]
    rng: random.Random
    tally: Tally = field(default_factory=Tally)
    serial: int = 0

    def marker(self, what: str) -> str:
        self.serial += 1
        return f"soak-{what}-{self.serial:05d}-{self.rng.randrange(16**6):06x}"

    async def one(self, vendor: str) -> None:
        """One random operation on one vendor, as a user would do it."""
        plan = PLANS[vendor]
        roll = self.rng.random()
        op = (
            "list"
            if roll < 0.25
            else "get"
            if roll < 0.45
            else "timeline"
            if roll < 0.55
            else "edit"
            if roll < 0.9
            else "create"
        )
        self.tally.ops[op] += 1
        try:
            await getattr(self, op)(vendor, plan)
        except CrmError as exc:
            self.tally.errors[type(exc).__name__] += 1
            if not str(exc).startswith(self.crm.adapter(vendor).label):
                self.tally.raw.append(f"{vendor} {op}: error text without the vendor: {exc}")
        except Exception as exc:
            self.tally.raw.append(f"{vendor} {op}: {type(exc).__name__}: {exc}")

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
            self.tally.edits.append((change, marker))

    async def create(self, vendor: str, plan: Plan) -> None:
        await self.crm.fields(vendor, plan.create_kind)
        marker = self.marker("new")
        values = plan.create_values(marker, self.apps[vendor].state.db)
        if plan.direct:
            ref = RecordRef(profile=vendor, kind=plan.create_kind, id="new")
            change = self.crm.store.enqueue(Change(ref=ref, op=ChangeOp.CREATE, values=values))
            self.crm.outbox.kick(vendor)
        else:
            change = await self.crm.create(vendor, plan.create_kind, values)
        self.tally.creates.append((change, marker))

    async def run(self, ops: int, seconds: float, workers: int = 5) -> None:
        deadline = time.monotonic() + seconds
        left = iter(range(ops))

        async def worker() -> None:
            for _ in left:
                if time.monotonic() > deadline:
                    return
                await self.one(self.rng.choice(VENDORS))

        await asyncio.gather(*(worker() for _ in range(workers)))

    async def drain(self, rounds: int, seconds: float) -> None:
        """Send what is queued: failed changes are made due now, ``rounds`` times."""
        deadline = time.monotonic() + seconds
        for _ in range(rounds):
            if not self.crm.queued() or time.monotonic() > deadline:
                break
            for vendor in self.crm.states:
                self.crm.outbox.wake(vendor)
            await self.crm.outbox.wait_idle()
            await self.crm.outbox.flush_all()


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
    for change, marker in tally.creates:
        vendor, plan = change.ref.profile, PLANS[change.ref.profile]
        found = rows_with(plan.create_rows(apps[vendor].state.db), marker)
        now = state(crm, change)
        if len(found) > 1:
            problems.append(f"{vendor} create {marker}: applied {len(found)} times")
        if now is ChangeState.DONE and not found:
            problems.append(f"{vendor} create {marker}: acknowledged but not in the sandbox")
        if now is None:
            problems.append(f"{vendor} create {marker}: left the outbox without being sent")
        elif now is not ChangeState.DONE and all_done:
            problems.append(f"{vendor} create {marker}: still {now} after the final drain")
    return problems


def duplicates(apps: dict[str, Any], tally: Tally) -> int:
    return sum(
        len(rows_with(PLANS[c.ref.profile].create_rows(apps[c.ref.profile].state.db), m)) > 1
        for c, m in tally.creates
    )


# -- wiring ---------------------------------------------------------------------------


RATES = ("rate_429", "rate_500", "rate_503", "rate_drop", "rate_malformed", "rate_lost")


def soak_faults(seed: int, rate: float = 0.10) -> Faults:
    """Faults at ``rate`` in all, shared equally by the kinds in ``RATES``."""
    share = rate / len(RATES)
    faults = Faults(retry_after=0.01, seed=seed)
    faults.update(dict.fromkeys(RATES, share))
    return faults


def serve_all(stack: ExitStack, seed: int, rate: float) -> dict[str, tuple[Any, str]]:
    """Every sandbox on its own loopback port: vendor -> (app, origin)."""
    served: dict[str, tuple[Any, str]] = {}
    for index, vendor in enumerate(VENDORS):
        app = sandbox.create_app(  # anchored at the real time, as a vendor's clock is
            vendor,
            seed=seed,
            faults=soak_faults(seed + index, rate),
            rate_limit=False,
            now=utcnow(),
        )
        served[vendor] = (app, stack.enter_context(serving(app)))
    return served


def report(figures: dict[str, Any], out: Any = sys.stdout) -> None:
    width = max(len(key) for key in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}", file=out)


async def soak(
    ops: int, seconds: float, seed: int, *, rate: float = 0.10
) -> tuple[dict[str, Any], list[str]]:
    """Run the soak; print and return the figures and the failed checks."""
    started = time.monotonic()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        served = serve_all(stack, seed, rate)
        # A dropped connection is the point of that fault: no traceback for it.
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
        apps = {vendor: app for vendor, (app, _) in served.items()}
        http = Http(sleep=no_sleep)
        profiles = [profile_for(vendor, origin) for vendor, (_, origin) in served.items()]
        crm = Crm(Store(Path(tmp) / "cache.sqlite3"), http, profiles)
        unpace(crm)
        run = Soak(crm, apps, random.Random(seed))
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
            await run.drain(rounds=10, seconds=max(10.0, seconds / 2))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=3000, help="operations at most")
    parser.add_argument("--seconds", type=float, default=120.0, help="time limit of the run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fault-rate", type=float, default=0.10)
    args = parser.parse_args(argv)
    _, problems = asyncio.run(soak(args.ops, args.seconds, args.seed, rate=args.fault_rate))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
