"""Activities the vendor cannot list back (SalesforceIQ events) survive a restart."""

from __future__ import annotations

from pathlib import Path

from crmtui.demo import demo_profiles, mount
from crmtui.http import Http
from crmtui.model import Query
from crmtui.service import Crm
from crmtui.store import Store

PROFILE = "demo-salesforceiq"


def open_crm(path: Path, app: object | None = None) -> tuple[Crm, object]:
    http = Http()
    demos = demo_profiles(vendors=["salesforceiq"])
    if app is not None:
        demos[0].app = app  # the same sandbox, as a real vendor would be
    profiles = mount(http, demos)
    return Crm(Store(path), http, profiles), demos[0].app


async def test_a_logged_event_is_still_on_the_timeline_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    crm, app = open_crm(path)
    contact = (await crm.refresh(PROFILE, "contact", Query())).records[0]
    await crm.add_note(contact.ref, "Called about the renewal; send pricing Friday")
    await crm.outbox.flush(PROFILE)
    assert crm.queued(PROFILE) == 0
    before = await crm.timeline(contact.ref)
    assert any("renewal" in a.body for a in before if a.kept)
    await crm.close()
    await crm.http.aclose()
    crm.store.close()

    again, _ = open_crm(path, app)  # the app restarted: the adapter remembers nothing
    after = await again.timeline(contact.ref)
    assert [a.id for a in after if a.kept] == [a.id for a in before if a.kept]
    await again.http.aclose()
    again.store.close()
