"""SalesforceIQ API v2 as a contract, from the seed (``salesforceiq-api.txt``: its
operations and their "Query Parameters" tables, and the documented error object).

Decisions where the documentation is silent, and why:

- A path answers the same with or without a trailing ``/``: the doc itself writes both
  (``GET /lists/{listId}/listitems/``, ``contacts/?_upsert=email``, ``events/``).
- A query parameter the endpoint's table does not list is **ignored** (the doc's 400 is
  for a "missing or malformed parameter", not an unknown one); a documented one given a
  value outside its list (``_upsert``) is that 400.
- Bodies are whole objects: the documented update sends the item back "without
  id/modifiedDate/createdDate", so read-only attributes sent back unchanged are part of
  the contract and bodies are not restricted field by field here.
- ``GET /users`` is headed so but requires ``id``: it is ``GET /users/{id}`` (the doc's
  own example), and there is no users list.
- An undocumented path answers 404 and an undocumented method 405, both in the
  documented error object.
"""

from __future__ import annotations

from crmtui.sandbox.contract import IGNORE, Answer, Contract, Endpoint, Param, Violation

PAGE = (Param("_ids", array=True), Param("_start"), Param("_limit"))
MODIFIED = Param("modifiedDate")
REASONS = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/v2/lists", query=PAGE),
    Endpoint("GET", "/v2/lists/{id}"),
    Endpoint(
        "POST",
        "/v2/lists/{listId}/listitems",
        query=(Param("_upsert", values=("contactIds", "accountId")),),
    ),
    Endpoint("GET", "/v2/lists/{listId}/listitems/{listItemId}"),
    Endpoint(
        "GET",
        "/v2/lists/{listId}/listitems",
        query=(*PAGE, MODIFIED, Param("contactIds", array=True), Param("accountIds", array=True)),
    ),
    Endpoint("PUT", "/v2/lists/{listId}/listitems/{listItemId}"),
    Endpoint("DELETE", "/v2/lists/{listId}/listitems/{listItemId}"),
    Endpoint("GET", "/v2/accounts", query=(*PAGE, MODIFIED)),
    Endpoint("GET", "/v2/accounts/{id}"),
    Endpoint("POST", "/v2/accounts"),
    Endpoint("PUT", "/v2/accounts/{id}"),
    Endpoint("DELETE", "/v2/accounts/{id}"),
    Endpoint("GET", "/v2/accounts/fields"),
    Endpoint("POST", "/v2/contacts", query=(Param("_upsert", values=("email",)),)),
    # the doc's contact examples filter by ``properties.email=".."`` / ``properties.phone``
    Endpoint(
        "GET",
        "/v2/contacts",
        query=(*PAGE, MODIFIED, Param("properties.email"), Param("properties.phone")),
    ),
    Endpoint("GET", "/v2/contacts/{id}"),
    Endpoint("PUT", "/v2/contacts/{id}"),
    Endpoint("DELETE", "/v2/contacts/{id}"),
    Endpoint("PUT", "/v2/events"),
    Endpoint("GET", "/v2/users/{id}"),
)


def _error(status: int, message: str) -> Answer:
    return Answer(
        status, {"statusCode": status, "userMessage": REASONS[status], "errorMessage": message}
    )


def answer(v: Violation) -> Answer:
    """How SalesforceIQ answers a request outside the contract (module docstring)."""
    if v.kind == "path":
        return _error(404, f"{v.method} {v.path}")
    if v.kind == "method":
        return _error(405, f"{v.method} {v.path}")
    if v.kind == "value":
        return _error(400, v.rule)
    return IGNORE


CONTRACT = Contract(
    vendor="salesforceiq",
    endpoints=ENDPOINTS,
    answer=answer,
    optional_suffixes=("/",),
    notes=__doc__ or "",
)
