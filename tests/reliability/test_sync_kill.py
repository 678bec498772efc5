"""kill -9 during a sync: the cache file stays sound and the next sync resumes.

A subprocess syncs Freshsales contacts (10 a page, the sandbox slowed a little) into a
cache file against a sandbox served over loopback by this process. Once the saved sync
state shows a few pages, the subprocess is killed with SIGKILL. Reopened, the file
passes ``PRAGMA integrity_check``; a new sync continues from the saved page (fewer
requests than a full sync) and ends with every contact exactly once in the cache.
"""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks.soak import no_sleep, profile_for, unpace
from crmtui import sandbox
from crmtui.http import Http
from crmtui.sandbox.faults import Faults
from crmtui.sandbox.serve import serving
from crmtui.service import Crm
from crmtui.store import Store
from tests.helpers.processes import WAIT, kill, running

VENDOR, KIND, PER_PAGE = "freshsales", "contact", 10
KILL_AFTER = 3  # pages saved before the kill


def child() -> None:
    """Subprocess entry point: sync ``sys.argv[1]``'s job until killed."""
    asyncio.run(_child(json.loads(sys.argv[1])))


async def _child(job: dict[str, Any]) -> None:
    profile = profile_for(VENDOR, job["origin"])
    profile.rate_scale = 1000.0  # the documented 1000/hour would make this test an hour
    crm = Crm(Store(job["path"]), Http(), [profile])
    print("[]", flush=True)
    await crm.sync(VENDOR, [KIND], per_page=PER_PAGE)
    await asyncio.Event().wait()  # the test kills before the sync ends


def saved_pages(path: Path) -> int:
    """Pages the running sync has saved so far (0 before the first)."""
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        row = conn.execute(
            "SELECT data FROM sync_state WHERE profile = ? AND kind = ?", (VENDOR, KIND)
        ).fetchone()
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0
    finally:
        conn.close()
    return int(json.loads(row[0]).get("run", {}).get("pages", 0)) if row else 0


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.loopback
async def test_a_sync_killed_mid_way_resumes_and_stores_each_record_once(
    tmp_path: Path,
) -> None:
    app = sandbox.create_app(VENDOR, rate_limit=False, faults=Faults(latency=0.05))
    path = tmp_path / "cache.sqlite3"
    with serving(app) as origin, running({"path": str(path), "origin": origin}, __name__) as proc:
        assert proc.stdout is not None and proc.stdout.readline(), "the child failed"
        deadline = time.monotonic() + WAIT
        while saved_pages(path) < KILL_AFTER:
            assert proc.poll() is None, "the child died before it was killed"
            assert time.monotonic() < deadline, "the sync never got going"
            await asyncio.sleep(0.02)
        kill(proc)
    killed_at = saved_pages(path)
    contacts = len(app.state.db.contacts)
    assert killed_at < math.ceil(contacts / PER_PAGE), "the sync ended before the kill"

    assert integrity(path) == "ok"
    app.state.faults.update({"latency": 0.0})
    http = Http(sleep=no_sleep)
    http.mount_app(f"http://{VENDOR}.localhost", app)
    crm = Crm(Store(path), http, [profile_for(VENDOR, f"http://{VENDOR}.localhost")])
    unpace(crm)
    try:
        (result,) = await crm.sync(VENDOR, [KIND], per_page=PER_PAGE)
        full = 1 + math.ceil(contacts / PER_PAGE)  # the plan's request, then every page
        assert result.resumed and result.requests < full
        assert result.records == contacts  # counted with the pages read before the kill
        cached = crm.window(VENDOR, KIND, offset=0, limit=contacts + 50)
        ids = [r.id for r in cached]
        assert len(ids) == len(set(ids)) == contacts
        assert set(ids) == {str(key) for key in app.state.db.contacts}
        assert crm.store.integrity_check() == "ok"
    finally:
        await crm.close()
        await http.aclose()
        crm.store.close()
