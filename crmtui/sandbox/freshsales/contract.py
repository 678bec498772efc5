"""Freshsales (classic ``*.freshsales.io/api/``) as a contract, from the seed
(``freshsales-api.txt``): every operation it documents with a method and a path, the
query parameters its text names, and the documented error body.

Decisions where the documentation is silent, and why:

- Views (``/api/<kind>/view/<id>``) take ``page``, ``per_page`` (the sample's
  ``meta.total_pages``; the same paging as ``/api/sales_activities?per_page=&page=``),
  ``sort`` (the kind's documented sort fields), ``sort_type`` (``asc``/``desc``) and
  ``include``; the Scroll API (``/api/<kind>/scroll/<id>``), the documented route to all
  records in id order, takes ``limit`` and ``last_fetched_id``.
- Task and appointment lists require ``filter`` (one of the documented values); with
  another, the answer is the documented 400 validation error (as is a ``sort`` key the
  kind does not document). They, like ``/api/sales_activities``, take ``page`` and
  ``per_page``: the seed shows that paging on sales activities and views, and the task
  and appointment samples carry the same ``meta.total``.
- ``/api/<kind>/<id>/activities`` is documented for leads and contacts only (sample
  ``.json`` form too), with ``include`` and ``limit``.
- A query parameter the seed does not name for the endpoint is **ignored** (a Rails API;
  the seed's error table has no code for it).
- An undocumented path or method answers the documented 404
  ``{"errors": {"code": 404, "message": ...}}`` ("an invalid URL itself").
- Record bodies sit under the kind's singular name (``{"lead": {...}}``); their fields
  include any ``cf_*`` custom field, so only the wrapper is part of the contract here.
- Freshworks bundle accounts answer the same API under ``/crm/sales/api/``.
"""

from __future__ import annotations

from crmtui.sandbox.contract import IGNORE, Answer, Contract, Endpoint, Param, Violation

KINDS = {"leads": "lead", "contacts": "contact", "sales_accounts": "sales_account", "deals": "deal"}
SORTS = {
    "leads": ("lead_score", "created_at", "updated_at", "lead_stage", "last_contacted"),
    "contacts": ("lead_score", "created_at", "updated_at", "open_deals_amount", "last_contacted"),
    "sales_accounts": ("open_deals_amount", "created_at", "updated_at", "last_contacted"),
    "deals": ("amount", "expected_close", "created_at", "updated_at", "last_contacted"),
}
SELECTORS = (
    "owners",
    "territories",
    "deal_stages",
    "currencies",
    "deal_reasons",
    "deal_types",
    "lead_sources",
    "industry_types",
    "business_types",
    "campaigns",
    "deal_payment_statuses",
    "deal_products",
    "deal_pipelines",
    "contact_statuses",
    "sales_activity_types",
    "sales_activity_outcomes",
    "sales_activity_entity_types",
    "designations",
)
# the seed's words ("open, due today, due tomorrow, overdue and completed"; appointments
# "open/overdue/complete", its example "past and upcoming"); ``_`` for the space as well
TASK_FILTERS = (
    "open",
    "due today",
    "due_today",
    "due tomorrow",
    "due_tomorrow",
    "overdue",
    "completed",
)
APPOINTMENT_FILTERS = ("open", "overdue", "complete", "past", "upcoming")
INCLUDE = Param("include")
PAGE = (Param("page"), Param("per_page"))


def _kind(kind: str) -> tuple[Endpoint, ...]:
    one, api = KINDS[kind], f"/api/{kind}"
    sorts = Param("sort", values=SORTS[kind])
    order = Param("sort_type", values=("asc", "desc"))
    view = (Param("page"), Param("per_page"), sorts, order, INCLUDE)
    endpoints = [
        Endpoint("POST", api, wrapper=one, fields=None),
        Endpoint("GET", f"{api}/{{id}}", query=(INCLUDE,)),
        Endpoint("PUT", f"{api}/{{id}}", wrapper=one),
        Endpoint("DELETE", f"{api}/{{id}}", query=(Param("delete_associated_contacts_deals"),)),
        Endpoint("DELETE", f"{api}/{{id}}/forget"),
        Endpoint("GET", f"{api}/filters"),
        Endpoint("GET", f"{api}/view/{{view_id}}", query=view),
        Endpoint(
            "GET",
            f"{api}/scroll/{{view_id}}",
            query=(Param("limit"), Param("last_fetched_id"), INCLUDE),
        ),
        Endpoint("POST", f"{api}/{{id}}/manage_team_members"),
        Endpoint("POST", f"{api}/upsert"),
        Endpoint("POST", f"{api}/bulk_upsert"),
        Endpoint("POST", f"{api}/{{id}}/clone"),
        Endpoint("POST", f"{api}/bulk_destroy"),
        Endpoint("GET", f"/api/settings/{kind}/fields", query=(INCLUDE,)),
    ]
    if kind in ("leads", "contacts", "sales_accounts"):
        endpoints.append(Endpoint("POST", f"{api}/bulk_assign_owner"))
    if kind in ("leads", "contacts"):
        feed = (INCLUDE, Param("limit"), Param("page"))
        endpoints.append(Endpoint("GET", f"{api}/{{id}}/activities", query=feed))
        endpoints.append(Endpoint("GET", f"{api}/{{id}}/activities.json", query=feed))
    if kind == "leads":
        endpoints.append(Endpoint("POST", "/api/leads/{id}/convert"))
        endpoints.append(Endpoint("GET", "/api/leads/{id}/document_associations"))
    return tuple(endpoints)


def _item(kind: str, wrapper: str, list_query: tuple[Param, ...] | None) -> tuple[Endpoint, ...]:
    api = f"/api/{kind}"
    return (
        Endpoint("GET", api, query=list_query),
        Endpoint("POST", api, wrapper=wrapper),
        Endpoint("GET", f"{api}/{{id}}", query=(INCLUDE,)),
        Endpoint("PUT", f"{api}/{{id}}", wrapper=wrapper),
        Endpoint("DELETE", f"{api}/{{id}}"),
    )


ENDPOINTS: tuple[Endpoint, ...] = (
    *(e for kind in KINDS for e in _kind(kind)),
    *(Endpoint("GET", f"/api/selector/{name}") for name in SELECTORS),
    Endpoint("GET", "/api/selector/deal_pipelines/{id}/deal_stages"),
    Endpoint("GET", "/api/selector/sales_activity_types/{id}/sales_activity_outcomes"),
    *_item("tasks", "task", (Param("filter", values=TASK_FILTERS), INCLUDE, *PAGE)),
    *_item(
        "appointments",
        "appointment",
        (Param("filter", values=APPOINTMENT_FILTERS), INCLUDE, *PAGE),
    ),
    *_item("sales_activities", "sales_activity", PAGE),
    Endpoint("POST", "/api/notes", wrapper="note"),
    Endpoint("PUT", "/api/notes/{id}", wrapper="note"),
    Endpoint("DELETE", "/api/notes/{id}"),
    Endpoint("POST", "/api/phone_calls"),
    Endpoint("POST", "/api/documents"),
    Endpoint("GET", "/api/job_statuses/{id}"),
    # CPQ (documented; not used by crmtui): paths known so they are not "unknown"
    *(
        Endpoint(method, f"/api/cpq/{kind}{tail}")
        for kind in ("products", "cpq_documents")
        for method, tail in (
            ("POST", ""),
            ("GET", "/{id}"),
            ("PUT", "/{id}"),
            ("DELETE", "/{id}"),
            ("PUT", "/{id}/restore"),
            ("PUT", f"/{kind}_bulk_update"),
            ("POST", f"/{kind}_bulk_assign"),
            ("POST", f"/{kind}_bulk_delete"),
            ("POST", f"/{kind}_bulk_restore"),
        )
    ),
    Endpoint("DELETE", "/api/cpq/cpq_documents/{id}/forget"),
)


def answer(v: Violation) -> Answer:
    """How Freshsales answers a request outside the contract (module docstring)."""
    if v.kind in ("path", "method"):
        return Answer(
            404, {"errors": {"code": 404, "message": "The requested resource was not found"}}
        )
    if v.kind == "value":  # an undocumented sort key or task filter: a validation error
        return Answer(400, {"errors": {"code": 400, "message": v.rule}})
    if v.kind == "field":
        return Answer(400, {"errors": {"code": 400, "message": v.rule}})
    return IGNORE


CONTRACT = Contract(
    vendor="freshsales",
    endpoints=ENDPOINTS,
    answer=answer,
    mounts=("/crm/sales",),
    notes=__doc__ or "",
)
