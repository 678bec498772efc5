"""SalesforceIQ (API v2, ex-RelateIQ): Lists of deals, Accounts and Contacts.

SalesforceIQ has no deal object: a pipeline is a List, whose columns (field metadata:
``dataType``, ``listOptions``, ``isMultiSelect``, ``isEditable``...) are defined per list,
and a deal is a List Item with ``fieldValues`` (``{"<fieldId>": [{"raw": "..."}]}``).

Decisions:

- Kinds: one kind per list, ``list:<listId>`` (label = the list's title), then
  "Accounts" (``company``) and "Contacts" (``contact``). A list item's id is its own id;
  the list id travels in the kind.
- Field keys of a list: the neutral key where the column maps — ``stage`` (the
  single-select "Status" List field, else id ``0``), ``amount`` ("Revenue"/"Amount"
  Numeric, else id ``3``; money), ``expected_close`` (``process_close_date``; an ISO date,
  written as midnight UTC in ms), ``owner`` ("Owner" User, else id ``1``) — and
  ``f_<fieldId>`` otherwise. Types by ``dataType``: List → choice / multi_choice with
  the ``listOptions`` ids, Numeric → number, DateTime → datetime, Date → date, User →
  user, everything else → text (multi-valued text joined with ", "). Writable when
  ``isEditable`` and not linked and not a File. Also ``name``, ``status``
  (open|won|lost from the stage's label), ``pipeline`` (list id), ``company``
  (``accountId``), ``contact`` (first of ``contactIds``) and ``version``.
- Owners: the API lists no users; the adapter resolves the User ids it meets in list
  items (the first page of each list when none seen yet) with ``GET /users/{id}``.
- Paging: ``_start``/``_limit`` (≤ 200); the cursor is the next ``_start``; the last
  page is the one shorter than ``_limit`` (``nextPage`` is not read: the doc only shows
  it null). ``updated_since`` → ``modifiedDate`` (ms, at or after; ascending), each
  page asked from the last ``modifiedDate`` read (``keyset.Mark``), not by offset: a
  record edited during a sync moves to the end and an offset then skipped one.
- No server search or sort: contacts search by email / phone through
  ``properties.email`` / ``properties.phone``; other searches, sorts and the
  open/won/lost views apply to the page fetched (the cache sorts and searches whole
  kinds).
- Timeline: the API has no tasks and no readable activity feed (events are write-only).
  ``timeline()`` shows what the API does give, as ``other`` activities: when the record
  (or its list items) were added to a list and last modified, with the stage and
  version; plus the events this adapter logged through ``PUT /events`` (``add_note``),
  kept (``Activity.kept``: the app's cache holds them across restarts) because the API
  cannot read them back (family ``event``).
- Creates have no idempotency key. List items upsert (by contact or account); a contact
  with an email upserts by email. Otherwise, before posting, ``create`` looks among the
  records modified in the last 15 minutes (``modifiedDate``, by the vendor's clock,
  which is the real time) for one holding every value, so a create whose reply was
  lost is not made twice. An identical record made minutes earlier is taken as it.
- ``add_note`` logs an event whose participants are the emails (else phones) of the
  record's contacts (the contact itself, an item's contacts, an account's contacts).
- Creates of list items use ``_upsert`` (``accountId`` on account lists,
  ``contactIds`` on contact lists): a replayed create updates instead of duplicating —
  SalesforceIQ keeps one relationship per account/contact per list anyway. Contacts
  with an email are created with ``_upsert=email``. Accounts have no natural key: a
  create is remembered by its idempotency key for the adapter's lifetime.
- Conflicts: ``Record.updated_at`` is ``modifiedDate``; list items also carry
  ``fields["version"]``. Account and contact PUTs answer partial objects, so the
  adapter re-reads the record after writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, ClassVar

from crmtui.fields import money_text
from crmtui.http import BadResponse, NotFound, RateBudget, Rejected
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
)
from crmtui.vendors.auth import Basic, Connection
from crmtui.vendors.base import CannotTell, Profile, Setting, Vendor, holds, record_id
from crmtui.vendors.mapping import (
    ActivityLog,
    Logged,
    Notes,
    Resource,
    Text,
    marked_cursor,
    path_id,
    repeated,
    unmarked_cursor,
)
from crmtui.vendors.salesforceiq.auth import parse_error
from crmtui.vendors.salesforceiq.calls import CALLS, log_call
from crmtui.vendors.salesforceiq.lists import (
    CONTACTS_OF_ACCOUNT,
    POINTS_OF_CONTACT,
    ListSchema,
    MetaField,
    accounts_resource,
    epoch_ms,
    held_ids,
    list_kind_info,
    parse_when,
    raw_values,
    status_of,
    type_name,
)
from crmtui.vendors.salesforceiq.paging import MAX_LIMIT, MODIFIED, PAGING, list_params, refine
from crmtui.vendors.salesforceiq.resources import (
    CONTACT,
    LIST_PREFIX,
    REPLAY_WINDOW,
    USERS,
    WEB_APP,
    account_key,
    contact_properties,
    contact_specs,
    fixed_kind_infos,
    property_value,
    ref_id,
    ref_ids,
    web_page,
)
from crmtui.vendors.salesforceiq.timeline import (
    event_of,
    logged_activity,
    merged,
    modified_activity,
)

Json = dict[str, Any]


@dataclass
class AdapterState:
    """What the adapter learns as it goes: the lists, the users met in list items (the
    API lists none), the events it logged (the API cannot read them back) and the
    records its creates made (by idempotency key)."""

    lists: dict[str, ListSchema] = field(default_factory=dict)
    users: dict[str, Json] = field(default_factory=dict)
    user_ids: set[str] = field(default_factory=set)
    logged: dict[str, list[Activity]] = field(default_factory=dict)
    created: dict[str, Record] = field(default_factory=dict)


class SalesforceIQ(Vendor):
    """The SalesforceIQ adapter (HTTP basic auth with an API key and secret)."""

    name: ClassVar[str] = "salesforceiq"
    label: ClassVar[str] = "SalesforceIQ"
    api_domains: ClassVar[tuple[str, ...]] = ("salesforceiq.com",)  # api.salesforceiq.com
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("api_key", "API key", secret=True, help="SalesforceIQ settings → API"),
        Setting("api_secret", "API secret", secret=True),
    )
    budget: ClassVar[RateBudget] = RateBudget(
        100_000, 86400, note="100k requests per API key per calendar day"
    )
    # Events (``add_note``) are write-only in the API (``PUT /events``; no GET): a note
    # whose reply was lost cannot be looked for, so the user decides whether it arrived.
    notes_listed: ClassVar[bool] = False
    activity_log: ClassVar[ActivityLog] = CALLS  # an event (``calls``)
    # a note is an event with the record's contacts: on every kind (lists named at run time)
    notes: ClassVar[Notes] = Notes(anywhere=True)

    connection: ClassVar[Connection] = Connection(
        auth=Basic("api_key", "api_secret"), errors=parse_error
    )

    @cached_property
    def state(self) -> AdapterState:
        """What the adapter learns as it goes (made on first use)."""
        return AdapterState()

    @classmethod
    def default_base_url(cls, profile: Profile) -> str:
        return "https://api.salesforceiq.com/v2/"

    def web_root(self) -> str | None:
        return WEB_APP

    def web_page(self, kind: str) -> str:
        return web_page(kind)

    # -- schema ----------------------------------------------------------------------

    async def _collect(self, path: str, params: Json | None = None) -> list[Json]:
        """Every object of a collection, page by page."""
        return await self.fetch_all(path, PAGING, "objects", params, per_page=MAX_LIMIT)

    async def _page(self, path: str, start: int, limit: int, params: Json | None) -> list[Json]:
        query = {**(params or {}), **PAGING.params(str(start), limit)}
        data = await self.session.json("GET", path, params=query)
        return list((data or {}).get("objects") or [])

    async def lists(self, refresh: bool = False) -> dict[str, ListSchema]:
        state = self.state
        if refresh or not state.lists:
            state.lists = {d["id"]: ListSchema.from_json(d) for d in await self._collect("lists")}
        return state.lists

    async def schema(self, kind: str) -> ListSchema:
        list_id = kind.removeprefix(LIST_PREFIX)
        schema = (await self.lists()).get(list_id)
        if schema is None:
            schema = ListSchema.from_json(
                await self.session.json("GET", f"lists/{path_id(list_id)}")
            )
            self.state.lists[list_id] = schema
        return schema

    async def account_fields(self) -> list[Json]:
        """The accounts' field metadata (``GET /accounts/fields``), read once."""

        async def load() -> list[Json]:
            data = await self.session.json("GET", "accounts/fields")
            return list((data or {}).get("fields") or [])

        return await self.cached("accounts/fields", load)

    async def accounts(self) -> Resource:
        """Accounts as a resource: one field per account field's metadata."""
        return accounts_resource(await self.account_fields())

    async def kinds(self) -> list[KindInfo]:
        lists = (await self.lists(refresh=True)).values()
        # accounts' Contact fields (the metadata's, read once) are references
        refs = (await self.accounts()).references()
        refs[CONTACTS_OF_ACCOUNT.key] = Kind.CONTACT  # its contacts (several)
        fixed = [
            info.model_copy(update={"references": refs}) if info.kind == "company" else info
            for info in fixed_kind_infos()
        ]
        return [*(list_kind_info(schema) for schema in lists), *fixed]

    async def fields(self, kind: str, *, refresh: bool = False) -> list[FieldSpec]:
        """Read from the vendor each call (a list's schema as last read: ``refresh``
        reads the lists again, and the account fields)."""
        if refresh:
            self.reload_lookups()
            if kind.startswith(LIST_PREFIX):
                await self.lists(refresh=True)
        if kind.startswith(LIST_PREFIX):
            return await self._list_fields(await self.schema(kind))
        if kind == "company":
            return await self._account_specs()
        if kind == "contact":
            return contact_specs()
        raise NotFound(self.label, f"no kind {kind!r}")

    async def _list_fields(self, schema: ListSchema) -> list[FieldSpec]:
        users = await self.user_choices()
        metas = schema.ordered()
        fields = [schema.field(m) for m in metas]
        # a Contact field is a reference (``meta_field``): shown by the contact's name
        specs = [f.spec(choices=users) for f in fields]
        editable = [s for s in specs if s.writable]
        fixed = [
            # a list item's name sent empty stays as it was: refused instead
            FieldSpec(key="name", label="Name", writable=True, clearable=False),
            FieldSpec(
                key="status",
                label="Outcome",
                type=FieldType.CHOICE,
                choices=[Choice(value=v, label=v.title()) for v in ("open", "won", "lost")],
            ),
            FieldSpec(
                key="pipeline",
                label="List",
                type=FieldType.CHOICE,
                choices=[Choice(value=schema.id, label=schema.title)],
            ),
            # references (``list_kind_info``), shown by the record's name; every contact
            # of the item is under Related
            FieldSpec(  # an account list's item is tied to one account (accountId): the
                # seed documents no way to untie it, and an empty accountId is refused
                key="company",
                label="Account",
                writable=schema.list_type == "account",
                clearable=False,
            ),
            FieldSpec(key="version", label="Version", type=FieldType.NUMBER),
        ]
        if schema.list_type == "contact":  # "A contact-based list item needs one contact"
            fixed.insert(
                -1, FieldSpec(key="contact", label="Contact", writable=True, clearable=False)
            )
        else:  # an account list's item: several of its account's contacts (contactIds)
            fixed.insert(
                -1,
                FieldSpec(
                    key="contacts",
                    label=POINTS_OF_CONTACT,
                    type=FieldType.MULTI_CHOICE,
                    writable=True,
                ),
            )
        return [*editable, *fixed, *(s for s in specs if not s.writable)]

    async def _account_specs(self) -> list[FieldSpec]:
        users = await self.user_choices()
        resource = await self.accounts()
        fields = [f for f in resource.fields if isinstance(f, MetaField)]
        # a Contact field is a reference (``meta_field``): shown by the contact's name
        shown = [f.spec(choices=users) for f in fields]
        name = FieldSpec(key="name", label="Name", writable=True, required=True)
        return [name, *shown, CONTACTS_OF_ACCOUNT.spec()]  # its contacts: several, by name

    async def user_choices(self) -> list[Choice]:
        """Users found in list items' User fields, resolved with ``GET /users/{id}``."""
        state = self.state
        if not state.user_ids:
            for schema in (await self.lists()).values():
                for item in await self._page(
                    f"lists/{path_id(schema.id)}/listitems", 0, MAX_LIMIT, None
                ):
                    self._note_users(schema, item)
        for user_id in sorted(state.user_ids - set(state.users)):
            try:
                state.users[user_id] = await self.session.json("GET", f"users/{path_id(user_id)}")
            except NotFound:
                state.users[user_id] = {"id": user_id, "name": user_id, "email": ""}
        return USERS.choices(sorted(state.users.values(), key=lambda u: u.get("name") or ""))

    # -- records -----------------------------------------------------------------------

    def _item_record(self, schema: ListSchema, item: Json) -> Record:
        fields = schema.resource.read(item, self.context())
        self._note_users(schema, item)
        stage = schema.stage_label(fields.get("stage"))
        contact_ids = ref_ids(item.get("contactIds"))
        fields |= {
            "name": item.get("name") or "",
            "status": status_of(stage),
            "pipeline": schema.id,
            "company": ref_id(item.get("accountId")),
            "contact": contact_ids[0] if contact_ids else None,
            "version": item.get("version"),
        }
        if schema.list_type != "contact":  # an account list's: all its points of contact
            fields["contacts"] = contact_ids
        amount = fields.get("amount")
        return Record(
            vendor=self.name,
            profile=self.profile.name,
            kind=schema.kind,
            id=(rid := record_id(self.label, item.get("id"), schema.kind)),
            title=item.get("name") or rid,
            # SalesforceIQ documents no currency (a list's fields have none): the amount
            # is shown as the number alone, as everywhere (fields.NO_CURRENCY)
            subtitle=" · ".join(p for p in (stage, money_text(amount)) if p),
            created_at=parse_when(item.get("createdDate")),
            updated_at=parse_when(item.get("modifiedDate")),
            fields=fields,
            raw=item,
        )

    def _note_users(self, schema: ListSchema, item: Json) -> None:
        """Remember the user ids in an item's User fields (the API lists no users)."""
        values = item.get("fieldValues") or {}
        for meta in schema.fields:
            if type_name(meta) == "user":
                self.state.user_ids.update(raw_values(values.get(meta["id"])))

    def _account_record(self, account: Json, resource: Resource) -> Record:
        values = account.get("fieldValues") or {}
        fields: Json = {"name": account.get("name") or ""}
        fields |= resource.read(account, self.context())
        fields["contacts"] = raw_values(values.get("person_ids"))
        place = ", ".join(p for p in (fields.get("city"), fields.get("country")) if p)
        return Record(
            vendor=self.name,
            profile=self.profile.name,
            kind="company",
            id=(rid := record_id(self.label, account.get("id"), "company")),
            title=account.get("name") or rid,
            subtitle=place,
            updated_at=parse_when(account.get("modifiedDate")),
            fields=fields,
            raw=account,
        )

    def _contact_record(self, contact: Json) -> Record:
        fields = CONTACT.read(contact, self.context())
        role = " at ".join(p for p in (fields["job_title"], fields["company_name"]) if p)
        return Record(
            vendor=self.name,
            profile=self.profile.name,
            kind="contact",
            id=(rid := record_id(self.label, contact.get("id"), "contact")),
            title=fields["name"] or fields["email"] or rid,
            subtitle=role,
            updated_at=parse_when(contact.get("modifiedDate")),
            fields=fields,
            raw=contact,
        )

    async def _records(self, kind: str, objects: list[Json]) -> list[Record]:
        if kind.startswith(LIST_PREFIX):
            schema = await self.schema(kind)
            return [self._item_record(schema, o) for o in objects]
        if kind == "company":
            resource = await self.accounts()
            return [self._account_record(o, resource) for o in objects]
        return [self._contact_record(o) for o in objects]

    # -- reads -------------------------------------------------------------------------

    def _path(self, kind: str) -> str:
        if kind.startswith(LIST_PREFIX):
            return f"lists/{path_id(kind.removeprefix(LIST_PREFIX))}/listitems"
        if kind == "company":
            return "accounts"
        if kind == "contact":
            return "contacts"
        raise NotFound(self.label, f"no kind {kind!r}")

    async def list_page(self, kind: str, query: Query) -> Page:
        cursor, seen = unmarked_cursor(query.cursor)
        start = int(cursor) if cursor and cursor.isdigit() else 0
        limit = max(1, min(MAX_LIMIT, query.per_page))
        params = list_params(kind, query)
        if query.updated_since is not None:  # from the last modifiedDate read (``keyset``)
            mark = MODIFIED.read(cursor, str(epoch_ms(query.updated_since)))
            params["modifiedDate"] = mark.value()
            objects = await self._page(self._path(kind), mark.position, limit, params)
            following = mark.after(objects, len(objects) == limit)
            objects = mark.new(objects, following)
            next_cursor = following.cursor() if following else None
        else:
            objects = await self._page(self._path(kind), start, limit, params)
            after = str(start + len(objects)) if len(objects) == limit else None
            # the same page again (``_start`` ignored): the read ends here
            next_cursor = None if repeated(seen, objects) else marked_cursor(after, objects)
        records = await self._records(kind, objects)
        searched_server = any(k.startswith("properties.") for k in params)
        records = refine(records, query, search=not searched_server)
        return Page(records=records, next_cursor=next_cursor)

    async def get(self, kind: str, id: str) -> Record:
        if kind.startswith(LIST_PREFIX):
            return await self._get_item(kind, id)
        data = await self.session.json("GET", f"{self._path(kind)}/{path_id(id)}")
        record = (await self._records(kind, [data]))[0]
        if kind == "company":
            contacts = await self._contacts(record.fields["contacts"])
            record.related["Contacts"] = [related_ref(r) for r in contacts]
            record.related["Deals"] = await self._deals({"accountIds": id})
            metas = await self.account_fields()
            await self._name_contacts(record, [(account_key(m), m) for m in metas], contacts)
        else:
            record.related["Deals"] = await self._deals({"contactIds": id})
        return record

    async def _get_item(self, kind: str, id: str) -> Record:
        schema = await self.schema(kind)
        item = await self.session.json("GET", f"{self._path(kind)}/{path_id(id)}")
        record = self._item_record(schema, item)
        account_id = ref_id(item.get("accountId"))
        if account_id:
            account = await self.session.json("GET", f"accounts/{path_id(account_id)}")
            record.related["Account"] = [
                RelatedRef(
                    kind="company",
                    id=record_id(self.label, account["id"], "company"),
                    title=account.get("name") or "",
                )
            ]
            record.fields["company_name"] = account.get("name") or None
        contacts = await self._contacts(ref_ids(item.get("contactIds")))
        record.related["Contacts"] = [related_ref(r) for r in contacts]
        record.fields["contact_name"] = ", ".join(r.title for r in contacts) or None
        await self._name_contacts(
            record, [(schema.keys[m["id"]], m) for m in schema.fields], contacts
        )
        return record

    async def _name_contacts(
        self, record: Record, keyed: list[tuple[str, Json]], known: list[Record]
    ) -> None:
        """Fill ``<key>_name`` with the contacts' names for each Contact field of a record."""
        names = {r.id: r.title for r in known}
        for key, meta in keyed:
            if type_name(meta) != "contact":
                continue
            ids = held_ids(record.fields.get(key))
            missing = [i for i in ids if i not in names]
            if missing:
                names |= {r.id: r.title for r in await self._contacts(missing)}
            record.fields[f"{key}_name"] = ", ".join(names.get(i, i) for i in ids) or None

    async def _contacts(self, ids: list[str]) -> list[Record]:
        out: list[Record] = []
        for i in range(0, len(ids), MAX_LIMIT):
            chunk = ids[i : i + MAX_LIMIT]
            objects = await self._page("contacts", 0, MAX_LIMIT, {"_ids": ",".join(chunk)})
            out.extend(self._contact_record(o) for o in objects)
        return out

    async def _items_by(self, params: Json) -> list[tuple[ListSchema, Json]]:
        out = []
        for schema in (await self.lists()).values():
            for item in await self._collect(f"lists/{path_id(schema.id)}/listitems", params):
                out.append((schema, item))
        return out

    async def _deals(self, params: Json) -> list[RelatedRef]:
        return [
            RelatedRef(
                kind=schema.kind, id=item["id"], title=f"{item.get('name')} ({schema.title})"
            )
            for schema, item in await self._items_by(params)
        ]

    async def timeline(self, kind: str, id: str) -> list[Activity]:
        if kind.startswith(LIST_PREFIX):
            schema = await self.schema(kind)
            item = await self.session.json("GET", f"{self._path(kind)}/{path_id(id)}")
            pairs = [(schema, item)]
            contact_ids = ref_ids(item.get("contactIds"))
            own: list[Activity] = []
        elif kind == "company":
            pairs = await self._items_by({"accountIds": id})
            account = await self.session.json("GET", f"accounts/{path_id(id)}")
            contact_ids = raw_values((account.get("fieldValues") or {}).get("person_ids"))
            own = [modified_activity(account, "Account", account.get("name") or "")]
        else:
            pairs = await self._items_by({"contactIds": id})
            contact = await self.session.json("GET", f"contacts/{path_id(id)}")
            contact_ids = [id]
            own = [modified_activity(contact, "Contact", property_value(contact, "name") or "")]
        logged = [a for cid in contact_ids for a in self.state.logged.get(cid, [])]
        return merged(own, pairs, logged)

    # -- writes ------------------------------------------------------------------------

    async def update(self, change: Change) -> Record:
        kind, id = change.ref.kind, change.ref.id
        if kind.startswith(LIST_PREFIX):
            schema = await self.schema(kind)
            body = self._item_body(schema, change.values)
            item = await self.session.json("PUT", f"{self._path(kind)}/{path_id(id)}", json=body)
            return self._item_record(schema, item)
        if kind == "company":
            await self._put_account(id, change.values)
        elif kind == "contact":
            await self._put_contact(id, change.values)
        else:
            raise NotFound(self.label, f"no kind {kind!r}")
        return await self.get(kind, id)

    def update_requests(self, records: Sequence[Record], keys: Sequence[str] = ()) -> int:
        """Per list item: its read (the item, its account, its contacts, the contacts its
        Contact fields name that are not among them), then the PUT, whose reply is the
        item. An account or a contact is read (with its contacts and its items in every
        list), written (a contact, or an account whose name is not set, read first: the
        PUT needs them whole) and read back."""
        lists = len(self.state.lists)
        metas = self.lookups.get("accounts/fields") or []
        total = 0
        for record in records:
            fields = record.fields
            schema = self.state.lists.get(record.kind.removeprefix(LIST_PREFIX))
            if record.kind.startswith(LIST_PREFIX) and schema is not None:
                contacts = [str(i) for i in fields.get("contacts") or []] or [
                    i for i in str(fields.get("contact") or "").split(", ") if i
                ]
                keyed = [(schema.keys[m["id"]], m) for m in schema.fields]
                read = 1 + (fields.get("company") not in (None, ""))
                total += read + _chunks(contacts, fields, keyed) + 1
            elif record.kind == "company":
                contacts = [str(i) for i in fields.get("contacts") or []]
                keyed = [(account_key(m), m) for m in metas]
                read = 1 + _chunks(contacts, fields, keyed) + lists
                total += read + ("name" not in keys) + 1 + read
            elif record.kind == "contact":
                total += (1 + lists) + 2 + (1 + lists)
            else:
                total += 2
        return total

    def _item_body(self, schema: ListSchema, values: Json) -> Json:
        body: Json = {}
        field_values: Json = {}  # {"fieldValues": ...}, sent after the item's own keys
        for key, value in values.items():
            # the item's account (contact) is written only in an account (contact) list,
            # as its specs say: another list's refuses it, never sends it
            tied = {"company": "account", "contact": "contact"}.get(key)
            if tied is not None and schema.list_type != tied:
                raise Rejected(self.label, f"{schema.title}: {key!r} cannot be changed")
            if key == "name":
                body["name"] = value or ""
            elif key == "company":
                body["accountId"] = value
            elif key == "contact":
                body["contactIds"] = [value] if value else []
            elif key == "contacts":
                body["contactIds"] = list(value or [])
            else:
                f = schema.resource.field(key)
                if f is None or not f.writable:
                    raise Rejected(self.label, f"{schema.title}: {key!r} cannot be changed")
                f.write(field_values, value, Text(), self.context())
        if field_values:
            body |= field_values
        return body

    async def _account_body(self, values: Json) -> Json:
        """An account's ``fieldValues`` for ``values`` (its name is sent apart)."""
        resource = await self.accounts()
        body: Json = {}
        for key, value in values.items():
            if key == "name":
                continue
            f = CONTACTS_OF_ACCOUNT if key == "contacts" else resource.field(key)
            if f is None or not f.writable:
                raise Rejected(self.label, f"Accounts: {key!r} cannot be changed")
            f.write(body, value, Text(), self.context())
        return dict(body.get("fieldValues") or {})

    async def _put_account(self, id: str, values: Json) -> None:
        name = values.get("name")
        if not name:  # the API wants the name on every update
            current = await self.session.json("GET", f"accounts/{path_id(id)}")
            name = current.get("name")
        body = {"id": id, "name": name, "fieldValues": await self._account_body(values)}
        await self.session.json("PUT", f"accounts/{path_id(id)}", json=body)

    async def _put_contact(self, id: str, values: Json) -> None:
        current = await self.session.json("GET", f"contacts/{path_id(id)}")
        body = {"id": id, "properties": contact_properties(current, values)}
        await self.session.json("PUT", f"contacts/{path_id(id)}", json=body)

    async def create(self, kind: str, values: dict[str, Any], idempotency_key: str) -> Record:
        if idempotency_key in self.state.created:
            return self.state.created[idempotency_key]
        if kind in ("company", "contact") and (earlier := await self._earlier_result(kind, values)):
            self.state.created[idempotency_key] = earlier
            return earlier
        if kind.startswith(LIST_PREFIX):
            record = await self._create_item(kind, values)
        elif kind == "company":
            body = {"name": values.get("name"), "fieldValues": await self._account_body(values)}
            created = await self.session.json("POST", "accounts", json=body)
            record = await self.get("company", created["id"])
        elif kind == "contact":
            props = contact_properties({}, values)
            params = {"_upsert": "email"} if props.get("email") else None
            created = await self.session.json(
                "POST", "contacts", params=params, json={"properties": props}
            )
            record = self._contact_record(created)
        else:
            raise NotFound(self.label, f"no kind {kind!r}")
        self.state.created[idempotency_key] = record
        return record

    async def find_created(
        self, kind: str, values: dict[str, Any], idempotency_key: str
    ) -> Record | None:
        """The record kept under the idempotency key, else (company, contact) the first
        recently modified one holding every value. Not the base's ``lookalikes``: that
        reads every candidate in full, here up to 600 recent records are compared as
        listed and only the match is read in full."""
        if idempotency_key in self.state.created:
            return self.state.created[idempotency_key]
        if kind.startswith(LIST_PREFIX):
            return None  # list items are posted with ``_upsert``: a second post updates
        if kind in ("company", "contact"):
            return await self._earlier_result(kind, values)
        raise CannotTell(self.label, f"a {kind} made earlier cannot be looked up")

    async def is_deleted(self, ref: RecordRef) -> bool:
        """A deleted contact is archived: ``GET /contacts/{id}`` still answers [doc]."""
        if ref.kind != "contact":
            return await super().is_deleted(ref)
        try:
            record = await self.get(ref.kind, ref.id)
        except NotFound:
            return True
        return record.fields.get("state") == "ARCHIVED"

    async def _earlier_result(self, kind: str, values: Json) -> Record | None:
        """A record this create already made (its reply lost): modified in the last
        minutes and holding every value. List items need none (they upsert)."""
        since = datetime.now(UTC) - REPLAY_WINDOW
        query = Query(updated_since=since, per_page=200)
        for _ in range(3):  # at most 600 recently modified records
            page = await self.list_page(kind, query)
            for record in page.records:
                if holds(record, values):
                    return await self.get(kind, record.id)
            if not page.next_cursor:
                return None
            query = query.model_copy(update={"cursor": page.next_cursor})
        return None

    async def _create_item(self, kind: str, values: Json) -> Record:
        schema = await self.schema(kind)
        body = self._item_body(schema, values)
        upsert = "accountId" if schema.list_type == "account" else "contactIds"
        if not body.get(upsert):
            needed = "an account" if upsert == "accountId" else "a contact"
            raise Rejected(self.label, f"A {schema.title} item needs {needed}")
        item = await self.session.json(
            "POST", self._path(kind), params={"_upsert": upsert}, json=body
        )
        return self._item_record(schema, item)

    async def delete(self, ref: RecordRef) -> None:
        await self.session.json("DELETE", f"{self._path(ref.kind)}/{path_id(ref.id)}")

    async def add_note(self, ref: RecordRef, text: str) -> Activity:
        """Log an event (``PUT /events``) with the record's contacts as participants."""
        return await self.log_event(ref, text, ActivityType.NOTE)

    async def log_activity(self, ref: RecordRef, logged: Logged) -> Activity:
        return await log_call(self, ref, logged)

    async def log_event(self, ref: RecordRef, text: str, type: ActivityType) -> Activity:
        """``PUT /events`` of ``text`` (its first line the subject) with ``ref``'s contacts
        as participants; kept as a timeline entry of ``type`` (a note, a call...)."""
        contact_ids = await self._contact_ids_of(ref)
        contacts = await self._contacts(contact_ids)
        event = event_of(text, contacts)
        if event is None:
            raise Rejected(self.label, "This record has no contact with an email or a phone")
        response = await self.session.request("PUT", "events", json=event, expect_json=False)
        if response.content.strip():
            # The doc answers PUT /events with "204 NO CONTENT" and nothing else. A success
            # that carries a body is not that answer (a proxy's page, a reply cut short):
            # whether the event was logged is unknown, so the outbox lets the user decide
            # (events cannot be read back) instead of taking it as done.
            raise BadResponse(
                self.label,
                f"PUT /events was answered with HTTP {response.status_code} and a body, "
                "not the documented 204 No Content",
                maybe_applied=True,
            )
        activity = logged_activity(event, contacts).model_copy(update={"type": type})
        for contact_id in contact_ids:
            self.state.logged.setdefault(contact_id, []).append(activity)
        return activity

    async def _contact_ids_of(self, ref: RecordRef) -> list[str]:
        if ref.kind == "contact":
            return [ref.id]
        if ref.kind == "company":
            account = await self.session.json("GET", f"accounts/{path_id(ref.id)}")
            return raw_values((account.get("fieldValues") or {}).get("person_ids"))
        item = await self.session.json("GET", f"{self._path(ref.kind)}/{path_id(ref.id)}")
        return list(item.get("contactIds") or [])


def related_ref(record: Record) -> RelatedRef:
    return RelatedRef(kind=record.kind, id=record.id, title=record.title)


def _chunks(contacts: list[str], fields: Json, keyed: list[tuple[str, Json]]) -> int:
    """Reads of contacts a record's read makes: its own, a page per ``MAX_LIMIT``, then
    for each Contact field those it names that are not among them (``_name_contacts``)."""
    known = set(contacts)
    reads = -(-len(contacts) // MAX_LIMIT)
    for key, meta in keyed:
        if type_name(meta) != "contact":
            continue
        ids = held_ids(fields.get(key))
        missing = [i for i in ids if i not in known]
        known.update(missing)
        reads += -(-len(missing) // MAX_LIMIT)
    return reads
