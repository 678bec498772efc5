"""A vendor's records, declared: resources, fields and codecs, and what is derived from them.

A vendor adapter declares each kind once, as a ``Resource`` (its API paths, its paging
style and its ``Field`` s); from that declaration come the kind's ``FieldSpec`` s
(``Resource.specs``), the reader (vendor JSON -> ``Record.fields``, ``Resource.read``)
and the writer (neutral values -> request body, ``Resource.write``). A field is its
neutral key, the vendor's (dotted) path, its type, whether it may be written, its codec
(vendor value <-> neutral value), where its choices come from, and, for a reference, the
kind it points at.

What stays hand-written per vendor is what is truly that vendor's: how its lookups
(stages, currencies, owners...) are loaded, titles and related records, timelines, and
paging quirks. A field whose value needs more than one vendor attribute subclasses
``Field`` (overriding ``read``/``write``).

Nothing here does I/O: ``fetch_all`` walks pages through a function the adapter gives.
"""

from __future__ import annotations

import json
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from crmtui.fields import (
    cents_to_money,
    iso,
    money,
    money_to_cents,
    parse_date,
    parse_datetime,
    strftime,
)
from crmtui.http import BadResponse, CrmError, Rejected
from crmtui.model import Choice, FieldSpec, FieldType, KindInfo, Role

Json = dict[str, Any]
T = TypeVar("T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
log = logging.getLogger(__name__)


# -- paths -------------------------------------------------------------------------------------


def dig(item: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` ("company.name") of vendor JSON, None when absent."""
    value: Any = item
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def put(body: Json, path: str, value: Any) -> None:
    """Set the value at a dotted ``path`` of a request body, making the nested objects."""
    *parents, last = path.split(".")
    for part in parents:
        nested = body.get(part)
        if not isinstance(nested, dict):
            nested = body[part] = {}
        body = nested
    body[last] = value


# -- ids ---------------------------------------------------------------------------------------

# What a record id may be once it is text. Every documented id is digits, hex or a UUID;
# an id is also put into request paths (``contacts/<id>``), so text that would change a
# path (``/``, ``?``, ``#``, ``%``, ``\\``, a ``.`` or ``..`` segment, which httpx
# resolves: ``contacts/..`` is the API root), blanks, control characters or an empty or
# overlong id is refused rather than stored (decision: no vendor documents such ids).
_GOOD_ID = re.compile(r"[^\s/?#%\\\x00-\x1f\x7f]{1,200}")
# An integer id fits in 64 bits (every vendor's ids do); a 300-digit number is not an id.
_ID_BITS = 64
_SHOWN_ID = 40  # an id this long (as JSON) is quoted in the error; a longer one is not


def record_id(vendor: str, value: Any, what: str = "record") -> str:
    """A vendor's id for a record (or activity, or a record it refers to) as text: the
    one way adapters read ids.

    Only a string or an integer is an id: ``null``, an object, a list, a float, a
    boolean, an integer beyond 64 bits or text that would move a request path (``.``,
    ``..``, ``a/b``) is refused with ``BadResponse`` naming the vendor, so no record
    "None" or "{'a': 1}" is ever stored. The error quotes a short refused id whole (the
    service redacts it: it may echo a secret) and never a cut piece of a long one, which
    the redactor could not recognise.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() <= _ID_BITS:
            return str(value)
    elif isinstance(value, str) and _GOOD_ID.fullmatch(value) and value not in (".", ".."):
        return value
    raise BadResponse(
        vendor,
        f"the reply held a {what} with {_described(value)}, which is not a usable id; "
        "it was not stored",
        hint="This looks like a fault on the vendor's side; report it to the vendor.",
    )


def path_id(id: str) -> str:
    """``id`` as one segment of a request path: quoted, so no id moves the path (``/``,
    ``?``, ``#`` and ``%`` escaped, ``.`` and ``..`` written ``%2E``). Ids read by
    ``record_id`` are unchanged by it; this is for one that did not come that way."""
    quoted = quote(str(id), safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


def _described(value: Any) -> str:
    if value is None:
        return "no id"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"an id that is a {value.bit_length()}-bit number"
    text = json_text(value)
    if len(text) <= _SHOWN_ID:
        return f"the id {text}"
    kinds: dict[type, str] = {dict: "an object", list: "a list", str: "text"}
    kind = kinds.get(type(value), type(value).__name__)
    return f"an id that is {kind} of {len(text)} characters (not shown)"


def json_text(value: Any) -> str:
    """``value`` as JSON text (for messages), whatever it is."""
    try:
        return json.dumps(value, default=repr)
    except ValueError:  # NaN, circular...
        return repr(value)


# -- codecs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What a codec may need besides the value: the vendor's name (for errors) and the
    lookup tables the adapter loaded (table name -> vendor value -> neutral value)."""

    vendor: str
    tables: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


class Codec(ABC):
    """A vendor value <-> the neutral value (see ``crmtui.model`` for the neutral forms).

    ``read`` receives None when the vendor sent nothing; ``write`` receives what the user
    set (None or "" to empty the field).
    """

    @abstractmethod
    def read(self, raw: Any, ctx: Context) -> Any: ...

    @abstractmethod
    def write(self, value: Any, ctx: Context) -> Any: ...


def number(value: Any) -> int | float | None:
    """A finite number as an int when whole, else a float; None for anything else."""
    if value is None or isinstance(value, bool):
        return None
    try:
        exact = Decimal(str(value))
    except (ArithmeticError, ValueError):
        return None
    if not exact.is_finite():
        return None
    return int(exact) if exact == exact.to_integral_value() else float(exact)


def vendor_id(value: Any) -> int | str:
    """An id as the vendor takes it: an integer when it is all digits, else the text."""
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() else text


class _Simple(Codec):
    """A codec whose empty value is None both ways."""

    def read(self, raw: Any, ctx: Context) -> Any:
        return None if raw is None else self.decode(raw, ctx)

    def write(self, value: Any, ctx: Context) -> Any:
        return None if value is None or value == "" else self.encode(value, ctx)

    @abstractmethod
    def decode(self, raw: Any, ctx: Context) -> Any: ...

    @abstractmethod
    def encode(self, value: Any, ctx: Context) -> Any: ...


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Via(Codec):
    """A codec of two plain functions, ``decode`` (vendor value -> neutral) and ``encode``
    (neutral -> vendor value); each passes the value through as it is by default, so
    ``Via()`` reads what the vendor sent and sends what the user gave (``""`` included,
    where ``Text`` sends None). ``Via(bool)`` reads a flag, absent as False."""

    decode: Callable[[Any], Any] = _same
    encode: Callable[[Any], Any] = _same

    def read(self, raw: Any, ctx: Context) -> Any:
        return self.decode(raw)

    def write(self, value: Any, ctx: Context) -> Any:
        return self.encode(value)


class Text(_Simple):
    def decode(self, raw: Any, ctx: Context) -> Any:
        return raw if isinstance(raw, str) else str(raw)

    def encode(self, value: Any, ctx: Context) -> Any:
        return value


class Number(_Simple):
    """Numbers both ways (``12``, ``12.5``); text that is no number reads as None."""

    def decode(self, raw: Any, ctx: Context) -> Any:
        return number(raw)

    def encode(self, value: Any, ctx: Context) -> Any:
        return number(value)


class MoneyNumber(_Simple):
    """An amount the vendor holds as a JSON number (or decimal text): read as exact
    Decimal text ("1250.00"), written as a number."""

    def decode(self, raw: Any, ctx: Context) -> Any:
        return money(raw)

    def encode(self, value: Any, ctx: Context) -> Any:
        amount = money(value)
        return None if amount is None else number(Decimal(amount))


class DecimalText(_Simple):
    """An amount the vendor holds as decimal text ("1250.00") both ways, never a float."""

    def decode(self, raw: Any, ctx: Context) -> Any:
        return money(raw)

    def encode(self, value: Any, ctx: Context) -> Any:
        return money(value)


class Cents(_Simple):
    """An amount in hundredths (``125000``) <-> "1250.00". Writing an amount with a
    fraction of a cent raises ``FieldError`` (integer cents cannot hold it)."""

    def decode(self, raw: Any, ctx: Context) -> Any:
        return cents_to_money(raw)

    def encode(self, value: Any, ctx: Context) -> Any:
        return money_to_cents(value)


class IsoDate(_Simple):
    def decode(self, raw: Any, ctx: Context) -> Any:
        day = parse_date(raw)
        return day.isoformat() if day else None

    def encode(self, value: Any, ctx: Context) -> Any:
        day = parse_date(value)
        return day.isoformat() if day else None


@dataclass(frozen=True)
class IsoDatetime(_Simple):
    """ISO 8601 text; written in UTC with ``fmt`` (default ``2026-12-01T09:30:00Z``)."""

    fmt: str = "%Y-%m-%dT%H:%M:%SZ"

    def decode(self, raw: Any, ctx: Context) -> Any:
        return iso(parse_datetime(raw))

    def encode(self, value: Any, ctx: Context) -> Any:
        moment = parse_datetime(value)
        return strftime(moment.astimezone(UTC), self.fmt) if moment else None


@dataclass(frozen=True)
class Epoch(_Simple):
    """Seconds (or, with ``scale=1000``, milliseconds) since 1970 <-> ISO 8601 UTC text."""

    scale: int = 1

    def decode(self, raw: Any, ctx: Context) -> Any:
        count = number(raw)
        if count is None:
            return None
        return iso(parse_datetime(number(Decimal(str(count)) * 1000 / self.scale)))

    def encode(self, value: Any, ctx: Context) -> Any:
        moment = parse_datetime(value)
        if moment is None:
            return None
        millis = (moment - _EPOCH) // timedelta(milliseconds=1)
        return number(Decimal(millis) * self.scale / 1000)


_TRUE = frozenset({"true", "1", "yes", "y", "on", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "off", "f", ""})


def truth(raw: Any) -> bool | None:
    """A vendor's flag as a bool: a JSON boolean, 1/0, or the text "true"/"1"/"yes" and
    "false"/"0"/"no"/"" (any case); None (unknown) for anything else (2, "maybe", an
    object), never a guess: ``bool("false")`` is True."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        text = raw.strip().lower()
        return True if text in _TRUE else False if text in _FALSE else None
    return None


def flag(raw: Any) -> bool | None:
    """A flag whose absence means False (``truth`` otherwise): ``Via(flag)``."""
    return False if raw is None else truth(raw)


class Bool(Codec):
    """Booleans (``truth``: "false" is False, an odd value unknown); ``None`` reads as None."""

    def read(self, raw: Any, ctx: Context) -> Any:
        return truth(raw)

    def write(self, value: Any, ctx: Context) -> Any:
        return None if value is None or value == "" else truth(value)


class Bool01(Codec):
    """A flag the vendor keeps as 1/0 (or "1"/"0"): absent reads as False, written 1/0."""

    def read(self, raw: Any, ctx: Context) -> Any:
        return flag(raw)

    def write(self, value: Any, ctx: Context) -> Any:
        return 1 if truth(value) else 0


class Id(_Simple):
    """A reference or choice the vendor names by id: read as checked id text (``7``;
    ``{"a": 1}``, ``1.5`` or ``..`` is refused as ``record_id`` refuses it), written as
    an integer when it is all digits."""

    def decode(self, raw: Any, ctx: Context) -> Any:
        return record_id(ctx.vendor, raw, "reference to a record")

    def encode(self, value: Any, ctx: Context) -> Any:
        return vendor_id(value)


class TextId(Id):
    """An id the vendor takes back as text (``"7"``)."""

    def encode(self, value: Any, ctx: Context) -> Any:
        return str(value)


@dataclass(frozen=True)
class Multi(_Simple):
    """Several choices: a JSON list or text joined by ``sep`` <-> ``list[str]``; written
    as a list when ``sep`` is empty, else as joined text."""

    sep: str = ";"

    def decode(self, raw: Any, ctx: Context) -> Any:
        parts = raw if isinstance(raw, list) else str(raw).split(self.sep or ",")
        return [str(p).strip() for p in parts if str(p).strip()]

    def encode(self, value: Any, ctx: Context) -> Any:
        items = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        return self.sep.join(items) if self.sep else items


@dataclass(frozen=True)
class Mapped(_Simple):
    """A vendor value shown as another through a lookup table the adapter loads (a
    currency id -> its ISO code). The vendor's own value is read and written through
    ``via`` (a checked id by default). An unknown vendor value reads as itself (None
    when not ``keep_unknown``); writing a value the table lacks is refused (``Rejected``,
    "<vendor> has no <what> <value>") when ``strict``, else sent through ``via``."""

    table: str
    what: str = "value"
    strict: bool = True
    keep_unknown: bool = True
    via: Codec = field(default_factory=lambda: Id())

    def decode(self, raw: Any, ctx: Context) -> Any:
        own = self.via.read(raw, ctx)
        shown = ctx.tables.get(self.table, {}).get(str(own))
        return shown if shown is not None or not self.keep_unknown else str(own)

    def encode(self, value: Any, ctx: Context) -> Any:
        inverse = {shown: own for own, shown in ctx.tables.get(self.table, {}).items()}
        if str(value) in inverse:
            return self.via.write(inverse[str(value)], ctx)
        if self.strict:
            raise Rejected(ctx.vendor, f"{ctx.vendor} has no {self.what} {value}")
        return self.via.write(value, ctx)


#: The codec a field of each type uses unless it (or its resource) names another.
DEFAULT_CODECS: Mapping[FieldType, Codec] = {
    FieldType.TEXT: Text(),
    FieldType.NUMBER: Number(),
    FieldType.MONEY: MoneyNumber(),
    FieldType.DATE: IsoDate(),
    FieldType.DATETIME: IsoDatetime(),
    FieldType.BOOL: Bool(),
    FieldType.CHOICE: Text(),
    FieldType.MULTI_CHOICE: Multi(),
    FieldType.USER: Text(),
}


#: Every type read as the vendor sent it and sent as given (``Via()``), for a vendor that
#: takes its values back as it sends them: ``Resource(codecs=AS_SENT)``.
AS_SENT: Mapping[FieldType, Codec] = MappingProxyType({kind: Via() for kind in FieldType})


# -- fields ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Field:
    """One neutral field and the vendor attribute behind it.

    ``path``: the vendor's attribute, dotted for a nested object ("company.name"); by
    default the key itself. ``write_path``: where a write puts it when the vendor takes it
    under another name (``owner`` read, ``owner_id`` written); by default ``path``.
    ``reader``: the value made of several attributes (or of a lookup in ``Context``),
    ``reader(item, ctx)``, instead of the codec's read of ``path``.
    ``choices``: the name of a choice source the adapter resolves (``Vendor.choices``),
    or the fixed ``options``. ``refers_to``: the kind a reference field points at.
    ``omit_empty``: the reader leaves the key out when the vendor sent nothing.
    ``role``: what the field means to the app (``KindInfo.roles``, see ``Resource.roles``).
    ``offered``: False for a value that is read (and, when writable, sent: a create's link
    to another record) but not offered among the kind's specs.
    ``on_create``: not ``writable``, but the vendor takes it in a create (a task's record,
    a deal's contact): ``FieldSpec.on_create``, offered in the create form only.
    ``min``/``max``: the bounds of a number the vendor takes (``FieldSpec.min``/``max``).
    """

    key: str
    label: str
    path: str = ""  # "": the vendor's attribute is named like the key
    type: FieldType = FieldType.TEXT
    writable: bool = True
    codec: Codec | None = None  # None: the resource's codec for ``type``
    choices: str | None = None
    options: tuple[Choice, ...] = ()
    refers_to: str | None = None
    required: bool = False
    clearable: bool = True
    decimals: int | None = None
    max_length: int | None = None
    omit_empty: bool = False
    role: Role | None = None
    offered: bool = True
    on_create: bool = False
    min: float | None = None
    max: float | None = None
    write_path: str = ""
    reader: Callable[[Mapping[str, Any], Context], Any] | None = None

    @property
    def at(self) -> str:
        """The vendor's attribute (dotted path)."""
        return self.path or self.key

    @property
    def written_at(self) -> str:
        """The vendor's attribute a write sets (dotted path)."""
        return self.write_path or self.at

    def codec_in(self, codecs: Mapping[FieldType, Codec]) -> Codec:
        return self.codec or codecs.get(self.type) or DEFAULT_CODECS[self.type]

    def read(self, item: Mapping[str, Any], codec: Codec, ctx: Context) -> Any:
        """The neutral value of this field in the vendor's ``item``."""
        if self.reader is not None:
            return self.reader(item, ctx)
        return codec.read(dig(item, self.at), ctx)

    def write(self, body: Json, value: Any, codec: Codec, ctx: Context) -> None:
        """Put ``value`` (neutral) into the request ``body``."""
        put(body, self.written_at, codec.write(value, ctx))

    def spec(
        self,
        *,
        label: str | None = None,
        required: bool | None = None,
        choices: Iterable[Choice] | None = None,
    ) -> FieldSpec:
        """The ``FieldSpec``; ``label``/``required``/``choices`` as the vendor's schema
        says at run time (a renamed label, a field made required, the loaded stages)."""
        return FieldSpec(
            key=self.key,
            label=label or self.label,
            type=self.type,
            writable=self.writable,
            required=(self.required if required is None else required)
            and (self.writable or self.on_create),
            clearable=self.clearable,
            on_create=self.on_create and not self.writable,
            choices=list(self.options if choices is None else choices),
            decimals=self.decimals,
            max_length=self.max_length,
            min=self.min,
            max=self.max,
        )


# -- paging ------------------------------------------------------------------------------------


class Paging(ABC):
    """How a vendor's list pages: the query of one page and the cursor of the next.

    A cursor is opaque text (``Page.next_cursor``); None asks for the first page.
    """

    @abstractmethod
    def params(self, cursor: str | None, per_page: int) -> Json: ...

    @abstractmethod
    def next_cursor(self, cursor: str | None, per_page: int, count: int, body: Any) -> str | None:
        """The cursor after a page that held ``count`` items in ``body``; None at the end."""


def _int(value: Any) -> int | None:
    found = number(value)
    return None if found is None else int(found)


@dataclass(frozen=True)
class PageNumber(Paging):
    """``?page=N&per_page=M``; the end is told by ``total_pages`` or ``total`` (dotted
    paths in the body) when given, else by a short page."""

    page: str = "page"
    size: str = "per_page"
    total_pages: str | None = None
    total: str | None = None
    first: int = 1

    def params(self, cursor: str | None, per_page: int) -> Json:
        return {self.page: int(cursor or self.first), self.size: per_page}

    def next_cursor(self, cursor: str | None, per_page: int, count: int, body: Any) -> str | None:
        page = int(cursor or self.first)
        done = page - self.first + 1
        pages = _int(dig(body, self.total_pages)) if self.total_pages and body else None
        total = _int(dig(body, self.total)) if self.total and body else None
        if pages is not None:
            more = done < pages
        elif total is not None:
            more = done * per_page < total
        else:
            more = count >= per_page
        return str(page + 1) if more else None


@dataclass(frozen=True)
class Offset(Paging):
    """``?offset=N&limit=M``; the end by ``total`` (a dotted path) or a short page."""

    offset: str = "offset"
    limit: str = "limit"
    total: str | None = None

    def params(self, cursor: str | None, per_page: int) -> Json:
        return {self.offset: int(cursor or 0), self.limit: per_page}

    def next_cursor(self, cursor: str | None, per_page: int, count: int, body: Any) -> str | None:
        seen = int(cursor or 0) + count
        total = _int(dig(body, self.total)) if self.total and body else None
        more = seen < total if total is not None else count >= per_page
        return str(seen) if more and count else None


@dataclass(frozen=True)
class NextToken(Paging):
    """The vendor names the next page (a token or a page number at ``next`` in the body)."""

    next: str
    param: str = "cursor"
    size: str = "limit"

    def params(self, cursor: str | None, per_page: int) -> Json:
        return {self.size: per_page} | ({self.param: cursor} if cursor else {})

    def next_cursor(self, cursor: str | None, per_page: int, count: int, body: Any) -> str | None:
        token = dig(body, self.next) if body else None
        return None if token in (None, "") else str(token)


MAX_PAGES = 100


class PageBound:
    """The bound of a paging loop (``fetch_all``, a sync): after each page, ``ends(next
    cursor)`` says whether to stop there: at the last page (no cursor), at a cursor
    already seen (a vendor that loops: ``stop`` is "repeated") and after ``max_pages``
    pages (a collection that never ends: "capped"). ``start`` is the first page's cursor."""

    def __init__(self, max_pages: int = MAX_PAGES, start: str | None = None) -> None:
        self.max_pages = max_pages
        self.pages = 0
        self.seen: set[str | None] = {start}
        self.stop: Literal["", "repeated", "capped"] = ""

    def ends(self, cursor: str | None) -> bool:
        self.pages += 1
        if cursor is None:
            return True
        if cursor in self.seen:
            self.stop = "repeated"
        elif self.pages >= self.max_pages:
            self.stop = "capped"
        self.seen.add(cursor)
        return bool(self.stop)


async def fetch_all(
    page: Callable[[str | None], Awaitable[tuple[list[T], str | None]]],
    *,
    max_pages: int = MAX_PAGES,
) -> list[T]:
    """Every item of a collection: ``page(cursor)`` gives one page's items and the next
    cursor. Stops at the last page, at a cursor already seen (a vendor that loops) and
    after ``max_pages`` pages (a collection that never ends), keeping what was read
    (``PageBound``)."""
    items: list[T] = []
    cursor: str | None = None
    bound = PageBound(max_pages)
    while True:
        batch, cursor = await page(cursor)
        items.extend(batch)
        if bound.ends(cursor):
            return items


def marked_cursor(cursor: str | None, rows: list[Any], key: str = "id") -> str | None:
    """A list's next ``cursor`` carrying the id of the last record of the page read,
    ``rows`` (``"<cursor>~<id>"``), so that the next page can tell it came back the same
    (``repeated``): a vendor that ignores its paging parameter (``offset``,
    ``_start``) answers the first page again and again, while the cursor moves on."""
    if cursor is None:
        return None
    last = rows[-1].get(key) if rows and isinstance(rows[-1], Mapping) else None
    return f"{cursor}~{'' if last is None else last}"


def unmarked_cursor(cursor: str | None) -> tuple[str | None, str | None]:
    """(the paging cursor, the last id of the page before) of a ``marked_cursor``; a
    cursor without a mark (saved by an older version) has no last id."""
    if cursor is None or "~" not in cursor:
        return cursor, None
    inner, _, last = cursor.rpartition("~")
    return inner, last


def repeated(seen: str | None, rows: list[Any], key: str = "id") -> bool:
    """Whether a page ends on the record the page before ended on (``unmarked_cursor``):
    the vendor answered the same page again; the read ends there."""
    if seen is None or not rows or not isinstance(rows[-1], Mapping):
        return False
    return str(rows[-1].get(key)) == seen


def _ids(rows: list[Any], key: str) -> list[str]:
    return [str(r.get(key)) if isinstance(r, Mapping) else "" for r in rows]


@dataclass(frozen=True)
class Anchor:
    """Offset paging that skips no record when one is deleted while a list is read.

    Pages moving on by an offset (``offset``, ``start``) lose a record when one among
    those already read is deleted: every later one moves up a place and the first of the
    next page was on the page before. So the cursor is the next offset and the last id
    read, ``"<start>~<id>"`` (``marked_cursor``'s shape; a bare number, as older versions
    saved it, has no anchor): each page is asked from the row before (``window``), which
    must be that id; found elsewhere in the page, the read goes on after it (``kept``);
    not found, the page before is read once more to find it (``"<start>~<id>~back"``). A
    page ending on the anchor brought nothing new (a vendor that ignores its offset
    answers the same rows again): the read ends there (``next``)."""

    start: int = 0
    id: str | None = None
    back: bool = False

    @classmethod
    def read(cls, cursor: str | None) -> Anchor:
        head, _, rest = (cursor or "").partition("~")
        anchor, _, back = rest.partition("~")
        return cls(int(head) if head.isdigit() else 0, anchor or None, back == "back")

    def window(self, per_page: int, maximum: int | None = None) -> tuple[int, int]:
        """``(offset, rows)`` asked for a page of ``per_page``: past the first, from the
        row before it with one row more (at most ``maximum``, the vendor's largest page);
        looking back, the page before and that row."""
        if self.id is None or self.start == 0:
            return self.start, per_page
        rows = per_page + 1 if maximum is None else max(1, min(per_page + 1, maximum))
        if self.back:
            first = max(0, self.start - rows)
            return first, self.start - first
        return self.start - 1, rows

    def _lost(self, ids: list[str]) -> bool:
        return self.id is not None and self.start > 0 and self.id not in ids

    def kept(self, rows: list[T], key: str = "id") -> list[T]:
        """The rows of a page not read yet: those after the anchor (all when it is not
        in the page)."""
        ids = _ids(rows, key)
        return rows[ids.index(self.id) + 1 :] if self.id in ids else rows

    def next(
        self,
        rows: list[Any],
        more: bool,
        per_page: int,
        maximum: int | None = None,
        key: str = "id",
    ) -> str | None:
        """The cursor after a page of ``rows`` (all the vendor answered, ``window``);
        ``more``: whether the vendor has rows after it. None at the end."""
        ids = _ids(rows, key)
        if self._lost(ids) and not self.back:  # look back for the anchor before going on
            return f"{self.start}~{self.id}~back"
        if not more or not ids or (not self.back and self.id is not None and ids[-1] == self.id):
            return None
        end = self.window(per_page, maximum)[0] + len(ids)
        last = None if self._lost(ids) else ids[-1]  # the anchor gone: on by offset from here
        return f"{end}~{last}" if last else str(end)


# -- resources ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomFields:
    """Where a resource keeps its custom fields: an object at ``path`` of the record
    (key -> value), whose keys start with ``prefix`` (``cf_``); read and written as is."""

    path: str
    prefix: str = ""

    def owns(self, key: str) -> bool:
        return key.startswith(self.prefix)


@dataclass(frozen=True, kw_only=True)
class Resource:
    """One vendor resource behind one neutral kind.

    ``path``: the collection ("sales_accounts"); ``item_path``: one record, with ``{id}``
    (default ``<path>/{id}``); ``items``: where a page's records are in a list reply
    (default ``path``); ``wrapper``: the key the vendor wraps one record in, in
    replies and request bodies ("sales_account"), "" for none. A vendor with more to
    say about a resource subclasses it (a frozen dataclass, ``kw_only``).
    ``web``: the record's page in the vendor's web app, a template with ``{id}``
    relative to the account's web root (``Vendor.web_root``): ``"deals/{id}"``; "" when
    the web app has no page of its own for the kind (``Vendor.record_url`` is then None).
    """

    kind: str
    path: str
    fields: tuple[Field, ...]
    label: str = ""
    singular: str = ""
    item_path: str = ""
    wrapper: str = ""
    items: str = ""  # where a list reply holds the records (dotted); default: ``path``
    paging: Paging = field(default_factory=PageNumber)
    codecs: Mapping[FieldType, Codec] = field(default_factory=dict)
    custom: CustomFields | None = None
    web: str = ""
    # ``KindInfo.timeline_fields``: the fields whose changes the vendor's timeline records
    timeline_fields: tuple[str, ...] = ()
    # ``KindInfo.create_needs``: a create needs at least one field of each group
    create_needs: tuple[tuple[str, ...], ...] = ()

    def field(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.key == key), None)

    def roles(self) -> dict[Role, str]:
        """``KindInfo.roles`` as the fields declare them (role -> field key)."""
        return {f.role: f.key for f in self.fields if f.role is not None}

    def references(self) -> dict[str, str]:
        """``KindInfo.references``: field key -> the kind its id points at."""
        return {f.key: f.refers_to for f in self.fields if f.refers_to is not None}

    def item(self, id: str) -> str:
        return (self.item_path or f"{self.path}/{{id}}").format(id=path_id(id))

    def kind_info(self, **more: Any) -> KindInfo:
        """The kind's ``KindInfo`` as declared (kind, label, singular, the fields' roles
        and references); ``more`` gives the rest (columns, views, editable...)."""
        return KindInfo(
            kind=self.kind,
            label=self.label or self.kind,
            singular=self.singular or self.kind,
            roles=self.roles(),
            references=self.references(),
            timeline_fields=list(self.timeline_fields),
            create_needs=[list(group) for group in self.create_needs],
            **more,
        )

    def specs(
        self,
        choices: Mapping[str, Iterable[Choice]] | None = None,
        labels: Mapping[str, str] | None = None,
        required: Mapping[str, bool] | None = None,
    ) -> list[FieldSpec]:
        """The ``FieldSpec`` s of the fields ``offered``, in declared order;
        ``choices``/``labels``/``required`` by field key, as loaded from the vendor (see
        ``Field.spec``)."""
        choices, labels, required = choices or {}, labels or {}, required or {}
        return [
            f.spec(
                label=labels.get(f.key), required=required.get(f.key), choices=choices.get(f.key)
            )
            for f in self.fields
            if f.offered
        ]

    def read(self, item: Mapping[str, Any], ctx: Context) -> Json:
        """``Record.fields`` of one vendor record: every declared field, then the custom
        fields (as the vendor holds them).

        One odd value never fails the record (nor its page): a field whose value cannot
        be read (``float("None")``, a property without its value, text where a number
        belongs) reads as empty (None) and is noted in the log by key and error type
        (never the value). A refused id (``record_id``'s ``BadResponse``) still fails,
        as documented there: a wrong reference is never stored."""
        out: Json = {}
        for f in self.fields:
            try:
                value = f.read(item, f.codec_in(self.codecs), ctx)
            except CrmError:
                raise
            except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
                log.warning(
                    "%s: %s field %r unreadable (%s)",
                    ctx.vendor,
                    self.kind,
                    f.key,
                    type(exc).__name__,
                )
                value = None
            if value is not None or not f.omit_empty:
                out[f.key] = value
        if self.custom is not None:
            extra = dig(item, self.custom.path)
            if isinstance(extra, Mapping):
                out.update({str(k): v for k, v in extra.items()})
        return out

    def write(self, values: Mapping[str, Any], ctx: Context) -> Json:
        """The request body of ``values`` (neutral): only the keys given, each through its
        field's codec; a custom field as is. ``Rejected`` for a key that is unknown or not
        writable, naming the field."""
        body: Json = {}
        for key, value in values.items():
            f = self.field(key)
            if f is None:
                if self.custom is None or not self.custom.owns(key):
                    what = self.singular or self.kind
                    raise Rejected(ctx.vendor, f"{what} has no field {key!r}")
                put(body, f"{self.custom.path}.{key}", value)
                continue
            if not f.writable or not f.spec().writable:  # a field offered read-only too
                raise Rejected(ctx.vendor, f"{f.label} cannot be changed in {ctx.vendor}")
            f.write(body, value, f.codec_in(self.codecs), ctx)
        return body

    def wrap(self, body: Json) -> Json:
        return {self.wrapper: body} if self.wrapper else body


@dataclass(frozen=True, kw_only=True)
class UserShape:
    """What a vendor's user object (its users list, its owner selector, one user read)
    holds, declared once per vendor: the dotted paths of its id, name (several joined by
    a space: ``("firstName", "lastName")``), email and role ("" when the vendor gives
    none). A ``FieldType.USER`` field's choices are made of it (``choice``): an owner is
    shown by name everywhere, picked by name or email, and its card (enter on the field)
    shows the email and role, from the cached specs (offline)."""

    id: str = "id"
    name: str | tuple[str, ...] = "name"
    email: str = "email"
    role: str = ""

    def choice(self, item: Mapping[str, Any], label: str | None = None) -> Choice | None:
        """The user ``item`` as a choice (``label``: the name as the adapter shows it,
        e.g. "(inactive)" added); None without an id."""
        uid = dig(item, self.id)
        if uid in (None, ""):
            return None
        paths = (self.name,) if isinstance(self.name, str) else self.name
        name = " ".join(str(dig(item, p) or "").strip() for p in paths).strip()
        email = str(dig(item, self.email) or "").strip() if self.email else ""
        role = str(dig(item, self.role) or "").strip() if self.role else ""
        return Choice(
            value=str(uid),
            label=label or name or email or str(uid),
            email=email or None,
            role=role or None,
        )

    def choices(self, items: Iterable[Mapping[str, Any]]) -> list[Choice]:
        """``choice`` of each user object, those without an id left out."""
        return [c for c in (self.choice(i) for i in items) if c is not None]


@dataclass(frozen=True)
class LogChoice:
    """One choice of a logged call or meeting in the vendor's words (a Salesloft call's
    disposition and sentiment, a Freshsales sales activity's outcome): the neutral key
    (``outcome``...), its label, and the choice source the adapter resolves
    (``Vendor.log_choices``). A source whose choices depend on the activity gives each
    choice the activity as its ``Choice.group`` (a Freshsales call's outcomes are not a
    meeting's)."""

    key: str
    label: str
    source: str


@dataclass(frozen=True, kw_only=True)
class ActivityLog:
    """How a vendor records a call or meeting logged on a record (``L``): declared once
    per vendor, in its package (``Vendor.activity_log``).

    ``on``: the kinds a call may be logged on (``anywhere``: every kind with a timeline,
    for a vendor whose kinds are named at run time). ``activities``: what may be logged, the
    neutral activity (``call``, ``meeting``) -> its name in the vendor's words. ``kind``:
    what the vendor records it as, in its words ("sales activity", "completed task").
    ``choices``: the outcome-like choices it keeps (``LogChoice``); ``duration``: whether
    it keeps how long it took. ``unkept``: what it does not keep, said in the form
    ("SalesSeek keeps no outcome nor duration for a call"). ``follow_up``: the kind a
    follow-up task is created as ("" when the vendor has no tasks). ``deletable``: a
    logged call may be deleted (undo). ``refusal``: the vendor's words when it has no
    way to log a call at all (``on`` empty).
    """

    on: tuple[str, ...] = ()
    anywhere: bool = False  # on every kind with a timeline (kinds named at run time)
    activities: Mapping[str, str] = field(default_factory=dict)
    kind: str = ""
    choices: tuple[LogChoice, ...] = ()
    duration: bool = False
    unkept: str = ""
    follow_up: str = ""
    deletable: bool = False
    refusal: str = ""


@dataclass(frozen=True, kw_only=True)
class Notes:
    """The kinds a note may be added on (``n``), as the vendor's docs say: declared once
    per vendor, in its package (``Vendor.notes``), as ``ActivityLog`` declares calls.

    ``on``: those kinds; ``anywhere``: every kind (a vendor whose kinds are named at run
    time). ``Crm.add_note`` refuses a note on another kind before anything is queued."""

    on: tuple[str, ...] = ()
    anywhere: bool = False

    def take(self, kind: str) -> bool:
        """Whether a note may be added on a ``kind`` record."""
        return self.anywhere or kind in self.on


@dataclass(frozen=True, kw_only=True)
class Logged:
    """A call or meeting as the user logged it (neutral): what it was (``activity``, a key
    of ``ActivityLog.activities``), when, its note, how long it took (whole minutes; None:
    not given) and the ``LogChoice`` values chosen (key -> the choice's value)."""

    activity: str
    occurred_at: datetime
    note: str = ""
    duration: int | None = None
    choices: Mapping[str, str] = field(default_factory=dict)


def by_kind(*resources: Resource) -> Mapping[str, Resource]:
    """``Vendor.resources``: kind -> resource, in the order given (the tab order), read-only."""
    return MappingProxyType({r.kind: r for r in resources})


def slug_key(name: str, prefix: str = "cf_") -> str:
    """The neutral key of a custom field the vendor knows by its name: ``prefix`` and the
    name lower-cased, each run of other characters than a-z and 0-9 one ``_`` ("Deal
    Size (EUR)" -> ``cf_deal_size_eur``)."""
    return prefix + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def custom_spec(
    key: str,
    label: str,
    vendor_type: str,
    types: Mapping[str, FieldType],
    *,
    required: bool = False,
    choices: Iterable[Choice] = (),
    writable: bool = True,
) -> FieldSpec:
    """The spec of a custom field the vendor describes at run time: its type through
    ``types`` (the vendor's type names; unknown ones are text); choices only for choice
    types."""
    kind = types.get(vendor_type, FieldType.TEXT)
    listed = kind in (FieldType.CHOICE, FieldType.MULTI_CHOICE)
    return FieldSpec(
        key=key,
        label=label or key,
        type=kind,
        writable=writable,
        required=required,
        custom=True,
        choices=list(choices) if listed else [],
    )


__all__ = [
    "AS_SENT",
    "DEFAULT_CODECS",
    "ActivityLog",
    "Anchor",
    "Bool",
    "Bool01",
    "Cents",
    "Codec",
    "Context",
    "CustomFields",
    "DecimalText",
    "Epoch",
    "Field",
    "Id",
    "IsoDate",
    "IsoDatetime",
    "Json",
    "LogChoice",
    "Logged",
    "Mapped",
    "MoneyNumber",
    "Multi",
    "NextToken",
    "Notes",
    "Number",
    "Offset",
    "PageBound",
    "PageNumber",
    "Paging",
    "Resource",
    "Text",
    "TextId",
    "UserShape",
    "Via",
    "by_kind",
    "custom_spec",
    "dig",
    "fetch_all",
    "flag",
    "marked_cursor",
    "number",
    "put",
    "repeated",
    "slug_key",
    "truth",
    "unmarked_cursor",
    "vendor_id",
]
