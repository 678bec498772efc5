"""Clearing a field, on every vendor: it is cleared for real or refused with a reason.

Never "saved — sending" and then the old value back (the vendor kept it). For each
writable optional value field (text, number, money, date, datetime) of a record of each
kind: an empty value is either refused before it is queued (``FieldError``, the reason
in its text) or the vendor then holds it empty; never queued and then refused by the
vendor (SalesforceIQ's account id of a list item was).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crmtui.fields import FieldError
from crmtui.model import ChangeState, FieldType, RecordRef
from crmtui.ui.launch import demo_crm

KINDS = {
    "salesseek": ("deal", "company", "task"),
    "salesloft": ("company", "contact", "task"),
    "activecampaign": ("deal", "task"),
    "freshsales": ("deal", "contact", "task"),
    "salesforceiq": ("list:", "company", "contact"),
}
# Empty is refused by the vendor only given the record's other fields; the vendor's
# refusal says which ("Either email, mobile number or twitter is required").
CROSS_FIELD = {("freshsales", "mobile_number")}
VALUES = (FieldType.TEXT, FieldType.NUMBER, FieldType.MONEY, FieldType.DATE, FieldType.DATETIME)


@pytest.mark.parametrize("vendor", list(KINDS))
async def test_an_emptied_field_is_cleared_or_refused_never_silently_kept(
    vendor: str, tmp_path: Path
) -> None:
    crm, _ = demo_crm(
        vendors=[vendor], store_path=str(tmp_path / "cache.sqlite3"), rate_limits=False
    )
    profile = f"demo-{vendor}"
    kept: list[str] = []
    bounced: list[str] = []  # "saved — sending", then the vendor refused the empty value
    try:
        infos = await crm.kinds(profile)
        for prefix in KINDS[vendor]:
            kind = next(info.kind for info in infos if info.kind.startswith(prefix))
            record = (await crm.refresh(profile, kind)).records[0]
            ref = RecordRef(profile=profile, kind=kind, id=record.id)
            for spec in await crm.fields(profile, kind):
                if not spec.writable or spec.required or spec.type not in VALUES:
                    continue
                if record.fields.get(spec.key) in (None, ""):
                    continue  # nothing to clear
                try:
                    await crm.edit(ref, {spec.key: ""})
                except FieldError as refused:
                    assert spec.label in str(refused)  # refused, saying which and why
                    continue
                await crm.outbox.flush(profile)
                changes = crm.changes(profile)
                if changes:  # queued, then refused by the vendor: should have been refused here
                    assert all(c.state is ChangeState.REJECTED and c.last_error for c in changes)
                    if (vendor, spec.key) not in CROSS_FIELD:
                        bounced.extend(f"{kind}.{spec.key}: {c.last_error}" for c in changes)
                    for change in changes:
                        crm.discard(change.id)
                    continue
                now = (await crm.get(ref)).fields.get(spec.key)
                if now not in (None, ""):
                    kept.append(f"{kind}.{spec.key} = {now!r}")
    finally:
        await crm.close()
    assert not kept, f"emptied, sent as done, but the vendor kept: {kept}"
    assert not bounced, f"emptied, queued, then refused by the vendor: {bounced}"
