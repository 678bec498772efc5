"""The Salesloft sandbox answers what Salesloft's definition documents (issue 14).

``salesloft-contract.md`` lists filters the sandbox used to ignore (people ``tag_id``,
``can_email``, ``title``; accounts ``industry``, ``website``; emails ``one_off``; users
``visible_only``, ``role_id``), sort keys it refused (people ``account``,
``job_seniority``; accounts ``account_stage_name``; users ``id``/``email``/``group``/
``role``) and lists it answered 404 (actions, CRM activity fields). And what it does not
list: tasks have no ``updated_at`` filter nor sort, emails no ``account_id``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from crmtui.sandbox.salesloft import create_app


@pytest.fixture
def app() -> Any:
    return create_app()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://salesloft.test/v2/",
        headers={"Authorization": "Bearer sandbox"},
    ) as c:
        yield c


async def ids(client: httpx.AsyncClient, path: str, **params: Any) -> set[int]:
    reply = await client.get(path, params={"per_page": 100, **params})
    assert reply.status_code == 200, reply.text
    return {row["id"] for row in reply.json()["data"]}


async def test_documented_people_filters_are_applied(app: Any, client: httpx.AsyncClient) -> None:
    people = app.state.db["people"]
    tag = next(t for t in app.state.db["tags"].values() if t["name"] == "VIP")
    vip = await ids(client, "people.json", **{"tag_id[]": tag["id"]})
    assert vip and all("VIP" in people[i]["tags"] for i in vip)
    title = next(iter(people.values()))["title"]
    titled = await ids(client, "people.json", **{"title[]": title})
    assert titled and all(people[i]["title"] == title for i in titled)
    blocked = await ids(client, "people.json", can_email="false")
    assert blocked and all(people[i]["do_not_contact"] for i in blocked)


async def test_documented_account_filters_and_sorts(app: Any, client: httpx.AsyncClient) -> None:
    accounts = app.state.db["accounts"]
    industry = next(iter(accounts.values()))["industry"]
    found = await ids(client, "accounts.json", **{"industry[]": industry})
    assert found and all(accounts[i]["industry"] == industry for i in found)
    reply = await client.get(
        "accounts.json", params={"sort_by": "account_stage_name", "sort_direction": "ASC"}
    )
    assert reply.status_code == 200
    stages = app.state.db["account_stages"]
    names = [stages[r["company_stage"]["id"]]["name"].lower() for r in reply.json()["data"]]
    assert names == sorted(names)


async def test_documented_sorts_of_people_and_users(client: httpx.AsyncClient) -> None:
    for path, key in (
        ("people.json", "account"),
        ("people.json", "job_seniority"),
        ("users.json", "id"),
        ("users.json", "email"),
        ("users.json", "group"),
        ("users.json", "role"),
    ):
        reply = await client.get(path, params={"sort_by": key})
        assert reply.status_code == 200, (path, key)


async def test_users_come_back_whole_without_page(app: Any, client: httpx.AsyncClient) -> None:
    reply = await client.get("users.json", params={"per_page": 1})
    assert len(reply.json()["data"]) == len(app.state.db["users"])
    paged = await client.get("users.json", params={"per_page": 1, "page": 1})
    assert len(paged.json()["data"]) == 1
    assert await ids(client, "users.json", visible_only="false") == set(app.state.db["users"])


async def test_undocumented_task_and_email_params(app: Any, client: httpx.AsyncClient) -> None:
    """Tasks: ``updated_at`` is neither a filter (ignored) nor a sort (422); emails have
    no ``account_id`` (ignored: every account's emails come back)."""
    every = await ids(client, "tasks.json", per_page=100)
    since = await ids(client, "tasks.json", **{"updated_at[gt]": "2100-01-01T00:00:00Z"})
    assert since == every
    refused = await client.get("tasks.json", params={"sort_by": "updated_at"})
    assert refused.status_code == 422
    assert refused.json() == {"errors": {"sort_by": ["is invalid"]}}
    account = next(iter(app.state.db["accounts"]))
    unfiltered = await ids(client, "activities/emails.json")
    assert await ids(client, "activities/emails.json", **{"account_id[]": account}) == unfiltered


async def test_emails_one_off_filter(app: Any, client: httpx.AsyncClient) -> None:
    emails = app.state.db["emails"]
    one_off = await ids(client, "activities/emails.json", one_off="true")
    cadenced = await ids(client, "activities/emails.json", one_off="false")
    assert all(emails[i]["cadence"] is None for i in one_off)
    assert cadenced and all(emails[i]["cadence"] is not None for i in cadenced)


async def test_actions_and_crm_activity_fields_are_listed(
    app: Any, client: httpx.AsyncClient
) -> None:
    reply = await client.get("actions.json", params={"per_page": 100})
    assert reply.status_code == 200
    actions = reply.json()["data"]
    assert actions and all(a["status"] == "in_progress" for a in actions)
    one = actions[0]
    assert (await client.get(f"actions/{one['id']}.json")).json()["data"]["id"] == one["id"]
    steps = await client.get("actions.json", params={"step_id": one["step"]["id"]})
    assert all(a["step"]["id"] == one["step"]["id"] for a in steps.json()["data"])
    fields = await client.get("crm_activity_fields.json", params={"source": "phone"})
    rows = fields.json()["data"]
    assert rows and all(r["source"] == "phone" for r in rows)
    titles = [r["title"] for r in rows]
    assert titles == sorted(titles)
