"""Freshsales adapter (``https://{domain}.freshsales.io/api/``, ``Authorization: Token token=<key>``).

Kinds, in Freshsales's words and tab order: Contacts, Leads, Accounts (the API's
"sales accounts"), Deals and Tasks; appointments, notes and activities show in timelines.
The kinds and their fields are declared in ``resources``; this module keeps what the
mapping cannot say.

Decisions (where the documentation is silent or ambiguous):

- Lists go through views: ``GET /api/<resource>/view/<view_id>`` with ``page``,
  ``per_page``, ``sort``, ``sort_type`` and ``include=owner``; the views come from
  ``GET /api/<resource>/filters``. With no view asked for, the filter named "All ..."
  is used (for deals, which have no such filter, the doc's "To fetch all deals" view:
  the default filter whose name holds "All", else "Recent Deals", else the first).
- ``Page.next_cursor`` is the next page number as text; ``Page.total`` is ``meta.total``.
- Sorting accepts only the fields the doc lists per kind; any other sort key is ignored
  (the view's own order is kept) rather than failing the list.
- ``Query.updated_since`` (a sync): the Scroll API (``GET /api/<resource>/scroll/<view>``,
  the doc's route to all records) over ``paging.whole_views`` for a full sync and for
  kinds with no "All" view (deals: Open, Won and Lost); tasks through the filters
  ``open`` and ``completed``. An incremental sync of a kind with an "All" view reads it
  sorted by ``updated_at`` descending and stops at the first page reaching the mark.
- Search: the doc has no search endpoint (and its views are the account's saved ones,
  with no filter a request can add), so no kind is ``searchable``: the app searches the
  cache, which a sync fills with every record; ``Query.search`` is ignored.
- Tasks list with the documented ``filter`` (open, due_today, due_tomorrow, overdue,
  completed) offered as views, ``open`` by default; paging as for views.
- Timelines: for leads and contacts ``GET /api/<resource>/<id>/activities?include=user``
  (documented for those two only) merged with the notes, tasks and appointments embedded
  by ``GET /api/<resource>/<id>?include=...`` that the activities do not already cover
  (by actionable type and id); accounts and deals show their embeds alone (a deal's
  sales activities too, and its current stage since ``stage_updated_time``).
- Freshsales has no idempotency key (and tasks have no custom fields or tags to hold
  one). When an earlier try of a create may have arrived, the outbox asks
  ``find_created``: a task is looked for among its record's tasks
  (``GET /api/<kind>/<id>?include=tasks``); a contact, lead, account or deal among the
  ``RECENT`` newest created records of the views holding every record (documented
  ``sort=created_at``; the search API is not in the doc) whose email or name is exactly
  the one given (the newest ``LOOKALIKES``, read in full). A match must hold every value
  of the create.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmtui.fields import local_text, money_text, parse_datetime
from crmtui.http import BadResponse, NotFound, RateBudget, Rejected
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
from crmtui.vendors.base import CannotTell, Profile, Vendor, record_id
from crmtui.vendors.freshsales import paging, records, timeline
from crmtui.vendors.freshsales.auth import API_KEY, CONNECTION, DOMAIN, api_root, web_root
from crmtui.vendors.freshsales.calls import CALLS, delete_call, log_call, outcome_choices
from crmtui.vendors.freshsales.records import items, name
from crmtui.vendors.freshsales.resources import (
    ACTIVITY_FEEDS,
    CURRENCIES,
    CURRENCY_TABLE,
    OUTCOMES,
    OWN_SOURCES,
    OWNERS,
    PIPELINES,
    RESOURCES,
    SETTINGS_TYPES,
    STAGES,
    STATUS_TABLE,
    TARGETABLE,
    TASK_VIEWS,
    USERS,
    FsResource,
    Target,
    resource_of,
)
from crmtui.vendors.mapping import (
    Context,
    Json,
    Logged,
    Notes,
    Resource,
    custom_spec,
    number,
    path_id,
    vendor_id,
)

_LISTED = (FieldType.CHOICE, FieldType.MULTI_CHOICE)  # types whose settings list choices
LOOKALIKES = 10  # exact matches read in full when a replayed create looks for itself
RECENT = 100  # the newest created records of a view a replayed create is looked for among


# The deals board: stages per pipeline. Won and Lost are stages (forecast type Won / Lost),
# not a status to set; the lost reason (``deal_reason_id``: "Reason for losing the deal.
# Can be set only if the deal is in "Lost" stage") is asked when a deal is lost, not
# required (the API takes a Lost deal without one).
BOARDS: dict[str, dict[str, Any]] = {
    Kind.DEAL: {"board_field": "stage", "lost_reason": "deal_reason_id"},
}
_OUTCOMES = {"won": "won", "lost": "lost"}


class Freshsales(Vendor):
    """Freshsales through its documented REST API (see the module docstring)."""

    name = "freshsales"
    label = "Freshsales"
    settings = (DOMAIN, API_KEY)
    budget = RateBudget(1000, 3600, note="1000 requests per hour per account")
    notes_listed = True  # notes show on the record's timeline, text and time
    activity_log = CALLS  # a call or meeting logged: a sales activity (``calls``)
    notes = Notes(on=tuple(TARGETABLE))  # POST notes: a lead, contact, account or deal
    connection = CONNECTION
    resources = RESOURCES

    @classmethod
    def default_base_url(cls, profile: Profile) -> str:
        return api_root(profile.setting("domain"))

    def web_root(self) -> str | None:
        domain = self.profile.setting("domain")
        return web_root(domain) if domain else None

    def resource(self, kind: str) -> FsResource:
        found = super().resource(kind)
        assert isinstance(found, FsResource)
        return found

    # -- requests -----------------------------------------------------------------

    async def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Json:
        return self._object(await self.session.json("GET", path, params=params), path)

    def _object(self, body: Any, path: str) -> Json:
        if not isinstance(body, dict):
            raise BadResponse(self.label, f"the reply to {path} was not a JSON object")
        return body

    def _take(self, body: Json, key: str, path: str, kind: type = dict) -> Any:
        value = body.get(key)
        if not isinstance(value, kind):
            raise BadResponse(self.label, f"the reply to {path} had no {key!r}")
        return value

    # -- schema ---------------------------------------------------------------------

    async def kinds(self) -> list[KindInfo]:
        infos = []
        for resource in map(self.resource, RESOURCES):
            if resource.kind == Kind.TASK:
                views = dict(TASK_VIEWS)
            else:
                views = {
                    str(f["id"]): str(f.get("name", f["id"])) for f in await self._filters(resource)
                }
            infos.append(
                resource.kind_info(
                    columns=list(resource.columns),
                    sortable=list(resource.sorts),
                    searchable=False,  # no documented search: the cache is searched
                    editable=True,
                    creatable=True,
                    deletable=True,
                    has_timeline=resource.kind != Kind.TASK,
                    views=views,
                    day_views=list(resource.day_views),
                    **BOARDS.get(resource.kind, {}),
                )
            )
        return infos

    async def build_fields(self, resource: Resource) -> list[FieldSpec]:
        """The declared fields, relabelled and made required as the account's field
        settings say (``/api/settings/<resource>/fields``; tasks have none), then the
        settings' custom fields."""
        settings: dict[str, Json] = {}
        if resource.kind != Kind.TASK:
            path = f"settings/{resource.path}/fields"
            for item in self._take(await self._get(path), "fields", path, list):
                if isinstance(item, dict) and item.get("name"):
                    settings[str(item["name"])] = item
        labels, required, choices = {}, {}, {}
        for field in resource.fields:
            setting = settings.pop(field.at, {})  # the first field of a path takes it
            labels[field.key] = str(setting.get("label") or "")
            required[field.key] = bool(setting.get("required")) or field.required
            if field.options:
                continue
            found = await self.choices(field.choices) if field.choices else []
            if not found and field.choices not in OWN_SOURCES and field.type in _LISTED:
                found = _setting_choices(setting)
            choices[field.key] = found
        customs = [
            custom_spec(
                str(item["name"]),
                str(item.get("label") or ""),
                str(item.get("type")),
                SETTINGS_TYPES,
                required=bool(item.get("required")),
                choices=_custom_choices(item),
            )
            for item in settings.values()
            if _is_custom(item)
        ]
        return resource.specs(choices, labels, required) + customs

    async def choices(self, source: str) -> list[Choice]:
        if source == OWNERS:
            owners = await self._selector(OWNERS)
            return [c for u in owners if (c := USERS.choice(u, name(u))) is not None]
        if source == CURRENCIES:
            return [Choice(value=c, label=c) for c in (await self._currencies()).values()]
        if source == STAGES:
            stages = await self._stage_map()
            names = {str(p["id"]): name(p) for p in await self._pipeline_list()}
            return [
                Choice(
                    value=sid,
                    label=name(stage),
                    group=names.get(str(stage.get("deal_pipeline_id"))),
                    color=records.stage_color(stage),
                    outcome=_OUTCOMES.get(records.stage_status(stage) or ""),
                )
                for sid, stage in stages.items()
            ]
        if source == PIPELINES:
            return [Choice(value=str(p["id"]), label=name(p)) for p in await self._pipeline_list()]
        if source == OUTCOMES:
            return [Choice(value=str(o["id"]), label=name(o)) for o in await self._task_outcomes()]
        listed = await self._selector(source)
        return [Choice(value=str(i["id"]), label=name(i)) for i in listed if "id" in i]

    async def _selector(self, source: str) -> list[Json]:
        async def load() -> list[Json]:
            try:
                body = await self.session.json("GET", f"selector/{source}")
            except NotFound:
                body = []
            return items(body)

        return await self.cached(f"selector:{source}", load)

    async def _task_outcomes(self) -> list[Json]:
        """The outcomes of the "Task" sales activity type (all outcomes if it has none)."""
        outcomes = [o for o in await self._selector("sales_activity_outcomes") if "id" in o]
        types = await self._selector("sales_activity_types")
        task = next((t for t in types if name(t).lower() == "task"), None)
        if task is None:
            return outcomes
        mine = [o for o in outcomes if str(o.get("sales_activity_type_id")) == str(task["id"])]
        return mine or outcomes

    async def _currencies(self) -> dict[str, str]:
        """Currency id -> ISO code (loaded once)."""
        await self._selector(CURRENCIES)
        return self._currency_codes()

    def _currency_codes(self) -> dict[str, str]:
        out = {}
        for item in self.lookups.get(f"selector:{CURRENCIES}", []):
            code = item.get("currency_code") or item.get("code") or item.get("name")
            if "id" in item and code:
                out[str(item["id"])] = str(code).upper()
        return out

    async def _pipeline_list(self) -> list[Json]:
        async def load() -> list[Json]:
            return [p for p in await self._selector("deal_pipelines") if "id" in p]

        return await self.cached(PIPELINES, load)

    async def _stage_map(self) -> dict[str, Json]:
        """Every deal stage by id, read per pipeline so each knows its pipeline."""

        async def load() -> dict[str, Json]:
            stages: dict[str, Json] = {}
            for pipeline in await self._pipeline_list():
                path = f"selector/deal_pipelines/{path_id(str(pipeline['id']))}/deal_stages"
                for stage in items(await self.session.json("GET", path)):
                    stages[str(stage["id"])] = {"deal_pipeline_id": pipeline["id"], **stage}
            if not stages:
                for stage in items(await self.session.json("GET", "selector/deal_stages")):
                    stages[str(stage["id"])] = stage
            return stages

        return await self.cached(STAGES, load)

    def _context(self) -> Context:
        """The lookup tables loaded so far (``_prepare`` loads those a kind needs)."""
        stages: dict[str, Json] = self.lookups.get(STAGES, {})
        statuses = {sid: records.stage_status(stage) or "" for sid, stage in stages.items()}
        return self.context({CURRENCY_TABLE: self._currency_codes(), STATUS_TABLE: statuses})

    # -- lists ------------------------------------------------------------------------

    async def whoami(self) -> str | None:
        """The API key's user. Freshsales documents no route saying who that is; its
        "My Deals" view (``deals/view/<id>``, the filters' default "My Deals") lists the
        deals the user owns, so their owner is the user (decision: None when that view
        is missing or empty, My day then shows everyone's tasks and says why)."""

        async def load() -> str | None:
            views = await self._filters(self.resource(Kind.DEAL))
            mine = next((v for v in views if str(v.get("name")) == "My Deals"), None)
            if mine is None:
                return None
            page = await self.list_page(Kind.DEAL, Query(view=str(mine["id"]), per_page=1))
            owners = [r.fields.get("owner") for r in page.records if r.fields.get("owner")]
            return str(owners[0]) if owners else None

        return await self.cached("me", load)

    async def _filters(self, resource: FsResource) -> list[Json]:
        async def load() -> list[Json]:
            path = f"{resource.path}/filters"
            filters = self._take(await self._get(path), "filters", path, list)
            return [f for f in filters if isinstance(f, dict) and "id" in f]

        return await self.cached(f"views:{resource.path}", load)

    async def list_page(self, kind: str, query: Query) -> Page:
        resource = self.resource(kind)
        if query.updated_since is not None and kind == Kind.TASK and not query.view:
            return await self._all_tasks(resource, query)
        if query.updated_since is not None and kind != Kind.TASK and not query.view:
            views = paging.whole_views(resource, await self._filters(resource))
            # The view API returns "a defined set of records"; the doc sends "the retrieval
            # of all available records" to the Scroll API. A full sync (the service asks
            # for changes since 1970) scrolls; so does every sync of a kind with no "All"
            # view (deals: their Open, Won and Lost views together).
            if query.updated_since <= paging.FULL_SYNC or len(views) != 1:
                return await self._scroll(resource, views, query)
        if kind == Kind.TASK:
            path = "tasks"
        else:
            view = query.view or await self._default_view(resource)
            path = f"{resource.path}/view/{path_id(view)}"
        body = await self._get(path, paging.list_params(resource, query))
        found = self._take(body, resource.path, path, list)
        await self._prepare(kind)
        page = [self._record(resource, item, body) for item in found]
        meta = body.get("meta")
        meta = meta if isinstance(meta, dict) else {}
        total = number(meta.get("total"))
        cursor = resource.paging.next_cursor(query.cursor, query.per_page, len(found), body)
        if query.updated_since is not None:
            since = query.updated_since
            fresh = [r for r in page if r.updated_at is None or r.updated_at >= since]
            if resource.sorts and len(fresh) < len(page):  # newest first: an older one ends it
                cursor = None
            page = fresh
        return Page(records=page, total=None if total is None else int(total), next_cursor=cursor)

    async def _scroll(self, resource: FsResource, views: list[str], query: Query) -> Page:
        """One page of ``GET /api/<resource>/scroll/<view_id>?limit=&last_fetched_id=``
        over ``views`` in turn (ascending ids; the cursor is ``<view index>:<last id>``).
        Bounded: a view whose ``last_fetched_id`` does not move on ends there."""
        if not views:
            raise BadResponse(self.label, f"Freshsales offered no views of {resource.label}")
        index, after = paging.scroll_position(query.cursor, len(views))
        path = f"{resource.path}/scroll/{path_id(views[index])}"
        params = paging.scroll_params(query.per_page, after)
        body = await self._get(path, params)
        found = self._take(body, resource.path, path, list)
        await self._prepare(resource.kind)
        page = [self._record(resource, item, body) for item in found if isinstance(item, dict)]
        cursor = paging.scroll_next(index, after, len(views), body)
        if query.updated_since is not None:
            since = query.updated_since  # ascending ids: older records are dropped, not an end
            page = [r for r in page if r.updated_at is None or r.updated_at >= since]
        return Page(records=page, total=None, next_cursor=cursor)

    async def _all_tasks(self, resource: FsResource, query: Query) -> Page:
        """Every task for a sync: the documented filters ``open`` and then ``completed``
        (together every task; the others are parts of ``open``), page by page (the cursor
        is ``<filter index>:<page>``). Tasks have no documented sort: nothing ends early."""
        filters = paging.TASK_PARTS
        index, number = paging.scroll_position(query.cursor, len(filters))
        page_query = query.model_copy(
            update={"view": filters[index], "cursor": str(number) if number else None}
        )
        page = await self.list_page(
            Kind.TASK, page_query.model_copy(update={"updated_since": None})
        )
        cursor = page.next_cursor
        if cursor is not None:
            cursor = f"{index}:{cursor}"
        elif index + 1 < len(filters):
            cursor = f"{index + 1}:0"
        since = query.updated_since
        records = [
            r
            for r in page.records
            if since is None or r.updated_at is None or r.updated_at >= since
        ]
        return Page(records=records, total=None, next_cursor=cursor)

    async def _default_view(self, resource: FsResource) -> str:
        chosen = paging.default_view(resource, await self._filters(resource))
        if chosen is None:
            raise BadResponse(self.label, f"Freshsales offered no views of {resource.label}")
        return str(chosen["id"])

    async def _prepare(self, kind: str) -> None:
        """Load the lookups that reading a record of ``kind`` needs (cached)."""
        if kind == Kind.DEAL:
            await self._currencies()
            await self._stage_map()

    # -- one record ----------------------------------------------------------------------

    async def get(self, kind: str, id: str) -> Record:
        resource = self.resource(kind)
        path = resource.item(id)
        body = await self._get(path, {"include": resource.include})
        await self._prepare(kind)
        return self._record(resource, self._take(body, resource.wrapper, path), body)

    def _record(self, resource: FsResource, item: Json, body: Json) -> Record:
        fields = resource.read(item, self._context())
        related = records.related(resource, item, body)
        if resource.kind == Kind.CONTACT and fields.get("company") is None:
            accounts = related.get("Accounts") or []
            fields["company"] = accounts[0].id if accounts else None
        owner = records.owner_ref(item, body)
        if owner is not None:
            related["Owner"] = [owner]
        return Record(
            vendor=self.name,
            profile=self.profile.name,
            kind=resource.kind,
            id=record_id(self.label, item.get("id"), resource.kind),
            title=records.title(resource, item),
            subtitle=self._subtitle(resource, fields, related),
            created_at=parse_datetime(item.get("created_at")),
            updated_at=parse_datetime(item.get("updated_at")),
            remote_url=self.record_url(resource.kind, str(item["id"])),
            fields=fields,
            related=related,
            raw=item,
        )

    def _subtitle(
        self, resource: FsResource, fields: Json, related: dict[str, list[RelatedRef]]
    ) -> str:
        parts: list[str | None] = []
        if resource.kind == Kind.CONTACT:
            accounts = related.get("Accounts") or []
            parts = [fields.get("job_title"), accounts[0].title if accounts else None]
        elif resource.kind == Kind.LEAD:
            parts = [fields.get("job_title"), fields.get("company")]
        elif resource.kind == Kind.COMPANY:
            parts = [fields.get("city"), fields.get("website")]
        elif resource.kind == Kind.DEAL:
            amount = fields.get("amount")
            account = related.get("Account") or []
            stage = self.lookups.get(STAGES, {}).get(str(fields.get("stage")))
            parts = [
                money_text(amount, fields.get("currency")),  # the one money format
                name(stage) if stage else None,
                account[0].title if account else None,
            ]
        elif resource.kind == Kind.TASK:
            due = parse_datetime(fields.get("due_at"))
            parts = [
                "done" if fields.get("done") else None,
                f"due {local_text(due)}" if due else None,
            ]
        return " · ".join(p for p in parts if p)

    # -- timeline ---------------------------------------------------------------------------

    async def timeline(self, kind: str, id: str) -> list[Activity]:
        resource = self.resource(kind)
        if kind == Kind.TASK:
            return []
        body: Json = {}
        if kind in ACTIVITY_FEEDS:  # the doc has /activities for leads and contacts only
            path = f"{resource.item(id)}/activities"
            body = self._object(
                await self.session.json("GET", path, params={"include": "user"}), path
            )
        types = {str(t["id"]): name(t) for t in await self._selector("sales_activity_types")}
        record, record_body = None, {}
        outcomes: dict[str, str] = {}
        if resource.timeline_include:
            path = resource.item(id)
            record_body = await self._get(path, {"include": resource.timeline_include})
            record = self._take(record_body, resource.wrapper, path)
            # embedded entries name their people by id: the account's users name them
            users = [*await self._selector(OWNERS), *(record_body.get("users") or [])]
            record_body = {**record_body, "users": users}
            if "sales_activities" in resource.timeline_include:
                listed = await self._selector("sales_activity_outcomes")
                outcomes = {str(o["id"]): name(o) for o in listed if "id" in o}
        entries = timeline.assemble(body, types, record, record_body, outcomes)
        if kind == Kind.DEAL and record is not None:
            # No documented feed holds a deal's stage history: its current stage, since
            # its documented stage_updated_time, is shown as the last stage change.
            stage = (await self._stage_map()).get(str(record.get("deal_stage_id")))
            moved = timeline.stage_entry(record, name(stage) if stage else "")
            entries = sorted([*entries, *moved], key=lambda a: a.occurred_at, reverse=True)
        return entries

    # -- writes --------------------------------------------------------------------------------

    async def update(self, change: Change) -> Record:
        resource = self.resource(change.ref.kind)
        payload = await self._payload(resource, change.values)
        path = resource.item(change.ref.id)
        body = self._object(await self.session.json("PUT", path, json=resource.wrap(payload)), path)
        await self._prepare(resource.kind)
        return self._record(resource, self._take(body, resource.wrapper, path), body)

    async def create(self, kind: str, values: dict[str, Any], idempotency_key: str) -> Record:
        resource = self.resource(kind)
        payload = await self._payload(resource, values)
        await self._prepare(resource.kind)
        # No look-up first: the outbox looks (``find_created``) only when an earlier try
        # may have arrived, so a second identical create made on purpose is sent.
        path = resource.path
        body = self._object(
            await self.session.json("POST", path, json=resource.wrap(payload)), path
        )
        await self._prepare(resource.kind)
        return self._record(resource, self._take(body, resource.wrapper, path), body)

    async def _payload(self, resource: FsResource, values: Mapping[str, Any]) -> Json:
        """Neutral values -> the Freshsales attributes, only for the keys given."""
        if values.get("currency") not in (None, "") and resource.field("currency"):
            await self._currencies()
        return resource.write(values, self._context())

    async def lookalikes(
        self, kind: str, values: dict[str, Any], idempotency_key: str
    ) -> list[Record]:
        """A task's siblings on its record, or the newest records holding its name or email."""
        resource = self.resource(kind)
        how = _lookup(resource, values)
        if how is None:
            raise CannotTell(self.label, f"a {resource.singular} like this cannot be looked up")
        await self._prepare(resource.kind)
        if resource.kind == Kind.TASK:
            path = resource_of(how[0]).item(str(how[1]))
            body = await self._get(path, {"include": "tasks"})
            tasks = body.get("tasks") or []
            return [self._record(resource, t, body) for t in tasks if isinstance(t, dict)]
        # Documented routes only (the search API is not in the doc): the newest created
        # records of the views holding every record (an earlier try of this create is
        # among them unless RECENT others were created since), whose email or name is
        # exactly the one given; the LOOKALIKES newest are read in full.
        term = str(how[1]).lower()
        exact: list[tuple[str, str]] = []
        for view in paging.whole_views(resource, await self._filters(resource)):
            path = f"{resource.path}/view/{path_id(view)}"
            params = {"page": 1, "per_page": RECENT, "sort": "created_at", "sort_type": "desc"}
            for item in self._take(await self._get(path, params), resource.path, path, list):
                if isinstance(item, dict) and "id" in item and term in _names(item):
                    exact.append((str(item.get("created_at") or ""), str(item["id"])))
        exact.sort(reverse=True)
        return [await self.get(resource.kind, id) for _, id in exact[:LOOKALIKES]]

    async def delete(self, ref: RecordRef) -> None:
        resource = self.resource(ref.kind)
        await self.session.request("DELETE", resource.item(ref.id), expect_json=False)

    async def log_choices(self, source: str) -> list[Choice]:
        if source == CALLS.choices[0].source:  # the outcomes of each type logged
            return await outcome_choices(self)
        return await super().log_choices(source)

    async def log_activity(self, ref: RecordRef, logged: Logged) -> Activity:
        return await log_call(self, ref, logged)

    async def delete_logged(self, ref: RecordRef, id: str) -> None:
        await delete_call(self, id)

    async def add_note(self, ref: RecordRef, text: str) -> Activity:
        self.resource(ref.kind)
        if not self.notes.take(ref.kind):
            raise Rejected(
                self.label, "Freshsales notes belong to leads, contacts, accounts and deals"
            )
        note = {
            "description": text,
            "targetable_type": TARGETABLE[ref.kind],
            "targetable_id": vendor_id(ref.id),
        }
        body = self._object(await self.session.json("POST", "notes", json={"note": note}), "notes")
        return timeline.note_activity(self._take(body, "note", "notes"), {}, fallback=None)


def _lookup(resource: FsResource, values: Mapping[str, Any]) -> tuple[str, Any] | None:
    """How an earlier create of ``values`` is found: a task by its target record
    (``(kind, id)``), others by an exact search term (``("search", term)``); None: no way."""
    if resource.kind == Kind.TASK:
        links = [f for f in resource.fields if isinstance(f, Target) and values.get(f.key)]
        return (str(links[0].refers_to), values[links[0].key]) if links else None
    full_name = " ".join(str(values.get(k) or "") for k in ("first_name", "last_name"))
    term = str(values.get("email") or values.get("name") or full_name).strip()
    return ("search", term) if len(term) >= 2 else None


def _names(item: Json) -> set[str]:
    """What a listed record may be looked up by: its email, name, display name, or first
    and last name joined (lower case)."""
    full = " ".join(str(item.get(k) or "") for k in ("first_name", "last_name")).strip()
    found = (item.get("email"), item.get("name"), item.get("display_name"), full)
    return {str(v).lower() for v in found if v}


def _is_custom(item: Json) -> bool:
    return str(item.get("name", "")).startswith("cf_") or item.get("default") is False


def _custom_choices(item: Json) -> list[Choice]:
    """A custom dropdown's choices by their text: a record holds the text and the API
    takes it back as such (the doc's ``"cf_rating": "Excellent"``), not the choice's id,
    which it refuses (400)."""
    return [Choice(value=c.label, label=c.label) for c in _setting_choices(item)]


def _setting_choices(item: Json) -> list[Choice]:
    """A field setting's own choices (``custom_spec`` keeps them for choice types only)."""
    return [
        Choice(value=str(c.get("id", c.get("value"))), label=str(c.get("value", c.get("id"))))
        for c in item.get("choices") or []
        if isinstance(c, dict)
    ]
