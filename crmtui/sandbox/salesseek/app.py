"""The SalesSeek sandbox: the documented REST API (2017 docs) under ``/api/``, declared on
the shared sandbox kit (:mod:`crmtui.sandbox.kit`): its routes are the contract's endpoints
(``contract.py``), each served by one handler below.

Cookie auth (``POST /api/login`` form-encoded, ``salesseek`` cookie), offset paging with
``rows``/``start``/``order_by``/``search`` and the ``Records-Rows``/``Records-Start``/
``Records-Total`` headers, bare JSON arrays and objects, PATCH partial updates (POST for
individuals and custom fields, as documented).

Decisions where the documentation is silent (see the vendor notes):

- Errors are ``{"detail": "<message>"}``: 400 bad input, 401 no/unknown/expired cookie
  (``"Not authenticated"``) or bad credentials, 404 ``"Not found"``, 405 ``"Method not
  allowed"`` (e.g. ``PATCH /api/individuals/{id}``), 429 ``"Too many requests"``.
- Login takes ``email_address`` (or the sample's ``email``) and ``password`` as a form:
  form-encoded (the doc's) or ``multipart/form-data`` (as public clients post it; issue
  14); a JSON body is a 400; the cookie is ``salesseek=<uuid4>; Path=/`` (no ``Secure``,
  so plain-http loopback works). Sessions never expire unless the ``expire`` fault ends
  them all. ``DELETE /api/logout`` answers 200 ``null`` and clears the cookie. Login,
  logout and the two password-reset calls need no cookie.
- Password reset: ``POST /api/forgotten`` answers 200 ``null`` whatever the address (a
  reset must not tell who has an account); for a user's address it keeps a reset token
  (the one the email would carry: ``db.resets``, by user id). ``POST /api/reset`` with that
  user id and token sets the password (the token is then spent) and answers 200 ``null``;
  another token is a 400.
- Default credentials: ``demo@sandbox.test`` / ``sandbox`` (every seeded user has the
  password ``sandbox``). Single tenant: the Host header (client id) is not checked.
- Rate limit: none is documented; the sandbox allows a polite 600 requests a minute for
  the account (fixed window, one for the whole sandbox) and answers 429 with
  ``Retry-After`` past it. A request without a valid cookie is refused before it counts.
- Paging: ``rows`` absent or ``-1`` means all rows, ``start`` absent means 0;
  ``Records-Rows`` is the number actually returned; a ``start`` past the end gives ``[]``.
  No largest ``rows``. A ``rows`` below 1 (other than -1), a negative ``start`` or one
  that is not a whole number is a 400 (``{"detail": "rows must be at least 1"}``).
- ``order_by``: ``<field> <asc|desc>`` (space, ``+`` or ``%20``; surrounding quotes
  stripped; direction defaults to asc). Default order ``created asc``; nulls sort last;
  text compares case-insensitively; an unknown field keeps the default order.
- ``search`` (where the contract documents it): case-insensitive substring of the name
  (``full_name``/``first_name``/``last_name`` for individuals, ``text`` for tasks); search
  answers are "reduced": no expanded objects (owner, organization, communication,
  custom_fields...).
- Creates answer 201 with the record; deletes 200 ``null``. Trailing slashes are optional.
  Unknown and read-only keys in a write are ignored; ``custom_fields`` merge key by key.
- ``POST /api/{record_type}/filters`` is the filter create for every record type, also
  where a ``POST /api/<type>/{id}`` update is documented (individuals, custom fields):
  ``filters`` is never an id (ids are UUIDs).
- Users: a new user gets a temporary password (emailed by the real vendor: kept in
  ``db.passwords``) and ``password_reset_required``; an address already in use is a 400.
  Deleting a user hands what they own (records, tasks assigned, groups, campaigns) to the
  caller, as the doc says, ends their sessions and forgets their password; their
  activities stay theirs. A user cannot delete themself (400).
- Campaigns: ``POST /api/campaigns`` creates one (201); with ``?test=<email>`` it only
  sends a test to that user (200 ``null``, the doc's answer; an address that is no user's
  is a 400); with ``?send`` the campaign created is live (``status`` ``ready``).
  ``from_user``/``to_group`` objects name the user and group by ``id``.
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
- Groups are created with ``POST /api/groups`` (the doc's URL is a copy slip); group
  pages also send the paging headers. The seed has no list of users, funnels or phases:
  the sandbox serves none (the contract answers them 404, 405 for ``GET /api/users``);
  the adapter reads users one by one and funnels and phases from the deals.
"""

from __future__ import annotations

import inspect
import secrets
import sys
from collections.abc import Callable
from datetime import datetime
from email.parser import BytesParser
from email.policy import HTTP
from math import ceil
from typing import Any, cast
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response

from crmtui.sandbox import SandboxClock, kit
from crmtui.sandbox.contract import Endpoint
from crmtui.sandbox.faults import Faults
from crmtui.sandbox.kit import ApiError
from crmtui.sandbox.ratelimit import WindowLimit
from crmtui.sandbox.salesseek.contract import CATEGORY_FLAGS, CONTRACT, INCLUDE_FLAGS
from crmtui.sandbox.salesseek.data import (
    TARGET_KEYS,
    SalesSeekDB,
    build,
    category,
    check_rules,
)

COOKIE = "salesseek"
RATE_LIMIT = 600  # requests per window (not documented: a polite default)
RATE_WINDOW = 60.0
VIEWS = {"individuals", "organizations", "opportunities", "deals"}
PAGING = kit.Offset(start="start", size="rows", maximum=sys.maxsize, every=-1)


def endpoint(method: str, path: str) -> Endpoint:
    """The contract's endpoint ``method path`` (its fields are the one list of them)."""
    return next(e for e in CONTRACT.endpoints if (e.method, e.path) == (method, path))


def writable(method: str, path: str, *, but: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The body fields the contract lets ``method path`` write, less those handled apart."""
    return tuple(f for f in endpoint(method, path).fields or () if f not in but)


# -- order and paging -------------------------------------------------------------------


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


View = Callable[[dict[str, Any], bool], dict[str, Any]]


class SalesSeekCall(kit.Call):
    """A request to the SalesSeek sandbox: its data, the caller (``user_id``) and the
    list helpers every documented list shares (order, window, paging headers)."""

    @property
    def db(self) -> SalesSeekDB:
        return cast(SalesSeekDB, self.running.db)

    @property
    def user_id(self) -> str:
        return self.key

    def order(self) -> tuple[str, bool] | None:
        return parse_order(self.query.get("order_by"))

    async def object(self) -> dict[str, Any]:
        """The body as a JSON object; a field naming a record (``owner_id``,
        ``organization_id``, ``phase_id``, any ``*_id``) or a ``currency`` that is a list or
        an object is the documented 400 ``{"detail": ...}`` here, before any handler
        looks it up (each looks ids up in a table: a list there was a 500)."""
        body = await super().object()
        for key, value in body.items():
            if (key.endswith("_id") or key == "currency") and isinstance(value, list | dict):
                raise ApiError(400, f"{key} must be an id, not a {type(value).__name__}")
        return body

    def window(self, rows: list[Any]) -> tuple[list[Any], dict[str, str]]:
        """The ``start``/``rows`` slice of ``rows`` and its ``Records-*`` headers."""
        page = PAGING.of(self, rows)
        headers = {
            "Records-Rows": str(len(page.rows)),
            "Records-Start": str(page.start),
            "Records-Total": str(page.total),
        }
        return page.rows, headers

    def listing(
        self,
        kind: str,
        rows: list[dict[str, Any]],
        *,
        search: tuple[str, ...] = (),
        view: View | None = None,
    ) -> Response:
        """A documented list answer: search, order, page, headers, records."""
        db = self.db
        text = self.query.get("search", "").strip().casefold()
        reduced = bool(text and search)
        if reduced:
            rows = [r for r in rows if any(text in str(r.get(k) or "").casefold() for k in search)]

        def show(rec: dict[str, Any], reduced: bool = False) -> dict[str, Any]:
            return view(rec, reduced) if view else db.view(kind, rec, reduced=reduced)

        page, headers = self.window(ordered(rows, self.order(), show))
        return JSONResponse([show(r, reduced) for r in page], headers=headers)


Call = SalesSeekCall
Handler = Callable[[Call], Any]


# -- auth ----------------------------------------------------------------------------------


def form_fields(content_type: str, raw: bytes) -> dict[str, str]:
    """A form's text fields: ``application/x-www-form-urlencoded`` (the doc's) or
    ``multipart/form-data`` (what public clients post; a form reader takes both)."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    if kind != "multipart/form-data":
        raise ApiError(400, "Login must be sent as a form (application/x-www-form-urlencoded)")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + raw)
    fields: dict[str, str] = {}
    for part in message.iter_parts() if message.is_multipart() else ():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload.decode(part.get_content_charset() or "utf-8", "replace")
    return fields


async def login(call: Call) -> Response:
    form = form_fields(call.request.headers.get("content-type", ""), await call.raw())
    email = form.get("email_address") or form.get("email") or ""
    password = form.get("password") or ""
    if not email or not password:
        raise ApiError(400, "email_address and password are required")
    db = call.db
    token = db.login(email, password)
    if token is None:
        raise ApiError(401, "Invalid email address or password")
    user = db.users[db.sessions[token]]
    client = {k: v for k, v in db.client.items() if k not in ("id", "sources")}
    body = {
        **{k: v for k, v in user.items() if k not in ("preferences", "quota", "email_signature")},
        "client_id": db.client["id"],
        "client": client,
    }
    response = JSONResponse(body)
    response.headers.append("set-cookie", f"{COOKIE}={token}; Path=/")
    return response


def logout(call: Call) -> Response:
    call.db.sessions.pop(call.request.cookies.get(COOKIE, ""), None)
    response = JSONResponse(None)
    response.headers.append("set-cookie", f"{COOKIE}=; Max-Age=0; Path=/")
    return response


async def forgotten(call: Call) -> None:
    email = str((await call.object()).get("email_address") or "").strip().lower()
    user = next((u for u in call.db.users.values() if u["email_address"].lower() == email), None)
    if user is not None:
        call.db.resets[user["id"]] = secrets.token_hex(8)


async def reset(call: Call) -> None:
    body = await call.object()
    user_id, token = str(body.get("user_id") or ""), str(body.get("token") or "")
    db = call.db
    if not token or db.resets.get(user_id) != token:
        raise ApiError(400, "The reset token is not valid")
    password = body.get("password")
    if not isinstance(password, str) or not password:
        raise ApiError(400, "password must be text")
    del db.resets[user_id]
    user = db.users[user_id]
    db.passwords[user["email_address"].lower()] = password
    user["password_reset_required"] = False


# -- records -----------------------------------------------------------------------------

Writer = Callable[[SalesSeekDB, dict[str, Any] | None, dict[str, Any], str], dict[str, Any]]


def _writer(method: str) -> Writer:
    def write(
        db: SalesSeekDB, rec: dict[str, Any] | None, body: dict[str, Any], user_id: str
    ) -> dict[str, Any]:
        write_one: Callable[[dict[str, Any] | None, dict[str, Any], str], dict[str, Any]]
        write_one = getattr(db, method)
        return write_one(rec, body, user_id)

    return write


def record_handlers(kind: str, writer: Writer, search: tuple[str, ...] = ()) -> dict[str, Handler]:
    """List, create, read, update and delete of one record type: one handler for each of
    those the contract documents (the update's method is the contract's)."""
    many, one = f"/api/{kind}", f"/api/{kind}/{{id}}"

    def list_all(call: Call) -> Response:
        return call.listing(kind, list(call.db.store(kind).values()), search=search)

    async def create(call: Call) -> Response:
        rec = writer(call.db, None, await call.object(), call.user_id)
        return kit.reply(call.db.view(kind, rec), 201)

    def read(call: Call) -> Any:
        return call.db.view(kind, call.db.find(kind, call.params["id"]))

    async def change(call: Call) -> Any:
        rec = call.db.find(kind, call.params["id"])
        return call.db.view(kind, writer(call.db, rec, await call.object(), call.user_id))

    def delete(call: Call) -> None:
        call.db.find(kind, call.params["id"])
        call.db.remove(kind, call.params["id"])

    roles: dict[tuple[str, str], Handler] = {
        ("GET", many): list_all,
        ("POST", many): create,
        ("GET", one): read,
        ("DELETE", one): delete,
    }
    out: dict[str, Handler] = {}
    for e in CONTRACT.endpoints:
        if e.path in (many, one):
            out[f"{e.method} {e.path}"] = roles.get((e.method, e.path), change)
    return out


def list_activities(call: Call) -> Response:
    db, q = call.db, call.query
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

    return call.listing("activities", rows, view=show)


# -- groups and filters ---------------------------------------------------------------------


def list_groups(call: Call) -> Response:
    element = call.query.get("element_type")
    wanted = {element} if element else {"individuals", "opportunities"}
    rows = [g for g in call.db.groups.values() if g["element_type"] in wanted]
    return call.listing("groups", rows)


GROUP_PLAIN = writable(
    "PATCH", "/api/groups/{id}", but=("group_type", "element_type", "owner_id", "filter_id")
)


def write_group(
    db: SalesSeekDB, rec: dict[str, Any] | None, body: dict[str, Any], user_id: str
) -> dict[str, Any]:
    if rec is None:
        if body.get("group_type") not in ("static", "smart"):
            raise ApiError(400, "group_type must be static or smart")
        if body.get("element_type") not in TARGET_KEYS:
            raise ApiError(400, "element_type must be individuals, organizations or opportunities")
        if not str(body.get("name") or "").strip():
            raise ApiError(400, "name is required")
        rec = db.new_group(body["name"], body["group_type"], body["element_type"], user_id)
    if rec["locked"] and body:
        raise ApiError(400, "This group is locked")
    for key in GROUP_PLAIN:
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


def add_group_item(call: Call) -> Any:
    db = call.db
    group = db.find("groups", call.params["id"])
    record_id = call.params["record_id"]
    if group["group_type"] != "static":
        raise ApiError(400, "Records can only be added to static groups")
    if record_id not in db.store(group["element_type"]):
        raise ApiError(404, "Not found")
    items = db.group_items.setdefault(group["id"], [])
    if record_id not in items:
        items.append(record_id)
    return db.view("groups", group)


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


def group_page(call: Call) -> Response:
    db, q = call.db, call.query
    group = db.find("groups", q.get("group_id", ""))
    kind = group["element_type"]
    if q.get("item_type") and q["item_type"] != kind:
        raise ApiError(400, f"item_type must be {kind} for this group")
    columns = [c for c in q.get("columns", "").split(",") if c] or group["columns"]
    columns = columns or DEFAULT_COLUMNS[kind]
    order = call.order() or ("full_name" if kind == "individuals" else "name", False)
    members = ordered(db.group_members(group), order, lambda r: db.view(kind, r))
    page, headers = call.window(members)
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


def read_filter(call: Call) -> Any:
    flt = call.db.find("filters", call.params["id"])
    if flt["filter_type"] != call.params["record_type"]:
        raise ApiError(404, "Not found")
    return flt


async def create_filter(call: Call) -> Response:
    rules = (await call.object()).get("rules", [])
    check_rules(rules)
    db = call.db
    flt = {"id": db.new_id(), "filter_type": call.params["record_type"], "rules": rules}
    db.filters[flt["id"]] = flt
    return kit.reply(flt, 201)


def or_filter(kind: str, update: Handler) -> Handler:
    """``POST /api/<kind>/{id}`` (an update) that is ``POST /api/<kind>/filters``."""

    async def either(call: Call) -> Any:
        if call.params["id"] != "filters":
            result = update(call)
            return await result if inspect.isawaitable(result) else result
        call.params = {"record_type": kind}
        return await create_filter(call)

    return either


# -- custom fields, tags, users, campaigns ---------------------------------------------------


def list_custom_fields(call: Call) -> Response:
    raw = call.query.get("filter", "")
    rows = list(call.db.custom_fields.values())
    if raw.startswith("view="):
        view = raw.removeprefix("view=")
        view = "opportunities" if view == "deals" else view
        rows = [r for r in rows if r["view"] == view]
    return call.listing("custom_fields", rows)


CUSTOM_FIELD_PLAIN = writable(
    "POST", "/api/custom_fields/{id}", but=("type", "view", "options", "value")
)


def write_custom_field(
    db: SalesSeekDB, rec: dict[str, Any] | None, body: dict[str, Any], user_id: str
) -> dict[str, Any]:
    value = body.get("value") or {}
    options = body.get("options", value.get("options") if isinstance(value, dict) else None)
    if not isinstance(value, dict) or not isinstance(options, list | None):
        raise ApiError(400, "value must be an object and options a list of {id, value}")
    if options is not None and not all(isinstance(o, dict) for o in options):
        raise ApiError(400, "options must be a list of {id, value}")
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
    for key in CUSTOM_FIELD_PLAIN:
        if key in body:
            rec[key] = body[key]
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


USER_PLAIN = writable("PATCH", "/api/users/{id}", but=("email_address",))


def write_user(
    db: SalesSeekDB, rec: dict[str, Any] | None, body: dict[str, Any], user_id: str
) -> dict[str, Any]:
    email = str(body.get("email_address") or "").strip()
    if "email_address" in body or rec is None:
        taken = {u["email_address"].lower() for u in db.users.values() if u is not rec}
        if "@" not in email or email.lower() in taken:
            raise ApiError(400, "email_address must be an address no other user has")
    if rec is None:
        rec = db.new_user(str(body.get("name") or ""), email)
    elif "email_address" in body:
        db.passwords[email.lower()] = db.passwords.pop(rec["email_address"].lower(), "")
        rec["email_address"] = email
    for key in USER_PLAIN:
        if key in body:
            rec[key] = body[key]
    rec["modified"] = db.now()
    return rec


def delete_user(call: Call) -> None:
    db, gone = call.db, call.params["id"]
    db.find("users", gone)
    if gone == call.user_id:
        raise ApiError(400, "A user cannot delete themself")
    db.remove_user(gone, heir=call.user_id)


def list_campaigns(call: Call) -> Response:
    statuses = {s for s in call.query.get("status", "").split(",") if s}
    rows = [c for c in call.db.campaigns.values() if not statuses or c["status"] in statuses]
    return call.listing("campaigns", rows)


CAMPAIGN_PLAIN = writable("PATCH", "/api/campaigns/{id}", but=("from_user", "to_group"))


def write_campaign(
    db: SalesSeekDB, rec: dict[str, Any] | None, body: dict[str, Any], user_id: str
) -> dict[str, Any]:
    for key in ("from_user", "to_group"):
        if isinstance(body.get(key), dict) and f"{key}_id" not in body:
            body = {**body, f"{key}_id": body[key].get("id")}
    if body.get("from_user_id") not in (None, *db.users):
        raise ApiError(400, "from_user: unknown user")
    if body.get("to_group_id") not in (None, *db.groups):
        raise ApiError(400, "to_group: unknown group")
    if rec is None:
        rec = db.new_campaign(user_id)
        db.campaigns[rec["id"]] = rec
    for key in CAMPAIGN_PLAIN:
        if key in body:
            rec[key] = db._owner(body[key]) if key == "owner_id" else body[key]
    group = db.groups.get(rec.get("to_group_id") or "")
    rec["to_group"] = {"id": group["id"], "name": group["name"]} if group else None
    db.touch(rec, user_id)
    return rec


async def create_campaign(call: Call) -> Any:
    body, db = await call.object(), call.db
    if "test" in call.query:
        to = call.query["test"].strip().lower()
        if not any(u["email_address"].lower() == to for u in db.users.values()):
            raise ApiError(400, "test: the address of a SalesSeek user is required")
        return None
    if "send" in call.query:
        body = {**body, "status": "ready"}
    rec = write_campaign(db, None, body, call.user_id)
    return kit.reply(db.view("campaigns", rec), 201)


# -- the declaration --------------------------------------------------------------------------


RECORDS: dict[str, tuple[Writer, tuple[str, ...]]] = {
    "organizations": (_writer("write_organization"), ("name",)),
    "individuals": (_writer("write_individual"), ("full_name", "first_name", "last_name")),
    "opportunities": (_writer("write_opportunity"), ()),
    "tasks": (_writer("write_task"), ("text",)),
    "activities": (_writer("write_activity"), ()),
    "groups": (write_group, ()),
    "tags": (write_tag, ()),
    "custom_fields": (write_custom_field, ()),
    "users": (write_user, ()),
    "campaigns": (write_campaign, ()),
}
HANDLERS: dict[str, Handler] = {
    key: handler
    for kind, (writer, search) in RECORDS.items()
    for key, handler in record_handlers(kind, writer, search).items()
}
for _kind in ("individuals", "custom_fields"):  # updated by POST (see the docstring)
    _key = f"POST /api/{_kind}/{{id}}"
    HANDLERS[_key] = or_filter(_kind, HANDLERS[_key])
HANDLERS |= {
    "POST /api/login": login,
    "DELETE /api/logout": logout,
    "POST /api/forgotten": forgotten,
    "POST /api/reset": reset,
    "GET /api/{record_type}/filters/{id}": read_filter,
    "POST /api/{record_type}/filters": create_filter,
    "GET /api/activities": list_activities,
    "GET /api/groups": list_groups,
    "PUT /api/groups/{id}/items/{record_id}": add_group_item,
    "GET /api/group_pages": group_page,
    "GET /api/custom_fields": list_custom_fields,
    "DELETE /api/users/{id}": delete_user,
    "GET /api/campaigns": list_campaigns,
    "POST /api/campaigns": create_campaign,
}


def _too_many(window: WindowLimit) -> ApiError:
    retry = str(max(1, ceil(window.reset_in)))
    return ApiError(429, "Too many requests", headers={"Retry-After": retry})


SANDBOX = kit.Sandbox(
    contract=CONTRACT,
    handlers=HANDLERS,
    envelope=lambda status, message, detail: {"detail": message},
    auth=kit.Cookie(COOKIE),
    who=lambda call, cookie: call.db.sessions.get(cookie),
    context=SalesSeekCall,
    limit=kit.Limit(RATE_LIMIT, RATE_WINDOW, per_key=False, refused=_too_many),
    public=frozenset(
        {"POST /api/login", "DELETE /api/logout", "POST /api/forgotten", "POST /api/reset"}
    ),
    unauthorized=lambda reason: ApiError(401, "Not authenticated"),
    bad_body=lambda: ApiError(400, "The request body must be a JSON object"),
    reasons={404: "Not found", 405: "Method not allowed"},
    expire=lambda db: db.expire_sessions(),
)


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
    return SANDBOX.app(db, clock=clock, faults=faults, rate_limit=rate_limit)
