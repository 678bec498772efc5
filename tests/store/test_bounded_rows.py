"""A 20 MB title, subtitle or field: the search index holds its first characters only, and
a list's rows (windows, search results) carry a preview of it, never the whole value
(issue 12, bounded sizes). The record itself is stored and read whole."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from crmtui.model import RecordRef
from crmtui.store import Store, rows
from crmtui.store.db import MIGRATIONS, dumps
from tests.store.factory import ids, long_value, rec

REF = RecordRef(profile="acme-fs", kind="company", id="1")


def index_bytes(store: Store) -> int:
    with store._db.read() as conn:
        found = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name = 'records_fts_data'")
        return int(found.fetchone()[0] or 0)


def test_a_long_title_and_subtitle_are_indexed_to_the_bound(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache.sqlite3")
    try:
        small = index_bytes(store)
        title, subtitle = long_value("zebraword"), long_value("yakword", size=2_000_000)
        store.upsert_records(
            [rec("1", title, city="Lisbon").model_copy(update={"subtitle": subtitle})]
        )
        got = store.get_record(REF)
        assert got is not None and (got.title, got.subtitle) == (title, subtitle)  # whole
        assert ids(store.search("overture")) == ["1"]
        assert store.search("zebraword") == [] and store.search("yakword") == []
        assert index_bytes(store) < small + 200_000  # not 2 MB of index for 2 MB of text
        changed = rec("1", long_value("newword"), city="Porto")
        store.upsert_records([changed])  # out of the index with the text it went in with
        assert ids(store.search("Porto")) == ["1"] and store.search("Lisbon") == []
        store.delete_profile("acme-fs")
        assert store.search("overture") == [] and store.search("Porto") == []
        assert store.integrity_check() == "ok"
    finally:
        store.close()


def test_a_cache_that_indexed_a_long_subtitle_whole_forgets_its_old_words(tmp_path: Path) -> None:
    """A row of a schema-5 cache, its subtitle indexed whole, leaves the index with it."""
    path = tmp_path / "v5.sqlite3"
    conn = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:5]):
        conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number + 1}; COMMIT;")
    for rowid, id_, subtitle in ((1, "1", long_value("zebraword")), (2, "2", "Lisbon")):
        conn.execute(
            "INSERT INTO records (rowid, profile, kind, id, vendor, title, subtitle, fields)"
            " VALUES (?, 'acme-fs', 'company', ?, 'freshsales', ?, ?, ?)",
            (rowid, id_, f"Company {id_}", subtitle, dumps({})),
        )
        conn.execute(  # as schema 5 indexed it: the subtitle whole
            "INSERT INTO records_fts (rowid, title, subtitle, search_text) VALUES (?, ?, ?, '')",
            (rowid, f"Company {id_}", subtitle),
        )
    conn.commit()
    conn.close()
    store = Store(path)
    try:
        assert ids(store.search("zebraword")) == ["1"]  # indexed whole, still found
        store.upsert_records([rec("1", "Company 1", city="Faro")])
        assert store.search("zebraword") == [] and store.search("overture") == []
        assert ids(store.search("Faro")) == ["1"]
        store.delete_profile("acme-fs")
        assert store.search("Lisbon") == [] and store.search("Company") == []
        assert store.integrity_check() == "ok"
    finally:
        store.close()


def test_a_list_window_and_search_carry_a_preview_of_long_values(store: Store) -> None:
    body = long_value("zebraword", size=rows.PREVIEW_ROW * 2)
    title = "Acme " + long_value("yakword")
    store.upsert_records(
        [
            rec("1", title, description=body, done=True, hot=False, n=3, x=1.5, tags=["a", "b"]),
            rec("2", "Beta", description="short", done=False),
        ]
    )
    window = store.window("acme-fs", "company", offset=0, limit=10)
    found = store.search("Acme")
    for shown in (window[0], found[0]):
        assert shown.id == "1" and shown.partial
        assert shown.title == title[: rows.PREVIEW_CHARS]
        assert shown.fields["description"] == body[: rows.PREVIEW_CHARS]
        assert {k: v for k, v in shown.fields.items() if k != "description"} == {
            "done": True,
            "hot": False,
            "n": 3,
            "x": 1.5,
            "tags": ["a", "b"],
        }
    assert not window[1].partial and window[1].fields == {"description": "short", "done": False}
    got = store.get_record(REF)
    assert got is not None and not got.partial
    assert got.title == title and got.fields["description"] == body  # the record: whole
