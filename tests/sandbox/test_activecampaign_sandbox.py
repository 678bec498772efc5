"""The ActiveCampaign sandbox speaks API v3 as the deals documentation says."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from crmtui.sandbox.activecampaign import create_app
from crmtui.sandbox.faults import Faults

TOKEN = {"Api-Token": "sandbox"}


def client_for(app: Any, headers: dict[str, str] | None = TOKEN) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://ac.localhost/api/3/",
        headers=headers or {},
    )


@pytest.fixture
def app() -> Any:
    return create_app(rate_limit=False)


@pytest.fixture
async def ac(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


async def test_api_token_is_required(app: Any) -> None:
    async with client_for(app, headers=None) as anonymous:
        response = await anonymous.get("deals")
        assert response.status_code == 403
        assert response.json() == {"message": "Forbidden"}
    async with client_for(app, headers={"Api-Token": "wrong"}) as wrong:
        assert (await wrong.get("deals")).status_code == 403


async def test_deal_list_pages_with_numeric_total(ac: httpx.AsyncClient, app: Any) -> None:
    first = (await ac.get("deals")).json()
    assert len(first["deals"]) == 20  # the default limit
    assert first["meta"]["total"] == len(app.state.db.deals)
    assert "USD" in first["meta"]["currencies"]
    page = (await ac.get("deals", params={"limit": 5, "offset": 5})).json()
    assert [d["id"] for d in page["deals"]] == [str(i) for i in range(6, 11)]
    assert len((await ac.get("deals", params={"limit": 500})).json()["deals"]) == 100
    deal = page["deals"][0]
    assert isinstance(deal["value"], str) and deal["links"]["dealActivities"].startswith(
        "/api/3/deals/"
    )


async def test_other_lists_send_total_as_string(ac: httpx.AsyncClient) -> None:
    body = (await ac.get("dealStages", params={"filters[d_groupid]": "2"})).json()
    assert body["meta"]["total"] == "4"
    assert {s["group"] for s in body["dealStages"]} == {"2"}


async def test_deal_filters(ac: httpx.AsyncClient, app: Any) -> None:
    deals = app.state.db.deals.values()
    won = (await ac.get("deals", params={"filters[status]": 1, "limit": 100})).json()
    assert won["meta"]["total"] == sum(d["status"] == "1" for d in deals)
    assert all(d["status"] == "1" for d in won["deals"])
    params = {"filters[group]": 2, "filters[owner]": 3, "limit": 100}
    both = (await ac.get("deals", params=params)).json()["deals"]
    assert both and all(d["group"] == "2" and d["owner"] == "3" for d in both)
    params = {"filters[minimum_value]": 20000, "filters[maximum_value]": 40000, "limit": 100}
    ranged = (await ac.get("deals", params=params)).json()["deals"]
    assert ranged and all(2_000_000 <= int(d["value"]) <= 4_000_000 for d in ranged)
    title = next(iter(deals))["title"]
    found = (await ac.get("deals", params={"filters[search]": title.split()[0]})).json()
    assert any(d["title"] == title for d in found["deals"])
    stage = (await ac.get("deals", params={"filters[stage]": 3, "limit": 100})).json()
    assert all(d["stage"] == "3" for d in stage["deals"])
    bad = await ac.get("deals", params={"filters[stage]": "three"})
    assert bad.status_code == 400


async def test_deal_orders(ac: httpx.AsyncClient) -> None:
    body = (await ac.get("deals", params={"orders[value]": "DESC", "limit": 50})).json()
    values = [int(d["value"]) for d in body["deals"]]
    assert values == sorted(values, reverse=True)
    body = (await ac.get("deals", params={"orders[title]": "ASC", "limit": 50})).json()
    titles = [d["title"].lower() for d in body["deals"]]
    assert titles == sorted(titles)


async def test_create_deal_201_and_422(ac: httpx.AsyncClient, app: Any) -> None:
    body = {"deal": {"title": "Big one", "value": 123456, "currency": "eur", "contact": "5"}}
    body["deal"]["group"] = "3"
    response = await ac.post("deals", json=body)
    assert response.status_code == 201
    deal = response.json()["deal"]
    assert deal["value"] == "123456" and deal["currency"] == "eur"
    assert app.state.db.deals[deal["id"]]["stage"] == app.state.db.stages_of("3")[0]["id"]
    bad = await ac.post("deals", json={"deal": {"value": -5}})
    assert bad.status_code == 422
    errors = bad.json()["errors"]
    codes = {e["source"]["pointer"]: e["code"] for e in errors}
    assert codes["/data/attributes/title"] == "field_missing"
    assert codes["/data/attributes/value"] == "field_invalid"
    assert all(e["title"] for e in errors)
    garbage = await ac.post("deals", content=b"{nope", headers={"Content-Type": "application/json"})
    assert garbage.status_code == 400


async def test_missing_ids_are_404(ac: httpx.AsyncClient) -> None:
    response = await ac.get("deals/99999")
    assert response.status_code == 404
    assert response.json() == {"message": "No Result found for Deal with id 99999"}
    assert (
        (await ac.get("contactDeals/99999"))
        .json()["message"]
        .startswith("No Result found for SubscriberDeal")
    )
    meta = await ac.get("dealCustomFieldMeta/99999")
    assert meta.status_code == 404 and meta.json()["errors"][0]["title"] == "Not Found"


async def test_rate_limit_429_after_five_a_second() -> None:
    app = create_app()
    async with client_for(app) as ac:
        answers = [await ac.get("dealTasktypes") for _ in range(6)]
    assert [r.status_code for r in answers[:5]] == [200] * 5
    assert answers[0].headers["RateLimit-Limit"] == "5"
    assert answers[4].headers["RateLimit-Remaining"] == "0"
    assert answers[5].status_code == 429
    assert answers[5].json() == {"message": "Too Many Requests"}
    assert int(answers[5].headers["Retry-After"]) >= 1


async def test_throttling_503_as_a_fault() -> None:
    app = create_app(rate_limit=False, faults=Faults(next=deque(["503"])))
    async with client_for(app) as ac:
        response = await ac.get("deals")
        assert response.status_code == 503
        assert response.json() == {"message": "Service Unavailable"}
        assert (await ac.get("deals")).status_code == 200


async def test_stage_change_writes_activity(ac: httpx.AsyncClient, app: Any) -> None:
    db = app.state.db
    deal = next(d for d in db.deals.values() if d["group"] == "1" and d["stage"] != "4")
    old = deal["stage"]
    response = await ac.put(f"deals/{deal['id']}", json={"deal": {"stage": "4"}})
    assert response.status_code == 200 and response.json()["deal"]["stage"] == "4"
    log = (await ac.get(f"deals/{deal['id']}/dealActivities")).json()["dealActivities"]
    newest = log[0]
    assert (newest["dataType"], newest["dataAction"]) == ("d_stageid", "update")
    assert (newest["d_stageid"], newest["dataOldval"]) == ("4", old)
    other = await ac.put(f"deals/{deal['id']}", json={"deal": {"stage": "8"}})
    assert other.status_code == 422


async def test_moving_a_stage_moves_its_deals(ac: httpx.AsyncClient, app: Any) -> None:
    db = app.state.db
    members = [d["id"] for d in db.deals.values() if d["stage"] == "2"]
    assert members
    response = await ac.put("dealStages/2/deals", json={"deal": {"stage": "5"}})
    assert response.status_code == 200
    assert all(db.deals[i]["stage"] == "5" for i in members)
    params = {"deal": members[0], "filters[data_type]": "d_stageid"}
    log = (await ac.get("dealActivities", params=params)).json()["dealActivities"]
    assert log[0]["dataOldval"] == "2" and log[0]["dataId"] == "5"
    wrong = await ac.put("dealStages/5/deals", json={"deal": {"stage": "9"}})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["title"] == "Target stage does not belong to same pipeline"


async def test_bulk_owner_update(ac: httpx.AsyncClient, app: Any) -> None:
    db = app.state.db
    deal = next(d for d in db.deals.values() if d["owner"] != "2")
    body = {"deals": [{"id": deal["id"], "ownerId": 2}, {"id": 99999, "ownerId": 2}]}
    result = (await ac.patch("deals/bulkUpdate", json=body)).json()
    assert result == {"success": [deal["id"]], "nochange": [], "failed": ["99999"]}
    assert db.deals[deal["id"]]["owner"] == "2"
    bad = await ac.patch("deals/bulkUpdate", json={"deals": [{"id": 1, "ownerId": 999}]})
    assert bad.status_code == 422


async def test_task_life_writes_activities(ac: httpx.AsyncClient, app: Any) -> None:
    body = {"dealTask": {"relid": 7, "dealTasktype": 1, "duedate": "2026-12-01T10:00:00-06:00"}}
    body["dealTask"]["title"] = "Call back"
    created = await ac.post("dealTasks", json=body)
    assert created.status_code == 201
    task = created.json()["dealTask"]
    assert task["status"] == "0"
    done = await ac.put(f"dealTasks/{task['id']}", json={"dealTask": {"status": 1}})
    assert done.json()["dealTask"]["donedate"]
    params = {"deal": "7", "filters[data_type]": "task", "filters[data_id]": task["id"]}
    log = (await ac.get("dealActivities", params=params)).json()["dealActivities"]
    assert [a["dataAction"] for a in log] == ["complete", "add"]
    missing = await ac.post("dealTasks", json={"dealTask": {"relid": 7}})
    assert missing.status_code == 400 and missing.json()["errors"]


async def test_task_filters_and_type_move(ac: httpx.AsyncClient, app: Any) -> None:
    params = {"filters[status]": 0, "Fitlers[due_before]": "2026-11-20", "limit": 100}
    overdue = (await ac.get("dealTasks", params=params)).json()["dealTasks"]
    assert overdue and all(t["status"] == 0 and t["duedate"] < "2026-11-20" for t in overdue)
    lunches = [t["id"] for t in app.state.db.tasks.values() if t["dealTasktype"] == "3"]
    moved = await ac.put("dealTasktypes/3/dealTasks", json={"dealTask": {"dealTasktype": 4}})
    assert moved.status_code == 200
    assert all(app.state.db.tasks[i]["dealTasktype"] == "4" for i in lunches)
    assert (await ac.delete("dealTasktypes/4")).status_code == 403
    assert (await ac.delete("dealTasktypes/3")).status_code == 200


async def test_activity_filters(ac: httpx.AsyncClient, app: Any) -> None:
    deal = next(a["deal"] for a in app.state.db.activities.values() if a["dataType"] == "email")
    every = (await ac.get("dealActivities", params={"deal": deal})).json()
    without = (await ac.get("dealActivities", params={"deal": deal, "exclude": "email"})).json()
    assert int(without["meta"]["total"]) < int(every["meta"]["total"])
    assert all(a["dataType"] != "email" for a in without["dealActivities"])
    stamps = [a["cdate"] for a in every["dealActivities"]]
    assert stamps == sorted(stamps, reverse=True)


async def test_secondary_contacts(ac: httpx.AsyncClient, app: Any) -> None:
    created = await ac.post("contactDeals", json={"contactDeal": {"contact": 3, "deal": 9}})
    assert created.status_code == 200
    assert created.json()["contactDeal"]["deal"] == "9"
    again = await ac.post("contactDeals", json={"contactDeal": {"contact": 3, "deal": 9}})
    assert again.status_code == 422 and again.json()["errors"][0]["code"] == "field_invalid"
    mine = (await ac.get("contacts/3/contactDeals")).json()["contactDeals"]
    assert any(r["deal"] == "9" for r in mine)
    assert (await ac.get("contacts/99999/deals")).status_code == 404


async def test_custom_field_data_bulk(ac: httpx.AsyncClient, app: Any) -> None:
    db = app.state.db
    fresh = next(
        d
        for d in db.deals
        if not any(r["dealId"] == d and r["customFieldId"] == "3" for r in db.cf_data.values())
    )
    items = [{"dealId": fresh, "customFieldId": 3, "fieldValue": "24"}]
    created = await ac.post("dealCustomFieldData/bulkCreate", json={"dealCustomFieldData": items})
    assert created.status_code == 200
    datum = created.json()["dealCustomFieldData"][0]
    update = {"dealCustomFieldData": [{"id": datum["id"], "fieldValue": "36"}]}
    assert (await ac.patch("dealCustomFieldData/bulkUpdate", json=update)).status_code == 200
    assert db.cf_data[datum["id"]]["fieldValue"] == "36"
    wrong = {"dealCustomFieldDatum": {"fieldValue": "Carrier pigeon"}}
    source = next(r for r in db.cf_data.values() if r["customFieldId"] == "2")
    bad = await ac.put(f"dealCustomFieldData/{source['id']}", json=wrong)
    assert bad.status_code == 422


async def test_pipelines_side_load_stages(ac: httpx.AsyncClient) -> None:
    body = (await ac.get("dealGroups", params={"orders[popular]": "DESC"})).json()
    assert body["dealGroups"][0]["title"] == "Sales Pipeline"
    assert {s["group"] for s in body["dealStages"]} == {"1", "2", "3"}
    created = await ac.post("dealGroups", json={"dealGroup": {"title": "Upsell"}})
    assert created.status_code == 200 and len(created.json()["dealStages"]) == 3
    assert (await ac.post("dealGroups", json={"dealGroup": {}})).status_code == 400


async def test_the_api_root_answers_a_connection_check(app: Any) -> None:
    """``GET /api/3/`` (AC's authentication example, a client's connection check): 200
    with a known key, the usual 403 without one; ``/users/me`` names the key's user."""
    async with client_for(app) as ac:
        for path in ("", "http://ac.localhost/api/3"):  # with and without the slash
            root = await ac.get(path)
            assert (root.status_code, root.json()) == (200, {})
        assert root.headers["RateLimit-Limit"] == "5"
        assert (await ac.get("users/me")).json()["user"]["id"] == "1"
        assert (await ac.post("")).status_code == 405
    async with client_for(app, headers={"Api-Token": "wrong"}) as stranger:
        refused = await stranger.get("")
        assert (refused.status_code, refused.json()) == (403, {"message": "Forbidden"})


async def test_a_deals_links_are_served(ac: httpx.AsyncClient, app: Any) -> None:
    """Each link a deal lists that the contract documents answers with what it names."""
    db = app.state.db
    deal = next(d for d in db.deals.values() if d["nexttaskid"] and d["contact"])
    links = (await ac.get(f"deals/{deal['id']}")).json()["deal"]["links"]
    documented = {p.rsplit("/", 1)[-1] for p in (e.path for e in app.state.contract.endpoints)}
    served = {name: url for name, url in links.items() if name in documented}
    assert {"tasks", "nextTask", "contact", "owner", "group", "stage"} <= set(served)
    bodies = {}
    for name, url in served.items():
        answer = await ac.get(f"http://ac.localhost{url}")  # links are paths from the root
        assert answer.status_code == 200, (name, answer.text)
        bodies[name] = answer.json()
    tasks = [t for t in db.tasks.values() if t["reltype"] == "Deal" and t["relid"] == deal["id"]]
    assert {t["id"] for t in bodies["tasks"]["dealTasks"]} == {t["id"] for t in tasks}
    assert bodies["tasks"]["meta"]["total"] == str(len(tasks))
    assert bodies["nextTask"]["dealTask"]["id"] == deal["nexttaskid"]
    assert bodies["contact"]["contact"]["id"] == deal["contact"]
    assert bodies["owner"]["user"]["id"] == deal["owner"]
    assert bodies["group"]["dealGroup"]["id"] == deal["group"]
    assert bodies["stage"]["dealStage"]["id"] == deal["stage"]
    values = bodies["dealCustomFieldData"]["dealCustomFieldData"]
    assert values and {v["dealId"] for v in values} == {deal["id"]}
    idle = next(d for d in db.deals.values() if not d["nexttaskid"])
    assert (await ac.get(f"deals/{idle['id']}/nextTask")).json() == {"dealTask": None}
    missing = await ac.get("deals/99999/tasks")
    assert missing.json() == {"message": "No Result found for Deal with id 99999"}


async def test_every_key_of_the_account_shares_its_rate_limit() -> None:
    app = create_app()
    app.state.db.tokens["second-user"] = "2"
    async with client_for(app) as first, client_for(app, {"Api-Token": "second-user"}) as second:
        assert (await second.get("users/me")).json()["user"]["id"] == "2"
        answers = [await first.get("dealTasktypes") for _ in range(4)]
        assert [a.status_code for a in answers] == [200] * 4
        refused = await second.get("dealTasktypes")
        assert refused.status_code == 429 and refused.json() == {"message": "Too Many Requests"}


async def test_paging_parameters_must_be_integers(ac: httpx.AsyncClient) -> None:
    for params in ({"limit": "ten"}, {"offset": "-1"}, {"limit": "0"}):
        bad = await ac.get("dealTasktypes", params=params)
        assert (bad.status_code, bad.json()) == (400, {"message": "Bad Request"}), params


async def test_the_expire_fault_refuses_the_next_request_once() -> None:
    app = create_app(rate_limit=False, faults=Faults(next=deque(["expire"])))
    async with client_for(app) as ac:
        refused = await ac.get("deals")
        assert (refused.status_code, refused.json()) == (403, {"message": "Forbidden"})
        assert (await ac.get("deals")).status_code == 200
