"""A filtered list's order is built through its filter's index (``Positions.build``'s
``via``): the same order, window for window, as reading the list page by page."""

from __future__ import annotations

import pytest

from crmtui.model import Record
from crmtui.store import Store, records
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
