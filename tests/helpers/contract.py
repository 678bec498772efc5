"""The vendors' contracts, held over every request an adapter sends in the tests.

:func:`watching` checks each request crmtui's client (:class:`crmtui.http.Http`) sends to
a sandbox that follows a contract (``crmtui/sandbox/<vendor>/contract.py``) with the same
:meth:`Contract.check` the sandbox enforces with, plus the rules of :func:`breaks` that
the contract's data settles but the check does not look at (a parameter given twice, a
body it cannot read, a key beside the wrapped record, a body on a GET or DELETE), and
keeps every rule broken. It watches in two places, so that no request escapes:

- on the transport (``RoutingTransport``), each request to an origin mounted in-process,
  answered or not (a lost reply, a dropped connection, a vendor unplugged with a
  transport that refuses connections: the contract mounted there before is used);
- in front of every sandbox app this process runs (``Enforce``), each request crmtui's
  client sent (its ``User-Agent``) that the transport did not check: a loopback server's,
  also for crmtui in a child process (the kill -9 tests), or an app mounted behind a
  wrapper.

The autouse ``vendor_contracts`` fixture in ``tests/conftest.py`` fails the test that
sent it, naming the vendor, the request and the rule.

:data:`KNOWN_DRIFTS` is the explicit allowlist of what our adapters still send outside
the contracts; each names the issue point that removes it. A test that must send an
off-contract request on purpose (a sandbox test probing the vendor's error) says so with
``@pytest.mark.off_contract``.
"""

from __future__ import annotations

import contextvars
import json
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.types import Receive, Scope, Send

from crmtui import sandbox
from crmtui.http import Http
from crmtui.http.client import USER_AGENT, RoutingTransport
from crmtui.http.urls import origin as origin_of
from crmtui.sandbox import contract as contracts
from crmtui.sandbox.contract import Contract, Drift, Enforce, Violation, parse_body

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


def unexcused(watch: Watch, children: list[str], excused: tuple[str, ...] | None) -> str:
    """The report of the rules broken (``watch``; ``children``: lines from child
    processes) that a test's ``off_contract`` mark does not excuse, "" if none.
    ``excused``: the mark's texts (a rule whose description holds one is excused), ``()``
    for a bare mark (the whole test is), None without a mark."""
    if excused == ():
        return ""
    texts = excused or ()
    broken = [v for v in dict.fromkeys(watch.broken) if not any(t in str(v) for t in texts)]
    lines = [line for line in dict.fromkeys(children) if not any(t in line for t in texts)]
    if not broken and not lines:
        return ""
    return "\n".join(
        [
            "requests outside the vendor's contract:",
            *(f"  {v}" for v in broken),
            *(f"  {line} (a child process)" for line in lines),
        ]
    )


def allowed(vendor: str, v: Violation) -> bool:
    """Whether ``v`` is a known adapter drift (:data:`KNOWN_DRIFTS`)."""
    return any(name == vendor and drift.covers(v) for name, drift in KNOWN_DRIFTS)


def contract_of(transport: RoutingTransport, url: httpx.URL) -> Contract | None:
    """The contract of the sandbox mounted in-process at ``url``'s origin (its app's), or
    the one last mounted there while watching (a test may unplug the vendor with a
    transport that refuses every request: what the adapter sent is still checked). A
    loopback sandbox is watched where it is served (see :func:`watching`)."""
    origin = _origin(url)
    mounted = transport._mounts.get(origin)
    if mounted is None:
        return None
    return _app_contract(getattr(mounted, "app", None)) or _REMEMBERED.get(origin)


_REMEMBERED: dict[str, Contract] = {}
"""The contract of the sandbox last mounted at each origin while watching."""
_DEPTH = [0]  # how many watches are open (a test may watch inside the suite's watch)


def _app_contract(app: Any) -> Contract | None:
    while app is not None:
        state = getattr(app, "state", None)
        found = getattr(state, "contract", None) if state is not None else None
        if isinstance(found, Contract):
            return found
        app = getattr(app, "app", None)
    return None


def _origin(url: httpx.URL | str) -> str:
    return origin_of(url).rstrip("/")  # as RoutingTransport keys its mounts


def violations(c: Contract, request: httpx.Request) -> list[Violation]:
    """What ``request`` breaks of ``c`` (its body read as the sandbox reads it)."""
    try:
        content = request.content
    except httpx.RequestNotRead:  # a streamed body (a file upload): not readable here
        content = b"<a streamed body>"
    query = request.url.params.multi_items()
    content_type = request.headers.get("content-type", "")
    return breaks(c, request.method, request.url.path, query, content_type, content)


_NO_BODY = ("GET", "HEAD", "DELETE", "OPTIONS")


def breaks(
    c: Contract,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    content_type: str,
    content: bytes,
) -> list[Violation]:
    """Every rule a request breaks: those :meth:`Contract.check` names, and those the
    contract's data settles although the check does not look (the transport's own):

    - a parameter (not ``name[]``) given more than once: the vendors read one value
      (Rails and PHP keep the last), an array goes as ``name[]``;
    - a body the contract cannot read (not JSON, not a form) on an endpoint that declares
      its body: nothing in it was checked;
    - a body that is not an object where the endpoint declares its fields;
    - keys beside the record on an endpoint whose record sits under a wrapper key;
    - a body on a GET, HEAD, DELETE or OPTIONS whose endpoint declares none;
    - a path with a dot segment (``/api/individuals/%2E%2E``, an id of ``..``): it
      matched a template as an id, but a server resolves it to another path."""
    method = method.upper()
    body = parse_body(content_type, content) if content else None
    if body is None and content[:1] in (b"{", b"["):
        try:
            body = json.loads(content)
        except ValueError:
            body = None
    found = c.check(method, path, query, body)
    if any(path.startswith(p) for p in c.passthrough):
        return found
    endpoint, _ = c.find(method.upper(), path)
    if endpoint is None:
        return found
    if any(part in (".", "..") for part in path.split("/")):
        rule = "a dot segment: the server resolves the path to another one"
        found.append(Violation(c.vendor, method, path, "path", "", "", endpoint.path, rule))

    def broken(kind: contracts.Kind, name: str, value: str, rule: str) -> Violation:
        return Violation(c.vendor, method, path, kind, name, value, endpoint.path, rule)

    if endpoint.query is not None:
        counts: dict[str, int] = {}
        for key, _value in query:
            counts[key] = counts.get(key, 0) + 1
        for key, value in query:
            if counts[key] > 1 and not key.endswith("[]"):
                counts[key] = 0  # named once
                found.append(
                    broken(
                        "param",
                        key,
                        value,
                        "given more than once; the vendor reads one "
                        "value (an array is sent as name[])",
                    )
                )
    declared = endpoint.fields is not None or endpoint.wrapper is not None
    if content and method in _NO_BODY and not declared:
        found.append(broken("field", "", "", f"a body on a {method}, which takes none"))
    elif content and body is None and declared:
        found.append(
            broken(
                "field", "", "", f"a body the contract cannot read ({content_type or 'no type'})"
            )
        )
    elif body is not None and endpoint.fields is not None and endpoint.wrapper is None:
        if not isinstance(body, dict):
            found.append(broken("field", "", "", "the body is not an object of fields"))
    elif isinstance(body, dict) and endpoint.wrapper is not None:
        for key in sorted(set(body) - {endpoint.wrapper}):
            found.append(
                broken(
                    "field", key, "", f"beside the record, which goes under {endpoint.wrapper!r}"
                )
            )
    return found


_INPROCESS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "contract_checked_in_process", default=False
)
"""Set while the watched transport sends a request to an in-process app, so that the
sandbox's side does not check the same request again."""


@contextmanager
def watching(sink: Callable[[Violation], None] | None = None) -> Iterator[Watch]:
    """Check every request an adapter sends against its sandbox's contract.

    On crmtui's transport (every :class:`Http`), each request to an origin mounted
    in-process, whether or not it is answered (a lost reply, a refused connection); and
    in front of every sandbox app this process serves (:class:`Enforce`), each request
    sent by crmtui's client (its ``User-Agent``) that did not come through the transport
    here: a loopback server's, also for a child process (the kill -9 tests)."""
    watch = Watch()
    original = RoutingTransport.handle_async_request
    original_mount = RoutingTransport.mount
    original_enforce = Enforce.__call__

    def keep(v: Violation, c: Contract) -> None:
        if allowed(c.vendor, v):
            watch.tolerated.append(v)
            return
        watch.broken.append(v)
        if sink is not None:
            sink(v)

    async def checked(self: RoutingTransport, request: httpx.Request) -> httpx.Response:
        c = contract_of(self, request.url)
        token = _INPROCESS.set(c is not None)
        try:
            return await original(self, request)
        finally:
            _INPROCESS.reset(token)
            if c is not None:
                for v in violations(c, request):
                    keep(v, c)

    def mount(self: RoutingTransport, origin: str, transport: httpx.AsyncBaseTransport) -> None:
        c = _app_contract(getattr(transport, "app", None))
        if c is not None:
            _REMEMBERED[_origin(origin)] = c
        original_mount(self, origin, transport)

    async def served(self: Enforce, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _INPROCESS.get() and _by_crmtui(scope):
            method: str = scope["method"]
            raw, receive = await contracts._read_body(receive)
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), True)
            headers = dict(scope["headers"])
            content_type = headers.get(b"content-type", b"").decode("latin-1")
            for v in breaks(self.contract, method, scope["path"], query, content_type, raw):
                keep(v, self.contract)
        await original_enforce(self, scope, receive, send)

    RoutingTransport.handle_async_request = checked  # type: ignore[method-assign]
    RoutingTransport.mount = mount  # type: ignore[method-assign]
    Enforce.__call__ = served  # type: ignore[method-assign]
    if _DEPTH[0] == 0:
        _REMEMBERED.clear()
    _DEPTH[0] += 1
    try:
        yield watch
    finally:
        _DEPTH[0] -= 1
        RoutingTransport.handle_async_request = original  # type: ignore[method-assign]
        RoutingTransport.mount = original_mount  # type: ignore[method-assign]
        Enforce.__call__ = original_enforce  # type: ignore[method-assign]


CHILD_LOG = "CRMTUI_TEST_CONTRACTS"
"""The environment variable naming the file a child process writes the rules it broke
to (``tests/helpers/children/sitecustomize.py``)."""
CHILDREN = Path(__file__).parent / "children"


def reach_children() -> None:
    """Put ``tests/helpers/children`` on ``PYTHONPATH``, so that every Python process the
    suite starts (with the suite's environment) imports its ``sitecustomize``: crmtui
    there is held to the contracts when :func:`children_watched` asks. A child started
    with an environment of its own (no ``PYTHONPATH``) is not watched."""
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(CHILDREN) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(CHILDREN), *paths])


@contextmanager
def children_watched() -> Iterator[Callable[[], list[str]]]:
    """The child processes started meanwhile hold crmtui to the contracts (see
    :func:`reach_children`); the function given reads the rules they broke so far."""
    handle, name = tempfile.mkstemp(prefix="crmtui-contracts-", suffix=".txt")
    os.close(handle)
    log = Path(name)
    before = os.environ.get(CHILD_LOG)
    os.environ[CHILD_LOG] = name
    try:
        yield lambda: log.read_text(encoding="utf-8").splitlines()
    finally:
        if before is None:
            os.environ.pop(CHILD_LOG, None)
        else:
            os.environ[CHILD_LOG] = before
        log.unlink(missing_ok=True)


def _by_crmtui(scope: Scope) -> bool:
    """Whether crmtui's own client sent the request (its ``User-Agent``)."""
    agent: bytes = dict(scope["headers"]).get(b"user-agent", b"")
    return agent.decode("latin-1") == USER_AGENT


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
