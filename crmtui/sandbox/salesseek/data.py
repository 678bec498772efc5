"""The SalesSeek sandbox's data: seeded records, JSON views and the writes' side effects.

Records are plain dicts holding only what is stored (scalars and ids); ``SalesSeekDB.view``
rebuilds the documented JSON, with expanded ``owner``/``creator``/``organization``/
``funnel``/``phase``/``related`` objects, from current data on every read. Timestamps are
naive UTC ISO 8601 strings with microseconds, as SalesSeek sends them, so they sort as text.
"""

from __future__ import annotations

import gc
import html
import math
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from crmtui.sandbox.fake import CALL_OUTCOMES, Company, Fake, Person
from crmtui.sandbox.kit import ApiError
from crmtui.sandbox.salesseek.contract import ACTIVITY_TYPES, FORECAST

PASSWORD = "sandbox"
USERS = (
    ("Demo User", "demo@sandbox.test", True),
    ("Priya Shah", "priya.shah@sandbox.test", False),
    ("Tom Walker", "tom.walker@sandbox.test", False),
    ("Mei Chen", "mei.chen@sandbox.test", False),
)
FUNNELS = (
    (
        "Product",
        (("Contacted", 0.1), ("Engaged", 0.25), ("Proposal", 0.5), ("Negotiation", 0.75)),
    ),
    ("Services", (("Qualified", 0.2), ("Scoping", 0.4), ("Proposal Sent", 0.6))),
)
WON, LOST = ("Won", 1.0), ("Lost", 0.0)
BUCKETS = ("Licences", "Services")
CURRENCIES = {"EUR": "1.17", "USD": "1.27", "AED": "4.66"}
TAGS = ("Renewal", "VIP", "Partner", "Newsletter", "Hot lead")
SOURCES = ("Website", "Referral", "Trade show", "Cold outreach")
EMAIL_SUBJECTS = (
    "Proposal for {company}",
    "Re: pricing questions",
    "Next steps after our call",
    "Contract draft attached",
    "Intro: {company} x Demo Co",
)
# Expanded objects, dropped from "reduced" search answers.
EXPANDED = (
    "creator",
    "owner",
    "organization",
    "funnel",
    "phase",
    "assignee",
    "related",
    "source",
    "communication",
    "locations",
    "custom_fields",
)
RELATED_TYPES = {
    "organization": "organization",
    "organizations": "organization",
    "individual": "individual",
    "individuals": "individual",
    "opportunity": "opportunity",
    "opportunities": "opportunity",
    "deal": "opportunity",
    "deals": "opportunity",
}
PLURAL = {
    "organization": "organizations",
    "individual": "individuals",
    "opportunity": "opportunities",
}
TARGET_KEYS = {
    "organizations": "organization",
    "individuals": "individual",
    "opportunities": "opportunity",
}


def category(activity_type: str) -> str:
    """Which list flag (``notes``, ``deals``...) selects an activity type."""
    if activity_type in ("note", "task:completed"):
        return "notes"
    if activity_type in ("archive:email", "auto:call"):
        return "communications"
    if activity_type.startswith("automation:"):
        return "automation_emails"
    if activity_type.startswith("archive:mailshot"):
        return "campaign_emails"
    if activity_type.startswith("auto:opportunity"):
        return "deals"
    if activity_type.startswith(("auto:organization", "auto:individual")):
        return "contact_updates"
    return "notes"


def stamp(dt: datetime) -> str:
    """A naive UTC ISO timestamp, microseconds kept (``2017-03-28T08:53:04.914564``)."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt.isoformat()


def parse_when(value: Any, what: str) -> str | None:
    """A date or timestamp as sent (ISO, bare date or ``Jul 26, 2017 11:00``), stored naive."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"{what} must be a date string")
    text = value.strip()
    try:
        return stamp(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        pass
    for fmt in ("%b %d, %Y %H:%M", "%b %d, %Y"):
        try:
            return stamp(datetime.strptime(text, fmt))
        except ValueError:
            continue
    raise ApiError(400, f"{what}: {value!r} is not a valid date")


def _abbreviation(name: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", name)
    if len(words) >= 3:
        return "".join(w[0] for w in words[:3]).upper()
    return "".join(words)[:3].upper()


def _html(text: str) -> str:
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())


@dataclass
class SalesSeekDB:
    """The whole account; ``clock`` gives "now" (aware UTC) for every write."""

    clock: Callable[[], datetime]
    seed: int = 0
    client: dict[str, Any] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)  # email (lower) -> password
    sessions: dict[str, str] = field(default_factory=dict)  # cookie -> user id
    resets: dict[str, str] = field(default_factory=dict)  # user id -> password reset token
    funnels: dict[str, dict[str, Any]] = field(default_factory=dict)
    phases: dict[str, dict[str, Any]] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)  # id -> name
    organizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    individuals: dict[str, dict[str, Any]] = field(default_factory=dict)
    opportunities: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    activities: dict[str, dict[str, Any]] = field(default_factory=dict)
    tags: dict[str, dict[str, Any]] = field(default_factory=dict)
    custom_fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    filters: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    group_items: dict[str, list[str]] = field(default_factory=dict)
    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_target: dict[str, list[str]] = field(default_factory=dict)  # record id -> activities

    def __post_init__(self) -> None:
        self._rng = Fake(self.seed ^ 0x55EE).rng

    # -- basics ----------------------------------------------------------------

    def new_id(self) -> str:
        """A random (seeded) version-4 UUID, built as text: seeding makes a lot of them."""
        h = f"{self._rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"

    def now(self) -> str:
        return stamp(self.clock())

    def store(self, kind: str) -> dict[str, dict[str, Any]]:
        """The records of one kind (an attribute named as the API's plural)."""
        records: dict[str, dict[str, Any]] = getattr(self, kind)
        return records

    def find(self, kind: str, id: str) -> dict[str, Any]:
        try:
            return self.store(kind)[id]
        except KeyError:
            raise ApiError(404, "Not found") from None

    def user_ref(self, user_id: str | None) -> dict[str, Any] | None:
        user = self.users.get(user_id or "")
        if user is None:
            return None
        return {k: user[k] for k in ("id", "name", "email_address", "is_admin")}

    def touch(self, rec: dict[str, Any], user_id: str) -> None:
        rec["modified"] = self.now()
        rec["last_modified_by_id"] = user_id

    def base(self, user_id: str, when: str | None = None) -> dict[str, Any]:
        """The ownership fields every new record starts with."""
        when = when or self.now()
        return {
            "id": self.new_id(),
            "created": when,
            "modified": when,
            "creator_id": user_id,
            "last_modified_by_id": user_id,
            "owner_id": user_id,
        }

    def login(self, email: str, password: str) -> str | None:
        """A new session cookie for good credentials, else None."""
        if self.passwords.get(email.strip().lower()) != password:
            return None
        user = next(u for u in self.users.values() if u["email_address"].lower() == email.lower())
        token = str(uuid.uuid4())
        self.sessions[token] = user["id"]
        return token

    def expire_sessions(self) -> None:
        self.sessions.clear()

    def new_user(
        self, name: str, email: str, *, is_admin: bool = False, when: str | None = None
    ) -> dict[str, Any]:
        """A user, who logs in with a temporary password until they set their own."""
        when = when or self.now()
        uid = self.new_id()
        self.users[uid] = {
            "id": uid,
            "name": name,
            "email_address": email,
            "is_admin": is_admin,
            "email_signature": "",
            "ical_url": f"/users/{uid}/icalendar_feed?token={self.new_id()}",
            "created": when,
            "modified": when,
            "password_reset_required": True,
            "notification_settings": {
                "instant_email_notifications": "False",
                "evening_email_notification": "False",
                "morning_email_notification": "False",
                "new_lead_email_notification": "False",
            },
            "preferences": {},
            "quota": [],
        }
        self.passwords[email.lower()] = secrets.token_urlsafe(12)  # "emailed" to them
        return self.users[uid]

    def remove_user(self, gone: str, *, heir: str) -> None:
        """Delete user ``gone``: what they own (or are assigned) goes to ``heir``, their
        activities stay theirs, their sessions end."""
        user = self.users.pop(gone)
        self.passwords.pop(user["email_address"].lower(), None)
        self.resets.pop(gone, None)
        for cookie in [c for c, u in self.sessions.items() if u == gone]:
            del self.sessions[cookie]
        kinds = ("organizations", "individuals", "opportunities", "tasks", "groups", "campaigns")
        for kind in kinds:
            for rec in self.store(kind).values():
                for key in ("owner_id", "assignee_id", "from_user_id"):
                    if rec.get(key) == gone:
                        rec[key] = heir

    def name_of(self, kind: str, id: str | None) -> str | None:
        rec = self.store(kind).get(id or "")
        if rec is None:
            return None
        return rec.get("full_name") if kind == "individuals" else rec.get("name")

    # -- views -------------------------------------------------------------------

    def view(self, kind: str, rec: dict[str, Any], *, reduced: bool = False) -> dict[str, Any]:
        """The documented JSON of a record (``reduced``: no expanded objects, for search)."""
        out = dict(rec)
        for key in ("owner", "creator", "assignee"):
            if f"{key}_id" in rec:
                out[key] = self.user_ref(rec[f"{key}_id"])
        extra = getattr(self, f"_view_{kind}", None)
        if extra is not None:
            extra(out)
        if reduced:
            for key in EXPANDED:
                out.pop(key, None)
        return out

    def _org_ref(self, org_id: str | None) -> dict[str, Any] | None:
        org = self.organizations.get(org_id or "")
        if org is None:
            return None
        return {k: v for k, v in org.items() if k not in ("custom_fields",)}

    def _view_individuals(self, out: dict[str, Any]) -> None:
        out["organization"] = self._org_ref(out.get("organization_id"))
        out["organization_name"] = self.name_of("organizations", out.get("organization_id"))
        source = out.get("source_id")
        out["source"] = (
            {"id": source, "name": self.client["sources"].get(source)} if source else None
        )

    def _view_opportunities(self, out: dict[str, Any]) -> None:
        phase = self.phases[out["phase_id"]]
        out["phase_name"] = phase["name"]
        out["phase"] = {k: v for k, v in phase.items() if k != "kind"}
        out["funnel"] = dict(self.funnels[out["funnel_id"]])
        out["organization"] = self._org_ref(out.get("organization_id"))
        out["buckets"] = [dict(b) for b in out["buckets"]]
        latest = self.by_target.get(out["id"])
        if latest:
            last = self.activities[latest[-1]]["created"]
            days = (self.clock().replace(tzinfo=None) - datetime.fromisoformat(last)).days
            out["latest_activity_in_days"] = max(0, days)

    def _view_tasks(self, out: dict[str, Any]) -> None:
        kind = PLURAL.get(out.get("related_type") or "")
        name = self.name_of(kind, out.get("related_id")) if kind else None
        out["related"] = (
            {"id": out["related_id"], "name": name, "type": kind} if name is not None else None
        )

    def _view_activities(self, out: dict[str, Any]) -> None:
        target_type, target_id = out["target_type"], out.pop("target_id")
        for plural, key in TARGET_KEYS.items():
            own = plural == target_type
            out[f"{key}_id"] = target_id if own else None
            out[f"{key}_name"] = self.name_of(plural, target_id) if own else None

    def _view_groups(self, out: dict[str, Any]) -> None:
        out["filter"] = self.filters.get(out.get("filter_id") or "")

    # -- activities ----------------------------------------------------------------

    def add_activity(
        self,
        activity_type: str,
        target_type: str,
        target_id: str,
        user_id: str,
        *,
        note: str | None = None,
        params: dict[str, Any] | None = None,
        when: str | None = None,
    ) -> dict[str, Any]:
        rec = self.base(user_id, when)
        rec.update(
            activity_type=activity_type,
            target_type=target_type,
            target_id=target_id,
            tags=[],
            note=note,
            params=params,
            target_date=None,
            communication=None,
            communication_id=None,
            real_created=rec["created"],
            user_created=rec["created"],
        )
        self.activities[rec["id"]] = rec
        self.by_target.setdefault(target_id, []).append(rec["id"])
        return rec

    def remove(self, kind: str, id: str) -> None:
        rec = self.store(kind).pop(id)
        if kind == "activities":
            ids = self.by_target.get(rec["target_id"], [])
            if id in ids:
                ids.remove(id)
            return
        for activity_id in self.by_target.pop(id, []):
            self.activities.pop(activity_id, None)
        for items in self.group_items.values():
            if id in items:
                items.remove(id)

    def related_ids(self, item_type: str, item_id: str, flags: set[str]) -> list[str]:
        """Records whose activities a timeline pulls in through the ``include_*`` flags."""
        out: list[str] = []
        org_id: str | None
        if item_type == "organizations":
            org_id = item_id
        else:
            org_id = (self.store(item_type).get(item_id) or {}).get("organization_id")
        if item_type != "organizations" and org_id and "include_org_related" in flags:
            out.append(org_id)
        if org_id and "include_ind_related" in flags and item_type != "individuals":
            out += [i for i, r in self.individuals.items() if r.get("organization_id") == org_id]
        if org_id and "include_deal_related" in flags and item_type != "opportunities":
            out += [i for i, r in self.opportunities.items() if r.get("organization_id") == org_id]
        return out

    # -- writes ------------------------------------------------------------------

    def _owner(self, value: Any, what: str = "owner_id") -> str:
        if value not in self.users:
            raise ApiError(400, f"{what}: unknown user {value!r}")
        return str(value)

    def _tags(self, value: Any, user_id: str) -> list[dict[str, str]]:
        if not isinstance(value, list):
            raise ApiError(400, "tags must be a list")
        out = []
        for item in value:
            tag_id = item.get("id", "") if isinstance(item, dict) else None
            if isinstance(tag_id, list | dict):  # {"id": [1]}: no tag's id
                raise ApiError(400, f"tags: {item!r} is not a tag")
            tag = self.tags.get(tag_id or "") if isinstance(item, dict) else None
            name = item.get("name") if isinstance(item, dict) else item
            if tag is None and isinstance(name, str) and name.strip():
                tag = next((t for t in self.tags.values() if t["name"] == name), None)
                if tag is None:
                    tag = self.create_tag(name, user_id)
            if tag is None:
                raise ApiError(400, f"tags: {item!r} is not a tag")
            out.append({"id": tag["id"], "name": tag["name"]})
        return out

    def _text(self, value: Any, what: str, *, required: bool = False) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise ApiError(400, f"{what} is required" if required else f"{what} must be text")
        return value.strip() if required else value

    def _common(self, rec: dict[str, Any], body: dict[str, Any], user_id: str) -> None:
        """Writable keys shared by organizations, individuals and deals."""
        if "owner_id" in body:
            rec["owner_id"] = self._owner(body["owner_id"])
        if "comments" in body:
            rec["comments"] = self._text(body["comments"], "comments")
        if "tags" in body:
            rec["tags"] = self._tags(body["tags"], user_id)
        if "is_favorite" in body:
            rec["is_favorite"] = bool(body["is_favorite"])
        if "custom_fields" in body:
            values = body["custom_fields"]
            if not isinstance(values, dict):
                raise ApiError(400, "custom_fields must be an object")
            rec["custom_fields"] = {**rec.get("custom_fields", {}), **values}
        for key in ("communication", "locations", "related_file_ids"):
            if key in body:
                if not isinstance(body[key], list):
                    raise ApiError(400, f"{key} must be a list")
                rec[key] = [
                    {"id": self.new_id(), **item} if isinstance(item, dict) else item
                    for item in body[key]
                ]

    def write_organization(
        self, rec: dict[str, Any] | None, body: dict[str, Any], user_id: str
    ) -> dict[str, Any]:
        if rec is None:
            rec = self.base(user_id) | _blank_contactable()
            rec["name"] = self._text(body.get("name"), "name", required=True)
            self.organizations[rec["id"]] = rec
            self.add_activity("auto:organization_creation", "organizations", rec["id"], user_id)
        elif "name" in body:
            rec["name"] = self._text(body["name"], "name", required=True)
        rec["abbreviation"] = _abbreviation(rec["name"])
        self._common(rec, body, user_id)
        self.touch(rec, user_id)
        return rec

    def write_individual(
        self, rec: dict[str, Any] | None, body: dict[str, Any], user_id: str
    ) -> dict[str, Any]:
        creating = rec is None
        if rec is None:
            rec = self.base(user_id) | _blank_contactable()
            rec.update(first_name="", last_name="", role="", photo_url=None, organization_id=None)
            rec.update(unsubscribed_all=False, source_id=None, became_lead_date=None)
            roles = body.get("roles")
            if isinstance(roles, list) and roles and isinstance(roles[0], dict):
                body = {"role": roles[0].get("title"), **body}
                body.setdefault("organization_id", roles[0].get("organization_id"))
            org = body.get("organization")
            if isinstance(org, dict) and org.get("name") and not body.get("organization_id"):
                found = next(
                    (o for o in self.organizations.values() if o["name"] == org["name"]), None
                )
                found = found or self.write_organization(None, {"name": org["name"]}, user_id)
                body = {**body, "organization_id": found["id"]}
        for key in ("first_name", "last_name", "role", "photo_url"):
            if key in body:
                rec[key] = self._text(body[key], key)
        if creating and not (rec["first_name"] or rec["last_name"]):
            raise ApiError(400, "first_name or last_name is required")
        if "organization_id" in body:
            org_id = body["organization_id"]
            if org_id is not None and org_id not in self.organizations:
                raise ApiError(400, f"organization_id: unknown organization {org_id!r}")
            rec["organization_id"] = org_id
        if "unsubscribed_all" in body:
            rec["unsubscribed_all"] = bool(body["unsubscribed_all"])
        if "source_id" in body:
            if body["source_id"] is not None and body["source_id"] not in self.client["sources"]:
                raise ApiError(400, "source_id: unknown lead source")
            if body["source_id"] and not rec.get("source_id"):
                rec["became_lead_date"] = self.now()
            rec["source_id"] = body["source_id"]
        rec["full_name"] = f"{rec['first_name']} {rec['last_name']}".strip()
        self._common(rec, body, user_id)
        if creating:
            self.individuals[rec["id"]] = rec
            self.add_activity("auto:individual_creation", "individuals", rec["id"], user_id)
        self.touch(rec, user_id)
        return rec

    def write_opportunity(
        self, rec: dict[str, Any] | None, body: dict[str, Any], user_id: str
    ) -> dict[str, Any]:
        creating = rec is None
        if rec is None:
            first = min(self.funnels.values(), key=lambda f: f["order"])
            rec = self.base(user_id)
            rec.update(
                name="",
                organization_id=None,
                funnel_id=first["id"],
                phase_id=self.funnel_phases(first["id"])[0]["id"],
                status="none",
                value=0,
                currency=self.client["default_currency"],
                is_favorite=False,
                expected_close_date=None,
                tags=[],
                comments="",
                last_viewed=None,
                related_file_ids=[],
                generated_files=[],
                custom_fields={},
                buckets=[{"id": i, "name": n, "value": 0} for i, n in self.buckets.items()],
            )
            rec["phase_last_changed"] = rec["created"]
            rec["weight"] = self.phases[rec["phase_id"]]["default_weight"]
            if "name" not in body:
                raise ApiError(400, "name is required")
        old_phase = rec["phase_id"]
        if "name" in body:
            rec["name"] = self._text(body["name"], "name", required=True)
        self._move(rec, body)
        if "organization_id" in body:
            if (
                body["organization_id"] is not None
                and body["organization_id"] not in self.organizations
            ):
                raise ApiError(400, "organization_id: unknown organization")
            rec["organization_id"] = body["organization_id"]
        if "status" in body:
            if body["status"] not in FORECAST:
                raise ApiError(400, f"status must be one of {', '.join(FORECAST)}")
            rec["status"] = body["status"]
        if "currency" in body:
            allowed = {self.client["default_currency"], *self.client["currencies"]}
            if body["currency"] not in allowed:
                raise ApiError(400, f"currency must be one of {', '.join(sorted(allowed))}")
            rec["currency"] = body["currency"]
        if "expected_close_date" in body:
            rec["expected_close_date"] = parse_when(
                body["expected_close_date"], "expected_close_date"
            )
        self._money(rec, body)
        self._common(rec, body, user_id)
        rec["abbreviation"] = _abbreviation(rec["name"])
        if creating:
            self.opportunities[rec["id"]] = rec
            self.add_activity("auto:opportunity_creation", "opportunities", rec["id"], user_id)
        elif rec["phase_id"] != old_phase:
            rec["phase_last_changed"] = self.now()
            self.movement(rec, old_phase, user_id)
        self.touch(rec, user_id)
        return rec

    def _move(self, rec: dict[str, Any], body: dict[str, Any]) -> None:
        funnel_id = body.get("funnel_id", rec["funnel_id"])
        if funnel_id not in self.funnels:
            raise ApiError(400, f"funnel_id: unknown funnel {funnel_id!r}")
        phase_id = body.get("phase_id")
        if phase_id is None and funnel_id != rec["funnel_id"]:
            phase_id = self.funnel_phases(funnel_id)[0]["id"]
        if phase_id is None:
            return
        phase = self.phases.get(phase_id)
        if phase is None:
            raise ApiError(400, f"phase_id: unknown phase {phase_id!r}")
        if "funnel_id" in body and phase["funnel_id"] != funnel_id:
            raise ApiError(400, "phase_id is not a phase of funnel_id")
        if phase_id != rec["phase_id"]:
            rec["weight"] = phase["default_weight"]
        rec["phase_id"], rec["funnel_id"] = phase_id, phase["funnel_id"]

    def _money(self, rec: dict[str, Any], body: dict[str, Any]) -> None:
        """A deal's ``buckets``, ``value`` and ``weight``, all checked before any is set."""
        changes: dict[str, Any] = {}
        if "buckets" in body:
            buckets = body["buckets"]
            if not isinstance(buckets, list) or not all(
                isinstance(b, dict)
                and isinstance(b.get("value", 0), int | float)
                and not isinstance(b.get("id"), list | dict)
                for b in buckets
            ):
                raise ApiError(400, "buckets must be a list of {id, value}")
            changes["buckets"] = [
                {
                    "id": b.get("id"),
                    "name": self.buckets.get(b.get("id"), b.get("name")),
                    "value": b.get("value", 0),
                }
                for b in buckets
            ]
            changes["value"] = sum(b["value"] for b in changes["buckets"])
        for key in ("value", "weight"):
            if key in body:
                number = body[key]
                if isinstance(number, bool) or not isinstance(number, int | float):
                    raise ApiError(400, f"{key} must be a number")
                changes[key] = number
        value, weight = changes.get("value", rec["value"]), changes.get("weight", rec["weight"])
        # a value no JSON number can hold (1e300 weighted by 1e300, 10**400) is refused:
        # kept, it would fail every later answer that shows the deal
        try:
            number = float(value)
            weighted = round(number * float(weight), 2)
        except OverflowError:  # an int past a double's range (10**400)
            number = weighted = math.inf
        if not (math.isfinite(number) and math.isfinite(weighted)):
            raise ApiError(400, "value is out of range")
        rec.update(changes)
        rec["weighted_value"] = weighted
        rec["bubble_representation_value"] = rec["value"]

    def movement(
        self, rec: dict[str, Any], old_phase: str, user_id: str, when: str | None = None
    ) -> None:
        """The ``auto:opportunity_movement`` activity of a phase change."""
        src, dst = self.phases[old_phase], self.phases[rec["phase_id"]]
        who = self.users[user_id]["name"]
        params = {
            "from": src["name"],
            "from_id": src["id"],
            "to": dst["name"],
            "to_id": dst["id"],
            "from_funnel": self.funnels[src["funnel_id"]]["name"],
            "from_funnel_id": src["funnel_id"],
            "to_funnel": self.funnels[dst["funnel_id"]]["name"],
            "to_funnel_id": dst["funnel_id"],
            "who": who,
        }
        note = f"{who} moved {rec['name']} from {src['name']} to {dst['name']}"
        self.add_activity(
            "auto:opportunity_movement",
            "opportunities",
            rec["id"],
            user_id,
            note=note,
            params=params,
            when=when,
        )

    def write_task(
        self, rec: dict[str, Any] | None, body: dict[str, Any], user_id: str
    ) -> dict[str, Any]:
        if rec is None:
            rec = self.base(user_id)
            rec.update(
                text="",
                due_date=None,
                assignee_id=user_id,
                related_type=None,
                related_id=None,
                completed=False,
                complete_date=None,
                tags=[],
            )
            rec["text"] = self._text(body.get("text"), "text", required=True)
            self.tasks[rec["id"]] = rec
        elif "text" in body:
            rec["text"] = self._text(body["text"], "text", required=True)
        if "due_date" in body:
            rec["due_date"] = parse_when(body["due_date"], "due_date")
        for key in ("assignee_id", "owner_id"):
            if key in body:
                rec[key] = self._owner(body[key], key)
        if "related_type" in body or "related_id" in body:
            self._relate(rec, body)
        if "tags" in body:
            rec["tags"] = self._tags(body["tags"], user_id)
        if "completed" in body:
            if not isinstance(body["completed"], bool):
                raise ApiError(400, "completed must be true or false")
            if body["completed"] and not rec["completed"]:
                rec["complete_date"] = self.now()
                self.task_completed(rec, user_id)
            elif not body["completed"]:
                rec["complete_date"] = None
            rec["completed"] = body["completed"]
        self.touch(rec, user_id)
        return rec

    def _relate(self, rec: dict[str, Any], body: dict[str, Any]) -> None:
        related_id = body.get("related_id", rec["related_id"])
        raw_type = body.get("related_type", rec["related_type"])
        if related_id is None:
            rec["related_type"] = rec["related_id"] = None
            return
        kind = RELATED_TYPES.get(str(raw_type).lower())
        if kind is None:
            raise ApiError(400, "related_type must be organization, individual or opportunity")
        if related_id not in self.store(PLURAL[kind]):
            raise ApiError(400, f"related_id: unknown {kind} {related_id!r}")
        rec["related_type"], rec["related_id"] = kind, related_id

    def task_completed(self, task: dict[str, Any], user_id: str, when: str | None = None) -> None:
        """The ``task:completed`` activity, on the task's related record."""
        if not task.get("related_id"):
            return
        params = {"completed_by": self.users[user_id]["name"], "description": task["text"]}
        self.add_activity(
            "task:completed",
            PLURAL[task["related_type"]],
            task["related_id"],
            user_id,
            note=f"Task completed: {task['text']}",
            params=params,
            when=when,
        )

    def write_activity(
        self, rec: dict[str, Any] | None, body: dict[str, Any], user_id: str
    ) -> dict[str, Any]:
        if rec is None:
            activity_type = body.get("activity_type")
            if activity_type not in ACTIVITY_TYPES:
                raise ApiError(400, "activity_type is required and must be a documented type")
            item_type = TARGET_KEYS.get(str(body.get("item_type")))
            if item_type is None:
                raise ApiError(400, "item_type must be organizations, individuals or opportunities")
            if body.get("item_id") not in self.store(PLURAL[item_type]):
                raise ApiError(400, "item_id: no such record")
            if activity_type == "note" and not str(body.get("note") or "").strip():
                raise ApiError(400, "note is required")
            when = parse_when(body.get("created"), "created")
            rec = self.add_activity(
                activity_type,
                PLURAL[item_type],
                body["item_id"],
                user_id,
                note=body.get("note"),
                params=body.get("params"),
                when=when,
            )
            rec["real_created"] = self.now()
        elif "note" in body:
            rec["note"] = body["note"]
        if "target_date" in body:
            rec["target_date"] = parse_when(body["target_date"], "target_date")
        if body.get("created"):
            rec["user_created"] = rec["created"] = parse_when(body["created"], "created")
        if "tags" in body:
            rec["tags"] = self._tags(body["tags"], user_id)
        self.touch(rec, user_id)
        return rec

    def create_tag(self, name: str, user_id: str) -> dict[str, Any]:
        rec = {k: v for k, v in self.base(user_id).items() if k != "owner_id"}
        rec["name"] = name
        self.tags[rec["id"]] = rec
        return rec

    def funnel_phases(self, funnel_id: str) -> list[dict[str, Any]]:
        return sorted(
            (p for p in self.phases.values() if p["funnel_id"] == funnel_id),
            key=lambda p: p["order"],
        )

    # -- groups and campaigns -----------------------------------------------------------

    def new_group(
        self, name: str, group_type: str, element_type: str, user_id: str, when: str | None = None
    ) -> dict[str, Any]:
        rec = self.base(user_id, when) | {
            "name": name,
            "group_type": group_type,
            "element_type": element_type,
            "locked": False,
            "comments": "",
            "mailing_list": False,
            "filter_id": None,
            "columns": [],
            "order_by": None,
            "display_options": {"show_as": "table"},
        }
        self.groups[rec["id"]] = rec
        return rec

    def new_campaign(self, user_id: str, when: str | None = None) -> dict[str, Any]:
        """A new campaign: a draft, from its creator, to no group yet."""
        rec = self.base(user_id, when) | {
            "name": "",
            "status": "draft",
            "subject": "",
            "campaign_type": "campaign",
            "to_group_id": None,
            "to_group": None,
            "sent": None,
            "used_in_automations": False,
            "used_in_live_automations": None,
            "include_signature": False,
            "campaign_schedule_id": None,
            "campaign_schedule": None,
            "track": True,
            "from_user_id": user_id,
            "email_status_stats": {
                "sent": 0,
                "queued": 0,
                "in_progress": 0,
                "failed": 0,
                "cancelled": 0,
            },
            "email_event_stats": {},
            "content": "",
        }
        return rec

    def group_members(self, group: dict[str, Any]) -> list[dict[str, Any]]:
        store = self.store(group["element_type"])
        if group["group_type"] == "static":
            return [store[i] for i in self.group_items.get(group["id"], []) if i in store]
        rules = (self.filters.get(group.get("filter_id") or "") or {}).get("rules", [])
        return [rec for rec in store.values() if all(_any_rule(rec, ors) for ors in rules)]


def _blank_contactable() -> dict[str, Any]:
    return {
        "last_viewed": None,
        "communication": [],
        "locations": [],
        "comments": "",
        "tags": [],
        "related_file_ids": [],
        "is_favorite": False,
        "custom_fields": {},
    }


def _any_rule(rec: dict[str, Any], rules: list[dict[str, Any]]) -> bool:
    return any(_rule(rec, rule) for rule in rules)


_COMPARISONS = ("greater", "greater_than", "less", "less_than")


def _wanted(rule: dict[str, Any]) -> object:
    values = rule.get("values")
    return values.get("id", values.get("value")) if isinstance(values, dict) else values


def _number(value: object) -> float | None:
    """A comparison's operand: a JSON number, or text that reads as one."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def check_rules(rules: Any) -> None:
    """A filter's ``rules`` as the docs give them: a list (AND) of lists (OR) of rule
    objects, each naming a ``field`` and an ``operator``. The docs list no operators, so
    any is kept (one this account does not know matches nothing); a comparison
    (``greater``/``less``) needs a number to compare with. SalesSeek validates a filter
    when it is saved, so a rule it could never evaluate is a 400 here, not later."""
    if not isinstance(rules, list) or not all(isinstance(ors, list) for ors in rules):
        raise ApiError(400, "rules must be a list of lists of rules")
    for rule in (rule for ors in rules for rule in ors):
        if not isinstance(rule, dict):
            raise ApiError(400, f"rules: {rule!r} is not a rule object")
        if not isinstance(rule.get("field"), str) or not isinstance(rule.get("operator"), str):
            raise ApiError(400, "rules: every rule needs a field and an operator")
        if rule["operator"] in _COMPARISONS and _number(_wanted(rule)) is None:
            raise ApiError(400, f"rules: {rule['field']} {rule['operator']} needs a number")


def _rule(rec: dict[str, Any], rule: dict[str, Any]) -> bool:
    """One filter rule (checked by ``check_rules``): ``equal``, ``not_equal``, ``contains``,
    ``greater``/``less``, ``any``."""
    wanted = _wanted(rule)
    have: object = rec.get(rule["field"])
    match rule["operator"]:
        case "equal":
            return have == wanted
        case "not_equal":
            return have != wanted
        case "contains":
            return str(wanted).lower() in str(have or "").lower()
        case "greater" | "greater_than" | "less" | "less_than" as operator:
            bound = _number(wanted)
            if bound is None or not isinstance(have, int | float):
                return False
            return have > bound if operator.startswith("greater") else have < bound
        case "any":
            return have in (wanted if isinstance(wanted, list) else [wanted])
    return False


# -- seeding ---------------------------------------------------------------------


class _Seeder:
    """Builds a believable small sales team's account from ``Fake``."""

    def __init__(self, db: SalesSeekDB, seed: int, scale: int, now: datetime) -> None:
        self.db = db
        self.fake = Fake(seed, now)
        self.rng = self.fake.rng
        self.scale = max(1, scale)
        self.now = now
        self.user_ids: list[str] = []
        self.people: dict[str, Person] = {}
        self.companies: dict[str, Company] = {}

    def when(self, days: int = 365) -> str:
        return stamp(self.fake.past(days))

    def after(self, start: str, end: datetime | None = None) -> str:
        begin = datetime.fromisoformat(start).replace(tzinfo=UTC)
        return stamp(self.fake.between(begin, end or self.now))

    def owner(self) -> str:
        # The demo user owns a bit more than the others, as the person exploring would.
        return self.user_ids[0] if self.rng.random() < 0.4 else self.rng.choice(self.user_ids)

    def run(self) -> None:
        self.account()
        self.schema()
        for _ in range(100 * self.scale):
            self.organization()
        org_ids = list(self.db.organizations)
        for _ in range(300 * self.scale):
            self.individual(self.rng.choice(org_ids))
        for _ in range(150 * self.scale):
            self.opportunity(self.rng.choice(org_ids))
        for _ in range(250 * self.scale):
            self.task()
        self.campaigns()
        self.groups()

    def account(self) -> None:
        db, start = self.db, stamp(self.now - timedelta(days=900))
        for name, email, admin in USERS:
            user = db.new_user(name, email, is_admin=admin, when=start)
            user["email_signature"] = f"<p>{name}<br>Demo Co</p>"
            user["password_reset_required"] = False
            user["notification_settings"]["morning_email_notification"] = "True"
            db.passwords[email] = PASSWORD
            self.user_ids.append(user["id"])
        db.client = {
            "id": db.new_id(),
            "created": start,
            "currencies": dict(CURRENCIES),
            "default_currency": "GBP",
            "email_sending_domains": ["sandbox.test"],
            "facebook_page_id": None,
            "feature_tier": "growing",
            "marketing_groups": [],
            "name": "Demo Co",
            "selective_unsubscribing": False,
            "short_id": "sandbox",
            "sources": {db.new_id(): name for name in SOURCES},
        }

    def schema(self) -> None:
        db, admin, start = self.db, self.user_ids[0], stamp(self.now - timedelta(days=900))
        for order, (name, phases) in enumerate(FUNNELS):
            funnel = db.base(admin, start) | {
                "name": name,
                "order": order,
                "bubble_representation": "deal_value",
            }
            db.funnels[funnel["id"]] = funnel
            for p_order, (p_name, weight) in enumerate((*phases, WON, LOST)):
                phase = db.base(admin, start) | {
                    "funnel_id": funnel["id"],
                    "name": p_name,
                    "hint": f"Deals at the {p_name.lower()} stage",
                    "default_weight": weight,
                    "order": p_order,
                }
                del phase["owner_id"]
                db.phases[phase["id"]] = phase
        db.buckets = {db.new_id(): name for name in BUCKETS}
        for name in TAGS:
            db.create_tag(name, admin)
        specs = (
            ("organizations", "Tier", "dropDown", ("Gold", "Silver", "Bronze")),
            ("organizations", "Employees", "number", ()),
            ("individuals", "Data Status", "dropDown", ("subscribed", "unsubscribed", "pending")),
            ("individuals", "LinkedIn", "url", ()),
            ("opportunities", "Lead Source", "dropDown", ("Web", "Referral", "Event", "Outbound")),
            ("opportunities", "Contract Start", "date", ()),
        )
        for order, (view, name, kind, options) in enumerate(specs):
            opts = [{"id": db.new_id(), "value": v} for v in options]
            cf = db.base(admin, start) | {
                "name": name,
                "type": kind,
                "view": view,
                "required": False,
                "options": opts,
                "value": {"options": opts} if opts else {},
                "order": order,
                "default": None,
                "params": None,
            }
            db.custom_fields[cf["id"]] = cf

    def custom_values(self, view: str, extra: dict[str, str]) -> dict[str, str]:
        out = {}
        for cf in self.db.custom_fields.values():
            if cf["view"] != view or self.rng.random() < 0.25:
                continue
            if cf["options"]:
                out[cf["id"]] = self.rng.choice(cf["options"])["id"]
            elif cf["name"] in extra:
                out[cf["id"]] = extra[cf["name"]]
        return out

    def contactable(self, created: str) -> dict[str, Any]:
        owner = self.owner()
        tags = [
            {"id": t["id"], "name": t["name"]}
            for t in self.db.tags.values()
            if self.rng.random() < 0.08
        ]
        return {
            "id": self.db.new_id(),
            "created": created,
            "modified": self.after(created),
            "creator_id": owner,
            "last_modified_by_id": owner,
            "owner_id": owner,
            **_blank_contactable(),
            "tags": tags,
            "is_favorite": self.rng.random() < 0.05,
        }

    def creation(self, kind: str, rec: dict[str, Any]) -> None:
        verb = "import" if self.rng.random() < 0.25 else "creation"
        key = TARGET_KEYS[kind]
        self.db.add_activity(
            f"auto:{key}_{verb}", kind, rec["id"], rec["creator_id"], when=rec["created"]
        )

    def organization(self) -> None:
        if len(self.fake._companies) > 600:  # names run out at big scales: allow repeats
            self.fake._companies.clear()
        company = self.fake.company()
        rec = self.contactable(self.when(540))
        rec.update(name=company.name, abbreviation=_abbreviation(company.name))
        rec["communication"] = [
            {
                "id": self.db.new_id(),
                "name": "Work",
                "medium": "phone",
                "value": company.phone,
                "comments": "",
            },
            {
                "id": self.db.new_id(),
                "name": "Website",
                "medium": "website",
                "value": company.website,
                "comments": "",
            },
        ]
        rec["locations"] = [
            {
                "id": self.db.new_id(),
                "name": "Office",
                "address": f"{company.city}, {company.country}",
                "comments": "",
            }
        ]
        rec["custom_fields"] = self.custom_values("organizations", {"Employees": str(company.size)})
        self.db.organizations[rec["id"]] = rec
        self.companies[rec["id"]] = company
        self.creation("organizations", rec)
        for _ in range(self.rng.randint(0, 2)):
            self.chatter("organizations", rec, None, company)

    def individual(self, org_id: str) -> None:
        company = self.companies[org_id]
        person = self.fake.person(company)
        rec = self.contactable(self.after(self.db.organizations[org_id]["created"]))
        rec.update(
            photo_url=None,
            first_name=person.first,
            last_name=person.last,
            full_name=person.name,
            role=person.title,
            organization_id=org_id,
            unsubscribed_all=self.rng.random() < 0.04,
            source_id=None,
            became_lead_date=None,
        )
        if self.rng.random() < 0.3:
            rec["source_id"] = self.rng.choice(list(self.db.client["sources"]))
            rec["became_lead_date"] = rec["created"]
        rec["communication"] = [
            {
                "id": self.db.new_id(),
                "name": "Work",
                "medium": "email",
                "value": person.email,
                "comments": "",
            },
            {
                "id": self.db.new_id(),
                "name": "Mobile",
                "medium": "phone",
                "value": person.phone,
                "comments": "",
            },
        ]
        rec["locations"] = [
            {
                "id": self.db.new_id(),
                "name": "Office",
                "address": f"{person.city}, {person.country}",
                "comments": "",
            }
        ]
        slug = f"{person.first}-{person.last}".lower().replace("'", "")
        rec["custom_fields"] = self.custom_values(
            "individuals", {"LinkedIn": f"https://www.linkedin.com/in/{slug}"}
        )
        self.db.individuals[rec["id"]] = rec
        self.people[rec["id"]] = person
        self.creation("individuals", rec)
        for _ in range(self.rng.choice((0, 1, 1, 2, 2, 3, 4))):
            self.chatter("individuals", rec, person, company)
        self.mailshots(rec)

    def chatter(
        self, kind: str, rec: dict[str, Any], person: Person | None, company: Company
    ) -> None:
        """A note, a logged call or an archived email on a record."""
        person = person or self.fake.person(company)
        when, user = self.after(rec["created"]), self.owner()
        roll = self.rng.random()
        if roll < 0.45:
            note = _html(self.fake.note(person, company))
            self.db.add_activity("note", kind, rec["id"], user, note=note, when=when)
        elif roll < 0.75:
            outcome = self.rng.choice(CALL_OUTCOMES)
            note = f"Call with {person.first} {person.last}: {outcome}"
            self.db.add_activity("auto:call", kind, rec["id"], user, note=note, when=when)
        else:
            subject = self.rng.choice(EMAIL_SUBJECTS).format(company=company.name)
            body = _html(f"Hi {person.first},\n{self.fake.note(person, company)}\nBest regards")
            self.db.add_activity(
                "archive:email",
                kind,
                rec["id"],
                user,
                note=body,
                params={"subject": subject},
                when=when,
            )

    def mailshots(self, rec: dict[str, Any]) -> None:
        roll = self.rng.random()
        if roll > 0.35:
            return
        campaigns = (("Autumn webinar invite", "campaign"), ("Welcome Email", "direct"))
        name, kind = campaigns[0] if roll < 0.25 else campaigns[1]
        params = {
            "campaign_id": self.campaign_ids()[name],
            "campaign_name": name,
            "campaign_type": kind,
            "mailshot_id": self.campaign_ids()[name],
            "mailshot_name": name,
        }
        prefix = "archive" if kind == "campaign" else "automation:archive"
        when = self.after(rec["created"])
        who = rec["full_name"]
        self.db.add_activity(
            f"{prefix}:mailshot_sent",
            "individuals",
            rec["id"],
            rec["owner_id"],
            note=f"SalesSeek sent {name} to {who}",
            params=params,
            when=when,
        )
        if kind == "campaign" and self.rng.random() < 0.5:
            self.db.add_activity(
                "archive:mailshot_opened",
                "individuals",
                rec["id"],
                rec["owner_id"],
                note=f"{who} opened {name}",
                params=params,
                when=self.after(when),
            )
        elif kind == "direct" and self.rng.random() < 0.4:
            url = "https://sandbox.test/webinar"
            self.db.add_activity(
                "automation:archive:mailshot_url_clicked",
                "individuals",
                rec["id"],
                rec["owner_id"],
                note=f"{who} clicked {url}",
                params={**params, "url": url},
                when=self.after(when),
            )

    _campaign_ids: dict[str, str] | None = None

    def campaign_ids(self) -> dict[str, str]:
        if self._campaign_ids is None:
            names = ("Autumn webinar invite", "Welcome Email", "December product update")
            self._campaign_ids = {name: self.db.new_id() for name in names}
        return self._campaign_ids

    def opportunity(self, org_id: str) -> None:
        db, company = self.db, self.companies[org_id]
        funnel = list(db.funnels.values())[0 if self.rng.random() < 0.75 else 1]
        phases = db.funnel_phases(funnel["id"])
        open_phases = phases[:-2]
        roll = self.rng.random()
        target = (
            phases[-2]
            if roll < 0.18
            else phases[-1]
            if roll < 0.3
            else self.rng.choice(open_phases)
        )
        created = self.after(db.organizations[org_id]["created"])
        owner = self.owner()
        value = self.fake.amount()
        services = int(round(value * self.rng.choice((0, 0, 0.1, 0.2, 0.3)), -2))
        bucket_ids = list(db.buckets)
        closed = target["order"] >= len(open_phases)
        rec = {
            "id": db.new_id(),
            "name": self.fake.deal_name(company),
            "organization_id": org_id,
            "funnel_id": funnel["id"],
            "phase_id": phases[0]["id"],
            "owner_id": owner,
            "weight": target["default_weight"],
            "status": self.rng.choice(FORECAST),
            "value": value,
            "currency": "GBP" if self.rng.random() < 0.7 else self.rng.choice(list(CURRENCIES)[:2]),
            "is_favorite": self.rng.random() < 0.05,
            "phase_last_changed": created,
            "creator_id": owner,
            "tags": [],
            "comments": "",
            "created": created,
            "modified": created,
            "last_modified_by_id": owner,
            "last_viewed": None,
            "related_file_ids": [],
            "generated_files": [],
            "buckets": [
                {"id": bucket_ids[0], "name": BUCKETS[0], "value": value - services},
                {"id": bucket_ids[1], "name": BUCKETS[1], "value": services},
            ],
            "custom_fields": self.custom_values(
                "opportunities", {"Contract Start": self.fake.future_date(200).strftime("%m/%d/%Y")}
            ),
        }
        rec["abbreviation"] = _abbreviation(rec["name"])
        rec["weighted_value"] = round(value * rec["weight"], 2)
        rec["bubble_representation_value"] = value
        db.opportunities[rec["id"]] = rec
        self.creation("opportunities", rec)
        path = (
            [*open_phases[: target["order"]], target]
            if not closed
            else self.closed_path(open_phases, target)
        )
        when = created
        for phase in path[1:] if path[0]["id"] == rec["phase_id"] else path:
            when = self.after(when)
            old, rec["phase_id"] = rec["phase_id"], phase["id"]
            db.movement(rec, old, owner, when=when)
            rec["phase_last_changed"] = when
        rec["modified"] = self.after(when)
        close = datetime.fromisoformat(rec["phase_last_changed"]) if closed else None
        close_date = close.date() if close else self.fake.future_date(150)
        rec["expected_close_date"] = stamp(datetime.combine(close_date, datetime.min.time()))
        for _ in range(self.rng.randint(0, 3)):
            self.chatter("opportunities", rec, None, company)

    def closed_path(
        self, open_phases: list[dict[str, Any]], target: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if target["name"] == WON[0]:
            return [*open_phases, target]
        stop = self.rng.randint(1, len(open_phases))
        return [*open_phases[:stop], target]

    def task(self) -> None:
        db = self.db
        kind = self.rng.choice(("organizations", "individuals", "individuals", "opportunities"))
        rec = self.pick(kind)
        # every seeded individual and deal belongs to an organization
        org_id: str = rec["id"] if kind == "organizations" else rec["organization_id"]
        company = self.companies[org_id]
        person = self.people.get(rec["id"]) or self.fake.person(company)
        created = self.after(rec["created"])
        today = self.now.replace(hour=0, minute=0, second=0, microsecond=0)
        roll = self.rng.random()
        done = roll < 0.32
        if done:
            due = self.fake.past(200)
        elif roll < 0.52:
            due = today - timedelta(
                days=self.rng.randint(1, 20), hours=-self.rng.choice((9, 11, 14))
            )
        elif roll < 0.62:
            due = today + timedelta(hours=self.rng.choice((10, 14, 16)))
        elif roll < 0.70:
            due = today + timedelta(days=1, hours=self.rng.choice((9, 11, 15)))
        else:
            due = today + timedelta(
                days=self.rng.randint(2, 45), hours=self.rng.choice((9, 10, 14))
            )
        assignee = self.owner()
        task = {
            "id": db.new_id(),
            "text": self.fake.task_subject(person, company),
            "due_date": stamp(due),
            "assignee_id": assignee,
            "owner_id": assignee,
            "created": created,
            "creator_id": assignee,
            "modified": created,
            "last_modified_by_id": assignee,
            "related_type": TARGET_KEYS[kind],
            "related_id": rec["id"],
            "completed": done,
            "complete_date": None,
            "tags": [],
        }
        if done:
            task["complete_date"] = task["modified"] = self.after(created)
            db.task_completed(task, assignee, when=task["complete_date"])
        db.tasks[task["id"]] = task

    _keys: dict[str, list[str]] | None = None

    def pick(self, kind: str) -> dict[str, Any]:
        if self._keys is None:
            self._keys = {k: list(self.db.store(k)) for k in TARGET_KEYS}
        return self.db.store(kind)[self.rng.choice(self._keys[kind])]

    def campaigns(self) -> None:
        db, admin = self.db, self.user_ids[0]
        rows = (
            ("Autumn webinar invite", "campaign", "sent", 60),
            ("Welcome Email", "direct", "sent", 200),
            ("December product update", "campaign", "draft", 5),
        )
        for name, kind, status, age in rows:
            when = stamp(self.now - timedelta(days=age))
            cid = self.campaign_ids()[name]
            db.campaigns[cid] = db.new_campaign(admin, when) | {
                "id": cid,
                "name": name,
                "status": status,
                "subject": name,
                "campaign_type": kind,
                "sent": when if status == "sent" else None,
                "used_in_automations": kind == "direct",
                "used_in_live_automations": kind == "direct" or None,
                "include_signature": kind == "direct",
                "content": f"<!DOCTYPE html><html><h1>{html.escape(name)}</h1></html>",
            }

    def groups(self) -> None:
        db, admin = self.db, self.user_ids[0]
        when = stamp(self.now - timedelta(days=120))

        def group(name: str, kind: str, element: str, **extra: Any) -> dict[str, Any]:
            rec = db.new_group(name, kind, element, admin, when)
            rec.update(cost_basis="total", cost=0, target=None, **extra)
            return rec

        orgs, people = list(db.organizations), list(db.individuals)
        key = group("Key Accounts", "static", "organizations")
        db.group_items[key["id"]] = self.rng.sample(orgs, min(15, len(orgs)))
        webinar = group("Webinar attendees", "static", "individuals", mailing_list=True)
        db.group_items[webinar["id"]] = self.rng.sample(people, min(40, len(people)))
        for name, element, rules in (
            (
                "My individuals",
                "individuals",
                [
                    [
                        {
                            "field": "owner_id",
                            "operator": "equal",
                            "values": {"id": admin, "name": "Demo User"},
                        }
                    ]
                ],
            ),
            (
                "Big deals",
                "opportunities",
                [[{"field": "value", "operator": "greater_than", "values": {"value": 40000}}]],
            ),
        ):
            flt: dict[str, Any] = {"id": db.new_id(), "filter_type": element, "rules": rules}
            db.filters[flt["id"]] = flt
            group(name, "smart", element, filter_id=flt["id"])


def build(*, seed: int, scale: int, now: datetime, clock: Callable[[], datetime]) -> SalesSeekDB:
    """The seeded account: ~100 organizations, ~300 individuals, ~150 deals per ``scale``."""
    db = SalesSeekDB(clock=clock, seed=seed)
    collecting = gc.isenabled()
    gc.disable()  # hundreds of thousands of new dicts: cyclic GC passes would dominate
    try:
        _Seeder(db, seed, scale, now).run()
    finally:
        if collecting:
            gc.enable()
    return db


__all__ = ["SalesSeekDB", "build", "category"]
