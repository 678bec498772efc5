"""bm25 of a few hundred search candidates, as FTS5's ``bm25()`` scores them, without
its scan of every match.

Before it scores its first row, FTS5's ``bm25()`` counts every row matching each phrase
of the query (the phrase's idf): 80 ms for a word in a tenth of a million titles, however
few candidates are ranked. ``ranked`` takes the same candidates (the first ``cap``
matches, in rowid order) and computes the same formula in Python from what the index
keeps beside its terms: the table's row and token totals (its averages record), each
candidate's size in tokens (``records_fts_docsize``) and how often each phrase occurs in
each column of the candidate (its indexed text, tokenized here as ``unicode61
remove_diacritics 2`` does). ``capped`` ranks this way the candidates matched in titles
(search's first pass); matches anywhere are left to ``bm25()``, quicker there than
reading and tokenizing every candidate's fields.

- One phrase (one word typed): the idf multiplies every score alike, so the order is
  bm25's exactly, whatever it is; it is not counted.
- Several phrases: each phrase's matches are counted up to ``IDF_COUNT``; a phrase with
  more is estimated from where its ``IDF_COUNT``-th match falls in the rowids (its
  matches are spread evenly: an estimate within a few percent moves its idf by less).
  Only then may the order differ from ``bm25()``'s, among candidates of equal relevance.
- Text outside ASCII is tokenized by Unicode category (letters, digits, private use),
  lower-cased and stripped of combining marks, which is what ``unicode61`` does for
  everyday text. If a candidate shows no occurrence of a phrase the index found in it
  (a letter folded otherwise), ``ranked`` returns None and the caller ranks with
  ``bm25()`` itself.
"""

from __future__ import annotations

import math
import re
import sqlite3
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from crmtui.model import Record
from crmtui.store import rows
from crmtui.store.fts import WEIGHTS, phrase, words

K1, B = 1.2, 0.75  # FTS5's bm25 constants
IDF_COUNT = 10_000  # matches of a phrase counted for its idf before it is estimated
# What ``unicode61`` keeps in a token: letters and digits (L*, N*), combining marks (then
# removed) and private-use characters (Co); every other character separates tokens.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_WORD = re.compile(f"(?:[^\\W_]|[{_MARKS}\ue000-\uf8ff])+")
_WIDE_WORD = re.compile(f"[^\\x00-\\x7f\\W]|[{_MARKS}\ue000-\uf8ff]")  # outside ASCII
_WIDE = re.compile(r"[^\x00-\x7f]")
_NOCASE = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}  # SQLite's NOCASE folding


def _fold(token: str) -> str:
    """A token as ``unicode61 remove_diacritics 2`` indexes it: lower case, no marks."""
    if token.isascii():
        return token.lower()
    decomposed = unicodedata.normalize("NFD", token.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """``text``'s tokens as the index's tokenizer makes them."""
    return [_fold(token) for token in _WORD.findall(text)]


@dataclass(frozen=True)
class Phrase:
    """One typed word as FTS5 reads it: its tokens, the last one a prefix or not."""

    tokens: tuple[str, ...]
    prefix: bool

    @cached_property
    def _ascii(self) -> re.Pattern[str] | None:
        """The phrase in lower-case ASCII text, when it is one ASCII token."""
        if len(self.tokens) != 1 or not self.tokens[0].isascii():
            return None
        end = "" if self.prefix else "(?![a-z0-9])"
        return re.compile(f"(?<![a-z0-9]){re.escape(self.tokens[0])}{end}")

    def count(self, text: str) -> int:
        """How many times the phrase occurs in ``text`` (each start counts)."""
        if not text:
            return 0
        if self._ascii is not None and (text.isascii() or not _WIDE_WORD.search(text)):
            lowered = _WIDE.sub(" ", text).lower()  # what is not ASCII only separates
            return 0 if self.tokens[0] not in lowered else len(self._ascii.findall(lowered))
        return occurrences(self, tokens(text))


def phrases(words: Sequence[str], *, prefix: bool) -> list[Phrase] | None:
    """The phrases of ``fts.fts_query``'s words (None: a word with no token)."""
    found = []
    for i, word in enumerate(words):
        parts = tuple(tokens(word))
        if not parts:
            return None
        found.append(Phrase(parts, prefix and i == len(words) - 1))
    return found


def occurrences(phrase: Phrase, column: list[str]) -> int:
    """How many times ``phrase`` occurs in a column's tokens (each start counts)."""
    n, head, last = len(phrase.tokens), phrase.tokens[:-1], phrase.tokens[-1]
    count = 0
    for start in range(len(column) - n + 1):
        word = column[start + n - 1]
        if (word.startswith(last) if phrase.prefix else word == last) and (
            not head or tuple(column[start : start + n - 1]) == head
        ):
            count += 1
    return count


def varints(blob: bytes) -> list[int]:
    """SQLite's varints (as FTS5 writes sizes and totals)."""
    values, i = [], 0
    while i < len(blob):
        value = 0
        for n in range(9):
            byte = blob[i]
            i += 1
            if n == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        values.append(value)
    return values


def _averages(conn: sqlite3.Connection) -> tuple[int, int] | None:
    """(rows, tokens of every column) of the whole index, as ``bm25()`` reads them."""
    found = conn.execute("SELECT block FROM records_fts_data WHERE id = 1").fetchone()
    if found is None:
        return None
    totals = varints(bytes(found[0]))
    return totals[0], sum(totals[1:])


def _idf(conn: sqlite3.Connection, match: str, nrow: int) -> float:
    """FTS5's idf of one phrase (``match``: the phrase alone, its column filter kept)."""
    found = conn.execute(
        "SELECT count(*), max(rowid) FROM"
        " (SELECT rowid FROM records_fts WHERE records_fts MATCH ? LIMIT ?)",
        (match, IDF_COUNT),
    ).fetchone()
    hits = float(found[0])
    if found[0] >= IDF_COUNT and found[1]:
        top = conn.execute("SELECT max(rowid) FROM records").fetchone()[0] or found[1]
        hits = min(float(nrow), hits * top / found[1])  # spread evenly over the rowids
    idf = math.log((nrow - hits + 0.5) / (hits + 0.5))
    return idf if idf > 0.0 else 1e-6


def _nocase(text: str) -> str:
    """``text`` as SQLite's NOCASE compares it (ASCII letters folded, nothing else)."""
    return text.lower() if text.isascii() else text.translate(_NOCASE)


def _size(blob: bytes) -> int:
    """A row's size in tokens: the sum of its docsize varints."""
    return sum(blob) if max(blob, default=0) < 0x80 else sum(varints(blob))


def _ranked(
    conn: sqlite3.Connection,
    match: str,
    found: list[Phrase],
    phrase_matches: list[str],
    *,
    title_only: bool,
    where: str,
    scope: Sequence[Any],
    cap: int,
    limit: int,
) -> list[int] | None:
    """The rowids of the best ``limit`` in scope among the first ``cap`` matches of
    ``match`` (whose phrases are ``found``, each alone as ``phrase_matches``), best
    first, ties by title (NOCASE) then id, as ``ORDER BY bm25(...)`` would give them;
    None when the index's counts are missing or a candidate's text disagrees with it."""
    averages = _averages(conn)
    if averages is None or averages[0] <= 0:
        return None
    nrow, ntokens = averages
    avgdl = float(ntokens) / float(nrow)
    candidates = conn.execute(
        "SELECT r.rowid, r.title, r.subtitle, r.id, d.sz,"
        f" {'NULL' if title_only else 'r.fields'},"
        " w.rec IS NOT NULL, t.rec IS NOT NULL"
        " FROM (SELECT rowid FROM records_fts WHERE records_fts MATCH ? LIMIT ?) f"
        " JOIN records r ON r.rowid = f.rowid"
        " LEFT JOIN records_fts_docsize d ON d.id = r.rowid"
        " LEFT JOIN records_fts_whole w ON w.rec = r.rowid"
        " LEFT JOIN records_fts_titles_whole t ON t.rec = r.rowid"
        f" WHERE {where}",
        [match, cap, *scope],
    ).fetchall()
    if not candidates:
        return []
    idfs = [1.0] if len(found) == 1 else [_idf(conn, m, nrow) for m in phrase_matches]
    weights = WEIGHTS[:1] if title_only else WEIGHTS
    scored = []
    for rowid, title, subtitle, id_, size, fields, whole, titles_whole in candidates:
        if size is None:
            return None
        texts: list[str | None] = list(rows.titles(title, subtitle, titles_whole))
        if not title_only:
            texts.append(rows.stored_search_text(fields, whole=whole))
        length = float(_size(bytes(size)))
        score = 0.0
        for one, idf in zip(found, idfs, strict=True):
            freq = 0.0
            for column, weight in zip(texts, weights, strict=False):
                freq += one.count(column or "") * weight
            if freq == 0.0:
                return None  # the index found it here: this tokenizing disagrees
            score += idf * ((freq * (K1 + 1.0)) / (freq + K1 * (1 - B + B * length / avgdl)))
        scored.append((-1.0 * score, _nocase(title), id_, rowid))
    scored.sort()
    return [rowid for *_, rowid in scored[:limit]]


def capped(
    conn: sqlite3.Connection,
    text: str,
    *,
    prefix: bool,
    title_only: bool,
    where: str,
    scope: Sequence[Any],
    cap: int,
    limit: int,
) -> list[Record] | None:
    """The best ``limit`` records in scope (``where`` over ``records r``, its
    parameters ``scope``) among the first ``cap`` matches of what the user typed (the
    last word a prefix when ``prefix``; in titles only when ``title_only``), ranked as
    ``ORDER BY bm25(records_fts, *WEIGHTS), title COLLATE NOCASE, id`` ranks them; None
    when ``bm25()`` itself is quicker (matches anywhere) or only it can rank them (see
    the module's text)."""
    typed = words(text)
    found = phrases(typed, prefix=prefix)
    if found is None or not title_only:
        # Anywhere: this reads and tokenizes each candidate's fields, which at a million
        # records cost more than bm25()'s counts (measured: 30 ms against 18 ms of CPU
        # for "allen expansion"), so bm25() ranks them. In titles it costs a third.
        return None
    last = len(typed) - 1
    alone = [phrase(w, prefix=prefix and i == last) for i, w in enumerate(typed)]
    match = " ".join(alone)
    if title_only:
        match, alone = f"title : ({match})", [f"title : ({p})" for p in alone]
    best = _ranked(
        conn,
        match,
        found,
        alone,
        title_only=title_only,
        where=where,
        scope=scope,
        cap=cap,
        limit=limit,
    )
    return None if best is None else rows.select_rowids(conn, best)
