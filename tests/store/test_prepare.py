"""Indexes built ahead of the user: the first sort or filter of a long list is as fast as
the next, and the build never holds the lock the list's reads take."""

from __future__ import annotations

import threading
from pathlib import Path

from crmtui.model import FieldSpec, FieldType, KindInfo
from crmtui.store import Store
from tests.store.factory import rec

P, K = "acme-fs", "deal"
INFO = KindInfo(
    kind=K,
    label="Deals",
    singular="Deal",
    columns=["title", "amount", "stage", "owner"],
    sortable=["title", "amount", "stage", "updated_at"],
    filters=[
        FieldSpec(key="stage", label="Stage", type=FieldType.CHOICE),
        FieldSpec(key="pipeline_view", label="View", type=FieldType.CHOICE),
    ],
)
SPECS = [
    FieldSpec(key="amount", label="Amount", type=FieldType.MONEY),
    FieldSpec(key="stage", label="Stage", type=FieldType.CHOICE),
    FieldSpec(key="owner", label="Owner", type=FieldType.USER),
]


def filled(path: Path) -> Store:
    store = Store(path)
    store.put_fields(P, K, SPECS)
    store.upsert_records(
        rec(str(i), f"Deal {i}", kind=K, amount=f"{i % 97}.00", stage=str(i % 5), owner="7")
        for i in range(500)
    )
    return store


def index_names(store: Store) -> set[str]:
    with store._db.read() as conn:
        return {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}


def test_the_plan_covers_sortable_shown_columns_both_ways_and_cache_filters(
    tmp_path: Path,
) -> None:
    store = filled(tmp_path / "c.sqlite3")
    wanted = store.list_indexes(P, INFO)
    definitions = " ".join(d for _, d in wanted)
    # amount and stage are shown and sortable (one index each serves both directions);
    # owner is shown but not sortable; stage is a cache filter; pipeline_view is a
    # vendor-side filter only.
    assert len(wanted) == 3
    assert '"amount"' in definitions and '"stage"' in definitions
    assert '"owner"' not in definitions and "pipeline_view" not in definitions
    assert store.build_indexes(wanted) == 3
    assert store.list_indexes(P, INFO) == []


def test_after_the_build_the_first_sort_and_filter_build_nothing(tmp_path: Path) -> None:
    store = filled(tmp_path / "c.sqlite3")
    store.build_indexes(store.list_indexes(P, INFO))
    before = index_names(store)
    for descending in (False, True):
        store.window(P, K, offset=0, limit=50, sort="amount", descending=descending)
        store.window(P, K, offset=0, limit=50, sort="stage", descending=descending)
    store.window(P, K, offset=0, limit=50, filters={"stage": "3"})
    assert index_names(store) == before


def test_the_build_runs_while_the_lists_lock_is_held(tmp_path: Path) -> None:
    """A UI read holds the store's lock; the build must not wait for it (nor it for us)."""
    store = filled(tmp_path / "c.sqlite3")
    wanted = store.list_indexes(P, INFO)
    built: list[int] = []
    with store._db.lock:  # what a window read holds
        worker = threading.Thread(target=lambda: built.append(store.build_indexes(wanted)))
        worker.start()
        worker.join(timeout=10)
        assert not worker.is_alive(), "the index build waited for the list's lock"
        # the main connection reads on while the side connection has written
        assert len(store.window(P, K, offset=0, limit=10, sort="amount")) == 10
    assert built == [3]
