"""Two processes on one cache: a read in flight in one never undoes an edit (nor brings
back a delete) that the other process's outbox sent and saw confirmed meanwhile.

This process reads (a sync, a record's refresh) from the sandbox it serves over
loopback; the vendor answers that read at once and its reply is held (``HeldReply``).
Meanwhile a child process (``python -c``, entry point ``child``) opens the same cache
file, edits or deletes the record, sends it and exits once the vendor confirmed it.
Then the reply is let go: the cache must keep what the vendor confirmed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from crmtui import sandbox
from crmtui.http import Http, NotFound
from crmtui.model import ChangeState, Query, RecordRef
from crmtui.sandbox.serve import serving
from crmtui.service import Crm
from crmtui.store import Store
from tests.helpers.gates import WAIT, HeldReply, Matches
from tests.helpers.processes import running
from tests.helpers.service import PROFILE, VENDOR, build_crm, close_crm, make_profile, unpaced

DEALS = "/api/3/deals"
NOTE = "Agreed on a pilot, contract next week"

# -- the subprocess: the other process, whose outbox sends the change ---------------------


def child() -> None:
    """Subprocess entry point: ``sys.argv[1]`` is the job (see ``_child``)."""
    asyncio.run(_child(json.loads(sys.argv[1])))


async def _child(job: dict[str, Any]) -> None:
    """Edit (or delete) the deal, send it, print its state once the vendor answered."""
    crm = Crm(Store(job["path"]), Http(), [make_profile(job["origin"])])
    unpaced(crm)
    ref = RecordRef(profile=PROFILE, kind="deal", id=job["deal"])
    if job["op"] == "delete":
        change = await crm.delete(ref)
    elif job["op"] == "note":
        change = await crm.add_note(ref, NOTE)
    else:
        made = await crm.edit(ref, {"amount": job["amount"]})
        assert made is not None
        change = made
    await crm.outbox.flush(PROFILE)
    await crm.outbox.wait_idle()
    sent = crm.store.get_change(change.id)
    print(json.dumps(sent.state.value if sent else None), flush=True)
    await crm.close()
    await crm.http.aclose()
    crm.store.close()


# -- the reads this process makes ------------------------------------------------------


def _sync_page(deal_id: str) -> Matches:
    """The sync's first page (not its plan, which asks for one record)."""
    return lambda method, path, query: (
        path == DEALS and "updated_after" in query and ("offset=0" in query)
    )


def _record(deal_id: str) -> Matches:
    return lambda method, path, query: (method, path) == ("GET", f"{DEALS}/{deal_id}")


def _timeline(deal_id: str) -> Matches:
    """The timeline's first request (the child's look at the notes comes after it)."""
    return lambda method, path, query: method == "GET" and path.startswith(f"{DEALS}/{deal_id}/")


READS: dict[str, tuple[Callable[[str], Matches], Callable[[Crm, RecordRef], Awaitable[Any]]]] = {
    "sync": (_sync_page, lambda crm, ref: crm.sync(PROFILE, ["deal"])),
    "record refresh": (_record, lambda crm, ref: crm.get(ref)),
}
TIMELINE = (_timeline, lambda crm, ref: crm.timeline(ref))


@pytest.fixture
def app() -> Any:
    made = sandbox.create_app(VENDOR, seed=0)
    made.state.limit.enabled = False
    return made


Race = Callable[[str, str], Awaitable[tuple[Crm, RecordRef]]]


@pytest.fixture
async def race(tmp_path: Path, app: Any) -> AsyncIterator[Race]:
    """``await race(read, op)``: ``_race`` (this process's service closed afterwards)."""
    opened: list[Crm] = []
    yield lambda read, op: _race(tmp_path, app, read, op, opened)
    for crm in opened:
        await close_crm(crm)


async def _race(
    tmp_path: Path, app: Any, read: str, op: str, opened: list[Crm]
) -> tuple[Crm, RecordRef]:
    """Cache the deals, start ``read`` and hold its reply, let the child send ``op``
    of one deal to its confirmation, let the reply go. Returns this process's service
    (added to ``opened``) and the deal."""
    deal_id = next(d["id"] for d in app.state.db.deals.values() if d["status"] == "0")
    ref = RecordRef(profile=PROFILE, kind="deal", id=deal_id)
    how = TIMELINE if read == "timeline" else READS[read]
    gate = HeldReply(app, how[0](deal_id))
    gate.armed = False
    path = tmp_path / "cache.sqlite3"
    with serving(gate) as origin:
        crm = build_crm(Store(path), app, origin=origin, mount=False)
        opened.append(crm)
        crm.outbox.paused = True  # the other process sends
        try:
            await crm.refresh(PROFILE, "deal", Query(per_page=100))
            await crm.fields(PROFILE, "deal")
            gate.armed = True
            reading = asyncio.ensure_future(how[1](crm, ref))
            await gate.answered()  # the vendor read the deal as it was
            job = {"path": str(path), "origin": origin, "deal": deal_id, "op": op}
            with running({**job, "amount": "4321"}, __name__) as proc:
                assert proc.stdout is not None
                line = await asyncio.to_thread(proc.stdout.readline)
                assert json.loads(line or "null") == ChangeState.DONE.value, proc.stderr
                assert await asyncio.to_thread(proc.wait, WAIT) == 0
        finally:
            gate.release()
        with contextlib.suppress(NotFound):  # a refresh's next requests find it gone
            await reading
    return crm, ref


@pytest.mark.loopback
@pytest.mark.parametrize("read", READS)
async def test_an_edit_confirmed_by_another_process_is_not_undone_by_a_read_in_flight(
    race: Race, app: Any, read: str
) -> None:
    crm, ref = await race(read, "edit")

    assert app.state.db.deals[ref.id]["value"] == "432100"
    cached = crm.cached(ref)
    assert cached is not None and cached.fields["amount"] == "4321.00"
    rows = [r for r in crm.window(PROFILE, "deal", offset=0, limit=1000) if r.id == ref.id]
    assert [r.fields["amount"] for r in rows] == ["4321.00"]


@pytest.mark.loopback
async def test_a_delete_confirmed_by_another_process_is_not_brought_back_by_a_sync(
    race: Race, app: Any
) -> None:
    crm, ref = await race("sync", "delete")

    assert ref.id not in app.state.db.deals
    assert crm.cached(ref) is None
    listed = crm.window(PROFILE, "deal", offset=0, limit=1000)
    assert ref.id not in {r.id for r in listed}
    assert crm.count(PROFILE, "deal") == len(listed)


@pytest.mark.loopback
async def test_a_note_confirmed_by_another_process_is_kept_by_a_timeline_read_in_flight(
    race: Race, app: Any
) -> None:
    crm, ref = await race("timeline", "note")

    assert [n for n in app.state.db.notes.values() if n.get("note") == NOTE]
    assert [a.body for a in crm.cached_timeline(ref) or []].count(NOTE) == 1
