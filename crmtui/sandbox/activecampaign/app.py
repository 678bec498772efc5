"""The ActiveCampaign sandbox app: the deals part of API v3 under ``/api/3``, declared on
the shared sandbox kit (:mod:`crmtui.sandbox.kit`) from its contract (``contract.py``).

Each request is checked in AC's order: the ``Api-Token`` header (403 ``{"message":
"Forbidden"}`` without a known key), then the account's 5 requests/second budget (429
``{"message": "Too Many Requests"}`` with ``Retry-After``); every answer past the key
carries ``RateLimit-Limit`` and ``RateLimit-Remaining``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from starlette.applications import Starlette

from crmtui.sandbox import SandboxClock, kit
from crmtui.sandbox.activecampaign import customfields as cf
from crmtui.sandbox.activecampaign import deals, people, pipelines, tasks
from crmtui.sandbox.activecampaign.common import AcCall, bad_request
from crmtui.sandbox.activecampaign.contract import CONTRACT
from crmtui.sandbox.activecampaign.data import build
from crmtui.sandbox.activecampaign.deals import linked
from crmtui.sandbox.faults import Faults
from crmtui.sandbox.ratelimit import WindowLimit

LIMIT = 5  # requests per second, for the whole account (every key of it)
Handler = Callable[[AcCall], Any]


# "METHOD /path" (as contract.py declares each endpoint) -> handler
HANDLERS: dict[str, Handler] = {
    "GET /api/3": lambda call: {},  # the API root, a connection check (contract.py)
    "GET /api/3/deals": deals.list_deals,
    "POST /api/3/deals": deals.create_deal,
    "PATCH /api/3/deals/bulkUpdate": deals.bulk_update,
    "GET /api/3/deals/{id}": deals.get_deal,
    "PUT /api/3/deals/{id}": deals.update_deal,
    "DELETE /api/3/deals/{id}": deals.delete_deal,
    "GET /api/3/deals/{id}/dealActivities": deals.list_activities,
    "GET /api/3/deals/{id}/contactDeals": people.contact_deals_of_deal,
    "GET /api/3/deals/{id}/notes": deals.list_deal_notes,
    "POST /api/3/deals/{id}/notes": deals.create_deal_note,
    "PUT /api/3/deals/{id}/notes/{note}": deals.update_deal_note,
    "GET /api/3/deals/{id}/tasks": tasks.deal_tasks,
    "GET /api/3/deals/{id}/dealCustomFieldData": deals.deal_field_data,
    "GET /api/3/deals/{id}/contact": linked(
        "contact", "contact", "contacts", people.render_contact
    ),
    "GET /api/3/deals/{id}/owner": linked("user", "owner", "users", people.render_user),
    "GET /api/3/deals/{id}/group": linked("dealGroup", "group", "groups", pipelines.render_group),
    "GET /api/3/deals/{id}/stage": linked("dealStage", "stage", "stages", pipelines.render_stage),
    "GET /api/3/deals/{id}/nextTask": linked(
        "dealTask", "nexttaskid", "tasks", partial(tasks.render_task, single=True)
    ),
    "GET /api/3/dealActivities": deals.list_activities,
    "GET /api/3/dealStages": pipelines.list_stages,
    "POST /api/3/dealStages": pipelines.create_stage,
    "GET /api/3/dealStages/{id}": pipelines.get_stage,
    "PUT /api/3/dealStages/{id}": pipelines.update_stage,
    "DELETE /api/3/dealStages/{id}": pipelines.delete_stage,
    "PUT /api/3/dealStages/{id}/deals": pipelines.move_stage_deals,
    "GET /api/3/dealGroups": pipelines.list_groups,
    "POST /api/3/dealGroups": pipelines.create_group,
    "GET /api/3/dealGroups/{id}": pipelines.get_group,
    "PUT /api/3/dealGroups/{id}": pipelines.update_group,
    "DELETE /api/3/dealGroups/{id}": pipelines.delete_group,
    "GET /api/3/dealTasks": tasks.list_tasks,
    "POST /api/3/dealTasks": tasks.create_task,
    "GET /api/3/dealTasks/{id}": tasks.get_task,
    "PUT /api/3/dealTasks/{id}": tasks.update_task,
    "DELETE /api/3/dealTasks/{id}": tasks.delete_task,
    "GET /api/3/dealTasktypes": tasks.list_types,
    "POST /api/3/dealTasktypes": tasks.create_type,
    "GET /api/3/dealTasktypes/{id}": tasks.get_type,
    "PUT /api/3/dealTasktypes/{id}": tasks.update_type,
    "DELETE /api/3/dealTasktypes/{id}": tasks.delete_type,
    "PUT /api/3/dealTasktypes/{id}/dealTasks": tasks.move_type_tasks,
    "GET /api/3/dealRoles": people.list_roles,
    "POST /api/3/dealRoles": people.create_role,
    "DELETE /api/3/dealRoles/{id}": people.delete_role,
    "GET /api/3/contactDeals": people.list_contact_deals,
    "POST /api/3/contactDeals": people.create_contact_deal,
    "GET /api/3/contactDeals/{id}": people.get_contact_deal,
    "PUT /api/3/contactDeals/{id}": people.update_contact_deal,
    "DELETE /api/3/contactDeals/{id}": people.delete_contact_deal,
    "GET /api/3/contacts": people.list_contacts,
    "GET /api/3/contacts/{id}": people.get_contact,
    "GET /api/3/contacts/{id}/deals": deals.contact_deals_of,
    "GET /api/3/contacts/{id}/contactDeals": people.contact_deals_of_contact,
    "GET /api/3/dealCustomFieldMeta": cf.list_meta,
    "POST /api/3/dealCustomFieldMeta": cf.create_meta,
    "GET /api/3/dealCustomFieldMeta/{id}": cf.get_meta,
    "PUT /api/3/dealCustomFieldMeta/{id}": cf.update_meta,
    "DELETE /api/3/dealCustomFieldMeta/{id}": cf.delete_meta,
    "GET /api/3/dealCustomFieldData": cf.list_data,
    "POST /api/3/dealCustomFieldData": cf.create_datum,
    "POST /api/3/dealCustomFieldData/bulkCreate": cf.bulk_create,
    "PATCH /api/3/dealCustomFieldData/bulkUpdate": cf.bulk_update,
    "GET /api/3/dealCustomFieldData/{id}": cf.get_datum,
    "PUT /api/3/dealCustomFieldData/{id}": cf.update_datum,
    "DELETE /api/3/dealCustomFieldData/{id}": cf.delete_datum,
    "GET /api/3/users": people.list_users,
    "GET /api/3/users/me": people.get_me,
    "GET /api/3/users/{id}": people.get_user,
    "GET /api/3/accounts": people.list_accounts,
    "GET /api/3/accounts/{id}": people.get_account,
    "GET /api/3/notes/{id}": deals.get_note,
}

# AC's own words for these statuses, whatever the cause (a bad integer, an injected fault)
WORDS = {400: "Bad Request", 403: "Forbidden", 429: "Too Many Requests", 503: "Service Unavailable"}


def envelope(status: int, message: str, detail: str) -> dict[str, str]:
    """AC's plain error body: ``{"message": "..."}``."""
    return {"message": WORDS.get(status, message)}


def _who(call: AcCall, key: str) -> str | None:
    """The id of the user an ``Api-Token`` belongs to."""
    user = call.db.tokens.get(key)
    return None if user is None else str(user)


def _refused(window: WindowLimit) -> kit.ApiError:
    retry = str(max(1, math.ceil(window.reset_in)))
    return kit.ApiError(429, "Too Many Requests", headers={"Retry-After": retry})


def _limit_headers(window: WindowLimit) -> dict[str, str]:
    return {"RateLimit-Limit": str(LIMIT), "RateLimit-Remaining": str(int(window.remaining))}


SANDBOX = kit.Sandbox(
    contract=CONTRACT,
    handlers=HANDLERS,
    envelope=envelope,
    # AC keys do not expire: the expire fault refuses the next request once, as AC's
    # stray 403s under load do
    auth=kit.HeaderKey("Api-Token"),
    who=_who,
    context=AcCall,
    limit=kit.Limit(
        LIMIT, 1.0, per_key=False, refused=_refused, headers=_limit_headers
    ),  # one window for the whole account: every key of it shares the 5 a second
    default_account="1",
    unauthorized=lambda reason: kit.ApiError(403, "Forbidden", reason),
    bad_body=bad_request,
)


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
    clock = SandboxClock(now or db.now)
    return SANDBOX.app(db, clock=clock, faults=faults, rate_limit=rate_limit)
