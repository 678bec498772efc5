"""How close a sync runs to a vendor's rate limit without crossing it.

The Freshsales sandbox's fixed window (1000 per hour) is shrunk to ``WindowLimit(20,
2.0)`` and the adapter's limiter to the matching ``RateBudget(20, 2.0)``; a full sync
of contacts in small pages then has to wait on the budget all along. The ratio is the
achieved request rate (requests after the first over the time from the first to the
last, from the request log) over the allowed rate; 429s are counted on both sides.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from crmtui import sandbox
from crmtui.http import Http, RateBudget, RateLimiter
from crmtui.service import Crm
from crmtui.store import Store
from crmtui.vendors.base import Profile

VENDOR = "freshsales"
ORIGIN = f"http://{VENDOR}.localhost"
LIMIT, WINDOW = 20, 2.0


@dataclass
class SyncRate:
    ratio: float
    requests: int
    seconds: float
    rejected: int  # 429s the sandbox sent
    records: int


async def measure(scale: int = 2, per_page: int = 10) -> SyncRate:
    """Sync Freshsales contacts against the shrunk limit; see the module docstring."""
    app = sandbox.create_app(VENDOR, seed=0, scale=scale)
    app.state.limit.limit, app.state.limit.window = LIMIT, WINDOW  # the account's window
    info = sandbox.info(VENDOR)
    http = Http()
    http.mount_app(ORIGIN, app)
    profile = Profile(
        name="rate",
        vendor=VENDOR,
        base_url=ORIGIN + info.base_path,
        settings=dict(info.settings),
        secrets=dict(info.secrets),
    )
    with tempfile.TemporaryDirectory() as folder:
        crm = Crm(Store(Path(folder) / "rate.sqlite3"), http, [profile])
        adapter = crm.adapter(profile.name)
        adapter.limiter = adapter.session.limiter = RateLimiter(RateBudget(LIMIT, WINDOW))
        try:
            (result,) = await crm.sync(profile.name, ["contact"], per_page=per_page)
        finally:
            await crm.close()
            await http.aclose()
            crm.store.close()
    entries = list(http.log.recent(profile.name))
    statuses = [e.status for e in entries]
    span = (entries[-1].at - entries[0].at).total_seconds()
    rate = (len(entries) - 1) / span
    return SyncRate(
        ratio=rate / (LIMIT / WINDOW),
        requests=len(entries),
        seconds=span,
        rejected=max(app.state.limit.rejected, statuses.count(429)),
        records=result.records,
    )
