"""How the Freshsales sandbox shows its rows: record bodies, ``include=`` side-loading, and
the per-record activities feed."""

from __future__ import annotations

from typing import Any

from crmtui.sandbox.freshsales.data import (
    ACTIVITY_TYPE,
    BUSINESS_TYPES,
    CAMPAIGNS,
    CONTACT_STATUSES,
    CURRENCIES,
    DEAL_PRODUCTS,
    DEAL_REASONS,
    DEAL_STAGES,
    DEAL_TYPES,
    INDUSTRY_TYPES,
    KIND_TARGET,
    LEAD_REASONS,
    LEAD_SOURCES,
    LEAD_STAGES,
    OUTCOME,
    PIPELINES,
    TARGET_KIND,
    TERRITORIES,
    Db,
    Row,
)
from crmtui.sandbox.freshsales.data import (
    PAYMENT_STATUSES as DEAL_PAYMENT_STATUSES,
)

LINKED = ("leads", "contacts", "sales_accounts")  # records whose body carries ``links``


def public(row: Row) -> Row:
    """A stored row without the sandbox's own ``_`` keys."""
    return {k: v for k, v in row.items() if not k.startswith("_")}


def user_brief(user: Row) -> Row:
    keys = ("id", "display_name", "email", "avatar", "is_active", "type")
    return {k: user[k] for k in keys}


def record(kind: str, row: Row) -> Row:
    """A lead/contact/account/deal body as the view, create and update APIs return it."""
    out = public(row)
    if kind in LINKED:
        out["links"] = {
            "conversations": f"/{kind}/{row['id']}/conversations?include=email_conversation_recipients"
            "%2Ctargetable%2Cphone_number%2Cphone_caller%2Cnote%2Cuser&per_page=3",
            "activities": f"/{kind}/{row['id']}/activities",
        }
    return out


def target_name(db: Db, type_: str | None, id_: int | None) -> str | None:
    row = db.target(type_ or "", id_ or 0)
    if row is None:
        return None
    return row.get("display_name") or row.get("name")


def target_brief(db: Db, type_: str, id_: int) -> Row | None:
    """What ``include=targetable`` side-loads: id, avatar and display name (accounts: name)."""
    row = db.target(type_, id_)
    if row is None:
        return None
    if type_ == "SalesAccount":
        return {"id": row["id"], "avatar": row.get("avatar"), "name": row["name"]}
    if type_ == "Deal":
        return {"id": row["id"], "name": row["name"]}
    return {"id": row["id"], "avatar": row.get("avatar"), "display_name": row["display_name"]}


def appointment(row: Row) -> Row:
    out = public(row)
    out["appointment_attendee_ids"] = [a["id"] for a in row["_attendees"]]
    out["targetable"] = _targetable(row)
    return out


def _targetable(row: Row) -> Row | None:
    if not row.get("targetable_type"):
        return None
    return {"type": row["targetable_type"].lower(), "id": row["targetable_id"]}


# -- include= ------------------------------------------------------------------------------

USER_HANDLES = {"owner": "owner_id", "creater": "creater_id", "updater": "updater_id"}
CHOICE_HANDLES: dict[str, tuple[str, str, list[Row]]] = {
    "source": ("lead_sources", "lead_source_id", LEAD_SOURCES),
    "lead_stage": ("lead_stages", "lead_stage_id", LEAD_STAGES),
    "lead_reason": ("lead_reasons", "lead_reason_id", LEAD_REASONS),
    "territory": ("territories", "territory_id", TERRITORIES),
    "campaign": ("campaigns", "campaign_id", CAMPAIGNS),
    "contact_status": ("contact_statuses", "contact_status_id", CONTACT_STATUSES),
    "deal_stage": ("deal_stages", "deal_stage_id", DEAL_STAGES),
    "deal_pipeline": ("deal_pipelines", "deal_pipeline_id", PIPELINES),
    "deal_type": ("deal_types", "deal_type_id", DEAL_TYPES),
    "deal_reason": ("deal_reasons", "deal_reason_id", DEAL_REASONS),
    "deal_payment_status": (
        "deal_payment_statuses",
        "deal_payment_status_id",
        DEAL_PAYMENT_STATUSES,
    ),
    "deal_product": ("deal_products", "deal_product_id", DEAL_PRODUCTS),
    "currency": ("currencies", "currency_id", CURRENCIES),
    "industry_type": ("industry_types", "industry_type_id", INDUSTRY_TYPES),
    "business_type": ("business_types", "business_type_id", BUSINESS_TYPES),
}
TIMELINE_HANDLES = {
    "tasks": ("tasks", "task_ids"),
    "appointments": ("appointments", "appointment_ids"),
    "notes": ("notes", "note_ids"),
    "sales_activities": ("sales_activities", "sales_activity_ids"),
}
_CHOICE_INDEX = {
    handle: {r["id"]: r for r in rows} for handle, (_, _, rows) in CHOICE_HANDLES.items()
}


def includes(request_include: str | None) -> list[str]:
    return [part.strip() for part in (request_include or "").split(",") if part.strip()]


class Sideload:
    """Collects the arrays that ``include=`` puts beside the record(s), without repeats."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self.arrays: dict[str, dict[Any, Row]] = {}

    def add(self, key: str, row: Row | None) -> None:
        if row is not None:
            self.arrays.setdefault(key, {}).setdefault(row["id"], row)

    def user(self, user_id: int | None) -> None:
        user = self.db.users.get(user_id or 0)
        if user:
            self.add("users", user_brief(user))

    def record(self, kind: str, body: Row, row: Row, handles: list[str]) -> None:
        """Apply ``handles`` to one lead/contact/account/deal ``body`` (``row`` is stored)."""
        db = self.db
        type_ = KIND_TARGET[kind]
        for handle in handles:
            if handle in USER_HANDLES:
                self.user(row.get(USER_HANDLES[handle]))
            elif handle in CHOICE_HANDLES:
                key, attr, _ = CHOICE_HANDLES[handle]
                self.add(key, _CHOICE_INDEX[handle].get(row.get(attr)))
            elif handle in TIMELINE_HANDLES:
                table, ids_key = TIMELINE_HANDLES[handle]
                items = sorted(db.items(type_, row["id"], table), key=lambda r: r["id"])
                body[ids_key] = [item["id"] for item in items]
                for item in items:
                    self.add(table, public(item))
            elif handle == "sales_accounts" and kind == "contacts":
                body["sales_accounts"] = contact_accounts(db, row)
            elif handle == "sales_account":
                account_id = row.get("sales_account_id")
                account = db.sales_accounts.get(account_id or 0)
                if account:
                    self.add("sales_accounts", record("sales_accounts", account))
            elif handle == "contacts":
                ids = (
                    row["contact_ids"]
                    if kind == "deals"
                    else sorted(db.contacts_by_account[row["id"]])
                )
                body["contact_ids"] = [i for i in ids if i in db.contacts]
                for contact_id in body["contact_ids"]:
                    self.add("contacts", record("contacts", db.contacts[contact_id]))
            elif handle == "deals" and kind in ("contacts", "sales_accounts"):
                index = db.deals_by_contact if kind == "contacts" else db.deals_by_account
                body["deal_ids"] = sorted(i for i in index[row["id"]] if i in db.deals)
                for deal_id in body["deal_ids"]:
                    self.add("deals", record("deals", db.deals[deal_id]))
            elif handle == "products" and kind == "deals":  # CPQ's line items
                body["has_products"] = bool(row.get("_products"))
                body["products"] = line_items(
                    db, row, "deal_id", "_id", (*PRODUCT_KEYS, "category")
                )
            elif handle == "child_sales_accounts" and kind == "sales_accounts":
                children = [
                    a
                    for a in db.sales_accounts.values()
                    if a["parent_sales_account_id"] == row["id"]
                ]
                body["child_sales_account_ids"] = [a["id"] for a in children]
                for child in children:
                    self.add("child_sales_accounts", record("sales_accounts", child))

    def targetable(self, body: Row, row: Row) -> None:
        """``include=targetable`` on a task or appointment."""
        body["targetable"] = _targetable(row)
        brief = target_brief(self.db, row["targetable_type"], row["targetable_id"])
        if brief is not None:
            self.add(TARGET_KIND[row["targetable_type"]], brief)

    def attendees(self, row: Row) -> None:
        """An appointment's attendees and the users/leads/contacts they are."""
        for attendee in row["_attendees"]:
            self.add("appointment_attendees", attendee)
            kind, id_ = attendee["attendee"]["type"], attendee["attendee"]["id"]
            if kind == "user":
                user = self.db.users.get(id_)
                if user:
                    self.add("users", {**user_brief(user), "type": "FdMultitenant::User"})
            else:
                brief = target_brief(self.db, kind.capitalize(), id_)
                if brief is not None:
                    self.add(f"{kind}s", {**brief, "type": kind.capitalize()})

    def out(self) -> dict[str, list[Row]]:
        return {key: list(rows.values()) for key, rows in self.arrays.items()}


PRODUCT_KEYS = ("name", "pricing_type", "avatar", "owner_id")


def line_items(
    db: Db, row: Row, owner: str, item: str, keys: tuple[str, ...] = PRODUCT_KEYS
) -> list[Row]:
    """A deal's or a CPQ document's line items as ``include=products`` shows them (the
    seed's samples): the line, its record's id as ``owner`` (``deal_id``,
    ``cpq_document_id``), ``item`` (``_id``, ``item_id``) ``"<record>-<product>"``, ``id``
    the product's, and the product's ``keys`` as they are now (its name, pricing type,
    avatar and owner; a deal's lines its category too)."""
    out = []
    for line in row.get("_products") or []:
        product = db.products.get(line["product_id"]) or {}
        out.append(
            {
                **line,
                owner: row["id"],
                item: f"{row['id']}-{line['product_id']}",
                "id": line["product_id"],
                **{key: product.get(key) for key in keys},
            }
        )
    return out


def contact_accounts(db: Db, row: Row) -> list[Row]:
    out = []
    for link in row["_accounts"]:
        account = db.sales_accounts.get(link["id"])
        if account:
            out.append(
                {
                    "avatar": account.get("avatar"),
                    "id": account["id"],
                    "is_primary": link["is_primary"],
                    "name": account["name"],
                    "partial": True,
                    "website": account.get("website"),
                }
            )
    return out


# -- the activities feed -------------------------------------------------------------------


def activities(db: Db, kind: str, row: Row) -> list[Row]:
    """``/api/<kind>/<id>/activities``: the record's feed, newest first.

    A contact's and an account's feed also carry their deals' entries (as the doc's
    sample shows a deal's STAGE_CHANGE in a contact's feed).
    """
    type_ = KIND_TARGET[kind]
    targets = [(type_, row["id"])]
    if kind == "contacts":
        targets += [("Deal", d) for d in sorted(db.deals_by_contact[row["id"]])]
    elif kind == "sales_accounts":
        targets += [("Deal", d) for d in sorted(db.deals_by_account[row["id"]])]
    feed: list[Row] = []
    for target_type, target_id in targets:
        name = target_name(db, target_type, target_id)
        for item_kind in ("notes", "tasks", "appointments", "sales_activities", "events"):
            for item in db.items(target_type, target_id, item_kind):
                feed.extend(_entries(item_kind, item, name))
    feed.sort(key=lambda e: (e["created_at"], e["composite_id"]), reverse=True)
    return feed


def _entry(
    action: str,
    item: Row,
    when: str,
    data: Any,
    actionable: str | None,
    user: int | None,
    name: str | None,
) -> Row:
    return {
        "composite_id": f"{item['id']}_{action}",
        "action_data": data,
        "action_type": action,
        "created_at": when,
        "user_activity": user is not None,
        "targetable_type": item["targetable_type"],
        "targetable_id": item["targetable_id"],
        "actionable_type": actionable,
        "actionable_id": item["id"] if actionable else None,
        "targetable_name": name,
        "user_id": user,
    }


def _entries(kind: str, item: Row, name: str | None) -> list[Row]:
    if kind == "events":
        entry = {k: v for k, v in public(item).items() if k != "id"}
        return [
            {
                "composite_id": f"{item['id']}_{item['action_type']}",
                **entry,
                "targetable_name": name,
            }
        ]
    if kind == "notes":
        data = {"note_id": item["id"], "description": item["description"]}
        return [
            _entry("NOTE_CREATED", item, item["created_at"], data, "Note", item["creater_id"], name)
        ]
    if kind == "tasks":
        data = {
            "title": item["title"],
            "description": item["description"],
            "due_date": item["due_date"],
        }
        out = [
            _entry("TASK_CREATED", item, item["created_at"], data, "Task", item["creater_id"], name)
        ]
        if item["status"] == 1 and item.get("completed_date"):
            done = {**data, "outcome_id": item.get("outcome_id")}
            out.append(
                _entry(
                    "TASK_COMPLETED",
                    item,
                    item["completed_date"],
                    done,
                    "Task",
                    item["owner_id"],
                    name,
                )
            )
        return out
    if kind == "appointments":
        keys = ("description", "end_date", "from_date", "time_zone", "title", "location")
        data = {k: item.get(k) for k in keys}
        return [
            _entry(
                "APPOINTMENT_CREATED",
                item,
                item["created_at"],
                data,
                "Appointment",
                item["creater_id"],
                name,
            )
        ]
    activity_type = ACTIVITY_TYPE.get(item["sales_activity_type_id"], {})
    outcome = OUTCOME.get(item.get("sales_activity_outcome_id") or 0, {})
    data = {
        "title": item["title"],
        "notes": item["notes"],
        "sales_activity_type_id": item["sales_activity_type_id"],
        "sales_activity_type_name": activity_type.get("name"),
        "sales_activity_outcome_id": item.get("sales_activity_outcome_id"),
        "outcome_name": outcome.get("name"),
        "start_date": item["start_date"],
        "end_date": item["end_date"],
    }
    return [
        _entry(
            "SALES_ACTIVITY_CREATED",
            item,
            item["created_at"],
            data,
            "SalesActivity",
            item["owner_id"],
            name,
        )
    ]
