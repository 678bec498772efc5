"""Records and edits for the store tests, as an adapter and the app would make them."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crmtui.model import Change, Record, RecordRef
from crmtui.store import Store
from crmtui.store.fts import INDEXED_CHARS

T0 = datetime(2026, 11, 1, 9, 0, 0, 123456, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
ACME = RecordRef(profile="acme-fs", kind="deal", id="1")


def rec(
    id: str,
    title: str,
    *,
    kind: str = "company",
    profile: str = "acme-fs",
    minutes: int = 0,
    **fields: Any,
) -> Record:
    """A record as an adapter would return it, updated ``minutes`` after T0."""
    return Record(
        vendor="freshsales",
        profile=profile,
        kind=kind,
        id=id,
        title=title,
        created_at=T0,
        updated_at=T0 + timedelta(minutes=minutes),
        fields=fields,
        raw={"id": id, "name": title},
    )


def edit(store: Store, ref: RecordRef, **values: object) -> Change:
    """Queue an edit of cached ``ref``, based on its cached version (as the app does)."""
    record = store.get_record(ref)
    assert record is not None
    base = {key: record.fields.get(key) for key in values}
    change = Change(ref=ref, values=values, base=base, base_updated_at=record.updated_at)
    return store.enqueue(change)


def on_disk(path: Path) -> dict[str, tuple[str, str | None, int]]:
    """Each change's state, owner and maybe_sent as a fresh connection reads them."""
    conn = sqlite3.connect(path)
    try:
        found = conn.execute("SELECT id, state, owner, maybe_sent FROM outbox").fetchall()
    finally:
        conn.close()
    return {row[0]: (row[1], row[2], row[3]) for row in found}


def ids(found: list[Any]) -> list[str]:
    """The ids of records found, in order."""
    return [r.id for r in found]


def long_value(tail_word: str, size: int = 3 * INDEXED_CHARS) -> str:
    """Text that starts with "overture" and has ``tail_word`` far past the indexed bound."""
    filler = "lorem ipsum dolor sit amet " * (size // 27)
    return f"overture {filler} {tail_word} finale"
