"""Keyless rows (schema 12, issue 16: bytes per record): a row whose fields have exactly
its list's keys, in order, is stored as a JSON array of its values.

What a user sees must not change: every record reads back as it was written (a key
absent or null, the keys' order, an extra key, every JSON type), long rows are previewed
as before, and sorts, filters, tag filters, counts and search give what a cache of rows
stored whole gives (the reference store here: the same records written as objects, as
crmtui wrote every row before schema 12).
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest

from crmtui.model import FieldSpec, FieldType, Record, RecordRef
from crmtui.store import Store, positions, rows
from crmtui.store.db import LONG_VALUE
from tests.store.factory import edit, rec, store_at

P, K = "acme-fs", "deal"
SPECS = [
    FieldSpec(key="name", label="Name"),
    FieldSpec(key="amount", label="Amount", type=FieldType.MONEY),
    FieldSpec(key="stage", label="Stage"),
    FieldSpec(key="won", label="Won", type=FieldType.BOOL),
    FieldSpec(key="tags", label="Tags", type=FieldType.MULTI_CHOICE),
    FieldSpec(key="owner", label="Owner"),
    FieldSpec(key="note", label="Note"),
]
WORDS = ["acme", "renewal", "northwind", "opal", "usher", "globex", "initech", "umbrella"]


def _typical(n: int) -> dict[str, Any]:
    """A deal's fields as its vendor sends most of them (the list's keys, in order)."""
    return {
        "name": f"{WORDS[n % 8]} {WORDS[(n * 3) % 8]} deal",
        "amount": f"{(n * 37) % 500}.50" if n % 5 else None,
        "stage": str(n % 4),
        "won": n % 3 == 0,
        "tags": ["vip", WORDS[n % 8]] if n % 4 else [],
        "owner": {"id": n % 7, "name": WORDS[(n + 1) % 8]},
        "note": f"{WORDS[(n + 2) % 8]} note {n}",
    }


# Rows of every other shape, each read back as written (keys, order, types).
ODD: dict[str, dict[str, Any]] = {
    "absent": {k: v for k, v in _typical(1).items() if k != "amount"},
    "nulls": dict.fromkeys(_typical(2), None),
    "reordered": dict(reversed(list(_typical(3).items()))),
    "extra": {**_typical(5), "extra": "northwind extra"},
    "empty": {},
    "types": {
        "name": '{"name": "looks like json"}',
        "amount": 12,
        "stage": 2.5,
        "won": True,
        "tags": [1, "vip", None, [True, {"a": "umbrella"}]],
        "owner": {"nested": {"deeper": [1, 2.0, "x"]}},
        "note": "[not an array, opal",
    },
    "texts": {
        "name": "[1, 2]",
        "amount": "0012",
        "stage": "",
        "won": "false",
        "tags": "vip",
        "owner": "ünïcødé 日本 😀",
        "note": '"quoted" \\ back\nline',
    },
}


KEYS = list(_typical(0))


def _arrays(records: list[Record]) -> set[str]:
    """The ids of the records whose rows are arrays: their keys exactly the list's."""
    return {r.id for r in records if list(r.fields) == KEYS}


def _deals() -> list[Record]:
    found = [rec(f"{n:04d}", f"Deal {n:04d}", kind=K, **_typical(n)) for n in range(60)]
    found += [rec(f"odd-{name}", f"Odd {name}", kind=K, **fields) for name, fields in ODD.items()]
    return found


def _shown(fields: dict[str, Any]) -> str:
    """Fields as the user sees them: keys in order, values with their JSON types."""
    return json.dumps(fields)


@contextmanager
def _objects(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Writes as crmtui wrote every row before schema 12: a JSON object of the fields."""
    with monkeypatch.context() as patched:
        patched.setattr(rows, "_shape", lambda record, fields: None)
        yield


def _stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, records: list[Record]
) -> tuple[Store, Store]:
    """The records in a store of keyless rows, and in the reference store."""
    keyless, whole = Store(tmp_path / "keyless.db"), Store(tmp_path / "whole.db")
    for store in (keyless, whole):
        store.put_fields(P, K, SPECS)
    keyless.upsert_records(records)
    with _objects(monkeypatch):
        whole.upsert_records(records)
    return keyless, whole


def _stored(path: Path) -> dict[str, str]:
    """Each record's ``fields`` column as stored, by id."""
    with closing(sqlite3.connect(path)) as conn:
        return dict(conn.execute("SELECT id, fields FROM records").fetchall())


def _reads(store: Store, ids: list[str]) -> dict[str, Any]:
    """Everything the app reads of each record: whole, previewed, field by field."""
    found: dict[str, Any] = {}
    for id_ in ids:
        ref = RecordRef(profile=P, kind=K, id=id_)
        record = store.get_record(ref)
        preview = store.get_record_preview(ref)
        assert record is not None and preview is not None
        fields = {key: store.get_field(ref, key) for key in [*record.fields, "missing"]}
        found[id_] = (
            _shown(record.fields),
            _shown(preview.record.fields),
            preview.record.partial,
            preview.lengths,
            _shown(fields),
        )
    return found


def _window(store: Store, **how: Any) -> list[tuple[str, str, bool]]:
    total = store.count(P, K, search=how.get("search", ""), filters=how.get("filters"))
    found = [
        (r.id, _shown(r.fields), r.partial)
        for offset in range(0, total, 17)
        for r in store.window(P, K, offset=offset, limit=17, **how)
    ]
    assert len(found) == total
    return found


LISTS: list[dict[str, Any]] = [
    {},
    *({"sort": key, "descending": way} for key in [s.key for s in SPECS] for way in (False, True)),
    {"sort": "updated_at", "descending": True},
    {"filters": {"stage": "2"}},
    {"filters": {"won": "true"}},
    {"filters": {"amount": "12"}},
    {"filters": {"tags": "vip"}},
    {"filters": {"tags": "opal", "stage": "3"}},
    {"filters": {"stage": "1"}, "sort": "amount"},
    {"search": "renewal"},
    {"search": "opal", "sort": "amount", "descending": True},
]
SEARCHES = ["acme", "renewal opal", "north", "vip", "json", "array", "extra", "ünïcødé", "日本"]


def _lists(store: Store) -> list[Any]:
    return [_window(store, **how) for how in LISTS]


def _searches(store: Store) -> list[list[str]]:
    return [[r.id for r in store.search(text, limit=100)] for text in SEARCHES]


def test_rows_read_back_as_written_whatever_their_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = _deals()
    keyless, whole = _stores(tmp_path, monkeypatch, records)
    try:
        ids = [r.id for r in records]
        read = _reads(keyless, ids)
        assert read == _reads(whole, ids)
        for record in records:
            assert read[record.id][0] == _shown(record.fields), record.id
    finally:
        keyless.close()
        whole.close()


def test_a_row_with_its_lists_keys_is_stored_without_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The point of it: a typical row holds its values only; any other shape is an object
    (the reference store holds objects only)."""
    records = _deals()
    keyless, whole = _stores(tmp_path, monkeypatch, records)
    keyless.close()
    whole.close()
    stored, objects = _stored(tmp_path / "keyless.db"), _stored(tmp_path / "whole.db")
    arrays = _arrays(records)
    assert {"odd-nulls", "odd-types", "odd-texts"} < arrays
    for id_, text in stored.items():
        shape = "[" if id_ in arrays else "{"
        assert text[0] == shape and objects[id_][0] == "{", (id_, text)
        if shape == "[":
            assert json.loads(text) == list(json.loads(objects[id_]).values())
            assert len(text) < len(objects[id_]) - len('"name":"amount":"stage":"won":')


def test_lists_sorts_filters_counts_and_search_are_those_of_whole_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list mixing array and object rows, read through its indexes, then through its
    built order: every window, count and search as the reference store gives them."""
    keyless, whole = _stores(tmp_path, monkeypatch, _deals())
    try:
        with monkeypatch.context() as patched:
            patched.setattr(positions, "BUILD_FROM", 10**9)  # windows walk the indexes
            walked = _lists(keyless)
            assert walked == _lists(whole)
        for how in LISTS:
            keyless.prepare_list(P, K, **how)
        assert _lists(keyless) == walked
        assert _searches(keyless) == _searches(whole)
        assert any(_searches(keyless)) and all(walked)
    finally:
        keyless.close()
        whole.close()


def test_an_edit_of_an_array_row_reads_as_edited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit queued on an array row (the optimistic row and the server's version kept
    beside it) reads, sorts and filters as on a whole row; a refresh keeps it."""
    records = _deals()
    keyless, whole = _stores(tmp_path, monkeypatch, records)
    try:
        ref = RecordRef(profile=P, kind=K, id="0007")
        for store in (keyless, whole):
            edit(store, ref, stage="9", note="edited umbrella")
            store.upsert_records(records[:10])
        read = _reads(keyless, ["0007"])
        assert json.loads(read["0007"][0])["stage"] == "9"
        assert read == _reads(whole, ["0007"])
        server = keyless.server_version(ref)
        assert server is not None and server.fields == _typical(7)
        assert _window(keyless, filters={"stage": "9"}) == _window(whole, filters={"stage": "9"})
        assert [r.id for r in keyless.search("edited umbrella")] == ["0007"]
    finally:
        keyless.close()
        whole.close()


def test_long_rows_stay_whole_and_are_previewed_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row of the list's keys with a value long enough for a window to cut (more than
    ``rows.PREVIEW_ROW`` bytes), or a title long enough for the record screen to cut (more
    than ``db.LONG_VALUE``), is stored as an object, cut as before, and read whole."""
    long_note = {**_typical(8), "note": "opal " + "é" * (rows.PREVIEW_ROW // 2)}
    long_title = "umbrella " + "t" * LONG_VALUE
    records = [
        *(rec(f"{n:04d}", f"Deal {n:04d}", kind=K, **_typical(n)) for n in range(8)),
        rec("long-note", "Long note", kind=K, **long_note),
        rec("long-title", long_title, kind=K, **_typical(9)),
    ]
    keyless, whole = _stores(tmp_path, monkeypatch, records)
    try:
        ids = [r.id for r in records]
        read = _reads(keyless, ids)
        assert read == _reads(whole, ids)
        assert read["long-note"][0] == _shown(long_note)
        assert read["long-title"][2] and read["long-title"][0] == _shown(_typical(9))
        shown = {r.id: r for r in keyless.window(P, K, offset=0, limit=20)}
        assert shown["long-note"].partial and shown["long-title"].partial
        assert shown["long-note"].fields["note"] == long_note["note"][: rows.PREVIEW_CHARS]
        assert _window(keyless) == _window(whole)
        assert [r.id for r in keyless.search("umbrella", limit=100)] == [
            r.id for r in whole.search("umbrella", limit=100)
        ]
    finally:
        keyless.close()
        whole.close()
    stored = _stored(tmp_path / "keyless.db")
    assert stored["long-note"][0] == stored["long-title"][0] == "{"
    assert stored["0001"][0] == "["


def test_a_forgotten_list_synced_again_with_other_keys_reads_right(tmp_path: Path) -> None:
    """Forgetting a profile forgets its lists' keys: synced again with another shape (or
    its list's number taken by another profile's list), rows read with their own."""
    store = Store(tmp_path / "c.db")
    try:
        first = [rec(f"{n}", f"Deal {n}", kind=K, **_typical(n)) for n in range(5)]
        store.upsert_records(first)
        store.delete_profile(P)
        other = [
            rec(f"{n}", f"Deal {n}", kind=K, **dict(reversed(list(_typical(n).items()))))
            for n in range(5)
        ]
        elsewhere = [
            rec(f"{n}", f"Co {n}", kind="company", profile="b", size=n, name=f"co {n}")
            for n in range(5)
        ]
        store.upsert_records(elsewhere)
        store.upsert_records(other)
        for records in (other, elsewhere):
            for record in records:
                found = store.get_record(record.ref)
                assert found is not None and _shown(found.fields) == _shown(record.fields)
            ref = records[0]
            shown = store.window(ref.profile, ref.kind, offset=0, limit=10)
            assert sorted(_shown(r.fields) for r in shown) == sorted(
                _shown(r.fields) for r in records
            )
        assert [r.id for r in store.window("b", "company", offset=0, limit=9, sort="size")] == [
            "0",
            "1",
            "2",
            "3",
            "4",
        ]
    finally:
        store.close()
    assert all(text[0] == "[" for text in _stored(tmp_path / "c.db").values())


def _first_batch(path: str, who: int, start: Any) -> None:
    """A process writing a first batch of the list, of its own shape, then reading every
    record of the list as written (whichever process set the list's keys)."""
    store = Store(path)
    try:
        mine = [_racing(who, n) for n in range(40)]
        start.wait(30)
        store.upsert_records(mine)
        start.wait(30)
        for other in (1, 2):
            expected = {r.id: _shown(r.fields) for r in (_racing(other, n) for n in range(40))}
            shown = {r.id: _shown(r.fields) for r in store.window(P, K, offset=0, limit=200)}
            assert {k: shown[k] for k in expected} == expected
    finally:
        store.close()


def _racing(who: int, n: int) -> Record:
    fields = _typical(n) if who == 1 else dict(reversed(list(_typical(n).items())))
    return rec(f"{who}-{n:03d}", f"Deal {who} {n:03d}", kind=K, **fields)


def test_two_processes_writing_a_lists_first_batch_at_once_both_read_right(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "c.db")
    Store(path).close()
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(2)
    writers = [spawn.Process(target=_first_batch, args=(path, who, start)) for who in (1, 2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    assert [w.exitcode for w in writers] == [0, 0]
    stored = _stored(tmp_path / "c.db")
    assert sorted(text[0] for text in stored.values()) == ["["] * 40 + ["{"] * 40


def _everything(store: Store, ids: list[str]) -> list[Any]:
    return [_reads(store, ids), _lists(store), _searches(store), store.count(P, K)]


def test_the_upgrade_from_schema_11_keeps_every_record_list_and_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A schema-11 cache (rows whole, field sort and filter indexes built, an edit queued)
    upgraded: typical rows stored as arrays, and every record, window, count and search
    as before; the indexes built before (of whole rows) are dropped, built again."""
    path = tmp_path / "c.db"
    records = _deals()
    ids = [r.id for r in records]
    ref = RecordRef(profile=P, kind=K, id="0011")
    with store_at(path, monkeypatch, 11) as old:
        old.put_fields(P, K, SPECS)
        old.upsert_records(records)
        edit(old, ref, amount="1.25")
        before = _everything(old, ids)
    with closing(sqlite3.connect(path)) as conn:
        built = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert any(name.startswith("records_filter_") for name in built)
    store = Store(path)
    try:
        assert _everything(store, ids) == before
        server = store.server_version(ref)
        assert server is not None and server.fields == _typical(11)
    finally:
        store.close()
    stored = _stored(path)
    assert {i for i, text in stored.items() if text[0] == "["} == _arrays(records)
    with closing(sqlite3.connect(path)) as conn:
        now = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    fields = {n for n in built if n.startswith(("records_sort_", "records_filter_"))}
    assert fields and not fields & now
