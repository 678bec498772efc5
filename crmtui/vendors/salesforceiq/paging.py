"""How SalesforceIQ lists: ``_start``/``_limit`` (at most 200); no server search or sort
but contacts' email/phone, so views, searches and sorts apply to the page fetched."""

from __future__ import annotations

from typing import Any

from crmtui.model import Query, Record
from crmtui.vendors.keyset import OFFSETS, Keyset
from crmtui.vendors.mapping import Offset
from crmtui.vendors.salesforceiq.lists import epoch_ms
from crmtui.vendors.salesforceiq.resources import LIST_PREFIX

Json = dict[str, Any]
MAX_LIMIT = 200
# ``_start``/``_limit``; the last page is the one shorter than ``_limit`` (``nextPage`` is
# not read: the doc only shows it null).
PAGING = Offset(offset="_start", limit="_limit")


def _ms(value: Any) -> int | None:
    """A ``modifiedDate`` (a row's number or a cursor's digits) as UTC milliseconds."""
    if isinstance(value, str):
        return int(value) if value.isdigit() else None
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# Incremental reads (``keyset``): ``modifiedDate=<ms>`` (at or after, ascending) from
# ``_start`` offsets; cursor ``"m:<ms>|<start>|<ids>|<found>"`` (an older ``"m:<ms>|<start>|
# <ids>"`` reads on; a plain number is an offset from the query's mark).
MODIFIED = Keyset(
    prefix="m:", field="modifiedDate", parse=_ms, step=OFFSETS, text=lambda v: str(_ms(v))
)


def list_params(kind: str, query: Query) -> Json:
    """Query parameters: ``modifiedDate`` for incremental reads, a list's account or
    contact filter, a contact search by email or phone (the only server-side search)."""
    params: Json = {}
    if query.updated_since is not None:
        params["modifiedDate"] = epoch_ms(query.updated_since)
    if kind.startswith(LIST_PREFIX):
        if query.filters.get("company"):
            params["accountIds"] = query.filters["company"]
        if query.filters.get("contact"):
            params["contactIds"] = query.filters["contact"]
    elif kind == "contact":
        search = query.search.strip()
        digits = "".join(ch for ch in search if ch.isdigit())
        if "@" in search:
            params["properties.email"] = f'"{search}"'
        elif len(digits) >= 7 and len(digits) >= len(search.replace(" ", "")) - 4:
            params["properties.phone"] = f'"{digits}"'
    return params


def refine(records: list[Record], query: Query, *, search: bool) -> list[Record]:
    """The page's records with the view, search and sort applied (no server support)."""
    if query.view in ("open", "won", "lost"):
        records = [r for r in records if r.fields.get("status") == query.view]
    needle = query.search.strip().lower() if search else ""
    if needle:
        records = [r for r in records if needle in f"{r.title} {r.subtitle}".lower()]
    if query.sort:
        key = query.sort

        def sort_key(record: Record) -> tuple[int, float, str]:
            value = getattr(record, key, None) if key in ("title", "updated_at") else None
            value = value if value is not None else record.fields.get(key)
            if value is None or value == "":
                return (2, 0.0, "")
            try:
                return (0, float(value), "")
            except (TypeError, ValueError):
                return (1, 0.0, str(value).lower())

        records = sorted(records, key=sort_key, reverse=query.descending)
    return records
