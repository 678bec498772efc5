"""The notebook's HTML shows times as the app does: local, marked with the zone.

It showed Created, Updated and the timeline in UTC with no mark, beside fields in local
time: 16:43 next to 22:13 IST for the same moment.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from crmtui.fields import use_timezone
from crmtui.model import Activity, Record
from crmtui.notebook_html import cell_text, record_html, timeline_html

MOMENT = datetime(2026, 12, 1, 16, 43, tzinfo=UTC)


@pytest.fixture
def kolkata() -> Iterator[None]:
    use_timezone("Asia/Kolkata")
    yield
    use_timezone(None)


def test_records_and_timelines_show_local_marked_times(kolkata: None) -> None:
    record = Record(
        vendor="demo", profile="p", kind="contact", id="1", title="Ann",
        created_at=MOMENT, updated_at=MOMENT,
    )  # fmt: skip
    assert cell_text(record, "created_at", {}) == "2026-12-01 22:13 IST"
    assert cell_text(record, "updated_at", {}) == "2026-12-01 22:13 IST"
    assert "2026-12-01 22:13 IST" in record_html(record, {})
    assert "16:43" not in record_html(record, {})
    note = Activity(id="a", occurred_at=MOMENT, summary="Call back", type="note")
    assert "2026-12-01 22:13 IST · note" in timeline_html([note])
