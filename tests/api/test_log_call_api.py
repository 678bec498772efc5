"""``Client.log_call`` (issue 17 point 2 in a notebook): a call logged on a record as the
app's `L` does it, choices by the vendor's label, with a follow-up task."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crmtui.api import Client, open_demo
from crmtui.fields import FieldError
from crmtui.http import Http
from tests.helpers.calls import follow_ups, vendor_calls
from tests.helpers.waits import no_sleep


@pytest.fixture
async def crm(tmp_path: Path) -> AsyncIterator[Client]:
    client = await open_demo(
        "salesloft", store_path=tmp_path / "cache.sqlite3", http=Http(sleep=no_sleep)
    )
    yield client
    await client.close()


async def test_log_call_from_a_notebook(crm: Client) -> None:
    db = crm.service.http.transport._mounts["http://salesloft.localhost"].app.state.db
    person = (await crm.records("contact", limit=1))[0]
    await crm.timeline(person)
    before = len(vendor_calls("salesloft", db))
    crm.service.outbox.paused = True  # to see it queued before it goes
    logged = await crm.log_call(
        person,
        "Asked for the pilot terms",
        duration=5,
        disposition="Connected",
        sentiment="Positive",
        follow_up="Send the pilot terms 17",
        due="2027-01-15",
    )
    assert logged.follow_up is not None
    shown = (await crm.timeline(person))[0]
    assert shown.id == f"local:{logged.change.id}"
    assert shown.summary == "Call · Connected · Positive · 5 min: Asked for the pilot terms"
    crm.service.outbox.paused = False
    await crm.sync_outbox()
    made = vendor_calls("salesloft", db)
    assert len(made) == before + 1
    assert made[-1]["outcome"] == ("Connected", "Positive") and made[-1]["seconds"] == 300
    assert len(follow_ups("salesloft", db, "Send the pilot terms 17")) == 1
    with pytest.raises(FieldError, match="Disposition"):
        await crm.log_call(person, disposition="Asleep")
