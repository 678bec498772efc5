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
- Body fields are not listed in the seed (only the request schema names), so bodies are
  not checked here beyond the documented routes.
- ``Fitlers[due_before]`` on ``/dealTasks`` is spelt as the seed spells it (sic); the
  obvious ``filters[due_before]`` is accepted too (public clients send it).
"""

from __future__ import annotations

from crmtui.sandbox.contract import IGNORE, Answer, Contract, Endpoint, Param, Violation

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
    _op("POST", "/contactDeals", 200, 422),
    _op("DELETE", "/contactDeals/{id}", 200, 404),
    _op("GET", "/contactDeals/{id}", 200, 404),
    _op("PUT", "/contactDeals/{id}", 200, 404, 422),
    _list("/contacts/{id}/contactDeals"),
    _list("/contacts/{id}/deals"),
    _list("/dealActivities", "exclude", "deal", "filters[data_type]", "filters[data_id]"),
    _list("/deals/{id}/dealActivities", "exclude", "filters[data_type]", "filters[data_id]"),
    _list("/dealCustomFieldData", "filters[dealId]"),
    _op("POST", "/dealCustomFieldData", 200, 422),
    _op("POST", "/dealCustomFieldData/bulkCreate", 200),
    _op("PATCH", "/dealCustomFieldData/bulkUpdate", 200),
    _op("DELETE", "/dealCustomFieldData/{id}", 200, 404),
    _op("GET", "/dealCustomFieldData/{id}", 200, 404),
    _op("PUT", "/dealCustomFieldData/{id}", 200, 404, 422),
    _list("/dealCustomFieldMeta"),
    _op("POST", "/dealCustomFieldMeta", 200, 422),
    _op("DELETE", "/dealCustomFieldMeta/{id}", 200, 404),
    _op("GET", "/dealCustomFieldMeta/{id}", 200, 404),
    _op("PUT", "/dealCustomFieldMeta/{id}", 200, 404),
    _list("/dealGroups", "filters[title]", "filters[have_stages]", orders=("title", "popular")),
    _op("POST", "/dealGroups", 200, 400),
    _op("DELETE", "/dealGroups/{id}", 200),
    _op("GET", "/dealGroups/{id}", 200, 400),
    _op("PUT", "/dealGroups/{id}", 200, 400),
    _list("/dealRoles", "search"),
    _op("POST", "/dealRoles", 200, 400),
    _op("DELETE", "/dealRoles/{id}", 200, 400),
    _list("/dealStages", "filters[title]", "filters[d_groupid]", orders=("title",)),
    _op("POST", "/dealStages", 200, 400, query=(Param("reorder"),)),
    _op("DELETE", "/dealStages/{id}", 200),
    _op("GET", "/dealStages/{id}", 200, 400),
    _op("PUT", "/dealStages/{id}", 200, 400, query=(Param("reorder"),)),
    _op("PUT", "/dealStages/{id}/deals", 200, 422),
    _list("/dealTasks", *TASK_FILTERS, status=201),
    _op("POST", "/dealTasks", 201, 400),
    _op("DELETE", "/dealTasks/{id}", 200, 400),
    _op("GET", "/dealTasks/{id}", 201, 400),
    _op("PUT", "/dealTasks/{id}", 201, 400),
    _list("/dealTasktypes"),
    _op("POST", "/dealTasktypes", 200, 400),
    _op("DELETE", "/dealTasktypes/{id}", 403),
    _op("GET", "/dealTasktypes/{id}", 200, 400),
    _op("PUT", "/dealTasktypes/{id}", 200, 400),
    _op("PUT", "/dealTasktypes/{id}/dealTasks", 200, 400),
    _list(
        "/deals",
        *DEAL_FILTERS,
        orders=("title", "value", "cdate", "contact_name", "contact_orgname", "next-action"),
    ),
    _op("POST", "/deals", 201, 400),
    _op("PATCH", "/deals/bulkUpdate", 200, 422),
    _op("DELETE", "/deals/{id}", 200, 400),
    _op("GET", "/deals/{id}", 200),
    _op("PUT", "/deals/{id}", 200, 400),
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
    _op("POST", "/deals/{id}/notes", 201),
    _op("PUT", "/deals/{id}/notes/{note}", 200),
    _op("GET", "/notes/{id}", 200),
    _list("/users"),
    _op("GET", "/users/me", 200),
    _op("GET", "/users/{id}", 200),
    _list("/contacts", "email", "search", "filters[updated_after]", "id_greater", orders=("id",)),
    _op("GET", "/contacts/{id}", 200),
    _list("/accounts", "search", "filters[name]"),
    _op("GET", "/accounts/{id}", 200),
)


def answer(v: Violation) -> Answer:
    """How v3 answers a request outside the contract (see the module docstring)."""
    if v.kind == "path":
        return Answer(404, {"message": "Not Found"})
    if v.kind == "method":
        return Answer(405, {"message": "Method Not Allowed"})
    return IGNORE


CONTRACT = Contract(
    vendor="activecampaign",
    endpoints=ENDPOINTS,
    answer=answer,
    optional_suffixes=("/",),
    notes=__doc__ or "",
)
