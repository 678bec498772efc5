"""How Freshsales lists: through views (filters), page numbers and its documented sorts;
whole kinds through the Scroll API (``/api/<resource>/scroll/<view_id>``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
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


# -- the Scroll API (the doc's route for "all available records") ------------------------

# The service asks a full sync for the changes since 1970 (see crmtui.service.sync).
FULL_SYNC = datetime(1970, 1, 2, tzinfo=UTC)
# Decision: the doc names no largest ``limit`` for a scroll; the view API's 100 is kept.
SCROLL_LIMIT = 100
# Every deal stage is an Open, Won or Lost one (its forecast type), so these views hold
# every deal between them; the doc lists no "All Deals" view.
DEAL_PARTS = ("open deals", "won deals", "lost deals")
# Tasks have no scroll: the documented filters "open" and "completed" are every task.
TASK_PARTS = ("open", "completed")


def whole_views(resource: FsResource, filters: list[Json]) -> list[str]:
    """The view ids whose records together are every record of ``resource``: its "All
    <label>" view (any "All ..." one), else (deals) the Open, Won and Lost deals views,
    else the default view (all the account offers)."""
    names = {str(f.get("name", "")).lower(): str(f["id"]) for f in filters if "id" in f}
    whole = names.get(f"all {resource.label.lower()}") or next(
        (i for n, i in names.items() if n.startswith("all ")), None
    )
    if whole is not None:
        return [whole]
    if all(part in names for part in DEAL_PARTS):
        return [names[part] for part in DEAL_PARTS]
    chosen = default_view(resource, filters)
    return [str(chosen["id"])] if chosen is not None else []


def scroll_position(cursor: str | None, views: int) -> tuple[int, int]:
    """``(view index, last_fetched_id)`` of a scroll cursor (``"<index>:<id>"``); the start
    for none or for a cursor of another form (a sync resumed from a page number)."""
    head, sep, tail = (cursor or "").partition(":")
    if not sep or not head.isdigit() or not tail.isdigit() or int(head) >= views:
        return 0, 0
    return int(head), int(tail)


def scroll_params(per_page: int, after: int) -> dict[str, Any]:
    """``limit`` and, past the first page, ``last_fetched_id``; ``include=owner`` as for
    views (the owner's name comes side-loaded)."""
    params: dict[str, Any] = {"limit": max(1, min(per_page, SCROLL_LIMIT)), "include": "owner"}
    if after:
        params["last_fetched_id"] = after
    return params


def scroll_next(index: int, after: int, views: int, body: Json) -> str | None:
    """The cursor after a scroll page: on in this view while ``meta.has_next_page`` and
    ``meta.last_fetched_id`` moves forward (a repeated or backward id ends the view, so a
    scroll is bounded), then the next view from its start; None after the last."""
    meta = body.get("meta")
    meta = meta if isinstance(meta, dict) else {}
    last = meta.get("last_fetched_id")
    last_id = int(str(last)) if str(last).isdigit() else None
    if meta.get("has_next_page") is True and last_id is not None and last_id > after:
        return f"{index}:{last_id}"
    return f"{index + 1}:0" if index + 1 < views else None
