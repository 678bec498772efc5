"""The ActiveCampaign sandbox's data: records stored in v3 wire shape, built from a seed.

Records are plain dicts exactly as the API sends them (ids, numbers and flags as strings
where v3 uses strings), without their ``links``, which the app adds when rendering.
``Db`` also owns the side effects every write shares: ids, timestamps in the account's
zone, deal activities, and the derived ``nextdate``/``nexttaskid``/``activitycount``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, overload
from zoneinfo import ZoneInfo

from crmtui.sandbox.fake import Company, Fake, Person

ZONE = ZoneInfo("America/Chicago")
TOKEN = "sandbox"
FORECAST_LABEL = "Forecasted Close Date"
EMAIL_TYPES = ("email", "connection_email", "LinkData")

Row = dict[str, Any]

PIPELINES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "Sales Pipeline",
        "usd",
        ("To Contact", "Qualified", "Demo Scheduled", "Proposal Sent", "Negotiation", "Closing"),
    ),
    ("Renewals", "usd", ("Upcoming", "In Review", "Quote Sent", "Signed")),
    ("EMEA Partners", "eur", ("Lead In", "Discovery", "Proposal", "Contract", "Closing")),
)
STAGE_COLORS = ("C481DF", "5F9DF7", "48C9B0", "F5B041", "EC7063", "58D68D")
TASK_TYPES = ("Call", "Email", "Lunch", "Meeting")
ROLES = ("Decision Maker", "Champion", "Influencer", "Technical Buyer")
LEAD_SOURCES = ["Website", "Referral", "Partner", "Event", "Outbound"]
TAGS = ("vip", "newsletter", "trial")


@overload
def stamp(dt: datetime) -> str: ...
@overload
def stamp(dt: None) -> None: ...
@overload
def stamp(dt: datetime | None) -> str | None: ...
def stamp(dt: datetime | None) -> str | None:
    """A timestamp as AC writes it: ISO 8601, whole seconds, in the account's zone."""
    if dt is None:
        return None
    return dt.astimezone(ZONE).isoformat(timespec="seconds")


def plain_stamp(dt: datetime) -> str:
    """The zone-less ``YYYY-MM-DD HH:MM:SS`` form (deal ``edate``, custom field data)."""
    return dt.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S")


def parse_stamp(text: str | None) -> datetime | None:
    """A timestamp or date from a request or a record; zone-less means the account zone."""
    if not text or text.startswith("0000-00-00"):
        return None
    value = text.strip().replace(" ", "T", 1) if len(text.strip()) > 10 else text.strip()
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=ZONE)


@dataclass
class Db:
    """Every table of one sandbox account, keyed by id (a numeric string)."""

    now: datetime
    tokens: dict[str, str] = field(default_factory=lambda: {TOKEN: "1"})  # key -> user id
    users: dict[str, Row] = field(default_factory=dict)
    accounts: dict[str, Row] = field(default_factory=dict)
    contacts: dict[str, Row] = field(default_factory=dict)
    contact_tags: dict[str, list[str]] = field(default_factory=dict)  # contact -> tag ids
    groups: dict[str, Row] = field(default_factory=dict)
    stages: dict[str, Row] = field(default_factory=dict)
    deals: dict[str, Row] = field(default_factory=dict)
    deal_scores: dict[str, dict[str, int]] = field(default_factory=dict)  # deal -> score
    tasktypes: dict[str, Row] = field(default_factory=dict)
    tasks: dict[str, Row] = field(default_factory=dict)
    activities: dict[str, Row] = field(default_factory=dict)
    notes: dict[str, Row] = field(default_factory=dict)
    contact_deals: dict[str, Row] = field(default_factory=dict)
    roles: dict[str, Row] = field(default_factory=dict)
    cf_meta: dict[str, Row] = field(default_factory=dict)
    cf_data: dict[str, Row] = field(default_factory=dict)
    _seq: dict[str, int] = field(default_factory=dict)

    def next_id(self, table: str) -> str:
        self._seq[table] = self._seq.get(table, 0) + 1
        return str(self._seq[table])

    # -- look-ups ------------------------------------------------------------------

    def stages_of(self, group_id: str) -> list[Row]:
        """A pipeline's stages in board order."""
        found = [s for s in self.stages.values() if s["group"] == group_id]
        return sorted(found, key=lambda s: (int(s["order"]), int(s["id"])))

    def forecast_meta(self) -> Row | None:
        return next((m for m in self.cf_meta.values() if m["fieldLabel"] == FORECAST_LABEL), None)

    def contact_name(self, contact_id: str | None) -> str:
        contact = self.contacts.get(contact_id or "")
        return f"{contact['firstName']} {contact['lastName']}" if contact else ""

    # -- side effects shared by every write ------------------------------------------

    def log(
        self,
        deal_id: str,
        data_type: str,
        action: str,
        *,
        at: datetime,
        user: str = "1",
        data_id: str = "0",
        old: str = "",
        is_add_task: bool = False,
    ) -> Row:
        """Append one deal activity (the deal's timeline) and count it on the deal."""
        deal = self.deals[deal_id]
        row: Row = {
            "id": self.next_id("activities"),
            "deal": deal_id,
            "d_id": deal_id,
            "d_stageid": deal["stage"] if data_type == "d_stageid" else "0",
            "stage": deal["stage"] if data_type == "d_stageid" else None,
            "userid": user,
            "user": user,
            "dataId": data_id,
            "dataType": data_type,
            "dataAction": action,
            "dataOldval": old,
            "cdate": stamp(at),
            "sortdate": stamp(at),
            "isAddtask": "1" if is_add_task else "0",
            "deleted": "0",
            "seriesid": "0",
            "automation": None,
        }
        self.activities[row["id"]] = row
        deal["activitycount"] = str(int(deal.get("activitycount") or 0) + 1)
        return row

    def refresh_next(self, deal_id: str) -> None:
        """Recompute a deal's next open task (``nextdate``/``nexttaskid``)."""
        deal = self.deals.get(deal_id)
        if deal is None:
            return
        mine = [t for t in self.tasks.values() if t["reltype"] == "Deal" and t["relid"] == deal_id]
        set_next(deal, mine)


def set_next(deal: Row, tasks: list[Row]) -> None:
    """Set a deal's ``nextdate``/``nexttaskid`` from its tasks."""
    open_tasks = [t for t in tasks if int(t["status"]) == 0]
    if not open_tasks:
        deal["nextdate"] = deal["nexttaskid"] = None
        return
    first = min(open_tasks, key=lambda t: (parse_stamp(t["duedate"]), int(t["id"])))
    deal["nextdate"], deal["nexttaskid"] = first["duedate"], first["id"]


# -- building a data set -------------------------------------------------------------


def build(seed: int = 0, scale: int = 1, now: datetime | None = None) -> Db:
    """A believable small team's account (``scale`` multiplies contacts, deals, tasks)."""
    fake = Fake(seed, now)
    db = Db(now=fake.now)
    _users(db, fake)
    companies = _accounts(db, fake, min(100 * scale, 800))  # names run out beyond that
    _contacts(db, fake, companies, 300 * scale)
    _config(db, fake)
    by_org: dict[str, list[str]] = {}
    for cid, contact in db.contacts.items():
        by_org.setdefault(contact["orgid"], []).append(cid)
    for _ in range(150 * scale):
        _deal(db, fake, by_org)
    for _ in range(40 * scale):
        _contact_task(db, fake)
    for account in db.accounts.values():
        account["dealCount"] = "0"
    for deal in db.deals.values():
        owner = db.accounts.get(deal["account"] or "")
        if owner:
            owner["dealCount"] = str(int(owner["dealCount"]) + 1)
    return db


def _users(db: Db, fake: Fake) -> None:
    created = stamp(fake.now - timedelta(days=700))
    names = [("Sam", "Sandbox")] + [(fake.pick(FIRSTS), fake.pick(LASTS)) for _ in range(5)]
    for first, last in names:
        uid = db.next_id("users")
        username = "sandbox" if uid == "1" else f"{first}.{last}".lower()
        db.users[uid] = {
            "id": uid,
            "username": username,
            "firstName": first,
            "lastName": last,
            "email": f"{username}@sandbox-team.test",
            "phone": fake.phone(),
            "signature": None,
            "lang": "english",
            "localZoneid": "America/Chicago",
            "cdate": created,
            "udate": created,
        }


FIRSTS = ("Jordan", "Priya", "Marcus", "Elena", "Tom", "Aiko", "Dana", "Rafael")
LASTS = ("Reyes", "Okafor", "Lindqvist", "Moreau", "Brennan", "Sato", "Kaplan")


def _accounts(db: Db, fake: Fake, count: int) -> list[tuple[str, Company]]:
    out = []
    for _ in range(count):
        company = fake.company()
        aid = db.next_id("accounts")
        when = stamp(fake.past(700))
        db.accounts[aid] = {
            "id": aid,
            "name": company.name,
            "accountUrl": company.website,
            "createdTimestamp": when,
            "updatedTimestamp": when,
            "contactCount": "0",
            "dealCount": "0",
        }
        out.append((aid, company))
    return out


def _contacts(db: Db, fake: Fake, companies: list[tuple[str, Company]], count: int) -> None:
    for i in range(count):
        aid, company = companies[i % len(companies)] if i < len(companies) else fake.pick(companies)
        person = fake.person(company)
        cid = db.next_id("contacts")
        created = fake.past(600)
        db.contacts[cid] = _contact_row(cid, person, aid, created, fake.between(created, fake.now))
        db.accounts[aid]["contactCount"] = str(int(db.accounts[aid]["contactCount"]) + 1)
        if fake.rng.random() < 0.4:
            db.contact_tags[cid] = [str(1 + fake.rng.randrange(len(TAGS)))]


def _contact_row(cid: str, person: Person, aid: str, created: datetime, updated: datetime) -> Row:
    return {
        "id": cid,
        "email": person.email,
        "firstName": person.first,
        "lastName": person.last,
        "phone": person.phone,
        "orgid": aid,
        "cdate": stamp(created),
        "udate": stamp(updated),
        "deleted": "0",
    }


def _config(db: Db, fake: Fake) -> None:
    created = fake.now - timedelta(days=720)
    for title, currency, stage_titles in PIPELINES:
        gid = db.next_id("groups")
        group: Row = {
            "id": gid,
            "title": title,
            "currency": currency,
            "autoassign": "1",
            "allusers": "1",
            "allgroups": "1",
            "stages": [],
            "cdate": stamp(created),
            "udate": stamp(created),
        }
        db.groups[gid] = group
        for order, stage_title in enumerate(stage_titles, start=1):
            sid = db.next_id("stages")
            db.stages[sid] = stage_row(sid, gid, stage_title, order, created)
            group["stages"].append(sid)
    for title in TASK_TYPES:
        tid = db.next_id("tasktypes")
        db.tasktypes[tid] = {
            "id": tid,
            "title": title,
            "status": "0",
            "defduration": "30" if title in ("Lunch", "Meeting") else "0",
            "cdate": stamp(created),
            "udate": stamp(created),
        }
    for title in ROLES:
        rid = db.next_id("roles")
        db.roles[rid] = {
            "id": rid,
            "title": title,
            "created_timestamp": plain_stamp(created),
            "updated_timestamp": plain_stamp(created),
        }
    for label, kind, options in (
        (FORECAST_LABEL, "date", None),
        ("Lead Source", "dropdown", LEAD_SOURCES),
        ("Contract Term (months)", "number", None),
    ):
        mid = db.next_id("cf_meta")
        db.cf_meta[mid] = meta_row(mid, label, kind, options, created)


def stage_row(sid: str, gid: str, title: str, order: int, at: datetime) -> Row:
    return {
        "id": sid,
        "title": title,
        "group": gid,
        "order": str(order),
        "color": STAGE_COLORS[(order - 1) % len(STAGE_COLORS)],
        "dealOrder": "next-action DESC",
        "cardRegion1": "title",
        "cardRegion2": "next-action",
        "cardRegion3": "show-avatar",
        "cardRegion4": "contact-fullname-orgname",
        "cardRegion5": "value",
        "width": "280",
        "cdate": stamp(at),
        "udate": stamp(at),
    }


def meta_row(mid: str, label: str, kind: str, options: list[str] | None, at: datetime) -> Row:
    return {
        "id": mid,
        "fieldLabel": label,
        "fieldType": kind,
        "fieldOptions": options,
        "fieldDefault": None,
        "fieldDefaultCurrency": None,
        "isFormVisible": 1,
        "isRequired": 0,
        "displayOrder": int(mid),
        "personalization": "%" + label.upper().split(" (")[0].replace(" ", "_") + "%",
        "knownFieldId": None,
        "hideFieldFlag": 0,
        "createdTimestamp": plain_stamp(at),
        "updatedTimestamp": plain_stamp(at),
    }


def _deal(db: Db, fake: Fake, by_org: dict[str, list[str]]) -> None:
    roll = fake.rng.random()
    gid = "1" if roll < 0.6 else "2" if roll < 0.85 else "3"
    stages = db.stages_of(gid)
    status = fake.rng.choices(("0", "1", "2"), weights=(70, 18, 12))[0]
    stage_index = len(stages) - 1 if status == "1" else fake.rng.randrange(len(stages))
    contact_id = str(1 + fake.rng.randrange(len(db.contacts)))
    contact = db.contacts[contact_id]
    account = db.accounts[contact["orgid"]]
    created = fake.past(365)
    updated = fake.between(created, fake.now)
    did = db.next_id("deals")
    owner = str(1 + fake.rng.randrange(len(db.users)))
    db.deals[did] = {
        "id": did,
        "hash": hashlib.md5(f"{did}-{created}".encode()).hexdigest()[:8],
        "owner": owner,
        "contact": contact_id,
        "organization": contact["orgid"],
        "account": contact["orgid"],
        "customerAccount": contact["orgid"],
        "group": gid,
        "stage": stages[0]["id"],
        "title": f"{account['name'].rsplit(' ', 1)[0]} {fake.pick(_DEAL_KINDS)}",
        "description": "",
        "percent": str(fake.pick((0, 10, 25, 50, 75, 90))),
        "value": str(fake.amount() * 100),
        "currency": db.groups[gid]["currency"],
        "status": "0",
        "winProbability": fake.rng.randint(5, 95),
        "winProbabilityMdate": stamp(updated),
        "cdate": stamp(created),
        "mdate": stamp(updated),
        "edate": plain_stamp(updated),
        "nextdate": None,
        "nexttaskid": None,
        "nextdealid": did,
        "activitycount": "0",
        "isDisabled": False,
    }
    db.deal_scores[did] = {"1": fake.rng.randint(0, 100)}
    db.log(did, "", "add", at=created, user=owner)
    _history(db, fake, did, stages[: stage_index + 1], created, updated, owner)
    if status != "0":
        db.deals[did]["status"] = status
        db.log(did, "status", "update", at=updated, user=owner, data_id=did, old="0")
    _deal_fields(db, fake, did, status, updated)
    _secondary(db, fake, did, created, by_org)
    _deal_tasks(db, fake, did, status, created, updated)


_DEAL_KINDS = ("annual licence", "renewal", "expansion", "pilot", "support contract", "add-on")


def _history(
    db: Db,
    fake: Fake,
    did: str,
    path: list[Row],
    created: datetime,
    updated: datetime,
    owner: str,
) -> None:
    """Stage moves along ``path``, notes and logged emails between creation and update."""
    moments = sorted(fake.between(created, updated) for _ in range(len(path) - 1))
    deal = db.deals[did]
    for stage, at in zip(path[1:], moments, strict=True):
        old = deal["stage"]
        deal["stage"] = stage["id"]
        db.log(did, "d_stageid", "update", at=at, user=owner, data_id=stage["id"], old=old)
    contact = db.contacts[deal["contact"]]
    person = Person(contact["firstName"], contact["lastName"], "", "", "", "", "")
    company = Company(db.accounts[deal["account"]]["name"], "", "", 0, "", "", "")
    for _ in range(fake.rng.randint(0, 3)):
        at = fake.between(created, updated)
        add_note(db, did, fake.note(person, company), owner, at)
    if fake.rng.random() < 0.35:
        at = fake.between(created, updated)
        db.log(did, "email", "send", at=at, user=owner, data_id=deal["contact"])


def add_note(db: Db, deal_id: str, text: str, user: str, at: datetime) -> Row:
    """A note on a deal, with its ``note``/``add`` activity."""
    nid = db.next_id("notes")
    note = {
        "id": nid,
        "note": text,
        "relid": deal_id,
        "reltype": "Deal",
        "userid": user,
        "user": user,
        "owner": {"type": "deal", "id": deal_id},
        "is_draft": "0",
        "cdate": stamp(at),
        "mdate": stamp(at),
    }
    db.notes[nid] = note
    db.log(deal_id, "note", "add", at=at, user=user, data_id=nid)
    return note


def _deal_fields(db: Db, fake: Fake, did: str, status: str, updated: datetime) -> None:
    close: date = fake.future_date(120) if status == "0" else updated.date()
    values = [("1", close.isoformat())]
    if fake.rng.random() < 0.7:
        values.append(("2", fake.pick(LEAD_SOURCES)))
    if fake.rng.random() < 0.4:
        values.append(("3", str(fake.pick((12, 24, 36)))))
    for meta_id, value in values:
        datum_row(db, did, meta_id, value, updated)


def datum_row(db: Db, deal_id: str, meta_id: str, value: Any, at: datetime) -> Row:
    """Store one custom field value of a deal."""
    rid = db.next_id("cf_data")
    row = {
        "id": rid,
        "dealId": deal_id,
        "customFieldId": meta_id,
        "dealCustomFieldMetumId": meta_id,
        "fieldValue": value,
        "createdTimestamp": plain_stamp(at),
        "updatedTimestamp": plain_stamp(at),
    }
    db.cf_data[rid] = row
    return row


def _secondary(
    db: Db, fake: Fake, did: str, created: datetime, by_org: dict[str, list[str]]
) -> None:
    if fake.rng.random() >= 0.3:
        return
    deal = db.deals[did]
    colleagues = [c for c in by_org.get(deal["account"], [])[:10] if c != deal["contact"]]
    if not colleagues:
        return
    at = fake.between(created, fake.now)
    add_contact_deal(db, did, fake.pick(colleagues), fake.pick(list(db.roles)), at)


def add_contact_deal(
    db: Db, deal_id: str, contact_id: str, role: str | None, at: datetime, user: str | None = None
) -> Row:
    """A secondary contact on a deal, with its ``contact``/``add`` activity.

    Its stamps are ``cdate`` and ``created_timestamp``/``updated_timestamp`` with
    ``created_by``/``updated_by``, as public connectors' schemas of the real
    contactDeal have them (singer-io/tap-activecampaign; it has no ``udate``)."""
    rid = db.next_id("contact_deals")
    by = user or db.deals[deal_id]["owner"]
    row = {
        "id": rid,
        "deal": deal_id,
        "contact": contact_id,
        "role": role,
        "cdate": stamp(at),
        "created_timestamp": plain_stamp(at),
        "updated_timestamp": plain_stamp(at),
        "created_by": by,
        "updated_by": by,
    }
    db.contact_deals[rid] = row
    db.log(deal_id, "contact", "add", at=at, user=db.deals[deal_id]["owner"], data_id=contact_id)
    return row


def _deal_tasks(
    db: Db, fake: Fake, did: str, status: str, created: datetime, updated: datetime
) -> None:
    deal = db.deals[did]
    tasks = []
    for _ in range(fake.rng.choice((0, 1, 1, 2, 2, 3))):
        at = fake.between(created, updated)
        done = status != "0" or fake.rng.random() < 0.35
        due = fake.between(at, updated) if done else _open_due(fake)
        task = new_task(
            db, "Deal", did, fake.pick(list(db.tasktypes)), due, deal["owner"], at, _title(fake)
        )
        tasks.append(task)
        db.log(did, "task", "add", at=at, user=deal["owner"], data_id=task["id"], is_add_task=True)
        if done:
            finish = max(due, at)
            task.update(status=1, donedate=stamp(finish), udate=stamp(finish))
            db.log(did, "task", "complete", at=finish, user=deal["owner"], data_id=task["id"])
    set_next(deal, tasks)


def _open_due(fake: Fake) -> datetime:
    """A due moment for an open task: some overdue, some today or tomorrow, most ahead."""
    day = fake.rng.choice((-9, -4, -1, 0, 0, 1, 1, 2, 5, 9, 14, 30))
    hour = fake.rng.choice((9, 10, 11, 14, 15, 16))
    local = (fake.now + timedelta(days=day)).astimezone(ZONE)
    return local.replace(hour=hour, minute=fake.pick((0, 30)), second=0, microsecond=0)


def _title(fake: Fake) -> str:
    return fake.pick(
        (
            "Follow up on proposal",
            "Discovery call",
            "Send pricing",
            "Book demo",
            "Check in after trial",
            "Send contract",
            "Review security questionnaire",
            "Confirm budget",
            "Lunch with champion",
        )
    )


def _contact_task(db: Db, fake: Fake) -> None:
    contact_id = str(1 + fake.rng.randrange(len(db.contacts)))
    at = fake.past(60)
    owner = str(1 + fake.rng.randrange(len(db.users)))
    task = new_task(db, "Subscriber", contact_id, "1", _open_due(fake), owner, at, _title(fake))
    if fake.rng.random() < 0.3:
        task.update(status=1, donedate=stamp(fake.now - timedelta(days=1)))


def new_task(
    db: Db,
    reltype: str,
    relid: str,
    tasktype: str,
    due: datetime,
    user: str,
    at: datetime,
    title: str | None,
    note: str = "",
    assignee: str | None = None,
) -> Row:
    """Store a task (no activity: callers log what the real server logs)."""
    tid = db.next_id("tasks")
    duration = int(db.tasktypes[tasktype]["defduration"])
    row = {
        "id": tid,
        "title": title,
        "note": note,
        "duedate": stamp(due),
        "edate": stamp(due + timedelta(minutes=duration)),
        "duration": str(duration),
        "status": 0,
        "relid": relid,
        "reltype": reltype,
        "owner": {"type": "deal" if reltype == "Deal" else "contact", "id": relid},
        "dealTasktype": tasktype,
        "user": user,
        "assignee": assignee or user,
        "cdate": stamp(at),
        "udate": stamp(at),
        "donedate": None,
        "automation": None,
        "doneAutomation": None,
        "outcomeId": None,
        "outcomeInfo": None,
    }
    db.tasks[tid] = row
    return row
