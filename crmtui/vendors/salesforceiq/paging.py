"""How SalesforceIQ lists: ``_start``/``_limit`` (at most 200); no server search or sort
but contacts' email/phone, so views, searches and sorts apply to the page fetched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crmtui.model import Query, Record
from crmtui.vendors.mapping import Offset
from crmtui.vendors.salesforceiq.lists import epoch_ms
from crmtui.vendors.salesforceiq.resources import LIST_PREFIX

Json = dict[str, Any]
MAX_LIMIT = 200
# ``_start``/``_limit``; the last page is the one shorter than ``_limit`` (``nextPage`` is
# not read: the doc only shows it null).
PAGING = Offset(offset="_start", limit="_limit")


def _ms(row: Json) -> int | None:
    value = row.get("modifiedDate")
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Since:
    """Where an incremental read stands: ``modifiedDate=ms`` (at or after, ascending) from
    ``_start=start``, the ids already read at exactly ``ms`` left out (cursor
    ``"m:<ms>|<start>|<id,id…>"``; a plain number is an offset from the query's mark).

    Each page asks again from the last ``modifiedDate`` read, not from an offset of one
    fixed query: a record edited while the read runs moves to the end of the list, and
    with offsets every record after its old place moved up one, the first of the next
    page never read. A page whose rows all sit at the mark (more ties than a page holds)
    is followed by the next offset of the same mark."""

    ms: int
    start: int = 0
    seen: frozenset[str] = frozenset()

    @classmethod
    def read(cls, cursor: str | None, since: datetime) -> Since:
        if cursor and cursor.startswith("m:"):
            ms, _, rest = cursor[2:].partition("|")
            start, _, ids = rest.partition("|")
            if ms.isdigit():
                seen = frozenset(filter(None, ids.split(",")))
                return cls(int(ms), int(start) if start.isdigit() else 0, seen)
        return cls(epoch_ms(since), int(cursor) if cursor and cursor.isdigit() else 0)

    def cursor(self) -> str:
        return f"m:{self.ms}|{self.start}|{','.join(sorted(self.seen))}"

    def new(self, objects: list[Json]) -> list[Json]:
        """The page's objects less those already read at the mark."""
        return [o for o in objects if not (_ms(o) == self.ms and str(o.get("id")) in self.seen)]

    def after(self, objects: list[Json], limit: int) -> Since | None:
        """The mark after a page of ``objects`` (None at the end: a short page, or a page
        at the mark past the first that brought nothing new, ``_start`` ignored)."""
        if len(objects) < limit:
            return None
        last = _ms(objects[-1])
        if last is not None and last > self.ms:
            return Since(last, 0, frozenset(str(o.get("id")) for o in objects if _ms(o) == last))
        if self.start and not self.new(objects):
            return None
        at = {str(o.get("id")) for o in objects if _ms(o) == self.ms}
        return Since(self.ms, self.start + len(objects), self.seen | at)


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
