"""SalesforceIQ API v2 as a contract, from the seed (``salesforceiq-api.txt``: its
operations and their "Query Parameters" tables, and the documented error object).

Decisions where the documentation is silent, and why:

- A path answers the same with or without a trailing ``/``: the doc itself writes both
  (``GET /lists/{listId}/listitems/``, ``contacts/?_upsert=email``, ``events/``).
- A query parameter the endpoint's table does not list is **ignored** (the doc's 400 is
  for a "missing or malformed parameter", not an unknown one); a documented one given a
  value outside its list (``_upsert``) is that 400.
- Bodies are whole objects: a write takes the attributes of its object's Definition
  table (List Item Object, Account Object, Contact Object, Event Object). The doc's
  payloads are "a JSON representation of a List Item, without the id, modifiedDate, or
  createdDate fields (which will be generated)": generated and read-only attributes
  (``id``, ``listId``, ``version``, ``createdDate``, ``modifiedDate``,
  ``linkedItemIds``, a contact's ``requestedIds``/``mergedIds``/``state``) sent back
  unchanged are part of the contract and ignored by the server, as the whole-item update
  (issue 14) needs; an attribute no Definition names is **ignored** too (the 400 is for a
  "missing or malformed parameter").
- Required, as the Payload Attributes tables mark them "true": an account create's
  ``name``; an account update's ``id`` and ``name``; a contact update's ``id`` and
  ``properties``; an event's ``subject``, ``body`` and ``participantIds``. A list item's
  ``contactIds`` (contact lists, or ``_upsert=contactIds``) and ``accountId``
  (``_upsert=accountId``) depend on the list and the query, so the sandbox checks them;
  so does a contact upsert's ``properties`` (the same ``POST /contacts`` without
  ``_upsert`` does not require it). A missing one is the documented 400 error object.
- ``GET /users`` is headed so but requires ``id``: it is ``GET /users/{id}`` (the doc's
  own example), and there is no users list.
- An undocumented path answers 404 and an undocumented method 405, both in the
  documented error object.
"""

from __future__ import annotations

from crmtui.sandbox.contract import IGNORE, Answer, Contract, Endpoint, Param, Violation

# ``_ids`` is "an optional, comma separated list" (String[]): no ``_ids[]`` form
PAGE = (Param("_ids"), Param("_start"), Param("_limit"))
MODIFIED = Param("modifiedDate")
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

LIST_ITEM = (
    "id",
    "listId",
    "version",
    "createdDate",
    "modifiedDate",
    "name",
    "accountId",
    "contactIds",
    "fieldValues",
    "linkedItemIds",
)
ACCOUNT = ("id", "modifiedDate", "name", "fieldValues")
CONTACT = ("id", "modifiedDate", "requestedIds", "mergedIds", "properties", "state")
ITEM_SOURCE = "List Items > List Item Object (Definition), Create/Update/Upsert a List Item"
ACCOUNT_SOURCE = "Accounts > Account Object, Create/Update an Account (Payload Attributes)"
CONTACT_SOURCE = "Contacts > Contact Object, Create/Update/Upsert a Contact (Payload Attributes)"

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/v2/lists", query=PAGE),
    Endpoint("GET", "/v2/lists/{id}"),
    Endpoint(
        "POST",
        "/v2/lists/{listId}/listitems",
        query=(Param("_upsert", values=("contactIds", "accountId")),),
        fields=LIST_ITEM,
        source=ITEM_SOURCE,
    ),
    Endpoint("GET", "/v2/lists/{listId}/listitems/{listItemId}"),
    Endpoint(
        "GET",
        "/v2/lists/{listId}/listitems",
        query=(*PAGE, MODIFIED, Param("contactIds", array=True), Param("accountIds", array=True)),
    ),
    Endpoint(
        "PUT", "/v2/lists/{listId}/listitems/{listItemId}", fields=LIST_ITEM, source=ITEM_SOURCE
    ),
    Endpoint("DELETE", "/v2/lists/{listId}/listitems/{listItemId}"),
    Endpoint("GET", "/v2/accounts", query=(*PAGE, MODIFIED)),
    Endpoint("GET", "/v2/accounts/{id}"),
    Endpoint("POST", "/v2/accounts", fields=ACCOUNT, required=("name",), source=ACCOUNT_SOURCE),
    Endpoint(
        "PUT", "/v2/accounts/{id}", fields=ACCOUNT, required=("id", "name"), source=ACCOUNT_SOURCE
    ),
    Endpoint("DELETE", "/v2/accounts/{id}"),
    Endpoint("GET", "/v2/accounts/fields"),
    Endpoint(
        "POST",
        "/v2/contacts",
        query=(Param("_upsert", values=("email",)),),
        fields=CONTACT,
        source=CONTACT_SOURCE,
    ),
    # the doc's contact examples filter by ``properties.email=".."`` / ``properties.phone``
    Endpoint(
        "GET",
        "/v2/contacts",
        query=(*PAGE, MODIFIED, Param("properties.email"), Param("properties.phone")),
    ),
    Endpoint("GET", "/v2/contacts/{id}"),
    Endpoint(
        "PUT",
        "/v2/contacts/{id}",
        fields=CONTACT,
        required=("id", "properties"),
        source=CONTACT_SOURCE,
    ),
    Endpoint("DELETE", "/v2/contacts/{id}"),
    Endpoint(
        "PUT",
        "/v2/events",
        fields=("subject", "body", "participantIds"),
        required=("subject", "body", "participantIds"),
        status=(204,),
        source="Events > Event Object, Create an Event (Payload Attributes)",
    ),
    Endpoint("GET", "/v2/users/{id}"),
)


def envelope(status: int, user_message: str, error_message: str = "") -> dict[str, object]:
    """The documented error object (Errors): ``errorMessage`` defaults to the reason."""
    return {
        "statusCode": status,
        "userMessage": user_message,
        "errorMessage": error_message or REASONS.get(status, "Error"),
    }


def _error(status: int, message: str) -> Answer:
    return Answer(status, envelope(status, REASONS[status], message))


def answer(v: Violation) -> Answer:
    """How SalesforceIQ answers a request outside the contract (module docstring)."""
    if v.kind == "path":
        return _error(404, f"{v.method} {v.path}")
    if v.kind == "method":
        return _error(405, f"{v.method} {v.path}")
    if v.kind == "value":
        return _error(400, v.rule)
    if v.kind == "required":
        return _error(400, f"{v.name} is required")
    return IGNORE  # an undocumented parameter or body attribute: ignored


CONTRACT = Contract(
    vendor="salesforceiq",
    endpoints=ENDPOINTS,
    answer=answer,
    optional_suffixes=("/",),
    notes=__doc__ or "",
)
