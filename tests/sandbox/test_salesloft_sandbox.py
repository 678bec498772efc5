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


def test_builds_fast_and_scales() -> None:
    app = create_app(scale=3, now=None)
    db = app.state.db
    assert len(db["people"]) == 900 and len(db["tasks"]) == 750
    today = app.state.clock.anchor.date()
    due = {t["due_date"] for t in db["tasks"].values()}
    assert today.isoformat() in due and (today + timedelta(days=1)).isoformat() in due
