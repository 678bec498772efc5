"""Records read from a list's window are whole records: the same as the ones stored, each
with names of its own for the service to fill (``Record.names``)."""

from __future__ import annotations

from crmtui.model import Record, RelatedRef
from crmtui.store import Store
from tests.store.factory import rec


def stored(store: Store) -> list[Record]:
    related = {"Contacts": [RelatedRef(kind="contact", id="9", title="Ann Lee")]}
    records = [
        rec("1", "Acme renewal", kind="deal", amount="1250.00", stage="won"),
        rec("2", "Beta pilot", kind="deal", minutes=1, stage="open").model_copy(
            update={"related": related, "subtitle": "Beta Ltd"}
        ),
    ]
    store.upsert_records(records)
    return records


def test_a_window_gives_back_the_records_as_stored_without_raw(store: Store) -> None:
    records = stored(store)
    window = store.window("acme-fs", "deal", offset=0, limit=10)
    assert window == [r.model_copy(update={"raw": {}}) for r in records]
    assert [r.model_dump() for r in window] == [{**r.model_dump(), "raw": {}} for r in records]
    assert window[1].related["Contacts"][0].title == "Ann Lee"


def test_names_filled_on_one_row_stay_on_that_row(store: Store) -> None:
    stored(store)
    first, second = store.window("acme-fs", "deal", offset=0, limit=10)
    assert first.names == {} and second.names == {}
    first.names["owner"] = "Ann Lee"  # as the service fills a reference's name
    assert second.names == {}
    again = store.window("acme-fs", "deal", offset=0, limit=1)[0]
    assert again.names == {}
    assert again == first  # names are not part of a record's data


def test_a_windowed_record_copies_and_validates_as_any_record(store: Store) -> None:
    stored(store)
    record = store.window("acme-fs", "deal", offset=0, limit=1)[0]
    copy = record.model_copy(update={"title": "Acme renewal 2"})
    assert copy.title == "Acme renewal 2" and record.title == "Acme renewal"
    assert Record.model_validate(record.model_dump()) == record
    assert record.model_fields_set == set(Record.model_fields)
