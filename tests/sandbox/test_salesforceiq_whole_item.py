"""SalesforceIQ takes back the whole record it gave (issue 14).

The documented update body is "a JSON representation of a List Item, without the id,
modifiedDate, or createdDate fields" (likewise an account): a client that reads a record,
changes one value and sends the rest back as read must be answered 200, read-only and
linked fields included as long as they are unchanged. The sandbox used to refuse them
(422 "not editable"). Changing a read-only field is still refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from crmtui.sandbox.salesforceiq import create_app

DROPPED = ("id", "modifiedDate", "createdDate")


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
