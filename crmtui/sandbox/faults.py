"""Fault injection shared by every vendor sandbox.

Faults are switched on three ways: ``Faults(...)`` when building the app, the
``crmtui sandbox --fault`` options, and at run time by ``POST /_sandbox/faults`` with a
JSON body of the same fields (handy over loopback). Two modes:

* rates: each request fails with the given probability (drawn from a seeded RNG, so a
  run is repeatable);
* a queue: ``next`` lists the faults the next requests get, one each, in order
  (``["429", "500", "drop"]``), which is what tests use for exact scenarios.

Fault names: ``latency`` (sleep ``latency`` seconds), ``429`` (with ``Retry-After:
retry_after`` unless it is None), ``429-bare`` (no Retry-After), ``500``, ``502``,
``503``, ``drop`` (the connection is reset part-way through the body), ``malformed``
(a 200 whose JSON is cut short), ``html`` (a 502 HTML page from a "proxy"), ``expire``
(the session or token is treated as expired: a 401 as the vendor gives it), ``lost``
(the request is applied by the vendor app, then the connection is dropped before the
reply: the client sees a transport error after the write happened), ``late`` (the
request waits ``late_delay`` seconds, then is applied and answered: a client with a
shorter timeout gives up before the write lands), ``301`` ``302`` ``303`` ``307``
``308`` (a redirect to ``redirect_to`` + the request's path; nothing is applied, as a
misconfigured domain or a captive portal would answer).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTROL_PATH = "/_sandbox/faults"
FAULT_NAMES = (
    "latency",
    "429",
    "429-bare",
    "500",
    "502",
    "503",
    "drop",
    "malformed",
    "html",
    "expire",
    "lost",
    "late",
    "301",
    "302",
    "303",
    "307",
    "308",
)
REDIRECTS = ("301", "302", "303", "307", "308")


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised mid-body: uvicorn aborts the connection; in-process, httpx sees it as is."""


@dataclass
class Faults:
    latency: float = 0.0  # seconds added to every request
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_503: float = 0.0
    rate_drop: float = 0.0
    rate_malformed: float = 0.0
    rate_lost: float = 0.0
    rate_late: float = 0.0
    rate_redirect: float = 0.0  # drawn as a 302
    late_delay: float = 2.0  # seconds a ``late`` request waits before it is applied
    redirect_to: str = "https://login.elsewhere.example"
    retry_after: float | None = 1.0
    seed: int = 0
    next: deque[str] = field(default_factory=deque)
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self.next = deque(self.next)

    def update(self, values: dict[str, Any]) -> None:
        """Set faults; a setting of the wrong type is a ValueError (the control's 400),
        never stored: ``{"latency": "abc"}`` made every later request a 500."""
        if not isinstance(values, dict):
            raise ValueError("fault settings are a JSON object")
        names = {f.name for f in fields(self)} - {"counts"}
        checked: dict[str, Any] = {}  # all checked first: a refused update changes nothing
        for key, value in values.items():
            if key not in names:
                raise ValueError(f"unknown fault setting {key!r}")
            if key == "next":
                if not isinstance(value, list | tuple | deque):
                    raise ValueError(f"next is a list of faults; known: {FAULT_NAMES}")
                unknown = [v for v in value if not isinstance(v, str) or v not in FAULT_NAMES]
                if unknown:
                    raise ValueError(f"unknown faults {unknown}; known: {FAULT_NAMES}")
                checked[key] = deque(value)
            else:
                checked[key] = _setting(key, value)
        for key, value in checked.items():
            setattr(self, key, value)
        if "seed" in values:
            self._rng = random.Random(self.seed)

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["next"] = list(self.next)
        return out

    def draw(self) -> str | None:
        """The fault this request gets, if any."""
        if self.next:
            return self.next.popleft()
        roll = self._rng.random()
        for name, rate in (
            ("429", self.rate_429),
            ("500", self.rate_500),
            ("503", self.rate_503),
            ("drop", self.rate_drop),
            ("malformed", self.rate_malformed),
            ("lost", self.rate_lost),
            ("late", self.rate_late),
            ("302", self.rate_redirect),
        ):
            if roll < rate:
                return name
            roll -= rate
        return None


def _setting(key: str, value: Any) -> Any:
    """``value`` for the setting ``key`` if it has the setting's type, else ValueError."""
    if key == "redirect_to":
        ok = isinstance(value, str)
    elif key == "seed":
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:  # seconds and rates: numbers (retry_after may be null: no Retry-After)
        ok = (value is None and key == "retry_after") or (
            isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1e9
        )
    if not ok:
        raise ValueError(f"{key} cannot be {value!r}")
    return value


ErrorBody = Callable[[int, str], Response]
"""Builds the vendor's own error response for a status and message."""


class FaultMiddleware:
    """Wraps a vendor app; ``error`` builds errors in the vendor's own body format."""

    def __init__(
        self, app: ASGIApp, faults: Faults, error: ErrorBody, expire: Callable[[], None]
    ) -> None:
        self.app = app
        self.faults = faults
        self.error = error
        self.expire = expire

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == CONTROL_PATH:
            await self._control(scope, receive, send)
            return
        faults = self.faults
        if faults.latency:
            await asyncio.sleep(faults.latency)
        fault = faults.draw()
        if fault:
            faults.counts[fault] = faults.counts.get(fault, 0) + 1
        if fault in (None, "latency"):
            await self.app(scope, receive, send)
            return
        if fault == "expire":
            self.expire()
            await self.app(scope, receive, send)
            return
        if fault == "lost":
            await self._lost(scope, receive, send)
            return
        if fault == "late":
            await asyncio.sleep(faults.late_delay)
            await self.app(scope, receive, send)
            return
        if fault in REDIRECTS:
            target = faults.redirect_to.rstrip("/") + scope["path"]
            await Response(
                status_code=int(fault), headers={"Location": target}, media_type="text/html"
            )(scope, receive, send)
            return
        if fault in ("429", "429-bare"):
            response = self.error(429, "Too many requests, slow down")
            if fault == "429" and faults.retry_after is not None:
                response.headers["Retry-After"] = f"{faults.retry_after:g}"
        elif fault in ("500", "502", "503"):
            response = self.error(int(fault), "Internal error, please try again later")
        elif fault == "html":
            response = Response(
                "<html><head><title>502 Bad Gateway</title></head><body>"
                "<h1>502 Bad Gateway</h1><hr>nginx</body></html>",
                status_code=502,
                media_type="text/html",
            )
        elif fault == "malformed":
            await self._malformed(scope, receive, send)
            return
        else:  # drop
            await self._drop(send)
            return
        await response(scope, receive, send)

    async def _malformed(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b'{"data": [{"id": 1, "name": "trunc'
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _drop(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})
        raise ConnectionDropped("sandbox dropped the connection mid-body")

    async def _lost(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app handles the request in full; its reply never reaches the client."""

        async def swallow(message: Message) -> None:
            return None

        await self.app(scope, receive, swallow)
        await self._drop(send)

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method == "POST":
            try:
                self.faults.update(json.loads(await request.body() or b"{}"))
            except (ValueError, TypeError) as exc:
                await JSONResponse({"error": str(exc)}, status_code=400)(scope, receive, send)
                return
        await JSONResponse(self.faults.as_dict())(scope, receive, send)
