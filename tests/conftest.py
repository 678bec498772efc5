"""Shared fixtures: a vendor adapter wired to its sandbox, in-process or over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from crmtui import sandbox, vendors
from crmtui.http import Http
from crmtui.sandbox.faults import Faults
from crmtui.sandbox.serve import serving
from crmtui.vendors.base import Profile, Vendor


async def _no_sleep(seconds: float) -> None:
    """Retries and rate-limit waits in tests: recorded, not slept."""
    return None


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


@pytest.fixture
def wire() -> Iterator[Callable[..., Wired]]:
    """``wire("freshsales", transport="asgi"|"loopback", seed=0, faults=Faults(...))``.

    Retries do not really sleep (``Http(sleep=...)``) unless ``real_sleep=True``.
    """
    stack = ExitStack()
    made: list[Http] = []

    def make(
        vendor: str,
        *,
        transport: str = "asgi",
        real_sleep: bool = False,
        http_options: dict[str, Any] | None = None,
        profile_name: str | None = None,
        **sandbox_options: Any,
    ) -> Wired:
        info = sandbox.info(vendor)
        app = sandbox.create_app(vendor, **sandbox_options)
        options = dict(http_options or {})
        if not real_sleep:
            options.setdefault("sleep", _no_sleep)
        http = Http(**options)
        made.append(http)
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
        return Wired(adapter=adapter, app=app, http=http, origin=origin)

    yield make
    stack.close()


@pytest.fixture
async def closing_http() -> AsyncIterator[list[Http]]:
    clients: list[Http] = []
    yield clients
    for client in clients:
        await client.aclose()
