"""The Salesloft v2 sandbox over HTTP: auth, envelopes, paging, filters, writes, limits."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from crmtui.sandbox.faults import Faults
from crmtui.sandbox.salesloft import create_app
from crmtui.sandbox.salesloft.app import NO_TOKEN
from crmtui.sandbox.salesloft.contract import CONTRACT

AUTH = {"Authorization": "Bearer sandbox"}


@pytest.fixture
def app() -> Any:
    return create_app()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://salesloft.test", headers=AUTH
    ) as c:
        yield c


async def test_missing_token_gets_the_v2_401_body(client: httpx.AsyncClient) -> None:
    r = await client.get("/v2/people", headers={"Authorization": ""})
    assert r.status_code == 401
    assert r.json() == {"error": NO_TOKEN}
    r = await client.get("/v2/people", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert r.json() == {"error": "Invalid Bearer Token"}


async def test_me_and_json_suffix_and_unknown_path(client: httpx.AsyncClient) -> None:
    me = (await client.get("/v2/me")).json()["data"]
    assert me["id"] == 1 and me["team_admin"] is True
    assert (await client.get("/v2/people.json")).status_code == 200
    r = await client.get("/v2/widgets")
    assert (r.status_code, r.json()) == (404, {"error": "Not Found"})
    r = await client.get("/v2/people/999999")
    assert (r.status_code, r.json()) == (404, {"error": "Not Found"})


async def test_record_envelope_refs_and_timestamps(client: httpx.AsyncClient) -> None:
    person = (await client.get("/v2/people", params={"per_page": 1})).json()["data"][0]
    one = (await client.get(f"/v2/people/{person['id']}")).json()
    assert set(one) == {"data"}
    data = one["data"]
    assert isinstance(data["id"], int)
    assert data["account"]["_href"] == f"http://salesloft.test/v2/accounts/{data['account']['id']}"
    assert data["updated_at"].endswith("+00:00") and "." in data["updated_at"]
    assert set(data["counts"]) >= {"emails_sent", "calls"}


async def test_paging_metadata_with_and_without_counts(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/v2/people", params={"per_page": 10, "page": 2, "include_paging_counts": "true"}
    )
    paging = r.json()["metadata"]["paging"]
    assert paging == {
        "per_page": 10,
        "current_page": 2,
        "next_page": 3,
        "prev_page": 1,
        "total_pages": 30,
        "total_count": 300,
    }
    plain = (await client.get("/v2/people")).json()["metadata"]
    assert plain["paging"] == {"per_page": 25, "current_page": 1, "next_page": 2, "prev_page": None}
    assert plain["sorting"] == {"sort_by": "updated_at", "sort_direction": "DESC"}
    clamped = (await client.get("/v2/people", params={"per_page": 500})).json()
    assert clamped["metadata"]["paging"]["per_page"] == 100 and len(clamped["data"]) == 100
    past = (await client.get("/v2/people", params={"page": 99})).json()
    assert past["data"] == [] and past["metadata"]["paging"]["next_page"] is None


async def test_sorting_and_invalid_sort(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/v2/accounts", params={"sort_by": "name", "sort_direction": "ASC", "per_page": 100}
    )
    names = [a["name"].lower() for a in r.json()["data"]]
    assert names == sorted(names)
    r = await client.get("/v2/accounts", params={"sort_by": "colour"})
    assert (r.status_code, r.json()) == (422, {"errors": {"sort_by": ["is invalid"]}})


async def test_filters_are_applied_and_echoed(client: httpx.AsyncClient) -> None:
    r = await client.get("/v2/people", params=[("ids[]", "1001"), ("ids[]", "1002")])
    body = r.json()
    assert sorted(p["id"] for p in body["data"]) == [1001, 1002]
    assert body["metadata"]["filtering"] == {"ids": ["1001", "1002"]}
    since = "2026-11-01T00:00:00.000000+00:00"
    r = await client.get("/v2/accounts", params={"updated_at[gt]": since, "per_page": 100})
    data = r.json()["data"]
    assert data and all(a["updated_at"] > since for a in data)
    assert r.json()["metadata"]["filtering"] == {"updated_at": {"gt": since}}
    bad = await client.get("/v2/accounts", params={"updated_at[gt]": "yesterday"})
    assert bad.status_code == 422 and "updated_at" in bad.json()["errors"]


async def test_task_counts_and_time_interval_filter(app: Any, client: httpx.AsyncClient) -> None:
    body = (await client.get("/v2/tasks", params={"per_page": 100})).json()
    counts = body["metadata"]["counts"]
    assert set(counts) == {"all", "overdue", "today", "tomorrow", "this_week", "next_week"}
    assert counts["all"] == 250 and counts["overdue"] > 0 and counts["today"] > 0
    today = app.state.clock().date()
    r = await client.get("/v2/tasks", params={"time_interval_filter": "today", "per_page": 100})
    tasks = r.json()["data"]
    assert len(tasks) == counts["today"]
    assert all(t["due_date"] == today.isoformat() for t in tasks)
    assert all(t["current_state"] == "scheduled" for t in tasks)
    overdue = await client.get("/v2/tasks", params={"time_interval_filter": "overdue"})
    assert all(date.fromisoformat(t["due_date"]) < today for t in overdue.json()["data"])
    bad = await client.get("/v2/tasks", params={"time_interval_filter": "someday"})
    assert bad.status_code == 422


async def test_task_filters_by_user_person_state_and_type(client: httpx.AsyncClient) -> None:
    params = [("user_ids", "x")]  # the connector's name is not a v2 filter: ignored
    assert (await client.get("/v2/tasks", params=params)).status_code == 200
    params = [("user_id[]", "2"), ("current_state[]", "scheduled"), ("task_type[]", "call")]
    body = (await client.get("/v2/tasks", params=[*params, ("per_page", "100")])).json()
    assert body["data"]
    for task in body["data"]:
        assert task["user"]["id"] == 2
        assert (task["current_state"], task["task_type"]) == ("scheduled", "call")
    assert body["metadata"]["counts"]["all"] == len(body["data"])
    person = body["data"][0]["person"]["id"]
    mine = (await client.get("/v2/tasks", params={"person_id[]": person})).json()["data"]
    assert mine and all(t["person"]["id"] == person for t in mine)


async def test_completing_a_task_and_no_reopening(app: Any, client: httpx.AsyncClient) -> None:
    task = next(t for t in app.state.db["tasks"].values() if t["current_state"] == "scheduled")
    r = await client.put(f"/v2/tasks/{task['id']}", json={"current_state": "completed"})
    data = r.json()["data"]
    assert data["current_state"] == "completed"
    assert data["completed_at"] is not None and data["completed_by"]["id"] == 1
    r = await client.put(f"/v2/tasks/{task['id']}", json={"current_state": "scheduled"})
    assert r.status_code == 422
    # PUT takes current_state=completed only (the contract's 422 for another value)
    assert r.json() == {"errors": {"current_state": ["is not included in the list"]}}


async def test_task_create_is_idempotent(client: httpx.AsyncClient) -> None:
    body = {
        "subject": "Call back",
        "person_id": 1001,
        "user_id": 1,
        "task_type": "call",
        "due_date": "2026-12-01T14:00:00Z",
        "current_state": "scheduled",
        "idempotency_key": "k-1",
    }
    first = (await client.post("/v2/tasks", json=body)).json()["data"]
    again = (await client.post("/v2/tasks", json=body)).json()["data"]
    assert first["id"] == again["id"] and first["due_date"] == "2026-12-01"
    missing = await client.post("/v2/tasks", json={"subject": "x"})
    assert missing.status_code == 422 and "person_id" in missing.json()["errors"]


async def test_notes_calls_and_people_writes(app: Any, client: httpx.AsyncClient) -> None:
    db = app.state.db
    note = await client.post(
        "/v2/notes",
        json={"content": "Budget ok", "associated_with_type": "person", "associated_with_id": 1001},
    )
    assert note.json()["data"]["associated_with"]["_href"].endswith("/v2/people/1001")
    call = await client.post(
        "/v2/activities/calls",
        json={"person_id": 1001, "duration": 90, "disposition": "Connected", "notes": "Demo set"},
    )
    call_data = call.json()["data"]
    linked = db["notes"][call_data["note"]["id"]]
    assert linked["content"] == "Demo set" and linked["call"] == call_data["id"]
    assert db["people"][1001]["last_contacted_type"] == "call"
    taken = db["people"][1002]["email_address"]
    r = await client.put("/v2/people/1001", json={"email_address": taken})
    assert (r.status_code, r.json()) == (422, {"errors": {"email_address": ["is already taken"]}})
    r = await client.put("/v2/people/1001", json={"person_stage_id": 3, "owner_id": 4})
    assert (r.json()["data"]["person_stage"]["id"], r.json()["data"]["owner"]["id"]) == (3, 4)
    assert (await client.delete(f"/v2/notes/{note.json()['data']['id']}")).status_code == 204
    # the definition declares every body as form fields: they are taken as JSON's are
    form = {"content": "By form", "associated_with_type": "person", "associated_with_id": "1002"}
    r = await client.post("/v2/notes.json", data=form)
    assert r.status_code == 200 and r.json()["data"]["content"] == "By form"
    r = await client.post("/v2/notes", content=b"[1]", headers={"content-type": "application/json"})
    assert (r.status_code, r.json()) == (400, {"error": "The request body must be a JSON object"})


async def test_rate_limit_headers_deep_page_cost_and_429(app: Any, client: httpx.AsyncClient):
    now = [0.0]
    app.state.limit.clock = lambda: now[0]  # the team's window, on a clock the test moves
    r = await client.get("/v2/people")
    assert r.headers["x-ratelimit-endpoint-cost"] == "1"
    assert r.headers["x-ratelimit-remaining-minute"] == "599"
    assert r.headers["x-ratelimit-limit-minute"] == "600"
    r = await client.get("/v2/people", params={"page": 101})
    assert r.headers["x-ratelimit-endpoint-cost"] == "3"
    assert r.headers["x-ratelimit-remaining-minute"] == "596"
    for _ in range(19):
        assert (await client.get("/v2/people", params={"page": 501})).status_code == 200
    r = await client.get("/v2/people", params={"page": 501})
    assert r.status_code == 429
    assert r.json() == {"error": "Rate limit exceeded"}
    assert int(r.headers["Retry-After"]) > 0 and r.headers["x-ratelimit-endpoint-cost"] == "30"
    # the deep page stays refused within the minute; a page costing 1 still fits
    assert (await client.get("/v2/people", params={"page": 501})).status_code == 429
    assert (await client.get("/v2/people")).headers["x-ratelimit-remaining-minute"] == "25"
    now[0] += 60  # the next minute: the whole budget again
    r = await client.get("/v2/people", params={"page": 501})
    assert r.status_code == 200 and r.headers["x-ratelimit-remaining-minute"] == "570"


async def test_injected_429_uses_the_v2_error_body() -> None:
    app = create_app(faults=Faults(next=deque(["429"])))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://s", headers=AUTH
    ) as c:
        r = await c.get("/v2/people")
        assert r.status_code == 429 and "error" in r.json() and r.headers["Retry-After"]
        assert (await c.get("/v2/people")).status_code == 200


async def test_config_lists_and_cadence_children(client: httpx.AsyncClient) -> None:
    for path in (
        "person_stages", "account_stages", "account_tiers", "users", "groups", "tags",
        "custom_fields", "call_dispositions", "call_sentiments", "crm_activities",
        "call_data_records", "activities/emails", "imports",
    ):  # fmt: skip
        r = await client.get(f"/v2/{path}")
        assert r.status_code == 200 and r.json()["data"], path
    cadence = (await client.get("/v2/cadences")).json()["data"][0]["id"]
    steps = (await client.get("/v2/steps", params={"cadence_id": cadence})).json()["data"]
    assert steps and all(s["cadence"]["id"] == cadence for s in steps)
    members = await client.get("/v2/cadence_memberships", params={"cadence_id": cadence})
    assert members.json()["metadata"]["filtering"] == {"cadence_id": str(cadence)}
    stage = (await client.get("/v2/account_stages/1")).json()["data"]  # the documented path
    assert stage["name"] == "Prospecting"


async def test_bulk_person_upsert_job(app: Any, client: httpx.AsyncClient) -> None:
    job = (await client.post("/v2/bulk_jobs", json={"type": "person/upsert", "name": "x"})).json()
    job_id = job["data"]["id"]
    rows = [{"email_address": "new.person@example.com", "first_name": "New"}, {"first_name": "Z"}]
    r = await client.post(f"/v2/bulk_jobs/{job_id}/job_data", json={"data": rows})
    assert r.json() == {"data": {"records": 2}}
    done = (await client.put(f"/v2/bulk_jobs/{job_id}", json={"ready_to_execute": True})).json()
    assert (done["data"]["state"], done["data"]["errors"]) == ("done", 1)
    results = (await client.get(f"/v2/bulk_jobs/{job_id}/results")).json()["data"]
    assert [r["status"] for r in results] == ["success", "error"]
    assert results[0]["resource"]["upsert_type"] == "create"


async def test_bulk_job_data_pages_by_cursor(client: httpx.AsyncClient) -> None:
    job = (await client.post("/v2/bulk_jobs", json={"type": "person/upsert"})).json()["data"]
    rows = [{"email_address": f"bulk{n}@example.com", "first_name": f"B{n}"} for n in range(3)]
    await client.post(f"/v2/bulk_jobs/{job['id']}/job_data", json={"data": rows})
    data = (await client.get(f"/v2/bulk_jobs/{job['id']}/job_data")).json()["data"]
    assert [(d["id"], d["status"]) for d in data] == [
        (1, "pending"),
        (2, "pending"),
        (3, "pending"),
    ]
    await client.put(f"/v2/bulk_jobs/{job['id']}", json={"ready_to_execute": True})
    after = await client.get(
        f"/v2/bulk_jobs/{job['id']}/job_data", params={"id[gt]": 1, "per_page": 1}
    )
    assert [(d["id"], d["status"]) for d in after.json()["data"]] == [(2, "success")]


async def test_every_documented_list_answers(app: Any, client: httpx.AsyncClient) -> None:
    """Routes come from the contract: each documented list (and the singletons) is served,
    and a documented by-id read of a record that does not exist is a 404 body."""
    lists = [e.path for e in CONTRACT.endpoints if e.method == "GET" and "{" not in e.path]
    assert len(lists) == 38
    for path in lists:
        r = await client.get(path)
        assert r.status_code == 200 and "data" in r.json(), path
    for path in ("/v2/saved_list_views/9", "/v2/webhook_subscriptions/9", "/v2/groups/99"):
        r = await client.get(path)
        assert (r.status_code, r.json()) == (404, {"error": "Not Found"}), path
    # what the contract does not document is no route, even where the old router had one
    for path in ("/v2/calls/1", "/v2/company_stages/1", "/v2/tags/1", "/v2/teams/1"):
        assert (await client.get(path)).status_code == 404, path
    phone = next(p["phone"] for p in app.state.db["people"].values() if p.get("phone"))
    found = await client.get("/v2/phone_numbers/caller_ids.json", params={"phone_number": phone})
    assert found.json()["data"][0]["person"]["id"] in app.state.db["people"]
    team = (await client.get("/v2/team.json")).json()["data"]
    assert team["plan"] == "enterprise" and isinstance(team["id"], int)
    r = await client.get("/v2/people", params={"page": 0})
    assert (r.status_code, r.json()) == (400, {"error": "page must be at least 1"})
    assert (await client.get("/v2/people/not-a-number")).status_code == 404


async def test_account_upserts(client: httpx.AsyncClient) -> None:
    body = {"name": "Upsert Co", "domain": "upsert.example", "upsert_key": "domain"}
    made = (await client.post("/v2/account_upserts", json=body)).json()["data"]
    assert made["upsert_type"] == "create" and made["account"]["domain"] == "upsert.example"
    again = await client.post("/v2/account_upserts", json=body | {"industry": "Retail"})
    data = again.json()["data"]
    assert data["upsert_type"] == "update" and data["account"]["id"] == made["account"]["id"]
    assert data["account"]["industry"] == "Retail"
    # without an upsert_key an existing account is never updated: its domain is taken
    r = await client.post("/v2/account_upserts", json={"name": "Other", "domain": "upsert.example"})
    assert (r.status_code, r.json()) == (422, {"errors": {"domain": ["has already been taken"]}})


async def test_the_rest_of_the_documented_writes(client: httpx.AsyncClient) -> None:
    hook = {
        "callback_url": "https://x.example/h",
        "callback_token": "t",
        "event_type": "call_created",
    }
    made = (await client.post("/v2/webhook_subscriptions", json=hook)).json()["data"]
    path = f"/v2/webhook_subscriptions/{made['id']}"
    assert (await client.get(path)).json()["data"]["callback_url"] == hook["callback_url"]
    changed = await client.put(path, json={"callback_url": "https://y.example/h"})
    assert changed.json()["data"]["callback_url"] == "https://y.example/h"
    assert (await client.delete(path)).status_code == 204
    assert (await client.get(path)).status_code == 404
    view = await client.post("/v2/saved_list_views", json={"view": "people"})
    assert (view.status_code, view.json()) == (422, {"errors": {"name": ["can't be blank"]}})
    view = await client.post("/v2/saved_list_views", json={"name": "Hot", "view": "people"})
    listed = (await client.get("/v2/saved_list_views")).json()["data"]
    assert [v["name"] for v in listed] == ["Hot"] and view.json()["data"]["view"] == "people"
    call = {"to": "+15550100", "from": "+15550101", "duration": 61, "recording": {"url": "u"}}
    assert (await client.post("/v2/conversations/calls", json=call)).status_code == 201
    assert (await client.post("/v2/external_emails", json={"subject": "Hi"})).status_code == 201
    event = {"id": "e1", "i_cal_uid": "u1", "start_time": "2024-01-01T10:00:00Z"}
    event |= {"end_time": "2024-01-01T11:00:00Z", "calendar_id": "c"}
    for title in ("One", "Two"):
        r = await client.post("/v2/calendar/events/upsert", json=event | {"title": title})
        assert r.status_code == 201
    events = (await client.get("/v2/calendar/events")).json()["data"]
    assert [e["title"] for e in events] == ["Two"]
    cadence = (await client.get("/v2/cadences")).json()["data"][0]
    export = (await client.get(f"/v2/cadence_exports/{cadence['id']}")).json()["data"]
    assert export["cadence_content"]["cadence"]["name"] == cadence["name"]
    imported = await client.post("/v2/cadence_imports", json=export)
    copy = imported.json()["data"]["cadence"]["id"]
    assert (await client.get(f"/v2/cadences/{copy}")).json()["data"]["name"] == cadence["name"]
    email = (await client.get("/v2/activities/emails")).json()["data"][0]
    mime = (await client.get(f"/v2/mime_email_payloads/{email['id']}.json")).json()["data"]
    assert mime["id"] == email["id"] and "Subject:" in mime["raw"]
    action = (await client.get("/v2/actions")).json()["data"][0]
    ongoing = await client.post("/v2/ongoing_actions", json={"action_id": action["id"]})
    assert ongoing.json()["data"]["status"] == "pending_activity"
    r = await client.post("/v2/activities", json={"task_id": 1})
    assert (r.status_code, r.json()) == (422, {"errors": {"task_id": ["is invalid"]}})
    searched = await client.post("/v2/meetings/settings/searches")
    assert searched.status_code == 200 and searched.json()["data"] == []


def test_builds_fast_and_scales() -> None:
    app = create_app(scale=3, now=None)
    db = app.state.db
    assert len(db["people"]) == 900 and len(db["tasks"]) == 750
    today = app.state.clock.anchor.date()
    due = {t["due_date"] for t in db["tasks"].values()}
    assert today.isoformat() in due and (today + timedelta(days=1)).isoformat() in due
