"""The shared async client: one ``httpx.AsyncClient`` for the whole process.

``Http`` owns the client, the request log and the routing of in-process sandboxes.
Each profile gets a ``VendorSession`` (base URL, auth, rate limiter, error parser) that
sends requests through the shared client and turns every failure into a typed error.

Success
    Only a 2xx is success. A 3xx is never taken as an answer (see Redirects).

Retries
    Transient faults of a read (GET) retry with jittered exponential backoff, up to
    ``max_retries``: connection errors, timeouts, dropped connections, garbled bodies, 5xx,
    408 and 429. ``Retry-After`` (seconds or an HTTP date) wins over the backoff when
    present; a wait longer than ``max_wait`` is not slept through but raised, so the outbox
    can schedule the retry instead of freezing a worker.

    A write (POST, PUT, PATCH, DELETE) is retried by the transport only when it surely did
    not reach the vendor: the connection was never made (connect error or timeout, no free
    connection), or the vendor answered 429 (its rate limit refuses before processing).
    Every other failure of a write is raised at once, and when its outcome is unknown
    (timeout or dropped connection after sending, 408 or any 5xx, a 2xx whose body cannot
    be read, a 303) with ``maybe_applied=True``, so the outbox checks with the vendor before
    it sends the write again. Decision: a 503 or 408 on a write is not retried, as some
    proxies answer them after passing the request on. No write is ever sent twice by this
    module.

Redirects
    Decision: the client never lets httpx follow redirects. A session follows one only
    when its adapter says the vendor documents redirects (``follow_redirects=True``:
    Freshsales, whose API docs say a 301/302 may send an http request to https; none of
    the other four vendors' docs mention a redirect), only for a GET, only to the exact
    same origin: scheme, host and port (decision: an http->https "upgrade" would send the
    credentials to another port, i.e. another server, so it is reported, not followed;
    crmtui's Freshsales URLs are https already), at most ``MAX_REDIRECTS`` times. The
    credentials then go only where they were meant to go. Any other 3xx raises
    ``Redirected`` naming the host the server pointed to (or "no valid address" when its
    Location cannot be parsed); for a write nothing is followed and nothing is assumed
    applied, except 303 ("See Other"), which by RFC 9110 answers a request that was
    processed, so it is ``maybe_applied``.

Plain http to ``NAME.localhost``
    Served only when the origin is mounted in-process (``Http.mount_app``); otherwise it
    is refused, both when a session is made and when a request is routed, since the
    system resolver would ask DNS for the name (see ``crmtui.http.urls``).

Size
    A reply larger than ``Http.max_reply_bytes`` (20 MB by default) is refused with
    ``ReplyTooLarge`` before it is read whole: a ``Content-Length`` over the limit is
    refused before the body is read, and the body is counted while it streams in, both
    as sent and as it is unpacked (gzip and deflate are unpacked by the transport, a
    step at a time, so a small body that unpacks to gigabytes is refused at the limit).

Cookies
    The shared client keeps no cookie jar: a cookie set by one profile's server would
    otherwise go to any other server on the same host (cookies ignore ports). An adapter
    that needs a session cookie keeps it in its own auth (SalesSeek's ``CookieLogin``).
"""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import json as jsonlib
import random
import re
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from datetime import UTC
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from crmtui import jsonslices
from crmtui.http import errors
from crmtui.http.limiter import RateLimiter
from crmtui.http.log import LogEntry, Redactor, RequestLog, guard_library_logs
from crmtui.http.urls import (
    LOOPBACK_EXAMPLE,
    check_base_url,
    check_url,
    is_local_name,
    origin,
    same_origin,
    shown,
    valid_address,
)
from crmtui.model import whole_text

ErrorParser = Callable[[httpx.Response], str | None]
"""Reads the vendor's own error message from an error response (None if it has none)."""


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object, or None (for error parsers: bodies may be anything).
    Read as every reply is (``loads``): its text made whole."""
    try:
        body = loads(response.content)
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
USER_AGENT = "crmtui"
DEFAULT_MAX_REPLY_BYTES = 20_000_000
LARGE_BODY = 1_000_000  # bytes of a reply from which it is decoded in a thread

# httpcore reads a reply's body 64 KiB at a time, and each read is a trip on the event
# loop through anyio (a cancel scope for the read timeout), h11 and httpx's stream
# layers. asyncio's socket transport receives up to 256 KiB at once; taking that much per
# read makes a fourth of the trips. Measured on loopback (load ~8), the loop's CPU to
# read one 19 MB reply: 54-98 ms in 64 KiB reads, 41-74 ms in 256 KiB reads (a Freshsales
# record refresh reads two: the record and its timeline). A small reply is unchanged (a
# read returns what has arrived). It is httpcore's class attribute, as its connection
# pools make the connections; raised, never lowered.
_BODY_READ_BYTES = 256 * 1024
httpcore.AsyncHTTP11Connection.READ_NUM_BYTES = max(
    httpcore.AsyncHTTP11Connection.READ_NUM_BYTES, _BODY_READ_BYTES
)
_DECODED = "_crmtui_decoded"  # a checked response's decoded body (see ``_check``)
MAX_REDIRECTS = 5
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _NoCookies(DefaultCookiePolicy):
    """Cookies are never stored nor sent by the shared client (see the module notes)."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False


class _TooLarge(Exception):
    """Internal signal: a reply passed the size limit (``size`` bytes so far, or claimed)."""

    def __init__(self, size: int, limit: int, claimed: bool = False) -> None:
        super().__init__(f"{size} > {limit}")
        self.size = size
        self.limit = limit
        self.claimed = claimed


class _LimitedStream(httpx.AsyncByteStream):
    """A response body that raises ``_TooLarge`` once more than ``limit`` bytes came in.

    With ``unpack`` (a gzip or deflate body) it also unpacks the body, at most
    ``_UNPACK_STEP`` bytes at a time, so a small compressed body that unpacks to
    gigabytes is refused after ``limit`` bytes, not after it was unpacked whole.
    """

    def __init__(self, stream: httpx.AsyncByteStream, limit: int, *, unpack: bool) -> None:
        self._stream = stream
        self._limit = limit
        # wbits MAX_WBITS | 32: a gzip or a zlib header, found from the first bytes.
        self._unpacker = zlib.decompressobj(zlib.MAX_WBITS | 32) if unpack else None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        received = size = 0
        async for chunk in self._stream:
            received += len(chunk)
            if received > self._limit:
                await self._stream.aclose()
                raise _TooLarge(received, self._limit)
            for part in self._unpack(chunk):
                size += len(part)
                if size > self._limit:
                    await self._stream.aclose()
                    raise _TooLarge(size, self._limit)
                yield part
        if self._unpacker is not None:
            tail = self._unpacker.flush()
            if size + len(tail) > self._limit:
                raise _TooLarge(size + len(tail), self._limit)
            if tail:
                yield tail

    def _unpack(self, chunk: bytes) -> Iterator[bytes]:
        if self._unpacker is None:
            yield chunk
            return
        try:
            while chunk:
                part = self._unpacker.decompress(chunk, _UNPACK_STEP)
                chunk = self._unpacker.unconsumed_tail
                if part:
                    yield part
        except zlib.error as exc:
            raise httpx.DecodingError(f"the body is not valid gzip or deflate: {exc}") from None

    async def aclose(self) -> None:
        await self._stream.aclose()


_UNPACK_STEP = 64 * 1024
_PACKED = {"gzip", "x-gzip", "deflate"}


class WriteTrace:
    """Whether a write of the current operation reached the vendor (or may have).

    An adapter's operation may be several requests: a create that posts, then reads the
    new record back. If the read fails after the post was applied, the operation's error
    must still say ``maybe_applied``. ``with WriteTrace():`` around the operation (the
    service's ``Crm.call`` does it) marks every ``CrmError`` leaving it accordingly;
    sessions record into the innermost trace (and so every enclosing one).
    """

    def __init__(self) -> None:
        self.maybe_applied = False
        self._parent: WriteTrace | None = None
        self._token: contextvars.Token[WriteTrace | None] | None = None

    def mark(self) -> None:
        trace: WriteTrace | None = self
        while trace is not None:
            trace.maybe_applied = True
            trace = trace._parent

    def __enter__(self) -> WriteTrace:
        self._parent = _TRACE.get()
        self._token = _TRACE.set(self)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _TRACE.reset(self._token)
            self._token = None
        if isinstance(exc, errors.CrmError) and self.maybe_applied:
            exc.maybe_applied = True


_TRACE: contextvars.ContextVar[WriteTrace | None] = contextvars.ContextVar(
    "crmtui_write_trace", default=None
)


def _mark_write() -> None:
    trace = _TRACE.get()
    if trace is not None:
        trace.mark()


class _NonFinite(ValueError):
    """NaN or Infinity in a JSON body: not JSON (RFC 8259), so not what a vendor sends."""


def _refuse_constant(name: str) -> Any:
    raise _NonFinite(name)


def loads(content: bytes | str) -> Any:
    """A vendor's JSON: numbers strictly (``NaN``, ``Infinity`` and ``-Infinity`` are
    refused: ``_NonFinite``), text as data.

    Vendor text is data, so one odd string never fails the reply that holds it (a sync
    page of a hundred records). Decision: this is the one place a vendor's JSON is read
    (every reply of every session, error bodies too: ``json_object``), and what it returns
    is text any UTF-8 writer takes (the cache, the search index, the screen, a log, an
    export, the clipboard), so no later layer checks again:

    - bytes that are not UTF-8 (a surrogate written as UTF-8 bytes among them) read as
      U+FFFD, as a browser reads them;
    - a lone ``\\udXXX`` escape (valid JSON, which Python keeps as a lone surrogate) reads
      as U+FFFD; a pair stays the character it stands for; the rest of the text as sent;
    - control characters left unescaped inside a string (a NUL, a tab: not JSON, which
      wants them escaped) are kept as the characters, like their escapes (``strict``
      off): the screen shows no control character whichever way it came
      (``crmtui.text``).

    A large body's long strings are decoded a slice at a time (``jsonslices``): the
    thread decoding a reply with a 20 MB field lets the event loop run meanwhile.
    """
    if isinstance(content, str):  # a body already text: made whole if it holds a surrogate
        text = whole_text(content) if _SURROGATE.search(content) else content
        escaped = _SURROGATE_ESCAPE_TEXT.search(text) is not None
    else:  # UTF-8, or UTF-16 or -32 told by its first bytes, as ``json.loads`` tells them
        encoding = jsonlib.detect_encoding(content)
        text = content.decode(encoding, "replace")
        # An escape is ASCII: looked for in a UTF-8 body's bytes (much faster than in
        # text that is not ASCII), in the text of any other.
        if encoding.startswith("utf-8"):
            escaped = _SURROGATE_ESCAPE.search(content) is not None
        else:
            escaped = _SURROGATE_ESCAPE_TEXT.search(text) is not None
    if len(text) >= LARGE_BODY:
        value = jsonslices.loads(text, parse_constant=_refuse_constant, strict=False)
    else:
        value = jsonlib.loads(text, parse_constant=_refuse_constant, strict=False)
    return _mended(value) if escaped else value


# A ``\udXXX`` escape (a surrogate): JSON lets a reply carry one alone, which Python keeps
# as a lone surrogate that no UTF-8 write (the cache, the screen) can take.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_TEXT = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _mended(value: Any) -> Any:
    """``value`` (decoded JSON, or a write's body) with every string made whole
    (``crmtui.model.whole_text``)."""
    if isinstance(value, str):
        return whole_text(value)
    if isinstance(value, list):
        return [_mended(item) for item in value]
    if isinstance(value, tuple):  # a query's (name, value) pairs
        return tuple(_mended(item) for item in value)
    if isinstance(value, dict):
        return {_mended(key): _mended(item) for key, item in value.items()}
    return value


_TLS: list[Any] = []  # httpx's TLS settings (certifi's roots), built once a process


def network_transport() -> httpx.AsyncHTTPTransport:
    """The transport to the network. Its TLS settings are httpx's own, built once and
    shared by every client: building them reads the whole CA bundle (20 ms of CPU)."""
    if not _TLS:
        _TLS.append(httpx.create_ssl_context())
    return httpx.AsyncHTTPTransport(retries=0, verify=_TLS[0])


class RoutingTransport(httpx.AsyncBaseTransport):
    """Sends requests for mounted origins to in-process ASGI apps, the rest to the network."""

    def __init__(
        self,
        default: httpx.AsyncBaseTransport | None = None,
        *,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
    ) -> None:
        self._default = default or network_transport()
        self._mounts: dict[str, httpx.AsyncBaseTransport] = {}
        self.max_reply_bytes = max_reply_bytes

    def mount(self, origin: str, transport: httpx.AsyncBaseTransport) -> None:
        self._mounts[origin.rstrip("/").lower()] = transport

    def mount_app(self, origin: str, app: Any) -> None:
        self.mount(origin, httpx.ASGITransport(app=app))

    def mounted(self, url: str | httpx.URL) -> bool:
        """Whether ``url``'s origin is served by an in-process app."""
        return origin(url) in self._mounts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._limit(await self._route(request))
        _hide_bad_location(request, response)
        return response

    async def _route(self, request: httpx.Request) -> httpx.Response:
        transport = self._mounts.get(origin(request.url))
        if transport is None:
            if request.url.scheme == "http" and is_local_name(request.url.host):
                raise _NotMounted(request.url)  # never to DNS in cleartext
            return await self._default.handle_async_request(request)
        # ASGITransport ignores timeouts; enforce the read timeout as a server would.
        read = request.extensions.get("timeout", {}).get("read")
        try:
            async with asyncio.timeout(read):
                return await transport.handle_async_request(request)
        except TimeoutError:
            raise httpx.ReadTimeout("the in-process app did not answer", request=request) from None

    async def _limit(self, response: httpx.Response) -> httpx.Response:
        """Refuse a claimed size over the limit now; count the rest as it streams in."""
        limit = self.max_reply_bytes
        claimed = response.headers.get("Content-Length", "").strip()
        if claimed.isdigit() and int(claimed) > limit:
            await response.aclose()
            raise _TooLarge(int(claimed), limit, claimed=True)
        stream = response.stream
        if isinstance(stream, httpx.AsyncByteStream):
            encoding = response.headers.get("Content-Encoding", "").strip().lower()
            unpack = encoding in _PACKED
            if unpack:  # unpacked here, within the limit, so httpx must not do it again
                del response.headers["Content-Encoding"]
            response.stream = _LimitedStream(stream, limit, unpack=unpack)
        return response

    async def aclose(self) -> None:
        await self._default.aclose()
        for transport in self._mounts.values():
            await transport.aclose()


class _NotMounted(httpx.ConnectError):
    """A plain-http ``NAME.localhost`` origin that no in-process app serves: not sent."""

    def __init__(self, url: httpx.URL | str) -> None:
        super().__init__(_not_mounted(str(url)))


def _not_mounted(url: str) -> str:
    return (
        f"{shown(url)!r} is not an in-process sandbox, and crmtui does not send plain http "
        f"to a .localhost name that DNS may answer; for a sandbox you run, use its loopback "
        f'address, e.g. "{LOOPBACK_EXAMPLE}"'
    )


def location(request: httpx.Request, response: httpx.Response) -> httpx.URL | None:
    """Where a 3xx points (as httpx works it out), or None: absent or unparsable."""
    value = response.headers.get("Location")
    if value is None:
        return None
    try:
        url = httpx.URL(value.strip())
        if url.scheme and not url.host:
            url = url.copy_with(host=request.url.host)
        if url.is_relative_url:
            url = request.url.join(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        return None
    return url if valid_address(str(url)) else None


def _hide_bad_location(request: httpx.Request, response: httpx.Response) -> None:
    """Drop a redirect's Location that cannot be parsed.

    httpx works out the next request of every redirect, even one it is told not to
    follow, and raises ``RemoteProtocolError`` (or ``InvalidURL``) for a Location it
    cannot parse: the answer would be lost and look like a dropped connection. Without
    the header the session sees the 3xx and reports it ("to no valid address").
    """
    redirect = 300 <= response.status_code < 400 and "Location" in response.headers
    if redirect and location(request, response) is None:
        del response.headers["Location"]


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
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
    ) -> None:
        self.transport = RoutingTransport(network, max_reply_bytes=max_reply_bytes)
        self.client = httpx.AsyncClient(
            transport=self.transport,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,  # sessions decide (see the module notes)
            cookies=CookieJar(policy=_NoCookies()),  # no shared jar: cookies are per profile
        )
        self.log = RequestLog()
        self.redact = Redactor()
        guard_library_logs(self.redact)  # httpx logs full URLs at INFO
        self.max_retries = max_retries
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.max_wait = max_wait
        self.sleep = sleep

    @property
    def max_reply_bytes(self) -> int:
        """Replies larger than this are refused (``ReplyTooLarge``) before they are read."""
        return self.transport.max_reply_bytes

    @max_reply_bytes.setter
    def max_reply_bytes(self, value: int) -> None:
        self.transport.max_reply_bytes = value

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
        follow_redirects: bool = False,
    ) -> VendorSession:
        """A profile's session. ``follow_redirects``: only for a vendor whose API docs say
        it redirects (reads only, same origin only; see the module notes).

        ``InsecureURL`` for a base URL that may not be used, including a plain-http
        ``NAME.localhost`` origin that is not mounted in-process.
        """
        check_base_url(base_url)
        parts = urlsplit(base_url)
        if (
            parts.scheme == "http"
            and is_local_name(parts.hostname or "")
            and not self.transport.mounted(base_url)
        ):
            raise errors.InsecureURL(_not_mounted(base_url))
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
            follow_redirects=follow_redirects,
        )

    def scrub(self, error: errors.CrmError) -> errors.CrmError:
        """``error`` with every secret redacted from its text, and from the errors
        chained to it (``raise ... from exc``), which a traceback prints too.

        For every boundary where an error leaves for the user, a log or the cache (the
        service's ``Crm.call``): whatever an adapter built from a reply is redacted there.
        A chained error whose text held a secret is cut from the chain.
        """
        error.message = self.redact(error.message)
        error.hint = self.redact(error.hint) if error.hint else error.hint
        error.args = (str(error),)
        chained = error.__cause__ or error.__context__
        if chained is not None and not self.clean(chained):
            error.__cause__ = None
            error.__context__ = None
            error.__suppress_context__ = True
        return error

    def clean(self, exc: BaseException) -> bool:
        """Whether ``exc`` and every error chained to it hold no secret in their text
        (so it may be kept as a cause: ``raise ... from (exc if clean else None)``)."""
        seen: BaseException | None = exc
        for _ in range(20):
            if seen is None:
                return True
            if self.redact(str(seen)) != str(seen):
                return False
            seen = seen.__cause__ or seen.__context__
        return False

    async def aclose(self) -> None:
        await self.client.aclose()


def _port(url: httpx.URL) -> int | None:
    return url.port if url.port is not None else {"http": 80, "https": 443}.get(url.scheme)


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
# The answer a vendor gives before it processes a request, never a proxy after passing
# it on: a write refused so may be sent again (see the module notes: not 503 nor 408).
_NOT_PROCESSED = {429}
# Exceptions after which a request surely did not reach the server: no connection was
# made. Anything later (a write or read error, a read timeout, a dropped connection) may
# come after the server got the whole request.
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
        follow_redirects: bool = False,
    ) -> None:
        self.http = http
        self.profile = profile
        self.vendor = vendor
        self.base_url = base_url.rstrip("/") + "/"
        self.auth = auth
        self.limiter = limiter
        self.parse_error = parse_error
        self.timeout = timeout
        self.follow_redirects = follow_redirects
        self.on_response: list[Callable[[httpx.Response], None]] = []
        self.requests_sent = 0
        self.online: bool | None = None  # None until the first request

    def url(self, path: str) -> str:
        """The URL of ``path`` under the base URL; an absolute URL (a vendor's "next"
        link) must be https (or loopback http) on the base URL's own origin."""
        if path.startswith(("http://", "https://")):
            check_url(path)
            if not same_origin(path, self.base_url):
                raise errors.InsecureURL(
                    f"{shown(path)!r} is not on {shown(self.base_url)!r}; the profile's "
                    "credentials are sent to its own vendor only"
                )
            return path
        return self.base_url + path.lstrip("/")

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and decode its JSON body (``None`` for an empty body)."""
        response = await self.request(method, path, **kwargs)
        return self.decode(response)

    def decode(self, response: httpx.Response) -> Any:
        """The body as strict JSON, or ``BadResponse`` (``maybe_applied`` for a write)."""
        decoded = response.__dict__.pop(_DECODED, _DECODED)  # once, by ``_check``
        if decoded is not _DECODED:
            return decoded
        if not response.content.strip():
            return None
        method = response.request.method
        where = f"the reply to {method} {self._path(response.request.url)}"
        try:
            return loads(response.content)
        except _NonFinite as exc:
            what = f"{where} held {exc}, which JSON does not allow"
        except RecursionError:  # Python's decoder refuses JSON nested a thousand deep
            what = f"{where} was JSON nested too deeply to be read"
        except ValueError:
            what = f"{where} was not valid JSON"
        raise errors.BadResponse(
            self.vendor,
            what,
            status=response.status_code,
            maybe_applied=method in WRITE_METHODS,
        ) from None

    async def _check(self, response: httpx.Response) -> None:
        """Decode a body (in a thread when large: a 19 MB reply held the event loop a
        fifth of a second); the next ``decode`` of the response returns it, not a copy."""
        if len(response.content) < LARGE_BODY:
            decoded = self.decode(response)
        else:
            decoded = await asyncio.to_thread(self.decode, response)
        response.__dict__[_DECODED] = decoded

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

        Raises a ``CrmError`` subclass for everything else, with ``maybe_applied`` set
        when a write may have reached the vendor (see the module notes).
        """
        method = method.upper()
        write = method in WRITE_METHODS
        url = self.url(path)
        attempt = 0
        hops = 0
        while True:
            attempt += 1
            await self.limiter.acquire(cost)
            started = time.perf_counter()
            try:
                response = await self._send(method, url, params, json, data, headers)
            except _TooLarge as exc:
                self._log(method, url, None, started, attempt, "ReplyTooLarge")
                if write:
                    _mark_write()
                raise self._too_large(method, url, exc, write) from None
            except httpx.DecodingError as exc:  # e.g. says gzip but is not
                self._log(method, url, None, started, attempt, type(exc).__name__)
                if write:
                    _mark_write()
                raise errors.BadResponse(
                    self.vendor, "the reply could not be decoded", maybe_applied=write
                ) from None
            except httpx.TransportError as exc:
                self._log(method, url, None, started, attempt, type(exc).__name__)
                not_sent = isinstance(exc, _NOT_SENT)
                if isinstance(exc, _NotMounted):
                    raise errors.Offline(self.vendor, str(exc), hint="") from None
                if attempt <= self.http.max_retries and (not write or not_sent):
                    await self.http.sleep(self._backoff(attempt))
                    continue
                self.online = False
                if write and not not_sent:
                    _mark_write()
                raise self._transport_error(exc, maybe_applied=write and not not_sent) from None
            self.requests_sent += 1
            self.online = True
            self._log(method, response.request.url, response.status_code, started, attempt)
            for hook in self.on_response:
                hook(response)
            status = response.status_code
            if 200 <= status < 300:
                if write:
                    _mark_write()
                elif expect_json and status == 200:
                    # A GET whose body is garbled is a transient fault (e.g. a proxy page).
                    try:
                        await self._check(response)
                    except errors.BadResponse:
                        if attempt <= self.http.max_retries and self._garbled(response):
                            await self.http.sleep(self._backoff(attempt))
                            continue
                        raise
                return response
            if 300 <= status < 400:
                target = location(response.request, response)
                if (
                    not write
                    and self.follow_redirects
                    and target is not None
                    and self._same_origin(response.request.url, target)
                    and hops < MAX_REDIRECTS
                ):
                    hops += 1
                    attempt -= 1  # a documented hop is not a failed try
                    url, params = str(target), None  # the Location holds the query
                    continue
                maybe = write and status == 303
                if maybe:
                    _mark_write()
                raise self._redirect_error(response, target, maybe_applied=maybe)
            error = self._status_error(response, write=write)
            if error.maybe_applied:
                _mark_write()
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if status == 429:
                self.limiter.penalise(retry_after if retry_after is not None else 1.0)
            transient = status in _TRANSIENT_STATUS
            may_retry = not write or status in _NOT_PROCESSED
            if transient and may_retry and attempt <= self.http.max_retries:
                wait = retry_after if retry_after is not None else self._backoff(attempt)
                if wait <= self.http.max_wait:
                    await self.http.sleep(wait)
                    continue
            raise error

    async def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None,
        json: Any,
        data: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        """One exchange, its body read with the size limit (also after decompression)."""
        client = self.http.client
        timeout = self.timeout if self.timeout is not None else httpx.USE_CLIENT_DEFAULT
        try:
            request = client.build_request(
                method, url, params=params, json=json, data=data, headers=headers, timeout=timeout
            )
        except UnicodeEncodeError:
            # Decision: text with a lone surrogate (a notebook's "\ud800", say) is sent
            # with U+FFFD in its place, pairs as their character, as ``loads`` reads a
            # reply: httpx writes a body as UTF-8 (``ensure_ascii`` off), which refuses a
            # lone surrogate, and an escape of it would leave the vendor to store or refuse
            # half a character. Mended only on this rare refusal: no other write pays.
            request = client.build_request(
                method,
                url,
                params=_mended(params),
                json=_mended(json),
                data=_mended(data),
                headers=headers,
                timeout=timeout,
            )
        response = await client.send(
            request,
            auth=self.auth if self.auth is not None else httpx.USE_CLIENT_DEFAULT,
            stream=True,
        )
        try:
            limit = self.http.max_reply_bytes
            size = 0
            chunks: list[bytes] = []
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:  # a compressed body that grows past the limit
                    raise _TooLarge(size, limit)
                chunks.append(chunk)
            # httpx keeps a read body here (``Response.aread`` does the same). A large one
            # is joined in a thread: copying 19 MB blocked the event loop for tens of
            # milliseconds (``bytes.join`` lets go of the interpreter's lock meanwhile).
            if size < LARGE_BODY:
                response._content = b"".join(chunks)
            else:
                response._content = await asyncio.to_thread(b"".join, chunks)
        finally:
            await response.aclose()
        return response

    def _garbled(self, response: httpx.Response) -> bool:
        """A body cut short or mangled (worth another try), not a whole strange one."""
        try:
            loads(response.content)
        except (_NonFinite, RecursionError):
            return False
        except ValueError:
            return True
        return False

    # -- helpers -------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.http.backoff_cap, self.http.backoff * 2.0 ** (attempt - 1))
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

    def _transport_error(
        self, exc: httpx.TransportError, *, maybe_applied: bool
    ) -> errors.CrmError:
        if isinstance(exc, httpx.TimeoutException):
            what = "the server did not answer in time"
        elif isinstance(exc, httpx.ConnectError):
            what = "could not connect to the server"
        else:
            what = "the connection was dropped"
        if maybe_applied:
            what += " after the request was sent, so it may have been applied"
        return errors.Offline(self.vendor, what, maybe_applied=maybe_applied)

    def _too_large(
        self, method: str, url: str, exc: _TooLarge, write: bool
    ) -> errors.ReplyTooLarge:
        limit = f"{exc.limit / 1e6:.3g} MB"
        size = f"claimed to be {exc.size / 1e6:.3g} MB" if exc.claimed else f"was over {limit}"
        return errors.ReplyTooLarge(
            self.vendor,
            f"the reply to {method} {self._path(url)} {size}, more than the limit of "
            f"{limit}, and was not read",
            maybe_applied=write,
        )

    @staticmethod
    def _same_origin(here: httpx.URL, target: httpx.URL) -> bool:
        """Same scheme, host and port (the default port written or not), no user@."""
        if target.userinfo:
            return False
        return (here.scheme, here.host.lower(), _port(here)) == (
            target.scheme,
            target.host.lower(),
            _port(target),
        )

    def _redirect_error(
        self, response: httpx.Response, target: httpx.URL | None, *, maybe_applied: bool
    ) -> errors.Redirected:
        request = response.request
        what = f"{request.method} {self._path(request.url)} was answered with a redirect"
        if target is None:
            what += " to no valid address"
        elif self._same_origin(request.url, target):
            what += f" to {self._path(target)} on the same host ({target.host})"
        elif target.host.lower() == request.url.host.lower():
            where = f"{target.scheme}://{target.netloc.decode('ascii')}{self._path(target)}"
            what += f" to {where} (the same host, another scheme or port)"
        else:
            what += f" to another host, {target.host}"
        if request.method in WRITE_METHODS:
            what += "; crmtui does not send an edit elsewhere"
            if maybe_applied:
                what += " (HTTP 303 says it may have been applied)"
        return errors.Redirected(
            self.vendor,
            self.http.redact(what),
            status=response.status_code,
            maybe_applied=maybe_applied,
        )

    def _vendor_message(self, response: httpx.Response) -> str | None:
        if self.parse_error is not None:
            try:
                message = self.parse_error(response)
            except Exception:
                message = None
            if message:
                return self.http.redact(str(message).strip())
        return None

    def _status_error(self, response: httpx.Response, *, write: bool) -> errors.CrmError:
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
        # A 5xx or 408 may come after the vendor applied the write (or from a proxy
        # after it passed the request on); a 429 comes before it is processed.
        maybe = write and (status >= 500 or status == 408)
        return kind(
            self.vendor,
            message or default,
            status=status,
            retry_after=retry_after,
            maybe_applied=maybe,
        )
