"""SalesSeek's paging quirks: ``start``/``rows``, the total in a header, views on the client.

- Paging: ``start``/``rows`` (100 a page); the cursor is the next ``start`` and the last
  id read (``mapping.Anchor``: each page is asked from the row before, which must be that
  id, so a record deleted among those read skips none); the total is the
  ``Records-Total`` header. Sorting: ``order_by=<field> <asc|desc>``.
- Views and ``filters`` (mine, open/won/lost, done/overdue, field equality) are applied to
  each page on the client: SalesSeek has no list filters outside smart groups. Pages may
  then hold fewer rows than asked; the cursor still moves on by the server's page.
- Search: ``search`` where the seed documents it (``SEARCHABLE``); its answers are
  "reduced" (the seed), so their records are partial. Deals are searched by name on the
  client, page by page.
- Incremental sync (``updated_since``): there is no "modified since" parameter; the list
  is read ``order_by=modified desc`` and stops at the first record older than the mark.
- Group members (Group Pages API) come back as cells of the columns asked for.
"""

from __future__ import annotations

from typing import Any

import httpx

from crmtui import fields as fv
from crmtui.model import Query, Record, utcnow
from crmtui.vendors.mapping import Anchor
from crmtui.vendors.salesseek.resources import KIND_OF, SORTS, Row

SEARCHABLE = ("company", "contact", "task")
"""Kinds with the documented ``search`` parameter (organizations, individuals, tasks);
deals have none: a deal search filters each page by name on the client (``keep``)."""

MEMBER_COLUMNS = {
    "individuals": ["first_name", "last_name", "organization.name", "email", "phone"],
    "organizations": ["name", "website", "phone"],
    "opportunities": ["name", "organization.name", "phase_name", "value", "currency"],
}


def order(kind: str, query: Query) -> str | None:
    """``order_by`` for a query: its sort, or newest changes first for a sync."""
    if query.updated_since is not None:
        return "modified desc"
    if not query.sort:
        return None
    field = SORTS.get(kind, {}).get(query.sort, query.sort)
    return f"{field} {'desc' if query.descending else 'asc'}"


def list_params(kind: str, query: Query) -> dict[str, Any]:
    """The query of one page of a kind's list (``Anchor.window``: past the first page,
    from the last row read)."""
    start, rows = Anchor.read(query.cursor).window(query.per_page)
    params: dict[str, Any] = {"start": start, "rows": rows}
    sort = order(kind, query)
    if sort:
        params["order_by"] = sort
    if query.search and kind in SEARCHABLE:
        params["search"] = query.search
    if kind == "group" and query.view:
        params["element_type"] = query.view
    return params


def page_rows(
    response: httpx.Response, rows: list[Row], query: Query
) -> tuple[list[Row], int, str | None]:
    """The rows of a page to keep (a sync stops at the first older than its mark), the
    total and the next cursor (``Anchor``: the rows after the last one read, or when it
    is not where it was, all of them and a look back for it)."""
    anchor = Anchor.read(query.cursor)
    start, _ = anchor.window(query.per_page)
    total = int(response.headers.get("Records-Total", start + len(rows)))
    more = bool(rows) and start + len(rows) < total
    kept = anchor.kept(rows)
    if query.updated_since is not None:
        mark = query.updated_since
        fresh = [r for r in kept if (fv.parse_datetime(r.get("modified")) or mark) >= mark]
        more = more and len(fresh) == len(kept)
        kept = fresh
    return kept, total, anchor.next(rows, more, query.per_page)


def _before_now(value: Any) -> bool:
    due = fv.parse_datetime(value)
    return due is not None and due < utcnow()


def _in_view(kind: str, view: str, f: dict[str, Any], me: Any) -> bool:
    """Whether a record's fields are in a view (a view of another kind keeps all)."""
    match view:
        case "mine":
            return bool((f.get("assignee") if kind == "task" else f.get("owner")) == me)
        case "open":
            return not f.get("done") if kind == "task" else f.get("status") == "open"
        case "won" | "lost":
            return bool(f.get("status") == view)
        case "done":
            return bool(f.get("done"))
        case "leads":
            return bool(f.get("lead"))
        case "overdue":
            return not f.get("done") and _before_now(f.get("due_at"))
    return True


def keep(kind: str, record: Record, query: Query, me: Any) -> bool:
    """Whether a record of a page is in the query's view and filters (client-side)."""
    f = record.fields
    view = query.view if kind != "group" else None
    if view and not _in_view(kind, view, f, me):
        return False
    if kind == "deal" and query.search and query.search.lower() not in record.title.lower():
        return False
    return all(str(f.get(k)) == str(v) for k, v in query.filters.items())


def member_params(element: str, group_id: str, query: Query) -> dict[str, Any]:
    """The Group Pages query of one page of a group's members."""
    params: dict[str, Any] = {
        "item_type": element,
        "group_id": group_id,
        "start": int(query.cursor or 0),
        "rows": query.per_page,
        "columns": ",".join(MEMBER_COLUMNS[element]),
    }
    if query.sort:
        field = SORTS[KIND_OF[element]].get(query.sort, query.sort)
        params["order_by"] = f"{field} {'desc' if query.descending else 'asc'}"
    return params


def member_next(
    response: httpx.Response, count: int, query: Query
) -> tuple[int | None, str | None]:
    """The total (when the header gives it) and the next cursor after a page of members."""
    start = int(query.cursor or 0)
    total_header = response.headers.get("Records-Total")
    total = int(total_header) if total_header else None
    more = count == query.per_page if total is None else start + count < total
    return total, str(start + count) if more else None


def member_fields(element: str, row: Row) -> tuple[str, str, str, dict[str, Any]]:
    """(kind, title, subtitle, fields) of one member row of a group page."""
    cells = dict(zip(MEMBER_COLUMNS[element], row.get("cells") or [], strict=False))
    for key in ("email", "phone", "website"):
        if isinstance(cells.get(key), list):
            cells[key] = next((c.get("value") for c in cells[key]), None)
    kind = KIND_OF[element]
    fields: dict[str, Any]
    if kind == "contact":
        title = f"{cells.get('first_name') or ''} {cells.get('last_name') or ''}".strip()
        fields = {
            "first_name": cells.get("first_name"),
            "last_name": cells.get("last_name"),
            "company_name": cells.get("organization.name") or None,
            "email": cells.get("email"),
            "phone": cells.get("phone"),
        }
        subtitle = fields["company_name"] or ""
    elif kind == "company":
        title = str(cells.get("name") or "")
        fields = {"name": title, "website": cells.get("website"), "phone": cells.get("phone")}
        subtitle = fields["website"] or ""
    else:
        title = str(cells.get("name") or "")
        fields = {
            "name": title,
            "company_name": cells.get("organization.name") or None,
            "amount": fv.money(cells.get("value")),
            "currency": cells.get("currency"),
        }
        subtitle = fv.money_text(fields["amount"], fields["currency"])  # the one money format
    return kind, title, subtitle, fields
