"""A compressed raw payload (schema 8) whose bytes were damaged on disk.

SQLite's own check cannot see inside the compressed bytes. Opening the record raised
zlib's error, which the app did not know as the cache's (no file named, no salvage
offered), and ``crmtui cache check`` called the cache sound.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crmtui.model import Change, Record, RecordRef
from crmtui.store import Store, health

REF = RecordRef(profile="p", kind="deals", id="d1")


def _damaged_cache(path: Path) -> None:
    store = Store(path)
    store.upsert_records(
        [
            Record(
                vendor="salesseek",
                profile="p",
                kind="deals",
                id="d1",
                title="Acme",
                raw={"note": "x" * 2000},
            )
        ]
    )
    store.enqueue(Change(ref=REF, values={"stage": "won"}), vendor="salesseek")
    store.close()
    conn = sqlite3.connect(path)
    rec, raw = conn.execute("SELECT rec, raw FROM records_raw").fetchone()
    assert isinstance(raw, bytes)  # stored compressed
    conn.execute(
        "UPDATE records_raw SET raw = ? WHERE rec = ?", (raw[:8] + b"\0" * 12 + raw[20:], rec)
    )
    conn.commit()
    conn.close()


def test_a_payload_that_does_not_unpack_is_a_damaged_cache(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    _damaged_cache(path)
    store = Store(path)
    with pytest.raises(sqlite3.DatabaseError) as caught:
        store.get_record(REF)
    told = str(store.unusable(caught.value))
    assert "is damaged" in told and "does not unpack" in told
    assert "1 queued edit" in told and "crmtui cache salvage" in told
    store.close()

    report = health.check(path)
    assert not report.ok
    assert "does not unpack" in report.lines[0]

    health.salvage(path)
    fresh = Store(path)
    assert [c.values for c in fresh.changes()] == [{"stage": "won"}]
    fresh.close()
    assert health.check(path).ok
