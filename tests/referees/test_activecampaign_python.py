"""A referee we did not write: ``activecampaign-python`` (a public client of the real
ActiveCampaign API v3, package ``activecampaign``) against our ActiveCampaign sandbox
over loopback.

It builds its own URLs (``<account URL>/api/3`` + path), its own ``Api-Token`` header and
reads bodies by their ``Content-Type``. What crmtui uses is exercised: deals (list with
filters and paging, get, create, update), deal notes, deal tasks (list, get, create,
update), deal activities, pipelines and stages, contacts, users, and the errors.

Library bugs worked around (activecampaign-python 1.0.10), none of them the sandbox's:

- ``Client._parse`` reads ``response.headers['Content-Type']`` unguarded: an answer
  without one (AC's deletes: 200 with an empty body) raises ``KeyError`` instead of
  returning. Deletes are sent through ``requests`` directly here.
- Errors are not raised: a 4xx comes back as its JSON body, so the tests look at the
  body (``errors``/``message``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from crmtui import sandbox
from crmtui.sandbox.serve import serving

client_module = pytest.importorskip("activecampaign.client")  # activecampaign-python
requests = pytest.importorskip("requests")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Any, Any, str]]:
    """(the library's client, the sandbox app, the account URL) over a loopback server."""
    app = sandbox.create_app("activecampaign", rate_limit=False)
    with serving(app) as origin:
        yield client_module.Client(origin, "sandbox"), app, origin


def test_deals_are_listed_filtered_and_paged(served: tuple[Any, Any, str]) -> None:
    ac, app, _ = served
    db = app.state.db
    first = ac.deals.list_all_deals(limit=100, offset=0)
    assert int(str(first["meta"]["total"])) == len(db.deals)
    assert len(first["deals"]) == min(100, len(db.deals))
    rest = ac.deals.list_all_deals(limit=100, offset=100)
    ids = [d["id"] for d in first["deals"] + rest["deals"]]
    assert len(set(ids)) == len(ids) == min(200, len(db.deals))
    group = next(iter(db.groups))
    mine = ac.deals.list_all_deals(**{"filters[group]": group, "limit": 100})
    assert mine["deals"] and {d["group"] for d in mine["deals"]} == {str(group)}
    pipelines = ac.deals.list_all_pipelines()
    assert {str(g) for g in db.groups} == {p["id"] for p in pipelines["dealGroups"]}
    stages = ac.deals.list_all_stages(**{"filters[d_groupid]": group})
    assert stages["dealStages"] and {s["group"] for s in stages["dealStages"]} == {str(group)}


def test_a_deal_is_read_created_and_updated(served: tuple[Any, Any, str]) -> None:
    ac, app, _ = served
    db = app.state.db
    seeded = next(iter(db.deals.values()))
    got = ac.deals.retrieve_a_deal(seeded["id"])
    assert got["deal"]["id"] == str(seeded["id"]) and got["deal"]["title"] == seeded["title"]
    contact = next(iter(db.contacts))
    group = next(iter(db.groups))
    made = ac.deals.create_a_deal(
        {
            "deal": {
                "title": "Referee deal",
                "value": 120000,
                "currency": "usd",
                "contact": contact,
                "group": group,
            }
        }
    )
    deal_id = made["deal"]["id"]
    assert db.deals[deal_id]["title"] == "Referee deal"
    changed = ac.deals.update_a_deal(deal_id, {"deal": {"title": "Referee deal, renamed"}})
    assert changed["deal"]["title"] == "Referee deal, renamed"
    note = ac.deals.create_a_deal_note(deal_id, {"note": {"note": "Referee note"}})
    note_id = note["note"]["id"]
    edited = ac.deals.update_a_deal_note(deal_id, note_id, {"note": {"note": "Edited"}})
    assert edited["note"]["note"] == "Edited"
    assert ac.notes.retrieve_a_note(note_id)["note"]["note"] == "Edited"
    feed = ac.dealActivities.list_all_deal_activities(deal=deal_id)
    entries = feed["dealActivities"]
    assert entries and all(e["deal"] == str(deal_id) for e in entries)
    # dataId is an object's id (an integer in text), never a value such as a title
    assert all(str(e["dataId"]).isdigit() for e in entries if e.get("dataId") not in (None, ""))


def test_deal_tasks(served: tuple[Any, Any, str]) -> None:
    ac, app, origin = served
    db = app.state.db
    deal = next(iter(db.deals))
    kind = next(iter(db.tasktypes))
    made = ac.tasks.create_a_task(
        {
            "dealTask": {
                "title": "Referee call",
                "ownerType": "deal",
                "relid": deal,
                "duedate": "2026-12-24T10:00:00-06:00",
                "dealTasktype": kind,
            }
        }
    )
    task_id = made["dealTask"]["id"]
    assert db.tasks[task_id]["title"] == "Referee call"
    done = ac.tasks.update_a_task(task_id, {"dealTask": {"status": 1}})
    assert str(done["dealTask"]["status"]) == "1"
    assert ac.tasks.retrieve_a_task(task_id)["dealTask"]["title"] == "Referee call"
    listed = ac.tasks.list_all_tasks(**{"filters[relid]": deal, "limit": 100})
    assert task_id in {t["id"] for t in listed["dealTasks"]}
    gone = requests.delete(f"{origin}/api/3/dealTasks/{task_id}", headers={"Api-Token": "sandbox"})
    assert gone.status_code == 200 and task_id not in db.tasks


def test_contacts_users_and_errors(served: tuple[Any, Any, str]) -> None:
    ac, app, origin = served
    db = app.state.db
    contacts = ac.contacts.list_all_contacts(limit=5)
    assert len(contacts["contacts"]) == 5
    one = contacts["contacts"][0]
    assert ac.contacts.retrieve_a_contact(one["id"])["contact"]["email"] == one["email"]
    assert ac.users.retrieve_logged_in_user()["user"]["id"]  # the connection check
    assert {u["id"] for u in ac.users.list_all_users()["users"]} == {str(u) for u in db.users}
    missing = ac.deals.retrieve_a_deal(999999)
    assert "No Result found" in missing["message"]
    refused = ac.deals.create_a_deal({"deal": {"title": ""}})
    assert {e["code"] for e in refused["errors"]} >= {"field_missing"}
    stranger = client_module.Client(origin, "not-the-key")
    assert stranger.deals.list_all_deals() == {"message": "Forbidden"}


def test_secondary_contacts_carry_the_fields_connectors_read(served: tuple[Any, Any, str]) -> None:
    """A contactDeal as public connectors' schemas have it (singer-io/tap-activecampaign:
    integer ids, ``cdate``, ``created_timestamp``/``updated_timestamp``, ``created_by``/
    ``updated_by``; no ``udate``), read through the library's own request."""
    ac, _, _ = served
    rows = ac._get("/contactDeals", params={"limit": 5})["contactDeals"]
    assert rows
    for row in rows:
        assert {"id", "deal", "contact", "cdate", "created_timestamp", "updated_timestamp"} <= set(
            row
        )
        assert "udate" not in row
        assert all(str(row[k]).isdigit() for k in ("id", "deal", "contact", "created_by"))
