"""A list's order is built in a background thread (``positions``): whatever stops the
build (the cache taken over by a newer crmtui, a file no longer a cache) leaves the list
read the slower way, never an exception escaping the thread (printed over the screen)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from crmtui.store import Store, positions
from tests.helpers.waits import eventually_sync
from tests.store.factory import rec

P, K = "acme-fs", "deal"


def builders() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.endswith("(_run)")]


@pytest.mark.parametrize("version", [99, "not a number"])
def test_a_build_that_cannot_open_the_cache_fails_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: object
) -> None:
    escaped: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: escaped.append(args.exc_value))
    monkeypatch.setattr(positions, "BUILD_FROM", 10)
    monkeypatch.setattr(positions, "SETTLE_S", 0.0)
    path = tmp_path / "cache.sqlite3"
    store = Store(path)
    try:
        store.upsert_records([rec(str(i), f"Deal {i:02}", kind=K) for i in range(30)])
        other = sqlite3.connect(path)  # a newer crmtui (or another program) took it over
        if version == 99:
            other.execute("PRAGMA user_version = 99")
        else:
            other.execute("CREATE TABLE strangers (x)")
            other.execute("PRAGMA user_version = 0")
        other.commit()
        other.close()
        shown = store.window(P, K, offset=3, limit=4)  # asks for the order's build
        eventually_sync(lambda: not builders())
        assert [r.id for r in shown] == ["3", "4", "5", "6"]
        assert escaped == []
        assert [r.id for r in store.window(P, K, offset=27, limit=9)] == ["27", "28", "29"]
    finally:
        store.close()
