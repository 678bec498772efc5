"""The records cache as a list screen sees it: windows, counts, sorts, filters, search."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crmtui.model import FieldSpec, FieldType, RecordRef
from crmtui.store import Store, positions
from tests.store.factory import T0, rec


@pytest.fixture
def deals(store: Store) -> Store:
    store.upsert_records(
        [
            rec("1", "Acme renewal", kind="deal", minutes=3, amount="1250.00", stage="won"),
            rec("2", "beta pilot", kind="deal", minutes=1, amount="99.50", stage="open"),
            rec("3", "Gamma expansion", kind="deal", minutes=2, amount="10000.00", stage="open"),
            rec("4", "Delta", kind="deal", minutes=4, stage="lost"),
            rec("5", "acme upsell", kind="deal", minutes=5, amount="1250.00", stage="open"),
        ]
    )
    return store


def ids(records: list) -> list[str]:
    return [r.id for r in records]


def test_window_sorts_by_title_case_insensitively_with_ties_by_id(deals: Store) -> None:
    window = deals.window("acme-fs", "deal", offset=0, limit=10)
    assert [r.title for r in window] == [
        "Acme renewal",
        "acme upsell",
        "beta pilot",
        "Delta",
        "Gamma expansion",
    ]
    assert ids(deals.window("acme-fs", "deal", offset=1, limit=2)) == ["5", "2"]
    assert ids(deals.window("acme-fs", "deal", offset=0, limit=2, descending=True)) == ["3", "4"]


def test_window_sorts_money_numerically_and_puts_empty_values_last(deals: Store) -> None:
    up = deals.window("acme-fs", "deal", offset=0, limit=10, sort="amount")
    assert ids(up) == ["2", "1", "5", "3", "4"]  # 99.50 < 1250 = 1250 < 10000, none last
    down = deals.window("acme-fs", "deal", offset=0, limit=10, sort="amount", descending=True)
    assert ids(down) == ["3", "5", "1", "2", "4"]


def test_money_sorts_numerically_when_field_specs_say_so(deals: Store) -> None:
    deals.put_fields(
        "acme-fs", "deal", [FieldSpec(key="amount", label="Amount", type=FieldType.MONEY)]
    )
    up = deals.window("acme-fs", "deal", offset=0, limit=4, sort="amount")
    assert ids(up) == ["2", "1", "5", "3"]


def test_window_sorts_by_updated_at(deals: Store) -> None:
    newest = deals.window("acme-fs", "deal", offset=0, limit=2, sort="updated_at", descending=True)
    assert ids(newest) == ["5", "4"]
    assert newest[0].updated_at == T0 + timedelta(minutes=5)  # microseconds kept


def test_filters_and_count_agree(deals: Store) -> None:
    assert deals.count("acme-fs", "deal") == 5
    assert deals.count("acme-fs", "deal", filters={"stage": "open"}) == 3
    window = deals.window("acme-fs", "deal", offset=0, limit=10, filters={"stage": "open"})
    assert ids(window) == ["5", "2", "3"]
    assert deals.count("acme-fs", "deal", search="acme", filters={"stage": "open"}) == 1


def test_filters_match_numbers_booleans_and_tags(store: Store) -> None:
    store.upsert_records(
        [
            rec("t1", "Call Ann", kind="task", done=True, priority=2, tags=["vip", "q4"]),
            rec("t2", "Send quote", kind="task", done=False, priority=1, tags=["q4"]),
        ]
    )
    assert ids(store.window("acme-fs", "task", offset=0, limit=5, filters={"done": "true"})) == [
        "t1"
    ]
    assert store.count("acme-fs", "task", filters={"priority": "1"}) == 1
    assert store.count("acme-fs", "task", filters={"tags": "q4"}) == 2
    assert store.count("acme-fs", "task", filters={"tags": "vip"}) == 1


def test_lists_are_per_profile_and_kind(deals: Store) -> None:
    deals.upsert_records([rec("1", "Other profile", kind="deal", profile="beta-sl")])
    assert deals.count("acme-fs", "deal") == 5
    assert deals.count("beta-sl", "deal") == 1
    assert deals.count("acme-fs", "contact") == 0


def test_upsert_replaces_and_get_record_keeps_raw(deals: Store) -> None:
    deals.upsert_records([rec("2", "Beta pilot (big)", kind="deal", minutes=9, amount="5000.00")])
    record = deals.get_record(RecordRef(profile="acme-fs", kind="deal", id="2"))
    assert record is not None
    assert record.title == "Beta pilot (big)"
    assert record.fields == {"amount": "5000.00"}
    assert record.raw == {"id": "2", "name": "Beta pilot (big)"}
    assert deals.count("acme-fs", "deal") == 5
    assert deals.search("big")[0].id == "2"
    assert deals.search("pilot")[0].id == "2"


def test_deleted_records_leave_lists_and_search(deals: Store) -> None:
    ref = RecordRef(profile="acme-fs", kind="deal", id="3")
    deals.mark_deleted(ref)
    assert deals.get_record(ref) is None
    assert deals.count("acme-fs", "deal") == 4
    assert "3" not in ids(deals.window("acme-fs", "deal", offset=0, limit=10))
    assert deals.search("gamma") == []


def test_search_prefix_ranking_and_scope(store: Store) -> None:
    store.upsert_records(
        [
            rec("c1", "Jane Doe", kind="contact", email="jane@acme.com", company="Acme Inc"),
            rec("a1", "Acme Inc", kind="company", domain="acme.com"),
            rec("x1", "Zed", kind="company", domain="zed.io"),
            rec("b1", "Acme Beta", kind="company", profile="beta-sl"),
        ]
    )
    found = store.search("acm")
    assert {r.id for r in found} == {"c1", "a1", "b1"}
    assert found[-1].id == "c1"  # a title match outranks a match in the fields
    assert ids(store.search("acme", profiles=["beta-sl"])) == ["b1"]
    assert ids(store.search("acme", kinds=["contact"])) == ["c1"]
    assert ids(store.search("jane@acme.co")) == ["c1"]
    assert ids(store.search("doe JA")) == ["c1"]
    assert store.search("nothing-like-this") == []


@pytest.mark.parametrize(
    "text",
    [
        '"',
        'acme"',
        "acme OR",
        "NOT",
        "a AND (b",
        "*",
        "col:value",
        "^acme",
        "-",
        "NEAR(a b)",
        "'",
        "",
    ],
)
def test_search_input_with_fts_syntax_does_not_crash(store: Store, text: str) -> None:
    store.upsert_records([rec("a1", "Acme Inc"), rec("n1", "NOT a company", domain="near.example")])
    assert isinstance(store.search(text), list)
    assert store.count("acme-fs", "company", search=text) >= 0
    assert isinstance(store.window("acme-fs", "company", offset=0, limit=5, search=text), list)


def test_search_treats_operators_as_words(store: Store) -> None:
    store.upsert_records([rec("a1", "Acme OR Corp"), rec("z1", "Zeta")])
    assert ids(store.search("acme OR")) == ["a1"]


def test_sort_by_unknown_field_is_harmless(deals: Store) -> None:
    window = deals.window("acme-fs", "deal", offset=0, limit=10, sort='x"); DROP TABLE records;--')
    assert len(window) == 5
    assert deals.count("acme-fs", "deal") == 5


def test_timelines_and_schema_cache(store: Store) -> None:
    from crmtui.model import Activity, KindInfo

    ref = RecordRef(profile="acme-fs", kind="deal", id="1")
    assert store.get_timeline(ref) is None
    store.put_timeline(ref, [])
    assert store.get_timeline(ref) == []
    old = Activity(id="a", occurred_at=T0, summary="Call")
    new = Activity(id="b", occurred_at=T0 + timedelta(days=1), summary="Note")
    store.put_timeline(ref, [old])
    store.add_activity(ref, new)
    assert [a.id for a in store.get_timeline(ref) or []] == ["b", "a"]

    assert store.get_kinds("acme-fs") is None
    kinds = [KindInfo(kind="deal", label="Deals", singular="Deal")]
    store.put_kinds("acme-fs", kinds)
    assert store.get_kinds("acme-fs") == kinds
    specs = [FieldSpec(key="amount", label="Amount", type=FieldType.MONEY, writable=True)]
    store.put_fields("acme-fs", "deal", specs)
    assert store.get_fields("acme-fs", "deal") == specs
    assert store.get_fields("acme-fs", "contact") is None


def test_sync_state_and_last_synced(store: Store) -> None:
    assert store.get_sync_state("acme-fs", "deal") is None
    assert store.last_synced("acme-fs") is None
    store.put_sync_state("acme-fs", "deal", {"cursor": T0, "total": 5})
    assert store.get_sync_state("acme-fs", "deal") == {
        "cursor": "2026-11-01T09:00:00.123456+00:00",
        "total": 5,
    }
    store.upsert_records([rec("1", "Acme")], synced_at=T0)
    assert store.last_synced("acme-fs") == T0


def test_a_big_list_reads_right(store: Store) -> None:
    """A list longer than ``positions.BUILD_FROM`` (its order is then built in the
    background): windows deep in it, its count, a sort and a search are right. How fast
    100k records go is a figure of ``benchmarks/run.py``, not a test."""
    size = 4 * positions.BUILD_FROM
    batch = (
        rec(str(n), f"Company {n:06d}", minutes=n % 1000, domain=f"c{n}.example", size=n % 500)
        for n in range(size)
    )
    assert store.upsert_records(batch) == size
    window = store.window("acme-fs", "company", offset=size // 2, limit=50)
    assert window[0].title == f"Company {size // 2:06d}"
    assert store.count("acme-fs", "company") == size
    assert (
        len(store.window("acme-fs", "company", offset=size - 10, limit=50, sort="updated_at")) == 10
    )
    assert store.search("c4242.example")[0].id == "4242"
