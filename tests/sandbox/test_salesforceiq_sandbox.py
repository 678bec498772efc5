"""The SalesforceIQ sandbox speaks the documented API v2 over HTTP."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from crmtui.sandbox.salesforceiq import create_app

HEX24 = re.compile(r"^[0-9a-f]{24}$")
ERROR_KEYS = {"statusCode", "userMessage", "errorMessage"}


@pytest.fixture
def app() -> Any:
    return create_app(seed=0)


@pytest.fixture
async def api(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://sfiq.localhost/v2",
        auth=("sandbox", "sandbox"),
    ) as client:
        yield client


def list_id(app: Any, title: str) -> str:
    return app.state.db.list_by_title(title)["id"]


def is_epoch_ms(value: Any) -> bool:
    return isinstance(value, int) and 1_000_000_000_000 < value < 10_000_000_000_000


async def test_missing_credentials_get_the_error_object(api: httpx.AsyncClient) -> None:
    response = await api.get("/accounts", auth=None)
    assert response.status_code == 401
    assert set(response.json()) == ERROR_KEYS
    assert response.json()["statusCode"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")


async def test_wrong_secret_is_refused(api: httpx.AsyncClient) -> None:
    response = await api.get("/accounts", auth=("sandbox", "nope"))
    assert response.status_code == 401
    assert response.json()["errorMessage"] == "Invalid API key or secret"


async def test_each_401_says_why_and_the_expire_fault_refuses_once(
    app: Any, api: httpx.AsyncClient
) -> None:
    missing = await api.get("/lists", auth=None)
    malformed = await api.get("/lists", auth=None, headers={"Authorization": "Basic %%%"})
    unknown = await api.get("/lists", auth=("nobody", "sandbox"))
    app.state.faults.next = deque(["expire"])
    revoked = await api.get("/lists")
    assert [r.json()["errorMessage"] for r in (missing, malformed, unknown, revoked)] == [
        "Missing API credentials",
        "Missing API credentials",
        "Invalid API key or secret",
        "The API key was revoked",
    ]
    assert all(r.headers["WWW-Authenticate"].startswith("Basic") for r in (unknown, revoked))
    assert (await api.get("/lists")).status_code == 200


async def test_read_only_key_may_not_write(api: httpx.AsyncClient) -> None:
    assert (await api.get("/lists", auth=("readonly", "sandbox"))).status_code == 200
    response = await api.post("/accounts", json={"name": "X"}, auth=("readonly", "sandbox"))
    assert response.status_code == 403
    assert response.json()["statusCode"] == 403


async def test_lists_carry_their_field_metadata(api: httpx.AsyncClient) -> None:
    body = (await api.get("/lists")).json()
    assert set(body) == {"objects", "nextPage"} and body["nextPage"] is None
    by_title = {lst["title"]: lst for lst in body["objects"]}
    assert by_title["Leads"]["listType"] == "contact"
    assert by_title["Customers"]["listType"] == "account"
    status = next(f for f in by_title["Leads"]["fields"] if f["name"] == "Status")
    assert status["dataType"] == "List" and status["isMultiSelect"] is False
    assert status["listOptions"][0] == {"id": "0", "display": "Lead"}
    for field in by_title["Leads"]["fields"]:
        assert {"id", "name", "listOptions", "isMultiSelect", "isEditable", "isLinkedField"} <= set(
            field
        )
    assert all(HEX24.match(lst["id"]) for lst in body["objects"])


async def test_paging_caps_at_200_and_gives_next_page() -> None:
    app = create_app(seed=1, scale=3)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://sfiq.localhost/v2",
        auth=("sandbox", "sandbox"),
    ) as api:
        first = (await api.get("/accounts", params={"_limit": 500})).json()
        assert len(first["objects"]) == 200
        assert first["nextPage"] == "/v2/accounts?_limit=200&_start=200"
        second = (await api.get(first["nextPage"].removeprefix("/v2"))).json()
        assert len(second["objects"]) == 100 and second["nextPage"] is None
        ids = [a["id"] for a in first["objects"] + second["objects"]]
        assert len(set(ids)) == 300 and all(HEX24.match(i) for i in ids)
        default = (await api.get("/contacts")).json()
        assert len(default["objects"]) == 50 and set(default) == {"objects"}


async def test_bad_limit_is_a_400(api: httpx.AsyncClient) -> None:
    response = await api.get("/accounts", params={"_limit": "0"})
    assert response.status_code == 400 and response.json()["statusCode"] == 400


async def test_list_items_envelope_and_ids_filter(app: Any, api: httpx.AsyncClient) -> None:
    lid = list_id(app, "Customers")
    body = (await api.get(f"/lists/{lid}/listitems", params={"_limit": 200})).json()
    assert body["totalSize"] == 0 and body["queryId"] is None and body["errorSize"] == 0
    items = body["objects"]
    assert len(items) == 50
    item = items[0]
    assert HEX24.match(item["id"]) and item["listId"] == lid
    assert is_epoch_ms(item["createdDate"]) and is_epoch_ms(item["modifiedDate"])
    assert item["createdDate"] % 1000 == 0
    assert all(isinstance(v["raw"], str) for vals in item["fieldValues"].values() for v in vals)
    picked = [items[3]["id"], items[7]["id"]]
    some = (await api.get(f"/lists/{lid}/listitems", params={"_ids": ", ".join(picked)})).json()
    assert [i["id"] for i in some["objects"]] == picked


async def test_modified_date_filter_is_at_or_after_ascending(
    app: Any, api: httpx.AsyncClient
) -> None:
    lid = list_id(app, "Opportunities")
    items = sorted(app.state.db.items[lid].values(), key=lambda i: i["modifiedDate"])
    since = items[40]["modifiedDate"]
    body = (await api.get(f"/lists/{lid}/listitems", params={"modifiedDate": since})).json()
    dates = [i["modifiedDate"] for i in body["objects"]]
    assert dates == sorted(dates) and dates[0] == since
    assert len(dates) == len([i for i in items if i["modifiedDate"] >= since])


async def test_put_item_is_partial_and_bumps_version(app: Any, api: httpx.AsyncClient) -> None:
    lid = list_id(app, "Leads")
    item = next(iter(app.state.db.items[lid].values()))
    before = dict(item, fieldValues=dict(item["fieldValues"]))
    response = await api.put(
        f"/lists/{lid}/listitems/{item['id']}", json={"fieldValues": {"0": [{"raw": "2"}]}}
    )
    assert response.status_code == 200
    after = response.json()
    assert after["fieldValues"]["0"] == [{"raw": "2"}]
    assert after["fieldValues"]["1"] == before["fieldValues"]["1"]
    assert after["version"] == before["version"] + 1
    assert after["modifiedDate"] > before["modifiedDate"]


async def test_invalid_values_are_422(app: Any, api: httpx.AsyncClient) -> None:
    lid = list_id(app, "Leads")
    item_id = next(iter(app.state.db.items[lid]))
    url = f"/lists/{lid}/listitems/{item_id}"
    for values in (
        {"0": [{"raw": "9"}]},
        {"3": [{"raw": "lots"}]},
        {"0": [{"raw": "1"}, {"raw": "2"}]},
        {"10": [{"raw": "Linked"}]},
        {"1": [{"raw": "nobody@nowhere.test"}]},
    ):
        response = await api.put(url, json={"fieldValues": values})
        assert response.status_code == 422, values
        assert response.json()["statusCode"] == 422


async def test_user_field_accepts_an_email_and_stores_the_id(
    app: Any, api: httpx.AsyncClient
) -> None:
    user = next(iter(app.state.db.users.values()))
    lid = list_id(app, "Customers")
    item_id = next(iter(app.state.db.items[lid]))
    body = {"fieldValues": {"1": [{"raw": user["email"]}]}}
    response = await api.put(f"/lists/{lid}/listitems/{item_id}", json=body)
    assert response.json()["fieldValues"]["1"] == [{"raw": user["id"]}]
    assert (await api.get(f"/users/{user['id']}")).json() == user


async def test_upsert_by_account_updates_then_creates(app: Any, api: httpx.AsyncClient) -> None:
    db = app.state.db
    lid = list_id(app, "Customers")
    existing = next(iter(db.items[lid].values()))
    url = f"/lists/{lid}/listitems"
    body = {"accountId": existing["accountId"], "fieldValues": {"0": [{"raw": "3"}]}}
    updated = (await api.post(url, params={"_upsert": "accountId"}, json=body)).json()
    assert updated["id"] == existing["id"] and updated["fieldValues"]["0"] == [{"raw": "3"}]
    on_list = {i["accountId"] for i in db.items[lid].values()}
    free = next(a for a in db.accounts if a not in on_list)
    created = (
        await api.post(url, params={"_upsert": "accountId"}, json={"accountId": free})
    ).json()
    assert created["name"] == db.accounts[free]["name"] and created["version"] == 1
    assert created["id"] in db.items[lid]
    bad = await api.post(url, params={"_upsert": "name"}, json=body)
    assert bad.status_code == 400


async def test_contact_list_item_needs_one_contact(app: Any, api: httpx.AsyncClient) -> None:
    lid = list_id(app, "Leads")
    response = await api.post(f"/lists/{lid}/listitems", json={"fieldValues": {}})
    assert response.status_code == 400
    assert response.json()["userMessage"] == "A contact-based list item needs one contact"


async def test_delete_item_answers_true(app: Any, api: httpx.AsyncClient) -> None:
    lid = list_id(app, "Leads")
    item_id = next(iter(app.state.db.items[lid]))
    response = await api.delete(f"/lists/{lid}/listitems/{item_id}")
    assert response.json() is True
    assert (await api.get(f"/lists/{lid}/listitems/{item_id}")).status_code == 404


async def test_accounts_fields_create_update_delete(app: Any, api: httpx.AsyncClient) -> None:
    fields = (await api.get("/accounts/fields")).json()["fields"]
    assert {f["name"] for f in fields} >= {"Address", "SLA", "Industry", "Contract End Date"}
    created = (
        await api.post(
            "/accounts",
            json={
                "name": "Avocado, Inc.",
                "fieldValues": {
                    "address": [{"raw": "117 University Ave, Palo Alto, CA 94301"}],
                    "16": [{"raw": "2017-2-1"}],
                },
            },
        )
    ).json()
    assert HEX24.match(created["id"]) and is_epoch_ms(created["modifiedDate"])
    assert created["fieldValues"]["address_state"] == [{"raw": "CA"}]
    assert created["fieldValues"]["16"] == [{"raw": "2017-02-01"}]
    echo = (
        await api.put(
            f"/accounts/{created['id']}",
            json={"id": created["id"], "name": "Avocado", "fieldValues": {"14": [{"raw": "90"}]}},
        )
    ).json()
    assert echo["fieldValues"] == {"14": [{"raw": "90"}]} and echo["name"] == "Avocado"
    stored = app.state.db.accounts[created["id"]]
    assert stored["fieldValues"]["16"] == [{"raw": "2017-02-01"}]
    no_name = await api.put(f"/accounts/{created['id']}", json={"id": created["id"]})
    assert no_name.status_code == 400
    assert (await api.delete(f"/accounts/{created['id']}")).json() is True


async def test_account_on_a_list_item_cannot_be_deleted(app: Any, api: httpx.AsyncClient) -> None:
    item = next(iter(app.state.db.items[list_id(app, "Customers")].values()))
    response = await api.delete(f"/accounts/{item['accountId']}")
    assert response.status_code == 400
    assert response.json()["userMessage"] == "The account is on a list item"


async def test_contacts_ids_alias_and_email_filter(app: Any, api: httpx.AsyncClient) -> None:
    db = app.state.db
    alias, survivor = next(iter(db.aliases.items()))
    body = (await api.get("/contacts", params={"_ids": alias})).json()
    assert [c["id"] for c in body["objects"]] == [survivor]
    assert body["objects"][0]["requestedIds"] == [alias]
    assert body["objects"][0]["mergedIds"] == [alias]
    email = db.contacts[survivor]["properties"]["email"][0]["value"]
    found = (await api.get("/contacts", params={"properties.email": f'"{email.upper()}"'})).json()
    assert [c["id"] for c in found["objects"]] == [survivor]


async def test_contact_create_upsert_update_archive(app: Any, api: httpx.AsyncClient) -> None:
    props = {
        "name": [{"value": "Ray Dreesen"}],
        "email": [{"value": "r.dreesen@imt.com", "metadata": {"primary": "true"}}],
        "experience": [{"value": "IMT", "metadata": {"company_name": "IMT", "job_title": "CFO"}}],
    }
    created = (await api.post("/contacts", json={"properties": props})).json()
    assert created["properties"]["title"][0]["value"] == "CFO"
    upsert = {"properties": {"email": props["email"], "phone": [{"value": "+1 415-487-3698"}]}}
    same = (await api.post("/contacts", params={"_upsert": "email"}, json=upsert)).json()
    assert same["id"] == created["id"]
    assert same["properties"]["name"][0]["value"] == "Ray Dreesen"
    assert same["properties"]["phone"][0] == {
        "value": "+14154873698",
        "metadata": {"raw_val": "+1 415-487-3698"},
    }
    echo = (
        await api.put(
            f"/contacts/{created['id']}",
            json={"id": created["id"], "properties": {"name": [{"value": "Ray D."}]}},
        )
    ).json()
    assert set(echo["properties"]) == {"name"}
    assert (await api.delete(f"/contacts/{created['id']}")).json() is True
    listed = (await api.get("/contacts", params={"_limit": 200, "_start": 200})).json()
    assert created["id"] not in {c["id"] for c in listed["objects"]}
    assert (await api.get(f"/contacts/{created['id']}")).json()["state"] == "ARCHIVED"


async def test_contact_modified_date_filter(app: Any, api: httpx.AsyncClient) -> None:
    contact = next(iter(app.state.db.contacts.values()))
    body = {"id": contact["id"], "properties": {"title": [{"value": "COO"}]}}  # id: required
    await api.put(f"/contacts/{contact['id']}", json=body)
    since = contact["modifiedDate"]
    body = (await api.get("/contacts", params={"modifiedDate": since})).json()
    assert [c["id"] for c in body["objects"]] == [contact["id"]]


async def test_events_are_put_and_stored(app: Any, api: httpx.AsyncClient) -> None:
    contact = next(iter(app.state.db.contacts.values()))
    email = contact["properties"]["email"][0]["value"]
    event = {
        "subject": "Phone Call",
        "body": "Discussed contract negotiations",
        "participantIds": [{"type": "email", "value": email}],
    }
    response = await api.put("/events", json=event)
    assert response.status_code == 204 and response.content == b""
    assert (await api.post("/events", json=event)).status_code == 405
    assert (await api.put("/events", json={"subject": "x"})).status_code == 400
    stored = app.state.db.events[-1]
    assert stored["contactIds"] == [contact["id"]]
    seen = await api.get(
        "http://sfiq.localhost/_sandbox/events", params={"contactId": contact["id"]}
    )
    assert seen.json()["objects"][0]["subject"] == "Phone Call"


async def test_a_blank_required_attribute_is_refused_as_a_missing_one(
    api: httpx.AsyncClient,
) -> None:
    """The contract's required attributes, sent blank, get the contract's own 400."""
    missing = await api.post("/accounts", json={})
    blank = await api.post("/accounts", json={"name": "   "})
    assert blank.status_code == missing.status_code == 400
    assert blank.json() == missing.json()
    assert blank.json() == {
        "statusCode": 400,
        "userMessage": "Bad Request",
        "errorMessage": "name is required",
    }
    event = {"subject": "Call", "body": "Spoke", "participantIds": []}
    no_one = await api.put("/events", json=event)
    assert no_one.status_code == 400
    assert no_one.json()["errorMessage"] == "participantIds is required"
    account = (await api.get("/accounts", params={"_limit": 1})).json()["objects"][0]
    unnamed = await api.put(f"/accounts/{account['id']}", json={"id": account["id"], "name": ""})
    assert unnamed.json()["errorMessage"] == "name is required"
    bad_upsert = await api.post("/contacts", params={"_upsert": "phone"}, json={"properties": {}})
    assert bad_upsert.status_code == 400


async def test_each_key_has_its_own_day(app: Any, api: httpx.AsyncClient) -> None:
    app.state.limit.limit = 1
    assert (await api.get("/lists")).status_code == 200
    assert (await api.get("/lists")).status_code == 429
    assert (await api.get("/lists", auth=("readonly", "sandbox"))).status_code == 200


async def test_daily_limit_gives_429_error_object(app: Any, api: httpx.AsyncClient) -> None:
    app.state.limit.limit = 2
    assert (await api.get("/lists")).status_code == 200
    assert (await api.get("/lists")).status_code == 200
    response = await api.get("/lists")
    assert response.status_code == 429
    assert response.json()["statusCode"] == 429 and "Retry-After" not in response.headers


async def test_unknown_ids_and_paths_are_404(app: Any, api: httpx.AsyncClient) -> None:
    assert (await api.get("/accounts/" + "0" * 24)).json()["statusCode"] == 404
    assert (await api.get("/users")).status_code == 404
    other = list_id(app, "Customers")
    lead_item = next(iter(app.state.db.items[list_id(app, "Leads")]))
    assert (await api.get(f"/lists/{other}/listitems/{lead_item}")).status_code == 404


async def test_the_docs_trailing_slash_paths_answer_without_a_redirect(
    app: Any, api: httpx.AsyncClient
) -> None:
    """The doc writes ``contacts/?_upsert=email`` and ``events/``: answered as the bare
    paths, never a 307 (a client following the doc would resend to another URL)."""
    contact = {"properties": {"email": [{"value": "slash@example.com"}]}}
    created = await api.post("/contacts/", params={"_upsert": "email"}, json=contact)
    assert created.status_code == 200 and created.json()["id"]
    event = {"subject": "Call", "body": "Spoke", "participantIds": [{"type": "email",
             "value": "slash@example.com"}]}  # fmt: skip
    assert (await api.put("/events/", json=event)).status_code == 204
    lid = list_id(app, "Leads")
    assert (await api.get(f"/lists/{lid}/listitems/")).status_code == 200


# -- the whole record sent back (issue 14) ---------------------------------------------
# The documented update body is "a JSON representation of a List Item, without the id,
# modifiedDate, or createdDate fields" (likewise an account): a client that reads a
# record, changes one value and sends the rest back as read must be answered 200,
# read-only and linked fields included as long as they are unchanged. The sandbox used to
# refuse them (422 "not editable"). Changing a read-only field is still refused.

DROPPED = ("id", "modifiedDate", "createdDate")


def fixed_fields(fields: list[dict[str, Any]], values: dict[str, Any]) -> list[str]:
    """The ids of the read-only or linked fields the record holds a value of."""
    return [
        f["id"]
        for f in fields
        if (not f["isEditable"] or f.get("isLinkedField")) and values.get(f["id"])
    ]


@pytest.mark.parametrize("list_type", ["contact", "account"])
async def test_a_list_item_read_and_sent_back_whole_is_updated(
    app: Any, api: httpx.AsyncClient, list_type: str
) -> None:
    lists = (await api.get("/lists")).json()["objects"]
    found = [
        (lst, item)
        for lst in lists
        if lst["listType"] == list_type
        for item in app.state.db.items[lst["id"]].values()
        if fixed_fields(lst["fields"], item["fieldValues"])
    ]
    assert found, f"no {list_type} list item holds a read-only value"
    lst, item = found[0]
    url = f"/lists/{lst['id']}/listitems/{item['id']}"
    read = (await api.get(url)).json()
    fixed = fixed_fields(lst["fields"], read["fieldValues"])
    body = {k: v for k, v in read.items() if k not in DROPPED}
    body["name"] = "Renamed whole"
    reply = await api.put(url, json=body)
    assert reply.status_code == 200, reply.text
    after = reply.json()
    assert after["name"] == "Renamed whole" and after["version"] == read["version"] + 1
    assert {f: after["fieldValues"][f] for f in fixed} == {f: read["fieldValues"][f] for f in fixed}
    changed = dict(body, fieldValues={**body["fieldValues"], fixed[0]: [{"raw": "changed"}]})
    refused = await api.put(url, json=changed)
    assert refused.status_code == 422 and "not editable" in refused.json()["userMessage"]


async def test_an_account_read_and_sent_back_whole_is_updated(
    app: Any, api: httpx.AsyncClient
) -> None:
    account = next(a for a in app.state.db.accounts.values() if a["fieldValues"])
    read = (await api.get(f"/accounts/{account['id']}")).json()
    body = {k: v for k, v in read.items() if k not in ("modifiedDate", "createdDate")}
    body["name"] = "Whole Account Inc."
    reply = await api.put(f"/accounts/{account['id']}", json=body)
    assert reply.status_code == 200, reply.text
    assert app.state.db.accounts[account["id"]]["name"] == "Whole Account Inc."
