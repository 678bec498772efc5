"""The Salesloft sandbox's data: one team's records, deterministic from a seed.

Records are plain dicts keyed by the v2 field names. References are stored as bare
integer ids under their v2 key (``task["person"] == 12``, a list of ids for a list of
references: a cadence's ``groups``) and rendered as ``{"_href": ..., "id": ...}`` by
``render``; timestamps are aware ``datetime`` objects rendered with microseconds and
``+00:00``. Keys starting with ``_`` are internal (never rendered), e.g. a note's
``_associated_with_type``, a task's ``_idempotency_key`` or the users who starred a
person (``_starred_by``: a Person shows ``starred`` for the caller, see ``render``).

Values added after the first seeded data (people's stars, e-mails' subjects, error
messages and personalization) come from a second random stream seeded from the same
seed (:class:`_Builder`'s ``aside``), so that every value drawn before them stays as it
was for a given seed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from crmtui.sandbox.fake import CALL_OUTCOMES, Company, Fake, Person

RefPath = str | None | Callable[[dict[str, Any]], str]
"""Where a reference's ``_href`` points: a plural path, None (id only) or a function."""


def _associated(record: dict[str, Any]) -> str:
    return "accounts" if record.get("_associated_with_type") == "account" else "people"


REFS: dict[str, dict[str, RefPath]] = {
    "people": {
        "account": "accounts",
        "owner": "users",
        "last_contacted_by": "users",
        "import": "imports",
        "person_stage": "person_stages",
    },
    "accounts": {
        "owner": "users",
        "creator": "users",
        "last_contacted_by": "users",
        "last_contacted_person": "people",
        "company_stage": "company_stages",
        "account_tier": "account_tiers",
    },
    "tasks": {
        "person": "people",
        "user": "users",
        "created_by_user": "users",
        "completed_by": "users",
    },
    "notes": {"user": "users", "associated_with": _associated, "call": "calls"},
    "calls": {
        "user": "users",
        "action": None,
        "called_person": "people",
        "crm_activity": "crm_activities",
        "note": "notes",
        "cadence": "cadences",
        "step": "steps",
    },
    "emails": {
        "user": "users",
        "recipient": "people",
        "mailing": None,
        "action": None,
        "crm_activity": "crm_activities",
        "cadence": "cadences",
        "step": "cadence_steps",
    },
    "crm_activities": {"person": "people", "user": "users"},
    "call_data_records": {"call": "calls", "user": "users", "called_person": "people"},
    "users": {
        "role": None,  # a role's id is its name ("Admin"), as v2's role_id filter takes
        "phone_client": None,
        "phone_number_assignment": "phone_number_assignments",
        "group": "groups",
        "team": "teams",
    },
    "cadences": {
        "creator": "users",
        "owner": "users",
        "bounced_stage": "cadence_stages",
        "replied_stage": "cadence_stages",
        "added_stage": "cadence_stages",
        "finished_stage": "cadence_stages",
        "groups": "groups",  # a list: the groups the cadence is shared with
    },
    "cadence_memberships": {
        "cadence": "cadences",
        "person": "people",
        "user": "users",
        "latest_action": None,
    },
    "steps": {"details": "steps", "cadence": "cadences"},
    "actions": {
        "cadence": "cadences",
        "person": "people",
        "step": "steps",
        "user": "users",
        "action_details": None,
    },
}

TABLES = (
    "users",
    "groups",
    "person_stages",
    "account_stages",
    "account_tiers",
    "tags",
    "custom_fields",
    "call_dispositions",
    "call_sentiments",
    "imports",
    "accounts",
    "people",
    "cadences",
    "steps",
    "cadence_memberships",
    "tasks",
    "notes",
    "calls",
    "call_data_records",
    "emails",
    "crm_activities",
    "bulk_jobs",
    "bulk_job_results",
    # documented resources the sandbox team starts with none of
    "call_instructions",
    "meetings",
    "meeting_settings",
    "successes",
    "activity_histories",
    "crm_users",
    "email_templates",
    "team_templates",
    "calendar_events",
    "pending_emails",
    "saved_list_views",
    "webhook_subscriptions",
    "conversation_calls",
    "external_emails",
)

PERSON_STAGES = ("New Lead", "Contacted", "Qualified", "Opportunity", "Customer", "Not Interested")
ACCOUNT_STAGES = ("Prospecting", "Qualified", "Proposal", "Customer", "Churned")
ACCOUNT_TIERS = ("Tier 1", "Tier 2", "Tier 3")
DISPOSITIONS = ("Connected", "Left Voicemail", "No Answer", "Busy", "Wrong Number", "Interested")
SENTIMENTS = ("Positive", "Neutral", "Negative")
TAGS = ("VIP", "Enterprise", "Inbound", "Webinar", "Partner", "Renewal", "Hot Lead", "Cold Lead")
GROUPS = (("Sales Team", None), ("Inside Sales", 1), ("Field Sales", 1))
TIME_ZONES = ("America/New_York", "Europe/London", "America/Chicago", "Europe/Berlin")
JOB_ROLES = ("Sales Representative", "Account Executive", "SDR", "Sales Manager")
CADENCES = (
    ("Inbound Lead Follow-up", ("email", "phone", "email", "other", "email")),
    ("Q4 Enterprise Outreach", ("email", "phone", "email", "phone", "email", "email")),
    ("Webinar Attendees", ("email", "email", "phone")),
    ("Re-engage Closed Lost", ("email", "phone", "email", "email")),
)
STEP_NAMES = {
    "email": ("Intro Email", "Follow-up Email", "Value Email", "Break-up Email"),
    "phone": ("Intro Call", "Follow-up Call"),
    "other": ("LinkedIn Connect",),
}
CUSTOM_FIELDS = (
    ("Lead Source", "person", "text"),
    ("Budget Confirmed", "person", "text"),
    ("Contract Renewal", "company", "date"),
    ("Segment", "company", "text"),
)
TIMELINE_PEOPLE = 3000
DISTINCT_COMPANIES = 600
LEAD_SOURCES = ("Website", "Webinar", "Referral", "Trade Show", "Outbound")
SCOPED = {"emails": ("subject", "error_message")}
"""The fields the definition marks sensitive ("requires a specific scope"): a record shows
them only where the caller names them (emails' ``scoped_fields``, see ``render``)."""
EMAIL_SUBJECTS = (
    "Quick question, {first}",
    "{company} and your Q3 pipeline",
    "Following up on our call",
    "Ideas for {company}",
    "{first}, worth a conversation?",
    "Re: next steps",
    "Resources from the webinar",
)
BOUNCE = "550 5.1.1 The email account that you tried to reach does not exist."


def iso(dt: datetime) -> str:
    """A timestamp as Salesloft writes it: UTC, six fractional digits, ``+00:00``."""
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass
class Db:
    """Every table of the team, plus the API tokens that reach it."""

    now: datetime
    tables: dict[str, dict[int, dict[str, Any]]] = field(
        default_factory=lambda: {name: {} for name in TABLES}
    )
    tokens: dict[str, int] = field(default_factory=dict)  # bearer token -> user id
    team_id: int = 1
    _ids: dict[str, int] = field(default_factory=dict)
    _last_stamp: datetime | None = None

    def __getitem__(self, table: str) -> dict[int, dict[str, Any]]:
        return self.tables[table]

    def row(self, table: str, id_: int | None) -> dict[str, Any] | None:
        """A record of ``table`` by id; None when there is no id or no such record."""
        return None if id_ is None else self.tables[table].get(id_)

    def new_id(self, table: str) -> int:
        base = {"people": 1000, "accounts": 500, "tasks": 5000, "notes": 9000}.get(table, 100)
        self._ids[table] = self._ids.get(table, base) + 1
        return self._ids[table]

    def insert(self, table: str, record: dict[str, Any]) -> dict[str, Any]:
        """Add a record, giving it the next id of its table unless it has one."""
        if "id" not in record:
            record = {"id": self.new_id(table), **record}
        self.tables[table][record["id"]] = record
        return record

    def stamp(self, now: datetime) -> datetime:
        """A write's ``updated_at``: the clock, but strictly after the previous write."""
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + timedelta(microseconds=1)
        self._last_stamp = now
        return now


def seniority(title: str | None) -> str:
    """A person's ``job_seniority`` (one of the definition's values) read from the title,
    without the random stream (so every other seeded value stays as it was)."""
    text = (title or "").lower()
    tokens = set(re.findall(r"[a-z]+", text))
    for words, level in (
        (("ceo", "cto", "cfo", "coo", "chief", "founder", "president"), "executive"),
        (("vp", "vice president"), "vice_president"),
        (("director", "head of"), "director"),
        (("manager", "lead"), "manager"),
    ):
        if any(word in tokens or (" " in word and word in text) for word in words):
            return level
    return "individual_contributor" if text else "unknown"


def href(base: str, path: str, id: int) -> str:
    return f"{base}{path}/{id}"


def render(
    table: str,
    record: dict[str, Any],
    base: str,
    *,
    viewer: int | None = None,
    scoped: tuple[str, ...] | list[str] = (),
) -> dict[str, Any]:
    """A stored record as the v2 API returns it (``base`` ends with ``/v2/``) to user
    ``viewer``: a person's ``starred`` is whether the viewer starred it (decision: the
    Person's one boolean is the caller's own star, as in Salesloft's app); a field of
    :data:`SCOPED` is shown only when named in ``scoped`` (absent otherwise)."""
    refs = REFS.get(table, {})
    hidden = {k for k in SCOPED.get(table, ()) if k not in scoped}
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key.startswith("_") or key in hidden:
            continue
        if key in refs:
            out[key] = _ref(refs[key], record, value, base)
        elif isinstance(value, datetime):
            out[key] = iso(value)
        elif isinstance(value, dict):
            out[key] = dict(value)
        elif isinstance(value, list):
            out[key] = list(value)
        else:
            out[key] = value
    if table == "people":
        out["starred"] = viewer is not None and viewer in record.get("_starred_by", ())
    return out


def _ref(path: RefPath, record: dict[str, Any], value: Any, base: str) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_ref(path, record, one, base) for one in value]
    if path is None:
        return {"id": value}
    where = path(record) if callable(path) else path
    return {"_href": href(base, where, value), "id": value}


# -- building the team -------------------------------------------------------------


class _Builder:
    """Fills a ``Db`` from a ``Fake``: config lists first, then records and timelines."""

    def __init__(self, seed: int, scale: int, now: datetime) -> None:
        self.fake = Fake(seed, now)
        self.rng = self.fake.rng
        # values added later draw from their own stream (module docstring)
        self.aside = random.Random(f"salesloft-aside:{seed}")
        self.scale = max(1, scale)
        self.now = now
        self.db = Db(now=now)
        self.year_ago = now - timedelta(days=365)

    def build(self) -> Db:
        self.config()
        self.users()
        self.accounts_and_people()
        self.cadences()
        self.tasks()
        self.timelines()
        self.stars()
        self.email_contents()
        self.db._last_stamp = self.now
        return self.db

    # -- config ---------------------------------------------------------------------

    def config(self) -> None:
        created = self.year_ago - timedelta(days=200)
        for i, (name, parent) in enumerate(GROUPS, 1):
            stamp = created + timedelta(minutes=i)
            self.db.insert(
                "groups",
                {"id": i, "name": name, "parent_id": parent, "created_at": stamp,
                 "updated_at": stamp},
            )  # fmt: skip
        for table, names in (
            ("person_stages", PERSON_STAGES),
            ("account_stages", ACCOUNT_STAGES),
            ("account_tiers", ACCOUNT_TIERS),
        ):
            for i, name in enumerate(names, 1):
                stamp = created + timedelta(hours=i, microseconds=i)
                self.db.insert(
                    table,
                    {"id": i, "name": name, "created_at": stamp, "updated_at": stamp, "order": i},
                )
        for table, names in (("call_dispositions", DISPOSITIONS), ("call_sentiments", SENTIMENTS)):
            for i, name in enumerate(names, 1):
                stamp = created + timedelta(minutes=i)
                self.db.insert(
                    table, {"id": i, "created_at": stamp, "updated_at": stamp, "name": name}
                )
        for i, name in enumerate(TAGS, 1):
            self.db.insert("tags", {"id": i, "name": name})
        for i, (name, kind, value_type) in enumerate(CUSTOM_FIELDS, 1):
            stamp = created + timedelta(days=i)
            self.db.insert(
                "custom_fields",
                {
                    "id": i,
                    "name": name,
                    "field_type": kind,
                    "value_type": value_type,
                    "created_at": stamp,
                    "updated_at": stamp,
                },
            )
        for i, name in enumerate(("Trade show leads", "Webinar attendees"), 1):
            stamp = self.fake.past(300)
            self.db.insert(
                "imports",
                {
                    "id": i,
                    "created_at": stamp,
                    "updated_at": stamp,
                    "name": name,
                    "current_people_count": 0,
                    "imported_people_count": 0,
                },
            )

    def users(self) -> None:
        count = 8 + 2 * (self.scale - 1) // 10
        for i in range(1, count + 1):
            person = self.fake.person()
            email = f"{person.first}.{person.last}@sandbox-sales.test".lower().replace("'", "")
            stamp = self.year_ago - timedelta(days=self.rng.randint(10, 400))
            self.db.insert(
                "users",
                {
                    "id": i,
                    "guid": f"{self.rng.getrandbits(64):016x}-{i:04d}",
                    "created_at": stamp,
                    "updated_at": stamp,
                    "name": person.name,
                    "first_name": person.first,
                    "last_name": person.last,
                    "job_role": "Sales Manager" if i == 1 else self.fake.pick(JOB_ROLES),
                    "active": i != count,  # one former rep
                    "time_zone": TIME_ZONES[i % len(TIME_ZONES)],
                    "slack_username": person.first.lower(),
                    "twitter_handle": None,
                    "email": email,
                    "email_client_email_address": email,
                    "sending_email_address": email,
                    "from_address": f"{person.name} <{email}>",
                    "full_email_address": f"{person.name} <{email}>",
                    "bcc_email_address": None,
                    "email_signature": f"Best regards,\n{person.name}",
                    "email_signature_type": "text",
                    "email_signature_click_tracking_disabled": False,
                    "team_admin": i == 1,
                    "local_dial_enabled": True,
                    "click_to_call_enabled": True,
                    "email_client_configured": True,
                    "crm_connected": False,
                    "external_feature_flags": {},
                    "phone_client": 7000 + i,
                    "phone_number_assignment": 8000 + i,
                    "group": 2 if i % 2 else 3,
                    "team": self.db.team_id,
                    # the definition's User carries both; set without the random stream,
                    # so every other seeded record stays as it was
                    "work_country": "US" if i % 3 else "GB",
                    "role": "Admin" if i == 1 else "User",
                },
            )
        self.db.tokens["sandbox"] = 1
        self.active_users = [u["id"] for u in self.db["users"].values() if u["active"]]

    # -- accounts and people ---------------------------------------------------------

    def accounts_and_people(self) -> None:
        self.people_by_account: dict[int, list[int]] = {}
        self.emails: set[str] = set()
        made: list[Company] = []
        for i in range(100 * self.scale):
            company = self.fake.company() if i < DISTINCT_COMPANIES else self._branch(made, i)
            made.append(company)
            account = self.account(company)
            ids = [self.person(self.fake.person(company), company, account) for _ in range(3)]
            self.people_by_account[account["id"]] = ids
            account["counts"]["people"] = len(ids)

    def _branch(self, made: list[Company], i: int) -> Company:
        """Past the distinct names (big scales): a numbered sibling of an earlier company."""
        base = made[i % DISTINCT_COMPANIES]
        stem, dot, tld = base.domain.partition(".")
        return replace(base, name=f"{base.name} {i}", domain=f"{stem}{i}{dot}{tld}")

    def account(self, company: Company) -> dict[str, Any]:
        created = self.fake.past(365)
        short = company.name.rsplit(" ", 1)[0]
        return self.db.insert(
            "accounts",
            {
                "created_at": created,
                "updated_at": self.fake.between(created, self.now),
                "archived_at": None,
                "name": company.name,
                "domain": company.domain,
                "conversational_name": short,
                "description": f"{short} works in {company.industry.lower()}.",
                "phone": company.phone,
                "website": company.website,
                "linkedin_url": f"https://www.linkedin.com/company/{company.domain.split('.')[0]}",
                "twitter_handle": None,
                "street": f"{self.rng.randint(1, 250)} Market Street",
                "city": company.city,
                "state": None,
                "postal_code": None,
                "country": company.country,
                "locale": None,
                "industry": company.industry,
                "company_type": self.fake.pick(("Private", "Public")),
                "founded": str(self.rng.randint(1950, 2020)),
                "revenue_range": None,
                "size": str(company.size),
                "crm_id": None,
                "crm_url": None,
                "crm_object_type": None,
                "owner_crm_id": None,
                "last_contacted_at": None,
                "last_contacted_type": None,
                "do_not_contact": False,
                "custom_fields": {"Segment": self.fake.pick(("SMB", "Mid-Market", "Enterprise"))},
                "user_relationships": {},  # a synced CRM's account team: none here
                "tags": self.rng.sample(TAGS, self.rng.randint(0, 2)),
                "counts": {"people": 0},
                "owner": self.fake.pick(self.active_users),
                "creator": self.fake.pick(self.active_users),
                "last_contacted_by": None,
                "last_contacted_person": None,
                "company_stage": self.rng.randint(1, len(ACCOUNT_STAGES)),
                "account_tier": self.rng.randint(1, len(ACCOUNT_TIERS)),
            },
        )

    def person(self, p: Person, company: Company, account: dict[str, Any]) -> int:
        created = self.fake.between(account["created_at"], self.now)
        email = p.email
        while email in self.emails:
            email = email.replace("@", f"{self.rng.randint(2, 9)}@", 1)
        self.emails.add(email)
        record = self.db.insert(
            "people",
            {
                "created_at": created,
                "updated_at": self.fake.between(created, self.now),
                "last_contacted_at": None,
                "last_replied_at": None,
                "first_name": p.first,
                "last_name": p.last,
                "display_name": p.name,
                "email_address": email,
                "full_email_address": f"{p.name} <{email}>",
                "secondary_email_address": None,
                "personal_email_address": None,
                "phone": p.phone,
                "phone_extension": None,
                "home_phone": None,
                "mobile_phone": self.fake.phone() if self.rng.random() < 0.4 else None,
                "linkedin_url": None,
                "title": p.title,
                "city": p.city,
                "state": None,
                "country": p.country,
                "work_city": p.city,
                "work_state": None,
                "work_country": p.country,
                "crm_url": None,
                "crm_id": None,
                "crm_object_type": None,
                "owner_crm_id": None,
                "person_company_name": company.name,
                "person_company_website": company.website,
                "person_company_industry": company.industry,
                "do_not_contact": self.rng.random() < 0.03,
                "bouncing": False,
                "locale": None,
                "personal_website": None,
                "twitter_handle": None,
                "last_contacted_type": None,
                "job_seniority": seniority(p.title),
                "eu_resident": p.country in ("Germany", "France", "Netherlands", "Ireland"),
                "custom_fields": {"Lead Source": self.fake.pick(LEAD_SOURCES)},
                "tags": self.rng.sample(TAGS, self.rng.randint(0, 2)),
                "contact_restrictions": [],
                "counts": {
                    "emails_sent": 0,
                    "emails_viewed": 0,
                    "emails_clicked": 0,
                    "emails_replied_to": 0,
                    "emails_bounced": 0,
                    "calls": 0,
                },
                "account": account["id"],
                "owner": account["owner"],
                "last_contacted_by": None,
                "import": self.rng.choice((None, None, None, 1, 2)),
                "person_stage": self.rng.randint(1, len(PERSON_STAGES)),
            },
        )
        return int(record["id"])

    # -- cadences --------------------------------------------------------------------

    def cadences(self) -> None:
        people = list(self.db["people"])
        for name, step_types in CADENCES:
            created = self.fake.past(300)
            owner = self.fake.pick(self.active_users)
            cadence = self.db.insert(
                "cadences",
                {
                    "created_at": created,
                    "updated_at": self.fake.between(created, self.now),
                    "archived_at": None,
                    "team_cadence": self.rng.random() < 0.5,
                    "shared": True,
                    "remove_bounces_enabled": True,
                    "remove_replies_enabled": True,
                    "opt_out_link_included": True,
                    "draft": False,
                    "cadence_framework_id": None,
                    "cadence_function": "outbound",
                    "name": name,
                    "tags": [],
                    "groups": self.cadence_groups(owner),
                    "creator": owner,
                    "owner": owner,
                    "bounced_stage": 6,
                    "replied_stage": 3,
                    "added_stage": 2,
                    "finished_stage": 6,
                    "cadence_priority": "normal",
                    "counts": {"cadence_people": 0, "target_daily_people": 20},
                },
            )
            self.steps(cadence, step_types)
            members = self.rng.sample(people, min(len(people), 30 * self.scale))
            for person_id in members:
                self.membership(cadence, person_id)
            cadence["counts"]["cadence_people"] = len(members)

    def cadence_groups(self, owner: int) -> list[int]:
        """The groups a seeded cadence is shared with (decision, without the random
        stream): its owner's group (Inside or Field Sales); the first cadence also the
        whole Sales Team (group 1, their parent), the last none (shared with no group)."""
        count = len(self.db["cadences"])
        if count == len(CADENCES) - 1:
            return []
        own = self.db["users"][owner]["group"]
        return [1, own] if count == 0 else [own]

    def steps(self, cadence: dict[str, Any], types: tuple[str, ...]) -> None:
        day = 1
        for number, kind in enumerate(types, 1):
            names = STEP_NAMES[kind]
            stamp = cadence["created_at"] + timedelta(minutes=number)
            sid = self.db.new_id("steps")
            self.db.insert(
                "steps",
                {
                    "id": sid,
                    "created_at": stamp,
                    "updated_at": stamp,
                    "disabled": False,
                    "type": kind,
                    "display_name": f"{names[(number - 1) % len(names)]}",
                    "day": day,
                    "step_number": number,
                    "details": sid,
                    "cadence": cadence["id"],
                },
            )
            day += self.rng.choice((1, 2, 3))

    def membership(self, cadence: dict[str, Any], person_id: int) -> None:
        added = self.fake.between(cadence["created_at"], self.now)
        on = self.rng.random() < 0.6
        self.db.insert(
            "cadence_memberships",
            {
                "added_at": added,
                "created_at": added,
                "updated_at": self.fake.between(added, self.now),
                "person_deleted": False,
                "currently_on_cadence": on,
                "current_state": "active" if on else self.fake.pick(("finished", "removed")),
                "cadence": cadence["id"],
                "person": person_id,
                "user": self.db["people"][person_id]["owner"],
                "latest_action": self.rng.randint(100000, 999999),
                "counts": {
                    "views": self.rng.randint(0, 9),
                    "clicks": self.rng.randint(0, 3),
                    "replies": self.rng.randint(0, 1),
                    "calls": self.rng.randint(0, 2),
                    "sent_emails": self.rng.randint(0, 4),
                    "bounces": 0,
                },
            },
        )

    # -- tasks -----------------------------------------------------------------------

    def tasks(self) -> None:
        """~250 tasks: a third done, the rest overdue, today, tomorrow, or later."""
        people = list(self.db["people"].values())
        today = self.now.date()
        offsets = (-20, -9, -3, -1, 0, 0, 0, 1, 1, 2, 3, 5, 7, 9, 14, 30)
        for _ in range(250 * self.scale):
            person = self.fake.pick(people)
            account = self.db["accounts"][person["account"]]
            done = self.rng.random() < 0.3
            due = today + timedelta(
                days=self.rng.randint(-60, -1) if done else self.fake.pick(offsets)
            )
            due_at = datetime(due.year, due.month, due.day, self.rng.randint(13, 21), 0, tzinfo=UTC)
            created = min(self.fake.between(person["created_at"], self.now), due_at)
            completed = self.fake.between(created, min(due_at, self.now)) if done else None
            kind = self.fake.pick(("call", "email", "general"))
            owner = person["owner"]
            self.db.insert(
                "tasks",
                {
                    "created_at": created,
                    "updated_at": completed or created,
                    "due_date": due.isoformat(),
                    "due_at": due_at,
                    "subject": self.fake.task_subject(self._fake_person(person), self._co(account)),
                    "current_state": "completed" if done else "scheduled",
                    "task_type": kind,
                    "remind_at": None,
                    "completed_at": completed,
                    "description": None,
                    "person": person["id"],
                    "user": owner,
                    "created_by_user": owner,
                    "completed_by": owner if done else None,
                },
            )

    @staticmethod
    def _fake_person(record: dict[str, Any]) -> Person:
        return Person(
            record["first_name"],
            record["last_name"],
            record["email_address"],
            record["phone"],
            record["title"],
            record["city"],
            record["country"],
        )

    @staticmethod
    def _co(account: dict[str, Any]) -> Company:
        return Company(
            account["name"],
            account["domain"],
            account["industry"],
            int(account["size"]),
            account["city"],
            account["country"],
            account["phone"],
        )

    # -- timelines ---------------------------------------------------------------------

    def timelines(self) -> None:
        """Notes, calls (with call data records), emails and CRM activities per person.

        Only the first ``TIMELINE_PEOPLE`` people get a history, so that big scales stay
        quick to build (the rest read as freshly imported leads).
        """
        for person in list(self.db["people"].values())[:TIMELINE_PEOPLE]:
            account = self.db["accounts"][person["account"]]
            events: list[tuple[datetime, str]] = []
            for _ in range(self.rng.randint(0, 3)):
                events.append((self.fake.between(person["created_at"], self.now), "email"))
            for _ in range(self.rng.randint(0, 2)):
                events.append((self.fake.between(person["created_at"], self.now), "call"))
            for _ in range(self.rng.randint(0, 2)):
                events.append((self.fake.between(person["created_at"], self.now), "note"))
            if self.rng.random() < 0.25:
                events.append((self.fake.between(person["created_at"], self.now), "meeting"))
            for when, kind in sorted(events):
                getattr(self, kind)(person, account, when)
            if self.rng.random() < 0.2:
                self.note(person, account, self.fake.between(account["created_at"], self.now), True)

    def contacted(
        self, person: dict[str, Any], account: dict[str, Any], when: datetime, how: str
    ) -> None:
        user = person["owner"]
        person.update(last_contacted_at=when, last_contacted_type=how, last_contacted_by=user)
        person["updated_at"] = max(person["updated_at"], when)
        account["updated_at"] = max(account["updated_at"], when)
        account.update(
            last_contacted_at=when,
            last_contacted_type=how,
            last_contacted_by=user,
            last_contacted_person=person["id"],
        )

    def note(
        self,
        person: dict[str, Any],
        account: dict[str, Any],
        when: datetime,
        on_account: bool = False,
        call: int | None = None,
        content: str | None = None,
    ) -> dict[str, Any]:
        text = content or self.fake.note(self._fake_person(person), self._co(account))
        return self.db.insert(
            "notes",
            {
                "content": text,
                "created_at": when,
                "updated_at": when,
                "user": person["owner"],
                "associated_with": account["id"] if on_account else person["id"],
                "call": call,
                "_associated_with_type": "account" if on_account else "person",
            },
        )

    def call(self, person: dict[str, Any], account: dict[str, Any], when: datetime) -> None:
        outcome = self.fake.pick(CALL_OUTCOMES)
        disposition = {"Left voicemail": "Left Voicemail", "Wrong number": "Wrong Number"}.get(
            outcome, outcome
        )
        connected = outcome == "Connected"
        duration = self.rng.randint(120, 1500) if connected else self.rng.randint(5, 40)
        crm = self.crm_activity(person, when, "Call", f"Call: {disposition}") if connected else None
        call = self.db.insert(
            "calls",
            {
                "to": person["phone"],
                "duration": duration,
                "sentiment": self.fake.pick(SENTIMENTS) if connected else None,
                "disposition": disposition,
                "created_at": when,
                "updated_at": when + timedelta(seconds=duration),
                "recordings": [],
                "user": person["owner"],
                "action": None,
                "called_person": person["id"],
                "crm_activity": crm,
                "note": None,
                "cadence": None,
                "step": None,
            },
        )
        if connected:
            note = self.note(person, account, when + timedelta(seconds=duration), call=call["id"])
            call["note"] = note["id"]
        self.db.insert(
            "call_data_records",
            {
                "created_at": when,
                "updated_at": when + timedelta(seconds=duration),
                "to": person["phone"],
                "from": "+1 415-555-0100",
                "duration": duration,
                "direction": "outbound",
                "status": "completed" if connected else "no-answer",
                "call_type": "voice",
                "call_uuid": f"{self.rng.getrandbits(64):016x}",
                "recording": None,
                "call": call["id"],
                "user": person["owner"],
                "called_person": person["id"],
            },
        )
        person["counts"]["calls"] += 1
        self.contacted(person, account, when, "call")

    def email(self, person: dict[str, Any], account: dict[str, Any], when: datetime) -> None:
        bounced = self.rng.random() < 0.03
        views = 0 if bounced else self.rng.randint(0, 6)
        replies = 1 if views and self.rng.random() < 0.25 else 0
        membership = self.rng.random() < 0.4
        self.db.insert(
            "emails",
            {
                "created_at": when - timedelta(minutes=2),
                "updated_at": when + timedelta(hours=views),
                "recipient_email_address": person["email_address"],
                # a bounce is no status of its own (the definition's 12 have none): the
                # email was sent, and ``bounced`` says it came back
                "status": "sent",
                "bounced": bounced,
                "send_after": when - timedelta(minutes=1),
                "sent_at": when,
                "view_tracking": True,
                "click_tracking": True,
                "headers": {"cc": None, "bcc": None},
                "counts": {
                    "clicks": self.rng.randint(0, views),
                    "views": views,
                    "replies": replies,
                    "unique_devices": min(views, 2),
                    "unique_locations": min(views, 1),
                    "attachments": 0,
                },
                "user": person["owner"],
                "recipient": person["id"],
                "mailing": self.rng.randint(100000, 999999),
                "action": None,
                "crm_activity": None,
                "cadence": self.rng.randint(1, len(CADENCES)) + 100 if membership else None,
                "step": None,
                "_account": account["id"],
            },
        )
        counts = person["counts"]
        counts["emails_sent"] += 1
        counts["emails_viewed"] += 1 if views else 0
        counts["emails_replied_to"] += replies
        counts["emails_bounced"] += 1 if bounced else 0
        if replies:
            person["last_replied_at"] = when + timedelta(hours=self.rng.randint(1, 48))
        self.contacted(person, account, when, "email")

    def meeting(self, person: dict[str, Any], account: dict[str, Any], when: datetime) -> None:
        subject = self.fake.pick(("Discovery meeting", "Product demo", "Pricing review"))
        self.crm_activity(person, when, "Meeting", f"{subject} with {person['display_name']}")

    def crm_activity(self, person: dict[str, Any], when: datetime, kind: str, subject: str) -> int:
        record = self.db.insert(
            "crm_activities",
            {
                "created_at": when,
                "updated_at": when + timedelta(minutes=1),
                "subject": subject,
                "description": f"Logged from Salesloft for {person['display_name']}.",
                "crm_id": f"00T{self.rng.getrandbits(48):012X}",
                "activity_type": kind,
                "error": None,
                "custom_crm_fields": {},
                "person": person["id"],
                "user": person["owner"],
            },
        )
        return int(record["id"])

    # -- values drawn from the second stream (module docstring) --------------------------

    def stars(self) -> None:
        """People starred by users (``_starred_by``, user ids): about one in ten by its
        owner, one in twenty by the team's manager (user 1)."""
        for person in self.db["people"].values():
            starred = []
            if self.aside.random() < 0.1:
                starred.append(person["owner"])
            if self.aside.random() < 0.05 and 1 not in starred:
                starred.append(1)
            person["_starred_by"] = starred

    def email_contents(self) -> None:
        """Each e-mail's ``subject``, ``error_message`` (a bounce's) and
        ``personalization``: the percentage of it written by hand, as the definition's
        string with one decimal (decision: a one-off e-mail is ``"100.0"``, a cadence
        e-mail from its template ``"0.0"``-``"60.0"`` in halves)."""
        for email in self.db["emails"].values():
            person = self.db["people"][email["recipient"]]
            account = self.db["accounts"][email["_account"]]
            company = account["name"].rsplit(" ", 1)[0]
            line = self.aside.choice(EMAIL_SUBJECTS)
            email["subject"] = line.format(first=person["first_name"], company=company)
            email["error_message"] = BOUNCE if email["bounced"] else None
            one_off = email["cadence"] is None
            share = 100.0 if one_off else self.aside.randint(0, 120) / 2
            email["personalization"] = f"{share:.1f}"


def build(seed: int = 0, scale: int = 1, now: datetime | None = None) -> Db:
    """The sandbox team for ``seed`` at ``scale`` (1 ≈ 100 accounts, 300 people)."""
    return _Builder(seed, scale, now or Fake.NOW).build()


def today_in(tz_name: str, now: datetime) -> date:
    """The calendar date at ``now`` in an IANA time zone (UTC if unknown)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return now.astimezone(ZoneInfo(tz_name)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.astimezone(UTC).date()
