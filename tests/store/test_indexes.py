"""Lists at scale: sorts and filters through expression indexes, windows read from the
end, the kept list sizes, and search of very common words."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crmtui.model import Change, ChangeOp, FieldSpec, FieldType, Record, RecordRef
from crmtui.store import Store, positions, records
from crmtui.store.db import LIST_OF, MIGRATIONS
from tests.helpers.waits import eventually_sync
from tests.store.factory import rec

P, K = "acme-fs", "deal"


def ids(found: list[Record]) -> list[str]:
    return [r.id for r in found]


def _amount(i: int) -> str | None:
    return None if i % 7 == 0 else f"{(i * 37) % 50}.50"


@pytest.fixture
def many(store: Store) -> Store:
    store.upsert_records(
        [
            rec(str(i), f"Deal {i % 13}", kind=K, amount=_amount(i), stage=str(i % 4), n=i % 5)
            for i in range(1, 301)
        ]
    )
    return store


def _expected(store: Store, key: str, descending: bool) -> list[str]:
    """The documented order computed in Python: numbers, empty values last, ties by id."""
    rows = store.window(P, K, offset=0, limit=1000)  # title order, all of them
    present = [r for r in rows if r.fields.get(key) is not None]
    empty = sorted((r for r in rows if r.fields.get(key) is None), key=lambda r: r.id)
    ordered = sorted(present, key=lambda r: (float(r.fields[key]), r.id), reverse=descending)
    if descending:
        empty.reverse()
    return ids(ordered) + ids(empty)


def _plan(store: Store, sql: str, params: list) -> str:
    with store._db.read() as conn:
        return " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


@pytest.mark.parametrize("descending", [False, True])
def test_field_sort_through_its_index_keeps_the_documented_order(
    many: Store, descending: bool
) -> None:
    many.put_fields(P, K, [FieldSpec(key="amount", label="Amount", type=FieldType.MONEY)])
    found = many.window(P, K, offset=0, limit=1000, sort="amount", descending=descending)
    assert ids(found) == _expected(many, "amount", descending)
    assert found[-1].fields.get("amount") is None  # empty values last, both ways
    order = records._order(many._db.conn, P, K, "amount", descending)
    assert order.index is not None
    where = f"WHERE r.list = {LIST_OF} AND r.is_deleted = 0"
    for condition, part in order.parts():  # ascending: the valued rows, then the empty ones
        sql = f"SELECT r.id FROM records r {where}{condition} ORDER BY {part} LIMIT 5"
        plan = _plan(many, sql, [P, K])
        assert order.index[0] in plan and "TEMP B-TREE" not in plan


def test_generic_sort_without_specs_and_ensure_sort_index(many: Store) -> None:
    many.ensure_sort_index(P, K, "amount")
    with many._db.read() as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")]
    assert sum(name.startswith("records_sort_") for name in names) == 1  # both ways
    for descending in (False, True):
        found = many.window(P, K, offset=0, limit=1000, sort="amount", descending=descending)
        assert ids(found) == _expected(many, "amount", descending)


def test_filter_uses_its_index_and_agrees_with_count(many: Store) -> None:
    window = many.window(P, K, offset=0, limit=1000, filters={"stage": "2"})
    assert {r.fields["stage"] for r in window} == {"2"}
    assert len(window) == many.count(P, K, filters={"stage": "2"}) == 75
    assert ids(window) == ids([r for r in many.window(P, K, offset=0, limit=1000) if r in window])
    numbers = many.window(P, K, offset=0, limit=1000, filters={"n": "3"})
    assert len(numbers) == 60 and {r.fields["n"] for r in numbers} == {3}
    with many._db.read() as conn:
        clause, params = records._filter_clause(conn, P, K, "stage", "2")
    where = f"WHERE list = {LIST_OF} AND is_deleted = 0 AND {clause}"
    plan = _plan(many, f"SELECT count(*) FROM records {where}", [P, K, *params])
    assert "records_filter_" in plan


def test_filter_on_tags_still_matches_array_members(store: Store) -> None:
    store.upsert_records(
        [
            rec("1", "A", kind=K, tags=["vip", "q4"]),
            rec("2", "B", kind=K, tags="vip"),
            rec("3", "C", kind=K, tags=["q1"]),
        ]
    )
    assert ids(store.window(P, K, offset=0, limit=5, filters={"tags": "vip"})) == ["1", "2"]
    assert store.count(P, K, filters={"tags": "q4"}) == 1


@pytest.mark.parametrize("sort", [None, "amount", "updated_at"])
def test_windows_read_from_the_end_match_offset_windows(many: Store, sort: str | None) -> None:
    whole = ids(many.window(P, K, offset=0, limit=1000, sort=sort, descending=True))
    assert len(whole) == 300
    for offset in (0, 140, 149, 150, 151, 200, 290, 299, 300, 310):
        for limit in (1, 7, 128):
            found = many.window(P, K, offset=offset, limit=limit, sort=sort, descending=True)
            assert ids(found) == whole[offset : offset + limit], (offset, limit)


def _true_count(store: Store, profile: str, kind: str) -> int:
    with store._db.read() as conn:
        return conn.execute(
            "SELECT count(*) FROM records WHERE profile = ? AND kind = ? AND is_deleted = 0",
            (profile, kind),
        ).fetchone()[0]


def test_kept_count_follows_upsert_delete_and_delete_profile(many: Store) -> None:
    assert many.count(P, K) == _true_count(many, P, K) == 300
    many.upsert_records([rec("1", "Again", kind=K), rec("301", "New", kind=K)])
    assert many.count(P, K) == 301
    many.mark_deleted(RecordRef(profile=P, kind=K, id="2"))
    many.mark_deleted(RecordRef(profile=P, kind=K, id="2"))
    assert many.count(P, K) == _true_count(many, P, K) == 300
    many.upsert_records([rec("2", "Back", kind=K)])  # the server shows it again
    assert many.count(P, K) == 301
    many.upsert_records([rec("x", "Other", kind="contact"), rec("y", "Else", profile="b")])
    assert many.count(P, "contact") == 1 and many.count("b", "company") == 1
    assert many.count_profile(P) == 302
    many.delete_profile(P)
    assert many.count(P, K) == many.count(P, "contact") == many.count_profile(P) == 0
    assert many.count("b", "company") == 1


def test_kept_count_follows_queued_creates_and_deletes(store: Store) -> None:
    store.upsert_records([rec("1", "One", kind=K)])
    ref = RecordRef(profile=P, kind=K, id="1")
    store.enqueue(Change(id="c1", ref=ref, op=ChangeOp.DELETE))
    assert store.count(P, K) == _true_count(store, P, K) == 0
    new = RecordRef(profile=P, kind=K, id="")
    store.enqueue(Change(id="c2", ref=new, op=ChangeOp.CREATE, values={"name": "Fresh"}))
    assert store.count(P, K) == _true_count(store, P, K) == 1


def test_an_old_cache_file_gets_its_counts(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(f"{MIGRATIONS[0]}; PRAGMA user_version = 1;")
    conn.executemany(
        "INSERT INTO records (profile, kind, id, vendor, title, is_deleted)"
        " VALUES ('p', 'deal', ?, 'v', 't', ?)",
        [(str(i), int(i % 4 == 0)) for i in range(1, 21)],
    )
    conn.commit()
    conn.close()
    store = Store(path)
    try:
        assert store.count("p", "deal") == 15
    finally:
        store.close()


def test_search_of_a_very_common_word_ranks_title_matches_first(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "SEARCH_CAP", 20)
    store.upsert_records(
        [rec(f"n{i}", f"Note {i}", kind="task", body="renewal call") for i in range(60)]
        + [rec(f"d{i}", f"Renewal {i}", kind=K) for i in range(30)]
    )
    found = store.search("renewal", limit=10)
    assert len(found) == 10 and all(r.title.startswith("Renewal") for r in found)
    tasks = store.search("renewal", limit=10, kinds=["task"])
    assert len(tasks) == 10 and {r.kind for r in tasks} == {"task"}
    assert len(store.search("renewal", limit=100)) == 90  # every match when asked for


# -- any window of a long list: built orders (positions) -----------------------------

LISTS = [
    {},
    {"descending": True},
    {"sort": "amount"},
    {"sort": "amount", "descending": True},
    {"sort": "updated_at", "descending": True},
    {"sort": "created_at"},
    {"filters": {"stage": "2"}},
    {"sort": "amount", "filters": {"stage": "1"}},
    {"search": "deal"},
    {"search": "deal 3", "descending": True},
]


def _window(store: Store, offset: int, limit: int, options: dict) -> list[str]:
    return ids(store.window(P, K, offset=offset, limit=limit, **options))


@pytest.mark.parametrize("options", LISTS)
def test_a_built_order_reads_the_same_windows_as_offset_paging(many: Store, options: dict) -> None:
    search, filters = options.get("search", ""), options.get("filters")
    whole = _window(many, 0, 1000, options)  # read before the order is built
    assert len(whole) == many.count(P, K, search=search, filters=filters) > 0
    assert many.prepare_list(P, K, **options) == len(whole)
    for offset in (0, 1, 17, len(whole) // 2, len(whole) - 3, len(whole), len(whole) + 5):
        for limit in (1, 7, 128):
            assert _window(many, offset, limit, options) == whole[offset : offset + limit]
    assert many.count(P, K, search=search, filters=filters) == len(whole)


def test_a_built_order_follows_every_change_of_its_list(many: Store) -> None:
    many.prepare_list(P, K)
    before = _window(many, 0, 1000, {})
    many.upsert_records([rec("500", "Aaa first", kind=K), rec("3", "Zzz last", kind=K)])
    after = _window(many, 0, 1000, {})
    assert after[0] == "500" and after[-1] == "3" and len(after) == len(before) + 1
    many.prepare_list(P, K)
    assert _window(many, 0, 1000, {}) == after
    many.mark_deleted(RecordRef(profile=P, kind=K, id="500"))
    assert _window(many, 0, 2, {})[0] != "500"
    assert many.count(P, K, search="aaa") == 0
    new = RecordRef(profile=P, kind=K, id="")
    many.enqueue(Change(id="c1", ref=new, op=ChangeOp.CREATE, values={"name": "Aaaa new"}))
    assert many.window(P, K, offset=0, limit=1)[0].title == "Aaaa new"


def test_a_long_list_builds_its_order_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(positions, "BUILD_FROM", 50)
    store = Store(tmp_path / "cache.sqlite3")
    try:
        store.upsert_records([rec(str(i), f"Deal {i:03}", kind=K) for i in range(200)])
        built: list[positions.Spec] = []
        store._positions.on_built = built.append
        assert _window(store, 150, 3, {}) == ["150", "151", "152"]  # read the old way
        eventually_sync(lambda: built, timeout=5)  # the order is built in the background
        with store._db.read() as conn:
            assert store._positions.get(conn, built[0]) is not None
        assert _window(store, 150, 3, {}) == ["150", "151", "152"]  # through the order
    finally:
        store.close()


def test_a_cache_of_the_previous_version_keeps_its_edits_and_search(tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite3"
    conn = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:3]):
        conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number + 1}; COMMIT;")
    conn.execute(
        "INSERT INTO records (profile, kind, id, vendor, title, fields, search_text)"
        " VALUES ('p', 'deal', '1', 'v', 'Acme renewal', '{\"city\":\"Lisbon\"}', 'Lisbon')"
    )
    conn.execute(
        "INSERT INTO records_fts (rowid, title, subtitle, search_text)"
        " VALUES (1, 'Acme renewal', '', 'Lisbon')"
    )
    ref = RecordRef(profile="p", kind="deal", id="1")
    change = Change(id="c1", ref=ref, op=ChangeOp.UPDATE, values={"stage": "won"})
    conn.execute(
        "INSERT INTO outbox (id, profile, kind, record_id, state, data)"
        " VALUES ('c1', 'p', 'deal', '1', 'queued', ?)",
        (change.model_dump_json(),),
    )
    conn.commit()
    conn.close()
    store = Store(path)
    try:
        assert [c.id for c in store.changes()] == ["c1"]
        assert ids(store.search("lisbon")) == ids(store.search("acme")) == ["1"]
        store.upsert_records([rec("1", "Beta renewal", kind="deal", profile="p", city="Porto")])
        assert store.search("lisbon") == [] and ids(store.search("porto")) == ["1"]
        shown = store.get_record(ref)
        assert shown is not None and shown.fields == {"city": "Porto", "stage": "won"}
        assert store.integrity_check() == "ok"
    finally:
        store.close()


def test_search_of_a_common_whole_word_and_of_what_is_still_being_typed(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "SEARCH_CAP", 20)
    store.upsert_records(
        [rec(f"d{i}", f"Renewal {i}", kind=K) for i in range(30)]
        + [rec("s1", "Renewals desk", kind=K), rec("s2", "Quiet", kind=K, note="renewals")]
    )
    common = store.search("renewal", limit=10)
    assert len(common) == 10 and all(r.title.startswith("Renewal ") for r in common)
    assert ids(store.search("renewals")) == ["s1", "s2"]  # a rarer word: every match, ranked
    typed = store.search("renew", limit=100)  # a prefix still finds every word it begins
    assert len(typed) == 32 and typed[-1].id == "s2"
    assert len(store.search("renewal", limit=100)) == 32  # all, when all are asked for
