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
- Record bodies sit under the kind's singular name (``{"lead": {...}}``, a body without
  it is the documented 400). Their fields are each kind's ATTRIBUTE table less what the
  server keeps (``id``, ``created_at``, ``updated_at``, ``creater_id``), plus what the
  section's samples send (``custom_field``, one hash of any ``cf_*`` keys; a contact's
  ``sales_accounts`` and ``sales_account``, a deal's ``sales_account`` and
  ``contacts_added_list``, an account's ``parent_sales_account``). ``source`` names the
  section. A field outside the list is **ignored** (a Rails API drops parameters it does
  not permit; the error table has no code for one).
- Required on create: what the tables star (an account's ``name``, a deal's ``name`` and
  ``amount``, a task's ``title``, ``due_date``, ``targetable_id``, ``targetable_type``,
  ``owner_id``, an appointment's ``title``, ``from_date``, ``end_date``, a sales
  activity's seven starred fields, a note's three); for leads and contacts the stars
  were lost in the seed's table, the footnote stands: "Either Email/Mobile/Twitter ID is
  required" (``any_of``), and ``last_name`` (the sandbox's "Last name can't be blank",
  as the lead convert requires it). A deal needs an account: "This field is mandatory.
  Either you must send ID of an existing account or add a new account on the fly"
  (``sales_account_id`` or ``sales_account``). A lead convert requires ``last_name`` and
  ``company`` ("It is mandatory to send last_name and company[name]"); a manual call log
  ``call_direction``. Updates require nothing. A missing one is the documented 400
  ``{"errors": {"code": 400, "message": "<field> can't be blank"}}``.
- Enums: ``targetable_type`` "Lead", "Contact", "SalesAccount" or "Deal" (the tables'
  "Possible values"); a task's ``status`` 0 (Open) or 1 (Completed); a call's
  ``call_direction`` true (incoming) or false (outgoing). Another value is the 400.
- Freshworks bundle accounts answer the same API under ``/crm/sales/api/``.
- Every documented list parameter is applied, but those in ``IGNORED`` (each with its
  reason; none now); ``tests/sandbox/test_params_applied.py`` holds this. A deal's
  ``sort=last_contacted`` (a documented key; the seed's deal bodies carry no such field)
  orders by when one of the deal's contacts was last contacted. A document's
  ``products`` come with ``include=products`` only (its one documented handle). Every
  ``include`` handle the seed's "Embed Handle" tables document embeds what it names.
- CPQ deal products (the CPQ section's "Add/Edit/Delete Products of the Deal", ``PUT
  /api/deals/[id]?include=products`` with ``{"deal": {"products": [...]}}``): an update
  field only (the Deals ATTRIBUTE table and create do not list it; on a create it is
  ignored). The list replaces the deal's line items ("If we pass only one product ... it
  will remove other existing products"; ``[]`` removes all). ``include=products`` (on
  the update and on ``GET /api/deals/[id]``, views and scroll) embeds ``has_products``
  and ``products``, the line items as the samples show them (``_id`` is
  ``"<deal>-<product>"``); without it neither is shown. The rules are in
  ``extras.read_lines``.
- CPQ document products ("Add/Edit/Delete Products of the Document", ``PUT
  /api/cpq/cpq_documents/[id]?include=products``): the same line items, read by the same
  rules (``extras.read_lines``), priced in the document's ``currency_code`` (a field the
  create sample sends; one of the account's currencies, USD when not given); the
  document's ``amount`` is their total while it has any. A create takes them too (the
  contract lists ``products`` there; its answer shows them, as its sample shows
  ``"products": []``); a bulk update writes none. ``include=products`` embeds them on a
  view or an update (``item_id`` is ``"<document>-<product>"``, ``id`` the product's);
  ``has_products`` is always shown, as every document sample shows it.
- CPQ product prices ("Add/Edit/Delete Prices of the Product"): ``pricing_type`` and
  ``product_pricings`` are written by ``PUT /api/cpq/products/[id]`` and, as Rails
  nested attributes are, by the create; ``include=product_pricings`` embeds the prices
  on a view or an update (the create's sample shows them always). The rules are in
  ``extras.read_pricings``.
"""

from __future__ import annotations

from crmtui.sandbox import contract as rules
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


PERSON = (
    "first_name",
    "last_name",
    "subscription_status",
    "job_title",
    "email",
    "emails",
    "work_number",
    "mobile_number",
    "address",
    "city",
    "state",
    "zipcode",
    "country",
    "lead_source_id",
    "owner_id",
    "medium",
    "campaign_id",
    "keyword",
    "time_zone",
    "facebook",
    "twitter",
    "linkedin",
    "territory_id",
    "custom_field",
)
FIELDS = {
    "leads": (*PERSON, "lead_stage_id", "lead_reason_id", "company", "deal"),
    "contacts": (
        *PERSON,
        "sales_accounts",
        "sales_account",
        "sales_account_id",
        "contact_status_id",
    ),
    "sales_accounts": (
        "name",
        "address",
        "city",
        "state",
        "zipcode",
        "country",
        "industry_type_id",
        "business_type_id",
        "number_of_employees",
        "annual_revenue",
        "website",
        "phone",
        "owner_id",
        "facebook",
        "twitter",
        "linkedin",
        "territory_id",
        "parent_sales_account_id",
        "parent_sales_account",
        "custom_field",
    ),
    "deals": (
        "name",
        "amount",
        "currency_id",
        "base_currency_amount",
        "sales_account_id",
        "sales_account",
        "contacts_added_list",
        "deal_stage_id",
        "deal_reason_id",
        "deal_type_id",
        "owner_id",
        "expected_close",
        "closed_date",
        "lead_source_id",
        "campaign_id",
        "deal_product_id",
        "deal_payment_status_id",
        "probability",
        "territory_id",
        "deal_pipeline_id",
        "custom_field",
    ),
}
# written by an update only: a deal's CPQ line items (the CPQ section documents them on
# ``PUT /api/deals/[id]?include=products``; the Deals ATTRIBUTE table and create do not)
UPDATE_ONLY = {"deals": ("products",)}
REACHABLE = ("email", "emails", "mobile_number", "twitter")  # "Either Email/Mobile/Twitter"
CREATE: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = {
    "leads": (("last_name",), (REACHABLE,)),
    "contacts": (("last_name",), (REACHABLE,)),
    "sales_accounts": (("name",), ()),
    "deals": (("name", "amount"), (("sales_account_id", "sales_account"),)),
}
SECTIONS = {
    "leads": "Leads",
    "contacts": "Contacts",
    "sales_accounts": "Accounts",
    "deals": "Deals",
}
TARGETABLE = {"targetable_type": ("Lead", "Contact", "SalesAccount", "Deal")}
TARGET = ("targetable_id", "targetable_type")


ACCOUNTS = "sales_accounts"
ASSOCIATED = (Param("delete_associated_contacts_deals"),)  # "true" deletes them


def _kind(kind: str) -> tuple[Endpoint, ...]:
    one, api = KINDS[kind], f"/api/{kind}"
    sorts = Param("sort", values=SORTS[kind])
    order = Param("sort_type", values=("asc", "desc"))
    view = (Param("page"), Param("per_page"), sorts, order, INCLUDE)
    section = f"{SECTIONS[kind]} > ATTRIBUTE table"
    required, any_of = CREATE[kind]
    endpoints = [
        Endpoint(
            "POST",
            api,
            wrapper=one,
            fields=FIELDS[kind],
            required=required,
            any_of=any_of,
            source=section,
        ),
        Endpoint("GET", f"{api}/{{id}}", query=(INCLUDE,)),
        Endpoint(
            "PUT",
            f"{api}/{{id}}",
            # a deal's ``products`` and ``?include=products``: CPQ's "Add Products to the Deal"
            query=(INCLUDE,) if kind == "deals" else (),
            wrapper=one,
            fields=(*FIELDS[kind], *UPDATE_ONLY.get(kind, ())),
            source=section + (", CPQ > Add Products to the Deal" if kind == "deals" else ""),
        ),
        # an account's contacts and open deals go with it on request (documented for
        # accounts only; on another kind the parameter is undocumented, so ignored)
        Endpoint("DELETE", f"{api}/{{id}}", query=(*ASSOCIATED,) if kind == ACCOUNTS else ()),
        Endpoint("DELETE", f"{api}/{{id}}/forget"),
        Endpoint("GET", f"{api}/filters"),
        Endpoint("GET", f"{api}/view/{{view_id}}", query=view),
        Endpoint(
            "GET",
            f"{api}/scroll/{{view_id}}",
            query=(Param("limit"), Param("last_fetched_id"), INCLUDE),
        ),
        Endpoint(
            "POST",
            f"{api}/{{id}}/manage_team_members",
            fields=("team_users",),
            required=("team_users",),
            source=f"{SECTIONS[kind]} > Update Team",
        ),
        # the record's hash is checked as a create's would be, by the sandbox
        Endpoint(
            "POST",
            f"{api}/upsert",
            fields=("unique_identifier", one),
            required=("unique_identifier", one),
            status=(200, 201),
            source=f"{SECTIONS[kind]} > Upsert",
        ),
        Endpoint(
            "POST",
            f"{api}/bulk_upsert",
            fields=(kind,),
            required=(kind,),
            source=f"{SECTIONS[kind]} > Bulk Upsert",
        ),
        # an empty body copies the record; ``{"<one>": {...}}`` sets fields of the copy
        Endpoint("POST", f"{api}/{{id}}/clone", fields=(one,), source=f"{SECTIONS[kind]} > Clone"),
        Endpoint(
            "POST",
            f"{api}/bulk_destroy",
            fields=("selected_ids", *(p.name for p in ASSOCIATED if kind == ACCOUNTS)),
            required=("selected_ids",),
            source=f"{SECTIONS[kind]} > Bulk Delete",
        ),
        Endpoint("GET", f"/api/settings/{kind}/fields", query=(INCLUDE,)),
    ]
    if kind in ("leads", "contacts", "sales_accounts"):
        endpoints.append(
            Endpoint(
                "POST",
                f"{api}/bulk_assign_owner",
                fields=("selected_ids", "owner_id"),
                required=("selected_ids", "owner_id"),
                source=f"{SECTIONS[kind]} > Bulk assign Owner",
            )
        )
    if kind in ("leads", "contacts"):
        feed = (INCLUDE, Param("limit"), Param("page"))
        endpoints.append(Endpoint("GET", f"{api}/{{id}}/activities", query=feed))
        endpoints.append(Endpoint("GET", f"{api}/{{id}}/activities.json", query=feed))
    if kind == "leads":
        endpoints.append(
            Endpoint(
                "POST",
                "/api/leads/{id}/convert",
                wrapper="lead",
                fields=FIELDS["leads"],
                required=("last_name", "company"),
                source="Leads > Convert a Lead",
            )
        )
        endpoints.append(Endpoint("GET", "/api/leads/{id}/document_associations"))
    return tuple(endpoints)


def _item(
    kind: str,
    wrapper: str,
    list_query: tuple[Param, ...] | None,
    fields: tuple[str, ...],
    required: tuple[str, ...],
    source: str,
    choices: dict[str, tuple[str, ...]] | None = None,
) -> tuple[Endpoint, ...]:
    api = f"/api/{kind}"
    rules = {**TARGETABLE, **(choices or {})}
    return (
        Endpoint("GET", api, query=list_query),
        Endpoint(
            "POST",
            api,
            wrapper=wrapper,
            fields=fields,
            required=required,
            choices=rules,
            source=source,
        ),
        Endpoint("GET", f"{api}/{{id}}", query=(INCLUDE,)),
        Endpoint(
            "PUT", f"{api}/{{id}}", wrapper=wrapper, fields=fields, choices=rules, source=source
        ),
        Endpoint("DELETE", f"{api}/{{id}}"),
    )


ADDRESS = ("address", "city", "state", "zipcode", "country")
PRODUCT = (
    "name",
    "description",
    "category",
    "is_active",
    "product_code",
    "sku_number",
    "owner_id",
    "valid_till",
    "parent_product",
    "custom_field",
    # "Add Prices to the Product" (nested prices: ``id`` edits one, ``_destroy`` removes it)
    "pricing_type",
    "product_pricings",
)
CPQ_DOCUMENT = (
    "display_name",
    "document_type",
    "cpq_document_template_name",
    "deal_id",
    "sales_account_id",
    "contact_id",
    "amount",
    "stage",
    "valid_till",
    *(f"{side}_{part}" for side in ("shipping", "billing") for part in ADDRESS),
    "owner_id",
    "territory_id",
    "custom_field",
    # the create sample's (the table lists none): the currency the products are priced in
    "currency_code",
)


def _cpq(
    kind: str, one: str, fields: tuple[str, ...], required: tuple[str, ...], section: str
) -> tuple[Endpoint, ...]:
    """A CPQ kind's routes and bodies (its ATTRIBUTE table; bulk bodies as documented)."""
    api, table = f"/api/cpq/{kind}", f"{section} > ATTRIBUTE table"
    selected = ("selected_ids",)
    return (
        Endpoint("POST", api, wrapper=one, fields=fields, required=required, source=table),
        Endpoint("GET", f"{api}/{{id}}", query=(INCLUDE,)),
        # ``?include=product_pricings`` / ``?include=products``, as the samples write them
        Endpoint(
            "PUT", f"{api}/{{id}}", query=(INCLUDE,), wrapper=one, fields=fields, source=table
        ),
        Endpoint("DELETE", f"{api}/{{id}}"),
        Endpoint("PUT", f"{api}/{{id}}/restore", fields=(), source=f"{section} > Restore"),
        Endpoint(
            "PUT",
            f"{api}/{kind}_bulk_update",
            fields=("ids", one),
            required=("ids", one),
            source=f"{section} > Bulk-update",
        ),
        Endpoint(
            "POST",
            f"{api}/{kind}_bulk_assign",
            fields=(*selected, "owner_id"),
            required=(*selected, "owner_id"),
            source=f"{section} > Bulk-assign Owner",
        ),
        *(
            Endpoint(
                "POST",
                f"{api}/{kind}_bulk_{verb}",
                fields=selected,
                required=selected,
                source=f"{section} > Bulk-{verb}",
            )
            for verb in ("delete", "restore")
        ),
    )


TASK = (
    "title",
    "description",
    "due_date",
    *TARGET,
    "owner_id",
    "status",
    "outcome_id",
    "task_type_id",
)
APPOINTMENT = (
    "from_date",
    "end_date",
    "time_zone",
    "title",
    "description",
    *TARGET,
    "location",
    "is_allday",
    "appointment_attendees_attributes",
    "outcome_id",
    "latitude",
    "longitude",
    "checkedin_at",
)
SALES_ACTIVITY = (
    "title",
    "sales_activity_type_id",
    "sales_activity_outcome_id",
    "start_date",
    "end_date",
    "notes",
    "owner_id",
    *TARGET,
    "location",
    "latitude",
    "longitude",
    "checkedin_at",
    "custom_field",
)
NOTE = ("description", *TARGET)
# the Phone table's attributes and the Manual Call Log samples' keys
PHONE_CALL = (
    "call_direction",
    "targetable_type",
    "targetable",
    "note",
    "outcome_id",
    "work_number",
    "mobile_number",
    "first_name",
    "last_name",
)


ENDPOINTS: tuple[Endpoint, ...] = (
    *(e for kind in KINDS for e in _kind(kind)),
    *(Endpoint("GET", f"/api/selector/{name}") for name in SELECTORS),
    Endpoint("GET", "/api/selector/deal_pipelines/{id}/deal_stages"),
    Endpoint("GET", "/api/selector/sales_activity_types/{id}/sales_activity_outcomes"),
    *_item(
        "tasks",
        "task",
        (Param("filter", values=TASK_FILTERS), INCLUDE, *PAGE),
        TASK,
        ("title", "due_date", *TARGET, "owner_id"),
        "Tasks > ATTRIBUTE table",
        choices={"status": ("0", "1", "False", "True")},
    ),
    *_item(
        "appointments",
        "appointment",
        (Param("filter", values=APPOINTMENT_FILTERS), INCLUDE, *PAGE),
        APPOINTMENT,
        ("title", "from_date", "end_date"),
        "Appointments > Attribute table",
    ),
    *_item(
        "sales_activities",
        "sales_activity",
        PAGE,
        SALES_ACTIVITY,
        ("title", "sales_activity_type_id", "start_date", "end_date", "owner_id", *TARGET),
        "Sales Activities > Attribute table",
    ),
    Endpoint(
        "POST",
        "/api/notes",
        wrapper="note",
        fields=NOTE,
        required=("description", *TARGET),
        choices=TARGETABLE,
        source="Notes > Attribute table",
    ),
    Endpoint(
        "PUT",
        "/api/notes/{id}",
        wrapper="note",
        fields=NOTE,
        choices=TARGETABLE,
        source="Notes > Attribute table",
    ),
    Endpoint("DELETE", "/api/notes/{id}"),
    # the samples write ``targetable_type`` in lower case ("lead"): not checked here
    Endpoint(
        "POST",
        "/api/phone_calls",
        wrapper="phone_call",
        fields=PHONE_CALL,
        required=("call_direction",),
        choices={"call_direction": ("True", "False", "true", "false")},
        source="Phone > Manual Call Log",
    ),
    # multipart/form-data (Files > Create a File): the fields are declared; the checker
    # reads JSON and url-encoded bodies only, so the sandbox checks a multipart one
    Endpoint(
        "POST",
        "/api/documents",
        fields=("file", "file_name", "is_shared", *TARGET),
        required=("file", *TARGET),
        choices={"targetable_type": (*TARGETABLE["targetable_type"], "Product")},
        source="Files > ATTRIBUTE table, Create a File",
    ),
    Endpoint("GET", "/api/job_statuses/{id}"),
    # CPQ (documented; not used by crmtui)
    *_cpq("products", "product", PRODUCT, ("name",), "Products"),
    *_cpq(
        "cpq_documents",
        "cpq_document",
        (*CPQ_DOCUMENT, "products"),
        ("display_name", "document_type", "cpq_document_template_name", "deal_id", "contact_id"),
        "Documents",
    ),
    Endpoint("DELETE", "/api/cpq/cpq_documents/{id}/forget"),
)

CREATES: dict[str, Endpoint] = {
    e.path.removeprefix("/api/"): e
    for e in ENDPOINTS
    if e.method == "POST" and e.wrapper and e.path.count("/") == 2
}
"""Each kind's create (``POST /api/<kind>``): the key its record sits under (``wrapper``),
its writable and its required fields; the sandbox reads them from here."""


def answer(v: Violation) -> Answer:
    """How Freshsales answers a request outside the contract (module docstring)."""
    if v.kind in ("path", "method"):
        return Answer(
            404, {"errors": {"code": 404, "message": "The requested resource was not found"}}
        )
    if v.kind == "value":  # a sort key, task filter or body enum outside the documented
        return Answer(400, {"errors": {"code": 400, "message": v.rule}})
    if v.kind == "field" and v.name == _wrapper(v):  # the record is not under its name
        return Answer(400, {"errors": {"code": 400, "message": v.rule}})
    if v.kind == "required":
        message = f"{_humanized(v.name)} can't be blank"  # as Rails words it
        return Answer(400, {"errors": {"code": 400, "message": message}})
    return IGNORE  # an undocumented parameter or body field: dropped


def _humanized(name: str) -> str:
    """``last_name`` -> "Last name", ``sales_account_id`` -> "Sales account"."""
    return name.removesuffix("_id").replace("_", " ").capitalize()


def _wrapper(v: Violation) -> str | None:
    for endpoint in ENDPOINTS:
        if (endpoint.method, endpoint.path) == (v.method, v.endpoint):
            return endpoint.wrapper
    return None


# Documented parameters the sandbox takes and deliberately does not apply (the reason is
# each Param's note; ``tests/sandbox/test_params_applied.py`` holds every other one applied):
# none now (a product's ``include=product_pricings`` embeds its prices)
IGNORED: dict[tuple[str, str], str] = {}


CONTRACT = Contract(
    vendor="freshsales",
    endpoints=rules.ignoring(ENDPOINTS, IGNORED),
    answer=answer,
    mounts=("/crm/sales",),
    notes=__doc__ or "",
)
