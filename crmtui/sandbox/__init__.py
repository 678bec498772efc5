"""Vendor sandboxes: faithful emulators of each vendor's documented HTTP API.

Each vendor module exposes ``create_app(*, seed=0, scale=1, faults=None,
rate_limit=True, now=None) -> Starlette``. Its data is anchored at ``now`` (default: the
fixed ``Fake.NOW``, so tests and snapshots repeat); the server's clock starts there and
runs in real time (``SandboxClock``). The app keeps its data in ``app.state.db`` (tests read it
to check what really reached the "vendor"), its faults in ``app.state.faults`` and its
server-side rate limit in ``app.state.limit``. This package imports nothing of the
client side: the demo and the tests connect the two.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from crmtui.sandbox.fake import Fake

if TYPE_CHECKING:
    from crmtui.sandbox.faults import Faults


def __getattr__(name: str) -> Any:
    """``Faults`` when first asked for: it imports Starlette and httpx, which every
    ``crmtui`` start paid for when its command line listed the sandboxes."""
    if name == "Faults":
        from crmtui.sandbox.faults import Faults

        return Faults
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class SandboxClock:
    """The sandbox's "now": the data's anchor plus the real time elapsed since start."""

    def __init__(self, anchor: datetime | None = None) -> None:
        self.anchor = anchor or Fake.NOW
        self._started = time.monotonic()

    def __call__(self) -> datetime:
        return self.anchor + timedelta(seconds=time.monotonic() - self._started)


@dataclass(frozen=True)
class SandboxInfo:
    vendor: str
    factory: str  # "module:function"
    base_path: str  # the API root under the server, e.g. "/api/"
    settings: dict[str, str] = field(default_factory=dict)  # profile settings to reach it
    secrets: dict[str, str] = field(default_factory=dict)  # the default credentials


SANDBOXES: dict[str, SandboxInfo] = {
    "freshsales": SandboxInfo(
        "freshsales",
        "crmtui.sandbox.freshsales:create_app",
        "/api/",
        settings={"domain": "sandbox"},
        secrets={"api_key": "sandbox"},
    ),
    "salesseek": SandboxInfo(
        "salesseek",
        "crmtui.sandbox.salesseek:create_app",
        "/api/",
        settings={"client_id": "sandbox", "email": "demo@sandbox.test"},
        secrets={"password": "sandbox"},
    ),
    "salesloft": SandboxInfo(
        "salesloft",
        "crmtui.sandbox.salesloft:create_app",
        "/v2/",
        secrets={"api_key": "sandbox"},
    ),
    "activecampaign": SandboxInfo(
        "activecampaign",
        "crmtui.sandbox.activecampaign:create_app",
        "/api/3/",
        settings={"account": "sandbox"},
        secrets={"api_key": "sandbox"},
    ),
    "salesforceiq": SandboxInfo(
        "salesforceiq",
        "crmtui.sandbox.salesforceiq:create_app",
        "/v2/",
        secrets={"api_key": "sandbox", "api_secret": "sandbox"},
    ),
}


def register(sandbox: SandboxInfo) -> SandboxInfo:
    """Make a sandbox known (a vendor shipped as its own package, or defined by a test):
    ``info``, ``create_app`` and the demo find it. A vendor's name is taken once."""
    taken = SANDBOXES.get(sandbox.vendor)
    if taken is not None and taken != sandbox:
        raise ValueError(f"a sandbox for {sandbox.vendor!r} is already known")
    SANDBOXES[sandbox.vendor] = sandbox
    return sandbox


def available() -> dict[str, SandboxInfo]:
    """Every sandbox: built in, registered, and those of installed packages (the
    ``crmtui.sandboxes`` entry-point group, each naming a ``SandboxInfo``)."""
    for ep in entry_points(group="crmtui.sandboxes"):
        if ep.name not in SANDBOXES:
            found = ep.load()
            if not isinstance(found, SandboxInfo) or found.vendor != ep.name:
                raise TypeError(f"{ep.value} is not the SandboxInfo of {ep.name!r}")
            register(found)
    return SANDBOXES


def info(vendor: str) -> SandboxInfo:
    try:
        return SANDBOXES[vendor] if vendor in SANDBOXES else available()[vendor]
    except KeyError:
        known = ", ".join(sorted(SANDBOXES))
        raise KeyError(f"no sandbox for {vendor!r}; sandboxes: {known}") from None


def create_app(vendor: str, **options: Any) -> Any:
    """Build the named vendor's sandbox app (options: seed, scale, faults, rate_limit)."""
    module, _, attr = info(vendor).factory.partition(":")
    return getattr(import_module(module), attr)(**options)


__all__ = [
    "SANDBOXES",
    "Fake",
    "Faults",
    "SandboxClock",
    "SandboxInfo",
    "available",
    "create_app",
    "info",
    "register",
]
