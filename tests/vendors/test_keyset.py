"""The shared incremental read (``crmtui.vendors.keyset``) on plain rows: a vendor listing
rows at or after a stamp, ascending, by page numbers or offsets; every change must be read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from crmtui.vendors.keyset import OFFSETS, PAGES, Keyset, Mark, Step
from crmtui.vendors.salesforceiq.paging import MODIFIED
from crmtui.vendors.salesloft.paging import UPDATED

Json = dict[str, Any]
PER_PAGE = 5


def _number(value: Any) -> int | None:
    if isinstance(value, str):
        return int(value) if value.isdigit() else None
    return value if isinstance(value, int) else None


def keyset(step: Step) -> Keyset:
    return Keyset(prefix="k:", field="at", parse=_number, step=step)


class Vendor:
    """Rows ``id -> stamp``, listed at or after a stamp, ascending (ties by id)."""

    def __init__(self, stamps: dict[str, int], *, filters: bool = True, positions: bool = True):
        self.stamps = dict(stamps)
        self.filters, self.positions = filters, positions
        self.clock = max(stamps.values())
        self.requests = 0

    def edit(self, id: str) -> None:
        self.clock += 1
        self.stamps[id] = self.clock

    def page(self, stamp: int, position: int, step: Step) -> tuple[list[Json], bool]:
        self.requests += 1
        rows = sorted(
            ({"id": i, "at": s} for i, s in self.stamps.items() if s >= stamp or not self.filters),
            key=lambda r: (r["at"], r["id"]),
        )
        start = 0 if not self.positions else step.before(position, PER_PAGE)
        page = rows[start : start + PER_PAGE]
        return page, start + PER_PAGE < len(rows)


def sync(
    vendor: Vendor,
    step: Step,
    since: int = 0,
    between: Callable[[int], None] = lambda n: None,
    limit: int = 100,
) -> dict[str, int]:
    """Follow the cursors (as text, the way a sync saves them) to the end: what was read."""
    ks, read, cursor = keyset(step), {}, None
    for n in range(limit):
        mark = ks.read(cursor, str(since))
        value = mark.value()
        assert isinstance(value, int)
        rows, more = vendor.page(value, mark.position, step)
        following = mark.after(rows, more)
        read.update({r["id"]: r["at"] for r in mark.new(rows, following)})
        if following is None:
            return read
        cursor = following.cursor()
        between(n)
    raise AssertionError("the read never ended")


STEPS = pytest.mark.parametrize("step", [PAGES, OFFSETS], ids=["pages", "offsets"])


@STEPS
@pytest.mark.parametrize("ties", [4, 7, 12, 15])
def test_ties_over_page_breaks_are_all_read(step: Step, ties: int) -> None:
    stamps = {f"a{i:02}": 1 for i in range(3)} | {f"t{i:02}": 2 for i in range(ties)}
    stamps |= {f"z{i:02}": 3 + i for i in range(4)}
    vendor = Vendor(stamps)
    assert sync(vendor, step) == vendor.stamps


@STEPS
def test_pages_of_nothing_but_ties_move_on(step: Step) -> None:
    vendor = Vendor({f"t{i:02}": 5 for i in range(3 * PER_PAGE)})
    assert sync(vendor, step, since=5) == vendor.stamps


@STEPS
@pytest.mark.parametrize("edited", ["t00", "t03", "t06"])
def test_a_tie_edited_between_pages_leaves_no_other_unread(step: Step, edited: str) -> None:
    vendor = Vendor({f"t{i:02}": 2 for i in range(12)} | {"z": 9})
    edits = iter([edited])

    def edit_once(n: int) -> None:
        if n == 1:
            vendor.edit(next(edits))

    assert sync(vendor, step, since=2, between=edit_once) == vendor.stamps


@STEPS
def test_a_vendor_ignoring_the_filter_ends_the_read(step: Step) -> None:
    vendor = Vendor({f"r{i:02}": i for i in range(20)}, filters=False)
    read = sync(vendor, step, since=10)
    # that page, then the end: asking again would answer the same
    assert set(read) == {f"r{i:02}" for i in range(PER_PAGE)} and vendor.requests == 1


@STEPS
def test_a_vendor_ignoring_the_position_ends_the_read(step: Step) -> None:
    vendor = Vendor({f"t{i:02}": 3 for i in range(12)}, positions=False)
    assert sync(vendor, step, since=3, limit=5) == {f"t{i:02}": 3 for i in range(PER_PAGE)}


def test_salesloft_cursors_of_older_versions_read_on() -> None:
    stamp = "2024-05-01T10:00:00.123456-04:00"
    assert UPDATED.read(f"u:{stamp}", "ignored") == Mark(UPDATED, stamp, 1)
    # a mark past page 1 saved without ``found``: its pass is read again, none lost
    assert UPDATED.read(f"u:{stamp}|3|7,9", "x") == Mark(
        UPDATED, stamp, 3, frozenset({"7", "9"}), True
    )
    mark = UPDATED.read(f"u:{stamp}|2|7|0", "x")
    assert (mark.position, mark.seen, mark.found) == (2, frozenset({"7"}), False)
    assert UPDATED.read(mark.cursor(), "x") == mark


def test_salesforceiq_cursors_of_older_versions_read_on() -> None:
    assert MODIFIED.read("400", "1700000000000") == Mark(MODIFIED, "1700000000000", 400)
    old = MODIFIED.read("m:1700000000123|200|a1,b2", "0")
    assert old == Mark(MODIFIED, "1700000000123", 200, frozenset({"a1", "b2"}), True)
    assert old.value() == 1700000000123
    assert MODIFIED.read("m:1700000000123|0|a1", "0").found is False
    assert MODIFIED.read(old.cursor(), "0") == old
    assert MODIFIED.read("m:soon|200|a1", "1700000000000") == Mark(MODIFIED, "1700000000000", 0)


def test_a_row_stamp_becomes_the_next_mark_as_the_vendor_wrote_it() -> None:
    rows = [{"id": i, "updated_at": f"2024-05-01T10:00:0{i}.100000Z"} for i in range(1, 4)]
    following = UPDATED.read(None, "2024-05-01T10:00:00Z").after(rows, True)
    assert following == Mark(UPDATED, "2024-05-01T10:00:03.100000Z", 1, frozenset({"3"}))
    objects = [{"id": "x", "modifiedDate": 1700000000999.0}]
    assert MODIFIED.read(None, "1700000000000").after(objects, True) == Mark(
        MODIFIED, "1700000000999", 0, frozenset({"x"})
    )
