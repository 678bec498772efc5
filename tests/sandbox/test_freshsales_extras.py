"""The documented Freshsales endpoints crmtui does not call, as the sandbox serves them from
the seed: upsert and bulk upsert (with Job Status), clone, forget, bulk owner assignment,
team members, the manual call log, files and the CPQ products and documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from crmtui.sandbox.freshsales import create_app

AUTH = {"Authorization": "Token token=sandbox"}


@pytest.fixture
def app() -> Any:
    return create_app(rate_limit=False)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fs.test", headers=AUTH) as c:
        yield c


def error(status: int, message: str) -> dict[str, Any]:
    return {"errors": {"code": status, "message": message}}


async def test_upsert_makes_then_updates_and_bulk_upsert_reports_a_job(
    app: Any, client: httpx.AsyncClient
) -> None:
    ident = {"emails": "ada@example.com"}
    made = await client.post(
        "/api/contacts/upsert",
        json={"unique_identifier": ident, "contact": {"last_name": "Lovelace"}},
    )
    assert made.status_code == 201
    contact = made.json()["contact"]
    assert (contact["email"], contact["last_name"]) == ("ada@example.com", "Lovelace")
    again = await client.post(
        "/api/contacts/upsert",
        json={"unique_identifier": ident, "contact": {"first_name": "Ada"}},
    )
    assert again.status_code == 200
    assert again.json()["contact"]["id"] == contact["id"]
    assert app.state.db.contacts[contact["id"]]["display_name"] == "Ada Lovelace"
    wrong = await client.post(
        "/api/contacts/upsert",
        json={"unique_identifier": {"city": "x"}, "contact": {"last_name": "X"}},
    )
    assert wrong.json() == error(400, "Invalid unique identifier city: use id or emails")
    # the same address on a second contact: the upsert names both to merge
    other = next(c for c in app.state.db.contacts.values() if c["id"] != contact["id"])
    other["email"] = "ada@example.com"
    twice = await client.post(
        "/api/contacts/upsert", json={"unique_identifier": ident, "contact": {"city": "x"}}
    )
    assert twice.status_code == 400 and str(other["id"]) in twice.json()["errors"]["message"]

    bulk = await client.post(
        "/crm/sales/api/sales_accounts/bulk_upsert",
        json={
            "sales_accounts": [
                {"name": "Brand New Ltd", "data": {"city": "Leeds"}},
                {"id": "1", "data": {"city": "Nowhere"}},  # no account 1: made, needs a name
            ]
        },
    )
    assert bulk.status_code == 200
    url = bulk.json()["job_status_url"]
    assert url.startswith("http://fs.test/crm/sales/api/job_statuses/")
    job = (await client.get(url)).json()
    assert (job["status"], job["job_type_name"], job["progress"]) == ("SUCCESS", "BULK_UPSERT", 100)
    assert job["data"]["record_status"] == {"succeeded": 1, "failed": 1}
    assert job["data"]["detailed_failure_report"] == [
        {"id": "1", "error_message": ["Name can't be blank"]}
    ]
    made_account = [a for a in app.state.db.sales_accounts.values() if a["name"] == "Brand New Ltd"]
    assert [a["city"] for a in made_account] == ["Leeds"]
    missing = await client.get("/api/job_statuses/nope")
    assert missing.json() == error(404, "Job status with id nope not found")


async def test_clone_forget_assign_and_team(app: Any, client: httpx.AsyncClient) -> None:
    db = app.state.db
    source = next(c for c in db.contacts.values() if c["email"] and c["mobile_number"])
    clone = await client.post(f"/api/contacts/{source['id']}/clone", json={})
    assert clone.status_code == 200
    copy = clone.json()["contact"]
    assert copy["id"] != source["id"] and copy["email"] is None
    assert (copy["last_name"], copy["mobile_number"]) == (
        source["last_name"],
        source["mobile_number"],
    )
    assert copy["sales_account_id"] == source["sales_account_id"]
    renamed = await client.post(
        f"/api/contacts/{source['id']}/clone", json={"contact": {"first_name": "Twin"}}
    )
    assert renamed.json()["contact"]["first_name"] == "Twin"

    forgot = await client.delete(f"/api/contacts/{copy['id']}/forget")
    assert forgot.json() is True
    assert (await client.get(f"/api/contacts/{copy['id']}")).status_code == 404

    leads = sorted(db.leads)[:2]
    owner = sorted(db.users)[-1]
    assigned = await client.post(
        "/api/leads/bulk_assign_owner", json={"selected_ids": [*leads, 1], "owner_id": owner}
    )
    assert assigned.json() == {
        "leads": [{str(leads[0]): True}, {str(leads[1]): True}, {"1": False}]
    }
    assert {db.leads[i]["owner_id"] for i in leads} == {owner}
    nobody = await client.post(
        "/api/leads/bulk_assign_owner", json={"selected_ids": leads, "owner_id": 5}
    )
    assert nobody.json() == error(400, "Invalid owner id: 5 does not exist")

    designation = (await client.get("/api/selector/designations")).json()["designations"][0]["id"]
    users = sorted(db.users)[:2]
    deal = sorted(db.deals)[0]
    team = await client.post(
        f"/api/deals/{deal}/manage_team_members",
        json={"team_users": [{"user_id": u, "designation_id": designation} for u in users]},
    )
    assert [t["user_id"] for t in team.json()["team_users"]] == users
    team = await client.post(
        f"/api/deals/{deal}/manage_team_members",
        json={"team_users": [{"user_id": users[1], "_destroy": True}]},
    )
    assert [(t["entity_id"], t["user_id"]) for t in team.json()["team_users"]] == [(deal, users[0])]


async def test_a_logged_call_and_a_file(app: Any, client: httpx.AsyncClient) -> None:
    db = app.state.db
    lead = sorted(db.leads)[0]
    logged = await client.post(
        "/api/phone_calls",
        json={
            "phone_call": {
                "call_direction": True,
                "targetable_type": "lead",
                "targetable": {"id": str(lead)},
                "note": {"description": "Called about renewal"},
            }
        },
    )
    body = logged.json()
    assert body["leads"] == [{"partial": True, "id": lead}]
    assert body["phone_calls"]["targetable"] == {"type": "lead", "id": lead}
    assert body["notes"][0]["description"] == "Called about renewal"
    feed = (await client.get(f"/api/leads/{lead}/activities")).json()["activities"]
    assert any(a["action_type"] == "NOTE_CREATED" for a in feed)
    fresh = await client.post(
        "/api/phone_calls",
        json={
            "phone_call": {
                "call_direction": False,
                "targetable_type": "contact",
                "targetable": {"first_name": "Nia", "last_name": "Call", "mobile_number": "555"},
            }
        },
    )
    (new,) = fresh.json()["contacts"]
    assert db.contacts[new["id"]]["display_name"] == "Nia Call"
    assert fresh.json()["phone_calls"]["status"] == "outgoing"

    uploaded = await client.post(
        "/api/documents",
        data={"targetable_type": "Lead", "targetable_id": str(lead), "is_shared": "true"},
        files={"file": ("notes.txt", b"hello", "text/plain")},
    )
    assert uploaded.json()["msg"] == "File uploaded successfully"
    listed = (await client.get(f"/api/leads/{lead}/document_associations")).json()
    assert [(d["name"], d["content_file_size"], d["is_shared"]) for d in listed["documents"]] == [
        ("notes.txt", 5, True)
    ]
    assert listed["users"][0]["id"] == db.api_keys["sandbox"]
    no_file = await client.post(
        "/api/documents",
        data={"targetable_type": "Lead", "targetable_id": str(lead)},
        files={"other": ("x.txt", b"x", "text/plain")},
    )
    assert no_file.json() == error(400, "File can't be blank")


async def test_cpq_products_and_documents(app: Any, client: httpx.AsyncClient) -> None:
    db = app.state.db
    made = await client.post(
        "/api/cpq/products",
        json={"product": {"name": "Seat", "is_active": True, "valid_till": "2026-12-31"}},
    )
    assert made.status_code == 201
    product = made.json()["product"]
    assert (product["name"], product["is_active"], product["is_deleted"]) == ("Seat", True, False)
    assert product["valid_till"] == "2026-12-31T00:00:00Z"
    path = f"/api/cpq/products/{product['id']}"
    changed = await client.put(path, json={"product": {"category": "Hardware"}})
    assert changed.json()["product"]["category"] == "Hardware"
    assert (await client.delete(path)).json() == {"msg": {"id": product["id"], "code": "success"}}
    assert (await client.get(path)).json()["product"]["is_deleted"] is True
    assert (await client.put(f"{path}/restore")).json()["product"]["is_deleted"] is False
    owner = sorted(db.users)[-1]
    queued = await client.post(
        "/api/cpq/products/products_bulk_assign",
        json={"selected_ids": [product["id"]], "owner_id": owner},
    )
    assert queued.json()["message"].startswith("Sales owner assignment added to queue")
    assert db.products[product["id"]]["owner_id"] == owner
    await client.post(
        "/api/cpq/products/products_bulk_delete", json={"selected_ids": [product["id"]]}
    )
    assert db.products[product["id"]]["is_deleted"] is True

    deal = db.deals[sorted(db.deals)[0]]
    document = {
        "display_name": "Quote",
        "document_type": "Quote",
        "cpq_document_template_name": "Sample Template",
        "deal_id": deal["id"],
        "contact_id": 1,
        "amount": 100,
    }
    unknown = await client.post("/api/cpq/cpq_documents", json={"cpq_document": document})
    assert unknown.json() == error(400, "Invalid contact: 1 does not exist")
    document["contact_id"] = sorted(db.contacts)[0]
    quote = (await client.post("/api/cpq/cpq_documents", json={"cpq_document": document})).json()
    quote_id = quote["cpq_document"]["id"]
    assert quote["cpq_document"]["document_number"] == "DOC-1"
    assert quote["cpq_document"]["amount"] == 100.0
    bulk = await client.put(
        "/api/cpq/cpq_documents/cpq_documents_bulk_update",
        json={"ids": [quote_id], "cpq_document": {"stage": "Sent"}},
    )
    assert bulk.json() == {
        "message": "Field update added to queue, you will be notified on success."
    }
    assert db.cpq_documents[quote_id]["stage"] == "Sent"
    assert (await client.delete(f"/api/cpq/cpq_documents/{quote_id}/forget")).status_code == 200
    gone = await client.get(f"/api/cpq/cpq_documents/{quote_id}")
    assert gone.json() == error(404, f"Cpq document with id {quote_id} not found")


async def test_hostile_bodies_get_the_documented_400(app: Any, client: httpx.AsyncClient) -> None:
    """Whatever shape a body has, the answer is the documented 400, never a 500."""
    for path, body in (
        ("/api/deals/1/manage_team_members", {"team_users": ["x"]}),
        ("/api/leads/upsert", {"unique_identifier": {"id": "x"}, "lead": {}}),
        ("/api/leads/upsert", {"unique_identifier": [], "lead": {}}),
        ("/api/leads/bulk_assign_owner", {"selected_ids": "all", "owner_id": 1}),
        ("/api/phone_calls", {"phone_call": {"targetable_type": "deal"}}),
        ("/api/cpq/products", {"product": {"name": "x", "custom_field": []}}),
        ("/api/cpq/products/products_bulk_delete", {"selected_ids": [[1]]}),
    ):
        answer = await client.post(path, json=body)
        assert answer.status_code in (400, 404), (path, answer.text)
        assert answer.json()["errors"]["code"] == answer.status_code
    for amount in ("nan", "1e999"):
        quote = await client.post(
            "/api/cpq/cpq_documents",
            json={
                "cpq_document": {
                    "display_name": "Q",
                    "document_type": "Quote",
                    "cpq_document_template_name": "T",
                    "deal_id": sorted(app.state.db.deals)[0],
                    "contact_id": sorted(app.state.db.contacts)[0],
                    "amount": amount,
                }
            },
        )
        assert quote.json() == error(400, "Amount is not a number")
    # a bulk upsert takes every entry: the bad ones are its job's failures
    bulk = await client.post("/api/contacts/bulk_upsert", json={"contacts": ["x", {"data": {}}]})
    job = (await client.get(bulk.json()["job_status_url"])).json()
    assert job["data"]["record_status"] == {"succeeded": 0, "failed": 2}
