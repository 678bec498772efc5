"""Restart safety: crmtui killed with SIGKILL loses no queued edit and applies none twice.

A subprocess (``python -c``, entry point ``child``) opens the cache file, queues edits
and is killed either right after queueing or while a change is being sent (the sandbox,
served by this process over loopback, applies the write and then holds the reply).
Reopening the file must find it sound, every edit queued, and a flush must apply each
edit to the sandbox exactly once.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmtui import sandbox
from crmtui.http import Http
from crmtui.model import Change, ChangeOp, ChangeState, Query, RecordRef, utcnow
from crmtui.sandbox.serve import serving
from crmtui.service import Crm
from crmtui.store import Store
from crmtui.store.outbox import INTERRUPTED
from tests.helpers.processes import WAIT, kill, running
from tests.helpers.service import (
    ORIGIN,
    PROFILE,
    VENDOR,
    build_crm,
    close_crm,
    make_profile,
    unpaced,
)
from tests.helpers.service import value_moves as moves_of

# -- the subprocess ----------------------------------------------------------------------


def child() -> None:
    """Subprocess entry point: ``sys.argv[1]`` is the job (see ``_child``)."""
    asyncio.run(_child(json.loads(sys.argv[1])))


async def _child(job: dict[str, Any]) -> None:
    """Queue the job's edits (and create), print their ids, send if asked, then wait."""
    crm = Crm(Store(job["path"]), Http(), [make_profile(job["origin"])])
    unpaced(crm)
    crm.outbox.paused = not job["send"]
    ids: list[str] = []
    for deal_id, amount in job["edits"]:
        ref = RecordRef(profile=PROFILE, kind="deal", id=deal_id)
        change = await crm.edit(ref, {"amount": amount})
        assert change is not None
        ids.append(change.id)
    for deal_id, text in job.get("notes", []):
        ref = RecordRef(profile=PROFILE, kind="deal", id=deal_id)
        ids.append((await crm.add_note(ref, text)).id)
    if job.get("create"):
        new = RecordRef(profile=PROFILE, kind="deal", id="new")
        created = crm.store.enqueue(Change(ref=new, op=ChangeOp.CREATE, values=job["create"]))
        ids.append(created.id)
        crm.outbox.kick(PROFILE)
    print(json.dumps(ids), flush=True)
    await asyncio.Event().wait()  # until killed


def queued_ids(proc: subprocess.Popen[str]) -> list[str]:
    """The change ids the child printed once its edits were queued."""
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline()
    if not line:
        raise AssertionError(f"the child failed: {proc.stderr.read()}")
    return list(json.loads(line))


# -- a sandbox that applies a write and then never answers ----------------------------


class Stall:
    """Wraps the sandbox: one request (method, path) is applied, then its reply is held."""

    def __init__(self, app: ASGIApp, method: str, path: str) -> None:
        self.app = app
        self.method = method
        self.path = path
        self.reached = threading.Event()
        self.release = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) != (self.method, self.path):
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        self.reached.set()
        while not self.release.is_set():
            await asyncio.sleep(0.02)
        for message in held:
            await send(message)


def killed_while_sending(app: Any, stall: Stall, job: dict[str, Any]) -> list[str]:
    """Run ``job`` against ``app`` over loopback; kill the child once the write landed."""
    with serving(stall) as origin:
        try:
            with running({**job, "origin": origin, "send": True}, __name__) as proc:
                ids = queued_ids(proc)
                if not stall.reached.wait(WAIT):
                    raise AssertionError("the change was never sent")
                kill(proc)
        finally:
            stall.release.set()  # before the server stops, so it need not wait for it
    return ids


# -- fixtures --------------------------------------------------------------------------


@pytest.fixture
def app() -> Any:
    made = sandbox.create_app(VENDOR, seed=0)
    made.state.limit.enabled = False
    return made


@pytest.fixture
async def cache(tmp_path: Path, app: Any) -> Path:
    """A cache file holding the first 100 deals and the deal fields, then closed."""
    path = tmp_path / "cache.sqlite3"
    crm = build_crm(Store(path), app)
    await crm.refresh(PROFILE, "deal", Query(per_page=100))
    await crm.fields(PROFILE, "deal")
    await close_crm(crm)
    return path


def states_on_disk(path: Path) -> dict[str, str]:
    """The outbox as the killed process left it, read before any recovery."""
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT id, state FROM outbox").fetchall())
    finally:
        conn.close()


def open_deals(app: Any, count: int) -> list[str]:
    found = [d["id"] for d in app.state.db.deals.values() if d["status"] == "0"]
    return found[:count]


def value_moves(app: Any, deal_id: str) -> list[tuple[str, str]]:
    return moves_of(app.state.db, deal_id)


async def reopened(path: Path, app: Any) -> Crm:
    """The app started again on the same file, with the sandbox reachable in-process."""
    crm = build_crm(Store(path), app, origin=ORIGIN)
    assert crm.store.integrity_check() == "ok"
    return crm


# -- the tests -------------------------------------------------------------------------


async def test_killed_right_after_queueing_loses_nothing(cache: Path, app: Any) -> None:
    first, second = open_deals(app, 2)
    edits = [(first, "1000"), (first, "2000"), (second, "3000")]
    moves = {d: len(value_moves(app, d)) for d in (first, second)}
    # The child never reaches the vendor (it only queues): a loopback port nobody serves.
    job = {"path": str(cache), "origin": "http://127.0.0.1:9", "send": False, "edits": edits}
    with running(job, __name__) as proc:
        ids = queued_ids(proc)
        kill(proc)
    assert states_on_disk(cache) == dict.fromkeys(ids, "pending")

    crm = await reopened(cache, app)
    try:
        assert [c.id for c in crm.changes(PROFILE)] == ids
        assert crm.queued(PROFILE) == 3
        assert (
            crm.cached(RecordRef(profile=PROFILE, kind="deal", id=first)).fields["amount"]
            == "2000.00"
        )
        await crm.outbox.flush(PROFILE)
        await crm.outbox.wait_idle()
        assert crm.queued() == 0
        db = app.state.db
        assert (db.deals[first]["value"], db.deals[second]["value"]) == ("200000", "300000")
        assert value_moves(app, first)[moves[first] :][1:] == [("100000", "200000")]
        assert len(value_moves(app, first)) == moves[first] + 2
        assert len(value_moves(app, second)) == moves[second] + 1
    finally:
        await close_crm(crm)


@pytest.mark.loopback
async def test_an_update_killed_while_sending_is_applied_once(cache: Path, app: Any) -> None:
    (deal,) = open_deals(app, 1)
    moves = len(value_moves(app, deal))
    stall = Stall(app, "PUT", f"/api/3/deals/{deal}")
    job = {"path": str(cache), "edits": [(deal, "4242")]}
    (change_id,) = killed_while_sending(app, stall, job)
    assert app.state.db.deals[deal]["value"] == "424200"  # it landed; the reply was lost
    assert states_on_disk(cache) == {change_id: "sending"}

    crm = await reopened(cache, app)
    try:
        change = crm.store.get_change(change_id)
        assert change is not None and change.state is ChangeState.PENDING
        assert change.last_error == INTERRUPTED and crm.store.maybe_sent(change_id)
        assert [c.id for c in crm.store.sendable(PROFILE, utcnow())] == [change_id]
        await crm.outbox.flush(PROFILE)
        await crm.outbox.wait_idle()
        assert crm.store.get_change(change_id).state is ChangeState.DONE  # type: ignore[union-attr]
        assert app.state.db.deals[deal]["value"] == "424200"
        assert len(value_moves(app, deal)) == moves + 1
        assert [e for e in crm.http.log.recent(PROFILE) if e.method == "PUT"] == []  # checked
    finally:
        await close_crm(crm)


@pytest.mark.loopback
async def test_a_note_killed_while_sending_is_found_not_posted_again(cache: Path) -> None:
    """The check reads the deal's timeline: the note is there, made after it was queued."""
    live = sandbox.create_app(VENDOR, seed=0, now=utcnow())  # the vendor's clock: now
    live.state.limit.enabled = False
    (deal,) = open_deals(live, 1)
    text = "Agreed on a pilot; contract next week"
    stall = Stall(live, "POST", f"/api/3/deals/{deal}/notes")
    job = {"path": str(cache), "edits": [], "notes": [(deal, text)]}
    (change_id,) = killed_while_sending(live, stall, job)
    made = [n for n in live.state.db.notes.values() if n.get("note") == text]
    assert len(made) == 1  # it landed; the reply was lost
    assert states_on_disk(cache) == {change_id: "sending"}

    crm = await reopened(cache, live)
    try:
        assert crm.store.maybe_sent(change_id)
        await crm.outbox.flush(PROFILE)
        await crm.outbox.wait_idle()
        assert crm.store.get_change(change_id).state is ChangeState.DONE  # type: ignore[union-attr]
        assert len([n for n in live.state.db.notes.values() if n.get("note") == text]) == 1
        assert [e for e in crm.http.log.recent(PROFILE) if e.method == "POST"] == []
        ref = RecordRef(profile=PROFILE, kind="deal", id=deal)
        assert [a.who for a in await crm.timeline(ref)].count("you (queued)") == 0
    finally:
        await close_crm(crm)


@pytest.mark.loopback
async def test_a_create_killed_while_sending_makes_no_duplicate(cache: Path, app: Any) -> None:
    title = "Replay-safe pilot"
    stall = Stall(app, "POST", "/api/3/deals")
    job = {
        "path": str(cache),
        "edits": [],
        "create": {"name": title, "amount": "5000.00", "contact": "1"},
    }
    (change_id,) = killed_while_sending(app, stall, job)
    made = [d for d in app.state.db.deals.values() if d["title"] == title]
    assert len(made) == 1  # it landed; the reply was lost
    assert states_on_disk(cache) == {change_id: "sending"}

    crm = await reopened(cache, app)
    try:
        placeholder = RecordRef(profile=PROFILE, kind="deal", id=f"local:{change_id}")
        assert crm.cached(placeholder) is not None
        await crm.outbox.flush(PROFILE)
        await crm.outbox.wait_idle()
        assert crm.store.get_change(change_id).state is ChangeState.DONE  # type: ignore[union-attr]
        assert [d["id"] for d in app.state.db.deals.values() if d["title"] == title] == [
            made[0]["id"]
        ]
        assert crm.cached(placeholder) is None
        real = crm.cached(RecordRef(profile=PROFILE, kind="deal", id=made[0]["id"]))
        assert real is not None and real.title == title and real.fields["amount"] == "5000.00"
    finally:
        await close_crm(crm)
