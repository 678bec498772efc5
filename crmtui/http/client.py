"""The shared async client: one ``httpx.AsyncClient`` for the whole process.

``Http`` owns the client, the request log and the routing of in-process sandboxes.
Each profile gets a ``VendorSession`` (base URL, auth, rate limiter, error parser) that
sends requests through the shared client and turns every failure into a typed error.

Retries
    Transient faults retry with jittered exponential backoff, up to ``max_retries``:
    connection errors, timeouts, dropped connections, malformed bodies of a GET, 5xx,
    and 429. ``Retry-After`` (seconds or an HTTP date) wins over the backoff when present;
    a wait longer than ``max_wait`` is not slept through but raised, so the outbox can
    schedule the retry instead of freezing a worker. A POST is only retried when the
    request surely did not reach the vendor (connect errors, 429, 503) so that a create
    is never applied twice by the transport; the outbox handles the rest.
"""

from __future__ import annotations

import asyncio
import email.utils
import json as jsonlib
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

import httpx

from crmtui.http import errors
from crmtui.http.limiter import RateLimiter
from crmtui.http.log import LogEntry, Redactor, RequestLog, guard_library_logs
from crmtui.http.urls import check_base_url

ErrorParser = Callable[[httpx.Response], str | None]
"""Reads the vendor's own error message from an error response (None if it has none)."""


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object, or None (for error parsers: bodies may be anything)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
USER_AGENT = "crmtui"


class RoutingTransport(httpx.AsyncBaseTransport):
    """Sends requests for mounted origins to in-process ASGI apps, the rest to the network."""

    def __init__(self, default: httpx.AsyncBaseTransport | None = None) -> None:
        self._default = default or httpx.AsyncHTTPTransport(retries=0)
        self._mounts: dict[str, httpx.AsyncBaseTransport] = {}

    def mount(self, origin: str, transport: httpx.AsyncBaseTransport) -> None:
        self._mounts[origin.rstrip("/").lower()] = transport

    def mount_app(self, origin: str, app: Any) -> None:
        self.mount(origin, httpx.ASGITransport(app=app))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = f"{request.url.scheme}://{request.url.netloc.decode()}".lower()
        transport = self._mounts.get(origin)
        if transport is None:
            return await self._default.handle_async_request(request)
        # ASGITransport ignores timeouts; enforce the read timeout as a server would.
        read = request.extensions.get("timeout", {}).get("read")
        try:
            async with asyncio.timeout(read):
                return await transport.handle_async_request(request)
        except TimeoutError:
            raise httpx.ReadTimeout("the in-process app did not answer", request=request) from None

    async def aclose(self) -> None:
        await self._default.aclose()
        for transport in self._mounts.values():
            await transport.aclose()


class Http:
    """The process-wide client. Create one; share it with every profile."""

    def __init__(
        self,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_retries: int = 4,
        backoff: float = 0.5,
        backoff_cap: float = 20.0,
        max_wait: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        network: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.transport = RoutingTransport(network)
        self.client = httpx.AsyncClient(
            transport=self.transport,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
        )
        self.log = RequestLog()
        self.redact = Redactor()
        guard_library_logs(self.redact)  # httpx logs full URLs at INFO
        self.max_retries = max_retries
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.max_wait = max_wait
        self.sleep = sleep

    def mount_app(self, origin: str, app: Any) -> None:
        """Route ``origin`` (e.g. ``http://freshsales.localhost``) to an in-process app."""
        self.transport.mount_app(origin, app)

    def session(
        self,
        *,
        profile: str,
        vendor: str,
        base_url: str,
        auth: httpx.Auth | None,
        limiter: RateLimiter,
        parse_error: ErrorParser | None = None,
        secrets: tuple[str | None, ...] = (),
        timeout: httpx.Timeout | float | None = None,
    ) -> VendorSession:
        check_base_url(base_url)
        self.redact.add(*secrets)
        return VendorSession(
            self,
            profile=profile,
            vendor=vendor,
            base_url=base_url,
            auth=auth,
            limiter=limiter,
            parse_error=parse_error,
            timeout=timeout,
        )

    async def aclose(self) -> None:
        await self.client.aclose()


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())


_TRANSIENT_STATUS = {500, 502, 503, 504, 429, 408}
# Exceptions after which a request surely did not reach the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class VendorSession:
    """One profile's way to talk to its vendor through the shared client."""

    def __init__(
        self,
        http: Http,
        *,
        profile: str,
        vendor: str,
        base_url: str,
        auth: httpx.Auth | None,
        limiter: RateLimiter,
        parse_error: ErrorParser | None,
        timeout: httpx.Timeout | float | None,
    ) -> None:
        self.http = http
        self.profile = profile
        self.vendor = vendor
        self.base_url = base_url.rstrip("/") + "/"
        self.auth = auth
        self.limiter = limiter
        self.parse_error = parse_error
        self.timeout = timeout
        self.on_response: list[Callable[[httpx.Response], None]] = []
        self.requests_sent = 0
        self.online: bool | None = None  # None until the first request

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return check_base_url(path)  # e.g. a vendor's "next" link: same https rule
        return self.base_url + path.lstrip("/")

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and decode its JSON body (``None`` for an empty body)."""
        response = await self.request(method, path, **kwargs)
        return self.decode(response)

    def decode(self, response: httpx.Response) -> Any:
        if not response.content.strip():
            return None
        try:
            return response.json()
        except (jsonlib.JSONDecodeError, UnicodeDecodeError) as exc:
            raise errors.BadResponse(
                self.vendor,
                f"the reply to {response.request.method} "
                f"{self._path(response.request.url)} was not valid JSON",
                status=response.status_code,
            ) from exc

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        cost: float = 1,
        expect_json: bool = True,
    ) -> httpx.Response:
        """Send one request with rate limiting and retries; return a 2xx response.

        Raises a ``CrmError`` subclass for everything else.
        """
        method = method.upper()
        url = self.url(path)
        attempt = 0
        while True:
            attempt += 1
            await self.limiter.acquire(cost)
            started = time.perf_counter()
            try:
                response = await self.http.client.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    headers=headers,
                    auth=self.auth if self.auth is not None else httpx.USE_CLIENT_DEFAULT,
                    timeout=self.timeout if self.timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
                await response.aread()
            except httpx.DecodingError as exc:  # e.g. says gzip but is not
                self._log(method, url, None, started, attempt, type(exc).__name__)
                raise errors.BadResponse(self.vendor, "the reply could not be decoded") from None
            except httpx.TransportError as exc:
                self._log(method, url, None, started, attempt, type(exc).__name__)
                error = self._transport_error(exc)
                if attempt <= self.http.max_retries and (
                    method != "POST" or isinstance(exc, _NOT_SENT)
                ):
                    await self.http.sleep(self._backoff(attempt))
                    continue
                self.online = False
                raise error from None
            self.requests_sent += 1
            self.online = True
            self._log(method, response.request.url, response.status_code, started, attempt)
            for hook in self.on_response:
                hook(response)
            status = response.status_code
            if status < 400:
                if expect_json and method == "GET" and status == 200:
                    # A GET whose body is not JSON is a transient fault (e.g. a proxy page).
                    try:
                        self.decode(response)
                    except errors.BadResponse:
                        if attempt <= self.http.max_retries:
                            await self.http.sleep(self._backoff(attempt))
                            continue
                        raise
                return response
            error = self._status_error(response)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if status == 429:
                self.limiter.penalise(retry_after if retry_after is not None else 1.0)
            transient = status in _TRANSIENT_STATUS
            may_retry = method != "POST" or status in (429, 503)
            if transient and may_retry and attempt <= self.http.max_retries:
                wait = retry_after if retry_after is not None else self._backoff(attempt)
                if wait <= self.http.max_wait:
                    await self.http.sleep(wait)
                    continue
            raise error

    # -- helpers -------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.http.backoff_cap, self.http.backoff * 2 ** (attempt - 1))
        return ceiling * (0.5 + random.random() / 2)

    def _path(self, url: httpx.URL | str) -> str:
        parts = urlsplit(str(url))
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return self.http.redact(path)

    def _log(
        self,
        method: str,
        url: httpx.URL | str,
        status: int | None,
        started: float,
        attempt: int,
        error: str = "",
    ) -> None:
        self.http.log.add(
            LogEntry(
                at=RequestLog.now(),
                profile=self.profile,
                method=method,
                path=self._path(url),
                status=status,
                ms=(time.perf_counter() - started) * 1000,
                attempt=attempt,
                error=error,
            )
        )

    def _transport_error(self, exc: httpx.TransportError) -> errors.CrmError:
        if isinstance(exc, httpx.TimeoutException):
            what = "the server did not answer in time"
        elif isinstance(exc, httpx.ConnectError):
            what = "could not connect to the server"
        else:
            what = "the connection was dropped"
        return errors.Offline(self.vendor, what)

    def _vendor_message(self, response: httpx.Response) -> str | None:
        if self.parse_error is not None:
            try:
                message = self.parse_error(response)
            except Exception:
                message = None
            if message:
                return self.http.redact(str(message).strip())
        return None

    def _status_error(self, response: httpx.Response) -> errors.CrmError:
        status = response.status_code
        message = self._vendor_message(response)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        kind: type[errors.CrmError]
        default: str
        if status == 401:
            kind, default = errors.AuthError, "the credentials were not accepted"
        elif status == 403:
            kind, default = errors.PermissionDenied, "access denied"
        elif status == 404:
            kind, default = errors.NotFound, "not found"
        elif status == 409:
            kind, default = errors.ConflictError, "conflict"
        elif status == 429:
            kind, default = errors.RateLimited, "too many requests"
        elif status >= 500:
            kind, default = errors.ServerError, "server error"
        else:
            kind, default = errors.Rejected, "the request was refused"
        return kind(self.vendor, message or default, status=status, retry_after=retry_after)
