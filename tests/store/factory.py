"""Records and edits for the store tests, as an adapter and the app would make them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crmtui.model import Change, ChangeOp, FieldSpec, Record, RecordRef
from crmtui.store import Store, db, rows
from crmtui.store.db import MIGRATIONS, dumps
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


def old_cache(path: Path, version: int) -> sqlite3.Connection:
    """A new cache file at schema ``version``, as the crmtui of that schema made it
    (an open connection, for the test to fill as that crmtui would)."""
    conn = sqlite3.connect(path)
    for number, migration in enumerate(MIGRATIONS[:version]):
        conn.execute("BEGIN")
        if isinstance(migration, str):
            conn.executescript(migration)
        else:
            migration(conn)
        conn.execute(f"PRAGMA user_version = {number + 1}")
        conn.commit()
    return conn


def old_specs(conn: sqlite3.Connection, profile: str, kind: str, specs: list[FieldSpec]) -> None:
    """A kind's field specs in an old cache."""
    conn.execute(
        "INSERT INTO field_specs (profile, kind, data) VALUES (?, ?, ?)",
        (profile, kind, dumps([s.model_dump(mode="json") for s in specs])),
    )


def old_amount_index(conn: sqlite3.Connection, name: str, head: str) -> None:
    """A sort index of the field ``amount`` as crmtui built it before schema 10 (its
    value ``CAST .. AS REAL``), its columns ``head`` then the value and id."""
    value = "CAST(json_extract(fields, '$.\"amount\"') AS REAL)"
    conn.execute(f"CREATE INDEX {name} ON records ({head}, {value}, id)")


def close_old_cache(conn: sqlite3.Connection, ref: RecordRef, change_id: str = "c1") -> None:
    """An old cache made (``old_cache``) with a queued edit of ``ref`` in its outbox, as
    its crmtui wrote it: committed and closed."""
    change = Change(id=change_id, ref=ref, op=ChangeOp.UPDATE, values={"x": 1})
    conn.execute(
        "INSERT INTO outbox (id, profile, kind, record_id, state, data)"
        " VALUES (?, ?, ?, ?, 'queued', ?)",
        (change.id, ref.profile, ref.kind, ref.id, change.model_dump_json()),
    )
    conn.commit()
    conn.close()


def old_row(
    conn: sqlite3.Connection, rowid: int, columns: dict[str, Any], search_text: str, raw: str
) -> None:
    """A record in an old cache: its row (``columns`` as that schema held them), its
    entry in the search index (title, no subtitle, ``search_text``) and its raw payload."""
    names = ", ".join(columns)
    conn.execute(
        f"INSERT INTO records (rowid, {names}) VALUES (?{', ?' * len(columns)})",
        (rowid, *columns.values()),
    )
    conn.execute(
        "INSERT INTO records_fts (rowid, title, subtitle, search_text) VALUES (?, ?, '', ?)",
        (rowid, columns["title"], search_text),
    )
    conn.execute("INSERT INTO records_raw (rec, raw) VALUES (?, ?)", (rowid, raw))


def upgraded_names(conn: sqlite3.Connection) -> set[str]:
    """The schema objects of a cache that must be at the newest version (asserted)."""
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    return {n for (n,) in conn.execute("SELECT name FROM sqlite_master")}


@contextmanager
def store_at(path: Path, monkeypatch: pytest.MonkeyPatch, version: int) -> Iterator[Store]:
    """This crmtui's store on a cache of schema ``version`` (11 or less), as the crmtui
    of that schema used it: rows written as JSON objects, and a list's ``keys`` (schema
    12), which its reads name, there only while it is open, empty."""
    with monkeypatch.context() as patched:
        patched.setattr(db, "SCHEMA_VERSION", version)
        patched.setattr(rows, "_shape", lambda record, fields: None)
        Store(path).close()
        _alter_lists(path, "ADD COLUMN keys TEXT")
        store = Store(path)
        try:
            yield store
        finally:
            store.close()
            _alter_lists(path, "DROP COLUMN keys")


def _alter_lists(path: Path, change: str) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"ALTER TABLE lists {change}")
