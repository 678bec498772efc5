"""The shared sandbox kit under hostile requests: whatever a client sends, the answer is
the vendor's (a documented error in its envelope), never a 500, a Python traceback, a
redirect the vendor does not make, or a secret. Driven through the toy vendor's sandbox
(``tests.toyvendor.sandbox``) and a small declaration of our own with a rate limit,
HTTP Basic, a session cookie and a public login."""

from __future__ import annotations

import asyncio
import base64
import json
from collections import deque
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from crmtui.sandbox import SandboxClock
from crmtui.sandbox.contract import DEFER, Contract, Endpoint, params
from crmtui.sandbox.kit import (
    ApiError,
    Auth,
    BasicKey,
    Call,
    Cookie,
    HeaderKey,
    Limit,
    Offset,
    PageNumber,
    Sandbox,
    ident,
    reply,
)
from tests.toyvendor.sandbox import create_app

KEY = {"X-Toy-Key": "sandbox"}


def _client(app: Starlette) -> httpx.AsyncClient:
    # raise_app_exceptions (the default): a handler's exception fails the test itself
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://toy")


def _toy_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"error"}, response.text  # the toy's envelope
    assert "Traceback" not in response.text


# -- paths -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/things/101/",  # a trailing slash the toy does not document: no 307 to /101
        "/api/things/",
        "/api/things/101%2F",
        "//api/things",
        "/api/things/%2e%2e",
        "/api/things/²",  # str.isdigit() says yes, int() raises
        "/api/things/١٠١",  # Arabic-Indic 101: not the record 101
        "/api/things/" + "9" * 5000,  # int() refuses 4,300+ digits
        "/api/things/99999999999999999999",  # past a 64-bit id
        "/api/things/%F0%9F%98%80",
        "/api/nothing",
    ],
)
async def test_a_path_outside_the_contract_is_the_vendors_404(path: str) -> None:
    async with _client(create_app()) as api:
        response = await api.get(path, headers=KEY)
    _toy_error(response, 404)
    assert "location" not in response.headers


async def test_a_wrong_method_is_a_405_that_names_the_allowed_ones() -> None:
    async with _client(create_app()) as api:
        for method in ("PATCH", "OPTIONS"):
            response = await api.request(method, "/api/things/101", headers=KEY)
            _toy_error(response, 405)
            allowed = {m.strip() for m in response.headers["allow"].split(",")}
            assert {"GET", "PUT", "DELETE"} <= allowed
        head = await api.head("/api/things/101", headers=KEY)
        assert head.status_code == 200 and head.content == b""


def test_ident_reads_only_plain_ids() -> None:
    assert [ident(raw) for raw in ("101", "0", "²", "١٠١", "-1", "+1", " 1", "9" * 20)] == [
        101,
        0,
        None,
        None,
        None,
        None,
        None,
        None,
    ]


# -- bodies ------------------------------------------------------------------------------

_NOT_JSON = [
    b'{"thing": {"name": NaN}}',
    b'{"thing": {"name": "x", "price_cents": Infinity}}',
    b'{"thing": {"name": "x", "price_cents": -Infinity}}',
    b'{"thing": {"name": "x", "price_cents": 1e999}}',
    b'{"thing": {"name": "x", "price_cents": ' + b"9" * 5000 + b"}}",
    b"[" * 100_000 + b"]" * 100_000,
    b"\xff\xfe\x00",
    b'{"thing": {"name": "x"',
]


@pytest.mark.parametrize("body", _NOT_JSON, ids=range(len(_NOT_JSON)))
async def test_a_body_that_is_not_json_is_a_400_and_stores_nothing(body: bytes) -> None:
    app = create_app()
    async with _client(app) as api:
        for content_type in ("application/json", "text/plain"):
            response = await api.post(
                "/api/things", content=body, headers={**KEY, "content-type": content_type}
            )
            _toy_error(response, 400)
        assert len(app.state.db["things"]) == 7
        # the sandbox is not poisoned: its lists still answer
        assert (await api.get("/api/things", headers=KEY)).status_code == 200


_UNCHECKED = [
    (b'  {"thing": 1}', "text/plain"),  # blanks before the "{"
    (b'\n{"nothing": {"name": "x"}}', "text/plain"),
    (b'\xef\xbb\xbf{"thing": 5}', "text/plain"),  # a UTF-8 BOM
    (json.dumps({"thing": 1}).encode("utf-16"), "text/plain"),
    (b'{"thing": 1}', ""),
    (b'"a string"', "application/json"),
    (b"[1, 2]", "application/json"),
]


@pytest.mark.parametrize(("body", "content_type"), _UNCHECKED, ids=range(len(_UNCHECKED)))
async def test_json_in_any_dress_is_held_to_the_contract(body: bytes, content_type: str) -> None:
    """The contract reads as JSON every body the kit reads as JSON, so the handler never
    gets a body the contract did not check (it got ``{"thing": 1}`` and raised)."""
    app = create_app()
    async with _client(app) as api:
        response = await api.post(
            "/api/things", content=body, headers={**KEY, "content-type": content_type}
        )
    _toy_error(response, 422)
    assert len(app.state.db["things"]) == 7


async def test_an_empty_json_body_is_not_an_object() -> None:
    async with _client(create_app()) as api:
        for body in (b"null", b"", b"   "):
            response = await api.post(
                "/api/things", content=body, headers={**KEY, "content-type": "application/json"}
            )
            _toy_error(response, 400)


@pytest.mark.parametrize("maker", [[1], {"id": 1}, "1", None, 99])
async def test_a_reference_of_the_wrong_shape_is_a_422(maker: Any) -> None:
    async with _client(create_app()) as api:
        response = await api.post(
            "/api/things", json={"thing": {"name": "x", "maker_id": maker}}, headers=KEY
        )
    _toy_error(response, 422)


# -- paging ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["page=0", "page=-1", "per_page=0", "per_page=-5", "page=abc", "page=1.5", "page=%00",
     "page=٣", "per_page=1e3", "page=" + "9" * 5000, "page=1&page=x"],
)  # fmt: skip
async def test_a_bad_page_is_a_400_in_the_envelope(query: str) -> None:
    async with _client(create_app()) as api:
        _toy_error(await api.get(f"/api/things?{query}", headers=KEY), 400)


async def test_pages_past_the_end_are_empty_and_sizes_are_capped() -> None:
    async with _client(create_app()) as api:
        past = await api.get("/api/things?page=99999999999999999999", headers=KEY)
        assert past.status_code == 200 and past.json()["things"] == []
        huge = await api.get("/api/things?per_page=1000000", headers=KEY)
        assert huge.status_code == 200 and len(huge.json()["things"]) == 7
        last = await api.get("/api/things?page=4&per_page=2", headers=KEY)
        assert [t["id"] for t in last.json()["things"]] == [107]
        assert last.json()["meta"]["total_pages"] == 4


# -- our own declaration: rate limit, Basic, cookie, login ------------------------------

ATTACK = Contract(
    vendor="attack",
    endpoints=(
        Endpoint("GET", "/v1/items", query=params("offset", "limit", "page", "per_page")),
        Endpoint("GET", "/v1/items/{id}"),
        Endpoint("POST", "/v1/login"),
    ),
    answer=lambda v: DEFER,
)
ACCOUNTS = {"k1": "acct1", "k2": "acct1", "k3": "acct2", "u:s3cret": "acct1"}
SECRET = "s3cret-never-echoed"


def _items(call: Call) -> Any:
    rows = list(range(10))
    paging = Offset(every=-1) if "offset" in call.query or "limit" in call.query else None
    page = (paging or PageNumber(default=3)).of(call, rows)
    return {"rows": page.rows, "more": page.more}


def _item(call: Call) -> Any:
    if ident(call.params["id"]) != 1:
        raise ApiError(404, "no such item")
    return {"id": 1}


def _app(auth: Auth, count: float = 3) -> Starlette:
    sandbox = Sandbox(
        contract=ATTACK,
        handlers={
            "GET /v1/items": _items,
            "GET /v1/items/{id}": _item,
            "POST /v1/login": lambda call: reply({"ok": True}),
        },
        envelope=lambda status, message, detail: {"err": message, "detail": detail},
        auth=auth,
        who=lambda call, credential: ACCOUNTS.get(credential),
        context=Call,
        public=frozenset({"POST /v1/login"}),
        default_account="acct1",
        limit=Limit(count, 60, headers=lambda w: {"X-Left": str(int(w.remaining))}),
    )
    return sandbox.app({}, clock=SandboxClock(datetime(2026, 1, 1, tzinfo=UTC)))


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_many_requests_at_once_get_exactly_the_windows_count() -> None:
    app = _app(HeaderKey("authorization", "Bearer "))
    async with _client(app) as api:
        answers = await asyncio.gather(
            *(api.get("/v1/items/1", headers=_bearer("k1")) for _ in range(20))
        )
        statuses = sorted(r.status_code for r in answers)
        assert statuses == [200] * 3 + [429] * 17
        assert all(r.headers["X-Left"] == "0" for r in answers if r.status_code == 429)
        assert all(set(r.json()) == {"err", "detail"} for r in answers if r.status_code == 429)
        # the account's other key shares its window; another account has its own
        assert (await api.get("/v1/items/1", headers=_bearer("k2"))).status_code == 429
        other = await api.get("/v1/items/1", headers=_bearer("k3"))
        assert other.status_code == 200 and other.headers["X-Left"] == "2"


async def test_what_a_request_costs() -> None:
    """A refused credential costs nothing (it names no account) and gets no limit
    headers; a 404 for a record of a documented path costs one, as a vendor counts it."""
    app = _app(HeaderKey("authorization", "Bearer "))
    async with _client(app) as api:
        for key in ("", "nobody", SECRET):
            refused = await api.get("/v1/items/1", headers=_bearer(key))
            assert refused.status_code == 401 and "X-Left" not in refused.headers
            assert SECRET not in refused.text
        missing = await api.get("/v1/items/2", headers=_bearer("k1"))
        assert missing.status_code == 404 and missing.headers["X-Left"] == "2"
        assert missing.json() == {"err": "no such item", "detail": ""}
        assert app.state.limit.remaining == 2


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("bearer k1", 200),  # schemes are case-insensitive
        ("BEARER k1", 200),
        ("Bearer   k1  ", 200),
        ("Bearer", 401),
        ("Bearer ", 401),
        ("Bearerk1", 401),
        ("Token k1", 401),
        ("Bearer K1", 401),  # keys are not
    ],
)
async def test_bearer_forms(header: str, status: int) -> None:
    async with _client(_app(HeaderKey("authorization", "Bearer "))) as api:
        response = await api.get("/v1/items/1", headers={"Authorization": header})
    assert response.status_code == status, response.text


async def test_a_key_in_the_query_is_not_a_credential_unless_declared() -> None:
    async with _client(_app(HeaderKey("authorization", "Bearer "))) as api:
        response = await api.get("/v1/items/1?authorization=Bearer%20k1")
    assert response.status_code == 401


def _basic(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


GOOD, NOT_UTF8 = _basic(b"u:s3cret"), _basic(b"\xff:s3cret")


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (f"Basic {GOOD}", 200),
        (f"basic {GOOD}", 200),
        (f"Basic  {GOOD} ", 200),  # blanks around the encoded part
        (f"Basic {GOOD[:-1]}", 401),  # broken base64
        (f"Basic {NOT_UTF8}", 401),  # not UTF-8
        ("Basic", 401),
        ("Basic ==", 401),
        (f"Basic {_basic(b'u:wrong')}", 401),
    ],
)
async def test_basic_forms(header: str, status: int) -> None:
    async with _client(_app(BasicKey())) as api:
        response = await api.get("/v1/items/1", headers={"Authorization": header})
    assert response.status_code == status, response.text
    assert "s3cret" not in response.text


@pytest.mark.parametrize(
    ("auth", "credential"),
    [
        (HeaderKey("authorization", "Bearer "), {"Authorization": "Bearer k1"}),
        (Cookie("sid"), {"Cookie": "sid=k1"}),
    ],
    ids=["header", "cookie"],
)
async def test_the_expire_fault_refuses_the_request_it_is_drawn_on_once(
    auth: Auth, credential: dict[str, str]
) -> None:
    app = _app(auth, count=100)
    faults = app.state.faults
    async with _client(app) as api:
        faults.next = deque(["expire"])
        refused = await api.get("/v1/items/1", headers=credential)
        assert refused.status_code == 401
        assert refused.json() == {"err": "Unauthorized", "detail": "the credential was revoked"}
        assert (await api.get("/v1/items/1", headers=credential)).status_code == 200
        # drawn on a request with no credential, a public login or an unknown path, the
        # fault is used up there: it does not refuse a later, unrelated request
        for method, path, headers in (
            ("GET", "/v1/items/1", {}),
            ("POST", "/v1/login", {}),
            ("GET", "/v1/nowhere", credential),
        ):
            faults.next = deque(["expire"])
            await api.request(method, path, headers=headers)
            later = await api.get("/v1/items/1", headers=credential)
            assert later.status_code == 200, (method, path, later.text)


@pytest.mark.parametrize(
    ("query", "rows"),
    [
        ("limit=-1", list(range(10))),  # ``every``: all rows
        ("limit=-1&offset=8", [8, 9]),
        ("offset=20", []),
        ("offset=3&limit=2", [3, 4]),
        ("limit=1000", list(range(10))),  # capped at the maximum (100)
    ],
)
async def test_offset_paging(query: str, rows: list[int]) -> None:
    async with _client(_app(HeaderKey("authorization", "Bearer "), count=100)) as api:
        response = await api.get(f"/v1/items?{query}", headers=_bearer("k1"))
    assert response.status_code == 200 and response.json()["rows"] == rows


@pytest.mark.parametrize("query", ["limit=0", "limit=-2", "offset=-1", "limit=%20-1", "offset=x"])
async def test_a_bad_offset_is_a_400(query: str) -> None:
    async with _client(_app(HeaderKey("authorization", "Bearer "), count=100)) as api:
        response = await api.get(f"/v1/items?{query}", headers=_bearer("k1"))
    assert response.status_code == 400 and set(response.json()) == {"err", "detail"}


# -- the sandbox's own fault control ----------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        b"[1]",
        b'{"latency": "abc"}',
        b'{"rate_500": "1"}',
        b'{"rate_429": NaN}',
        b'{"retry_after": "x", "next": ["429"]}',  # refused whole: no 429 queued either
        b'{"next": "expire"}',
        b'{"next": [["429"]]}',
        b'{"seed": [1]}',
        b'{"redirect_to": 5}',
        b'{"late_delay": true}',
    ],
)
async def test_a_bad_fault_setting_is_refused_and_the_sandbox_still_answers(
    settings: bytes,
) -> None:
    app = create_app()
    async with _client(app) as api:
        refused = await api.post("/_sandbox/faults", content=settings)
        assert refused.status_code == 400 and "error" in refused.json()
        assert not app.state.faults.next and app.state.faults.latency == 0
        assert (await api.get("/api/things", headers=KEY)).status_code == 200
        taken = await api.post("/_sandbox/faults", json={"retry_after": None, "next": ["429"]})
        assert taken.status_code == 200
        limited = await api.get("/api/things", headers=KEY)
        assert limited.status_code == 429 and "retry-after" not in limited.headers
