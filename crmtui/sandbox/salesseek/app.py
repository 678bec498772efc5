"""The SalesSeek sandbox: the documented REST API (2017 docs) under ``/api/``.

Cookie auth (``POST /api/login`` form-encoded, ``salesseek`` cookie), offset paging with
``rows``/``start``/``order_by``/``search`` and the ``Records-Rows``/``Records-Start``/
``Records-Total`` headers, bare JSON arrays and objects, PATCH partial updates (POST for
individuals and custom fields, as documented).

Decisions where the documentation is silent (see the vendor notes):

- Errors are ``{"detail": "<message>"}``: 400 bad input, 401 no/unknown/expired cookie
  (``"Not authenticated"``) or bad credentials, 404 ``"Not found"``, 405 ``"Method not
  allowed"`` (e.g. ``PATCH /api/individuals/{id}``), 429 ``"Too many requests"``.
- Login takes ``email_address`` (or the sample's ``email``) and ``password``, form-encoded
  only (a JSON body is a 400); the cookie is ``salesseek=<uuid4>; Path=/`` (no ``Secure``,
  so plain-http loopback works). Sessions never expire unless the ``expire`` fault ends
  them all. ``DELETE /api/logout`` answers 200 ``null`` and clears the cookie.
- Default credentials: ``demo@sandbox.test`` / ``sandbox`` (every seeded user has the
  password ``sandbox``). Single tenant: the Host header (client id) is not checked.
- Rate limit: none is documented; the sandbox allows a polite 600 requests a minute per
  account (fixed window) and answers 429 with ``Retry-After`` past it.
- Paging: ``rows`` absent or ``-1`` means all rows, ``start`` absent means 0;
  ``Records-Rows`` is the number actually returned; a ``start`` past the end gives ``[]``.
- ``order_by``: ``<field> <asc|desc>`` (space, ``+`` or ``%20``; surrounding quotes
  stripped; direction defaults to asc). Default order ``created asc``; nulls sort last;
  text compares case-insensitively; an unknown field keeps the default order.
- ``search``: case-insensitive substring of the name (``full_name`` for individuals,
  ``text`` for tasks, ``name`` for deals too); search answers are "reduced": no expanded
  objects (owner, organization, communication, custom_fields...).
- Creates answer 201 with the record; deletes 200 ``null``. Trailing slashes are optional.
  Unknown and read-only keys in a write are ignored; ``custom_fields`` merge key by key.
- Side effects: creating a record writes its ``auto:*_creation`` activity; a phase change
  sets ``weight``, ``phase_last_changed`` and writes ``auto:opportunity_movement`` (params
  ``from``/``to``/``*_id``/``*_funnel``/``who``); completing a task sets ``complete_date``
  and writes ``task:completed`` on the related record.
- Activities: category flags ``notes`` (note, task:completed), ``communications``
  (archive:email, auto:call), ``contact_updates`` (auto:organization_*/individual_*),
  ``deals`` (auto:opportunity_*), ``campaign_emails`` (archive:mailshot_*),
  ``automation_emails`` (automation:*); no flag sent means every type. Include flags add
  the activities of the item's organization / its individuals / its deals;
  ``target_is_parent`` is false for those.
- Sandbox extensions: ``GET /api/tags/{id}``; group pages also send the paging headers.
  ``GET /api/users`` (list), ``/api/funnels`` and ``/api/phases`` are routed here but not
  in the seed: the contract answers them 405/404 first (``contract.py``). Groups are created with ``POST /api/groups`` (the doc's URL is a copy slip).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from math import ceil
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from crmtui.sandbox import SandboxClock
from crmtui.sandbox.contract import enforce
from crmtui.sandbox.faults import FaultMiddleware, Faults
from crmtui.sandbox.ratelimit import WindowLimit
from crmtui.sandbox.salesseek.contract import CONTRACT
from crmtui.sandbox.salesseek.data import (
    CATEGORY_FLAGS,
    TARGET_KEYS,
    ApiError,
    SalesSeekDB,
    build,
    category,
    check_rules,
)

COOKIE = "salesseek"
RATE_LIMIT = 600  # requests per window (not documented: a polite default)
RATE_WINDOW = 60.0
INCLUDE_FLAGS = ("include_ind_related", "include_org_related", "include_deal_related")
VIEWS = {"individuals", "organizations", "opportunities", "deals"}


@dataclass
class Ctx:
    """What a handler gets: the data and the logged-in user (None only for login)."""

    db: SalesSeekDB
    user_id: str


Handler = Callable[[Request, Ctx], Awaitable[Any]]


def error_response(status: int, detail: str) -> Response:
    return JSONResponse({"detail": detail}, status_code=status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, str(exc.detail))
    return error_response(exc.status_code, detail)


def api(fn: Handler, *, auth: bool = True) -> Callable[[Request], Awaitable[Response]]:
    """Wraps a handler: the rate limit, the session cookie, errors, JSON encoding."""

    async def endpoint(request: Request) -> Response:
        state = request.app.state
        if not state.limit.take():
            response = error_response(429, "Too many requests")
            response.headers["Retry-After"] = str(max(1, ceil(state.limit.reset_in)))
            return response
        db: SalesSeekDB = state.db
        user_id = db.sessions.get(request.cookies.get(COOKIE, ""))
        if auth and user_id is None:
            return error_response(401, "Not authenticated")
        try:
            result = await fn(request, Ctx(db, user_id or ""))
        except ApiError as exc:
            return error_response(exc.status, exc.detail)
        return result if isinstance(result, Response) else JSONResponse(result)

    return endpoint


def route(path: str, fn: Handler, method: str, *, auth: bool = True) -> list[BaseRoute]:
    """``path`` with and without a trailing slash."""
    endpoint = api(fn, auth=auth)
    return [Route(p, endpoint, methods=[method]) for p in (path, path + "/")]


async def body_of(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "The request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return body


# -- paging ------------------------------------------------------------------------


def _int(request: Request, key: str, default: int) -> int:
    raw = request.query_params.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"{key} must be a whole number") from None


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, str):
        return (1, value.casefold())
    if isinstance(value, bool | int | float):
        return (0, value)
    return (2, str(value))


def parse_order(raw: str | None) -> tuple[str, bool] | None:
    """``"name asc"``, ``name%20desc``, ``"due_date"`` -> (field, descending)."""
    if not raw:
        return None
    parts = raw.strip().strip("\"'").replace("&", " ").split()
    if not parts:
        return None
    return parts[0], len(parts) > 1 and parts[1].lower() == "desc"


def ordered(
    rows: list[dict[str, Any]],
    order: tuple[str, bool] | None,
    derive: Callable[[dict[str, Any]], dict[str, Any]],
) -> list[dict[str, Any]]:
    rows = sorted(rows, key=lambda r: (r.get("created") or "", r["id"]))
    if order is None or not rows:
        return rows
    field, descending = order
    stored = field in rows[0]
    values = [(r.get(field) if stored else derive(r).get(field), r) for r in rows]
    if not stored and all(v is None for v, _ in values):
        return rows
    present = [pair for pair in values if pair[0] is not None]
    present.sort(key=lambda pair: _sort_key(pair[0]), reverse=descending)
    return [r for _, r in present] + [r for v, r in values if v is None]


def window(request: Request, rows: list[Any]) -> tuple[list[Any], dict[str, str]]:
    """The ``start``/``rows`` slice of ``rows`` and its ``Records-*`` headers."""
    start = max(0, _int(request, "start", 0))
    size = _int(request, "rows", -1)
    page = rows[start:] if size < 0 else rows[start : start + size]
    headers = {
        "Records-Rows": str(len(page)),
        "Records-Start": str(start),
        "Records-Total": str(len(rows)),
    }
    return page, headers


def listing(
    request: Request,
    db: SalesSeekDB,
    kind: str,
    rows: list[dict[str, Any]],
    *,
    search: tuple[str, ...] = (),
    view: Callable[[dict[str, Any], bool], dict[str, Any]] | None = None,
) -> Response:
    """A documented list answer: search, order, page, headers, records."""
    text = request.query_params.get("search", "").strip().casefold()
    reduced = bool(text and search)
    if reduced:
        rows = [r for r in rows if any(text in str(r.get(k) or "").casefold() for k in search)]

    def show(rec: dict[str, Any], reduced: bool = False) -> dict[str, Any]:
        return view(rec, reduced) if view else db.view(kind, rec, reduced=reduced)

    rows = ordered(rows, parse_order(request.query_params.get("order_by")), show)
    page, headers = window(request, rows)
    return JSONResponse([show(r, reduced) for r in page], headers=headers)


# -- auth ----------------------------------------------------------------------------


async def login(request: Request, ctx: Ctx) -> Response:
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("application/x-www-form-urlencoded"):
        raise ApiError(400, "Login must be sent as application/x-www-form-urlencoded")
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    email = (form.get("email_address") or form.get("email") or [""])[0]
    password = (form.get("password") or [""])[0]
    if not email or not password:
        raise ApiError(400, "email_address and password are required")
    token = ctx.db.login(email, password)
    if token is None:
        raise ApiError(401, "Invalid email address or password")
    user = ctx.db.users[ctx.db.sessions[token]]
    client = {k: v for k, v in ctx.db.client.items() if k not in ("id", "sources")}
    body = {
        **{k: v for k, v in user.items() if k not in ("preferences", "quota", "email_signature")},
        "client_id": ctx.db.client["id"],
        "client": client,
    }
    response = JSONResponse(body)
    response.headers.append("set-cookie", f"{COOKIE}={token}; Path=/")
    return response


async def logout(request: Request, ctx: Ctx) -> Response:
    ctx.db.sessions.pop(request.cookies.get(COOKIE, ""), None)
    response = JSONResponse(None)
    response.headers.append("set-cookie", f"{COOKIE}=; Max-Age=0; Path=/")
    return response


# -- records -------------------------------------------------------------------------


Writer = Callable[[SalesSeekDB, dict[str, Any] | None, dict[str, Any], str], dict[str, Any]]


def collection(
    kind: str,
    writer: Writer | None,
    *,
    search: tuple[str, ...] = (),
    update: str = "PATCH",
    index: Handler | None = None,
) -> list[BaseRoute]:
    """List, create, get, update and delete routes of one record type."""

    async def list_all(request: Request, ctx: Ctx) -> Response:
        return listing(request, ctx.db, kind, list(ctx.db.store(kind).values()), search=search)

    async def create(request: Request, ctx: Ctx) -> Response:
        assert writer is not None
        rec = writer(ctx.db, None, await body_of(request), ctx.user_id)
        return JSONResponse(ctx.db.view(kind, rec), status_code=201)

    async def read(request: Request, ctx: Ctx) -> Any:
        return ctx.db.view(kind, ctx.db.find(kind, request.path_params["id"]))

    async def change(request: Request, ctx: Ctx) -> Any:
        assert writer is not None
        rec = ctx.db.find(kind, request.path_params["id"])
        return ctx.db.view(kind, writer(ctx.db, rec, await body_of(request), ctx.user_id))

    async def delete(request: Request, ctx: Ctx) -> None:
        ctx.db.find(kind, request.path_params["id"])
        ctx.db.remove(kind, request.path_params["id"])

    routes = [*route(f"/{kind}", index or list_all, "GET"), *route(f"/{kind}/{{id}}", read, "GET")]
    if writer is not None:
        routes += route(f"/{kind}", create, "POST")
        routes += route(f"/{kind}/{{id}}", change, update)
        routes += route(f"/{kind}/{{id}}", delete, "DELETE")
    return routes


async def list_activities(request: Request, ctx: Ctx) -> Response:
    db, q = ctx.db, request.query_params
    item_type, item_id = q.get("item_type"), q.get("item_id")
    rows = list(db.activities.values())
    if item_type or item_id:
        if item_type not in TARGET_KEYS or not item_id:
            raise ApiError(400, "item_type must be opportunities, organizations or individuals")
        flags = {f for f in INCLUDE_FLAGS if q.get(f, "").lower() == "true"}
        ids = dict.fromkeys([item_id, *db.related_ids(item_type, item_id, flags)])
        rows = [db.activities[a] for i in ids for a in db.by_target.get(i, [])]
    sent = [f for f in CATEGORY_FLAGS if f in q]
    if sent:
        wanted = {f for f in sent if q[f].lower() == "true"}
        rows = [r for r in rows if category(r["activity_type"]) in wanted]

    def show(rec: dict[str, Any], reduced: bool) -> dict[str, Any]:
        out = db.view("activities", rec)
        out["target_is_parent"] = item_id is None or rec["target_id"] == item_id
        return out

    return listing(request, db, "activities", rows, view=show)


async def list_groups(request: Request, ctx: Ctx) -> Response:
    element = request.query_params.get("element_type")
    wanted = {element} if element else {"individuals", "opportunities"}
    rows = [g for g in ctx.db.groups.values() if g["element_type"] in wanted]
    return listing(request, ctx.db, "groups", rows)


def write_group(
    db: SalesSeekDB, rec: dict[str, Any] | None, body: dict[str, Any], user_id: str
) -> dict[str, Any]:
    if rec is None:
        if body.get("group_type") not in ("static", "smart"):
            raise ApiError(400, "group_type must be static or smart")
        if body.get("element_type") not in TARGET_KEYS:
            raise ApiError(400, "element_type must be individuals, organizations or opportunities")
        rec = db.base(user_id) | {
            "name": "",
            "group_type": body["group_type"],
            "element_type": body["element_type"],
            "locked": False,
            "comments": "",
            "mailing_list": False,
            "filter_id": None,
            "columns": [],
            "order_by": None,
            "display_options": {"show_as": "table"},
        }
        if not str(body.get("name") or "").strip():
            raise ApiError(400, "name is required")
        db.groups[rec["id"]] = rec
    if rec["locked"] and body:
        raise ApiError(400, "This group is locked")
    for key in ("name", "comments", "columns", "order_by", "display_options", "mailing_list"):
        if key in body:
            rec[key] = body[key]
    if "owner_id" in body:
        rec["owner_id"] = db._owner(body["owner_id"])
    if "filter_id" in body:
        if body["filter_id"] is not None and body["filter_id"] not in db.filters:
            raise ApiError(400, "filter_id: unknown filter")
        rec["filter_id"] = body["filter_id"]
    db.touch(rec, user_id)
    return rec


async def add_group_item(request: Request, ctx: Ctx) -> Any:
    group = ctx.db.find("groups", request.path_params["id"])
    record_id = request.path_params["record_id"]
    if group["group_type"] != "static":
        raise ApiError(400, "Records can only be added to static groups")
    if record_id not in ctx.db.store(group["element_type"]):
        raise ApiError(404, "Not found")
    items = ctx.db.group_items.setdefault(group["id"], [])
    if record_id not in items:
        items.append(record_id)
    return ctx.db.view("groups", group)


def _cell(rec: dict[str, Any], column: str) -> Any:
    if column in ("email", "phone", "website"):
        return [
            {"name": c.get("name"), "value": c.get("value")}
            for c in rec.get("communication") or []
            if c.get("medium") == column
        ]
    value: Any = rec
    for part in column.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else value


DEFAULT_COLUMNS = {
    "individuals": ["photo_url", "first_name", "last_name", "organization.name", "email", "phone"],
    "organizations": ["name", "website", "phone"],
    "opportunities": ["name", "organization.name", "phase_name", "value", "currency"],
}


async def group_page(request: Request, ctx: Ctx) -> Response:
    db, q = ctx.db, request.query_params
    group = db.find("groups", q.get("group_id", ""))
    kind = group["element_type"]
    if q.get("item_type") and q["item_type"] != kind:
        raise ApiError(400, f"item_type must be {kind} for this group")
    columns = [c for c in q.get("columns", "").split(",") if c] or group["columns"]
    columns = columns or DEFAULT_COLUMNS[kind]
    order = parse_order(q.get("order_by")) or (
        "full_name" if kind == "individuals" else "name",
        False,
    )
    members = ordered(db.group_members(group), order, lambda r: db.view(kind, r))
    page, headers = window(request, members)
    rows = []
    for rec in page:
        shown = db.view(kind, rec)
        rows.append({"id": rec["id"], "cells": [_cell(shown, c) for c in columns]})
    totals = None
    if kind == "opportunities":
        totals = {
            "default_value": sum(r["value"] for r in members),
            "comitted_value": sum(r["value"] for r in members if r["status"] == "committed"),
            "closed_value": sum(
                r["value"] for r in members if db.phases[r["phase_id"]]["name"] == "Won"
            ),
        }
    body = {
        "columns": columns,
        "rows": rows,
        "order_by": [order[0], "desc" if order[1] else "asc"],
        "totals": totals,
    }
    return JSONResponse(body, headers=headers)


def filter_routes() -> list[BaseRoute]:
    async def read(request: Request, ctx: Ctx) -> Any:
        flt = ctx.db.find("filters", request.path_params["id"])
        if flt["filter_type"] != request.path_params["record_type"]:
            raise ApiError(404, "Not found")
        return flt

    async def create(request: Request, ctx: Ctx) -> Response:
        body = await body_of(request)
        rules = body.get("rules", [])
        check_rules(rules)
        kind = request.path_params["record_type"]
        flt = {"id": ctx.db.new_id(), "filter_type": kind, "rules": rules}
        ctx.db.filters[flt["id"]] = flt
        return JSONResponse(flt, status_code=201)

    path = "/{record_type:str}/filters"
    return [*route(path, create, "POST"), *route(path + "/{id}", read, "GET")]


async def list_custom_fields(request: Request, ctx: Ctx) -> Response:
    raw = request.query_params.get("filter", "")
    rows = list(ctx.db.custom_fields.values())
    if raw.startswith("view="):
        view = raw.removeprefix("view=")
        view = "opportunities" if view == "deals" else view
        rows = [r for r in rows if r["view"] == view]
    return listing(request, ctx.db, "custom_fields", rows)


def write_custom_field(
    db: SalesSeekDB, rec: dict[str, Any] | None, body: dict[str, Any], user_id: str
) -> dict[str, Any]:
    if rec is None:
        view = "opportunities" if body.get("view") == "deals" else body.get("view")
        if view not in VIEWS or not str(body.get("name") or "").strip() or not body.get("type"):
            raise ApiError(400, "name, type and view are required")
        rec = db.base(user_id) | {
            "name": "",
            "type": body["type"],
            "view": view,
            "required": False,
            "options": [],
            "value": {},
            "order": len(db.custom_fields),
            "default": None,
            "params": None,
        }
        db.custom_fields[rec["id"]] = rec
    for key in ("name", "required", "order", "default", "params"):
        if key in body:
            rec[key] = body[key]
    options = body.get("options", (body.get("value") or {}).get("options"))
    if isinstance(options, list):
        rec["options"] = [
            {"id": o.get("id") or db.new_id(), "value": o.get("value")} for o in options
        ]
        rec["value"] = {"options": rec["options"]}
    db.touch(rec, user_id)
    return rec


def write_tag(
    db: SalesSeekDB, rec: dict[str, Any] | None, body: dict[str, Any], user_id: str
) -> dict[str, Any]:
    name = str(body.get("name") or "").strip()
    if not name:
        raise ApiError(400, "name is required")
    if rec is None:
        return db.create_tag(name, user_id)
    rec["name"] = name
    db.touch(rec, user_id)
    return rec


def write_user(
    db: SalesSeekDB, rec: dict[str, Any] | None, body: dict[str, Any], user_id: str
) -> dict[str, Any]:
    if rec is None:
        raise ApiError(405, "Method not allowed")
    for key in ("name", "email_address", "email_signature", "notification_settings", "quota"):
        if key in body:
            rec[key] = body[key]
    rec["modified"] = db.now()
    return rec


async def list_campaigns(request: Request, ctx: Ctx) -> Response:
    statuses = {s for s in request.query_params.get("status", "").split(",") if s}
    rows = [c for c in ctx.db.campaigns.values() if not statuses or c["status"] in statuses]
    return listing(request, ctx.db, "campaigns", rows, search=("name",))


async def list_funnels(request: Request, ctx: Ctx) -> Response:
    rows = sorted(ctx.db.funnels.values(), key=lambda f: f["order"])

    def show(rec: dict[str, Any], reduced: bool) -> dict[str, Any]:
        return {**rec, "phases": ctx.db.funnel_phases(rec["id"])}

    return listing(request, ctx.db, "funnels", rows, view=show)


async def list_phases(request: Request, ctx: Ctx) -> Response:
    funnel_id = request.query_params.get("funnel_id")
    rows = [p for p in ctx.db.phases.values() if funnel_id in (None, p["funnel_id"])]
    return listing(request, ctx.db, "phases", rows)


def _writer(method: str) -> Writer:
    def write(
        db: SalesSeekDB, rec: dict[str, Any] | None, body: dict[str, Any], user_id: str
    ) -> dict[str, Any]:
        write_one: Callable[[dict[str, Any] | None, dict[str, Any], str], dict[str, Any]]
        write_one = getattr(db, method)
        return write_one(rec, body, user_id)

    return write


def routes() -> list[BaseRoute]:
    out: list[BaseRoute] = [
        *route("/login", login, "POST", auth=False),
        *route("/logout", logout, "DELETE", auth=False),
        *filter_routes(),
        *collection("organizations", _writer("write_organization"), search=("name",)),
        *collection(
            "individuals",
            _writer("write_individual"),
            search=("full_name", "first_name", "last_name"),
            update="POST",
        ),
        *collection("opportunities", _writer("write_opportunity"), search=("name",)),
        *collection("tasks", _writer("write_task"), search=("text",)),
        *collection("activities", _writer("write_activity"), index=list_activities),
        *route("/groups/{id}/items/{record_id}", add_group_item, "PUT"),
        *collection("groups", write_group, index=list_groups),
        *route("/group_pages", group_page, "GET"),
        *collection("tags", write_tag, search=("name",)),
        *collection("custom_fields", write_custom_field, update="POST", index=list_custom_fields),
        *collection("users", write_user, search=("name", "email_address")),
        *collection("campaigns", None, index=list_campaigns),
        *route("/funnels", list_funnels, "GET"),
        *route("/phases", list_phases, "GET"),
    ]
    return out


def create_app(
    *,
    seed: int = 0,
    scale: int = 1,
    faults: Faults | None = None,
    rate_limit: bool = True,
    now: datetime | None = None,
) -> Starlette:
    """The SalesSeek sandbox, seeded from ``seed`` (``scale`` multiplies the counts)."""
    clock = SandboxClock(now)
    db = build(seed=seed, scale=scale, now=clock.anchor, clock=clock)
    faults = faults if faults is not None else Faults()
    limit = WindowLimit(RATE_LIMIT, RATE_WINDOW, enabled=rate_limit)
    app = Starlette(
        routes=[Mount("/api", routes=routes())],
        middleware=[
            Middleware(
                FaultMiddleware, faults=faults, error=error_response, expire=db.expire_sessions
            )
        ],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.db = db
    app.state.faults = faults
    app.state.limit = limit
    app.state.clock = clock
    return enforce(app, CONTRACT)  # held to its documented contract (contract.py)
