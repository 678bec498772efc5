"""Salesloft (REST API v2): people, accounts, tasks, cadences, calls and emails.

Kinds, in Salesloft's words: People (``contact``), Accounts (``company``), Tasks,
Cadences, Calls and Emails. Salesloft has no deal object (opportunities live in the CRM),
so no Deals tab is offered.

Conventions:

- Cadence members and steps are kinds ``cadence_membership`` and ``step``; they are not
  tabs but are listed with a cadence filter: ``list("cadence_membership",
  Query(filters={"cadence": id}))`` and ``list("step", Query(filters={"cadence": id}))``.
  ``get("cadence", id).related`` holds the current "Members" and the "Steps".
- Filters use neutral keys where they exist (``contact``, ``company``, ``owner``,
  ``cadence``, ``status``, ``type``); any other key is passed to the API as is.
- Task quick filters (``KindInfo.views``) are v2's ``time_interval_filter`` buckets; the
  latest ``metadata.counts`` are kept in ``task_counts`` (and ``fetch_task_counts``).
- Incremental reads (``Query.updated_since``): ``sort_by=updated_at&sort_direction=ASC&
  updated_at[gt]=<last seen, microseconds kept>``, always page 1 (deep pages cost more);
  the cursor carries the last ``updated_at`` seen.
- Paging otherwise by ``page`` (cursor ``"p:<n>"``); each request is charged its
  documented cost (3/8/10/30 past page 100) and the limiter is corrected from
  ``x-ratelimit-remaining-minute``.
- Search: v2 has no free text search on people or accounts. People are searched by
  exact e-mail address, accounts by exact domain (text with a dot) or exact name,
  cadences by exact name.
- Timelines: a person's notes, calls, sent emails, completed tasks and the CRM
  activities those calls/emails were logged as (v2 cannot filter CRM activities by
  person); an account's notes, emails and completed tasks. Newest first.
- Custom fields appear as ``cf_<slug of name>`` (text, writable).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from crmtui.fields import html_to_text, iso, parse_datetime
from crmtui.http import NotFound, RateBudget, Rejected, VendorSession
from crmtui.http.auth import bearer
from crmtui.http.client import json_object
from crmtui.model import (
    Activity,
    ActivityType,
    Change,
    Choice,
    FieldSpec,
    FieldType,
    Kind,
    KindInfo,
    Page,
    Query,
    Record,
    RecordRef,
    RelatedRef,
    Role,
)
from crmtui.vendors.base import CannotTell, Profile, Setting, Vendor, record_id

API = "https://api.salesloft.com/v2/"
APP = "https://app.salesloft.com/app/"
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
CRM_TYPES = {
    "call": ActivityType.CALL,
    "meeting": ActivityType.MEETING,
    "email": ActivityType.EMAIL,
}


def page_cost(page: int) -> int:
    """Salesloft's documented cost of a request for ``page``."""
    for first, cost in ((501, 30), (251, 10), (151, 8), (101, 3)):
        if page >= first:
            return cost
    return 1


def parse_error(response: httpx.Response) -> str | None:
    """v2 errors: ``{"error": "..."}`` or ``{"errors": {"field": ["msg", ...]}}``."""
    body = json_object(response)
    if body is None:
        return None
    if isinstance(body.get("error"), str):
        return str(body["error"])
    errors = body.get("errors")
    if isinstance(errors, dict):
        parts = []
        for name, messages in errors.items():
            text = ", ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
            parts.append(f"{name} {text}")
        return "; ".join(parts) or None
    if isinstance(errors, list):
        return "; ".join(map(str, errors)) or None
    return None


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


def next_page(value: Any) -> int | None:
    """``metadata.paging.next_page``: an integer, or (one sample) a URL with ``page=``."""
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value:
        if value.isdigit():
            return int(value)
        pages = parse_qs(urlsplit(value).query).get("page")
        return int(pages[0]) if pages and pages[0].isdigit() else None
    return None


def when(value: Any) -> str | None:
    return iso(parse_datetime(value))


class Salesloft(Vendor):
    """The Salesloft adapter (see the module docstring for its conventions)."""

    name = "salesloft"
    label = "Salesloft"
    api_domains = ("salesloft.com",)  # API: https://api.salesloft.com/v2/
    settings = (
        Setting(
            "api_key",
            "API key or OAuth access token",
            secret=True,
            help="Salesloft → Your Applications → API Keys",
        ),
    )
    budget = RateBudget(
        600, 60, note="600 cost per minute per team; pages past 100 cost 3, 8, 10 or 30"
    )
    notes_listed = True  # notes show on the person's or account's timeline

    def __init__(self, profile: Profile, http: Any) -> None:
        self._config: dict[str, list[dict[str, Any]]] = {}
        self.task_counts: dict[str, int] = {}
        super().__init__(profile, http)

    # -- connection ----------------------------------------------------------------

    @classmethod
    def default_base_url(cls, profile: Profile) -> str:
        return API

    def connect(self) -> VendorSession:
        key = self.profile.secret("api_key")
        session = self.http.session(
            profile=self.profile.name,
            vendor=self.label,
            base_url=self.base_url(),
            auth=bearer(key),
            limiter=self.limiter,
            parse_error=parse_error,
            secrets=(key,),
        )
        session.on_response.append(self._observe)
        return session

    def _observe(self, response: httpx.Response) -> None:
        """Believe the server about the budget left this minute."""
        headers = response.headers
        remaining = headers.get("x-ratelimit-remaining-minute") or headers.get(
            "x-ratelimit-remaining"
        )
        try:
            if remaining is not None:
                self.limiter.observe(float(remaining))
        except ValueError:
            pass

    async def _get(self, path: str, params: list[tuple[str, Any]] | None = None) -> Any:
        params = list(params or [])
        page = next((int(v) for k, v in params if k == "page"), 1)
        return await self.session.json("GET", path, params=params, cost=page_cost(page))

    async def _all(self, path: str, params: list[tuple[str, Any]] | None = None) -> list[Any]:
        """Every record of a small list (config lists: stages, users...)."""
        out: list[Any] = []
        page: int | None = 1
        while page is not None and page <= 20:
            body = await self._get(path, [*(params or []), ("per_page", 100), ("page", page)])
            out.extend(body.get("data") or [])
            page = next_page((body.get("metadata") or {}).get("paging", {}).get("next_page"))
        return out

    async def config(self, path: str) -> list[dict[str, Any]]:
        """A config list (users, stages, tiers...), read once per adapter."""
        if path not in self._config:
            self._config[path] = await self._all(path)
        return self._config[path]

    async def _names(self, path: str, key: str = "name") -> dict[int, str]:
        return {row["id"]: str(row.get(key) or "") for row in await self.config(path)}

    async def _people_names(self, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        params = [("ids[]", i) for i in sorted(ids)[:100]] + [("per_page", 100)]
        body = await self._get("people", params)
        return {p["id"]: self._person_title(p) for p in body.get("data") or []}

    # -- schema -------------------------------------------------------------------------

    async def kinds(self) -> list[KindInfo]:
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

    async def fields(self, kind: str) -> list[FieldSpec]:
        builders: dict[str, Callable[[], Awaitable[list[FieldSpec]]]] = {
            Kind.CONTACT: self._contact_fields,
            Kind.COMPANY: self._company_fields,
            Kind.TASK: self._task_fields,
            Kind.CALL: self._call_fields,
        }
        if kind in builders:
            return await builders[kind]()
        self._path(kind)
        return [
            FieldSpec(key=k, label=k.replace("_", " ").capitalize()) for k in SIMPLE.get(kind, ())
        ]

    async def _choices(self, path: str) -> list[Choice]:
        rows = await self.config(path)
        rows = sorted(rows, key=lambda r: (r.get("order") or 0, str(r.get("name"))))
        return [Choice(value=str(r["id"]), label=str(r.get("name") or r["id"])) for r in rows]

    async def _owner_spec(self, key: str = "owner", label: str = "Owner") -> FieldSpec:
        users = await self.config("users")
        choices = [
            Choice(value=str(u["id"]), label=u["name"] + ("" if u.get("active") else " (inactive)"))
            for u in sorted(users, key=lambda u: (not u.get("active"), u["name"]))
        ]
        return FieldSpec(key=key, label=label, type=FieldType.USER, writable=True, choices=choices)

    async def _custom_specs(self, field_type: str) -> list[FieldSpec]:
        rows = await self._all("custom_fields", [("field_type", field_type)])
        self._config[f"custom_fields:{field_type}"] = rows
        return [
            FieldSpec(key=slug(r["name"]), label=r["name"], writable=True, custom=True)
            for r in rows
        ]

    async def _contact_fields(self) -> list[FieldSpec]:
        text = FieldType.TEXT
        return [
            FieldSpec(key="name", label="Name"),
            FieldSpec(key="first_name", label="First name", writable=True),
            FieldSpec(key="last_name", label="Last name", writable=True),
            FieldSpec(key="email", label="Email", writable=True),
            FieldSpec(key="phone", label="Phone", writable=True),
            FieldSpec(key="mobile_phone", label="Mobile", writable=True),
            FieldSpec(key="job_title", label="Title", type=text, writable=True),
            FieldSpec(key="company_name", label="Company"),
            FieldSpec(key="city", label="City", writable=True),
            FieldSpec(key="country", label="Country", writable=True),
            await self._owner_spec(),
            FieldSpec(
                key="person_stage",
                label="Stage",
                type=FieldType.CHOICE,
                writable=True,
                choices=await self._choices("person_stages"),
            ),
            FieldSpec(
                key="do_not_contact", label="Do not contact", type=FieldType.BOOL, writable=True
            ),
            FieldSpec(key="last_contacted_at", label="Last contacted", type=FieldType.DATETIME),
            FieldSpec(key="tags", label="Tags", type=FieldType.MULTI_CHOICE),
            FieldSpec(key="emails_sent", label="Emails sent", type=FieldType.NUMBER),
            FieldSpec(key="calls", label="Calls", type=FieldType.NUMBER),
            *await self._custom_specs("person"),
        ]

    async def _company_fields(self) -> list[FieldSpec]:
        return [
            FieldSpec(key="name", label="Name", writable=True, required=True),
            FieldSpec(key="domain", label="Domain", writable=True, required=True),
            FieldSpec(key="website", label="Website", writable=True),
            FieldSpec(key="industry", label="Industry", writable=True),
            FieldSpec(key="size", label="Size", writable=True),
            FieldSpec(key="phone", label="Phone", writable=True),
            FieldSpec(key="city", label="City", writable=True),
            FieldSpec(key="country", label="Country", writable=True),
            await self._owner_spec(),
            FieldSpec(
                key="account_stage",
                label="Stage",
                type=FieldType.CHOICE,
                writable=True,
                choices=await self._choices("account_stages"),
            ),
            FieldSpec(
                key="account_tier",
                label="Tier",
                type=FieldType.CHOICE,
                writable=True,
                choices=await self._choices("account_tiers"),
            ),
            FieldSpec(key="people_count", label="People", type=FieldType.NUMBER),
            FieldSpec(key="last_contacted_at", label="Last contacted", type=FieldType.DATETIME),
            FieldSpec(key="tags", label="Tags", type=FieldType.MULTI_CHOICE),
            *await self._custom_specs("company"),
        ]

    async def _task_fields(self) -> list[FieldSpec]:
        types = [Choice(value=v, label=v.capitalize()) for v in ("call", "email", "todo")]
        return [
            FieldSpec(key="subject", label="Subject", writable=True, required=True),
            FieldSpec(key="body", label="Description", writable=True),
            FieldSpec(
                key="type", label="Type", type=FieldType.CHOICE, writable=True, choices=types
            ),
            FieldSpec(  # Salesloft: an empty due_date "is invalid" (422)
                key="due_date",
                label="Due date",
                type=FieldType.DATE,
                writable=True,
                clearable=False,
            ),
            FieldSpec(key="due_at", label="Due at", type=FieldType.DATETIME, writable=True),
            FieldSpec(key="remind_at", label="Remind at", type=FieldType.DATETIME, writable=True),
            FieldSpec(key="done", label="Done", type=FieldType.BOOL, writable=True),
            FieldSpec(
                key="status",
                label="Status",
                type=FieldType.CHOICE,
                choices=[
                    Choice(value="open", label="Open"),
                    Choice(value="completed", label="Completed"),
                ],
            ),
            FieldSpec(key="completed_at", label="Completed", type=FieldType.DATETIME),
            await self._owner_spec("owner", "Assignee"),
            FieldSpec(key="contact", label="Person id", writable=True, clearable=False),
            FieldSpec(key="contact_name", label="Person"),
        ]

    async def _call_fields(self) -> list[FieldSpec]:
        return [
            FieldSpec(key="to", label="To"),
            FieldSpec(key="contact", label="Person id"),
            FieldSpec(key="contact_name", label="Person"),
            FieldSpec(key="duration", label="Duration (s)", type=FieldType.NUMBER),
            FieldSpec(
                key="disposition",
                label="Disposition",
                type=FieldType.CHOICE,
                choices=[
                    Choice(value=c.label, label=c.label)
                    for c in await self._choices("call_dispositions")
                ],
            ),
            FieldSpec(
                key="sentiment",
                label="Sentiment",
                type=FieldType.CHOICE,
                choices=[
                    Choice(value=c.label, label=c.label)
                    for c in await self._choices("call_sentiments")
                ],
            ),
            await self._owner_spec("owner", "User"),
            FieldSpec(key="called_at", label="Called at", type=FieldType.DATETIME),
        ]

    # -- reads --------------------------------------------------------------------------

    def _path(self, kind: str) -> str:
        try:
            return PATHS[kind]
        except KeyError:
            raise Rejected(self.label, f"Salesloft has no {kind} records") from None

    def _params(self, kind: str, query: Query) -> list[tuple[str, Any]]:
        params: list[tuple[str, Any]] = []
        names = FILTERS.get(kind, {})
        for key, value in query.filters.items():
            param = names.get(key, key)
            if kind == Kind.TASK and key == "status":
                value = "scheduled" if value == "open" else value
            if kind == Kind.TASK and key == "type":
                value = "general" if value == "todo" else value
            params.append((param, value))
        if query.view and kind == Kind.TASK:
            if query.view not in TASK_VIEWS:
                raise Rejected(self.label, f"unknown task view {query.view!r}")
            params += [("time_interval_filter", query.view), ("current_state[]", "scheduled")]
        if query.search:
            params += self._search(kind, query.search.strip())
        return params

    def _search(self, kind: str, text: str) -> list[tuple[str, Any]]:
        if kind == Kind.CONTACT:
            return [("email_addresses[]", text)]
        if kind == Kind.COMPANY:
            if "." in text and " " not in text:
                return [("domain", text.lower())]
            return [("name[]", text)]
        if kind in (Kind.CADENCE,):
            return [("name[]", text)]
        if kind == Kind.USER:
            return [("search", text)]
        return []

    def _sorting(self, kind: str, query: Query) -> list[tuple[str, Any]]:
        if query.sort is None:
            default = DEFAULT_SORT.get(kind)
            return [("sort_by", default[0]), ("sort_direction", default[1])] if default else []
        sort_by = SORTS.get(kind, {}).get(query.sort)
        if sort_by is None:
            raise Rejected(self.label, f"cannot sort {kind} by {query.sort}")
        return [("sort_by", sort_by), ("sort_direction", "DESC" if query.descending else "ASC")]

    async def list_page(self, kind: str, query: Query) -> Page:
        path = self._path(kind)
        params = self._params(kind, query)
        per_page = max(1, min(100, query.per_page))
        cursor = query.cursor or ""
        if query.updated_since is not None:
            since = cursor[2:] if cursor.startswith("u:") else iso(query.updated_since)
            params += [
                ("sort_by", "updated_at"),
                ("sort_direction", "ASC"),
                ("updated_at[gt]", since),
                ("per_page", per_page),
                ("page", 1),
            ]
            body = await self._get(path, params)
            rows = body.get("data") or []
            more = next_page(body["metadata"]["paging"].get("next_page"))
            last = rows[-1]["updated_at"] if rows else None
            return Page(
                records=await self._records(kind, rows),
                next_cursor=f"u:{last}" if more and last else None,
            )
        page = int(cursor[2:]) if cursor.startswith("p:") else 1
        params += self._sorting(kind, query)
        params += [("per_page", per_page), ("page", page)]
        if page == 1:
            params.append(("include_paging_counts", "true"))
        body = await self._get(path, params)
        metadata = body.get("metadata") or {}
        if kind == Kind.TASK and "counts" in metadata:
            self.task_counts = dict(metadata["counts"])
        paging = metadata.get("paging") or {}
        more = next_page(paging.get("next_page"))
        return Page(
            records=await self._records(kind, body.get("data") or []),
            total=paging.get("total_count"),
            next_cursor=f"p:{more}" if more else None,
            view_counts=self._view_counts(kind, metadata),
        )

    @staticmethod
    def _view_counts(kind: str, metadata: dict[str, Any]) -> dict[str, int]:
        """The task views' sizes from ``metadata.counts`` (open tasks per time bucket)."""
        counts = (metadata.get("counts") or {}) if kind == Kind.TASK else {}
        return {view: int(counts[view]) for view in TASK_VIEWS if view in counts}

    async def fetch_task_counts(self, query: Query | None = None) -> dict[str, int]:
        """v2's task counts (all, overdue, today, tomorrow, this_week, next_week)."""
        params = self._params(Kind.TASK, (query or Query()).model_copy(update={"view": None}))
        body = await self._get("tasks", [*params, ("per_page", 1)])
        self.task_counts = dict((body.get("metadata") or {}).get("counts") or {})
        return self.task_counts

    async def get(self, kind: str, id: str) -> Record:
        body = await self._get(f"{self._path(kind)}/{int(id)}")
        record = (await self._records(kind, [body["data"]]))[0]
        related = RELATED.get(kind)
        if related is not None:
            record.related = await related(self, body["data"])
        return record

    async def _records(self, kind: str, rows: list[dict[str, Any]]) -> list[Record]:
        users = await self._names("users")
        person_keys = {
            "task": "person",
            MEMBERSHIP: "person",
            "call": "called_person",
            "email": "recipient",
        }
        people: dict[int, str] = {}
        if kind in person_keys:
            ids = {i for r in rows if (i := ref_id(r, person_keys[kind])) is not None}
            people = await self._people_names(ids)
        mapper = MAPPERS[kind]
        return [mapper(self, row, users, people) for row in rows]

    def _record(
        self, kind: str, raw: dict[str, Any], title: str, subtitle: str, fields: dict[str, Any]
    ) -> Record:
        id = record_id(self.label, raw.get("id"), kind)
        return Record(
            vendor=self.name,
            profile=self.profile.name,
            kind=kind,
            id=id,
            title=title or f"#{id}",
            subtitle=subtitle,
            created_at=parse_datetime(raw.get("created_at")),
            updated_at=parse_datetime(raw.get("updated_at")),
            remote_url=self.record_url(kind, id),
            fields=fields,
            raw=raw,
        )

    @staticmethod
    def _person_title(raw: dict[str, Any]) -> str:
        name = " ".join(x for x in (raw.get("first_name"), raw.get("last_name")) if x)
        return str(raw.get("display_name") or name or raw.get("email_address") or "")

    def _custom(self, raw: dict[str, Any]) -> dict[str, Any]:
        return {slug(k): v for k, v in (raw.get("custom_fields") or {}).items()}

    def _contact(self, raw: dict[str, Any], users: dict[int, str], _: dict[int, str]) -> Record:
        counts = raw.get("counts") or {}
        company = raw.get("person_company_name") or ""
        fields = {
            "name": self._person_title(raw),
            "first_name": raw.get("first_name"),
            "last_name": raw.get("last_name"),
            "email": raw.get("email_address"),
            "phone": raw.get("phone"),
            "mobile_phone": raw.get("mobile_phone"),
            "job_title": raw.get("title"),
            "company": sid(ref_id(raw, "account")),
            "company_name": company or None,
            "city": raw.get("city"),
            "country": raw.get("country"),
            "owner": sid(ref_id(raw, "owner")),
            "person_stage": sid(ref_id(raw, "person_stage")),
            "do_not_contact": bool(raw.get("do_not_contact")),
            "last_contacted_at": when(raw.get("last_contacted_at")),
            "tags": list(raw.get("tags") or []),
            "emails_sent": counts.get("emails_sent"),
            "calls": counts.get("calls"),
            **self._custom(raw),
        }
        subtitle = " · ".join(x for x in (raw.get("title"), company) if x)
        return self._record(Kind.CONTACT, raw, self._person_title(raw), subtitle, fields)

    def _company(self, raw: dict[str, Any], users: dict[int, str], _: dict[int, str]) -> Record:
        fields = {
            "name": raw.get("name"),
            "domain": raw.get("domain"),
            "website": raw.get("website"),
            "industry": raw.get("industry"),
            "size": raw.get("size"),
            "phone": raw.get("phone"),
            "city": raw.get("city"),
            "country": raw.get("country"),
            "owner": sid(ref_id(raw, "owner")),
            "account_stage": sid(ref_id(raw, "company_stage")),
            "account_tier": sid(ref_id(raw, "account_tier")),
            "people_count": (raw.get("counts") or {}).get("people"),
            "last_contacted_at": when(raw.get("last_contacted_at")),
            "tags": list(raw.get("tags") or []),
            **self._custom(raw),
        }
        subtitle = " · ".join(x for x in (raw.get("domain"), raw.get("industry")) if x)
        return self._record(Kind.COMPANY, raw, str(raw.get("name") or ""), subtitle, fields)

    def _task(self, raw: dict[str, Any], users: dict[int, str], people: dict[int, str]) -> Record:
        person = ref_id(raw, "person")
        done = raw.get("current_state") == "completed" or raw.get("completed_at") is not None
        kind = TASK_TYPES.get(str(raw.get("task_type")), "other")
        fields = {
            "subject": raw.get("subject"),
            "body": raw.get("description"),
            "type": kind,
            "due_date": raw.get("due_date"),
            "due_at": when(raw.get("due_at")),
            "remind_at": when(raw.get("remind_at")),
            "done": done,
            "status": "completed" if done else "open",
            "completed_at": when(raw.get("completed_at")),
            "owner": sid(ref_id(raw, "user")),
            "contact": sid(person),
            "contact_name": people.get(person) if person is not None else None,
        }
        subtitle = " · ".join(
            x
            for x in (kind.capitalize(), f"due {raw.get('due_date')}", fields["contact_name"])
            if x
        )
        return self._record(Kind.TASK, raw, str(raw.get("subject") or ""), subtitle, fields)

    def _cadence(self, raw: dict[str, Any], users: dict[int, str], _: dict[int, str]) -> Record:
        owner = ref_id(raw, "owner")
        fields = {
            "name": raw.get("name"),
            "owner": sid(owner),
            "people": (raw.get("counts") or {}).get("cadence_people"),
            "team_cadence": bool(raw.get("team_cadence")),
            "shared": bool(raw.get("shared")),
            "archived": raw.get("archived_at") is not None,
            "tags": list(raw.get("tags") or []),
        }
        subtitle = users.get(owner, "") if owner is not None else ""
        return self._record(Kind.CADENCE, raw, str(raw.get("name") or ""), subtitle, fields)

    def _membership(
        self, raw: dict[str, Any], users: dict[int, str], people: dict[int, str]
    ) -> Record:
        person = ref_id(raw, "person")
        counts = raw.get("counts") or {}
        fields = {
            "contact": sid(person),
            "contact_name": people.get(person) if person is not None else None,
            "cadence": sid(ref_id(raw, "cadence")),
            "state": raw.get("current_state"),
            "current": bool(raw.get("currently_on_cadence")),
            "added_at": when(raw.get("added_at")),
            "owner": sid(ref_id(raw, "user")),
            "sent_emails": counts.get("sent_emails"),
            "replies": counts.get("replies"),
            "calls": counts.get("calls"),
        }
        title = fields["contact_name"] or f"Person #{person}"
        return self._record(MEMBERSHIP, raw, title, str(raw.get("current_state") or ""), fields)

    def _step(self, raw: dict[str, Any], users: dict[int, str], _: dict[int, str]) -> Record:
        fields = {
            "type": raw.get("type"),
            "day": raw.get("day"),
            "step_number": raw.get("step_number"),
            "disabled": bool(raw.get("disabled")),
            "cadence": sid(ref_id(raw, "cadence")),
        }
        subtitle = f"Step {raw.get('step_number')} · day {raw.get('day')} · {raw.get('type')}"
        return self._record(STEP, raw, str(raw.get("display_name") or ""), subtitle, fields)

    def _call(self, raw: dict[str, Any], users: dict[int, str], people: dict[int, str]) -> Record:
        person = ref_id(raw, "called_person")
        name = people.get(person) if person is not None else None
        fields = {
            "to": raw.get("to"),
            "contact": sid(person),
            "contact_name": name,
            "duration": raw.get("duration"),
            "disposition": raw.get("disposition"),
            "sentiment": raw.get("sentiment"),
            "owner": sid(ref_id(raw, "user")),
            "called_at": when(raw.get("created_at")),
        }
        return self._record(Kind.CALL, raw, call_summary(raw, name), users_of(raw, users), fields)

    def _email(self, raw: dict[str, Any], users: dict[int, str], people: dict[int, str]) -> Record:
        person = ref_id(raw, "recipient")
        counts = raw.get("counts") or {}
        fields = {
            "to": raw.get("recipient_email_address"),
            "contact": sid(person),
            "contact_name": people.get(person) if person is not None else None,
            "status": raw.get("status"),
            "bounced": bool(raw.get("bounced")),
            "views": counts.get("views"),
            "clicks": counts.get("clicks"),
            "replies": counts.get("replies"),
            "owner": sid(ref_id(raw, "user")),
            "sent_at": when(raw.get("sent_at") or raw.get("send_after")),
        }
        return self._record(Kind.EMAIL, raw, email_summary(raw), users_of(raw, users), fields)

    def _user(self, raw: dict[str, Any], users: dict[int, str], _: dict[int, str]) -> Record:
        fields = {
            "name": raw.get("name"),
            "email": raw.get("email"),
            "job_role": raw.get("job_role"),
            "active": bool(raw.get("active")),
        }
        return self._record(
            Kind.USER, raw, str(raw.get("name") or ""), raw.get("email") or "", fields
        )

    # -- related records ------------------------------------------------------------------

    async def _contact_related(self, raw: dict[str, Any]) -> dict[str, list[RelatedRef]]:
        related: dict[str, list[RelatedRef]] = {}
        account = ref_id(raw, "account")
        if account is not None:
            try:
                body = await self._get(f"accounts/{account}")
                title = str(body["data"].get("name") or "")
            except NotFound:
                title = raw.get("person_company_name") or f"Account #{account}"
            related["Account"] = [RelatedRef(kind=Kind.COMPANY, id=str(account), title=title)]
        memberships = await self._get(
            "cadence_memberships",
            [("person_id", raw["id"]), ("currently_on_cadence", "true"), ("per_page", 25)],
        )
        cadences = await self._names("cadences")
        related["Cadences"] = [
            RelatedRef(kind=Kind.CADENCE, id=str(c), title=cadences.get(c, f"Cadence #{c}"))
            for m in memberships.get("data") or []
            if (c := ref_id(m, "cadence")) is not None
        ]
        return related

    async def _company_related(self, raw: dict[str, Any]) -> dict[str, list[RelatedRef]]:
        body = await self._get("people", [("account_id[]", raw["id"]), ("per_page", 25)])
        return {
            "People": [
                RelatedRef(kind=Kind.CONTACT, id=str(p["id"]), title=self._person_title(p))
                for p in body.get("data") or []
            ]
        }

    async def _person_related(self, raw: dict[str, Any], key: str) -> dict[str, list[RelatedRef]]:
        person = ref_id(raw, key)
        if person is None:
            return {}
        names = await self._people_names({person})
        title = names.get(person, f"Person #{person}")
        return {"Person": [RelatedRef(kind=Kind.CONTACT, id=str(person), title=title)]}

    async def _cadence_related(self, raw: dict[str, Any]) -> dict[str, list[RelatedRef]]:
        members = await self.list_page(
            MEMBERSHIP, Query(filters={"cadence": str(raw["id"]), "current": "true"}, per_page=25)
        )
        steps = await self.list_page(STEP, Query(filters={"cadence": str(raw["id"])}))
        return {
            "Members": [
                RelatedRef(kind=Kind.CONTACT, id=str(m.fields["contact"]), title=m.title)
                for m in members.records
                if m.fields.get("contact")
            ],
            "Steps": [RelatedRef(kind=STEP, id=s.id, title=s.title) for s in steps.records],
        }

    # -- timeline ----------------------------------------------------------------------------

    async def timeline(self, kind: str, id: str) -> list[Activity]:
        if kind not in (Kind.CONTACT, Kind.COMPANY):
            return []
        key = int(id)
        if kind == Kind.CONTACT:
            sources = (
                self._get(
                    "notes",
                    [("associated_with_type", "person"), ("associated_with_id", key), *RECENT],
                ),
                self._get("activities/calls", [("person_id[]", key), *RECENT]),
                self._get("activities/emails", [("person_id[]", key), *RECENT]),
                self._get("tasks", [("person_id[]", key), *DONE]),
            )
        else:
            sources = (
                self._get(
                    "notes",
                    [("associated_with_type", "account"), ("associated_with_id", key), *RECENT],
                ),
                self._empty(),
                self._get("activities/emails", [("account_id[]", key), *RECENT]),
                self._get("tasks", [("account_id[]", key), *DONE]),
            )
        notes, calls, emails, tasks = [b.get("data") or [] for b in await asyncio.gather(*sources)]
        emails = [e for e in emails if e.get("sent_at")]
        crm_ids = {i for r in (*calls, *emails) if (i := ref_id(r, "crm_activity")) is not None}
        crm: list[dict[str, Any]] = []
        if crm_ids:
            body = await self._get(
                "crm_activities", [*(("ids[]", i) for i in sorted(crm_ids)), ("per_page", 100)]
            )
            crm = body.get("data") or []
        users = await self._names("users")
        activities = [
            *(note_activity(n, users) for n in notes),
            *(call_activity(c, users) for c in calls),
            *(email_activity(e, users) for e in emails),
            *(task_activity(t, users) for t in tasks),
            *(crm_activity(a, users) for a in crm),
        ]
        return sorted(activities, key=lambda a: a.occurred_at, reverse=True)

    @staticmethod
    async def _empty() -> dict[str, Any]:
        return {"data": []}

    # -- writes --------------------------------------------------------------------------------

    async def update(self, change: Change) -> Record:
        kind = change.ref.kind
        body = await self._body(kind, change.values)
        response = await self.session.json(
            "PUT", f"{self._path(kind)}/{int(change.ref.id)}", json=body
        )
        return (await self._records(kind, [response["data"]]))[0]

    async def _body(self, kind: str, values: dict[str, Any]) -> dict[str, Any]:
        if kind == Kind.TASK:
            return self._task_body(values)
        writes = {Kind.CONTACT: CONTACT_WRITES, Kind.COMPANY: COMPANY_WRITES}.get(kind)
        if writes is None:
            raise Rejected(self.label, f"{kind} records cannot be edited in Salesloft")
        body: dict[str, Any] = {}
        custom: dict[str, Any] = {}
        names = await self._custom_names(kind)
        for key, value in values.items():
            if key in writes:
                param = writes[key]
                body[param] = (
                    int(value) if param in INT_PARAMS and value not in (None, "") else value
                )
            elif key in names:
                custom[names[key]] = value
            else:
                raise Rejected(self.label, f"{key} cannot be changed in Salesloft")
        if custom:
            body["custom_fields"] = custom
        return body

    async def _custom_names(self, kind: str) -> dict[str, str]:
        field_type = "person" if kind == Kind.CONTACT else "company"
        cache = f"custom_fields:{field_type}"
        if cache not in self._config:
            await self._custom_specs(field_type)
        return {slug(r["name"]): r["name"] for r in self._config[cache]}

    def _task_body(self, values: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for key, value in values.items():
            if key == "subject":
                body["subject"] = value
            elif key == "body":
                body["description"] = value
            elif key == "type":
                body["task_type"] = "general" if value in ("todo", "other") else value
            elif key == "due_date":
                body["due_date"] = value
            elif key == "due_at":
                body["due_at"] = value
                due = parse_datetime(value)
                if due is not None and "due_date" not in values:
                    body["due_date"] = due.date().isoformat()
            elif key == "remind_at":
                body["remind_at"] = value
            elif key in ("done", "status"):
                done = value is True or value == "completed"
                body["current_state"] = "completed" if done else "scheduled"
            elif key == "owner":
                body["user_id"] = int(value)
            elif key == "contact":
                body["person_id"] = int(value)
            else:
                raise Rejected(self.label, f"{key} cannot be changed on a Salesloft task")
        return body

    async def create(self, kind: str, values: dict[str, Any], idempotency_key: str) -> Record:
        if kind == Kind.TASK:
            body = {"current_state": "scheduled", "task_type": "general", **self._task_body(values)}
            body["idempotency_key"] = idempotency_key
        elif kind in (Kind.CONTACT, Kind.COMPANY):
            earlier = await self._find_created(kind, values)
            if earlier is not None:
                return earlier
            body = await self._body(kind, values)
        else:
            raise Rejected(self.label, f"{kind} records cannot be created from crmtui")
        response = await self.session.json("POST", self._path(kind), json=body)
        return (await self._records(kind, [response["data"]]))[0]

    async def find_created(
        self, kind: str, values: dict[str, Any], idempotency_key: str
    ) -> Record | None:
        if kind == Kind.TASK:  # posted with its idempotency key, which lists filter by
            body = await self._get(self._path(kind), [("idempotency_key", idempotency_key)])
            rows = body.get("data") or []
            return (await self._records(kind, rows[:1]))[0] if rows else None
        if not (kind == Kind.CONTACT and values.get("email")) and not (
            kind == Kind.COMPANY and values.get("domain")
        ):
            raise CannotTell(self.label, f"a {kind} is found only by its email or domain")
        return await self._find_created(kind, values)

    async def _find_created(self, kind: str, values: dict[str, Any]) -> Record | None:
        """A replayed create: the person (by e-mail) or account (by domain) already there."""
        if kind == Kind.CONTACT and values.get("email"):
            params = [("email_addresses[]", values["email"])]
        elif kind == Kind.COMPANY and values.get("domain"):
            params = [("domain", str(values["domain"]).lower())]
        else:
            return None
        body = await self._get(self._path(kind), params)
        rows = body.get("data") or []
        return (await self._records(kind, rows[:1]))[0] if rows else None

    async def delete(self, ref: RecordRef) -> None:
        if ref.kind not in (Kind.CONTACT, Kind.COMPANY):
            raise Rejected(self.label, f"{ref.kind} records cannot be deleted from crmtui")
        await self.session.request(
            "DELETE", f"{self._path(ref.kind)}/{int(ref.id)}", expect_json=False
        )

    async def add_note(self, ref: RecordRef, text: str) -> Activity:
        target = {Kind.CONTACT: "person", Kind.COMPANY: "account"}.get(ref.kind)
        if target is None:
            raise Rejected(self.label, "Salesloft notes belong to people and accounts")
        body = {"content": text, "associated_with_type": target, "associated_with_id": int(ref.id)}
        response = await self.session.json("POST", "notes", json=body)
        return note_activity(response["data"], await self._names("users"))

    def record_url(self, kind: str, id: str) -> str | None:
        page = {Kind.CONTACT: "people", Kind.COMPANY: "company", Kind.CADENCE: "cadence"}.get(kind)
        return f"{APP}{page}/{id}" if page else None


# -- activities -----------------------------------------------------------------------------

RECENT = (("sort_by", "created_at"), ("sort_direction", "DESC"), ("per_page", 25))
DONE = (
    ("current_state[]", "completed"),
    ("sort_by", "updated_at"),
    ("sort_direction", "DESC"),
    ("per_page", 25),
)


def users_of(raw: dict[str, Any], users: dict[int, str]) -> str:
    user = ref_id(raw, "user")
    return users.get(user, "") if user is not None else ""


def call_summary(raw: dict[str, Any], name: str | None = None) -> str:
    summary = f"Call to {name or raw.get('to') or 'unknown number'}"
    return f"{summary} — {raw['disposition']}" if raw.get("disposition") else summary


def email_summary(raw: dict[str, Any]) -> str:
    return f"Email to {raw.get('recipient_email_address') or 'unknown'} ({raw.get('status')})"


def _activity(
    prefix: str,
    raw: dict[str, Any],
    type: ActivityType,
    at: Any,
    summary: str,
    body: str,
    users: dict[int, str],
) -> Activity:
    return Activity(
        id=f"{prefix}:{raw['id']}",
        type=type,
        occurred_at=parse_datetime(at) or datetime.fromtimestamp(0, UTC),
        summary=summary,
        body=body,
        who=users_of(raw, users),
        family=prefix,
        raw=raw,
    )


def note_activity(raw: dict[str, Any], users: dict[int, str]) -> Activity:
    text = html_to_text(raw.get("content") or "")
    first = text.splitlines()[0] if text else "Note"
    summary = first if len(first) <= 80 else first[:79] + "…"
    return _activity("note", raw, ActivityType.NOTE, raw.get("created_at"), summary, text, users)


def call_activity(raw: dict[str, Any], users: dict[int, str]) -> Activity:
    parts = []
    if raw.get("duration") is not None:
        minutes, seconds = divmod(int(raw["duration"]), 60)
        parts.append(f"{minutes}m {seconds:02d}s")
    if raw.get("sentiment"):
        parts.append(f"sentiment {raw['sentiment']}")
    return _activity(
        "call",
        raw,
        ActivityType.CALL,
        raw.get("created_at"),
        call_summary(raw),
        ", ".join(parts),
        users,
    )


def email_activity(raw: dict[str, Any], users: dict[int, str]) -> Activity:
    counts = raw.get("counts") or {}
    body = (
        ", ".join(f"{counts[k]} {k}" for k in ("views", "clicks", "replies") if counts.get(k))
        or "No opens yet"
    )
    at = raw.get("sent_at") or raw.get("send_after") or raw.get("created_at")
    return _activity("email", raw, ActivityType.EMAIL, at, email_summary(raw), body, users)


def task_activity(raw: dict[str, Any], users: dict[int, str]) -> Activity:
    at = raw.get("completed_at") or raw.get("updated_at")
    summary = f"Completed task: {raw.get('subject') or ''}".strip()
    return _activity("task", raw, ActivityType.TASK_EVENT, at, summary, "", users)


def crm_activity(raw: dict[str, Any], users: dict[int, str]) -> Activity:
    type = CRM_TYPES.get(str(raw.get("activity_type") or "").lower(), ActivityType.OTHER)
    body = html_to_text(raw.get("description") or "")
    summary = str(raw.get("subject") or raw.get("activity_type") or "CRM activity")
    return _activity("crm_activity", raw, type, raw.get("created_at"), summary, body, users)


Mapper = Callable[[Salesloft, dict[str, Any], dict[int, str], dict[int, str]], Record]
MAPPERS: dict[str, Mapper] = {
    Kind.CONTACT: Salesloft._contact,
    Kind.COMPANY: Salesloft._company,
    Kind.TASK: Salesloft._task,
    Kind.CADENCE: Salesloft._cadence,
    MEMBERSHIP: Salesloft._membership,
    STEP: Salesloft._step,
    Kind.CALL: Salesloft._call,
    Kind.EMAIL: Salesloft._email,
    Kind.USER: Salesloft._user,
}
Related = Callable[[Salesloft, dict[str, Any]], Awaitable[dict[str, list[RelatedRef]]]]
RELATED: dict[str, Related] = {
    Kind.CONTACT: Salesloft._contact_related,
    Kind.COMPANY: Salesloft._company_related,
    Kind.CADENCE: Salesloft._cadence_related,
    Kind.TASK: lambda self, raw: self._person_related(raw, "person"),
    MEMBERSHIP: lambda self, raw: self._person_related(raw, "person"),
    Kind.CALL: lambda self, raw: self._person_related(raw, "called_person"),
    Kind.EMAIL: lambda self, raw: self._person_related(raw, "recipient"),
}
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
