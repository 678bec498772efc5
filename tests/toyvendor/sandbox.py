"""Toy CRM's API, as its (imaginary) documentation says, served on the shared sandbox kit.

``/api/things`` and ``/api/makers``: ``GET`` pages (``page``, ``per_page``; the reply's
``meta.total_pages``), ``POST`` one record; ``GET``/``PUT``/``DELETE`` ``/<id>``. A record
is wrapped in its kind's singular both ways (``{"thing": {...}}``). Auth: the
``X-Toy-Key`` header. Errors: ``{"error": "..."}`` with 401, 404 or 422.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.applications import Starlette

from crmtui.sandbox import SandboxClock
from crmtui.sandbox.contract import DEFER, Answer, Contract, Endpoint, Violation, params
from crmtui.sandbox.kit import ApiError, Call, HeaderKey, PageNumber, Sandbox, ident, reply

KEY = "sandbox"
SINGULAR = {"things": "thing", "makers": "maker"}
FIELDS = {"things": ("name", "price_cents", "due", "done", "maker_id"), "makers": ("name", "email")}
PAGES = PageNumber(default=25, maximum=100)


def _answer(v: Violation) -> Answer:
    if v.kind in ("path", "method"):
        return DEFER  # the kit's 404 / 405
    return Answer(422, {"error": f"{v.name}: {v.rule}"})


CONTRACT = Contract(
    vendor="toy",
    endpoints=tuple(
        endpoint
        for kind, one in SINGULAR.items()
        for endpoint in (
            Endpoint("GET", f"/api/{kind}", query=params("page", "per_page")),
            Endpoint("POST", f"/api/{kind}", fields=FIELDS[kind], wrapper=one, status=(201,)),
            Endpoint("GET", f"/api/{kind}/{{id}}"),
            Endpoint("PUT", f"/api/{kind}/{{id}}", fields=FIELDS[kind], wrapper=one),
            Endpoint("DELETE", f"/api/{kind}/{{id}}", status=(204,)),
        )
    ),
    answer=_answer,
)


class ToyCall(Call):
    """Toy CRM's request helpers: the collection a path names, and a checked body."""

    def kind(self) -> str:
        return self.request.url.path.split("/")[2]

    def table(self) -> dict[int, dict[str, Any]]:
        table: dict[int, dict[str, Any]] = self.db[self.kind()]
        return table

    def row(self) -> dict[str, Any]:
        key = ident(self.params["id"])
        row = self.table().get(key) if key is not None else None
        if row is None:
            raise ApiError(404, f"no {SINGULAR[self.kind()]} {self.params['id']}")
        return row

    async def values(self) -> dict[str, Any]:
        values: dict[str, Any] = (await self.object())[SINGULAR[self.kind()]]
        maker = values.get("maker_id")
        if "maker_id" in values and not (type(maker) is int and maker in self.db["makers"]):
            raise ApiError(422, "maker_id: no such maker")
        if not str(values.get("name", "x")).strip():
            raise ApiError(422, "name can't be blank")
        return values


def list_rows(call: ToyCall) -> Any:
    page = PAGES.of(call, list(call.table().values()))
    return {call.kind(): page.rows, "meta": {"total_pages": page.pages}}


async def create(call: ToyCall) -> Any:
    values, table, now = await call.values(), call.table(), call.clock().isoformat()
    new = max(table, default=0) + 1
    table[new] = {"id": new, **values, "created_at": now, "updated_at": now}
    return reply({SINGULAR[call.kind()]: table[new]}, 201)


async def update(call: ToyCall) -> Any:
    row = call.row()
    row |= await call.values() | {"updated_at": call.clock().isoformat()}
    return {SINGULAR[call.kind()]: row}


def delete(call: ToyCall) -> Any:
    del call.table()[call.row()["id"]]
    return reply(status=204)


SANDBOX = Sandbox(
    contract=CONTRACT,
    handlers={
        key: handler
        for kind in SINGULAR
        for key, handler in {
            f"GET /api/{kind}": list_rows,
            f"POST /api/{kind}": create,
            f"GET /api/{kind}/{{id}}": lambda call: {SINGULAR[call.kind()]: call.row()},
            f"PUT /api/{kind}/{{id}}": update,
            f"DELETE /api/{kind}/{{id}}": delete,
        }.items()
    },
    envelope=lambda status, message, detail: {"error": message},
    auth=HeaderKey("x-toy-key"),
    who=lambda call, key: "sandbox" if key == KEY else None,
    unauthorized=lambda reason: ApiError(401, "bad or missing X-Toy-Key"),
    context=ToyCall,
)


def create_app(
    *, seed: int = 0, now: datetime | None = None, rate_limit: bool = True, **_: Any
) -> Starlette:
    clock = SandboxClock(now)
    stamp = clock().isoformat()
    db: dict[str, dict[int, dict[str, Any]]] = {
        "makers": {
            i: {"id": i, "name": n, "email": f"{n.lower()}@toy.example"}
            for i, n in enumerate(["Ada", "Grace", "Linus"], start=1)
        },
        "things": {},
    }
    for i in range(1, 8):
        db["things"][100 + i] = {
            "id": 100 + i,
            "name": f"Widget {i}",
            "price_cents": 1000 * i + seed,
            "due": int(clock().timestamp()) + 86400 * i,
            "done": i % 2,
            "maker_id": 1 + i % 3,
        }
    for table in db.values():
        for row in table.values():
            row |= {"created_at": stamp, "updated_at": stamp}
    return SANDBOX.app(db, clock=clock, rate_limit=rate_limit)
