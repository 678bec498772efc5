"""A vendor adapter wired to its sandbox, in-process or over loopback (the ``wire`` fixture)."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from benchmarks.soak import VirtualClock
from crmtui import sandbox, vendors
from crmtui.http import Http, RateLimiter
from crmtui.sandbox.faults import Faults
from crmtui.sandbox.serve import serving
from crmtui.vendors.base import Profile, Vendor
from tests.helpers.waits import no_sleep


class SandboxTime(VirtualClock):
    """The adapter's rate limiter and its sandbox on one clock that a wait moves on at
    once: the client's pacing and a 429's hold cost no real time, and the sandbox's own
    rate limit (and its clock) sees the time they stand for, real time passing too."""

    def __init__(self, app: Any) -> None:
        super().__init__()
        self.app = app

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds)
        clock = getattr(self.app.state, "clock", None)
        if clock is not None:
            clock.anchor += timedelta(seconds=seconds)


def on_sandbox_time(adapter: Vendor, app: Any) -> None:
    """``adapter``'s rate limiter (same budget) waits on a ``SandboxTime`` of ``app``."""
    clock = SandboxTime(app)
    adapter.limiter = RateLimiter(adapter.limiter.budget, clock=clock, sleep=clock.sleep)
    if adapter.has_session:
        adapter.session.limiter = adapter.limiter


@dataclass
class Wired:
    """An adapter talking to a sandbox; ``db`` is the sandbox's own data."""

    adapter: Vendor
    app: Any
    http: Http
    origin: str

    @property
    def db(self) -> Any:
        return self.app.state.db

    @property
    def faults(self) -> Faults:
        return self.app.state.faults


def wire(
    stack: ExitStack,
    vendor: str,
    *,
    transport: str = "asgi",
    real_sleep: bool = False,
    http_options: dict[str, Any] | None = None,
    profile_name: str | None = None,
    **sandbox_options: Any,
) -> Wired:
    """``vendor``'s adapter on its sandbox; a loopback server stays up until ``stack``
    closes. Retries and rate-limit waits are not slept unless ``real_sleep``: the
    limiter waits on a ``SandboxTime``, the sandbox's limit sees the time it waited."""
    info = sandbox.info(vendor)
    app = sandbox.create_app(vendor, **sandbox_options)
    options = dict(http_options or {})
    if not real_sleep:
        options.setdefault("sleep", no_sleep)
    http = Http(**options)
    if transport == "asgi":
        origin = f"http://{vendor}.localhost"
        http.mount_app(origin, app)
    elif transport == "loopback":
        origin = stack.enter_context(serving(app))
    else:
        raise ValueError(transport)
    profile = Profile(
        name=profile_name or f"{vendor}-test",
        vendor=vendor,
        base_url=origin + info.base_path,
        settings=dict(info.settings),
        secrets=dict(info.secrets),
    )
    adapter = vendors.load(vendor)(profile, http)
    if not real_sleep:
        on_sandbox_time(adapter, app)
    return Wired(adapter=adapter, app=app, http=http, origin=origin)
