"""The Freshsales adapter against its sandbox: what a user of crmtui would notice."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from crmtui.http import AuthError, BadResponse, NotFound, Rejected
from crmtui.model import ActivityType, Change, FieldType, Query, RecordRef
from crmtui.vendors.base import Profile
from crmtui.vendors.freshsales import Freshsales

Wired = Any  # tests.conftest.Wired
Wire = Callable[..., Wired]


def fresh(wire: Wire, **options: Any) -> Wired:
    return wire("freshsales", **options)


def ref(wired: Wired, kind: str, id: Any) -> RecordRef:
    return RecordRef(profile=wired.adapter.profile.name, kind=kind, id=str(id))


def open_deal(wired: Wired) -> dict[str, Any]:
    """A seeded open deal with an account and at least one contact."""
    stages = _open_stage_ids()
    return next(
        d
        for d in wired.db.deals.values()
        if d["deal_stage_id"] in stages and d["contact_ids"] and d["sales_account_id"]
    )


def _open_stage_ids() -> set[int]:
    from crmtui.sandbox.freshsales.data import DEAL_STAGES

    return {s["id"] for s in DEAL_STAGES if s["forecast_type"] == "Open"}


# -- schema --------------------------------------------------------------------------------


async def test_kinds_in_freshsales_words_with_views(wire: Wire) -> None:
    wired = fresh(wire)
    kinds = await wired.adapter.kinds()
    assert [k.label for k in kinds] == ["Contacts", "Leads", "Accounts", "Deals", "Tasks"]
    assert [k.kind for k in kinds] == ["contact", "lead", "company", "deal", "task"]
    by_kind = {k.kind: k for k in kinds}
    assert by_kind["company"].singular == "Account"
    assert "All Contacts" in by_kind["contact"].views.values()
    assert "Won Deals" in by_kind["deal"].views.values()
    assert by_kind["task"].views["due_today"] == "Due today"
    assert by_kind["deal"].columns[0] == "title"
    assert "amount" in by_kind["deal"].sortable


async def test_deal_fields_have_stage_and_owner_choices(wire: Wire) -> None:
    wired = fresh(wire)
    fields = {f.key: f for f in await wired.adapter.fields("deal")}
    stage = fields["stage"]
    assert stage.type is FieldType.CHOICE and stage.writable
    groups = {c.group for c in stage.choices}
    assert {"Sales Pipeline", "Renewals"} <= groups
    assert any(c.label == "Negotiation" for c in stage.choices)
    owner = fields["owner"]
    assert owner.type is FieldType.USER
    assert any(c.label == "Sam Carter" for c in owner.choices)
    assert fields["amount"].type is FieldType.MONEY and fields["amount"].required
    assert {c.value for c in fields["currency"].choices} >= {"USD", "EUR"}
    assert not fields["status"].writable
    assert fields["cf_number_of_agents"].custom
    tasks = {f.key: f for f in await wired.adapter.fields("task")}
    assert tasks["done"].type is FieldType.BOOL
    assert any(c.label == "Follow-up needed" for c in tasks["outcome"].choices)


# -- lists ---------------------------------------------------------------------------------


async def test_list_pages_through_the_all_view(wire: Wire) -> None:
    wired = fresh(wire)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await wired.adapter.list_page("contact", Query(per_page=100, cursor=cursor))
        pages += 1
        assert page.total == len(wired.db.contacts)
        seen += [r.id for r in page.records]
        cursor = page.next_cursor
        if cursor is None:
            break
        assert cursor == str(pages + 1)
    assert pages == 3
    assert sorted(seen) == sorted(str(i) for i in wired.db.contacts)
    first = (await wired.adapter.list_page("contact", Query(per_page=5))).records[0]
    row = wired.db.contacts[int(first.id)]
    assert first.title == row["display_name"]
    assert first.fields["email"] == row["email"]


async def test_filtered_view_lists_only_won_deals(wire: Wire) -> None:
    wired = fresh(wire)
    views = {k.kind: k.views for k in await wired.adapter.kinds()}["deal"]
    won = next(v for v, label in views.items() if label == "Won Deals")
    page = await wired.adapter.list_page("deal", Query(view=won, per_page=100))
    assert page.records
    assert {r.fields["status"] for r in page.records} == {"won"}


async def test_tasks_list_by_their_filter(wire: Wire) -> None:
    wired = fresh(wire)
    page = await wired.adapter.list_page("task", Query(view="completed", per_page=100))
    assert page.records and all(r.fields["done"] for r in page.records)
    open_page = await wired.adapter.list_page("task", Query(per_page=100))
    assert open_page.records and not any(r.fields["done"] for r in open_page.records)


async def test_no_kind_offers_a_vendor_search(wire: Wire) -> None:
    """The doc has no search route: no kind is searchable (the app searches the cache),
    and a search in a query is ignored, never sent to the undocumented ``/api/search``."""
    wired = fresh(wire)
    infos = await wired.adapter.kinds()
    assert infos and not any(info.searchable for info in infos)
    row = next(iter(wired.db.contacts.values()))
    searched = await wired.adapter.list_page("contact", Query(search=row["display_name"]))
    plain = await wired.adapter.list_page("contact", Query())
    assert searched.records and [r.id for r in searched.records] == [r.id for r in plain.records]
    paths = [e.path for e in wired.http.log.recent()]
    assert paths and not any("search" in p for p in paths), paths


async def test_sort_deals_by_amount(wire: Wire) -> None:
    wired = fresh(wire)
    page = await wired.adapter.list_page("deal", Query(sort="amount", descending=True, per_page=50))
    amounts = [Decimal(r.fields["amount"]) for r in page.records]
    assert amounts == sorted(amounts, reverse=True)
    page = await wired.adapter.list_page("deal", Query(sort="amount", per_page=50))
    amounts = [Decimal(r.fields["amount"]) for r in page.records]
    assert amounts == sorted(amounts)


async def test_updated_since_reads_only_newer_records(wire: Wire) -> None:
    wired = fresh(wire)
    newest = await wired.adapter.list_page("company", Query(sort="updated_at", descending=True))
    mark = newest.records[9].updated_at
    assert mark is not None
    page = await wired.adapter.list_page("company", Query(updated_since=mark, per_page=100))
    assert 10 <= len(page.records) < len(wired.db.sales_accounts)
    assert all(r.updated_at is not None and r.updated_at >= mark for r in page.records)
    assert page.next_cursor is None


# -- one record ----------------------------------------------------------------------------


async def test_get_deal_with_contacts_account_and_owner(wire: Wire) -> None:
    wired = fresh(wire)
    row = open_deal(wired)
    record = await wired.adapter.get("deal", str(row["id"]))
    account = wired.db.sales_accounts[row["sales_account_id"]]
    assert [r.title for r in record.related["Account"]] == [account["name"]]
    assert {r.id for r in record.related["Contacts"]} == {str(c) for c in row["contact_ids"]}
    assert record.related["Owner"][0].title == wired.db.users[row["owner_id"]]["display_name"]
    assert record.fields["stage"] == str(row["deal_stage_id"])
    assert record.fields["status"] == "open"
    assert record.fields["amount"] == f"{Decimal(row['amount']):.2f}"
    assert record.remote_url == f"https://sandbox.freshsales.io/deals/{row['id']}"


async def test_get_account_and_contact_related(wire: Wire) -> None:
    wired = fresh(wire)
    row = open_deal(wired)
    account = await wired.adapter.get("company", str(row["sales_account_id"]))
    assert str(row["id"]) in {r.id for r in account.related["Deals"]}
    assert account.related["Contacts"]
    contact = await wired.adapter.get("contact", str(row["contact_ids"][0]))
    assert str(row["id"]) in {r.id for r in contact.related["Deals"]}
    assert contact.related["Accounts"][0].id == str(row["sales_account_id"])


async def test_timeline_newest_first_with_an_added_note(wire: Wire) -> None:
    wired = fresh(wire)
    row = next(iter(wired.db.contacts.values()))
    contact = ref(wired, "contact", row["id"])
    note = await wired.adapter.add_note(contact, "Called Maria, wants a <b>demo</b> next week")
    assert note.type is ActivityType.NOTE
    stored = [n for n in wired.db.notes.values() if n["description"].startswith("Called Maria")]
    assert stored and stored[0]["targetable_type"] == "Contact"
    timeline = await wired.adapter.timeline("contact", str(row["id"]))
    moments = [a.occurred_at for a in timeline]
    assert moments == sorted(moments, reverse=True)
    notes = [a for a in timeline if a.type is ActivityType.NOTE and "Called Maria" in a.body]
    assert len(notes) == 1
    assert "<b>" not in notes[0].body
    assert {a.type for a in timeline} - {ActivityType.NOTE}


# -- writes --------------------------------------------------------------------------------


async def test_update_deal_stage_and_amount_round_trips(wire: Wire) -> None:
    wired = fresh(wire)
    row = open_deal(wired)
    fields = {f.key: f for f in await wired.adapter.fields("deal")}
    target = next(
        c
        for c in fields["stage"].choices
        if c.label == "Negotiation" and c.value != str(row["deal_stage_id"])
    )
    change = Change(
        ref=ref(wired, "deal", row["id"]), values={"stage": target.value, "amount": "48250.50"}
    )
    record = await wired.adapter.update(change)
    assert record.fields["stage"] == target.value
    assert record.fields["amount"] == "48250.50"
    stored = wired.db.deals[row["id"]]
    assert stored["deal_stage_id"] == int(target.value)
    assert Decimal(stored["amount"]) == Decimal("48250.50")
    timeline = await wired.adapter.timeline("deal", str(row["id"]))
    assert timeline[0].type is ActivityType.STAGE_CHANGE
    assert "Negotiation" in timeline[0].summary


async def test_task_done_round_trips(wire: Wire) -> None:
    wired = fresh(wire)
    row = next(t for t in wired.db.tasks.values() if t["status"] == 0)
    change = Change(ref=ref(wired, "task", row["id"]), values={"done": True})
    record = await wired.adapter.update(change)
    assert record.fields["done"] is True
    assert wired.db.tasks[row["id"]]["status"] == 1


async def test_create_then_delete_a_task(wire: Wire) -> None:
    wired = fresh(wire)
    contact_id = next(iter(wired.db.contacts))
    owner = next(iter(wired.db.users))
    record = await wired.adapter.create(
        "task",
        {
            "subject": "Send the revised proposal",
            "due_at": "2026-03-02T15:00:00+00:00",
            "owner": str(owner),
            "contact": str(contact_id),
        },
        "key-1",
    )
    stored = wired.db.tasks[int(record.id)]
    assert stored["title"] == "Send the revised proposal"
    assert stored["targetable_type"] == "Contact" and stored["targetable_id"] == contact_id
    assert record.fields["due_at"] == "2026-03-02T15:00:00+00:00"
    await wired.adapter.delete(ref(wired, "task", record.id))
    assert int(record.id) not in wired.db.tasks
    with pytest.raises(NotFound):
        await wired.adapter.get("task", record.id)


@pytest.mark.off_contract("POST /api/deals: required 'name'")  # sent on purpose
async def test_create_deal_needs_what_freshsales_requires(wire: Wire) -> None:
    wired = fresh(wire)
    account = next(iter(wired.db.sales_accounts))
    record = await wired.adapter.create(
        "deal",
        {
            "name": "Pilot for 40 seats",
            "amount": "9900.00",
            "currency": "EUR",
            "company": str(account),
        },
        "key-2",
    )
    assert record.fields["currency"] == "EUR"
    assert wired.db.deals[int(record.id)]["sales_account_id"] == account
    with pytest.raises(Rejected) as caught:
        await wired.adapter.create("deal", {"amount": "10.00", "company": str(account)}, "key-3")
    assert caught.value.status in (400, 422)
    assert "Name" in caught.value.message  # the errors.message of the Freshsales body


# -- errors --------------------------------------------------------------------------------


async def test_not_found_carries_the_freshsales_message(wire: Wire) -> None:
    wired = fresh(wire)
    with pytest.raises(NotFound) as caught:
        await wired.adapter.get("deal", "99")
    assert caught.value.status == 404
    assert "99" in caught.value.message  # Freshsales's own words, not the client's default


async def test_wrong_key_is_an_auth_error_without_the_key(wire: Wire) -> None:
    wired = fresh(wire)
    profile = Profile(
        name="wrong",
        vendor="freshsales",
        base_url=wired.adapter.profile.base_url,
        settings={"domain": "sandbox"},
        secrets={"api_key": "zz-wrong-key-4711"},
    )
    adapter = Freshsales(profile, wired.http)
    with pytest.raises(AuthError) as caught:
        await adapter.list_page("deal", Query())
    assert caught.value.status == 401
    assert "zz-wrong-key-4711" not in str(caught.value)
    assert all("zz-wrong-key-4711" not in e.path for e in wired.http.log.recent())


async def test_500_and_429_with_retry_after_are_retried(wire: Wire) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    wired = fresh(wire, http_options={"sleep": record})
    await wired.adapter.list_page("deal", Query(per_page=10))  # views and lookups read once
    # The 429 comes last: after it the limiter holds this profile to the hourly pace.
    wired.faults.next.extend(["500", "429"])
    page = await wired.adapter.list_page("deal", Query(per_page=10, cursor="2"))
    assert len(page.records) == 10
    assert wired.faults.counts == {"500": 1, "429": 1}
    assert waits[-1] == 1.0  # the sandbox's Retry-After


async def test_malformed_body_is_a_bad_response(wire: Wire) -> None:
    wired = fresh(wire)
    await wired.adapter.kinds()
    wired.faults.next.extend(["malformed"] * 6)
    with pytest.raises(BadResponse):
        await wired.adapter.list_page("contact", Query(per_page=10))


# -- over real loopback HTTP ----------------------------------------------------------------


@pytest.mark.loopback
async def test_loopback_list_update_and_retry(wire: Wire) -> None:
    wired = fresh(wire, transport="loopback")
    page = await wired.adapter.list_page("deal", Query(per_page=25))
    assert len(page.records) == 25 and page.next_cursor == "2"
    wired.faults.next.append("500")
    second = await wired.adapter.list_page("deal", Query(per_page=25, cursor="2"))
    assert wired.faults.counts == {"500": 1}
    assert not {r.id for r in page.records} & {r.id for r in second.records}
    row = open_deal(wired)
    change = Change(ref=ref(wired, "deal", row["id"]), values={"expected_close": "2026-06-30"})
    record = await wired.adapter.update(change)
    assert record.fields["expected_close"] == "2026-06-30"
    assert wired.db.deals[row["id"]]["expected_close"] == "2026-06-30"


@pytest.mark.loopback
async def test_loopback_error_message(wire: Wire) -> None:
    wired = fresh(wire, transport="loopback")
    with pytest.raises(NotFound) as caught:
        await wired.adapter.get("contact", "1")
    assert "1" in caught.value.message and caught.value.message != "not found"
