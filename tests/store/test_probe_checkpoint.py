"""A cache another process is checkpointing is not called damaged (issue 16's larger
schema made the window wide enough for two processes opening a cache at once to meet it:
the checkpoint writes the header page, which counts every page, before the others)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from crmtui.store import Store, health


def _half_written(path: Path) -> int:
    """A cache cut to its first pages, as a checkpoint under way leaves it; its length."""
    store = Store(path)
    with store._db.transaction() as conn:
        conn.execute("CREATE TABLE filler (x TEXT)")
        conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 3000,)] * 100)
    store.close()
    whole = path.stat().st_size
    with path.open("r+b") as handle:
        handle.truncate(whole // 3 // 4096 * 4096)  # whole pages, as a checkpoint writes
    return whole


def test_a_file_cut_short_with_a_wal_beside_it_is_left_to_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    _half_written(path)
    Path(f"{path}-wal").write_bytes(b"\0" * 4096)  # the frames the checkpoint copies
    assert health.probe(path) is None


def test_a_file_cut_short_alone_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    whole = _half_written(path)
    found = health.probe(path)
    assert found is not None and f"of {whole} bytes" in str(found)
    assert "damaged (truncated" in str(found)
    conn = sqlite3.connect(path)  # and SQLite agrees, so nothing else would catch it
    try:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] != "ok"
    except sqlite3.DatabaseError:
        pass
    finally:
        conn.close()
