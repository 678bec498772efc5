"""How Salesloft lists: v2's query parameters for filters, views, search and sort; pages
by number, each charged its documented cost; ``metadata.paging.next_page``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from crmtui.fields import parse_datetime
from crmtui.http import Rejected
from crmtui.model import Kind, Query
from crmtui.vendors.keyset import PAGES, Keyset, Mark
from crmtui.vendors.mapping import Paging, dig
from crmtui.vendors.salesloft.resources import LABEL, RESOURCES, TASK_VIEWS


def page_cost(page: int) -> int:
    """Salesloft's documented cost of a request for ``page``."""
    for first, cost in ((501, 30), (251, 10), (151, 8), (101, 3)):
        if page >= first:
            return cost
    return 1


def next_page(value: Any) -> int | None:
    """``metadata.paging.next_page``: an integer, or (one sample) a URL with ``page=``."""
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value:
        if value.isdigit():
            return int(value)
        pages = parse_qs(urlsplit(value).query).get("page")
        return int(pages[0]) if pages and pages[0].isdigit() else None
    return None


# The deepest page read (100 records each): 100,000 records of a kind v2 cannot filter by
# update (tasks, users, steps). Past page 500 a request costs 30 of the 600 a minute.
LAST_PAGE = 1000


def page_after(page: int, count: int, value: Any) -> int | None:
    """The page to read after ``page`` (which held ``count`` records), as
    ``metadata.paging.next_page`` names it; None at the end, after an empty page, past
    ``LAST_PAGE``, and when the vendor names a page not after this one (a loop)."""
    more = next_page(value)
    if more is None or count == 0 or more <= page or more > LAST_PAGE:
        return None
    return more


class NextPage(Paging):
    """Config lists (users, stages...): ``?per_page=&page=``; the next page is the one
    ``metadata.paging.next_page`` names (see ``page_after``)."""

    def params(self, cursor: str | None, per_page: int) -> dict[str, Any]:
        return {"per_page": per_page, "page": int(cursor or 1)}

    def next_cursor(self, cursor: str | None, per_page: int, count: int, body: Any) -> str | None:
        more = page_after(int(cursor or 1), count, dig(body, "metadata.paging.next_page"))
        return None if more is None else str(more)


def list_params(kind: str, query: Query) -> list[tuple[str, Any]]:
    """v2 query parameters for the filters (neutral keys mapped), a task view and a search."""
    params: list[tuple[str, Any]] = []
    names = RESOURCES[kind].filters if kind in RESOURCES else {}
    for key, value in query.filters.items():
        param = names.get(key, key)
        if kind == Kind.TASK and key == "status":
            value = "scheduled" if value == "open" else value
        if kind == Kind.TASK and key == "type":
            value = "general" if value == "todo" else value
        params.append((param, value))
    if query.view and kind == Kind.TASK:
        if query.view not in TASK_VIEWS:
            raise Rejected(LABEL, f"unknown task view {query.view!r}")
        params += [("time_interval_filter", query.view), ("current_state[]", "scheduled")]
    if query.search:
        params += search_params(kind, query.search.strip())
    return params


def search_params(kind: str, text: str) -> list[tuple[str, Any]]:
    """v2 has no free text search: exact e-mail, domain or name, per kind."""
    if kind == Kind.CONTACT:
        return [("email_addresses[]", text)]
    if kind == Kind.COMPANY:
        if "." in text and " " not in text:
            return [("domain", text.lower())]
        return [("name[]", text)]
    if kind in (Kind.CADENCE,):
        return [("name[]", text)]
    if kind == Kind.USER:
        return [("search", text)]
    return []


def sort_params(kind: str, query: Query) -> list[tuple[str, Any]]:
    """``sort_by``/``sort_direction`` for the query's sort (the kind's default when none)."""
    if query.sort is None:
        default = RESOURCES[kind].default_sort if kind in RESOURCES else None
        return [("sort_by", default[0]), ("sort_direction", default[1])] if default else []
    sort_by = RESOURCES[kind].sorts.get(query.sort) if kind in RESOURCES else None
    if sort_by is None:
        raise Rejected(LABEL, f"cannot sort {kind} by {query.sort}")
    return [("sort_by", sort_by), ("sort_direction", "DESC" if query.descending else "ASC")]


# Incremental reads (``keyset``): ``sort_by=updated_at``, ``updated_at[gte]=<stamp>`` as the
# vendor wrote it, page numbers up to ``LAST_PAGE``; cursor ``"u:<stamp>|<page>|<ids>|<found>"``
# (a bare ``"u:<stamp>"`` is page 1 with none read).
UPDATED = Keyset(prefix="u:", field="updated_at", parse=parse_datetime, step=PAGES, last=LAST_PAGE)


def mark_params(mark: Mark, per_page: int) -> list[tuple[str, Any]]:
    """v2 query parameters for a page of an incremental read at ``mark``."""
    return [
        ("sort_by", "updated_at"),
        ("sort_direction", "ASC"),
        ("updated_at[gte]", mark.stamp),
        ("per_page", per_page),
        ("page", mark.position),
    ]
