"""A Salesloft REST API v2 sandbox (``/v2/...``, ``Authorization: Bearer <token>``).

Declared on the shared kit (:data:`SANDBOX`, ``crmtui.sandbox.kit``): its routes are the
contract's endpoints (``contract.py``, every one served), the kit does the Bearer auth,
the ``{"error": ...}`` envelope, the page-cost rate limit and ``page``/``per_page``
paging; this module keeps what is Salesloft's own (filters, sorts, writes, the
``metadata`` of a list). Follows the v2 documentation as sampled in the seed (response
bodies) and the vendor notes. Decisions where the documentation is silent:

- Tokens: ``sandbox`` acts as user 1 (a team admin). The ``expire`` fault revokes every
  token; afterwards requests get 401 ``{"error": "Invalid Bearer Token"}``.
- Every path also answers with a ``.json`` suffix; unknown paths and records give 404
  ``{"error": "Not Found"}``; validation errors 422 ``{"errors": {field: [msg]}}``; a body
  that is not JSON 400 ``{"error": ...}``; DELETE answers 204 with no body. A ``page`` or
  ``per_page`` that is not a whole number from 1 is 400 ``{"error": "page must be at
  least 1"}`` (the kit's paging); a ``per_page`` above 100 is taken as 100.
- Rate limit: 600 cost per minute for the team (fixed window from the first request).
  A request costs 1, or 3/8/10/30 for ``page`` 101-150/151-250/251-500/501+. Every
  authenticated response carries ``x-ratelimit-endpoint-cost``,
  ``x-ratelimit-remaining-minute`` and ``x-ratelimit-limit-minute`` (plus
  ``X-RateLimit-Limit``/``X-RateLimit-Remaining``); past the budget 429
  ``{"error": "Rate limit exceeded"}`` with ``Retry-After`` (seconds to the next window).
- Filters: arrays as ``x[]=1&x[]=2``, repeated ``x=`` or ``x=1,2``; ranges as
  ``updated_at[gt|gte|lt|lte]=<iso8601>`` compared at microseconds; applied ones echoed
  as strings in ``metadata.filtering``. People and accounts have no free-text search (as
  in v2): exact ``email_addresses[]``, ``name[]``, ``domain``.
- Sentinels, where the contract's Param lists them (elsewhere the contract refuses them,
  422): ``x=_is_null`` keeps records without a value, and with other values records with
  either (``owner_id=5,_is_null``); people's ``cadence_id=_is_null`` those on no cadence
  now, people's ``locales=Null`` those without a locale; ``owner_crm_id[_not_in]=a,b``
  (or ``[_not_in][]=``) drops records with one of these (``_is_null`` among them: those
  without one), and with ``owner_crm_id=`` both apply; ``last_contacted=_is_null`` /
  ``_is_not_null`` never / ever contacted, with a range either;
  ``user_relationships[Name]=_is_null`` / ``_unmapped`` (see :func:`_relationships`).
- What a list takes is Salesloft's published API definition (the contract table in the
  vendor notes, ``salesloft-contract.md`` §1-2), not what crmtui sends. Decision for a
  query parameter the definition does not list (``updated_at[gt]`` on tasks or users,
  ``account_id`` on emails): it is **ignored**, as a Rails API ignores a parameter it
  does not permit, and is not echoed in ``metadata.filtering``: the list comes back
  unfiltered, as a real account would answer it. A ``sort_by`` outside the documented
  values is **refused** (422 ``{"errors": {"sort_by": ["is invalid"]}}``): tasks sort
  by ``due_date``/``due_at`` only (default ``due_date`` ASC), users by
  ``id``/``email``/``name``/``group``/``role`` (default ``id``), emails by
  ``updated_at``/``send_time``, steps by ``created_at``/``updated_at``.
- Users: without ``page`` every user comes back (``per_page`` is applied only with
  ``page``), as the definition says.
- Documented filters and sorts are applied, not ignored: people ``tag_id``,
  ``title``, ``job_seniority``, ``owned_by_guid``, ``can_email``/``can_call`` (an
  address or phone, not do-not-contact, not bouncing, no contact restriction),
  ``last_contacted[...]``; accounts ``tag_id``, ``industry``, ``website``, place
  filters, sorts ``account_stage_name``/``account_tier_name``; people sorts
  ``account``, ``job_seniority``, counts; emails ``one_off`` (no cadence); users
  ``visible_only`` (no sandbox user is deactivated), ``role_id``; people
  ``starred_by_guid`` (the seed's stars; a Person's ``starred`` is the caller's own);
  cadences ``group_ids`` (one string: an id, ids with commas or a JSON array string,
  matched against the Cadence's ``groups``); emails ``personalization`` (the score,
  compared as numbers) and ``scoped_fields`` (``subject``/``error_message`` are shown
  on the list only when named). The contract module's docstring says why each way.
- ``GET /v2/actions`` lists the in-progress actions (decision: one per person currently
  on a cadence, at its first step; the sandbox runs no schedule); ``GET
  /v2/crm_activity_fields`` the Salesforce Task fields of e-mail and phone logging.
- Tasks: ``time_interval_filter`` (overdue, today, tomorrow, this_week, next_week) and the
  ``metadata.counts`` buckets count only incomplete tasks, by ``due_date`` in the caller's
  time zone (weeks start on Monday); ``counts.all`` is every task matching the other
  filters. ``next_page`` is an integer on every list, tasks included.
- Completing a task sets ``completed_at``/``completed_by``; a completed task cannot go
  back to ``scheduled`` (422). ``POST /v2/tasks`` requires subject, person_id, user_id,
  task_type, due_date and current_state (only ``scheduled``); ``PUT /v2/tasks/{id}``
  takes subject, description, due_date, remind_at, is_logged and current_state (only
  ``completed``). A body field the definition does not list for the method (``due_at``
  anywhere; task_type, person_id, user_id on PUT) is ignored, as unpermitted parameters
  are: the task keeps its value. Logging a call with ``notes`` creates a linked note; calls
  and notes on a person move its (and its account's) ``last_contacted_*``.
- Person stage, owner and account stage/tier changes are not timeline entries in v2
  (no activity is written for them).
- Bulk jobs run synchronously when marked ``ready_to_execute`` (``person/upsert`` only);
  their job data and results page by ``id[gt]`` (the cursor) and ``per_page``; imports
  are plain records.
- The documented resources crmtui does not use are served too (the definition's shapes,
  under ``data``): ``GET /v2/team``; account upserts; meetings, meeting settings,
  successes, activity histories, CRM users, e-mail and team templates, calendar events,
  pending e-mails, call instructions (the sandbox team starts with none of them);
  saved list views and webhook subscriptions (stored as given); cadence export/import;
  MIME payloads of e-mail activities; ``POST /v2/activities`` refuses every id (the
  sandbox has no ``integration`` steps).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache, cached_property
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request

from crmtui.fields import parse_date, parse_datetime
from crmtui.sandbox import SandboxClock, kit
from crmtui.sandbox.contract import Endpoint, Param, parse_body
from crmtui.sandbox.faults import Faults
from crmtui.sandbox.ratelimit import WindowLimit
from crmtui.sandbox.salesloft.contract import (
    CONTRACT,
    INTERVALS,
    NOT_IN,
    NOT_NULL,
    NULL,
    TASK_TYPES,
    UNMAPPED,
)
from crmtui.sandbox.salesloft.data import Db, build, iso, render, today_in

LIMIT_PER_MINUTE = 600
NO_TOKEN = (
    "No Bearer Token attached to request, please see documentation at developers.salesloft.com"
)
BAD_TOKEN = "Invalid Bearer Token"


def page_cost(page: int) -> int:
    """What a request for ``page`` costs against the per-minute budget."""
    if page >= 501:
        return 30
    if page >= 251:
        return 10
    if page >= 151:
        return 8
    if page >= 101:
        return 3
    return 1


def not_found() -> kit.ApiError:
    return kit.ApiError(404, "Not Found")


def invalid(errors: dict[str, list[str]]) -> kit.ApiError:
    """v2's validation error: 422 ``{"errors": {field: [message]}}``."""
    return kit.ApiError(422, body={"errors": errors})


@cache
def documented(key: str) -> Endpoint:
    """The contract's endpoint ``"METHOD /path/{template}"`` (its fields, required...)."""
    method, _, path = key.partition(" ")
    found = next((e for e in CONTRACT.endpoints if (e.method, e.path) == (method, path)), None)
    if found is None:
        raise KeyError(key)
    return found


def permitted(body: dict[str, Any], key: str) -> dict[str, Any]:
    """The body fields the contract lists for ``key``; any other is dropped, as Rails
    drops unpermitted parameters (the contract layer already has; a bulk job has not)."""
    fields = documented(key).fields or ()
    return {k: v for k, v in body.items() if k in fields}


def blank(body: dict[str, Any], required: tuple[str, ...]) -> None:
    """422 naming every required field that is missing or empty."""
    missing = {k: ["can't be blank"] for k in required if not body.get(k)}
    if missing:
        raise invalid(missing)


# -- request parameters -------------------------------------------------------------


class Params:
    """Query parameters in v2's Rails style: ``x[]=``, ``x[op]=``, repeated keys."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.items = items

    def values(self, name: str, op: str = "") -> list[str] | None:
        """The values of array filter ``name`` (``name[op]`` with ``op``), each way v2
        takes an array: ``x[]=1&x[]=2``, repeated ``x=``, ``x=1,2``."""
        key = f"{name}[{op}]" if op else name
        found = [v for k, v in self.items if k in (key, f"{key}[]")]
        if not found:
            return None
        return [part.strip() for v in found for part in v.split(",") if part.strip()]

    def scalar(self, name: str) -> str | None:
        found = [v for k, v in self.items if k == name]
        return found[-1] if found else None

    def range(self, name: str) -> dict[str, str]:
        out = {}
        for key, value in self.items:
            match = re.fullmatch(rf"{re.escape(name)}\[(gt|gte|lt|lte)\]", key)
            if match:
                out[match.group(1)] = value
        return out

    def integer(self, name: str, default: int) -> int:
        try:
            return int(self.scalar(name) or default)
        except ValueError:
            return default


def parse_bool(name: str, value: str) -> bool:
    low = value.strip().lower()
    if low in ("true", "1", "t"):
        return True
    if low in ("false", "0", "f"):
        return False
    raise invalid({name: ["is invalid"]})


def _id(value: Any) -> int | None:
    """An id from the query or a JSON body (a number or its digits), or None."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def parse_ints(name: str, values: list[str]) -> set[int]:
    try:
        return {int(v) for v in values}
    except ValueError:
        raise invalid({name: ["is invalid"]}) from None


# -- list machinery -------------------------------------------------------------------

Pred = Callable[["SalesloftCall", dict[str, Any], Any], bool]
Blank = Callable[["SalesloftCall", dict[str, Any]], bool]


@dataclass(frozen=True)
class Filter:
    """One documented filter: query ``param`` on record ``field`` of a ``kind``."""

    param: str
    field: str = ""
    # arrays: ints | strs | tags | custom; once: int | str | bool; range; keyed
    # (``custom_fields[Name]=value``: ``pred`` gets {name: value})
    kind: str = "ints"
    pred: Pred | None = None
    default: str | None = None  # the value v2 applies when the parameter is absent
    # whether a record has no value here (the sentinels' null); default: ``field`` empty
    blank: Blank | None = None


def _ids() -> Filter:
    return Filter("ids", "id")


def _ranges(*names: str) -> tuple[Filter, ...]:
    return tuple(Filter(n, n, "range") for n in names)


SortKey = Callable[["SalesloftCall", dict[str, Any]], Any]


def _by(key: str) -> SortKey:
    def value(ctx: SalesloftCall, record: dict[str, Any]) -> Any:
        found = record.get(key)
        return found.lower() if isinstance(found, str) else found

    return value


def _by_order(key: str, table: str) -> SortKey:
    def value(ctx: SalesloftCall, record: dict[str, Any]) -> Any:
        row = ctx.db.row(table, record.get(key))
        return row["order"] if row else None

    return value


@dataclass(frozen=True)
class Resource:
    """A listable table served at ``path`` (a contract list endpoint): its filters, and
    the sort keys that are not simply the record's field of that name (``sorts``). The
    sort keys a list takes are the contract's (``sort_by`` of its endpoint)."""

    table: str
    path: str
    filters: tuple[Filter, ...] = ()
    sorts: dict[str, SortKey] = field(default_factory=dict)
    default_sort: str = "updated_at"
    default_direction: str = "DESC"
    all_without_page: bool = False  # users: no ``page``, no paging
    scoped: str = ""  # the parameter naming the scoped fields shown (emails)

    def __post_init__(self) -> None:
        listed = self.endpoint.query is not None
        undocumented = [
            f.param for f in self.filters if listed and not self.endpoint.param(f.param)
        ]
        if undocumented:  # the contract says what a list takes; the sandbox, how
            raise ValueError(f"{self.path}: filters the contract does not list: {undocumented}")

    @cached_property
    def endpoint(self) -> Endpoint:
        return documented(f"GET {self.path}")

    @cached_property
    def sort_keys(self) -> tuple[str, ...]:
        documented = self.endpoint.param("sort_by")
        if documented is None or documented.values is None:  # none listed: the dates
            return (self.default_sort, "created_at", "updated_at")
        return documented.values


class SalesloftCall(kit.Call):
    """One request to v2: the caller (``user``), the request time (``now``), the query in
    v2's Rails style (``args``) and, on a write, the body (``body``, read by
    :func:`_reads_body` before the handler runs)."""

    def __init__(self, request: Request, running: kit.Running[Any], key: str) -> None:
        super().__init__(request, running, key)
        self.now: datetime = running.clock()
        self.args = Params(list(request.query_params.multi_items()))
        self.body: dict[str, Any] = {}

    @property
    def db(self) -> Db:
        db: Db = self.running.db
        return db

    @property
    def user(self) -> dict[str, Any]:
        """The user the Bearer token belongs to (``key`` is the user's id)."""
        return self.db["users"][int(self.key)]

    @cached_property
    def base(self) -> str:
        """Where hrefs point: this server's ``/v2/``."""
        return str(self.request.base_url).rstrip("/") + "/v2/"

    def id(self, name: str = "id") -> int:
        """The record id in the path; one that is no number is no record (404). A
        ``.json`` ending belongs to the path, not the id."""
        found = _id(self.params[name].removesuffix(".json"))
        if found is None:
            raise not_found()
        return found

    def render(
        self, table: str, record: dict[str, Any], scoped: tuple[str, ...] | list[str] = ()
    ) -> dict[str, Any]:
        """``record`` as v2 shows it to the caller (a person's ``starred`` is theirs),
        with the scoped fields named in ``scoped``."""
        return render(table, record, self.base, viewer=_id(self.key), scoped=scoped)

    def find(self, table: str, id: int | None = None, name: str = "id") -> dict[str, Any]:
        record = self.db[table].get(self.id(name) if id is None else id)
        if record is None:
            raise not_found()
        return record

    def stamp(self) -> datetime:
        return self.db.stamp(self.now)


def _filter_one(
    ctx: SalesloftCall, f: Filter, records: list[dict[str, Any]], declared: Param | None
) -> tuple[list[dict[str, Any]], Any]:
    """Apply one filter if present in the query; return the kept records and the echo.
    ``declared`` is the filter's Param in the contract: the sentinels it takes."""
    p = ctx.args
    sentinels = declared.sentinels if declared is not None else ()
    if f.kind == "keyed":
        prefix = f"{f.param}["
        keyed = {
            k[len(prefix) : -1]: v for k, v in p.items if k.startswith(prefix) and k[-1] == "]"
        }
        if not keyed or f.pred is None:
            return records, None
        return [r for r in records if f.pred(ctx, r, keyed)], keyed
    if f.kind == "range":
        return _range(ctx, f, records, sentinels)
    if f.kind in ("bool", "str", "int") or f.param in _SCALARS:
        raw = p.scalar(f.param)
        if raw is None:
            raw = f.default
        if raw is None:
            return records, None
        if f.kind == "bool":
            want = parse_bool(f.param, raw)
            return [r for r in records if bool(r.get(f.field)) == want], raw
        if f.pred is not None:
            return [r for r in records if f.pred(ctx, r, raw)], raw
        if f.kind == "int":
            wanted_ints = parse_ints(f.param, [raw])
            return [r for r in records if r.get(f.field) in wanted_ints], raw
        return [r for r in records if str(r.get(f.field)).lower() == raw.lower()], raw
    values = p.values(f.param)
    excluded = p.values(f.param, NOT_IN) if declared and NOT_IN in declared.ops else None
    if values is None and excluded is None:
        return records, None
    if values is not None:
        wanted = _one_of(ctx, f, values, sentinels)
        records = [r for r in records if wanted(r)]
    if excluded is None:
        return records, values
    unwanted = _one_of(ctx, f, excluded, sentinels)
    records = [r for r in records if not unwanted(r)]
    # echoed as Rails reads ``x[_not_in]=`` (a hash), with any plain values beside it
    return records, {NOT_IN: excluded} if values is None else {"values": values, NOT_IN: excluded}


def _one_of(
    ctx: SalesloftCall, f: Filter, values: list[str], sentinels: tuple[str, ...]
) -> Callable[[dict[str, Any]], bool]:
    """Whether a record has one of ``values`` for array filter ``f``: a plain value
    matches the field; a null sentinel the filter takes (``_is_null``, people's locales
    ``Null``) a record without one (the definition's "additional value": either)."""
    null = any(v in sentinels and v in NULLS for v in values)
    plain = [v for v in values if v not in sentinels]

    def blank(record: dict[str, Any]) -> bool:
        return f.blank(ctx, record) if f.blank is not None else _empty(record.get(f.field))

    if not plain:
        return blank if null else lambda record: False
    if f.pred is not None:
        pred = f.pred

        def matches(record: dict[str, Any]) -> bool:
            return pred(ctx, record, plain)
    elif f.kind == "ints":
        wanted_ints = parse_ints(f.param, plain)

        def matches(record: dict[str, Any]) -> bool:
            return record.get(f.field) in wanted_ints
    elif f.kind == "tags":
        wanted = {v.lower() for v in plain}

        def matches(record: dict[str, Any]) -> bool:
            return bool(wanted & {t.lower() for t in record.get(f.field) or ()})
    else:
        wanted = {v.lower() for v in plain}

        def matches(record: dict[str, Any]) -> bool:
            return str(record.get(f.field) or "").lower() in wanted

    if not null:
        return matches
    return lambda record: matches(record) or blank(record)


def _range(
    ctx: SalesloftCall, f: Filter, records: list[dict[str, Any]], sentinels: tuple[str, ...]
) -> tuple[list[dict[str, Any]], Any]:
    """``name[gt|gte|lt|lte]=<iso8601>`` (all given: a range); where the filter takes
    them, the values ``_is_null`` (no timestamp) and ``_is_not_null`` (any), either of
    which widens the range to its records too (``last_contacted``)."""
    ops = ctx.args.range(f.param)
    words = (ctx.args.values(f.param) or []) if sentinels else []
    if not ops and not words:
        return records, None
    if any(w not in sentinels for w in words):
        raise invalid({f.param: ["is invalid"]})
    ranged = records
    for op, text in ops.items():
        when = parse_datetime(text) if "T" in text or ":" in text else None
        if when is None:
            day = parse_date(text)
            if day is None:
                raise invalid({f.param: ["is invalid"]})
            when = datetime(day.year, day.month, day.day, tzinfo=ctx.now.tzinfo)
        ranged = [r for r in ranged if _compare(r.get(f.field), op, when)]
    if not words:
        return ranged, ops
    chosen = {id(r) for r in ranged} if ops else set()
    kept = [
        r
        for r in records
        if id(r) in chosen
        or (NULL in words and _empty(r.get(f.field)))
        or (NOT_NULL in words and not _empty(r.get(f.field)))
    ]
    return kept, {**ops, **{w: "true" for w in words}} if ops else words


def _empty(value: Any) -> bool:
    """No value, as the null sentinels read a field: None, blank text, no items."""
    return value is None or value == "" or value == [] or value == {}


NULLS = (NULL, "Null")
"""The sentinels selecting records without a value (people's ``locales`` spell it
``Null``); a filter takes the ones its Param lists."""

# Filters given once (not arrays) even though their kind is custom.
_SCALARS = {"time_interval_filter", "associated_with_type", "associated_with_id", "search"}


def _compare(value: Any, op: str, when: datetime) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        day = parse_date(value)
        if day is None:
            return False
        value = datetime(day.year, day.month, day.day, tzinfo=when.tzinfo)
    if op == "gt":
        return bool(value > when)
    if op == "gte":
        return bool(value >= when)
    if op == "lt":
        return bool(value < when)
    return bool(value <= when)


def select(
    ctx: SalesloftCall,
    res: Resource,
    records: list[dict[str, Any]],
    only: set[str] | None = None,
    skip: frozenset[str] = frozenset(),
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The records matching the query's filters, and the ``filtering`` echo."""
    echo: dict[str, Any] = {}
    for f in res.filters:
        if f.param in skip or (only is not None and f.param not in only):
            continue
        records, shown = _filter_one(ctx, f, records, res.endpoint.param(f.param))
        if shown is not None:
            echo[f.param] = shown
    return records, echo


def sort(
    ctx: SalesloftCall, res: Resource, records: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    sort_by = ctx.args.scalar("sort_by") or res.default_sort
    direction = (ctx.args.scalar("sort_direction") or res.default_direction).upper()
    if ctx.args.scalar("sort_by") and sort_by not in res.sort_keys:
        raise invalid({"sort_by": ["is invalid"]})
    if direction not in ("ASC", "DESC"):
        raise invalid({"sort_direction": ["is invalid"]})
    key = res.sorts.get(sort_by) or _by(sort_by)

    def order(record: dict[str, Any]) -> tuple[Any, ...]:
        value = key(ctx, record)
        return (value is not None, value if value is not None else 0, record["id"])

    records = sorted(records, key=order, reverse=direction == "DESC")
    return records, {"sort_by": sort_by, "sort_direction": direction}


PAGES = kit.PageNumber(default=25, maximum=100)


def paginate(
    ctx: SalesloftCall, records: list[Any], *, all_without_page: bool = False
) -> tuple[list[Any], dict[str, Any]]:
    """One page (``page``/``per_page``) and v2's ``metadata.paging``."""
    counts = (ctx.args.scalar("include_paging_counts") or "").lower() == "true"
    if all_without_page and ctx.args.scalar("page") is None:
        # users: "paginated only if page is given; without page, all users come back"
        whole: dict[str, Any] = {"per_page": len(records), "current_page": 1,
                                 "next_page": None, "prev_page": None}  # fmt: skip
        if counts:
            whole.update(total_pages=1, total_count=len(records))
        return records, whole
    page = PAGES.of(ctx, records)
    paging: dict[str, Any] = {
        "per_page": page.size,
        "current_page": page.number,
        "next_page": page.number + 1 if page.more else None,
        "prev_page": page.number - 1 if page.number > 1 else None,
    }
    if counts:
        paging["total_pages"] = page.pages
        paging["total_count"] = page.total
    return page.rows, paging


def listing(
    ctx: SalesloftCall,
    res: Resource,
    records: list[dict[str, Any]] | None = None,
    echo: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A v2 list response: filter (unless given), sort, page, render."""
    if records is None:
        records, echo = select(ctx, res, list(ctx.db[res.table].values()))
    records, sorting = sort(ctx, res, records)
    chunk, paging = paginate(ctx, records, all_without_page=res.all_without_page)
    metadata: dict[str, Any] = {"filtering": echo or {}, "paging": paging, "sorting": sorting}
    metadata.update(extra or {})
    scoped = (ctx.args.values(res.scoped) or []) if res.scoped else []
    return {"metadata": metadata, "data": [ctx.render(res.table, r, scoped) for r in chunk]}


# -- filters needing more than a field ------------------------------------------------


def _person_on_cadence(ctx: SalesloftCall, record: dict[str, Any], values: Any) -> bool:
    cadences = parse_ints("cadence_id", values)
    return any(
        m["person"] == record["id"] and m["cadence"] in cadences and m["currently_on_cadence"]
        for m in ctx.db["cadence_memberships"].values()
    )


def _account_archived(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    return (record.get("archived_at") is not None) == parse_bool("archived", raw)


def _task_account(ctx: SalesloftCall, record: dict[str, Any], values: Any) -> bool:
    person = ctx.db.row("people", record.get("person"))
    return person is not None and person["account"] in parse_ints("account_id", values)


def _tag_ids(ctx: SalesloftCall, record: dict[str, Any], values: Any) -> bool:
    """``tag_id[]``: the record carries a tag of one of these ids (records keep names)."""
    wanted = parse_ints("tag_id", values)
    names = {t["name"].lower() for i, t in ctx.db["tags"].items() if i in wanted}
    return bool(names & {t.lower() for t in record.get("tags") or ()})


def _can_email(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    """Whether v2 may e-mail the person: an address, not do-not-contact, not bouncing,
    no ``email`` contact restriction (decision: the fields v2 itself shows)."""
    able = bool(
        record.get("email_address")
        and not record.get("do_not_contact")
        and not record.get("bouncing")
        and "email" not in (record.get("contact_restrictions") or ())
    )
    return able == parse_bool("can_email", raw)


def _can_call(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    able = bool(
        (record.get("phone") or record.get("mobile_phone"))
        and not record.get("do_not_contact")
        and "call" not in (record.get("contact_restrictions") or ())
    )
    return able == parse_bool("can_call", raw)


def _owned_by_guid(ctx: SalesloftCall, record: dict[str, Any], values: Any) -> bool:
    owner = ctx.db.row("users", record.get("owner"))
    return owner is not None and owner.get("guid") in set(values)


def _starred_by(ctx: SalesloftCall, record: dict[str, Any], values: Any) -> bool:
    """``starred_by_guid[]``: people starred by one of the users with these guids."""
    wanted = set(values)
    users = ctx.db["users"]
    return any(users[u]["guid"] in wanted for u in record.get("_starred_by", ()) if u in users)


def _user_guid(ctx: SalesloftCall, record: dict[str, Any], values: Any) -> bool:
    user = ctx.db.row("users", record.get("user"))
    return user is not None and user.get("guid") in set(values)


def _visible_user(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    """``visible_only`` (default true): false includes deactivated users. The sandbox's
    users are all visible (the inactive one is inactive, not deactivated)."""
    return not parse_bool("visible_only", raw) or not record.get("_deactivated")


def _score(text: Any) -> Decimal | None:
    try:
        return Decimal(str(text).strip())
    except InvalidOperation:
        return None


def _personalization(ctx: SalesloftCall, record: dict[str, Any], values: Any) -> bool:
    """``personalization[]``: e-mails whose personalization score is one of these (as
    numbers: ``13.4`` is ``13.40``; a value that is no number matches the same text)."""
    own = record.get("personalization")
    if own is None:
        return False
    score = _score(own)
    for value in values:
        wanted = _score(value)
        if value == own or (wanted is not None and score is not None and wanted == score):
            return True
    return False


def group_ids(raw: str) -> set[int]:
    """``group_ids`` (one string): an id, ids with commas, or a JSON array of ids (numbers
    or their digits), as the definition allows; anything else 422 ``is invalid``."""
    text = raw.strip()
    parts: list[Any]
    if text.startswith("["):
        try:
            found = json.loads(text)
        except ValueError:
            raise invalid({"group_ids": ["is invalid"]}) from None
        parts = found if isinstance(found, list) else [found]
    else:
        parts = [p for p in text.split(",") if p.strip()]
    ids = [None if isinstance(p, (bool, float)) else _id(p) for p in parts]
    if None in ids:
        raise invalid({"group_ids": ["is invalid"]})
    return {i for i in ids if i is not None}


def _cadence_groups(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    """A cadence shared with one of the groups (directly: a parent group does not take
    in its subgroups' cadences). A blank ``group_ids=`` filters nothing (Rails reads a
    blank parameter as absent); an empty JSON array names no group, so matches none."""
    if not str(raw).strip():
        return True
    return bool(group_ids(str(raw)) & set(record.get("groups") or ()))


def _one_off(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    """An e-mail sent outside a cadence."""
    return (record.get("cadence") is None) == parse_bool("one_off", raw)


def _by_name_of(key: str, table: str) -> SortKey:
    def value(ctx: SalesloftCall, record: dict[str, Any]) -> Any:
        row = ctx.db.row(table, record.get(key))
        return str(row["name"]).lower() if row else None

    return value


def _cadence_stage_name(ctx: SalesloftCall, record: dict[str, Any]) -> Any:
    """``cadence_stage_name`` of a person (decision: the name of the cadence the person
    was last added to and is still on; the sandbox keeps no per-cadence stage names)."""
    current = [
        m
        for m in ctx.db["cadence_memberships"].values()
        if m["person"] == record["id"] and m["currently_on_cadence"]
    ]
    if not current:
        return None
    latest = max(current, key=lambda m: (m["added_at"], m["id"]))
    cadence = ctx.db.row("cadences", latest["cadence"])
    return str(cadence["name"]).lower() if cadence else None


def _step_due_actions(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    """Steps with actions due: a current member of the cadence whose next step it is
    (the sandbox keeps no actions; decision: every step of a cadence with members)."""
    wanted = parse_bool("has_due_actions", raw)
    busy = any(
        m["cadence"] == record.get("cadence") and m["currently_on_cadence"]
        for m in ctx.db["cadence_memberships"].values()
    )
    return busy == wanted


def _user_search(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    text = str(raw).lower()
    return text in record["name"].lower() or text in (record.get("email") or "").lower()


def _name_search(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    return str(raw).lower() in record["name"].lower()


def _idempotency(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    same: bool = record.get("_idempotency_key") == raw
    return same


def week_bounds(today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def in_interval(record: dict[str, Any], interval: str, today: date) -> bool:
    """Whether an incomplete task falls in a ``time_interval_filter`` bucket."""
    if record.get("current_state") == "completed" or not record.get("due_date"):
        return False
    due = date.fromisoformat(record["due_date"])
    monday, sunday = week_bounds(today)
    if interval == "overdue":
        return due < today
    if interval == "today":
        return due == today
    if interval == "tomorrow":
        return due == today + timedelta(days=1)
    if interval == "this_week":
        return monday <= due <= sunday
    return monday + timedelta(days=7) <= due <= sunday + timedelta(days=7)


def _task_interval(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    if raw not in INTERVALS:
        raise invalid({"time_interval_filter": ["is not included in the list"]})
    return in_interval(record, raw, today_in(ctx.user["time_zone"], ctx.now))


def _note_type(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    """``person``/``account``, also capitalised (``Person``): the definition lists both."""
    kind = str(raw).lower()
    if kind not in ("person", "account"):
        raise invalid({"associated_with_type": ["is not included in the list"]})
    return bool(record["_associated_with_type"] == kind)


def _note_target(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    return record["associated_with"] in parse_ints("associated_with_id", [raw])


def _owner_active(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    owner = ctx.db.row("users", record.get("owner"))
    return owner is not None and bool(owner["active"]) == parse_bool("owner_is_active", raw)


def _locales(ctx: SalesloftCall, record: dict[str, Any], values: Any) -> bool:
    """``locales[]``, exact (people's sentinel ``Null``, records without a locale, is
    read before: on accounts ``Null`` is a plain value)."""
    return record.get("locale") in values


def _off_cadence(ctx: SalesloftCall, record: dict[str, Any]) -> bool:
    """A person on no cadence now (people's ``cadence_id=_is_null``)."""
    return not any(
        m["person"] == record["id"] and m["currently_on_cadence"]
        for m in ctx.db["cadence_memberships"].values()
    )


def _relationships(ctx: SalesloftCall, record: dict[str, Any], wanted: Any) -> bool:
    """``user_relationships[Name]=value``, every name given: the account's relationship
    of that name is ``value`` (without case; decision: a relationship holds the CRM id
    of the account-team user, as a synced CRM gives it); ``_is_null``: it has none;
    ``_unmapped``: it names a CRM user no Salesloft user is mapped to (``/v2/crm_users``)."""
    held = record.get("user_relationships") or {}
    mapped = {str(c.get("crm_id") or "").lower() for c in ctx.db["crm_users"].values()}

    def one(name: str, value: str) -> bool:
        found = held.get(name)
        if value == NULL:
            return _empty(found)
        if _empty(found):
            return False
        if value == UNMAPPED:
            return str(found).lower() not in mapped
        return str(found).lower() == value.lower()

    return all(one(name, str(value)) for name, value in wanted.items())


def _custom_fields(ctx: SalesloftCall, record: dict[str, Any], wanted: Any) -> bool:
    """``custom_fields[Name]=value``: the name as written, the value without case."""
    fields = record.get("custom_fields") or {}
    return all(
        name in fields and str(fields[name]).lower() == str(value).lower()
        for name, value in wanted.items()
    )


def _can_text(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    """A mobile number, not do-not-contact, no ``message`` restriction (as ``can_call``)."""
    able = bool(
        record.get("mobile_phone")
        and not record.get("do_not_contact")
        and "message" not in (record.get("contact_restrictions") or ())
    )
    return able == parse_bool("can_text", raw)


def _replied(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    return (record.get("last_replied_at") is not None) == parse_bool("replied", raw)


def _succeeded(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    """A person with a success recorded (``/v2/successes``)."""
    won = any(s.get("person") == record["id"] for s in ctx.db["successes"].values())
    return won == parse_bool("success", raw)


def _untouched(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    """``new``: never contacted (decision: the definition's Person ``untouched``, which
    the sandbox reads as no ``last_contacted_at``)."""
    return (record.get("last_contacted_at") is None) == parse_bool("new", raw)


def _has_phone(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    phones = (record.get("phone"), record.get("mobile_phone"), record.get("home_phone"))
    return any(phones) == parse_bool("phone_number", raw)


def _task_locale(ctx: SalesloftCall, record: dict[str, Any], values: Any) -> bool:
    """``locale[]`` of a task: its person's locale (a task keeps none of its own)."""
    person = ctx.db.row("people", record.get("person"))
    return person is not None and person.get("locale") in values


def _has_crm_user(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    linked = any(c.get("user") == record["id"] for c in ctx.db["crm_users"].values())
    return linked == parse_bool("has_crm_user", raw)


def _role(ctx: SalesloftCall, record: dict[str, Any], values: Any) -> bool:
    return record.get("role") in values


def _cadence_archived(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    return (record.get("archived_at") is not None) == parse_bool("archived", raw)


def _people_addable(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    """People can be added to a cadence that is neither archived nor a draft."""
    addable = record.get("archived_at") is None and not record.get("draft")
    return addable == parse_bool("people_addable", raw)


def _guids(key: str) -> Pred:
    """A reference ``key`` to a user whose guid is one of the values."""

    def pred(ctx: SalesloftCall, record: dict[str, Any], values: Any) -> bool:
        user = ctx.db.row("users", record.get(key))
        return user is not None and user.get("guid") in set(values)

    return pred


def _shown(ctx: SalesloftCall, record: dict[str, Any], raw: Any) -> bool:
    """``show_deleted`` (default false): deleted meetings only when true."""
    return parse_bool("show_deleted", raw) or record.get("_deleted_at") is None


RESOURCES: dict[str, Resource] = {
    "accounts": Resource(
        "accounts",
        "/v2/accounts",
        (
            _ids(),
            Filter("tag", "tags", "tags"),
            Filter("account_tier_id", "account_tier"),
            Filter("account_stage_id", "company_stage"),
            Filter("owner_id", "owner"),
            Filter("domain", "domain", "strs"),
            Filter("name", "name", "strs"),
            Filter("crm_id", "crm_id", "strs"),
            Filter("archived", kind="str", pred=_account_archived),
            Filter("tag_id", kind="custom", pred=_tag_ids),
            Filter("industry", "industry", "strs"),
            Filter("website", "website", "strs"),
            Filter("country", "country", "strs"),
            Filter("state", "state", "strs"),
            Filter("city", "city", "strs"),
            Filter("locales", "locale", "custom", pred=_locales),
            Filter("owner_crm_id", "owner_crm_id", "strs"),
            Filter("owner_is_active", kind="str", pred=_owner_active),
            Filter("custom_fields", kind="keyed", pred=_custom_fields),
            Filter("user_relationships", kind="keyed", pred=_relationships),
            *_ranges("updated_at", "created_at"),
            Filter("last_contacted", "last_contacted_at", "range"),
        ),
        {
            "account_stage": _by_order("company_stage", "account_stages"),
            "account_stage_name": _by_name_of("company_stage", "account_stages"),
            "account_tier": _by_order("account_tier", "account_tiers"),
            "account_tier_name": _by_name_of("account_tier", "account_tiers"),
            "counts_people": lambda ctx, r: r["counts"]["people"],
        },
    ),
    "people": Resource(
        "people",
        "/v2/people",
        (
            _ids(),
            Filter("email_addresses", "email_address", "strs"),
            Filter("account_id", "account"),
            Filter("owner_id", "owner"),
            Filter("person_stage_id", "person_stage"),
            Filter("cadence_id", kind="custom", pred=_person_on_cadence, blank=_off_cadence),
            Filter("do_not_contact", "do_not_contact", "bool"),
            Filter("city", "city", "strs"),
            Filter("country", "country", "strs"),
            Filter("state", "state", "strs"),
            Filter("crm_id", "crm_id", "strs"),
            Filter("tag_id", kind="custom", pred=_tag_ids),
            Filter("title", "title", "strs"),
            Filter("job_seniority", "job_seniority", "strs"),
            Filter("owned_by_guid", kind="custom", pred=_owned_by_guid),
            Filter("starred_by_guid", kind="custom", pred=_starred_by),
            Filter("can_email", kind="str", pred=_can_email),
            Filter("can_call", kind="str", pred=_can_call),
            Filter("eu_resident", "eu_resident", "bool"),
            Filter("bounced", "bouncing", "bool"),
            Filter("locales", "locale", "custom", pred=_locales),
            Filter("owner_crm_id", "owner_crm_id", "strs"),
            Filter("owner_is_active", kind="str", pred=_owner_active),
            Filter("custom_fields", kind="keyed", pred=_custom_fields),
            Filter("import_id", "import"),
            Filter("can_text", kind="str", pred=_can_text),
            Filter("replied", kind="str", pred=_replied),
            Filter("success", kind="str", pred=_succeeded),
            Filter("new", kind="str", pred=_untouched),
            Filter("phone_number", kind="str", pred=_has_phone),
            *_ranges("updated_at", "created_at"),
            Filter("last_contacted", "last_contacted_at", "range"),
        ),
        {
            "name": _by("display_name"),
            "account": _by_name_of("account", "accounts"),
            "call_count": lambda ctx, r: r["counts"].get("calls"),
            "sent_emails": lambda ctx, r: r["counts"].get("emails_sent"),
            "viewed_emails": lambda ctx, r: r["counts"].get("emails_viewed"),
            "clicked_emails": lambda ctx, r: r["counts"].get("emails_clicked"),
            "replied_emails": lambda ctx, r: r["counts"].get("emails_replied_to"),
            "cadence_stage_name": _cadence_stage_name,
        },
    ),
    "tasks": Resource(
        "tasks",
        "/v2/tasks",
        (
            _ids(),
            Filter("user_id", "user"),
            Filter("person_id", "person"),
            Filter("account_id", kind="custom", pred=_task_account),
            Filter("current_state", "current_state", "strs"),
            Filter("task_type", "task_type", "strs"),
            Filter("time_interval_filter", kind="custom", pred=_task_interval),
            Filter("idempotency_key", kind="str", pred=_idempotency),
            Filter("locale", kind="custom", pred=_task_locale),
            # contract §1 tasks: no updated_at / created_at / completed_at filter
        ),
        {},
        default_sort="due_date",
        default_direction="ASC",
    ),
    "notes": Resource(
        "notes",
        "/v2/notes",
        (
            _ids(),
            Filter("associated_with_type", kind="custom", pred=_note_type),
            Filter("associated_with_id", kind="custom", pred=_note_target),
            *_ranges("updated_at"),
        ),
    ),
    "calls": Resource(
        "calls",
        "/v2/activities/calls",
        (
            _ids(),
            Filter("person_id", "called_person"),
            Filter("user_guid", kind="custom", pred=_user_guid),
            Filter("sentiment", "sentiment", "strs"),
            Filter("disposition", "disposition", "strs"),
            *_ranges("updated_at", "created_at"),
        ),
    ),
    "emails": Resource(
        "emails",
        "/v2/activities/emails",
        (
            _ids(),
            Filter("person_id", "recipient"),
            # contract §1 emails: no account_id filter, no created_at range
            Filter("email_addresses", "recipient_email_address", "strs"),
            Filter("user_id", "user"),
            Filter("cadence_id", "cadence"),
            Filter("step_id", "step"),
            Filter("crm_activity_id", "crm_activity"),
            Filter("action_id", "action"),
            Filter("bounced", "bounced", "bool"),
            Filter("one_off", kind="str", pred=_one_off),
            Filter("status", "status", "strs"),
            Filter("personalization", kind="custom", pred=_personalization),
            *_ranges("updated_at", "sent_at"),
        ),
        {"send_time": _by("sent_at")},
        scoped="scoped_fields",
    ),
    "crm_activities": Resource(
        "crm_activities", "/v2/crm_activities", (_ids(), *_ranges("updated_at"))
    ),
    "call_data_records": Resource(
        "call_data_records",
        "/v2/call_data_records",
        (
            _ids(),
            Filter("has_call", "call", "bool"),
            Filter("person_id", "called_person"),
            Filter("user_guid", kind="custom", pred=_user_guid),
            *_ranges("updated_at", "created_at"),
        ),
    ),
    "users": Resource(
        "users",
        "/v2/users",
        (
            _ids(),
            Filter("guid", "guid", "strs"),
            Filter("group_id", "group"),
            Filter("active", "active", "bool"),
            Filter("search", kind="custom", pred=_user_search),
            Filter("role_id", kind="custom", pred=_role),
            Filter("visible_only", kind="str", pred=_visible_user, default="true"),
            Filter("work_country", "work_country", "strs"),
            Filter("has_crm_user", kind="str", pred=_has_crm_user),
            # contract §1 users: no updated_at filter
        ),
        {},
        default_sort="id",
        all_without_page=True,
    ),
    "groups": Resource(
        "groups", "/v2/groups", (_ids(),), {}, default_sort="name", default_direction="ASC"
    ),
    "tags": Resource(
        "tags",
        "/v2/tags",
        (_ids(), Filter("search", kind="custom", pred=_name_search)),
        {},
        default_sort="name",
        default_direction="ASC",
    ),
    "person_stages": Resource(
        "person_stages",
        "/v2/person_stages",
        (_ids(),),
        {},
    ),
    "account_stages": Resource(
        "account_stages",
        "/v2/account_stages",
        (_ids(), *_ranges("updated_at")),
        {},
    ),
    "account_tiers": Resource(
        "account_tiers",
        "/v2/account_tiers",
        (_ids(), Filter("name", "name", "strs")),
        {},
    ),
    "custom_fields": Resource(
        "custom_fields",
        "/v2/custom_fields",
        (_ids(), Filter("field_type", "field_type", "strs")),
    ),
    "call_dispositions": Resource("call_dispositions", "/v2/call_dispositions"),
    "call_sentiments": Resource(
        "call_sentiments", "/v2/call_sentiments", (Filter("name", "name", "str"),)
    ),
    "cadences": Resource(
        "cadences",
        "/v2/cadences",
        (
            _ids(),
            Filter("team_cadence", "team_cadence", "bool"),
            Filter("shared", "shared", "bool"),
            Filter("name", "name", "strs"),
            Filter("owned_by_guid", kind="custom", pred=_owned_by_guid),
            Filter("archived", kind="str", pred=_cadence_archived),
            Filter("people_addable", kind="str", pred=_people_addable),
            Filter("group_ids", kind="str", pred=_cadence_groups),
            *_ranges("updated_at"),
        ),
        {},
    ),
    "cadence_memberships": Resource(
        "cadence_memberships",
        "/v2/cadence_memberships",
        (
            _ids(),
            Filter("person_id", "person", "int"),
            Filter("cadence_id", "cadence", "int"),
            Filter("currently_on_cadence", "currently_on_cadence", "bool"),
            *_ranges("updated_at"),
        ),
        {},
    ),
    "steps": Resource(
        "steps",
        "/v2/steps",
        (
            _ids(),
            Filter("cadence_id", "cadence", "int"),
            Filter("type", "type", "str"),
            Filter("has_due_actions", kind="str", pred=_step_due_actions),
        ),
        {},  # contract §1 steps: created_at, updated_at (not step_number)
    ),
    "imports": Resource("imports", "/v2/imports", (_ids(), *_ranges("updated_at"))),
    "actions": Resource(
        "actions",
        "/v2/actions",
        (
            _ids(),
            Filter("step_id", "step", "int"),
            Filter("type", "type", "str"),
            Filter("person_id", "person"),
            Filter("cadence_id", "cadence"),
            Filter("user_guid", kind="custom", pred=_user_guid),
            Filter("multitouch_group_id", "multitouch_group_id"),
            *_ranges("updated_at", "due_on"),
        ),
    ),
    "crm_activity_fields": Resource(
        "crm_activity_fields",
        "/v2/crm_activity_fields",
        (Filter("source", "source", "str"),),
        {},
        default_sort="title",
        default_direction="ASC",
    ),
    "bulk_jobs": Resource("bulk_jobs", "/v2/bulk_jobs", (Filter("state", "state", "strs"),)),
    # documented lists the sandbox team starts empty (written by their own endpoints)
    "call_instructions": Resource(
        "call_instructions", "/v2/action_details/call_instructions", (_ids(),)
    ),
    "meetings": Resource(
        "meetings",
        "/v2/meetings",
        (
            *_ranges("start_time"),
            _ids(),
            Filter("person_ids", "person"),
            Filter("task_ids", "task_id", "strs"),
            # single values (several people go through person_ids[])
            Filter("status", "status", "str"),
            Filter("person_id", "person", "int"),
            Filter("account_id", "account_id", "str"),
            Filter("event_ids", "event_id", "strs"),
            Filter("i_cal_uids", "i_cal_uid", "strs"),
            Filter("user_guids", kind="custom", pred=_guids("booked_by_user")),
            Filter("show_deleted", kind="str", pred=_shown, default="false"),
        ),
        default_sort="start_time",
    ),
    "successes": Resource(
        "successes",
        "/v2/successes",
        (_ids(), Filter("person_id", "person"), *_ranges("updated_at")),
    ),
    "activity_histories": Resource(
        "activity_histories",
        "/v2/activity_histories",
        (
            Filter("type", "type", "str"),
            Filter("pinned", "pinned", "bool"),
            Filter("resource_type", "resource_type", "str"),
            Filter("resource_id", "resource_id", "strs"),
            Filter("user_guid", kind="custom", pred=_guids("user")),
            *_ranges("occurred_at", "updated_at"),
        ),
        default_sort="occurred_at",
    ),
    "crm_users": Resource(
        "crm_users",
        "/v2/crm_users",
        (
            _ids(),
            Filter("user_id", "user"),
            Filter("crm_id", "crm_id", "strs"),
            Filter("user_guid", kind="custom", pred=_user_guid),
        ),
        default_sort="id",
    ),
    "email_templates": Resource("email_templates", "/v2/email_templates", (_ids(),)),
    "team_templates": Resource("team_templates", "/v2/team_templates", (_ids(),)),
    "calendar_events": Resource(
        "calendar_events", "/v2/calendar/events", (), default_sort="start_time"
    ),
    "pending_emails": Resource("pending_emails", "/v2/pending_emails", (_ids(),)),
    "saved_list_views": Resource("saved_list_views", "/v2/saved_list_views", (_ids(),)),
    "webhook_subscriptions": Resource(
        "webhook_subscriptions", "/v2/webhook_subscriptions", (_ids(),)
    ),
}


# -- generic handlers -------------------------------------------------------------------


def list_handler(res: Resource) -> Callable[[SalesloftCall], Any]:
    def handler(ctx: SalesloftCall) -> Any:
        return listing(ctx, res)

    return handler


def get_handler(table: str) -> Callable[[SalesloftCall], Any]:
    def handler(ctx: SalesloftCall) -> Any:
        return {"data": ctx.render(table, ctx.find(table))}

    return handler


def delete_handler(table: str) -> Callable[[SalesloftCall], Any]:
    def handler(ctx: SalesloftCall) -> Any:
        ctx.find(table)
        del ctx.db[table][ctx.id()]
        return kit.reply(status=204)

    return handler


def list_tasks(ctx: SalesloftCall) -> Any:
    """Tasks, with ``metadata.counts`` over the tasks matching every filter but the interval."""
    res = RESOURCES["tasks"]
    base, echo = select(
        ctx, res, list(ctx.db["tasks"].values()), skip=frozenset({"time_interval_filter"})
    )
    today = today_in(ctx.user["time_zone"], ctx.now)
    counts = {"all": len(base)}
    for interval in INTERVALS:
        counts[interval] = sum(1 for r in base if in_interval(r, interval, today))
    records, more = select(ctx, res, base, only={"time_interval_filter"})
    return listing(ctx, res, records, {**echo, **more}, {"counts": counts})


def current_actions(ctx: SalesloftCall) -> dict[int, dict[str, Any]]:
    """The ``in_progress`` actions (the only ones v2 lists): one per person currently on
    a cadence, for the cadence's first step (decision: the sandbox runs no cadence
    schedule, so every current member is due at their first step from the day they were
    added); an action's id is its membership's. Non-admins see only their own."""
    firsts: dict[int, dict[str, Any]] = {}
    for row in sorted(ctx.db["steps"].values(), key=lambda s: (s["step_number"], s["id"])):
        firsts.setdefault(row["cadence"], row)
    out: dict[int, dict[str, Any]] = {}
    for m in ctx.db["cadence_memberships"].values():
        step = firsts.get(m["cadence"])
        if not m["currently_on_cadence"] or step is None:
            continue
        if not ctx.user.get("team_admin") and m["user"] != ctx.user["id"]:
            continue
        added = m["added_at"]
        out[m["id"]] = {
            "id": m["id"],
            "type": step["type"] if step["type"] in ("email", "phone") else "other",
            "status": "in_progress",
            "due": True,
            "due_on": added.date().isoformat() if isinstance(added, datetime) else added,
            "multitouch_group_id": None,
            "created_at": added,
            "updated_at": m["updated_at"],
            "action_details": None,
            "cadence": m["cadence"],
            "person": m["person"],
            "step": step["id"],
            "user": m["user"],
        }
    return out


def list_actions(ctx: SalesloftCall) -> Any:
    res = RESOURCES["actions"]
    records, echo = select(ctx, res, list(current_actions(ctx).values()))
    return listing(ctx, res, records, echo)


def get_action(ctx: SalesloftCall) -> Any:
    """One in-progress action; a completed one (or none) is 404, as documented."""
    action = current_actions(ctx).get(ctx.id())
    if action is None:
        raise not_found()
    return {"data": ctx.render("actions", action)}


# The CRM activity fields a team synced to Salesforce fills when logging an e-mail or a
# call (decision: the Salesforce Task fields every org has; sources ``email``/``phone``).
CRM_ACTIVITY_FIELDS = (
    ("Subject", "Subject", "string", "email", "Task"),
    ("Type", "Type", "picklist", "email", "Task"),
    ("Subject", "Subject", "string", "phone", "Task"),
    ("CallDisposition", "Call Result", "picklist", "phone", "Task"),
    ("Description", "Comments", "textarea", "phone", "Task"),
)


def list_crm_activity_fields(ctx: SalesloftCall) -> Any:
    stamp = ctx.db.now
    rows = [
        {
            "id": i,
            "field": field,
            "title": title,
            "field_type": kind,
            "source": source,
            "crm_object_type": crm_type,
            "salesforce_object_type": crm_type,
            "picklist_values": {"Call": "Call", "Email": "Email"} if kind == "picklist" else {},
            "value": None,
            "created_at": stamp - timedelta(days=i),
            "updated_at": stamp - timedelta(days=i),  # one a day, so updated_at sorts
        }
        for i, (field, title, kind, source, crm_type) in enumerate(CRM_ACTIVITY_FIELDS, 1)
    ]
    res = RESOURCES["crm_activity_fields"]
    records, echo = select(ctx, res, rows)
    return listing(ctx, res, records, echo)


def me(ctx: SalesloftCall) -> Any:
    return {"data": ctx.render("users", ctx.user)}


def caller_ids(ctx: SalesloftCall) -> Any:
    """``GET /v2/phone_numbers/caller_ids``: who a phone number belongs to."""
    number = re.sub(r"\D", "", ctx.args.scalar("phone_number") or "")
    found = []
    for person in ctx.db["people"].values():
        phones = (person.get("phone"), person.get("mobile_phone"), person.get("home_phone"))
        if number and any(p and re.sub(r"\D", "", p) == number for p in phones):
            account = ctx.db["accounts"].get(person["account"])
            found.append(
                {
                    "display_name": person["display_name"],
                    "title": person["title"],
                    "account_name": account["name"] if account else None,
                    "person": {"_href": f"{ctx.base}people/{person['id']}", "id": person["id"]},
                }
            )
    return {"data": found}


# -- writes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Writable:
    """What a create/update body may set on a table: the fields of the contract's
    ``endpoint`` (``"POST /v2/people"``), each taken as text unless it is one of the
    ``bools``, ``lists`` or ``refs`` (a reference by id) or ``custom_fields``; ``skip``
    the documented fields the sandbox keeps no value for."""

    endpoint: str
    bools: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    refs: dict[str, tuple[str, str]] = field(default_factory=dict)  # param -> (key, table)
    custom_fields: bool = True
    skip: tuple[str, ...] = ()

    @cached_property
    def text(self) -> tuple[str, ...]:
        found = documented(self.endpoint)
        assert found.fields is not None, self.endpoint
        other = {*self.bools, *self.lists, *self.refs, *self.skip, "custom_fields"}
        return tuple(name for name in found.fields if name not in other)


PERSON_COUNTS = (
    "emails_sent",
    "emails_viewed",
    "emails_clicked",
    "emails_replied_to",
    "emails_bounced",
    "calls",
)
# crm_id_type only qualifies crm_id (which CRM the id is of): not kept on the record.
PERSON = Writable(
    "PUT /v2/people/{id}",
    bools=("do_not_contact",),
    lists=("tags", "contact_restrictions"),
    refs={
        "account_id": ("account", "accounts"),
        "owner_id": ("owner", "users"),
        "person_stage_id": ("person_stage", "person_stages"),
        "import_id": ("import", "imports"),
    },
    skip=("crm_id_type",),
)
ACCOUNT = Writable(
    "POST /v2/accounts",
    bools=("do_not_contact",),
    lists=("tags",),
    refs={
        "owner_id": ("owner", "users"),
        "company_stage_id": ("company_stage", "account_stages"),
        "account_tier_id": ("account_tier", "account_tiers"),
    },
    skip=("crm_id_type",),
)


def apply(ctx: SalesloftCall, spec: Writable, record: dict[str, Any], body: dict[str, Any]) -> None:
    """Set what ``body`` gives (partial update); 422 with every bad field at once."""
    errors: dict[str, list[str]] = {}
    for key in spec.text:
        if key in body:
            value = body[key]
            if value is not None and not isinstance(value, str | int | float):
                errors[key] = ["is invalid"]
            else:
                record[key] = None if value in (None, "") else str(value)
    for key in spec.bools:
        if key in body:
            if not isinstance(body[key], bool):
                errors[key] = ["is invalid"]
            else:
                record[key] = body[key]
    for key in spec.lists:
        if key in body:
            if not isinstance(body[key], list):
                errors[key] = ["is invalid"]
            else:
                record[key] = [str(v) for v in body[key]]
    for param, (key, table) in spec.refs.items():
        if param in body:
            value = body[param]
            if value in (None, ""):
                record[key] = None
                continue
            try:
                ref = int(value)
            except (TypeError, ValueError):
                ref = -1
            if ref not in ctx.db[table]:
                errors[param] = ["is invalid"]
            else:
                record[key] = ref
    if spec.custom_fields and "custom_fields" in body:
        values = body["custom_fields"]
        if not isinstance(values, dict):
            errors["custom_fields"] = ["is invalid"]
        else:
            merged = dict(record.get("custom_fields") or {})
            for name, value in values.items():
                if value is None:
                    merged.pop(name, None)
                else:
                    merged[name] = value
            record["custom_fields"] = merged
    if errors:
        raise invalid(errors)


def _person_derived(ctx: SalesloftCall, person: dict[str, Any]) -> None:
    email = person.get("email_address")
    if email is not None and "@" not in email:
        raise invalid({"email_address": ["is invalid"]})
    if email:
        clash = [
            p
            for p in ctx.db["people"].values()
            if p is not person and (p.get("email_address") or "").lower() == email.lower()
        ]
        if clash:
            raise invalid({"email_address": ["is already taken"]})
    name = " ".join(x for x in (person.get("first_name"), person.get("last_name")) if x)
    person["display_name"] = name or email or ""
    person["full_email_address"] = f"{name} <{email}>" if email and name else email


def _new_person(ctx: SalesloftCall, now: datetime) -> dict[str, Any]:
    person: dict[str, Any] = {key: None for key in PERSON.text}
    person.update(
        created_at=now,
        updated_at=now,
        last_contacted_at=None,
        last_replied_at=None,
        display_name="",
        full_email_address=None,
        crm_url=None,
        crm_object_type=None,
        owner_crm_id=None,
        do_not_contact=False,
        bouncing=False,
        last_contacted_type=None,
        eu_resident=False,
        custom_fields={},
        tags=[],
        contact_restrictions=[],
        counts=dict.fromkeys(PERSON_COUNTS, 0),
        account=None,
        owner=ctx.user["id"],
        last_contacted_by=None,
        person_stage=None,
    )
    person["import"] = None
    return person


def create_person(ctx: SalesloftCall, body: dict[str, Any]) -> dict[str, Any]:
    if not body.get("email_address") and not (body.get("phone") and body.get("last_name")):
        raise invalid({"email_address": ["is required"]})
    now = ctx.stamp()
    person = _new_person(ctx, now)
    apply(ctx, PERSON, person, body)
    _person_derived(ctx, person)
    person = ctx.db.insert("people", person)
    _recount_account(ctx, person.get("account"))
    return person


def update_person(
    ctx: SalesloftCall, person: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    before = dict(person)
    try:
        apply(ctx, PERSON, person, body)
        _person_derived(ctx, person)
    except kit.ApiError:
        person.clear()
        person.update(before)
        raise
    person["updated_at"] = ctx.stamp()
    _recount_account(ctx, before.get("account"))
    _recount_account(ctx, person.get("account"))
    return person


def _recount_account(ctx: SalesloftCall, account_id: int | None) -> None:
    account = ctx.db.row("accounts", account_id)
    if account is not None:
        people = sum(1 for p in ctx.db["people"].values() if p.get("account") == account_id)
        account["counts"] = {**account.get("counts", {}), "people": people}


def post_person(ctx: SalesloftCall) -> Any:
    return {"data": ctx.render("people", create_person(ctx, ctx.body))}


def put_person(ctx: SalesloftCall) -> Any:
    return {"data": ctx.render("people", update_person(ctx, ctx.find("people"), ctx.body))}


def delete_person(ctx: SalesloftCall) -> Any:
    person = ctx.find("people")
    del ctx.db["people"][person["id"]]
    _recount_account(ctx, person.get("account"))
    return kit.reply(status=204)


def person_upsert(ctx: SalesloftCall) -> Any:
    """``POST /v2/person_upserts``: find by ``upsert_key`` (id, crm_id, email_address)."""
    key = ctx.body.get("upsert_key") or "email_address"
    if key not in ("id", "crm_id", "email_address"):
        raise invalid({"upsert_key": ["is not included in the list"]})
    found = _find_person(ctx, key, ctx.body.get(key))
    if found is None:
        person, kind = create_person(ctx, ctx.body), "create"
    else:
        person, kind = update_person(ctx, found, ctx.body), "update"
    return {"data": {"person": ctx.render("people", person), "upsert_type": kind}}


def _find_person(ctx: SalesloftCall, key: str, value: Any) -> dict[str, Any] | None:
    if value in (None, ""):
        return None
    for person in ctx.db["people"].values():
        if str(person.get(key) or "").lower() == str(value).lower():
            return person
    return None


def _account_checks(ctx: SalesloftCall, account: dict[str, Any]) -> None:
    domain = (account.get("domain") or "").lower()
    account["domain"] = domain or None
    clash = [
        a for a in ctx.db["accounts"].values() if a is not account and a.get("domain") == domain
    ]
    if domain and clash:
        raise invalid({"domain": ["has already been taken"]})


def create_account(ctx: SalesloftCall) -> dict[str, Any]:
    blank(ctx.body, documented("POST /v2/accounts").required)
    now = ctx.stamp()
    account: dict[str, Any] = {key: None for key in ACCOUNT.text}
    account.update(
        created_at=now,
        updated_at=now,
        archived_at=None,
        crm_url=None,
        crm_object_type=None,
        owner_crm_id=None,
        last_contacted_at=None,
        last_contacted_type=None,
        do_not_contact=False,
        custom_fields={},
        user_relationships={},
        tags=[],
        counts={"people": 0},
        owner=ctx.user["id"],
        creator=ctx.user["id"],
        last_contacted_by=None,
        last_contacted_person=None,
        company_stage=None,
        account_tier=None,
    )
    apply(ctx, ACCOUNT, account, ctx.body)
    _account_checks(ctx, account)
    return ctx.db.insert("accounts", account)


def post_account(ctx: SalesloftCall) -> Any:
    return {"data": ctx.render("accounts", create_account(ctx))}


def update_account(ctx: SalesloftCall, account: dict[str, Any]) -> dict[str, Any]:
    before = dict(account)
    try:
        apply(ctx, ACCOUNT, account, ctx.body)
        _account_checks(ctx, account)
        if "archived" in ctx.body:
            archived = ctx.body["archived"]
            if not isinstance(archived, bool):
                raise invalid({"archived": ["is invalid"]})
            account["archived_at"] = (account["archived_at"] or ctx.now) if archived else None
    except kit.ApiError:
        account.clear()
        account.update(before)
        raise
    account["updated_at"] = ctx.stamp()
    return account


def put_account(ctx: SalesloftCall) -> Any:
    return {"data": ctx.render("accounts", update_account(ctx, ctx.find("accounts")))}


# -- tasks -------------------------------------------------------------------------------


def _task_fields(
    ctx: SalesloftCall, task: dict[str, Any], body: dict[str, Any]
) -> dict[str, list[str]]:
    """Apply task fields from ``body``; return the field errors found."""
    errors: dict[str, list[str]] = {}
    if "subject" in body:
        if not str(body["subject"] or "").strip():
            errors["subject"] = ["can't be blank"]
        else:
            task["subject"] = str(body["subject"])
    if "task_type" in body:
        if body["task_type"] not in TASK_TYPES:
            errors["task_type"] = ["is not included in the list"]
        else:
            task["task_type"] = body["task_type"]
    if "description" in body:
        task["description"] = body["description"]
    if "due_date" in body:
        due = parse_date(body["due_date"]) if body["due_date"] else None
        if due is None:
            errors["due_date"] = ["is invalid"]
        else:
            task["due_date"] = due.isoformat()
            # Decision (the doc says no more): a task is due once. Its answers show due_at
            # on the day of due_date (2023-06-15 and 2023-06-15T14:00:00Z), and due_at is
            # no body field of the PUT, so a new due_date moves due_at to that day at the
            # time of day it had: the two never name different days.
            at = task.get("due_at")
            moved = parse_datetime(at) if isinstance(at, str) else at
            if isinstance(moved, datetime):
                moved = moved.replace(year=due.year, month=due.month, day=due.day)
                task["due_at"] = moved.isoformat() if isinstance(at, str) else moved
    if "remind_at" in body:
        remind = parse_datetime(body["remind_at"]) if body["remind_at"] else None
        if body["remind_at"] and remind is None:
            errors["remind_at"] = ["is invalid"]
        else:
            task["remind_at"] = remind
    for param, key, table in (("person_id", "person", "people"), ("user_id", "user", "users")):
        if param in body:
            try:
                ref = int(body[param])
            except (TypeError, ValueError):
                ref = -1
            if ref not in ctx.db[table]:
                errors[param] = ["is invalid"]
            else:
                task[key] = ref
    if "current_state" in body:
        _task_state(ctx, task, body["current_state"], errors)
    return errors


def _task_state(
    ctx: SalesloftCall, task: dict[str, Any], state: Any, errors: dict[str, list[str]]
) -> None:
    if state not in ("scheduled", "completed"):
        errors["current_state"] = ["is not included in the list"]
    elif state == "completed" and task.get("current_state") != "completed":
        task.update(current_state="completed", completed_at=ctx.now, completed_by=ctx.user["id"])
    elif state == "scheduled" and task.get("current_state") == "completed":
        errors["current_state"] = ["cannot be changed from completed"]
    elif state == "scheduled":
        task["current_state"] = "scheduled"


def post_task(ctx: SalesloftCall) -> Any:
    body = permitted(ctx.body, "POST /v2/tasks")
    key = body.get("idempotency_key")
    if key:
        for existing in ctx.db["tasks"].values():
            if existing.get("_idempotency_key") == key:
                return {"data": ctx.render("tasks", existing)}
    blank(body, documented("POST /v2/tasks").required)
    if body["current_state"] != "scheduled":  # a task is created scheduled, nothing else
        raise invalid({"current_state": ["is not included in the list"]})
    now = ctx.stamp()
    task: dict[str, Any] = {
        "created_at": now,
        "updated_at": now,
        "due_date": None,
        "due_at": None,
        "subject": "",
        "current_state": None,
        "task_type": "general",
        "remind_at": None,
        "completed_at": None,
        "description": None,
        "person": None,
        "user": ctx.user["id"],
        "created_by_user": ctx.user["id"],
        "completed_by": None,
        "_idempotency_key": key,
    }
    errors = _task_fields(ctx, task, body)
    if errors:
        raise invalid(errors)
    return {"data": ctx.render("tasks", ctx.db.insert("tasks", task))}


def put_task(ctx: SalesloftCall) -> Any:
    task = ctx.find("tasks")
    draft = dict(task)
    body = permitted(ctx.body, "PUT /v2/tasks/{id}")
    state = body.get("current_state", "completed")
    if state != "completed" and task.get("current_state") != "completed":
        # PUT completes a task; it never sets another state
        raise invalid({"current_state": ["is not included in the list"]})
    errors = _task_fields(ctx, draft, body)
    if errors:
        raise invalid(errors)
    draft["updated_at"] = ctx.stamp()
    task.update(draft)
    return {"data": ctx.render("tasks", task)}


# -- notes and calls ---------------------------------------------------------------------


def _touch_contacted(ctx: SalesloftCall, person: dict[str, Any] | None, how: str) -> None:
    if person is None:
        return
    person.update(last_contacted_at=ctx.now, last_contacted_type=how)
    person["last_contacted_by"] = ctx.user["id"]
    person["updated_at"] = ctx.stamp()
    account = ctx.db.row("accounts", person.get("account"))
    if account is not None:
        account.update(
            last_contacted_at=ctx.now,
            last_contacted_type=how,
            last_contacted_by=ctx.user["id"],
            last_contacted_person=person["id"],
        )


def _target(ctx: SalesloftCall, kind: Any, raw_id: Any) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if kind not in ("person", "account"):
        errors["associated_with_type"] = ["is not included in the list"]
    target = ctx.db.row("people" if kind == "person" else "accounts", _id(raw_id))
    if target is None:
        errors["associated_with_id"] = ["is invalid"]
    if errors:
        raise invalid(errors)
    assert target is not None
    return target


def create_note(
    ctx: SalesloftCall, content: str, kind: str, target_id: int, call: int | None = None
) -> dict[str, Any]:
    now = ctx.stamp()
    return ctx.db.insert(
        "notes",
        {
            "content": content,
            "created_at": now,
            "updated_at": now,
            "user": ctx.user["id"],
            "associated_with": target_id,
            "call": call,
            "_associated_with_type": kind,
        },
    )


def post_note(ctx: SalesloftCall) -> Any:
    body = ctx.body
    if not str(body.get("content") or "").strip():
        raise invalid({"content": ["can't be blank"]})
    kind = str(body.get("associated_with_type"))  # _target refuses all but two kinds
    target = _target(ctx, kind, body.get("associated_with_id"))
    call = body.get("call_id")
    if call is not None and _id(call) not in ctx.db["calls"]:  # ["x"], "x": 422, not a 500
        raise invalid({"call_id": ["is invalid"]})
    note = create_note(ctx, str(body["content"]), kind, target["id"], call)
    if kind == "person":
        _touch_contacted(ctx, target, "note")
    return {"data": ctx.render("notes", note)}


def put_note(ctx: SalesloftCall) -> Any:
    note = ctx.find("notes")
    if "content" in ctx.body:
        if not str(ctx.body["content"] or "").strip():
            raise invalid({"content": ["can't be blank"]})
        note["content"] = str(ctx.body["content"])
    if "call_id" in ctx.body:
        note["call"] = ctx.body["call_id"]
    note["updated_at"] = ctx.stamp()
    return {"data": ctx.render("notes", note)}


def post_call(ctx: SalesloftCall) -> Any:
    body = ctx.body
    person = ctx.db.row("people", _id(body.get("person_id")))
    if person is None:
        raise invalid({"person_id": ["is invalid"]})
    now = ctx.stamp()
    duration = body.get("duration")
    call = ctx.db.insert(
        "calls",
        {
            "to": body.get("to") or person.get("phone"),
            "duration": int(duration) if isinstance(duration, int | float) else None,
            "sentiment": body.get("sentiment"),
            "disposition": body.get("disposition"),
            "created_at": now,
            "updated_at": now,
            "recordings": [],
            "user": ctx.user["id"],
            "action": body.get("action_id"),
            "called_person": person["id"],
            "crm_activity": None,
            "note": None,
            "cadence": None,
            "step": None,
        },
    )
    if str(body.get("notes") or "").strip():
        call["note"] = create_note(ctx, str(body["notes"]), "person", person["id"], call["id"])[
            "id"
        ]
    person["counts"]["calls"] += 1
    _touch_contacted(ctx, person, "call")
    return {"data": ctx.render("calls", call)}


# -- cadence memberships, config lists, imports, bulk jobs -------------------------------


def post_membership(ctx: SalesloftCall) -> Any:
    """Adds a person to a cadence; parameters from the query (as documented) or the body."""
    given = {**{k: v for k, v in ctx.args.items}, **ctx.body}
    errors: dict[str, list[str]] = {}
    refs: dict[str, int] = {}
    for param, table in (("person_id", "people"), ("cadence_id", "cadences")):
        found = _id(given.get(param))
        refs[param] = -1 if found is None else found
        if refs[param] not in ctx.db[table]:
            errors[param] = ["is invalid"]
    if errors:
        raise invalid(errors)
    on = [
        m
        for m in ctx.db["cadence_memberships"].values()
        if m["person"] == refs["person_id"]
        and m["cadence"] == refs["cadence_id"]
        and m["currently_on_cadence"]
    ]
    if on:
        raise invalid({"person_id": ["is already on this cadence"]})
    now = ctx.stamp()
    membership = ctx.db.insert(
        "cadence_memberships",
        {
            "added_at": now,
            "created_at": now,
            "updated_at": now,
            "person_deleted": False,
            "currently_on_cadence": True,
            "current_state": "active",
            "cadence": refs["cadence_id"],
            "person": refs["person_id"],
            "user": int(given.get("user_id") or ctx.user["id"]),
            "latest_action": None,
            "counts": dict.fromkeys(
                ("views", "clicks", "replies", "calls", "sent_emails", "bounces"), 0
            ),
        },
    )
    ctx.db["cadences"][refs["cadence_id"]]["counts"]["cadence_people"] += 1
    return {"data": ctx.render("cadence_memberships", membership)}


def named_create(
    table: str, extra: Callable[[SalesloftCall], dict[str, Any]]
) -> Callable[[SalesloftCall], Any]:
    """POST for a record that needs a ``name`` (person stages, custom fields, imports)."""

    def handler(ctx: SalesloftCall) -> Any:
        if not str(ctx.body.get("name") or "").strip():
            raise invalid({"name": ["can't be blank"]})
        now = ctx.stamp()
        record = {"name": str(ctx.body["name"]), "created_at": now, "updated_at": now}
        record.update(extra(ctx))
        return {"data": ctx.render(table, ctx.db.insert(table, record))}

    return handler


def named_update(table: str) -> Callable[[SalesloftCall], Any]:
    def handler(ctx: SalesloftCall) -> Any:
        record = ctx.find(table)
        if "name" in ctx.body:
            if not str(ctx.body["name"] or "").strip():
                raise invalid({"name": ["can't be blank"]})
            record["name"] = str(ctx.body["name"])
        record["updated_at"] = ctx.stamp()
        return {"data": ctx.render(table, record)}

    return handler


def _stage_extra(ctx: SalesloftCall) -> dict[str, Any]:
    return {"order": len(ctx.db["person_stages"]) + 1}


def _custom_field_extra(ctx: SalesloftCall) -> dict[str, Any]:
    kind = ctx.body.get("field_type") or "person"
    if kind not in ("person", "company", "opportunity"):
        raise invalid({"field_type": ["is not included in the list"]})
    return {"field_type": kind, "value_type": ctx.body.get("value_type") or "text"}


def _import_extra(ctx: SalesloftCall) -> dict[str, Any]:
    return {"current_people_count": 0, "imported_people_count": 0}


def post_bulk_job(ctx: SalesloftCall) -> Any:
    kind = ctx.body.get("type")
    if kind not in ("person/upsert", "account/upsert", "person/add_to_cadence"):
        raise invalid({"type": ["is not included in the list"]})
    job = ctx.db.insert(
        "bulk_jobs",
        {
            "created_at": ctx.stamp(),
            "errors": 0,
            "name": ctx.body.get("name"),
            "processed": 0,
            "ready_to_execute": False,
            "scopes": ["person_write" if kind.startswith("person") else "account_write"],
            "state": "open",
            "total": 0,
            "type": kind,
            "_data": [],
        },
    )
    return {"data": ctx.render("bulk_jobs", job)}


def post_job_data(ctx: SalesloftCall) -> Any:
    job = ctx.find("bulk_jobs", name="bulk_jobs_id")
    rows = ctx.body.get("data")
    if job["state"] != "open":
        raise invalid({"state": ["job data can only be added to an open job"]})
    if not isinstance(rows, list) or not 1 <= len(rows) <= 5000:
        raise invalid({"data": ["must be a list of 1 to 5000 records"]})
    job["_data"].extend(rows)
    job["total"] = len(job["_data"])
    return {"data": {"records": len(rows)}}


def put_bulk_job(ctx: SalesloftCall) -> Any:
    job = ctx.find("bulk_jobs")
    if "name" in ctx.body:
        job["name"] = ctx.body["name"]
    if ctx.body.get("ready_to_execute") is True and job["state"] == "open":
        job["ready_to_execute"] = True
        _run_bulk_job(ctx, job)
    return {"data": ctx.render("bulk_jobs", job)}


def _run_bulk_job(ctx: SalesloftCall, job: dict[str, Any]) -> None:
    for row in job["_data"]:
        result: dict[str, Any] = {"status": "success", "record": row, "_job": job["id"]}
        try:
            if job["type"] != "person/upsert":
                raise invalid({"type": ["is not supported by the sandbox"]})
            found = _find_person(ctx, "email_address", row.get("email_address"))
            person = update_person(ctx, found, row) if found else create_person(ctx, row)
            result["resource"] = {
                "person": ctx.render("people", person),
                "upsert_type": "update" if found else "create",
            }
        except kit.ApiError as exc:
            errors = exc.body.get("errors") or {}
            result.update(status="error", error="; ".join(f"{k} {v[0]}" for k, v in errors.items()))
            job["errors"] += 1
        ctx.db.insert("bulk_job_results", result)
        job["processed"] += 1
    job["state"] = "done"


def _cursor_page(ctx: SalesloftCall, rows: list[dict[str, Any]], table: str) -> Any:
    """Bulk paging: ``id[gt]=<last id>`` and ``per_page``, no ``page`` (as documented)."""
    after = _id(ctx.args.range("id").get("gt")) or 0
    per_page = min(100, max(1, ctx.args.integer("per_page", 25)))
    statuses = set(ctx.args.values("status") or ("pending", "success", "error", "retrying"))
    kept = [r for r in rows if r["id"] > after and r["status"] in statuses]
    chunk = sorted(kept, key=lambda r: r["id"])[:per_page]
    return {
        "data": [ctx.render(table, r) for r in chunk],
        "metadata": {"filtering": {}, "paging": {"per_page": per_page}},
    }


def list_bulk_jobs(ctx: SalesloftCall) -> Any:
    """``GET /v2/bulk_jobs``: by ``state``, paged by cursor like a job's data
    (``id[gt]=<last id>``, ``per_page``, oldest first; the definition lists no ``page``)."""
    after = _id(ctx.args.range("id").get("gt")) or 0
    per_page = min(100, max(1, ctx.args.integer("per_page", 25)))
    states = set(ctx.args.values("state") or ("open", "executing", "done"))
    kept = [r for r in ctx.db["bulk_jobs"].values() if r["id"] > after and r["state"] in states]
    chunk = sorted(kept, key=lambda r: r["id"])[:per_page]
    return {
        "data": [ctx.render("bulk_jobs", r) for r in chunk],
        "metadata": {"filtering": {}, "paging": {"per_page": per_page}},
    }


MEETING_SETTINGS = ("owned_by_meetings_settings", "booked_by_meetings_settings")


def list_meetings(ctx: SalesloftCall) -> Any:
    """Meetings; their meetings-settings objects only with ``include_meetings_settings``."""
    answer = listing(ctx, RESOURCES["meetings"])
    if (ctx.args.scalar("include_meetings_settings") or "").lower() != "true":
        for row in answer["data"]:
            for key in MEETING_SETTINGS:
                row.pop(key, None)
    return answer


def bulk_results(ctx: SalesloftCall) -> Any:
    job = ctx.find("bulk_jobs", name="bulk_jobs_id")
    rows = [r for r in ctx.db["bulk_job_results"].values() if r["_job"] == job["id"]]
    return _cursor_page(ctx, rows, "bulk_job_results")


def job_data(ctx: SalesloftCall) -> Any:
    """The records given to a job, each ``pending`` until the job runs, then its result's
    status (decision: a job-data id is its position in the job, from 1)."""
    job = ctx.find("bulk_jobs", name="bulk_jobs_id")
    results = sorted(
        (r for r in ctx.db["bulk_job_results"].values() if r["_job"] == job["id"]),
        key=lambda r: r["id"],
    )
    rows = [
        {
            "id": n,
            "status": results[n - 1]["status"] if n <= len(results) else "pending",
            "record": row,
            "error": results[n - 1].get("error") if n <= len(results) else None,
        }
        for n, row in enumerate(job["_data"], 1)
    ]
    return _cursor_page(ctx, rows, "bulk_job_data")


# -- the rest of the documented API ------------------------------------------------------
# Resources crmtui does not use, served as the definition describes them so that a client
# of the sandbox meets no undocumented 404 (issue 14 point 1).


def team(ctx: SalesloftCall) -> Any:
    """``GET /v2/team``: the caller's team (decision: an enterprise team, no limits hit)."""
    stamp = ctx.db.now
    return {
        "data": {
            "id": ctx.db.team_id,
            "name": "Sandbox Team",
            "plan": "enterprise",
            "plan_features": {},
            "license_limit": len(ctx.db["users"]),
            "email_daily_limit": 2000,
            "group_privacy_setting": "all_public",
            "team_visibility_default": "public",
            "custom_tracking_domain": None,
            "deactivated": False,
            "allow_automated_email_steps": True,
            "call_recording_disabled": False,
            "click_tracking_default": True,
            "dispositions_required": False,
            "sentiments_required": False,
            "local_dial_enabled": False,
            "record_by_default": False,
            "_private_fields": {},
            "created_at": iso(stamp),
            "updated_at": iso(stamp),
        }
    }


def account_upsert(ctx: SalesloftCall) -> Any:
    """``POST /v2/account_upserts``: by ``upsert_key`` (id, crm_id, domain); without one an
    existing account is never updated, as documented (a taken domain is then a 422)."""
    key = ctx.body.get("upsert_key")
    value = ctx.body.get(key) if key else None
    found = None
    if key and value not in (None, ""):
        for account in ctx.db["accounts"].values():
            if str(account.get(key) or "").lower() == str(value).lower():
                found = account
    if found is None:
        account, kind = create_account(ctx), "create"
    else:
        account, kind = update_account(ctx, found), "update"
    return {"data": {"account": ctx.render("accounts", account), "upsert_type": kind}}


def ongoing_action(ctx: SalesloftCall) -> Any:
    """``POST /v2/ongoing_actions``: the action is being worked (``pending_activity``)."""
    action = current_actions(ctx).get(_id(ctx.body.get("action_id")) or -1)
    if action is None:
        raise invalid({"action_id": ["is invalid"]})
    action["status"] = "pending_activity"
    return {"data": ctx.render("actions", action)}


def complete_activity(ctx: SalesloftCall) -> Any:
    """``POST /v2/activities``: completes an ``integration`` action or task. The sandbox
    has none (its steps are e-mail, phone and other), so each id is refused."""
    for name in ("action_id", "task_id"):
        if name in ctx.body:
            raise invalid({name: ["is invalid"]})
    return {"data": {"updated_at": iso(ctx.stamp())}}


def conversation_call(ctx: SalesloftCall) -> Any:
    """``POST /v2/conversations/calls`` (201): a recording for Conversations."""
    now = ctx.stamp()
    given = {k: ctx.body.get(k) for k in _fields("POST /v2/conversations/calls")}
    record = ctx.db.insert("conversation_calls", {**given, "created_at": now, "updated_at": now})
    return kit.reply({"data": ctx.render("conversation_calls", record)}, 201)


def mime_payload(ctx: SalesloftCall) -> Any:
    """``GET /v2/mime_email_payloads/{id}``: an e-mail activity as MIME text."""
    email = ctx.find("emails")
    person = ctx.db.row("people", email.get("recipient")) or {}
    raw = (
        f"To: {email.get('recipient_email_address') or person.get('email_address') or ''}\r\n"
        f"Subject: {email.get('subject') or ''}\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\n\r\n"
        f"{email.get('body') or ''}"
    )
    return {"data": {"id": email["id"], "raw": raw, "message_id": f"<{email['id']}@sandbox>"}}


def put_meeting(ctx: SalesloftCall) -> Any:
    meeting = ctx.find("meetings")
    for name in _fields("PUT /v2/meetings/{id}"):
        if name in ctx.body:
            meeting[name] = ctx.body[name]
    meeting["updated_at"] = ctx.stamp()
    return {"data": ctx.render("meetings", meeting)}


def meeting_settings(ctx: SalesloftCall) -> Any:
    """``POST /v2/meetings/settings/searches``: 403 without ``manage_team`` (decision:
    only a team admin has it); the sandbox's users have no meeting settings."""
    if not ctx.user.get("team_admin"):
        raise kit.ApiError(403, "Forbidden")
    records = list(ctx.db["meeting_settings"].values())
    chunk, paging = paginate(ctx, records)
    return {
        "metadata": {"filtering": {}, "paging": paging, "sorting": {}},
        "data": [ctx.render("meeting_settings", r) for r in chunk],
    }


def cadence_export(ctx: SalesloftCall) -> Any:
    """``GET /v2/cadence_exports/{id}``: a cadence and its steps as importable content."""
    cadence = ctx.find("cadences")
    steps = sorted(
        (s for s in ctx.db["steps"].values() if s.get("cadence") == cadence["id"]),
        key=lambda s: (s.get("day"), s.get("step_number"), s["id"]),
    )
    return {
        "data": {
            "cadence_content": {
                "cadence": {"name": cadence["name"], "team_cadence": cadence.get("team_cadence")},
                "steps": [
                    {"name": s.get("name"), "type": s.get("type"), "day": s.get("day")}
                    for s in steps
                ],
            }
        }
    }


def cadence_import(ctx: SalesloftCall) -> Any:
    """``POST /v2/cadence_imports``: a new cadence from exported content (its steps are
    not created: decision, the sandbox keeps the cadence only)."""
    content = ctx.body.get("cadence_content")
    cadence = content.get("cadence") if isinstance(content, dict) else None
    name = cadence.get("name") if isinstance(cadence, dict) else None
    if not name:
        raise invalid({"cadence_content": ["is invalid"]})
    template = next(iter(ctx.db["cadences"].values()), {})
    now = ctx.stamp()
    record = {
        **{k: v for k, v in template.items() if k != "id"},
        "name": str(name),
        "created_at": now,
        "updated_at": now,
        "groups": [],  # shared with no group (decision: sharing_settings are not read)
        "counts": dict.fromkeys(template.get("counts") or {"cadence_people": 0}, 0),
    }
    made = ctx.db.insert("cadences", record)
    return {"data": {"cadence": {"id": made["id"]}}}


def external_email(ctx: SalesloftCall) -> Any:
    """``POST /v2/external_emails`` (201): an e-mail sent outside Salesloft, recorded."""
    record = ctx.db.insert("external_emails", {**ctx.body, "created_at": ctx.stamp()})
    return kit.reply({"data": ctx.render("external_emails", record)}, 201)


def calendar_upsert(ctx: SalesloftCall) -> Any:
    """``POST /v2/calendar/events/upsert`` (201), keyed by the event's own ``id``."""
    blank(ctx.body, ("id", "i_cal_uid", "start_time", "end_time", "calendar_id"))
    key = str(ctx.body["id"])
    found = next((e for e in ctx.db["calendar_events"].values() if e["event_id"] == key), None)
    record = found or ctx.db.insert("calendar_events", {"event_id": key})
    record.update({k: v for k, v in ctx.body.items() if k != "id"}, updated_at=ctx.stamp())
    return kit.reply({"data": ctx.render("calendar_events", record)}, 201)


def put_pending_email(ctx: SalesloftCall) -> Any:
    email = ctx.find("pending_emails")
    if ctx.body.get("status") not in ("sent", "failed") or not ctx.body.get("message_id"):
        raise invalid({"status": ["is not included in the list"]})
    email.update(status=ctx.body["status"], message_id=ctx.body["message_id"])
    return {"data": ctx.render("pending_emails", email)}


def record_create(table: str, endpoint: str, required: tuple[str, ...]) -> Handler:
    """A create storing the documented fields given (saved list views, webhooks)."""

    def handler(ctx: SalesloftCall) -> Any:
        blank(ctx.body, required)
        now = ctx.stamp()
        given = {k: v for k, v in ctx.body.items() if k in _writable(endpoint)}
        record = {**given, "created_at": now, "updated_at": now, "user": ctx.user["id"]}
        return {"data": ctx.render(table, ctx.db.insert(table, record))}

    return handler


def record_update(table: str, endpoint: str) -> Handler:
    def handler(ctx: SalesloftCall) -> Any:
        record = ctx.find(table)
        record.update({k: v for k, v in ctx.body.items() if k in _writable(endpoint)})
        record["updated_at"] = ctx.stamp()
        return {"data": ctx.render(table, record)}

    return handler


# Decision: the definition lists no body for these (free-form records); the sandbox keeps
# the fields its schema names.
_SCHEMA_FIELDS = {
    "saved_list_views": ("name", "view", "view_params", "is_default"),
    "webhook_subscriptions": ("callback_url", "callback_token", "event_type", "enabled"),
}


def _fields(key: str) -> tuple[str, ...]:
    """The body fields the contract documents for ``"METHOD /path"``."""
    return tuple(documented(key).fields or ())


def _writable(key: str) -> tuple[str, ...]:
    table = key.partition(" ")[2].split("/")[2]
    return _fields(key) or _SCHEMA_FIELDS.get(table, ())


def _leave_cadence(ctx: SalesloftCall) -> Any:
    membership = ctx.find("cadence_memberships")
    membership.update(currently_on_cadence=False, current_state="removed", updated_at=ctx.stamp())
    return kit.reply(status=204)


# -- the sandbox: routes from the contract -------------------------------------------------

Handler = Callable[[SalesloftCall], Any]

SPECIAL: dict[str, Handler] = {
    "GET /v2/me": me,
    "GET /v2/team": team,
    "GET /v2/phone_numbers/caller_ids": caller_ids,
    "GET /v2/actions": list_actions,
    "GET /v2/actions/{id}": get_action,
    "GET /v2/crm_activity_fields": list_crm_activity_fields,
    "GET /v2/tasks": list_tasks,
    "POST /v2/tasks": post_task,
    "PUT /v2/tasks/{id}": put_task,
    "POST /v2/people": post_person,
    "PUT /v2/people/{id}": put_person,
    "DELETE /v2/people/{id}": delete_person,
    "POST /v2/person_upserts": person_upsert,
    "POST /v2/accounts": post_account,
    "PUT /v2/accounts/{id}": put_account,
    "POST /v2/account_upserts": account_upsert,
    "POST /v2/notes": post_note,
    "PUT /v2/notes/{id}": put_note,
    "POST /v2/activities/calls": post_call,
    "POST /v2/cadence_memberships": post_membership,
    "DELETE /v2/cadence_memberships/{id}": _leave_cadence,
    "POST /v2/person_stages": named_create("person_stages", _stage_extra),
    "PUT /v2/person_stages/{id}": named_update("person_stages"),
    "POST /v2/custom_fields": named_create("custom_fields", _custom_field_extra),
    "PUT /v2/custom_fields/{id}": named_update("custom_fields"),
    "POST /v2/imports": named_create("imports", _import_extra),
    "PUT /v2/imports/{id}": named_update("imports"),
    "POST /v2/bulk_jobs": post_bulk_job,
    "PUT /v2/bulk_jobs/{id}": put_bulk_job,
    "POST /v2/bulk_jobs/{bulk_jobs_id}/job_data": post_job_data,
    "GET /v2/bulk_jobs": list_bulk_jobs,
    "GET /v2/meetings": list_meetings,
    "GET /v2/bulk_jobs/{bulk_jobs_id}/job_data": job_data,
    "GET /v2/bulk_jobs/{bulk_jobs_id}/results": bulk_results,
    "POST /v2/ongoing_actions": ongoing_action,
    "POST /v2/activities": complete_activity,
    "POST /v2/conversations/calls": conversation_call,
    "GET /v2/mime_email_payloads/{id}": mime_payload,
    "PUT /v2/meetings/{id}": put_meeting,
    "POST /v2/meetings/settings/searches": meeting_settings,
    "PUT /v2/meetings/settings/{id}": record_update(
        "meeting_settings", "PUT /v2/meetings/settings/{id}"
    ),
    "GET /v2/cadence_exports/{id}": cadence_export,
    "POST /v2/cadence_imports": cadence_import,
    "POST /v2/external_emails": external_email,
    "POST /v2/calendar/events/upsert": calendar_upsert,
    "PUT /v2/pending_emails/{id}": put_pending_email,
    "POST /v2/saved_list_views": record_create(
        "saved_list_views", "POST /v2/saved_list_views", ("name",)
    ),
    "PUT /v2/saved_list_views/{id}": record_update(
        "saved_list_views", "PUT /v2/saved_list_views/{id}"
    ),
    "POST /v2/webhook_subscriptions": record_create(
        "webhook_subscriptions",
        "POST /v2/webhook_subscriptions",
        ("callback_url", "callback_token", "event_type"),
    ),
    "PUT /v2/webhook_subscriptions/{id}": record_update(
        "webhook_subscriptions", "PUT /v2/webhook_subscriptions/{id}"
    ),
}


def _handlers() -> dict[str, Handler]:
    """One handler per documented endpoint: the special ones, then each resource's list,
    read by id and delete where the contract documents them."""
    documented = {f"{e.method} {e.path}" for e in CONTRACT.endpoints}
    table: dict[str, Handler] = {}
    for res in RESOURCES.values():
        for key, handler in (
            (f"GET {res.path}", list_handler(res)),
            (f"GET {res.path}/{{id}}", get_handler(res.table)),
            (f"DELETE {res.path}/{{id}}", delete_handler(res.table)),
        ):
            if key in documented:
                table[key] = handler
    table.update(SPECIAL)
    return {
        key: _reads_body(handler) if key[0] == "P" else handler for key, handler in table.items()
    }


def _reads_body(handler: Handler) -> Handler:
    """A write: its body (a JSON object or form fields) read into ``ctx.body`` first."""

    async def write(ctx: SalesloftCall) -> Any:
        raw = await ctx.raw()
        if raw.strip():
            kind = ctx.request.headers.get("content-type", "")
            if kind.startswith("application/x-www-form-urlencoded"):  # as the definition
                ctx.body = parse_body(kind, raw)  # declares every body (no multipart here)
            else:
                body = await ctx.json()
                if not isinstance(body, dict):
                    raise kit.ApiError(400, "The request body must be a JSON object")
                ctx.body = body
        return handler(ctx)

    return write


def _who(ctx: SalesloftCall, token: str) -> str | None:
    """The user a Bearer token belongs to (as a string: the rate-limit account key)."""
    user_id = ctx.db.tokens.get(token)
    return None if user_id is None or user_id not in ctx.db["users"] else str(user_id)


def _cost(ctx: kit.Call) -> float:
    assert isinstance(ctx, SalesloftCall)  # the sandbox's context
    return page_cost(ctx.args.integer("page", 1))


def _refused(window: WindowLimit) -> kit.ApiError:
    retry = str(max(1, math.ceil(window.reset_in)))
    return kit.ApiError(429, "Rate limit exceeded", headers={"Retry-After": retry})


def _limit_headers(window: WindowLimit, ctx: kit.Call) -> dict[str, str]:
    remaining = str(int(window.remaining))
    return {
        "x-ratelimit-endpoint-cost": str(int(_cost(ctx))),
        "x-ratelimit-remaining-minute": remaining,
        "x-ratelimit-limit-minute": str(LIMIT_PER_MINUTE),
        "X-RateLimit-Limit": str(LIMIT_PER_MINUTE),
        "X-RateLimit-Remaining": remaining,
    }


SANDBOX = kit.Sandbox(
    contract=CONTRACT,
    handlers=_handlers(),
    envelope=lambda status, message, detail: {"error": message},
    auth=kit.HeaderKey("authorization", "Bearer "),
    who=_who,
    context=SalesloftCall,
    # 600 cost units a minute for the whole team; deep pages cost more (``page_cost``)
    limit=kit.Limit(
        LIMIT_PER_MINUTE,
        60.0,
        per_key=False,
        cost=_cost,
        refused=_refused,
        call_headers=_limit_headers,
    ),
    unauthorized=lambda reason: kit.ApiError(
        401, NO_TOKEN if reason == "no credential" else BAD_TOKEN
    ),
    bad_body=lambda: kit.ApiError(400, "The request body is not valid JSON"),
    default_account="1",
    expire=lambda db: db.tokens.clear(),  # a revoked token stays refused
)


def create_app(
    *,
    seed: int = 0,
    scale: int = 1,
    faults: Faults | None = None,
    rate_limit: bool = True,
    now: datetime | None = None,
) -> Starlette:
    """The Salesloft v2 sandbox (see the module docstring for its decisions)."""
    clock = SandboxClock(now)
    db = build(seed, scale, clock.anchor)
    return SANDBOX.app(db, clock=clock, faults=faults, rate_limit=rate_limit)
