"""Which kinds take a note, per vendor, as its docs say: a note on one of them reaches the
vendor (its sandbox follows the docs); a note on any other kind is refused by
``Crm.add_note`` before anything is queued, in words naming the kind and the kinds that
take notes (not queued, then failed by the outbox later).

The docs (the vendor's seeds):
- Freshsales ``POST /api/notes``: ``targetable_type`` Lead, Contact, SalesAccount, Deal.
- Salesloft ``POST /v2/notes``: ``associated_with_type`` person or account.
- ActiveCampaign: deal notes (a deal's activities hold them, ``data_type`` "note").
- SalesSeek ``POST /activities`` of ``activity_type`` note: ``target_type``
  organization, opportunity or individual.
- SalesforceIQ: a note is an event (``PUT /events``) with the record's contacts, on every
  kind (its lists are named at run time).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from crmtui.http import Rejected
from crmtui.model import RecordRef
from crmtui.service import Crm
from tests.helpers.service import demo_service

TEXT = "Spoke with them about the renewal\nSend the terms"
ANY = "*"  # every kind

DOCUMENTED: dict[str, set[str]] = {
    "freshsales": {"lead", "contact", "company", "deal"},
    "salesloft": {"contact", "company"},
    "activecampaign": {"deal"},
    "salesseek": {"company", "contact", "deal"},
    "salesforceiq": {ANY},
}


@dataclass
class Demo:
    crm: Crm
    profile: str
    vendor: str


@pytest.fixture(params=sorted(DOCUMENTED))
async def demo(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Demo]:
    vendor = request.param
    async with demo_service(vendor, tmp_path) as crm:
        yield Demo(crm, f"demo-{vendor}", vendor)


def takes(demo: Demo, kind: str) -> bool:
    documented = DOCUMENTED[demo.vendor]
    return ANY in documented or kind in documented


async def test_each_kind_that_takes_notes_has_them_reach_the_vendor(demo: Demo) -> None:
    crm = demo.crm
    kinds = [k.kind for k in await crm.kinds(demo.profile)]
    taking = [k for k in kinds if takes(demo, k)]
    assert taking, "the vendor takes notes on some kind"
    for kind in taking:
        page = await crm.refresh(demo.profile, kind)
        assert page.records, f"the demo has a {kind}"
        ref = page.records[0].ref
        await crm.timeline(ref)
        change = await crm.add_note(ref, f"{TEXT} ({kind})")
        await crm.send_now(demo.profile)
        assert crm.changes(demo.profile) == [], (kind, [c.last_error for c in crm.changes()])
        shown = crm.cached_timeline(ref)
        assert shown is not None
        assert [a for a in shown if a.body and f"({kind})" in a.body], kind
        assert not [a for a in shown if a.id == f"local:{change.id}"], kind
        assert crm.note_refusal(ref) is None


async def test_each_kind_that_takes_no_notes_is_refused_before_queueing(demo: Demo) -> None:
    crm = demo.crm
    infos = await crm.kinds(demo.profile)
    refused = [k for k in infos if not takes(demo, k.kind)]
    if ANY in DOCUMENTED[demo.vendor]:
        assert refused == []
        return
    assert refused, "the vendor has kinds that take no notes"
    taking = [k.label.lower() for k in infos if takes(demo, k.kind)]
    for info in refused:
        ref = RecordRef(profile=demo.profile, kind=info.kind, id="1")
        with pytest.raises(Rejected) as raised:
            await crm.add_note(ref, TEXT)
        said = str(raised.value)
        assert info.label.lower() in said, said
        assert all(label in said for label in taking), said
        assert "nothing was queued" in said
        assert crm.queued(demo.profile) == 0
        assert crm.changes(demo.profile) == []
        assert not [a for a in crm.cached_timeline(ref) or [] if a.body == TEXT]
        why = crm.note_refusal(ref)  # what the UI says where it offers no note
        assert why is not None and info.label.lower() in why, (info.kind, why)
