"""Field values: parse what vendors send, validate what users type, format what lists show.

One place for every conversion, so adapters, the outbox and the UI agree (see the value
table in ``crmtui.model``).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from typing import Any

from crmtui.model import FieldSpec, FieldType


class FieldError(ValueError):
    """A value the user typed that the field cannot take; the text says why."""


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


def money(value: Any) -> str | None:
    """A money amount as Decimal text with two decimals ("1250.00"), or None."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
        if not amount.is_finite():
            return None
        return str(amount.quantize(Decimal("0.01")))
    except InvalidOperation:  # not a number, or too many digits to keep the cents
        return None


def cents_to_money(cents: Any) -> str | None:
    amount = money(cents)
    return None if amount is None else money(Decimal(amount) / 100)


def money_to_cents(amount: Any) -> int | None:
    value = money(amount)
    return None if value is None else int(Decimal(value) * 100)


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


# -- what users type -------------------------------------------------------------

_TRUE = {"y", "yes", "true", "1", "done", "x", "on", "✓"}
_FALSE = {"n", "no", "false", "0", "", "open", "off", "not done"}


def validate(spec: FieldSpec, text: Any) -> Any:
    """Turn what the user typed into the field's value, or raise ``FieldError``.

    Nothing is sent before this passes: numbers must be numbers, dates real dates,
    choices one of the field's choices.
    """
    if isinstance(text, bool) and spec.type is FieldType.BOOL:
        return text
    raw = "" if text is None else str(text).strip()
    if raw == "":
        if spec.required:
            raise FieldError(f"{spec.label} is required")
        return False if spec.type is FieldType.BOOL else None
    match spec.type:
        case FieldType.TEXT:
            if spec.max_length is not None and len(raw) > spec.max_length:
                raise FieldError(f"{spec.label} must be at most {spec.max_length} characters")
            return raw
        case FieldType.NUMBER:
            number = _number(spec, raw)
            return int(number) if number == number.to_integral_value() else float(number)
        case FieldType.MONEY:
            return money(_number(spec, raw))
        case FieldType.DATE:
            try:
                return date.fromisoformat(raw).isoformat()
            except ValueError:
                raise FieldError(f"{spec.label}: {raw!r} is not a date; use YYYY-MM-DD") from None
        case FieldType.DATETIME:
            dt = _user_datetime(raw)
            if dt is None:
                raise FieldError(
                    f"{spec.label}: {raw!r} is not a date and time; use YYYY-MM-DD HH:MM"
                )
            return iso(dt)
        case FieldType.BOOL:
            lowered = raw.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise FieldError(f"{spec.label}: answer yes or no")
        case FieldType.CHOICE | FieldType.USER:
            return _choice(spec, raw)
        case FieldType.MULTI_CHOICE:
            picked = [_choice(spec, part.strip()) for part in raw.split(",") if part.strip()]
            if not picked and spec.required:
                raise FieldError(f"{spec.label} is required")
            return picked
    return raw  # pragma: no cover - every FieldType is matched above


def _number(spec: FieldSpec, raw: str) -> Decimal:
    cleaned = raw.replace(",", "").replace("_", "").replace(" ", "")
    cleaned = cleaned.lstrip("$€£¥")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise FieldError(f"{spec.label}: {raw!r} is not a number") from None
    if not number.is_finite():
        raise FieldError(f"{spec.label}: {raw!r} is not a number")
    digits = 13 if spec.type is FieldType.MONEY else 15  # |number| < 10**digits
    if number and number.adjusted() >= digits:  # no arithmetic: 1E1000000 would overflow
        raise FieldError(f"{spec.label}: {raw!r} is too large")
    if spec.min is not None and number < Decimal(str(spec.min)):
        raise FieldError(f"{spec.label} must be at least {spec.min:g}")
    if spec.max is not None and number > Decimal(str(spec.max)):
        raise FieldError(f"{spec.label} must be at most {spec.max:g}")
    return number


def _user_datetime(raw: str) -> datetime | None:
    text = raw.replace("T", " ").strip()
    for candidate in (text, text + ":00" if text.count(":") == 1 else text):
        try:
            dt = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return parse_datetime(dt)  # None when out of range in UTC
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        return None


def _choice(spec: FieldSpec, raw: str) -> str:
    if not spec.choices:
        return raw
    for choice in spec.choices:
        if raw == choice.value:
            return choice.value
    lowered = raw.lower()
    matches = [c for c in spec.choices if c.label.lower() == lowered]
    if not matches:
        matches = [c for c in spec.choices if c.label.lower().startswith(lowered)]
    if len(matches) == 1:
        return matches[0].value
    options = ", ".join(c.label for c in spec.choices[:8])
    more = "…" if len(spec.choices) > 8 else ""
    if matches:
        raise FieldError(
            f"{spec.label}: {raw!r} matches several choices; pick one of {options}{more}"
        )
    raise FieldError(f"{spec.label}: {raw!r} is not one of {options}{more}")


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
            try:
                amount = Decimal(str(value))
            except InvalidOperation:
                return str(value)
            text = f"{amount:,.2f}"
            return f"{text} {currency}" if currency else text
        case FieldType.BOOL:
            return "✓" if value else "·"
        case FieldType.CHOICE | FieldType.USER:
            return spec.choice_label(value) or str(value)
        case FieldType.MULTI_CHOICE:
            values = value if isinstance(value, list) else [value]
            return ", ".join(spec.choice_label(v) or str(v) for v in values)
        case FieldType.DATETIME:
            dt = parse_datetime(value)
            return dt.strftime("%Y-%m-%d %H:%M") if dt else str(value)
        case FieldType.NUMBER:
            return f"{value:,}" if isinstance(value, int) else str(value)
    return str(value)


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
        precision = "minutes" if not (dt.second or dt.microsecond) else "auto"
        return dt.replace(tzinfo=None).isoformat(sep=" ", timespec=precision)
    if spec.type is FieldType.MULTI_CHOICE and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
