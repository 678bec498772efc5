"""Each sandbox follows its vendor's declared contract, and the test transport holds the
adapters to the same contract: an allowed request is answered, a refused one gets the
vendor's documented error body, an ignored one is served without it, and a request
outside the contract fails the test that sent it (naming vendor, request and rule)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from crmtui import sandbox
from crmtui.sandbox.contract import Contract
from tests.helpers.contract import KNOWN_DRIFTS, watching
from tests.helpers.contract import signed_in as signed_in_to


@dataclass(frozen=True)
class Case:
    """Per vendor: how to sign in, a documented request, one the vendor refuses (with its
    documented error), and a parameter the contract does not allow on a documented path."""

    vendor: str
    headers: dict[str, str]
    allowed: tuple[str, str, dict[str, str]]  # method, path, params
    refused: tuple[str, str, dict[str, str]]
    status: int
    body: Any
    forbidden: tuple[str, dict[str, str]]  # GET path, params the contract does not list
    login: dict[str, str] = field(default_factory=dict)


CASES = [
    Case(
        "salesloft",
        {"Authorization": "Bearer sandbox"},
        ("GET", "/v2/tasks.json", {"sort_by": "due_date", "sort_direction": "ASC"}),
        ("GET", "/v2/tasks.json", {"sort_by": "updated_at"}),
        422,
        {"errors": {"sort_by": ["is invalid"]}},
        ("/v2/activities/emails.json", {"account_id": "1"}),
    ),
    Case(
        "freshsales",
        {"Authorization": "Token token=sandbox"},
        ("GET", "/api/tasks", {"filter": "open", "include": "owner"}),
        ("GET", "/api/contacts/view/1", {"sort": "nickname"}),
        400,
        {
            "errors": {
                "code": 400,
                "message": (
                    "sort must be one of: lead_score, created_at, updated_at, "
                    "open_deals_amount, last_contacted"
                ),
            }
        },
        ("/api/contacts/view/1", {"updated_since": "2020-01-01"}),
    ),
    Case(
        "activecampaign",
        {"Api-Token": "sandbox"},
        ("GET", "/api/3/deals", {"orders[cdate]": "DESC", "limit": "5"}),
        ("PATCH", "/api/3/deals/1", {}),
        405,
        {"message": "Method Not Allowed"},
        ("/api/3/deals", {"orders[mdate]": "DESC"}),
    ),
    Case(
        "salesforceiq",
        {"Authorization": "Basic c2FuZGJveDpzYW5kYm94"},  # sandbox:sandbox
        ("GET", "/v2/accounts", {"_start": "0", "_limit": "5"}),
        ("POST", "/v2/contacts", {"_upsert": "name"}),
        400,
        {
            "statusCode": 400,
            "userMessage": "Bad Request",
            "errorMessage": "_upsert must be one of: email",
        },
        ("/v2/accounts", {"_sort": "name"}),
    ),
    Case(
        "salesseek",
        {},
        ("GET", "/api/individuals", {"rows": "5", "start": "0", "order_by": "modified desc"}),
        ("GET", "/api/deals", {}),
        404,
        {"detail": "Not found"},
        ("/api/individuals", {"modified_after": "2020-01-01"}),
        login={"email_address": "demo@sandbox.test", "password": "sandbox"},
    ),
]


@pytest.fixture(params=CASES, ids=[c.vendor for c in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


def signed_in(case: Case) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """A client reaching the vendor's sandbox through crmtui's own transport, signed in."""
    return signed_in_to(case.vendor, case.headers, case.login)


@pytest.fixture
async def http(case: Case) -> AsyncIterator[httpx.AsyncClient]:
    async with signed_in(case) as client:
        yield client


async def test_an_allowed_request_is_answered(case: Case, http: httpx.AsyncClient) -> None:
    method, path, params = case.allowed
    with watching() as watch:
        response = await http.request(method, path, params=params)
    assert response.status_code == 200, response.text
    assert watch.broken == []


@pytest.mark.off_contract
async def test_a_refused_request_gets_the_documented_error(
    case: Case, http: httpx.AsyncClient
) -> None:
    method, path, params = case.refused
    response = await http.request(method, path, params=params, json={} if method != "GET" else None)
    assert response.status_code == case.status
    assert response.json() == case.body


@pytest.mark.off_contract
async def test_the_transport_catches_a_forbidden_parameter(
    case: Case, http: httpx.AsyncClient
) -> None:
    path, params = case.forbidden
    with watching() as watch:
        response = await http.get(path, params=params)
    assert response.status_code == 200  # each of these vendors ignores it: a silent no-op
    [broken] = watch.broken
    assert broken.vendor == case.vendor and broken.kind in ("param", "value")
    name = next(iter(params))
    assert name in str(broken) and case.vendor in str(broken) and path in str(broken)
    assert "not a documented parameter" in broken.rule or "must be one of" in broken.rule


@pytest.mark.off_contract
async def test_an_ignored_parameter_changes_nothing() -> None:
    """Salesloft has no ``updated_at`` filter on tasks: the sandbox drops it, as the
    vendor does, so a "sync since" through it would see every task again (issue 14)."""
    async with signed_in(CASES[0]) as http:
        everything = (await http.get("/v2/tasks.json", params={"per_page": "100"})).json()
        future = {"per_page": "100", "updated_at[gt]": "2999-01-01T00:00:00Z"}
        filtered = (await http.get("/v2/tasks.json", params=future)).json()
    assert [t["id"] for t in filtered["data"]] == [t["id"] for t in everything["data"]]
    assert filtered["data"]


def test_every_tolerated_drift_is_on_the_named_allowlist() -> None:
    """The sandboxes still serve a few requests our adapters send outside the contracts;
    each must be named in tests/helpers/contract.py with its issue point, and back."""

    def key(vendor: str, d: Any) -> tuple[str, str, str, str]:
        return (vendor, d.method, d.endpoint, d.name)

    tolerated = set()
    for vendor in ("salesloft", "salesseek", "activecampaign", "freshsales", "salesforceiq"):
        contract = sandbox.create_app(vendor).state.contract
        assert isinstance(contract, Contract) and contract.vendor == vendor
        tolerated |= {key(vendor, d) for d in contract.drifts}
    assert tolerated == {key(v, d) for v, d in KNOWN_DRIFTS}
    assert all(d.point for _, d in KNOWN_DRIFTS)


def test_every_contract_documents_its_decisions() -> None:
    for vendor in ("salesloft", "salesseek", "activecampaign", "freshsales", "salesforceiq"):
        contract = sandbox.create_app(vendor).state.contract
        assert "Decisions where the documentation" in contract.notes
        assert len(contract.endpoints) >= 15
        paths = [(e.method, e.path) for e in contract.endpoints]
        assert len(paths) == len(set(paths)), f"{vendor}: an endpoint declared twice"


@pytest.mark.off_contract
async def test_body_fields_and_paths_outside_the_contract_are_caught() -> None:
    """A task PUT may change only what v2 documents: another field is dropped (and the
    transport names it), reopening is the documented 422; an undocumented path is 404."""
    async with signed_in(CASES[0]) as http:
        task = (await http.get("/v2/tasks.json", params={"per_page": "1"})).json()["data"][0]
        other = "email" if task["task_type"] != "email" else "call"
        with watching() as watch:
            put = await http.put(
                f"/v2/tasks/{task['id']}.json", json={"subject": "Renamed", "task_type": other}
            )
            reopen = await http.put(
                f"/v2/tasks/{task['id']}.json", json={"current_state": "scheduled"}
            )
            missing = await http.get("/v2/teams.json")
    assert put.status_code == 200
    assert put.json()["data"]["subject"] == "Renamed"
    assert put.json()["data"]["task_type"] == task["task_type"]
    assert reopen.status_code == 422
    assert reopen.json() == {"errors": {"current_state": ["is not included in the list"]}}
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
    assert [(v.kind, v.name) for v in watch.broken] == [
        ("field", "task_type"),
        ("value", "current_state"),
        ("path", ""),
    ]
    assert "PUT /v2/tasks/" in str(watch.broken[0]) and "task_type" in str(watch.broken[0])
