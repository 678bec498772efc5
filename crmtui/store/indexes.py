"""Sort and filter expressions over record fields, and the indexes that serve them.

A field's value lives in the ``fields`` JSON, so sorting or filtering by it at a million
rows needs an index on the expression itself. SQLite uses an expression index only when
the query spells the same expression, and index expressions cannot hold parameters, so
the JSON path is written into the SQL as an escaped string literal. Every index starts
with the list's number (``db.LIST_OF``), not its profile and kind (issue 16: the bytes).

- Sorting by a field: empty values last either way. Descending gets them last for free
  (NULL is the smallest value); ascending is the order ``((v) IS NULL, v, id)``. One
  index, ``(list, is_deleted, v, id)``, serves both (issue 16: a second index
  for the ascending order cost a sixth of the cache): read backwards for descending,
  and ascending in two parts (``Order.parts``), the rows with a value forwards, then
  the empty ones by id. It is built the first time the list is sorted by the field
  (``ensure_sort_index`` builds it up front).
- Filtering by a field: ``(list, is_deleted, json_extract(..), title, id)``
  answers counts from the index alone and walks title-ordered windows without sorting.
- A list's rows may be stored as JSON arrays of their values (``db``, schema 12: the
  list's ``keys``), so a field's value is read from the field's place in them (its
  ``slot``, the field's index in the list's keys) in an array row, by its key in an
  object row (``extract``). Lists whose keys hold the field at the same place share the
  expression, and its indexes; every list's query spells its own.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

from crmtui.model import FieldType

NUMERIC_TYPES = (FieldType.NUMBER, FieldType.MONEY)

# A field's value as a sort key: numbers and numeric text as numbers, other text as is.
# A number is kept as an integer when it is whole (``CAST .. AS NUMERIC``; ``AS REAL``
# stored 8 bytes for a stage "3" or an amount "86200.00", an integer 0 to 4: issue 16,
# the cache's bytes per record). Integers and reals compare as numbers: the same order.
_GENERIC_SORT = """(CASE
    WHEN typeof({v}) IN ('integer', 'real') THEN {v}
    WHEN {v} GLOB '[0-9-]*' AND {v} GLOB '*[0-9]*'
        AND NOT substr({v}, 2) GLOB '*[^0-9.]*' THEN CAST({v} AS NUMERIC)
    ELSE {v} END)"""

# Built-in sorts on real columns, walked through the indexes of the schema.
COLUMN_SORTS = {
    "title": "title COLLATE NOCASE",
    "subtitle": "subtitle COLLATE NOCASE",
    "updated_at": "updated_at",
    "created_at": "created_at",
}

# Column sorts whose index is built the first time a list is sorted so, or in the
# background when a list shows the column (``for_list``); most lists show neither time,
# so most caches need neither index (issue 16: ``records_by_updated`` took 28 bytes a
# record in every cache until schema 10).
LAZY_COLUMN_INDEXES = {
    "created_at": ("records_by_created", "(list, is_deleted, created_at, id)"),
    "updated_at": ("records_by_updated", "(list, is_deleted, updated_at, id)"),
}


def json_path(field: str) -> str:
    """The JSON path of a field key (quoted, so any key is safe)."""
    return '$."' + field.replace('"', "") + '"'


def literal(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def slot(keys: tuple[str, ...] | None, field: str) -> int | None:
    """The place of ``field`` in a list's array rows (``keys``: the list's, ``db``), or
    None when they have none (no keys, or not among them)."""
    if keys is None or field not in keys:
        return None
    return keys.index(field)


def path(field: str, place: int | None) -> str:
    """The JSON path of a field in an array row (``place``: its ``slot``), or in an
    object row (None)."""
    return json_path(field) if place is None else f"$[{place}]"


def extract(field: str, place: int | None = None) -> str:
    """``json_extract`` of a field with its path as a literal (index-matchable), from an
    array row at ``place`` (the list's ``slot`` of it) or an object row by its key."""
    by_key = f"json_extract(fields, {literal(json_path(field))})"
    if place is None:
        return by_key
    return (
        f"(CASE WHEN substr(fields, 1, 1) = '[' THEN json_extract(fields, '$[{place}]')"
        f" ELSE {by_key} END)"
    )


def _name(prefix: str, expression: str) -> str:
    return f"{prefix}_{hashlib.sha1(expression.encode()).hexdigest()[:16]}"


def ensure(conn: sqlite3.Connection, name: str, definition: str) -> None:
    """Create the index ``name`` (``definition`` follows ``ON records``) if missing."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
    ).fetchone()
    if found is None:
        conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON records {definition}")


# ``v >= NOT_EMPTY`` is ``v IS NOT NULL`` for a sort value (a number, or text, which
# SQLite orders after every number; never a BLOB), written as a range so that SQLite
# seeks past the empty values in the index instead of testing each entry.
NOT_EMPTY = "-9e999"  # minus infinity

# One part of an order as an index walks it: (a condition added to the WHERE clause,
# " AND ..." or "", and the part's ORDER BY).
Part = tuple[str, str]


@dataclass(frozen=True)
class Order:
    """An ORDER BY over ``records`` and the index that serves it (None: a schema index).

    ``nulls_last``: the value expression of an ascending field sort, whose index holds
    the empty values first: ``parts`` walks it as two index ranges.
    """

    terms: tuple[tuple[str, bool], ...]  # (expression, descending)
    index: tuple[str, str] | None = None  # (name, definition)
    nulls_last: str | None = None

    def sql(self, *, reverse: bool = False) -> str:
        return ", ".join(f"{expr}{' DESC' if desc != reverse else ''}" for expr, desc in self.terms)

    def parts(self, *, reverse: bool = False) -> tuple[Part, ...]:
        """The order (``reverse``: its exact reverse) as parts read one after the other,
        each in the order of the index (so a long list is never sorted)."""
        value = self.nulls_last
        if value is None:
            return (("", self.sql(reverse=reverse)),)
        way = " DESC" if reverse else ""
        valued = (f" AND {value} >= {NOT_EMPTY}", f"{value}{way}, id{way}")
        empty = (f" AND {value} IS NULL", f"id{way}")
        return (empty, valued) if reverse else (valued, empty)


def order(
    field: str | None, descending: bool, field_type: str | None, place: int | None = None
) -> Order:
    """The order of a list sorted by ``field`` (title by default), ties broken by id
    (``place``: the field's ``slot`` in the list's array rows)."""
    column = COLUMN_SORTS.get(field or "title")
    if column is not None:
        return Order(((column, descending), ("id", descending)), LAZY_COLUMN_INDEXES.get(column))
    assert field is not None
    raw = extract(field, place)
    value = (
        f"CAST({raw} AS NUMERIC)" if field_type in NUMERIC_TYPES else _GENERIC_SORT.format(v=raw)
    )
    definition = f"(list, is_deleted, {value}, id)"
    index = (_name("records_sort", definition), definition)
    if descending:
        return Order(((value, True), ("id", True)), index)
    terms = ((f"{value} IS NULL", False), (value, False), ("id", False))
    return Order(terms, index, nulls_last=value)


def filter_index(field: str, place: int | None = None) -> tuple[str, str]:
    """(name, definition) of the index that answers filters on ``field`` (``place``: its
    ``slot`` in the list's array rows)."""
    definition = f"(list, is_deleted, {extract(field, place)}, title COLLATE NOCASE, id)"
    return _name("records_filter", definition), definition


def for_list(
    sorts: list[str],
    filters: list[str],
    types: dict[str, str | None],
    keys: tuple[str, ...] | None = None,
) -> list[tuple[str, str]]:
    """(name, definition) of every index that sorts (both ways) and filters a list (a
    column's sort: its index when it is built lazily, ``LAZY_COLUMN_INDEXES``; ``keys``:
    the list's, ``db``)."""
    found: dict[str, tuple[str, str]] = {}
    for field in sorts:
        index = order(field, False, types.get(field), slot(keys, field)).index
        if index is not None:
            found[index[0]] = index
    for field in filters:
        index = filter_index(field, slot(keys, field))
        found[index[0]] = index
    return list(found.values())
