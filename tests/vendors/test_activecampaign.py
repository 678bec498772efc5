"""The ActiveCampaign adapter against its sandbox: what a rep would see and change."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from typing import Any

import pytest

from crmtui.http import Rejected
from crmtui.model import ActivityType, Change, Query, RecordRef
from crmtui.sandbox.faults import Faults
from crmtui.vendors.mapping import unmarked_cursor
from tests.helpers.wiring import Wired

Wire = Callable[..., Wired]


def ac(wire: Wire, **options: Any) -> Wired:
    """The adapter wired to a sandbox that does not limit at 5/s; the client's pacing
    (and a 429's hold) waits on the clock ``wire`` gives it, in no real time (tests of
    rate limits use ``wire`` directly)."""
    wired = wire("activecampaign", **options)
    wired.app.state.limit.enabled = False
    return wired


def change(kind: str, id: str, **values: Any) -> Change:
    return Change(ref=RecordRef(profile="activecampaign-test", kind=kind, id=id), values=values)


async def test_deal_filters_reach_the_api(wire: Wire) -> None:
    w = ac(wire)
    query = Query(filters={"pipeline": "1", "status": "open", "owner": "2"}, per_page=100)
    page = await w.adapter.list_page("deal", query)
    expected = {
        d["id"]
        for d in w.db.deals.values()
        if (d["group"], d["status"], d["owner"]) == ("1", "0", "2")
    }
    assert {r.id for r in page.records} == expected and page.total == len(expected)
    assert all(r.fields["status"] == "open" for r in page.records)
    query = Query(filters={"min_value": "20000", "max_value": "40000"}, per_page=100)
    ranged = await w.adapter.list_page("deal", query)
    amounts = [float(r.fields["amount"]) for r in ranged.records]
    assert amounts and all(20000 <= a <= 40000 for a in amounts)
    staged = await w.adapter.list_page("deal", Query(filters={"stage": "3"}, per_page=100))
    assert staged.records and {r.fields["stage"] for r in staged.records} == {"3"}
    with pytest.raises(Rejected):
        await w.adapter.list_page("deal", Query(filters={"colour": "red"}))


async def test_deal_sort_paging_and_search(wire: Wire) -> None:
    w = ac(wire)
    query = Query(sort="amount", descending=True, per_page=40)
    first = await w.adapter.list_page("deal", query)
    second = await w.adapter.list_page(
        "deal", query.model_copy(update={"cursor": first.next_cursor})
    )
    amounts = [float(r.fields["amount"]) for r in first.records + second.records]
    assert amounts == sorted(amounts, reverse=True)
    assert first.total == len(w.db.deals) and unmarked_cursor(first.next_cursor)[0] == "40"
    assert not {r.id for r in first.records} & {r.id for r in second.records}
    title = w.db.deals["12"]["title"]
    found = await w.adapter.list_page("deal", Query(search=title))
    assert "12" in [r.id for r in found.records]


async def test_deal_record_with_contacts_and_custom_fields(wire: Wire) -> None:
    w = ac(wire)
    link = next(iter(w.db.contact_deals.values()))
    deal = w.db.deals[link["deal"]]
    record = await w.adapter.get("deal", deal["id"])
    assert record.fields["amount"] == f"{int(deal['value']) / 100:.2f}"
    assert record.fields["currency"] == deal["currency"].upper()
    contacts = {ref.id: ref.title for ref in record.related["Contacts"]}
    assert set(contacts) == {deal["contact"], link["contact"]}
    assert contacts[link["contact"]] == w.db.contact_name(link["contact"])
    close = next(
        r["fieldValue"]
        for r in w.db.cf_data.values()
        if r["dealId"] == deal["id"] and r["customFieldId"] == "1"
    )
    assert record.fields["expected_close"] == close
    specs = {s.key: s for s in await w.adapter.fields("deal")}
    assert specs["cf_lead_source"].custom and "Referral" in [
        c.value for c in specs["cf_lead_source"].choices
    ]


async def test_stage_choices_for_a_board(wire: Wire) -> None:
    w = ac(wire)
    stage = next(s for s in await w.adapter.fields("deal") if s.key == "stage")
    sales = [c for c in stage.choices if c.group == "1"]
    assert [c.label for c in sales] == [s["title"] for s in w.db.stages_of("1")]
    assert {c.group for c in stage.choices} == set(w.db.groups)


async def test_stage_change_round_trip_and_timeline(wire: Wire) -> None:
    w = ac(wire)
    deal = next(d for d in w.db.deals.values() if d["group"] == "1" and d["status"] == "0")
    old = w.db.stages[deal["stage"]]["title"]
    record = await w.adapter.update(change("deal", deal["id"], stage="8"))
    assert w.db.deals[deal["id"]]["stage"] == "8" and w.db.deals[deal["id"]]["group"] == "2"
    assert record.fields["stage"] == "8" and record.fields["pipeline"] == "2"
    timeline = await w.adapter.timeline("deal", deal["id"])
    assert timeline[0].type is ActivityType.STAGE_CHANGE
    assert timeline[0].summary == f"Stage: {old} → In Review"
    stamps = [a.occurred_at for a in timeline]
    assert stamps == sorted(stamps, reverse=True)


async def test_deal_edits_round_trip(wire: Wire) -> None:
    w = ac(wire)
    values = {
        "name": "Renewal 2027",
        "amount": "1234.56",
        "status": "won",
        "owner": "4",
        "expected_close": "2027-03-31",
    }
    record = await w.adapter.update(change("deal", "5", **values))
    stored = w.db.deals["5"]
    assert (stored["title"], stored["value"], stored["status"], stored["owner"]) == (
        "Renewal 2027",
        "123456",
        "1",
        "4",
    )
    assert {k: record.fields[k] for k in values} == values
    timeline = await w.adapter.timeline("deal", "5")
    summaries = [a.summary for a in timeline[:4]]
    assert "Marked won" in summaries and any(s.startswith("Value:") for s in summaries)


async def test_rejected_edit_carries_the_vendor_message(wire: Wire) -> None:
    w = ac(wire)
    with pytest.raises(Rejected) as caught:
        await w.adapter.update(change("deal", "5", name=""))
    assert "The deal title was not provided." in str(caught.value)
    assert caught.value.status == 422


async def test_task_edits_and_timeline(wire: Wire) -> None:
    w = ac(wire)
    task = next(t for t in w.db.tasks.values() if t["reltype"] == "Deal" and t["status"] == 0)
    values = {"subject": "Call the CFO", "due_at": "2026-12-02T15:00:00+00:00", "type": "1"}
    record = await w.adapter.update(change("task", task["id"], **values, done=True))
    stored = w.db.tasks[task["id"]]
    assert (stored["title"], stored["dealTasktype"], stored["status"]) == ("Call the CFO", "1", 1)
    assert record.fields["due_at"] == "2026-12-02T15:00:00+00:00" and record.fields["done"]
    assert record.related["Deal"][0].id == task["relid"]
    timeline = await w.adapter.timeline("task", task["id"])
    assert timeline[0].type is ActivityType.CALL
    assert timeline[0].summary == "Call done: Call the CFO"
    deal_timeline = await w.adapter.timeline("deal", task["relid"])
    assert deal_timeline[0].summary == "Call done: Call the CFO"


async def test_task_views_and_filters(wire: Wire) -> None:
    w = ac(wire)
    deal = next(t["relid"] for t in w.db.tasks.values() if t["reltype"] == "Deal")
    page = await w.adapter.list_page("task", Query(filters={"deal": deal}, per_page=100))
    assert {r.fields["deal"] for r in page.records} == {deal}
    overdue = await w.adapter.list_page("task", Query(view="overdue", per_page=100))
    assert overdue.records and not any(r.fields["done"] for r in overdue.records)


async def test_create_deal_task_and_note(wire: Wire) -> None:
    w = ac(wire)
    values = {"name": "Acme pilot", "amount": "999.99", "stage": "2", "contact": "7"}
    deal = await w.adapter.create("deal", values, "key-1")
    assert w.db.deals[deal.id]["value"] == "99999" and deal.fields["currency"] == "USD"
    again = await w.adapter.create("deal", values, "key-1")
    assert (
        again.id == deal.id
        and len([d for d in w.db.deals.values() if d["title"] == "Acme pilot"]) == 1
    )
    task = await w.adapter.create(
        "task",
        {"deal": deal.id, "subject": "Kick-off", "due_at": "2026-12-01T15:00:00+00:00"},
        "k2",
    )
    assert w.db.tasks[task.id]["relid"] == deal.id
    note = await w.adapter.add_note(deal.ref, "Budget <b>approved</b>")
    assert note.type is ActivityType.NOTE
    timeline = await w.adapter.timeline("deal", deal.id)
    assert [a.type for a in timeline[:2]] == [ActivityType.NOTE, ActivityType.TASK_EVENT]
    await w.adapter.delete(task.ref)
    assert task.id not in w.db.tasks


async def test_pipelines_and_contacts(wire: Wire) -> None:
    w = ac(wire)
    pipelines = await w.adapter.list_page("pipeline", Query(sort="title"))
    assert [r.title for r in pipelines.records] == ["EMEA Partners", "Renewals", "Sales Pipeline"]
    assert pipelines.records[1].fields["stages"].startswith("Upcoming → In Review")
    contact = await w.adapter.get("contact", w.db.deals["1"]["contact"])
    assert "1" in [ref.id for ref in contact.related["Deals"]]


async def test_429_and_500_are_recovered(wire: Wire) -> None:
    w = ac(wire, faults=Faults(next=deque(["429", "500", "503"])))
    page = await w.adapter.list_page("deal", Query(per_page=5))
    assert len(page.records) == 5
    assert w.faults.counts == {"429": 1, "500": 1, "503": 1}


async def test_a_stray_403_is_retried_once(wire: Wire) -> None:
    w = ac(wire, faults=Faults(next=deque(["expire"])))
    record = await w.adapter.get("deal", "3")
    assert record.id == "3"


async def test_client_pacing_keeps_under_five_a_second(wire: Wire) -> None:
    w = wire("activecampaign")
    for _ in range(3):
        await w.adapter.list_page("deal", Query(per_page=5))
    await w.adapter.get("deal", "2")  # after the configuration, 11 requests in all
    assert w.app.state.limit.rejected == 0


@pytest.mark.loopback
async def test_over_loopback(wire: Wire) -> None:
    w = ac(wire, transport="loopback", faults=Faults(next=deque(["429"])))
    page = await w.adapter.list_page("deal", Query(filters={"status": "lost"}, per_page=100))
    assert page.records and all(r.fields["status"] == "lost" for r in page.records)
    assert w.faults.counts["429"] == 1
    deal = page.records[0]
    target = next(
        s["id"] for s in w.db.stages_of(deal.fields["pipeline"]) if s["id"] != deal.fields["stage"]
    )
    record = await w.adapter.update(change("deal", deal.id, stage=target, amount="10.05"))
    assert w.db.deals[deal.id]["stage"] == target and w.db.deals[deal.id]["value"] == "1005"
    assert record.fields["amount"] == "10.05"
    timeline = await w.adapter.timeline("deal", deal.id)
    assert ActivityType.STAGE_CHANGE in [a.type for a in timeline[:3]]
    with pytest.raises(Rejected, match="The deal value is not valid"):
        await w.adapter.update(change("deal", deal.id, amount="-5"))


@pytest.mark.parametrize(("kind", "table"), [("deal", "deals"), ("task", "tasks")])
async def test_what_the_specs_show_read_only_the_adapter_refuses(
    wire: Wire, kind: str, table: str
) -> None:
    """Each field is declared once: the writer takes no field the record screen shows as
    read-only (refused before anything is sent), and the record stays as it was."""
    w = ac(wire)
    record = (await w.adapter.list_page(kind, Query(per_page=1))).records[0]
    rows = getattr(w.db, table)
    before = dict(rows[record.id])
    read_only = [s for s in await w.adapter.fields(kind) if not s.writable]
    assert read_only
    for spec in read_only:
        with pytest.raises(Rejected, match=re.escape(spec.label)):
            await w.adapter.update(
                change(kind, record.id, **{spec.key: record.fields.get(spec.key)})
            )
    assert rows[record.id] == before
