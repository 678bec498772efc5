"""The Salesloft adapter against its sandbox, in-process and over loopback."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from crmtui.fields import parse_datetime
from crmtui.http import AuthError, Rejected
from crmtui.model import ActivityType, Change, FieldType, Query, RecordRef
from crmtui.sandbox.faults import Faults
from crmtui.sandbox.salesloft.data import today_in
from crmtui.vendors.salesloft.paging import page_cost

Wire = Callable[..., Any]


def ref(wired: Any, kind: str, id: Any) -> RecordRef:
    return RecordRef(profile=wired.adapter.profile.name, kind=kind, id=str(id))


async def test_kinds_offer_no_deals_and_task_views(wire: Wire) -> None:
    adapter = wire("salesloft").adapter
    kinds = {k.kind: k for k in await adapter.kinds()}
    assert [k.label for k in kinds.values()] == [
        "People", "Accounts", "Tasks", "Cadences", "Calls", "Emails",
    ]  # fmt: skip
    assert "deal" not in kinds
    assert list(kinds["task"].views) == ["overdue", "today", "tomorrow", "this_week", "next_week"]
    assert kinds["contact"].columns[0] == "title" and kinds["contact"].has_timeline


async def test_people_paging_search_and_sort(wire: Wire) -> None:
    wired = wire("salesloft")
    adapter = wired.adapter
    first = await adapter.list_page("contact", Query(per_page=100))
    assert first.total == 300 and first.next_cursor
    seen = [r.id for r in first.records]
    cursor = first.next_cursor
    while cursor:
        page = await adapter.list_page("contact", Query(per_page=100, cursor=cursor))
        seen += [r.id for r in page.records]
        cursor = page.next_cursor
    assert len(set(seen)) == 300
    person = wired.db["people"][1001]
    found = await adapter.list_page("contact", Query(search=person["email_address"]))
    assert [r.title for r in found.records] == [person["display_name"]]
    accounts = await adapter.list_page("company", Query(sort="title", per_page=20))
    names = [r.title.lower() for r in accounts.records]
    assert names == sorted(names)
    by_domain = await adapter.list_page(
        "company", Query(search=wired.db["accounts"][501]["domain"])
    )
    assert [r.id for r in by_domain.records] == ["501"]


async def test_deep_pages_are_charged_their_cost(wire: Wire) -> None:
    wired = wire("salesloft")
    await wired.adapter.config("users")  # read once per adapter; not part of the page
    server = wired.app.state.limit
    assert server.take(250)  # the rest of the team spent budget we never saw
    used = server.used
    page = await wired.adapter.list_page("contact", Query(cursor="p:151", per_page=100))
    assert page.records == [] and page.next_cursor is None
    assert server.used - used == page_cost(151) == 8
    # the limiter believes the budget the server says is left, not only what it spent
    assert wired.adapter.limiter.remaining <= server.remaining + 1


async def test_task_views_and_counts(wire: Wire) -> None:
    wired = wire("salesloft")
    adapter = wired.adapter
    page = await adapter.list_page("task", Query(view="today", per_page=100))
    me = wired.db["users"][1]
    today = today_in(me["time_zone"], wired.app.state.clock())
    assert page.records and page.total == len(page.records)
    assert all(r.fields["due_date"] == today.isoformat() for r in page.records)
    assert all(r.fields["status"] == "open" and r.fields["contact_name"] for r in page.records)
    counts = await adapter.fetch_task_counts()
    assert counts["today"] == len(page.records)
    tomorrow = await adapter.list_page("task", Query(view="tomorrow", per_page=100))
    assert counts["tomorrow"] == len(tomorrow.records)
    assert {r.fields["due_date"] for r in tomorrow.records} == {
        (today + timedelta(days=1)).isoformat()
    }


async def test_cadence_members_and_steps(wire: Wire) -> None:
    wired = wire("salesloft")
    adapter = wired.adapter
    cadence = (await adapter.list_page("cadence", Query())).records[0]
    members = await adapter.list_page("cadence_membership", Query(filters={"cadence": cadence.id}))
    expected = [
        m for m in wired.db["cadence_memberships"].values() if m["cadence"] == int(cadence.id)
    ]
    assert members.total == len(expected)
    assert all(m.fields["cadence"] == cadence.id and m.title for m in members.records)
    steps = await adapter.list_page("step", Query(filters={"cadence": cadence.id}))
    assert [s.fields["step_number"] for s in steps.records] == list(
        range(1, len(steps.records) + 1)
    )
    record = await adapter.get("cadence", cadence.id)
    assert len(record.related["Steps"]) == len(steps.records)
    assert record.related["Members"]


def _busy_person(db: Any) -> int:
    """A person with notes, calls, emails and CRM activities."""
    for pid in db["people"]:
        has = {
            "note": any(n["associated_with"] == pid and n["_associated_with_type"] == "person"
                        for n in db["notes"].values()),
            "call": any(c["called_person"] == pid and c["crm_activity"] for c in db["calls"].values()),
            "email": any(e["recipient"] == pid for e in db["emails"].values()),
        }  # fmt: skip
        if all(has.values()):
            return int(pid)
    raise AssertionError("no busy person in the data set")


async def test_person_timeline_is_merged_newest_first(wire: Wire) -> None:
    wired = wire("salesloft")
    pid = _busy_person(wired.db)
    timeline = await wired.adapter.timeline("contact", str(pid))
    families = {a.family for a in timeline}
    assert {"note", "call", "email", "crm_activity"} <= families
    times = [a.occurred_at for a in timeline]
    assert times == sorted(times, reverse=True)
    call = next(a for a in timeline if a.family == "call")
    assert call.type == ActivityType.CALL and call.summary.startswith("Call to")
    assert all(a.who for a in timeline)
    account = wired.db["people"][pid]["account"]
    assert await wired.adapter.timeline("company", str(account))


async def test_task_completion_round_trip(wire: Wire) -> None:
    wired = wire("salesloft")
    task = next(t for t in wired.db["tasks"].values() if t["current_state"] == "scheduled")
    change = Change(ref=ref(wired, "task", task["id"]), values={"done": True})
    record = await wired.adapter.update(change)
    assert record.fields["done"] is True and record.fields["status"] == "completed"
    stored = wired.db["tasks"][task["id"]]
    assert stored["current_state"] == "completed" and stored["completed_by"] == 1
    timeline = await wired.adapter.timeline("contact", str(task["person"]))
    assert timeline[0].type == ActivityType.TASK_EVENT and task["subject"] in timeline[0].summary


async def test_task_subject_and_due_date_edit(wire: Wire) -> None:
    wired = wire("salesloft")
    task = next(t for t in wired.db["tasks"].values() if t["current_state"] == "scheduled")
    values = {"subject": "Send revised quote", "due_date": "2026-12-03"}
    record = await wired.adapter.update(Change(ref=ref(wired, "task", task["id"]), values=values))
    assert record.fields["due_date"] == "2026-12-03" and record.title == "Send revised quote"
    assert wired.db["tasks"][task["id"]]["subject"] == "Send revised quote"


async def test_reopening_a_task_is_refused_before_it_is_sent(wire: Wire) -> None:
    """v2's PUT takes ``current_state=completed`` only: reopening is refused, saying why."""
    wired = wire("salesloft")
    task = next(t for t in wired.db["tasks"].values() if t["current_state"] == "completed")
    sent: list[str] = []
    wired.adapter.session.on_response.append(lambda r: sent.append(r.request.method))
    with pytest.raises(Rejected) as caught:
        await wired.adapter.update(
            Change(ref=ref(wired, "task", task["id"]), values={"done": False})
        )
    assert "cannot reopen a task" in str(caught.value) and "PUT" not in sent
    assert wired.db["tasks"][task["id"]]["current_state"] == "completed"


async def test_person_stage_and_owner_edit_with_api_choices(wire: Wire) -> None:
    wired = wire("salesloft")
    specs = {f.key: f for f in await wired.adapter.fields("contact")}
    assert [c.label for c in specs["person_stage"].choices][:2] == ["New Lead", "Contacted"]
    assert len(specs["owner"].choices) == len(wired.db["users"])
    values = {"person_stage": "4", "owner": "3"}
    record = await wired.adapter.update(Change(ref=ref(wired, "contact", 1001), values=values))
    assert (record.fields["person_stage"], record.fields["owner"]) == ("4", "3")
    assert (wired.db["people"][1001]["person_stage"], wired.db["people"][1001]["owner"]) == (4, 3)


async def test_account_stage_tier_owner_edit(wire: Wire) -> None:
    wired = wire("salesloft")
    specs = {f.key: f for f in await wired.adapter.fields("company")}
    assert [c.label for c in specs["account_tier"].choices] == ["Tier 1", "Tier 2", "Tier 3"]
    values = {"account_stage": "4", "account_tier": "1", "owner": "2"}
    await wired.adapter.update(Change(ref=ref(wired, "company", 501), values=values))
    stored = wired.db["accounts"][501]
    assert (stored["company_stage"], stored["account_tier"], stored["owner"]) == (4, 1, 2)


async def test_taken_email_is_rejected_with_the_vendor_message(wire: Wire) -> None:
    wired = wire("salesloft")
    taken = wired.db["people"][1002]["email_address"]
    with pytest.raises(Rejected) as caught:
        await wired.adapter.update(Change(ref=ref(wired, "contact", 1001), values={"email": taken}))
    assert "email_address is already taken" in str(caught.value)
    assert caught.value.status == 422


async def test_add_note_to_person_and_account(wire: Wire) -> None:
    wired = wire("salesloft")
    note = await wired.adapter.add_note(ref(wired, "contact", 1001), "Budget signed off")
    assert note.type == ActivityType.NOTE and note.body == "Budget signed off"
    stored = wired.db["notes"][int(note.id.split(":")[1])]
    assert stored["associated_with"] == 1001 and stored["_associated_with_type"] == "person"
    timeline = await wired.adapter.timeline("contact", "1001")
    assert timeline[0].summary == "Budget signed off"
    await wired.adapter.add_note(ref(wired, "company", 501), "Renewal in Q1")
    assert (await wired.adapter.timeline("company", "501"))[0].summary == "Renewal in Q1"


async def test_create_task_is_idempotent(wire: Wire) -> None:
    wired = wire("salesloft")
    values = {"subject": "Intro call", "contact": "1001", "type": "call", "due_date": "2026-12-01"}
    first = await wired.adapter.create("task", values, "key-1")
    again = await wired.adapter.create("task", values, "key-1")
    assert first.id == again.id and first.fields["type"] == "call"
    assert sum(1 for t in wired.db["tasks"].values() if t["subject"] == "Intro call") == 1


async def test_incremental_read_by_updated_at(wire: Wire) -> None:
    wired = wire("salesloft")
    adapter = wired.adapter
    since = wired.app.state.clock() - timedelta(days=30)
    page = await adapter.list_page("company", Query(updated_since=since, per_page=10))
    stamps = [r.updated_at for r in page.records]
    assert stamps == sorted(stamps) and all(s and s > since for s in stamps)
    assert page.next_cursor and page.next_cursor.startswith("u:")
    nxt = await adapter.list_page(
        "company", Query(updated_since=since, per_page=10, cursor=page.next_cursor)
    )
    assert nxt.records[0].updated_at > stamps[-1]


async def test_429_is_recovered_and_500_retried(wire: Wire) -> None:
    wired = wire("salesloft", faults=Faults(next=deque(["429", "500"])))
    page = await wired.adapter.list_page("company", Query(per_page=5))
    assert len(page.records) == 5
    assert wired.faults.counts == {"429": 1, "500": 1}


async def test_revoked_token_gives_the_vendor_401_message(wire: Wire) -> None:
    wired = wire("salesloft", faults=Faults(next=deque(["expire"])))
    with pytest.raises(AuthError) as caught:
        await wired.adapter.list_page("contact", Query())
    assert "Invalid Bearer Token" in str(caught.value) and "sandbox" not in caught.value.message


@pytest.mark.loopback
async def test_over_loopback(wire: Wire) -> None:
    wired = wire("salesloft", transport="loopback")
    adapter = wired.adapter
    page = await adapter.list_page("task", Query(view="overdue", per_page=10))
    assert page.records and all(r.fields["status"] == "open" for r in page.records)
    task = page.records[0]
    await adapter.update(Change(ref=ref(wired, "task", task.id), values={"done": True}))
    assert wired.db["tasks"][int(task.id)]["current_state"] == "completed"
    pid = _busy_person(wired.db)
    timeline = await adapter.timeline("contact", str(pid))
    assert {"note", "call", "email"} <= {a.family for a in timeline}
    person = await adapter.get("contact", str(pid))
    assert person.related["Account"][0].kind == "company"


def _value_for(spec: Any, n: int, now: Any) -> Any:
    """A good value for a writable field other than ``now``, by its type."""
    if spec.choices:
        return next(c.value for c in reversed(spec.choices) if c.value != now)
    if spec.type is FieldType.BOOL:
        return not now
    return {
        FieldType.DATE: "2026-12-03",
        FieldType.DATETIME: "2026-12-03T15:00:00.000000Z",
    }.get(spec.type, f"Round trip {n}")


@pytest.mark.parametrize(("kind", "id"), [("contact", 1001), ("company", 501)])
async def test_every_offered_field_edit_reads_back(wire: Wire, kind: str, id: int) -> None:
    """Each writable field of a person or an account (custom fields too) is written
    where Salesloft keeps it: the value sent is the value read back, on the record
    returned and on a fresh read."""
    wired = wire("salesloft")
    specs = [s for s in await wired.adapter.fields(kind) if s.writable]
    assert any(s.custom for s in specs)
    before = await wired.adapter.get(kind, str(id))
    for n, spec in enumerate(specs):
        # a person's Account is a reference: another account's id
        account = before.fields.get("company")
        other = next(str(a) for a in wired.db["accounts"] if str(a) != account)
        special = {
            "email": "round.trip@example.com",
            "domain": "round-trip.example.com",
            **({"company": other} if kind == "contact" else {}),
        }
        value = special.get(spec.key, _value_for(spec, n, before.fields.get(spec.key)))
        assert value != before.fields.get(spec.key)
        change = Change(ref=ref(wired, kind, id), values={spec.key: value})
        record = await wired.adapter.update(change)
        again = await wired.adapter.get(kind, str(id))
        expected = parse_datetime(value) if spec.type is FieldType.DATETIME else value
        for got in (record.fields[spec.key], again.fields[spec.key]):
            read = parse_datetime(got) if spec.type is FieldType.DATETIME else got
            assert read == expected, spec.key


async def test_a_persons_account_is_an_offered_reference_written_as_account_id(
    wire: Wire,
) -> None:
    """A person's Account is a field of its own, writable (PUT /v2/people takes
    ``account_id``) and declared a reference to the accounts (shown by name, picked):
    the record's row is the reference; Related still lists the account too."""
    wired = wire("salesloft")
    spec = next(s for s in await wired.adapter.fields("contact") if s.key == "company")
    assert (spec.label, spec.writable) == ("Account", True)
    info = next(i for i in await wired.adapter.kinds() if i.kind == "contact")
    assert info.references.get("company") == "company"
    other = next(a for a in wired.db["accounts"] if a != wired.db["people"][1001]["account"])
    change = Change(ref=ref(wired, "contact", 1001), values={"company": str(other)})
    record = await wired.adapter.update(change)
    assert record.fields["company"] == str(other) == str(wired.db["people"][1001]["account"])
    assert (await wired.adapter.get("contact", "1001")).related["Account"][0].id == str(other)
