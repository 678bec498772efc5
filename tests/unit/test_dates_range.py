"""Dates are typed within years 1900..9999 and always written with a four-digit year.

Before, year 1 was accepted, then sent as "01/01/1" (SalesSeek), as an epoch SalesforceIQ
reads back as null, as "1-01-01T00:00:00Z" (Freshsales: 400) or failed inside the
ActiveCampaign adapter (OverflowError)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from crmtui.fields import FieldError, strftime, validate
from crmtui.model import FieldSpec, FieldType
from crmtui.vendors.mapping import Context, IsoDatetime

DATE = FieldSpec(key="due", label="Due", type=FieldType.DATE)
MOMENT = FieldSpec(key="at", label="At", type=FieldType.DATETIME)


@pytest.mark.parametrize(
    ("spec", "typed"),
    [
        (DATE, "0001-01-01"),
        (DATE, "1899-12-31"),
        (DATE, "0999-06-01"),
        (MOMENT, "0001-01-01 00:00 UTC"),
        (MOMENT, "1899-12-31 12:00 UTC"),
        (MOMENT, datetime(1, 1, 1, tzinfo=UTC)),
    ],
    ids=str,
)
def test_a_year_outside_1900_to_9999_is_refused_in_one_line(spec: FieldSpec, typed: object) -> None:
    with pytest.raises(FieldError) as raised:
        validate(spec, typed)
    text = str(raised.value)
    assert "out of range" in text and "1900 to 9999" in text and "\n" not in text


@pytest.mark.parametrize(
    ("spec", "typed", "kept"),
    [
        (DATE, "1900-01-01", "1900-01-01"),
        (DATE, "9999-12-31", "9999-12-31"),
        (MOMENT, "1900-01-01 12:00 UTC", "1900-01-01T12:00:00+00:00"),
    ],
)
def test_the_ends_of_the_range_are_taken(spec: FieldSpec, typed: str, kept: str) -> None:
    assert validate(spec, typed) == kept


def test_a_year_is_written_with_four_digits() -> None:
    assert strftime(date(1, 2, 3), "%m/%d/%Y") == "02/03/0001"
    assert strftime(datetime(999, 1, 1, tzinfo=UTC), "%Y-%m-%dT%H:%M:%SZ") == (
        "0999-01-01T00:00:00Z"
    )
    assert IsoDatetime().write("0999-01-01T00:00:00+00:00", Context("x")) == (
        "0999-01-01T00:00:00Z"
    )
