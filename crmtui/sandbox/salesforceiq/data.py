"""The SalesforceIQ sandbox's data: users, accounts, contacts, lists and list items.

Everything lives in one ``Db`` of plain dicts shaped exactly like the API's JSON (ids of
24 lower-case hex characters, epoch-millisecond dates, ``fieldValues`` as arrays of
``{"raw": "<string>"}``), so handlers mostly copy them out. ``build`` seeds it from
``crmtui.sandbox.fake.Fake``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from crmtui.sandbox.fake import NOTE_BODIES, Company, Fake, Person

STAGES_SIMPLE = (
    "Lead",
    "Qualified",
    "Negotiation",
    "Verbal Commitment",
    "Deal Won",
    "Revisit Later",
    "Deal Lost",
)
STAGES_DISCOVERY = (
    "Identifying Opportunity",
    "Determining Problem, Impact, Ideal",
    *STAGES_SIMPLE[2:],
)
STAGE_WEIGHTS = (20, 18, 15, 10, 17, 8, 12)
PRODUCTS = ("Aria", "Charge", "Charge HR", "Blaze")
INDUSTRY_OPTIONS = (
    "Tech",
    "Energy",
    "Restaurant",
    "Services",
    "IT",
    "VC",
    "Real Estate",
    "Transportation",
)
STREETS = ("University Ave", "Emerson St", "Market St", "High St", "Harbour Rd", "King St")
CONTACT_PROPERTIES = (
    "name",
    "email",
    "phone",
    "address",
    "company",
    "title",
    "experience",
    "liurl",
    "twhan",
)


def ms(dt: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return int(dt.timestamp() * 1000)


def raws(*values: str) -> list[dict[str, str]]:
    """A field value array: ``[{"raw": v}, ...]``."""
    return [{"raw": str(v)} for v in values]


def meta(
    id: str,
    name: str,
    data_type: str,
    *,
    options: tuple[str, ...] = (),
    multi: bool = False,
    editable: bool = True,
    linked: bool | None = False,
) -> dict[str, Any]:
    """Field metadata as ``GET /lists/{id}`` (and, with ``linked=None``, accounts) give it."""
    out: dict[str, Any] = {
        "id": id,
        "name": name,
        "listOptions": [{"id": str(i), "display": d} for i, d in enumerate(options)],
        "isMultiSelect": multi,
        "isEditable": editable,
    }
    if linked is not None:
        out["isLinkedField"] = linked
    out["dataType"] = data_type
    return out


def _standard(stages: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    return {
        "led": meta("led", "Last Event Date (sort)", "DateTime"),
        "created": meta("process_created_date", "Created Date", "DateTime"),
        "status": meta("0", "Status", "List", options=stages),
        "close": meta("process_close_date", "Close Date", "DateTime"),
        "revenue": meta("3", "Revenue", "Numeric"),
        "owner": meta("1", "Owner", "User"),
    }


def leads_fields() -> list[dict[str, Any]]:
    s = _standard(STAGES_SIMPLE)
    return [
        s["led"],
        s["created"],
        s["status"],
        s["close"],
        s["revenue"],
        s["owner"],
        meta("6", "Contract", "File"),
        meta("7", "Products", "List", options=PRODUCTS, multi=True),
        meta("9", "Phone", "Phone", multi=True, editable=False, linked=True),
        meta("8", "LinkedIn URL", "LinkedIn", editable=False, linked=True),
        meta("10", "Current Company", "Text", editable=False, linked=True),
        meta("12", "Referer", "Contact"),
        meta("14", "Notes", "Text"),
    ]


def customers_fields() -> list[dict[str, Any]]:
    s = _standard(STAGES_SIMPLE)
    return [s["owner"], s["status"], s["close"], s["created"], s["revenue"], s["led"]]


def opportunities_fields() -> list[dict[str, Any]]:
    s = _standard(STAGES_DISCOVERY)
    return [
        s["status"],
        s["close"],
        s["revenue"],
        s["led"],
        s["owner"],
        s["created"],
        meta("6", "Inactive (days)", "Numeric", editable=False),
        meta("25", "All Time (events)", "Numeric", editable=False),
    ]


def account_fields() -> list[dict[str, Any]]:
    """``GET /accounts/fields``: the doc's account properties."""
    return [
        meta("address", "Address", "Location", linked=None),
        meta("address_city", "City", "Location", editable=False, linked=None),
        meta("address_state", "State/Province", "Location", editable=False, linked=None),
        meta("address_postal_code", "Zip/Postal Code", "Location", editable=False, linked=None),
        meta("address_country", "Country", "Location", editable=False, linked=None),
        meta("primary_contact", "Primary Contact", "Contact", linked=None),
        meta("2", "Title", "List", options=("CEO", "Sales Rep", "Principal"), linked=None),
        meta("4", "Email", "Text", linked=None),
        meta("6", "Collaborators", "User", multi=True, linked=None),
        meta("12", "SLA", "List", options=("Basic", "Business", "Premium"), linked=None),
        meta("14", "CSAT", "Numeric", linked=None),
        meta("16", "Contract End Date", "Date", linked=None),
        meta("18", "Industry", "List", options=INDUSTRY_OPTIONS, multi=True, linked=None),
    ]


# Not listed by /accounts/fields but writable on accounts: the account's contacts.
PERSON_IDS = meta("person_ids", "Contacts", "Contact", multi=True, linked=None)

_US_TAIL = re.compile(r"^([A-Z]{2})\s+(\d{5})$")


def address_parts(address: str) -> dict[str, str]:
    """The derived ``address_*`` values of an account address (read-only fields)."""
    parts = [p.strip() for p in address.split(",") if p.strip()]
    out: dict[str, str] = {}
    if len(parts) >= 2:
        out["address_city"] = parts[1]
    if len(parts) >= 3:
        tail = _US_TAIL.match(parts[-1])
        if tail:
            out |= {
                "address_state": tail[1],
                "address_postal_code": tail[2],
                "address_country": "US",
            }
        else:
            out["address_country"] = parts[-1]
    return out


def phone_value(typed: str) -> str:
    """A phone number as the API stores it: ``+`` and digits."""
    return "+" + re.sub(r"\D", "", typed)


@dataclass
class Db:
    """The sandbox's whole state; handlers and tests read and poke it directly."""

    now: datetime
    rng: random.Random
    org_id: str = ""
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # merged id -> surviving id
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # list -> items
    account_fields: list[dict[str, Any]] = field(default_factory=account_fields)
    events: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[str, str] = field(
        default_factory=lambda: {"sandbox": "sandbox", "readonly": "sandbox"}
    )
    read_only: set[str] = field(default_factory=lambda: {"readonly"})
    _issued: set[str] = field(default_factory=set)

    def new_id(self, when: datetime) -> str:
        """A fresh ObjectId-like id: 8 hex of the epoch seconds, 16 random hex."""
        while True:
            oid = f"{int(when.timestamp()) & 0xFFFFFFFF:08x}{self.rng.getrandbits(64):016x}"
            if oid not in self._issued:
                self._issued.add(oid)
                return oid

    def user_id(self, ref: str) -> str | None:
        """A user id from an id or an email (User fields accept both)."""
        if ref in self.users:
            return ref
        lowered = ref.strip().lower()
        return next((u["id"] for u in self.users.values() if u["email"] == lowered), None)

    def contact_id(self, ref: str) -> str | None:
        """A contact id from an id, a merged id or an email (Contact fields accept both)."""
        ref = ref.strip()
        ref = self.aliases.get(ref, ref)
        if ref in self.contacts:
            return ref
        lowered = ref.lower()
        for contact_id, contact in self.contacts.items():
            emails = contact["properties"].get("email", [])
            if any(e["value"].lower() == lowered for e in emails):
                return contact_id
        return None

    def items_of_contact(self, contact_id: str) -> list[dict[str, Any]]:
        return [
            item
            for items in self.items.values()
            for item in items.values()
            if contact_id in item["contactIds"]
        ]

    def items_of_account(self, account_id: str) -> list[dict[str, Any]]:
        return [
            item
            for items in self.items.values()
            for item in items.values()
            if item["accountId"] == account_id
        ]

    def list_by_title(self, title: str) -> dict[str, Any]:
        return next(lst for lst in self.lists.values() if lst["title"] == title)


class _Seeder:
    """Builds a believable SalesforceIQ organization from one ``Fake``."""

    def __init__(self, db: Db, fake: Fake, scale: int) -> None:
        self.db = db
        self.fake = fake
        self.rng = fake.rng
        self.scale = max(1, scale)
        self.companies: dict[str, Company] = {}

    def run(self) -> None:
        self.db.org_id = self.db.new_id(self.fake.now - timedelta(days=900))
        self.users()
        self.accounts_and_contacts()
        self.merged_pair()
        self.pipelines()

    def when(self, days: int = 365) -> datetime:
        return self.fake.past(days)

    def users(self) -> None:
        for _ in range(5):
            person = self.fake.person()
            local = person.email.split("@")[0]
            uid = self.db.new_id(self.when(800))
            self.db.users[uid] = {
                "id": uid,
                "name": person.name,
                "email": f"{local}@northwind-sales.com",
            }

    def accounts_and_contacts(self) -> None:
        users = list(self.db.users)
        for _ in range(100 * self.scale):
            company = self.fake.company()
            created = self.when(500)
            aid = self.db.new_id(created)
            people = [self.contact(company) for _ in range(3)]
            street = f"{self.rng.randint(1, 999)} {self.fake.pick(STREETS)}"
            address = f"{street}, {company.city}, {company.country}"
            values: dict[str, Any] = {
                "4": raws(f"info@{company.domain}"),
                "6": raws(self.fake.pick(users)),
                "12": raws(str(self.rng.randrange(3))),
                "14": raws(str(self.rng.randint(60, 100))),
                "16": raws(self.fake.future_date(400).isoformat()),
                "18": raws(str(self.rng.randrange(len(INDUSTRY_OPTIONS)))),
                "address": raws(address),
                "primary_contact": raws(people[0]),
                "person_ids": raws(*people),
            }
            values |= {k: raws(v) for k, v in address_parts(address).items()}
            self.db.accounts[aid] = {
                "id": aid,
                "modifiedDate": ms(self.fake.between(created, self.fake.now)),
                "name": company.name,
                "fieldValues": values,
            }
            self.companies[aid] = company

    def contact(self, company: Company) -> str:
        person = self.fake.person(company)
        cid = self.db.new_id(self.when(500))
        self.db.contacts[cid] = {
            "id": cid,
            "modifiedDate": ms(self.when(365)),
            "requestedIds": None,
            "mergedIds": None,
            "properties": self.properties(person, company),
            "state": "ACTIVE",
        }
        return cid

    def properties(self, person: Person, company: Company) -> dict[str, Any]:
        def prop(value: str, **metadata: str) -> dict[str, Any]:
            return {"value": value, "metadata": metadata}

        emails = [prop(person.email, stype="work", primary="true")]
        if self.rng.random() < 0.3:
            personal = person.email.split("@")[0] + "@gmail.com"
            emails.append(prop(personal, stype="personal", primary="false"))
        handle = person.email.split("@")[0].replace(".", "")
        return {
            "name": [prop(person.name)],
            "email": emails,
            "phone": [
                prop(phone_value(person.phone), stype="work", raw_val=person.phone, primary="true")
            ],
            "company": [prop(company.name)],
            "title": [prop(person.title)],
            "experience": [prop(company.name, company_name=company.name, job_title=person.title)],
            "address": [prop(f"{person.city}, {person.country}")],
            "liurl": [prop(f"https://www.linkedin.com/in/{handle}")],
        }

    def merged_pair(self) -> None:
        """One contact that absorbed a duplicate, so alias lookups are exercised."""
        survivor = next(iter(self.db.contacts.values()))
        alias = self.db.new_id(self.when(600))
        survivor["mergedIds"] = [alias]
        self.db.aliases[alias] = survivor["id"]

    def pipelines(self) -> None:
        specs = (
            ("Leads", "contact", leads_fields(), 40),
            ("Customers", "account", customers_fields(), 50),
            ("Opportunities", "account", opportunities_fields(), 60),
        )
        for title, list_type, fields, count in specs:
            lid = self.db.new_id(self.fake.now - timedelta(days=700))
            self.db.lists[lid] = {
                "id": lid,
                "title": title,
                "listType": list_type,
                "modifiedDate": 0,
                "fields": fields,
                "size": 0,
            }
            self.db.items[lid] = {}
            pool = list(self.db.contacts if list_type == "contact" else self.db.accounts)
            for ref in self.rng.sample(pool, min(len(pool), count * self.scale)):
                item = self.item(self.db.lists[lid], ref)
                self.db.items[lid][item["id"]] = item

    def item(self, lst: dict[str, Any], ref: str) -> dict[str, Any]:
        created = self.when(330).replace(microsecond=0)
        modified = self.fake.between(created, self.fake.now)
        stage = self.rng.choices(range(7), weights=STAGE_WEIGHTS)[0]
        closing = stage in (4, 6)
        close_day = (
            self.fake.between(created, self.fake.now).date()
            if closing
            else self.fake.future_date(150)
        )
        close_at = datetime.combine(close_day, time(17, 0), tzinfo=UTC)
        last_event = self.fake.between(created, self.fake.now)
        values: dict[str, Any] = {
            "0": raws(str(stage)),
            "1": raws(self.fake.pick(list(self.db.users))),
            "3": raws(str(self.fake.amount())),
            "process_close_date": raws(str(ms(close_at))),
            "process_created_date": raws(str(ms(created) + self.rng.randint(1, 999))),
            "led": raws(str(ms(last_event))),
        }
        base = {
            "id": self.db.new_id(created),
            "listId": lst["id"],
            "version": 1 + self.rng.randrange(6),
            "createdDate": ms(created),
            "modifiedDate": ms(modified),
        }
        if lst["listType"] == "contact":
            contact = self.db.contacts[ref]
            values |= self.lead_values(contact)
            return base | {
                "name": contact["properties"]["name"][0]["value"],
                "accountId": None,
                "contactIds": [ref],
                "fieldValues": values | linked_values(lst, contact),
                "linkedItemIds": linked_item_ids(self.db, [ref]),
            }
        account = self.db.accounts[ref]
        people = [p["raw"] for p in account["fieldValues"]["person_ids"]]
        name = account["name"]
        if lst["title"] == "Opportunities":
            name = self.fake.deal_name(self.companies[ref])
            idle = (self.fake.now - last_event).days
            values |= {"6": raws(str(idle)), "25": raws(str(self.rng.randint(1, 60)))}
        return base | {
            "name": name,
            "accountId": ref,
            "contactIds": self.rng.sample(people, self.rng.randint(1, 2)),
            "fieldValues": values,
            "linkedItemIds": {},
        }

    def lead_values(self, contact: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        picks = self.rng.sample(range(len(PRODUCTS)), self.rng.randint(0, 2))
        if picks:
            values["7"] = raws(*(str(p) for p in sorted(picks)))
        if self.rng.random() < 0.5:
            first = contact["properties"]["name"][0]["value"].split()[0]
            company = contact["properties"]["company"][0]["value"]
            text = self.fake.pick(NOTE_BODIES).format(first=first, company=company, q=2)
            values["14"] = raws(text)
        if self.rng.random() < 0.2:
            values["12"] = raws(self.fake.pick(list(self.db.contacts)))
        return values


def linked_values(lst: dict[str, Any], contact: dict[str, Any]) -> dict[str, Any]:
    """The linked (read-only) fields a contact-based list copies from its contact."""
    props = contact["properties"]
    sources = {"Phone": "phone", "LinkedIn URL": "liurl", "Current Company": "company"}
    out: dict[str, Any] = {}
    for spec in lst["fields"]:
        key = sources.get(spec["name"]) if spec.get("isLinkedField") else None
        values = [p["value"] for p in props.get(key or "", [])]
        if key and values:
            out[spec["id"]] = raws(*(values if spec["isMultiSelect"] else values[:1]))
    return out


def linked_item_ids(db: Db, contact_ids: list[str]) -> dict[str, Any]:
    """``linkedItemIds`` of a contact-based list item."""
    return {f"{db.org_id}.contacts": [{"itemId": cid} for cid in contact_ids]}


def build(*, seed: int = 0, scale: int = 1, now: datetime | None = None) -> Db:
    """The seeded organization: 5 users, 100×scale accounts with 3 contacts each, and
    three pipeline lists (contact-based "Leads", account-based "Customers" and
    "Opportunities") with 150×scale items spread over every Status option."""
    fake = Fake(seed, now)
    db = Db(now=fake.now, rng=random.Random(f"salesforceiq-{seed}"))
    _Seeder(db, fake, scale).run()
    return db
