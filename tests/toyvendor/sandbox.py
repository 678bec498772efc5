"""Toy CRM's API, as its (imaginary) documentation says.

``/api/things`` and ``/api/makers``: ``GET`` pages (``page``, ``per_page``; the reply's
``meta.total_pages``), ``POST`` one record; ``GET``/``PUT``/``DELETE`` ``/<id>``. A record
is wrapped in its kind's singular both ways (``{"thing": {...}}``). Auth: the
``X-Toy-Key`` header. Errors: ``{"error": "..."}`` with 401, 404 or 422.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmtui.sandbox import SandboxClock

KEY = "sandbox"
SINGULAR = {"things": "thing", "makers": "maker"}
FIELDS = {"things": {"name", "price_cents", "due", "done", "maker_id"}, "makers": {"name", "email"}}


def create_app(*, seed: int = 0, now: datetime | None = None, **_: Any) -> Starlette:
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

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status)

    def check(kind: str, body: Any) -> dict[str, Any] | JSONResponse:
        values = body.get(SINGULAR[kind]) if isinstance(body, dict) else None
        if not isinstance(values, dict) or not set(values) <= FIELDS[kind]:
            return error(422, f"send {{{SINGULAR[kind]!r}: {{...}}}} with known attributes")
        if "maker_id" in values and values["maker_id"] not in db["makers"]:
            return error(422, "maker_id: no such maker")
        if not str(values.get("name", "x")).strip():
            return error(422, "name can't be blank")
        return values

    async def collection(request: Request) -> Response:
        if request.headers.get("x-toy-key") != KEY:
            return error(401, "bad or missing X-Toy-Key")
        kind = request.path_params["kind"]
        if kind not in db:
            return error(404, f"no such collection {kind!r}")
        table = db[kind]
        if request.method == "POST":
            values = check(kind, await request.json())
            if isinstance(values, JSONResponse):
                return values
            new = max(table, default=0) + 1
            table[new] = {
                "id": new,
                **values,
                "created_at": clock().isoformat(),
                "updated_at": clock().isoformat(),
            }
            return JSONResponse({SINGULAR[kind]: table[new]}, 201)
        page, size = (
            int(request.query_params.get("page", 1)),
            int(request.query_params.get("per_page", 25)),
        )
        rows = list(table.values())
        return JSONResponse(
            {
                kind: rows[(page - 1) * size : page * size],
                "meta": {"total_pages": -(-len(rows) // size)},
            }
        )

    async def item(request: Request) -> Response:
        if request.headers.get("x-toy-key") != KEY:
            return error(401, "bad or missing X-Toy-Key")
        kind, id = request.path_params["kind"], request.path_params["id"]
        row = db.get(kind, {}).get(id)
        if row is None:
            return error(404, f"no {SINGULAR.get(kind, kind)} {id}")
        if request.method == "DELETE":
            del db[kind][id]
            return Response(status_code=204)
        if request.method == "PUT":
            values = check(kind, await request.json())
            if isinstance(values, JSONResponse):
                return values
            row |= values | {"updated_at": clock().isoformat()}
        return JSONResponse({SINGULAR[kind]: row})

    app = Starlette(
        routes=[
            Route("/api/{kind:str}", collection, methods=["GET", "POST"]),
            Route("/api/{kind:str}/{id:int}", item, methods=["GET", "PUT", "DELETE"]),
        ]
    )
    app.state.db = db
    return app
