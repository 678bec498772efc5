"""The record screen's read of a record (``get_record_preview``): a long value comes cut,
with its whole length, and ``get_field`` reads it whole (issue 12: no screen takes more
than 100 ms to open because of one large value)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmtui.model import Change, ChangeOp, RecordRef
from crmtui.store import Store, records, rows
from tests.store.factory import rec

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
        "medium": "m" * records.LONG_VALUE,  # at the bound: whole
    }
    store.upsert_records([rec("1", "Acme", **fields)])
    found = store.get_record_preview(REF)
    assert found is not None
    record, lengths = found
    assert lengths == {"description": len(LONG)}  # characters, not bytes
    assert record.partial and record.raw == {}
    assert record.fields["description"] == LONG[: rows.PREVIEW_CHARS]
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
    title = "T" * (records.LONG_VALUE + 1)
    store.upsert_records([rec("1", title)])
    found = store.get_record_preview(REF)
    assert found is not None and found.record.partial
    assert found.record.title == title[: rows.PREVIEW_CHARS]


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
