"""The ActiveCampaign sandbox app: every route of the deals part of API v3 under ``/api/3``.

Each request is checked in AC's order: the ``Api-Token`` header (403 ``{"message":
"Forbidden"}`` without a known key), then the account's 5 requests/second budget (429
``{"message": "Too Many Requests"}`` with ``Retry-After``); every answer carries
``RateLimit-Limit`` and ``RateLimit-Remaining``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import datetime

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crmtui.sandbox import SandboxClock
from crmtui.sandbox.activecampaign import customfields as cf
from crmtui.sandbox.activecampaign import deals, people, pipelines, tasks
from crmtui.sandbox.activecampaign.common import API, ApiError, Ctx, message
from crmtui.sandbox.activecampaign.contract import CONTRACT
from crmtui.sandbox.activecampaign.data import Db, build
from crmtui.sandbox.contract import enforce
from crmtui.sandbox.faults import FaultMiddleware, Faults
from crmtui.sandbox.ratelimit import WindowLimit

LIMIT = 5  # requests per second per account
Handler = Callable[[Ctx], Awaitable[Response]]

ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/deals", deals.list_deals),
    ("POST", "/deals", deals.create_deal),
    ("PATCH", "/deals/bulkUpdate", deals.bulk_update),
    ("GET", "/deals/{id}", deals.get_deal),
    ("PUT", "/deals/{id}", deals.update_deal),
    ("DELETE", "/deals/{id}", deals.delete_deal),
    ("GET", "/deals/{id}/dealActivities", deals.list_activities),
    ("GET", "/deals/{id}/contactDeals", people.contact_deals_of_deal),
    ("GET", "/deals/{id}/notes", deals.list_deal_notes),
    ("POST", "/deals/{id}/notes", deals.create_deal_note),
    ("PUT", "/deals/{id}/notes/{note}", deals.update_deal_note),
    ("GET", "/dealActivities", deals.list_activities),
    ("GET", "/dealStages", pipelines.list_stages),
    ("POST", "/dealStages", pipelines.create_stage),
    ("GET", "/dealStages/{id}", pipelines.get_stage),
    ("PUT", "/dealStages/{id}", pipelines.update_stage),
    ("DELETE", "/dealStages/{id}", pipelines.delete_stage),
    ("PUT", "/dealStages/{id}/deals", pipelines.move_stage_deals),
    ("GET", "/dealGroups", pipelines.list_groups),
    ("POST", "/dealGroups", pipelines.create_group),
    ("GET", "/dealGroups/{id}", pipelines.get_group),
    ("PUT", "/dealGroups/{id}", pipelines.update_group),
    ("DELETE", "/dealGroups/{id}", pipelines.delete_group),
    ("GET", "/dealTasks", tasks.list_tasks),
    ("POST", "/dealTasks", tasks.create_task),
    ("GET", "/dealTasks/{id}", tasks.get_task),
    ("PUT", "/dealTasks/{id}", tasks.update_task),
    ("DELETE", "/dealTasks/{id}", tasks.delete_task),
    ("GET", "/dealTasktypes", tasks.list_types),
    ("POST", "/dealTasktypes", tasks.create_type),
    ("GET", "/dealTasktypes/{id}", tasks.get_type),
    ("PUT", "/dealTasktypes/{id}", tasks.update_type),
    ("DELETE", "/dealTasktypes/{id}", tasks.delete_type),
    ("PUT", "/dealTasktypes/{id}/dealTasks", tasks.move_type_tasks),
    ("GET", "/dealRoles", people.list_roles),
    ("POST", "/dealRoles", people.create_role),
    ("DELETE", "/dealRoles/{id}", people.delete_role),
    ("GET", "/contactDeals", people.list_contact_deals),
    ("POST", "/contactDeals", people.create_contact_deal),
    ("GET", "/contactDeals/{id}", people.get_contact_deal),
    ("PUT", "/contactDeals/{id}", people.update_contact_deal),
    ("DELETE", "/contactDeals/{id}", people.delete_contact_deal),
    ("GET", "/contacts", people.list_contacts),
    ("GET", "/contacts/{id}", people.get_contact),
    ("GET", "/contacts/{id}/deals", deals.contact_deals_of),
    ("GET", "/contacts/{id}/contactDeals", people.contact_deals_of_contact),
    ("GET", "/dealCustomFieldMeta", cf.list_meta),
    ("POST", "/dealCustomFieldMeta", cf.create_meta),
    ("GET", "/dealCustomFieldMeta/{id}", cf.get_meta),
    ("PUT", "/dealCustomFieldMeta/{id}", cf.update_meta),
    ("DELETE", "/dealCustomFieldMeta/{id}", cf.delete_meta),
    ("GET", "/dealCustomFieldData", cf.list_data),
    ("POST", "/dealCustomFieldData", cf.create_datum),
    ("POST", "/dealCustomFieldData/bulkCreate", cf.bulk_create),
    ("PATCH", "/dealCustomFieldData/bulkUpdate", cf.bulk_update),
    ("GET", "/dealCustomFieldData/{id}", cf.get_datum),
    ("PUT", "/dealCustomFieldData/{id}", cf.update_datum),
    ("DELETE", "/dealCustomFieldData/{id}", cf.delete_datum),
    ("GET", "/users", people.list_users),
    ("GET", "/users/{id}", people.get_user),
    ("GET", "/accounts", people.list_accounts),
    ("GET", "/accounts/{id}", people.get_account),
    ("GET", "/notes/{id}", deals.get_note),
)


def error_response(status: int, text: str) -> Response:
    """AC's body for an injected fault (429 and 503 as AC words them when throttling)."""
    words = {429: "Too Many Requests", 503: "Service Unavailable"}
    return message(status, words.get(status, text))


def guarded(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Auth, then the rate limit, then the handler; rate-limit headers on every answer."""

    async def endpoint(request: Request) -> Response:
        state = request.app.state
        db: Db = state.db
        limit: WindowLimit = state.limit
        user = db.tokens.get(request.headers.get("Api-Token", ""))
        if user is None or db.reject_next:
            db.reject_next = False
            response: Response = message(403, "Forbidden")
        elif not limit.take():
            response = message(429, "Too Many Requests")
            response.headers["Retry-After"] = str(max(1, math.ceil(limit.reset_in)))
        else:
            try:
                response = await handler(Ctx(request, db, state.clock(), user))
            except ApiError as exc:
                response = exc.response
        response.headers["RateLimit-Limit"] = str(LIMIT)
        response.headers["RateLimit-Remaining"] = str(int(limit.remaining))
        return response

    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return message(status, "Not Found" if status == 404 else "Method Not Allowed")


def create_app(
    *,
    seed: int = 0,
    scale: int = 1,
    faults: Faults | None = None,
    rate_limit: bool = True,
    now: datetime | None = None,
) -> Starlette:
    """The sandbox account: data from ``seed``; API key ``sandbox`` (user 1)."""
    db = build(seed, scale, now)
    faults = faults or Faults()

    def expire() -> None:
        db.reject_next = True  # AC keys do not expire: the next request is refused once

    app = Starlette(
        routes=[Route(API + path, guarded(fn), methods=[verb]) for verb, path, fn in ROUTES],
        middleware=[
            Middleware(FaultMiddleware, faults=faults, error=error_response, expire=expire)
        ],
        exception_handlers={404: _http_error, 405: _http_error},
    )
    app.state.db = db
    app.state.faults = faults
    app.state.limit = WindowLimit(LIMIT, 1.0, enabled=rate_limit)
    app.state.clock = SandboxClock(now or db.now)
    return enforce(app, CONTRACT)  # held to its documented contract (contract.py)
