"""The Freshsales sandbox, declared on the shared kit (see the package docstring for the
decisions): its routes are the contract's endpoints (``contract.py``), each answered by
one handler, a method of :class:`FreshCall` (the kit's call with Freshsales' helpers)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from starlette.applications import Starlette

from crmtui.sandbox import SandboxClock
from crmtui.sandbox.faults import Faults
from crmtui.sandbox.freshsales import extras, render
from crmtui.sandbox.freshsales.contract import CONTRACT, CREATES, KINDS, SELECTORS, SORTS
from crmtui.sandbox.freshsales.data import (
    DEFAULT_VIEWS,
    FIELD_GROUPS,
    KIND_TARGET,
    LEAD_STAGES,
    MODEL_CLASS,
    OUTCOMES_OF,
    PIPELINE_STAGES,
    PIPELINES,
    STAGE,
    VIEWS,
    Row,
    build,
    field_settings,
    ts,
)
from crmtui.sandbox.freshsales.data import SELECTORS as SELECTOR_ROWS
from crmtui.sandbox.freshsales.writes import (
    base_amount,
    body_id,
    hashes,
    ids,
    invalid,
    read_body,
    stage_for,
)
from crmtui.sandbox.kit import (
    ApiError,
    Call,
    Handler,
    HeaderKey,
    Limit,
    PageNumber,
    Sandbox,
    ident,
    reply,
)
from crmtui.sandbox.ratelimit import WindowLimit

# ``/api/<kind>/<id>/activities`` is documented for leads and contacts only (the contract
# has no such path for accounts and deals: it answers them the documented 404).
ACTIVITY_FEEDS = ("leads", "contacts")
ITEM_KINDS = ("tasks", "appointments", "notes", "sales_activities")
# the key each kind's record sits under (``{"lead": {...}}``), as the contract's creates say
WRAPPER: dict[str, str] = {kind: e.wrapper or kind for kind, e in CREATES.items()}
PAGES = PageNumber(default=25, maximum=100)
RATE_LIMIT, RATE_WINDOW = 1000, 3600.0
NOT_FOUND = "The requested resource was not found"
UNAUTHORIZED = "Authentication Failure: the Authorization header is missing or incorrect"
TOO_MANY = "Too many requests: the limit is 1000 API requests per hour per account"


def envelope(status: int, message: str, detail: str = "") -> Any:
    """The documented error body: ``{"errors": {"code": <status>, "message": ...}}``."""
    return {"errors": {"code": status, "message": message}}


def _too_many(window: WindowLimit) -> ApiError:
    retry = str(max(1, math.ceil(window.reset_in)))
    return ApiError(429, TOO_MANY, headers={"Retry-After": retry})


class FreshCall(Call):
    """A request to the Freshsales sandbox, with the helpers its handlers share."""

    # -- the request ---------------------------------------------------------------------

    @property
    def user(self) -> int:
        """The id of the user whose key made the call."""
        return int(self.key)

    @property
    def path(self) -> str:
        """The path from the API root (``/api/...``; a bundle's ``/crm/sales`` removed)."""
        path = self.request.url.path
        for mount in CONTRACT.mounts:
            if path.startswith(mount + "/"):
                return path.removeprefix(mount)
        return path

    def kind(self) -> str:
        """The kind the path names: ``/api/<kind>/...``."""
        return self.path.split("/")[2]

    def ident(self, name: str = "id") -> int:
        """The path's record id (a Rails route takes digits only: others are unknown URLs)."""
        value = ident(self.params[name])
        if value is None:
            raise ApiError(404, NOT_FOUND)
        return value

    def view_id(self) -> int:
        return self.ident("view_id")

    def includes(self) -> list[str]:
        return render.includes(self.query.get("include"))

    def page(self, rows: list[Row]) -> tuple[list[Row], Row]:
        """One page of ``rows`` (``page``/``per_page``) and its ``meta``."""
        try:
            page = PAGES.of(self, rows)
        except ApiError as exc:
            words = "numbers" if "integer" in exc.message else "positive"
            raise invalid(f"page and per_page must be {words}") from None
        return page.rows, {"total_pages": page.pages, "total": page.total}

    def now(self) -> datetime:
        return self.clock()

    def now_text(self) -> str:
        return ts(self.now()) or ""

    def row(self, kind: str) -> Row:
        id_ = self.ident()
        table = self.db.table(kind)
        row = (
            table.get(id_)
            if kind not in ("notes", "sales_activities")
            else self.db.get_item(kind, id_)
        )
        if row is None:
            raise ApiError(
                404, f"{WRAPPER[kind].replace('_', ' ').capitalize()} with id {id_} not found"
            )
        found: Row = row
        return found

    # -- configuration -------------------------------------------------------------------

    async def selector(self) -> Any:
        name = self.path.rsplit("/", 1)[-1]
        if name == "owners":
            return {"users": [render.user_brief(u) for u in self.db.users.values()]}
        if name == "deal_stages":
            default = next(p for p in PIPELINES if p["is_default"])
            return {"deal_stages": PIPELINE_STAGES[default["id"]]}
        if name == "deal_pipelines":
            # The doc shows no body; the real one nests each pipeline's stages (the public
            # python-freshworks-crm client reads ``pipeline.deal_stages`` and fails
            # without them), as ``/deal_pipelines/<id>/deal_stages`` lists them.
            return {
                "deal_pipelines": [
                    {**p, "deal_stages": PIPELINE_STAGES[p["id"]]} for p in PIPELINES
                ]
            }
        key, rows = SELECTOR_ROWS[name]
        return {key: rows}

    async def pipeline_stages(self) -> Any:
        stages = PIPELINE_STAGES.get(self.ident())
        if stages is None:
            raise ApiError(404, "Deal pipeline not found")
        return {"deal_stages": stages}

    async def type_outcomes(self) -> Any:
        outcomes = OUTCOMES_OF.get(self.ident())
        if outcomes is None:
            raise ApiError(404, "Sales activity type not found")
        return {"sales_activity_outcomes": outcomes}

    async def fields(self) -> Any:
        kind = self.path.split("/")[3]  # /api/settings/<kind>/fields
        fields = field_settings(kind, list(self.db.users.values()))
        if "field_group" in self.includes():
            return {"fields": fields, "field_groups": FIELD_GROUPS}
        return {"fields": [{k: v for k, v in f.items() if k != "field_group_id"} for f in fields]}

    # -- views ---------------------------------------------------------------------------

    async def filters(self) -> Any:
        kind = self.kind()
        model = MODEL_CLASS[kind]
        return {
            "filters": [
                {
                    "id": i,
                    "name": name,
                    "model_class_name": model,
                    "user_id": -1,
                    "is_default": i <= DEFAULT_VIEWS[kind],
                    "is_public": True,
                    "updated_at": "2025-01-06T10:00:00Z",
                }
                for i, name in enumerate(VIEWS[kind], 1)
            ]
        }

    def in_view(self, kind: str, view_id: int, me: int) -> Callable[[Row], bool]:
        names = VIEWS[kind]
        if not 1 <= view_id <= len(names):
            raise ApiError(404, f"View with id {view_id} not found")
        name = names[view_id - 1]
        now = self.now()
        recent = ts(now - timedelta(days=30)) or ""
        stale = ts(now - timedelta(days=90)) or ""
        territory = self.db.users[me].get("territory_id")
        stage_open = {s["id"]: s["forecast_type"] for s in STAGE.values()}
        new_lead = LEAD_STAGES[0]["id"]
        tests: dict[str, Callable[[Row], bool]] = {
            "My Leads": lambda r: r["owner_id"] == me,
            "My Contacts": lambda r: r["owner_id"] == me,
            "My Accounts": lambda r: r["owner_id"] == me,
            "My Deals": lambda r: r["owner_id"] == me,
            "New Leads": lambda r: r["lead_stage_id"] == new_lead,
            "Unassigned Leads": lambda r: r["owner_id"] is None,
            "My Territory Leads": lambda r: r["territory_id"] == territory,
            "My Territory Contacts": lambda r: r["territory_id"] == territory,
            "MY Territory Accounts": lambda r: r["territory_id"] == territory,
            "My Territory Deals": lambda r: r["territory_id"] == territory,
            "New Contacts": lambda r: r["created_at"] >= recent,
            "Recently Modified": lambda r: r["updated_at"] >= recent,
            "Never Contacted": lambda r: r["last_contacted"] is None,
            "Needs Followup": lambda r: (
                r["last_contacted"] is not None and r["last_contacted"] < recent
            ),
            "Slipping Away": lambda r: (
                r["last_contacted"] is not None and r["last_contacted"] < stale
            ),
            "Active": lambda r: r["contact_status_id"] in (69300002, 69300003, 69300004),
            "Inactive": lambda r: r["contact_status_id"] == 69300005,
            "Hot Leads": lambda r: r["lead_score"] >= 70,
            "Warm Leads": lambda r: 40 <= r["lead_score"] < 70,
            "Cold Leads": lambda r: r["lead_score"] < 40,
            # "Recent Deals" is the doc's "to fetch all deals" view, yet "a defined set
            # of records" (the Scroll API is the route to all): the deals changed in
            # the last 90 days (a quarter).
            "Recent Deals": lambda r: r["updated_at"] >= stale,
            "Open Deals": lambda r: stage_open[r["deal_stage_id"]] == "Open",
            "Won Deals": lambda r: stage_open[r["deal_stage_id"]] == "Won",
            "Lost Deals": lambda r: stage_open[r["deal_stage_id"]] == "Lost",
            "Hot Deals": lambda r: (
                stage_open[r["deal_stage_id"]] == "Open" and (r["probability"] or 0) >= 60
            ),
            "Cold Deals": lambda r: (
                stage_open[r["deal_stage_id"]] == "Open" and (r["probability"] or 0) <= 25
            ),
        }
        return tests.get(name, lambda r: True)  # All Leads/Contacts/Accounts

    def sort_key(self, kind: str, field: str) -> Callable[[Row], Any]:
        if field in ("amount", "open_deals_amount"):
            return lambda r: float(r[field]) if r.get(field) is not None else None
        if field == "lead_stage":
            positions = {s["id"]: s["position"] for s in LEAD_STAGES}
            return lambda r: positions.get(r["lead_stage_id"])
        if kind == "deals" and field == "last_contacted":
            return self.deal_contacted
        return lambda r: r.get(field)

    def deal_contacted(self, deal: Row) -> str | None:
        """A deal's ``last_contacted`` (a documented sort key; the seed's deal bodies show
        no such field): when one of its contacts was last contacted, as the vendor's
        contacted time is a person's. Not shown on the deal, only sorted by."""
        contacts = self.db.contacts
        times = [contacts[i].get("last_contacted") for i in deal["contact_ids"] if i in contacts]
        return max((t for t in times if t), default=None)

    def sorted_rows(self, kind: str, rows: list[Row]) -> list[Row]:
        field = self.query.get("sort", "updated_at")
        direction = self.query.get("sort_type", "desc")
        if field not in SORTS[kind]:
            raise invalid(f"Invalid sort field {field}; sortable: {', '.join(SORTS[kind])}")
        if direction not in ("asc", "desc"):
            raise invalid("sort_type must be asc or desc")
        key = self.sort_key(kind, field)
        present = [r for r in rows if key(r) is not None]
        missing = [r for r in rows if key(r) is None]
        present.sort(key=lambda r: (key(r), r["id"]), reverse=direction == "desc")
        missing.sort(key=lambda r: r["id"], reverse=direction == "desc")
        return present + missing  # blanks last either way

    async def view(self) -> Any:
        kind = self.kind()
        test = self.in_view(kind, self.view_id(), self.user)
        rows = [r for r in self.db.table(kind).values() if test(r)]
        rows = self.sorted_rows(kind, rows)
        chosen, meta = self.page(rows)
        out = self.bodies(kind, chosen)
        out["meta"] = meta
        return out

    async def scroll(self) -> Any:
        kind = self.kind()
        test = self.in_view(kind, self.view_id(), self.user)
        try:
            limit = min(int(self.query.get("limit", PAGES.default)), PAGES.maximum)
            after = int(self.query.get("last_fetched_id", 0))
        except ValueError:
            raise invalid("limit and last_fetched_id must be numbers") from None
        ids = sorted(i for i, r in self.db.table(kind).items() if i > after and test(r))
        chosen = [self.db.table(kind)[i] for i in ids[: max(limit, 1)]]
        out = self.bodies(kind, chosen)
        last = chosen[-1]["id"] if chosen else after
        out["meta"] = {
            "last_fetched_id": last,
            "has_next_page": len(ids) > len(chosen),
            "avatar_data": {MODEL_CLASS[kind]: {str(r["id"]): r.get("avatar") for r in chosen}},
        }
        return out

    def bodies(self, kind: str, rows: list[Row]) -> Row:
        handles = self.includes()
        side = render.Sideload(self.db)
        bodies = []
        for row in rows:
            body = render.record(kind, row)
            side.record(kind, body, row, handles)
            bodies.append(body)
        return {**side.out(), kind: bodies}

    def one(self, kind: str, row: Row, extra: tuple[str, ...] = ()) -> Row:
        handles = self.includes() + list(extra)
        side = render.Sideload(self.db)
        body = render.record(kind, row)
        side.record(kind, body, row, handles)
        return {**side.out(), WRAPPER[kind]: body}

    # -- records: leads, contacts, sales accounts, deals ------------------------------------

    async def get_record(self) -> Any:
        kind = self.kind()
        return self.one(kind, self.row(kind))

    def create(self, kind: str, body: Any) -> Row:
        """A new record of ``kind`` from ``{"<wrapper>": {...}}``, checked and stored."""
        values = read_body(self.db, kind, body, WRAPPER[kind], None)
        given = body[WRAPPER[kind]]
        row = self.blank(kind)
        row["owner_id"] = self.user
        row["creater_id"] = self.user
        self.apply(kind, row, values, given, self.user)
        self.db.table(kind)[row["id"]] = row
        self.after_write(kind, row, None)
        return row

    def update(self, kind: str, row: Row, body: Any) -> None:
        """``row`` changed by ``{"<wrapper>": {...}}``, checked."""
        values = read_body(self.db, kind, body, WRAPPER[kind], row)
        if kind == "deals":  # its CPQ line items, checked before anything is written
            extras.deal_products(self.db, row, body[WRAPPER[kind]], values)
        before = dict(row)
        if kind == "deals":
            self.db.unlink_deal(row)
        elif kind == "contacts":
            self.db.unlink_contact(row)
        try:
            self.apply(kind, row, values, body[WRAPPER[kind]], self.user)
        finally:
            self.after_write(kind, row, before)
        row["updater_id"] = self.user

    async def create_record(self) -> Any:
        kind = self.kind()
        row = self.create(kind, await self.json())
        extra = ("creater",) if kind == "deals" else ()
        return reply(self.one(kind, row, extra), 201)

    async def update_record(self) -> Any:
        kind = self.kind()
        row = self.row(kind)
        self.update(kind, row, await self.json())
        extra = ("updater",) if kind == "deals" else ()
        return self.one(kind, row, extra)

    async def delete_record(self) -> Any:
        kind = self.kind()
        row = self.row(kind)
        with_them = self.query.get("delete_associated_contacts_deals", "")
        self.remove(kind, row, associated=with_them.lower() == "true")
        return True

    async def bulk_destroy(self) -> Any:
        kind = self.kind()
        body = await self.json()
        chosen = body.get("selected_ids") if isinstance(body, dict) else None
        if not isinstance(chosen, list):
            raise invalid("selected_ids must be a list of ids")
        associated = body.get("delete_associated_contacts_deals") in (True, "true")
        out = []
        for raw in chosen:
            row = self.db.table(kind).get(body_id("selected_ids", raw))
            if row is not None:
                self.remove(kind, row, associated=associated)
            out.append({str(raw): row is not None})
        return {kind: out}

    def remove(self, kind: str, row: Row, *, associated: bool = False) -> None:
        """Delete ``row`` and its timeline; an account ``associated`` with its contacts
        and its open deals ("delete an account along with the associated contacts and
        open deals": ``delete_associated_contacts_deals``, documented for accounts)."""
        db = self.db
        if associated and kind == "sales_accounts":
            account = row["id"]
            for deal_id in sorted(db.deals_by_account[account]):
                deal = db.deals.get(deal_id)
                if deal is not None and STAGE[deal["deal_stage_id"]]["forecast_type"] == "Open":
                    self.remove("deals", deal)
            for contact_id in sorted(db.contacts_by_account[account]):
                if contact_id in db.contacts:
                    self.remove("contacts", db.contacts[contact_id])
        del db.table(kind)[row["id"]]
        if kind == "deals":
            db.unlink_deal(row)
            self.refresh_totals(row)
        elif kind == "contacts":
            db.unlink_contact(row)
        for item_kind in ("tasks", "appointments", "notes", "sales_activities", "events"):
            for item in db.items(KIND_TARGET[kind], row["id"], item_kind):
                db.detach(item_kind, item)
                db.table(item_kind).pop(item["id"], None)

    def blank(self, kind: str) -> Row:
        """A new record with every documented attribute (blank fields are null)."""
        now = self.now_text()
        row: Row = {
            "id": self.db.new_id(kind),
            "owner_id": None,
            "creater_id": None,
            "created_at": now,
            "updated_at": now,
            "custom_field": {},
        }
        person = dict.fromkeys(
            [
                "first_name",
                "last_name",
                "display_name",
                "avatar",
                "job_title",
                "email",
                "work_number",
                "mobile_number",
                "address",
                "city",
                "state",
                "zipcode",
                "country",
                "time_zone",
                "territory_id",
                "lead_source_id",
                "campaign_id",
                "medium",
                "keyword",
                "facebook",
                "twitter",
                "linkedin",
                "last_seen",
                "last_contacted",
                "last_contacted_mode",
                "updater_id",
            ]
        )
        if kind in ("contacts", "leads"):
            row.update(person, emails=[], lead_score=0)
        if kind == "contacts":
            row.update(
                contact_status_id=None, sales_account_id=None, open_deals_amount="0.0", _accounts=[]
            )
        if kind == "leads":
            row.update(
                lead_stage_id=LEAD_STAGES[0]["id"],
                lead_reason_id=None,
                stage_updated_time=now,
                company=None,
                deal=None,
            )
        if kind == "sales_accounts":
            row.update(
                dict.fromkeys(
                    [
                        "name",
                        "address",
                        "city",
                        "state",
                        "zipcode",
                        "country",
                        "industry_type_id",
                        "business_type_id",
                        "number_of_employees",
                        "annual_revenue",
                        "website",
                        "phone",
                        "territory_id",
                        "parent_sales_account_id",
                        "facebook",
                        "twitter",
                        "linkedin",
                        "last_contacted",
                        "last_contacted_mode",
                        "avatar",
                        "updater_id",
                    ]
                ),
                open_deals_amount="0.0",
                open_deals_count=0,
            )
        if kind == "deals":
            pipeline = next(p for p in PIPELINES if p["is_default"])
            first = PIPELINE_STAGES[pipeline["id"]][0]
            row.update(
                dict.fromkeys(
                    [
                        "name",
                        "amount",
                        "base_currency_amount",
                        "expected_close",
                        "closed_date",
                        "deal_reason_id",
                        "deal_type_id",
                        "deal_product_id",
                        "deal_payment_status_id",
                        "lead_source_id",
                        "campaign_id",
                        "territory_id",
                        "sales_account_id",
                        "updater_id",
                    ]
                ),
                currency_id=61000001,
                deal_pipeline_id=pipeline["id"],
                deal_stage_id=first["id"],
                probability=first["probability"],
                stage_updated_time=now,
                contact_ids=[],
            )
        return row

    def apply(self, kind: str, row: Row, values: Row, given: Row, user: int) -> None:
        """Write checked ``values`` (and the relation keys of ``given``) into ``row``."""
        if kind == "deals":
            stage_for(row, values)
            self.deal_relations(row, values, given)
        if kind in ("contacts", "leads"):
            self.person_values(kind, row, values, given)
        if kind == "contacts":
            self.contact_accounts(row, given)
        if kind == "leads" and isinstance(given.get("company"), dict):
            row["company"] = {**(row.get("company") or {"id": row["id"]}), **given["company"]}
        old_stage = row.get("deal_stage_id")
        row.update(values)
        if kind == "deals":
            self.deal_derived(row, values, old_stage, user)
        if kind in ("contacts", "leads"):
            row["display_name"] = " ".join(p for p in (row["first_name"], row["last_name"]) if p)
        row["updated_at"] = self.now_text()

    def person_values(self, kind: str, row: Row, values: Row, given: Row) -> None:
        """``email`` (deprecated) and ``emails``: one primary address, unique per kind."""
        if "emails" in values:
            primary = next((e["value"] for e in values["emails"] if e["is_primary"]), None)
            values["email"] = primary
            for entry in values["emails"]:
                entry["id"] = entry["id"] or self.db.new_id("attendees")
        elif "email" in values:
            email = values["email"]
            values["emails"] = (
                [
                    {
                        "id": self.db.new_id("attendees"),
                        "value": email,
                        "is_primary": True,
                        "label": None,
                    }
                ]
                if email
                else []
            )
        email = values.get("email")
        if email:
            for other in self.db.table(kind).values():
                if other["id"] != row["id"] and other.get("email") == email:
                    raise invalid(f"Email {email} already exists")
        merged = {**row, **values}
        if not any(merged.get(k) for k in ("email", "mobile_number", "twitter")):
            raise invalid("Either email, mobile number or twitter is required")

    def contact_accounts(self, row: Row, given: Row) -> None:
        links = None
        if "sales_accounts" in given:
            links = given["sales_accounts"] or []
            if not isinstance(links, list) or len(links) > 10:
                raise invalid("sales_accounts must be a list of at most 10 accounts")
            links = [
                {
                    "id": body_id("sales_account_id", link.get("id")),
                    "is_primary": bool(link.get("is_primary")),
                }
                for link in hashes("sales_accounts", links)
            ]
            if links and sum(link["is_primary"] for link in links) != 1:
                raise invalid("Exactly one of the sales accounts must be primary")
        elif given.get("sales_account_id") is not None:
            links = [
                {"id": body_id("sales_account_id", given["sales_account_id"]), "is_primary": True}
            ]
        elif isinstance(given.get("sales_account"), dict):
            links = [
                {
                    "id": self.new_account(given["sales_account"], row["creater_id"])["id"],
                    "is_primary": True,
                }
            ]
        if links is None:
            return
        for link in links:
            if link["id"] not in self.db.sales_accounts:
                raise invalid(f"Invalid sales account: {link['id']} does not exist")
        row["_accounts"] = links
        row["sales_account_id"] = next((link["id"] for link in links if link["is_primary"]), None)

    def new_account(self, given: Row, user: int | None) -> Row:
        """An account made on the fly (``"sales_account": {"name": ...}``)."""
        values = read_body(
            self.db, "sales_accounts", {"sales_account": given}, "sales_account", None
        )
        account = self.blank("sales_accounts")
        account.update(owner_id=user, creater_id=user, **values)
        self.db.sales_accounts[account["id"]] = account
        return account

    def deal_relations(self, row: Row, values: Row, given: Row) -> None:
        if isinstance(given.get("sales_account"), dict) and "sales_account_id" not in values:
            values["sales_account_id"] = self.new_account(
                given["sales_account"], row["creater_id"]
            )["id"]
        if not row.get("sales_account_id") and not values.get("sales_account_id"):
            raise invalid("Sales account can't be blank")
        contact_ids = list(row.get("contact_ids") or [])
        for key, adding in (("contacts_added_list", True), ("contacts_removed_list", False)):
            for contact_id in ids(key, given.get(key)):
                if adding and contact_id not in self.db.contacts:
                    raise invalid(f"Invalid contact: {contact_id} does not exist")
                if adding and contact_id not in contact_ids:
                    contact_ids.append(contact_id)
                elif not adding and contact_id in contact_ids:
                    contact_ids.remove(contact_id)
        values["contact_ids"] = contact_ids

    def deal_derived(self, row: Row, values: Row, old_stage: int | None, user: int) -> None:
        row["base_currency_amount"] = base_amount(row["amount"], row["currency_id"])
        stage = STAGE[row["deal_stage_id"]]
        if row["deal_stage_id"] != old_stage and row["id"] in self.db.deals:
            row["stage_updated_time"] = self.now_text()
            if "probability" not in values:
                row["probability"] = stage["probability"]
            self.stage_event(row, stage, user)
        if stage["forecast_type"] == "Open":
            row["closed_date"] = None
        elif row.get("closed_date") is None:
            row["closed_date"] = self.now().date().isoformat()

    def stage_event(self, deal: Row, stage: Row, user: int) -> None:
        event_id = self.db.new_id("events")
        event = {
            "id": event_id,
            "action_type": "STAGE_CHANGE",
            "action_data": {"stage_id": stage["id"], "stage_name": stage["name"]},
            "created_at": self.now_text(),
            "user_activity": True,
            "targetable_type": "Deal",
            "targetable_id": deal["id"],
            "actionable_type": None,
            "actionable_id": None,
            "targetable_name": deal["name"],
            "user_id": user,
        }
        self.db.events[event_id] = event
        self.db.attach("events", event)

    def after_write(self, kind: str, row: Row, before: Row | None) -> None:
        if kind == "deals":
            self.db.link_deal(row)
            self.refresh_totals(row, before)
        elif kind == "contacts":
            self.db.link_contact(row)

    def refresh_totals(self, row: Row, before: Row | None = None) -> None:
        for deal in (row, before or {}):
            self.db.refresh_account_totals(deal.get("sales_account_id"))
            for contact_id in deal.get("contact_ids") or []:
                self.db.refresh_contact_total(contact_id)

    async def record_activities(self) -> Any:
        kind = self.kind()
        if kind not in ACTIVITY_FEEDS:  # documented for leads and contacts only
            raise ApiError(404, NOT_FOUND)
        row = self.row(kind)
        feed = render.activities(self.db, kind, row)
        limit = self.query.get("limit")
        if limit is not None:
            try:
                size = max(1, int(limit))
                page = max(1, int(self.query.get("page", 1)))
            except ValueError:
                raise invalid("limit must be a number") from None
            feed = feed[(page - 1) * size : page * size]
        out: Row = {}
        if "user" in self.includes():
            side = render.Sideload(self.db)
            for entry in feed:
                side.user(entry["user_id"])
            out.update(side.out())
            out.setdefault("users", [])
        out["activities"] = feed
        return out

    async def convert_lead(self) -> Any:
        lead = self.row("leads")
        body = await self.json()
        given = body.get("lead") if isinstance(body, dict) else None
        company = given.get("company") if isinstance(given, dict) else None
        if (
            not isinstance(given, dict)
            or not given.get("last_name")
            or not isinstance(company, dict)  # a hash, not a name
            or not company.get("name")
        ):
            raise invalid("last_name and company[name] are mandatory to convert a lead")
        account = self.new_account({"name": given["company"]["name"]}, self.user)
        contact = self.blank("contacts")
        keep = {
            k: v
            for k, v in lead.items()
            if k in contact and k not in ("id", "created_at", "updated_at")
        }
        contact.update(keep)
        values = read_body(
            self.db, "contacts", {"contact": {**given, "sales_account_id": None}}, "contact", None
        )
        contact.update(values)
        contact["display_name"] = " ".join(
            p for p in (contact["first_name"], contact["last_name"]) if p
        )
        contact["_accounts"] = [{"id": account["id"], "is_primary": True}]
        contact["sales_account_id"] = account["id"]
        self.db.contacts[contact["id"]] = contact
        self.db.link_contact(contact)
        self.remove("leads", lead)
        return {
            "contact": render.record("contacts", contact),
            "meta": {"success_msg": "Lead converted successfully"},
        }

    # -- tasks, appointments, notes, sales activities ---------------------------------------

    def item_apply(self, kind: str, row: Row, values: Row) -> None:
        if "targetable_id" in values or "targetable_type" in values:
            self.db.detach(kind, row) if row.get("targetable_type") else None
        row.update(values)
        row["updated_at"] = self.now_text()
        if row.get("targetable_type"):
            self.db.attach(kind, row)

    async def create_item(self) -> Any:
        kind = self.kind()
        row = self.new_item(kind, await self.json())
        return reply(self.item_body(kind, row, single=True), 201)

    def new_item(self, kind: str, body: Any) -> Row:
        """A new task, appointment, note or sales activity from ``{"<wrapper>": {...}}``."""
        values = read_body(self.db, kind, body, WRAPPER[kind], None)
        now = self.now_text()
        user = self.user
        row: Row = {"id": self.db.new_id(kind), "created_at": now, "updated_at": now}
        row.update(dict.fromkeys(w for w in _ATTRS[kind]))
        row.update({"creater_id": user, **_DEFAULTS[kind]})
        given = body[WRAPPER[kind]]
        if kind == "tasks":
            row["user_ids"] = self.task_users(given)
        if kind == "appointments":
            row["_attendees"] = self.attendees(given, [])
        if kind in ("appointments", "sales_activities"):
            self.check_span(kind, {**row, **values})
        self.item_apply(kind, row, values)
        if kind == "tasks" and row["status"] == 1:
            row["completed_date"] = now
        self.db.table(kind)[row["id"]] = row
        return row

    async def update_item(self) -> Any:
        kind = self.kind()
        row = self.row(kind)
        body = await self.json()
        values = read_body(self.db, kind, body, WRAPPER[kind], row)
        given = body[WRAPPER[kind]]
        if kind in ("appointments", "sales_activities"):
            self.check_span(kind, {**row, **values})
        if kind == "tasks":
            if "task_users_attributes" in given:
                row["user_ids"] = self.task_users(given)
            if values.get("status") == 1 and row["status"] != 1:
                row["completed_date"] = self.now_text()
            elif values.get("status") == 0:
                row["completed_date"] = None
        if kind == "appointments" and "appointment_attendees_attributes" in given:
            row["_attendees"] = self.attendees(given, row["_attendees"])
        row["updater_id"] = self.user if "updater_id" in row else None
        self.item_apply(kind, row, values)
        return self.item_body(kind, row, single=True)

    async def get_item(self) -> Any:
        kind = self.kind()
        return self.item_body(kind, self.row(kind), single=True)

    async def delete_item(self) -> Any:
        kind = self.kind()
        row = self.row(kind)
        body = self.item_body(kind, row, single=True)
        self.db.detach(kind, row)
        del self.db.table(kind)[row["id"]]
        if kind in ("appointments", "sales_activities"):
            return {"success": "200"}
        return {WRAPPER[kind]: body[WRAPPER[kind]]}

    def task_users(self, given: Row) -> list[int]:
        users = []
        for entry in hashes("task_users_attributes", given.get("task_users_attributes")):
            user_id = body_id("user_id", entry.get("user_id"))
            if user_id not in self.db.users:
                raise invalid(f"Invalid user: {user_id} does not exist")
            users.append(user_id)
        return users

    def attendees(self, given: Row, current: list[Row]) -> list[Row]:
        known = {(a["attendee"]["type"], a["attendee"]["id"]): a for a in current}
        out = []
        attributes = given.get("appointment_attendees_attributes")
        for entry in hashes("appointment_attendees_attributes", attributes):
            kind = {"FdMultitenant::User": "user", "Lead": "lead", "Contact": "contact"}.get(
                str(entry.get("attendee_type"))
            )
            if kind is None:
                raise invalid("attendee_type must be FdMultitenant::User, Lead or Contact")
            attendee_id = body_id("attendee_id", entry.get("attendee_id"))
            exists = self.db.users if kind == "user" else self.db.table(f"{kind}s")
            if attendee_id not in exists:
                raise invalid(f"Invalid attendee: {kind} {attendee_id} does not exist")
            if entry.get("_destroy"):
                continue
            out.append(
                known.get((kind, attendee_id))
                or {
                    "id": self.db.new_id("attendees"),
                    "attendee": {"type": kind, "id": attendee_id},
                }
            )
        return out

    @staticmethod
    def check_span(kind: str, row: Row) -> None:
        start, end = (
            ("from_date", "end_date") if kind == "appointments" else ("start_date", "end_date")
        )
        if row.get(start) and row.get(end) and row[end] < row[start]:
            raise invalid("End date must be after the start date")

    def item_body(self, kind: str, row: Row, single: bool) -> Row:
        handles = self.includes()
        side = render.Sideload(self.db)
        body = self.item(kind, row, handles, side, single)
        return {**side.out(), WRAPPER[kind]: body}

    def item(
        self, kind: str, row: Row, handles: list[str], side: render.Sideload, single: bool
    ) -> Row:
        if kind == "appointments":
            body = render.appointment(row)
            if single or "appointment_attendees" in handles:
                side.attendees(row)
        else:
            body = render.public(row)
        if "targetable" in handles and row.get("targetable_type"):
            side.targetable(body, row)
        if "owner" in handles:
            side.user(row.get("owner_id"))
        if "creater" in handles:
            side.user(row.get("creater_id"))
        if "users" in handles:
            for user_id in row.get("user_ids") or []:
                side.user(user_id)
        return body

    async def list_tasks(self) -> Any:
        filter_ = (self.query.get("filter") or "").replace("_", " ").strip().lower()
        now = self.now()
        now_text = ts(now) or ""
        today = now.date().isoformat()
        tomorrow = (now + timedelta(days=1)).date().isoformat()
        tests: dict[str, Callable[[Row], bool]] = {
            "open": lambda t: t["status"] == 0,
            "due today": lambda t: t["status"] == 0 and t["due_date"][:10] == today,
            "due tomorrow": lambda t: t["status"] == 0 and t["due_date"][:10] == tomorrow,
            "overdue": lambda t: t["status"] == 0 and t["due_date"] < now_text,
            "completed": lambda t: t["status"] == 1,
        }
        if filter_ not in tests:
            raise invalid(
                "The filter parameter is mandatory: open, due today, due tomorrow, overdue or completed"
            )
        rows = sorted(
            (t for t in self.db.tasks.values() if tests[filter_](t)),
            key=lambda t: (t["due_date"], t["id"]),
        )
        if filter_ == "completed":
            rows.reverse()
        return self.item_list("tasks", rows)

    async def list_appointments(self) -> Any:
        filter_ = (self.query.get("filter") or "").strip().lower()
        now_text = self.now_text()
        tests: dict[str, Callable[[Row], bool]] = {
            "open": lambda a: a["end_date"] >= now_text,
            "upcoming": lambda a: a["end_date"] >= now_text,
            "overdue": lambda a: a["end_date"] < now_text and a["outcome_id"] is None,
            "complete": lambda a: a["end_date"] < now_text and a["outcome_id"] is not None,
            "past": lambda a: a["end_date"] < now_text,
        }
        if filter_ not in tests:
            raise invalid("The filter parameter is mandatory: open, overdue or complete")
        rows = sorted(
            (a for a in self.db.appointments.values() if tests[filter_](a)),
            key=lambda a: (a["from_date"], a["id"]),
        )
        if filter_ != "open" and filter_ != "upcoming":
            rows.reverse()
        return self.item_list("appointments", rows)

    async def list_sales_activities(self) -> Any:
        self.db.materialize_all()
        rows = sorted(
            self.db.sales_activities.values(),
            key=lambda r: (r["start_date"], r["id"]),
            reverse=True,
        )
        return self.item_list("sales_activities", rows)

    def item_list(self, kind: str, rows: list[Row]) -> Row:
        chosen, meta = self.page(rows)
        handles = self.includes()
        side = render.Sideload(self.db)
        bodies = [self.item(kind, row, handles, side, single=False) for row in chosen]
        return {**side.out(), kind: bodies, "meta": meta}


_ATTRS = {
    "tasks": [
        "title",
        "description",
        "due_date",
        "owner_id",
        "status",
        "targetable_type",
        "targetable_id",
        "outcome_id",
        "task_type_id",
        "completed_date",
        "updater_id",
    ],
    "appointments": [
        "title",
        "description",
        "location",
        "time_zone",
        "from_date",
        "end_date",
        "is_allday",
        "targetable_type",
        "targetable_id",
        "outcome_id",
        "latitude",
        "longitude",
        "checkedin_at",
    ],
    "notes": ["description", "targetable_type", "targetable_id"],
    "sales_activities": [
        "title",
        "notes",
        "sales_activity_type_id",
        "sales_activity_outcome_id",
        "start_date",
        "end_date",
        "owner_id",
        "targetable_type",
        "targetable_id",
        "location",
        "latitude",
        "longitude",
        "checkedin_at",
        "remote_id",
        "import_id",
        "updater_id",
        "conversation_time",
    ],
}
_DEFAULTS: dict[str, Row] = {
    "tasks": {"status": 0, "user_ids": []},
    "appointments": {"is_allday": False, "time_zone": "UTC", "_attendees": []},
    "notes": {},
    "sales_activities": {"custom_field": {}},
}


def _handlers() -> dict[str, Handler[FreshCall]]:
    """One handler per documented endpoint, keyed as the contract writes it."""
    c = FreshCall
    table: dict[str, Handler[FreshCall]] = {
        "GET /api/selector/deal_pipelines/{id}/deal_stages": c.pipeline_stages,
        "GET /api/selector/sales_activity_types/{id}/sales_activity_outcomes": c.type_outcomes,
        **{f"GET /api/selector/{name}": c.selector for name in SELECTORS},
        "GET /api/tasks": c.list_tasks,
        "GET /api/appointments": c.list_appointments,
        "GET /api/sales_activities": c.list_sales_activities,
    }
    for kind in ITEM_KINDS:
        api = f"/api/{kind}"
        table[f"POST {api}"] = c.create_item
        table[f"PUT {api}/{{id}}"] = c.update_item
        table[f"DELETE {api}/{{id}}"] = c.delete_item
        if kind != "notes":
            table[f"GET {api}/{{id}}"] = c.get_item
    for kind in KINDS:
        api = f"/api/{kind}"
        table |= {
            f"GET /api/settings/{kind}/fields": c.fields,
            f"GET {api}/filters": c.filters,
            f"GET {api}/view/{{view_id}}": c.view,
            f"GET {api}/scroll/{{view_id}}": c.scroll,
            f"POST {api}/bulk_destroy": c.bulk_destroy,
            f"POST {api}": c.create_record,
            f"GET {api}/{{id}}": c.get_record,
            f"PUT {api}/{{id}}": c.update_record,
            f"DELETE {api}/{{id}}": c.delete_record,
        }
        if kind in ACTIVITY_FEEDS:
            table[f"GET {api}/{{id}}/activities"] = c.record_activities
            table[f"GET {api}/{{id}}/activities.json"] = c.record_activities
    table["POST /api/leads/{id}/convert"] = c.convert_lead
    return table | extras.handlers()


def _who(call: FreshCall, credential: str) -> str | None:
    """The user a key belongs to (the key may be quoted: ``token="..."``)."""
    user = call.db.api_keys.get(credential.strip('"'))
    return None if user is None else str(user)


SANDBOX = Sandbox(
    contract=CONTRACT,
    handlers=_handlers(),
    envelope=envelope,
    auth=HeaderKey("authorization", "Token token="),
    who=_who,
    context=FreshCall,
    # 1000 an hour for the whole Freshsales account (every user's key counts in it)
    limit=Limit(RATE_LIMIT, RATE_WINDOW, per_key=False, refused=_too_many),
    unauthorized=lambda reason: ApiError(401, UNAUTHORIZED),
    bad_body=lambda: invalid("Request body is not valid JSON"),
    # an invalid URL, whatever the method, is the documented 404
    reasons={404: NOT_FOUND, 405: NOT_FOUND},
)


def create_app(
    *,
    seed: int = 0,
    scale: int = 1,
    faults: Faults | None = None,
    rate_limit: bool = True,
    now: datetime | None = None,
) -> Starlette:
    """The Freshsales sandbox: ``/api/...`` as documented, over seeded data."""
    clock = SandboxClock(now)
    db = build(seed, scale, clock.anchor)
    return SANDBOX.app(db, clock=clock, faults=faults, rate_limit=rate_limit)


__all__ = ["SANDBOX", "FreshCall", "create_app", "envelope"]
