"""Reading Freshsales replies: names, titles, side-loaded records, related records, stages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmtui.model import Kind, RelatedRef
from crmtui.vendors.freshsales.resources import FsResource, resource_of, target
from crmtui.vendors.freshsales.resources import ref_id as ref_id
from crmtui.vendors.mapping import Json

_STAGE_STATUS = {"won": "won", "lost": "lost", "closed won": "won", "closed lost": "lost"}


def name(item: Mapping[str, Any] | None) -> str:
    """What Freshsales would show for an object (a record, a user, a stage...)."""
    if not item:
        return ""
    for key in ("display_name", "name", "value", "currency_code", "title"):
        if item.get(key):
            return str(item[key])
    first_last = f"{item.get('first_name') or ''} {item.get('last_name') or ''}".strip()
    return first_last or str(item.get("email") or item.get("id", ""))


def title(resource: FsResource, item: Json) -> str:
    if resource.kind == Kind.TASK:
        return str(item.get("title") or f"Task {item['id']}")
    return name(item) or f"{resource.singular} {item['id']}"


def items(body: Any) -> list[Json]:
    """The list in a selector-like reply: the body itself or its first list value."""
    if isinstance(body, list):
        return [i for i in body if isinstance(i, dict)]
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, list):
                return [i for i in value if isinstance(i, dict)]
    return []


def by_id(found: Any) -> dict[str, Json]:
    return {str(i["id"]): i for i in found or [] if isinstance(i, dict) and "id" in i}


def stage_status(stage: Json | None) -> str | None:
    """open / won / lost, from a deal stage's forecast type (or its name)."""
    if stage is None:
        return None
    forecast = str(stage.get("forecast_type") or stage.get("name") or "").strip().lower()
    return _STAGE_STATUS.get(forecast, "open")


def stage_color(stage: Json) -> str | None:
    return {"won": "green", "lost": "red"}.get(stage_status(stage) or "")


def refs(kind: str, found: Any) -> list[RelatedRef]:
    return [
        RelatedRef(kind=kind, id=ref_id(i["id"]), title=name(i))
        for i in found or []
        if isinstance(i, dict) and i.get("id") is not None
    ]


def embedded_list(item: Json, body: Json, key: str, ids_key: str) -> list[Json]:
    """Side-loaded records: nested in the item, or top level (filtered by the item's ids)."""
    nested = item.get(key)
    if isinstance(nested, list):
        return nested
    if isinstance(nested, dict):
        return [nested]
    top = body.get(key)
    if not isinstance(top, list):
        return []
    ids = item.get(ids_key)
    if isinstance(ids, list):
        wanted = {str(i) for i in ids}
        return [t for t in top if isinstance(t, dict) and str(t.get("id")) in wanted]
    return top


def related(resource: FsResource, item: Json, body: Json) -> dict[str, list[RelatedRef]]:
    found: dict[str, list[RelatedRef]] = {}
    if resource.kind == Kind.DEAL:
        found["Contacts"] = refs(Kind.CONTACT, embedded_list(item, body, "contacts", "contact_ids"))
        accounts = embedded_list(item, body, "sales_account", "sales_account_id")
        accounts = accounts or embedded_list(item, body, "sales_accounts", "sales_account_ids")
        wanted = item.get("sales_account_id")
        if wanted is not None:
            accounts = [a for a in accounts if str(a.get("id")) == str(wanted)] or accounts
        found["Account"] = refs(Kind.COMPANY, accounts[:1])
    elif resource.kind == Kind.COMPANY:
        found["Contacts"] = refs(Kind.CONTACT, embedded_list(item, body, "contacts", "contact_ids"))
        found["Deals"] = refs(Kind.DEAL, embedded_list(item, body, "deals", "deal_ids"))
    elif resource.kind == Kind.CONTACT:
        accounts = embedded_list(item, body, "sales_accounts", "sales_account_ids")
        accounts = sorted(accounts, key=lambda a: not a.get("is_primary"))
        found["Accounts"] = refs(Kind.COMPANY, accounts)
        found["Deals"] = refs(Kind.DEAL, embedded_list(item, body, "deals", "deal_ids"))
    elif resource.kind == Kind.TASK:
        kind, tid = target(item)
        if kind is not None and tid is not None:
            other = resource_of(kind)
            record = by_id(body.get(other.path)).get(tid) or {"id": tid}
            shown = name(record) if len(record) > 1 else f"{other.singular} {tid}"
            found[other.singular] = [RelatedRef(kind=kind, id=tid, title=shown)]
    return {label: refs for label, refs in found.items() if refs}


def owner_ref(item: Json, body: Json) -> RelatedRef | None:
    owner_id = item.get("owner_id")
    owner = item.get("owner") if isinstance(item.get("owner"), dict) else None
    if owner is None and owner_id is not None:
        owner = by_id(body.get("users")).get(str(owner_id))
    if owner is None:
        return None
    return RelatedRef(kind=Kind.USER, id=ref_id(owner.get("id", owner_id)), title=name(owner))
