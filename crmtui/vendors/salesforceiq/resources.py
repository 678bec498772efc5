"""SalesforceIQ's fixed kinds, Accounts and Contacts: how their keys map, their tabs,
and the checked references they carry (``accountId``, ``contactIds``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from crmtui.model import KindInfo, Role
from crmtui.vendors.base import record_id

Json = dict[str, Any]
LIST_PREFIX = "list:"
# A create whose reply was lost is found among records modified this recently.
REPLAY_WINDOW = timedelta(minutes=15)
ACCOUNT_KEYS = {
    "address": "address",
    "address_city": "city",
    "address_state": "state",
    "address_postal_code": "postal_code",
    "address_country": "country",
}
CONTACT_KEYS = {  # neutral key -> contact property
    "name": "name",
    "email": "email",
    "phone": "phone",
    "job_title": "title",
    "company_name": "company",
    "address": "address",
    "linkedin": "liurl",
    "twitter": "twhan",
}
CONTACT_LABELS = {
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "job_title": "Title",
    "company_name": "Company",
    "address": "Address",
    "linkedin": "LinkedIn URL",
    "twitter": "Twitter",
}


NO_TIMELINE = (
    "SalesforceIQ's API has no tasks and cannot read the Stream: its events (calls, "
    "meetings, emails) can be logged but not read back. Shown here is what the API does "
    "give: list membership, modified dates and the events logged from crmtui (n logs one)."
)


def ref_id(value: Any) -> str | None:
    """A reference to another record (an account, a contact): checked as record ids are
    (``record_id``), so ``{"evil": 1}``, ``1.5`` or ``..`` is refused, never stored nor
    put into a request path; None for none."""
    if value is None or value == "":
        return None
    return record_id("SalesforceIQ", value, "reference to a record")


def ref_ids(values: Any) -> list[str]:
    """A list of references (``contactIds``), each checked; a non-list is refused."""
    if values is None:
        return []
    if not isinstance(values, list):
        return [record_id("SalesforceIQ", values, "list of references")]
    return [ref for value in values if (ref := ref_id(value)) is not None]


def primary_entry(entries: list[Json] | None) -> Json | None:
    entries = entries or []
    return next((e for e in entries if e.get("metadata", {}).get("primary") == "true"), None) or (
        entries[0] if entries else None
    )


def property_value(contact: Json, name: str) -> str | None:
    entry = primary_entry(contact.get("properties", {}).get(name))
    return str(entry["value"]) if entry else None


def account_key(meta: Json) -> str:
    """The key of an account field: a neutral key for the address parts and Industry,
    ``f_<fieldId>`` otherwise."""
    if meta["id"] in ACCOUNT_KEYS:
        return ACCOUNT_KEYS[meta["id"]]
    return "industry" if meta["name"].lower() == "industry" else f"f_{meta['id']}"


def fixed_kind_infos() -> list[KindInfo]:
    """The Accounts and Contacts tabs, after the lists'."""
    return [
        KindInfo(
            kind="company",
            label="Accounts",
            singular="Account",
            columns=["title", "city", "industry", "updated_at"],
            roles={Role.TITLE: "name"},
            editable=True,
            creatable=True,
            deletable=True,
            timeline_note=NO_TIMELINE,
        ),
        KindInfo(
            kind="contact",
            label="Contacts",
            singular="Contact",
            columns=["title", "email", "phone", "company_name", "job_title"],
            roles={Role.TITLE: "name"},
            editable=True,
            creatable=True,
            deletable=True,
            has_timeline=True,
        ),
    ]
