"""The one money format and the queued-value overlay, attacked with what vendors send:
amounts no screen can write out, amounts as text with thousands commas, titles whose
words hold the same text as an edited value."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from crmtui.fields import date_text, local_text, money_text, use_timezone
from crmtui.model import Change, Record, RecordRef
from crmtui.store import optimistic, rows


@pytest.mark.parametrize(
    ("value", "currency", "shown"),
    [
        # a vendor amount a billion digits long: shown in its exponent form, no Overflow
        ("1e999999999", "USD", "1E+999999999 USD"),
        ("-1e999999999", "EUR", "-1E+999999999 EUR"),
        # a billion zeros after the point: the same, never written out
        ("1e-999999999", "USD", "1E-999999999 USD"),
        (10**30, "USD", "1E+30 USD"),
        # the largest amount written out in full
        (10**29, "JPY", "100,000,000,000,000,000,000,000,000,000 JPY"),
        # an amount a vendor sends as text with commas grouping thousands
        ("1,234.50", "USD", "1,234.50 USD"),
        ("1,234,567", "JPY", "1,234,567 JPY"),
        ("-1,234.5", "KWD", "-1,234.500 KWD"),
        # read two ways (12400 or 12.4): shown as the vendor wrote it, never guessed
        ("12,400", "EUR", "12,400"),
        ("1.234,50", "EUR", "1.234,50"),
        # 0 and 3 decimals, negative, no currency
        (0, "JPY", "0 JPY"),
        ("-0.5", "BHD", "-0.500 BHD"),
        (-1234.5, None, "-1,234.50"),
        ("NaN", "USD", "NaN"),
        ("-Infinity", "USD", "-Infinity"),
    ],
)
def test_money_text_of_what_vendors_send(value: Any, currency: str | None, shown: str) -> None:
    assert money_text(value, currency) == shown


def test_dates_across_dst_keep_two_moments_apart() -> None:
    """The two 01:30 of New York's fall-back night read differently."""
    use_timezone("America/New_York")
    try:
        first = local_text(datetime(2026, 11, 1, 5, 30, tzinfo=UTC))
        second = local_text(datetime(2026, 11, 1, 6, 30, tzinfo=UTC))
    finally:
        use_timezone(None)
    assert first == "2026-11-01 01:30 EDT"
    assert second == "2026-11-01 01:30 EST"
    assert date_text("2026-11-17T23:30:00-08:00") == "2026-11-17"


def _queued(fields: dict[str, Any], title: str, subtitle: str, **values: Any) -> Record:
    ref = RecordRef(profile="p", kind="task", id="1")
    record = Record(
        vendor="v", profile="p", kind="task", id="1", title=title, subtitle=subtitle, fields=fields
    )
    shown = optimistic.apply(rows.Version(record), Change(ref=ref, values=values), "v")
    assert shown is not None
    return shown.record


def test_overlay_leaves_the_users_words_alone() -> None:
    """A subject (the title) holding the due date's text keeps its words while the date
    edit is queued; the subtitle's date follows the edit."""
    fields = {"subject": "Renew the 2026-12-01 contract", "due_date": "2026-12-01"}
    record = _queued(
        fields, fields["subject"], "Call · due 2026-12-01 · Ann", due_date="2026-12-05"
    )
    assert record.title == "Renew the 2026-12-01 contract"
    assert record.subtitle == "Call · due 2026-12-05 · Ann"


def test_overlay_leaves_a_name_holding_the_amount_alone() -> None:
    fields = {"name": "Deal 8,000.00 GBP", "company": "8,000.00 GBP Ltd", "amount": "8000.00"}
    fields["currency"] = "GBP"
    record = _queued(fields, fields["name"], "8,000.00 GBP · Won · 8,000.00 GBP Ltd", amount="9000")
    assert record.title == "Deal 8,000.00 GBP"
    assert record.subtitle == "9,000.00 GBP · Won · 8,000.00 GBP Ltd"


def test_overlay_keeps_markup_as_text() -> None:
    fields = {"name": "[b]Big[/b] deal", "amount": "10", "currency": "USD"}
    record = _queued(fields, fields["name"], "[red]10.00 USD[/red] · Open", amount="20")
    assert record.title == "[b]Big[/b] deal"
    assert record.subtitle == "[red]20.00 USD[/red] · Open"
