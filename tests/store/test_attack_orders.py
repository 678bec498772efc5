"""Attacks on built list orders read through a filter's index, then sorted.

A list's windows read by SQL (``ORDER BY`` the list's order, before its order is built)
and the same windows once ``prepare_list`` built the order must be the very same rows in
the very same order, whatever the values: ties on the sort value, empty values, numbers
stored as text beside numbers, text beside numbers, case differences in titles, either
direction, deleted rows, another profile's rows of the same kind, and a record changed
while the order is being built.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from crmtui.model import FieldSpec, FieldType, Record, RecordRef
from crmtui.store import Store, positions

VALUES: list[object] = [
    None,
    0,
    1,
    2,
    2.0,
    2.5,
    -0.0,
    10**20,
    1e300,
    "2",
    "2.0",
    "02",
    "10",
    "9",
    "-1",
    "-",
    "--1",
    "1.",
    ".5",
    "3-4",
    "1e3",
    "abc",
    "ABC",
    "Abc",
    "",
    " ",
    "é",
    "É",
    "x\x00y",
    True,
    False,
    ["x", "y"],
    {"a": 1},
]
STAGES: list[object] = ["1", "2", 2, 2.0, "3", None, ["1", "2"], "x", "X"]
TITLES = ["alpha", "Alpha", "ALPHA", "alpha ", "beta", "Beta", "", "é", "É", "z"]
SORTS = [None, "title", "amount", "name", "stage", "updated_at", "created_at"]
FILTERS = [
    {"stage": "1"},
    {"stage": "2"},
    {"stage": "x"},
    {"owner": "1", "stage": "2"},
    {"stage": "2", "owner": "1"},
    {"owner": "nobody"},
]


def _record(pick: random.Random, profile: str, i: int) -> Record:
    fields: dict[str, object] = {}
    for key in ("amount", "name", "stage", "owner"):
        if pick.random() < 0.85:
            fields[key] = pick.choice(STAGES if key in ("stage", "owner") else VALUES)
    return Record(
        vendor="v",
        profile=profile,
        kind="deals",
        id=pick.choice(["", "a", "A", "b", "Z"]) + str(i),
        title=pick.choice(TITLES),
        fields=fields,
    )


def _store(path: str, seed: int, n: int = 400) -> Store:
    pick = random.Random(seed)
    store = Store(path)
    specs = [
        FieldSpec(key="amount", label="Amount", type=FieldType.MONEY),
        FieldSpec(key="name", label="Name"),
        FieldSpec(key="stage", label="Stage"),
        FieldSpec(key="owner", label="Owner"),
    ]
    for profile in ("p", "q"):  # another profile, the same kind
        store.put_fields(profile, "deals", specs)
        store.upsert_records([_record(pick, profile, i) for i in range(n)])
    for i in pick.sample(range(n), n // 8):
        for prefix in ("", "a", "A", "b", "Z"):
            store.mark_deleted(RecordRef(profile="p", kind="deals", id=f"{prefix}{i}"))
    return store


def _ids(store: Store, kw: dict[str, object], n: int, step: int) -> list[str]:
    """Every row of the list, read ``step`` at a time from the top."""
    return [
        r.id
        for offset in range(0, n + step, step)
        for r in store.window("p", "deals", offset=offset, limit=step, **kw)  # type: ignore[arg-type]
    ]


def _windows(store: Store, kw: dict[str, object], n: int) -> list[list[str]]:
    return [_ids(store, kw, n, step) for step in (n + 10, 7)]


@pytest.mark.parametrize("seed", [1, 2])
def test_built_order_is_the_lists_sql_order(seed: int) -> None:
    store = _store(":memory:", seed)  # in memory: no background build, SQL until built
    try:
        for sort in SORTS:
            for descending in (False, True):
                for filters in FILTERS:
                    kw: dict[str, object] = {
                        "sort": sort,
                        "descending": descending,
                        "filters": filters,
                    }
                    n = store.count("p", "deals", filters=filters)
                    by_sql = _windows(store, kw, n)
                    assert by_sql[0] == by_sql[1] and len(by_sql[0]) == n, kw
                    assert store.prepare_list("p", "deals", **kw) == n, kw  # type: ignore[arg-type]
                    assert _windows(store, kw, n) == by_sql, kw
    finally:
        store.close()


def test_a_record_changed_while_its_list_builds_is_shown_as_it_is_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(str(tmp_path / "cache.db"), 3, n=200)
    kw: dict[str, object] = {"sort": "amount", "descending": False, "filters": {"stage": "2"}}
    try:
        shown = [r for r in store.window("p", "deals", offset=0, limit=1000, **kw)]  # type: ignore[arg-type]
        first, second = shown[0], shown[1]
        read = positions.version
        changed: list[bool] = []

        def changing(conn: object, profile: str, kind: str) -> int:
            stamp = read(conn, profile, kind)  # type: ignore[arg-type]
            if not changed and conn is not store._db.conn:  # the builder's snapshot
                changed.append(True)
                moved = first.model_copy(update={"fields": {**first.fields, "amount": 10**9}})
                gone = second.model_copy(update={"fields": {**second.fields, "stage": "9"}})
                store.upsert_records([moved, gone])
            return stamp

        monkeypatch.setattr(positions, "version", changing)
        store.prepare_list("p", "deals", **kw)  # type: ignore[arg-type]
        monkeypatch.setattr(positions, "version", read)
        assert changed
        now = [r.id for r in store.window("p", "deals", offset=0, limit=1000, **kw)]  # type: ignore[arg-type]
        assert second.id not in now and len(now) == len(shown) - 1
        fresh = Store(tmp_path / "cache.db")  # nothing built there: the list's SQL order
        try:
            assert now == [r.id for r in fresh.window("p", "deals", offset=0, limit=1000, **kw)]  # type: ignore[arg-type]
        finally:
            fresh.close()
        assert store.prepare_list("p", "deals", **kw) == len(now)  # type: ignore[arg-type]
        assert [r.id for r in store.window("p", "deals", offset=0, limit=1000, **kw)] == now  # type: ignore[arg-type]
    finally:
        store.close()
