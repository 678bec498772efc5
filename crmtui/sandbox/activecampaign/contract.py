"""ActiveCampaign API v3 (deals) as a contract, from the seed
(``activecampaign-deals-api.txt``: every operation, its query parameters and status codes)
and, for the endpoints beside deals the app reads (users, contacts, accounts, notes), the
public v3 rules gathered in ``vendors/activecampaign.md`` §1-3.

Decisions where the documentation is silent, and why:

- ``limit`` and ``offset`` are taken by every collection (the general v3 rule; the seed
  lists ``limit`` only on ``/dealCustomFieldMeta``); ``orders[...]`` take ``ASC``/``DESC``.
- A query parameter that is not documented for the endpoint is **ignored**, as the v3 PHP
  API does with any query key it does not read (the seed declares no 400 for one); a
  documented one given a value outside its list (``orders[title]=up``) too.
- An undocumented path answers 404 ``{"message": "Not Found"}``; a documented path with
  an undocumented method 405 ``{"message": "Method Not Allowed"}`` (as the sandbox did).
- Body fields: the seed names each request schema (``DealNewDealCreationRequest``...) but
  not its fields, so the fields are the public v3 reference's, as gathered in
  ``vendors/activecampaign.md`` §5 and §7 (``source`` names the seed operation and the
  note's section). Each record sits under its singular name (``{"deal": {...}}``,
  ``{"dealTask": ...}``, ``{"dealCustomFieldMetum": ...}``, ``{"dealCustomFieldDatum":
  ...}``); a body without it is read as an empty record, so its required fields are
  missing. Required on create: a deal's ``title``, ``value``, ``currency``, ``contact``
  or ``account``, ``group`` or ``stage``; a task's ``relid``, ``duedate``,
  ``dealTasktype``; a secondary contact's ``contact`` and ``deal``; a pipeline's, a
  stage's, a task type's and a role's ``title`` (a stage's ``group`` too); a custom
  field's ``fieldLabel`` and ``fieldType``; a custom field value's ``dealId``,
  ``customFieldId`` and ``fieldValue``; a note's ``note``. Updates are partial (nothing
  required) except the moves (``stage``, ``dealTasktype``). Enums: a deal's ``status``
  0/1/2, a task's ``status`` 0/1 and ``ownerType`` deal/contact, a custom field's
  ``fieldType`` (the eleven public types).
- A body field outside the list is **ignored** (PHP reads the keys it knows; the public
  reference names no error for another); a missing required field or a value outside
  its enum is answered by the sandbox's own validation (``DEFER``), which lists every
  problem of the body at once in the v3 validation error ``{"errors": [{"title",
  "detail", "code": "field_missing"|"field_invalid", "source": {"pointer":
  "/data/attributes/<field>"}}]}``, 422 where the seed lists 422 and for deals and their
  notes (public v3), else 400 (the seed's only error code for stages, pipelines, tasks,
  task types and roles); ``tests/sandbox/test_body_contracts.py`` holds the sandbox to
  each required field declared here.
- ``Fitlers[due_before]`` on ``/dealTasks`` is spelt as the seed spells it (sic); the
  obvious ``filters[due_before]`` is accepted too (public clients send it).
- ``limit`` and ``offset`` are integers: another value, a ``limit`` below 1 or a negative
  ``offset`` is 400 ``{"message": "Bad Request"}`` (as any non-integer where v3 wants one);
  a ``limit`` above 100 is read as 100.
- ``GET /api/3/`` (the API root): AC's authentication page shows exactly this request
  (``curl -H "Api-Token: ..." https://<account>.api-us1.com/api/3/``) and clients send it
  as a connection check, so it is served: 200 ``{}`` with a known key, 403 ``{"message":
  "Forbidden"}`` without one, like any endpoint (the reference documents no body for it;
  the key's user is ``GET /users/me``).
- A deal's ``links`` are served as the public reference lists them (``/deals/{id}/tasks``,
  ``.../contact``, ``.../nextTask``...). A link to one record the deal does not have (an
  account-only deal's ``contact``, ``nextTask`` when no task is open) answers 200 with
  that record as ``null`` (``{"dealTask": null}``), as the deal's own field is null; an
  unknown deal is 404 ``{"message": "No Result found for Deal with id <id>"}``.
"""

from __future__ import annotations

from collections.abc import Mapping

from crmtui.sandbox.contract import DEFER, IGNORE, Answer, Contract, Endpoint, Param, Violation

ORDER = ("ASC", "DESC", "asc", "desc")
PAGE = (Param("limit"), Param("offset"))


def _list(path: str, *names: str, orders: tuple[str, ...] = (), status: int = 200) -> Endpoint:
    query = (
        *PAGE,
        *(Param(n) for n in names),
        *(Param(f"orders[{o}]", values=ORDER) for o in orders),
    )
    return Endpoint("GET", "/api/3" + path, query=query, status=(status, 400))


def _op(method: str, path: str, *status: int, query: tuple[Param, ...] = ()) -> Endpoint:
    return Endpoint(method, "/api/3" + path, query=query, status=status or (200,))


NOTES = "vendors/activecampaign.md"


def _write(
    method: str,
    path: str,
    *status: int,
    wrapper: str | None,
    fields: tuple[str, ...],
    required: tuple[str, ...] = (),
    any_of: tuple[tuple[str, ...], ...] = (),
    choices: Mapping[str, tuple[str, ...]] | None = None,
    query: tuple[Param, ...] = (),
    source: str = "",
) -> Endpoint:
    """A documented write and the body it takes."""
    return Endpoint(
        method,
        "/api/3" + path,
        query=query,
        fields=fields,
        required=required,
        any_of=any_of,
        choices=choices or {},
        wrapper=wrapper,
        status=status or (200,),
        source=f"seed: {method} {path}; {NOTES} {source}".rstrip(),
    )


DEAL = (
    "title",
    "description",
    "value",
    "currency",
    "group",
    "stage",
    "owner",
    "contact",
    "account",
    "percent",
    "status",
    "fields",
)
DEAL_CHOICES = {"status": ("0", "1", "2")}
TASK = (
    "title",
    "note",
    "duedate",
    "edate",
    "status",
    "dealTasktype",
    "assignee",
    "relid",
    "ownerType",
)
TASK_CHOICES = {"status": ("0", "1"), "ownerType": ("deal", "contact", "Deal", "Contact")}
PIPELINE = ("title", "currency", "allgroups", "allusers", "autoassign", "users", "groups")
STAGE = (
    "title",
    "group",
    "order",
    "color",
    "width",
    "dealOrder",
    "cardRegion1",
    "cardRegion2",
    "cardRegion3",
    "cardRegion4",
    "cardRegion5",
)
META = (
    "fieldLabel",
    "fieldType",
    "fieldOptions",
    "fieldDefault",
    "fieldDefaultCurrency",
    "isRequired",
    "isFormVisible",
    "displayOrder",
)
META_CHOICES = {
    "fieldType": (
        "text",
        "textarea",
        "date",
        "datetime",
        "dropdown",
        "multiselect",
        "radio",
        "checkbox",
        "currency",
        "number",
        "hidden",
    )
}
DATUM = ("dealId", "customFieldId", "fieldValue", "fieldCurrency")
REORDER = (Param("reorder"),)


DEAL_FILTERS = tuple(
    f"filters[{n}]"
    for n in (
        "search",
        "search_field",
        "title",
        "stage",
        "group",
        "status",
        "owner",
        "nextdate_range",
        "tag",
        "tasktype",
        "created_before",
        "created_after",
        "updated_before",
        "updated_after",
        "organization",
        "minimum_value",
        "maximum_value",
        "score_greater_than",
        "score_less_than",
        "score",
    )
)
TASK_FILTERS = (
    *(
        f"filters[{n}]"
        for n in (
            "title",
            "reltype",
            "relid",
            "status",
            "note",
            "duedate",
            "d_tasktypeid",
            "userid",
            "due_after",
            "due_before",
            "duedate_range",
            "assignee_userid",
            "outcome_id",
        )
    ),
    "Fitlers[due_before]",
)

ENDPOINTS: tuple[Endpoint, ...] = (
    # -- the seed, operation by operation
    _list("/contactDeals"),
    _write(
        "POST",
        "/contactDeals",
        200,
        422,
        wrapper="contactDeal",
        fields=("contact", "deal", "role"),
        required=("contact", "deal"),
        source="§5.5",
    ),
    _op("DELETE", "/contactDeals/{id}", 200, 404),
    _op("GET", "/contactDeals/{id}", 200, 404),
    _write(
        "PUT",
        "/contactDeals/{id}",
        200,
        404,
        422,
        wrapper="contactDeal",
        fields=("contact", "deal", "role"),
        source="§5.5",
    ),
    _list("/contacts/{id}/contactDeals"),
    _list("/contacts/{id}/deals"),
    _list("/dealActivities", "exclude", "deal", "filters[data_type]", "filters[data_id]"),
    _list("/deals/{id}/dealActivities", "exclude", "filters[data_type]", "filters[data_id]"),
    _list("/dealCustomFieldData", "filters[dealId]"),
    _write(
        "POST",
        "/dealCustomFieldData",
        200,
        422,
        wrapper="dealCustomFieldDatum",
        fields=DATUM,
        required=("dealId", "customFieldId", "fieldValue"),
        source="§5.5",
    ),
    # the items as a list, or under ``dealCustomFieldData``
    _write(
        "POST",
        "/dealCustomFieldData/bulkCreate",
        wrapper=None,
        fields=("dealCustomFieldData",),
        source="§5.5",
    ),
    _write(
        "PATCH",
        "/dealCustomFieldData/bulkUpdate",
        wrapper=None,
        fields=("dealCustomFieldData",),
        source="§5.5",
    ),
    _op("DELETE", "/dealCustomFieldData/{id}", 200, 404),
    _op("GET", "/dealCustomFieldData/{id}", 200, 404),
    _write(
        "PUT",
        "/dealCustomFieldData/{id}",
        200,
        404,
        422,
        wrapper="dealCustomFieldDatum",
        fields=("fieldValue", "fieldCurrency"),
        source="§5.5, §7",
    ),
    _list("/dealCustomFieldMeta"),
    _write(
        "POST",
        "/dealCustomFieldMeta",
        200,
        422,
        wrapper="dealCustomFieldMetum",
        fields=META,
        required=("fieldLabel", "fieldType"),
        choices=META_CHOICES,
        source="§5.5",
    ),
    _op("DELETE", "/dealCustomFieldMeta/{id}", 200, 404),
    _op("GET", "/dealCustomFieldMeta/{id}", 200, 404),
    _write(
        "PUT",
        "/dealCustomFieldMeta/{id}",
        200,
        404,
        wrapper="dealCustomFieldMetum",
        fields=META,
        choices=META_CHOICES,
        source="§5.5",
    ),
    _list("/dealGroups", "filters[title]", "filters[have_stages]", orders=("title", "popular")),
    _write(
        "POST",
        "/dealGroups",
        200,
        400,
        wrapper="dealGroup",
        fields=PIPELINE,
        required=("title",),
        source="§5.2",
    ),
    _op("DELETE", "/dealGroups/{id}", 200),
    _op("GET", "/dealGroups/{id}", 200, 400),
    _write(
        "PUT", "/dealGroups/{id}", 200, 400, wrapper="dealGroup", fields=PIPELINE, source="§5.2"
    ),
    _list("/dealRoles", "search"),
    _write(
        "POST",
        "/dealRoles",
        200,
        400,
        wrapper="dealRole",
        fields=("title",),
        required=("title",),
        source="§5.5",
    ),
    _op("DELETE", "/dealRoles/{id}", 200, 400),
    _list("/dealStages", "filters[title]", "filters[d_groupid]", orders=("title",)),
    _write(
        "POST",
        "/dealStages",
        200,
        400,
        wrapper="dealStage",
        fields=STAGE,
        required=("title", "group"),
        query=REORDER,
        source="§5.2",
    ),
    _op("DELETE", "/dealStages/{id}", 200),
    _op("GET", "/dealStages/{id}", 200, 400),
    _write(
        "PUT",
        "/dealStages/{id}",
        200,
        400,
        wrapper="dealStage",
        fields=STAGE,
        query=REORDER,
        source="§5.2",
    ),
    _write(
        "PUT",
        "/dealStages/{id}/deals",
        200,
        422,
        wrapper="deal",
        fields=("stage",),
        required=("stage",),
        source="§5.2",
    ),
    _list("/dealTasks", *TASK_FILTERS, status=201),
    _write(
        "POST",
        "/dealTasks",
        201,
        400,
        wrapper="dealTask",
        fields=(*TASK, "triggerAutomationOnCreate", "doneAutomation"),
        required=("relid", "duedate", "dealTasktype"),
        choices=TASK_CHOICES,
        source="§5.3, §7",
    ),
    _op("DELETE", "/dealTasks/{id}", 200, 400),
    _op("GET", "/dealTasks/{id}", 201, 400),
    _write(
        "PUT",
        "/dealTasks/{id}",
        201,
        400,
        wrapper="dealTask",
        fields=(*TASK, "outcomeId", "outcomeInfo"),
        choices=TASK_CHOICES,
        source="§5.3, §7",
    ),
    _list("/dealTasktypes"),
    _write(
        "POST",
        "/dealTasktypes",
        200,
        400,
        wrapper="dealTasktype",
        fields=("title", "status", "defduration"),
        required=("title",),
        choices={"status": ("0", "1")},
        source="§5.3",
    ),
    _op("DELETE", "/dealTasktypes/{id}", 403),
    _op("GET", "/dealTasktypes/{id}", 200, 400),
    _write(
        "PUT",
        "/dealTasktypes/{id}",
        200,
        400,
        wrapper="dealTasktype",
        fields=("title", "status", "defduration"),
        choices={"status": ("0", "1")},
        source="§5.3",
    ),
    _write(
        "PUT",
        "/dealTasktypes/{id}/dealTasks",
        200,
        400,
        wrapper="dealTask",
        fields=("dealTasktype",),
        required=("dealTasktype",),
        source="§5.3",
    ),
    _list(
        "/deals",
        *DEAL_FILTERS,
        orders=("title", "value", "cdate", "contact_name", "contact_orgname", "next-action"),
    ),
    _write(
        "POST",
        "/deals",
        201,
        400,
        wrapper="deal",
        fields=DEAL,
        required=("title", "value", "currency"),
        any_of=(("contact", "account"), ("group", "stage")),
        choices=DEAL_CHOICES,
        source="§5.1",
    ),
    _write(
        "PATCH",
        "/deals/bulkUpdate",
        200,
        422,
        wrapper=None,
        fields=("deals",),
        required=("deals",),
        source="§5.1",
    ),
    _op("DELETE", "/deals/{id}", 200, 400),
    _op("GET", "/deals/{id}", 200),
    _write(
        "PUT",
        "/deals/{id}",
        200,
        400,
        wrapper="deal",
        fields=DEAL,
        choices=DEAL_CHOICES,
        source="§5.1, §7",
    ),
    # -- public v3 (vendors/activecampaign.md), beside the deals seed
    # a deal's ``links`` (vendors/activecampaign.md §5 sample): each is a GET under it
    *(
        _list(f"/deals/{{id}}/{link}")
        for link in ("contactDeals", "notes", "tasks", "dealCustomFieldData")
    ),
    *(
        _op("GET", f"/deals/{{id}}/{link}", 200)
        for link in ("contact", "group", "owner", "stage", "nextTask")
    ),
    _write(
        "POST",
        "/deals/{id}/notes",
        201,
        wrapper="note",
        fields=("note",),
        required=("note",),
        source="§5.5",
    ),
    _write(
        "PUT",
        "/deals/{id}/notes/{note}",
        wrapper="note",
        fields=("note",),
        required=("note",),
        source="§5.5",
    ),
    _op("GET", "/notes/{id}", 200),
    _list("/users"),
    _op("GET", "/users/me", 200),
    _op("GET", "/users/{id}", 200),
    _list("/contacts", "email", "search", "filters[updated_after]", "id_greater", orders=("id",)),
    _op("GET", "/contacts/{id}", 200),
    _list("/accounts", "search", "filters[name]"),
    _op("GET", "/accounts/{id}", 200),
    _op("GET", "", 200),  # the API root, a connection check (see the notes above)
)

BY_KEY: dict[str, Endpoint] = {f"{e.method} {e.path}": e for e in ENDPOINTS}


def declared(key: str) -> Endpoint:
    """The endpoint ``"METHOD /path"`` (the path after ``/api/3``) as declared above."""
    method, _, path = key.partition(" ")
    return BY_KEY[f"{method} /api/3{path}"]


def answer(v: Violation) -> Answer:
    """How v3 answers a request outside the contract (see the module docstring)."""
    if v.kind == "path":
        return Answer(404, {"message": "Not Found"})
    if v.kind == "method":
        return Answer(405, {"message": "Method Not Allowed"})
    if v.kind == "required" or (v.kind == "value" and "[" not in v.name):
        # a missing required field or a body field's enum: the sandbox's own validation
        # answers, listing every problem of the body in one v3 error (as v3 does)
        return DEFER
    return IGNORE  # an undocumented parameter, order or body field: dropped


CONTRACT = Contract(
    vendor="activecampaign",
    endpoints=ENDPOINTS,
    answer=answer,
    optional_suffixes=("/",),
    notes=__doc__ or "",
)
