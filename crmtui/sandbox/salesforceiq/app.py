"""The SalesforceIQ API v2 sandbox, as its documentation describes it, declared on the
shared sandbox kit (:mod:`crmtui.sandbox.kit`): ``SANDBOX``.

Its routes are the contract's endpoints (``contract.py``: lists (read-only schema), list
items (CRUD + ``_upsert``), accounts (+ ``/accounts/fields``), contacts (CRUD +
``_upsert=email``, delete archives), ``PUT /events`` (204) and ``GET /users/{id}``, each
also with a trailing ``/``), one handler each, keyed by the endpoint. HTTP Basic
``key:secret`` on every route; errors are the documented object ``{"statusCode",
"userMessage", "errorMessage"}`` (``contract.envelope``). What the contract refuses
(an undocumented path or verb, an ``_upsert`` value it does not list, a missing
required attribute) is answered before a handler runs; the handlers check the rest.

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
- Status codes: 400 for a missing required key (one sent blank, ``" "`` or ``[]``, is
  missing too: the same answer as the contract's) or a bad parameter, 422 for a malformed
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

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmtui.sandbox import SandboxClock, kit
from crmtui.sandbox.contract import Endpoint, Violation
from crmtui.sandbox.faults import Faults
from crmtui.sandbox.salesforceiq.contract import CONTRACT, REASONS, envelope
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
PAGES = kit.Offset("_start", "_limit", default=50, maximum=200)
UNAUTHORIZED = {  # the kit's reasons, in SalesforceIQ's words
    "no credential": "Missing API credentials",
    "the credential was revoked": "The API key was revoked",
    "unknown credential": "Invalid API key or secret",
}
Json = dict[str, Any]
T = TypeVar("T")
ApiError = kit.ApiError


def _copy(obj: T) -> T:
    """A deep copy of JSON data (what the wire would carry): the same shape back."""
    copied: T = json.loads(json.dumps(obj))
    return copied


def _blank(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


# -- the call: SalesforceIQ's request helpers --------------------------------------------


class IqCall(kit.Call):
    """A request to the SalesforceIQ sandbox, with the API's request helpers."""

    @property
    def db(self) -> Db:
        db: Db = self.running.db
        return db

    @property
    def endpoint(self) -> Endpoint:
        """The contract's endpoint this request was routed to."""
        found, _ = CONTRACT.find(self.request.method, self.request.url.path)
        assert found is not None  # the kit routes documented endpoints only
        return found

    def now_ms(self) -> int:
        return ms(self.clock())

    def ids(self, name: str) -> list[str] | None:
        """A comma-separated id list (``_ids``, ``contactIds``): spaces and quotes
        around each id are dropped; ``None`` when the parameter is absent."""
        text = self.query.get(name)
        if text is None:
            return None
        return [part.strip().strip('"') for part in text.split(",") if part.strip()]

    def page(self, rows: list[Json]) -> tuple[list[Json], str | None]:
        """``modifiedDate`` (at or after, in ms; then ascending ``modifiedDate``),
        ``_start``/``_limit``, and ``nextPage``: the path of the next page, with the
        same filters, while more rows remain (else ``None``)."""
        if self.query.get("modifiedDate") not in (None, ""):
            since = self.number("modifiedDate", 0)
            rows = sorted(
                (r for r in rows if r["modifiedDate"] >= since),
                key=lambda r: (r["modifiedDate"], r["id"]),
            )
        page = PAGES.of(self, rows)
        if not page.more:
            return page.rows, None
        params = dict(self.query) | {PAGES.start: page.start + page.size, PAGES.size: page.size}
        return page.rows, f"{self.request.url.path}?{urlencode(params)}"

    async def body(self) -> Json:
        """The body: a JSON object, or the 422 the sandbox answers a malformed one."""
        body = await self.json()
        if not isinstance(body, dict):
            raise ApiError(422, "The request body must be a JSON object", "Malformed object")
        return body

    def require(self, body: Json) -> None:
        """The endpoint's required attributes (its contract) sent blank (``" "``,
        ``[]``) are refused as the contract refuses missing ones."""
        endpoint = self.endpoint
        for name in endpoint.required:
            if _blank(body.get(name)):
                method, path = self.request.method, self.request.url.path
                rule = "a required field is missing"
                violation = Violation(
                    CONTRACT.vendor,
                    method,
                    path,
                    "required",
                    name,
                    endpoint=endpoint.path,
                    rule=rule,
                )
                raise ApiError(400, body=CONTRACT.answer(violation).body)


def _bad_body() -> ApiError:
    return ApiError(422, "The request body is not valid JSON", "Malformed JSON")


def _who(call: IqCall, credential: str) -> str | None:
    """HTTP Basic ``key:secret``: the key, when the secret is its own."""
    key, _, secret = credential.partition(":")
    return key if call.db.keys.get(key) == secret else None


def _read_only(call: IqCall) -> None:
    if call.request.method not in ("GET", "HEAD") and call.key in call.db.read_only:
        raise ApiError(403, "This API key may not write", f"{call.request.method} denied")


def _over_the_day(window: Any) -> ApiError:
    return ApiError(
        429, "Too Many Requests", f"This API key exceeded its {window.limit:g} requests for today"
    )


def _select(rows: dict[str, Json], ids: list[str] | None) -> list[Json]:
    if ids is None:
        return list(rows.values())
    return [rows[i] for i in dict.fromkeys(ids) if i in rows]


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


# -- lists -----------------------------------------------------------------------------


def list_of(call: IqCall, list_id: str) -> Json:
    lst = call.db.lists.get(list_id)
    if lst is None:
        raise ApiError(404, "List not found", f"No list {list_id!r} shared with this key")
    return lst


def get_lists(call: IqCall) -> Json:
    rows, next_page = call.page(_select(call.db.lists, call.ids("_ids")))
    return {"objects": _copy(rows), "nextPage": next_page}


def get_list(call: IqCall) -> Json:
    return _copy(list_of(call, call.params["id"]))


# -- list items ------------------------------------------------------------------------


def item_of(call: IqCall) -> tuple[Json, Json]:
    lst = list_of(call, call.params["listId"])
    item = call.db.items[lst["id"]].get(call.params["listItemId"])
    if item is None:
        raise ApiError(404, "List item not found", call.params["listItemId"])
    return lst, item


def get_items(call: IqCall) -> Json:
    lst = list_of(call, call.params["listId"])
    rows = _select(call.db.items[lst["id"]], call.ids("_ids"))
    contacts = call.ids("contactIds")
    if contacts is not None:
        wanted = {call.db.aliases.get(c, c) for c in contacts}
        rows = [r for r in rows if wanted & set(r["contactIds"])]
    accounts = call.ids("accountIds")
    if accounts is not None:
        rows = [r for r in rows if r["accountId"] in accounts]
    page, _ = call.page(rows)
    return {
        "totalSize": 0,
        "offset": 0,
        "limit": 0,
        "queryId": None,
        "objects": _copy(page),
        "size": 0,
        "errorSize": 0,
    }


def get_item(call: IqCall) -> Json:
    return _copy(item_of(call)[1])


async def post_item(call: IqCall) -> Json:
    lst = list_of(call, call.params["listId"])
    body = await call.body()
    upsert = call.query.get("_upsert")
    if upsert is None:
        return _copy(create_item(call, lst, body))
    # another ``_upsert`` value never gets here: the contract answers it (400)
    if not body.get(upsert):
        raise ApiError(400, f"{upsert} is required to upsert", f"Missing {upsert}")
    existing = find_for_upsert(call.db, lst, upsert, body[upsert])
    if existing is None:
        return _copy(create_item(call, lst, body))
    return _copy(update_item(call, lst, existing, body))


def find_for_upsert(db: Db, lst: Json, key: str, value: Any) -> Json | None:
    items = db.items[lst["id"]].values()
    if key == "accountId":
        return next((i for i in items if i["accountId"] == value), None)
    wanted = set(contact_ids(db, value))
    return next((i for i in items if wanted & set(i["contactIds"])), None)


def contact_ids(db: Db, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ApiError(422, "contactIds must be an array", "Malformed contactIds")
    ids = [db.contact_id(str(v)) for v in value]
    if None in ids:
        raise ApiError(422, "Unknown contact in contactIds", str(value))
    return [i for i in ids if i is not None]


def account_id(db: Db, value: Any) -> str:
    if str(value) not in db.accounts:
        raise ApiError(422, "Unknown account", f"No account {value!r}")
    return str(value)


def create_item(call: IqCall, lst: Json, body: Json) -> Json:
    db, now = call.db, call.clock()
    contacts = contact_ids(db, body.get("contactIds") or [])
    if lst["listType"] == "contact":
        if len(contacts) != 1:
            raise ApiError(400, "A contact-based list item needs one contact", "contactIds")
        account = None
        default_name = db.contacts[contacts[0]]["properties"]["name"][0]["value"]
    else:
        if not body.get("accountId"):
            raise ApiError(400, "An account-based list item needs an account", "accountId")
        account = account_id(db, body["accountId"])
        default_name = db.accounts[account]["name"]
    values = FieldValues(db, lst["fields"]).normalise(body.get("fieldValues") or {})
    item: Json = {
        "id": db.new_id(now),
        "listId": lst["id"],
        "version": 1,
        "createdDate": ms(now.replace(microsecond=0)),
        "modifiedDate": ms(now),
        "name": str(body.get("name") or default_name),
        "accountId": account,
        "contactIds": contacts,
        "fieldValues": {"process_created_date": [{"raw": str(ms(now))}]},
        "linkedItemIds": {},
    }
    merge_values(item["fieldValues"], values)
    link(db, lst, item)
    db.items[lst["id"]][item["id"]] = item
    return item


def update_item(call: IqCall, lst: Json, item: Json, body: Json) -> Json:
    db = call.db
    changes = FieldValues(db, lst["fields"]).normalise(
        body.get("fieldValues") or {}, item["fieldValues"]
    )
    if "contactIds" in body:
        contacts = contact_ids(db, body["contactIds"])
        if lst["listType"] == "contact" and len(contacts) != 1:
            raise ApiError(400, "A contact-based list item needs one contact", "contactIds")
        item["contactIds"] = contacts
    if "accountId" in body and lst["listType"] == "account":
        item["accountId"] = account_id(db, body["accountId"])
    if body.get("name"):
        item["name"] = str(body["name"])
    merge_values(item["fieldValues"], changes)
    link(db, lst, item)
    item["version"] += 1
    item["modifiedDate"] = max(call.now_ms(), item["modifiedDate"] + 1)
    return item


def link(db: Db, lst: Json, item: Json) -> None:
    """Linked fields and ids of a contact list item; POCs join the account's contacts."""
    if lst["listType"] == "contact":
        contact = db.contacts[item["contactIds"][0]]
        for spec in lst["fields"]:
            if spec.get("isLinkedField"):
                item["fieldValues"].pop(spec["id"], None)
        item["fieldValues"] |= linked_values(lst, contact)
        item["linkedItemIds"] = linked_item_ids(db, item["contactIds"])
        return
    account = db.accounts[item["accountId"]]
    people = account["fieldValues"].setdefault("person_ids", [])
    known = {p["raw"] for p in people}
    people.extend({"raw": c} for c in item["contactIds"] if c not in known)


async def put_item(call: IqCall) -> Json:
    lst, item = item_of(call)
    return _copy(update_item(call, lst, item, await call.body()))


def delete_item(call: IqCall) -> Any:
    lst, item = item_of(call)
    del call.db.items[lst["id"]][item["id"]]
    return True


# -- accounts --------------------------------------------------------------------------


def account_of(call: IqCall) -> Json:
    account = call.db.accounts.get(call.params["id"])
    if account is None:
        raise ApiError(404, "Account not found", call.params["id"])
    return account


def account_values(
    db: Db, body: Json, current: Mapping[str, Any] | None = None
) -> dict[str, list[dict[str, str]]]:
    checker = FieldValues(db, [*db.account_fields, PERSON_IDS])
    values = checker.normalise(body.get("fieldValues") or {}, current)
    if "address" in values:
        address = values["address"][0]["raw"] if values["address"] else ""
        for fid in ("address_city", "address_state", "address_postal_code", "address_country"):
            values[fid] = []
        values |= {k: [{"raw": v}] for k, v in address_parts(address).items()}
    return values


def get_accounts(call: IqCall) -> Json:
    rows, next_page = call.page(_select(call.db.accounts, call.ids("_ids")))
    return {"objects": _copy(rows), "nextPage": next_page}


def get_account(call: IqCall) -> Json:
    return _copy(account_of(call))


def get_account_fields(call: IqCall) -> Json:
    return {"fields": _copy(call.db.account_fields)}


async def post_account(call: IqCall) -> Json:
    body = await call.body()
    call.require(body)
    values = account_values(call.db, body)
    now = call.clock()
    account: Json = {
        "id": call.db.new_id(now),
        "modifiedDate": ms(now),
        "name": str(body["name"]).strip(),
        "fieldValues": {},
    }
    merge_values(account["fieldValues"], values)
    call.db.accounts[account["id"]] = account
    return _copy(account)


async def put_account(call: IqCall) -> Json:
    account = account_of(call)
    body = await call.body()
    call.require(body)
    if body["id"] != account["id"]:
        raise ApiError(400, "The id does not match the URL", str(body["id"]))
    values = account_values(call.db, body, account["fieldValues"])
    if "person_ids" in values:
        check_points_of_contact(call.db, account, values["person_ids"])
    account["name"] = str(body["name"]).strip()
    merge_values(account["fieldValues"], values)
    account["modifiedDate"] = max(call.now_ms(), account["modifiedDate"] + 1)
    sent = {k: v for k, v in values.items() if k in (body.get("fieldValues") or {})}
    return _copy({**account, "fieldValues": sent})


def check_points_of_contact(db: Db, account: Json, people: list[dict[str, str]]) -> None:
    keep = {p["raw"] for p in people}
    for item in db.items_of_account(account["id"]):
        missing = set(item["contactIds"]) - keep
        if missing:
            raise ApiError(
                400,
                "A Point of Contact must stay an Account Contact",
                f"Contact {sorted(missing)[0]} is a Point of Contact on {item['id']}",
            )


def delete_account(call: IqCall) -> Any:
    account = account_of(call)
    if call.db.items_of_account(account["id"]):
        raise ApiError(400, "The account is on a list item", "Remove its list items first")
    del call.db.accounts[account["id"]]
    return True


# -- contacts --------------------------------------------------------------------------


def contact_of(call: IqCall) -> tuple[Json, str]:
    asked = call.params["id"]
    contact = call.db.contacts.get(call.db.aliases.get(asked, asked))
    if contact is None:
        raise ApiError(404, "Contact not found", asked)
    return contact, asked


def show_contact(contact: Json, asked: str | None = None) -> Json:
    return _copy(contact | {"requestedIds": [asked or contact["id"]]})


def get_contacts(call: IqCall) -> Json:
    db, ids = call.db, call.ids("_ids")
    if ids is None:
        rows = [c for c in db.contacts.values() if c["state"] == "ACTIVE"]
        asked = {c["id"]: c["id"] for c in rows}
    else:
        asked = {db.aliases.get(i, i): i for i in ids}
        rows = _select(db.contacts, list(asked))
    email = call.ids("properties.email")
    if email:
        rows = [c for c in rows if _has_email(c, email[0])]
    phone = call.ids("properties.phone")
    if phone:
        rows = [c for c in rows if _has_phone(c, phone[0])]
    page, _ = call.page(rows)
    return {"objects": [show_contact(c, asked.get(c["id"])) for c in page]}


def get_contact(call: IqCall) -> Json:
    contact, asked = contact_of(call)
    return show_contact(contact, asked)


def contact_properties(body: Json) -> Json:
    props = body.get("properties")
    if not isinstance(props, dict):
        raise ApiError(400, "properties are required", "Missing properties")
    out: Json = {}
    for key, entries in props.items():
        if key not in CONTACT_PROPERTIES:
            raise ApiError(422, f"Unknown contact property {key}", key)
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and "value" in e and isinstance(e.get("metadata"), dict | None)
            for e in entries
        ):
            raise ApiError(422, f"Invalid value for {key}", 'Expected [{"value": ...}]')
        out[key] = [_property(key, e) for e in entries if str(e["value"]).strip()]
    return out


async def post_contact(call: IqCall) -> Json:
    db = call.db
    body = await call.body()
    upsert = call.query.get("_upsert")  # "email" or absent: the contract answers the rest
    props = contact_properties(body)
    if upsert == "email":
        if not props.get("email"):
            raise ApiError(400, "An email is required to upsert", "Missing email")
        match = next(
            (c for e in props["email"] for c in db.contacts.values() if _has_email(c, e["value"])),
            None,
        )
        if match is not None:
            match["properties"] |= props
            match["modifiedDate"] = max(call.now_ms(), match["modifiedDate"] + 1)
            return show_contact(match)
    if not any(props.get(k) for k in ("name", "email", "phone")):
        raise ApiError(400, "A contact needs a name, an email or a phone", "properties")
    first_job = (props.get("experience") or [{}])[0].get("metadata", {})
    if "company" not in props and first_job.get("company_name"):
        props["company"] = [{"value": first_job["company_name"], "metadata": {}}]
    if "title" not in props and first_job.get("job_title"):
        props["title"] = [{"value": first_job["job_title"], "metadata": {}}]
    now = call.clock()
    contact: Json = {
        "id": db.new_id(now),
        "modifiedDate": ms(now),
        "requestedIds": None,
        "mergedIds": None,
        "properties": props,
        "state": "ACTIVE",
    }
    db.contacts[contact["id"]] = contact
    return show_contact(contact)


async def put_contact(call: IqCall) -> Json:
    contact, asked = contact_of(call)
    body = await call.body()
    call.require(body)
    if body["id"] not in (contact["id"], asked):
        raise ApiError(400, "The id does not match the URL", str(body["id"]))
    props = contact_properties(body)
    contact["properties"] |= props
    for key in [k for k, v in contact["properties"].items() if not v]:
        del contact["properties"][key]
    contact["modifiedDate"] = max(call.now_ms(), contact["modifiedDate"] + 1)
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


def delete_contact(call: IqCall) -> Any:
    contact, _ = contact_of(call)
    if call.db.items_of_contact(contact["id"]):
        raise ApiError(400, "The contact is on a list item", "Remove its list items first")
    contact["state"] = "ARCHIVED"
    contact["modifiedDate"] = max(call.now_ms(), contact["modifiedDate"] + 1)
    return True


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


# -- events and users ------------------------------------------------------------------


async def put_event(call: IqCall) -> Response:
    body = await call.body()
    call.require(body)
    participants = body["participantIds"]
    if not isinstance(participants, list) or not all(
        isinstance(p, dict) and p.get("type") in ("email", "phone") and p.get("value")
        for p in participants
    ):
        raise ApiError(422, "Invalid participantIds", 'Expected [{"type", "value"}]')
    found = {
        c["id"]
        for p in participants
        for c in call.db.contacts.values()
        if (_has_email if p["type"] == "email" else _has_phone)(c, str(p["value"]))
    }
    call.db.events.append(
        {
            "subject": str(body["subject"]),
            "body": str(body["body"]),
            "participantIds": _copy(participants),
            "createdDate": call.now_ms(),
            "contactIds": sorted(found),
        }
    )
    return kit.reply(status=204)


def get_user(call: IqCall) -> Json:
    user = call.db.users.get(call.params["id"])
    if user is None:
        raise ApiError(404, "User not found", call.params["id"])
    return dict(user)


async def sandbox_events(request: Request) -> Response:
    """Outside the API: what ``PUT /events`` stored (tests and the curious)."""
    db: Db = request.app.state.db
    wanted = request.query_params.get("contactId")
    events = [e for e in db.events if wanted is None or wanted in e["contactIds"]]
    return JSONResponse({"objects": events[::-1]})


# -- the sandbox -----------------------------------------------------------------------

HANDLERS: dict[str, kit.Handler[IqCall]] = {
    "GET /v2/lists": get_lists,
    "GET /v2/lists/{id}": get_list,
    "GET /v2/lists/{listId}/listitems": get_items,
    "POST /v2/lists/{listId}/listitems": post_item,
    "GET /v2/lists/{listId}/listitems/{listItemId}": get_item,
    "PUT /v2/lists/{listId}/listitems/{listItemId}": put_item,
    "DELETE /v2/lists/{listId}/listitems/{listItemId}": delete_item,
    "GET /v2/accounts": get_accounts,
    "POST /v2/accounts": post_account,
    "GET /v2/accounts/fields": get_account_fields,
    "GET /v2/accounts/{id}": get_account,
    "PUT /v2/accounts/{id}": put_account,
    "DELETE /v2/accounts/{id}": delete_account,
    "GET /v2/contacts": get_contacts,
    "POST /v2/contacts": post_contact,
    "GET /v2/contacts/{id}": get_contact,
    "PUT /v2/contacts/{id}": put_contact,
    "DELETE /v2/contacts/{id}": delete_contact,
    "PUT /v2/events": put_event,
    "GET /v2/users/{id}": get_user,
}

SANDBOX = kit.Sandbox(
    contract=CONTRACT,
    handlers=HANDLERS,
    envelope=envelope,
    auth=kit.BasicKey(),
    who=_who,
    context=IqCall,
    limit=kit.Limit(DAILY_LIMIT, 86400, daily=True, refused=_over_the_day),
    default_account="sandbox",
    unauthorized=lambda reason: ApiError(401, "Unauthorized", UNAUTHORIZED.get(reason, reason)),
    bad_body=_bad_body,
    error_headers=lambda status: (
        {"WWW-Authenticate": 'Basic realm="SalesforceIQ"'} if status == 401 else {}
    ),
    guard=_read_only,
    controls=(Route("/_sandbox/events", sandbox_events, methods=["GET"]),),
    reasons=REASONS,
)


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
    return SANDBOX.app(db, clock=clock, faults=faults, rate_limit=rate_limit)
