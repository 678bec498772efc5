"""A filtered list's order is built through its filter's index (``Positions.build``'s
``via``): the same order, window for window, as reading the list page by page."""

from __future__ import annotations

import binascii
from pathlib import Path

import pytest

from crmtui.model import Record
from crmtui.store import Store, positions, records
from tests.store.factory import rec

P, K = "acme-fs", "deal"


@pytest.fixture
def deals(store: Store) -> Store:
    store.upsert_records(
        [
            rec(
                str(i),
                f"Deal {i % 11}",
                kind=K,
                amount=None if i % 6 == 0 else f"{(i * 31) % 40}.00",
                stage=str(i % 3),
                owner=str(i % 4),
                tags=["vip", "new"] if i % 5 == 0 else "vip" if i % 5 == 1 else None,
            )
            for i in range(1, 241)
        ]
    )
    return store


def ids(found: list[Record]) -> list[str]:
    return [r.id for r in found]


LISTS = [
    {"sort": "amount", "filters": {"stage": "1"}},
    {"sort": "amount", "descending": True, "filters": {"stage": "2", "owner": "3"}},
    {"sort": "updated_at", "filters": {"tags": "vip"}},  # an array's member or the value
    {"sort": "amount", "descending": True, "filters": {"tags": "new"}},
    {"descending": True, "filters": {"owner": "0"}},
]


def check_built_order(store: Store, options: dict) -> None:
    filters = options["filters"]
    whole = ids(store.window(P, K, offset=0, limit=1000, **options))  # page by page
    assert whole and len(whole) == store.count(P, K, filters=filters)
    assert store.prepare_list(P, K, **options) == len(whole)
    for offset in (0, 3, len(whole) // 2, len(whole) - 2):
        assert ids(store.window(P, K, offset=offset, limit=9, **options)) == whole[offset:][:9]
    assert ids(store.window(P, K, offset=0, limit=1000, **options)) == whole


@pytest.mark.parametrize("options", LISTS)
def test_a_filtered_order_built_through_its_filter_reads_as_paging(
    deals: Store, options: dict
) -> None:
    check_built_order(deals, options)


def test_an_index_that_is_gone_builds_the_order_all_the_same(
    deals: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "_found_by", lambda *_: "records_gone")
    for options in LISTS[:2]:
        check_built_order(deals, options)


def test_an_order_read_in_many_slices_reads_as_paging(
    deals: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(positions, "SLICE", 7)  # 240 rows: dozens of slices, the last short
    for options in LISTS:
        check_built_order(deals, options)
    check_built_order(deals, {"sort": "amount", "filters": {}})  # empty amounts last


def test_rowids_past_four_bytes_keep_their_order(deals: Store) -> None:
    before = ids(deals.window(P, K, offset=0, limit=1000, sort="amount"))
    with deals._db.read() as conn:  # rowids past 2**31 (a long-lived cache), below 0
        conn.execute("PRAGMA foreign_keys = OFF")
        for id_, rowid in (("7", 3_000_000_000), ("11", -5)):
            (old,) = conn.execute("SELECT rowid FROM records WHERE id = ?", (id_,)).fetchone()
            conn.execute("UPDATE records SET rowid = ? WHERE rowid = ?", (rowid, old))
            conn.execute("UPDATE records_raw SET rec = ? WHERE rec = ?", (rowid, old))
        conn.execute("PRAGMA foreign_keys = ON")
    assert ids(deals.window(P, K, offset=0, limit=1000, sort="amount")) == before
    check_built_order(deals, {"sort": "amount", "filters": {"stage": "1"}})
    assert deals.prepare_list(P, K, sort="amount") == len(before)
    assert ids(deals.window(P, K, offset=0, limit=1000, sort="amount")) == before
    assert [r.id for r in deals.window(P, K, offset=1, limit=1, sort="amount")] == before[1:2]


def test_a_store_closed_while_its_order_is_built_keeps_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "cache.db")
    store.upsert_records([rec(str(i), f"Deal {i}", kind=K) for i in range(1, 101)])
    monkeypatch.setattr(positions, "SLICE", 10)
    unhexlify = binascii.unhexlify
    slices: list[int] = []

    def closing(data: bytes) -> bytes:
        slices.append(len(data))
        if len(slices) == 3:
            store.close()  # the app quits mid-build
        return unhexlify(data)

    monkeypatch.setattr(binascii, "unhexlify", closing)
    assert store.prepare_list(P, K) == 0  # nothing built, nothing raised
    assert len(slices) == 3  # the build stopped at the next slice
