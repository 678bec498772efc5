"""Schema 9 (issue 16, the cache's bytes per record): every index of a list starts with
the list's number instead of its profile and kind, and a record's created and updated
times are stored as integer microseconds instead of ISO text. What a user sees does not
change: the same times to the microsecond, the same orders, counts and search, and a
cache of schema 8 (queued edits, raw payloads, a long value's preview, a sort index)
comes through the change with nothing lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from crmtui.model import FieldSpec, FieldType, Record, RecordRef
from crmtui.store import Store, positions, records
from crmtui.store.db import LONG_VALUE, dumps, to_text
from tests.store.factory import (
    T0,
    close_old_cache,
    old_amount_index,
    old_cache,
    old_row,
    old_specs,
    rec,
    upgraded_names,
)

P, K = "acme-fs", "deal"
AMOUNT = [FieldSpec(key="amount", label="Amount", type=FieldType.MONEY)]
LONG = "x" * (LONG_VALUE + 10)


def ids(records: list[Record]) -> list[str]:
    return [r.id for r in records]


def _plan(store: Store, profile: str, kind: str, sort: str | None = None) -> str:
    """SQLite's plan of the first window of a list (the read ``window`` makes)."""
    with store._db.read() as conn:
        spec, order = records._spec(conn, profile, kind, sort, False, "", None)
        sql = f"SELECT r.rowid FROM records r {spec[2]} ORDER BY {order.sql()} LIMIT 5"
        return " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", spec[3]))


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 11, 1, 9, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 11, 1, 9, 0, 0, 1),  # naive: UTC
        datetime(2026, 11, 1, 10, 30, tzinfo=timezone(timedelta(hours=1, minutes=30))),
        datetime(1961, 4, 12, 6, 7, 0, 999999, tzinfo=UTC),  # before 1970
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_a_time_reads_back_as_the_same_instant(store: Store, when: datetime) -> None:
    record = rec("1", "A", kind=K).model_copy(update={"created_at": when, "updated_at": when})
    store.upsert_records([record])
    got = store.get_record(RecordRef(profile=P, kind=K, id="1"))
    assert got is not None and got.updated_at == got.created_at
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    assert got.updated_at == aware and got.updated_at.utcoffset() == timedelta(0)
    shown = store.window(P, K, offset=0, limit=1)[0]
    assert shown.updated_at == aware
    # a sync compares the cached version with the vendor's as ISO text, as before
    assert store.updated_stamps(P, K, ["1"]) == {"1": to_text(when)}
    with store._db.read() as conn:
        kinds = conn.execute("SELECT typeof(created_at), typeof(updated_at) FROM records")
        assert kinds.fetchone() == ("integer", "integer")


def test_lists_sort_by_time_both_ways_through_an_index(store: Store) -> None:
    minutes = [5, -3, 0, 5, 120, -600, 1]  # ties broken by id; before and after T0
    store.upsert_records(rec(str(n), f"D{n}", kind=K, minutes=m) for n, m in enumerate(minutes))
    store.upsert_records([rec("x", "Other kind", kind="contact", minutes=9)])
    expected = [str(n) for n, _ in sorted(enumerate(minutes), key=lambda p: (p[1], str(p[0])))]
    up = store.window(P, K, offset=0, limit=20, sort="updated_at")
    down = store.window(P, K, offset=0, limit=20, sort="updated_at", descending=True)
    assert ids(up) == expected and ids(down) == expected[::-1]
    assert store.count(P, K) == 7 and store.count(P, "contact") == 1
    assert "records_by_updated" in _plan(store, P, K, sort="updated_at")
    plan = _plan(store, P, K)
    assert "records_by_title" in plan and "TEMP B-TREE" not in plan


def test_a_row_written_without_its_list_number_gets_one(store: Store) -> None:
    """Another writer (an older tool, a hand-made row) that does not know ``list``."""
    store.upsert_records([rec("1", "Alpha", kind=K)])
    with store._db.transaction() as conn:
        for profile, id_ in ((P, "2"), ("other", "3")):
            conn.execute(
                "INSERT INTO records (profile, kind, id, vendor, title) VALUES (?, ?, ?, ?, ?)",
                (profile, K, id_, "freshsales", f"Beta {id_}"),
            )
    assert ids(store.window(P, K, offset=0, limit=5)) == ["1", "2"]
    assert ids(store.window("other", K, offset=0, limit=5)) == ["3"]


def test_forgetting_a_profile_forgets_its_lists(store: Store) -> None:
    store.upsert_records([rec("1", "A", kind=K), rec("2", "B", kind=K, profile="other")])
    store.delete_profile(P)
    with store._db.read() as conn:
        assert conn.execute("SELECT profile FROM lists").fetchall() == [("other",)]
    store.upsert_records([rec("1", "A again", kind=K)])
    assert ids(store.window(P, K, offset=0, limit=5)) == ["1"]
    assert ids(store.window("other", K, offset=0, limit=5)) == ["2"]


def _v8_cache(path: Path) -> None:
    """A schema-8 cache as the previous crmtui wrote it: ISO text times, a raw payload,
    a record with a long value (its preview row), a field sort index, a queued edit."""
    conn = old_cache(path, 8)
    old_specs(conn, P, K, AMOUNT)
    rows = [  # (id, title, minutes after T0, amount, kind)
        ("1", "Deal b", 5, 300, K),
        ("2", "Deal a", -3, None, K),
        ("3", "Deal c", 0, 100, K),
        ("4", "Contact", 9, None, "contact"),
        ("5", "Deal d", 7, 50, K),
    ]
    for n, (id_, title, minutes, amount, kind) in enumerate(rows, start=1):
        fields = {"stage": "open"} | ({} if amount is None else {"amount": amount})
        if id_ == "5":
            fields["notes"] = LONG
        when = to_text(T0 + timedelta(minutes=minutes))
        row = {"profile": P, "kind": kind, "id": id_, "vendor": "freshsales", "title": title}
        row |= {"created_at": to_text(T0), "updated_at": when, "fields": dumps(fields)}
        old_row(conn, n * 10, row, "open", f'{{"n":{n}}}')
    old_amount_index(conn, "records_sort_v8", "profile, kind, is_deleted")
    close_old_cache(conn, RecordRef(profile=P, kind=K, id="1"))


def test_a_schema_8_cache_comes_through_with_nothing_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(positions, "BUILD_FROM", 10**9)
    path = tmp_path / "v8.sqlite3"
    _v8_cache(path)
    store = Store(path)
    try:
        with store._db.read() as conn:
            names = upgraded_names(conn)
            assert "records_sort_v8" not in names and "records_v9" not in names
            assert conn.execute("SELECT count(*) FROM records_raw").fetchone()[0] == 5
            assert conn.execute("SELECT count(*) FROM records_preview").fetchone()[0] == 1
            assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert [c.id for c in store.changes()] == ["c1"] and store.queued_count(P) == 1
        one = store.get_record(RecordRef(profile=P, kind=K, id="1"))
        assert one is not None and one.raw == {"n": 1}
        assert one.created_at == T0 and one.updated_at == T0 + timedelta(minutes=5)
        assert ids(store.window(P, K, offset=0, limit=9)) == ["2", "1", "3", "5"]  # by title
        by_time = store.window(P, K, offset=0, limit=9, sort="updated_at", descending=True)
        assert ids(by_time) == ["5", "1", "3", "2"]
        assert ids(store.window(P, K, offset=0, limit=9, sort="amount")) == ["5", "3", "1", "2"]
        assert ids(store.window(P, K, offset=0, limit=9, filters={"stage": "open"})) == [
            "2",
            "1",
            "3",
            "5",
        ]
        assert store.count(P, K) == 4 and store.count(P, "contact") == 1
        assert ids(store.search("deal c")) == ["3"] and ids(store.search("contact")) == ["4"]
        long = store.get_record_preview(RecordRef(profile=P, kind=K, id="5"))
        assert long is not None and long.record.updated_at == T0 + timedelta(minutes=7)
        assert long.lengths == {"notes": len(LONG)}
        # written again as this crmtui writes: the row and its preview move together
        store.upsert_records([rec("5", "Deal d", kind=K, minutes=8, notes=LONG, amount=50)])
        long = store.get_record_preview(RecordRef(profile=P, kind=K, id="5"))
        assert long is not None and long.record.updated_at == T0 + timedelta(minutes=8)
        store.upsert_records([rec("6", "Deal e", kind=K, minutes=1)])
        assert ids(store.window(P, K, offset=0, limit=9, sort="updated_at")) == [
            "2",
            "3",
            "6",
            "1",
            "5",
        ]
        assert store.integrity_check() == "ok"
    finally:
        store.close()
