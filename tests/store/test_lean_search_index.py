"""Schema 11 (issue 16, the cache's bytes per record): the search index keeps each word
once, without the 2- and 3-letter prefix indexes that held every word's first letters
again. What a user sees does not change: a prefix of any length finds every record whose
words it begins, and a search ranks the same records in the same order; a cache of
schema 10 (records indexed with their values cut, some still indexed whole, a queued
edit) comes through the upgrade with its search exactly as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from benchmarks import data
from crmtui.model import RecordRef
from crmtui.store import Store
from crmtui.store.db import dumps, to_stamp
from crmtui.store.fts import WEIGHTS, fts_query, search_text
from crmtui.store.ranking import tokens
from tests.store import factory
from tests.store.factory import T0, ids, long_value, rec

P, K = "acme-fs", "deal"
_BM25 = f"bm25(records_fts, {', '.join(str(w) for w in WEIGHTS)})"


def index_bytes(store: Store) -> int:
    """The bytes of the search index's pages (its terms and their lists)."""
    with store._db.read() as conn:
        found = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name GLOB 'records_fts_*'")
        return int(found.fetchone()[0] or 0)


def test_every_prefix_finds_every_record_it_begins_a_word_of(tmp_path: Path) -> None:
    """500 deals as the benchmark makes them: a search of any word's first 1 to 5 letters
    counts the records with a word so begun in their title, subtitle or a text field; the
    index takes under 250 bytes a deal (with the prefix indexes it took about 400)."""
    store = Store(tmp_path / "cache.sqlite3")
    try:
        store.put_fields(data.PROFILE, data.KIND, data.SPECS)
        deals = list(data.deals(500))
        store.upsert_records(deals)
        seen = [set(tokens(f"{d.title}\n{d.subtitle}\n{search_text(d.fields)}")) for d in deals]
        typed = {w[:n] for words in seen[:40] for w in words for n in range(1, 6)}
        for prefix in sorted(typed):
            expected = sum(any(w.startswith(prefix) for w in words) for words in seen)
            got = store.count(data.PROFILE, data.KIND, search=prefix)
            assert got == expected, prefix
        assert index_bytes(store) < 250 * len(deals)
    finally:
        store.close()


# (rowid, id, title, subtitle, fields, deleted): words in titles, subtitles and fields,
# repeated and not, with marks ("Renée"), numbers, and a record deleted.
ROWS = [
    (1, "1", "Acme renewal", "Acme Corp · $43,300", {"stage": "open", "city": "Lisbon"}, 0),
    (2, "2", "Acme expansion", "Acme Corp", {"note": "renewal renewal soon"}, 0),
    (3, "3", "Renée's reorg", "Globex", {"contact": "Renée Allen"}, 0),
    (4, "4", "Globex renewal #4", "Globex · $9", {"email": "ren@globex.co.uk"}, 0),
    (5, "5", "Initech pilot", "Initech", {"tags": ["acme", "pilot"], "city": "Porto"}, 0),
    (6, "6", "Acme acme acme", "", {"stage": "won"}, 1),
    (7, "7", "Umbrella re-up", "Umbrella Re", {"city": "Reno", "amount": "43300.00"}, 0),
    (8, "8", "Allen expansion", "Allen & Co", {"contact": "Acme Allen"}, 0),
]
WHOLE = (9, "9", "Lisbon archive", "Archive", {"description": long_value("zebraword")}, 0)
QUERIES = ["acme", "ac", "acm", "re", "ren", "renewal", "renee", "allen ex", "lisbon", "43"]


def _v10_cache(path: Path) -> None:
    """A cache of schema 10 as its crmtui filled it: rows, their raw payloads and index
    entries (values cut to the bound; one row still indexed whole from an older schema,
    listed in ``records_fts_whole``), and a queued edit."""
    conn = factory.old_cache(path, 10)
    conn.execute("INSERT INTO lists (list, profile, kind) VALUES (1, ?, ?)", (P, K))
    for rowid, id_, title, subtitle, fields, deleted in [*ROWS, WHOLE]:
        conn.execute(
            "INSERT INTO records (rowid, profile, kind, id, vendor, title, subtitle,"
            " created_at, updated_at, fields, is_deleted, list)"
            " VALUES (?, ?, ?, ?, 'freshsales', ?, ?, ?, ?, ?, ?, 1)",
            (rowid, P, K, id_, title, subtitle, to_stamp(T0), to_stamp(T0), dumps(fields), deleted),
        )
        whole = rowid == WHOLE[0]
        conn.execute(
            "INSERT INTO records_fts (rowid, title, subtitle, search_text) VALUES (?, ?, ?, ?)",
            (rowid, title, subtitle, search_text(fields, limit=None if whole else 10_000)),
        )
        conn.execute(
            "INSERT INTO records_raw (rec, raw) VALUES (?, ?)", (rowid, f'{{"n":{rowid}}}')
        )
    conn.execute("INSERT INTO records_fts_whole (rec) VALUES (?)", (WHOLE[0],))
    factory.close_old_cache(conn, RecordRef(profile=P, kind=K, id="1"))


def _scores(conn: sqlite3.Connection) -> dict[str, list[tuple[int, float]]]:
    """Each query's matches with their bm25 scores, best first, as the index ranks them."""
    found = {}
    for text in [*QUERIES, "zebraword"]:
        query = fts_query(text)
        sql = f"SELECT rowid, {_BM25} FROM records_fts WHERE records_fts MATCH ? ORDER BY 2, 1"
        found[text] = [(r, round(s, 9)) for r, s in conn.execute(sql, (query,))]
    return found


def _ranked(scores: list[tuple[int, float]]) -> list[str]:
    """The ids of live records among ``scores`` in search's order (score, title, id)."""
    rows = {r[0]: r for r in [*ROWS, WHOLE]}
    live = [(s, rows[n][2].lower(), rows[n][1]) for n, s in scores if not rows[n][5]]
    return [id_ for *_, id_ in sorted(live)]


def test_a_schema_10_cache_searches_exactly_as_before(tmp_path: Path) -> None:
    path = tmp_path / "v10.sqlite3"
    _v10_cache(path)
    with sqlite3.connect(path) as conn:
        before = _scores(conn)
    assert before["ac"] and before["re"] and before["zebraword"] == [(9, before["zebraword"][0][1])]
    store = Store(path)
    try:
        with store._db.read() as conn:
            factory.upgraded_names(conn)
            assert _scores(conn) == before  # the same matches, the same scores
        for text in QUERIES:  # best first, ties by title: as the old index ranked them
            assert ids(store.search(text)) == _ranked(before[text]), text
        assert ids(store.search("zebraword")) == ["9"]  # indexed whole: found as before
        assert [c.id for c in store.changes()] == ["c1"] and store.queued_count(P) == 1
        one = store.get_record(RecordRef(profile=P, kind=K, id="1"))
        assert one is not None and one.raw == {"n": 1} and one.fields["city"] == "Lisbon"
        # The row indexed whole leaves the index with the text it went in with.
        store.upsert_records([rec("9", "Lisbon archive", kind=K, note="plain")])
        assert store.search("zebraword") == [] and ids(store.search("plain")) == ["9"]
        store.delete_profile(P)
        assert store.search("acme") == [] and store.search("re") == []
        assert store.integrity_check() == "ok"
    finally:
        store.close()
