"""The SalesforceIQ API v2 sandbox (Starlette), as its documentation describes it.

Routes under ``/v2``: lists (read-only schema), list items (CRUD + ``_upsert``), accounts
(+ ``/accounts/fields``), contacts (CRUD + ``_upsert=email``, delete archives), ``PUT
/events`` (204) and ``GET /users/{id}``. HTTP basic auth on every route; errors are the
documented object ``{"statusCode", "userMessage", "errorMessage"}``.

Decisions where the documentation is silent or contradicts itself:

- Credentials: key ``sandbox`` / secret ``sandbox``; key ``readonly`` (same secret) may
  only read (its writes get 403). Missing or wrong credentials: 401 with the error object
  and ``WWW-Authenticate: Basic``. The ``expire`` fault revokes the key for one request.
- Paging: ``_start`` (default 0) / ``_limit`` (default 50, clamped to 200; < 1 or not an
  integer: 400). Envelopes as in the doc samples: ``{"objects", "nextPage"}`` on lists
  and accounts, ``{"objects"}`` on contacts, and the list-item envelope with its
  counters at 0 / null exactly as shown. ``nextPage`` is the path of the next page (same
  filters) while more rows remain, else null.
- Order: creation order; with ``modifiedDate`` (at or after, in ms) ascending
  ``modifiedDate``. ``_ids`` accepts spaces after commas; unknown ids are skipped.
- Status codes: 400 for a missing required key or a bad parameter, 422 for a malformed
  body or an invalid value (unknown option id, non-numeric Numeric, unknown user or
  contact, several values in a single-select field, a write to a non-editable field),
  404 for unknown ids and paths, 405 for a wrong verb. Creates answer 200.
- Every successful write bumps a list item's ``version`` by one and sets
  ``modifiedDate`` to the sandbox clock (the doc's samples disagree on the bump).
  List-item PUT is partial: top-level keys sent replace, each ``fieldValues`` key sent
  replaces that field (``[]`` or ``[{"raw": ""}]`` clears it). The documented update
  body is the whole item read, "without the id, modifiedDate, or createdDate fields"
  (likewise accounts): a read-only or linked field sent back unchanged is accepted and
  changes nothing; only changing one is a 422. ``listId``, ``version``,
  ``linkedItemIds`` and (on a contact list) ``accountId`` in the body are ignored.
- Account and contact PUT answer with only what was sent (as the doc samples do).
  Deletes answer ``true``; deleting an account or contact still on a list item is a 400.
  An archived contact leaves ``GET /contacts`` but still answers ``GET /contacts/{id}``.
- Events are write-only in the API. The sandbox stores them (with the contacts their
  participants match) and shows them outside the API at ``GET /_sandbox/events``
  (``?contactId=`` to filter); they change no list item (the doc: events do not affect
  intelligence fields). The API has no tasks and no readable timeline, so writes record
  no activity.
- Rate limit: 100 000 requests per key per UTC calendar day, then 429 with the error
  object and no rate headers (none are documented).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmtui.sandbox import SandboxClock
from crmtui.sandbox.contract import enforce
from crmtui.sandbox.faults import FaultMiddleware, Faults
from crmtui.sandbox.ratelimit import WindowLimit
from crmtui.sandbox.salesforceiq.contract import CONTRACT
from crmtui.sandbox.salesforceiq.data import (
    CONTACT_PROPERTIES,
    PERSON_IDS,
    Db,
    address_parts,
    build,
    linked_item_ids,
    linked_values,
    ms,
    phone_value,
)

DAILY_LIMIT = 100_000
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
Json = dict[str, Any]
T = TypeVar("T")


def error_response(status: int, user_message: str, error_message: str = "") -> JSONResponse:
    """The documented error object."""
    body = {
        "statusCode": status,
        "userMessage": user_message,
        "errorMessage": error_message or REASONS.get(status, "Error"),
    }
    headers = {"WWW-Authenticate": 'Basic realm="SalesforceIQ"'} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


class ApiError(Exception):
    """Raised by handlers; answered with the error object."""

    def __init__(self, status: int, user_message: str, error_message: str = "") -> None:
        super().__init__(user_message)
        self.status = status
        self.user_message = user_message
        self.error_message = error_message

    def response(self) -> JSONResponse:
        return error_response(self.status, self.user_message, self.error_message)


@dataclass
class DailyLimit(WindowLimit):
    """A ``WindowLimit`` whose window is the UTC calendar day of ``clock`` (epoch s)."""

    _day: int = field(default=-1, init=False)

    def _roll(self) -> None:
        day = int(self.clock() // 86400)
        if day != self._day:
            self._day, self._start, self.used = day, day * 86400.0, 0.0


# -- request helpers ------------------------------------------------------------------


def _int_param(request: Request, name: str, default: int | None, minimum: int) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(
            400, f"Invalid parameter {name}", f"{name}={text!r} is not an integer"
        ) from None
    if value < minimum:
        raise ApiError(400, f"Invalid parameter {name}", f"{name} must be at least {minimum}")
    return value


def _ids_param(request: Request, name: str) -> list[str] | None:
    text = request.query_params.get(name)
    if text is None:
        return None
    return [part.strip().strip('"') for part in text.split(",") if part.strip()]


async def _body(request: Request) -> Json:
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(422, "The request body is not valid JSON", "Malformed JSON") from None
    if not isinstance(body, dict):
        raise ApiError(422, "The request body must be a JSON object", "Malformed object")
    return body


@dataclass
class Paged:
    rows: list[Json]
    next_page: str | None


def paginate(request: Request, rows: list[Json]) -> Paged:
    """Apply ``modifiedDate``, ``_start`` and ``_limit``; build ``nextPage``."""
    since = _int_param(request, "modifiedDate", None, 0)
    if since is not None:
        rows = sorted(
            (r for r in rows if r["modifiedDate"] >= since),
            key=lambda r: (r["modifiedDate"], r["id"]),
        )
    start = _int_param(request, "_start", 0, 0) or 0
    limit = min(_int_param(request, "_limit", DEFAULT_LIMIT, 1) or DEFAULT_LIMIT, MAX_LIMIT)
    page = rows[start : start + limit]
    next_page = None
    if start + limit < len(rows):
        params = dict(request.query_params) | {"_start": start + limit, "_limit": limit}
        next_page = f"{request.url.path}?{urlencode(params)}"
    return Paged(page, next_page)


def _select(rows: dict[str, Json], ids: list[str] | None) -> list[Json]:
    if ids is None:
        return list(rows.values())
    return [rows[i] for i in dict.fromkeys(ids) if i in rows]


def _copy(obj: T) -> T:
    """A deep copy of JSON data (what the wire would carry): the same shape back."""
    copied: T = json.loads(json.dumps(obj))
    return copied


# -- field values ----------------------------------------------------------------------


class FieldValues:
    """Validates and normalises ``fieldValues`` against field metadata (by ``dataType``)."""

    def __init__(self, db: Db, fields: Iterable[Json]) -> None:
        self.db = db
        self.fields = {f["id"]: f for f in fields}

    def normalise(
        self, values: Any, current: Mapping[str, Any] | None = None
    ) -> dict[str, list[dict[str, str]]]:
        """The values sent, normalised; an empty array means "clear the field".

        ``current``: the record's values (an update). The documented update body is the
        whole record read "without the id, modifiedDate, or createdDate fields", so a
        read-only or linked field sent back unchanged is accepted and changes nothing
        (left out of the result); only an attempt to change one is refused (422)."""
        if not isinstance(values, dict):
            raise ApiError(422, "fieldValues must be an object", "Malformed fieldValues")
        out: dict[str, list[dict[str, str]]] = {}
        for fid, entries in values.items():
            if current is not None and self._unchanged_fixed(str(fid), entries, current):
                continue
            out[str(fid)] = self._field(str(fid), entries)
        return out

    def _unchanged_fixed(self, fid: str, entries: Any, current: Mapping[str, Any]) -> bool:
        """A field that cannot be written, sent back as the record holds it."""
        spec = self.fields.get(fid)
        if spec is None or (spec["isEditable"] and not spec.get("isLinkedField")):
            return False
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            return False
        held = [str(e.get("raw")) for e in current.get(fid) or []]
        return [str(e.get("raw")) for e in entries] == held

    def _field(self, fid: str, entries: Any) -> list[dict[str, str]]:
        spec = self.fields.get(fid)
        if spec is None:
            raise ApiError(422, f"Unknown field {fid}", f"No field with id {fid!r}")
        label = f"{spec['name']} ({fid})"
        if not spec["isEditable"] or spec.get("isLinkedField"):
            raise ApiError(422, f"The field {spec['name']} is not editable", label)
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and "raw" in e for e in entries
        ):
            raise ApiError(422, f"Invalid value for {spec['name']}", 'Expected [{"raw": ...}]')
        raw = [str(e["raw"]).strip() for e in entries if str(e["raw"]).strip()]
        if len(raw) > 1 and not spec["isMultiSelect"]:
            raise ApiError(422, f"{spec['name']} takes a single value", label)
        return [{"raw": self._value(spec, value)} for value in raw]

    def _value(self, spec: Json, raw: str) -> str:
        kind = spec["dataType"].lower()
        bad = ApiError(422, f"Invalid value for {spec['name']}", f"{raw!r} is not a valid {kind}")
        if kind == "list":
            if raw not in {o["id"] for o in spec["listOptions"]}:
                raise bad
        elif kind == "numeric":
            try:
                if not Decimal(raw).is_finite():
                    raise bad
            except InvalidOperation:
                raise bad from None
        elif kind == "user":
            raw = self.db.user_id(raw) or _raise(bad)
        elif kind == "contact":
            raw = self.db.contact_id(raw) or _raise(bad)
        elif kind == "datetime":
            if not raw.lstrip("-").isdigit():
                raise bad
            raw = str(int(raw))
        elif kind == "date":
            raw = _padded_date(raw) or _raise(bad)
        return raw


def _raise(error: Exception) -> str:
    raise error


def _padded_date(raw: str) -> str | None:
    try:
        y, m, d = (int(p) for p in raw.split("-"))
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def merge_values(target: Json, changes: dict[str, list[dict[str, str]]]) -> None:
    for fid, entries in changes.items():
        if entries:
            target[fid] = entries
        else:
            target.pop(fid, None)


# -- the API ---------------------------------------------------------------------------

Handler = Callable[[Request], Awaitable[Any]]  # JSON data or a Response
Endpoint = Callable[[Request], Awaitable[Response]]


class Api:
    """The route handlers over one ``Db``."""

    def __init__(self, db: Db, clock: SandboxClock, limit: DailyLimit) -> None:
        self.db = db
        self.clock = clock
        self.limit = limit
        self.limits: dict[str, DailyLimit] = {"sandbox": limit}
        self.revoked = False

    def now_ms(self) -> int:
        return ms(self.clock())

    def expire(self) -> None:
        """The ``expire`` fault: the next request's credentials are refused."""
        self.revoked = True

    # -- plumbing --

    def endpoint(self, handler: Handler) -> Endpoint:
        async def run(request: Request) -> Response:
            try:
                key = self.authenticate(request)
                self.count(key)
                if request.method != "GET" and key in self.db.read_only:
                    raise ApiError(403, "This API key may not write", f"{request.method} denied")
                result = await handler(request)
            except ApiError as exc:
                return exc.response()
            return result if isinstance(result, Response) else JSONResponse(result)

        return run

    def authenticate(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise ApiError(401, "Unauthorized", "Missing API credentials")
        try:
            key, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(401, "Unauthorized", "Malformed API credentials") from None
        if self.revoked:
            self.revoked = False
            raise ApiError(401, "Unauthorized", "The API key was revoked")
        if self.db.keys.get(key) != secret:
            raise ApiError(401, "Unauthorized", "Invalid API key or secret")
        return key

    def count(self, key: str) -> None:
        limit = self.limits.get(key)
        if limit is None:
            limit = self.limits[key] = DailyLimit(
                self.limit.limit, 86400, enabled=self.limit.enabled, clock=self.limit.clock
            )
        if not limit.take():
            raise ApiError(
                429,
                "Too Many Requests",
                f"This API key exceeded its {limit.limit:g} requests for today",
            )

    async def not_found(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = f"{request.method} {request.url.path}"
        return error_response(status, REASONS.get(status, "Error"), detail)

    # -- lists --

    def list_of(self, list_id: str) -> Json:
        lst = self.db.lists.get(list_id)
        if lst is None:
            raise ApiError(404, "List not found", f"No list {list_id!r} shared with this key")
        return lst

    async def get_lists(self, request: Request) -> Json:
        paged = paginate(request, _select(self.db.lists, _ids_param(request, "_ids")))
        return {"objects": _copy(paged.rows), "nextPage": paged.next_page}

    async def get_list(self, request: Request) -> Json:
        return _copy(self.list_of(request.path_params["list_id"]))

    # -- list items --

    def item_of(self, request: Request) -> tuple[Json, Json]:
        lst = self.list_of(request.path_params["list_id"])
        item = self.db.items[lst["id"]].get(request.path_params["item_id"])
        if item is None:
            raise ApiError(404, "List item not found", request.path_params["item_id"])
        return lst, item

    async def get_items(self, request: Request) -> Json:
        lst = self.list_of(request.path_params["list_id"])
        rows = _select(self.db.items[lst["id"]], _ids_param(request, "_ids"))
        contacts = _ids_param(request, "contactIds")
        if contacts is not None:
            wanted = {self.db.aliases.get(c, c) for c in contacts}
            rows = [r for r in rows if wanted & set(r["contactIds"])]
        accounts = _ids_param(request, "accountIds")
        if accounts is not None:
            rows = [r for r in rows if r["accountId"] in accounts]
        paged = paginate(request, rows)
        return {
            "totalSize": 0,
            "offset": 0,
            "limit": 0,
            "queryId": None,
            "objects": _copy(paged.rows),
            "size": 0,
            "errorSize": 0,
        }

    async def get_item(self, request: Request) -> Json:
        return _copy(self.item_of(request)[1])

    async def post_item(self, request: Request) -> Json:
        lst = self.list_of(request.path_params["list_id"])
        body = await _body(request)
        upsert = request.query_params.get("_upsert")
        if upsert is None:
            return _copy(self.create_item(lst, body))
        if upsert not in ("contactIds", "accountId"):
            raise ApiError(400, "Invalid _upsert", "_upsert must be 'contactIds' or 'accountId'")
        if not body.get(upsert):
            raise ApiError(400, f"{upsert} is required to upsert", f"Missing {upsert}")
        existing = self.find_for_upsert(lst, upsert, body[upsert])
        if existing is None:
            return _copy(self.create_item(lst, body))
        return _copy(self.update_item(lst, existing, body))

    def find_for_upsert(self, lst: Json, key: str, value: Any) -> Json | None:
        items = self.db.items[lst["id"]].values()
        if key == "accountId":
            return next((i for i in items if i["accountId"] == value), None)
        wanted = set(self.contact_ids(value))
        return next((i for i in items if wanted & set(i["contactIds"])), None)

    def contact_ids(self, value: Any) -> list[str]:
        if not isinstance(value, list):
            raise ApiError(422, "contactIds must be an array", "Malformed contactIds")
        ids = [self.db.contact_id(str(v)) for v in value]
        if None in ids:
            raise ApiError(422, "Unknown contact in contactIds", str(value))
        return [i for i in ids if i is not None]

    def account_id(self, value: Any) -> str:
        if str(value) not in self.db.accounts:
            raise ApiError(422, "Unknown account", f"No account {value!r}")
        return str(value)

    def create_item(self, lst: Json, body: Json) -> Json:
        now = self.clock()
        contact_ids = self.contact_ids(body.get("contactIds") or [])
        if lst["listType"] == "contact":
            if len(contact_ids) != 1:
                raise ApiError(400, "A contact-based list item needs one contact", "contactIds")
            account_id = None
            default_name = self.db.contacts[contact_ids[0]]["properties"]["name"][0]["value"]
        else:
            if not body.get("accountId"):
                raise ApiError(400, "An account-based list item needs an account", "accountId")
            account_id = self.account_id(body["accountId"])
            default_name = self.db.accounts[account_id]["name"]
        values = FieldValues(self.db, lst["fields"]).normalise(body.get("fieldValues") or {})
        created = ms(now.replace(microsecond=0))
        item: Json = {
            "id": self.db.new_id(now),
            "listId": lst["id"],
            "version": 1,
            "createdDate": created,
            "modifiedDate": ms(now),
            "name": str(body.get("name") or default_name),
            "accountId": account_id,
            "contactIds": contact_ids,
            "fieldValues": {"process_created_date": [{"raw": str(ms(now))}]},
            "linkedItemIds": {},
        }
        merge_values(item["fieldValues"], values)
        self.link(lst, item)
        self.db.items[lst["id"]][item["id"]] = item
        return item

    def update_item(self, lst: Json, item: Json, body: Json) -> Json:
        changes = FieldValues(self.db, lst["fields"]).normalise(
            body.get("fieldValues") or {}, item["fieldValues"]
        )
        if "contactIds" in body:
            contact_ids = self.contact_ids(body["contactIds"])
            if lst["listType"] == "contact" and len(contact_ids) != 1:
                raise ApiError(400, "A contact-based list item needs one contact", "contactIds")
            item["contactIds"] = contact_ids
        if "accountId" in body and lst["listType"] == "account":
            item["accountId"] = self.account_id(body["accountId"])
        if body.get("name"):
            item["name"] = str(body["name"])
        merge_values(item["fieldValues"], changes)
        self.link(lst, item)
        item["version"] += 1
        item["modifiedDate"] = max(self.now_ms(), item["modifiedDate"] + 1)
        return item

    def link(self, lst: Json, item: Json) -> None:
        """Linked fields and ids of a contact list item; POCs join the account's contacts."""
        if lst["listType"] == "contact":
            contact = self.db.contacts[item["contactIds"][0]]
            for spec in lst["fields"]:
                if spec.get("isLinkedField"):
                    item["fieldValues"].pop(spec["id"], None)
            item["fieldValues"] |= linked_values(lst, contact)
            item["linkedItemIds"] = linked_item_ids(self.db, item["contactIds"])
            return
        account = self.db.accounts[item["accountId"]]
        people = account["fieldValues"].setdefault("person_ids", [])
        known = {p["raw"] for p in people}
        people.extend({"raw": c} for c in item["contactIds"] if c not in known)

    async def put_item(self, request: Request) -> Json:
        lst, item = self.item_of(request)
        return _copy(self.update_item(lst, item, await _body(request)))

    async def delete_item(self, request: Request) -> Response:
        lst, item = self.item_of(request)
        del self.db.items[lst["id"]][item["id"]]
        return JSONResponse(True)

    # -- accounts --

    def account_of(self, request: Request) -> Json:
        account = self.db.accounts.get(request.path_params["account_id"])
        if account is None:
            raise ApiError(404, "Account not found", request.path_params["account_id"])
        return account

    def account_values(
        self, body: Json, current: Mapping[str, Any] | None = None
    ) -> dict[str, list[dict[str, str]]]:
        checker = FieldValues(self.db, [*self.db.account_fields, PERSON_IDS])
        values = checker.normalise(body.get("fieldValues") or {}, current)
        if "address" in values:
            address = values["address"][0]["raw"] if values["address"] else ""
            for fid in ("address_city", "address_state", "address_postal_code", "address_country"):
                values[fid] = []
            values |= {k: [{"raw": v}] for k, v in address_parts(address).items()}
        return values

    async def get_accounts(self, request: Request) -> Json:
        paged = paginate(request, _select(self.db.accounts, _ids_param(request, "_ids")))
        return {"objects": _copy(paged.rows), "nextPage": paged.next_page}

    async def get_account(self, request: Request) -> Json:
        return _copy(self.account_of(request))

    async def get_account_fields(self, request: Request) -> Json:
        return {"fields": _copy(self.db.account_fields)}

    async def post_account(self, request: Request) -> Json:
        body = await _body(request)
        if not str(body.get("name") or "").strip():
            raise ApiError(400, "An account needs a name", "Missing name")
        values = self.account_values(body)
        now = self.clock()
        account: Json = {
            "id": self.db.new_id(now),
            "modifiedDate": ms(now),
            "name": str(body["name"]).strip(),
            "fieldValues": {},
        }
        merge_values(account["fieldValues"], values)
        self.db.accounts[account["id"]] = account
        return _copy(account)

    async def put_account(self, request: Request) -> Json:
        account = self.account_of(request)
        body = await _body(request)
        if not body.get("id") or not str(body.get("name") or "").strip():
            raise ApiError(400, "id and name are required", "Missing id or name")
        if body["id"] != account["id"]:
            raise ApiError(400, "The id does not match the URL", str(body["id"]))
        values = self.account_values(body, account["fieldValues"])
        if "person_ids" in values:
            self.check_points_of_contact(account, values["person_ids"])
        account["name"] = str(body["name"]).strip()
        merge_values(account["fieldValues"], values)
        account["modifiedDate"] = max(self.now_ms(), account["modifiedDate"] + 1)
        sent = {k: v for k, v in values.items() if k in (body.get("fieldValues") or {})}
        return _copy({**account, "fieldValues": sent})

    def check_points_of_contact(self, account: Json, people: list[dict[str, str]]) -> None:
        keep = {p["raw"] for p in people}
        for item in self.db.items_of_account(account["id"]):
            missing = set(item["contactIds"]) - keep
            if missing:
                raise ApiError(
                    400,
                    "A Point of Contact must stay an Account Contact",
                    f"Contact {sorted(missing)[0]} is a Point of Contact on {item['id']}",
                )

    async def delete_account(self, request: Request) -> Response:
        account = self.account_of(request)
        if self.db.items_of_account(account["id"]):
            raise ApiError(400, "The account is on a list item", "Remove its list items first")
        del self.db.accounts[account["id"]]
        return JSONResponse(True)

    # -- contacts --

    def contact_of(self, request: Request) -> tuple[Json, str]:
        asked = request.path_params["contact_id"]
        contact = self.db.contacts.get(self.db.aliases.get(asked, asked))
        if contact is None:
            raise ApiError(404, "Contact not found", asked)
        return contact, asked

    @staticmethod
    def show_contact(contact: Json, asked: str | None = None) -> Json:
        return _copy(contact | {"requestedIds": [asked or contact["id"]]})

    async def get_contacts(self, request: Request) -> Json:
        ids = _ids_param(request, "_ids")
        if ids is None:
            rows = [c for c in self.db.contacts.values() if c["state"] == "ACTIVE"]
            asked = {c["id"]: c["id"] for c in rows}
        else:
            asked = {self.db.aliases.get(i, i): i for i in ids}
            rows = _select(self.db.contacts, list(asked))
        email = _ids_param(request, "properties.email")
        if email:
            rows = [c for c in rows if _has_email(c, email[0])]
        phone = _ids_param(request, "properties.phone")
        if phone:
            rows = [c for c in rows if _has_phone(c, phone[0])]
        paged = paginate(request, rows)
        return {"objects": [self.show_contact(c, asked.get(c["id"])) for c in paged.rows]}

    async def get_contact(self, request: Request) -> Json:
        contact, asked = self.contact_of(request)
        return self.show_contact(contact, asked)

    def contact_properties(self, body: Json) -> Json:
        props = body.get("properties")
        if not isinstance(props, dict):
            raise ApiError(400, "properties are required", "Missing properties")
        out: Json = {}
        for key, entries in props.items():
            if key not in CONTACT_PROPERTIES:
                raise ApiError(422, f"Unknown contact property {key}", key)
            if not isinstance(entries, list) or not all(
                isinstance(e, dict) and "value" in e for e in entries
            ):
                raise ApiError(422, f"Invalid value for {key}", 'Expected [{"value": ...}]')
            out[key] = [_property(key, e) for e in entries if str(e["value"]).strip()]
        return out

    async def post_contact(self, request: Request) -> Json:
        body = await _body(request)
        upsert = request.query_params.get("_upsert")
        if upsert not in (None, "email"):
            raise ApiError(400, "Invalid _upsert", "The only allowed value is 'email'")
        props = self.contact_properties(body)
        if upsert == "email":
            if not props.get("email"):
                raise ApiError(400, "An email is required to upsert", "Missing email")
            match = next(
                (
                    c
                    for e in props["email"]
                    for c in self.db.contacts.values()
                    if _has_email(c, e["value"])
                ),
                None,
            )
            if match is not None:
                match["properties"] |= props
                match["modifiedDate"] = max(self.now_ms(), match["modifiedDate"] + 1)
                return self.show_contact(match)
        if not any(props.get(k) for k in ("name", "email", "phone")):
            raise ApiError(400, "A contact needs a name, an email or a phone", "properties")
        first_job = (props.get("experience") or [{}])[0].get("metadata", {})
        if "company" not in props and first_job.get("company_name"):
            props["company"] = [{"value": first_job["company_name"], "metadata": {}}]
        if "title" not in props and first_job.get("job_title"):
            props["title"] = [{"value": first_job["job_title"], "metadata": {}}]
        now = self.clock()
        contact: Json = {
            "id": self.db.new_id(now),
            "modifiedDate": ms(now),
            "requestedIds": None,
            "mergedIds": None,
            "properties": props,
            "state": "ACTIVE",
        }
        self.db.contacts[contact["id"]] = contact
        return self.show_contact(contact)

    async def put_contact(self, request: Request) -> Json:
        contact, _ = self.contact_of(request)
        body = await _body(request)
        if body.get("id") not in (None, contact["id"], request.path_params["contact_id"]):
            raise ApiError(400, "The id does not match the URL", str(body["id"]))
        props = self.contact_properties(body)
        contact["properties"] |= props
        for key in [k for k, v in contact["properties"].items() if not v]:
            del contact["properties"][key]
        contact["modifiedDate"] = max(self.now_ms(), contact["modifiedDate"] + 1)
        return _copy(
            {
                "id": contact["id"],
                "modifiedDate": contact["modifiedDate"],
                "requestedIds": None,
                "mergedIds": None,
                "properties": props,
                "state": contact["state"],
            }
        )

    async def delete_contact(self, request: Request) -> Response:
        contact, _ = self.contact_of(request)
        if self.db.items_of_contact(contact["id"]):
            raise ApiError(400, "The contact is on a list item", "Remove its list items first")
        contact["state"] = "ARCHIVED"
        contact["modifiedDate"] = max(self.now_ms(), contact["modifiedDate"] + 1)
        return JSONResponse(True)

    # -- events and users --

    async def put_event(self, request: Request) -> Response:
        body = await _body(request)
        missing = [k for k in ("subject", "body", "participantIds") if not body.get(k)]
        if missing:
            raise ApiError(400, f"{missing[0]} is required", f"Missing {', '.join(missing)}")
        participants = body["participantIds"]
        if not isinstance(participants, list) or not all(
            isinstance(p, dict) and p.get("type") in ("email", "phone") and p.get("value")
            for p in participants
        ):
            raise ApiError(422, "Invalid participantIds", 'Expected [{"type", "value"}]')
        contact_ids = {
            c["id"]
            for p in participants
            for c in self.db.contacts.values()
            if (_has_email if p["type"] == "email" else _has_phone)(c, str(p["value"]))
        }
        self.db.events.append(
            {
                "subject": str(body["subject"]),
                "body": str(body["body"]),
                "participantIds": _copy(participants),
                "createdDate": self.now_ms(),
                "contactIds": sorted(contact_ids),
            }
        )
        return Response(status_code=204)

    async def get_user(self, request: Request) -> Json:
        user = self.db.users.get(request.path_params["user_id"])
        if user is None:
            raise ApiError(404, "User not found", request.path_params["user_id"])
        return dict(user)

    async def sandbox_events(self, request: Request) -> Response:
        """Outside the API: what ``PUT /events`` stored (tests and the curious)."""
        wanted = request.query_params.get("contactId")
        events = [e for e in self.db.events if wanted is None or wanted in e["contactIds"]]
        return JSONResponse({"objects": events[::-1]})


def _property(key: str, entry: Json) -> Json:
    value = str(entry["value"]).strip()
    metadata = {k: str(v) for k, v in (entry.get("metadata") or {}).items()}
    if key == "phone":
        stored = phone_value(value)
        if stored != value:
            metadata.setdefault("raw_val", value)
        value = stored
    return {"value": value, "metadata": metadata}


def _has_email(contact: Json, email: str) -> bool:
    email = email.strip().strip('"').lower()
    return any(e["value"].lower() == email for e in contact["properties"].get("email", []))


def _has_phone(contact: Json, phone: str) -> bool:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return bool(digits) and any(
        "".join(ch for ch in p["value"] if ch.isdigit()) == digits
        for p in contact["properties"].get("phone", [])
    )


def routes(api: Api) -> list[Route]:
    v2 = "/v2"
    table: list[tuple[str, Handler, list[str]]] = [
        ("/lists", api.get_lists, ["GET"]),
        ("/lists/{list_id}", api.get_list, ["GET"]),
        ("/lists/{list_id}/listitems", api.get_items, ["GET"]),
        ("/lists/{list_id}/listitems", api.post_item, ["POST"]),
        ("/lists/{list_id}/listitems/{item_id}", api.get_item, ["GET"]),
        ("/lists/{list_id}/listitems/{item_id}", api.put_item, ["PUT"]),
        ("/lists/{list_id}/listitems/{item_id}", api.delete_item, ["DELETE"]),
        ("/accounts", api.get_accounts, ["GET"]),
        ("/accounts", api.post_account, ["POST"]),
        ("/accounts/fields", api.get_account_fields, ["GET"]),
        ("/accounts/{account_id}", api.get_account, ["GET"]),
        ("/accounts/{account_id}", api.put_account, ["PUT"]),
        ("/accounts/{account_id}", api.delete_account, ["DELETE"]),
        ("/contacts", api.get_contacts, ["GET"]),
        ("/contacts", api.post_contact, ["POST"]),
        ("/contacts/{contact_id}", api.get_contact, ["GET"]),
        ("/contacts/{contact_id}", api.put_contact, ["PUT"]),
        ("/contacts/{contact_id}", api.delete_contact, ["DELETE"]),
        ("/events", api.put_event, ["PUT"]),
        ("/users/{user_id}", api.get_user, ["GET"]),
    ]
    # Group handlers by path so a wrong verb on a known path is a 405, not a 404.
    by_path: dict[str, dict[str, Handler]] = {}
    for path, handler, methods in table:
        for method in methods:
            by_path.setdefault(path.rstrip("/"), {})[method] = handler
    # Each path also answers with a trailing slash, as the doc writes some of them
    # (``contacts/?_upsert=email``, ``events/``, ``listitems/``): served as the bare path,
    # never a 307 redirect (decision: a client following the doc must not see one).
    out = [
        Route(v2 + path + slash, _dispatch(api, handlers), methods=list(handlers))
        for path, handlers in by_path.items()
        for slash in ("", "/")
    ]
    out.append(Route("/_sandbox/events", api.sandbox_events, methods=["GET"]))
    return out


def _dispatch(api: Api, handlers: dict[str, Handler]) -> Endpoint:
    wrapped = {method: api.endpoint(handler) for method, handler in handlers.items()}

    async def run(request: Request) -> Response:
        return await wrapped[request.method](request)

    return run


def create_app(
    *,
    seed: int = 0,
    scale: int = 1,
    faults: Faults | None = None,
    rate_limit: bool = True,
    now: datetime | None = None,
) -> Starlette:
    """The SalesforceIQ sandbox: ``app.state.db``, ``.faults``, ``.limit``, ``.clock``."""
    clock = SandboxClock(now)
    db = build(seed=seed, scale=scale, now=clock.anchor)
    faults = faults if faults is not None else Faults()
    limit = DailyLimit(DAILY_LIMIT, 86400, enabled=rate_limit, clock=lambda: clock().timestamp())
    api = Api(db, clock, limit)
    app = Starlette(
        routes=routes(api),
        middleware=[
            Middleware(
                FaultMiddleware,
                faults=faults,
                error=lambda status, message: error_response(status, message),
                expire=api.expire,
            )
        ],
        exception_handlers={HTTPException: api.not_found},
    )
    app.state.db = db
    app.state.faults = faults
    app.state.limit = limit
    app.state.clock = clock
    app.state.api = api
    return enforce(app, CONTRACT)  # held to its documented contract (contract.py)
