"""Cookies are per profile: one profile's session cookie never goes to another server.

Two SalesSeek accounts (cookie sessions) on two loopback ports of one host, and a
Freshsales sandbox on a third, all through one shared ``Http``: cookies ignore ports, so
a shared cookie jar would hand one account's session to the others.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from benchmarks.soak import no_sleep, profile_for
from crmtui import sandbox, vendors
from crmtui.http import Http
from crmtui.model import Query
from crmtui.sandbox.serve import serving
from tests.helpers.reliability import grant


class Cookies:
    """In front of a sandbox: records the cookies it sets and those it is sent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: set[str] = set()  # cookie values that came with requests
        self.issued: set[str] = set()  # cookie values this server set

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"cookie":
                self.seen |= {p.partition("=")[2] for p in value.decode().split(";")}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                for name, value in message.get("headers", []):
                    if name.lower() == b"set-cookie":
                        self.issued.add(value.decode().split(";")[0].partition("=")[2])
            await send(message)

        await self.app(scope, receive, sending)


@pytest.mark.loopback
async def test_a_session_cookie_never_reaches_another_profiles_server() -> None:
    apps = {
        "north": Cookies(sandbox.create_app("salesseek", rate_limit=False)),
        "south": Cookies(sandbox.create_app("salesseek", rate_limit=False, seed=1)),
        "fresh": Cookies(sandbox.create_app("freshsales", rate_limit=False)),
    }
    http = Http(sleep=no_sleep)
    with ExitStack() as stack:
        origins = {name: stack.enter_context(serving(app)) for name, app in apps.items()}
        hosts = {origin.rsplit(":", 1)[0] for origin in origins.values()}
        assert hosts == {"http://127.0.0.1"}  # one host, three ports
        adapters = {}
        for name, app in apps.items():
            vendor = "freshsales" if name == "fresh" else "salesseek"
            profile = profile_for(vendor, origins[name], name=name)
            if vendor == "salesseek":
                profile.secrets = {"password": f"pw-{name}-0123456789"}
                grant(vendor, app.app, profile.secrets, profile.settings or {})
            adapters[name] = vendors.load(vendor)(profile, http)
        try:
            for _ in range(2):
                for name, adapter in adapters.items():
                    kind = "contact"
                    page = await adapter.list_page(kind, Query(per_page=3))
                    assert page.records, name
            for name in ("north", "south"):
                await adapters[name].close()  # logs out: one more request with the cookie
        finally:
            await http.aclose()
    north, south, fresh = apps["north"], apps["south"], apps["fresh"]
    assert north.issued and south.issued and north.seen and south.seen
    assert north.seen <= north.issued, "north was sent a cookie it did not set"
    assert south.seen <= south.issued, "south was sent a cookie it did not set"
    assert not fresh.seen, "the Freshsales server was sent a cookie"
    assert len(http.client.cookies.jar) == 0
