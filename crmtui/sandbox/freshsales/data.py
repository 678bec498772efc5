"""The Freshsales sandbox's data: configuration lists, field settings and seeded records.

Records are stored as the API shows them (timestamps as ``YYYY-MM-DDTHH:MM:SSZ`` text,
money as decimal text); keys starting with ``_`` are the sandbox's own bookkeeping and
never leave the server. ``build(seed, scale, now)`` makes a believable sales team's
account; ``Db`` keeps the reverse indexes (what belongs to a record) up to date.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from crmtui.sandbox.fake import (
    CALL_OUTCOMES,
    CITIES,
    COMPANY_A,
    COMPANY_B,
    COMPANY_SUFFIX,
    INDUSTRIES,
    Company,
    Fake,
    Person,
)

Row = dict[str, Any]
Target = tuple[str, int]  # ("Contact", 16000001)

TARGET_TYPES = ("Lead", "Contact", "SalesAccount", "Deal")
TIMELINE_KINDS = ("notes", "tasks", "appointments", "sales_activities", "events")
LAZY_KINDS = ("notes", "sales_activities", "events")  # seeded per record on first need
LAZY_SLOT = 16  # ids per record per lazy kind

ID_BASE = {
    "users": 70000000,
    "sales_accounts": 4000000,
    "contacts": 16000000,
    "leads": 12000000,
    "deals": 7000000,
    "tasks": 21000000,
    "appointments": 23000000,
    "notes": 25000000,
    "sales_activities": 27000000,
    "events": 29000000,
    "attendees": 31000000,
    "products": 33000000,
    "product_pricings": 34000000,  # a product's prices (``product_pricings``)
    "cpq_documents": 35000000,
    "documents": 37000000,
    "phone_calls": 39000000,
}

# -- time and money as the API writes them ----------------------------------------------


def ts(dt: datetime | None) -> str | None:
    """A timestamp as Freshsales returns it: UTC, seconds, ``Z``."""
    if dt is None:
        return None
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    return dt.isoformat(timespec="seconds")[:19] + "Z"


def money(value: float | int | str | None) -> str | None:
    """Decimal text the way the API shows amounts (``"23456.0"``, ``"1234.5"``)."""
    if value is None:
        return None
    return repr(round(float(value), 2))


_JS_DATE = re.compile(
    r"^\w{3} (\w{3}) (\d{1,2}) (\d{4}) (\d{2}):(\d{2})(?::(\d{2}))? GMT([+-]\d{4})"
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}


def parse_when(value: Any) -> datetime | None:
    """Parse an input date/time: the Schema's ISO forms and the samples' JS date strings.

    Returns None for text that is neither; naive values are UTC (as documented).
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    match = _JS_DATE.match(text)
    if match:
        mon, day, year, hh, mm, ss, off = match.groups()
        sign = 1 if off[0] == "+" else -1
        offset = timedelta(hours=int(off[1:3]), minutes=int(off[3:5])) * sign
        local = datetime(int(year), _MONTHS.get(mon, 1), int(day), int(hh), int(mm), int(ss or 0))
        return (local - offset).replace(tzinfo=UTC)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if re.search(r"[+-]\d{2}$", text) and "T" in text:
        text += ":00"  # YYYY-MM-DDTHH:MM:SS±hh
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _dt(text: str) -> datetime:
    """A stored timestamp back as a datetime."""
    return datetime.fromisoformat(text[:19]).replace(tzinfo=UTC)


def parse_day(value: Any) -> date | None:
    """A date field's input (``expected_close``...): a date, or a timestamp's UTC day."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    dt = parse_when(value)
    return dt.date() if dt else None


# -- configuration (the Configuration section's selector lists) --------------------------


def _named(base: int, names: list[str], **extra: Any) -> list[Row]:
    return [
        {"id": base + i, "name": name, "position": i, **extra} for i, name in enumerate(names, 1)
    ]


TERRITORIES = _named(60000000, ["North America", "EMEA", "APAC", "LATAM"])
COUNTRY_TERRITORY = {
    "United States": 60000001,
    "Canada": 60000001,
    "United Kingdom": 60000002,
    "Germany": 60000002,
    "France": 60000002,
    "Netherlands": 60000002,
    "Ireland": 60000002,
    "Australia": 60000003,
    "India": 60000003,
    "Singapore": 60000003,
}
CURRENCIES: list[Row] = [
    {"id": 61000001, "currency_code": "USD", "exchange_rate": "1.0", "currency_type": 1},
    {"id": 61000002, "currency_code": "EUR", "exchange_rate": "1.08", "currency_type": 2},
    {"id": 61000003, "currency_code": "GBP", "exchange_rate": "1.27", "currency_type": 2},
    {"id": 61000004, "currency_code": "INR", "exchange_rate": "0.012", "currency_type": 2},
    {"id": 61000005, "currency_code": "AUD", "exchange_rate": "0.66", "currency_type": 2},
]
COUNTRY_CURRENCY = {
    "Germany": 61000002,
    "France": 61000002,
    "Netherlands": 61000002,
    "Ireland": 61000002,
    "United Kingdom": 61000003,
    "India": 61000004,
    "Australia": 61000005,
}
PIPELINES: list[Row] = [
    {"id": 62000001, "name": "Sales Pipeline", "is_default": True, "position": 1},
    {"id": 62000002, "name": "Renewals", "is_default": False, "position": 2},
]
# (name, probability, forecast_type) per pipeline; choice_type as the fields sample shows
# it: 1 the first stage, 2 the stages in between, 4 the closed ones (Won and Lost).
_STAGES = {
    62000001: [
        ("New", 10, "Open"),
        ("Qualified", 25, "Open"),
        ("Demo", 40, "Open"),
        ("Proposal", 60, "Open"),
        ("Negotiation", 80, "Open"),
        ("Won", 100, "Won"),
        ("Lost", 0, "Lost"),
    ],
    62000002: [
        ("Upcoming", 50, "Open"),
        ("In discussion", 60, "Open"),
        ("Quote sent", 80, "Open"),
        ("Renewed", 100, "Won"),
        ("Churned", 0, "Lost"),
    ],
}


def _stages() -> list[Row]:
    rows: list[Row] = []
    for pipeline_id, stages in _STAGES.items():
        base = 63000000 + (pipeline_id - 62000000) * 100
        for position, (name, probability, forecast) in enumerate(stages, 1):
            choice_type = 1 if position == 1 else (4 if forecast != "Open" else 2)
            rows.append(
                {
                    "id": base + position,
                    "name": name,
                    "position": position,
                    "forecast_type": forecast,
                    "choice_type": choice_type,
                    "probability": probability,
                    "deal_pipeline_id": pipeline_id,
                    "updated_at": "2025-01-06T10:00:00Z",
                }
            )
    return rows


DEAL_STAGES = _stages()
DEAL_REASONS = _named(
    64000000,
    [
        "Opted our rival",
        "Price is too high",
        "Junk Lead",
        "Not interested",
        "No requirement",
        "Need only in future",
        "Product not satisfying",
        "No proper follow-up",
    ],
)
DEAL_TYPES = _named(
    65000000, ["New Business", "Existing Business-Renewal", "Existing Business-Upgrade"]
)
LEAD_SOURCES = _named(
    66000000, ["Web", "Email", "Phone", "Referral", "Trade show", "Chat", "Partner"]
)
INDUSTRY_TYPES = _named(67000000, list(INDUSTRIES))
BUSINESS_TYPES = _named(68000000, ["Prospect", "Customer", "Partner", "Vendor", "Competitor"])
CAMPAIGNS = _named(69000000, ["Spring webinar", "Q3 outbound", "Partner summit", "Product launch"])
PAYMENT_STATUSES = _named(69100000, ["Pending", "Partially paid", "Paid", "Overdue"])
DEAL_PRODUCTS = _named(69200000, ["Starter", "Growth", "Enterprise", "Professional services"])
CONTACT_STATUSES = _named(69300000, ["New", "Contacted", "Interested", "Customer", "Inactive"])
LEAD_STAGES = _named(69400000, ["New", "Contacted", "Interested", "Qualified", "Unqualified"])
LEAD_REASONS = _named(69500000, ["No budget", "Wrong contact", "Competitor", "Not a fit"])
ACTIVITY_TYPES = _named(69600000, ["Call", "Email", "Meeting", "Task", "Chat"])
CALL, EMAIL, MEETING, TASK, CHAT = (t["id"] for t in ACTIVITY_TYPES)
_OUTCOMES = {
    CALL: [*list(CALL_OUTCOMES), "Interested", "Not interested"],
    EMAIL: ["Replied", "No response", "Bounced"],
    MEETING: ["Successful", "Rescheduled", "Cancelled", "No show"],
    TASK: ["Completed", "Follow-up needed", "Not reachable"],
    CHAT: ["Resolved", "Follow-up needed"],
}
ACTIVITY_OUTCOMES: list[Row] = [
    {"id": 69700000 + type_id % 100 * 100 + i, "name": name, "sales_activity_type_id": type_id}
    for type_id, names in _OUTCOMES.items()
    for i, name in enumerate(names, 1)
]
ENTITY_TYPES = [{"id": i, "name": name} for i, name in enumerate(TARGET_TYPES, 1)]
DESIGNATIONS = _named(
    69800000, ["Account executive", "Sales engineer", "Customer success", "Manager"]
)

SELECTORS: dict[str, tuple[str, list[Row]]] = {
    "territories": ("territories", TERRITORIES),
    "currencies": ("currencies", CURRENCIES),
    "deal_reasons": ("deal_reasons", DEAL_REASONS),
    "deal_types": ("deal_types", DEAL_TYPES),
    "lead_sources": ("lead_sources", LEAD_SOURCES),
    "industry_types": ("industry_types", INDUSTRY_TYPES),
    "business_types": ("business_types", BUSINESS_TYPES),
    "campaigns": ("campaigns", CAMPAIGNS),
    "deal_payment_statuses": ("deal_payment_statuses", PAYMENT_STATUSES),
    "deal_products": ("deal_products", DEAL_PRODUCTS),
    "deal_pipelines": ("deal_pipelines", PIPELINES),
    "contact_statuses": ("contact_statuses", CONTACT_STATUSES),
    "lead_stages": ("lead_stages", LEAD_STAGES),
    "lead_reasons": ("lead_reasons", LEAD_REASONS),
    "sales_activity_types": ("sales_activity_types", ACTIVITY_TYPES),
    "sales_activity_outcomes": ("sales_activity_outcomes", ACTIVITY_OUTCOMES),
    "sales_activity_entity_types": ("sales_activity_entity_types", ENTITY_TYPES),
    "designations": ("designations", DESIGNATIONS),
}

# -- views (the filters API) --------------------------------------------------------------

VIEWS: dict[str, list[str]] = {
    "leads": [
        "My Leads",
        "New Leads",
        "Unassigned Leads",
        "All Leads",
        "Recently Modified",
        "My Territory Leads",
        "Never Contacted",
        "Hot Leads",
        "Warm Leads",
        "Cold Leads",
    ],
    "contacts": [
        "My Contacts",
        "My Territory Contacts",
        "New Contacts",
        "All Contacts",
        "Recently Modified",
        "Never Contacted",
        "Needs Followup",
        "Active",
        "Inactive",
        "Slipping Away",
    ],
    "sales_accounts": ["My Accounts", "All Accounts", "MY Territory Accounts"],
    "deals": [
        "Open Deals",
        "My Deals",
        "My Territory Deals",
        "Recent Deals",
        "Lost Deals",
        "Won Deals",
        "Hot Deals",
        "Cold Deals",
    ],
}
MODEL_CLASS = {
    "leads": "Lead",
    "contacts": "Contact",
    "sales_accounts": "SalesAccount",
    "deals": "Deal",
}
DEFAULT_VIEWS = {"leads": 7, "contacts": 7, "sales_accounts": 3, "deals": 4}  # is_default up to

# -- field settings ----------------------------------------------------------------------

# (name, label, type, required, default?, choices source)
_FIELDS: dict[str, list[tuple[str, str, str, bool, bool, str | None]]] = {
    "contacts": [
        ("first_name", "First name", "text", False, True, None),
        ("last_name", "Last name", "text", True, True, None),
        ("job_title", "Job title", "text", False, True, None),
        ("emails", "Emails", "email", False, True, None),
        ("work_number", "Work", "text", False, True, None),
        ("mobile_number", "Mobile", "text", False, True, None),
        ("address", "Address", "textarea", False, True, None),
        ("city", "City", "text", False, True, None),
        ("state", "State", "text", False, True, None),
        ("zipcode", "Zipcode", "text", False, True, None),
        ("country", "Country", "text", False, True, None),
        ("sales_accounts", "Accounts", "auto_complete", False, True, None),
        ("owner_id", "Sales owner", "dropdown", False, True, "owners"),
        ("territory_id", "Territory", "dropdown", False, True, "territories"),
        ("contact_status_id", "Status", "dropdown", False, True, "contact_statuses"),
        ("lead_source_id", "Source", "dropdown", False, True, "lead_sources"),
        ("campaign_id", "Campaign", "dropdown", False, True, "campaigns"),
        ("medium", "Medium", "text", False, True, None),
        ("keyword", "Keyword", "text", False, True, None),
        ("time_zone", "Time zone", "text", False, True, None),
        ("facebook", "Facebook", "text", False, True, None),
        ("twitter", "Twitter", "text", False, True, None),
        ("linkedin", "LinkedIn", "text", False, True, None),
        ("lead_score", "Score", "number", False, True, None),
        ("last_contacted", "Last contacted time", "date", False, True, None),
        ("created_at", "Created at", "date", False, True, None),
        ("updated_at", "Updated at", "date", False, True, None),
        ("cf_preferred_language", "Preferred language", "dropdown", False, False, "languages"),
        ("cf_newsletter", "Newsletter", "checkbox", False, False, None),
    ],
    "leads": [
        ("first_name", "First name", "text", False, True, None),
        ("last_name", "Last name", "text", True, True, None),
        ("job_title", "Job title", "text", False, True, None),
        ("email", "Email", "text", False, True, None),
        ("work_number", "Work", "text", False, True, None),
        ("mobile_number", "Mobile", "text", False, True, None),
        ("city", "City", "text", False, True, None),
        ("country", "Country", "text", False, True, None),
        ("company", "Company", "text", False, True, None),
        ("owner_id", "Sales owner", "dropdown", False, True, "owners"),
        ("lead_stage_id", "Lead stage", "dropdown", False, True, "lead_stages"),
        ("lead_reason_id", "Unqualified reason", "dropdown", False, True, "lead_reasons"),
        ("lead_source_id", "Source", "dropdown", False, True, "lead_sources"),
        ("territory_id", "Territory", "dropdown", False, True, "territories"),
        ("lead_score", "Score", "number", False, True, None),
        ("cf_primary", "Primary", "checkbox", False, False, None),
    ],
    "sales_accounts": [
        ("name", "Name", "text", True, True, None),
        ("address", "Address", "text", False, True, None),
        ("city", "City", "text", False, True, None),
        ("state", "State", "text", False, True, None),
        ("zipcode", "Zipcode", "text", False, True, None),
        ("country", "Country", "text", False, True, None),
        ("industry_type_id", "Industry type", "dropdown", False, True, "industry_types"),
        ("business_type_id", "Business type", "dropdown", False, True, "business_types"),
        ("number_of_employees", "Number of employees", "number", False, True, None),
        ("annual_revenue", "Annual revenue", "number", False, True, None),
        ("website", "Website", "text", False, True, None),
        ("phone", "Phone", "text", False, True, None),
        ("owner_id", "Sales owner", "dropdown", False, True, "owners"),
        ("territory_id", "Territory", "dropdown", False, True, "territories"),
        ("parent_sales_account_id", "Parent account", "auto_complete", False, True, None),
        ("open_deals_amount", "Open deals amount", "number", False, True, None),
        ("last_contacted", "Last contacted time", "date", False, True, None),
        ("cf_domain_name", "Domain name", "text", False, False, None),
        ("cf_renewal_date", "Renewal date", "date", False, False, None),
    ],
    "deals": [
        ("name", "Name", "text", True, True, None),
        ("amount", "Deal value", "number", True, True, None),
        ("currency_id", "Currency", "dropdown", False, True, "currencies"),
        ("deal_pipeline_id", "Pipeline", "dropdown", False, True, "deal_pipelines"),
        ("deal_stage_id", "Deal stage", "dropdown", False, True, "deal_stages"),
        ("deal_reason_id", "Lost reason", "dropdown", False, True, "deal_reasons"),
        ("deal_type_id", "Type", "dropdown", False, True, "deal_types"),
        ("sales_account_id", "Account name", "auto_complete", True, True, None),
        ("contacts", "Related contacts", "auto_complete", False, True, None),
        ("owner_id", "Sales owner", "dropdown", False, True, "owners"),
        ("expected_close", "Expected close date", "date", False, True, None),
        ("closed_date", "Closed date", "date", False, True, None),
        ("probability", "Probability (%)", "number", False, True, None),
        ("lead_source_id", "Source", "dropdown", False, True, "lead_sources"),
        ("campaign_id", "Campaign", "dropdown", False, True, "campaigns"),
        ("deal_product_id", "Product", "dropdown", False, True, "deal_products"),
        (
            "deal_payment_status_id",
            "Payment status",
            "dropdown",
            False,
            True,
            "deal_payment_statuses",
        ),
        ("territory_id", "Territory", "dropdown", False, True, "territories"),
        ("stage_updated_time", "Stage updated time", "date", False, True, None),
        ("created_at", "Created at", "date", False, True, None),
        ("updated_at", "Updated at", "date", False, True, None),
        ("cf_number_of_agents", "Number of agents", "number", False, False, None),
        ("cf_competitor", "Competitor", "dropdown", False, False, "competitors"),
    ],
}
LANGUAGES = ["English", "German", "French", "Spanish", "Hindi", "Japanese"]
COMPETITORS = ["None", "Salesforce", "HubSpot", "Pipedrive", "Zoho"]
FIELD_GROUPS = [
    {"id": 69900001, "name": "Basic information", "position": 1},
    {"id": 69900002, "name": "Additional information", "position": 2},
]


def _choices(source: str | None, users: list[Row]) -> list[Row]:
    if source is None:
        return []
    if source == "owners":
        return [
            {"id": u["id"], "value": u["display_name"], "position": i}
            for i, u in enumerate(users, 1)
        ]
    if source in ("languages", "competitors"):
        names = LANGUAGES if source == "languages" else COMPETITORS
        return [{"id": 69990000 + i, "value": n, "position": i} for i, n in enumerate(names, 1)]
    if source == "deal_stages":
        return [
            {
                "id": s["id"],
                "value": s["name"],
                "position": s["position"],
                "choice_type": s["choice_type"],
                "deal_pipeline_id": s["deal_pipeline_id"],
            }
            for s in DEAL_STAGES
        ]
    if source == "currencies":
        return [
            {"id": c["id"], "value": c["currency_code"], "position": i}
            for i, c in enumerate(CURRENCIES, 1)
        ]
    rows = SELECTORS[source][1]
    return [{"id": r["id"], "value": r["name"], "position": i} for i, r in enumerate(rows, 1)]


def field_settings(kind: str, users: list[Row]) -> list[Row]:
    """The ``/api/settings/<kind>/fields`` list for one kind."""
    base = {
        "contacts": 2000001198,
        "leads": 2000002166,
        "sales_accounts": 2000000743,
        "deals": 2000000522,
    }
    out = []
    for position, (name, label, type_, required, default, source) in enumerate(_FIELDS[kind], 1):
        out.append(
            {
                "id": base[kind] + position,
                "label": label,
                "name": name,
                "type": type_,
                "default": default,
                "actionable": source is not None,
                "position": position,
                "choices": _choices(source, users),
                "base_model": MODEL_CLASS[kind],
                "required": required,
                "field_group_id": FIELD_GROUPS[0 if default else 1]["id"],
            }
        )
    return out


# -- the store ---------------------------------------------------------------------------


@dataclass
class Db:
    """Everything the sandbox serves; tests read and poke it directly."""

    now: datetime
    users: dict[int, Row] = field(default_factory=dict)
    api_keys: dict[str, int] = field(default_factory=dict)  # key -> user id
    leads: dict[int, Row] = field(default_factory=dict)
    contacts: dict[int, Row] = field(default_factory=dict)
    sales_accounts: dict[int, Row] = field(default_factory=dict)
    deals: dict[int, Row] = field(default_factory=dict)
    tasks: dict[int, Row] = field(default_factory=dict)
    appointments: dict[int, Row] = field(default_factory=dict)
    notes: dict[int, Row] = field(default_factory=dict)
    sales_activities: dict[int, Row] = field(default_factory=dict)
    events: dict[int, Row] = field(default_factory=dict)  # stage changes, emails, page views
    # the endpoints crmtui does not call (``extras.py``), empty until used
    products: dict[int, Row] = field(default_factory=dict)
    cpq_documents: dict[int, Row] = field(default_factory=dict)
    documents: dict[int, Row] = field(default_factory=dict)  # files
    phone_calls: dict[int, Row] = field(default_factory=dict)
    jobs: dict[str, Row] = field(default_factory=dict)  # bulk upserts, by job id
    # reverse indexes, kept by ``attach``/``detach`` and ``link_*``
    timeline: defaultdict[Target, set[tuple[str, int]]] = field(
        default_factory=lambda: defaultdict(set)
    )
    deals_by_contact: defaultdict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    deals_by_account: defaultdict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    contacts_by_account: defaultdict[int, set[int]] = field(
        default_factory=lambda: defaultdict(set)
    )
    _next: dict[str, int] = field(default_factory=dict)
    _materialize: Callable[[str, int], None] | None = None
    _materialized: set[Target] = field(default_factory=set)
    _seeded_upto: dict[str, int] = field(default_factory=dict)

    def new_id(self, kind: str) -> int:
        start = ID_BASE[kind] * (100 if kind in LAZY_KINDS else 1)
        value = self._next.get(kind, start) + 1
        self._next[kind] = value
        return value

    def table(self, kind: str) -> dict[int, Row]:
        """The rows of one kind (an attribute named as the API's plural)."""
        rows: dict[int, Row] = getattr(self, kind)
        return rows

    def target(self, type_: str, id_: int) -> Row | None:
        """The record a task/note/... points at (``targetable_type``, ``targetable_id``)."""
        kind = TARGET_KIND.get(type_)
        return self.table(kind).get(id_) if kind else None

    # timeline items (notes, tasks, appointments, sales activities, events) per target
    def attach(self, kind: str, row: Row) -> None:
        self.timeline[(row["targetable_type"], row["targetable_id"])].add((kind, row["id"]))

    def detach(self, kind: str, row: Row) -> None:
        self.timeline[(row["targetable_type"], row["targetable_id"])].discard((kind, row["id"]))

    def ensure(self, type_: str, id_: int) -> None:
        """Make the seeded timeline entries of one record, if not made yet."""
        key = (type_, id_)
        if self._materialize is not None and key not in self._materialized:
            self._materialized.add(key)
            self._materialize(type_, id_)

    def materialize_all(self) -> None:
        """Every record's seeded timeline entries (for the lists across all records)."""
        for type_, kind in TARGET_KIND.items():
            for id_ in list(self.table(kind)):
                self.ensure(type_, id_)

    def get_item(self, kind: str, id_: int) -> Row | None:
        """A note/sales activity/event by id, making its record's timeline if needed."""
        row = self.table(kind).get(id_)
        if row is None and kind in LAZY_KINDS and ID_BASE[kind] < id_ < ID_BASE[kind] * 100:
            slot = (id_ - ID_BASE[kind]) // LAZY_SLOT
            type_index, local = divmod(slot, 1_000_000)
            if type_index < len(TARGET_TYPES):
                type_ = TARGET_TYPES[type_index]
                self.ensure(type_, ID_BASE[TARGET_KIND[type_]] + local)
                row = self.table(kind).get(id_)
        return row

    def items(self, type_: str, id_: int, kind: str | None = None) -> list[Row]:
        self.ensure(type_, id_)
        pairs = self.timeline.get((type_, id_), ())
        return [self.table(k)[i] for k, i in pairs if kind in (None, k) and i in self.table(k)]

    def link_deal(self, deal: Row) -> None:
        for contact_id in deal["contact_ids"]:
            self.deals_by_contact[contact_id].add(deal["id"])
        if deal["sales_account_id"]:
            self.deals_by_account[deal["sales_account_id"]].add(deal["id"])

    def unlink_deal(self, deal: Row) -> None:
        for contact_id in deal["contact_ids"]:
            self.deals_by_contact[contact_id].discard(deal["id"])
        if deal["sales_account_id"]:
            self.deals_by_account[deal["sales_account_id"]].discard(deal["id"])

    def link_contact(self, contact: Row) -> None:
        for link in contact["_accounts"]:
            self.contacts_by_account[link["id"]].add(contact["id"])

    def unlink_contact(self, contact: Row) -> None:
        for link in contact["_accounts"]:
            self.contacts_by_account[link["id"]].discard(contact["id"])

    def refresh_account_totals(self, account_id: int | None) -> None:
        """``open_deals_amount``/``open_deals_count`` of an account (and its contacts)."""
        account = None if account_id is None else self.sales_accounts.get(account_id)
        if account_id is None or account is None:
            return
        open_deals = [self.deals[d] for d in self.deals_by_account[account_id] if d in self.deals]
        open_deals = [d for d in open_deals if STAGE[d["deal_stage_id"]]["forecast_type"] == "Open"]
        account["open_deals_amount"] = money(
            sum(float(d["base_currency_amount"]) for d in open_deals)
        )
        account["open_deals_count"] = len(open_deals)

    def refresh_contact_total(self, contact_id: int) -> None:
        contact = self.contacts.get(contact_id)
        if contact is None:
            return
        deals = [self.deals[d] for d in self.deals_by_contact[contact_id] if d in self.deals]
        total = sum(
            float(d["base_currency_amount"])
            for d in deals
            if STAGE[d["deal_stage_id"]]["forecast_type"] == "Open"
        )
        contact["open_deals_amount"] = money(total)


TARGET_KIND = {
    "Lead": "leads",
    "Contact": "contacts",
    "SalesAccount": "sales_accounts",
    "Deal": "deals",
}
KIND_TARGET = {v: k for k, v in TARGET_KIND.items()}
STAGE = {s["id"]: s for s in DEAL_STAGES}
PIPELINE_STAGES = {
    p["id"]: [s for s in DEAL_STAGES if s["deal_pipeline_id"] == p["id"]] for p in PIPELINES
}
CURRENCY = {c["id"]: c for c in CURRENCIES}
OUTCOMES_OF = {
    t: [o for o in ACTIVITY_OUTCOMES if o["sales_activity_type_id"] == t] for t in _OUTCOMES
}
ACTIVITY_TYPE = {t["id"]: t for t in ACTIVITY_TYPES}
OUTCOME = {o["id"]: o for o in ACTIVITY_OUTCOMES}

# -- seeding -----------------------------------------------------------------------------

TEAM = [
    ("Sam", "Carter", "Sales Director", 60000001),
    ("Priya", "Raman", "Account Executive", 60000003),
    ("Jonas", "Weber", "Account Executive", 60000002),
    ("Maya", "Brooks", "Account Executive", 60000001),
    ("Tariq", "Haddad", "Sales Development Rep", 60000002),
    ("Lucia", "Costa", "Customer Success Manager", 60000004),
]
OUR_DOMAIN = "brightwave.io"


def _user(i: int, first: str, last: str, title: str, territory: int, fake: Fake) -> Row:
    return {
        "id": ID_BASE["users"] + i,
        "display_name": f"{first} {last}",
        "email": f"{first.lower()}.{last.lower()}@{OUR_DOMAIN}",
        "is_active": True,
        "work_number": fake.phone(),
        "mobile_number": fake.phone(),
        "job_title": title,
        "territory_id": territory,
        "avatar": None,
        "type": "FdMultitenant::User",
    }


class _Builder:
    """Builds one seeded account; kept as a class so the steps share the RNG and lists."""

    def __init__(self, seed: int, scale: int, now: datetime) -> None:
        self.seed = seed
        self.fake = Fake(seed, now)
        self.rng = self.fake.rng
        self.scale = max(1, scale)
        self.now = now
        self.db = Db(now=now)
        self.people: dict[int, Person] = {}
        self.companies: dict[int, Company] = {}
        self.emails: set[str] = set()

    # small helpers
    def company(self) -> Company:
        """``Fake.company`` while its names last; past that, cheap variants by city."""
        if len(self.fake._companies) < 600:
            return self.fake.company()
        pick = self.rng.choice
        city, country = pick(CITIES)
        name = f"{pick(COMPANY_A)} {pick(COMPANY_B)} {city}"
        if name in self.fake._companies:
            name = f"{name} {len(self.fake._companies)}"
        self.fake._companies.add(name)
        domain = name.lower().replace(" ", "") + ".com"
        size = pick((8, 25, 60, 150, 400, 1200, 5000))
        return Company(
            f"{name} {pick(COMPANY_SUFFIX)}",
            domain,
            pick(INDUSTRIES),
            size,
            city,
            country,
            self.fake.phone(),
        )

    def owner(self) -> int:
        return self.rng.choice(self.user_ids)

    def unique_email(self, email: str) -> str:
        local, _, domain = email.partition("@")
        candidate, n = email, 1
        while candidate in self.emails:
            n += 1
            candidate = f"{local}{n}@{domain}"
        self.emails.add(candidate)
        return candidate

    def build(self) -> Db:
        for i, (first, last, title, territory) in enumerate(TEAM, 1):
            user = _user(i, first, last, title, territory, self.fake)
            self.db.users[user["id"]] = user
        self.user_ids = list(self.db.users)
        self.db.api_keys["sandbox"] = self.user_ids[0]
        n = self.scale
        self.accounts(100 * n)
        self.contacts(300 * n)
        self.leads(80 * n)
        self.deals(150 * n)
        self.tasks(250 * n)
        self.appointments(60 * n)
        self.db._seeded_upto = dict(self.db._next)
        self.db._materialize = self.materialize
        if n == 1:
            self.db.materialize_all()
        for account_id in self.db.sales_accounts:
            self.db.refresh_account_totals(account_id)
        for contact_id in self.db.deals_by_contact:
            self.db.refresh_contact_total(contact_id)
        return self.db

    def accounts(self, count: int) -> None:
        fake, rng = self.fake, self.rng
        industries = {t["name"]: t["id"] for t in INDUSTRY_TYPES}
        for _ in range(count):
            company = self.company()
            created = fake.past(540)
            account_id = self.db.new_id("sales_accounts")
            self.companies[account_id] = company
            contacted = fake.between(created, self.now) if rng.random() < 0.85 else None
            self.db.sales_accounts[account_id] = {
                "id": account_id,
                "name": company.name,
                "address": f"{rng.randint(1, 399)} {rng.choice(['Market', 'High', 'Mill', 'King', 'Oak'])} Street",
                "city": company.city,
                "state": None,
                "zipcode": f"{rng.randint(10000, 99999)}",
                "country": company.country,
                "industry_type_id": industries.get(company.industry),
                "business_type_id": rng.choice(BUSINESS_TYPES[:3])["id"],
                "number_of_employees": company.size,
                "annual_revenue": company.size * rng.choice((40000, 90000, 150000)),
                "website": company.website,
                "phone": company.phone,
                "owner_id": self.owner(),
                "creater_id": self.user_ids[0],
                "updater_id": None,
                "territory_id": COUNTRY_TERRITORY.get(company.country, 60000004),
                "parent_sales_account_id": None,
                "facebook": None,
                "twitter": None,
                "linkedin": f"https://www.linkedin.com/company/{company.domain.split('.')[0]}",
                "open_deals_amount": "0.0",
                "open_deals_count": 0,
                "last_contacted": ts(contacted),
                "last_contacted_mode": rng.choice(["email_outgoing", "call_outgoing"])
                if contacted
                else None,
                "avatar": None,
                "custom_field": {
                    "cf_domain_name": company.domain,
                    "cf_renewal_date": fake.future_date(300).isoformat()
                    if rng.random() < 0.4
                    else None,
                },
                "created_at": ts(created),
                "updated_at": ts(fake.between(created, self.now)),
            }

    def person_row(self, person: Person, created: datetime, owner: int) -> Row:
        rng = self.rng
        email = self.unique_email(person.email)
        contacted = self.fake.between(created, self.now) if rng.random() < 0.8 else None
        return {
            "first_name": person.first,
            "last_name": person.last,
            "display_name": person.name,
            "avatar": None,
            "job_title": person.title,
            "email": email,
            "emails": [
                {
                    "id": self.db.new_id("attendees"),
                    "value": email,
                    "is_primary": True,
                    "label": None,
                }
            ],
            "work_number": person.phone,
            "mobile_number": self.fake.phone() if rng.random() < 0.5 else None,
            "address": None,
            "city": person.city,
            "state": None,
            "zipcode": None,
            "country": person.country,
            "time_zone": None,
            "owner_id": owner,
            "creater_id": self.user_ids[0],
            "updater_id": None,
            "territory_id": COUNTRY_TERRITORY.get(person.country, 60000004),
            "lead_source_id": rng.choice(LEAD_SOURCES)["id"],
            "campaign_id": rng.choice(CAMPAIGNS)["id"] if rng.random() < 0.3 else None,
            "medium": rng.choice([None, "Blog", "Organic search", "Paid search", "Newsletter"]),
            "keyword": None,
            "facebook": None,
            "twitter": None,
            "linkedin": None,
            "lead_score": rng.randint(0, 100),
            "last_seen": ts(self.fake.between(created, self.now)) if rng.random() < 0.4 else None,
            "last_contacted": ts(contacted),
            "last_contacted_mode": rng.choice(["email_outgoing", "email_incoming", "call_outgoing"])
            if contacted
            else None,
            "created_at": ts(created),
            "updated_at": ts(self.fake.between(created, self.now)),
        }

    def contacts(self, count: int) -> None:
        rng, fake = self.rng, self.fake
        account_ids = list(self.db.sales_accounts)
        statuses = [s["id"] for s in CONTACT_STATUSES]
        for i in range(count):
            account_id = account_ids[i % len(account_ids)] if rng.random() < 0.92 else None
            company = self.companies.get(account_id) if account_id else None
            person = fake.person(company)
            account = self.db.sales_accounts.get(account_id or 0)
            created = (
                fake.between(_dt(account["created_at"]), self.now) if account else fake.past(400)
            )
            owner = account["owner_id"] if account and rng.random() < 0.8 else self.owner()
            contact_id = self.db.new_id("contacts")
            self.people[contact_id] = person
            row = {"id": contact_id, **self.person_row(person, created, owner)}
            row.update(
                contact_status_id=rng.choice(statuses),
                sales_account_id=account_id,
                open_deals_amount="0.0",
                custom_field={
                    "cf_preferred_language": rng.choice(LANGUAGES[:3])
                    if rng.random() < 0.5
                    else None,
                    "cf_newsletter": rng.random() < 0.3,
                },
                _accounts=[{"id": account_id, "is_primary": True}] if account_id else [],
            )
            self.db.contacts[contact_id] = row
            self.db.link_contact(row)

    def leads(self, count: int) -> None:
        rng, fake = self.rng, self.fake
        for _ in range(count):
            company = self.company()
            person = fake.person(company)
            created = fake.past(200)
            lead_id = self.db.new_id("leads")
            self.people[lead_id] = person
            stage = rng.choice(LEAD_STAGES)
            row = {"id": lead_id, **self.person_row(person, created, self.owner())}
            if rng.random() < 0.1:
                row["owner_id"] = None
            row.update(
                lead_stage_id=stage["id"],
                lead_reason_id=rng.choice(LEAD_REASONS)["id"]
                if stage["name"] == "Unqualified"
                else None,
                stage_updated_time=row["updated_at"],
                company={
                    "id": lead_id,
                    "name": company.name,
                    "city": company.city,
                    "country": company.country,
                    "website": company.website,
                    "phone": company.phone,
                    "number_of_employees": company.size,
                    "annual_revenue": None,
                    "industry_type_id": None,
                    "business_type_id": None,
                },
                deal=None,
                custom_field={"cf_primary": rng.random() < 0.2},
            )
            self.db.leads[lead_id] = row

    def deals(self, count: int) -> None:
        rng, fake, db = self.rng, self.fake, self.db
        account_ids = list(db.sales_accounts)
        for _ in range(count):
            account_id = rng.choice(account_ids)
            account = db.sales_accounts[account_id]
            company = self.companies[account_id]
            pipeline_id = PIPELINES[0]["id"] if rng.random() < 0.8 else PIPELINES[1]["id"]
            stages = PIPELINE_STAGES[pipeline_id]
            roll = rng.random()
            if roll < 0.18:
                stage = stages[-2]  # won
            elif roll < 0.32:
                stage = stages[-1]  # lost
            else:
                stage = rng.choice(stages[:-2])
            created = fake.past(330)
            moved = created if stage["position"] == 1 else fake.between(created, self.now)
            closed = stage["forecast_type"] != "Open"
            currency_id = COUNTRY_CURRENCY.get(company.country, 61000001)
            amount = fake.amount()
            contact_ids = sorted(db.contacts_by_account.get(account_id, ()))
            contact_ids = rng.sample(contact_ids, min(len(contact_ids), rng.choice((1, 1, 2))))
            deal_id = db.new_id("deals")
            updated = fake.between(moved, self.now)
            expected = fake.future_date(150) if not closed else moved.date()
            deal = {
                "id": deal_id,
                "name": fake.deal_name(company),
                "amount": money(amount),
                "base_currency_amount": money(
                    amount * float(CURRENCY[currency_id]["exchange_rate"])
                ),
                "currency_id": currency_id,
                "expected_close": expected.isoformat(),
                "closed_date": moved.date().isoformat() if closed else None,
                "stage_updated_time": ts(moved),
                "probability": stage["probability"],
                "deal_stage_id": stage["id"],
                "deal_pipeline_id": pipeline_id,
                "deal_reason_id": rng.choice(DEAL_REASONS)["id"]
                if stage["forecast_type"] == "Lost"
                else None,
                "deal_type_id": DEAL_TYPES[1 if pipeline_id != PIPELINES[0]["id"] else 0]["id"],
                "deal_product_id": rng.choice(DEAL_PRODUCTS)["id"],
                "deal_payment_status_id": PAYMENT_STATUSES[2]["id"]
                if stage["forecast_type"] == "Won"
                else None,
                "lead_source_id": rng.choice(LEAD_SOURCES)["id"],
                # the campaign its first contact came from (the deal's ``campaign``
                # handle embeds it); drawn from no random number, so the stream stays
                "campaign_id": db.contacts[contact_ids[0]]["campaign_id"] if contact_ids else None,
                "territory_id": account["territory_id"],
                "owner_id": account["owner_id"],
                "creater_id": account["owner_id"],
                "updater_id": None,
                "sales_account_id": account_id,
                "contact_ids": contact_ids,
                "custom_field": {
                    "cf_number_of_agents": rng.choice((5, 10, 25, 40, 100)),
                    "cf_competitor": rng.choice(COMPETITORS),
                },
                "created_at": ts(created),
                "updated_at": ts(updated),
            }
            db.deals[deal_id] = deal
            db.link_deal(deal)

    def stage_history(self, fake: Fake, deal: Row, slot: int) -> None:
        """The stage moves a seeded deal went through, the last at ``stage_updated_time``."""
        stage = STAGE[deal["deal_stage_id"]]
        stages = PIPELINE_STAGES[deal["deal_pipeline_id"]]
        if stage["forecast_type"] == "Open":
            path = stages[1 : stage["position"]]
        elif stage["forecast_type"] == "Won":
            path = [*stages[1 : len(stages) - 2], stage]
        else:
            path = [*stages[1 : fake.rng.randint(1, len(stages) - 2)], stage]
        if not path:
            return
        created, moved = _dt(deal["created_at"]), _dt(deal["stage_updated_time"])
        moments = [*sorted(fake.between(created, moved) for _ in path[:-1]), moved]
        for k, (row, when) in enumerate(zip(path, moments, strict=True)):
            data = {"stage_id": row["id"], "stage_name": row["name"]}
            self.event(
                "STAGE_CHANGE",
                "Deal",
                deal["id"],
                when,
                deal["owner_id"],
                deal["name"],
                data,
                event_id=ID_BASE["events"] + slot + 4 + k,
            )

    def event(
        self,
        action: str,
        type_: str,
        id_: int,
        when: datetime,
        user: int | None,
        name: str | None,
        data: Any,
        actionable: tuple[str, int] | None = None,
        event_id: int | None = None,
    ) -> None:
        event_id = event_id or self.db.new_id("events")
        row = {
            "id": event_id,
            "action_type": action,
            "action_data": data,
            "created_at": ts(when),
            "user_activity": user is not None,
            "targetable_type": type_,
            "targetable_id": id_,
            "actionable_type": actionable[0] if actionable else None,
            "actionable_id": actionable[1] if actionable else None,
            "targetable_name": name,
            "user_id": user,
        }
        self.db.events[event_id] = row
        self.db.attach("events", row)

    def pick_target(self, weights: tuple[float, float, float, float]) -> tuple[str, Row]:
        """A random lead/contact/account/deal, by the given weights."""
        type_ = self.rng.choices(TARGET_TYPES, weights)[0]
        table = self.db.table(TARGET_KIND[type_])
        return type_, table[ID_BASE[TARGET_KIND[type_]] + self.rng.randint(1, len(table))]

    def voice(self, type_: str, row: Row, fake: Fake | None = None) -> tuple[Person, Company]:
        """The person and company a timeline entry about ``row`` talks of."""
        fake = fake or self.fake
        if type_ == "Deal":
            contact_id = row["contact_ids"][0] if row["contact_ids"] else None
            person = self.people.get(contact_id) if contact_id else None
            company = self.companies[row["sales_account_id"]]
            return person or fake.person(company), company
        if type_ == "SalesAccount":
            return fake.person(self.companies[row["id"]]), self.companies[row["id"]]
        person = self.people[row["id"]]
        account = self.companies.get(row.get("sales_account_id") or 0)
        return person, account or Company(
            row.get("company", {}).get("name") or "their company", "example.com", "", 0, "", "", ""
        )

    def tasks(self, count: int) -> None:
        rng, fake, db = self.rng, self.fake, self.db
        admin = self.user_ids[0]
        today = self.now.replace(hour=0, minute=0, second=0, microsecond=0)
        for _ in range(count):
            type_, target = self.pick_target((0.15, 0.35, 0.1, 0.4))
            person, company = self.voice(type_, target)
            roll = rng.random()
            status = 0
            if roll < 0.18:
                due = self.now - timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8))
            elif roll < 0.28:
                due = today + timedelta(hours=rng.choice((9, 11, 14, 16, 17)))
            elif roll < 0.36:
                due = today + timedelta(days=1, hours=rng.choice((9, 10, 13, 15)))
            elif roll < 0.65:
                due = today + timedelta(days=rng.randint(2, 30), hours=rng.choice((9, 12, 15)))
            else:
                due = fake.past(300)
                status = 1
            created = min(due, self.now) - timedelta(days=rng.randint(1, 14))
            owner = target.get("owner_id") or self.owner()
            task_id = db.new_id("tasks")
            completed = (
                fake.between(created, min(due + timedelta(days=2), self.now)) if status else None
            )
            row = {
                "id": task_id,
                "status": status,
                "title": fake.task_subject(person, company),
                "description": None if rng.random() < 0.5 else fake.note(person, company),
                "due_date": ts(due),
                "owner_id": owner,
                "creater_id": owner,
                "updater_id": None,
                # other users on the task (the sample task has ``user_ids: [2]``, the
                # ``users`` handle embeds them): the admin follows every fourth task of
                # another owner (no random number drawn, so the stream stays)
                "user_ids": [admin] if owner != admin and task_id % 4 == 0 else [],
                "targetable_type": type_,
                "targetable_id": target["id"],
                "task_type_id": rng.choice((CALL, EMAIL, MEETING, TASK)),
                "outcome_id": OUTCOMES_OF[TASK][0]["id"] if status else None,
                "completed_date": ts(completed),
                "created_at": ts(created),
                "updated_at": ts(completed or created),
            }
            db.tasks[task_id] = row
            db.attach("tasks", row)

    def appointments(self, count: int) -> None:
        rng, fake, db = self.rng, self.fake, self.db
        for _ in range(count):
            type_, target = self.pick_target((0.1, 0.4, 0.1, 0.4))
            person, company = self.voice(type_, target)
            start = (self.now + timedelta(days=rng.randint(-120, 21))).replace(
                hour=rng.choice((9, 10, 11, 14, 15, 16)),
                minute=rng.choice((0, 30)),
                second=0,
                microsecond=0,
            )
            owner = target.get("owner_id") or self.owner()
            appointment_id = db.new_id("appointments")
            kind = rng.choice(
                ("Discovery call", "Product demo", "Pricing review", "Quarterly review")
            )
            past = start < self.now
            row = {
                "id": appointment_id,
                "title": f"{kind} with {company.name}",
                "description": fake.note(person, company) if rng.random() < 0.6 else None,
                "location": rng.choice(("Zoom", "Google Meet", f"{company.name} office", "Phone")),
                "time_zone": "UTC",
                "from_date": ts(start),
                "end_date": ts(start + timedelta(minutes=rng.choice((30, 45, 60)))),
                "is_allday": False,
                "creater_id": owner,
                "outcome_id": rng.choice(OUTCOMES_OF[MEETING])["id"]
                if past and rng.random() < 0.7
                else None,
                "latitude": None,
                "longitude": None,
                "checkedin_at": None,
                "targetable_type": type_,
                "targetable_id": target["id"],
                "_attendees": [
                    {"id": db.new_id("attendees"), "attendee": {"type": "user", "id": owner}},
                ],
                "created_at": ts(start - timedelta(days=rng.randint(1, 10))),
                "updated_at": ts(start - timedelta(days=1)),
            }
            if type_ in ("Contact", "Lead"):
                row["_attendees"].append(
                    {
                        "id": db.new_id("attendees"),
                        "attendee": {"type": type_.lower(), "id": target["id"]},
                    }
                )
            db.appointments[appointment_id] = row
            db.attach("appointments", row)

    # -- timelines: generated per record, on first need (cheap to build at any scale) --

    def materialize(self, type_: str, id_: int) -> None:
        """Notes, calls/meetings/chats, emails and page visits of one record.

        Each record's entries come from their own RNG and carry ids derived from the
        record, so the result is the same whenever (and in whatever order) it is made.
        """
        kind = TARGET_KIND[type_]
        target = self.db.table(kind).get(id_)
        if target is None or id_ > self.db._seeded_upto.get(kind, 0):
            return
        local = id_ - ID_BASE[kind]
        type_index = TARGET_TYPES.index(type_)
        slot = (type_index * 1_000_000 + local) * LAZY_SLOT
        fake = Fake(self.seed * 7_919 + slot, self.now)
        counts = {
            "Lead": (1, 2, 2, 2),
            "Contact": (2, 3, 3, 0),
            "SalesAccount": (2, 1, 0, 0),
            "Deal": (3, 4, 0, 0),
        }[type_]
        person, company = self.voice(type_, target, fake)
        start = _dt(target["created_at"])
        rng = fake.rng
        if type_ == "Deal":
            self.stage_history(fake, target, slot)
        notes, calls, emails, views = (rng.randint(0, c) for c in counts)
        for k in range(notes):
            self.note(fake, type_, target, ID_BASE["notes"] + slot + k, person, company, start)
        for k in range(calls):
            self.call(
                fake, type_, target, ID_BASE["sales_activities"] + slot + k, person, company, start
            )
        for k in range(emails):
            self.email(fake, type_, target, ID_BASE["events"] + slot + k, company, start)
        for k in range(views):
            when = fake.between(start, self.now)
            page = rng.choice(("pricing page", "product tour", "case studies", "integrations page"))
            self.event(
                "PAGE_VIEWS",
                type_,
                id_,
                when,
                None,
                None,
                f"Visited {page}",
                event_id=ID_BASE["events"] + slot + LAZY_SLOT // 2 + k,
            )

    def note(
        self,
        fake: Fake,
        type_: str,
        target: Row,
        note_id: int,
        person: Person,
        company: Company,
        start: datetime,
    ) -> None:
        when = fake.between(start, self.now)
        row = {
            "id": note_id,
            "description": fake.note(person, company),
            "targetable_type": type_,
            "targetable_id": target["id"],
            "creater_id": target.get("owner_id") or self.user_ids[0],
            "created_at": ts(when),
            "updated_at": ts(when),
        }
        self.db.notes[note_id] = row
        self.db.attach("notes", row)

    def call(
        self,
        fake: Fake,
        type_: str,
        target: Row,
        activity_id: int,
        person: Person,
        company: Company,
        start: datetime,
    ) -> None:
        rng = fake.rng
        begin = fake.between(start, self.now)
        activity_type = rng.choice((CALL, CALL, CALL, MEETING, CHAT))
        minutes = (
            rng.choice((5, 10, 15, 30)) if activity_type != MEETING else rng.choice((30, 45, 60))
        )
        title = {
            CALL: f"Call with {person.first}",
            MEETING: f"Meeting with {company.name}",
            CHAT: f"Chat with {person.first}",
        }[activity_type]
        owner = target.get("owner_id") or self.user_ids[0]
        row = {
            "id": activity_id,
            "title": title,
            "notes": fake.note(person, company) if rng.random() < 0.7 else None,
            "start_date": ts(begin),
            "end_date": ts(begin + timedelta(minutes=minutes)),
            "sales_activity_type_id": activity_type,
            "sales_activity_outcome_id": rng.choice(OUTCOMES_OF[activity_type])["id"],
            "owner_id": owner,
            "creater_id": owner,
            "updater_id": None,
            "remote_id": None,
            "import_id": None,
            "conversation_time": ts(begin),
            "targetable_type": type_,
            "targetable_id": target["id"],
            "location": None,
            "latitude": None,
            "longitude": None,
            "checkedin_at": None,
            "custom_field": {},
            "created_at": ts(begin),
            "updated_at": ts(begin),
        }
        self.db.sales_activities[activity_id] = row
        self.db.attach("sales_activities", row)

    def email(
        self, fake: Fake, type_: str, target: Row, event_id: int, company: Company, start: datetime
    ) -> None:
        rng = fake.rng
        replied = rng.random() < 0.35
        subject = rng.choice(
            (
                f"Proposal for {company.name}",
                "Following up on our call",
                "Pricing and next steps",
                f"Intro: Brightwave x {company.name}",
                "Security questionnaire",
            )
        )
        email_id = rng.randint(100000, 999999)
        self.event(
            "EMAIL_REPLIED" if replied else "EMAIL_SENT",
            type_,
            target["id"],
            fake.between(start, self.now),
            target.get("owner_id"),
            None,
            {"email_id": email_id, "subject": ("Re: " if replied else "") + subject},
            ("Email::Conversation", email_id),
            event_id=event_id,
        )


def build(seed: int = 0, scale: int = 1, now: datetime | None = None) -> Db:
    """A seeded Freshsales account anchored at ``now``."""
    return _Builder(seed, scale, now or Fake.NOW).build()
