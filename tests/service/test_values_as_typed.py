"""Values checked against the record they go to: its currency and its pipeline."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from crmtui.fields import FieldError, validate
from crmtui.model import RecordRef
from crmtui.ui.launch import demo_crm


async def test_a_currency_change_alone_rechecks_the_amount(tmp_path: Path) -> None:
    """ActiveCampaign ended up with 1250.75 JPY: the amount was not checked again."""
    crm, _ = demo_crm(
        vendors=["activecampaign"], store_path=str(tmp_path / "c.sqlite3"), rate_limits=False
    )
    profile = "demo-activecampaign"
    try:
        record = (await crm.refresh(profile, "deal")).records[0]
        ref = RecordRef(profile=profile, kind="deal", id=record.id)
        await crm.get(ref)
        await crm.edit(ref, {"amount": "1250.75", "currency": "usd"})
        await crm.outbox.flush(profile)
        with pytest.raises(FieldError, match=r"more decimals than JPY has.*change Value"):
            await crm.edit(ref, {"currency": "jpy"})
        assert await crm.edit(ref, {"currency": "jpy", "amount": "1251"}) is not None
    finally:
        await crm.close()


async def test_a_stage_name_shared_by_pipelines_is_the_record_pipelines(tmp_path: Path) -> None:
    """SalesSeek's 'Won' is in every funnel: it was refused as matching several."""
    crm, _ = demo_crm(
        vendors=["salesseek"], store_path=str(tmp_path / "c.sqlite3"), rate_limits=False
    )
    profile = "demo-salesseek"
    try:
        record = (await crm.refresh(profile, "deal")).records[0]
        ref = RecordRef(profile=profile, kind="deal", id=record.id)
        record = await crm.get(ref)
        specs = {s.key: s for s in await crm.fields(profile, "deal")}
        stage, pipeline = specs["stage"], specs["pipeline"]
        funnel = {str(record.fields["pipeline"]), pipeline.choice_label(record.fields["pipeline"])}
        shared = [label for label, n in Counter(c.label for c in stage.choices).items() if n > 1]
        assert shared
        for label in shared:
            mine = next(c for c in stage.choices if c.label == label and c.group in funnel)
            assert await crm.validate(ref, {"stage": label}) == {"stage": mine.value}
        # a stage only another funnel has: refused, never a silent move to that funnel
        here = {c.label for c in stage.choices if c.group in funnel}
        other = next(c for c in stage.choices if c.label not in here)
        with pytest.raises(FieldError, match="not this record's pipeline"):
            await crm.validate(ref, {"stage": other.label})
    finally:
        await crm.close()


@pytest.mark.parametrize("vendor", ["activecampaign", "freshsales"])
async def test_what_the_vendor_cannot_keep_is_refused_up_front(vendor: str, tmp_path: Path) -> None:
    """ActiveCampaign keeps integer cents, Freshsales "decimal (15,2)" and integer
    probabilities: KWD 1.005 was kept as 1.00, 12.5 % refused by the vendor after queuing."""
    crm, _ = demo_crm(vendors=[vendor], store_path=str(tmp_path / "c.sqlite3"), rate_limits=False)
    try:
        specs = {s.key: s for s in await crm.fields(f"demo-{vendor}", "deal")}
        with pytest.raises(FieldError, match="this CRM keeps at most 2 decimals"):
            validate(specs["amount"], "1.005", currency="KWD")
        assert validate(specs["amount"], "1.01", currency="KWD") == "1.010"
        with pytest.raises(FieldError, match="this CRM keeps a whole number"):
            validate(specs["probability"], "12.5")
    finally:
        await crm.close()
