"""A vendor's documented API as data, and the layer that holds a sandbox to it.

A :class:`Contract` lists a vendor's documented endpoints (:class:`Endpoint`: method, path
template, query parameters with their allowed values and operators, body fields that may
be written and those required, documented status codes) and says how the vendor answers
anything outside them (:class:`Answer`: a documented error, or the part ignored).
``crmtui/sandbox/<vendor>/contract.py`` declares each vendor's contract from its seed.

:func:`check` names every rule a request breaks (:class:`Violation`); the same function
serves the sandbox (:class:`Enforce`, an ASGI middleware in front of each sandbox app that
answers as the vendor would) and the test suite (a transport that fails any test in which
an adapter leaves the contract).

Query keys are read in the Rails/PHP bracket style the vendors use: ``name``,
``name[]`` (an array), ``name[op]`` (an operator such as ``gt``) and, for parameters whose
documented name has brackets (``filters[title]``, ``orders[cdate]``), the whole key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Kind = Literal["path", "method", "param", "value", "operator", "field", "required"]

RANGE = ("gt", "gte", "lt", "lte")
"""The four date-range operators (``updated_at[gt]=...``)."""


@dataclass(frozen=True)
class Param:
    """A documented query parameter: ``values`` lists what it may be (sort keys, enums;
    ``None``: any value), ``ops`` the bracket operators it takes (``updated_at[gt]``),
    ``array`` whether ``name[]=`` is accepted, ``plain`` whether it may be given without
    an operator. ``ops=("*",)`` takes any key in brackets (``custom_fields[Name]=``).
    ``sentinels`` are values with a meaning of their own it also takes (Salesloft's
    ``_is_null``), plain even when it is otherwise taken only with an operator."""

    name: str
    values: tuple[str, ...] | None = None
    ops: tuple[str, ...] = ()
    array: bool = False
    plain: bool = True
    note: str = ""
    sentinels: tuple[str, ...] = ()


def params(*names: str, array: bool = False) -> tuple[Param, ...]:
    """Several free-valued parameters at once (``array``: each also as ``name[]``)."""
    return tuple(Param(name, array=array) for name in names)


def ranged(name: str, ops: tuple[str, ...] = RANGE, *, plain: bool = False) -> Param:
    """A filter taken only with operators (``updated_at[gt]=...``)."""
    return Param(name, ops=ops, plain=plain)


def ignoring(
    endpoints: Iterable[Endpoint], why: Mapping[tuple[str, str], str]
) -> tuple[Endpoint, ...]:
    """``endpoints`` with each parameter named in ``why`` (``("GET /path", name)`` →
    reason) noted ``"ignored: <reason>"``: documented, taken, but deliberately not applied
    by the sandbox (which keeps nothing it could apply it to). A key naming no declared
    parameter is an error, so a note cannot outlive its parameter."""
    endpoints = tuple(endpoints)
    found: set[tuple[str, str]] = set()
    out: list[Endpoint] = []
    for e in endpoints:
        key = f"{e.method} {e.path}"
        query = e.query
        if query is not None and any((key, p.name) in why for p in query):
            query = tuple(
                replace(p, note=f"ignored: {why[(key, p.name)]}") if (key, p.name) in why else p
                for p in query
            )
            found.update((key, p.name) for p in query if (key, p.name) in why)
            e = replace(e, query=query)
        out.append(e)
    unknown = sorted(set(why) - found)
    if unknown:
        raise ValueError(f"ignored parameters that are not declared: {unknown}")
    return tuple(out)


def sort(name: str, *keys: str) -> Param:
    """A sort parameter and its documented keys."""
    return Param(name, values=keys)


@dataclass(frozen=True)
class Endpoint:
    """One documented operation.

    ``path`` is a template from the API root on the sandbox server (``/v2/tasks/{id}.json``);
    ``query`` its parameters (``None``: the documentation does not list them, so none is
    checked); ``fields`` the body fields that may be sent (``None``: not listed, not
    checked), ``required`` those that must be, ``any_of`` groups of which at least one
    field must be given (``("contact", "account")``), ``choices`` the values a field may
    take, ``wrapper`` the key the record sits under (``{"deal": {...}}``); ``status`` the
    documented success codes; ``source`` where in the seed it is documented."""

    method: str
    path: str
    query: tuple[Param, ...] | None = ()
    fields: tuple[str, ...] | None = None
    required: tuple[str, ...] = ()
    any_of: tuple[tuple[str, ...], ...] = ()
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    wrapper: str | None = None
    status: tuple[int, ...] = (200,)
    source: str = ""

    def matches(self, path: str) -> bool:
        return _template(self.path).fullmatch(path) is not None

    def param(self, name: str) -> Param | None:
        for p in self.query or ():
            if p.name == name:
                return p
        return None


@dataclass(frozen=True)
class Answer:
    """How the vendor answers a request that breaks a rule: ``status`` and ``body`` (an
    error, the request goes no further), ``ignore`` (the offending parameter or field is
    dropped and the rest served) or ``defer`` (the request goes on unchanged: the sandbox
    app answers it with the vendor's error, e.g. one that lists every problem of a body
    at once, as ActiveCampaign's does)."""

    status: int = 0
    body: Any = None
    ignore: bool = False
    defer: bool = False

    def response(self) -> Response:
        return JSONResponse(self.body, status_code=self.status)


IGNORE = Answer(ignore=True)
DEFER = Answer(defer=True)


@dataclass(frozen=True)
class Violation:
    """One rule a request breaks, e.g. kind ``param``, name ``updated_at[gt]``."""

    vendor: str
    method: str
    path: str  # the request path as sent
    kind: Kind
    name: str = ""  # the parameter or field
    value: str = ""
    endpoint: str = ""  # the template it matched, "" for an unknown path
    rule: str = ""  # the rule broken, in words

    def __str__(self) -> str:
        where = f"{self.method} {self.path}"
        what = f" {self.kind} {self.name!r}" if self.name else ""
        value = f"={self.value!r}" if self.value else ""
        return f"{self.vendor}: {where}:{what}{value} — {self.rule}"


@dataclass(frozen=True)
class Drift:
    """A request our own adapter still sends outside the contract, served as before until
    the adapter is fixed (each names the issue point that fixes it). The sandbox lets it
    through; the test suite's allowlist must name it too, or the test fails."""

    method: str
    endpoint: str  # the template ("" for an undocumented path: then ``name`` is the path)
    name: str  # the parameter, field or path
    point: str  # e.g. "issue 14 point 3: Salesloft task sync"

    def covers(self, v: Violation) -> bool:
        if self.method != v.method:
            return False
        if v.kind in ("path", "method"):
            return _template(self.name).fullmatch(v.path) is not None
        return self.endpoint == v.endpoint and _base(v.name) == self.name


@dataclass(frozen=True)
class Contract:
    """A vendor's documented API: its endpoints and how it answers the rest.

    ``answer(violation)`` gives the vendor's reply to a request breaking a rule (an
    :class:`Answer`). ``passthrough`` are path prefixes that are the sandbox's own (test
    controls), never the vendor's; ``optional_suffixes`` path endings the vendor treats as
    the same path (a trailing ``/``), ``mounts`` path prefixes the same API also answers
    under (Freshworks' ``/crm/sales``); ``common`` parameters any endpoint takes (auth in the
    query string). ``drifts`` are served as before (see :class:`Drift`). ``reserved`` are
    sentinel values a parameter takes only if its Param lists them (a ``value`` rule
    broken elsewhere)."""

    vendor: str
    endpoints: tuple[Endpoint, ...]
    answer: Callable[[Violation], Answer]
    common: tuple[Param, ...] = ()
    passthrough: tuple[str, ...] = ("/_sandbox/",)
    optional_suffixes: tuple[str, ...] = ()
    mounts: tuple[str, ...] = ()  # other roots the same API answers under
    drifts: tuple[Drift, ...] = ()
    notes: str = ""
    reserved: tuple[str, ...] = ()

    def find(self, method: str, path: str) -> tuple[Endpoint | None, bool]:
        """The endpoint for ``method path`` and whether the path is documented at all."""
        bases = [path] + [path.removeprefix(p) for p in self.mounts if path.startswith(p + "/")]
        candidates = bases + [
            b.removesuffix(s) for b in bases for s in self.optional_suffixes if b.endswith(s)
        ]
        known = False
        for candidate in candidates:
            for endpoint in self.endpoints:
                if endpoint.matches(candidate):
                    known = True
                    if endpoint.method == method or (method == "HEAD" and endpoint.method == "GET"):
                        return endpoint, True
        return None, known

    def check(
        self, method: str, path: str, query: Iterable[tuple[str, str]], body: Any = None
    ) -> list[Violation]:
        """Every rule ``method path?query`` with ``body`` (parsed JSON or form) breaks."""
        method = method.upper()
        if any(path.startswith(p) for p in self.passthrough):
            return []
        endpoint, known = self.find(method, path)

        def broken(kind: Kind, name: str = "", value: str = "", rule: str = "") -> Violation:
            template = endpoint.path if endpoint else ""
            return Violation(self.vendor, method, path, kind, name, value, template, rule)

        if endpoint is None:
            if known:
                return [broken("method", rule=f"{method} is not documented on this path")]
            return [broken("path", rule="no documented endpoint has this path")]
        found: list[Violation] = []
        if endpoint.query is not None:
            for key, value in query:
                found.extend(_check_param(endpoint, self.common, key, value, broken, self.reserved))
        if body is not None and (
            endpoint.fields is not None or endpoint.wrapper or endpoint.required or endpoint.any_of
        ):
            found.extend(_check_body(endpoint, body, broken))
        return found

    def tolerated(self, v: Violation) -> bool:
        return any(d.covers(v) for d in self.drifts)


def _check_param(
    endpoint: Endpoint,
    common: tuple[Param, ...],
    key: str,
    value: str,
    broken: Callable[..., Violation],
    reserved: tuple[str, ...] = (),
) -> list[Violation]:
    everything = (*(endpoint.query or ()), *common)
    by_name = {p.name: p for p in everything}
    if key in by_name:  # a documented name, brackets and all
        p, op, is_array = by_name[key], "", False
    else:
        base, op = _split(key)
        is_array = key.endswith("[]")
        found_param = by_name.get(base)
        if found_param is None:
            return [broken("param", key, value, "not a documented parameter of this endpoint")]
        p = found_param
        if is_array and not p.array:
            return [broken("param", key, value, f"{base} does not take an array")]
        if op and op not in p.ops and "*" not in p.ops:
            allowed = ", ".join(p.ops) or "none"
            return [broken("operator", key, value, f"{base} takes the operators: {allowed}")]
    parts = value.split(",") if p.array or p.sentinels else [value]
    stray = [v for v in parts if v in reserved and v not in p.sentinels]
    if stray:
        return [broken("value", key, value, f"{p.name} does not take {stray[0]}")]
    if not op and not p.plain and not is_array and not set(parts) <= set(p.sentinels):
        return [broken("operator", key, value, f"{p.name} is taken only with an operator")]
    if p.values is not None:
        values = value.split(",") if p.array else [value]
        bad = [v for v in values if v not in p.values and v not in p.sentinels]
        if bad:
            allowed = ", ".join(p.values)
            return [broken("value", key, value, f"{p.name} must be one of: {allowed}")]
    return []


def _check_body(endpoint: Endpoint, body: Any, broken: Callable[..., Violation]) -> list[Violation]:
    record = body
    if endpoint.wrapper is not None:
        if not isinstance(body, dict) or not isinstance(body.get(endpoint.wrapper), dict):
            return [
                broken(
                    "field", endpoint.wrapper, rule=f"the record goes under {endpoint.wrapper!r}"
                )
            ]
        record = body[endpoint.wrapper]
    if not isinstance(record, dict):
        return []
    found: list[Violation] = []
    names = {_base(k) for k in record}
    if endpoint.fields is not None:
        for name in sorted(names - set(endpoint.fields)):
            found.append(broken("field", name, rule="not a documented writable field here"))
    for name in endpoint.required:
        if name not in names or record.get(name) in (None, ""):
            found.append(broken("required", name, rule="a required field is missing"))
    for group in endpoint.any_of:
        if all(record.get(name) in (None, "") for name in group):
            found.append(
                broken("required", group[0], rule=f"one of {', '.join(group)} is required")
            )
    for name, choices in endpoint.choices.items():
        value = record.get(name)
        if value is not None and str(value) not in choices:
            allowed_values = ", ".join(choices)
            found.append(
                broken("value", name, str(value), f"{name} must be one of: {allowed_values}")
            )
    return found


_BRACKET = re.compile(r"^(?P<base>[^\[\]]+)\[(?P<op>[^\[\]]*)\](?:\[\])?$")


def _split(key: str) -> tuple[str, str]:
    """``updated_at[gt]`` → (``updated_at``, ``gt``); ``ids[]`` → (``ids``, ""); an
    operator taking an array, ``owner_crm_id[_not_in][]`` → (``owner_crm_id``,
    ``_not_in``)."""
    m = _BRACKET.match(key)
    if m is None:
        return key, ""
    return m["base"], m["op"]


def _base(key: str) -> str:
    return key.split("[", 1)[0]


_TEMPLATES: dict[str, re.Pattern[str]] = {}


def _template(path: str) -> re.Pattern[str]:
    """``/v2/tasks/{id}.json`` as a regular expression (``{x}`` = one path segment)."""
    pattern = _TEMPLATES.get(path)
    if pattern is None:
        parts = re.split(r"(\{[^}]+\})", path)
        regex = "".join("[^/]+?" if p.startswith("{") else re.escape(p) for p in parts)
        pattern = _TEMPLATES[path] = re.compile(regex)
    return pattern


def parse_body(content_type: str, raw: bytes) -> Any:
    """A request body as the contract reads it: JSON, form fields, or ``None``.

    Anything not declared a form is read as JSON when it is JSON, whatever its
    content type says (text/plain, none, blanks or a BOM before the ``{``, UTF-16):
    the kit's ``Call.json`` reads such a body as JSON too, so a body the contract did
    not check must never reach a handler."""
    if not raw:
        return None
    form = "x-www-form-urlencoded" in content_type
    if "json" in content_type or raw.lstrip()[:1] in (b"{", b"[") or not form:
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nesting 100,000 deep
            return None
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


SERVED: dict[str, Contract] = {}
"""The contract last served at each ``host:port`` in this process (a test reads it to
know which contract a loopback sandbox follows)."""


class Enforce:
    """ASGI middleware: answers a request outside ``contract`` as the vendor would.

    A rule whose answer is an error is answered here; a parameter or field the vendor
    ignores is dropped before the sandbox sees it; a tolerated :class:`Drift` goes through
    unchanged."""

    def __init__(self, app: ASGIApp, contract: Contract) -> None:
        self.app = app
        self.contract = contract

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        server = scope.get("server")
        if server:
            SERVED[f"{server[0]}:{server[1]}".lower()] = self.contract
        method: str = scope["method"]
        path: str = scope["path"]
        raw_query = scope.get("query_string", b"").decode("latin-1")
        query = parse_qsl(raw_query, keep_blank_values=True)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        content_type = headers.get("content-type", "")
        raw_body, receive = (
            await _read_body(receive) if method in ("POST", "PUT", "PATCH") else (b"", receive)
        )
        body = parse_body(content_type, raw_body)
        violations = [
            v
            for v in self.contract.check(method, path, query, body)
            if not self.contract.tolerated(v)
        ]
        drop_params: set[str] = set()
        drop_fields: set[str] = set()
        for v in violations:
            answer = self.contract.answer(v)
            if answer.defer:
                continue
            if not answer.ignore:
                await answer.response()(scope, receive, send)
                return
            if v.kind in ("param", "operator", "value") and v.endpoint and v.name in dict(query):
                drop_params.add(v.name)
            elif v.kind in ("field", "value"):
                drop_fields.add(v.name)
        if drop_params:
            kept = [(k, val) for k, val in query if k not in drop_params]
            scope = dict(scope, query_string=urlencode(kept).encode("latin-1"))
        if drop_fields and isinstance(body, dict):
            raw_body = _without(body, drop_fields, content_type, self.contract, method, path)
            scope = dict(scope, headers=_with_length(scope["headers"], len(raw_body)))
            receive = _replay(raw_body)
        await self.app(scope, receive, send)


def _without(
    body: dict[str, Any],
    names: set[str],
    content_type: str,
    contract: Contract,
    method: str,
    path: str,
) -> bytes:
    endpoint, _ = contract.find(method, path)
    wrapper = endpoint.wrapper if endpoint else None
    if wrapper is not None and isinstance(body.get(wrapper), dict):
        body = dict(
            body, **{wrapper: {k: v for k, v in body[wrapper].items() if _base(k) not in names}}
        )
    else:
        body = {k: v for k, v in body.items() if _base(k) not in names}
    if "x-www-form-urlencoded" in content_type:
        return urlencode(body).encode()
    return json.dumps(body).encode()


def _with_length(headers: list[tuple[bytes, bytes]], length: int) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    return [*kept, (b"content-length", str(length).encode())]


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a ``receive`` that hands it to the app again."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), _replay(b"".join(chunks), message)
        chunks.append(message.get("body", b""))
        more = bool(message.get("more_body"))
    return b"".join(chunks), _replay(b"".join(chunks), receive=receive)


def _replay(raw: bytes, last: Message | None = None, receive: Receive | None = None) -> Receive:
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        if last is not None:
            return last
        if receive is not None:
            return await receive()
        return {"type": "http.disconnect"}

    return again


def enforce(app: Starlette, contract: Contract) -> Starlette:
    """Put ``contract``'s :class:`Enforce` in front of a Starlette sandbox app (outermost)
    and keep the contract on ``app.state.contract`` for the tests."""
    app.add_middleware(Enforce, contract=contract)
    app.state.contract = contract
    return app


__all__ = [
    "DEFER",
    "IGNORE",
    "RANGE",
    "SERVED",
    "Answer",
    "Contract",
    "Drift",
    "Endpoint",
    "Enforce",
    "Param",
    "Violation",
    "enforce",
    "ignoring",
    "params",
    "parse_body",
    "ranged",
    "sort",
]
