"""A ``Crm`` over the ActiveCampaign sandbox, in-process, with the outbox visible.

The ``rig`` fixture (tests/service/conftest.py) builds the service the way
``crmtui.demo.demo_crm`` does (one ``Http``, the sandbox mounted at a ``.localhost``
origin, a SQLite cache file) but with retries that do not sleep and neither side pacing
at 5 requests/second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.soak import VirtualClock
from crmtui import sandbox
from crmtui.http import Http, RateBudget, RateLimiter
from crmtui.model import Change, ChangeState, Query, Record, RecordRef
from crmtui.service import Crm, Event
from crmtui.store import Store
from crmtui.vendors.base import Profile
from tests.helpers.waits import no_sleep

VENDOR = "activecampaign"
ORIGIN = f"http://{VENDOR}.localhost"
PROFILE = "ac-test"
CHECKS = (0.05, 0.2)  # seconds before a check for a write of unknown outcome looks again


class Unreachable(httpx.AsyncBaseTransport):
    """The vendor cannot be reached: every request is refused at connect time."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)


def value_moves(db: Any, deal_id: str) -> list[tuple[str, str]]:
    """(old, new) cents of every value change the ActiveCampaign sandbox logged for a
    deal, oldest first. A dealActivity holds the old value only (``dataId`` is the deal's
    id): the new one is the next change's old value, or the deal's value for the last."""
    olds = [
        a["dataOldval"]
        for a in sorted(db.activities.values(), key=lambda a: int(a["id"]))
        if a["deal"] == deal_id and a["dataType"] == "value"
    ]
    news = [*olds[1:], str(db.deals[deal_id]["value"])] if olds else []
    return list(zip(olds, news, strict=True))


def make_profile(origin: str = ORIGIN, name: str = PROFILE) -> Profile:
    """A profile for the ActiveCampaign sandbox at ``origin``."""
    info = sandbox.info(VENDOR)
    return Profile(
        name=name,
        vendor=VENDOR,
        base_url=origin + info.base_path,
        settings=dict(info.settings),
        secrets=dict(info.secrets),
    )


def unpaced(crm: Crm, profile: str = PROFILE) -> None:
    """Lift the adapter's 5/s pacing (the sandbox's own limit is switched off apart);
    a 429's hold is waited on a ``VirtualClock``, in no real time."""
    adapter = crm.adapter(profile)
    clock = VirtualClock()
    adapter.limiter = RateLimiter(RateBudget(1000, 1), clock=clock, sleep=clock.sleep)
    adapter.session.limiter = adapter.limiter


def build_crm(store: Store, app: Any, *, origin: str = ORIGIN, mount: bool = True) -> Crm:
    """A ``Crm`` with one ActiveCampaign profile; the app mounted in-process at ``origin``."""
    http = Http(sleep=no_sleep)
    if mount:
        http.mount_app(origin, app)
    crm = Crm(store, http, [make_profile(origin)])
    unpaced(crm)
    crm.outbox.check_delays = CHECKS
    app.state.limit.enabled = False
    return crm


async def close_crm(crm: Crm) -> None:
    await crm.close()
    await crm.http.aclose()
    crm.store.close()


@dataclass
class Rig:
    """The service, the sandbox behind it, and every event the service emitted."""

    crm: Crm
    app: Any
    events: list[Event] = field(default_factory=list)

    @property
    def db(self) -> Any:
        """The sandbox's own data: what really reached the vendor."""
        return self.app.state.db

    @property
    def store(self) -> Store:
        return self.crm.store

    def ref(self, id: str, kind: str = "deal") -> RecordRef:
        return RecordRef(profile=PROFILE, kind=kind, id=id)

    def seen(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def value_moves(self, deal_id: str) -> list[tuple[str, str]]:
        """(old, new) cents of every value change the sandbox logged for a deal."""
        return value_moves(self.db, deal_id)

    def writes(self) -> list[str]:
        """Every write request the service sent, as "METHOD path"."""
        return [
            f"{e.method} {e.path}" for e in self.crm.http.log.recent(PROFILE) if e.method != "GET"
        ]

    def offline(self) -> None:
        """Unplug the vendor: connections are refused."""
        self.crm.http.transport.mount(ORIGIN, Unreachable())

    def online(self) -> None:
        self.crm.http.mount_app(ORIGIN, self.app)

    async def settle(self) -> None:
        """Send what is due and wait for the background sends to finish."""
        await self.crm.outbox.flush(PROFILE)
        await self.crm.outbox.wait_idle()

    def change(self, change: Change) -> Change:
        """The change as the store has it now."""
        stored = self.store.get_change(change.id)
        assert stored is not None, "the change left the outbox"
        return stored

    def pending(self) -> list[Change]:
        return [c for c in self.crm.changes(PROFILE) if c.state is not ChangeState.DONE]

    async def open_deal(self, status: str = "0") -> Record:
        """Cache the deals (and their fields) and return one open deal, as cached."""
        await self.crm.refresh(PROFILE, "deal", Query(per_page=100))
        await self.crm.fields(PROFILE, "deal")
        deal_id = next(d["id"] for d in self.db.deals.values() if d["status"] == status)
        record = self.crm.cached(self.ref(deal_id))
        assert record is not None
        return record


def demo_service(vendor: str, tmp_path: Path) -> Crm:
    """The demo's service for one ``vendor`` (its sandbox, a cache under ``tmp_path``),
    retries that do not sleep and no rate pacing."""
    return demo_with_data(vendor, tmp_path)[0]


def demo_with_data(vendor: str, tmp_path: Path) -> tuple[Crm, Any]:
    """``demo_service`` and its sandbox's own data (``app.state.db``)."""
    from crmtui.ui.launch import demo_crm  # the demo's wiring lives with the app

    crm, demos = demo_crm(
        vendors=[vendor],
        store_path=tmp_path / "c.sqlite3",
        http=Http(sleep=no_sleep),
        rate_limits=False,
    )
    return crm, demos[0].app.state.db
