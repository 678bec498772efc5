"""The SalesforceIQ adapter against its sandbox: lists as pipelines, accounts, contacts."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crmtui.http import AuthError, Rejected
from crmtui.model import ActivityType, Change, FieldType, Query, RecordRef
from crmtui.sandbox.faults import Faults
from crmtui.vendors.mapping import unmarked_cursor
from tests.helpers.wiring import Wired

Wire = Callable[..., Wired]


def list_kind(wired: Wired, title: str) -> str:
    return "list:" + wired.db.list_by_title(title)["id"]


def first_item(wired: Wired, title: str) -> dict[str, Any]:
    lst = wired.db.list_by_title(title)
    return next(iter(wired.db.items[lst["id"]].values()))


def ref(wired: Wired, kind: str, id: str) -> RecordRef:
    return RecordRef(profile=wired.adapter.profile.name, kind=kind, id=id)


async def update(wired: Wired, kind: str, id: str, **values: Any) -> Any:
    return await wired.adapter.update(Change(ref=ref(wired, kind, id), values=values))


async def test_kinds_are_the_lists_then_accounts_and_contacts(wire: Wire) -> None:
    wired = wire("salesforceiq")
    kinds = await wired.adapter.kinds()
    assert [k.label for k in kinds] == [
        "Leads",
        "Customers",
        "Opportunities",
        "Accounts",
        "Contacts",
    ]
    leads = kinds[0]
    assert leads.kind == list_kind(wired, "Leads") and leads.singular == "Lead"
    assert leads.editable and not leads.has_timeline
    assert leads.columns[:5] == ["title", "stage", "amount", "expected_close", "owner"]
    assert "f_14" in leads.columns  # Notes: no neutral key
    assert [k.kind for k in kinds[3:]] == ["company", "contact"]


async def test_list_fields_follow_the_field_metadata(wire: Wire) -> None:
    wired = wire("salesforceiq")
    specs = {s.key: s for s in await wired.adapter.fields(list_kind(wired, "Leads"))}
    first_writable = next(s for s in await wired.adapter.fields(list_kind(wired, "Leads")))
    assert first_writable.key == "stage"
    stage = specs["stage"]
    assert stage.type is FieldType.CHOICE and stage.writable
    assert [(c.value, c.label) for c in stage.choices][:2] == [("0", "Lead"), ("1", "Qualified")]
    assert specs["amount"].type is FieldType.MONEY
    assert specs["expected_close"].type is FieldType.DATE
    assert specs["f_led"].type is FieldType.DATETIME
    assert specs["f_7"].type is FieldType.MULTI_CHOICE and len(specs["f_7"].choices) == 4
    assert specs["f_14"].type is FieldType.TEXT and specs["f_14"].custom
    assert not specs["f_10"].writable and not specs["f_6"].writable  # linked, file
    owner = specs["owner"]
    assert owner.type is FieldType.USER
    assert {c.value for c in owner.choices} == set(wired.db.users)
    opportunities = {
        s.key: s for s in await wired.adapter.fields(list_kind(wired, "Opportunities"))
    }
    assert opportunities["stage"].choices[0].label == "Identifying Opportunity"
    assert opportunities["f_25"].type is FieldType.NUMBER and not opportunities["f_25"].writable


async def test_list_items_are_deals(wire: Wire) -> None:
    wired = wire("salesforceiq")
    kind = list_kind(wired, "Customers")
    page = await wired.adapter.list_page(kind, Query(per_page=10))
    record = page.records[0]
    raw = wired.db.items[kind.removeprefix("list:")][record.id]
    stage_raw = raw["fieldValues"]["0"][0]["raw"]
    assert record.fields["stage"] == stage_raw
    assert record.fields["amount"] == f"{int(raw['fieldValues']['3'][0]['raw']):d}.00"
    assert record.fields["owner"] == raw["fieldValues"]["1"][0]["raw"]
    assert record.fields["company"] == raw["accountId"]
    assert record.fields["version"] == raw["version"]
    assert record.updated_at == datetime.fromtimestamp(raw["modifiedDate"] / 1000, UTC)
    close_ms = int(raw["fieldValues"]["process_close_date"][0]["raw"])
    assert record.fields["expected_close"] == (
        datetime.fromtimestamp(close_ms / 1000, UTC).date().isoformat()
    )
    assert record.fields["status"] in ("open", "won", "lost")


async def test_paging_walks_every_item_with_the_200_cap(wire: Wire) -> None:
    wired = wire("salesforceiq", scale=3)
    kind = list_kind(wired, "Opportunities")  # 180 items
    seen: list[str] = []
    cursor = None
    while True:
        page = await wired.adapter.list_page(kind, Query(per_page=70, cursor=cursor))
        seen += [r.id for r in page.records]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 180
    big = await wired.adapter.list_page("contact", Query(per_page=1000))
    assert len(big.records) == 200 and unmarked_cursor(big.next_cursor)[0] == "200"


async def test_updated_since_uses_modified_date(wire: Wire) -> None:
    wired = wire("salesforceiq")
    kind = list_kind(wired, "Leads")
    item = first_item(wired, "Leads")
    await update(wired, kind, item["id"], f_14="Changed just now")
    since = datetime.fromtimestamp(item["modifiedDate"] / 1000, UTC)
    page = await wired.adapter.list_page(kind, Query(updated_since=since))
    assert [r.id for r in page.records] == [item["id"]]


async def test_contact_search_by_email_and_local_sort(wire: Wire) -> None:
    wired = wire("salesforceiq")
    contact = list(wired.db.contacts.values())[5]
    email = contact["properties"]["email"][0]["value"]
    page = await wired.adapter.list_page("contact", Query(search=email))
    assert [r.id for r in page.records] == [contact["id"]]
    sorted_page = await wired.adapter.list_page("contact", Query(sort="title", per_page=50))
    titles = [r.title.lower() for r in sorted_page.records]
    assert titles == sorted(titles)
    won = await wired.adapter.list_page(
        list_kind(wired, "Customers"), Query(view="won", per_page=200)
    )
    assert won.records and all(r.fields["status"] == "won" for r in won.records)


async def test_get_item_has_account_and_contacts(wire: Wire) -> None:
    wired = wire("salesforceiq")
    item = first_item(wired, "Customers")
    record = await wired.adapter.get(list_kind(wired, "Customers"), item["id"])
    assert record.related["Account"][0].id == item["accountId"]
    assert [r.id for r in record.related["Contacts"]] == item["contactIds"]
    account = await wired.adapter.get("company", item["accountId"])
    assert item["id"] in {r.id for r in account.related["Deals"]}
    assert len(account.related["Contacts"]) >= len(item["contactIds"])


async def test_stage_change_round_trip(wire: Wire) -> None:
    wired = wire("salesforceiq")
    kind = list_kind(wired, "Customers")
    item = first_item(wired, "Customers")
    version = item["version"]
    target = "2" if item["fieldValues"]["0"][0]["raw"] != "2" else "3"
    record = await update(wired, kind, item["id"], stage=target)
    assert item["fieldValues"]["0"] == [{"raw": target}]
    assert record.fields["stage"] == target and record.fields["version"] == version + 1
    assert record.subtitle.startswith(("Negotiation", "Verbal Commitment"))


@pytest.mark.parametrize(
    ("key", "value", "raw"),
    [
        ("amount", "12500.50", ["12500.50"]),
        (
            "expected_close",
            "2027-03-31",
            [str(int(datetime(2027, 3, 31, tzinfo=UTC).timestamp() * 1000))],
        ),
        (
            "f_led",
            "2026-11-01T10:30:00+00:00",
            [str(int(datetime(2026, 11, 1, 10, 30, tzinfo=UTC).timestamp() * 1000))],
        ),
        ("f_7", ["0", "2"], ["0", "2"]),
        ("f_14", "Budget approved", ["Budget approved"]),
        ("amount", None, None),
    ],
)
async def test_field_values_round_trip_by_type(
    wire: Wire, key: str, value: Any, raw: list[str] | None
) -> None:
    wired = wire("salesforceiq")
    kind = list_kind(wired, "Leads")
    schema = await wired.adapter.schema(kind)
    field_id = schema.meta(key)["id"]
    item = first_item(wired, "Leads")
    record = await update(wired, kind, item["id"], **{key: value})
    stored = item["fieldValues"].get(field_id)
    assert (None if stored is None else [v["raw"] for v in stored]) == raw
    again = await wired.adapter.get(kind, item["id"])
    assert again.fields[key] == value == record.fields[key]


async def test_owner_is_set_by_user_id(wire: Wire) -> None:
    wired = wire("salesforceiq")
    kind = list_kind(wired, "Opportunities")
    item = first_item(wired, "Opportunities")
    other = next(u for u in wired.db.users if u != item["fieldValues"]["1"][0]["raw"])
    record = await update(wired, kind, item["id"], owner=other)
    assert item["fieldValues"]["1"] == [{"raw": other}] and record.fields["owner"] == other


async def test_vendor_error_message_is_carried(wire: Wire) -> None:
    wired = wire("salesforceiq")
    item = first_item(wired, "Leads")
    with pytest.raises(Rejected) as caught:
        await update(wired, list_kind(wired, "Leads"), item["id"], stage="42")
    assert caught.value.status == 422
    assert "Invalid value for Status" in str(caught.value)
    with pytest.raises(Rejected):
        await update(wired, list_kind(wired, "Leads"), item["id"], f_10="linked")


async def test_wrong_secret_is_an_auth_error(wire: Wire) -> None:
    wired = wire("salesforceiq")
    wired.adapter.profile.secrets = {"api_key": "sandbox", "api_secret": "wrong"}
    wired.adapter.session = wired.adapter.connect()
    with pytest.raises(AuthError) as caught:
        await wired.adapter.list_page("contact", Query())
    assert "Invalid API key or secret" in str(caught.value)
    assert "wrong" not in str(caught.value)


async def test_429_is_recovered_from(wire: Wire) -> None:
    wired = wire("salesforceiq", faults=Faults(next=deque(["429", "500"])))
    page = await wired.adapter.list_page("company", Query(per_page=5))
    assert len(page.records) == 5
    assert wired.faults.counts == {"429": 1, "500": 1}


async def test_daily_quota_429_carries_the_message(wire: Wire) -> None:
    wired = wire("salesforceiq", http_options={"max_retries": 1})
    wired.app.state.limit.limit = 0
    with pytest.raises(Exception) as caught:
        await wired.adapter.list_page("company", Query())
    assert "Too Many Requests" in str(caught.value)


async def test_create_item_uses_upsert_and_is_idempotent(wire: Wire) -> None:
    wired = wire("salesforceiq")
    kind = list_kind(wired, "Customers")
    lid = kind.removeprefix("list:")
    on_list = {i["accountId"] for i in wired.db.items[lid].values()}
    account = next(a for a in wired.db.accounts if a not in on_list)
    values = {"company": account, "stage": "1", "amount": "4000.00", "name": "Pilot"}
    record = await wired.adapter.create(kind, values, "key-1")
    again = await wired.adapter.create(kind, values, "key-1")
    assert again.id == record.id
    stored = wired.db.items[lid][record.id]
    assert stored["name"] == "Pilot" and stored["fieldValues"]["3"] == [{"raw": "4000.00"}]
    assert len([i for i in wired.db.items[lid].values() if i["accountId"] == account]) == 1
    await wired.adapter.delete(record.ref)
    assert record.id not in wired.db.items[lid]


async def test_accounts_and_contacts_edits(wire: Wire) -> None:
    wired = wire("salesforceiq")
    account = await wired.adapter.create(
        "company",
        {"name": "Avocado, Inc.", "address": "117 University Ave, Palo Alto, CA 94301"},
        "a",
    )
    assert account.fields["city"] == "Palo Alto" and account.fields["state"] == "CA"
    renamed = await update(wired, "company", account.id, f_14=88, industry=["0", "4"])
    assert renamed.title == "Avocado, Inc." and renamed.fields["f_14"] == 88
    assert wired.db.accounts[account.id]["fieldValues"]["18"] == [{"raw": "0"}, {"raw": "4"}]
    contact = await wired.adapter.create(
        "contact", {"name": "Ray Dreesen", "email": "ray@imt.com", "job_title": "CFO"}, "c"
    )
    assert contact.subtitle == "CFO"
    changed = await update(
        wired, "contact", contact.id, email="r.dreesen@imt.com", phone="+1 415 487 3698"
    )
    stored = wired.db.contacts[contact.id]["properties"]
    assert stored["email"][0]["value"] == "r.dreesen@imt.com"
    assert stored["phone"][0]["value"] == "+14154873698"
    assert changed.fields["email"] == "r.dreesen@imt.com"
    await wired.adapter.delete(contact.ref)
    assert wired.db.contacts[contact.id]["state"] == "ARCHIVED"


async def test_note_is_logged_as_an_event_and_shown(wire: Wire) -> None:
    wired = wire("salesforceiq")
    item = first_item(wired, "Leads")
    contact_id = item["contactIds"][0]
    email = wired.db.contacts[contact_id]["properties"]["email"][0]["value"]
    activity = await wired.adapter.add_note(
        ref(wired, "contact", contact_id), "Call with pricing team\nThey want a quote."
    )
    event = wired.db.events[-1]
    assert event["subject"] == "Call with pricing team" and event["contactIds"] == [contact_id]
    assert event["participantIds"] == [{"type": "email", "value": email}]
    timeline = await wired.adapter.timeline("contact", contact_id)
    assert timeline[0].id == activity.id and timeline[0].type is ActivityType.NOTE
    others = [a for a in timeline if a.family == "list"]
    assert others and all(a.type is ActivityType.OTHER for a in others)
    assert any("Added to Leads" in a.summary for a in others)
    times = [a.occurred_at for a in timeline]
    assert times == sorted(times, reverse=True)
    deal_timeline = await wired.adapter.timeline(list_kind(wired, "Leads"), item["id"])
    assert activity.id in {a.id for a in deal_timeline}


async def test_conflict_markers_move_on_every_write(wire: Wire) -> None:
    wired = wire("salesforceiq")
    kind = list_kind(wired, "Leads")
    item = first_item(wired, "Leads")
    before = await wired.adapter.get(kind, item["id"])
    wired.app.state.clock.anchor += timedelta(seconds=5)
    after = await update(wired, kind, item["id"], name="Renamed lead")
    assert after.fields["version"] == before.fields["version"] + 1
    assert after.updated_at and before.updated_at and after.updated_at > before.updated_at


@pytest.mark.loopback
async def test_over_loopback_basic_auth_paging_and_stage(wire: Wire) -> None:
    wired = wire("salesforceiq", transport="loopback")
    kind = list_kind(wired, "Opportunities")
    first = await wired.adapter.list_page(kind, Query(per_page=40))
    second = await wired.adapter.list_page(kind, Query(per_page=40, cursor=first.next_cursor))
    assert (
        unmarked_cursor(first.next_cursor)[0] == "40"
        and len(second.records) == 20
        and second.next_cursor is None
    )
    item = first_item(wired, "Opportunities")
    await update(wired, kind, item["id"], stage="6", expected_close="2026-11-19")
    assert item["fieldValues"]["0"] == [{"raw": "6"}]
    record = await wired.adapter.get(kind, item["id"])
    assert record.fields["status"] == "lost" and record.fields["expected_close"] == "2026-11-19"


@pytest.mark.loopback
async def test_over_loopback_missing_credentials(wire: Wire) -> None:
    wired = wire("salesforceiq", transport="loopback")
    wired.adapter.profile.secrets = {}
    wired.adapter.session = wired.adapter.connect()
    with pytest.raises(AuthError) as caught:
        await wired.adapter.kinds()
    assert "Unauthorized" in str(caught.value)


async def test_every_contact_field_edit_reads_back(wire: Wire) -> None:
    """Each field offered on a contact is written to the property it is read from: the
    value sent is the value read back (the contact's state is read, never offered)."""
    wired = wire("salesforceiq")
    specs = await wired.adapter.fields("contact")
    assert "state" not in {s.key for s in specs} and all(s.writable for s in specs)
    contact_id = next(iter(wired.db.contacts))
    values = {s.key: f"Round trip {n}" for n, s in enumerate(specs)}
    values |= {"email": "round.trip@example.com", "phone": "+1 415 555 0100"}
    for key, value in values.items():
        record = await update(wired, "contact", contact_id, **{key: value})
        again = await wired.adapter.get("contact", contact_id)
        assert record.fields[key] == again.fields[key] == value, key
    assert again.fields["state"] != "ARCHIVED"
