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

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from crmtui.fields import iso, parse_datetime
from crmtui.http import NotFound, RateBudget, Rejected, VendorSession
from crmtui.http.auth import bearer
from crmtui.model import (
    Activity,
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
)
from crmtui.vendors.base import CannotTell, Profile, Setting, Vendor, record_id
from crmtui.vendors.salesloft.auth import observe_remaining, parse_error
from crmtui.vendors.salesloft.paging import list_params, next_page, page_cost, sort_params
from crmtui.vendors.salesloft.resources import (
    COMPANY_WRITES,
    CONTACT_WRITES,
    INT_PARAMS,
    MEMBERSHIP,
    PATHS,
    SIMPLE,
    STEP,
    TASK_TYPES,
    TASK_VIEWS,
    kind_infos,
    ref_id,
    sid,
    slug,
    when,
)
from crmtui.vendors.salesloft.timeline import (
    call_summary,
    email_summary,
    note_activity,
    read_timeline,
    users_of,
)

API = "https://api.salesloft.com/v2/"
APP = "https://app.salesloft.com/app/"
WRITES: dict[str, dict[str, str]] = {Kind.CONTACT: CONTACT_WRITES, Kind.COMPANY: COMPANY_WRITES}
NOTE_TARGETS: dict[str, str] = {Kind.CONTACT: "person", Kind.COMPANY: "account"}
WEB_PAGES: dict[str, str] = {
    Kind.CONTACT: "people",
    Kind.COMPANY: "company",
    Kind.CADENCE: "cadence",
}


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
        observe_remaining(self.limiter, response)

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
        return kind_infos()

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

    async def list_page(self, kind: str, query: Query) -> Page:
        path = self._path(kind)
        params = list_params(kind, query)
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
        params += sort_params(kind, query)
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
        params = list_params(Kind.TASK, (query or Query()).model_copy(update={"view": None}))
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
        fields: dict[str, Any] = {
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
        fields: dict[str, Any] = {
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
        return await read_timeline(self._get, lambda: self._names("users"), kind, id)

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
        writes = WRITES.get(kind)
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
        target = NOTE_TARGETS.get(ref.kind)
        if target is None:
            raise Rejected(self.label, "Salesloft notes belong to people and accounts")
        body = {"content": text, "associated_with_type": target, "associated_with_id": int(ref.id)}
        response = await self.session.json("POST", "notes", json=body)
        return note_activity(response["data"], await self._names("users"))

    def record_url(self, kind: str, id: str) -> str | None:
        page = WEB_PAGES.get(kind)
        return f"{APP}{page}/{id}" if page else None


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
