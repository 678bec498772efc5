"""A ``Crm`` over any one vendor sandbox, in-process, for the reliability tests.

The ``rigs`` fixture (tests/reliability/conftest.py) builds ``Rig``s with ``build``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from benchmarks.soak import PLANS, Plan, no_sleep, profile_for, unpace
from crmtui import sandbox
from crmtui.http import Http
from crmtui.model import Change, ChangeOp, Query, RecordRef, utcnow
from crmtui.service import Crm
from crmtui.store import Store

# Seconds before a check for a write of unknown outcome looks again. In-process a write
# the client gave up on never lands later (the timeout cancels the sandbox's task), so
# the first look already finds the truth; loopback tests with late writes set their own.
CHECKS = (0.01, 0.03)

# Vendors whose create a lost reply still duplicates (strict xfails: they flip when fixed).
# None now: SalesforceIQ looks among recently modified records before posting again.
KNOWN_GAPS: dict[str, str] = {}


def grant(vendor: str, app: Any, secrets: dict[str, str], settings: dict[str, str]) -> None:
    """Make the sandbox accept ``secrets`` as well as its defaults (same user)."""
    db = app.state.db
    if vendor == "freshsales":
        db.api_keys[secrets["api_key"]] = db.api_keys["sandbox"]
    elif vendor == "salesseek":
        db.passwords[settings["email"].lower()] = secrets["password"]
    elif vendor == "salesloft":
        db.tokens[secrets["api_key"]] = 1
    elif vendor == "activecampaign":
        db.tokens[secrets["api_key"]] = db.tokens.get("sandbox", "1")
    elif vendor == "salesforceiq":
        db.keys[secrets["api_key"]] = secrets["api_secret"]
    else:
        raise KeyError(vendor)


_SEEDED: list[datetime] = []
RESEED = timedelta(minutes=5)


def seeded_at() -> datetime:
    """The time the rigs' sandbox accounts are seeded at: one for the process, so each
    account is built once and copied (``tests.helpers.seeds``; one built at each test's
    own time was built again for every test), renewed after ``RESEED`` and on a new
    UTC day. The sandbox's clock still reads the real time: an account idle a while."""
    now = utcnow()
    if not _SEEDED or now - _SEEDED[0] > RESEED or now.date() != _SEEDED[0].date():
        _SEEDED[:] = [now]
    return _SEEDED[0]


@dataclass
class Rig:
    """One vendor's sandbox, and the service in front of it."""

    vendor: str
    app: Any
    crm: Crm

    @property
    def plan(self) -> Plan:
        return PLANS[self.vendor]

    @property
    def label(self) -> str:
        return self.crm.adapter(self.vendor).label

    def fault(self, *names: str, **settings: Any) -> None:
        self.app.state.faults.update({"next": list(names), **settings})

    def repair(self) -> None:
        """Faults off; credentials a fault revoked are given back (as a user would)."""
        self.app.state.faults.update({"next": [], "latency": 0.0})
        profile = self.crm.adapter(self.vendor).profile
        grant(self.vendor, self.app, profile.secrets or {}, profile.settings or {})

    def update_of(self, ref: RecordRef, value: Any) -> Change:
        """An update of the plan's edit field of cached ``ref`` to ``value``, based on the
        cached version (as an edit in the app would be)."""
        record = self.crm.store.get_record(ref)
        assert record is not None
        field = self.plan.edit_field
        return Change(
            ref=ref,
            op=ChangeOp.UPDATE,
            values={field: value},
            base={field: record.fields.get(field)},
            base_updated_at=record.updated_at,
        )

    def ref(self, id: str, kind: str | None = None) -> RecordRef:
        return RecordRef(profile=self.vendor, kind=kind or self.plan.edit_kind, id=id)

    async def some(self, kind: str | None = None) -> RecordRef:
        """A record of ``kind`` (default: the edited kind), cached with its fields."""
        kind = kind or self.plan.edit_kind
        page = await self.crm.refresh(self.vendor, kind, Query(per_page=5))
        await self.crm.fields(self.vendor, kind)
        return self.ref(page.records[0].id, kind)

    async def settle(self) -> None:
        await self.crm.outbox.flush(self.vendor)
        await self.crm.outbox.wait_idle()


def build(
    vendor: str,
    path: Path,
    *,
    secrets: dict[str, str] | None = None,
    http: Http | None = None,
    **sandbox_options: Any,
) -> Rig:
    """The sandbox mounted at ``http://<vendor>.localhost``, a cache file at ``path``."""
    if "now" in sandbox_options:
        app = sandbox.create_app(vendor, rate_limit=False, **sandbox_options)
    else:  # an account seeded a moment ago (built once: tests.helpers.seeds), and...
        app = sandbox.create_app(vendor, rate_limit=False, now=seeded_at(), **sandbox_options)
        app.state.clock.anchor = utcnow()  # ...a vendor's clock is the real time
    http = http or Http(sleep=no_sleep)
    origin = f"http://{vendor}.localhost"
    http.mount_app(origin, app)
    profile = profile_for(vendor, origin)
    if secrets:
        profile.secrets = dict(secrets)
        grant(vendor, app, secrets, profile.settings or {})
    crm = Crm(Store(path), http, [profile])
    unpace(crm, virtual=True)
    crm.outbox.check_delays = CHECKS
    return Rig(vendor, app, crm)


async def close(rig: Rig) -> None:
    await rig.crm.close()
    await rig.crm.http.aclose()
    rig.crm.store.close()


class ArmWrites:
    """In front of a sandbox: the next write request (not GET) gets the armed fault."""

    def __init__(self, app: Any) -> None:
        self.app: ASGIApp = app
        self.armed: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != "GET" and self.armed:
            self.app.state.faults.next.appendleft(self.armed.pop(0))  # type: ignore[attr-defined]
        await self.app(scope, receive, send)


async def queue_create(crm: Crm, vendor: str, db: Any, marker: str) -> Change:
    """Queue the vendor's soak create (as the user would, or as is when it must be)."""
    plan = PLANS[vendor]
    values = plan.create_values(marker, db)
    if plan.direct:
        ref = RecordRef(profile=vendor, kind=plan.create_kind, id="new")
        change = crm.store.enqueue(Change(ref=ref, op=ChangeOp.CREATE, values=values))
        crm.outbox.kick(vendor)
        return change
    await crm.fields(vendor, plan.create_kind)
    return await crm.create(vendor, plan.create_kind, values)
