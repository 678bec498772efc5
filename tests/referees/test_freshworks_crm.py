"""A referee we did not write: ``python-freshworks-crm`` (a public client of the real
Freshsales API, package ``freshsales``) against our Freshsales sandbox over loopback.

It builds its own URLs (``https://{domain}/api`` + path, query strings by hand), its own
``Authorization: Token token=<key>`` header and its own reading of the bodies (records
under their wrapper, ``meta.total_pages``, ``filters``, errors by status). What crmtui
uses is exercised: views and lists, get, create and update of contacts, accounts, deals
and tasks, notes, activities, field settings and selectors.

Library bugs worked around (python-freshworks-crm 1.1.2), none of them the sandbox's:

- The API root is ``https://{domain}/api``, hard-coded: the loopback server speaks http,
  so the root is set on ``API._api_prefix`` after the client is made.
- ``list_contacts``/``list_deals``/``list_tasks`` add ``?page=N&per_page=M`` to a URL that
  already has a ``?`` (``/contacts/view/4?per_page=100?page=2...``) for every page after
  the first, and never send ``sort``/``sort_type``: only first pages are asked of it
  here (the second page goes through its ``_get`` with proper parameters).
- ``list_tasks`` sends no ``per_page`` on its first request (the doc's default, 25, holds).
- ``create_contact``/``create_deal``/``create_account``/``create_task`` post their keyword
  arguments as the body, unwrapped: the caller passes the documented wrapper
  (``contact={...}``) itself.
- ``delete_note`` expects ``{"success": "200"}``; the doc answers a deleted note with the
  note (``{"note": {...}}``), as the sandbox does, so it returns False on success.
- ``SalesActivityAPI.list_activities`` sends ``per_page={per_page}`` literally (not an
  f-string) and ``SelectorAPI.get_deal_pipeline_stages`` drops a ``/``: not used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from crmtui import sandbox
from crmtui.sandbox.serve import serving

freshsales = pytest.importorskip("freshsales.api")  # python-freshworks-crm (test extra)
errors = pytest.importorskip("freshsales.errors")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Any, Any]]:
    """(the library's client, the sandbox app) over a loopback server."""
    app = sandbox.create_app("freshsales", rate_limit=False)
    with serving(app) as origin:
        api = freshsales.API("sandbox.freshsales.io", api_key="sandbox")
        assert api._api_prefix == "https://sandbox.freshsales.io/api"  # its URL scheme
        api._api_prefix = f"{origin}/api"  # the loopback server is plain http
        yield api, app


def view_id(views: list[Any], name: str) -> int:
    return int(next(v.id for v in views if v.name == name))


def test_views_and_the_first_page_of_a_list(served: tuple[Any, Any]) -> None:
    api, app = served
    db = app.state.db
    views = api.contacts.list_views()
    assert {"All Contacts", "My Contacts"} <= {v.name for v in views}
    every = view_id(views, "All Contacts")
    first = api.contacts.list_contacts(every, page=1, per_page=100)  # one page (see above)
    assert len(first) == 100 and all(c.id in db.contacts for c in first)
    # the second page, with the parameters the library meant to send
    second = api._get(f"/contacts/view/{every}", params={"page": 2, "per_page": 100})
    assert second["meta"]["total"] == len(db.contacts)
    assert not {c["id"] for c in second["contacts"]} & {c.id for c in first}
    deals = api.deals.list_views()
    won = api.deals.list_deals(view_id(deals, "Won Deals"), page=1, per_page=100)
    assert won and all(d.id in db.deals for d in won)
    every_account = view_id(api.accounts.list_views(), "All Accounts")
    accounts = api.accounts.list_accounts(every_account, page=1, per_page=100)
    assert accounts and accounts[0].name


def test_a_contact_is_read_created_and_updated(served: tuple[Any, Any]) -> None:
    api, app = served
    db = app.state.db
    seeded = next(c for c in db.contacts.values() if c["email"])
    contact = api.contacts.view_contact(seeded["id"], "sales_accounts", "owner")
    assert (contact.id, contact.email) == (seeded["id"], seeded["email"])
    assert contact.updated_at is not None  # its dateutil parse of the documented stamp
    made = api.contacts.create_contact(
        contact={"first_name": "Referee", "last_name": "Freshworks", "email": "ref@fw.example"}
    )
    assert db.contacts[made.id]["email"] == "ref@fw.example"
    changed = api.contacts.update_contact(made.id, contact={"job_title": "Umpire"})
    assert changed.job_title == "Umpire" and db.contacts[made.id]["job_title"] == "Umpire"
    feed = api.contacts.list_activities(seeded["id"], include="user", limit=3)
    assert isinstance(feed, list) and len(feed) <= 3
    fields = api.contacts.list_fields()
    assert {"first_name", "last_name", "emails"} <= {f.name for f in fields}


def test_an_account_and_a_deal_are_read_created_and_updated(served: tuple[Any, Any]) -> None:
    api, app = served
    db = app.state.db
    account = api.accounts.create_account(sales_account={"name": "Referee Works"})
    assert db.sales_accounts[account.id]["name"] == "Referee Works"
    assert api.accounts.update_account(account.id, sales_account={"city": "Ghent"}).city == (
        "Ghent"
    )
    assert api.accounts.view_account(account.id, "owner").name == "Referee Works"
    deal = api.deals.create_deal(
        deal={"name": "Referee deal", "amount": "1200", "sales_account_id": account.id}
    )
    assert float(db.deals[deal.id]["amount"]) == 1200.0
    moved = api.deals.update_deal(deal.id, deal={"amount": "1500.5"})
    assert float(moved.amount) == 1500.5
    seen = api.deals.view_deal(deal.id, "owner", "sales_account", "contacts")
    assert seen.name == "Referee deal" and seen.sales_account_id == account.id
    assert {"name", "amount"} <= {f.name for f in api.deals.list_fields()}


def test_tasks_and_notes(served: tuple[Any, Any]) -> None:
    api, app = served
    db = app.state.db
    contact = next(iter(db.contacts))
    owner = next(iter(db.users))
    task = api.tasks.create_task(
        task={
            "title": "Referee call",
            "due_date": "2026-12-24T10:00:00Z",
            "targetable_type": "Contact",
            "targetable_id": contact,
            "owner_id": owner,
        }
    )
    assert db.tasks[task.id]["title"] == "Referee call"
    assert api.tasks.update_task(task.id, title="Referee call back").title == "Referee call back"
    assert api.tasks.mark_as_done(task.id).status == 1
    assert api.tasks.view_task(task.id)["task"].title == "Referee call back"
    # one page only (its later pages' URLs are malformed): a filter of at most 25 tasks
    due = api.tasks.list_tasks("due_tomorrow")
    assert 0 < len(due["tasks"]) == due["meta"]["total"] <= 25
    assert all(t.status == 0 for t in due["tasks"])
    note = api.notes.create_note(
        description="Referee note", targetable_type="Contact", targetable_id=contact
    )
    assert db.notes[note.id]["description"] == "Referee note"
    assert api.notes.update_note(note.id, description="Edited").description == "Edited"
    assert api.notes.delete_note(note.id) is False  # its bug (see above): the note is gone
    assert note.id not in db.notes


def test_selectors_and_documented_errors(served: tuple[Any, Any]) -> None:
    api, _ = served
    assert any(u.email for u in api.selectors.get_users())
    assert api.selectors.get_deal_stages() and api.selectors.get_currencies()
    pipelines = api.selectors.get_deal_pipelines()  # each with its stages nested
    assert pipelines and all(p.deal_stages for p in pipelines)
    with pytest.raises(errors.FreshsalesNotFound):
        api.contacts.view_contact(1)
    with pytest.raises(errors.FreshsalesBadRequest):
        api.contacts.create_contact(contact={"first_name": "No last name"})
    stranger = freshsales.API("sandbox.freshsales.io", api_key="not-the-key")
    stranger._api_prefix = api._api_prefix
    with pytest.raises(errors.FreshsalesUnauthorized):
        stranger.contacts.list_views()
