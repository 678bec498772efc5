"""Incremental reads by a last-modified stamp, the one technique vendors declare as data.

A vendor that filters a list by "modified at or after" and sorts by it ascending is read
mark by mark: each page is asked from the stamp of the last row read (not by offsets of one
fixed query: a record edited while the read runs moves to the end of the list, every record
after its old place moves up one, and the first of the next page is never read). A vendor
declares a ``Keyset`` (its cursor prefix, the row field holding the stamp, how to read it as
a comparable value, how the position steps: ``PAGES`` or ``OFFSETS``); ``Mark`` is where a
read stands, its cursor ``"<prefix><stamp>|<position>|<id,id…>|<found>"``.

The safeguards, shared by every vendor on it:

- at or after, not after: records sharing the last row's stamp (a bulk update) may fall on
  either side of a page break; the ids already read at the mark are left out instead;
- a page whose rows all sit at the mark (more ties than a page holds) is followed by the next
  position of the same mark, so the read moves on;
- ties read over positions are read again from the first position of the mark until a pass
  brings no tie not read before (``found``): a tie edited between two pages leaves the mark,
  every tie after it moves up one place and the first of the next page was never read. This
  holds for offsets as much as for page numbers (``start + len(rows)`` skips the one that
  moved up just as ``page + 1`` does), so offset vendors get the re-pass too;
- a row before the mark (or without a stamp) ends the read: the vendor ignores the filter and
  asking again would answer the same;
- a page past the first position whose rows all sit at the mark and which holds fewer
  distinct ties than the positions read so far ends the read: the vendor ignores the position
  and answered the same page again (a re-pass, which brings nothing new by design, is not
  mistaken for it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

Json = dict[str, Any]


class Comparable(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


class Step(Protocol):
    """How the position of a mark advances."""

    @property
    def first(self) -> int:
        """The first position."""
        ...

    def next(self, position: int, count: int) -> int:
        """The position after one holding ``count`` rows."""
        ...

    def before(self, position: int, count: int) -> int:
        """How many rows the positions before ``position`` held (``count`` a page)."""
        ...


@dataclass(frozen=True)
class Pages:
    """Page numbers from 1: the next page is ``page + 1``."""

    first: int = 1

    def next(self, position: int, count: int) -> int:
        return position + 1

    def before(self, position: int, count: int) -> int:
        return (position - self.first) * count


@dataclass(frozen=True)
class Offsets:
    """Row offsets from 0: the next start is ``start + len(rows)``."""

    first: int = 0

    def next(self, position: int, count: int) -> int:
        return position + count

    def before(self, position: int, count: int) -> int:
        return position - self.first


PAGES, OFFSETS = Pages(), Offsets()


@dataclass(frozen=True)
class Keyset:
    """A vendor's declaration: the cursor's ``prefix``, the row ``field`` holding the stamp,
    ``parse`` (a row's value or the cursor's text to a comparable value, None when
    unreadable), ``text`` (a row's value as the cursor and the filter carry it), the
    ``step`` and the ``last`` position read (None: no limit)."""

    prefix: str
    field: str
    parse: Callable[[Any], Comparable | None]
    step: Step
    text: Callable[[Any], str] = str
    last: int | None = None

    def read(self, cursor: str | None, since: str) -> Mark:
        """The mark a cursor names: ``<prefix><stamp>[|<position>|<ids>[|<found>]]``; a plain
        number is a position from ``since`` (the query's mark); anything else (a stamp that
        does not parse too) is ``since`` from the first position. A cursor without ``found``
        past the first position (an older version's) counts as having found a tie, so its
        pass is read again."""
        first = self.step.first
        stamp, _, rest = (cursor or "").removeprefix(self.prefix).partition("|")
        if cursor and cursor.startswith(self.prefix) and self.parse(stamp) is not None:
            position, _, rest = rest.partition("|")
            ids, _, found = rest.partition("|")
            number = int(position) if position.isdigit() else first
            seen = frozenset(filter(None, ids.split(",")))
            return Mark(self, stamp, number, seen, found == "1" or (not found and number > first))
        number = int(cursor) if cursor and cursor.isdigit() else first
        return Mark(self, since, number)

    def stamp(self, row: Json) -> Comparable | None:
        return self.parse(row.get(self.field))


@dataclass(frozen=True)
class Mark:
    """Where an incremental read stands: ``stamp`` (at or after) from ``position``, the ids
    already read at exactly ``stamp`` left out (``seen``); ``found``: this pass over the
    mark's positions read a tie not read before."""

    keyset: Keyset = field(repr=False)
    stamp: str
    position: int
    seen: frozenset[str] = frozenset()
    found: bool = False

    def cursor(self) -> str:
        ids = ",".join(sorted(self.seen))
        return f"{self.keyset.prefix}{self.stamp}|{self.position}|{ids}|{int(self.found)}"

    def value(self) -> Comparable | None:
        """The mark's stamp as a comparable value (None: unreadable)."""
        return self.keyset.parse(self.stamp)

    def new(self, rows: list[Json], following: Mark | None = None) -> list[Json]:
        """The page's rows less those already read at the mark (and those past it when
        ``following``, the mark after this page, reads the mark again: they come again)."""
        at = self.value()
        again = (
            following is not None
            and following.stamp == self.stamp
            and following.position == self.keyset.step.first
        )
        kept = []
        for row in rows:
            tie = at is not None and self.keyset.stamp(row) == at
            if (str(row.get("id")) not in self.seen) if tie else not again:
                kept.append(row)
        return kept

    def after(self, rows: list[Json], more: bool) -> Mark | None:
        """The mark after a page of ``rows`` (``more``: the vendor says a page follows);
        None at the end (see the module's safeguards)."""
        keyset, step = self.keyset, self.keyset.step
        at = self.value()
        stamps = [keyset.stamp(r) for r in rows]
        if at is None or any(s is None or s < at for s in stamps):
            return None
        tied = {str(r.get("id")) for r, s in zip(rows, stamps, strict=True) if s == at}
        seen, found = self.seen | tied, self.found or not tied <= self.seen
        if more and rows and stamps[-1] == at:  # every row at the mark
            repeated = step.before(self.position, len(rows)) + len(rows) > len(seen)
            following = step.next(self.position, len(rows))
            if repeated or (keyset.last is not None and following > keyset.last):
                return None
            return Mark(keyset, self.stamp, following, seen, found)
        if self.position > step.first and found:  # ties over positions: once more
            return Mark(keyset, self.stamp, step.first, seen)
        if not more or not rows:
            return None
        last = stamps[-1]
        ids = frozenset(str(r.get("id")) for r, s in zip(rows, stamps, strict=True) if s == last)
        return Mark(keyset, keyset.text(rows[-1].get(keyset.field)), step.first, ids)
