"""The record screen's read of a record (``get_record_preview``): a long value comes cut,
with its whole length, and ``get_field`` reads it whole (issue 12: no screen takes more
than 100 ms to open because of one large value). The cut values are stored when the
record is written, so the read never reads the long value itself."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crmtui.model import Change, ChangeOp, RecordRef, RelatedRef
from crmtui.store import Store, records
from crmtui.store.db import LONG_VALUE, MIGRATIONS, PREVIEW_CUT, dumps
from tests.store.factory import T0, rec

REF = RecordRef(profile="acme-fs", kind="company", id="1")
LONG = "Budget line — quarterly review.\n" * 40_000  # 1.3 million characters, not ASCII


def test_a_long_value_comes_cut_with_its_length_and_is_read_whole_by_itself(
    store: Store,
) -> None:
    fields = {
        "description": LONG,
        "name": "Acme",
        "amount": 12500.5,
        "count": 3,
        "active": True,
        "closed": False,
        "tags": ["a", "b"],
        "owner": {"id": 7, "name": "Ann"},
        "nothing": None,
        "medium": "m" * LONG_VALUE,  # at the bound: whole
    }
    store.upsert_records([rec("1", "Acme", **fields)])
    found = store.get_record_preview(REF)
    assert found is not None
    record, lengths = found
    assert lengths == {"description": len(LONG)}  # characters, not bytes
    assert record.partial and record.raw == {}
    assert record.fields["description"] == LONG[:PREVIEW_CUT]
    assert {k: v for k, v in record.fields.items() if k != "description"} == {
        k: v for k, v in fields.items() if k != "description"
    }  # every other value as stored, JSON types kept
    assert store.get_field(REF, "description") == LONG
    assert store.get_field(REF, "owner") == {"id": 7, "name": "Ann"}
    assert store.get_field(REF, "active") is True
    assert store.get_field(REF, "missing") is None


def test_a_short_record_comes_whole(store: Store) -> None:
    store.upsert_records([rec("1", "Acme", description="short", amount=1.25)])
    found = store.get_record_preview(REF)
    whole = store.get_record(REF)
    assert found is not None and whole is not None
    assert found.lengths == {} and not found.record.partial
    assert found.record.fields == whole.fields and found.record.title == whole.title


def test_a_long_title_comes_cut(store: Store) -> None:
    title = "T" * (LONG_VALUE + 1)
    store.upsert_records([rec("1", title)])
    found = store.get_record_preview(REF)
    assert found is not None and found.record.partial
    assert found.record.title == title[:PREVIEW_CUT]


def test_the_preview_shows_queued_edits_and_hides_deleted_records(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache.sqlite3")  # a file: the read goes through its own connection
    try:
        store.upsert_records([rec("1", "Acme", description=LONG, note="old")])
        store.enqueue(
            Change(ref=REF, op=ChangeOp.UPDATE, values={"note": "new"}, base={"note": "old"})
        )
        found = store.get_record_preview(REF)
        assert found is not None and found.record.fields["note"] == "new"
        assert store.get_field(REF, "note") == "new"
        store.mark_deleted(REF)
        assert store.get_record_preview(REF) is None
        assert store.get_field(REF, "description") is None
    finally:
        store.close()


@pytest.mark.parametrize("missing", [RecordRef(profile="acme-fs", kind="company", id="2")])
def test_a_record_not_cached_is_none(store: Store, missing: RecordRef) -> None:
    assert store.get_record_preview(missing) is None
    assert store.get_field(missing, "description") is None


PROC_IO = Path("/proc/self/io")


def bytes_read(read: Callable[[], Any]) -> tuple[Any, int]:
    """What ``read()`` returns, and how many bytes the process read from files meanwhile
    (Linux: ``rchar``; SQLite reads the cache file's pages with ``pread``)."""

    def rchar() -> int:
        lines = PROC_IO.read_text().splitlines()
        return next(int(line.split()[1]) for line in lines if line.startswith("rchar:"))

    before = rchar()
    found = read()
    return found, rchar() - before


@pytest.mark.skipif(not PROC_IO.exists(), reason="counts the bytes read through /proc/self/io")
def test_the_screens_read_of_a_record_with_a_huge_value_does_not_read_that_value(
    tmp_path: Path,
) -> None:
    huge = "Minutes of the board meeting.\n" * 150_000  # 4.5 MB
    store = Store(tmp_path / "cache.sqlite3")  # a file: reads go through its own connection
    try:
        store.upsert_records([rec("1", "Acme", minutes=0, notes=huge, city="Faro")])
        found, read = bytes_read(lambda: store.get_record_preview(REF))
        assert found is not None and found.lengths == {"notes": len(huge)}
        assert found.record.fields == {"notes": huge[:PREVIEW_CUT], "city": "Faro"}
        assert read < 200_000  # a few pages: not the 4.5 MB value
        whole, read = bytes_read(lambda: store.get_field(REF, "notes"))
        assert whole == huge and read > len(huge)  # reading it whole is seen
    finally:
        store.close()


def test_the_cut_values_follow_every_write_of_the_record(store: Store) -> None:
    def preview() -> records.RecordPreview:
        found = store.get_record_preview(REF)
        assert found is not None
        return found

    store.upsert_records([rec("1", "Acme", description=LONG, city="Faro")])
    moved = rec("1", "Acme", minutes=5, description=LONG, city="Faro").model_copy(
        update={
            "related": {"Deals": [RelatedRef(kind="deal", id="9", title="Renewal")]},
            "remote_url": "https://acme.example/companies/1",
        }
    )
    store.upsert_records([moved])  # the long value as it was, the rest changed
    found = preview()
    assert found.record.updated_at == moved.updated_at
    assert found.record.related == moved.related and found.record.remote_url == moved.remote_url
    longer = LONG + "One more line."
    store.upsert_records([rec("1", "Acme", description=longer, city="Porto")])
    found = preview()
    assert found.lengths == {"description": len(longer)} and found.record.fields["city"] == "Porto"
    store.upsert_records([rec("1", "Acme " + LONG, description="short now")])
    found = preview()  # the long value gone, the title long instead
    assert found.lengths == {} and found.record.partial
    assert found.record.title == ("Acme " + LONG)[:PREVIEW_CUT]
    assert found.record.fields == {"description": "short now"}
    store.upsert_records([rec("1", "Acme", description="short")])
    found = preview()  # nothing long left: the row as stored
    assert not found.record.partial and found.record.fields == {"description": "short"}
    store.upsert_records([rec("1", "Acme", description=LONG)])
    store.delete_profile("acme-fs")
    assert store.get_record_preview(REF) is None
    store.upsert_records([rec("1", "Acme again", description="short")])
    assert not preview().record.partial and preview().record.title == "Acme again"
    assert store.integrity_check() == "ok"


def test_a_cache_from_before_the_cut_values_were_stored_gets_them(tmp_path: Path) -> None:
    """A schema-6 cache (its long values cut at each read) gets them cut once, as it is
    opened, with every JSON type kept; its short rows are read as stored."""
    path = tmp_path / "v6.sqlite3"
    conn = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:6]):
        conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number + 1}; COMMIT;")
    typed = {"n": 3, "x": 1.5, "yes": True, "no": False, "none": None, "tags": ["a", 2]}
    medium = {f"part{n}": "m" * 100_000 for n in range(3)}  # long JSON, no long value
    cached = {
        "1": ("Acme", "", {"description": LONG, **typed, "owner": {"id": 7}}),
        "2": ("Beta", LONG, {}),  # a long subtitle, no fields
        "3": ("Gamma", "", {"description": "short", **typed}),
        "4": ("Delta", "", medium),
    }
    for id_, (title, subtitle, fields) in cached.items():
        conn.execute(
            "INSERT INTO records (profile, kind, id, vendor, title, subtitle, updated_at,"
            " fields) VALUES ('acme-fs', 'company', ?, 'freshsales', ?, ?, ?, ?)",
            (id_, title, subtitle, T0.isoformat(timespec="microseconds"), dumps(fields)),
        )
    conn.commit()
    conn.close()
    store = Store(path)
    try:
        found = {
            id_: store.get_record_preview(RecordRef(profile="acme-fs", kind="company", id=id_))
            for id_ in cached
        }
        acme, beta, gamma, delta = (found[id_] for id_ in cached)
        assert acme is not None and acme.lengths == {"description": len(LONG)}
        assert acme.record.partial and acme.record.updated_at == T0
        assert acme.record.fields == {
            "description": LONG[:PREVIEW_CUT],
            **typed,
            "owner": {"id": 7},
        }
        assert beta is not None and beta.record.partial and beta.lengths == {}
        assert beta.record.subtitle == LONG[:PREVIEW_CUT] and beta.record.fields == {}
        for short, fields in ((gamma, cached["3"][2]), (delta, medium)):
            assert short is not None and not short.record.partial and short.lengths == {}
            assert short.record.fields == fields
        assert store.get_field(REF, "description") == LONG
        assert store.integrity_check() == "ok"
    finally:
        store.close()


def _write_many(path: str, who: int, rounds: int) -> None:
    """One OS process writing the same record over and over, long and short in turn."""
    store = Store(path)
    try:
        for n in range(rounds):
            text = f"{who}:{n} " + ("x" * (LONG_VALUE + 10) if n % 2 else "short")
            store.upsert_records([rec("1", "Acme", description=text)])
    finally:
        store.close()


def test_two_processes_writing_one_record_leave_its_cut_value_matching_the_whole(
    tmp_path: Path,
) -> None:
    """The cut values are kept by the cache's own triggers, inside each write's
    transaction: two OS processes writing the same record in turn never leave the
    preview showing another write than the stored record."""
    import multiprocessing

    path = str(tmp_path / "cache.sqlite3")
    Store(path).close()  # schema made once, before the writers race
    spawn = multiprocessing.get_context("spawn")
    writers = [spawn.Process(target=_write_many, args=(path, who, 40)) for who in (1, 2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
        assert writer.exitcode == 0
    store = Store(path)
    try:
        whole = store.get_field(REF, "description")
        found = store.get_record_preview(REF)
        assert isinstance(whole, str) and found is not None
        record, lengths = found
        if len(whole) > LONG_VALUE:
            assert lengths == {"description": len(whole)}
            assert record.fields["description"] == whole[:PREVIEW_CUT]
        else:
            assert lengths == {} and record.fields["description"] == whole
    finally:
        store.close()
