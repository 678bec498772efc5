"""Lost replies: the vendor applied a create, the answer never came; no second record.

The ``lost`` fault lets the sandbox apply the request in full and then drops the
connection before the reply. The client cannot retry a POST that may have landed, so
the change fails; flushed again, the adapter must find its own earlier result (an
idempotency key where the vendor has one, a look-up where it has none) instead of
posting a duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks.soak import PLANS, VENDORS, no_sleep, profile_for, rows_with, unpace
from crmtui import sandbox
from crmtui.http import Http
from crmtui.model import ChangeState, Query, RecordRef
from crmtui.sandbox.serve import serving
from crmtui.service import Crm
from crmtui.store import Store
from tests.helpers.reliability import KNOWN_GAPS, ArmWrites, Rig, queue_create


async def lost_then_flushed(crm: Crm, vendor: str, app: Any, writes: ArmWrites) -> None:
    """A create whose reply is lost, then sent again: exactly one record, in the cache too."""
    plan, db = PLANS[vendor], app.state.db
    await crm.refresh(vendor, plan.browse, Query(per_page=5))  # logged in, fields known
    marker = f"lost reply {vendor}"
    writes.armed.append("lost")
    change = await queue_create(crm, vendor, db, marker)
    await crm.outbox.flush(vendor)
    await crm.outbox.wait_idle()
    assert not writes.armed, f"{vendor}: the create was never sent"
    landed = rows_with(plan.create_rows(db), marker)
    assert len(landed) == 1, f"{vendor}: the write was not applied before the drop"
    first = crm.store.get_change(change.id)
    assert first is not None and first.state is ChangeState.FAILED
    assert first.last_error and "connection was dropped" in first.last_error

    crm.outbox.wake(vendor)
    await crm.outbox.flush(vendor)
    await crm.outbox.wait_idle()
    done = crm.store.get_change(change.id)
    assert done is not None and done.state is ChangeState.DONE, done and done.last_error
    assert rows_with(plan.create_rows(db), marker) == landed, f"{vendor}: a duplicate"
    assert crm.cached(change.ref) is None  # the placeholder became the vendor's record
    real = RecordRef(profile=vendor, kind=plan.create_kind, id=str(landed[0]))
    assert crm.cached(real) is not None


@pytest.mark.parametrize(
    "vendor",
    [
        pytest.param(v, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[v]))
        if v in KNOWN_GAPS
        else v
        for v in VENDORS
    ],
)
async def test_a_create_whose_reply_is_lost_lands_once(
    rigs: Callable[..., Rig], vendor: str
) -> None:
    rig = rigs(vendor)
    writes = ArmWrites(rig.app)
    rig.crm.http.mount_app(f"http://{vendor}.localhost", writes)
    await lost_then_flushed(rig.crm, vendor, rig.app, writes)


@pytest.mark.loopback
@pytest.mark.parametrize("vendor", ["freshsales", "salesseek"])
async def test_a_reply_lost_over_real_http_is_a_dropped_connection(
    tmp_path: Path, vendor: str
) -> None:
    app = sandbox.create_app(vendor, rate_limit=False)
    writes = ArmWrites(app)
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)  # the drop is the point
    with serving(writes) as origin:
        http = Http(sleep=no_sleep)
        crm = Crm(Store(tmp_path / "cache.sqlite3"), http, [profile_for(vendor, origin)])
        unpace(crm)
        try:
            await lost_then_flushed(crm, vendor, app, writes)
        finally:
            await crm.close()
            await http.aclose()
            crm.store.close()
