"""The vendors' contracts, held over every request an adapter sends in the tests.

:func:`watching` wraps the transport every :class:`crmtui.http.Http` reaches a sandbox
through (``RoutingTransport``, in-process or over loopback): each request to a sandbox
that follows a contract (``crmtui/sandbox/<vendor>/contract.py``) is checked with the
same :meth:`Contract.check` the sandbox enforces with, and every rule broken is kept.
The autouse ``vendor_contracts`` fixture in ``tests/conftest.py`` fails the test that
sent it, naming the vendor, the request and the rule.

:data:`KNOWN_DRIFTS` is the explicit allowlist of what our adapters still send outside
the contracts; each names the issue point that removes it. A test that must send an
off-contract request on purpose (a sandbox test probing the vendor's error) says so with
``@pytest.mark.off_contract``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from crmtui import sandbox
from crmtui.http import Http
from crmtui.http.client import RoutingTransport
from crmtui.sandbox import contract as contracts
from crmtui.sandbox.contract import Contract, Drift, Violation, parse_body

KNOWN_DRIFTS: tuple[tuple[str, Drift], ...] = (
    # (vendor, Drift(method, endpoint template, parameter/field/path, issue point)); an
    # empty endpoint means the path itself is undocumented. Empty: every adapter keeps
    # to its vendor's contract (issue 14).
)
"""Named allowlist of current adapter drifts: (vendor, Drift(method, endpoint, name, point))."""


@dataclass
class Watch:
    """Every rule broken by a request sent through an ``Http`` while watching."""

    broken: list[Violation] = field(default_factory=list)
    tolerated: list[Violation] = field(default_factory=list)

    def report(self) -> str:
        lines = [f"  {v}" for v in dict.fromkeys(self.broken)]
        return "requests outside the vendor's contract:\n" + "\n".join(lines)


def allowed(vendor: str, v: Violation) -> bool:
    """Whether ``v`` is a known adapter drift (:data:`KNOWN_DRIFTS`)."""
    return any(name == vendor and drift.covers(v) for name, drift in KNOWN_DRIFTS)


def contract_of(transport: RoutingTransport, url: httpx.URL) -> Contract | None:
    """The contract of the sandbox ``url`` reaches: its mounted app's, or the one last
    served at that host and port (a loopback sandbox in this process)."""
    mounted = transport._mounts.get(_origin(url))
    app: Any = getattr(mounted, "app", None)
    while app is not None:
        state = getattr(app, "state", None)
        found = getattr(state, "contract", None) if state is not None else None
        if isinstance(found, Contract):
            return found
        app = getattr(app, "app", None)
    if mounted is not None:
        return None
    port = url.port or (443 if url.scheme == "https" else 80)
    return contracts.SERVED.get(f"{url.host}:{port}".lower())


def _origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii')}".rstrip("/").lower()


def violations(c: Contract, request: httpx.Request) -> list[Violation]:
    """What ``request`` breaks of ``c`` (its body read as the sandbox reads it)."""
    body: Any = None
    if request.method in ("POST", "PUT", "PATCH"):
        content = request.content
        body = parse_body(request.headers.get("content-type", ""), content)
        if body is None and content[:1] in (b"{", b"["):
            body = json.loads(content)
    return c.check(request.method, request.url.path, request.url.params.multi_items(), body)


@contextmanager
def watching() -> Iterator[Watch]:
    """Check every request sent through any ``Http`` against its sandbox's contract."""
    watch = Watch()
    original = RoutingTransport.handle_async_request

    async def checked(self: RoutingTransport, request: httpx.Request) -> httpx.Response:
        response = await original(self, request)
        c = contract_of(self, request.url)
        if c is not None:
            for v in violations(c, request):
                (watch.tolerated if allowed(c.vendor, v) else watch.broken).append(v)
        return response

    RoutingTransport.handle_async_request = checked  # type: ignore[method-assign]
    contracts.SERVED.clear()
    try:
        yield watch
    finally:
        RoutingTransport.handle_async_request = original  # type: ignore[method-assign]


@asynccontextmanager
async def signed_in(
    vendor: str, headers: dict[str, str], login: dict[str, str] | None = None, app: Any = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client reaching ``vendor``'s sandbox (``app``, or a new one without rate limit)
    through crmtui's own transport, so the contract watch sees every request, signed in
    with ``headers`` (and ``login`` posted to SalesSeek's ``/api/login``)."""
    client = Http()
    origin = f"http://{vendor}.localhost"
    client.mount_app(origin, app or sandbox.create_app(vendor, rate_limit=False))
    http = client.client
    http.base_url = httpx.URL(origin)
    http.headers.update(headers)
    if login:  # crmtui's client keeps no cookie jar: the session cookie by hand
        answer = await http.post("/api/login", data=login)
        assert answer.status_code == 200
        http.headers["Cookie"] = answer.headers["set-cookie"].split(";", 1)[0]
    try:
        yield http
    finally:
        await client.aclose()
