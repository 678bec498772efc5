"""ActiveCampaign's list queries: filters, sorts and views as ``filters[...]``/``orders[...]``.

- Deal filters: ``query.filters`` keys pipeline, stage, status, owner, company,
  min_value, max_value (whole dollars, as AC takes them), task_type -> ``filters[...]``;
  sorts title, amount, created_at, contact, company, next_task_due -> ``orders[...]``.
  ``updated_since`` -> ``filters[updated_after]`` (AC has no order by update time, so a
  sync dedupes by id).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crmtui.fields import iso
from crmtui.http import Rejected
from crmtui.model import FieldSpec, FieldType, Query
from crmtui.vendors.activecampaign.resources import STATUS_CODE

VENDOR = "ActiveCampaign"
DEAL_FILTERS = {
    "pipeline": "group",
    "stage": "stage",
    "status": "status",
    "owner": "owner",
    "company": "organization",
    "min_value": "minimum_value",
    "max_value": "maximum_value",
    "task_type": "tasktype",
}
DEAL_ORDERS = {
    "title": "title",
    "amount": "value",
    "created_at": "cdate",
    "contact": "contact_name",
    "company": "contact_orgname",
    "next_task_due": "next-action",
}
DEAL_VIEWS: dict[str, tuple[str, dict[str, str]]] = {
    "open": ("Open deals", {"filters[status]": "0"}),
    "won": ("Won", {"filters[status]": "1"}),
    "lost": ("Lost", {"filters[status]": "2"}),
    "overdue": ("Overdue tasks", {"filters[status]": "0", "filters[nextdate_range]": "overdue"}),
    "upcoming": ("Tasks this week", {"filters[nextdate_range]": "upcoming"}),
    "no-task": ("No next task", {"filters[status]": "0", "filters[nextdate_range]": "no-task"}),
}
DEAL_FILTER_SPECS = [
    FieldSpec(key="pipeline", label="Pipeline", type=FieldType.CHOICE),
    FieldSpec(key="stage", label="Stage", type=FieldType.CHOICE),
    FieldSpec(key="status", label="Status", type=FieldType.CHOICE),
    FieldSpec(key="owner", label="Owner", type=FieldType.USER),
    FieldSpec(key="min_value", label="Value from", type=FieldType.MONEY, min=0),
    FieldSpec(key="max_value", label="Value up to", type=FieldType.MONEY, min=0),
]
TASK_FILTERS = {"owner": "assignee_userid", "type": "d_tasktypeid", "status": "status"}
TASK_FILTER_SPECS = [
    FieldSpec(key="owner", label="Assignee", type=FieldType.USER),
    FieldSpec(key="type", label="Type", type=FieldType.CHOICE),
    FieldSpec(key="done", label="Done", type=FieldType.BOOL),
]
TASK_VIEWS: dict[str, tuple[str, dict[str, str]]] = {
    "open": ("Open", {"filters[status]": "0"}),
    "overdue": ("Overdue", {"filters[duedate_range]": "overdue"}),
    "upcoming": ("Due this week", {"filters[duedate_range]": "upcoming"}),
    "done": ("Done", {"filters[status]": "1"}),
}


def deal_params(query: Query) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if query.view:
        params.update(view(DEAL_VIEWS, query.view))
    if query.search:
        params["filters[search]"] = query.search
    for key, value in query.filters.items():
        if key not in DEAL_FILTERS:
            raise Rejected(VENDOR, f"deals cannot be filtered by {key}")
        if key == "status":
            value = STATUS_CODE.get(value, value)
        elif key in ("min_value", "max_value"):
            value = str(int(Decimal(str(value))))
        params[f"filters[{DEAL_FILTERS[key]}]"] = value
    if query.updated_since:
        params["filters[updated_after]"] = iso(query.updated_since)
    if query.sort:
        if query.sort not in DEAL_ORDERS:
            raise Rejected(VENDOR, f"deals cannot be sorted by {query.sort}")
        params[f"orders[{DEAL_ORDERS[query.sort]}]"] = "DESC" if query.descending else "ASC"
    return params


def task_params(query: Query) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if query.view:
        params.update(view(TASK_VIEWS, query.view))
    if query.search:
        params["filters[title]"] = query.search
    for key, value in query.filters.items():
        if key in ("deal", "contact"):
            params["filters[reltype]"] = "Deal" if key == "deal" else "Subscriber"
            params["filters[relid]"] = value
        elif key == "done":
            params["filters[status]"] = "1" if str(value).lower() in ("1", "true") else "0"
        elif key in TASK_FILTERS:
            params[f"filters[{TASK_FILTERS[key]}]"] = value
        else:
            raise Rejected(VENDOR, f"tasks cannot be filtered by {key}")
    return params


def view(views: dict[str, tuple[str, dict[str, str]]], view: str) -> dict[str, str]:
    if view not in views:
        raise Rejected(VENDOR, f"there is no view {view!r}")
    return views[view][1]
