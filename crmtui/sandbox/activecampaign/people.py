"""Secondary contacts (``/contactDeals``), deal roles (``/dealRoles``) and the minimal
users, contacts and accounts (public v3, outside the seed) that deals point at."""

from __future__ import annotations

from typing import Any

from crmtui.sandbox.activecampaign.common import (
    AcCall,
    Problem,
    as_int,
    check,
    contains,
    empty,
    filter_time,
    int_text,
    listing,
    not_found,
    ordered,
    when,
    with_links,
)
from crmtui.sandbox.activecampaign.data import Db, Row, add_contact_deal, plain_stamp, stamp
from crmtui.sandbox.activecampaign.deals import find_deal, render_deal


def _by_id(rows: Any) -> list[Row]:
    return sorted(rows, key=lambda r: int(r["id"]))


# -- /contactDeals ------------------------------------------------------------------------


def render_contact_deal(row: Row) -> Row:
    return with_links(row, "contactDeals", ("deal", "contact", "role"))


def _contact_deal(db: Db, id: str) -> Row:
    row = db.contact_deals.get(id)
    if row is None:
        raise not_found("SubscriberDeal", id)
    return row


async def list_contact_deals(c: AcCall) -> Any:
    page, total = c.page(_by_id(c.db.contact_deals.values()))
    return listing("contactDeals", [render_contact_deal(r) for r in page], total)


def _role_problem(db: Db, body: dict[str, Any]) -> list[Problem]:
    role = body.get("role")
    if role not in (None, "") and int_text(role) not in db.roles:
        return [Problem("The contactDeal role was not found.", "related_missing", "role")]
    return []


async def create_contact_deal(c: AcCall) -> Any:
    body = await c.body("contactDeal")
    db, problems = c.db, []
    for name, table in (("contact", db.contacts), ("deal", db.deals)):
        if body.get(name) in (None, ""):
            title = f"The contactDeal {name} was not provided."
            problems.append(Problem(title, "field_missing", name))
        elif int_text(body[name]) not in table:
            problems.append(Problem(f"The {name} was not found.", "related_missing", name))
    problems.extend(_role_problem(db, body))
    check(problems)
    contact, deal = str(int_text(body["contact"])), str(int_text(body["deal"]))
    if any(r["contact"] == contact and r["deal"] == deal for r in db.contact_deals.values()):
        title = "The contact is already a secondary contact of this deal."
        check([Problem(title, "field_invalid", "contact")])
    row = add_contact_deal(db, deal, contact, int_text(body.get("role")), c.now, str(c.user))
    db.deals[deal]["mdate"] = stamp(c.now)
    return {"deals": [render_deal(db.deals[deal])], "contactDeal": render_contact_deal(row)}


async def get_contact_deal(c: AcCall) -> Any:
    return {"contactDeal": render_contact_deal(_contact_deal(c.db, c.id))}


async def update_contact_deal(c: AcCall) -> Any:
    row = _contact_deal(c.db, c.id)
    body = await c.body("contactDeal")
    check(_role_problem(c.db, body))
    if "role" in body:
        row["role"] = int_text(body["role"])
    row.update(updated_timestamp=plain_stamp(c.now), updated_by=str(c.user))
    return {"contactDeal": render_contact_deal(row)}


async def delete_contact_deal(c: AcCall) -> Any:
    row = _contact_deal(c.db, c.id)
    del c.db.contact_deals[row["id"]]
    return empty()


async def contact_deals_of_contact(c: AcCall) -> Any:
    """``GET /contacts/{id}/contactDeals``."""
    if c.id not in c.db.contacts:
        raise not_found("Subscriber", c.id)
    rows = _by_id(r for r in c.db.contact_deals.values() if r["contact"] == c.id)
    page, total = c.page(rows)
    return listing("contactDeals", [render_contact_deal(r) for r in page], total)


async def contact_deals_of_deal(c: AcCall) -> Any:
    """``GET /deals/{id}/contactDeals`` (the deal's ``links``), with the contacts."""
    find_deal(c.db, c.id)
    rows = _by_id(r for r in c.db.contact_deals.values() if r["deal"] == c.id)
    page, total = c.page(rows)
    contacts = [render_contact(c.db.contacts[r["contact"]]) for r in page]
    return listing("contactDeals", [render_contact_deal(r) for r in page], total, contacts=contacts)


# -- /dealRoles ---------------------------------------------------------------------------


async def list_roles(c: AcCall) -> Any:
    rows = _by_id(c.db.roles.values())
    if c.param("search"):
        hit = contains(c.param("search") or "")
        rows = [r for r in rows if hit(r["title"])]
    page, total = c.page(rows)
    return listing("dealRoles", page, total)


async def create_role(c: AcCall) -> Any:
    title = str((await c.body("dealRole")).get("title") or "").strip()
    check(
        [] if title else [Problem("The role title was not provided.", "field_missing", "title")],
        400,
    )
    rid = c.db.next_id("roles")
    row = {"id": rid, "title": title}
    row.update(created_timestamp=plain_stamp(c.now), updated_timestamp=plain_stamp(c.now))
    c.db.roles[rid] = row
    return {"dealRole": row}


async def delete_role(c: AcCall) -> Any:
    if c.id not in c.db.roles:
        raise not_found("DealRole", c.id)
    del c.db.roles[c.id]
    return empty()


# -- users, contacts, accounts (read-only extensions) ---------------------------------------


def render_user(row: Row) -> Row:
    return with_links(row, "users", ("lists", "userGroup", "dealGroupTotals", "configs"))


def render_contact(row: Row) -> Row:
    return with_links(row, "contacts", ("contactDeals", "deals", "notes", "organization"))


async def list_users(c: AcCall) -> Any:
    page, total = c.page(_by_id(c.db.users.values()))
    return listing("users", [render_user(u) for u in page], total)


def _user(db: Db, uid: str) -> Row:
    if uid not in db.users:
        raise not_found("User", uid)
    return render_user(db.users[uid])


async def get_user(c: AcCall) -> Any:
    return {"user": _user(c.db, c.id)}


async def get_me(c: AcCall) -> Any:
    """``GET /users/me``: the user the ``Api-Token`` belongs to (the connection check)."""
    return {"user": _user(c.db, c.user)}


async def list_contacts(c: AcCall) -> Any:
    """``search`` (name or email), ``email``, ``filters[updated_after]`` (``udate`` at or
    after it, as the deals' ``updated_after``), ``id_greater`` and ``orders[id]``; id order."""
    rows = _by_id(c.db.contacts.values())
    if c.param("email"):
        rows = [r for r in rows if r["email"].lower() == (c.param("email") or "").lower()]
    if c.param("search"):
        hit = contains(c.param("search") or "")
        rows = [r for r in rows if hit(f"{r['firstName']} {r['lastName']} {r['email']}")]
    since = c.filters().get("updated_after")
    if since:
        bound = filter_time(since)
        rows = [r for r in rows if when(r["udate"]) >= bound]
    if c.param("id_greater"):
        after = as_int(c.param("id_greater"))
        rows = [r for r in rows if int(r["id"]) > after]
    rows = ordered(rows, c.orders(), {"id": lambda r: int(r["id"])})
    page, total = c.page(rows)
    return listing("contacts", [render_contact(r) for r in page], total)


async def get_contact(c: AcCall) -> Any:
    row = c.db.contacts.get(c.id)
    if row is None:
        raise not_found("Subscriber", c.id)
    return {"contact": render_contact(row)}


async def list_accounts(c: AcCall) -> Any:
    """``search`` and ``filters[name]`` (the name contains it, ignoring case), id order."""
    rows = _by_id(c.db.accounts.values())
    for text in (c.param("search"), c.filters().get("name")):
        if text:
            hit = contains(text)
            rows = [r for r in rows if hit(r["name"])]
    page, total = c.page(rows)
    return listing("accounts", page, total)


async def get_account(c: AcCall) -> Any:
    row = c.db.accounts.get(c.id)
    if row is None:
        raise not_found("Account", c.id)
    return {"account": row}
