"""SalesforceIQ's fixed kinds, Accounts and Contacts: how their keys map, their tabs,
and the checked references they carry (``accountId``, ``contactIds``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from crmtui.http import Rejected
from crmtui.model import FieldSpec, KindInfo, Role
from crmtui.vendors.mapping import Codec, Context, Field, Resource, UserShape, record_id

Json = dict[str, Any]
LIST_PREFIX = "list:"
# A user as ``GET /users/{id}`` answers it (name, email; no role)
USERS = UserShape(name="name", email="email")
# A create whose reply was lost is found among records modified this recently.
REPLAY_WINDOW = timedelta(minutes=15)
ACCOUNT_KEYS = {
    "address": "address",
    "address_city": "city",
    "address_state": "state",
    "address_postal_code": "postal_code",
    "address_country": "country",
}


# The web app and each kind's page in it (``Vendor.web_root``/``web_page``). A convention
# crmtui chose, not documented: SalesforceIQ's help names no record address (the product
# is retired); the pages mirror the API's own paths. A list item's page names its list.
WEB_APP = "https://app.salesforceiq.com/"
WEB_PAGES = {"company": "#/accounts/{id}", "contact": "#/contacts/{id}"}
LIST_ITEM_PAGE = "#/lists/{list}/listitems/{id}"


def web_page(kind: str) -> str:
    """The template of a ``kind`` record's page under ``WEB_APP``, "" for none."""
    if kind.startswith(LIST_PREFIX):
        return LIST_ITEM_PAGE.replace("{list}", quote(kind.removeprefix(LIST_PREFIX), safe=""))
    return WEB_PAGES.get(kind, "")


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


def property_value(contact: Mapping[str, Any], name: str) -> str | None:
    entry = primary_entry(contact.get("properties", {}).get(name))
    value = entry.get("value") if isinstance(entry, dict) else None
    return None if value is None else str(value)


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
            roles=CONTACT.roles(),
            editable=True,
            creatable=True,
            deletable=True,
            has_timeline=True,
        ),
    ]


@dataclass(frozen=True, kw_only=True)
class Property(Field):
    """A contact property: the value of its primary entry (``properties.<path>``), as
    text. Written by ``contact_properties``, which keeps the property's other entries."""

    def read(self, item: Mapping[str, Any], codec: Codec, ctx: Context) -> Any:
        return property_value(item, self.path)


@dataclass(frozen=True, kw_only=True)
class Experience(Property):
    """A property the contact's ``experience`` fills when the property itself is empty
    (``title`` from ``job_title``, ``company`` from ``company_name``)."""

    def read(self, item: Mapping[str, Any], codec: Codec, ctx: Context) -> Any:
        experience = primary_entry((item.get("properties") or {}).get("experience"))
        job = (experience or {}).get("metadata", {})
        return super().read(item, codec, ctx) or job.get(self.key)


@dataclass(frozen=True, kw_only=True)
class Phone(Property):
    """A phone as the user typed it (``metadata.raw_val``), else as kept."""

    def read(self, item: Mapping[str, Any], codec: Codec, ctx: Context) -> Any:
        phone = primary_entry((item.get("properties") or {}).get("phone"))
        return (phone.get("metadata", {}).get("raw_val") or phone["value"]) if phone else None


# emptied, job title and company come back (from the contact's experience): refused
CONTACT = Resource(
    kind="contact",
    path="contacts",
    label="Contacts",
    singular="Contact",
    fields=(
        Property(key="name", path="name", label="Name", required=True, role=Role.TITLE),
        Property(key="email", path="email", label="Email"),
        Phone(key="phone", path="phone", label="Phone"),
        Experience(key="job_title", path="title", label="Title", clearable=False),
        Experience(key="company_name", path="company", label="Company", clearable=False),
        Property(key="address", path="address", label="Address"),
        Property(key="linkedin", path="liurl", label="LinkedIn URL"),
        Property(key="twitter", path="twhan", label="Twitter"),
        # ``ARCHIVED`` once deleted: read, never offered nor written
        Field(key="state", label="State", writable=False, offered=False),
    ),
)


def contact_specs() -> list[FieldSpec]:
    """The contact fields offered (its state is not)."""
    return CONTACT.specs()


def contact_properties(current: Json, values: Json) -> Json:
    """The ``properties`` of a contact PUT/POST setting ``values``: a property's primary
    entry changes (an email's or phone's metadata kept but its ``raw_val``), an empty
    value removes it; the property's other entries stay."""
    props: Json = {}
    for key, value in values.items():
        f = CONTACT.field(key)
        if f is None or not f.writable:
            raise Rejected("SalesforceIQ", f"Contacts: {key!r} cannot be changed")
        prop = f.path
        entries = [dict(e) for e in (current.get("properties") or {}).get(prop) or []]
        primary = primary_entry(entries)
        if not value:
            entries = [e for e in entries if e is not primary]
        elif primary is not None and prop in ("email", "phone"):
            primary["value"] = str(value)
            primary["metadata"] = {
                k: v for k, v in (primary.get("metadata") or {}).items() if k != "raw_val"
            }
        else:
            entries = [{"value": str(value), "metadata": {}}]
        props[prop] = entries
    return props
