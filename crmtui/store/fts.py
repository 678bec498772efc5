"""Full-text search: what is indexed for a record, and a safe FTS5 query from user input.

The index is a contentless FTS5 table of (title, subtitle, ``search_text``) by the rowid
of ``records``, kept in step by ``rows`` (the only writer of records). ``search_text`` is
every text-like value of ``fields`` (names, emails, phones, domains, tags...) except
dates and timestamps, each cut to its first ``INDEXED_CHARS`` characters (the title and
subtitle too: ``indexed``); it is not stored, but derived from the stored fields whenever
a row enters or leaves the index, so this function must stay what it is (a change to it
needs a migration that re-indexes, or marks the rows indexed the old way: see
``records_fts_whole`` and ``records_fts_titles_whole`` in ``db``).

User input never reaches FTS5 syntax: each whitespace-separated word becomes a quoted
phrase (``"`` doubled), words with no letter or digit are dropped, and the last word is
a prefix (``acm`` finds ``Acme``). Words are ANDed; bm25 ranks, title weighing most.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# bm25 weights for (title, subtitle, search_text).
WEIGHTS = (10.0, 4.0, 1.0)

# The characters of each value that are indexed: search finds the words of the first
# 10,000 characters of a field (a page or two of a long description or note), not the
# words after them. Indexing a 20 MB field whole took most of a second of the refresh that
# stored it, and as much again for every later write of that record; the value itself is
# stored whole. Caches made before this bound list their rows with longer values in
# ``records_fts_whole`` (indexed whole: taken out of the index with ``limit=None``).
INDEXED_CHARS = 10_000

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}.*)?$")


def _texts(value: Any, limit: int | None) -> Iterator[str]:
    if isinstance(value, str):
        if value and not _DATE.match(value):
            yield value if limit is None else value[:limit]
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item, limit)


def indexed(text: str | None) -> str | None:
    """A title or subtitle as the index holds it: its first ``INDEXED_CHARS`` characters."""
    return text[:INDEXED_CHARS] if text else text


def search_text(fields: dict[str, Any], *, limit: int | None = INDEXED_CHARS) -> str:
    """The text-like values of a record's fields, one per line, each cut to ``limit``
    characters (None: whole, as caches before ``INDEXED_CHARS`` indexed them)."""
    return "\n".join(text for value in fields.values() for text in _texts(value, limit))


def words(text: str) -> list[str]:
    """The searchable words of what the user typed (each one phrase of ``fts_query``)."""
    return [word for word in text.split() if any(ch.isalnum() for ch in word)]


def phrase(word: str, *, prefix: bool = False) -> str:
    """One word as an FTS5 phrase (``"`` doubled), a prefix when ``prefix``."""
    return '"' + word.replace('"', '""') + '"' + ("*" if prefix else "")


def fts_query(text: str, *, prefix: bool = True) -> str | None:
    """A safe FTS5 query for what the user typed, or None when nothing is searchable.

    ``prefix=False``: the last word too is a whole word (no ``*``).
    """
    found = words(text)
    if not found:
        return None
    last = len(found) - 1
    return " ".join(phrase(word, prefix=prefix and i == last) for i, word in enumerate(found))
