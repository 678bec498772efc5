"""The SQLite file: opening it safely, its versioned schema, and the write lock.

- WAL journal, ``synchronous=NORMAL`` (durable across an app crash, at worst the last
  transaction lost on a power cut), ``busy_timeout`` for a second process.
- The file is created with mode 0600 before SQLite opens it, and the process umask is
  0o077 while SQLite creates its ``-wal``/``-shm`` files: nobody else reads the cache.
- ``PRAGMA user_version`` holds the schema version; ``MIGRATIONS[n]`` brings version n
  to n+1. A file from a newer crmtui is refused rather than damaged.
- One connection (``check_same_thread=False``) and one re-entrant lock around every
  statement: enough for one asyncio app whose workers run in threads.
- Datetimes are stored as ISO text in UTC with microseconds, so text order is time order;
  a record's own two (created, updated) as integer microseconds (``to_stamp``).
- A record's fields (``records.fields``) are JSON: an array of their values when their
  keys are exactly its list's ``keys`` (``lists.keys``, a JSON array of field keys, set
  from the first vendor batch written to the list and never changed), in that order;
  otherwise the object as the record holds it (a key absent, an extra key, another order,
  no fields, a row long enough to be read key by key in SQL: see ``_v12``). A read of a
  row reads its list's keys in the same statement (``rows.KEYS``); SQL reads a field from
  its place in an array row (``indexes.extract``).
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import stat
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from crmtui import files
from crmtui.store.fts import INDEXED_CHARS, indexed, search_text

MEMORY = ":memory:"

# Records: one row per (profile, kind, id). ``server`` holds the server's version of a
# record (JSON) while it has unfinished changes; the row itself shows the optimistic one.
# ``search_text`` is the text-like field values, indexed by the external-content FTS
# table ``records_fts``, which ``rows`` (the only writer of records) keeps in step.
_V1 = """
CREATE TABLE records (
    rowid INTEGER PRIMARY KEY,
    profile TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    vendor TEXT NOT NULL,
    title TEXT NOT NULL,
    subtitle TEXT NOT NULL DEFAULT '',
    created_at TEXT,
    updated_at TEXT,
    remote_url TEXT,
    fields TEXT NOT NULL DEFAULT '{}',
    related TEXT NOT NULL DEFAULT '{}',
    search_text TEXT NOT NULL DEFAULT '',
    synced_at TEXT,
    is_deleted INTEGER NOT NULL DEFAULT 0,
    server TEXT,
    UNIQUE (profile, kind, id)
);
CREATE INDEX records_by_title
    ON records (profile, kind, is_deleted, title COLLATE NOCASE, id);
CREATE INDEX records_by_updated ON records (profile, kind, is_deleted, updated_at, id);
CREATE INDEX records_by_created ON records (profile, kind, is_deleted, created_at, id);

CREATE TABLE records_raw (
    rec INTEGER PRIMARY KEY REFERENCES records (rowid) ON DELETE CASCADE,
    raw TEXT NOT NULL
);

CREATE VIRTUAL TABLE records_fts USING fts5 (
    title, subtitle, search_text,
    content = 'records', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    profile TEXT NOT NULL,
    kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    state TEXT NOT NULL,
    next_retry_at TEXT,
    maybe_sent INTEGER NOT NULL DEFAULT 0,
    done_at TEXT,
    data TEXT NOT NULL
);
CREATE INDEX outbox_by_record ON outbox (profile, kind, record_id, seq);
CREATE INDEX outbox_by_state ON outbox (profile, state);

CREATE TABLE timelines (
    profile TEXT NOT NULL, kind TEXT NOT NULL, record_id TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (profile, kind, record_id)
);
CREATE TABLE activities (
    profile TEXT NOT NULL, kind TEXT NOT NULL, record_id TEXT NOT NULL,
    id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (profile, kind, record_id, id)
);

CREATE TABLE kinds (profile TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE field_specs (
    profile TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (profile, kind)
);
CREATE TABLE sync_state (
    profile TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (profile, kind)
);
CREATE TABLE profiles (profile TEXT PRIMARY KEY, vendor TEXT, last_synced TEXT);
"""

# The size of every list, kept by triggers so that no write path can forget it: opening
# a list of a million records must not count them.
_V2 = """
CREATE TABLE record_counts (
    profile TEXT NOT NULL, kind TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (profile, kind)
) WITHOUT ROWID;
INSERT INTO record_counts (profile, kind, n)
    SELECT profile, kind, count(*) FROM records WHERE is_deleted = 0 GROUP BY profile, kind;
CREATE TRIGGER records_count_insert AFTER INSERT ON records WHEN new.is_deleted = 0 BEGIN
    INSERT INTO record_counts (profile, kind, n) VALUES (new.profile, new.kind, 1)
        ON CONFLICT (profile, kind) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER records_count_delete AFTER DELETE ON records WHEN old.is_deleted = 0 BEGIN
    UPDATE record_counts SET n = n - 1 WHERE profile = old.profile AND kind = old.kind;
END;
CREATE TRIGGER records_count_update AFTER UPDATE OF profile, kind, is_deleted ON records
    WHEN old.is_deleted != new.is_deleted OR old.profile != new.profile
        OR old.kind != new.kind
BEGIN
    UPDATE record_counts SET n = n - 1
        WHERE old.is_deleted = 0 AND profile = old.profile AND kind = old.kind;
    INSERT INTO record_counts (profile, kind, n)
        SELECT new.profile, new.kind, 1 WHERE new.is_deleted = 0
        ON CONFLICT (profile, kind) DO UPDATE SET n = n + 1;
END;
"""

# Outbox claims across processes: a change is sent by the one process (``owner``) that
# moved it to ``sending``, which renews ``lease_until`` while the request runs; a claim
# whose lease ran out (its owner died) is recovered as possibly sent. ``result_id``: the
# vendor's id of what a done change made (a note), for the record.
_V3 = """
ALTER TABLE outbox ADD COLUMN owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_until TEXT;
ALTER TABLE outbox ADD COLUMN result_id TEXT;
"""

# Lists of a million rows (issue 16). ``record_versions``: a change counter per (profile,
# kind), moved by triggers on every change a list can show, so a list's order built in
# memory knows when it is stale (``positions``). The search index becomes contentless:
# the text it indexes is derived from ``fields`` when a row is re-indexed, so
# ``search_text`` is no longer stored twice (its 2- and 3-letter prefix indexes stay: the
# first letters typed into a search would otherwise merge every word they begin).
# ``records_by_created`` is built when a list is first sorted by creation date instead of
# for every cache.
_V4 = """
CREATE TABLE record_versions (
    profile TEXT NOT NULL, kind TEXT NOT NULL, v INTEGER NOT NULL,
    PRIMARY KEY (profile, kind)
) WITHOUT ROWID;
CREATE TRIGGER records_version_insert AFTER INSERT ON records BEGIN
    INSERT INTO record_versions (profile, kind, v) VALUES (new.profile, new.kind, 1)
        ON CONFLICT (profile, kind) DO UPDATE SET v = v + 1;
END;
CREATE TRIGGER records_version_delete AFTER DELETE ON records BEGIN
    INSERT INTO record_versions (profile, kind, v) VALUES (old.profile, old.kind, 1)
        ON CONFLICT (profile, kind) DO UPDATE SET v = v + 1;
END;
CREATE TRIGGER records_version_update AFTER UPDATE ON records
    WHEN old.title IS NOT new.title OR old.subtitle IS NOT new.subtitle
        OR old.fields IS NOT new.fields OR old.created_at IS NOT new.created_at
        OR old.updated_at IS NOT new.updated_at OR old.is_deleted != new.is_deleted
        OR old.profile != new.profile OR old.kind != new.kind OR old.id != new.id
BEGIN
    INSERT INTO record_versions (profile, kind, v) VALUES (old.profile, old.kind, 1)
        ON CONFLICT (profile, kind) DO UPDATE SET v = v + 1;
    INSERT INTO record_versions (profile, kind, v) VALUES (new.profile, new.kind, 1)
        ON CONFLICT (profile, kind) DO UPDATE SET v = v + 1;
END;
DROP TABLE records_fts;
CREATE VIRTUAL TABLE records_fts USING fts5 (
    title, subtitle, search_text,
    content = '', tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
INSERT INTO records_fts (rowid, title, subtitle, search_text)
    SELECT rowid, title, subtitle, search_text FROM records;
ALTER TABLE records DROP COLUMN search_text;
DROP INDEX records_by_created;
"""

# The search index holds the first ``fts.INDEXED_CHARS`` characters of each value (issue
# 12: indexing a 20 MB field took most of a second). A row indexed before, with a longer
# value, must leave the contentless index with the very text it was indexed with (the
# whole value): ``records_fts_whole`` lists every row that may have one (its fields' JSON
# is longer than the bound), and ``rows`` takes such a row out with the whole text and
# off this list, which then empties as those records are written again.
_V5 = f"""
CREATE TABLE records_fts_whole (rec INTEGER PRIMARY KEY);
INSERT INTO records_fts_whole (rec)
    SELECT rowid FROM records WHERE length(CAST(fields AS BLOB)) > {INDEXED_CHARS};
"""

# The same bound for a record's title and subtitle (a 20 MB job title is a contact's
# subtitle: it was indexed whole, 11 MB of index). A row whose title or subtitle was
# indexed whole, longer than the bound, is listed in ``records_fts_titles_whole`` and
# taken out of the index with them whole (as ``records_fts_whole`` above, for the fields).
_V6 = f"""
CREATE TABLE records_fts_titles_whole (rec INTEGER PRIMARY KEY);
INSERT INTO records_fts_titles_whole (rec)
    SELECT rowid FROM records
    WHERE length(title) > {INDEXED_CHARS} OR length(subtitle) > {INDEXED_CHARS};
"""

# The record screen's read of a record with a long value (issue 12: no screen takes more
# than 100 ms to open because of one large value). A text value (or a title, subtitle)
# longer than ``LONG_VALUE`` characters is shown cut to its first ``PREVIEW_CUT``; cutting
# it at each read made SQLite parse and unescape the whole 20 MB JSON every time the
# screen opened (a fifth of a second or more). So it is cut when the row is written:
# ``records_preview`` holds, for each row with such a value (and only those), the columns
# the screen reads with the long values cut, and each cut value's whole length in
# characters (``lengths``, JSON by field key; ``cut_titles``: the title or subtitle was
# cut). Triggers keep it in step with every write of ``records`` (as ``record_counts``),
# so no write path can forget it; the work is SQLite's, in the writing thread, without the
# interpreter's lock. The whole value stays in ``records`` (``get_field`` reads it). These
# bounds are part of the schema (its triggers): changing them takes a new migration.
LONG_VALUE = 128 * 1024
PREVIEW_CUT = 1_000
_PREVIEW_COLUMNS = (
    "vendor, profile, kind, id, title, subtitle, created_at, updated_at, remote_url, fields,"
    " related, is_deleted"
)
_TEXT_CUT = (
    f"CASE WHEN length({{row}}.{{column}}) > {LONG_VALUE}"
    f" THEN substr({{row}}.{{column}}, 1, {PREVIEW_CUT}) ELSE {{row}}.{{column}} END"
)
# Whether a row (``{row}``) may hold a long value: its JSON or a title longer in bytes.
_MAY_BE_LONG = (
    f"(length(CAST({{row}}.fields AS BLOB)) > {LONG_VALUE}"
    f" OR length(CAST({{row}}.title AS BLOB)) > {LONG_VALUE}"
    f" OR length(CAST({{row}}.subtitle AS BLOB)) > {LONG_VALUE})"
)
# ``{row}`` (``new`` in a trigger; ``r`` over ``{source}``, ``records r`` joined with
# ``json_each(r.fields) e``) as ``records_preview`` holds it, from one pass of json_each
# over its fields: the values cut (JSON types kept) and the cut ones' lengths. (A trigger
# deletes the old one first: a statement's OR REPLACE would not hold inside a trigger.)
_PREVIEW_ROW = f"""
INSERT INTO records_preview (rec, {_PREVIEW_COLUMNS}, lengths, cut_titles)
SELECT {{row}}.rowid, {{row}}.vendor, {{row}}.profile, {{row}}.kind, {{row}}.id,
    {_TEXT_CUT.format(row="{row}", column="title")},
    {_TEXT_CUT.format(row="{row}", column="subtitle")},
    {{row}}.created_at, {{row}}.updated_at, {{row}}.remote_url,
    coalesce(json_group_object(e.key, CASE
        WHEN e.type = 'text' AND length(e.value) > {LONG_VALUE}
            THEN substr(e.value, 1, {PREVIEW_CUT})
        WHEN e.type = 'true' THEN json('true') WHEN e.type = 'false' THEN json('false')
        WHEN e.type IN ('array', 'object') THEN json(e.value) ELSE e.value END)
        FILTER (WHERE e.key IS NOT NULL), '{{{{}}}}'),
    {{row}}.related, {{row}}.is_deleted,
    coalesce(json_group_object(e.key, length(e.value))
        FILTER (WHERE e.type = 'text' AND length(e.value) > {LONG_VALUE}), '{{{{}}}}'),
    length({{row}}.title) > {LONG_VALUE} OR length({{row}}.subtitle) > {LONG_VALUE}
{{source}}
"""
_NOTHING_CUT = "lengths = '{}' AND NOT cut_titles"
_TEXTS_CHANGED = (
    "(old.title IS NOT new.title OR old.subtitle IS NOT new.subtitle"
    " OR old.fields IS NOT new.fields)"
)
_FROM_RECORDS = (
    "FROM records r LEFT JOIN json_each(r.fields) e"
    f" WHERE {_MAY_BE_LONG.format(row='r')} GROUP BY r.rowid"
)
# A trigger's body: the new row's preview (kept only when something in it was cut).
_PREVIEW_NEW = f"""BEGIN
    DELETE FROM records_preview WHERE rec = new.rowid;
    {_PREVIEW_ROW.format(row="new", source="FROM json_each(new.fields) e")};
    DELETE FROM records_preview WHERE rec = new.rowid AND {_NOTHING_CUT};
END;"""
_V7 = f"""
CREATE TABLE records_preview (
    rec INTEGER PRIMARY KEY REFERENCES records (rowid) ON DELETE CASCADE,
    vendor TEXT NOT NULL, profile TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
    title TEXT NOT NULL, subtitle TEXT NOT NULL, created_at TEXT, updated_at TEXT,
    remote_url TEXT, fields TEXT NOT NULL, related TEXT NOT NULL, is_deleted INTEGER NOT NULL,
    lengths TEXT NOT NULL, cut_titles INTEGER NOT NULL
);
{_PREVIEW_ROW.format(row="r", source=_FROM_RECORDS)};
DELETE FROM records_preview WHERE {_NOTHING_CUT};
CREATE TRIGGER records_preview_insert AFTER INSERT ON records
    WHEN {_MAY_BE_LONG.format(row="new")}
{_PREVIEW_NEW}
CREATE TRIGGER records_preview_long AFTER UPDATE OF title, subtitle, fields ON records
    WHEN {_TEXTS_CHANGED} AND {_MAY_BE_LONG.format(row="new")}
{_PREVIEW_NEW}
CREATE TRIGGER records_preview_short AFTER UPDATE OF title, subtitle, fields ON records
    WHEN {_TEXTS_CHANGED} AND NOT {_MAY_BE_LONG.format(row="new")}
BEGIN
    DELETE FROM records_preview WHERE rec = old.rowid;
END;
CREATE TRIGGER records_preview_columns AFTER UPDATE ON records BEGIN
    UPDATE records_preview SET vendor = new.vendor, profile = new.profile, kind = new.kind,
        id = new.id, created_at = new.created_at, updated_at = new.updated_at,
        remote_url = new.remote_url, related = new.related, is_deleted = new.is_deleted
    WHERE rec = new.rowid;
END;
"""


def _v8(conn: sqlite3.Connection) -> None:
    """One sort index per field (issue 16): the index a list sorted descending by a field
    walks, ``(profile, kind, is_deleted, v, id)``, serves the ascending order too
    (``indexes.Order.parts``), so the ascending ones built before, ``(profile, kind,
    is_deleted, (v) IS NULL, v, id)``, are dropped: 37 bytes a record each at a million.
    Records' ``synced_at`` is no longer written (nothing read it); the stamps already
    there go as their rows are written again, and raw payloads are compressed as they
    are written (``rows.pack_raw``): old ones stay readable as they are."""
    found = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name GLOB 'records_sort_*'"
        " AND sql LIKE '%) IS NULL, %'"
    )
    for (name,) in found.fetchall():
        conn.execute(f'DROP INDEX "{name}"')


# A record's list, ``(profile, kind)``, by a small number (``lists``): what every index of
# a list starts with (issue 16: the two texts, repeated in each entry of eight indexes, took
# ~90 bytes a record). Rows keep their profile and kind (their key, what they read back).
# A statement that opens a list names it with this subquery, profile and kind its two
# parameters (run once: an index seeks on its value).
LIST_OF = "(SELECT list FROM lists WHERE profile = ? AND kind = ?)"
# Every index of a list: ``records_by_title`` (the default order) and ``records_by_updated``
# here, sort and filter indexes in ``indexes`` (from schema 10 ``records_by_updated`` is
# one of those, built when needed: ``_V10``).
_LIST_INDEXES = """
CREATE INDEX records_by_title ON records (list, is_deleted, title COLLATE NOCASE, id);
CREATE INDEX records_by_updated ON records (list, is_deleted, updated_at, id);
"""
# A row written without its list (``rows`` always gives it; this is for any other writer)
# gets it here.
_LIST_TRIGGER = """
CREATE TRIGGER records_list AFTER INSERT ON records WHEN new.list IS NULL BEGIN
    INSERT OR IGNORE INTO lists (profile, kind) VALUES (new.profile, new.kind);
    UPDATE records SET list = (
        SELECT list FROM lists WHERE profile = new.profile AND kind = new.kind
    ) WHERE rowid = new.rowid;
END;
"""


_RECORDS_V9 = """
CREATE TABLE records_v9 (
    rowid INTEGER PRIMARY KEY,
    profile TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    vendor TEXT NOT NULL,
    title TEXT NOT NULL,
    subtitle TEXT NOT NULL DEFAULT '',
    created_at INTEGER,
    updated_at INTEGER,
    remote_url TEXT,
    fields TEXT NOT NULL DEFAULT '{}',
    related TEXT NOT NULL DEFAULT '{}',
    synced_at TEXT,
    is_deleted INTEGER NOT NULL DEFAULT 0,
    server TEXT,
    list INTEGER,
    UNIQUE (profile, kind, id)
)
"""
_KEPT = (
    "profile, kind, id, vendor, title, subtitle, remote_url, fields, related, synced_at,"
    " is_deleted, server"
)


def _v9(conn: sqlite3.Connection) -> None:
    """Smaller rows and indexes (issue 16, <=800 bytes a record at a million): every index
    of a list starts with its number (``LIST_OF``) instead of its profile and kind, and a
    record's ``created_at``/``updated_at`` are integers (microseconds since 1970 UTC:
    ``to_stamp``, 8 bytes) instead of ISO text (32 bytes, in the row and in the indexes
    that sort by them).

    The columns' type (INTEGER: a TEXT column would store the numbers as text) takes a
    new table: the indexes of the old columns are dropped first (their pages are free for
    the new rows, so the file hardly grows), the rows copied with their rowids (the search
    index, raw payloads and previews are by rowid), the old table dropped (foreign keys
    are off while migrating, ``_run``: its raw payloads stay) and the new one renamed; its triggers
    are made again as they were, the list's two indexes built again, and a sort or filter
    index again the first time it is needed, as in a new cache. A stamp that does not
    read as ISO text is kept as it was (``from_stamp`` reads it)."""
    conn.create_function("crmtui_stamp", 1, _stamp_of_text, deterministic=True)
    conn.execute(
        "CREATE TABLE lists (list INTEGER PRIMARY KEY, profile TEXT NOT NULL,"
        " kind TEXT NOT NULL, UNIQUE (profile, kind))"
    )
    conn.execute("INSERT INTO lists (profile, kind) SELECT DISTINCT profile, kind FROM records")
    triggers = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'records'"
    ).fetchall()
    found = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'"
        " AND sql IS NOT NULL"
    )
    for (name,) in found.fetchall():
        conn.execute(f'DROP INDEX "{name}"')
    conn.execute(_RECORDS_V9)
    conn.execute(
        f"INSERT INTO records_v9 (rowid, {_KEPT}, created_at, updated_at, list)"
        f" SELECT r.rowid, {', '.join(f'r.{c.strip()}' for c in _KEPT.split(','))},"
        " crmtui_stamp(r.created_at), crmtui_stamp(r.updated_at), l.list"
        " FROM records r JOIN lists l ON l.profile = r.profile AND l.kind = r.kind"
        " ORDER BY r.rowid"
    )
    conn.execute("DROP TABLE records")
    conn.execute("ALTER TABLE records_v9 RENAME TO records")
    for (sql,) in triggers:
        conn.execute(sql)
    for statement in _statements(_LIST_INDEXES + _LIST_TRIGGER):
        conn.execute(statement)
    broken = conn.execute("PRAGMA foreign_key_check").fetchone()
    if broken is not None:
        raise sqlite3.IntegrityError(f"a row refers to no record after migration 9: {broken}")


def _stamp_of_text(value: Any) -> Any:
    """An ISO stamp (``to_text``) as ``to_stamp``; anything else as it is."""
    if not isinstance(value, str):
        return value
    try:
        return to_stamp(datetime.fromisoformat(value))
    except ValueError:
        return value


# Schema 10 (issue 16, bytes per record): ``records_by_updated`` is built when a list is
# first sorted by its update time, or in the background when a list shows that column
# (``indexes.LAZY_COLUMN_INDEXES``), as ``records_by_created`` is: most lists show
# neither (28 bytes a record at a million). A field's sort value is an integer when it
# is a whole number (``indexes``: ``CAST .. AS NUMERIC``, 0 to 4 bytes where ``AS REAL``
# took 8), so the sort indexes an older crmtui built (their expression is no longer
# the one a list asks for) are dropped; each is built again when needed, as in a new
# cache. The rows themselves do not change.
_V10 = """
DROP INDEX IF EXISTS records_by_updated;
"""


def _v10(conn: sqlite3.Connection) -> None:
    """``_V10``, and the field sort indexes of ``CAST .. AS REAL`` dropped."""
    for statement in _statements(_V10):
        conn.execute(statement)
    found = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name GLOB 'records_sort_*'"
        " AND sql LIKE '% AS REAL)%'"
    )
    for (name,) in found.fetchall():
        conn.execute(f'DROP INDEX "{name}"')


# Schema 11 (issue 16, bytes per record): the search index without its 2- and 3-letter
# prefix indexes. They held every word's first two and first three letters again, with
# the word's places: 190 of its 320 bytes a record at a million deals. A search whose
# last word is two or three letters long now merges the words it begins, as a longer one
# always did (measured at a million deals: "re" 31 ms of CPU instead of 2, "ren" 13
# instead of 2; whole words and longer prefixes as before). Found and ranked the same:
# a prefix index changes how FTS5 finds a prefix, not what it finds, nor the counts and
# sizes ``bm25()`` (and ``ranking``) read. An FTS5 table cannot drop a prefix index, so
# the index is made again and every record indexed in it again, with the very text it
# was indexed with before (cut to ``fts.INDEXED_CHARS``, or whole for the rows listed in
# ``records_fts_whole`` and ``records_fts_titles_whole``, which stay listed).
_FTS_V11 = """
CREATE VIRTUAL TABLE records_fts USING fts5 (
    title, subtitle, search_text,
    content = '', tokenize = 'unicode61 remove_diacritics 2'
)
"""


def _v11(conn: sqlite3.Connection) -> None:
    """``_FTS_V11`` in place of the search index, every record indexed in it again."""
    conn.create_function("crmtui_indexed", 2, _indexed_title, deterministic=True)
    conn.create_function("crmtui_search_text", 2, _indexed_fields, deterministic=True)
    conn.execute("DROP TABLE records_fts")
    conn.execute(_FTS_V11)
    conn.execute(
        "INSERT INTO records_fts (rowid, title, subtitle, search_text)"
        " SELECT r.rowid, crmtui_indexed(r.title, t.rec), crmtui_indexed(r.subtitle, t.rec),"
        " crmtui_search_text(r.fields, w.rec) FROM records r"
        " LEFT JOIN records_fts_whole w ON w.rec = r.rowid"
        " LEFT JOIN records_fts_titles_whole t ON t.rec = r.rowid ORDER BY r.rowid"
    )


def _indexed_title(text: str | None, whole: int | None) -> str | None:
    """A title or subtitle as ``rows`` indexed it (``whole``: listed as indexed whole)."""
    return text if whole is not None else indexed(text)


def _indexed_fields(fields: str, whole: int | None) -> str:
    """The indexed text of a row's ``fields`` column, as ``rows.stored_search_text``
    derives it (``whole``: listed as indexed whole)."""
    return search_text(json.loads(fields), limit=None if whole is not None else INDEXED_CHARS)


def _v12(conn: sqlite3.Connection) -> None:
    """Keyless rows (issue 16, bytes per record: a deal's fields took ~275 bytes of JSON,
    ~120 of them its eleven keys with their quotes): each list gets its ``keys``, the
    most common key tuple of its rows, and a row whose fields have exactly those keys,
    in that order, is stored as a JSON array of its values (the text ``rows`` writes).

    Rows stay objects when SQL reads them key by key: more than ``rows.PREVIEW_ROW``
    bytes of JSON (a window's preview cuts them with ``json_each``), or a title or
    subtitle of more than ``LONG_VALUE`` bytes (the record screen's preview, ``_V7``);
    and a row without fields. The search index is not touched: an array row's values
    are its fields' in their order, so the text derived from it (``rows.
    stored_search_text``) is the same. Every field sort and filter index is dropped
    first: their expressions read a list's array rows by place (``indexes.extract``),
    and each is built again when needed, as in a new cache. The file does not shrink
    (SQLite keeps the freed pages for later rows); a new cache is smaller."""
    from crmtui.store import rows  # here: rows imports this module

    found = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index'"
        " AND (name GLOB 'records_sort_*' OR name GLOB 'records_filter_*')"
    )
    for (name,) in found.fetchall():
        conn.execute(f'DROP INDEX "{name}"')
    conn.execute("ALTER TABLE lists ADD COLUMN keys TEXT")
    shaped = (
        "substr(r.fields, 1, 1) = '{' AND r.fields != '{}'"
        f" AND length(CAST(r.fields AS BLOB)) <= {rows.PREVIEW_ROW}"
        f" AND length(CAST(r.title AS BLOB)) <= {LONG_VALUE}"
        f" AND length(CAST(r.subtitle AS BLOB)) <= {LONG_VALUE}"
    )
    shapes = conn.execute(
        "SELECT list, shape, count(*) AS n FROM (SELECT r.list AS list,"
        " (SELECT json_group_array(key) FROM json_each(r.fields)) AS shape"
        f" FROM records r WHERE r.list IS NOT NULL AND {shaped})"
        " GROUP BY list, shape ORDER BY list, n DESC, shape"
    ).fetchall()
    chosen: dict[int, str] = {}
    for number, shape, _ in shapes:
        keys = json.loads(shape)
        if len(set(keys)) == len(keys):  # a key twice (two lone surrogates made U+FFFD)
            chosen.setdefault(number, dumps(keys))
    conn.executemany(
        "UPDATE lists SET keys = ? WHERE list = ?", [(k, n) for n, k in chosen.items()]
    )

    def keyless(fields: str, keys: str) -> str:
        values = json.loads(fields)
        if tuple(values) != rows.keys_of(keys):
            return fields
        return rows.encode(list(values.values()))

    conn.create_function("crmtui_keyless", 2, keyless, deterministic=True)
    conn.execute(
        "UPDATE records AS r SET fields = crmtui_keyless(r.fields, l.keys) FROM lists l"
        f" WHERE l.list = r.list AND l.keys IS NOT NULL AND {shaped}"
    )


# A migration is a script, or a function given the connection inside its transaction.
Migration = str | Callable[[sqlite3.Connection], None]
MIGRATIONS: tuple[Migration, ...] = (
    _V1,
    _V2,
    _V3,
    _V4,
    _V5,
    _V6,
    _V7,
    _v8,
    _v9,
    _v10,
    _v11,
    _v12,
)
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(RuntimeError):
    """The cache file was written by a newer crmtui."""


class CacheWriteError(RuntimeError):
    """A write to the cache failed (disk full, read-only, locked): nothing of it was kept.

    Its text is one line a user can act on (what happened, which file, what to do); the
    UI shows it where the edit was typed and keeps the typed text.
    """

    @classmethod
    def of(
        cls,
        exc: sqlite3.Error | OSError,
        path: str | Path,
        what: str,
        *,
        outcome: str = "Nothing was queued",
        again: str = "save again",
    ) -> CacheWriteError:
        """The error for ``exc`` raised while saving ``what`` ("your edit") to ``path``;
        ``outcome`` says what did not happen, ``again`` what to do once fixed (a refresh
        whose records could not be stored: "The list was not updated", "refresh again")."""
        code = getattr(exc, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else None
        where = _shown(path)
        if primary == sqlite3.SQLITE_FULL or (
            isinstance(exc, OSError) and exc.errno == errno.ENOSPC
        ):
            reason, todo = "the disk is full", "free some disk space"
        elif primary == sqlite3.SQLITE_READONLY:
            reason, todo = "the cache file is read-only", "check its permissions"
        elif primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            reason = "another program holds the cache file locked"
            todo = "close other crmtui windows or notebooks using it"
        elif primary == sqlite3.SQLITE_IOERR or isinstance(exc, OSError):
            reason, todo = "the disk could not be written", "check the disk"
        else:
            reason, todo = f"the cache could not be written ({exc})", "check the disk"
        return cls(f"Could not save {what}: {reason} ({where}). {outcome}; {todo}, then {again}.")


def _shown(path: str | Path) -> str:
    """The cache file's name as shown to its user (the home folder as ``~``)."""
    if str(path) == MEMORY:
        return "in-memory cache"
    text = str(path)
    home = str(Path.home())
    return "~" + text[len(home) :] if home != "/" and text.startswith(home + os.sep) else text


def to_text(dt: datetime | None) -> str | None:
    """A datetime as sortable ISO text in UTC with microseconds (naive means UTC)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def from_text(text: str | None) -> datetime | None:
    """The inverse of ``to_text``."""
    return datetime.fromisoformat(text) if text else None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_stamp(dt: datetime | None) -> int | None:
    """A record's datetime as the cache stores it: microseconds since 1970 UTC (naive
    means UTC), an integer of 8 bytes that orders as time does (ISO text took 32)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // _MICROSECOND


def from_stamp(value: int | str | None) -> datetime | None:
    """The inverse of ``to_stamp`` (in UTC). Text is read too: ISO text (``to_text``, a
    stamp written before schema 9) and the digits of a stamp in a TEXT column (a record
    screen's preview, ``records_preview``, keeps them so)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if not value.lstrip("-").isdigit():
            return from_text(value)
        value = int(value)
    return _EPOCH + value * _MICROSECOND


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)


def dumps(value: Any) -> str:
    """Compact JSON (values are JSON primitives; anything else is written as text)."""
    return _ENCODER.encode(value)


def _create_private(path: Path) -> None:
    """Create the file (and its folder) readable by the owner only, before SQLite does.

    Never through a symbolic link (``O_NOFOLLOW``); an existing link is used only when it
    leads to a regular file of this user, and no other file is opened, written or
    chmodded (``files.NotAFile``): a link to another user's file or to a device is refused.

    An existing file is only looked at (``stat``), never opened: closing a descriptor of
    a file drops every lock this process holds on it, SQLite's included (POSIX), so a
    second connection opened beside the app's would leave its connections unlocked, and
    another process (``crmtui forget`` closing) would take itself for the last one and
    delete the ``-shm`` under them.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    flags = os.O_RDWR | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:  # a file or a link to one is there (a dangling link too)
        st = os.stat(path)  # follows a link; a dangling one: FileNotFoundError, as before
        files.check_regular(path, st, own=True)
        if st.st_size == 0 and stat.S_IMODE(st.st_mode) != 0o600:
            os.chmod(path, 0o600)  # a new cache; an existing file is tightened once known
        return
    try:  # made here: no connection of this process has it open yet
        files.check_regular(path, os.fstat(fd), own=True)
    finally:
        os.close(fd)


def in_use(path: Path) -> bool:
    """Whether a connection of this process has the file at ``path`` open (its header
    must then not be read by opening it: see ``_create_private``)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    with _OPEN_LOCK:
        return _OPEN.get((st.st_dev, st.st_ino), 0) > 0


# The files this process has SQLite connections to, by (device, inode): how many.
_OPEN: dict[tuple[int, int], int] = {}
_OPEN_LOCK = threading.Lock()


def _release(key: tuple[int, int]) -> None:
    with _OPEN_LOCK:
        left = _OPEN.get(key, 0) - 1
        if left > 0:
            _OPEN[key] = left
        else:
            _OPEN.pop(key, None)


class _Counted(sqlite3.Connection):
    """A connection that counts itself in ``_OPEN`` while open (``in_use``)."""

    def count(self, path: Path) -> None:
        st = os.stat(path)
        key = (st.st_dev, st.st_ino)
        with _OPEN_LOCK:
            _OPEN[key] = _OPEN.get(key, 0) + 1
        self._counted = weakref.finalize(self, _release, key)

    def close(self) -> None:
        super().close()
        counted: weakref.finalize[Any, Any] | None = getattr(self, "_counted", None)
        if counted is not None:
            counted()  # once: a finalizer runs at most once


@contextmanager
def _private_umask() -> Iterator[None]:
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


class NotACache(RuntimeError):
    """The file is an SQLite database but not (or no longer) a crmtui cache.

    ``foreign``: another program's database (no crmtui version, tables of its own): it is
    never migrated or changed. Otherwise a crmtui cache that lost tables of its schema.
    """

    def __init__(self, reason: str, *, foreign: bool) -> None:
        super().__init__(reason)
        self.foreign = foreign


_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table'"


@cache
def _tables_at(version: int) -> frozenset[str]:
    """The tables a cache of schema ``version`` has (built once, in memory)."""
    conn = sqlite3.connect(MEMORY)
    try:
        for number in range(version):
            _run(conn, number)
        return frozenset(r[0] for r in conn.execute(_TABLES))
    finally:
        conn.close()


def check_schema(conn: sqlite3.Connection) -> int:
    """The cache's schema version; ``SchemaTooNew`` or ``NotACache`` if it cannot be used
    as one (read before anything is written to the file).

    The version and the tables are read in one snapshot: read apart, another process
    migrating the file in between showed version 0 with tables ("another program's")."""
    if conn.in_transaction:
        return _schema_of(conn)
    conn.execute("BEGIN")
    try:
        version = _schema_of(conn)
    except BaseException:
        with suppress(sqlite3.Error):  # the error read is the one to tell
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return version


def _schema_of(conn: sqlite3.Connection) -> int:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(f"cache schema {version} is newer than this crmtui ({SCHEMA_VERSION})")
    names = {r[0] for r in conn.execute(_TABLES)}
    if version == 0 and names:
        shown = ", ".join(sorted(names)[:3]) + (", ..." if len(names) > 3 else "")
        raise NotACache(
            f"not a crmtui cache: it holds another program's tables ({shown})", foreign=True
        )
    missing = sorted(_tables_at(version) - names)
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        raise NotACache(f"tables of its schema are missing: {shown}", foreign=False)
    return version


def _statements(script: str) -> Iterator[str]:
    """The statements of an SQL script one by one (a trigger's body stays whole)."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\n;"):
                yield buffer
            buffer = ""


def _run(conn: sqlite3.Connection, number: int) -> None:
    """Bring a cache from version ``number`` to the next, in one transaction.

    The write lock is taken first (waiting up to ``UPGRADE_WAIT_S`` for another writer,
    most likely another process upgrading the same cache) and the version read again
    under it: two processes opening an old cache at the same moment
    both read its old version, and the second, once the first has migrated, finds the
    step done and skips it. A deferred transaction that read the schema before the other
    process's commit could not write after it ("database is locked"), and a script run
    a second time would fail on its tables existing. Scripts run statement by statement
    here (``executescript`` would commit this transaction first).
    """
    keys = int(conn.execute("PRAGMA foreign_keys").fetchone()[0])
    conn.execute("PRAGMA foreign_keys = OFF")  # a table made again keeps what refers to it
    try:
        _run_step(conn, number)
    finally:
        conn.execute(f"PRAGMA foreign_keys = {keys}")


def _run_step(conn: sqlite3.Connection, number: int) -> None:
    deadline = time.monotonic() + UPGRADE_WAIT_S
    while True:
        try:
            _immediate(conn)
            break
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
    try:
        if int(conn.execute("PRAGMA user_version").fetchone()[0]) <= number:
            migration = MIGRATIONS[number]
            if isinstance(migration, str):
                for statement in _statements(migration):
                    conn.execute(statement)
            else:
                migration(conn)
            conn.execute(f"PRAGMA user_version = {number + 1}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _immediate(conn: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE``: the write lock, waiting ``BUSY_S`` for it."""
    conn.execute("BEGIN IMMEDIATE")


def _migrate(conn: sqlite3.Connection) -> None:
    version = check_schema(conn)
    for number in range(version, SCHEMA_VERSION):
        _run(conn, number)


BUSY_S = 5.0  # busy_timeout: how long a statement waits for another connection's lock
# How long opening an old cache waits for the write lock, tried again every ``BUSY_S``:
# the process holding it is most likely upgrading the same cache (schema 11 re-indexes
# every record: a minute at a million deals), and the upgrade is then done, not failed.
UPGRADE_WAIT_S = 600.0
WAL_WAIT_S = 5.0  # as long as busy_timeout


def _wal(conn: sqlite3.Connection) -> None:
    """Put the cache in WAL mode. Two processes creating it at the same moment: the
    second's switch finds the file locked by the first's, and SQLite answers that at
    once ("database is locked", busy_timeout notwithstanding), so it is tried again
    for a while; a cache already in WAL mode never waits here."""
    deadline = time.monotonic() + WAL_WAIT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def pending_upgrade(path: str | Path) -> tuple[int, int] | None:
    """``(from, to)`` schema versions when opening the cache at ``path`` will upgrade it
    (read-only; ``None`` for a new, current or unreadable file: opening says why). A
    caller shows it before the upgrade, which takes minutes at a million records."""
    if str(path) == MEMORY or not Path(path).is_file():
        return None
    try:
        conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, timeout=1.0)
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return (version, SCHEMA_VERSION) if 0 < version < SCHEMA_VERSION else None


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) the cache file with safe modes and the current schema."""
    memory = str(path) == MEMORY
    if not memory:
        path = Path(path)
        _create_private(path)
    with _private_umask():
        conn = sqlite3.connect(
            str(path),
            check_same_thread=False,
            isolation_level=None,
            timeout=BUSY_S,
            factory=_Counted,
        )
        try:  # a connection that fails to open is closed now, not when its error goes
            if not memory:
                conn.count(Path(path))
            conn.execute(f"PRAGMA busy_timeout = {round(BUSY_S * 1000)}")
            check_schema(conn)  # before WAL mode is written into another program's file
            mode = 0 if memory else stat.S_IMODE(os.stat(path).st_mode)
            if mode & 0o077:  # a crmtui cache (checked above): its owner only, never loosened
                os.chmod(path, mode & 0o700)  # (a 0400 the user chose stays 0400)
            if not memory:
                _wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            _migrate(conn)
        except BaseException:
            conn.close()  # (uncounted: a later probe reads the file's header again)
            raise
    return conn


class Database:
    """The one connection and its lock; ``transaction()`` for writes, ``read()`` for reads."""

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self.conn = connect(path)
        self.lock = threading.RLock()
        self.side_lock = threading.Lock()  # one long side write at a time
        self.aside_lock = threading.Lock()  # the connection of ``read_aside``
        self._aside: sqlite3.Connection | None = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (nested calls join the outer one)."""
        with self.lock:
            nested = self.conn.in_transaction
            if nested:
                yield self.conn
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException:
                # Also when COMMIT itself failed (disk full): the transaction stays open
                # until rolled back, and the next BEGIN would fail.
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            yield self.conn

    @contextmanager
    def read_aside(self) -> Iterator[sqlite3.Connection]:
        """A read on a connection of its own, off the main one's lock: a thread reading a
        record with a 20 MB field held that lock for a good part of a second, and the
        UI's reads (the status line's count of queued edits) waited for it on the event
        loop. The main connection when this thread is inside a transaction on it (its own
        writes are not committed yet), or for an in-memory database (no second one).
        """
        nested = str(self.path) == MEMORY
        if not nested and self.lock.acquire(blocking=False):  # free, or held by this thread
            try:
                nested = self.conn.in_transaction
            finally:
                self.lock.release()
        if nested:
            with self.read() as conn:
                yield conn
            return
        with self.aside_lock:
            if self._aside is None:
                self._aside = connect(self.path)
            yield self._aside

    @contextmanager
    def side(self) -> Iterator[sqlite3.Connection]:
        """A second connection for long writes (index builds) off the UI's lock.

        In WAL mode its write transaction does not block the main connection's reads;
        an in-memory database has no second connection, so the main one is lent.
        """
        with self.side_lock:
            if str(self.path) == MEMORY:
                with self.lock:
                    yield self.conn
                return
            conn = connect(self.path)
            try:
                yield conn
            finally:
                conn.close()

    def close(self) -> None:
        with self.lock:
            self.conn.close()
        with self.aside_lock:
            if self._aside is not None:
                self._aside.close()
                self._aside = None


class HasDatabase:
    """What the store's parts share: the database."""

    _db: Database
