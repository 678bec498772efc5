"""Exactly once: every write reaches the vendor once, whoever sends it and whatever the reply.

- Two real OS processes flush one cache file against a loopback sandbox whose writes
  are slow (and a third opens the file meanwhile): each queued change reaches the
  sandbox exactly once (counted in front of it, by the change's marker).
- On all five vendors, a note, an update, a delete and a create whose reply is lost (the
  vendor applied it) or comes after the client's timeout (``late``: applied after we
  gave up, held in front of the sandbox until the check waits to look again) are
  checked with the vendor before anything is sent again: one write each, done, and
  applied. Where no check can tell (SalesforceIQ's write-only events), the
  change waits as uncertain until the user decides, and is never sent by itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from benchmarks.soak import PLANS, VENDORS, Witness, no_sleep, profile_for, unpace
from crmtui import sandbox
from crmtui.http import Http
from crmtui.model import Change, ChangeState, Query, RecordRef, utcnow
from crmtui.sandbox.serve import serving
from crmtui.service import Crm
from crmtui.store import Store
from tests.helpers.reliability import CHECKS, ArmWrites, Rig, queue_create
from tests.helpers.waits import eventually

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60.0  # seconds a child may take before the test gives up
# The client's timeout while the faulty write is sent: a late write is held until the
# client gave up; a read that a busy machine answers later is sent again (reads retry).
TIMEOUT = 0.3


def open_crm(path: Path, vendor: str, origin: str, app: Any = None) -> Crm:
    """A ``Crm`` on the cache at ``path``; ``app``: served in-process at ``origin``."""
    http = Http(sleep=no_sleep)
    if app is not None:
        http.mount_app(origin, app)
    crm = Crm(Store(path), http, [profile_for(vendor, origin)])
    unpace(crm)
    crm.outbox.check_delays = CHECKS
    return crm


async def close(crm: Crm) -> None:
    await crm.close()
    await crm.http.aclose()
    crm.store.close()


# -- two processes ---------------------------------------------------------------------


def child() -> None:
    """Subprocess: open the cache, say ready, wait for the go file, flush, print the count."""
    asyncio.run(_child(json.loads(sys.argv[1])))


async def _child(job: dict[str, Any]) -> None:
    crm = open_crm(Path(job["path"]), job["vendor"], job["origin"])
    try:
        print("ready", flush=True)
        go = Path(job["go"])
        await eventually(go.exists, timeout=WAIT)
        sent = await crm.outbox.flush(job["vendor"])
        await crm.outbox.wait_idle()
        print(json.dumps({"sent": sent}), flush=True)
    finally:
        await close(crm)


@contextmanager
def children(job: dict[str, Any], count: int) -> Iterator[list[subprocess.Popen[str]]]:
    entry = f"from {__name__} import child; child()"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", entry, json.dumps(job)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(WAIT)
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()


def line_of(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline()
    if not line:
        raise AssertionError(f"the child failed: {proc.stderr.read()}")
    return line.strip()


async def queue_work(crm: Crm, vendor: str, app: Any) -> dict[str, Change]:
    """Edits of three records, two notes and a create, each with its own marker."""
    plan = PLANS[vendor]
    page = await crm.refresh(vendor, plan.edit_kind, Query(per_page=10))
    await crm.fields(vendor, plan.edit_kind)
    target = (await crm.refresh(vendor, plan.browse, Query(per_page=3))).records[0].ref
    queued: dict[str, Change] = {}
    for record in page.records[:3]:
        marker = f"two-{uuid.uuid4().hex[:10]}"
        change = await crm.edit(record.ref, {plan.edit_field: marker})
        assert change is not None
        queued[marker] = change
    for _ in range(2):
        marker = f"two-{uuid.uuid4().hex[:10]}"
        queued[marker] = await crm.add_note(target, f"Called them {marker}")
    marker = f"two-{uuid.uuid4().hex[:10]}"
    queued[marker] = await queue_create(crm, vendor, app.state.db, marker)
    return queued


@pytest.mark.loopback
@pytest.mark.parametrize("vendor", VENDORS)
async def test_two_processes_on_one_cache_send_each_change_once(
    tmp_path: Path, vendor: str
) -> None:
    app = sandbox.create_app(vendor, rate_limit=False, now=utcnow())
    witness = Witness(app, slow=0.25)
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
    path, go = tmp_path / "cache.sqlite3", tmp_path / "go"
    with serving(witness) as origin:
        crm = open_crm(path, vendor, origin)
        crm.outbox.paused = True  # queued by "the app", sent by the two children
        try:
            queued = await queue_work(crm, vendor, app)
        finally:
            await close(crm)
        job = {"path": str(path), "vendor": vendor, "origin": origin, "go": str(go)}
        with children(job, 2) as procs:
            assert [line_of(p) for p in procs] == ["ready", "ready"]
            go.touch()
            await eventually(lambda: witness.writes, timeout=WAIT)
            Store(path).close()  # mid-send: a third process opens the file
            sent = [json.loads(line_of(p))["sent"] for p in procs]
            for proc in procs:
                assert proc.wait(WAIT) == 0
    assert sum(sent) == len(queued), sent
    assert min(sent) > 0, f"one process sent everything ({sent}): they did not compete"
    for marker, change in queued.items():
        assert witness.count(marker) == 1, f"{vendor}: {change.op} {marker} sent twice"
    store = Store(path)
    try:
        assert all(c.state is ChangeState.DONE for c in store.changes()), store.changes()
    finally:
        store.close()


# -- lost replies and late writes ---------------------------------------------------------


class Case:
    """One write of one vendor under one fault, and how to see that it landed once."""

    def __init__(self, crm: Crm, app: Any, witness: Witness, vendor: str) -> None:
        self.crm, self.app, self.witness, self.vendor = crm, app, witness, vendor
        self.plan = PLANS[vendor]
        self.used: set[str] = set()

    async def meanwhile(self, seconds: float) -> None:
        """The outbox's wait before its check looks again (``Outbox.sleep``): meanwhile
        the late write lands, and any other that reached the sandbox is applied."""
        self.witness.land()
        await eventually(lambda: not self.witness.in_flight)

    def deletable(self, id: str) -> bool:
        """SalesforceIQ refuses to delete a contact that is on a list item [doc]."""
        db = self.app.state.db
        return self.vendor != "salesforceiq" or not db.items_of_contact(id)

    async def fresh(self, kind: str, *, delete: bool = False) -> RecordRef:
        """A record of ``kind`` no earlier case touched."""
        page = await self.crm.refresh(self.vendor, kind, Query(per_page=50))
        await self.crm.fields(self.vendor, kind)
        record = next(
            r
            for r in page.records
            if r.id not in self.used and (not delete or self.deletable(r.id))
        )
        self.used.add(record.id)
        return record.ref

    async def queue(self, op: str, marker: str) -> tuple[Change, RecordRef | None]:
        crm, plan = self.crm, self.plan
        if op == "update":
            ref = await self.fresh(plan.edit_kind)
            change = await crm.edit(ref, {plan.edit_field: marker})
            assert change is not None
            return change, ref
        if op == "note":
            ref = await self.fresh(plan.browse)
            await crm.timeline(ref)
            return await crm.add_note(ref, f"Spoke with them {marker}"), ref
        if op == "delete":
            ref = await self.fresh(plan.edit_kind, delete=True)
            return await crm.delete(ref), ref
        return await queue_create(crm, self.vendor, self.app.state.db, marker), None

    def writes(self, op: str, marker: str, ref: RecordRef | None) -> int:
        if op == "delete":
            assert ref is not None
            return sum(
                m == "DELETE" and path.rstrip("/").endswith(f"/{ref.id}")
                for m, path, _ in self.witness.writes
            )
        return self.witness.count(marker)

    async def landed(self, op: str, marker: str, ref: RecordRef | None) -> None:
        """The write is in the sandbox (acknowledged means applied)."""
        adapter = self.crm.adapter(self.vendor)
        if op == "update":
            assert ref is not None
            record = await adapter.get(ref.kind, ref.id)
            assert record.fields.get(self.plan.edit_field) == marker
        elif op == "delete":
            assert ref is not None
            assert await adapter.is_deleted(ref)
        elif op == "create":
            found = [
                r
                for r in self.plan.create_rows(self.app.state.db).values()
                if marker in json.dumps(r, default=str)
            ]
            assert len(found) == 1, f"{self.vendor}: {len(found)} records made"
        elif adapter.notes_listed:
            assert ref is not None
            timeline = await adapter.timeline(ref.kind, ref.id)
            assert sum(marker in a.body for a in timeline) == 1


async def run_case(case: Case, op: str, fault: str) -> None:
    crm, vendor = case.crm, case.vendor
    where = f"{vendor} {op} under {fault}"
    marker = f"xo{op}{fault}{uuid.uuid4().hex[:8]}"
    change, ref = await case.queue(op, marker)
    # before the outbox's background send starts; a late write is held until it lands
    case.witness.armed.append("held" if fault == "late" else fault)
    session = crm.adapter(vendor).session
    session.timeout = TIMEOUT  # short only here: a busy machine may be slow to answer
    try:
        await crm.outbox.flush(vendor)
        await crm.outbox.wait_idle()
    finally:
        session.timeout = None
    first = crm.store.get_change(change.id)
    assert first is not None and first.state is ChangeState.FAILED, (where, first)
    assert crm.store.maybe_sent(change.id), where
    assert not case.witness.armed, f"{where}: the write was never sent"

    crm.outbox.wake(vendor)
    await crm.outbox.flush(vendor)
    await crm.outbox.wait_idle()
    after = crm.store.get_change(change.id)
    assert after is not None
    adapter = crm.adapter(vendor)
    if op == "note" and not adapter.notes_listed:
        assert after.state is ChangeState.UNCERTAIN, (where, after)
        crm.outbox.wake(vendor)
        await crm.outbox.flush(vendor)
        assert case.writes(op, marker, ref) == 1, f"{where}: sent again by itself"
        # a late one lands (its text is in the vendor's data); the user sees it and says so
        case.witness.land()
        await eventually(lambda: marker in json.dumps(vars(case.app.state.db), default=str))
        crm.mark_arrived(change.id)
        after = crm.store.get_change(change.id)
        assert after is not None
    assert after.state is ChangeState.DONE, (where, after)
    assert case.writes(op, marker, ref) == 1, f"{where}: {case.writes(op, marker, ref)} writes"
    await case.landed(op, marker, ref)


@pytest.mark.loopback
@pytest.mark.parametrize("vendor", VENDORS)
async def test_lost_and_late_writes_land_once_on_every_vendor(tmp_path: Path, vendor: str) -> None:
    app = sandbox.create_app(vendor, rate_limit=False, now=utcnow())
    witness = Witness(app)
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
    with serving(witness) as origin:
        crm = open_crm(tmp_path / "cache.sqlite3", vendor, origin)
        case = Case(crm, app, witness, vendor)
        crm.outbox.sleep = case.meanwhile
        try:
            for fault in ("lost", "late"):
                for op in ("update", "note", "delete", "create"):
                    await run_case(case, op, fault)
        finally:
            witness.land()  # nothing left held: the server can stop
            await close(crm)


# -- a long send keeps its claim ------------------------------------------------------------


async def test_a_send_longer_than_the_lease_keeps_its_claim(tmp_path: Path) -> None:
    """The sender renews its lease while the request runs: another process that flushes
    meanwhile finds a live claim, recovers nothing and sends nothing."""
    vendor = "freshsales"
    app = sandbox.create_app(vendor, rate_limit=False, now=utcnow())
    witness = Witness(app, slow=1.5)  # five leases long
    origin = f"http://{vendor}.localhost"
    path = tmp_path / "cache.sqlite3"
    sender, other = (open_crm(path, vendor, origin, witness) for _ in range(2))
    for crm in (sender, other):
        crm.outbox.lease = 0.3
    try:
        sender.outbox.paused = True
        ref = (await sender.refresh(vendor, "contact", Query(per_page=5))).records[0].ref
        await sender.fields(vendor, "contact")
        change = await sender.add_note(ref, "A long call about the renewal")
        sender.outbox.paused = False
        loop = asyncio.get_running_loop()
        sending = asyncio.ensure_future(sender.outbox.flush(vendor))
        await eventually(lambda: witness.writes)
        started, looks = loop.time(), 0
        while not sending.done():  # the whole send: five leases long
            assert other.store.recover_stale() == 0
            assert await other.outbox.flush(vendor) == 0
            looks += 1
            await asyncio.wait({sending}, timeout=0.05)
        assert loop.time() - started > 3 * sender.outbox.lease and looks > 3
        assert await sending == 1
        assert witness.count("A long call about the renewal") == 1
        done = other.store.get_change(change.id)
        assert done is not None and done.state is ChangeState.DONE
    finally:
        await close(sender)
        await close(other)


async def test_a_salesforceiq_event_answered_with_a_body_is_not_taken_as_logged(
    rigs: Callable[..., Rig],
) -> None:
    """PUT /events is documented to answer 204 and nothing else: a 200 with a (cut) body
    did not say the event was logged, and events cannot be read back: the user decides."""
    rig = rigs("salesforceiq")
    writes = ArmWrites(rig.app)
    rig.crm.http.mount_app("http://salesforceiq.localhost", writes)
    ref = await rig.some(PLANS["salesforceiq"].browse)
    writes.armed.append("malformed")  # a 200 whose body is cut short; nothing applied
    change = await rig.crm.add_note(ref, "Renewal call booked")
    await rig.settle()
    failed = rig.crm.store.get_change(change.id)
    assert failed is not None and failed.state is ChangeState.FAILED
    assert rig.crm.store.maybe_sent(change.id)
    rig.crm.outbox.wake(rig.vendor)
    await rig.settle()
    waiting = rig.crm.store.get_change(change.id)
    assert waiting is not None and waiting.state is ChangeState.UNCERTAIN
    assert rig.app.state.db.events == []
