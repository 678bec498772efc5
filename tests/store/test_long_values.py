"""Records with very long values: stored whole, searched by their start, written and read
without redoing work the cache already did (issue 12, bounded sizes)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from crmtui.model import Change, ChangeOp, RecordRef
from crmtui.store import Store, records, rows
from crmtui.store.db import MIGRATIONS, dumps
from tests.store.factory import ids, long_value, rec

REF = RecordRef(profile="acme-fs", kind="company", id="1")


def test_a_long_value_is_stored_whole_and_found_by_its_start(store: Store) -> None:
    value = long_value("zebraword")
    store.upsert_records([rec("1", "Acme", description=value)])
    got = store.get_record(REF)
    assert got is not None and got.fields["description"] == value  # whole
    assert ids(store.search("overture")) == ["1"]  # words at the start are found
    assert ids(store.search("Acme")) == ["1"]
    assert store.search("zebraword") == []  # past the bound: not indexed (fts.INDEXED_CHARS)
    store.upsert_records([rec("1", "Acme", description=long_value("other"), note="plain")])
    assert ids(store.search("plain")) == ["1"] and ids(store.search("overture")) == ["1"]
    assert store.integrity_check() == "ok"


def test_a_cache_indexed_whole_before_the_bound_forgets_the_old_words(tmp_path: Path) -> None:
    """A row indexed with its whole value (a cache of schema 4) leaves the contentless
    index with that text: a word past the bound is no longer found once the value changed
    (taken out with the cut text, it would stay in the index, found for ever)."""
    path = tmp_path / "v4.sqlite3"
    conn = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:4]):
        conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number + 1}; COMMIT;")
    old_value = long_value("zebraword")
    for rowid, id_, fields in (
        (1, "1", {"description": old_value}),
        (2, "2", {"description": long_value("yakword")}),
        (3, "3", {"city": "Lisbon"}),
    ):
        conn.execute(
            "INSERT INTO records (rowid, profile, kind, id, vendor, title, fields)"
            " VALUES (?, 'acme-fs', 'company', ?, 'freshsales', ?, ?)",
            (rowid, id_, f"Company {id_}", dumps(fields)),
        )
        whole = "\n".join(fields.values())  # as schema 4 indexed it: every value whole
        conn.execute(
            "INSERT INTO records_fts (rowid, title, subtitle, search_text) VALUES (?, ?, '', ?)",
            (rowid, f"Company {id_}", whole),
        )
    conn.commit()
    conn.close()
    store = Store(path)
    try:
        assert ids(store.search("zebraword")) == ["1"]  # indexed whole, still found
        store.upsert_records([rec("1", "Company 1", description=long_value("newword"))])
        assert store.search("zebraword") == []  # the old words left with the old text
        assert store.search("newword") == []  # the new value is indexed to the bound
        assert ids(store.search("overture")) == ["1", "2"]
        store.delete_profile("acme-fs")
        assert store.search("yakword") == [] and store.search("Lisbon") == []
        store.upsert_records([rec("4", "Company 4", city="Porto")])  # rowids used again
        assert ids(store.search("Porto")) == ["4"] and store.search("Lisbon") == []
        assert store.integrity_check() == "ok"
    finally:
        store.close()


def test_a_refresh_that_changes_only_the_raw_payload_stores_it(store: Store) -> None:
    first = rec("1", "Acme", description=long_value("x"))
    store.upsert_records([first])
    store.upsert_records([first])  # unchanged: nothing to write, nothing lost
    got = store.get_record(REF)
    assert got is not None and got.raw == first.raw and got.fields == first.fields
    changed_raw = first.model_copy(update={"raw": {"id": "1", "name": "Acme", "v": 2}})
    store.upsert_records([changed_raw])
    got = store.get_record(REF)
    assert got is not None and got.raw == {"id": "1", "name": "Acme", "v": 2}
    store.upsert_records([first.model_copy(update={"title": "Acme Ltd"})])
    assert ids(store.search("Ltd")) == ["1"]


def test_a_large_refresh_keeps_a_queued_edit(tmp_path: Path) -> None:
    """A record of a few megabytes is written on a second connection (the UI reads on
    meanwhile): the user's queued edit is still what the record shows."""
    store = Store(tmp_path / "cache.sqlite3")
    try:
        big = "word " * (records.LARGE // 4)
        store.upsert_records([rec("1", "Acme", description=big, city="Lisbon")])
        store.enqueue(
            Change(ref=REF, op=ChangeOp.UPDATE, values={"city": "Porto"}, base={"city": "Lisbon"})
        )
        store.upsert_records([rec("1", "Acme", minutes=5, description=big + "more", city="Faro")])
        got = store.get_record(REF)
        assert got is not None and got.fields["city"] == "Porto"  # the edit still shows
        assert got.fields["description"] == big + "more"  # the server's new value under it
        server = store.server_version(REF)
        assert server is not None and server.fields["city"] == "Faro"
        assert store.integrity_check() == "ok"
    finally:
        store.close()


def test_a_large_record_read_again_sees_every_write(tmp_path: Path) -> None:
    """A large row's decoded form is kept between reads; any write, by this store or by
    another process, is seen, and a caller changing what it got changes nothing else."""
    path = tmp_path / "cache.sqlite3"
    store, other = Store(path), Store(path)
    try:
        big = "word " * (records.LARGE // 4)
        store.upsert_records([rec("1", "Acme", description=big)])
        first = store.get_record(REF)
        assert first is not None
        first.fields["description"] = "changed by the caller"
        again = store.get_record(REF)
        assert again is not None and again.fields["description"] == big
        other.upsert_records([rec("1", "Acme", description=big + "!")])  # another process
        seen = store.get_record(REF)
        assert seen is not None and seen.fields["description"] == big + "!"
        store.upsert_records([rec("1", "Acme", description=big + "?")])
        seen = store.get_record(REF)
        assert seen is not None and seen.fields["description"] == big + "?"
    finally:
        store.close()
        other.close()


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    ),
    st.integers(min_value=1, max_value=64),
)
def test_encode_writes_what_dumps_writes(value: object, slice_: int) -> None:
    """Long strings are escaped a slice at a time: the text is the same at any slice."""
    original = rows.SLICE
    rows.SLICE = slice_
    try:
        assert rows.encode(value) == dumps(value)
        if not (isinstance(value, float) and value != value):
            assert json.loads(rows.encode(value)) == json.loads(dumps(value))
    finally:
        rows.SLICE = original
