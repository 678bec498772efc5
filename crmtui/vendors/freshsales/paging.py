"""How Freshsales lists: through views (filters), page numbers and its documented sorts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crmtui.model import Kind, Query
from crmtui.vendors.freshsales.resources import FsResource
from crmtui.vendors.mapping import Json


def default_view(resource: FsResource, filters: list[Json]) -> Json | None:
    """The view a list uses when none is asked for: the filter named "All <label>", else
    any "All ..." one, else (deals have no such filter) "Recent Deals", else the first."""

    def named(test: Callable[[str], bool]) -> Json | None:
        return next((f for f in filters if test(str(f.get("name", "")).lower())), None)

    return (
        named(lambda n: n == f"all {resource.label.lower()}")
        or named(lambda n: n.startswith("all "))
        or named(lambda n: n == "recent deals")
        or (filters[0] if filters else None)
    )


def list_params(resource: FsResource, query: Query) -> dict[str, Any]:
    """A list's query besides its path: page, embeds, the task filter and the sort."""
    params: dict[str, Any] = resource.paging.params(query.cursor, query.per_page)
    if resource.kind == Kind.TASK:
        params["filter"] = query.view or query.filters.get("filter") or "open"
        params["include"] = "owner,targetable"
    else:
        params["include"] = "owner"
    return params | sort_params(resource, query)


def sort_params(resource: FsResource, query: Query) -> dict[str, str]:
    """Only the sorts the doc lists per kind; any other sort key keeps the view's order.
    ``updated_since`` sorts by ``updated_at`` newest first (paging stops at older ones)."""
    if query.updated_since is not None:
        return {"sort": "updated_at", "sort_type": "desc"} if resource.sorts else {}
    sort = resource.sorts.get(query.sort or "")
    if sort is None:
        return {}
    return {"sort": sort, "sort_type": "desc" if query.descending else "asc"}
