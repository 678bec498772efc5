"""One kit for every sandbox: a vendor's sandbox is declared as data, the kit serves it.

A vendor's sandbox is a :class:`Sandbox`: its :class:`~crmtui.sandbox.contract.Contract`
(every documented endpoint, from the seed), one handler per endpoint keyed by the
endpoint's ``"METHOD /path/{template}"``, how a caller proves who it is (:class:`Auth`:
a key in a header, HTTP Basic, a session cookie), the vendor's error envelope, its rate
limit (:class:`Limit`) and the context type its handlers get (:class:`Call` or a vendor
subclass of it, holding that vendor's request helpers). The kit does the rest, the same
way for all five vendors:

- **routes** come from the contract, never from a hand-written table: each documented
  path answers its documented methods, under the contract's ``mounts`` and with its
  ``optional_suffixes``; a wrong method on a documented path is a 405 and an unknown path
  a 404, both in the vendor's envelope. Every endpoint of the contract must have a handler
  and every handler must be a documented endpoint (checked when the :class:`Sandbox` is
  declared), so "the sandbox implements every documented endpoint" is not a promise but
  a construction rule. The sandbox's own routes (test controls under ``/_sandbox/``) are
  declared apart, as ``controls``.
- **auth, rate limit, errors**: each request is identified (``Auth`` → credential →
  ``who``), counted against its account's window (``Limit``), then handled; an
  :class:`ApiError` raised anywhere is answered in the vendor's envelope.
- **paging** styles shared by the vendors: :class:`PageNumber` (``page``/``per_page``)
  and :class:`Offset` (``offset``/``limit``, ``_start``/``_limit``, ``start``/``rows``).
- the :class:`~crmtui.sandbox.contract.Enforce` middleware (outermost) holds every
  request to the contract, and :class:`~crmtui.sandbox.faults.FaultMiddleware` injects
  the faults tests ask for.

``app.state`` keeps what tests read: ``db``, ``faults``, ``limit`` (the default account's
window), ``clock``, ``contract`` and ``sandbox`` (the :class:`Running` sandbox).
"""

from __future__ import annotations

import base64
import binascii
import inspect
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmtui.sandbox import SandboxClock
from crmtui.sandbox.contract import Contract, enforce
from crmtui.sandbox.faults import FaultMiddleware, Faults
from crmtui.sandbox.ratelimit import WindowLimit

Json = Any


class ApiError(Exception):
    """A refusal, answered in the vendor's envelope from ``status``, ``message`` and
    ``detail`` — or with ``body`` as given, when the vendor's error carries more (a list
    of problems). ``headers`` go with the answer (``Retry-After``)."""

    def __init__(
        self,
        status: int,
        message: str = "",
        detail: str = "",
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message or detail or str(status))
        self.status = status
        self.message = message
        self.detail = detail
        self.body = body
        self.headers = dict(headers or {})


# -- auth -------------------------------------------------------------------------------


class Auth(Protocol):
    """How a caller presents its credential; ``who`` (on :class:`Sandbox`) checks it."""

    def credential(self, request: Request) -> str | None: ...


@dataclass(frozen=True)
class HeaderKey:
    """A key in a header: ``Authorization: Bearer <key>`` (``prefix="Bearer "``),
    ``Authorization: Token token=<key>``, ``Api-Token: <key>``. ``query`` also takes it
    from that query parameter (an API that documents both)."""

    header: str
    prefix: str = ""
    query: str = ""

    def credential(self, request: Request) -> str | None:
        value = request.headers.get(self.header)
        if value is not None:
            if self.prefix and not value.lower().startswith(self.prefix.lower()):
                return None
            return value[len(self.prefix) :].strip() or None
        if self.query:
            return request.query_params.get(self.query) or None
        return None


@dataclass(frozen=True)
class BasicKey:
    """HTTP Basic: the credential is ``"user:secret"``."""

    def credential(self, request: Request) -> str | None:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        encoded = encoded.strip()  # "Basic  dTpz " as servers read it
        if scheme.lower() != "basic" or not encoded:
            return None
        try:
            return base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None


@dataclass(frozen=True)
class Cookie:
    """A session cookie set by a login endpoint (declared ``public``)."""

    name: str

    def credential(self, request: Request) -> str | None:
        return request.cookies.get(self.name) or None


# -- rate limit ---------------------------------------------------------------------------


class DayWindow(WindowLimit):
    """A window that is the UTC calendar day of ``clock`` (epoch seconds)."""

    _day: int = -1

    def _roll(self) -> None:
        day = int(self.clock() // 86400)
        if day != self._day:
            self._day, self._start, self.used = day, day * 86400.0, 0.0


@dataclass(frozen=True)
class Limit:
    """A vendor's rate limit: ``count`` cost units per ``window`` seconds (``daily``: per
    UTC calendar day), for each account (``per_key``) or for the whole sandbox.
    ``cost`` prices a call (Salesloft's deep pages cost more), ``refused`` is the
    vendor's 429 and ``headers`` the limit headers it sends on every answer;
    ``call_headers`` those that also depend on the call (Salesloft's
    ``x-ratelimit-endpoint-cost``), sent on every answer to an identified caller."""

    count: float
    window: float
    per_key: bool = True
    daily: bool = False
    cost: Callable[[Call], float] | None = None
    refused: Callable[[WindowLimit], ApiError] | None = None
    headers: Callable[[WindowLimit], Mapping[str, str]] | None = None
    call_headers: Callable[[WindowLimit, Call], Mapping[str, str]] | None = None

    def window_for(self, enabled: bool, clock: Callable[[], float]) -> WindowLimit:
        kind = DayWindow if self.daily else WindowLimit
        return kind(self.count, self.window, enabled=enabled, clock=clock)


# -- paging -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page of ``rows``: ``start`` (0-based offset), ``size`` and the ``total``."""

    rows: list[Any]
    start: int
    size: int
    total: int

    @property
    def number(self) -> int:
        return self.start // self.size + 1 if self.size else 1

    @property
    def pages(self) -> int:
        return -(-self.total // self.size) if self.size else 1

    @property
    def more(self) -> bool:
        return self.start + len(self.rows) < self.total


def _int(call: Call, name: str, default: int, minimum: int) -> int:
    raw = call.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        # ASCII only: Python's int() also reads other scripts' digits ("٣"), which no
        # vendor's parser takes for a number (Rails' to_i, PHP's intval read 0)
        if not raw.isascii():
            raise ValueError(raw)
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer", f"{name}={raw!r}") from None
    if value < minimum:
        raise ApiError(400, f"{name} must be at least {minimum}", f"{name}={raw!r}")
    return value


def ident(raw: str) -> int | None:
    """A record id as the vendors' routers read one from a path: ASCII digits that fit
    a 64-bit integer, else ``None`` (the vendor's 404: no such record). ``str.isdigit``
    alone lets "²" and "١٠١" through, and ``int()`` of 5,000 digits raises."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19):
        return None
    value = int(raw)
    return value if value < 2**63 else None


@dataclass(frozen=True)
class PageNumber:
    """``?page=N&per_page=M`` (1-based pages); a size above ``maximum`` is capped."""

    page: str = "page"
    size: str = "per_page"
    default: int = 25
    maximum: int = 100

    def of(self, call: Call, rows: list[Any]) -> Page:
        size = min(_int(call, self.size, self.default, 1), self.maximum)
        start = (_int(call, self.page, 1, 1) - 1) * size
        return Page(rows[start : start + size], start, size, len(rows))


@dataclass(frozen=True)
class Offset:
    """``?offset=N&limit=M`` (or ``_start``/``_limit``, ``start``/``rows``); ``every``:
    the size value that means "all rows" (SalesSeek's ``rows=-1``)."""

    start: str = "offset"
    size: str = "limit"
    default: int = 20
    maximum: int = 100
    every: int | None = None

    def of(self, call: Call, rows: list[Any]) -> Page:
        start = _int(call, self.start, 0, 0)
        raw = call.query.get(self.size)
        if self.every is not None and (raw is None or raw == str(self.every)):
            return Page(rows[start:], start, max(len(rows) - start, 1), len(rows))
        size = min(_int(call, self.size, self.default, 1), self.maximum)
        return Page(rows[start : start + size], start, size, len(rows))


# -- the call -------------------------------------------------------------------------------


class Call:
    """What a handler gets: the request, its path parameters, the caller's account
    (``key``, ``""`` on a public endpoint), the sandbox's data (``db``) and clock.
    A vendor subclasses it for its own request helpers (``Sandbox.context``)."""

    def __init__(self, request: Request, running: Running[Any], key: str) -> None:
        self.request = request
        self.running = running
        self.key = key
        self.params: dict[str, str] = dict(request.path_params)
        self._body: Any = _UNREAD

    @property
    def db(self) -> Any:
        return self.running.db

    @property
    def clock(self) -> SandboxClock:
        return self.running.clock

    @property
    def query(self) -> Any:
        return self.request.query_params

    def number(self, name: str, default: int, minimum: int = 0) -> int:
        """The integer query parameter ``name`` (``default`` when absent), or a 400."""
        return _int(self, name, default, minimum)

    async def raw(self) -> bytes:
        return await self.request.body()

    async def json(self) -> Any:
        """The body as JSON (``None`` when empty); a malformed one is the vendor's
        ``Sandbox.bad_body`` error."""
        if self._body is _UNREAD:
            raw = await self.request.body()
            try:
                self._body = _loads(raw) if raw.strip() else None
            except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
                raise self.running.sandbox.bad_body() from None
        return self._body

    async def object(self) -> dict[str, Any]:
        """The body as a JSON object, or the vendor's ``bad_body`` error."""
        body = await self.json()
        if not isinstance(body, dict):
            raise self.running.sandbox.bad_body()
        return body


_UNREAD = object()


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):  # 1e999
        raise ValueError(f"number out of range: {text}")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _loads(raw: bytes) -> Any:
    """Strict JSON, as the vendors' parsers read it: ``NaN``, ``Infinity`` and numbers
    out of a double's range are invalid JSON (Python's json reads them, and the sandbox
    then fails on every later answer holding the value: a 500 on each list). Nesting
    deeper than the interpreter's recursion limit is refused by the caller."""
    return json.loads(raw, parse_constant=_no_constant, parse_float=_finite)


C = TypeVar("C", bound=Call)
Handler = Callable[[C], Any | Awaitable[Any]]


def reply(
    body: Any = None, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON answer (``status`` 201 for a create); ``204`` sends no body."""
    if status == 204:
        return Response(status_code=204, headers=dict(headers or {}))
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


# -- the sandbox ----------------------------------------------------------------------------


def _default_bad_body() -> ApiError:
    return ApiError(400, "The request body is not valid JSON")


def _default_unauthorized(reason: str) -> ApiError:
    return ApiError(401, "Unauthorized", reason)


def _no_headers(status: int) -> Mapping[str, str]:
    return {}


@dataclass(frozen=True)
class Sandbox(Generic[C]):
    """A vendor's sandbox as data (see the module docstring).

    ``handlers``: ``"METHOD /template"`` (exactly as the contract writes the endpoint) →
    handler; ``public``: the keys of those that need no credential (a login);
    ``envelope(status, message, detail)``: the vendor's error body, ``error_headers``
    its headers (``WWW-Authenticate``); ``who(call, credential)``: the account a
    credential belongs to, or ``None`` (401 ``unauthorized``); ``default_account``: the
    seeded account whose rate-limit window is ``app.state.limit``; ``guard`` runs before
    every handler (a read-only key's 403); ``controls``: the sandbox's own routes
    (``/_sandbox/...``), never the vendor's; ``expire(db)``: what the ``expire`` fault
    also does to the data (SalesSeek's ends every session: the old cookie stays dead)."""

    contract: Contract
    handlers: Mapping[str, Handler[C]]
    envelope: Callable[[int, str, str], Any]
    auth: Auth
    who: Callable[[C, str], str | None]
    context: type[C]
    limit: Limit | None = None
    public: frozenset[str] = frozenset()
    default_account: str = ""
    unauthorized: Callable[[str], ApiError] = _default_unauthorized
    bad_body: Callable[[], ApiError] = _default_bad_body
    error_headers: Callable[[int], Mapping[str, str]] = _no_headers
    guard: Callable[[C], None] | None = None
    controls: tuple[Route, ...] = ()
    reasons: Mapping[int, str] = field(
        default_factory=lambda: {404: "Not Found", 405: "Method Not Allowed"}
    )
    expire: Callable[[Any], None] | None = None

    def __post_init__(self) -> None:
        documented = {f"{e.method} {e.path}" for e in self.contract.endpoints}
        missing = sorted(documented - set(self.handlers))
        extra = sorted(set(self.handlers) - documented)
        if missing or extra:
            raise ValueError(
                f"{self.contract.vendor} sandbox: documented endpoints without a handler:"
                f" {missing}; handlers for no documented endpoint: {extra}"
            )

    def error(self, status: int, message: str = "", detail: str = "") -> Response:
        body = self.envelope(status, message or self.reasons.get(status, "Error"), detail)
        return JSONResponse(body, status_code=status, headers=dict(self.error_headers(status)))

    def answer(self, exc: ApiError) -> Response:
        if exc.body is not None:
            response: Response = JSONResponse(exc.body, status_code=exc.status)
        else:
            response = self.error(exc.status, exc.message, exc.detail)
        response.headers.update(exc.headers)
        return response

    def app(
        self,
        db: Any,
        *,
        clock: SandboxClock,
        faults: Faults | None = None,
        rate_limit: bool = True,
        state: Mapping[str, Any] | None = None,
    ) -> Starlette:
        """The running sandbox over ``db``: a Starlette app held to the contract."""
        running = Running(self, db, clock, rate_limit)
        faults = faults if faults is not None else Faults()
        routes = [*self._routes(running)]
        routes += self.controls

        async def unrouted(request: Request, exc: Exception) -> Response:
            running.take_revocation()  # a fault drawn on an unknown path ends here
            status = exc.status_code if isinstance(exc, HTTPException) else 500
            response = self.error(status, "", f"{request.method} {request.url.path}")
            if isinstance(exc, HTTPException) and exc.headers:
                response.headers.update(exc.headers)  # a 405's Allow
            return response

        app = Starlette(
            routes=routes,
            middleware=[
                Middleware(
                    FaultMiddleware,
                    faults=faults,
                    error=lambda status, message: self.error(status, message),
                    expire=running.revoke,
                )
            ],
            exception_handlers={HTTPException: unrouted},
        )
        # No 307 from ``/x/`` to ``/x`` (Starlette's default): a path the contract does not
        # write is the vendor's 404; a vendor that takes both declares optional_suffixes.
        app.router.redirect_slashes = False
        app.state.db = db
        app.state.faults = faults
        app.state.limit = running.default_limit
        app.state.clock = clock
        app.state.sandbox = running
        for name, value in (state or {}).items():
            setattr(app.state, name, value)
        return enforce(app, self.contract)

    def _routes(self, running: Running[C]) -> list[Route]:
        by_path: dict[str, dict[str, Handler[C]]] = {}
        for key, handler in self.handlers.items():
            method, _, path = key.partition(" ")
            by_path.setdefault(path, {})[method] = handler
        # Literal paths before templated ones (``/deals/filters`` before ``/deals/{id}``).
        ordered = sorted(by_path, key=lambda p: (p.count("{"), -len(_LITERAL.sub("", p))))
        prefixes = ("", *self.contract.mounts)
        suffixes = ("", *self.contract.optional_suffixes)
        routes: list[Route] = []
        for path in ordered:
            endpoint = running.endpoint(by_path[path], path)
            methods = list(by_path[path])
            for prefix in prefixes:
                for suffix in suffixes:
                    if suffix and path.endswith(suffix):
                        continue
                    routes.append(Route(prefix + path + suffix, endpoint, methods=methods))
        return routes


_LITERAL = re.compile(r"\{[^}]+\}")


class Running(Generic[C]):
    """A served sandbox: its data, clock, rate-limit windows and the ``expire`` fault."""

    def __init__(self, sandbox: Sandbox[C], db: Any, clock: SandboxClock, enabled: bool) -> None:
        self.sandbox = sandbox
        self.db = db
        self.clock = clock
        self.revoked = False
        self._enabled = enabled
        limit = sandbox.limit
        self.default_limit = (
            limit.window_for(enabled, self._seconds)
            if limit is not None
            else WindowLimit(float("inf"), 1.0, enabled=False)
        )
        self._windows: dict[str, WindowLimit] = {sandbox.default_account: self.default_limit}

    def _seconds(self) -> float:
        return self.clock().timestamp()

    def revoke(self) -> None:
        """The ``expire`` fault: the next request's credential is refused. The fault
        middleware calls this just before it hands on the request drawing the fault, so
        that request is the one refused; a faulted request that carries no credential
        (a public login, a missing key, an unknown path) uses the fault up, so it never
        refuses a later, unrelated request."""
        self.revoked = True
        if self.sandbox.expire is not None:
            self.sandbox.expire(self.db)

    def window(self, key: str) -> WindowLimit:
        """The rate-limit window of account ``key`` (the one window when the limit is
        not per account); a new account's starts with the default one's switch."""
        limit = self.sandbox.limit
        if limit is None or not limit.per_key:
            return self.default_limit
        if key not in self._windows:
            self._windows[key] = limit.window_for(self.default_limit.enabled, self._seconds)
        return self._windows[key]

    def endpoint(
        self, handlers: Mapping[str, Handler[C]], path: str
    ) -> Callable[[Request], Awaitable[Response]]:
        sandbox = self.sandbox

        async def run(request: Request) -> Response:
            handler = handlers["GET" if request.method == "HEAD" else request.method]
            window: WindowLimit | None = None  # the caller's, once identified
            call: C | None = None
            revoked = self.take_revocation()
            try:
                call = self._identify(request, f"{request.method} {path}", revoked)
                window = self.window(call.key)
                self._take(call, window)
                if sandbox.guard is not None:
                    sandbox.guard(call)
                result = handler(call)
                if inspect.isawaitable(result):
                    result = await result
                response = result if isinstance(result, Response) else JSONResponse(result)
            except ApiError as exc:
                response = sandbox.answer(exc)
            limit = sandbox.limit
            if window is not None and limit is not None and limit.headers is not None:
                response.headers.update(limit.headers(window))
            if window is not None and limit is not None and limit.call_headers is not None:
                assert call is not None
                response.headers.update(limit.call_headers(window, call))
            return response

        return run

    def take_revocation(self) -> bool:
        """Whether an ``expire`` fault is pending for this request (used up here)."""
        revoked, self.revoked = self.revoked, False
        return revoked

    def _identify(self, request: Request, key: str, revoked: bool) -> C:
        sandbox = self.sandbox
        if key in sandbox.public:
            return sandbox.context(request, self, "")
        credential = sandbox.auth.credential(request)
        if credential is None:
            raise sandbox.unauthorized("no credential")
        if revoked:
            raise sandbox.unauthorized("the credential was revoked")
        call = sandbox.context(request, self, "")
        account = sandbox.who(call, credential)
        if account is None:
            raise sandbox.unauthorized("unknown credential")
        call.key = account
        return call

    def _take(self, call: C, window: WindowLimit) -> None:
        """Count ``call`` against its account's ``window``; the vendor's 429 past it."""
        limit = self.sandbox.limit
        if limit is not None and not window.take(limit.cost(call) if limit.cost else 1.0):
            if limit.refused is not None:
                raise limit.refused(window)
            raise ApiError(429, "Too Many Requests")


__all__ = [
    "ApiError",
    "Auth",
    "BasicKey",
    "Call",
    "Cookie",
    "DayWindow",
    "HeaderKey",
    "Limit",
    "Offset",
    "Page",
    "PageNumber",
    "Running",
    "Sandbox",
    "ident",
    "reply",
]
