"""Field values: parse what vendors send, validate what users type, format what lists show.

One place for every conversion, so adapters, the outbox and the UI agree (see the value
table in ``crmtui.model``).

One display convention, for every place a rep reads a value (record, title, lists,
board, search, outbox, My day, timeline, notebook). Decision: one fixed convention, the
same in every locale, written the way the editor reads it back, so what is shown can be
typed again as it is:

- **Money** (``money_text``): ``108,600.00 GBP`` -- thousands grouped with ",", "."
  before the decimals, as many decimals as the currency has (ISO 4217: ``8,000 JPY``,
  ``1.005 KWD``; more only when the vendor keeps more: never rounded), then the ISO
  code. The code comes last so that amounts line up on their decimal point in a
  right-aligned column, and a code (never a symbol: "$" is a dozen currencies) names
  the currency unambiguously. An amount its vendor keeps with no currency (SalesforceIQ
  documents none, ``NO_CURRENCY``) is the number alone, never an invented code.
- **Dates** (``date_text``): ISO 8601, ``2026-11-17``.
- **Moments** (``local_text``): ``2026-11-17 18:00 EST``, in the user's zone (see
  ``local_zone``), marked with it unless that zone is UTC.
- Relative words ("12 days ago", "overdue") only ever beside one of these, never instead.

Vendors build titles and subtitles with these helpers too (never their own format), so
a queued edit can be followed into them (``crmtui.store.optimistic``).
"""

from __future__ import annotations

import html
import os
import re
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from html.parser import HTMLParser
from typing import Any, assert_never
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzlocal
from iso4217 import Currency

from crmtui.model import Choice, FieldSpec, FieldType, whole_text


class FieldError(ValueError):
    """A value the user typed that the field cannot take; the text says why."""


#: The years a typed date may have. Decision: no vendor documents dates before 1900 or
#: after 9999, and some cannot carry them (SalesSeek's MM/DD/YYYY, a millisecond epoch
#: SalesforceIQ reads back as null, ActiveCampaign's date arithmetic overflows), so a
#: year outside is refused before anything is queued, rather than sent and lost.
YEARS = range(1900, 10000)


def strftime(moment: date, fmt: str) -> str:
    """``moment.strftime(fmt)`` with ``%Y`` always four digits (the C library writes the
    year 1 as "1", which no vendor reads as a year)."""
    return moment.strftime(fmt.replace("%Y", f"{moment.year:04d}"))


def _in_years(spec: FieldSpec, raw: Any, *moments: date) -> None:
    if any(m.year not in YEARS for m in moments):
        raise FieldError(
            f"{spec.label}: {str(raw)!r} is out of range; use a year from "
            f"{YEARS.start} to {YEARS.stop - 1}"
        )


# -- what vendors send -------------------------------------------------------------


def parse_datetime(value: str | int | float | datetime | None) -> datetime | None:
    """A vendor timestamp as an aware UTC datetime.

    Accepts ISO 8601 with ``Z`` or an offset (naive means UTC), a date alone (midnight
    UTC), and numbers as epoch milliseconds. Sub-second precision is kept.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return _from_epoch_ms(value)
    else:
        text = str(value).strip()
        if text.isascii() and text.isdigit():
            return _from_epoch_ms(int(text))
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _from_epoch_ms(ms: int | float) -> datetime | None:
    """Epoch milliseconds as a UTC datetime (exact for ints); None when out of range."""
    try:
        return _EPOCH + timedelta(milliseconds=ms)
    except (OverflowError, ValueError):
        return None


def iso(dt: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 text in UTC (what ``Record.fields`` holds)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat()


def parse_date(value: str | date | datetime | int | None) -> date | None:
    """A vendor date (or the date part of a timestamp)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        dt = parse_datetime(value)
        return dt.date() if dt else None


def decimals(amount: Decimal) -> int:
    """The digits a Decimal holds after the point: "1.005" has 3, "1E+2" and NaN have 0."""
    exponent = amount.as_tuple().exponent  # "n"/"N"/"F" for NaN and infinities
    return max(0, -exponent) if isinstance(exponent, int) else 0


def money(value: Any) -> str | None:
    """A money amount as exact Decimal text, at least two decimals ("1250.00", "1.005"), or None.

    Never rounded: an amount a vendor holds with more decimals keeps them.
    """
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
        if not amount.is_finite():
            return None
        if decimals(amount) > 2:
            return format(amount, "f")
        return str(amount.quantize(Decimal("0.01")))
    except InvalidOperation:  # not a number, or too many digits to keep the cents
        return None


def cents_to_money(cents: Any) -> str | None:
    amount = money(cents)
    return None if amount is None else money(Decimal(amount).scaleb(-2).normalize())


def money_to_cents(amount: Any) -> int | None:
    """An amount in hundredths (ActiveCampaign's ``value``), exactly; ``FieldError`` when the
    amount has a fraction of a hundredth (KWD 1.005), which integer cents cannot hold."""
    value = money(amount)
    if value is None:
        return None
    cents = Decimal(value).scaleb(2)
    if cents != cents.to_integral_value():
        raise FieldError(f"{value} has more than 2 decimals, which this CRM cannot keep")
    return int(cents)


class _TextExtractor(HTMLParser):
    _BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("• ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # <br/> breaks the line once, like <br>
        if tag not in self._BLOCK:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(value: str | None) -> str:
    """Readable plain text from an HTML body (notes, emails)."""
    if not value:
        return ""
    if "<" not in value:
        return html.unescape(value).strip()
    parser = _TextExtractor()
    try:
        parser.feed(value)
        parser.close()
    except Exception:  # malformed HTML: fall back to stripping tags
        return re.sub(r"<[^>]+>", " ", value).strip()
    text = "".join(parts for parts in parser.parts)
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in text.splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return re.sub(r"\n+(?=• )", "\n", text).strip()


# -- the user's time zone ------------------------------------------------------------
#
# Every datetime the UI shows or reads goes through ``local_text`` and ``validate`` (My
# day, the record screen, lists, the timeline): shown and typed in the user's zone (the
# system's, or ``timezone`` in config.toml), kept and sent in UTC. Dates stay dates.

_zone: tzinfo | None = None  # None: the system's zone (TZ, /etc/localtime), via tzlocal
_not_iana = False  # the system's zone is no IANA name (a POSIX TZ): the C library's offset


def use_timezone(name: str | None) -> None:
    """Show and read datetimes in the IANA zone ``name``; None: the system's zone (re-read)."""
    global _zone, _not_iana
    if name:
        _zone = ZoneInfo(name)
        return
    _zone, _not_iana = None, False
    try:
        tzlocal.reload_localzone()
    except (ZoneInfoNotFoundError, ValueError, LookupError):
        _not_iana = True


def local_zone() -> tzinfo:
    """The zone datetimes are shown and typed in.

    A system zone that is not an IANA name (a POSIX TZ such as "CET-1CEST,M3.5.0,M10.5.0/3"
    or "IST-5:30") is the C library's offset now, marked on every time: never UTC.
    """
    if _zone is not None:
        return _zone
    if not _not_iana:
        try:
            return tzlocal.get_localzone()
        except (ZoneInfoNotFoundError, ValueError, LookupError):
            pass
    return _C_ZONE


class _CLibraryZone(tzinfo):
    """The system's zone as the C library reads ``TZ`` (any POSIX rule), moment by moment.

    For a ``TZ`` that is no IANA name ("CET-1CEST,M3.5.0,M10.5.0/3", "IST-5:30"):
    ``time.localtime`` and ``time.mktime`` apply its rules, summer time included, so a
    July time is CEST even in December. ``fold`` picks the reading of a time shown twice.
    """

    def _stamps(self, wall: datetime) -> list[int]:
        """The moments (epoch seconds) whose local wall time is ``wall``, earliest first."""
        found: set[int] = set()
        for isdst in (0, 1):
            try:
                stamp = int(time.mktime((*wall.timetuple()[:6], 0, 0, isdst)))
            except (OverflowError, ValueError):
                continue
            if datetime(*time.localtime(stamp)[:6]) == wall.replace(microsecond=0):
                found.add(stamp)
        return sorted(found)

    def _local(self, dt: datetime | None) -> time.struct_time:
        if dt is None:
            return time.localtime()
        wall = dt.replace(tzinfo=None)
        stamps = self._stamps(wall)
        if not stamps:  # skipped by the clocks (or out of range): the offset just before
            try:
                return time.localtime(time.mktime((*wall.timetuple()[:6], 0, 0, -1)))
            except (OverflowError, ValueError):
                return time.localtime()
        return time.localtime(stamps[-1] if dt.fold and len(stamps) > 1 else stamps[0])

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(seconds=self._local(dt).tm_gmtoff)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str:
        return self._local(dt).tm_zone

    def fromutc(self, dt: datetime) -> datetime:
        naive = dt.replace(tzinfo=None)
        try:
            local = time.localtime((naive - _EPOCH.replace(tzinfo=None)) // timedelta(seconds=1))
        except (OverflowError, ValueError, OSError):
            local = time.localtime()
        wall = naive + timedelta(seconds=local.tm_gmtoff)
        stamps = self._stamps(wall)
        later = len(stamps) > 1 and local.tm_gmtoff != time.localtime(stamps[0]).tm_gmtoff
        return wall.replace(tzinfo=self, fold=int(later))

    def __repr__(self) -> str:
        return os.environ.get("TZ") or "the system's zone"


_C_ZONE = _CLibraryZone()


def _zone_is_utc(zone: tzinfo) -> bool:
    return zone is UTC or getattr(zone, "key", None) in {"UTC", "Etc/UTC", "Etc/UCT", "UCT"}


def zone_mark(dt: datetime) -> str:
    """The zone of a local datetime as a reader would name it: "EST", "CET" or "+05:30".

    A time the clocks show twice under one name (Moscow 2014-10-26 01:30, "MSK" both
    times) gets its offset too ("MSK +03:00"), so the two moments never look the same.
    """
    name = dt.tzname() or ""
    if name.isalpha():
        other = dt.replace(fold=1 - dt.fold)
        if other.utcoffset() == dt.utcoffset() or other.tzname() != name:
            return name
        return f"{name} {_offset_text(dt)}"
    return _offset_text(dt)


def _offset_text(dt: datetime) -> str:
    offset = dt.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def to_local(dt: datetime) -> datetime:
    """An aware datetime in the user's zone (naive means UTC, as vendors' are)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(local_zone())


def local_text(dt: datetime | None, *, exact: bool = False) -> str:
    """A moment as the UI shows it: local time, marked with its zone ("2026-12-01 09:00 EST").

    ``exact`` adds the seconds (and microseconds) when there are any, as the editor needs
    to give back the same moment. The mark is left out only when the user's zone is UTC
    itself, where the two readings agree.
    """
    if dt is None:
        return ""
    local = to_local(dt)
    timespec = "minutes"
    if exact and (local.second or local.microsecond):
        timespec = "auto"
    text = local.replace(tzinfo=None).isoformat(sep=" ", timespec=timespec)
    return text if _zone_is_utc(local_zone()) else f"{text} {zone_mark(local)}"


def local_width() -> int:
    """How many cells ``local_text`` takes in the user's zone (winter or summer): a column fits it."""
    return max(len(local_text(datetime(2026, month, 15, tzinfo=UTC))) for month in (1, 7))


# -- what users type -------------------------------------------------------------

_TRUE = {"y", "yes", "true", "1", "done", "x", "on", "✓"}
_FALSE = {"n", "no", "false", "0", "", "open", "off", "not done"}


def validate(
    spec: FieldSpec,
    text: Any,
    *,
    currency: str | None = None,
    group: set[str] | None = None,
    groups: FieldSpec | None = None,
) -> Any:
    """Turn what the user typed into the field's value, or raise ``FieldError``.

    Nothing is sent before this passes, and nothing is changed on the way: numbers must be
    numbers written one way only (see ``parse_number``), money has no more decimals than
    its ``currency`` (ISO 4217 code; unknown: 2) or the vendor keeps (``spec.decimals``)
    and no symbol or code of another currency, dates are real dates, datetimes are read
    in the user's zone (see ``local_zone``), choices are one of the field's choices.
    Empty clears the field, except a required field or a single choice, which refuse it.
    ``group`` (the record's pipeline, by id and name) narrows grouped choices (stages) to
    that group's: a stage of another pipeline is refused, never a move to that pipeline,
    naming the pipelines it is in by ``groups``' labels (the pipeline field: a vendor's
    stages may name their pipeline by id).

    Any other error reading the value is a ``FieldError`` too: the user always sees why.

    ``text`` is what a user types (a string) or, from a notebook, a plain Python value:
    a number (``int``, ``float``, ``Decimal``: read as its text, so NaN and infinities are
    refused), ``True``/``False`` for a yes/no field, a ``date`` for a date, a ``datetime``
    for a datetime, a list of choices for a multi-choice field, ``None`` to clear. Any
    other value (a dict, a list, bytes, a bool for a text field...) is refused naming
    its type and what the field takes, never sent as its ``repr``. A lone surrogate in
    text becomes U+FFFD (``crmtui.model.whole_text``).
    """
    text = _given(spec, text)
    try:
        return _validate(spec, text, currency, group, groups)
    except FieldError:
        raise
    except (ValueError, ArithmeticError) as exc:
        raise FieldError(f"{spec.label}: {str(text)!r} cannot be read ({exc})") from None


_TAKES = {
    FieldType.TEXT: "text",
    FieldType.NUMBER: "a number",
    FieldType.MONEY: "an amount (a number, a Decimal or text)",
    FieldType.DATE: "a date (YYYY-MM-DD or a datetime.date)",
    FieldType.DATETIME: "a date and time (YYYY-MM-DD HH:MM or a datetime)",
    FieldType.BOOL: "yes or no (True or False)",
    FieldType.CHOICE: "one of its choices",
    FieldType.USER: "one of its users",
    FieldType.MULTI_CHOICE: "its choices (a list, or text with commas)",
}


def _given(spec: FieldSpec, value: Any) -> Any:
    """``value`` if ``validate`` reads it (text made whole), else ``FieldError``."""
    if isinstance(value, str):
        return whole_text(value)
    if value is None or (isinstance(value, int | float | Decimal) and not isinstance(value, bool)):
        return value
    fits = {
        FieldType.BOOL: isinstance(value, bool),
        FieldType.DATE: isinstance(value, date) and not isinstance(value, datetime),
        FieldType.DATETIME: isinstance(value, date),
        FieldType.MULTI_CHOICE: isinstance(value, list | tuple)
        and all(isinstance(v, str | int) and not isinstance(v, bool) for v in value),
    }
    if fits.get(spec.type, False):
        if isinstance(value, list | tuple):  # each a choice: a comma in one is not a split
            return [whole_text(str(v)) for v in value]
        return value
    what = type(value).__name__
    raise FieldError(f"{spec.label} takes {_TAKES[spec.type]}, not a {what} ({_cut(value)})")


def _cut(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:39] + "…"


def _validate(
    spec: FieldSpec,
    text: Any,
    currency: str | None,
    group: set[str] | None,
    groups: FieldSpec | None = None,
) -> Any:
    if isinstance(text, bool) and spec.type is FieldType.BOOL:
        return text
    if isinstance(text, datetime) and spec.type is FieldType.DATETIME:
        moment = text if text.tzinfo else _localize(spec, text)
        _in_years(spec, text, moment, moment.astimezone(UTC))
        return iso(moment)
    if isinstance(text, list):  # a multi-choice's choices, each whole (``_given``)
        picked = [part.strip() for part in text if part.strip()]
        if not picked:
            return _empty(spec)
        return [_choice(spec, part, group, groups) for part in picked]
    raw = "" if text is None else str(text).strip()
    if raw == "":
        return _empty(spec)
    match spec.type:
        case FieldType.TEXT:
            if spec.max_length is not None and len(raw) > spec.max_length:
                raise FieldError(f"{spec.label} must be at most {spec.max_length} characters")
            return raw
        case FieldType.NUMBER:
            number = _number(spec, raw)
            _vendor_decimals(spec, raw, number)
            if number == number.to_integral_value():
                return int(number)
            if Decimal(repr(float(number))) != number:  # a float would change it
                raise FieldError(f"{spec.label}: {raw!r} has more digits than can be kept")
            return float(number)
        case FieldType.MONEY:
            return _money(spec, raw, currency)
        case FieldType.DATE:
            try:
                day = date.fromisoformat(raw)
            except ValueError:
                raise FieldError(f"{spec.label}: {raw!r} is not a date; use YYYY-MM-DD") from None
            _in_years(spec, raw, day)
            return day.isoformat()
        case FieldType.DATETIME:
            moment = _user_datetime(spec, raw)
            _in_years(spec, raw, moment, moment.astimezone(local_zone()))
            return iso(moment)
        case FieldType.BOOL:
            lowered = raw.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise FieldError(f"{spec.label}: answer yes or no")
        case FieldType.CHOICE | FieldType.USER:
            return _choice(spec, raw, group, groups)
        case FieldType.MULTI_CHOICE:
            parts = [part.strip() for part in raw.split(",") if part.strip()]
            if not parts:  # "," is as empty as ""
                return _empty(spec)
            return [_choice(spec, part, group, groups) for part in parts]
        case _:  # mypy proves every FieldType is matched above
            assert_never(spec.type)


def _empty(spec: FieldSpec) -> Any:
    """The empty value of ``spec``, or ``FieldError`` when it cannot be emptied."""
    if spec.required:
        raise FieldError(f"{spec.label} is required")
    if spec.type in (FieldType.CHOICE, FieldType.USER) and spec.choices:
        raise FieldError(f"{spec.label} cannot be left empty: pick one of {_options(spec)}")
    if not spec.clearable and spec.type is not FieldType.BOOL:
        raise FieldError(
            f"{spec.label} cannot be emptied in this CRM (it would keep its old value); "
            "type a new value, or escape to keep it"
        )
    return False if spec.type is FieldType.BOOL else None


def _vendor_decimals(spec: FieldSpec, raw: str, number: Decimal) -> None:
    """Refuse more decimals than the vendor keeps (``spec.decimals``; 0: whole numbers)."""
    places = spec.decimals
    if places is None or number == number.quantize(Decimal(1).scaleb(-places), ROUND_FLOOR):
        return
    step = Decimal(1).scaleb(-places)
    lower = number.quantize(step, rounding=ROUND_FLOOR)
    higher = number.quantize(step, rounding=ROUND_CEILING)
    what = "a whole number" if places == 0 else f"at most {places} decimals"
    raise FieldError(f"{spec.label}: {raw!r}: this CRM keeps {what}; write {lower} or {higher}")


# -- numbers: one reading or none ----------------------------------------------------------

_SYMBOLS = "$€£¥₹"
_GROUP_MARKS = " _'\u00a0\u202f"  # spaces (plain, no-break, narrow), underscore, apostrophe
_PLAIN = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_GROUPED = re.compile(r"[1-9]\d{0,2}(,\d{3})+")  # English thousands: 1,000 or 12,400,000


def parse_number(raw: str) -> Decimal:
    """The number a user typed, read one way only; ``ValueError`` says why not and what to write.

    The dot is the decimal point. Other separators are accepted only where they can be
    read one way:

    - spaces, underscores and apostrophes group digits (``1 000 000``, ``1_000``);
    - commas group thousands English-style only where a comma cannot be a decimal comma:
      with a decimal point after them (``1,000.50``) or two or more of them
      (``1,000,000``), in groups of three digits;
    - anything else is refused with a suggestion: ``1.000,50`` (write 1000.50),
      ``1.000.000`` (1000000), ``12,5`` (12.5), and ``12,400``, which is 12400 in English
      and 12.4 in German (write 12400 or 12.4).

    A leading currency symbol ($ € £ ¥ ₹) is ignored; the exponent form (1e3) is accepted.
    """
    text = raw.strip().lstrip(_SYMBOLS).strip()
    if not text:  # nothing but a currency symbol (or nothing at all)
        raise ValueError(f"{raw.strip()!r} is not a number")
    sign = ""
    if text[0] in "+-":
        sign, text = text[0], text[1:].strip()
    for mark in _GROUP_MARKS:
        text = text.replace(mark, "")
    shown = sign + text
    if "," in text:
        whole, dot, fraction = text.partition(".")
        if "," in fraction:  # 1.000,50: the comma after the dot is the decimal comma
            suggestion = sign + text.replace(".", "").replace(",", ".")
            raise ValueError(f"{shown!r} can be read two ways; write {suggestion}")
        if not _GROUPED.fullmatch(whole):
            if whole.count(",") == 1 and not dot:  # 12,5: a decimal comma
                suggestion = sign + whole.replace(",", ".")
                raise ValueError(f"{shown!r}: use a dot for decimals; write {suggestion}")
            raise ValueError(f"{shown!r}: commas may only group thousands (1,000,000.50)")
        if whole.count(",") == 1 and not dot:  # 12,400: 12400 or 12.4?
            english, german = whole.replace(",", ""), whole.replace(",", ".").rstrip("0")
            raise ValueError(
                f"{shown!r} can be read two ways; write {sign}{english} or {sign}{german.rstrip('.')}"
            )
        text = whole.replace(",", "") + dot + fraction
    elif text.count(".") > 1:  # 1.000.000: dots grouping thousands
        if re.fullmatch(r"[1-9]\d{0,2}(\.\d{3})+", text):
            raise ValueError(
                f"{shown!r}: use a dot only for decimals; write {sign}{text.replace('.', '')}"
            )
        raise ValueError(f"{shown!r} is not a number")
    if not _PLAIN.fullmatch(sign + text):
        raise ValueError(f"{shown!r} is not a number")
    return Decimal(sign + text)


def _number(spec: FieldSpec, raw: str) -> Decimal:
    try:
        number = parse_number(raw)
    except ValueError as exc:
        raise FieldError(f"{spec.label}: {exc}") from None
    except InvalidOperation:  # pragma: no cover - _PLAIN only lets Decimal's syntax through
        raise FieldError(f"{spec.label}: {raw!r} is not a number") from None
    digits = 13 if spec.type is FieldType.MONEY else 15  # |number| < 10**digits
    if number and number.adjusted() >= digits:  # no arithmetic: 1E1000000 would overflow
        raise FieldError(f"{spec.label}: {raw!r} is too large")
    if spec.min is not None and number < Decimal(str(spec.min)):
        raise FieldError(f"{spec.label} must be at least {spec.min:g}")
    if spec.max is not None and number > Decimal(str(spec.max)):
        raise FieldError(f"{spec.label} must be at most {spec.max:g}")
    return number


def minor_units(currency: str | None) -> int:
    """How many decimals an amount in ``currency`` has (ISO 4217: USD 2, JPY 0, KWD 3).

    Unknown or missing codes, and codes with no minor unit defined (gold, XAU), have 2.
    """
    try:
        exponent = Currency(str(currency or "").strip().upper()).exponent
    except ValueError:
        return 2
    return 2 if exponent is None else exponent


# A symbol names the currencies it is written for; one that is not the record's is refused.
_SYMBOL_CURRENCIES = {
    "€": {"EUR"},
    "£": {"GBP", "GIP", "FKP", "SHP", "EGP", "LBP", "SYP", "SSP", "SDG"},
    "¥": {"JPY", "CNY"},
    "₹": {"INR"},
    # the dollars, pesos and others written with "$"
    "$": {
        *("USD", "CAD", "AUD", "NZD", "SGD", "HKD", "TWD", "MXN", "ARS", "CLP", "COP"),
        *("UYU", "BRL", "NAD", "BSD", "BBD", "BZD", "BMD", "BND", "KYD", "FJD", "GYD"),
        *("JMD", "LRD", "SBD", "SRD", "TTD", "XCD", "CUP", "DOP", "TVD", "KID", "ZWL"),
    },
}
_CURRENCY_MARKS = re.compile(
    r"\s*(?P<lead>[A-Za-z]{3}(?![A-Za-z]))?\s*(?P<number>.*?)\s*(?P<trail>(?<![A-Za-z])[A-Za-z]{3})?\s*"
)


#: The ``currency`` of an amount its vendor keeps without one (a kind with no currency
#: field, SalesforceIQ's): a typed symbol or code is refused, not dropped. (None: the
#: record's currency is not known, and a symbol or code is taken as typed.)
NO_CURRENCY = "-"


def _currency_marks(spec: FieldSpec, raw: str, currency: str | None) -> str:
    """``raw`` without a currency code ("EUR 100", "100 eur"); a symbol or code that is not
    the record's ``currency`` ("£100" on a deal in EUR) is refused, never ignored, and so
    is any when the amount has no currency (SalesforceIQ's: "USD 12" is not 12)."""
    match = _CURRENCY_MARKS.fullmatch(raw)
    text = raw
    codes: list[str] = []
    if match and (match["lead"] or match["trail"]) and not (match["lead"] and match["trail"]):
        code = (match["lead"] or match["trail"]).upper()
        try:
            Currency(code)
        except ValueError:
            raise FieldError(f"{spec.label}: {raw!r} is not an amount") from None
        codes.append(code)
        text = match["number"]
    stripped = text.strip().lstrip("+-").strip()
    symbol = stripped[:1] if stripped[:1] in _SYMBOLS else ""
    own = str(currency or "").strip().upper()
    if currency == NO_CURRENCY:
        if codes or symbol:
            raise FieldError(
                f"{spec.label}: {raw!r} names a currency, but this amount is kept without "
                "one; write the number alone"
            )
        return text
    for code in codes:
        if own and code != own:
            raise FieldError(
                f"{spec.label}: {raw!r} is in {code}, but this record is in {own}; "
                f"write the amount in {own}, or change the currency first"
            )
    if symbol and own and own not in _SYMBOL_CURRENCIES.get(symbol, set()):
        raise FieldError(
            f"{spec.label}: {raw!r} is not in {own}, the currency of this record; "
            f"write the amount in {own} with no symbol, or change the currency first"
        )
    return text


def _money(spec: FieldSpec, raw: str, currency: str | None) -> str:
    """Money as Decimal text with at least two decimals ("1250.00", KWD "1.005"), exact."""
    number = _number(spec, _currency_marks(spec, raw, currency))
    places = minor_units(currency)
    if spec.decimals is not None and spec.decimals < places:
        _vendor_decimals(spec, raw, number)
    if number.is_zero():
        number = abs(number)  # -0 is 0
    exact = number.quantize(Decimal(1).scaleb(-places))
    if exact != number:
        code = str(currency).upper() if currency and currency != NO_CURRENCY else "this amount"
        whole = "no decimals" if places == 0 else f"{places} decimal{'s' if places > 1 else ''}"
        lower = number.quantize(exact, rounding=ROUND_FLOOR)
        higher = number.quantize(exact, rounding=ROUND_CEILING)
        grouped = ""
        if re.fullmatch(r"\s*[$€£¥₹]?\s*[+-]?[1-9]\d{0,2}\.\d{3}\s*", raw):  # 12.345: 12345?
            grouped = f", or {raw.strip().replace('.', '')} if the dot groups thousands"
        raise FieldError(
            f"{spec.label}: {raw!r} has more decimals than {code} has ({whole}); "
            f"write {lower} or {higher}{grouped}"
        )
    return str(number.quantize(Decimal(1).scaleb(-max(2, places))))


# -- datetimes: typed in the user's zone -------------------------------------------------

_TYPED_MOMENT = re.compile(
    r"(?P<day>\d{4}-\d{2}-\d{2})(?:[ T]+(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?))?"
    r"\s*(?P<zone>.*)"
)


def _user_datetime(spec: FieldSpec, raw: str) -> datetime:
    """A typed date and time, read in the user's zone unless it names its own.

    A zone may follow the time: ``Z``/``UTC``/``GMT``, an offset (``+01:00``, ``-0500``,
    ``+01``), an IANA name (``Europe/Paris``) or the user's zone's own abbreviation
    (``EST``/``EDT``), which also picks the reading of a time the clocks show twice.
    A date alone is midnight, local.
    """
    hint = f"{spec.label}: {raw!r} is not a date and time; use YYYY-MM-DD HH:MM"
    match = _TYPED_MOMENT.fullmatch(raw.strip())
    if match is None:
        raise FieldError(hint)
    clock = match["time"] or "00:00"
    if len(clock.split(":")[0]) == 1:
        clock = "0" + clock
    try:
        naive = datetime.fromisoformat(f"{match['day']} {clock}")
    except ValueError:
        raise FieldError(hint) from None
    name = match["zone"].strip()
    zone: tzinfo | None = None
    offset = re.fullmatch(r"(?:[A-Za-z]+ ?)?(?P<offset>[+-]\d{2}(:?\d{2})?)", name)
    if offset:  # "+03:00", or "MSK +03:00" as a time shown twice is marked
        zone = _offset_zone(spec, offset["offset"])
    elif name.upper() in ("Z", "UTC", "GMT"):
        zone = UTC
    elif "/" in name:
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise FieldError(f"{spec.label}: {name!r} is not a time zone") from None
    elif name and not name.isalpha():
        raise FieldError(hint)
    try:
        if zone is not None:
            return naive.replace(tzinfo=zone).astimezone(UTC)
        return _localize(spec, naive, name.upper()).astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01 00:00+05:00 is before year 1 in UTC
        raise FieldError(hint) from None


def _offset_zone(spec: FieldSpec, text: str) -> tzinfo:
    from datetime import timezone

    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise FieldError(
            f"{spec.label}: {text} is not a UTC offset; write one from -23:59 to +23:59, "
            "such as +05:30"
        )
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def _localize(spec: FieldSpec, naive: datetime, abbreviation: str = "") -> datetime:
    """A wall-clock time in the user's zone; refused when the clocks skip it or show it twice.

    ``abbreviation`` (EST, EDT...) picks the reading of a time shown twice; it must be one
    the user's zone uses at that time.
    """
    zone = local_zone()
    readings = [naive.replace(tzinfo=zone, fold=fold) for fold in (0, 1)]
    shown = naive.strftime("%Y-%m-%d %H:%M")
    where = getattr(zone, "key", None) or str(zone)
    if abbreviation:
        matching = [
            r
            for r in readings
            if abbreviation in {zone_mark(r).upper(), (r.tzname() or "").upper()}
        ]
        if not matching:
            marks = " or ".join(sorted({zone_mark(r) for r in readings}))
            raise FieldError(
                f"{spec.label}: {abbreviation} is not the zone of {shown} in {where} ({marks}); "
                "write the time with no zone, or an offset such as +01:00"
            )
        readings = matching  # both, when the name is the same: refused as twice below
    exists = [
        r for r in readings if r.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive
    ]
    if not exists:
        later = (readings[0].astimezone(UTC).astimezone(zone)).strftime("%H:%M")
        raise FieldError(
            f"{spec.label}: {shown} does not exist in {where} (the clocks go forward); "
            f"write {later}"
        )
    offsets = {r.utcoffset() for r in exists}
    if len(offsets) > 1:
        marks = " or ".join(f"{naive:%H:%M} {zone_mark(r)}" for r in exists)
        raise FieldError(
            f"{spec.label}: {shown} happens twice in {where} (the clocks go back); write {marks}"
        )
    return exists[0]


def _options(spec: FieldSpec) -> str:
    options = ", ".join(c.label for c in spec.choices[:8])
    return options + ("…" if len(spec.choices) > 8 else "")


def _match_choice(choices: list[Choice], raw: str) -> list[Choice]:
    exact = [c for c in choices if raw == c.value]
    if exact:
        return exact[:1]
    lowered = raw.lower()
    matches = [c for c in choices if c.label.lower() == lowered]
    return matches or [c for c in choices if c.label.lower().startswith(lowered)]


def _choice(
    spec: FieldSpec, raw: str, group: set[str] | None = None, groups: FieldSpec | None = None
) -> str:
    if not spec.choices:
        return raw
    choices = spec.choices
    if group and any(c.group for c in choices):  # a stage: the record's pipeline's only
        choices = [c for c in choices if c.group in group]
    matches = _match_choice(choices, raw)
    if len(matches) == 1:
        return matches[0].value
    options = _options(spec.model_copy(update={"choices": choices}))
    if matches:
        raise FieldError(f"{spec.label}: {raw!r} matches several choices; pick one of {options}")
    elsewhere = sorted(
        {
            (groups and groups.choice_label(c.group)) or str(c.group)
            for c in _match_choice(spec.choices, raw)
            if c.group
        }
    )
    if choices is not spec.choices and elsewhere:
        raise FieldError(
            f"{spec.label}: {raw!r} is in {', '.join(elsewhere)}, not this record's pipeline; "
            f"pick one of {options}, or change the pipeline first"
        )
    raise FieldError(f"{spec.label}: {raw!r} is not one of {options}")


def same_value(a: Any, b: Any) -> bool:
    """Equal as field values: "1250.00" == 1250, None == ""."""
    if a in (None, "") and b in (None, ""):
        return True
    if a == b:
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except (InvalidOperation, ValueError):
        return str(a) == str(b)


# -- what lists show ---------------------------------------------------------------


def display(spec: FieldSpec | None, value: Any, *, currency: str | None = None) -> str:
    """A value as a cell or a form shows it."""
    if value is None or value == "" or value == []:
        return ""
    if spec is None:
        return str(value)
    match spec.type:
        case FieldType.MONEY:
            return money_text(value, currency)
        case FieldType.DATE:
            return date_text(value)
        case FieldType.BOOL:
            return "✓" if value else "·"
        case FieldType.USER if spec.choices and spec.choice(value) is None:
            # a user the vendor's users (as last read) lack: never its id as if a name
            return f"#{value} (not in cache)"
        case FieldType.CHOICE | FieldType.USER:
            return spec.choice_label(value) or str(value)
        case FieldType.MULTI_CHOICE:
            values = value if isinstance(value, list) else [value]
            return ", ".join(spec.choice_label(v) or str(v) for v in values)
        case FieldType.DATETIME:
            dt = parse_datetime(value)
            return local_text(dt) if dt else str(value)
        case FieldType.NUMBER:
            return f"{value:,}" if isinstance(value, int) else str(value)
    return str(value)


def money_text(value: Any, currency: str | None = None) -> str:
    """An amount as every screen shows it: "108,600.00 GBP", "8,000 JPY", or "145,600.00"
    with no currency (see the module docstring); "" for none, text that is no number as is."""
    if value is None or value == "" or isinstance(value, bool):
        return "" if value in (None, "") else str(value)
    amount = _shown_amount(value)
    if amount is None:
        return str(value)
    code = str(currency or "").strip().upper()
    if code == NO_CURRENCY:
        code = ""
    if amount and not -_SHOWN_DIGITS < amount.adjusted() < _SHOWN_DIGITS:
        # 1e999999999 (or 1e-999999999) written out is a billion digits: shown as the
        # vendor's exponent form instead, never computed in full (nor an Overflow)
        sign, digits, exponent = amount.as_tuple()
        exponent = int(exponent)  # finite: an int
        while len(digits) > 1 and digits[-1] == 0:  # not normalize(): it would overflow
            digits, exponent = digits[:-1], exponent + 1
        text = f"{Decimal((sign, digits, exponent)):E}"
    else:
        places = max(minor_units(code), decimals(amount.normalize()))
        text = f"{amount:,.{places}f}"
    return f"{text} {code}" if code else text


_SHOWN_DIGITS = 30  # an amount with more digits than this is shown in exponent form
_VENDOR_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?")


def _shown_amount(value: Any) -> Decimal | None:
    """The finite number a vendor's amount holds, or None (text that is no number, NaN,
    infinities). Commas grouping thousands are read where they can be read one way only
    (``1,234.50``, ``1,234,567``, as ``parse_number`` reads what users type); ``12,400``
    (12400 or 12.4?) is no number."""
    text = str(value).strip()
    if _VENDOR_GROUPED.fullmatch(text) and ("." in text or text.count(",") > 1):
        text = text.replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def date_text(value: Any) -> str:
    """A date as every screen shows it: ISO 8601, "2026-11-17" ("" for none, text that is
    no date as is)."""
    if value is None or value == "":
        return ""
    day = parse_date(value)
    return day.isoformat() if day else str(value)


def edit_text(spec: FieldSpec, value: Any) -> str:
    """A value as the editor pre-fills it (round-trips through ``validate``)."""
    if value is None:
        return ""
    if spec.type is FieldType.BOOL:
        return "yes" if value else "no"
    if spec.type is FieldType.DATETIME:
        dt = parse_datetime(value)
        if dt is None:
            return str(value)
        return local_text(dt, exact=True)
    if spec.type is FieldType.MULTI_CHOICE and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


# -- references: another record's id -----------------------------------------------------

_ID_SHAPES = (
    re.compile(r"\d{1,20}"),  # a number (Salesloft, Freshsales, ActiveCampaign)
    re.compile(r"[0-9a-f]{24}"),  # a 24-digit hex object id (SalesforceIQ)
    re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),  # a UUID
)
_ANY_ID = re.compile(r"[^\s/?#%\\\x00-\x1f\x7f]{1,200}")


def id_shaped(text: str) -> bool:
    """Whether ``text`` can be a record's id in a request path: no blanks, ``/``, ``?``,
    ``#``, ``%``, ``\\`` or control characters, 1 to 200 characters, and not ``.`` or
    ``..`` (which httpx resolves: ``deals/..`` is the API root). The adapters read a
    vendor's ids by the same rule (``crmtui.vendors.mapping.record_id``)."""
    return bool(_ANY_ID.fullmatch(text)) and text not in (".", "..")


def check_reference(label: str, value: Any, known: Iterable[str], what: str = "record") -> None:
    """A reference field takes another record's id: ``value`` must look like the ids
    ``known`` of that kind (all numbers, all 24-digit hex, all UUIDs), or, when none is
    known, at least like an id (no blanks, slashes...). Free text ("abc") is refused
    before it is queued (the vendor would answer 4xx, or the adapter fail), with a
    ``FieldError`` saying to pick a record."""
    text = str(value).strip()
    if text == "":
        return
    samples = [k for k in known if k]
    shapes = [s for s in _ID_SHAPES if samples and all(s.fullmatch(k.lower()) for k in samples)]
    good = (
        any(s.fullmatch(text.lower()) for s in shapes) if shapes else bool(_ANY_ID.fullmatch(text))
    )
    if not good:
        raise FieldError(f"{label}: {text!r} is not a {what} id; pick a {what} from the list")
