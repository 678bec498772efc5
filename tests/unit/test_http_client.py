"""The shared HTTP client against a tiny fake "vendor" (a real Starlette app).

Requests go through ``Http.mount_app`` in-process, a few over real loopback HTTP. Waits
are recorded, never slept: ``Http(sleep=...)`` records the client's retry waits and the
rate limiter runs on a fake clock.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import gzip
import json
import logging
import socket
import tracemalloc
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from crmtui.http import (
    AuthError,
    BadResponse,
    ConflictError,
    CrmError,
    Http,
    InsecureURL,
    NotFound,
    Offline,
    PermissionDenied,
    RateBudget,
    RateLimited,
    RateLimiter,
    Redirected,
    Rejected,
    ReplyTooLarge,
    ServerError,
    VendorSession,
    WriteTrace,
    parse_retry_after,
)
from crmtui.http.auth import HeaderTokenAuth, basic, bearer
from crmtui.model import utcnow
from crmtui.sandbox.serve import serving

ORIGIN = "http://vendor.localhost"
TOKEN = "tok-Sup3rSecret-42"
MAX_RETRIES = 3
WRITES = ["POST", "PUT", "PATCH", "DELETE"]


# -- the fake vendor -----------------------------------------------------------------


def vendor_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The vendor's own error body."""
    return JSONResponse({"errors": {"code": status, "message": message}}, status, headers)


def parse_vendor_error(response: httpx.Response) -> str | None:
    """The adapter-side reader of that body (raises on anything else, e.g. HTML)."""
    return response.json()["errors"]["message"]


class CountHits:
    """Counts the requests that reached each path."""

    def __init__(self, app: ASGIApp, hits: Counter[str]) -> None:
        self.app = app
        self.hits = hits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.hits[scope["path"]] += 1
        await self.app(scope, receive, send)


def create_vendor() -> Starlette:
    """Routes for every answer a vendor gives; ``app.state.hits`` counts each path."""
    hits: Counter[str] = Counter()

    async def ok(request: Request) -> Response:
        return JSONResponse(
            {"ok": True, "method": request.method}, 201 if request.method == "POST" else 200
        )

    async def echo(request: Request) -> Response:
        return JSONResponse({"headers": dict(request.headers), "query": request.url.query})

    async def error(request: Request) -> Response:
        status = int(request.path_params["status"])
        return vendor_error(status, f"Vendor says no ({status})")

    async def leaky(request: Request) -> Response:
        return vendor_error(401, f"Invalid token {request.headers.get('authorization')}")

    async def limited(request: Request) -> Response:
        after = request.query_params.get("after")
        return vendor_error(429, "Slow down", {"Retry-After": after} if after else None)

    async def limited_until(request: Request) -> Response:
        when = utcnow() + timedelta(seconds=30)
        return vendor_error(
            429, "Slow down", {"Retry-After": email.utils.format_datetime(when, usegmt=True)}
        )

    async def flaky(request: Request) -> Response:
        """Fails ``fail`` times with ``status`` (500 unless given), then answers."""
        fail = int(request.query_params.get("fail", "1"))
        status = int(request.query_params.get("status", "500"))
        if hits[request.url.path] <= fail:
            return vendor_error(status, "Temporary glitch")
        return await ok(request)

    async def unavailable(request: Request) -> Response:
        return vendor_error(503, "Down for maintenance")

    async def slow(request: Request) -> Response:
        await asyncio.sleep(1)
        return await ok(request)

    async def malformed(request: Request) -> Response:
        return Response('{"ok": tr', media_type="application/json")

    async def proxy(request: Request) -> Response:
        return HTMLResponse("<html><body><h1>502 Bad Gateway</h1>nginx</body></html>", 502)

    async def bad_gzip(request: Request) -> Response:
        return Response(b"not gzip at all", headers={"Content-Encoding": "gzip"})

    async def drop(request: Request) -> Response:
        """The request arrived; the connection dies before the reply (a lost reply)."""
        raise httpx.RemoteProtocolError("peer closed connection without sending a response")

    async def redirect(request: Request) -> Response:
        status = int(request.path_params["status"])
        to = request.query_params.get("to", "https://login.elsewhere.example/portal")
        return Response(status_code=status, headers={"Location": to})

    async def nan(request: Request) -> Response:
        return Response('{"amount": NaN, "other": Infinity}', media_type="application/json")

    app = Starlette(
        routes=[
            Route("/ok", ok, methods=["GET", *WRITES]),
            Route("/echo", echo),
            Route("/error/{status}", error, methods=["GET", *WRITES]),
            Route("/leaky", leaky),
            Route("/limited", limited, methods=["GET", *WRITES]),
            Route("/limited-until", limited_until),
            Route("/flaky/{name}", flaky, methods=["GET", *WRITES]),
            Route("/unavailable", unavailable, methods=["GET", *WRITES]),
            Route("/slow", slow, methods=["GET", *WRITES]),
            Route("/malformed", malformed, methods=["GET", *WRITES]),
            Route("/drop", drop, methods=["GET", *WRITES]),
            Route("/redirect/{status}", redirect, methods=["GET", *WRITES]),
            Route("/nan", nan, methods=["GET", *WRITES]),
            Route("/proxy", proxy, methods=["GET", *WRITES]),
            Route("/bad-gzip", bad_gzip),
        ],
        middleware=[Middleware(CountHits, hits=hits)],
    )
    app.state.hits = hits
    return app


# -- the rig -----------------------------------------------------------------------


@dataclass
class FakeClock:
    """A monotonic clock that only moves when the limiter sleeps on it."""

    now: float = 1000.0
    waits: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@dataclass
class Rig:
    http: Http
    session: VendorSession
    app: Starlette
    waits: list[float]  # what the client asked to sleep
    clock: FakeClock  # the limiter's clock

    @property
    def hits(self) -> Counter[str]:
        return self.app.state.hits

    def slow_times_out_soon(self) -> None:
        """For a test that asks /slow only: reads time out after 0.05 s, not 0.5 s (/slow
        answers after 1 s: it times out either way, only sooner)."""
        self.session.timeout = httpx.Timeout(0.05, connect=0.5)


def make_rig(
    *,
    base_url: str = ORIGIN,
    auth: httpx.Auth | None = None,
    max_wait: float = 60.0,
    secrets: tuple[str, ...] = (TOKEN,),
) -> Rig:
    waits: list[float] = []

    async def recorder(seconds: float) -> None:
        waits.append(seconds)

    http = Http(
        sleep=recorder,
        # /slow answers after 1 s; any other route must answer well within the read
        # timeout on a loaded CI machine (at 0.1 s a redirect hop timed out and was retried)
        timeout=httpx.Timeout(0.5, connect=0.5),
        max_retries=MAX_RETRIES,
        backoff=0.5,
        backoff_cap=20.0,
        max_wait=max_wait,
    )
    app = create_vendor()
    http.mount_app(ORIGIN, app)
    clock = FakeClock()
    session = http.session(
        profile="work",
        vendor="Acme CRM",
        base_url=base_url,
        auth=auth or HeaderTokenAuth("Authorization", "Token token={secret}", TOKEN),
        limiter=RateLimiter(RateBudget(100, 1), clock=clock, sleep=clock.sleep),
        parse_error=parse_vendor_error,
        secrets=secrets,
    )
    return Rig(http, session, app, waits, clock)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = make_rig()
    yield rig
    await rig.http.aclose()


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_jittered_backoff(waits: list[float], base: float = 0.5, cap: float = 20.0) -> None:
    """Each wait is in [ceiling/2, ceiling] with ceiling = min(cap, base * 2**n)."""
    for n, wait in enumerate(waits):
        ceiling = min(cap, base * 2**n)
        assert ceiling / 2 <= wait <= ceiling


# -- auth --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        (HeaderTokenAuth("Authorization", "Token token={secret}", TOKEN), f"Token token={TOKEN}"),
        (bearer(TOKEN), f"Bearer {TOKEN}"),
        (
            basic("rep@acme.test", TOKEN),
            "Basic " + base64.b64encode(f"rep@acme.test:{TOKEN}".encode()).decode(),
        ),
    ],
    ids=["freshsales-token", "bearer", "basic"],
)
async def test_auth_header_reaches_the_vendor(auth: httpx.Auth, expected: str) -> None:
    rig = make_rig(auth=auth)
    body = await rig.session.json("GET", "/echo")
    assert body["headers"]["authorization"] == expected
    assert body["headers"]["user-agent"] == "crmtui"
    await rig.http.aclose()


async def test_custom_header_auth(rig: Rig) -> None:
    rig.session.auth = HeaderTokenAuth("Api-Token", "{secret}", TOKEN)
    body = await rig.session.json("GET", "/echo")
    assert body["headers"]["api-token"] == TOKEN


async def test_sessions_share_one_client() -> None:
    rig = make_rig()
    other = rig.http.session(
        profile="home",
        vendor="Other",
        base_url="https://api.other.test",
        auth=None,
        limiter=RateLimiter(RateBudget(1, 1)),
    )
    assert other.http.client is rig.session.http.client
    await rig.http.aclose()


# -- success -----------------------------------------------------------------------


async def test_json_body_and_online_flag(rig: Rig) -> None:
    assert rig.session.online is None
    assert await rig.session.json("GET", "ok") == {"ok": True, "method": "GET"}
    assert rig.session.online is True
    assert rig.session.requests_sent == 1
    assert rig.waits == []


# -- error mapping -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, Rejected),
        (401, AuthError),
        (403, PermissionDenied),
        (404, NotFound),
        (409, ConflictError),
        (422, Rejected),
    ],
)
async def test_4xx_maps_to_a_typed_error_with_the_vendor_message(
    rig: Rig, status: int, kind: type[CrmError]
) -> None:
    with pytest.raises(kind) as caught:
        await rig.session.json("GET", f"/error/{status}")
    error = caught.value
    assert error.status == status
    assert error.message == f"Vendor says no ({status})"
    assert str(error).startswith(f"Acme CRM: Vendor says no ({status}) (HTTP {status}).")
    assert error.hint and error.hint in str(error)
    assert rig.hits[f"/error/{status}"] == 1  # a 4xx is never retried
    assert rig.waits == []


async def test_persistent_500_retries_up_to_the_bound_then_raises(rig: Rig) -> None:
    with pytest.raises(ServerError) as caught:
        await rig.session.json("GET", "/error/500")
    assert caught.value.message == "Vendor says no (500)"
    assert caught.value.retryable
    assert rig.hits["/error/500"] == MAX_RETRIES + 1
    assert len(rig.waits) == MAX_RETRIES
    assert_jittered_backoff(rig.waits)


async def test_backoff_is_jittered_and_capped() -> None:
    waits: list[float] = []

    async def recorder(seconds: float) -> None:
        waits.append(seconds)

    http = Http(sleep=recorder, max_retries=8, backoff=1.0, backoff_cap=4.0)
    http.mount_app(ORIGIN, create_vendor())
    session = http.session(
        profile="p",
        vendor="Acme CRM",
        base_url=ORIGIN,
        auth=None,
        limiter=RateLimiter(RateBudget(1000, 1)),
        parse_error=parse_vendor_error,
    )
    with pytest.raises(ServerError):
        await session.json("GET", "/error/500")
    await http.aclose()
    assert len(waits) == 8
    assert_jittered_backoff(waits, base=1.0, cap=4.0)
    assert max(waits) <= 4.0
    ratios = {round(wait / min(4.0, 2.0**n), 6) for n, wait in enumerate(waits)}
    assert len(ratios) > 1  # jittered, not a fixed schedule


async def test_500_then_200_recovers(rig: Rig) -> None:
    body = await rig.session.json("GET", "/flaky/a", params={"fail": 2})
    assert body["ok"] is True
    assert rig.hits["/flaky/a"] == 3
    assert len(rig.waits) == 2
    assert_jittered_backoff(rig.waits)
    assert [e.status for e in rig.http.log.entries] == [500, 500, 200]
    assert [e.attempt for e in rig.http.log.entries] == [1, 2, 3]


async def test_503_is_a_server_error(rig: Rig) -> None:
    with pytest.raises(ServerError, match="Down for maintenance") as caught:
        await rig.session.json("GET", "/unavailable")
    assert caught.value.status == 503
    assert rig.hits["/unavailable"] == MAX_RETRIES + 1


async def test_html_502_page_becomes_a_server_error_without_the_html(rig: Rig) -> None:
    with pytest.raises(ServerError) as caught:
        await rig.session.json("GET", "/proxy")
    assert caught.value.status == 502
    assert "<" not in str(caught.value)
    assert "nginx" not in str(caught.value)
    assert rig.hits["/proxy"] == MAX_RETRIES + 1


async def test_malformed_json_get_is_retried_then_bad_response(rig: Rig) -> None:
    with pytest.raises(BadResponse, match="not valid JSON"):
        await rig.session.json("GET", "/malformed")
    assert rig.hits["/malformed"] == MAX_RETRIES + 1


async def test_malformed_json_post_is_not_retried(rig: Rig) -> None:
    with pytest.raises(BadResponse):
        await rig.session.json("POST", "/malformed", json={"name": "Acme"})
    assert rig.hits["/malformed"] == 1


async def test_undecodable_body_is_a_bad_response(rig: Rig) -> None:
    with pytest.raises(BadResponse):
        await rig.session.json("GET", "/bad-gzip")


async def test_slow_vendor_times_out_as_offline(rig: Rig) -> None:
    rig.slow_times_out_soon()
    with pytest.raises(Offline, match="did not answer in time"):
        await rig.session.json("GET", "/slow")
    assert rig.hits["/slow"] == MAX_RETRIES + 1
    assert rig.session.online is False
    assert [e.error for e in rig.http.log.entries] == ["ReadTimeout"] * (MAX_RETRIES + 1)


async def test_connect_error_retries_then_offline() -> None:
    rig = make_rig(base_url=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(Offline, match="could not connect") as caught:
        await rig.session.json("GET", "/ok")
    await rig.http.aclose()
    assert caught.value.retryable
    assert len(rig.waits) == MAX_RETRIES
    assert_jittered_backoff(rig.waits)
    entries = list(rig.http.log.entries)
    assert len(entries) == MAX_RETRIES + 1
    assert all(e.status is None and e.error == "ConnectError" for e in entries)
    assert rig.session.online is False


# -- POST and retries --------------------------------------------------------------


async def test_post_is_not_retried_after_a_500(rig: Rig) -> None:
    with pytest.raises(ServerError):
        await rig.session.json("POST", "/flaky/p", json={"name": "Acme"})
    assert rig.hits["/flaky/p"] == 1
    assert rig.waits == []


async def test_post_is_not_retried_after_a_timeout(rig: Rig) -> None:
    """It may have reached the vendor: the outbox, not the transport, decides."""
    rig.slow_times_out_soon()
    with pytest.raises(Offline):
        await rig.session.json("POST", "/slow", json={"name": "Acme"})
    assert rig.hits["/slow"] == 1


async def test_post_is_retried_after_429(rig: Rig) -> None:
    body = await rig.session.json("POST", "/flaky/q", params={"status": 429}, json={"n": 1})
    assert body == {"ok": True, "method": "POST"}
    assert rig.hits["/flaky/q"] == 2


async def test_post_is_retried_after_a_connect_error() -> None:
    rig = make_rig(base_url=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(Offline):
        await rig.session.json("POST", "/ok", json={"name": "Acme"})
    await rig.http.aclose()
    assert len(rig.http.log.entries) == MAX_RETRIES + 1


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/error/500", ServerError),
        ("/error/502", ServerError),
        ("/error/504", ServerError),
        ("/proxy", ServerError),
        ("/slow", Offline),  # the read timed out after the request was sent
        ("/drop", Offline),  # the connection died before the reply
        ("/malformed", BadResponse),  # a 2xx whose body cannot be read
        ("/nan", BadResponse),
        ("/redirect/303", CrmError),  # "See Other": the request was processed
        ("/unavailable", ServerError),  # a proxy may say 503 after passing it on
    ],
)
async def test_a_write_of_unknown_outcome_is_sent_once_and_maybe_applied(
    rig: Rig, method: str, path: str, kind: type[CrmError]
) -> None:
    """No write is sent twice by the transport; the outbox must check with the vendor."""
    if path == "/slow":
        rig.slow_times_out_soon()
    with pytest.raises(kind) as caught:
        await rig.session.json(method, path, json={"name": "Acme"})
    assert rig.hits[path] == 1
    assert rig.waits == []
    assert caught.value.maybe_applied is True
    assert str(caught.value).startswith("Acme CRM: ")


@pytest.mark.parametrize("method", WRITES)
async def test_a_write_answered_429_is_retried(rig: Rig, method: str) -> None:
    path = f"/flaky/{method}429"
    body = await rig.session.json(method, path, params={"status": 429}, json={"n": 1})
    assert body["ok"] is True
    assert rig.hits[path] == 2


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize(("status", "kind"), [(503, ServerError), (408, Rejected)])
async def test_a_write_answered_503_or_408_is_sent_once_and_maybe_applied(
    rig: Rig, method: str, status: int, kind: type[CrmError]
) -> None:
    """Some proxies answer 503 (or 408) after passing the request on: never re-sent by
    the transport; the outbox checks with the vendor first."""
    path = f"/flaky/{method}{status}"
    with pytest.raises(kind) as caught:
        await rig.session.json(method, path, params={"status": status}, json={"n": 1})
    assert rig.hits[path] == 1
    assert rig.waits == []
    assert caught.value.maybe_applied is True


@pytest.mark.parametrize("method", WRITES)
async def test_a_write_still_refused_before_processing_was_not_applied(
    rig: Rig, method: str
) -> None:
    with pytest.raises(RateLimited) as caught:
        await rig.session.json(method, "/limited", json={"n": 1})
    assert rig.hits["/limited"] == MAX_RETRIES + 1
    assert caught.value.maybe_applied is False


@pytest.mark.parametrize("method", WRITES)
async def test_a_write_that_never_connected_is_retried_and_not_applied(method: str) -> None:
    rig = make_rig(base_url=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(Offline) as caught:
        await rig.session.json(method, "/ok", json={"name": "Acme"})
    await rig.http.aclose()
    assert len(rig.http.log.entries) == MAX_RETRIES + 1
    assert caught.value.maybe_applied is False


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
@pytest.mark.parametrize("method", WRITES)
async def test_a_write_the_vendor_refused_was_not_applied(
    rig: Rig, method: str, status: int
) -> None:
    with pytest.raises(CrmError) as caught:
        await rig.session.json(method, f"/error/{status}", json={"n": 1})
    assert caught.value.maybe_applied is False
    assert rig.hits[f"/error/{status}"] == 1


@pytest.mark.parametrize(
    "path", ["/error/500", "/slow", "/drop", "/malformed", "/nan", "/redirect/302"]
)
async def test_a_read_never_counts_as_maybe_applied(rig: Rig, path: str) -> None:
    if path == "/slow":
        rig.slow_times_out_soon()
    with pytest.raises(CrmError) as caught:
        await rig.session.json("GET", path)
    assert caught.value.maybe_applied is False


async def test_an_error_after_a_write_of_the_same_operation_is_maybe_applied(rig: Rig) -> None:
    """A create that posts, then reads back: if the read fails, the post still landed."""
    with pytest.raises(Offline) as caught, WriteTrace():
        await rig.session.json("POST", "/ok", json={"name": "Acme"})
        await rig.session.json("GET", "/drop")
    assert caught.value.maybe_applied is True
    with pytest.raises(Offline) as before, WriteTrace():
        await rig.session.json("GET", "/drop")  # a look-up before anything was written
        await rig.session.json("POST", "/ok", json={"name": "Acme"})
    assert before.value.maybe_applied is False
    with pytest.raises(Rejected) as refused, WriteTrace():
        await rig.session.json("POST", "/error/422", json={"name": "Acme"})
    assert refused.value.maybe_applied is False


async def test_nan_and_infinity_are_not_json(rig: Rig) -> None:
    with pytest.raises(BadResponse, match="NaN") as caught:
        await rig.session.json("GET", "/nan")
    assert not isinstance(caught.value, Redirected)
    assert rig.hits["/nan"] == 1  # the same reply would come again: not retried


# -- size: a huge reply is refused before it is read whole --------------------------


MB = 1024 * 1024
CHUNK = 64 * 1024


class Endless(httpx.AsyncByteStream):
    """``total`` bytes in fresh 64 KiB chunks, made only as they are read (counted)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.made = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.made < self.total:
            self.made += CHUNK
            yield bytes(CHUNK)


class HugeVendor(httpx.AsyncBaseTransport):
    """A "vendor" on the network that answers every request with a huge body."""

    def __init__(self, total: int, *, claim: bool, encoding: str | None = None) -> None:
        self.body = Endless(total)
        self.headers = {"Content-Type": "application/json"}
        if claim:
            self.headers["Content-Length"] = str(total)
        if encoding:
            self.headers["Content-Encoding"] = encoding

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=self.headers, stream=self.body)


def bare_session(http: Http, base_url: str) -> VendorSession:
    """A session without auth or error parser."""
    return http.session(
        profile="p",
        vendor="Acme CRM",
        base_url=base_url,
        auth=None,
        limiter=RateLimiter(RateBudget(100, 1)),
    )


async def fetch_huge(vendor: HugeVendor, **options: Any) -> tuple[BaseException, int]:
    """The error and the peak memory (bytes) of one GET against ``vendor``."""
    http = Http(network=vendor, max_retries=0, **options)
    session = bare_session(http, "https://huge.example/api")
    tracemalloc.start()
    try:
        with pytest.raises(ReplyTooLarge) as caught:
            await session.json("GET", "/contacts")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        await http.aclose()
    return caught.value, peak


async def test_a_reply_claiming_200_mb_is_refused_unread() -> None:
    vendor = HugeVendor(200 * MB, claim=True)
    error, peak = await fetch_huge(vendor)
    assert vendor.body.made == 0
    assert peak < 2 * MB, f"peak {peak / MB:.1f} MB"
    assert "claimed to be 210 MB" in str(error) and "limit of 20 MB" in str(error)
    assert str(error).startswith("Acme CRM: ")
    assert error.hint


async def test_a_streamed_200_mb_reply_is_cut_at_the_limit() -> None:
    vendor = HugeVendor(200 * MB, claim=False)
    error, peak = await fetch_huge(vendor)  # the default limit: 20 MB
    assert vendor.body.made <= 20_000_000 + CHUNK
    assert peak < 30 * MB, f"peak {peak / MB:.1f} MB"
    assert "over 20 MB" in str(error)


async def test_the_limit_is_a_setting_of_http() -> None:
    vendor = HugeVendor(200 * MB, claim=False)
    _error, peak = await fetch_huge(vendor, max_reply_bytes=MB)
    assert vendor.body.made <= MB + CHUNK
    assert peak < 4 * MB, f"peak {peak / MB:.1f} MB"


def packed(total: int, wbits: int) -> bytes:
    """``total`` zero bytes, compressed a MiB at a time (gzip: wbits 31; zlib: 15)."""
    packer = zlib.compressobj(wbits=wbits)
    return b"".join([*(packer.compress(bytes(MB)) for _ in range(total // MB)), packer.flush()])


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_compressed_reply_is_counted_as_it_unpacks(encoding: str) -> None:
    body = packed(100 * MB, 31 if encoding == "gzip" else 15)  # about 100 KiB
    http = Http(max_reply_bytes=MB)
    http.mount_app(
        ORIGIN,
        lambda scope, receive, send: Response(body, headers={"Content-Encoding": encoding})(
            scope, receive, send
        ),
    )
    session = bare_session(http, ORIGIN)
    tracemalloc.start()
    try:
        with pytest.raises(ReplyTooLarge, match=r"over 1\.05 MB"):
            await session.json("GET", "/bomb")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        await http.aclose()
    assert peak < 5 * MB + 2 * len(body), f"peak {peak / MB:.1f} MB"


async def test_a_small_compressed_reply_is_read_as_json(rig: Rig) -> None:
    payload = json.dumps({"ok": True, "items": list(range(1000))}).encode()
    rig.app.router.routes.append(
        Route(
            "/packed",
            lambda request: Response(gzip.compress(payload), headers={"Content-Encoding": "gzip"}),
        )
    )
    assert (await rig.session.json("GET", "/packed"))["items"][-1] == 999


async def test_a_write_whose_reply_is_too_large_may_have_been_applied() -> None:
    vendor = HugeVendor(200 * MB, claim=True)
    http = Http(network=vendor)
    session = bare_session(http, "https://huge.example/api")
    with pytest.raises(ReplyTooLarge) as caught:
        await session.json("POST", "/contacts", json={"name": "Acme"})
    await http.aclose()
    assert caught.value.maybe_applied is True


# -- redirects: only a 2xx is success ----------------------------------------------


OTHER = "https://login.elsewhere.example"


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("status", [301, 302, 303, 304, 307, 308])
async def test_a_redirected_write_is_an_error_naming_the_host(
    rig: Rig, method: str, status: int
) -> None:
    elsewhere = create_vendor()
    rig.http.mount_app(OTHER, elsewhere)
    path = f"/redirect/{status}"
    with pytest.raises(Redirected) as caught:
        await rig.session.request(method, path, params={"to": f"{OTHER}/ok"}, json={"n": 1})
    error = caught.value
    assert not isinstance(error, BadResponse)  # not "an unreadable reply"
    assert "login.elsewhere.example" in str(error)
    assert "config.toml" in str(error) and "base_url" in str(error)
    assert error.status == status
    assert error.maybe_applied is (status == 303)
    assert rig.hits[path] == 1  # not retried by the transport...
    assert sum(elsewhere.state.hits.values()) == 0  # ...and not followed


async def test_a_redirect_without_a_location_is_still_an_error(rig: Rig) -> None:
    rig.app.router.routes.append(
        Route("/bare", lambda request: Response(status_code=302), methods=["DELETE"])
    )
    with pytest.raises(Redirected, match="no valid address"):
        await rig.session.request("DELETE", "/bare")


async def test_reads_follow_no_redirect_unless_the_vendor_documents_them(rig: Rig) -> None:
    with pytest.raises(Redirected, match="same host"):
        await rig.session.json("GET", "/redirect/301", params={"to": f"{ORIGIN}/ok"})
    assert rig.hits["/ok"] == 0


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_documented_redirect_is_followed_on_the_same_host_only(status: int) -> None:
    rig = make_rig()
    rig.session.follow_redirects = True  # e.g. Freshsales documents 301/302
    body = await rig.session.json("GET", f"/redirect/{status}", params={"to": "/echo?page=2"})
    assert body["query"] == "page=2"
    assert body["headers"]["authorization"] == f"Token token={TOKEN}"
    elsewhere = create_vendor()
    rig.http.mount_app(OTHER, elsewhere)
    with pytest.raises(Redirected, match=r"another host, login\.elsewhere\.example"):
        await rig.session.json("GET", f"/redirect/{status}", params={"to": f"{OTHER}/echo"})
    assert sum(elsewhere.state.hits.values()) == 0  # the credentials never went there
    other_port = "http://vendor.localhost:8080/echo"
    with pytest.raises(Redirected):
        await rig.session.json("GET", f"/redirect/{status}", params={"to": other_port})
    with pytest.raises(Redirected):  # credentials in the Location are refused too
        await rig.session.json(
            "GET", f"/redirect/{status}", params={"to": "http://u:p@vendor.localhost/echo"}
        )
    await rig.http.aclose()


async def test_a_documented_redirect_to_https_or_another_port_is_not_followed() -> None:
    """Same scheme, host and port only: http->https of the same host is port 443, another
    server, so the credentials are not sent there."""
    seen: list[httpx.Request] = []

    def network(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.port == 9 and request.url.path == "/api/start":
            return httpx.Response(302, headers={"Location": request.url.params["to"]})
        return httpx.Response(200, json={"reached": str(request.url)})

    http = Http(network=httpx.MockTransport(network), max_retries=0)
    session = http.session(
        profile="p",
        vendor="Acme CRM",
        base_url="http://127.0.0.1:9/api/",
        auth=HeaderTokenAuth("Authorization", "Token token={secret}", TOKEN),
        limiter=RateLimiter(RateBudget(100, 1)),
        secrets=(TOKEN,),
        follow_redirects=True,
    )
    try:
        for target in (
            "https://127.0.0.1/api/x",
            "https://127.0.0.1:9/api/x",
            "http://127.0.0.1:10/api/x",
            "http://localhost:9/api/x",
        ):
            with pytest.raises(Redirected):
                await session.json("GET", "start", params={"to": target})
        assert [r.url.port for r in seen] == [9, 9, 9, 9]  # nothing went elsewhere
        with pytest.raises(Redirected, match=r"to https://127\.0\.0\.1/api/x \(the same host"):
            await session.json("GET", "start", params={"to": "https://127.0.0.1/api/x"})
        seen.clear()
        assert await session.json("GET", "start", params={"to": "http://127.0.0.1:9/x"})
        assert [r.url.port for r in seen] == [9, 9]
        assert seen[-1].headers["Authorization"] == f"Token token={TOKEN}"
    finally:
        await http.aclose()


@pytest.mark.parametrize(
    "where",
    [
        "https://evil.example:99999/",
        "http://[evil/",
        "https://evil.example:port/",
        "https://evil.example/\x7f",
        "http:127.0.0.1:9/../../etc",
    ],
)
@pytest.mark.parametrize(("method", "status"), [("PUT", 302), ("DELETE", 307), ("POST", 303)])
async def test_a_redirect_to_an_unparsable_address_is_a_redirect_not_a_drop(
    rig: Rig, where: str, method: str, status: int
) -> None:
    """httpx cannot parse the Location: still "redirected", never "connection dropped"
    (which would say the write may have been applied); only a 303 says maybe."""
    rig.app.router.routes.append(
        Route(
            "/badloc",
            lambda request: Response(status_code=status, headers={"Location": where}),
            methods=[method],
        )
    )
    with pytest.raises(Redirected, match="no valid address") as caught:
        await rig.session.json(method, "/badloc", json={"n": 1})
    assert caught.value.maybe_applied is (status == 303)
    assert rig.hits["/badloc"] == 1


async def test_a_redirect_loop_ends(rig: Rig) -> None:
    rig.session.follow_redirects = True
    rig.app.router.routes.append(
        Route("/loop", lambda request: Response(status_code=302, headers={"Location": "/loop"}))
    )
    with pytest.raises(Redirected):
        await rig.session.json("GET", "/loop")
    assert rig.hits["/loop"] == 6  # the first answer and five hops


async def test_the_shared_client_keeps_no_cookie(rig: Rig) -> None:
    async def set_cookie(request: Request) -> Response:
        response = JSONResponse({})
        response.set_cookie("session", "abc-secret-cookie")
        return response

    rig.app.router.routes.append(Route("/login", set_cookie))
    await rig.session.json("GET", "/login")
    body = await rig.session.json("GET", "/echo")
    assert "cookie" not in body["headers"]
    assert len(rig.http.client.cookies.jar) == 0


# -- Retry-After and the limiter ---------------------------------------------------


async def test_429_without_retry_after_holds_the_limiter_a_second(rig: Rig) -> None:
    body = await rig.session.json("GET", "/flaky/s", params={"status": 429})
    assert body["ok"] is True
    # /flaky answers 429 without Retry-After: a jittered backoff, limiter held 1 s.
    assert len(rig.waits) == 1
    assert rig.clock.waits == [pytest.approx(1.0)]


async def test_retry_after_7_waits_7_seconds(rig: Rig) -> None:
    with pytest.raises(RateLimited, match="Slow down") as caught:
        await rig.session.json("GET", "/limited", params={"after": "7"})
    assert rig.waits == [7.0] * MAX_RETRIES
    assert caught.value.retry_after == 7.0
    assert caught.value.status == 429
    # The limiter held the profile 7 s before each retry (on its own clock).
    assert rig.clock.waits == [pytest.approx(7.0)] * MAX_RETRIES
    assert rig.session.limiter.wait_time() == pytest.approx(7.0)


async def test_429_without_retry_after_backs_off(rig: Rig) -> None:
    with pytest.raises(RateLimited) as caught:
        await rig.session.json("GET", "/limited")
    assert caught.value.retry_after is None
    assert len(rig.waits) == MAX_RETRIES
    assert_jittered_backoff(rig.waits)


async def test_retry_after_as_http_date(rig: Rig) -> None:
    with pytest.raises(RateLimited):
        await rig.session.json("GET", "/limited-until")
    assert len(rig.waits) == MAX_RETRIES
    assert all(28 <= wait <= 30.5 for wait in rig.waits)


async def test_retry_after_beyond_max_wait_raises_at_once(rig: Rig) -> None:
    with pytest.raises(RateLimited) as caught:
        await rig.session.json("POST", "/limited", params={"after": "3600"}, json={})
    assert caught.value.retry_after == 3600.0
    assert caught.value.retryable
    assert rig.waits == []
    assert rig.hits["/limited"] == 1
    assert rig.session.limiter.wait_time() == pytest.approx(3600.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("7", 7.0),
        (" 1.5 ", 1.5),
        ("-3", 0.0),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: go now
        ("Wed, 21 Oct 2015 07:28:00 -0000", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_future_date() -> None:
    when = utcnow() + timedelta(seconds=90)
    for text in (
        email.utils.format_datetime(when, usegmt=True),
        email.utils.format_datetime(when.replace(tzinfo=None)),
    ):
        assert 88 <= (parse_retry_after(text) or 0) <= 90.5


# -- the request log and secrets ----------------------------------------------------


async def test_log_records_method_path_status_and_ms(rig: Rig) -> None:
    await rig.session.json("POST", "/ok", json={"a": 1})
    with pytest.raises(NotFound):
        await rig.session.json("GET", "/error/404", params={"page": 2})
    first, second = rig.http.log.entries
    assert (first.profile, first.method, first.path, first.status) == ("work", "POST", "/ok", 201)
    assert (second.method, second.path, second.status) == ("GET", "/error/404?page=2", 404)
    assert all(0 <= e.ms < 5000 and e.attempt == 1 for e in (first, second))
    assert list(rig.http.log.recent("work")) == [first, second]
    assert list(rig.http.log.recent("other")) == []


async def test_log_never_contains_a_secret(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []
    rig.http.log.listeners.append(lambda entry: seen.append(repr(entry)))
    odd = "k+y/Zz=="  # a secret that is percent-encoded in a query string
    rig.http.redact.add(odd)
    with caplog.at_level(logging.DEBUG, logger="crmtui.http"):
        await rig.session.json("GET", "/echo")  # the token travels in a header
        await rig.session.json("GET", "/echo", params={"api_key": "unregistered-key-123"})
        await rig.session.json("GET", "/echo", params={"key": TOKEN})
        await rig.session.json("GET", "/echo", params={"key": odd})
        with pytest.raises(AuthError):
            await rig.session.json("GET", "/leaky", params={"access_token": TOKEN})
    paths = [e.path for e in rig.http.log.entries]
    assert paths == [
        "/echo",
        "/echo?api_key=•••",
        "/echo?key=•••",
        "/echo?key=•••",
        "/leaky?access_token=•••",
    ]
    text = "\n".join([*seen, caplog.text])
    for secret in (TOKEN, "unregistered-key-123", odd, "k%2By%2FZz%3D%3D"):
        assert secret not in text


async def test_error_text_never_contains_the_secret(rig: Rig) -> None:
    with pytest.raises(AuthError) as caught:
        await rig.session.json("GET", "/leaky")
    assert TOKEN not in str(caught.value)
    assert TOKEN not in caught.value.message
    assert caught.value.message == "Invalid token Token token=•••"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


ECHOES = {
    "basic key:secret": f"Authorization: Basic {b64(f'rep@acme.test:{TOKEN}')}",
    "basic key:": f"Authorization: Basic {b64(f'{TOKEN}:')}",
    "basic key:X": f"authorization=Basic {b64(f'{TOKEN}:X')}",
    "bare base64": f"credentials {b64(f'{TOKEN}:X')} refused",
    "url-safe base64": f"cred {base64.urlsafe_b64encode(f'ab:{TOKEN}'.encode()).decode()}",
    "url-encoded": f"key={TOKEN.replace('-', '%2D')}&x=1",
    "twice url-encoded": f"/x/{TOKEN.replace('-', '%252D')}/y",
    "json": json.dumps({"headers": {"Authorization": f"Token token={TOKEN}"}}),
    "bearer": "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.unregistered.sig",
    "api-token": "Api-Token: 0123456789abcdef-unregistered",
    "cookie": "Cookie: salesseek=unregistered-session-value; theme=dark",
    "set-cookie": "(b'Set-Cookie', b'salesseek=unregistered-session-value; Path=/')",
}
LEAKED = [
    TOKEN,
    *(value.split()[-1] for value in ECHOES.values() if "Basic" in value),
    b64(f"{TOKEN}:X"),
    "eyJhbGciOiJIUzI1NiJ9",
    "0123456789abcdef-unregistered",
    "unregistered-session-value",
    "%2D",
]


@pytest.mark.parametrize("echo", ECHOES.values(), ids=ECHOES.keys())
async def test_a_vendor_echoing_a_credential_in_any_form_is_redacted(
    rig: Rig, echo: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def echoing(request: Request) -> Response:
        return vendor_error(400, f"Bad request: {echo}")

    rig.app.router.routes.append(Route("/echoing", echoing, methods=["POST"]))
    with caplog.at_level(logging.DEBUG), pytest.raises(Rejected) as caught:
        await rig.session.json("POST", "/echoing", json={"n": 1})
    text = str(caught.value)
    assert text.startswith("Acme CRM: Bad request: ")
    assert "•••" in text
    for leaked in LEAKED:
        assert leaked not in text and leaked not in caplog.text, leaked


def test_ordinary_vendor_words_are_not_redacted() -> None:
    http = Http()
    http.redact.add(TOKEN)
    for text in (
        "You lack authorization, ask your admin",
        "Basic plan accounts cannot do this",
        "Bearer tokens expire after an hour",
        "name=Acme%20Corp is taken",
        "Expecting value: line 1 column 1 (char 0)",
    ):
        assert http.redact(text) == text


# -- URL policy ----------------------------------------------------------------------


def test_session_refuses_plain_http_to_a_remote_host() -> None:
    http = Http()
    with pytest.raises(InsecureURL, match="https"):
        http.session(
            profile="p",
            vendor="V",
            base_url="http://crm.example.com/api",
            auth=None,
            limiter=RateLimiter(RateBudget(1, 1)),
        )


async def test_absolute_url_follows_the_same_rule(rig: Rig) -> None:
    with pytest.raises(InsecureURL):
        await rig.session.json("GET", "http://crm.example.com/next?page=2")
    assert len(rig.http.log.entries) == 0
    assert await rig.session.json("GET", f"{ORIGIN}/ok") == {"ok": True, "method": "GET"}


# -- over real loopback HTTP ---------------------------------------------------------


@pytest.mark.loopback
async def test_loopback_auth_and_retry() -> None:
    app = create_vendor()
    with serving(app) as origin:
        rig = make_rig(base_url=origin)
        rig.http.client.timeout = httpx.Timeout(5.0)
        body = await rig.session.json("GET", "/echo", params={"api_key": TOKEN})
        assert body["headers"]["authorization"] == f"Token token={TOKEN}"
        assert body["query"] == f"api_key={TOKEN}"
        recovered = await rig.session.json("GET", "/flaky/x", params={"fail": 1})
        await rig.http.aclose()
    assert recovered["ok"] is True
    assert app.state.hits["/flaky/x"] == 2
    assert [e.status for e in rig.http.log.entries] == [200, 500, 200]
    assert all(TOKEN not in e.path for e in rig.http.log.entries)


@pytest.mark.loopback
async def test_loopback_vendor_error_message() -> None:
    with serving(create_vendor()) as origin:
        rig = make_rig(base_url=origin)
        rig.http.client.timeout = httpx.Timeout(5.0)
        with pytest.raises(Rejected, match=r"Vendor says no \(422\)"):
            await rig.session.json("POST", "/error/422", json={"amount": "lots"})
        await rig.http.aclose()
