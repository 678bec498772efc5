"""The Freshsales sandbox over HTTP: auth, views, paging, include=, writes, activities, limits."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from crmtui.sandbox.faults import Faults
from crmtui.sandbox.freshsales import create_app
from crmtui.sandbox.freshsales.data import STAGE, build
from crmtui.sandbox.serve import serving

AUTH = {"Authorization": "Token token=sandbox"}
ACCOUNT = 4000001


@pytest.fixture
def app() -> Any:
    return create_app()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fs.test", headers=AUTH) as c:
        yield c


def stage_named(name: str, pipeline: int = 62000001) -> int:
    return next(
        s["id"] for s in STAGE.values() if s["name"] == name and s["deal_pipeline_id"] == pipeline
    )


async def test_missing_or_wrong_token_gets_the_documented_401(client: httpx.AsyncClient) -> None:
    for header in ({"Authorization": ""}, {"Authorization": "Token token=nope"}):
        r = await client.get("/api/contacts/filters", headers=header)
        assert r.status_code == 401
        assert r.json()["errors"]["code"] == 401
        assert r.json()["errors"]["message"]
    r = await client.get(
        "/api/contacts/filters", headers={"Authorization": 'Token token="sandbox"'}
    )
    assert r.status_code == 200


async def test_views_list_with_paging_meta_and_sort(client: httpx.AsyncClient) -> None:
    filters = (await client.get("/api/contacts/filters")).json()["filters"]
    all_view = next(f for f in filters if f["name"] == "All Contacts")
    assert all_view["model_class_name"] == "Contact"
    r = await client.get(f"/api/contacts/view/{all_view['id']}", params={"per_page": 10, "page": 2})
    body = r.json()
    assert r.status_code == 200
    assert len(body["contacts"]) == 10
    assert body["meta"] == {"total": 300, "total_pages": 30}
    default = (await client.get(f"/api/contacts/view/{all_view['id']}")).json()
    assert len(default["contacts"]) == 25
    big = (
        await client.get(f"/api/contacts/view/{all_view['id']}", params={"per_page": 500})
    ).json()
    assert len(big["contacts"]) == 100
    r = await client.get(
        f"/api/contacts/view/{all_view['id']}",
        params={"sort": "lead_score", "sort_type": "asc", "per_page": 50},
    )
    scores = [c["lead_score"] for c in r.json()["contacts"]]
    assert scores == sorted(scores)
    r = await client.get(f"/api/contacts/view/{all_view['id']}", params={"sort": "nickname"})
    assert r.status_code == 400
    assert r.json()["errors"]["code"] == 400
    assert (await client.get("/api/contacts/view/99")).status_code == 404


async def test_deals_split_across_open_won_lost_views(client: httpx.AsyncClient, app: Any) -> None:
    filters = {
        f["name"]: f["id"] for f in (await client.get("/api/deals/filters")).json()["filters"]
    }
    totals = {}
    for name in ("Open Deals", "Won Deals", "Lost Deals", "Recent Deals"):
        totals[name] = (await client.get(f"/api/deals/view/{filters[name]}")).json()["meta"][
            "total"
        ]
    assert totals["Open Deals"] + totals["Won Deals"] + totals["Lost Deals"] == len(
        app.state.db.deals
    )
    # a view is "a defined set of records" (the Scroll API is the route to all of them)
    assert 0 < totals["Recent Deals"] < len(app.state.db.deals)
    assert min(totals.values()) > 0


async def test_include_side_loads_users_and_accounts(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/api/deals/view/4", params={"include": "owner,sales_account,deal_stage", "per_page": 5}
    )
    body = r.json()
    owners = {d["owner_id"] for d in body["deals"]}
    assert {u["id"] for u in body["users"]} == owners
    assert {a["id"] for a in body["sales_accounts"]} == {
        d["sales_account_id"] for d in body["deals"]
    }
    assert {s["id"] for s in body["deal_stages"]} == {d["deal_stage_id"] for d in body["deals"]}
    deal = body["deals"][0]
    assert isinstance(deal["amount"], str) and float(deal["amount"]) > 0
    assert (
        deal["currency_id"]
        and deal["deal_pipeline_id"]
        and deal["stage_updated_time"].endswith("Z")
    )
    contact_id = 16000001
    r = await client.get(f"/api/contacts/{contact_id}", params={"include": "sales_accounts,notes"})
    contact = r.json()["contact"]
    assert contact["sales_accounts"][0]["is_primary"] is True
    assert contact["note_ids"] == [n["id"] for n in r.json().get("notes", [])]


async def test_selectors_and_fields(client: httpx.AsyncClient) -> None:
    owners = (await client.get("/api/selector/owners")).json()["users"]
    assert len(owners) == 6 and all(u["display_name"] and u["email"] for u in owners)
    stages = (await client.get("/api/selector/deal_stages")).json()["deal_stages"]
    assert [s["name"] for s in stages] == [
        "New",
        "Qualified",
        "Demo",
        "Proposal",
        "Negotiation",
        "Won",
        "Lost",
    ]
    pipelines = (await client.get("/api/selector/deal_pipelines")).json()["deal_pipelines"]
    renewals = next(p for p in pipelines if not p["is_default"])
    r = await client.get(f"/api/selector/deal_pipelines/{renewals['id']}/deal_stages")
    assert {s["deal_pipeline_id"] for s in r.json()["deal_stages"]} == {renewals["id"]}
    for name in (
        "currencies",
        "deal_reasons",
        "territories",
        "sales_activity_types",
        "contact_statuses",
    ):
        r = await client.get(f"/api/selector/{name}")
        assert r.status_code == 200 and r.json()[name]
    fields = (await client.get("/api/settings/deals/fields")).json()["fields"]
    stage_field = next(f for f in fields if f["name"] == "deal_stage_id")
    assert stage_field["type"] == "dropdown" and len(stage_field["choices"]) == len(STAGE)
    assert any(f["name"].startswith("cf_") and not f["default"] for f in fields)
    grouped = (await client.get("/api/settings/contacts/fields?include=field_group")).json()
    assert grouped["field_groups"] and "field_group_id" in grouped["fields"][0]


async def test_create_update_delete_deal(client: httpx.AsyncClient, app: Any) -> None:
    r = await client.post(
        "/api/deals", json={"deal": {"name": "Pilot", "amount": 12000, "sales_account_id": ACCOUNT}}
    )
    assert r.status_code == 201
    deal = r.json()["deal"]
    assert deal["amount"] == "12000.0" and r.json()["users"][0]["id"] == deal["creater_id"]
    r = await client.put(
        f"/api/deals/{deal['id']}",
        json={"deal": {"probability": 30, "expected_close": "2027-01-15"}},
    )
    assert r.status_code == 200
    stored = app.state.db.deals[deal["id"]]
    assert stored["probability"] == 30 and stored["expected_close"] == "2027-01-15"
    assert stored["updated_at"] >= deal["updated_at"]
    r = await client.delete(f"/api/deals/{deal['id']}")
    assert r.status_code == 200 and r.json() is True
    r = await client.get(f"/api/deals/{deal['id']}")
    assert r.status_code == 404
    assert r.json()["errors"] == {"code": 404, "message": f"Deal with id {deal['id']} not found"}


async def test_validation_errors_are_400_with_the_documented_body(
    client: httpx.AsyncClient,
) -> None:
    cases = [
        ("/api/deals", {"deal": {"amount": 5}}),
        ("/api/deals", {"deal": {"name": "No account", "amount": 5}}),
        ("/api/contacts", {"contact": {"last_name": "Doe", "email": "not-an-email"}}),
        (
            "/api/deals",
            {"deal": {"name": "x", "amount": 5, "sales_account_id": ACCOUNT, "probability": 150}},
        ),
        ("/api/tasks", {"task": {"title": "No due date"}}),
    ]
    for path, body in cases:
        r = await client.post(path, json=body)
        assert r.status_code == 400, (path, body)
        assert set(r.json()["errors"]) == {"code", "message"}
    r = await client.put(f"/api/deals/{7000001}", json={"deal": {"deal_reason_id": 64000001}})
    deal_stage = (await client.get("/api/deals/7000001")).json()["deal"]["deal_stage_id"]
    assert (r.status_code == 400) == (STAGE[deal_stage]["forecast_type"] != "Lost")


async def test_stage_move_sets_its_time_and_deal_feeds_are_not_served(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post(
        "/api/deals",
        json={"deal": {"name": "Expansion", "amount": "4800", "sales_account_id": ACCOUNT}},
    )
    deal = r.json()["deal"]
    won = stage_named("Won")
    r = await client.put(f"/api/deals/{deal['id']}", json={"deal": {"deal_stage_id": won}})
    moved = r.json()["deal"]
    assert moved["probability"] == 100 and moved["closed_date"] is not None
    assert moved["stage_updated_time"] is not None
    # the activities feed is documented for leads and contacts only: a deal's is a 404
    r = await client.get(f"/api/deals/{deal['id']}/activities", params={"include": "user"})
    assert r.status_code == 404 and r.json()["errors"]["code"] == 404
    r = await client.get(f"/api/sales_accounts/{ACCOUNT}/activities")
    assert r.status_code == 404


async def test_completing_a_task_and_adding_a_note_show_in_the_contact_feed(
    client: httpx.AsyncClient,
) -> None:
    contact = 16000002
    task = {
        "title": "Call back",
        "due_date": "2026-11-21T10:00:00Z",
        "owner_id": "70000001",
        "targetable_type": "Contact",
        "targetable_id": str(contact),
    }
    r = await client.post("/api/tasks", json={"task": task})
    assert r.status_code == 201
    task_id = r.json()["task"]["id"]
    r = await client.put(f"/api/tasks/{task_id}", json={"task": {"status": 1}})
    assert r.json()["task"]["status"] == 1
    r = await client.post(
        "/api/notes",
        json={
            "note": {
                "description": "Budget approved",
                "targetable_type": "Contact",
                "targetable_id": contact,
            }
        },
    )
    assert r.status_code == 201
    feed = (await client.get(f"/api/contacts/{contact}/activities")).json()["activities"]
    kinds = {(a["action_type"], a["actionable_id"]) for a in feed}
    assert ("TASK_COMPLETED", task_id) in kinds
    assert ("NOTE_CREATED", r.json()["note"]["id"]) in kinds
    times = [a["created_at"] for a in feed]
    assert times == sorted(times, reverse=True)
    limited = (
        await client.get(f"/api/contacts/{contact}/activities.json", params={"limit": 2})
    ).json()
    assert len(limited["activities"]) == 2


async def test_task_filters(client: httpx.AsyncClient, app: Any) -> None:
    today = app.state.clock().date().isoformat()
    totals = {}
    for name in ("open", "due today", "due_tomorrow", "overdue", "completed"):
        r = await client.get("/api/tasks", params={"filter": name, "include": "targetable,owner"})
        assert r.status_code == 200
        totals[name] = r.json()["meta"]["total"]
        assert totals[name] > 0
    assert totals["open"] + totals["completed"] == len(app.state.db.tasks)
    due = (await client.get("/api/tasks", params={"filter": "due today", "per_page": 100})).json()[
        "tasks"
    ]
    assert all(t["due_date"].startswith(today) and t["status"] == 0 for t in due)
    assert (await client.get("/api/tasks")).status_code == 400


async def test_appointments_and_sales_activities(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/appointments", params={"filter": "open", "per_page": 5})
    assert r.status_code == 200 and r.json()["appointments"]
    appointment = {
        "title": "Demo",
        "from_date": "Mon Jun 20 2016 10:30:00 GMT+0530 (IST)",
        "end_date": "Mon Jun 20 2016 11:30:00 GMT+0530 (IST)",
        "targetable_type": "Contact",
        "targetable_id": "16000003",
        "appointment_attendees_attributes": [
            {"attendee_type": "FdMultitenant::User", "attendee_id": "70000002"}
        ],
    }
    r = await client.post("/api/appointments", json={"appointment": appointment})
    assert r.status_code == 201
    body = r.json()
    assert body["appointment"]["from_date"] == "2016-06-20T05:00:00Z"
    assert body["appointment_attendees"][0]["attendee"] == {"type": "user", "id": 70000002}
    r = await client.delete(f"/api/appointments/{body['appointment']['id']}")
    assert r.json() == {"success": "200"}
    listed = (await client.get("/api/sales_activities", params={"per_page": 10, "page": 1})).json()
    assert len(listed["sales_activities"]) == 10 and listed["meta"]["total_pages"] >= 1
    one = listed["sales_activities"][0]
    assert (await client.get(f"/api/sales_activities/{one['id']}")).json()["sales_activity"][
        "id"
    ] == one["id"]


async def test_rate_limit_429_past_the_budget(app: Any, client: httpx.AsyncClient) -> None:
    app.state.limit.limit = 3  # the account's hourly window, shrunk
    # a second user's key counts in the same window: the limit is the account's
    other = next(u for u in app.state.db.users if u != app.state.db.api_keys["sandbox"])
    app.state.db.api_keys["second"] = other
    assert (await client.get("/api/selector/owners")).status_code == 200
    second = {"Authorization": "Token token=second"}
    assert (await client.get("/api/selector/owners", headers=second)).status_code == 200
    assert (await client.get("/api/selector/owners")).status_code == 200
    for headers in (AUTH, second):
        r = await client.get("/api/selector/owners", headers=headers)
        assert r.status_code == 429
        assert r.json() == {
            "errors": {
                "code": 429,
                "message": "Too many requests: the limit is 1000 API requests per hour per account",
            }
        }
        assert 3500 < int(r.headers["Retry-After"]) <= 3600
    # a refused key does not count
    assert (
        await client.get("/api/selector/owners", headers={"Authorization": ""})
    ).status_code == 401


async def test_rate_limit_off() -> None:
    app = create_app(rate_limit=False)
    assert app.state.limit.enabled is False


async def test_faults_use_the_freshsales_body(app: Any, client: httpx.AsyncClient) -> None:
    app.state.faults.next = deque(["500", "429", "expire"])
    r = await client.get("/api/selector/owners")
    assert r.status_code == 500 and r.json()["errors"]["code"] == 500
    r = await client.get("/api/selector/owners")
    assert r.status_code == 429 and "Retry-After" in r.headers
    r = await client.get("/api/selector/owners")
    assert r.status_code == 401 and r.json()["errors"]["code"] == 401
    assert (await client.get("/api/selector/owners")).status_code == 200


def test_seed_is_deterministic_and_scale_multiplies() -> None:
    a, b = build(seed=3), build(seed=3)
    assert [c["display_name"] for c in a.contacts.values()] == [
        c["display_name"] for c in b.contacts.values()
    ]
    assert len(a.notes) == len(b.notes) > 100
    big = build(seed=3, scale=3)
    assert len(big.contacts) == 900 and len(big.deals) == 450
    deal = next(iter(big.deals))
    assert big.items("Deal", deal) == build(seed=3, scale=3).items("Deal", deal)


@pytest.mark.loopback
def test_over_real_loopback() -> None:
    app = create_app(faults=Faults())

    async def talk(origin: str) -> None:
        async with httpx.AsyncClient(base_url=origin, headers=AUTH) as c:
            r = await c.get("/api/contacts/view/4", params={"per_page": 3, "include": "owner"})
            assert r.status_code == 200 and len(r.json()["contacts"]) == 3 and r.json()["users"]
            r = await c.get("/api/contacts/view/4", headers={"Authorization": "Token token=wrong"})
            assert r.status_code == 401

    with serving(app) as origin:
        asyncio.run(talk(origin))


async def test_the_undocumented_search_api_is_the_documented_404(client: httpx.AsyncClient) -> None:
    """The seed documents no search route: ``/api/search`` answers as any URL it does not
    document (crmtui's search of Freshsales searches the cache)."""
    answer = await client.get("/api/search", params={"q": "a", "include": "contact"})
    assert answer.status_code == 404 and answer.json()["errors"]["code"] == 404


async def test_a_bundle_account_answers_the_same_api_under_crm_sales(
    client: httpx.AsyncClient,
) -> None:
    """Freshworks bundle accounts (``*.myfreshworks.com``) serve the API under
    ``/crm/sales/api/``: every route answers there as under ``/api/``."""
    plain = (await client.get("/api/contacts/view/4", params={"per_page": 3})).json()
    mounted = await client.get("/crm/sales/api/contacts/view/4", params={"per_page": 3})
    assert mounted.status_code == 200 and mounted.json() == plain
    task = plain["contacts"][0]["id"]
    made = await client.post(
        "/crm/sales/api/notes",
        json={"note": {"description": "hi", "targetable_type": "Contact", "targetable_id": task}},
    )
    assert made.status_code == 201 and made.json()["note"]["description"] == "hi"
    fields = await client.get("/crm/sales/api/settings/deals/fields")
    assert fields.status_code == 200 and fields.json()["fields"]


async def test_unknown_urls_ids_and_methods_are_the_documented_404(
    client: httpx.AsyncClient,
) -> None:
    not_found = {"errors": {"code": 404, "message": "The requested resource was not found"}}
    for method, path in (
        ("GET", "/api/contacts/abc"),  # an id is digits
        ("GET", "/api/contacts/view/x"),
        ("GET", "/api/selector/deal_pipelines/x/deal_stages"),
        ("PATCH", "/api/contacts/1"),  # an undocumented method
        ("GET", "/api/deals/1/activities"),  # documented for leads and contacts only
        ("GET", "/crm/api/contacts/view/4"),  # not the bundle's mount
    ):
        answer = await client.request(method, path)
        assert (answer.status_code, answer.json()) == (404, not_found), (method, path)
    missing = await client.get("/api/contacts/99999999")
    assert missing.json() == {
        "errors": {"code": 404, "message": "Contact with id 99999999 not found"}
    }


async def test_ids_of_the_wrong_shape_in_a_body_are_the_documented_400(
    app: Any, client: httpx.AsyncClient
) -> None:
    """An id or a list of them given as something else is a validation error (it was a
    500 from the sandbox's own ``int()``)."""
    db = app.state.db
    contact, deal, meeting = sorted(db.contacts)[0], sorted(db.deals)[0], sorted(db.appointments)[0]
    for method, path, body in (
        ("POST", "/api/leads/bulk_destroy", {"selected_ids": ["x"]}),
        ("PUT", f"/api/contacts/{contact}", {"contact": {"sales_accounts": [5]}}),
        ("PUT", f"/api/contacts/{contact}", {"contact": {"sales_account_id": "abc"}}),
        ("PUT", f"/api/deals/{deal}", {"deal": {"contacts_added_list": 5}}),
        ("PUT", f"/api/deals/{deal}", {"deal": {"contacts_added_list": [[1]]}}),
        (
            "PUT",
            f"/api/appointments/{meeting}",
            {"appointment": {"appointment_attendees_attributes": ["x"]}},
        ),
    ):
        answer = await client.request(method, path, json=body)
        assert answer.status_code == 400, (path, body, answer.text)
        assert answer.json()["errors"]["code"] == 400
