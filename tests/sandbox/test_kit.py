"""The shared sandbox kit (``crmtui.sandbox.kit``), on a toy vendor declared in a few lines:
routes come from the contract, errors wear the vendor's envelope, auth and the rate
limit are the kit's, and a sandbox that leaves a documented endpoint unserved (or serves
an undocumented one) cannot be declared."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from crmtui.sandbox import SandboxClock
from crmtui.sandbox.contract import (
    DEFER,
    IGNORE,
    Answer,
    Contract,
    Endpoint,
    Violation,
    params,
    sort,
)
from crmtui.sandbox.kit import ApiError, Call, HeaderKey, Limit, PageNumber, Sandbox, reply

PAGES = PageNumber(default=2, maximum=3)


def _answer(v: Violation) -> Answer:
    if v.kind in ("path", "method"):
        return DEFER  # the kit answers: 404 / 405 in the vendor's envelope
    if v.kind == "param":
        return IGNORE
    return Answer(422, {"error": str(v)})


CONTRACT = Contract(
    vendor="toy",
    endpoints=(
        Endpoint("GET", "/api/things", query=(sort("sort", "name"), *params("page", "per_page"))),
        Endpoint("POST", "/api/things", fields=("name",), required=("name",), status=(201,)),
        Endpoint("GET", "/api/things/{id}"),
        Endpoint("GET", "/api/things/count"),
        Endpoint("POST", "/api/login"),
    ),
    answer=_answer,
    optional_suffixes=("/",),
    mounts=("/crm",),
)


class ToyCall(Call):
    def things(self) -> list[dict[str, Any]]:
        things: list[dict[str, Any]] = self.db["things"]
        return things


def list_things(call: ToyCall) -> Any:
    rows = (
        sorted(call.things(), key=lambda r: r["name"]) if call.query.get("sort") else call.things()
    )
    page = PAGES.of(call, rows)
    return {"things": page.rows, "page": page.number, "pages": page.pages, "who": call.key}


async def create_thing(call: ToyCall) -> Any:
    body = await call.object()
    thing = {"id": len(call.things()) + 1, "name": body["name"]}
    call.things().append(thing)
    return reply(thing, 201)


def get_thing(call: ToyCall) -> Any:
    for thing in call.things():
        if str(thing["id"]) == call.params["id"]:
            return thing
    raise ApiError(404, "No such thing", f"thing {call.params['id']}")


TOY = Sandbox(
    contract=CONTRACT,
    handlers={
        "GET /api/things": list_things,
        "POST /api/things": create_thing,
        "GET /api/things/{id}": get_thing,
        "GET /api/things/count": lambda call: {"count": len(call.things())},
        "POST /api/login": lambda call: {"token": "k1"},
    },
    envelope=lambda status, message, detail: {"errors": [{"code": status, "message": message}]},
    auth=HeaderKey("authorization", "Bearer "),
    who=lambda call, key: {"k1": "alice", "k2": "bob"}.get(key),
    context=ToyCall,
    limit=Limit(3, 60, headers=lambda w: {"X-Left": str(int(w.remaining))}),
    public=frozenset({"POST /api/login"}),
    default_account="alice",
)


def _client(**options: Any) -> httpx.AsyncClient:
    db = {"things": [{"id": i, "name": n} for i, n in enumerate("dcba", 1)]}
    app = TOY.app(db, clock=SandboxClock(), **options)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://toy")


KEY = {"Authorization": "Bearer k1"}


async def test_routes_come_from_the_contract_with_mounts_and_suffixes() -> None:
    async with _client(rate_limit=False) as http:
        first = (await http.get("/api/things", headers=KEY)).json()
        assert [t["name"] for t in first["things"]] == ["d", "c"]
        assert (first["pages"], first["who"]) == (2, "alice")
        sorted_ = await http.get("/crm/api/things/?sort=name&page=2", headers=KEY)
        assert [t["name"] for t in sorted_.json()["things"]] == ["c", "d"]
        # a literal path is not taken for a record id
        assert (await http.get("/api/things/count", headers=KEY)).json() == {"count": 4}
        made = await http.post("/api/things", headers=KEY, json={"name": "e"})
        assert made.status_code == 201
        assert (await http.get("/api/things/5", headers=KEY)).json()["name"] == "e"


async def test_errors_wear_the_vendor_envelope() -> None:
    async with _client(rate_limit=False) as http:
        unknown = await http.get("/api/nothing", headers=KEY)
        assert unknown.status_code == 404
        assert unknown.json() == {"errors": [{"code": 404, "message": "Not Found"}]}
        wrong = await http.delete("/api/things/1", headers=KEY)
        assert wrong.status_code == 405
        missing = await http.get("/api/things/99", headers=KEY)
        assert missing.json() == {"errors": [{"code": 404, "message": "No such thing"}]}
        bad = await http.post(
            "/api/things", headers=KEY | {"content-type": "application/json"}, content=b"{nope"
        )
        assert bad.status_code == 400
        refused = await http.post("/api/things", headers=KEY, json={"colour": "red"})
        assert refused.status_code == 422 and "colour" in refused.text


async def test_auth_and_the_rate_limit_are_the_kits() -> None:
    async with _client() as http:
        assert (await http.get("/api/things")).status_code == 401
        assert (
            await http.get("/api/things", headers={"Authorization": "Bearer zz"})
        ).status_code == 401
        assert (await http.post("/api/login")).json() == {"token": "k1"}
        answers = [await http.get("/api/things/count", headers=KEY) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["X-Left"] for a in answers] == ["2", "1", "0", "0"]
        # another account has its own window
        other = await http.get("/api/things/count", headers={"Authorization": "Bearer k2"})
        assert other.status_code == 200


def test_a_sandbox_must_serve_exactly_its_documented_endpoints() -> None:
    handlers = dict(TOY.handlers)
    del handlers["GET /api/things/count"]
    with pytest.raises(ValueError, match=r"without a handler.*GET /api/things/count"):
        Sandbox(CONTRACT, handlers, TOY.envelope, TOY.auth, TOY.who, ToyCall)
    handlers = dict(TOY.handlers) | {"GET /api/secret": get_thing}
    with pytest.raises(ValueError, match=r"no documented endpoint.*GET /api/secret"):
        Sandbox(CONTRACT, handlers, TOY.envelope, TOY.auth, TOY.who, ToyCall)
