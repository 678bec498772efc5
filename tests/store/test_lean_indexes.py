"""Schema 10 (issue 16, the cache's bytes per record): the index of a list's update times
is built only for a list that sorts by them (as the one of creation times), and a
field's sort index keeps whole numbers as integers. What a user sees does not change:
the same orders (numbers by value, empty values last, ties by id), and a cache of
schema 9 (records, raw payloads, a queued edit, the old indexes) comes through the
upgrade with nothing lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crmtui.model import FieldSpec, FieldType, KindInfo, Record, RecordRef
from crmtui.store import Store, positions, records
from crmtui.store.db import dumps, to_stamp
from tests.store import factory
from tests.store.factory import T0, rec

P, K = "acme-fs", "deal"
SPECS = [
    FieldSpec(key="amount", label="Amount", type=FieldType.MONEY),
    FieldSpec(key="stage", label="Stage", type=FieldType.TEXT),
]
# (id, amount, stage): whole numbers as text and JSON, fractions, a number past 2**53,
# text that is no number, empty values; equal values to be broken by id.
VALUES = [
    ("1", "86200.00", "3"),
    ("2", "3", "10"),
    ("3", 2.5, "abc"),
    ("4", None, None),
    ("5", "-5", "2.5"),
    ("6", "10", "3"),
    ("7", "1e3", "-1"),
    ("8", 10, None),
    ("9", None, "Zed"),
    ("10", "0.5", "3.0"),
    ("11", "12345678901234567", "9"),
]


def ids(found: list[Record]) -> list[str]:
    return [r.id for r in found]


def _plan(store: Store, sort: str, descending: bool = False) -> str:
    """SQLite's plan of a list's first window (the read ``window`` makes: its first part,
    ``indexes.Order.parts``)."""
    with store._db.read() as conn:
        spec, order = records._spec(conn, P, K, sort, descending, "", None)
        condition, terms = order.parts()[0]
        sql = f"SELECT r.rowid FROM records r {spec[2]}{condition} ORDER BY {terms} LIMIT 5"
        return " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", spec[3]))


def _number(value: object) -> float | None:
    """A sort value as a user reads it: a number, or None (empty, or not a number)."""
    if value is None:
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except ValueError:
        return None


def _expected(key: int, descending: bool) -> list[str]:
    """The ids in the order a user expects: numbers by value, then text (``abc``, ``Zed``
    by their text), empty values last either way, ties by id."""
    valued = [(v[0], v[key]) for v in VALUES if v[key] is not None]
    numbers = sorted(
        ((_number(x), i) for i, x in valued if _number(x) is not None),
        key=lambda p: (p[0], p[1]),
    )
    texts = sorted(((str(x), i) for i, x in valued if _number(x) is None))
    order = [i for _, i in numbers] + [i for _, i in texts]
    if key == 1:  # a money field: text that is no number counts as 0 (SQLite's CAST)
        zero = [(0.0, i) for i, x in valued if _number(x) is None]
        order = [i for _, i in sorted(numbers + zero)]
    empty = sorted(v[0] for v in VALUES if v[key] is None)
    if descending:
        return [*reversed(order), *reversed(empty)]
    return [*order, *empty]


def _fill(store: Store) -> None:
    store.put_fields(P, K, SPECS)
    store.upsert_records(rec(i, f"Deal {i}", kind=K, **_fields(a, s)) for i, a, s in VALUES)


def _fields(amount: object, stage: object) -> dict[str, object]:
    return {k: v for k, v in (("amount", amount), ("stage", stage)) if v is not None}


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize(("field", "key"), [("amount", 1), ("stage", 2)])
def test_a_field_sorts_as_numbers_with_empty_values_last(
    store: Store, monkeypatch: pytest.MonkeyPatch, field: str, key: int, descending: bool
) -> None:
    _fill(store)
    expected = _expected(key, descending)
    for build_from in (10**9, 1):  # read through the index, then from the built order
        monkeypatch.setattr(positions, "BUILD_FROM", build_from)
        if build_from == 1:
            store.prepare_list(P, K, sort=field, descending=descending)
        got = [
            ids(store.window(P, K, offset=o, limit=3, sort=field, descending=descending))
            for o in range(0, len(VALUES), 3)
        ]
        assert [i for page in got for i in page] == expected
    assert "TEMP B-TREE" not in _plan(store, field, descending)


def test_a_sort_index_keeps_whole_numbers_as_integers(store: Store) -> None:
    """What makes the index smaller: an amount of "86200.00" is the integer 86200 in it
    (8 bytes as a real number; 3 as an integer), a fraction stays a fraction."""
    _fill(store)
    store.ensure_sort_index(P, K, "amount")
    with store._db.read() as conn:
        (sql,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name GLOB 'records_sort_*'"
        ).fetchone()
        value = sql[sql.index("is_deleted, ") + len("is_deleted, ") : sql.rindex(", id)")]
        found = dict(conn.execute(f"SELECT id, typeof({value}) FROM records"))
    assert found["1"] == found["2"] == found["7"] == found["8"] == "integer"
    assert found["3"] == found["10"] == "real" and found["4"] == "null"


def test_update_times_are_indexed_only_for_a_list_that_sorts_by_them(store: Store) -> None:
    store.upsert_records(rec(str(n), f"D{n}", kind=K, minutes=m) for n, m in enumerate([5, -3, 0]))
    with store._db.read() as conn:
        names = {n for (n,) in conn.execute("SELECT name FROM sqlite_master")}
    assert "records_by_updated" not in names and "records_by_created" not in names
    shown = KindInfo(kind=K, label="Deals", singular="Deal", columns=["title", "updated_at"])
    hidden = KindInfo(kind=K, label="Deals", singular="Deal", columns=["title", "created_at"])
    assert [n for n, _ in store.list_indexes(P, shown)] == ["records_by_updated"]
    assert [n for n, _ in store.list_indexes(P, hidden)] == []  # created_at: not sortable
    assert store.build_indexes(store.list_indexes(P, shown)) == 1
    assert store.list_indexes(P, shown) == []
    assert "records_by_updated" in _plan(store, "updated_at")
    down = store.window(P, K, offset=0, limit=5, sort="updated_at", descending=True)
    assert ids(down) == ["0", "2", "1"]


def test_a_first_sort_by_update_time_builds_its_index(store: Store) -> None:
    store.upsert_records(rec(str(n), f"D{n}", kind=K, minutes=m) for n, m in enumerate([5, -3, 0]))
    assert ids(store.window(P, K, offset=0, limit=5, sort="updated_at")) == ["1", "2", "0"]
    assert "records_by_updated" in _plan(store, "updated_at")


def _v9_cache(path: Path) -> None:
    """A schema-9 cache as the previous crmtui left it: rows, raw payloads, its
    ``records_by_updated``, a field sort index of ``CAST .. AS REAL``, a queued edit."""
    conn = factory.old_cache(path, 9)
    factory.old_specs(conn, P, K, SPECS)
    conn.execute("INSERT INTO lists (list, profile, kind) VALUES (1, ?, ?)", (P, K))
    for n, (id_, amount, stage) in enumerate(VALUES, start=1):
        fields = _fields(amount, stage)
        row = {"profile": P, "kind": K, "id": id_, "vendor": "freshsales"}
        row |= {"title": f"Deal {id_}", "created_at": to_stamp(T0)}
        row |= {"updated_at": to_stamp(T0) + n, "fields": dumps(fields), "list": 1}
        text = "\n".join(str(v) for v in fields.values() if isinstance(v, str))
        factory.old_row(conn, n, row, text, f'{{"n":{n}}}')
    factory.old_amount_index(conn, "records_sort_v9", "list, is_deleted")
    factory.close_old_cache(conn, RecordRef(profile=P, kind=K, id="1"))


def test_a_schema_9_cache_comes_through_with_nothing_lost(tmp_path: Path) -> None:
    path = tmp_path / "v9.sqlite3"  # (too short a list to build its order: windows walk)
    _v9_cache(path)
    with sqlite3.connect(path) as conn:
        names = {n for (n,) in conn.execute("SELECT name FROM sqlite_master")}
        assert {"records_by_updated", "records_sort_v9"} <= names  # what the upgrade drops
    store = Store(path)
    try:
        with store._db.read() as conn:
            names = factory.upgraded_names(conn)
            assert "records_by_updated" not in names and "records_sort_v9" not in names
            assert "records_by_title" in names
            assert conn.execute("SELECT count(*) FROM records_raw").fetchone()[0] == len(VALUES)
        assert [c.id for c in store.changes()] == ["c1"] and store.queued_count(P) == 1
        one = store.get_record(RecordRef(profile=P, kind=K, id="1"))
        assert one is not None and one.raw == {"n": 1} and one.fields["amount"] == "86200.00"
        assert store.count(P, K) == len(VALUES)
        for descending in (False, True):
            got = store.window(P, K, offset=0, limit=20, sort="amount", descending=descending)
            assert ids(got) == _expected(1, descending)
        by_time = store.window(P, K, offset=0, limit=20, sort="updated_at", descending=True)
        assert ids(by_time) == [v[0] for v in reversed(VALUES)]
        assert ids(store.search("abc")) == ["3"] and ids(store.search("deal 11")) == ["11"]
        assert store.integrity_check() == "ok"
    finally:
        store.close()
