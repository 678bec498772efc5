"""Local time: datetimes shown and typed in the user's zone, kept and sent in UTC.

The zone is the system's (``TZ`` here) or ``timezone`` in config.toml. Checked in New
York (system) and Berlin (config), on ordinary days and on the days the clocks change.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmtui.config import Config
from crmtui.fields import (
    FieldError,
    display,
    edit_text,
    iso,
    local_text,
    local_zone,
    use_timezone,
    validate,
)
from crmtui.model import FieldSpec, FieldType, KindInfo, Record, Role
from crmtui.ui.screens.my_day import classify, due_text

DUE = FieldSpec(key="due_at", label="Due", type=FieldType.DATETIME, writable=True)
DAY = FieldSpec(key="close", label="Close", type=FieldType.DATE, writable=True)


@pytest.fixture
def new_york() -> Iterator[None]:
    """The system's zone is New York (TZ), no timezone in config.toml."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    use_timezone(None)
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    use_timezone(None)


@pytest.fixture
def berlin(tmp_path: Path) -> Iterator[None]:
    """config.toml says ``timezone = "Europe/Berlin"`` (the system's zone is ignored)."""
    path = tmp_path / "config.toml"
    path.write_text('timezone = "Europe/Berlin"\n', encoding="utf-8")
    use_timezone(Config.load(path).timezone)
    yield
    use_timezone(None)


def test_new_york_reads_and_shows_local_time(new_york: None) -> None:
    assert getattr(local_zone(), "key", None) == "America/New_York"
    # typed 09:00 in New York is 14:00 UTC (it used to be sent as 09:00 UTC: 04:00 local)
    assert validate(DUE, "2026-12-01 09:00") == "2026-12-01T14:00:00+00:00"
    assert validate(DUE, "2026-07-01 09:00") == "2026-07-01T13:00:00+00:00"  # summer: EDT
    assert display(DUE, "2026-12-01T14:00:00+00:00") == "2026-12-01 09:00 EST"
    assert display(DUE, "2026-07-01T13:00:00Z") == "2026-07-01 09:00 EDT"
    assert edit_text(DUE, "2026-12-01T14:00:00+00:00") == "2026-12-01 09:00 EST"
    # a zone typed with the time wins over the local one
    assert validate(DUE, "2026-12-01 09:00 UTC") == "2026-12-01T09:00:00+00:00"
    assert validate(DUE, "2026-12-01 09:00 +01:00") == "2026-12-01T08:00:00+00:00"
    assert validate(DUE, "2026-12-01 09:00 Europe/Berlin") == "2026-12-01T08:00:00+00:00"
    # a date alone is local midnight in a datetime field, and stays a date in a date field
    assert validate(DUE, "2026-12-01") == "2026-12-01T05:00:00+00:00"
    assert validate(DAY, "2026-12-01") == "2026-12-01"
    assert display(DAY, "2026-12-01") == "2026-12-01"


def test_berlin_from_config_reads_and_shows_local_time(berlin: None) -> None:
    assert getattr(local_zone(), "key", None) == "Europe/Berlin"
    assert validate(DUE, "2026-12-01 09:00") == "2026-12-01T08:00:00+00:00"
    assert display(DUE, "2026-12-01T08:00:00Z") == "2026-12-01 09:00 CET"
    assert display(DUE, "2026-07-01T07:00:00Z") == "2026-07-01 09:00 CEST"
    assert local_text(datetime(2026, 12, 1, 23, 30, tzinfo=UTC)) == "2026-12-02 00:30 CET"


@pytest.mark.parametrize(
    ("zone", "skipped", "later", "twice", "readings"),
    [
        ("America/New_York", "2026-03-08 02:30", "03:30", "2026-11-01 01:30", ("EDT", "EST")),
        ("Europe/Berlin", "2026-03-29 02:30", "03:30", "2026-10-25 02:30", ("CEST", "CET")),
    ],
)
def test_the_days_the_clocks_change(
    zone: str, skipped: str, later: str, twice: str, readings: tuple[str, str]
) -> None:
    use_timezone(zone)
    try:
        with pytest.raises(FieldError, match=f"does not exist in {zone}.*write {later}"):
            validate(DUE, skipped)  # the clocks go forward over it
        first, second = readings
        with pytest.raises(FieldError, match=f"happens twice in {zone}.*{first} or .*{second}"):
            validate(DUE, twice)  # the clocks go back over it: which one?
        summer = validate(DUE, f"{twice} {first}")
        winter = validate(DUE, f"{twice} {second}")
        assert datetime.fromisoformat(winter) - datetime.fromisoformat(summer) == timedelta(hours=1)
        assert display(DUE, summer).endswith(first) and display(DUE, winter).endswith(second)
        assert validate(DUE, edit_text(DUE, winter)) == winter  # the editor's text is exact
        with pytest.raises(FieldError, match="is not the zone of"):
            validate(DUE, f"{twice} PST")
    finally:
        use_timezone(None)


@given(
    moment=st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1)),
    zone=st.sampled_from(["America/New_York", "Europe/Berlin", "Asia/Kolkata", "UTC"]),
)
def test_the_editor_text_gives_back_the_same_moment_in_any_zone(
    moment: datetime, zone: str
) -> None:
    use_timezone(zone)
    try:
        value = iso(moment.replace(tzinfo=UTC))
        assert validate(DUE, edit_text(DUE, value)) == value
    finally:
        use_timezone(None)


def test_my_day_counts_days_in_the_users_zone(new_york: None) -> None:
    now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 22:00 on the 19th in New York
    late = Record(
        vendor="x",
        profile="p",
        kind="task",
        id="1",
        title="T",
        fields={"due_at": "2026-11-20T04:30:00Z"},  # 23:30 on the 19th in New York
    )
    info = KindInfo(kind="task", label="Tasks", singular="Task", roles={Role.DUE: "due_at"})
    task = classify(late, info, now)
    assert task is not None and not task.overdue  # due today, local: not tomorrow (UTC)
    assert task.due.tzinfo is not None and task.due.utcoffset() == ZoneInfo(
        "America/New_York"
    ).utcoffset(datetime(2026, 11, 19))
    assert due_text(task) == "2026-11-19 23:30 EST"  # the app's one date format


@pytest.fixture
def system_tz() -> Iterator[Callable[[str], None]]:
    """Set the system's TZ (any form the C library reads), no timezone in config.toml."""
    before = os.environ.get("TZ")

    def set_tz(value: str) -> None:
        os.environ["TZ"] = value
        time.tzset()
        use_timezone(None)

    yield set_tz
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()
    use_timezone(None)


@pytest.mark.parametrize(
    ("tz", "typed_utc", "mark"),
    [
        # the wall time now decides the offset (these are fixed offsets all year)
        ("IST-5:30", "2026-07-01T04:30:00+00:00", "IST"),
        ("<+0530>-5:30", "2026-07-01T04:30:00+00:00", "+05:30"),
    ],
)
def test_a_posix_tz_is_the_system_offset_never_utc(
    system_tz: Callable[[str], None], tz: str, typed_utc: str, mark: str
) -> None:
    """TZ="IST-5:30" (not an IANA name) was read as UTC, with no zone mark."""
    system_tz(tz)
    assert validate(DUE, "2026-07-01 10:00") == typed_utc
    assert display(DUE, "2026-07-01T04:30:00Z") == f"2026-07-01 10:00 {mark}"


def test_a_posix_tz_with_summer_time_follows_its_rules(
    system_tz: Callable[[str], None],
) -> None:
    """The C library's rules, moment by moment: July is CEST even in December."""
    system_tz("CET-1CEST,M3.5.0,M10.5.0/3")
    assert display(DUE, "2026-07-01T12:00:00Z") == "2026-07-01 14:00 CEST"
    assert display(DUE, "2026-01-15T12:00:00Z") == "2026-01-15 13:00 CET"
    assert validate(DUE, "2026-07-01 10:00") == "2026-07-01T08:00:00+00:00"
    assert validate(DUE, "2026-01-15 10:00") == "2026-01-15T09:00:00+00:00"
    # the clocks go back at 03:00 CEST on 2026-10-25: 02:30 happens twice
    with pytest.raises(FieldError, match="happens twice"):
        validate(DUE, "2026-10-25 02:30")
    for moment in ("2026-10-25T00:30:00+00:00", "2026-10-25T01:30:00+00:00"):
        assert validate(DUE, edit_text(DUE, moment)) == moment
    assert display(DUE, "2026-10-25T01:30:00Z") == "2026-10-25 02:30 CET"
    # and forward at 02:00 CET on 2026-03-29: 02:30 does not exist
    with pytest.raises(FieldError, match="does not exist"):
        validate(DUE, "2026-03-29 02:30")


def test_two_moments_with_one_name_are_told_apart(system_tz: Callable[[str], None]) -> None:
    """Moscow 2014-10-26 01:30 happened twice, both "MSK": marked with the offset too, and
    the editor's text gives back the same moment (it shifted by an hour)."""
    system_tz("Europe/Moscow")
    first, second = "2014-10-25T21:30:00+00:00", "2014-10-25T22:30:00+00:00"
    assert display(DUE, first) == "2014-10-26 01:30 MSK +04:00"
    assert display(DUE, second) == "2014-10-26 01:30 MSK +03:00"
    for moment in (first, second):
        assert validate(DUE, edit_text(DUE, moment)) == moment
    with pytest.raises(FieldError, match="happens twice"):
        validate(DUE, "2014-10-26 01:30 MSK")  # the name alone cannot tell
    assert display(DUE, "2014-12-01T09:00:00Z") == "2014-12-01 12:00 MSK"  # once: the name
