"""What Salesloft offers, declared once per kind: its v2 path, sorts, filters and fields
(from which the kind's specs, its reader and its writer are derived), its title, and
its tab.

Cadence members and steps are kinds (``cadence_membership``, ``step``) but not tabs;
users are a kind for lookups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crmtui.fields import date_text
from crmtui.model import Choice, FieldSpec, FieldType, Follow, FollowRule, Kind, KindInfo, Role
from crmtui.vendors.mapping import Codec, Context, Field, Json, Resource, UserShape, slug_key
from crmtui.vendors.salesloft.codecs import (
    AS_IS,
    FLAG,
    IS_SET,
    ITEMS,
    OR_NONE,
    WHEN,
    CreateOnly,
    Done,
    FirstOf,
    PersonTitle,
    Ref,
    Status,
    Table,
    TaskType,
    TextRef,
    person_title,
    ref_id,
)
from crmtui.vendors.salesloft.timeline import call_summary, email_summary, users_of

LABEL = "Salesloft"
# A user as ``GET /v2/users`` lists it: its job role is the role its card shows
USERS = UserShape(name="name", email="email", role="job_role")
MEMBERSHIP = "cadence_membership"
STEP = "step"

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

# v2 sends values as it holds them and takes them back as given: the codec of a type
# unless a field names another.
CODECS: Mapping[FieldType, Codec] = {
    FieldType.TEXT: AS_IS,
    FieldType.NUMBER: AS_IS,
    FieldType.MONEY: AS_IS,
    FieldType.DATE: AS_IS,
    FieldType.DATETIME: WHEN,
    FieldType.BOOL: FLAG,
    FieldType.CHOICE: Ref(),
    FieldType.MULTI_CHOICE: ITEMS,
    FieldType.USER: Ref(),
}
TEXT, NUMBER, DATE, DATETIME = FieldType.TEXT, FieldType.NUMBER, FieldType.DATE, FieldType.DATETIME
BOOL, CHOICE, USER = FieldType.BOOL, FieldType.CHOICE, FieldType.USER
# A headline: (vendor record, its fields, user id -> name) -> (title, subtitle).
Headline = Callable[[Json, Json, Mapping[int, str]], tuple[str, str]]


@dataclass(frozen=True, kw_only=True)
class LoftResource(Resource):
    """A v2 resource: besides its path and fields, the neutral sort keys (-> ``sort_by``)
    and filter keys (-> query parameter, ``[]`` marks arrays) it takes, its default sort,
    its custom fields' ``field_type`` ("" for none), the attribute naming the person a
    record is about (their names are read per page) and whether crmtui may change it."""

    headline: Headline
    sorts: Mapping[str, str] = field(default_factory=dict)
    default_sort: tuple[str, str] | None = None
    filters: Mapping[str, str] = field(default_factory=dict)
    custom_type: str = ""
    person: str = ""
    changeable: bool = False
    since_filter: bool = True  # v2 lists it with ``updated_at[gte]`` and ``sort_by=updated_at``
    codecs: Mapping[FieldType, Codec] = field(default_factory=lambda: CODECS)

    def specs(
        self,
        choices: Mapping[str, Iterable[Choice]] | None = None,
        labels: Mapping[str, str] | None = None,
        required: Mapping[str, bool] | None = None,
    ) -> list[FieldSpec]:
        """As declared; a kind crmtui may not change (its tab is not ``editable``: calls,
        emails...) offers every field read only, so no field says otherwise."""
        found = super().specs(choices, labels, required)
        if self.changeable:
            return found
        return [s.model_copy(update={"writable": False, "required": False}) for s in found]

    def read(self, item: Mapping[str, Any], ctx: Context) -> Json:
        """The declared fields, then the custom fields as ``cf_<slug of name>``."""
        out = super().read(item, ctx)
        if self.custom_type:
            custom = item.get("custom_fields") or {}
            out.update({slug_key(name): value for name, value in custom.items()})
        return out


def _a(key: str, label: str, path: str = "", **more: Any) -> Field:
    """A field read at ``path`` (default: its key) and written there (or ``write_path``)."""
    return Field(key=key, path=path or key, label=label, **more)


def _id(key: str, label: str, path: str = "", **more: Any) -> Field:
    """A v2 reference: read at ``path`` (``{"id"}`` or an id), written as ``<path>_id``."""
    path = path or key
    return _a(key, label, path, write_path=f"{path}_id", **{"codec": Ref(), **more})


def _ro(key: str, label: str, path: str = "", **more: Any) -> Field:
    """A read-only field."""
    return _a(key, label, path, writable=False, **more)


def _joined(*parts: Any) -> str:
    return " · ".join(str(p) for p in parts if p)


def _person(raw: Json, fields: Json, users: Mapping[int, str]) -> tuple[str, str]:
    return person_title(raw), _joined(raw.get("title"), raw.get("person_company_name") or "")


def _company(raw: Json, fields: Json, users: Mapping[int, str]) -> tuple[str, str]:
    return str(raw.get("name") or ""), _joined(raw.get("domain"), raw.get("industry"))


def _task(raw: Json, fields: Json, users: Mapping[int, str]) -> tuple[str, str]:
    kind = str(fields["type"])
    due = f"due {date_text(fields['due_date'])}" if fields.get("due_date") else ""
    return str(raw.get("subject") or ""), _joined(kind.capitalize(), due, fields["contact_name"])


def _cadence(raw: Json, fields: Json, users: Mapping[int, str]) -> tuple[str, str]:
    owner = ref_id(raw, "owner")
    return str(raw.get("name") or ""), users.get(owner, "") if owner is not None else ""


def _membership(raw: Json, fields: Json, users: Mapping[int, str]) -> tuple[str, str]:
    title = fields["contact_name"] or f"Person #{ref_id(raw, 'person')}"
    return str(title), str(raw.get("current_state") or "")


def _step(raw: Json, fields: Json, users: Mapping[int, str]) -> tuple[str, str]:
    step = f"Step {raw.get('step_number')} · day {raw.get('day')} · {raw.get('type')}"
    return str(raw.get("display_name") or ""), step


def _call(raw: Json, fields: Json, users: Mapping[int, str]) -> tuple[str, str]:
    return call_summary(raw, fields["contact_name"]), users_of(raw, users)


def _email(raw: Json, fields: Json, users: Mapping[int, str]) -> tuple[str, str]:
    return email_summary(raw), users_of(raw, users)


def _user(raw: Json, fields: Json, users: Mapping[int, str]) -> tuple[str, str]:
    return str(raw.get("name") or ""), str(raw.get("email") or "")


def _name_of(path: str) -> Field:
    """The name of the person at ``path`` (looked up per page), for the headline and My
    day; not offered: the person is shown once, as the reference ``contact``, by name."""
    return _ro("contact_name", "Person name", path, codec=Table("people"), offered=False)


_PERSON_NAME = _name_of("person")
_CREATED = {"updated_at": "updated_at", "created_at": "created_at"}
_PLACE = (_a("city", "City"), _a("country", "Country"))
_LAST_CONTACTED = _ro("last_contacted_at", "Last contacted", type=DATETIME)
_TAGS = _ro("tags", "Tags", type=FieldType.MULTI_CHOICE)

CONTACT = LoftResource(
    kind=Kind.CONTACT,
    path="people",
    label="People",
    singular="Person",
    web="app/people/{id}",  # the web app's page: a convention (see Salesloft.web_root)
    headline=_person,
    sorts={
        "title": "name",
        "job_title": "title",
        "last_contacted_at": "last_contacted_at",
        **_CREATED,
    },
    filters={
        "company": "account_id[]",
        "owner": "owner_id[]",
        "person_stage": "person_stage_id[]",
        "cadence": "cadence_id[]",
        "email": "email_addresses[]",
    },
    custom_type="person",
    changeable=True,
    fields=(
        PersonTitle(key="name", path="display_name", label="Name", writable=False, role=Role.TITLE),
        _a("first_name", "First name"),
        _a("last_name", "Last name"),
        _a("email", "Email", "email_address"),
        _a("phone", "Phone"),
        _a("mobile_phone", "Mobile"),
        _a("job_title", "Title", "title"),
        # The person's account: a reference, shown by name, picked among the accounts and
        # written as ``account_id`` (PUT /v2/people takes every POST field, account_id too)
        _id("company", "Account", "account", refers_to=Kind.COMPANY),
        # ``person_company_name`` is free text the rep (or an import) typed: a field of its
        # own in POST/PUT /v2/people, which the doc ties to no account (the sandbox keeps
        # it apart too). It often reads as the account's name, yet it is not the account:
        # it can differ, or be set with no account at all. Hiding it when it equals the
        # name would make a blank row look like "nothing typed", so it stays, labelled for
        # what it is; the account itself is the reference row above (issue 15.1).
        _ro("company_name", "Company (as typed)", "person_company_name", codec=OR_NONE),
        *_PLACE,
        _id("owner", "Owner", type=USER, choices="users", role=Role.OWNER),
        _id("person_stage", "Stage", type=CHOICE, choices="person_stages", role=Role.STAGE),
        _a("do_not_contact", "Do not contact", type=BOOL),
        _LAST_CONTACTED,
        _TAGS,
        _ro("emails_sent", "Emails sent", "counts.emails_sent", type=NUMBER),
        _ro("calls", "Calls", "counts.calls", type=NUMBER),
    ),
)

COMPANY = LoftResource(
    kind=Kind.COMPANY,
    path="accounts",
    label="Accounts",
    singular="Account",
    web="app/company/{id}",
    headline=_company,
    sorts={
        "title": "name",
        "account_stage": "account_stage",
        "account_tier": "account_tier",
        "people_count": "counts_people",
        "last_contacted_at": "last_contacted_at",
        **_CREATED,
    },
    filters={
        "owner": "owner_id[]",
        "account_stage": "account_stage_id[]",
        "account_tier": "account_tier_id[]",
        "tag": "tag[]",
    },
    custom_type="company",
    changeable=True,
    fields=(
        _a("name", "Name", required=True, role=Role.TITLE),
        _a("domain", "Domain", required=True),
        _a("website", "Website"),
        _a("industry", "Industry"),
        _a("size", "Size"),
        _a("phone", "Phone"),
        *_PLACE,
        _id("owner", "Owner", type=USER, choices="users", role=Role.OWNER),
        _id(
            "account_stage",
            "Stage",
            "company_stage",
            type=CHOICE,
            choices="account_stages",
            role=Role.STAGE,
        ),
        _id("account_tier", "Tier", type=CHOICE, choices="account_tiers"),
        _ro("people_count", "People", "counts.people", type=NUMBER),
        _LAST_CONTACTED,
        _TAGS,
    ),
)

_TASK_TYPES = tuple(Choice(value=v, label=v.capitalize()) for v in ("call", "email", "todo"))
_TASK_STATUSES = (Choice(value="open", label="Open"), Choice(value="completed", label="Completed"))

TASK = LoftResource(
    kind=Kind.TASK,
    path="tasks",
    label="Tasks",
    singular="Task",
    headline=_task,
    # v2 sorts tasks by due_date or due_at only, and has no updated_at filter on them
    sorts={"due_date": "due_date", "due_at": "due_at"},
    default_sort=("due_date", "ASC"),
    since_filter=False,
    filters={
        "contact": "person_id[]",
        "company": "account_id[]",
        "owner": "user_id[]",
        "status": "current_state[]",
        "type": "task_type[]",
    },
    person="person",
    changeable=True,
    fields=(
        _a("subject", "Subject", required=True, role=Role.TITLE),
        _a("body", "Description", "description"),
        # PUT /v2/tasks/{id} takes only subject, description, due_date, remind_at,
        # is_logged and current_state=completed: the type, the assignee and the person
        # are given when the task is created (POST requires them), never changed after
        CreateOnly(
            key="type",
            path="task_type",
            label="Type",
            type=CHOICE,
            options=_TASK_TYPES,
            codec=TaskType(),
        ),
        # Salesloft: an empty due_date "is invalid" (422)
        _a("due_date", "Due date", type=DATE, clearable=False, role=Role.DUE_DATE),
        # due_at is a response field only (neither POST nor PUT takes it)
        _ro("due_at", "Due at", type=DATETIME, role=Role.DUE),
        _a("remind_at", "Remind at", type=DATETIME),
        Done(key="done", path="current_state", label="Done", type=BOOL, role=Role.DONE),
        Status(
            key="status",
            path="current_state",
            label="Status",
            options=_TASK_STATUSES,
            role=Role.STATUS,
        ),
        _ro("completed_at", "Completed", type=DATETIME),
        CreateOnly(
            key="owner",
            path="user",
            write_path="user_id",
            label="Assignee",
            type=USER,
            choices="users",
            role=Role.OWNER,
            codec=Ref(),
        ),
        # POST declares person_id a string
        CreateOnly(
            key="contact",
            path="person",
            write_path="person_id",
            label="Person",
            clearable=False,
            refers_to=Kind.CONTACT,
            codec=TextRef(),
        ),
        _PERSON_NAME,
    ),
)

CADENCE = LoftResource(
    kind=Kind.CADENCE,
    path="cadences",
    label="Cadences",
    singular="Cadence",
    web="app/cadence/{id}",
    headline=_cadence,
    sorts={"title": "name", **_CREATED},
    fields=(
        _ro("name", "Name", role=Role.TITLE),
        _ro("owner", "Owner", type=USER, choices="users", codec=Ref()),  # by name
        _ro("people", "People", "counts.cadence_people"),
        _ro("team_cadence", "Team cadence", codec=FLAG),
        _ro("shared", "Shared", codec=FLAG),
        _ro("archived", "Archived", "archived_at", codec=IS_SET),
        _ro("tags", "Tags", codec=ITEMS),
    ),
)


CADENCE_MEMBERSHIP = LoftResource(
    kind=MEMBERSHIP,
    path="cadence_memberships",
    headline=_membership,
    sorts={"added_at": "added_at", "updated_at": "updated_at"},
    filters={"cadence": "cadence_id", "contact": "person_id", "current": "currently_on_cadence"},
    person="person",
    fields=(
        _ro("contact", "Person", "person", codec=Ref(), refers_to=Kind.CONTACT),
        _PERSON_NAME,
        # by name from its choices too: a member is no tab, so no ``KindInfo`` names it
        _ro("cadence", "Cadence", type=CHOICE, choices="cadences", refers_to=Kind.CADENCE),
        _ro("state", "State", "current_state"),
        _ro("current", "Current", "currently_on_cadence", codec=FLAG),
        _ro("added_at", "Added at", codec=WHEN),
        _ro("owner", "Owner", "user", type=USER, choices="users", codec=Ref()),
        _ro("sent_emails", "Sent emails", "counts.sent_emails"),
        _ro("replies", "Replies", "counts.replies"),
        _ro("calls", "Calls", "counts.calls"),
    ),
)

CADENCE_STEP = LoftResource(
    kind=STEP,
    path="steps",
    headline=_step,
    # v2 sorts steps by created_at or updated_at (the adapter orders a cadence's steps
    # by step_number itself); cadence_id and type are single values; no updated_at filter
    sorts={"created_at": "created_at", "updated_at": "updated_at"},
    default_sort=("created_at", "ASC"),
    filters={"cadence": "cadence_id", "type": "type"},
    since_filter=False,
    fields=(
        _ro("type", "Type"),
        _ro("day", "Day"),
        _ro("step_number", "Step number"),
        _ro("disabled", "Disabled", codec=FLAG),
        _ro("cadence", "Cadence", type=CHOICE, choices="cadences"),  # by name
    ),
)

CALL = LoftResource(
    kind=Kind.CALL,
    path="activities/calls",
    label="Calls",
    singular="Call",
    headline=_call,
    sorts={"created_at": "created_at", "updated_at": "updated_at"},
    filters={"contact": "person_id[]"},
    person="called_person",
    fields=(
        _ro("to", "To"),
        _ro("contact", "Person", "called_person", codec=Ref(), refers_to=Kind.CONTACT),
        _name_of("called_person"),
        _ro("duration", "Duration (s)", type=NUMBER),
        _ro("disposition", "Disposition", type=CHOICE, choices="call_dispositions", codec=AS_IS),
        _ro("sentiment", "Sentiment", type=CHOICE, choices="call_sentiments", codec=AS_IS),
        # offered as the owner (writable, as every owner), though a call is never changed
        _id("owner", "User", "user", type=USER, choices="users", role=Role.OWNER),
        _ro("called_at", "Called at", "created_at", type=DATETIME),
    ),
)

EMAIL = LoftResource(
    kind=Kind.EMAIL,
    path="activities/emails",
    label="Emails",
    singular="Email",
    headline=_email,
    # v2 sorts emails by updated_at or send_time; it has no account_id filter: the
    # adapter asks for the emails of the account's people (``company`` below)
    sorts={"sent_at": "send_time", "updated_at": "updated_at"},
    filters={"contact": "person_id[]", "owner": "user_id[]"},
    person="recipient",
    fields=(
        _ro("to", "To", "recipient_email_address"),
        _ro("contact", "Person", "recipient", codec=Ref(), refers_to=Kind.CONTACT),
        _name_of("recipient"),
        _ro("status", "Status"),
        _ro("bounced", "Bounced", codec=FLAG),
        _ro("views", "Views", "counts.views"),
        _ro("clicks", "Clicks", "counts.clicks"),
        _ro("replies", "Replies", "counts.replies"),
        _ro("owner", "Owner", "user", type=USER, choices="users", codec=Ref()),
        FirstOf(
            key="sent_at",
            path="sent_at",
            paths=("sent_at", "send_after"),
            label="Sent at",
            type=DATETIME,  # shown as every moment is, not as v2's ISO text
            writable=False,
            codec=WHEN,
        ),
    ),
)

USER_ = LoftResource(
    kind=Kind.USER,
    path="users",
    headline=_user,
    # v2 sorts users by id, email, name, group or role; no updated_at filter
    sorts={"title": "name", "email": "email"},
    default_sort=("id", "ASC"),
    since_filter=False,
    fields=(
        _ro("name", "Name"),
        _ro("email", "Email"),
        _ro("job_role", "Job role"),
        _ro("active", "Active", codec=FLAG),
    ),
)

RESOURCES: dict[str, LoftResource] = {
    r.kind: r
    for r in (CONTACT, COMPANY, TASK, CADENCE, CALL, EMAIL, CADENCE_MEMBERSHIP, CADENCE_STEP, USER_)
}


def _tab(resource: LoftResource, columns: str, **more: Any) -> KindInfo:
    """A kind's tab: its label, sorts, roles and references as declared; ``columns`` are
    the field keys shown, space separated."""
    return resource.kind_info(columns=columns.split(), sortable=list(resource.sorts), **more)


def kind_infos() -> list[KindInfo]:
    """The tabs, in Salesloft's words and order (a fresh list each call)."""
    changed = {"editable": True, "creatable": True, "deletable": True}
    return [
        _tab(
            CONTACT,
            "title company_name email person_stage owner last_contacted_at",
            **changed,
            has_timeline=True,
            families=FAMILY_LABELS,
            # Salesloft has no deals: the stage a rep moves is a person's (or an
            # account's) stage, steps the team names, none of them won or lost
            board_field="person_stage",
            outcome_note="Salesloft person stages are steps your team names; none is won or lost",
        ),
        _tab(
            COMPANY,
            "title domain industry owner account_stage account_tier people_count last_contacted_at",
            **changed,
            has_timeline=True,
            families=FAMILY_LABELS,
            board_field="account_stage",
            outcome_note="Salesloft account stages are steps your team names; none is won or lost",
        ),
        _tab(
            TASK,
            "title type due_date status contact owner",
            day_views=["overdue", "today"],
            # shown at once while an edit is queued: completing a task makes it
            # "completed", and a new due_date moves due_at to that day (the sandbox's
            # decision, as the API's answers show them: never two days)
            follows=[
                Follow(field="done", when=True, sets="status", to="completed"),
                Follow(field="due_date", sets="due_at", rule=FollowRule.DAY),
            ],
            searchable=False,
            editable=True,
            creatable=True,
            views=dict(TASK_VIEWS),
            timeline_note=NO_TIMELINE["task"],
        ),
        _tab(
            CADENCE, "title owner people team_cadence shared", timeline_note=NO_TIMELINE["cadence"]
        ),
        _tab(
            CALL,
            "title contact disposition sentiment duration called_at",
            searchable=False,
            timeline_note=NO_TIMELINE["activity"],
        ),
        _tab(
            EMAIL,
            "title contact status views clicks replies sent_at",
            searchable=False,
            timeline_note=NO_TIMELINE["activity"],
        ),
    ]
