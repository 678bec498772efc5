"""No request makes a sandbox answer 5xx (issue 14 point 1: "behaves as the vendor on
anything else"; "bad input gets a clear error").

For each of the five vendors, one sandbox app, reused, in process:

- every documented write (POST/PUT/PATCH) of its contract, its path ids a real seeded
  record's, gets bodies in which each declared field (``Endpoint.fields``, under the
  wrapper if any) in turn has a wrong shape: a list, an object, a number where text is
  expected, text where a number is, null, a very long string, nested lists. The rest of
  the body is a plausible record (the required fields, from a seeded record where it has
  them), so the wrong field reaches the handler rather than an earlier refusal;
- a field the seeded record holds as a structure (a contact's ``properties``, an
  account's ``fieldValues``) gets that structure with each key inside of a wrong shape;
- every write gets whole bodies of the wrong shape (a list, a string, null, nesting);
- every documented path answers hostile path ids, and every documented query parameter
  hostile values;
- then every documented read of a seeded record answers again (a wrong shape a write
  took must not break a later read).

Records the seed has none of are created first (``CREATE_FIRST``); Salesloft's meetings,
meeting settings and pending emails cannot be (v2 writes none), so their updates meet
the documented 404 before any body is read.

Each answer must be below 500 and, when it is a 4xx, the vendor's error envelope in JSON.
A handler's exception is collected (not raised at the first), so one run names them all.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from crmtui import sandbox
from crmtui.sandbox.contract import Endpoint

HEADERS: dict[str, dict[str, str]] = {
    "activecampaign": {"Api-Token": "sandbox"},
    "salesloft": {"Authorization": "Bearer sandbox"},
    "salesforceiq": {"Authorization": "Basic c2FuZGJveDpzYW5kYm94"},  # sandbox:sandbox
    "freshsales": {"Authorization": "Token token=sandbox"},
    "salesseek": {},  # a session cookie, from the login
}
SALESSEEK_LOGIN = {"email_address": "demo@sandbox.test", "password": "sandbox"}

# Each vendor's documented error bodies, by their top-level keys.
ENVELOPES: dict[str, tuple[frozenset[str], ...]] = {
    "activecampaign": (frozenset({"message"}), frozenset({"errors"})),
    "salesloft": (frozenset({"error"}), frozenset({"errors"})),
    "salesforceiq": (frozenset({"statusCode", "userMessage", "errorMessage"}),),
    "freshsales": (frozenset({"errors"}),),
    "salesseek": (frozenset({"detail"}),),
}

LONG = "x" * 10_000
# A field's value of the wrong shape: whatever the field is, some of these are wrong.
WRONG: tuple[Any, ...] = (
    [1],
    ["x"],
    [[1], [2]],
    [{"id": [1], "value": {"a": 1}}],
    {"a": 1},
    12345,
    1e300,
    "x",
    "",
    None,
    LONG,
)
# The wrong values an entry inside a structured field gets (a property's ``metadata``).
WRONG_INSIDE: tuple[Any, ...] = ([1], {"a": 1}, None)
# An update's wrong values: the same shapes less the three a create has already shown
# read by the same field readers (CPU: a request costs about a millisecond).
WRONG_UPDATE: tuple[Any, ...] = tuple(v for v in WRONG if v not in (["x"], [[1], [2]], LONG, 12345))
# A whole body, or the record under its wrapper, of the wrong shape.
WRONG_BODIES: tuple[Any, ...] = ([1], "s", None)
# Each vendor's page size parameter: set to 1 while another parameter is tried, so a
# hostile value costs one rendered record, not a page of them.
PAGE_SIZE = {
    "activecampaign": "limit",
    "salesloft": "per_page",
    "salesforceiq": "_limit",
    "freshsales": "per_page",
    "salesseek": "rows",
}
HOSTILE_IDS = ("²", "9" * 40, "-1")
HOSTILE_VALUES = ("x", "9" * 30)


# -- the seeded records each path id is filled with ------------------------------------------


def _first(rows: Any) -> str | None:
    return str(next(iter(rows))) if rows else None


def _freshsales(db: Any, segment: str, ids: dict[str, str]) -> Any:
    return getattr(db, segment, None)


def _salesseek(db: Any, segment: str, ids: dict[str, str]) -> Any:
    if segment == "api":  # /api/{record_type}/filters
        return {"organizations": None}
    if segment == "items":  # /api/groups/{id}/items/{record_id}
        return db.group_items.get(ids.get("id"), ())
    return getattr(db, segment, None)


def _salesloft(db: Any, segment: str, ids: dict[str, str]) -> Any:
    return db.tables.get({"settings": "meeting_settings"}.get(segment, segment))


AC_TABLES = {
    "contactDeals": "contact_deals",
    "dealCustomFieldData": "cf_data",
    "dealCustomFieldMeta": "cf_meta",
    "dealGroups": "groups",
    "dealStages": "stages",
    "dealTasks": "tasks",
    "dealTasktypes": "tasktypes",
}


def _activecampaign(db: Any, segment: str, ids: dict[str, str]) -> Any:
    return getattr(db, AC_TABLES.get(segment, segment), None)


def _salesforceiq(db: Any, segment: str, ids: dict[str, str]) -> Any:
    if segment == "listitems":
        return db.items.get(ids.get("listId"), ())
    return getattr(db, segment, None)


TABLES: dict[str, Callable[[Any, str, dict[str, str]], Any]] = {
    "freshsales": _freshsales,
    "salesseek": _salesseek,
    "salesloft": _salesloft,
    "activecampaign": _activecampaign,
    "salesforceiq": _salesforceiq,
}

# Records the seed has none of, created first through the documented API so that a
# write to one reaches its handler (not the 404 of a missing record).
CREATE_FIRST: dict[str, tuple[tuple[str, Any], ...]] = {
    "freshsales": (
        ("/api/cpq/products", {"product": {"name": "Fuzz product"}}),
        (
            "/api/cpq/cpq_documents",
            {
                "cpq_document": {
                    "display_name": "Fuzz quote",
                    "document_type": "Quote",
                    "cpq_document_template_name": "Default",
                    "deal_id": 7000001,
                    "contact_id": 16000001,
                }
            },
        ),
    ),
    "salesloft": (
        ("/v2/bulk_jobs", {"type": "person/upsert", "name": "Fuzz"}),
        ("/v2/saved_list_views", {"view": "people", "name": "Fuzz"}),
        (
            "/v2/webhook_subscriptions",
            {"callback_url": "https://x.test", "callback_token": "t", "event_type": "x"},
        ),
    ),
}

# Field values that make a body acceptable where the seeded record's do not (a unique
# address, a related record's id), so a wrong field is the only thing wrong with it.
BASES: dict[str, dict[str, dict[str, Any]]] = {
    "freshsales": {
        "POST /api/leads": {"email": "fuzz.lead@sandbox.test"},
        "POST /api/contacts": {"email": "fuzz.contact@sandbox.test"},
        "POST /api/leads/{id}/convert": {"company": {"name": "Fuzz Co"}},
    },
    "salesseek": {
        "POST /api/users": {"email_address": "fuzz@sandbox.test"},
        "POST /api/activities": {"item_id": "915cf95b-d2f3-40bd-9b95-163935791e84"},
    },
    "salesforceiq": {
        "POST /v2/lists/{listId}/listitems": {"contactIds": ["688243a51038ac348a8c8643"]},
        "POST /v2/contacts": {"properties": {"name": [{"value": "Fuzz"}]}},
        "PUT /v2/events": {"participantIds": [{"type": "email", "value": "f@s.test"}]},
    },
    "salesloft": {
        "POST /v2/accounts": {"domain": "fuzz.test"},
        "POST /v2/people": {"email_address": "fuzz@sandbox.test"},
        "POST /v2/person_upserts": {"upsert_key": "email_address", "email_address": "f@s.test"},
        "POST /v2/tasks": {"person_id": 1001, "user_id": 1},
        "POST /v2/activities/calls": {"person_id": 1001},
        "POST /v2/notes": {"associated_with_type": "person", "associated_with_id": 1001},
    },
}

_PARAM = re.compile(r"\{([^}]+)\}")


def _fill(vendor: str, db: Any, path: str) -> str:
    """``path`` with each ``{param}`` a seeded record's id (``0`` when there is none)."""
    ids: dict[str, str] = {}
    for match in _PARAM.finditer(path):
        segment = path[: match.start()].rstrip("/").rsplit("/", 1)[-1]
        ids[match[1]] = _first(TABLES[vendor](db, segment, ids)) or "0"
    return _PARAM.sub(lambda m: ids[m[1]], path)


def _sample(vendor: str, db: Any, endpoint: Endpoint) -> dict[str, Any]:
    """A seeded record of the collection ``endpoint`` writes (its field values make the
    required fields of a body plausible), or ``{}``."""
    segment = _PARAM.sub("", endpoint.path).rstrip("/").rsplit("/", 1)[-1]
    rows = TABLES[vendor](db, segment, {})
    if not isinstance(rows, dict) or not rows:
        return {}
    record = next(iter(rows.values()))
    return record if isinstance(record, dict) else {}


def _json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):  # a stored datetime
        return False
    return True


def _base(vendor: str, db: Any, endpoint: Endpoint) -> dict[str, Any]:
    sample = _sample(vendor, db, endpoint)
    names = [*endpoint.required, *(group[0] for group in endpoint.any_of)]
    record: dict[str, Any] = {}
    for name in names:
        value = sample.get(name, "x")
        choices = endpoint.choices.get(name)
        if choices and str(value) not in choices:
            value = choices[0]
        record[name] = value if value is not None and _json(value) else "x"
    record.update(BASES.get(vendor, {}).get(f"{endpoint.method} {endpoint.path}", {}))
    return record


def _inside(value: Any) -> list[Any]:
    """``value`` (a seeded record's structured field: an object, a list of objects) with
    each key of it, or of its first entry, in turn of a wrong shape, one level down too."""
    if isinstance(value, list) and value:
        return [[inner, *value[1:]] for inner in _inside(value[0])]
    if not isinstance(value, dict):
        return []
    out: list[Any] = []
    for key in list(value)[:8]:
        out += [{**value, key: wrong} for wrong in WRONG_INSIDE]
        if isinstance(value[key], list | dict):
            out += [{**value, key: inner} for inner in _inside(value[key])[:12]]
    return out


def _wrap(endpoint: Endpoint, record: Any) -> Any:
    return {endpoint.wrapper: record} if endpoint.wrapper else record


# -- the run ------------------------------------------------------------------------------


class Run:
    """Sends requests to one sandbox and collects every answer that breaks the rule."""

    def __init__(self, vendor: str, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.vendor = vendor
        self.client = client
        self.headers = headers
        self.failures: list[str] = []
        self.sent = 0

    async def send(self, method: str, path: str, body: Any = ..., raw: bytes | None = None) -> int:
        self.sent += 1
        what = f"{method} {path[:90]}" + ("" if body is ... else f" {str(body)[:100]}")
        kwargs: dict[str, Any] = {"headers": self.headers}
        if raw is not None:
            kwargs["content"] = raw
            kwargs["headers"] = {**self.headers, "content-type": "application/json"}
        elif body is not ...:
            kwargs["json"] = body
        try:
            response = await self.client.request(method, path, **kwargs)
        except Exception as exc:  # the sandbox raised: a 500 the vendor never sends
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{frame.filename.rsplit('crmtui/', 1)[-1]}:{frame.lineno}"
            self.failures.append(f"{what}: {type(exc).__name__}: {exc} at {where}")
            return 500
        status = response.status_code
        if status >= 500:
            self.failures.append(f"{what}: {status} {response.text[:200]}")
        elif status >= 400 and not self._envelope(response):
            self.failures.append(f"{what}: {status} not the vendor's error: {response.text[:200]}")
        return status

    def _envelope(self, response: httpx.Response) -> bool:
        try:
            body = response.json()
        except ValueError:
            return False
        return isinstance(body, dict) and frozenset(body) in ENVELOPES[self.vendor]


async def _signed_in(vendor: str, client: httpx.AsyncClient) -> dict[str, str]:
    if vendor != "salesseek":
        return HEADERS[vendor]
    answer = await client.post("/api/login", data=SALESSEEK_LOGIN)
    assert answer.status_code == 200, answer.text
    return {"Cookie": answer.headers["set-cookie"].split(";", 1)[0]}


def _destructive(endpoint: Endpoint) -> bool:
    return any(word in endpoint.path for word in ("destroy", "delete", "assign", "convert"))


@pytest.mark.parametrize("vendor", sorted(HEADERS))
async def test_no_request_makes_a_sandbox_fail(vendor: str) -> None:
    app = sandbox.create_app(vendor, rate_limit=False)
    contract, db = app.state.contract, app.state.db
    transport = httpx.ASGITransport(app=app)  # raise_app_exceptions: a crash is seen
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        run = Run(vendor, client, await _signed_in(vendor, client))
        for path, body in CREATE_FIRST.get(vendor, ()):
            assert await run.send("POST", path, body) < 300, run.failures

        writes = [e for e in contract.endpoints if e.method in ("POST", "PUT", "PATCH")]
        writes.sort(key=_destructive)  # deletes last: the others find their records
        for endpoint in writes:
            base = _base(vendor, db, endpoint)
            wrong = WRONG if endpoint.method == "POST" else WRONG_UPDATE
            # the required fields first: a write that takes a wrong value may use its record
            # up (a lead converted), and a vendor's own checks start with these
            fields = endpoint.fields or ()
            for name in sorted(fields, key=lambda f: f not in endpoint.required):
                for value in wrong:
                    # filled anew: a write that succeeds may have used the record up (a
                    # lead converted is gone), and the next one needs one that is there
                    path = _fill(vendor, db, endpoint.path)
                    await run.send(endpoint.method, path, _wrap(endpoint, {**base, name: value}))
            sample = _sample(vendor, db, endpoint)
            for name in fields:
                if name in sample and _json(sample[name]):
                    for value in _inside(sample[name]):
                        path = _fill(vendor, db, endpoint.path)
                        await run.send(
                            endpoint.method, path, _wrap(endpoint, {**base, name: value})
                        )
            path = _fill(vendor, db, endpoint.path)
            for body in WRONG_BODIES:
                await run.send(endpoint.method, path, body)
            if endpoint.wrapper:
                for value in WRONG_BODIES:
                    await run.send(endpoint.method, path, {endpoint.wrapper: value})
            await run.send(endpoint.method, path, raw=b'{"a": [' * 200 + b"]}" * 200)

        for endpoint in contract.endpoints:
            if "{" in endpoint.path:
                for hostile in HOSTILE_IDS:
                    path = _PARAM.sub(hostile, endpoint.path)
                    body = {} if endpoint.method in ("POST", "PUT", "PATCH") else ...
                    await run.send(endpoint.method, path, body)
            if endpoint.method == "GET":
                path = _fill(vendor, db, endpoint.path)
                size = PAGE_SIZE[vendor]
                small = f"&{size}=1" if endpoint.param(size) else ""
                for param in endpoint.query or ():
                    for value in HOSTILE_VALUES:
                        tail = "" if param.name == size else small
                        await run.send("GET", f"{path}?{param.name}={value}{tail}")
                await run.send("GET", path)  # after the writes: what they stored reads back

    assert not run.failures, f"{len(run.failures)} of {run.sent} requests failed:\n" + "\n".join(
        run.failures
    )
