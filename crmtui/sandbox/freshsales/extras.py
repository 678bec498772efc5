"""The documented Freshsales endpoints crmtui itself does not call, served as the seed
describes them: a record's team (``manage_team_members``), upsert and bulk upsert (with
the Job Status API), clone, forget, bulk owner assignment, the manual call log
(``/api/phone_calls``), files (``/api/documents``, ``document_associations``), the CPQ
products (with their prices) and documents, and a deal's CPQ products.

Decisions where the seed is silent:

- Upsert: ``unique_identifier`` is one ``{name: value}`` pair: ``id`` for every kind,
  ``emails`` for leads and contacts (any of a record's addresses), ``name`` for accounts
  (the fields each form marks unique); another name is the 400. Several matches are the
  documented duplicate error, a 400 listing the ids to merge. A match is updated (200),
  none is created (201) with the identifier's value as its field.
- Bulk upsert runs each entry at once (at most 100, else the 400) and answers the
  documented "Batch job ... initiated" with a job the Job Status API reports as
  ``SUCCESS``, listing each failed entry by its identifier and the error.
- Clone copies the record's writable fields except its email addresses (unique per
  kind; the sample's clone has ``"email": null``) and the given fields over them, checked
  as a create; it answers 200 (the contract's status), the new record in its body.
- Forget deletes as Delete does (the sandbox keeps no recycle bin for these kinds).
- Team members: each ``user_id`` must be a user and ``designation_id`` a designation
  (``/api/selector/designations``); ``_destroy`` removes the user. The answer is the team.
- Phone calls: ``targetable_type`` is read without regard to case or ``_``
  (``lead``, ``contact``, ``salesAccount`` as the samples write it); a ``targetable``
  without ``id`` is a new lead or contact from its fields. A ``note`` becomes a note on
  the record (so the call shows in its activities).
- Files: ``multipart/form-data`` only (as documented), read with the standard library's
  MIME parser; ``file`` is required, ``file_name`` defaults to the upload's name.
- CPQ Delete keeps the row (``is_deleted``: true, still readable by id) for Restore;
  Forget removes a document for good. The bulk calls are applied at once and answer the
  documented "added to queue" messages. Unknown ids in a bulk list are skipped. A new
  product is active unless ``is_active`` says otherwise. A bulk update writes no prices
  and no line items (its sample sends plain fields; ``pricing_type``,
  ``product_pricings`` and ``products`` are dropped); on a document with line items its
  ``amount`` is overruled by their total, and a document it would move to another
  currency is skipped (as a queued job fails one record; its answer is the same).
- A product's prices: :func:`read_pricings`; a deal's and a document's line items
  (products): :func:`read_lines`, through :func:`deal_products` and
  :func:`document_products`.
"""

from __future__ import annotations

import email.parser
import email.policy
import math
from typing import TYPE_CHECKING, Any

from crmtui.sandbox.contract import Endpoint
from crmtui.sandbox.freshsales.contract import CONTRACT, FIELDS, KINDS
from crmtui.sandbox.freshsales.data import (
    CURRENCIES,
    DESIGNATIONS,
    ID_BASE,
    TARGET_KIND,
    Db,
    Row,
    money,
)
from crmtui.sandbox.freshsales.render import line_items, public
from crmtui.sandbox.freshsales.writes import (
    DECIMAL_15_4,
    body_id,
    decimal,
    ids,
    invalid,
    read_value,
    whole,
)
from crmtui.sandbox.kit import ApiError, Handler, reply

if TYPE_CHECKING:
    from crmtui.sandbox.freshsales.app import FreshCall

UNIQUE = {"leads": ("id", "emails"), "contacts": ("id", "emails"), "sales_accounts": ("id", "name")}
BULK_MAX = 100


# -- records: leads, contacts, accounts, deals ------------------------------------------------


async def manage_team(call: FreshCall) -> Any:
    kind = call.kind()
    row = call.row(kind)
    body = await call.object()
    entries = body.get("team_users")
    if not isinstance(entries, list):
        raise invalid("team_users must be a list")
    designations = {d["id"] for d in DESIGNATIONS}
    team: list[Row] = row.setdefault("_team", [])
    now = call.now_text()
    for entry in entries:
        if not isinstance(entry, dict):
            raise invalid("Each of team_users must be a hash with user_id")
        user = read_value(call.db, "owner_id", "user", entry.get("user_id"))
        if user is None:
            raise invalid("User can't be blank")
        current = next((t for t in team if t["user_id"] == user), None)
        if entry.get("_destroy"):
            if current is not None:
                team.remove(current)
            continue
        designation = entry.get("designation_id")
        if designation is not None and designation not in designations:
            raise invalid(f"Invalid designation: {designation} does not exist")
        if current is None:
            current = {"entity_id": row["id"], "user_id": user, "created_at": now}
            team.append(current)
        current.update(designation_id=designation, updated_at=now)
    return {"team_users": team}


def _matches(call: FreshCall, kind: str, name: str, value: Any) -> list[Row]:
    if name not in UNIQUE.get(kind, ("id",)):
        allowed = " or ".join(UNIQUE.get(kind, ("id",)))
        raise invalid(f"Invalid unique identifier {name}: use {allowed}")
    rows = call.db.table(kind).values()
    if name == "id":
        found = call.db.table(kind).get(read_value(call.db, "id", "int", value) or 0)
        return [found] if found else []
    if name == "emails":
        wanted = str(value).strip().lower()
        return [
            r
            for r in rows
            if wanted in {(e.get("value") or "").lower() for e in r.get("emails") or []}
            or (r.get("email") or "").lower() == wanted
        ]
    return [r for r in rows if (r.get(name) or "") == value]


def _upsert(call: FreshCall, kind: str, name: str, value: Any, given: Any) -> tuple[Row, bool]:
    """The record ``name=value`` names, updated with ``given`` (or made: ``True``)."""
    if not isinstance(given, dict):
        raise invalid(f"{KINDS[kind]} must be a hash of the record's fields")
    found = _matches(call, kind, name, value)
    if len(found) > 1:
        listed = ",".join(str(r["id"]) for r in found)
        raise invalid(f"{len(found)} records found with the same {name} - [{listed}]: merge them")
    wrapper = KINDS[kind]
    if found:
        call.update(kind, found[0], {wrapper: given})
        return found[0], False
    if name != "id":
        given = {**given, ("email" if name == "emails" else name): value}
    return call.create(kind, {wrapper: given}), True


async def upsert(call: FreshCall) -> Any:
    kind = call.kind()
    body = await call.object()
    identifier = body.get("unique_identifier")
    if not isinstance(identifier, dict) or len(identifier) != 1:
        raise invalid("unique_identifier must be one field and its value")
    ((name, value),) = identifier.items()
    row, made = _upsert(call, kind, name, value, body.get(KINDS[kind]))
    return reply(call.one(kind, row), 201 if made else 200)


async def bulk_upsert(call: FreshCall) -> Any:
    kind = call.kind()
    body = await call.object()
    entries = body.get(kind)
    if not isinstance(entries, list) or not 0 < len(entries) <= BULK_MAX:
        raise invalid(f"{kind} must be a list of 1 to {BULK_MAX} entries")
    failures: list[Row] = []
    for entry in entries:
        keys = [k for k in (entry if isinstance(entry, dict) else {}) if k != "data"]
        try:
            if len(keys) != 1:
                raise invalid("Exactly one unique identifier is required per entry")
            _upsert(call, kind, keys[0], entry[keys[0]], entry.get("data"))
        except ApiError as exc:
            failures.append({**{k: entry[k] for k in keys}, "error_message": [exc.message]})
    jobs: dict[str, Row] = call.db.jobs
    job_id = f"{len(jobs) + 1:024x}"
    now = call.now_text()
    jobs[job_id] = {
        "status": "SUCCESS",
        "job_type_name": "BULK_UPSERT",
        "created_at": now,
        "status_updated_at": now,
        "progress": 100,
        "data": {
            "record_status": {
                "succeeded": len(entries) - len(failures),
                "failed": len(failures),
            },
            "detailed_failure_report": failures,
        },
    }
    root = str(call.request.base_url).rstrip("/") + call.request.url.path.split("/api/")[0]
    return {
        "message": f"Batch job {job_id} initiated. Please track progress in the job_status_url",
        "job_status_url": f"{root}/api/job_statuses/{job_id}",
    }


def job_status(call: FreshCall) -> Any:
    job = call.db.jobs.get(call.params["id"])
    if job is None:
        raise ApiError(404, f"Job status with id {call.params['id']} not found")
    return job


NOT_COPIED = frozenset({"email", "emails", "custom_field", "sales_accounts", "sales_account"})


async def clone(call: FreshCall) -> Any:
    kind = call.kind()
    source = call.row(kind)
    body = await call.json()
    wrapper = KINDS[kind]
    given = (body or {}).get(wrapper) if isinstance(body, dict) else None
    if given is not None and not isinstance(given, dict):
        raise invalid(f"{wrapper} must be a hash of the record's fields")
    copied: Row = {
        name: source[name]
        for name in FIELDS[kind]
        if name not in NOT_COPIED and source.get(name) is not None
    }
    copied["custom_field"] = dict(source.get("custom_field") or {})
    if kind == "contacts" and source.get("_accounts"):
        copied["sales_accounts"] = [dict(link) for link in source["_accounts"]]
    if kind == "deals" and source.get("contact_ids"):
        copied["contacts_added_list"] = list(source["contact_ids"])
    row = call.create(kind, {wrapper: {**copied, **(given or {})}})
    return call.one(kind, row)


def forget(call: FreshCall) -> Any:
    kind = call.kind()
    call.remove(kind, call.row(kind))
    return True


async def bulk_assign_owner(call: FreshCall) -> Any:
    kind = call.kind()
    body = await call.object()
    chosen = ids("selected_ids", body.get("selected_ids"))
    owner = read_value(call.db, "owner_id", "user", body.get("owner_id"))
    if owner is None:
        raise invalid("Owner can't be blank")
    out = []
    for id_ in chosen:
        row = call.db.table(kind).get(id_)
        if row is not None:
            row.update(owner_id=owner, updated_at=call.now_text())
        out.append({str(id_): row is not None})
    return {kind: out}


# -- the manual call log ----------------------------------------------------------------------

CALL_TARGETS = {"lead": "leads", "contact": "contacts", "salesaccount": "sales_accounts"}


async def phone_call(call: FreshCall) -> Any:
    body = await call.object()
    given = body.get("phone_call")
    if not isinstance(given, dict):
        raise invalid("Request body must be a JSON object with a 'phone_call' hash")
    kind = CALL_TARGETS.get(str(given.get("targetable_type") or "").replace("_", "").lower())
    if kind is None:
        raise invalid("Targetable type must be lead, contact or salesAccount")
    target = given.get("targetable")
    if not isinstance(target, dict):
        raise invalid("Targetable can't be blank")
    wrapper = KINDS[kind]
    if target.get("id") not in (None, ""):
        row = call.db.table(kind).get(read_value(call.db, "targetable_id", "int", target["id"]))
        if row is None:
            raise invalid(f"Targetable not found: no {wrapper.replace('_', ' ')} {target['id']}")
    elif kind == "sales_accounts":
        raise invalid("An account to log a call on needs its id")
    else:
        fields = {k: v for k, v in target.items() if k in FIELDS[kind]}
        row = call.create(kind, {wrapper: fields})
    type_ = next(t for t, k in TARGET_KIND.items() if k == kind)
    note = given.get("note")
    notes: list[Row] = []
    if isinstance(note, dict) and note.get("description"):
        made = call.new_item(
            "notes",
            {
                "note": {
                    "description": str(note["description"]),
                    "targetable_type": type_,
                    "targetable_id": row["id"],
                }
            },
        )
        keys = ("id", "description", "created_at", "updated_at", "creater_id", "targetable_id")
        notes.append({k: made[k] for k in keys})
    now = call.now_text()
    call_id = call.db.new_id("phone_calls")
    direction = given.get("call_direction") in (True, "true", "True")
    logged = {
        "id": call_id,
        "call_duration": None,
        "call_direction": direction,
        "recording_duration": None,
        "status": "incoming" if direction else "outgoing",
        "recording": None,
        "conversation_time": now,
        "cost": 0,
        "is_manual": True,
        "targetable": {"type": wrapper, "id": row["id"]},
        "phone_number_id": None,
        "phone_caller_id": None,
        "note_id": notes[0]["id"] if notes else None,
    }
    call.db.phone_calls[call_id] = logged
    user = call.db.users[call.user]
    name = row.get("display_name") or row.get("name")
    return {
        kind: [{"partial": True, "id": row["id"]}],
        "phone_numbers": [],
        "phone_callers": [],
        "notes": notes,
        "user": [{k: user[k] for k in ("id", "display_name", "email", "is_active")}],
        "targetables": [{"id": row["id"], "display_name": name, "email": row.get("email")}],
        "phone_calls": logged,
    }


# -- files ------------------------------------------------------------------------------------


def _form(content_type: str, raw: bytes) -> dict[str, tuple[str | None, bytes]]:
    """A ``multipart/form-data`` body: field → (file name, bytes)."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise invalid("Content-Type must be multipart/form-data")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        raise invalid("The body is not multipart/form-data")
    out: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            payload = part.get_payload(decode=True)
            out[name] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return out


async def create_document(call: FreshCall) -> Any:
    form = _form(call.request.headers.get("content-type", ""), await call.raw())
    upload = form.get("file")
    if upload is None or upload[0] is None:
        raise invalid("File can't be blank")
    text = {k: v[1].decode("utf-8", "replace") for k, v in form.items() if k != "file"}
    type_ = text.get("targetable_type", "")
    kind = {**TARGET_KIND, "Product": "products"}.get(type_)
    if kind is None:
        raise invalid("Targetable type must be one of Lead, Contact, SalesAccount, Deal, Product")
    target_id = read_value(call.db, "targetable_id", "int", text.get("targetable_id"))
    if target_id is None or target_id not in call.db.table(kind):
        raise invalid("Targetable not found: no such lead, contact, account, deal or product")
    doc_id = call.db.new_id("documents")
    name = text.get("file_name") or upload[0]
    url = f"{str(call.request.base_url).rstrip('/')}/_sandbox/documents/{doc_id}/{name}"
    call.db.documents[doc_id] = {
        "id": doc_id,
        "url": url,
        "name": name,
        "is_shared": text.get("is_shared") in ("true", "1"),
        "content_file_size": len(upload[1]),
        "content_updated_at": call.now_text(),
        "content_file_size_readable": f"{len(upload[1]) / 1024:.1f} KB",
        "created_at": call.now_text(),
        "is_attached": False,
        "creater_id": call.user,
        "_target": (type_, target_id),
    }
    return {"id": doc_id, "msg": "File uploaded successfully", "url": url}


def document_associations(call: FreshCall) -> Any:
    lead = call.row("leads")
    docs = [d for d in call.db.documents.values() if d["_target"] == ("Lead", lead["id"])]
    creators = {d["creater_id"] for d in docs}
    users = [call.db.users[u] for u in sorted(creators) if u in call.db.users]
    keys = ("id", "display_name", "email", "is_active", "work_number", "mobile_number")
    return {
        "users": [{k: u.get(k) for k in keys} for u in users],
        "documents": [{k: v for k, v in d.items() if not k.startswith("_")} for d in docs],
        "document_links": [],
    }


# -- CPQ: products and documents ----------------------------------------------------------

CPQ_KINDS = ("products", "cpq_documents")
# how each CPQ field's input is read (``writes.read_value``); others are kept as text
CPQ_HOW = {
    "is_active": "bool",
    "owner_id": "user",
    "valid_till": "datetime",
    "territory_id": "ref",
    "parent_product": "int",
    "deal_id": "int",
    "contact_id": "int",
    "sales_account_id": "account",
}
CODES = tuple(c["currency_code"] for c in CURRENCIES)
BASE_CODE = next(c["currency_code"] for c in CURRENCIES if c["currency_type"] == 1)
CPQ_LINKS = {"deal_id": "deals", "contact_id": "contacts", "parent_product": "products"}
CPQ_BLANK: dict[str, Row] = {
    "products": {
        "is_active": True,  # "can be associated with the deal": a new product can
        "pricing_type": 0,
        "product_pricings": [],
        "avatar": None,
        "base_currency_amount": None,
    },
    "cpq_documents": {
        "currency_code": BASE_CODE,
        "is_deal_primary": False,
        "has_products": False,  # its line items: ``_products`` (``document_products``)
        "email_template_id": None,
    },
}
QUEUED = {
    "update": "Field update added to queue, you will be notified on success.",
    "assign": "Sales owner assignment added to queue, you will be notified on success.",
    "delete": "Bulk deletion added to queue, you will be notified on success.",
}


def _cpq_kind(call: FreshCall) -> str:
    return call.path.split("/")[3]  # /api/cpq/<kind>/...


def _cpq_create(kind: str) -> Endpoint:
    """The kind's create, as the contract declares it (its wrapper and writable fields)."""
    path = f"/api/cpq/{kind}"
    return next(e for e in CONTRACT.endpoints if (e.method, e.path) == ("POST", path))


def _cpq_one(kind: str) -> str:
    return _cpq_create(kind).wrapper or kind


def _cpq_fields(kind: str) -> tuple[str, ...]:
    return _cpq_create(kind).fields or ()


def _cpq_values(call: FreshCall, kind: str, given: Any) -> Row:
    if not isinstance(given, dict):
        raise invalid(f"Request body must be a JSON object with a '{_cpq_one(kind)}' hash")
    values: Row = {}
    for name in _cpq_fields(kind):
        if name not in given or name in NESTED:  # read by ``read_pricings``, ``read_lines``
            continue
        value = given[name]
        if name == "custom_field":
            if not isinstance(value, dict):
                raise invalid("custom_field must be a hash")
        elif name == "currency_code":
            value = currency_code(value)
        elif name == "amount":
            value = float(read_value(call.db, "amount", "money", value) or 0)
            if not math.isfinite(value):
                raise invalid("Amount is not a number")
        elif name in CPQ_HOW:
            value = read_value(call.db, name, CPQ_HOW[name], value)
        elif value is not None:
            value = str(value)
        linked = CPQ_LINKS.get(name)
        if linked and value is not None and value not in call.db.table(linked):
            raise invalid(f"Invalid {name.removesuffix('_id')}: {value} does not exist")
        values[name] = value
    return values


def _cpq_row(call: FreshCall, kind: str) -> Row:
    id_ = call.ident()
    row: Row | None = call.db.table(kind).get(id_)
    if row is None:
        raise ApiError(
            404, f"{_cpq_one(kind).replace('_', ' ').capitalize()} with id {id_} not found"
        )
    return row


def _cpq_write(call: FreshCall, kind: str, row: Row, values: Row) -> None:
    custom = values.pop("custom_field", None)
    row.update(values)
    if custom is not None:
        row["custom_field"] = {**row["custom_field"], **custom}
    if kind == "cpq_documents":
        amount = row.get("amount")
        rate = next(
            float(c["exchange_rate"])
            for c in CURRENCIES
            if c["currency_code"] == row["currency_code"]
        )
        row["base_currency_amount"] = None if amount is None else round(amount * rate, 2)
        row["has_products"] = bool(row.get("_products"))
    row["updated_at"] = call.now_text()


def _cpq_body(db: Db, kind: str, row: Row, handles: tuple[str, ...] | list[str] = ()) -> Row:
    """A product or document; a product's prices with ``include=product_pricings`` only
    (the seed's update and restore samples show none, its view with the handle does), a
    document's line items with ``include=products`` only (its view and its "Add Products
    to the Document" samples have the handle; its update and restore samples, without
    it, show ``has_products`` and no ``products``)."""
    body = public(row)
    if kind == "products" and "product_pricings" not in handles:
        body.pop("product_pricings", None)
    if kind == "cpq_documents" and "products" in handles:
        body["products"] = line_items(db, row, "cpq_document_id", "item_id")
    return {_cpq_one(kind): body}


async def cpq_create(call: FreshCall) -> Any:
    kind = _cpq_kind(call)
    given: Any = (await call.object()).get(_cpq_one(kind))  # a hash: ``_cpq_values``
    values = _cpq_values(call, kind, given)
    prices = read_pricings(None, given) if kind == "products" else {}
    if kind == "cpq_documents":
        document_products(call.db, CPQ_BLANK[kind], given, values)
    now = call.now_text()
    id_ = call.db.new_id(kind)
    row: Row = {
        "id": id_,
        **dict.fromkeys(f for f in _cpq_fields(kind) if f not in NESTED),
        **CPQ_BLANK[kind],
        "custom_field": {},
        "owner_id": call.user,
        "creater_id": call.user,
        "updater_id": None,
        "is_deleted": False,
        "created_at": now,
    }
    if kind == "cpq_documents":
        row["document_number"] = f"DOC-{id_ - ID_BASE[kind]}"
    _cpq_write(call, kind, row, values)
    _priced(call.db, row, prices)
    call.db.table(kind)[id_] = row
    # with its prices, its line items: as the create samples show them ("products": [])
    return reply(_cpq_body(call.db, kind, row, ("product_pricings", "products")), 201)


def cpq_get(call: FreshCall) -> Any:
    """A product or document. A product's prices come with ``include=product_pricings``
    only, a document's products ("the products added to the document along with the
    price details") with ``include=products`` only, as the seed's "View a Product" and
    "View a Document" document these handles."""
    kind = _cpq_kind(call)
    return _cpq_body(call.db, kind, _cpq_row(call, kind), call.includes())


async def cpq_update(call: FreshCall) -> Any:
    kind = _cpq_kind(call)
    row = _cpq_row(call, kind)
    given: Any = (await call.object()).get(_cpq_one(kind))  # a hash: ``_cpq_values``
    values = _cpq_values(call, kind, given)
    prices = read_pricings(row, given) if kind == "products" else {}
    if kind == "cpq_documents":
        document_products(call.db, row, given, values)
    _cpq_write(call, kind, row, values)
    _priced(call.db, row, prices)
    row["updater_id"] = call.user
    return _cpq_body(call.db, kind, row, call.includes())


def cpq_delete(call: FreshCall) -> Any:
    kind = _cpq_kind(call)
    row = _cpq_row(call, kind)
    row.update(is_deleted=True, updated_at=call.now_text())
    return {"msg": {"id": row["id"], "code": "success"}}


def cpq_forget(call: FreshCall) -> Any:
    kind = _cpq_kind(call)
    row = _cpq_row(call, kind)
    del call.db.table(kind)[row["id"]]
    return {"msg": {"id": row["id"], "code": "success"}}


def cpq_restore(call: FreshCall) -> Any:
    kind = _cpq_kind(call)
    row = _cpq_row(call, kind)
    row.update(is_deleted=False, updated_at=call.now_text())
    return _cpq_body(call.db, kind, row)


async def cpq_bulk(call: FreshCall) -> Any:
    """``<kind>_bulk_update``/``_assign``/``_delete``/``_restore``, applied at once."""
    kind = _cpq_kind(call)
    verb = call.path.rsplit("_", 1)[-1]
    body = await call.object()
    chosen = (
        ids("ids", body.get("ids"))
        if verb == "update"
        else ids("selected_ids", body.get("selected_ids"))
    )
    if verb == "update":
        values = _cpq_values(call, kind, body.get(_cpq_one(kind)))
    elif verb == "assign":
        owner = read_value(call.db, "owner_id", "user", body.get("owner_id"))
        if owner is None:
            raise invalid("Owner can't be blank")
        values = {"owner_id": owner}
    else:
        values = {"is_deleted": verb == "delete"}
    for id_ in chosen:
        row = call.db.table(kind).get(id_)
        if row is None:
            continue
        changes = dict(values)
        if kind == "cpq_documents":  # its lines' total stays its amount, its currency theirs
            try:
                document_products(call.db, row, {}, changes)
            except ApiError:
                continue  # the queued job fails this one, as an unknown id is skipped
        _cpq_write(call, kind, row, changes)
    if verb == "restore":
        noun = "products" if kind == "products" else "documents"
        return {
            "message": f"Restoring your {noun}, you'll get a notification when this is complete."
        }
    return {"message": QUEUED[verb]}


# -- CPQ: a product's prices, a deal's and a document's products --------------------------

PRICED = ("pricing_type", "product_pricings")
NESTED = (*PRICED, "products")  # a document's line items: ``document_products``
ONE_TIME, SUBSCRIPTION = 1, 2
BILLING_TYPES = 4  # 1 monthly, 2 quarterly, 3 half-yearly, 4 yearly
BILLING_CYCLES = 999  # billing cycles of a subscription price (the seed gives no bound)
PRODUCTS_MAX = 100  # "Maximum of 100 products can be added to the deal" (the document)
QUANTITY_MAX = 1_000_000


def _yes(value: Any) -> bool:
    return value in (True, "true", "True", "1", 1)


def _blank(entry: Row, name: str) -> bool:
    """Not passed: absent, null or "" (Rails reads a blank value as none)."""
    return entry.get(name) in (None, "")


def currency_code(value: Any) -> str:
    """A price's or a document's ``currency_code``: one of the account's currencies."""
    if value in (None, ""):
        raise invalid("Currency code can't be blank")
    if value not in CODES:
        raise invalid(f"Currency code must be one of the account's currencies: {', '.join(CODES)}")
    code: str = value
    return code


def read_pricings(product: Row | None, given: Any) -> Row:
    """A product's ``pricing_type`` and ``product_pricings`` after ``given`` (a create's or
    an update's product hash), checked, nothing stored; ``{}`` when it names neither.

    As the seed's "Add/Edit/Delete Prices of the Product" document them, read as Rails
    nested attributes (their ``_destroy`` key says so):

    - ``pricing_type`` is 1 (one-time) or 2 (subscription), another value (null too) the
      400. "You can pass this key only when you're adding [prices] for the first time":
      a different type while the product has prices is the 400 (the same one is taken);
      a product whose prices are all removed takes a type again.
    - Each ``product_pricings`` entry without ``id`` adds a price (one with ``_destroy``
      and no ``id`` adds nothing); one with ``id`` (``"18"`` too) names a price of this
      product, else the 400 (an id in a body is a validation error; 404 is for the URL's
      ids), and with ``_destroy`` true removes it, without it overwrites it whole ("it
      will overwrite the existing price data with the new details": a key not passed is
      blanked, the required ones checked again).
    - A price needs ``currency_code`` (one of the account's currencies, once per product:
      the table's "This field is unique") and ``unit_price`` (decimal(15,4), 0 or more);
      the product needs a ``pricing_type`` first. A subscription price needs
      ``billing_type`` (1 to 4) and ``billing_cycle`` (a whole number of cycles, 1 to
      999), ``setup_fee`` is optional; on a one-time price the three are ignored (null, as
      the one-time sample shows them: "needs to be passed only when the pricing_type is 2").
    - ``product_pricings`` that is not a list of hashes is the 400.
    """
    if not isinstance(given, dict) or not any(name in given for name in PRICED):
        return {}
    prices = [dict(p) for p in (product or {}).get("product_pricings") or []]
    type_: int = (product or {}).get("pricing_type") or 0
    if "pricing_type" in given:
        wanted = given["pricing_type"]
        if isinstance(wanted, bool) or wanted not in (1, 2, "1", "2", 1.0, 2.0):
            raise invalid("Pricing type must be 1 (one-time) or 2 (subscription)")
        chosen = int(wanted)
        if chosen != type_ and prices:
            raise invalid("Pricing type can be set only when adding the product's first prices")
        type_ = chosen
    entries = given.get("product_pricings", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise invalid("product_pricings must be a list of prices")
    added: list[Row] = []
    for entry in entries:
        if _blank(entry, "id"):
            if not _yes(entry.get("_destroy")):
                added.append(_price(entry, type_, None))
            continue
        price_id = body_id("product_pricing_id", entry["id"])
        found = next((p for p in prices if p["id"] == price_id), None)
        if found is None:
            raise invalid(f"Invalid product pricing: {price_id} is not a price of this product")
        if _yes(entry.get("_destroy")):
            prices.remove(found)
        else:
            found.update(_price(entry, type_, price_id))
    prices += added
    codes = [p["currency_code"] for p in prices]
    for code in codes:
        if codes.count(code) > 1:
            raise invalid(f"Currency code {code} has already been taken by another price")
    return {"pricing_type": type_, "product_pricings": prices}


def _price(entry: Row, type_: int, price_id: int | None) -> Row:
    """One price as the samples show it, from a ``product_pricings`` entry (checked)."""
    if type_ not in (ONE_TIME, SUBSCRIPTION):
        raise invalid("Pricing type can't be blank: pass 1 (one-time) or 2 (subscription)")
    code = currency_code(entry.get("currency_code"))
    if _blank(entry, "unit_price"):
        raise invalid("Unit price can't be blank")
    price: Row = {
        "id": price_id,
        "currency_code": code,
        "_destroy": False,
        "billing_cycle": None,
        "billing_type": None,
        "unit_price": _value(entry, "unit_price", None),
        "setup_fee": None,
        "is_locked": False,
    }
    if type_ == SUBSCRIPTION:
        for name, high in (("billing_type", BILLING_TYPES), ("billing_cycle", BILLING_CYCLES)):
            if _blank(entry, name):
                raise invalid(f"{name.replace('_', ' ').capitalize()} can't be blank")
            price[name] = _value(entry, name, None, high, count=True)
        price["setup_fee"] = _value(entry, "setup_fee", None)
    return price


def _priced(db: Db, row: Row, prices: Row) -> None:
    """Store what ``read_pricings`` checked: new prices get their ids; the product's
    ``base_currency_amount`` is its price in the account's base currency (the samples:
    1000.0 beside 74000 INR), null without one."""
    if not prices:
        return
    for price in prices["product_pricings"]:
        if price["id"] is None:
            price["id"] = db.new_id("product_pricings")
    row.update(prices)
    base = [p["unit_price"] for p in row["product_pricings"] if p["currency_code"] == BASE_CODE]
    row["base_currency_amount"] = base[0] if base else None


def deal_products(db: Db, deal: Row, given: Row, values: Row) -> None:
    """A deal update's CPQ line items (``{"deal": {"products": [...]}}``, the seed's
    "Add/Edit/Delete Products of the Deal"), checked by :func:`read_lines` (priced in the
    deal's ``currency_id``) before anything is written; the deal's ``amount`` (decimal
    text, as a deal shows it) is their total."""
    total = read_lines(db, "deal", deal, given, values)
    if total is not None:
        values["amount"] = money(total)


def document_products(db: Db, document: Row, given: Row, values: Row) -> None:
    """A CPQ document's line items (``{"cpq_document": {"products": [...]}}``, the seed's
    "Add/Edit/Delete Products of the Document"), checked by :func:`read_lines` (priced in
    the document's ``currency_code``) before anything is written, on an update and, as
    the contract declares ``products`` a create field, on a create too; the document's
    ``amount`` (a number, as a document shows it) is their total: "Once the products are
    added to the document, amount can't be updated directly"."""
    total = read_lines(db, "document", document, given, values)
    if total is not None:
        values["amount"] = round(total, 2)


# the field a deal's or a document's currency is given by, and that field's name in a
# currency (``/api/selector/currencies``)
CURRENCY_OF = {"deal": ("currency_id", "id"), "document": ("currency_code", "currency_code")}


def read_lines(db: Db, noun: str, row: Row, given: Row, values: Row) -> float | None:
    """The CPQ line items of a deal or a document (``noun``: their two sections document
    them alike) after ``given``, checked into ``values["_products"]`` (nothing written);
    their total, or ``None`` when the record has none and is given none.

    - ``products`` is a list of at most 100 hashes (another shape: the 400); it replaces
      the record's line items ("it will remove other existing products ... and add/update
      only the product passed"; ``[]`` removes them all).
    - Each needs ``id``, a product that exists, is not deleted and is active (the
      ATTRIBUTE table's ``is_active``: "can be associated with the deal"), once per list;
      and has a price in the record's currency (its ``currency_code`` and defaults come
      from that price). Another product id is the 400 (an id in a body is a validation
      error).
    - ``quantity`` (default 1: a whole number, 1 to 1,000,000) and ``discount`` (default 0:
      a percent, decimal(5,2) up to 100; the sample's 100 zeroes the line). ``unit_price``
      (decimal(15,4)) defaults to the product's price. ``billing_cycle`` and ``setup_fee``
      default to the price's and, as ``billing_type``, are for a subscription product only
      (on a one-time one they are ignored, null as the sample shows them). A key passed
      null or "" is not passed.
    - The total (the record's ``amount`` while it has lines, and 0 when they are removed:
      the samples' "0.0") is the sum of (unit price x quantity + setup fee) less each
      line's discount. The samples' amounts carry a further factor of the account's (8360
      for lines of 7600; 8316 for 7560; the document view's 2483 for 1910, so not one
      fixed rate), a tax the sandbox has no setting for: not applied. An ``amount`` sent
      while the record has products is overruled by their total.
    - A record with products keeps its currency: another one without new ``products`` is
      the 400 (the lines are priced in it); with them, they are priced in the new one.
    """
    key, field = CURRENCY_OF[noun]
    chosen = values.get(key, row.get(key))
    if "products" in given:
        currency = next((c for c in CURRENCIES if c[field] == chosen), CURRENCIES[0])
        lines = _lines(db, noun, given["products"], currency)
        values["_products"] = lines
    else:
        lines = row.get("_products") or []
        if lines and chosen != row.get(key):
            raise invalid(f"Currency can't be changed while the {noun} has products")
    if "products" in given or lines:
        return sum(line_total(line) for line in lines)
    return None


def line_total(line: Row) -> float:
    """A line item's value: (unit price x quantity + setup fee) less the discount."""
    gross = line["unit_price"] * line["quantity"] + (line["setup_fee"] or 0.0)
    total: float = gross * (100.0 - line["discount"]) / 100.0
    return total


def _value(
    entry: Row, name: str, default: Any, high: float = DECIMAL_15_4, count: bool = False
) -> Any:
    """``entry[name]`` read as a number up to ``high`` (``count``: a whole one from 1),
    ``default`` when it is not passed."""
    if _blank(entry, name):
        return default
    if count:
        return whole(name, entry[name], 1, int(high))
    return decimal(name, entry[name], high)


def _lines(db: Db, noun: str, value: Any, currency: Row) -> list[Row]:
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise invalid("products must be a list of hashes, each with a product's id")
    if len(value) > PRODUCTS_MAX:
        raise invalid(f"Maximum of {PRODUCTS_MAX} products can be added to the {noun}")
    code = currency["currency_code"]
    lines: list[Row] = []
    for entry in value:
        product_id = body_id("product_id", entry.get("id"))
        product = db.products.get(product_id)
        if product is None or product.get("is_deleted"):
            raise invalid(f"Invalid product: {product_id} does not exist")
        if product.get("is_active") is False:
            raise invalid(f"Product {product_id} is inactive: it can't be added to a {noun}")
        if any(line["product_id"] == product_id for line in lines):
            raise invalid(f"Product {product_id} is given twice: a {noun} has each product once")
        price = next(
            (p for p in product.get("product_pricings") or [] if p["currency_code"] == code),
            None,
        )
        if price is None:
            raise invalid(f"Product {product_id} has no price in {code}, the {noun}'s currency")
        line: Row = {
            "product_id": product_id,
            "unit_price": _value(entry, "unit_price", price["unit_price"]),
            "setup_fee": None,
            "billing_type": None,
            "billing_cycle": None,
            "currency_code": code,
            "quantity": _value(entry, "quantity", 1, QUANTITY_MAX, count=True),
            "discount": _value(entry, "discount", 0.0, 100.0),
        }
        if product.get("pricing_type") == SUBSCRIPTION:
            line["setup_fee"] = _value(entry, "setup_fee", price["setup_fee"])
            line["billing_type"] = price["billing_type"]
            cycles = _value(entry, "billing_cycle", price["billing_cycle"], BILLING_CYCLES, True)
            line["billing_cycle"] = cycles
        lines.append(line)
    return lines


# (method, path under the kind's root, handler); ``<kind>`` is the kind's plural
RECORD_ROUTES: tuple[tuple[str, str, Handler[FreshCall]], ...] = (
    ("POST", "/{id}/manage_team_members", manage_team),
    ("POST", "/upsert", upsert),
    ("POST", "/bulk_upsert", bulk_upsert),
    ("POST", "/{id}/clone", clone),
    ("DELETE", "/{id}/forget", forget),
)
CPQ_ROUTES: tuple[tuple[str, str, Handler[FreshCall]], ...] = (
    ("POST", "", cpq_create),
    ("GET", "/{id}", cpq_get),
    ("PUT", "/{id}", cpq_update),
    ("DELETE", "/{id}", cpq_delete),
    ("PUT", "/{id}/restore", cpq_restore),
    ("PUT", "/<kind>_bulk_update", cpq_bulk),
    ("POST", "/<kind>_bulk_assign", cpq_bulk),
    ("POST", "/<kind>_bulk_delete", cpq_bulk),
    ("POST", "/<kind>_bulk_restore", cpq_bulk),
)


def handlers() -> dict[str, Handler[FreshCall]]:
    """These endpoints' handlers, keyed as the contract writes them."""
    table: dict[str, Handler[FreshCall]] = {
        "GET /api/job_statuses/{id}": job_status,
        "POST /api/phone_calls": phone_call,
        "POST /api/documents": create_document,
        "GET /api/leads/{id}/document_associations": document_associations,
        "DELETE /api/cpq/cpq_documents/{id}/forget": cpq_forget,
    }
    roots = [(f"/api/{kind}", kind, RECORD_ROUTES) for kind in KINDS]
    roots += [(f"/api/cpq/{kind}", kind, CPQ_ROUTES) for kind in CPQ_KINDS]
    for root, kind, routes in roots:
        for method, path, handler in routes:
            table[f"{method} {root}{path.replace('<kind>', kind)}"] = handler
    for kind in ("leads", "contacts", "sales_accounts"):  # not documented for deals
        table[f"POST /api/{kind}/bulk_assign_owner"] = bulk_assign_owner
    return table
