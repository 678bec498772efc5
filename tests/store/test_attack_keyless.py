"""Keyless rows (schema 12), attacked: a list's rows stored as arrays of their values
(its ``keys`` set from the first vendor batch) must show exactly what the vendor sent,
under the names it sent them, and sort, filter, count and search as object rows did, on
any cache (new, upgraded, shared, forgotten and synced again, damaged)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from crmtui.model import Change, Record, RecordRef
from crmtui.store import CacheUnusable, Store, db, health, rows
from tests.store.factory import ids, rec, store_at

DEAL = "deal"


def deal(id_: str, title: str, **fields: Any) -> Record:
    return rec(id_, title, kind=DEAL, **fields)


def ref(id_: str, kind: str = DEAL) -> RecordRef:
    return RecordRef(profile="acme-fs", kind=kind, id=id_)


def shown(store: Store, id_: str, kind: str = DEAL) -> dict[str, Any]:
    """A record's fields as the record screen gets them, in their order."""
    found = store.get_record(ref(id_, kind))
    assert found is not None
    return found.fields


def listed(store: Store, kind: str = DEAL, **how: Any) -> list[str]:
    return ids(store.window("acme-fs", kind, offset=0, limit=100, **how))


def stored_keys(path: Path, kind: str = DEAL) -> str | None:
    with closing(sqlite3.connect(path)) as conn:
        found = conn.execute("SELECT keys FROM lists WHERE kind = ?", (kind,)).fetchone()
    return None if found is None else found[0]


def set_keys(path: Path, keys: str | None, kind: str = DEAL) -> None:
    """A damaged ``lists.keys`` (another program, a bad sector): written behind the store."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("UPDATE lists SET keys = ? WHERE kind = ?", (keys, kind))
        conn.commit()


def three_deals() -> list[Record]:
    return [
        deal("1", "Alpha", stage="won", amount=10, owner=None),
        deal("2", "Beta", stage="lost", amount=20, owner="ann"),
        deal("3", "Gamma", stage="open", amount=30, owner="bob"),
    ]


# -- text that is hard to measure -----------------------------------------------------------


def test_a_long_title_with_a_lone_surrogate_is_stored(store: Store) -> None:
    """A title of 40,000 characters with a lone surrogate (odd vendor text): the check of
    whether the row may be an array measured it as UTF-8 and raised, so the whole batch
    was lost."""
    title = "T" * 40_000 + "\ud800"
    subtitle_rec = deal("2", "Short", stage="won")
    subtitle_rec.subtitle = "S" * 40_000 + "\udfff"
    assert store.upsert_records([deal("1", title, stage="won"), subtitle_rec]) == 2
    found = store.get_record(ref("1"))
    assert found is not None and found.title == "T" * 40_000 + "\ufffd"
    assert shown(store, "1") == {"stage": "won"}
    assert shown(store, "2") == {"stage": "won"}


# -- a damaged list's keys: an error, never values under other names -------------------------


@pytest.mark.parametrize(
    "keys",
    [
        '"abc"',  # a string: its letters would name the three values
        "[",  # not JSON
        '{"stage": 0, "amount": 1, "owner": 2}',  # an object
        "[1, 2, 3]",  # not names
        '["stage", "stage", "owner"]',  # a name twice: a value lost
        '["stage", "amount"]',  # one name short
        None,  # gone, the rows still arrays
    ],
)
def test_damaged_list_keys_are_an_error_not_values_under_other_names(
    tmp_path: Path, keys: str | None
) -> None:
    path = tmp_path / "c.sqlite"
    store = Store(path)
    store.upsert_records(three_deals())
    assert stored_keys(path) == '["stage","amount","owner"]'
    store.close()
    set_keys(path, keys)
    store = Store(path)
    try:
        with pytest.raises(sqlite3.DatabaseError):
            store.get_record(ref("2"))
        with pytest.raises(sqlite3.DatabaseError):
            store.window("acme-fs", DEAL, offset=0, limit=10)
        problem = store.unusable(_raised(lambda: store.get_record(ref("2"))))
        assert problem is not None and problem.kind == "damaged", problem
    finally:
        store.close()


def _raised(call: Any) -> BaseException:
    try:
        call()
    except BaseException as exc:  # the error the app would meet
        return exc
    raise AssertionError("no error")


@pytest.mark.parametrize("keys", ['"abc"', "[", '["stage", "amount"]', None])
def test_the_health_check_finds_damaged_list_keys_and_salvage_keeps_the_edits(
    tmp_path: Path, keys: str | None
) -> None:
    """The app says the cache is damaged and to salvage it: ``cache check`` must agree,
    and ``cache salvage`` must act, not answer "sound; nothing to salvage"."""
    path = tmp_path / "c.sqlite"
    store = Store(path)
    store.upsert_records(three_deals())
    store.enqueue(_stage_edit(store, "1", "lost"))
    store.close()
    assert health.check(path).ok
    set_keys(path, keys)
    report = health.check(path)
    assert not report.ok and "damaged" in report.lines[0], report.lines
    assert "1 queued edit(s)" in " ".join(report.lines), report.lines
    saved = health.salvage(path)
    assert saved.ok and "recovered 1 queued edit(s)" in " ".join(saved.lines), saved.lines
    store = Store(path)
    try:
        assert store.queued_count() == 1
    finally:
        store.close()


def _stage_edit(store: Store, id_: str, stage: str) -> Change:
    record = store.get_record(ref(id_))
    assert record is not None
    return Change(
        ref=ref(id_),
        values={"stage": stage},
        base={"stage": record.fields.get("stage")},
        base_updated_at=record.updated_at,
    )


# -- an older crmtui -------------------------------------------------------------------------


def test_an_older_crmtui_refuses_a_keyless_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.sqlite"
    store = Store(path)
    store.upsert_records(three_deals())
    store.close()
    monkeypatch.setattr(db, "SCHEMA_VERSION", 11)
    with pytest.raises(CacheUnusable) as refused:
        Store(path)
    assert refused.value.kind == "newer"
    assert not health.check(path).ok
    monkeypatch.undo()
    store = Store(path)
    try:
        assert shown(store, "1") == {"stage": "won", "amount": 10, "owner": None}
    finally:
        store.close()


# -- places and names ------------------------------------------------------------------------


def test_a_field_past_the_tenth_place_is_not_read_as_the_second(store: Store) -> None:
    """``$[10]`` and ``$[1]``: sort, filter and count by each read its own values."""
    records = [
        deal(str(n), f"D{n}", **{f"f{i}": (n * 7 + i * 3) % 13 for i in range(12)})
        for n in range(20)
    ]
    store.upsert_records(records)
    for field in ("f1", "f10", "f11"):
        want = sorted(records, key=lambda r, f=field: (r.fields[f], r.id))
        assert listed(store, sort=field) == [r.id for r in want], field
        value = records[5].fields[field]
        matching = sorted(
            (r for r in records if r.fields[field] == value), key=lambda r: r.title.lower()
        )
        assert listed(store, filters={field: str(value)}) == [r.id for r in matching]
        assert store.count("acme-fs", DEAL, filters={field: str(value)}) == len(matching)
        assert store.get_field(ref("5"), field) == value


def test_one_field_at_other_places_in_two_lists(store: Store) -> None:
    """``stage`` second in deals, third in leads, and an object row in each: indexes
    of one list's places never answer the other's."""
    store.upsert_records(
        [deal(str(n), f"D{n}", amount=n, stage=["a", "b"][n % 2], x=1) for n in range(6)]
    )
    store.upsert_records(
        [
            rec(str(n), f"L{n}", kind="lead", x=2, amount=-n, stage=["b", "a"][n % 2])
            for n in range(6)
        ]
    )
    store.upsert_records([deal("9", "D9", stage="a", extra=True)])
    store.upsert_records([rec("9", "L9", kind="lead", stage="a")])
    assert listed(store, filters={"stage": "a"}) == ["0", "2", "4", "9"]
    assert listed(store, "lead", filters={"stage": "a"}) == ["1", "3", "5", "9"]
    assert store.count("acme-fs", "lead", filters={"stage": "b"}) == 3
    assert listed(store, sort="amount", descending=True) == ["5", "4", "3", "2", "1", "0", "9"]
    assert listed(store, "lead", sort="amount") == ["5", "4", "3", "2", "1", "0", "9"]
    assert shown(store, "3", "lead") == {"x": 2, "amount": -3, "stage": "a"}


ODD_KEYS = ["", "$", "a.b", "a[0]", "it's", 'say "hi"', "say hi", "ключ 🔑", "\\", "$[1]", "a\tb"]


def test_odd_keys_in_an_odd_first_batch(store: Store) -> None:
    """Keys no path spells plainly, a first batch with one record of extra keys and one
    with no fields: every value under its own name, found by its own name."""
    values = {key: f"v{i}" for i, key in enumerate(ODD_KEYS)}
    batch = [deal(str(n), f"D{n}", **{k: f"{v}-{n}" for k, v in values.items()}) for n in range(3)]
    batch.append(deal("x", "Extra", **{**{k: f"{v}-x" for k, v in values.items()}, "more": 1}))
    batch.append(deal("e", "Empty"))
    store.upsert_records(batch)
    for record in batch:
        assert list(shown(store, record.id).items()) == list(record.fields.items())
        for key, value in record.fields.items():
            assert store.get_field(record.ref, key) == value, (record.id, key)
    for n, key in enumerate(ODD_KEYS):
        assert listed(store, filters={key: f"v{n}-1"}) == ["1"], key
        if not any(c in key for c in '"\\\t'):  # an object row's: no path spells those
            assert listed(store, filters={key: f"v{n}-x"}) == ["x"], key


def test_a_quoted_key_beside_its_unquoted_twin_on_an_object_row(store: Store) -> None:
    """``say "hi"`` and ``say hi``: the record screen's whole value of one is never the
    other's, in an array row or an object row (extra keys) alike."""
    store.upsert_records(
        [
            deal("1", "A", **{'say "hi"': "quoted", "say hi": "plain"}),
            deal("2", "B", **{'say "hi"': "quoted2", "say hi": "plain2", "more": 1}),
            deal("3", "C", **{'say "hi"': "quoted3"}),
        ]
    )
    for id_, quoted in (("1", "quoted"), ("2", "quoted2"), ("3", "quoted3")):
        assert store.get_field(ref(id_), 'say "hi"') == quoted, id_
    assert store.get_field(ref("3"), "say hi") is None


def test_values_that_look_like_json_none_and_absent(store: Store) -> None:
    looks = ["[1, 2]", '{"a": 1}', "null", "true", "3", "", "[", '"']
    batch = [
        deal(str(n), f"D{n}", v=text, tags=["red", text], none=None) for n, text in enumerate(looks)
    ]
    batch.append(deal("absent", "Absent", v="x", tags=[]))  # no ``none``: another shape
    store.upsert_records(batch)
    for record in batch:
        assert list(shown(store, record.id).items()) == list(record.fields.items())
        for key, value in record.fields.items():
            assert store.get_field(record.ref, key) == value
    assert "none" not in shown(store, "absent")
    assert listed(store, filters={"v": "3"}) == ["4"]
    assert listed(store, filters={"tags": "red"}) == [str(n) for n in range(len(looks))]
    assert listed(store, filters={"tags": "[1, 2]"}) == ["0"]
    assert store.count("acme-fs", DEAL, filters={"tags": "null"}) == 1
    assert ids(store.search("red")) != []


# -- edits on array rows ---------------------------------------------------------------------


def test_edits_on_array_rows_show_keep_and_undo(store: Store) -> None:
    store.upsert_records(three_deals())
    change = store.enqueue(_stage_edit(store, "2", "won"))
    assert shown(store, "2") == {"stage": "won", "amount": 20, "owner": "ann"}
    server = store.server_version(ref("2"))
    assert server is not None and server.fields == {"stage": "lost", "amount": 20, "owner": "ann"}
    assert listed(store, filters={"stage": "won"}) == ["1", "2"]
    # a refresh meanwhile brings the vendor's record with a new field: kept beside it
    store.upsert_records([deal("2", "Beta", stage="lost", amount=25, owner="ann", region="eu")])
    assert shown(store, "2") == {"stage": "won", "amount": 25, "owner": "ann", "region": "eu"}
    store.discard(change.id)
    assert shown(store, "2") == {"stage": "lost", "amount": 25, "owner": "ann", "region": "eu"}
    assert listed(store, filters={"stage": "won"}) == ["1"]
    # an edit that sets a field to None, confirmed with the vendor's fields reordered
    change = store.enqueue(Change(ref=ref("3"), values={"owner": None}, base={"owner": "bob"}))
    assert shown(store, "3") == {"stage": "open", "amount": 30, "owner": None}
    store.complete(change.id, deal("3", "Gamma", owner=None, amount=30, stage="open"))
    assert list(shown(store, "3").items()) == [("owner", None), ("amount", 30), ("stage", "open")]
    assert listed(store, sort="amount") == ["1", "2", "3"]


# -- forget, adapter changes, upgrade --------------------------------------------------------


def test_forget_then_a_sync_with_other_fields(store: Store) -> None:
    store.upsert_records(three_deals())
    store.delete_profile("acme-fs")
    store.upsert_records(
        [deal("1", "Alpha", owner="zed", stage=None), deal("2", "Beta", owner="amy", stage="won")]
    )
    assert shown(store, "1") == {"owner": "zed", "stage": None}
    assert listed(store, sort="owner") == ["2", "1"]
    assert listed(store, filters={"stage": "won"}) == ["2"]
    assert store.get_field(ref("2"), "amount") is None


def test_an_adapter_that_adds_removes_and_reorders_fields(store: Store) -> None:
    store.upsert_records(three_deals())
    store.upsert_records(
        [
            deal("4", "Delta", owner="cy", amount=5, stage="won"),  # reordered
            deal("5", "Eps", stage="won", amount=50),  # one removed
            deal("6", "Zeta", stage="won", amount=1, owner="di", cf_region="eu"),  # added
        ]
    )
    assert list(shown(store, "4")) == ["owner", "amount", "stage"]
    assert shown(store, "5") == {"stage": "won", "amount": 50}
    assert shown(store, "6")["cf_region"] == "eu"
    assert listed(store, sort="amount") == ["6", "4", "1", "2", "3", "5"]
    assert listed(store, filters={"stage": "won"}) == ["1", "4", "5", "6"]
    assert listed(store, filters={"cf_region": "eu"}) == ["6"]
    assert listed(store, sort="owner", descending=True) == ["6", "4", "3", "2", "5", "1"]


def _everything(store: Store) -> list[Any]:
    """What a user sees of the deals list, every way."""
    seen: list[Any] = [
        [(r.id, r.fields) for r in store.window("acme-fs", DEAL, offset=0, limit=100)]
    ]
    for field in ("stage", "amount", "owner", "cf"):
        for descending in (False, True):
            seen.append(listed(store, sort=field, descending=descending))
    for field, value in (("stage", "won"), ("amount", "20"), ("tags", "red"), ("cf", "1")):
        seen.append(listed(store, filters={field: value}))
        seen.append(store.count("acme-fs", DEAL, filters={field: value}))
    seen.append(ids(store.search("bob")))
    seen.append([store.get_field(ref("2"), key) for key in ("stage", "amount", "tags", "cf")])
    return seen


def test_an_upgraded_cache_shows_sorts_filters_and_finds_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.sqlite"
    records = [
        deal("1", "Alpha", stage="won", amount=10, owner=None, tags=["red"]),
        deal("2", "Beta", stage="lost", amount=20, owner="ann", tags=["red", "blue"]),
        deal("3", "Gamma", stage="won", amount=30, owner="bob", tags=[]),
        deal("4", "Delta", amount=20, stage="won", owner="bob", tags=["red"]),  # reordered
        deal("5", "Eps", stage="won", amount=5, owner="cy", tags=[], cf=1),  # extra
        deal("6", "Zeta"),  # no fields
    ]
    with store_at(path, monkeypatch, 11) as old:
        old.upsert_records(records)
        old.enqueue(_stage_edit(old, "2", "won"))
        before = _everything(old)
    store = Store(path)
    try:
        assert stored_keys(path) == '["stage","amount","owner","tags"]'
        assert _everything(store) == before
        for record in records:
            want = dict(record.fields, stage="won") if record.id == "2" else record.fields
            assert list(shown(store, record.id).items()) == list(want.items())
    finally:
        store.close()


def test_keys_with_lone_surrogates_never_name_a_list_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two lone surrogates as keys are both stored as U+FFFD: taken as a list's keys they
    would name it twice. The list, new or upgraded, reads, filters and sorts as before."""
    halves = [chr(0xD800), chr(0xDC00)]  # two lone surrogates, not a pair: two keys
    batch = [
        deal(str(n), f"D{n}", **dict(zip(halves, (n, -n), strict=True)), stage="won")
        for n in range(3)
    ]
    path = tmp_path / "old.sqlite"
    with store_at(path, monkeypatch, 11) as old:
        old.upsert_records(batch)
        before = [r.fields for r in old.window("acme-fs", DEAL, offset=0, limit=10)]
    for store in (Store(path), Store(tmp_path / "new.sqlite")):
        try:
            store.upsert_records(batch)
            assert [r.fields for r in store.window("acme-fs", DEAL, offset=0, limit=10)] == before
            assert listed(store, filters={"stage": "won"}) == ["0", "1", "2"]
            assert listed(store, sort="stage", descending=True) == ["2", "1", "0"]
        finally:
            store.close()


def test_two_processes_share_keys_forget_and_sync_again(tmp_path: Path) -> None:
    """One crmtui lists deals while another (a `crmtui sync`) writes the list's first
    batch, forgets the profile and syncs it again with other fields: the first one's
    reads show each record under its own names, sorted, filtered and counted."""
    path = tmp_path / "c.sqlite"
    app, sync = Store(path), Store(path)
    try:
        assert listed(app, filters={"stage": "won"}) == []
        assert listed(app, sort="amount") == []
        sync.upsert_records(three_deals())
        assert listed(app, filters={"stage": "won"}) == ["1"]
        assert listed(app, sort="amount", descending=True) == ["3", "2", "1"]
        assert app.count("acme-fs", DEAL, filters={"owner": "ann"}) == 1
        assert sync.delete_profile("acme-fs")
        assert listed(app) == [] and app.get_record(ref("1")) is None
        sync.upsert_records(
            [deal("1", "Alpha", amount=7, region="eu"), deal("2", "Beta", amount=3, region="us")]
        )
        assert shown(app, "1") == {"amount": 7, "region": "eu"}
        assert listed(app, sort="amount") == ["2", "1"]
        assert listed(app, filters={"region": "us"}) == ["2"]
        assert app.get_field(ref("2"), "stage") is None
        assert ids(app.search("eu")) == ["1"]
    finally:
        app.close()
        sync.close()


def test_a_huge_value_in_a_keyless_list(store: Store) -> None:
    """A record with a 300 KB note among array rows stays an object: listed cut,
    previewed cut, read whole, sorted and filtered with the others."""
    note = "word " * 60_000
    store.upsert_records(three_deals())
    store.upsert_records([deal("4", "Delta", stage="won", amount=5, owner=note)])
    window = store.window("acme-fs", DEAL, offset=0, limit=10)
    assert ids(window) == ["1", "2", "4", "3"]
    big = window[2]
    assert big.partial and big.fields["stage"] == "won" and len(big.fields["owner"]) < len(note)
    preview = store.get_record_preview(ref("4"))
    assert preview is not None and preview.lengths == {"owner": len(note)}
    assert store.get_field(ref("4"), "owner") == note
    assert shown(store, "4") == {"stage": "won", "amount": 5, "owner": note}
    assert listed(store, filters={"stage": "won"}) == ["1", "4"]
    assert listed(store, sort="amount") == ["4", "1", "2", "3"]


def test_an_undone_discard_on_an_array_row_shows_the_edit_again(store: Store) -> None:
    store.upsert_records(three_deals())
    change = store.enqueue(_stage_edit(store, "1", "lost"))
    dropped = store.discard(change.id)
    assert shown(store, "1") == {"stage": "won", "amount": 10, "owner": None}
    store.restore(dropped)
    assert shown(store, "1") == {"stage": "lost", "amount": 10, "owner": None}
    assert listed(store, filters={"stage": "lost"}) == ["1", "2"]
    store.mark_deleted(ref("1"))  # gone at the vendor, the edit still queued
    assert store.get_record(ref("1")) is None
    assert listed(store, filters={"stage": "lost"}) == ["2"]


def _seen_every_way(store: Store, records: list[Record], keys: list[str]) -> list[Any]:
    """Every filter (by each value's text), sort (both ways), count and whole value."""
    seen: list[Any] = []
    for key in keys:
        for text in ("true", "false", "1", "2.5", "b", "c1", "[1]"):
            seen.append(listed(store, filters={key: text}))
            seen.append(store.count("acme-fs", DEAL, filters={key: text}))
        for descending in (False, True):
            seen.append(listed(store, sort=key, descending=descending))
    seen.append([[store.get_field(r.ref, key) for key in keys] for r in records])
    seen.append([list(shown(store, r.id).items()) for r in records])
    return seen


def test_array_rows_read_as_object_rows_do(monkeypatch: pytest.MonkeyPatch) -> None:
    """Booleans, None, nested objects and lists, numbers and numeric text mixed in one
    field: filtered, sorted, counted and read the same from array rows as from object
    rows (the rows as schema 11 stored them)."""
    mixed = [1, "1", 2.5, "b", None, True, False, "2.5", [1], {"a": 1}]
    records = [
        deal(
            str(n),
            f"D{n}",
            flag=[True, False, None][n % 3],
            addr={"city": f"c{n % 3}", "n": [n]},
            mixed=mixed[n % len(mixed)],
            tags=["b", f"c{n % 2}"] if n % 4 else [],
        )
        for n in range(20)
    ]
    keys = ["flag", "addr", "mixed", "tags"]
    arrays = Store(":memory:")
    try:
        arrays.upsert_records(records)
        assert listed(arrays) and arrays._db.conn.execute("SELECT keys FROM lists").fetchone()[0]
        seen = _seen_every_way(arrays, records, keys)
    finally:
        arrays.close()
    monkeypatch.setattr(rows, "_shape", lambda record, fields: None)
    objects = Store(":memory:")
    try:
        objects.upsert_records(records)
        assert _seen_every_way(objects, records, keys) == seen
    finally:
        objects.close()
