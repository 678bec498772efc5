"""The SalesSeek adapter against its sandbox: cookie login, paging, edits, timelines."""

from __future__ import annotations

import re
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crmtui.http import AuthError, Rejected
from crmtui.model import ActivityType, Change, Query, RecordRef
from crmtui.sandbox.faults import Faults
from crmtui.vendors.salesseek import SalesSeek
from tests.helpers.replies import RewriteReplies


def ref(kind: str, id: str) -> RecordRef:
    return RecordRef(profile="salesseek-test", kind=kind, id=id)


def change(kind: str, id: str, **values: Any) -> Change:
    return Change(ref=ref(kind, id), values=values)


async def test_logs_in_once_with_the_profile_credentials(wire: Any) -> None:
    wired = wire("salesseek")
    adapter = wired.adapter
    assert isinstance(adapter, SalesSeek)
    await adapter.list_page("company", Query(per_page=5))
    await adapter.list_page("contact", Query(per_page=5))
    assert adapter.auth.logins == 1
    assert adapter.auth.cookie in wired.db.sessions
    assert adapter.me["email_address"] == "demo@sandbox.test"


async def test_expired_session_logs_in_again_transparently(wire: Any) -> None:
    wired = wire("salesseek")
    await wired.adapter.list_page("company", Query(per_page=5))
    old = wired.adapter.auth.cookie
    wired.faults.update({"next": ["expire"]})
    page = await wired.adapter.list_page("deal", Query(per_page=5))
    assert len(page.records) == 5
    assert wired.adapter.auth.logins == 2
    assert wired.adapter.auth.cookie != old and old not in wired.db.sessions


async def test_expire_before_the_first_request(wire: Any) -> None:
    wired = wire("salesseek", faults=Faults(next=deque(["expire"])))
    page = await wired.adapter.list_page("task", Query(per_page=3))
    assert len(page.records) == 3


async def test_wrong_password_is_an_auth_error_without_the_password(wire: Any) -> None:
    wired = wire("salesseek")
    wired.adapter.auth._password = "hunter2-secret"
    wired.http.redact.add("hunter2-secret")
    with pytest.raises(AuthError) as caught:
        await wired.adapter.list_page("company", Query())
    assert "Invalid email address or password" in str(caught.value)
    assert "hunter2-secret" not in str(caught.value)
    assert "sandbox" not in caught.value.message


async def test_paging_follows_the_records_headers(wire: Any) -> None:
    wired = wire("salesseek")
    seen: list[str] = []
    cursor = None
    while True:
        page = await wired.adapter.list_page("company", Query(per_page=40, cursor=cursor))
        assert page.total == 100
        seen += [r.id for r in page.records]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 100 == len(set(seen))
    assert set(seen) == set(wired.db.organizations)


async def test_search_and_sort(wire: Any) -> None:
    wired = wire("salesseek")
    person = next(iter(wired.db.individuals.values()))
    page = await wired.adapter.list_page("contact", Query(search=person["last_name"].lower()))
    assert person["id"] in {r.id for r in page.records}
    assert all(person["last_name"].lower() in r.title.lower() for r in page.records)
    deals = await wired.adapter.list_page(
        "deal", Query(sort="amount", descending=True, per_page=20)
    )
    amounts = [float(r.fields["amount"]) for r in deals.records]
    assert amounts == sorted(amounts, reverse=True)
    deal = next(iter(wired.db.opportunities.values()))
    word = deal["name"].split()[0]
    found = await wired.adapter.list_page("deal", Query(search=word, per_page=200))
    assert deal["id"] in {r.id for r in found.records}
    assert all(word.lower() in r.title.lower() for r in found.records)


async def test_views_filter_pages(wire: Any) -> None:
    wired = wire("salesseek")
    won = await wired.adapter.list_page("deal", Query(view="won", per_page=200))
    assert won.records and {r.fields["status"] for r in won.records} == {"won"}
    mine = await wired.adapter.list_page("task", Query(view="mine", per_page=300))
    me = wired.adapter.me["id"]
    assert mine.records and {r.fields["assignee"] for r in mine.records} == {me}


async def test_mapping_and_custom_fields(wire: Any) -> None:
    wired = wire("salesseek")
    deal = next(iter(wired.db.opportunities.values()))
    record = await wired.adapter.get("deal", deal["id"])
    assert record.fields["amount"] == f"{deal['value']:.2f}"
    assert record.fields["stage"] == deal["phase_id"]
    assert record.related["Organization"][0].id == deal["organization_id"]
    specs = {s.key: s for s in await wired.adapter.fields("deal")}
    assert specs["stage"].writable and record.fields["stage"] in {
        c.value for c in specs["stage"].choices
    }
    assert specs["cf_lead_source"].custom and specs["cf_lead_source"].choices
    assert "cf_lead_source" in record.fields
    contact_specs = {s.key for s in await wired.adapter.fields("contact")}
    assert {"cf_data_status", "cf_linkedin"} <= contact_specs


async def test_deal_edits_round_trip(wire: Any) -> None:
    wired = wire("salesseek")
    deal_id = next(iter(wired.db.opportunities))
    other_user = [u for u in wired.db.users][-1]
    updated = await wired.adapter.update(
        change(
            "deal",
            deal_id,
            name="Bigger deal",
            amount="2500.00",
            expected_close="2027-02-15",
            owner=other_user,
        )
    )
    stored = wired.db.opportunities[deal_id]
    assert (stored["name"], stored["value"], stored["owner_id"]) == (
        "Bigger deal",
        2500.0,
        other_user,
    )
    assert stored["expected_close_date"] == "2027-02-15T00:00:00"
    assert (
        updated.fields["amount"] == "2500.00" and updated.fields["expected_close"] == "2027-02-15"
    )


async def test_phase_move_shows_in_the_timeline(wire: Any) -> None:
    wired = wire("salesseek")
    db = wired.db
    deal = next(d for d in db.opportunities.values() if db.phases[d["phase_id"]]["order"] == 0)
    target = db.funnel_phases(deal["funnel_id"])[1]
    record = await wired.adapter.update(change("deal", deal["id"], stage=target["id"]))
    assert record.fields["stage"] == target["id"]
    moves = [
        a
        for a in db.activities.values()
        if a["target_id"] == deal["id"] and a["activity_type"] == "auto:opportunity_movement"
    ]
    assert moves and moves[-1]["params"]["to"] == target["name"]
    timeline = await wired.adapter.timeline("deal", deal["id"])
    newest = timeline[0]
    assert newest.type is ActivityType.STAGE_CHANGE and newest.family == "deals"
    assert newest.summary.endswith(f"to {target['name']}")


async def test_unknown_phase_carries_the_vendor_message(wire: Any) -> None:
    wired = wire("salesseek")
    deal_id = next(iter(wired.db.opportunities))
    with pytest.raises(Rejected) as caught:
        await wired.adapter.update(change("deal", deal_id, stage="no-such-phase"))
    assert "unknown phase" in str(caught.value)
    with pytest.raises(Rejected):
        await wired.adapter.update(change("deal", deal_id, status="won"))


async def test_task_edits_round_trip(wire: Any) -> None:
    wired = wire("salesseek")
    task = next(t for t in wired.db.tasks.values() if not t["completed"] and t["related_id"])
    due = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    record = await wired.adapter.update(
        change(
            "task", task["id"], subject="Call back about pricing", due_at=due.isoformat(), done=True
        )
    )
    stored = wired.db.tasks[task["id"]]
    assert stored["text"] == "Call back about pricing" and stored["completed"] is True
    assert stored["due_date"] == due.replace(tzinfo=None).isoformat()
    assert record.fields["done"] is True and record.fields["due_at"] == due.isoformat()
    completed = [
        a
        for a in wired.db.activities.values()
        if a["activity_type"] == "task:completed" and a["target_id"] == task["related_id"]
    ]
    assert any(a["params"]["description"] == "Call back about pricing" for a in completed)


async def test_add_note_and_timeline_families(wire: Any) -> None:
    wired = wire("salesseek")
    person_id = next(iter(wired.db.individuals))
    note = await wired.adapter.add_note(
        ref("contact", person_id), "Agreed terms <today>\nSend contract"
    )
    stored = wired.db.activities[note.id]
    assert stored["note"] == "<p>Agreed terms &lt;today&gt;</p><p>Send contract</p>"
    assert note.type is ActivityType.NOTE and note.body.splitlines()[0] == "Agreed terms <today>"
    assert note.body.splitlines()[-1] == "Send contract"
    timeline = await wired.adapter.timeline("contact", person_id)
    assert timeline[0].id == note.id
    assert [a.occurred_at for a in timeline] == sorted(
        (a.occurred_at for a in timeline), reverse=True
    )
    notes_only = await wired.adapter.timeline("contact", person_id, families=["notes"])
    assert notes_only and {a.family for a in notes_only} == {"notes"}


async def test_company_timeline_pulls_in_people_and_deals(wire: Any) -> None:
    wired = wire("salesseek")
    db = wired.db
    org_id = next(d["organization_id"] for d in db.opportunities.values())
    timeline = await wired.adapter.timeline("company", org_id)
    kinds = {link.kind for a in timeline for link in a.links}
    assert "deal" in kinds and "company" in kinds
    assert await wired.adapter.timeline("task", next(iter(db.tasks))) == []


async def test_groups_and_members(wire: Any) -> None:
    wired = wire("salesseek")
    groups = await wired.adapter.list_page("group", Query(view="individuals"))
    static = next(g for g in groups.records if g.fields["group_type"] == "static")
    members = await wired.adapter.list_page(
        "group_member", Query(filters={"group": static.id}, per_page=15)
    )
    assert members.total == len(wired.db.group_items[static.id])
    assert members.next_cursor == "15"
    assert {r.kind for r in members.records} == {"contact"}
    assert {r.id for r in members.records} <= set(wired.db.group_items[static.id])
    record = await wired.adapter.get("group", static.id)
    assert record.related["Members"]


async def test_create_and_delete(wire: Any) -> None:
    wired = wire("salesseek")
    org = await wired.adapter.create("company", {"name": "Chiswick Marketing"}, "key-1")
    assert wired.db.organizations[org.id]["name"] == "Chiswick Marketing"
    task = await wired.adapter.create("task", {"subject": "Intro call", "company": org.id}, "key-2")
    assert wired.db.tasks[task.id]["related_type"] == "organization"
    await wired.adapter.delete(ref("task", task.id))
    assert task.id not in wired.db.tasks


async def test_429_and_500_are_retried(wire: Any) -> None:
    wired = wire("salesseek", faults=Faults(next=deque(["429", "500"])))
    page = await wired.adapter.list_page("company", Query(per_page=5))
    assert len(page.records) == 5
    assert wired.faults.counts == {"429": 1, "500": 1}


async def test_updated_since_stops_at_older_records(wire: Any) -> None:
    wired = wire("salesseek")
    deal_id = next(iter(wired.db.opportunities))
    await wired.adapter.update(change("deal", deal_id, name="Fresh"))
    since = wired.app.state.clock() - timedelta(minutes=5)  # the sandbox's anchored "now"
    page = await wired.adapter.list_page("deal", Query(updated_since=since))
    assert deal_id in {r.id for r in page.records}
    assert all(r.updated_at and r.updated_at >= since for r in page.records)
    assert page.next_cursor is None


@pytest.mark.loopback
async def test_over_loopback_login_paging_and_relogin(wire: Any) -> None:
    wired = wire("salesseek", transport="loopback")
    page = await wired.adapter.list_page("contact", Query(per_page=50))
    # the next start, and the last id read (the anchor the next page starts after)
    assert page.total == 300 and page.next_cursor == f"50~{page.records[-1].id}"
    wired.faults.update({"next": ["expire"]})
    second = await wired.adapter.list_page("contact", Query(per_page=50, cursor=page.next_cursor))
    assert len(second.records) == 50 and wired.adapter.auth.logins == 2
    deal_id = next(iter(wired.db.opportunities))
    await wired.adapter.update(change("deal", deal_id, amount="999.00"))
    assert wired.db.opportunities[deal_id]["value"] == 999.0


async def test_a_profile_never_used_neither_logs_in_nor_out(wire: Any) -> None:
    """The session is built on first use: closing an unused adapter sends nothing."""
    wired = wire("salesseek")
    await wired.adapter.close()
    assert not wired.db.sessions
    assert wired.adapter.auth.logins == 0


@pytest.mark.parametrize("kind", ["company", "contact", "deal", "task", "group"])
async def test_what_the_specs_show_read_only_the_adapter_refuses(wire: Any, kind: str) -> None:
    """Each field is declared once: the writer takes no field the record screen shows as
    read-only (refused before anything is sent), and the record stays as it was."""
    wired = wire("salesseek")
    record = (await wired.adapter.list_page(kind, Query(per_page=1))).records[0]
    table = getattr(wired.db, PATH_OF[kind])
    before = dict(table[record.id])
    read_only = [s for s in await wired.adapter.fields(kind) if not s.writable]
    assert read_only
    for spec in read_only:
        with pytest.raises(Rejected, match=re.escape(spec.label)):
            await wired.adapter.update(
                change(kind, record.id, **{spec.key: record.fields.get(spec.key)})
            )
    assert table[record.id] == before


PATH_OF = {
    "company": "organizations",
    "contact": "individuals",
    "deal": "opportunities",
    "task": "tasks",
    "group": "groups",
}


# -- documented routes only (issue 14): no list of users, funnels or phases, no deal search --


def sent(wired: Any) -> list[str]:
    """The requests the adapter sent, ``METHOD /path?query``."""
    return [f"{e.method} {e.path}" for e in wired.http.log.recent()]


def undocumented(paths: list[str]) -> list[str]:
    """Requests to the lists the seed does not document, or a search of deals."""
    lists = re.compile(r"GET /api/(users|funnels|phases)/?(\?|$)")
    return [p for p in paths if lists.match(p) or ("/opportunities" in p and "search=" in p)]


async def test_users_and_phases_offered_come_from_documented_routes(wire: Any) -> None:
    """The users offered are the signed-in one first, then those the records name, by
    name; the phases are those the deals are in, grouped by funnel in the funnel's order."""
    wired = wire("salesseek")
    db = wired.db
    specs = {s.key: s for s in await wired.adapter.fields("deal")}
    owners = specs["owner"].choices
    assert owners[0].value == wired.adapter.me["id"]
    assert [c.label for c in owners[1:]] == sorted(c.label for c in owners[1:])
    named = {d["owner_id"] for d in db.opportunities.values()}
    assert named <= {c.value for c in owners}
    assert all(c.label == db.users[c.value]["name"] for c in owners)
    stages = specs["stage"].choices
    assert {c.value for c in stages} == {d["phase_id"] for d in db.opportunities.values()}
    for choice in stages:
        phase = db.phases[choice.value]
        assert (
            choice.label == phase["name"] and choice.group == db.funnels[phase["funnel_id"]]["name"]
        )
    for funnel in {c.group for c in stages}:
        ordered = [db.phases[c.value]["order"] for c in stages if c.group == funnel]
        assert ordered == sorted(ordered)
    assert {"won", "lost"} <= {c.outcome for c in stages}
    assert not undocumented(sent(wired)), sent(wired)


async def test_users_named_by_id_alone_are_read_by_id(wire: Any) -> None:
    """Records that name a user without embedding it: the user is read with the
    documented ``GET /api/users/{id}``; one that no longer exists is not offered."""
    wired = wire("salesseek")
    db = wired.db
    me = next(u for u in db.users.values() if u["email_address"] == "demo@sandbox.test")
    gone = next(u for u in db.users.values() if u["id"] != me["id"])
    deal = next(iter(db.opportunities.values()))
    deal["owner_id"] = gone["id"]
    del db.users[gone["id"]]

    def by_id_only(path: str, body: Any) -> None:
        for row in body if isinstance(body, list) else []:
            for key in ("owner", "creator", "assignee"):
                row.pop(key, None)

    wired.http.mount_app(wired.origin, RewriteReplies(wired.app, by_id_only))
    choices = await wired.adapter.choices("users")
    assert {c.value for c in choices} == set(db.users)
    assert {c.label for c in choices} == {u["name"] for u in db.users.values()}
    reads = [p for p in sent(wired) if p.startswith("GET /api/users/")]
    others = {*db.users, gone["id"]} - {me["id"]}  # the signed-in one is the login's answer
    assert sorted(reads) == sorted(f"GET /api/users/{i}" for i in others)  # each once
    assert not undocumented(sent(wired)), sent(wired)


async def test_a_deal_search_filters_pages_without_a_search_parameter(wire: Any) -> None:
    """Deals have no documented ``search``: the adapter reads pages and keeps the names
    holding the text; organizations, individuals and tasks are searched by the server,
    whose answers are reduced (partial records)."""
    wired = wire("salesseek")
    deal = list(wired.db.opportunities.values())[-1]
    found = await wired.adapter.list_page("deal", Query(search=deal["name"], per_page=200))
    assert deal["id"] in {r.id for r in found.records}
    assert not any(r.partial for r in found.records)
    org = next(iter(wired.db.organizations.values()))
    hits = await wired.adapter.list_page("company", Query(search=org["name"]))
    assert org["id"] in {r.id for r in hits.records} and all(r.partial for r in hits.records)
    assert any("/organizations?" in p and "search=" in p for p in sent(wired))
    assert not undocumented(sent(wired)), sent(wired)
