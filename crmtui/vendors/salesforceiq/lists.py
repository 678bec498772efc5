"""SalesforceIQ's Lists, read at run time: a list's field metadata (``dataType``,
``listOptions``, ``isMultiSelect``, ``isEditable``...) gives its kind's keys, types,
columns and roles; values travel as ``[{"raw": ...}]``. Accounts' fields (``GET
/accounts/fields``) use the same metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from crmtui.fields import iso, money, parse_date, parse_datetime
from crmtui.http import Rejected
from crmtui.model import Choice, FieldSpec, FieldType, Kind, KindInfo, Role
from crmtui.vendors.mapping import Codec, Context, Field, Resource, number, path_id
from crmtui.vendors.salesforceiq.resources import LIST_PREFIX, NO_TIMELINE, account_key

Json = dict[str, Any]
NEUTRAL_ORDER = ("stage", "amount", "expected_close", "owner")


def type_name(meta: Json) -> str:
    return str(meta.get("dataType", "")).lower()


def raw_values(entries: Any) -> list[str]:
    return [str(e.get("raw", "")) for e in entries or [] if str(e.get("raw", "")) != ""]


def held_ids(value: Any) -> list[str]:
    """The ids a Contact (or User) field's value holds: a list of them (several), or one
    id; older caches joined several with ", "."""
    if isinstance(value, list):
        return [str(v) for v in value if str(v)]
    return [i for i in str(value or "").split(", ") if i]


def epoch_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def parse_when(value: Any) -> datetime | None:
    return parse_datetime(value) if value else None


def neutral_keys(fields: list[Json]) -> dict[str, str]:
    """Field id -> neutral key for the columns that map to a deal's neutral fields."""

    def find(named: tuple[str, ...], data_type: str, fallback: str) -> str | None:
        for meta in fields:
            single = data_type != "list" or not meta["isMultiSelect"]
            if meta["name"].lower() in named and type_name(meta) == data_type and single:
                found: str = meta["id"]
                return found
        return next(
            (m["id"] for m in fields if m["id"] == fallback and type_name(m) == data_type), None
        )

    found = {
        "stage": find(("status", "stage"), "list", "0"),
        "amount": find(("revenue", "amount", "value", "deal value"), "numeric", "3"),
        "expected_close": find(("close date",), "datetime", "process_close_date"),
        "owner": find(("owner",), "user", "1"),
    }
    return {fid: key for key, fid in found.items() if fid is not None}


def list_roles(schema: ListSchema) -> dict[Role, str]:
    """A list's roles: its fixed fields, and the neutral columns the list has."""
    present = set(schema.keys.values())
    found = ((Role.STAGE, "stage"), (Role.AMOUNT, "amount"), (Role.OWNER, "owner"))
    return {
        Role.TITLE: "name",
        Role.STATUS: "status",
        Role.PIPELINE: "pipeline",
        **{role: key for role, key in found if key in present},
    }


def _outcome(label: str | None) -> str | None:
    status = status_of(label)
    return None if status == "open" else status


def status_of(label: str | None) -> str:
    lowered = (label or "").lower()
    if "won" in lowered:
        return "won"
    if "lost" in lowered:
        return "lost"
    return "open"


@dataclass(frozen=True, kw_only=True, eq=False)
class MetaField(Field):
    """A field SalesforceIQ describes at run time by its metadata (a list's column, an
    account field): read from and written to ``fieldValues.<id>`` as ``[{"raw": ...}]``
    (see ``read_value``/``write_value``); its spec's type and choices come from the
    metadata (``group``: the board the choices belong to)."""

    meta: Json
    group: str | None = None

    def read(self, item: Any, codec: Codec, ctx: Context) -> Any:
        return read_value(self.meta, self.key, (item.get("fieldValues") or {}).get(self.meta["id"]))

    def write(self, body: Json, value: Any, codec: Codec, ctx: Context) -> None:
        body.setdefault("fieldValues", {})[self.meta["id"]] = write_value(self.meta, value)

    def spec(
        self,
        *,
        label: str | None = None,
        required: bool | None = None,
        choices: Any = None,
    ) -> FieldSpec:
        """The spec; ``choices``: the users, for a User field (one user or several)."""
        options = [
            Choice(
                value=o["id"],
                label=o["display"],
                group=self.group,
                # a status whose name says won or lost closes the item so (``status_of``)
                outcome=_outcome(o["display"]) if self.group else None,
            )
            for o in self.meta.get("listOptions") or []
        ]
        return FieldSpec(
            key=self.key,
            label=label or self.label,
            type=self.type,
            writable=self.writable,
            custom=self.key.startswith("f_"),
            choices=list(choices or []) if type_name(self.meta) == "user" else options,
            users=type_name(self.meta) == "user" and bool(self.meta.get("isMultiSelect")),
        )


def meta_field(meta: Json, key: str, writable: bool, group: str | None = None) -> MetaField:
    """The field a metadata entry describes, under ``key``."""
    return MetaField(
        key=key,
        path=f"fieldValues.{meta['id']}",
        label=meta["name"],
        type=field_type(meta, key),
        writable=writable,
        meta=meta,
        group=group,
        # a Contact field holds contact ids: a reference, shown by the contact's name
        refers_to=Kind.CONTACT if type_name(meta) == "contact" else None,
    )


def metadata_resource(kind: str, path: str, fields: list[MetaField]) -> Resource:
    """A kind whose fields SalesforceIQ describes at run time."""
    return Resource(kind=kind, path=path, fields=tuple(fields))


@dataclass
class ListSchema:
    """One List: its metadata, the field keys its columns get and the resource (the
    list's fields, declared from the metadata) its items are read and written with."""

    id: str
    title: str
    list_type: str
    fields: list[Json]
    keys: dict[str, str] = field(default_factory=dict)  # field id -> key

    @classmethod
    def from_json(cls, data: Json) -> ListSchema:
        fields = list(data.get("fields") or [])
        neutral = neutral_keys(fields)
        keys = {m["id"]: neutral.get(m["id"], f"f_{m['id']}") for m in fields}
        return cls(
            data["id"], data.get("title") or data["id"], data.get("listType", ""), fields, keys
        )

    @cached_property
    def resource(self) -> Resource:
        """The list's items as a resource: one ``MetaField`` per column, in list order."""
        fields = []
        for meta in self.fields:
            key = self.keys[meta["id"]]
            group = self.title if key == "stage" else None  # a board's columns, per list
            fields.append(meta_field(meta, key, is_writable(meta), group))
        return metadata_resource(self.kind, f"lists/{path_id(self.id)}/listitems", fields)

    @property
    def kind(self) -> str:
        return LIST_PREFIX + self.id

    def field(self, meta: Json) -> MetaField:
        """The list's field of a metadata entry."""
        return next(f for f in self.fields_of() if f.meta is meta)

    def fields_of(self) -> list[MetaField]:
        return [f for f in self.resource.fields if isinstance(f, MetaField)]

    def meta(self, key: str) -> Json | None:
        return next((m for m in self.fields if self.keys[m["id"]] == key), None)

    def ordered(self) -> list[Json]:
        """Field metadata with the neutral columns first (stage first)."""
        rank = {key: i for i, key in enumerate(NEUTRAL_ORDER)}
        return sorted(self.fields, key=lambda m: rank.get(self.keys[m["id"]], len(rank)))

    def stage_label(self, option: str | None) -> str | None:
        meta = self.meta("stage")
        options = {o["id"]: o["display"] for o in (meta or {}).get("listOptions", [])}
        return options.get(option or "")


def singular_of(title: str) -> str:
    if title.endswith("ies"):
        return title[:-3] + "y"
    return title[:-1] if title.endswith("s") and not title.endswith("ss") else title


def read_value(meta: Json, key: str, entries: Any) -> Any:
    """A field's ``[{"raw": ...}]`` as the neutral value for its key and data type."""
    raws = raw_values(entries)
    kind = type_name(meta)
    if kind == "list" or (kind in ("contact", "user") and meta.get("isMultiSelect")):
        # several options, contacts (an account's) or users (its collaborators): a list
        return raws if meta.get("isMultiSelect") else (raws[0] if raws else None)
    if not raws:
        return None
    first = raws[0]
    if kind == "numeric":
        if key == "amount":
            return money(first)
        return number(first)  # text that is no number ("None") reads as empty
    if kind == "datetime":
        moment = parse_datetime(first)
        return (
            (moment.date().isoformat() if key == "expected_close" else iso(moment))
            if moment
            else None
        )
    if kind == "date":
        day = parse_date(first)
        return day.isoformat() if day else None
    return ", ".join(raws) if len(raws) > 1 else first


def write_value(meta: Json, value: Any) -> list[dict[str, str]]:
    """A neutral value as the ``[{"raw": ...}]`` SalesforceIQ takes ([] clears).

    DateTime fields take epoch milliseconds (an ISO date alone means midnight UTC).
    """
    if value is None or value == "" or value == []:
        return []
    kind = type_name(meta)
    values = value if isinstance(value, list) else [value]
    if kind in ("datetime", "date"):
        moments = [parse_datetime(v) for v in values]
        if None in moments:
            raise Rejected("SalesforceIQ", f"{meta['name']}: {value!r} is not a date")
        values = [
            str(epoch_ms(m)) if kind == "datetime" else m.date().isoformat()
            for m in moments
            if m is not None
        ]
    return [{"raw": str(v)} for v in values]


def field_type(meta: Json, key: str) -> FieldType:
    kind = type_name(meta)
    if kind == "list":
        return FieldType.MULTI_CHOICE if meta.get("isMultiSelect") else FieldType.CHOICE
    if kind in ("contact", "user") and meta.get("isMultiSelect"):
        return FieldType.MULTI_CHOICE  # several contacts (ids, a reference) or users
    if kind == "numeric":
        return FieldType.MONEY if key == "amount" else FieldType.NUMBER
    if kind == "datetime":
        return FieldType.DATE if key == "expected_close" else FieldType.DATETIME
    return {"date": FieldType.DATE, "user": FieldType.USER}.get(kind, FieldType.TEXT)


def is_column(schema: ListSchema, meta: Json) -> bool:
    """Whether a list field earns a column: the neutral ones and the team's own editable
    fields (not system dates, computed counts, linked values, contact ids or files)."""
    key = schema.keys[meta["id"]]
    if key in NEUTRAL_ORDER:
        return True
    return key.startswith("f_") and is_writable(meta) and type_name(meta) != "contact"


def is_writable(meta: Json) -> bool:
    """What crmtui lets the user edit: editable, not linked, not a file upload."""
    linked = bool(meta.get("isLinkedField"))
    return bool(meta.get("isEditable")) and not linked and type_name(meta) != "file"


def stage_of(schema: ListSchema, item: Json) -> str | None:
    meta = schema.meta("stage")
    if meta is None:
        return None
    raws = raw_values((item.get("fieldValues") or {}).get(meta["id"]))
    return schema.stage_label(raws[0]) if raws else None


def list_kind_info(schema: ListSchema) -> KindInfo:
    """A list's tab: its neutral columns first, then the team's own editable fields."""
    keys = [schema.keys[m["id"]] for m in schema.ordered() if is_column(schema, m)]
    return KindInfo(
        kind=schema.kind,
        label=schema.title,
        singular=singular_of(schema.title),
        columns=["title", *keys],
        sortable=["title", "updated_at", *keys],
        editable=True,
        creatable=True,
        deletable=True,
        has_timeline=False,
        timeline_note=NO_TIMELINE,
        views={"open": "Open", "won": "Won", "lost": "Lost"},
        roles=list_roles(schema),
        # a board of the list's statuses (a pipeline list's stages); won and lost are
        # the statuses so named; no lost reason is documented
        board_field="stage" if schema.meta("stage") is not None else None,
        references={
            "company": "company",
            # a contact list's item: its contact; an account list's: its points of
            # contact (several)
            **({"contact": "contact"} if schema.list_type == "contact" else {}),
            **({"contacts": "contact"} if schema.list_type != "contact" else {}),
            **schema.resource.references(),  # its Contact fields (``meta_field``)
        },
    )


def accounts_resource(metas: list[Json]) -> Resource:
    """Accounts as a resource: a field per account field's metadata (editable when the
    metadata says so)."""
    fields = [meta_field(m, account_key(m), bool(m.get("isEditable"))) for m in metas]
    return metadata_resource("company", "accounts", fields)


# An account's contacts: written as the Contact field ``person_ids`` (read as ids), several
# of them (``isMultiSelect``): a reference to contacts holding a list of ids.
CONTACTS_OF_ACCOUNT = meta_field(
    {"id": "person_ids", "name": "Contacts", "dataType": "Contact", "isMultiSelect": True},
    "contacts",
    True,
)
# A list item's Points of Contact (``contactIds``: several contacts, a subset of its
# account's, which the vendor adds a new one to), read and written by the adapter.
POINTS_OF_CONTACT = "Points of contact"
