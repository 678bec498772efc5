"""Value helpers: vendor timestamps and money, user input validation, display."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmtui.fields import (
    FieldError,
    cents_to_money,
    display,
    edit_text,
    html_to_text,
    iso,
    minor_units,
    money,
    money_to_cents,
    parse_date,
    parse_datetime,
    parse_number,
    use_timezone,
    validate,
)
from crmtui.model import Choice, FieldSpec, FieldType

STAGES = [
    Choice(value="10", label="New"),
    Choice(value="11", label="Negotiation"),
    Choice(value="12", label="Won"),
    Choice(value="13", label="Won back"),
    Choice(value="14", label="Lost"),
    Choice(value="15", label="Lost to competitor"),
]


def spec(kind: FieldType, **extra: Any) -> FieldSpec:
    return FieldSpec(key=kind.value, label=kind.value.replace("_", " ").title(), type=kind, **extra)


STAGE = spec(FieldType.CHOICE, choices=STAGES)


@pytest.fixture(autouse=True)
def utc_user() -> Iterator[None]:
    """These tests read and show times as a user whose zone is UTC (see test_timezone.py)."""
    use_timezone("UTC")
    yield
    use_timezone(None)


EVERY_SPEC = [
    spec(FieldType.TEXT, max_length=20),
    spec(FieldType.NUMBER, min=0, max=100),
    spec(FieldType.MONEY),
    spec(FieldType.DATE),
    spec(FieldType.DATETIME),
    spec(FieldType.BOOL),
    STAGE,
    spec(FieldType.MULTI_CHOICE, choices=STAGES),
    spec(FieldType.USER, choices=[Choice(value="u1", label="Ann Lee")]),
]


# -- parse_datetime / iso / parse_date -------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05T14:30:00Z", datetime(2024, 3, 5, 14, 30, tzinfo=UTC)),
        ("2024-03-05T14:30:00z", datetime(2024, 3, 5, 14, 30, tzinfo=UTC)),
        ("2024-03-05T14:30:00+05:30", datetime(2024, 3, 5, 9, 0, tzinfo=UTC)),
        ("2024-03-05T14:30:00-0400", datetime(2024, 3, 5, 18, 30, tzinfo=UTC)),
        ("2024-03-05T14:30:00", datetime(2024, 3, 5, 14, 30, tzinfo=UTC)),  # naive = UTC
        ("2024-03-05 14:30:00", datetime(2024, 3, 5, 14, 30, tzinfo=UTC)),
        ("2024-03-05T14:30:00.123456Z", datetime(2024, 3, 5, 14, 30, 0, 123456, tzinfo=UTC)),
        ("2024-03-05T14:30:00.123-02:00", datetime(2024, 3, 5, 16, 30, 0, 123000, tzinfo=UTC)),
        ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),
        (1709649000123, datetime(2024, 3, 5, 14, 30, 0, 123000, tzinfo=UTC)),  # epoch ms
        ("1709649000123", datetime(2024, 3, 5, 14, 30, 0, 123000, tzinfo=UTC)),
        (1709649000123.0, datetime(2024, 3, 5, 14, 30, 0, 123000, tzinfo=UTC)),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (datetime(2024, 3, 5, 14, 30), datetime(2024, 3, 5, 14, 30, tzinfo=UTC)),
    ],
)
def test_parse_datetime(value: Any, expected: datetime) -> None:
    parsed = parse_datetime(value)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "garbage",
        "2024-13-45",
        "yesterday",
        True,
        "²",  # a digit to str.isdigit, not to int()
        "99999999999999999999",  # epoch ms far out of range
        10**20,
        float("nan"),
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    ],
)
def test_parse_datetime_garbage_is_none(value: Any) -> None:
    assert parse_datetime(value) is None


def test_iso_is_utc_text() -> None:
    offset = datetime(2024, 3, 5, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    assert iso(offset) == "2024-03-05T12:30:00+00:00"
    assert iso(datetime(2024, 3, 5, 14, 30)) == "2024-03-05T14:30:00+00:00"
    assert iso(None) is None
    assert parse_datetime(iso(offset)) == offset


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05", date(2024, 3, 5)),
        ("2024-03-05T23:30:00-05:00", date(2024, 3, 5)),
        (1709649000123, date(2024, 3, 5)),
        (datetime(2024, 3, 5, 1, 0), date(2024, 3, 5)),
        (date(2024, 3, 5), date(2024, 3, 5)),
        ("", None),
        (None, None),
        ("soon", None),
    ],
)
def test_parse_date(value: Any, expected: date | None) -> None:
    assert parse_date(value) == expected


# -- money -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1250", "1250.00"),
        (1250, "1250.00"),
        (1250.5, "1250.50"),
        ("  99.9 ", "99.90"),
        (Decimal("0.005"), "0.005"),  # never rounded
        ("-12.345", "-12.345"),
        ("1E+3", "1000.00"),
        ("", None),
        (None, None),
        ("a lot", None),
        ("NaN", None),
        ("Infinity", None),
        ("1e30", None),  # too many digits to keep the cents: not a crash
    ],
)
def test_money(value: Any, expected: str | None) -> None:
    assert money(value) == expected


def test_cents() -> None:
    assert cents_to_money(125000) == "1250.00"
    assert cents_to_money("99") == "0.99"
    assert cents_to_money(None) is None
    assert money_to_cents("1250.5") == 125050
    assert money_to_cents(19.99) == 1999
    assert money_to_cents("x") is None


@pytest.mark.parametrize("amount", ["1.005", "1.235", "0.001"])
def test_cents_refuse_a_fraction_of_a_cent(amount: str) -> None:
    """ActiveCampaign keeps integer cents: KWD 1.005 is refused, never sent as 1.00."""
    with pytest.raises(FieldError, match="more than 2 decimals"):
        money_to_cents(amount)


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_cents_round_trip(cents: int) -> None:
    assert money_to_cents(cents_to_money(cents)) == cents


@given(st.decimals(min_value=-(10**12), max_value=10**12, allow_nan=False, places=2))
def test_money_round_trip(amount: Decimal) -> None:
    text = money(amount)
    assert text is not None
    assert Decimal(text) == amount
    assert money(text) == text
    assert cents_to_money(money_to_cents(text)) == text


# -- validate ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        (spec(FieldType.TEXT), "  Acme Ltd  ", "Acme Ltd"),
        (spec(FieldType.TEXT, max_length=4), "Acme", "Acme"),
        (spec(FieldType.NUMBER), "42", 42),
        (spec(FieldType.NUMBER), "1,234,567", 1234567),
        (spec(FieldType.NUMBER), "1,234.5", 1234.5),
        (spec(FieldType.NUMBER), "0.1", 0.1),
        (spec(FieldType.NUMBER), "2.5", 2.5),
        (spec(FieldType.NUMBER), "-3", -3),
        (spec(FieldType.NUMBER, min=0, max=100), "100", 100),
        (spec(FieldType.NUMBER, min=0, max=100), "0", 0),
        (spec(FieldType.MONEY), "$1,250.5", "1250.50"),
        (spec(FieldType.MONEY), "€ 99", "99.00"),
        (spec(FieldType.MONEY), "0", "0.00"),
        (spec(FieldType.DATE), "2024-03-05", "2024-03-05"),
        (spec(FieldType.DATE), " 2024-02-29 ", "2024-02-29"),
        (spec(FieldType.DATETIME), "2024-03-05 14:30", "2024-03-05T14:30:00+00:00"),
        (spec(FieldType.DATETIME), "2024-03-05T14:30:15", "2024-03-05T14:30:15+00:00"),
        (spec(FieldType.DATETIME), "2024-03-05 14:30+02:00", "2024-03-05T12:30:00+00:00"),
        (spec(FieldType.DATETIME), "2024-03-05", "2024-03-05T00:00:00+00:00"),
        (spec(FieldType.DATETIME), "2024-03-05 9:05 UTC", "2024-03-05T09:05:00+00:00"),
        (spec(FieldType.DATETIME), "2024-03-05 14:30 -0500", "2024-03-05T19:30:00+00:00"),
        (spec(FieldType.BOOL), "yes", True),
        (spec(FieldType.BOOL), "Done", True),
        (spec(FieldType.BOOL), "✓", True),
        (spec(FieldType.BOOL), "no", False),
        (spec(FieldType.BOOL), "", False),
        (spec(FieldType.BOOL), True, True),
        (STAGE, "11", "11"),  # by value
        (STAGE, "negotiation", "11"),  # by label, any case
        (STAGE, "neg", "11"),  # by unique prefix
        (STAGE, "won", "12"),  # an exact label wins over the prefix of "Won back"
        (STAGE, "won b", "13"),
        (spec(FieldType.CHOICE), "anything", "anything"),  # no choices known: free text
        (spec(FieldType.USER, choices=[Choice(value="u1", label="Ann Lee")]), "ann", "u1"),
        (spec(FieldType.MULTI_CHOICE, choices=STAGES), "new, 14", ["10", "14"]),
        (spec(FieldType.MULTI_CHOICE, choices=STAGES), "", None),
        (spec(FieldType.TEXT), "", None),
        (spec(FieldType.NUMBER), None, None),
    ],
)
def test_validate_accepts(field: FieldSpec, text: Any, expected: Any) -> None:
    assert validate(field, text) == expected


@pytest.mark.parametrize(
    ("field", "text", "says"),
    [
        (spec(FieldType.TEXT, max_length=4), "Acme Ltd", "at most 4 characters"),
        (spec(FieldType.NUMBER), "forty", "is not a number"),
        (spec(FieldType.NUMBER), "NaN", "is not a number"),
        (spec(FieldType.NUMBER), "inf", "is not a number"),
        (spec(FieldType.NUMBER), "1e999999", "too large"),  # was a 30 s hang, then ValueError
        (spec(FieldType.NUMBER, min=0, max=100), "101", "at most 100"),
        (spec(FieldType.NUMBER, min=0, max=100), "-1", "at least 0"),
        (spec(FieldType.MONEY), "12 dollars", "is not a number"),
        (spec(FieldType.MONEY), "1e13", "too large"),
        (spec(FieldType.DATE), "05/03/2024", "use YYYY-MM-DD"),
        (spec(FieldType.DATE), "2023-02-29", "use YYYY-MM-DD"),
        (spec(FieldType.DATETIME), "tomorrow 9am", "use YYYY-MM-DD HH:MM"),
        (spec(FieldType.DATETIME), "0001-01-01 00:00+05:00", "use YYYY-MM-DD HH:MM"),
        (spec(FieldType.DATETIME), "9999-12-31 23:59-05:00", "use YYYY-MM-DD HH:MM"),
        (spec(FieldType.BOOL), "maybe", "answer yes or no"),
        (STAGE, "Pending", "is not one of New, Negotiation"),
        (STAGE, "lo", "matches several choices"),
        (STAGE, "n", "matches several choices"),
        (spec(FieldType.MULTI_CHOICE, choices=STAGES), "new, bogus", "'bogus' is not one of"),
    ],
)
def test_validate_refuses(field: FieldSpec, text: str, says: str) -> None:
    with pytest.raises(FieldError) as caught:
        validate(field, text)
    assert says in str(caught.value)
    assert str(caught.value).startswith(field.label)


@pytest.mark.parametrize("field", EVERY_SPEC, ids=lambda f: f.type.value)
@pytest.mark.parametrize("text", ["", "   ", None])
def test_required_refuses_empty(field: FieldSpec, text: str | None) -> None:
    required = field.model_copy(update={"required": True})
    with pytest.raises(FieldError, match="is required"):
        validate(required, text)


def test_required_multi_choice_refuses_only_commas() -> None:
    field = spec(FieldType.MULTI_CHOICE, choices=STAGES, required=True)
    with pytest.raises(FieldError, match="is required"):
        validate(field, " , ,")


def test_many_choices_are_listed_with_an_ellipsis() -> None:
    field = spec(FieldType.CHOICE, choices=[Choice(value=str(n), label=f"S{n}") for n in range(12)])
    with pytest.raises(FieldError, match="S7…"):
        validate(field, "zzz")


@given(field=st.sampled_from(EVERY_SPEC), text=st.text(max_size=40))
def test_validate_raises_only_field_error(field: FieldSpec, text: str) -> None:
    with contextlib.suppress(FieldError):
        validate(field, text)


@given(
    field=st.sampled_from([spec(FieldType.DATETIME), spec(FieldType.DATE)]),
    text=st.datetimes(timezones=st.timezones() | st.none()).map(str),
)
def test_validate_datetimes_raise_only_field_error(field: FieldSpec, text: str) -> None:
    with contextlib.suppress(FieldError):
        validate(field, text)


@given(
    field=st.sampled_from([spec(FieldType.NUMBER), spec(FieldType.MONEY)]),
    text=st.from_regex(r"-?[0-9]{1,3}(\.[0-9]*)?[eE][+-]?[0-9]{1,12}", fullmatch=True),
)
def test_validate_numbers_raise_only_field_error(field: FieldSpec, text: str) -> None:
    with contextlib.suppress(FieldError):
        validate(field, text)


# -- numbers and money: one reading or refused, never rounded --------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1000.50", Decimal("1000.50")),
        ("1,000.50", Decimal("1000.50")),  # English grouping: a dot follows
        ("1,000,000", Decimal("1000000")),  # two commas cannot be a decimal comma
        ("12,400,000.5", Decimal("12400000.5")),
        ("1 000 000", Decimal("1000000")),
        ("1\u00a0000.5", Decimal("1000.5")),
        ("1_000", Decimal("1000")),
        ("1'000.25", Decimal("1000.25")),
        ("$ 12.5", Decimal("12.5")),
        ("-12.345", Decimal("-12.345")),
        ("+7", Decimal("7")),
        (".5", Decimal("0.5")),
        ("1e3", Decimal("1000")),
    ],
)
def test_parse_number_accepts_one_reading(text: str, number: Decimal) -> None:
    assert parse_number(text) == number


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("1.000,50", "'1.000,50' can be read two ways; write 1000.50"),
        ("-1.000,50", "write -1000.50"),
        ("12,5", "use a dot for decimals; write 12.5"),
        ("0,125", "write 0.125"),
        ("12,400", "'12,400' can be read two ways; write 12400 or 12.4"),
        ("1,000", "write 1000 or 1"),
        ("1.000.000", "write 1000000"),
        ("1,00.5", "commas may only group thousands"),
        ("1,0000.5", "commas may only group thousands"),
        ("12..5", "is not a number"),
        ("twelve", "is not a number"),
        ("1.2.3", "is not a number"),
        ("€", "'€' is not a number"),  # a symbol alone: was an IndexError (hypothesis)
        ("$ -", "'-' is not a number"),
        ("+", "'+' is not a number"),
    ],
)
def test_parse_number_refuses_what_reads_two_ways(text: str, says: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_number(text)
    assert says in str(caught.value)


@pytest.mark.parametrize(
    ("text", "currency", "value"),
    [
        ("1,000.50", "USD", "1000.50"),
        ("12.5", "EUR", "12.50"),
        ("12.50", "USD", "12.50"),
        ("12.500", "USD", "12.50"),  # trailing zeros change nothing
        ("1250", "JPY", "1250.00"),
        ("1.005", "KWD", "1.005"),
        ("0.125", "BHD", "0.125"),
        ("-0", "USD", "0.00"),
        ("12.34", None, "12.34"),  # no currency known: 2 decimals
        ("12.34", "usd", "12.34"),
    ],
)
def test_money_is_exact_for_its_currency(text: str, currency: str | None, value: str) -> None:
    assert validate(spec(FieldType.MONEY), text, currency=currency) == value


@pytest.mark.parametrize(
    ("text", "currency", "says"),
    [
        ("1.000,50", "EUR", "can be read two ways; write 1000.50"),
        ("12,5", "USD", "write 12.5"),
        ("12.345", "USD", "more decimals than USD has (2 decimals); write 12.34 or 12.35"),
        ("12.345", "USD", "or 12345 if the dot groups thousands"),
        ("0.005", "USD", "write 0.00 or 0.01"),
        ("12.5", "JPY", "more decimals than JPY has (no decimals); write 12 or 13"),
        ("1.0005", "KWD", "(3 decimals)"),
        ("0.001", None, "more decimals than this amount has"),
    ],
)
def test_money_with_more_decimals_than_its_currency_is_refused(
    text: str, currency: str | None, says: str
) -> None:
    with pytest.raises(FieldError) as caught:
        validate(spec(FieldType.MONEY), text, currency=currency)
    assert says in str(caught.value)


def test_minor_units_follow_iso_4217() -> None:
    assert [minor_units(c) for c in ("USD", "EUR", "JPY", "KWD", "BHD", "CLF")] == [
        2,
        2,
        0,
        3,
        3,
        4,
    ]
    assert minor_units(None) == minor_units("") == minor_units("???") == minor_units("XAU") == 2


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("12.345", None),  # numbers keep their decimals
        ("12,5", "write 12.5"),
        ("1.000,50", "write 1000.50"),
        ("0.12345678901234567891", "more digits than can be kept"),  # a float would round it
    ],
)
def test_number_is_never_rounded(text: str, says: str | None) -> None:
    field = spec(FieldType.NUMBER)
    if says is None:
        assert Decimal(str(validate(field, text))) == Decimal(text)
        return
    with pytest.raises(FieldError, match=says):
        validate(field, text)


def test_display_money_shows_the_currency_decimals() -> None:
    money_spec = spec(FieldType.MONEY)
    assert display(money_spec, "1250.00", currency="JPY") == "1,250 JPY"
    assert display(money_spec, "1.005", currency="KWD") == "1.005 KWD"
    assert display(money_spec, "12.345") == "12.345"  # more than 2 decimals: all shown


# -- empty values -------------------------------------------------------------------------


@pytest.mark.parametrize("field", [f for f in EVERY_SPEC if f.type is not FieldType.BOOL])
def test_a_field_the_vendor_cannot_clear_refuses_empty(field: FieldSpec) -> None:
    kept = field.model_copy(update={"clearable": False})
    with pytest.raises(FieldError, match="cannot be"):
        validate(kept, "")
    assert validate(field.model_copy(update={"choices": []}), "") in (None, [])  # clearable


@pytest.mark.parametrize(
    "field", [STAGE, spec(FieldType.USER, choices=[Choice(value="u1", label="Ann Lee")])]
)
@pytest.mark.parametrize("text", ["", "  ", None])
def test_a_choice_refuses_empty(field: FieldSpec, text: str | None) -> None:
    with pytest.raises(FieldError, match="cannot be left empty: pick one of"):
        validate(field, text)


# -- display and edit_text -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        (spec(FieldType.MONEY), "1250000.5", "1,250,000.50"),
        (spec(FieldType.MONEY), "oops", "oops"),
        (spec(FieldType.BOOL), True, "✓"),
        (spec(FieldType.BOOL), False, "·"),
        (STAGE, "11", "Negotiation"),
        (STAGE, 12, "Won"),
        (STAGE, "99", "99"),  # an unknown stage still shows
        (spec(FieldType.MULTI_CHOICE, choices=STAGES), ["10", "14"], "New, Lost"),
        (spec(FieldType.DATETIME), "2024-03-05T14:30:00+02:00", "2024-03-05 12:30"),
        (spec(FieldType.DATETIME), "not a date", "not a date"),
        (spec(FieldType.NUMBER), 1234567, "1,234,567"),
        (spec(FieldType.NUMBER), 2.5, "2.5"),
        (spec(FieldType.NUMBER), 0, "0"),
        (spec(FieldType.DATE), "2024-03-05", "2024-03-05"),
        (spec(FieldType.TEXT), None, ""),
        (spec(FieldType.TEXT), "", ""),
        (spec(FieldType.MULTI_CHOICE), [], ""),
        (None, 42, "42"),
    ],
)
def test_display(field: FieldSpec | None, value: Any, shown: str) -> None:
    assert display(field, value) == shown


def test_display_money_with_currency() -> None:
    assert display(spec(FieldType.MONEY), "99", currency="EUR") == "99.00 EUR"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (spec(FieldType.TEXT), "Acme Ltd"),
        (spec(FieldType.NUMBER), 42),
        (spec(FieldType.NUMBER), 2.5),
        (spec(FieldType.MONEY), "1250.00"),
        (spec(FieldType.DATE), "2024-03-05"),
        (spec(FieldType.DATETIME), "2024-03-05T14:30:00+00:00"),
        (spec(FieldType.DATETIME), "2024-03-05T14:30:15+00:00"),  # seconds kept
        (spec(FieldType.DATETIME), "2024-03-05T14:30:15.250000+00:00"),
        (spec(FieldType.BOOL), True),
        (spec(FieldType.BOOL), False),
        (STAGE, "13"),
        (spec(FieldType.MULTI_CHOICE, choices=STAGES), ["10", "14"]),
        (spec(FieldType.USER, choices=[Choice(value="u1", label="Ann Lee")]), "u1"),
    ],
)
def test_edit_text_round_trips_through_validate(field: FieldSpec, value: Any) -> None:
    assert validate(field, edit_text(field, value)) == value


def test_edit_text_shapes() -> None:
    assert edit_text(spec(FieldType.DATETIME), "2024-03-05T14:30:00Z") == "2024-03-05 14:30"
    assert edit_text(spec(FieldType.BOOL), True) == "yes"
    assert edit_text(spec(FieldType.TEXT), None) == ""


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)))
def test_datetime_edit_round_trip(moment: datetime) -> None:
    field = spec(FieldType.DATETIME)
    value = iso(moment)
    assert validate(field, edit_text(field, value)) == value


# -- html_to_text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        (None, ""),
        ("", ""),
        ("Plain &amp; simple ", "Plain & simple"),
        ("<p>Hi&nbsp;Ann,</p><p>Thanks   for the call.</p>", "Hi Ann,\n\nThanks for the call."),
        ("line one<br>line two", "line one\nline two"),
        ("line one<br/>line two", "line one\nline two"),
        ("line one<br />line two", "line one\nline two"),
        ("<ul><li>price</li><li>terms</li></ul>", "• price\n• terms"),
        ("<p>Agenda:</p><ul><li>price</li></ul>", "Agenda:\n• price"),
        ("<style>p{color:red}</style><script>alert(1)</script><b>Bold</b> move", "Bold move"),
        ("<div>a</div>\n\n\n\n<div>b</div>", "a\n\nb"),
        ("5 < 6 and 7 > 3", "5 < 6 and 7 > 3"),
        ("<p>Caf&eacute; &#8212; ok</p>", "Café — ok"),
    ],
)
def test_html_to_text(html: str | None, text: str) -> None:
    assert html_to_text(html) == text


@given(st.text(max_size=200))
def test_html_to_text_never_raises(html: str) -> None:
    assert isinstance(html_to_text(html), str)


# -- what the vendor keeps, the record's currency and pipeline -----------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("1.005", "'1.005': this CRM keeps at most 2 decimals; write 1.00 or 1.01"),
        ("1.235", "write 1.23 or 1.24"),
    ],
)
def test_money_with_more_decimals_than_the_vendor_keeps_is_refused(text: str, says: str) -> None:
    """ActiveCampaign keeps integer cents: KWD 1.005 was sent as 1.00."""
    cents = spec(FieldType.MONEY, decimals=2)
    with pytest.raises(FieldError) as caught:
        validate(cents, text, currency="KWD")
    assert says in str(caught.value)
    assert validate(cents, "1.01", currency="KWD") == "1.010"


@pytest.mark.parametrize("text", ["12.5", "99.01", "1e-1"])
def test_a_whole_number_field_refuses_decimals(text: str) -> None:
    whole = spec(FieldType.NUMBER, decimals=0, min=0, max=100)
    with pytest.raises(FieldError, match="this CRM keeps a whole number; write"):
        validate(whole, text)
    assert validate(whole, "40") == 40


@pytest.mark.parametrize(
    ("text", "currency"),
    [("£100", "EUR"), ("$100", "EUR"), ("€100", "USD"), ("100 GBP", "EUR"), ("usd 5", "EUR")],
)
def test_a_symbol_or_code_of_another_currency_is_refused(text: str, currency: str) -> None:
    with pytest.raises(FieldError, match=f"this record is in {currency}|not in {currency}"):
        validate(spec(FieldType.MONEY), text, currency=currency)


@pytest.mark.parametrize(
    ("text", "currency", "value"),
    [
        ("€100", "EUR", "100.00"),
        ("$100", "CAD", "100.00"),
        ("100 EUR", "EUR", "100.00"),
        ("eur 1,250.50", "EUR", "1250.50"),
        ("¥1200", "JPY", "1200.00"),
        ("£5", None, "5.00"),  # no currency known: nothing to contradict
    ],
)
def test_the_record_currency_symbol_or_code_is_accepted(
    text: str, currency: str | None, value: str
) -> None:
    assert validate(spec(FieldType.MONEY), text, currency=currency) == value


PIPELINES = [
    Choice(value="s1", label="Won", group="Sales"),
    Choice(value="s2", label="Lost", group="Sales"),
    Choice(value="r1", label="Won", group="Renewals"),
    Choice(value="r2", label="Lost", group="Renewals"),
    Choice(value="r3", label="Quoted", group="Renewals"),
]


def test_a_stage_is_picked_in_the_record_pipeline() -> None:
    """Stage names repeat across pipelines: 'Won' was refused as matching several."""
    stage = spec(FieldType.CHOICE, choices=PIPELINES)
    assert validate(stage, "Won", group={"p1", "Sales"}) == "s1"
    assert validate(stage, "lost", group={"p2", "Renewals"}) == "r2"
    # a stage of another pipeline is refused, never a silent move to that pipeline
    with pytest.raises(FieldError, match="'Quoted' is in Renewals, not this record's pipeline"):
        validate(stage, "Quoted", group={"p1", "Sales"})
    with pytest.raises(FieldError, match="matches several choices"):
        validate(stage, "Won")  # no pipeline known: still never a guess


@pytest.mark.parametrize("text", [",", " , ,", ""])
def test_a_multi_choice_that_cannot_be_emptied_refuses_only_commas(text: str) -> None:
    tags = spec(FieldType.MULTI_CHOICE, choices=STAGES, clearable=False)
    with pytest.raises(FieldError, match="cannot be emptied"):
        validate(tags, text)


@pytest.mark.parametrize("text", ["+05:99", "+05:60", "+24:00", "-99", "+2400", "-24"])
def test_an_offset_out_of_range_is_refused_with_a_reason(text: str) -> None:
    """+05:99 was read as +06:39; +24:00 raised a bare ValueError (an empty error line)."""
    with pytest.raises(FieldError, match=f"{re.escape(text)} is not a UTC offset"):
        validate(spec(FieldType.DATETIME), f"2026-01-01 10:00 {text}")
    assert validate(spec(FieldType.DATETIME), "2026-01-01 10:00 +23:59") == (
        "2025-12-31T10:01:00+00:00"
    )


def test_any_error_reading_a_value_is_a_field_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import crmtui.fields as fields

    def broken(*args: object) -> object:
        raise ValueError("offset must be a timedelta")

    monkeypatch.setattr(fields, "_user_datetime", broken)
    with pytest.raises(FieldError, match="Due: '2026-01-01' cannot be read"):
        validate(spec(FieldType.DATETIME).model_copy(update={"label": "Due"}), "2026-01-01")
