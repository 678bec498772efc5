"""Attacks on schema 11 (the search index made again without its prefix indexes).

A contentless FTS5 index forgets a row only when given the very text the row was indexed
with. An old cache is made here as an older crmtui left it (schema 10, rows indexed with
their values whole, a deleted row, odd text), upgraded, and then: every search finds the
same records in the same order, an edit or a removal takes the old words out, and once
every record is gone the index holds no word at all (no ghost, no entry left behind).
An upgrade killed in the middle, or run by two processes at once, leaves the same result.
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest

from crmtui.model import Record, RecordRef
from crmtui.store import Store, db, health, rows
from crmtui.store.health import CacheUnusable
from tests.helpers import processes
from tests.helpers.waits import eventually_sync
from tests.store.factory import store_at

WORDS = [
    "acme",
    "renewal",
    "northwind",
    "tariq",
    "jacob",
    "opal",
    "usher",
    "reno",
    "rent",
    "ren",
    "re",
    "ac",
    "ja",
    "op",
    "us",
]
LONG = "x" * 10_050  # past fts.INDEXED_CHARS: an older crmtui indexed what follows it too
ODD_LETTERS = [*"aAeéÉèüÜößẞıİçÇ", "ǆ", "ﬁ", "ａ", "е", "ё", "日本", "😀", "a\u0301", "Σ", "σς"]


def _record(i: int, title: str, subtitle: str = "", **fields: object) -> Record:
    return Record(
        vendor="v",
        profile="p",
        kind="deals",
        id=f"d{i:04d}",
        title=title,
        subtitle=subtitle,
        fields=dict(fields),
    )


def _records(seed: int, n: int) -> list[Record]:
    pick = random.Random(seed)

    def word() -> str:
        if pick.random() < 0.5:
            return pick.choice(WORDS)
        return "".join(pick.choice(ODD_LETTERS) for _ in range(pick.randint(1, 4)))

    found = [
        _record(
            i, " ".join(word() for _ in range(3)), word(), note=" ".join(word() for _ in range(4))
        )
        for i in range(n)
    ]
    return [
        *found,
        _record(900, "long fields", note=f"head {LONG} tailword"),
        _record(901, "T" * 10_020 + " titletail", "s" * 10_020 + " subtail", note="short"),
        _record(902, "nul\x00title zebra", "sub\x00 zulu", note="nu\x00ll quux"),
        _record(903, "", "", note="emptytitle"),
        _record(904, "gone ghostword"),
        _record(905, "edited oldword", note="oldnote"),
        _record(906, "whole everything", "s" * 10_020 + " wholesub", note=f"{LONG} wholenote"),
    ]


WHOLE_FIELDS = ("d0900", "d0906")
WHOLE_TITLES = ("d0901", "d0906")


def _index_whole(path: Path) -> None:
    """Rows indexed as a crmtui before ``fts.INDEXED_CHARS`` indexed them: values whole,
    listed in ``records_fts_whole`` / ``records_fts_titles_whole``."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for id_ in sorted({*WHOLE_FIELDS, *WHOLE_TITLES}):
            rowid, title, subtitle, fields = conn.execute(
                "SELECT rowid, title, subtitle, fields FROM records WHERE id = ?", (id_,)
            ).fetchone()
            conn.execute(
                "INSERT INTO records_fts (records_fts, rowid, title, subtitle, search_text)"
                " VALUES ('delete', ?, ?, ?, ?)",
                (rowid, *rows.titles(title, subtitle, False), rows.stored_search_text(fields)),
            )
            whole_titles = id_ in WHOLE_TITLES
            conn.execute(
                "INSERT INTO records_fts (rowid, title, subtitle, search_text) VALUES (?, ?, ?, ?)",
                (
                    rowid,
                    *rows.titles(title, subtitle, whole_titles),
                    rows.stored_search_text(fields, whole=id_ in WHOLE_FIELDS),
                ),
            )
            if id_ in WHOLE_FIELDS:
                conn.execute("INSERT INTO records_fts_whole (rec) VALUES (?)", (rowid,))
            if whole_titles:
                conn.execute("INSERT INTO records_fts_titles_whole (rec) VALUES (?)", (rowid,))
        conn.execute("COMMIT")
    finally:
        conn.close()


def _queries(records: list[Record]) -> list[str]:
    found = {"tailword", "titletail", "subtail", "wholesub", "wholenote", "zebra", "zulu"}
    found |= {"quux", "emptytitle", "ghostword", "oldword", "oldnote", "acme re", "t s"}
    for record in records:
        for word in f"{record.title} {record.subtitle}".split()[:4]:
            found |= {word[:n] for n in (1, 2, 3, 5)}
    return sorted(found)


def _searched(store: Store, queries: list[str]) -> dict[str, list[str]]:
    return {q: [r.id for r in store.search(q, limit=1000)] for q in queries}


def _schema10_cache(path: Path, monkeypatch: pytest.MonkeyPatch, records: list[Record]) -> None:
    with store_at(path, monkeypatch, 10) as store:
        store.upsert_records(records)
    _index_whole(path)


def _before_upgrade(
    path: Path, monkeypatch: pytest.MonkeyPatch, queries: list[str]
) -> dict[str, list[str]]:
    """What a schema-10 crmtui finds in the cache at ``path`` (a deleted row hidden)."""
    with store_at(path, monkeypatch, 10) as store:
        store.mark_deleted(RecordRef(profile="p", kind="deals", id="d0904"))
        return _searched(store, queries)


def _version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _words_left(store: Store) -> int:
    """The words the search index holds (every record gone: none, or a ghost is left)."""
    conn = sqlite3.connect(store.path)  # type: ignore[arg-type]
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, records_fts, 'row')")
        return int(conn.execute("SELECT count(*) FROM temp.words").fetchone()[0])
    finally:
        conn.close()


def _edited_and_emptied(store: Store) -> None:
    """An edit takes out the old words, a removal all of them, leaving no word behind."""
    store.upsert_records(
        [
            _record(905, "edited newword", note="newnote"),
            _record(906, "whole again", "short sub", note="short note"),
            _record(901, "short title"),
        ]
    )
    for gone in ("oldword", "oldnote", "wholesub", "wholenote", "titletail", "subtail"):
        assert store.search(gone) == [], gone
    assert [r.id for r in store.search("newword")] == ["d0905"]
    assert [r.id for r in store.search("whole again")] == ["d0906"]
    store.delete_profile("p")
    assert store.search("a") == [] and store.search("tailword") == []
    assert _words_left(store) == 0
    assert store.integrity_check() == "ok"


def _upgraded_as_before(path: Path, queries: list[str], before: dict[str, list[str]]) -> None:
    """Opened by this crmtui: schema 11 and on, sound, every search as before, then
    ``_edited_and_emptied``."""
    store = Store(path)
    try:
        assert _version(path) == db.SCHEMA_VERSION >= 11
        assert store.integrity_check() == "ok"
        assert _searched(store, queries) == before
        _edited_and_emptied(store)
    finally:
        store.close()


@pytest.mark.parametrize("seed", [1, 2])
def test_upgrade_finds_what_schema_10_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    path = tmp_path / "cache.db"
    records = _records(seed, 250)
    queries = _queries(records)
    _schema10_cache(path, monkeypatch, records)
    before = _before_upgrade(path, monkeypatch, queries)
    assert before["tailword"] == ["d0900"] and before["ghostword"] == []

    _upgraded_as_before(path, queries, before)


# -- an upgrade killed in the middle, and two at once --------------------------------------


def child() -> None:
    """Open the cache (upgrading it); with ``stop_after``, stop in the middle of
    re-indexing it (a marker file says so) and wait there to be killed."""
    job = json.loads(sys.argv[-1])
    if job.get("stop_after"):
        indexed = db._indexed_fields
        seen = [0]

        def stopping(fields: str, whole: int | None) -> str:
            seen[0] += 1
            if seen[0] == job["stop_after"]:
                Path(job["marker"]).write_text("in the middle")
                go = Path(job.get("go", ""))
                while not (job.get("go") and go.exists()):  # else killed here
                    threading.Event().wait(0.01)
            return indexed(fields, whole)

        db._indexed_fields = stopping  # type: ignore[assignment]
    Store(job["path"]).close()
    print("opened", flush=True)


def test_upgrade_killed_in_the_middle_is_done_whole_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cache.db"
    marker = tmp_path / "marker"
    records = _records(3, 400)
    queries = _queries(records)
    _schema10_cache(path, monkeypatch, records)
    before = _before_upgrade(path, monkeypatch, queries)

    job = {"path": str(path), "stop_after": 200, "marker": str(marker)}
    with processes.running(job, "tests.store.test_attack_schema11") as proc:
        eventually_sync(marker.exists, timeout=processes.WAIT)
        processes.kill(proc)
    assert _version(path) == 10  # nothing of the half-done upgrade was kept

    _upgraded_as_before(path, queries, before)


def test_two_processes_upgrading_at_once_index_each_record_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cache.db"
    records = _records(4, 400)
    queries = _queries(records)
    _schema10_cache(path, monkeypatch, records)
    before = _before_upgrade(path, monkeypatch, queries)

    job = {"path": str(path)}
    with (
        processes.running(job, "tests.store.test_attack_schema11") as first,
        processes.running(job, "tests.store.test_attack_schema11") as second,
    ):
        outs = [proc.communicate(timeout=processes.WAIT) for proc in (first, second)]
    assert [out.strip() for out, _ in outs] == ["opened", "opened"], outs

    _upgraded_as_before(path, queries, before)


# -- a full disk while upgrading ------------------------------------------------------------


def _disk_full_error(tmp_path: Path) -> sqlite3.OperationalError:
    """SQLite's own "database or disk is full" (SQLITE_FULL), as a write gets it when
    the disk has no room left (here: a scratch database given no room to grow)."""
    with closing(sqlite3.connect(tmp_path / "scratch.db")) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("PRAGMA max_page_count = 2")
        try:
            conn.execute("INSERT INTO t VALUES (zeroblob(100000))")
        except sqlite3.OperationalError as exc:
            assert exc.sqlite_errorcode == sqlite3.SQLITE_FULL
            return exc
    raise AssertionError("the scratch database had room")


def test_a_full_disk_while_upgrading_says_so_and_leaves_the_cache_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upgrading to schema 11 writes the whole search index again (a WAL of hundreds of
    MB at a million deals): on a full disk it is rolled back, and the user is told the
    disk is full, not that the cache is damaged and should be salvaged (moved aside for
    a fresh one, which needs room too and loses nothing but time: nothing is damaged)."""
    path = tmp_path / "cache.db"
    records = _records(5, 100)
    queries = _queries(records)
    _schema10_cache(path, monkeypatch, records)
    before = _before_upgrade(path, monkeypatch, queries)
    full = _disk_full_error(tmp_path)
    upgrade = db.MIGRATIONS[10]

    def upgrading_on_a_full_disk(conn: sqlite3.Connection) -> None:
        assert callable(upgrade)
        upgrade(conn)  # the index dropped and half made again, then no room is left
        raise full

    with monkeypatch.context() as patched:
        upgrades = (*db.MIGRATIONS[:10], upgrading_on_a_full_disk, *db.MIGRATIONS[11:])
        patched.setattr(db, "MIGRATIONS", upgrades)
        with pytest.raises(CacheUnusable) as raised:
            Store(path)
    said = str(raised.value)
    assert "disk is full" in said and "free some disk space" in said, said
    assert "damaged" not in said and "salvage" not in said, said
    assert raised.value.kind != "damaged"
    assert _version(path) == 10
    assert health.check(path).ok  # `crmtui cache check`: sound

    _upgraded_as_before(path, queries, before)


def test_a_second_process_waits_for_the_first_ones_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two crmtui windows (or a window and a notebook) opened at once on a schema-10
    cache: the second waits for the first one's upgrade (a minute at a million deals),
    rather than giving up after ``busy_timeout`` ("locked by another program; close
    other crmtui windows") while nothing is wrong."""
    path = tmp_path / "cache.db"
    marker, go = tmp_path / "marker", tmp_path / "go"
    records = _records(6, 300)
    queries = _queries(records)
    _schema10_cache(path, monkeypatch, records)
    before = _before_upgrade(path, monkeypatch, queries)
    monkeypatch.setattr(db, "BUSY_S", 0.05)  # this process's busy timeout, short
    tried = [0]
    immediate = db._immediate

    def counted(conn: sqlite3.Connection) -> None:
        try:
            immediate(conn)
        except sqlite3.OperationalError:
            tried[0] += 1
            raise

    monkeypatch.setattr(db, "_immediate", counted)
    job = {"path": str(path), "stop_after": 150, "marker": str(marker), "go": str(go)}
    with processes.running(job, "tests.store.test_attack_schema11") as first:
        eventually_sync(marker.exists, timeout=processes.WAIT)  # upgrading, the lock held
        opened: list[object] = []
        second = threading.Thread(target=lambda: opened.append(_opened(path)))
        second.start()
        eventually_sync(lambda: tried[0] >= 3 or not second.is_alive(), timeout=processes.WAIT)
        go.write_text("go on")
        second.join(processes.WAIT)
        out, _ = first.communicate(timeout=processes.WAIT)
    assert out.strip() == "opened"
    assert opened == ["opened"], opened
    _upgraded_as_before(path, queries, before)


def _opened(path: Path) -> object:
    try:
        Store(path).close()
    except CacheUnusable as exc:
        return exc
    return "opened"
