"""SalesSeek API as a contract, from the seed (``salesseek-api.txt``: every "Request URL"
with its method and its "Request Query Parameters" table, and the JSON error body).

Decisions where the documentation is silent, and why:

- Paths answer with or without a trailing ``/`` (the seed writes both:
  ``POST /api/individuals/`` beside ``GET /api/individuals``).
- Lists take ``rows``, ``start`` and ``order_by`` (``"<field> asc|desc"``, free field
  names as the seed's examples use several) and, where the seed says so, ``search``.
  ``filter`` is documented on custom fields only (``filter=view=<type>``); record lists
  filter through saved filters (``/api/<type>/filters``).
- A query parameter the seed does not list for the endpoint is **ignored** (the seed
  declares no error for one).
- An undocumented path answers 404 ``{"detail": "Not found"}``, an undocumented method
  405 ``{"detail": "Method not allowed"}`` (the seed's JSON error body).
- ``GET /api/users`` (a list), ``/api/funnels`` and ``/api/phases`` are not in the seed
  (only ``/api/users/{id}`` is): answered as any undocumented path or method (404; 405
  for ``GET /api/users``, whose ``POST`` is documented). ``search`` on opportunities is
  not in the seed either: ignored as any undocumented parameter (the whole list comes
  back), as the real API would.
"""

from __future__ import annotations

from crmtui.sandbox.contract import IGNORE, Answer, Contract, Endpoint, Param, Violation

LIST = (Param("rows"), Param("start"), Param("order_by"))
SEARCH = Param("search")
ACTIVITY_QUERY = (
    *LIST,
    *(
        Param(name)
        for name in (
            "notes",
            "communications",
            "contact_updates",
            "deals",
            "campaign_emails",
            "automation_emails",
            "include_ind_related",
            "include_org_related",
            "include_deal_related",
            "item_type",
            "item_id",
        )
    ),
)


def _crud(kind: str, update: str, query: tuple[Param, ...]) -> tuple[Endpoint, ...]:
    api = f"/api/{kind}"
    return (
        Endpoint("GET", api, query=query),
        Endpoint("POST", api),
        Endpoint("GET", f"{api}/{{id}}"),
        Endpoint(update, f"{api}/{{id}}"),
        Endpoint("DELETE", f"{api}/{{id}}"),
    )


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("POST", "/api/login"),
    Endpoint("DELETE", "/api/logout"),
    Endpoint("POST", "/api/forgotten"),
    Endpoint("POST", "/api/reset"),
    *_crud("organizations", "PATCH", (*LIST, SEARCH)),
    *_crud("individuals", "POST", (*LIST, SEARCH)),  # the seed updates individuals by POST
    *_crud("opportunities", "PATCH", LIST),
    *_crud("tasks", "PATCH", (*LIST, SEARCH)),
    Endpoint("GET", "/api/{record_type}/filters/{id}"),
    Endpoint("POST", "/api/{record_type}/filters"),
    *_crud("groups", "PATCH", (*LIST, Param("element_type"))),
    Endpoint("PUT", "/api/groups/{id}/items/{record_id}"),
    Endpoint(
        "GET",
        "/api/group_pages",
        query=(Param("item_type"), Param("group_id"), Param("columns"), *LIST),
    ),
    # a campaign is created, test-sent (``?test=<email>``) and sent (``?send``) by POST
    *(
        e
        if (e.method, e.path) != ("POST", "/api/campaigns")
        else Endpoint("POST", e.path, query=(Param("test"), Param("send")))
        for e in _crud("campaigns", "PATCH", (*LIST, Param("status")))
    ),
    *_crud("activities", "PATCH", ACTIVITY_QUERY),
    *_crud("tags", "PATCH", LIST),
    *_crud("custom_fields", "POST", (*LIST, Param("filter"))),
    Endpoint("GET", "/api/users/{id}"),
    Endpoint("POST", "/api/users"),
    Endpoint("PATCH", "/api/users/{id}"),
    Endpoint("DELETE", "/api/users/{id}"),
)


def answer(v: Violation) -> Answer:
    """How SalesSeek answers a request outside the contract (module docstring)."""
    if v.kind == "path":
        return Answer(404, {"detail": "Not found"})
    if v.kind == "method":
        return Answer(405, {"detail": "Method not allowed"})
    return IGNORE


CONTRACT = Contract(
    vendor="salesseek",
    endpoints=ENDPOINTS,
    answer=answer,
    optional_suffixes=("/",),
    notes=__doc__ or "",
)
