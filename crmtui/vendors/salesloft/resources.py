"""What Salesloft offers, declared: the kinds and their paths, sorts, filters and
writable attributes, and how v2 references and custom fields read."""

from __future__ import annotations

import re
from typing import Any

from crmtui.fields import iso, parse_datetime
from crmtui.model import Kind, KindInfo, Role
from crmtui.vendors.base import record_id

LABEL = "Salesloft"
MEMBERSHIP = "cadence_membership"
STEP = "step"

PATHS = {
    Kind.CONTACT: "people",
    Kind.COMPANY: "accounts",
    Kind.TASK: "tasks",
    Kind.CADENCE: "cadences",
    MEMBERSHIP: "cadence_memberships",
    STEP: "steps",
    Kind.CALL: "activities/calls",
    Kind.EMAIL: "activities/emails",
    Kind.USER: "users",
}
TASK_VIEWS = {
    "overdue": "Overdue",
    "today": "Today",
    "tomorrow": "Tomorrow",
    "this_week": "This week",
    "next_week": "Next week",
}
# Timeline filters: Activity.family (the source of the entry) -> label.
FAMILY_LABELS = {
    "note": "Notes",
    "call": "Calls",
    "email": "Emails",
    "task": "Completed tasks",
    "crm_activity": "CRM activities",
}
# Why a kind has no timeline of its own, and where its history shows instead.
NO_TIMELINE = {
    "task": "Salesloft keeps no history on a task: once completed it shows on its"
    " person's timeline (under Related).",
    "cadence": "Salesloft has no activity feed for a cadence: its members and steps are"
    " under Related, and each touch shows on the person's timeline.",
    "activity": "This is itself an activity: it shows on its person's timeline (under"
    " Related), merged with their notes, calls, emails and tasks.",
}
TASK_TYPES = {"call": "call", "email": "email", "general": "todo"}  # v2 -> neutral
# Neutral sort key -> v2 sort_by, per kind.
SORTS: dict[str, dict[str, str]] = {
    Kind.CONTACT: {
        "title": "name",
        "job_title": "title",
        "last_contacted_at": "last_contacted_at",
        "updated_at": "updated_at",
        "created_at": "created_at",
    },
    Kind.COMPANY: {
        "title": "name",
        "account_stage": "account_stage",
        "account_tier": "account_tier",
        "people_count": "counts_people",
        "last_contacted_at": "last_contacted_at",
        "updated_at": "updated_at",
        "created_at": "created_at",
    },
    Kind.TASK: {
        "due_date": "due_date",
        "due_at": "due_at",
        "updated_at": "updated_at",
        "created_at": "created_at",
    },
    Kind.CADENCE: {"title": "name", "updated_at": "updated_at", "created_at": "created_at"},
    MEMBERSHIP: {"added_at": "added_at", "updated_at": "updated_at"},
    STEP: {"step_number": "step_number", "updated_at": "updated_at"},
    Kind.CALL: {"created_at": "created_at", "updated_at": "updated_at"},
    Kind.EMAIL: {"sent_at": "sent_at", "updated_at": "updated_at", "created_at": "created_at"},
    Kind.USER: {"title": "name", "updated_at": "updated_at"},
}
DEFAULT_SORT = {Kind.TASK: ("due_date", "ASC"), STEP: ("step_number", "ASC")}
# Neutral filter key -> v2 query parameter, per kind ("[]" marks arrays).
FILTERS: dict[str, dict[str, str]] = {
    Kind.CONTACT: {
        "company": "account_id[]",
        "owner": "owner_id[]",
        "person_stage": "person_stage_id[]",
        "cadence": "cadence_id[]",
        "email": "email_addresses[]",
    },
    Kind.COMPANY: {
        "owner": "owner_id[]",
        "account_stage": "account_stage_id[]",
        "account_tier": "account_tier_id[]",
        "tag": "tag[]",
    },
    Kind.TASK: {
        "contact": "person_id[]",
        "company": "account_id[]",
        "owner": "user_id[]",
        "status": "current_state[]",
        "type": "task_type[]",
    },
    MEMBERSHIP: {
        "cadence": "cadence_id",
        "contact": "person_id",
        "current": "currently_on_cadence",
    },
    STEP: {"cadence": "cadence_id", "type": "type[]"},
    Kind.CALL: {"contact": "person_id[]"},
    Kind.EMAIL: {"contact": "person_id[]", "company": "account_id[]", "owner": "user_id[]"},
}
CONTACT_WRITES = {
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email_address",
    "phone": "phone",
    "mobile_phone": "mobile_phone",
    "job_title": "title",
    "city": "city",
    "country": "country",
    "do_not_contact": "do_not_contact",
    "owner": "owner_id",
    "person_stage": "person_stage_id",
    "company": "account_id",
}
COMPANY_WRITES = {
    "name": "name",
    "domain": "domain",
    "website": "website",
    "industry": "industry",
    "size": "size",
    "phone": "phone",
    "city": "city",
    "country": "country",
    "owner": "owner_id",
    "account_stage": "company_stage_id",
    "account_tier": "account_tier_id",
}
INT_PARAMS = {"owner_id", "person_stage_id", "account_id", "company_stage_id", "account_tier_id"}


def ref_id(raw: dict[str, Any], key: str) -> int | None:
    """The id of a v2 reference (``{"_href", "id"}``, ``{"id"}`` or a bare int)."""
    value = raw.get(key)
    if isinstance(value, dict):
        value = value.get("id")
    if value is None:
        return None
    record_id("Salesloft", value, "reference to a record")  # refuses 1.5, true, {...}, 10**300
    return value if isinstance(value, int) else None


def sid(value: int | None) -> str | None:
    return None if value is None else str(value)


def slug(name: str) -> str:
    return "cf_" + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def when(value: Any) -> str | None:
    return iso(parse_datetime(value))


def kind_infos() -> list[KindInfo]:
    """The tabs, in Salesloft's words and order (a fresh list each call)."""
    return [
        KindInfo(
            kind=Kind.CONTACT,
            label="People",
            singular="Person",
            columns=[
                "title",
                "company_name",
                "email",
                "person_stage",
                "owner",
                "last_contacted_at",
            ],
            sortable=list(SORTS[Kind.CONTACT]),
            roles={Role.TITLE: "name", Role.OWNER: "owner"},
            editable=True,
            creatable=True,
            deletable=True,
            has_timeline=True,
            families=FAMILY_LABELS,
        ),
        KindInfo(
            kind=Kind.COMPANY,
            label="Accounts",
            singular="Account",
            columns=[
                "title",
                "domain",
                "industry",
                "owner",
                "account_stage",
                "account_tier",
                "people_count",
                "last_contacted_at",
            ],
            sortable=list(SORTS[Kind.COMPANY]),
            roles={Role.TITLE: "name", Role.OWNER: "owner"},
            editable=True,
            creatable=True,
            deletable=True,
            has_timeline=True,
            families=FAMILY_LABELS,
        ),
        KindInfo(
            kind=Kind.TASK,
            label="Tasks",
            singular="Task",
            columns=["title", "type", "due_date", "status", "contact_name", "owner"],
            sortable=list(SORTS[Kind.TASK]),
            roles={
                Role.TITLE: "subject",
                Role.DUE: "due_at",
                Role.DUE_DATE: "due_date",
                Role.DONE: "done",
                Role.STATUS: "status",
                Role.OWNER: "owner",
            },
            references={"contact": Kind.CONTACT},
            day_views=["overdue", "today"],
            searchable=False,
            editable=True,
            creatable=True,
            views=dict(TASK_VIEWS),
            timeline_note=NO_TIMELINE["task"],
        ),
        KindInfo(
            kind=Kind.CADENCE,
            label="Cadences",
            singular="Cadence",
            columns=["title", "owner", "people", "team_cadence", "shared"],
            sortable=list(SORTS[Kind.CADENCE]),
            roles={Role.TITLE: "name"},
            timeline_note=NO_TIMELINE["cadence"],
        ),
        KindInfo(
            kind=Kind.CALL,
            label="Calls",
            singular="Call",
            columns=[
                "title",
                "contact_name",
                "disposition",
                "sentiment",
                "duration",
                "called_at",
            ],
            sortable=list(SORTS[Kind.CALL]),
            roles={Role.OWNER: "owner"},
            references={"contact": Kind.CONTACT},
            searchable=False,
            timeline_note=NO_TIMELINE["activity"],
        ),
        KindInfo(
            kind=Kind.EMAIL,
            label="Emails",
            singular="Email",
            columns=[
                "title",
                "contact_name",
                "status",
                "views",
                "clicks",
                "replies",
                "sent_at",
            ],
            sortable=list(SORTS[Kind.EMAIL]),
            references={"contact": Kind.CONTACT},
            searchable=False,
            timeline_note=NO_TIMELINE["activity"],
        ),
    ]


# Kinds whose fields are just the keys their mapper fills.
SIMPLE: dict[str, tuple[str, ...]] = {
    Kind.CADENCE: ("name", "owner", "people", "team_cadence", "shared", "archived", "tags"),
    MEMBERSHIP: (
        "contact",
        "contact_name",
        "cadence",
        "state",
        "current",
        "added_at",
        "owner",
        "sent_emails",
        "replies",
        "calls",
    ),
    STEP: ("type", "day", "step_number", "disabled", "cadence"),
    Kind.EMAIL: (
        "to",
        "contact",
        "contact_name",
        "status",
        "bounced",
        "views",
        "clicks",
        "replies",
        "owner",
        "sent_at",
    ),
    Kind.USER: ("name", "email", "job_role", "active"),
}
