"""The cache's size per record (issue 16): one sort index per field for both directions,
raw payloads stored compressed (and not at all when empty), no per-row sync stamp; and a
cache of the previous schema keeps its queued edits through the change. How many bytes
a million deals take is a figure of ``benchmarks/run.py``, not a test."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from crmtui.model import Change, ChangeOp, FieldSpec, FieldType, Record, RecordRef
from crmtui.store import Store, indexes, positions
from crmtui.store.db import MIGRATIONS, dumps
from tests.store.factory import rec

P, K = "acme-fs", "deal"
AMOUNT = [FieldSpec(key="amount", label="Amount", type=FieldType.MONEY)]


def ids(records: list[Record]) -> list[str]:
    return [r.id for r in records]


def vendor_deal(id_: str) -> dict[str, Any]:
    """A deal as a vendor's API sends it: dozens of keys, most of them empty or repeated
    from record to record (what a cache holds a million of)."""
    return {
        "id": int(id_),
        "name": f"Granite Dynamics renewal #{id_}",
        "amount": "43300.0",
        "base_currency_amount": "43300.0",
        "expected_close": "2026-12-20",
        "closed_date": None,
        "stage_updated_time": "2026-08-14T00:00:01Z",
        "custom_field": {"cf_region": "EMEA", "cf_source": None, "cf_priority": "high"},
        "probability": 75,
        "updated_at": "2026-08-14T00:00:01Z",
        "created_at": "2026-05-16T00:00:01Z",
        "deal_pipeline_id": 4,
        "deal_stage_id": 17,
        "age": 92,
        "links": {
            "conversations": f"/deals/{id_}/conversations/all?include=email_conversation_recipients",
            "document_associations": f"/deals/{id_}/document_associations",
            "notes": f"/deals/{id_}/notes?include=creater",
            "tasks": f"/deals/{id_}/tasks?include=creater,owner,updater,targetable,users",
            "appointments": f"/deals/{id_}/appointments?include=creater,owner,targetable",
        },
        "recent_note": None,
        "completed_sales_sequences": None,
        "active_sales_sequences": None,
        "web_form_id": None,
        "upcoming_activities_time": None,
        "collaboration": {},
        "last_assigned_at": "2026-05-16T00:00:01Z",
        "tags": [],
        "last_contacted_sales_activity_mode": None,
        "last_contacted_via_sales_activity": None,
        "expected_deal_value": "32475.0",
        "is_deleted": False,
        "team_user_ids": None,
        "avatar": None,
        "fc_widget_collaboration": {
            "convo_token": None,
            "auth_token": None,
            "encoded_jwt_token": None,
        },
        "forecast_category": None,
        "deal_prediction": None,
        "deal_prediction_last_updated_at": None,
        "freddy_forecast_metrics": None,
        "last_deal_prediction": None,
        "rotten_days": None,
        "has_products": False,
        "products": [],
        "deal_price_adjusted": None,
        "deal_discount": None,
        "currency_id": 1,
        "owner_id": 3,
        "creater_id": 3,
        "updater_id": 3,
        "sales_account_id": 118,
        "deal_type_id": None,
        "deal_reason_id": None,
        "campaign_id": None,
        "deal_payment_status_id": None,
        "territory_id": None,
        "lead_source_id": None,
    }


def stored_raw(path: Path) -> dict[str, Any]:
    """Each record's raw payload as the file holds it, by id."""
    conn = sqlite3.connect(path)
    try:
        found = conn.execute(
            "SELECT r.id, x.raw FROM records r JOIN records_raw x ON x.rec = r.rowid"
        ).fetchall()
    finally:
        conn.close()
    return dict(found)


def test_raw_payloads_are_stored_compressed_and_read_back_as_sent(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = Store(path)
    try:
        deal = rec("1", "Granite renewal", kind=K, amount="43300.00").model_copy(
            update={"raw": vendor_deal("1")}
        )
        empty = rec("2", "Quiet deal", kind=K).model_copy(update={"raw": {}})
        store.upsert_records([deal, empty])
        got = store.get_record(deal.ref)
        assert got is not None and got.raw == vendor_deal("1")  # every key, value and type
        on_disk = stored_raw(path)
        assert set(on_disk) == {"1"}  # an empty payload takes no row
        whole = len(dumps(vendor_deal("1")).encode())
        assert isinstance(on_disk["1"], bytes) and len(on_disk["1"]) < whole / 2
        nothing = store.get_record(empty.ref)
        assert nothing is not None and nothing.raw == {}
        # a refresh that empties the payload takes its row away; one that brings it back
        # stores it again
        store.upsert_records([deal.model_copy(update={"raw": {}})])
        assert stored_raw(path) == {}
        assert (found := store.get_record(deal.ref)) is not None and found.raw == {}
        store.upsert_records([deal])
        assert (found := store.get_record(deal.ref)) is not None and found.raw == deal.raw
    finally:
        store.close()


def test_a_refreshed_record_with_a_queued_edit_keeps_its_raw_packed(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = Store(path)
    try:
        deal = rec("1", "Granite renewal", kind=K, stage="open")
        store.upsert_records([deal.model_copy(update={"raw": vendor_deal("1")})])
        ref = deal.ref
        store.enqueue(Change(ref=ref, values={"stage": "won"}, base={"stage": "open"}))
        fresh = {**vendor_deal("1"), "probability": 90}
        store.upsert_records([deal.model_copy(update={"raw": fresh})])
        got = store.get_record(ref)
        assert got is not None and got.raw == fresh and got.fields["stage"] == "won"
        assert isinstance(stored_raw(path)["1"], bytes)
        store.upsert_records([deal.model_copy(update={"raw": {}})])
        assert stored_raw(path) == {}
    finally:
        store.close()


def _expected(store: Store, descending: bool) -> list[str]:
    """The documented order computed in Python: amounts as numbers, empty last, ties by id."""
    every = store.window(P, K, offset=0, limit=10_000)
    valued = [r for r in every if r.fields.get("amount") is not None]
    empty = sorted((r.id for r in every if r.fields.get("amount") is None), reverse=descending)
    key = sorted(valued, key=lambda r: (float(r.fields["amount"]), r.id), reverse=descending)
    return ids(key) + empty


def _pages(store: Store, descending: bool, size: int) -> list[str]:
    total = store.count(P, K)
    found: list[str] = []
    for offset in range(0, total, size):
        found += ids(
            store.window(P, K, offset=offset, limit=size, sort="amount", descending=descending)
        )
    return found


def _place(store: Store, field: str) -> int | None:
    """The place of ``field`` in the array rows of the list (P, K) (``lists.keys``)."""
    with store._db.read() as conn:
        (keys,) = conn.execute(
            "SELECT keys FROM lists WHERE profile = ? AND kind = ?", (P, K)
        ).fetchone()
    return indexes.slot(tuple(json.loads(keys)) if keys else None, field)


@pytest.mark.parametrize("descending", [False, True])
def test_one_index_sorts_a_field_both_ways_with_empty_values_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, descending: bool
) -> None:
    """Windows of every offset (across the seam between valued and empty rows, read from
    either end) make up the documented order, before and after the list's order is built."""
    monkeypatch.setattr(positions, "BUILD_FROM", 10**9)  # windows read the index itself
    store = Store(tmp_path / "c.sqlite3")
    try:
        store.put_fields(P, K, AMOUNT)
        store.upsert_records(
            rec(str(n), f"Deal {n:03}", kind=K, **({} if n % 7 == 0 else {"amount": n % 23}))
            for n in range(230)
        )
        store.ensure_sort_index(P, K, "amount")
        with store._db.read() as conn:
            sorts = [
                name
                for (name,) in conn.execute(
                    "SELECT name FROM sqlite_master WHERE name GLOB 'records_sort_*'"
                )
            ]
        order = indexes.order("amount", descending, FieldType.MONEY, _place(store, "amount"))
        assert sorts == [order.index[0]]  # type: ignore[index]
        expected = _expected(store, descending)
        assert _pages(store, descending, 17) == expected
        assert store.prepare_list(P, K, sort="amount", descending=descending) == 230
        assert _pages(store, descending, 17) == expected  # through the built order
    finally:
        store.close()


def _old_cache(path: Path) -> None:
    """A schema-7 cache as the previous crmtui wrote it: rows with their sync stamps and
    raw payloads as text, a sort index for each direction, and edits queued offline."""
    conn = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:7]):
        conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number + 1}; COMMIT;")
    value = "CAST(json_extract(fields, '$.\"amount\"') AS REAL)"
    conn.execute(
        "INSERT INTO field_specs (profile, kind, data) VALUES (?, ?, ?)",
        (P, K, dumps([s.model_dump(mode="json") for s in AMOUNT])),
    )
    for n, amount in ((1, 300), (2, None), (3, 100)):
        fields = {"stage": "open"} | ({} if amount is None else {"amount": amount})
        conn.execute(
            "INSERT INTO records (rowid, profile, kind, id, vendor, title, fields, synced_at)"
            " VALUES (?, ?, ?, ?, 'freshsales', ?, ?, '2026-11-01T09:00:00.000000+00:00')",
            (n, P, K, str(n), f"Deal {n}", dumps(fields)),
        )
        conn.execute(
            "INSERT INTO records_fts (rowid, title, subtitle, search_text) VALUES (?, ?, '', ?)",
            (n, f"Deal {n}", "open"),
        )
        conn.execute(
            "INSERT INTO records_raw (rec, raw) VALUES (?, ?)", (n, dumps(vendor_deal(str(n))))
        )
    for name, definition in (
        ("records_sort_old_up", f"(profile, kind, is_deleted, {value} IS NULL, {value}, id)"),
        ("records_sort_old_down", f"(profile, kind, is_deleted, {value}, id)"),
    ):
        conn.execute(f"CREATE INDEX {name} ON records {definition}")
    for n, (record, values) in enumerate(((1, {"stage": "won"}), (3, {"amount": 500}))):
        ref = RecordRef(profile=P, kind=K, id=str(record))
        change = Change(id=f"c{n}", ref=ref, op=ChangeOp.UPDATE, values=values)
        conn.execute(
            "INSERT INTO outbox (id, profile, kind, record_id, state, data)"
            " VALUES (?, ?, ?, ?, 'queued', ?)",
            (change.id, P, K, str(record), change.model_dump_json()),
        )
        shown = {"stage": "open", "amount": 300 if record == 1 else 100} | values
        conn.execute(
            "UPDATE records SET fields = ?, server = ? WHERE id = ?",
            (dumps(shown), None, str(record)),
        )
    conn.commit()
    conn.close()


def test_a_previous_cache_keeps_its_queued_edits_and_drops_the_second_sort_index(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v7.sqlite3"
    _old_cache(path)
    store = Store(path)
    try:
        with store._db.read() as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
            sorts = {
                n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
            }
        assert "records_sort_old_up" not in sorts  # schema 8: one index serves both ways
        assert "records_sort_old_down" not in sorts  # schema 9: built again when needed
        assert [c.id for c in store.changes()] == ["c0", "c1"]  # nothing lost
        assert store.queued_count(P) == 2
        up = store.window(P, K, offset=0, limit=10, sort="amount")
        down = store.window(P, K, offset=0, limit=10, sort="amount", descending=True)
        assert ids(up) == ["1", "3", "2"] and ids(down) == ["3", "1", "2"]  # 300, 500, empty
        got = store.get_record(RecordRef(profile=P, kind=K, id="1"))
        assert got is not None and got.fields["stage"] == "won"
        assert got.raw == vendor_deal("1")  # a payload stored as text reads as before
        assert ids(store.search("deal 2")) == ["2"]
        store.upsert_records([rec("2", "Deal 2", kind=K, stage="lost")])
        with store._db.read() as conn:
            stamp = conn.execute("SELECT synced_at FROM records WHERE id = '2'").fetchone()[0]
        assert stamp is None  # written again: the unused stamp is gone
        assert store.integrity_check() == "ok"
    finally:
        store.close()


@pytest.mark.parametrize("descending", [False, True])
def test_a_sort_of_mixed_values_in_parts_is_the_one_order_by(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, descending: bool
) -> None:
    """Numbers, numeric text, words, empty text, lists and missing values (no field
    specs: the generic sort key): the two index walks give what the single ORDER BY
    over the list gives."""
    monkeypatch.setattr(positions, "BUILD_FROM", 10**9)
    store = Store(tmp_path / "c.sqlite3")
    values: list[Any] = [7, -3, 2.5, "12", "-4.5", "B7", "alpha", "", None, ["x"], "Zed", 0]
    try:
        store.upsert_records(
            rec(
                str(n),
                f"Deal {n:03}",
                kind=K,
                **({} if (v := values[n % 12]) is None else {"code": v}),
            )
            for n in range(120)
        )
        order = indexes.order("code", descending, None, _place(store, "code"))
        with store._db.read() as conn:
            where = "WHERE r.profile = ? AND r.kind = ? AND r.is_deleted = 0"
            found = conn.execute(
                f"SELECT r.id FROM records r {where} ORDER BY {order.sql()}", [P, K]
            )
            expected = [id_ for (id_,) in found]
        total = store.count(P, K)
        pages = [
            r.id
            for offset in range(0, total, 13)
            for r in store.window(P, K, offset=offset, limit=13, sort="code", descending=descending)
        ]
        assert pages == expected and len(expected) == 120
    finally:
        store.close()
