"""Search of common words ranks its capped candidates as FTS5's bm25() does, without
bm25()'s count of every match (``ranking``): the same records in the same order."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from crmtui.model import Record
from crmtui.store import Store, ranking, records, rows
from crmtui.store.fts import WEIGHTS
from tests.store.factory import rec

WORDS = [
    "renewal",
    "expansion",
    "acme",
    "pilot",
    "Müller",
    "Ærø",
    "straße",
    "co-op",
    "allen",
    "mu\u0308ller",
    "x\ue000y",
    "Granite ·",
]


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


@pytest.fixture(scope="module")
def varied() -> Iterator[Store]:
    """Records whose titles, subtitles and fields repeat common words unevenly (read
    only: one store for the module)."""
    store = Store(":memory:")
    rng = random.Random(7)
    found = []
    for i in range(400):
        record = rec(
            f"r{i}",
            f"{_text(rng, rng.randint(1, 4))} #{i % 37}",
            kind=rng.choice(["deal", "contact"]),
            profile=rng.choice(["a", "b"]),
            note=_text(rng, rng.randint(0, 12)),
            email=f"{rng.choice(['allen', 'jane'])}@acme.co",
        )
        found.append(record.model_copy(update={"subtitle": _text(rng, rng.randint(0, 3))}))
    store.upsert_records(found)
    yield store
    store.close()


def _by_bm25(store: Store, query: str, *, cap: int, limit: int, where: str, scope: list) -> list:
    """What ``ORDER BY bm25()`` gives for the first ``cap`` matches (the old way)."""
    weights = ", ".join(str(w) for w in WEIGHTS)
    with store._db.read() as conn:
        found = conn.execute(
            f"SELECT r.id FROM (SELECT rowid, bm25(records_fts, {weights}) AS score"
            " FROM records_fts WHERE records_fts MATCH ? LIMIT ?) f"
            f" JOIN records r ON r.rowid = f.rowid WHERE {where}"
            " ORDER BY f.score, r.title COLLATE NOCASE, r.id LIMIT ?",
            [query, cap, *scope, limit],
        )
        return [row[0] for row in found]


def _python_ranked(
    store: Store, match: str, text: str, prefix: bool, cap: int, limit: int, where: str, scope: list
) -> list[Record]:
    """What this ranking gives for matches anywhere (``capped`` leaves them to bm25())."""
    typed = text.split()
    found = ranking.phrases(typed, prefix=prefix)
    assert found is not None
    last = len(typed) - 1
    alone = [ranking.phrase(w, prefix=prefix and i == last) for i, w in enumerate(typed)]
    with store._db.read() as conn:
        best = ranking._ranked(
            conn,
            match,
            found,
            alone,
            title_only=False,
            where=where,
            scope=scope,
            cap=cap,
            limit=limit,
        )
        assert best is not None
        return rows.select_rowids(conn, best)


CASES = [
    ("renewal", False),
    ("renew", True),
    ("acme", False),
    ("muller", False),
    ("Müller", False),
    ("aero", False),
    ("strasse", False),
    ("co-op", False),
    ("x\ue000y", False),
    ("granite", False),
    ("allen@acme.co", True),
    ("renewal expansion", False),
    ("pilot acme ren", True),
    ("allen acme", False),
    ("muller renewal", False),
]


@pytest.mark.parametrize(("text", "prefix"), CASES)
@pytest.mark.parametrize("title_only", [True, False])
@pytest.mark.parametrize("scoped", [False, True])
def test_capped_ranking_is_bm25s_order(
    varied: Store, text: str, prefix: bool, title_only: bool, scoped: bool
) -> None:
    words = [
        ranking.phrase(w, prefix=prefix and i == len(text.split()) - 1)
        for i, w in enumerate(text.split())
    ]
    query = " ".join(words)
    match = f"title : ({query})" if title_only else query
    where, scope = "r.is_deleted = 0", []
    if scoped:
        where, scope = "r.is_deleted = 0 AND r.kind IN (?)", ["deal"]
    for cap, limit in ((1000, 400), (60, 10), (7, 3)):
        with varied._db.read() as conn:
            mine = ranking.capped(
                conn,
                text,
                prefix=prefix,
                title_only=title_only,
                where=where,
                scope=scope,
                cap=cap,
                limit=limit,
            )
        expected = _by_bm25(varied, match, cap=cap, limit=limit, where=where, scope=scope)
        if mine is None:  # matches anywhere: left to bm25() itself
            assert not title_only
            mine = _python_ranked(varied, match, text, prefix, cap, limit, where, scope)
        assert [r.id for r in mine] == expected


def test_search_gives_what_bm25_gave(varied: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "SEARCH_CAP", 30)
    for text in ("renewal", "renew", "acme", "renewal expansion", "Müller pil"):
        for options in ({}, {"kinds": ["deal"]}, {"profiles": ["b"], "limit": 5}):
            mine = ids(varied.search(text, **options))
            monkeypatch.setattr(ranking, "capped", lambda *a, **k: None)  # bm25() itself
            theirs = ids(varied.search(text, **options))
            monkeypatch.undo()
            monkeypatch.setattr(records, "SEARCH_CAP", 30)
            assert mine == theirs and mine


def ids(found: list[Record]) -> list[str]:
    return [r.id for r in found]
