"""What a user types is checked before anything is queued: a currency the amount cannot
keep, free text where a reference to a record belongs."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.soak import VENDORS
from crmtui.fields import FieldError
from crmtui.model import FieldType, Query, RecordRef
from crmtui.service.references import is_multi
from tests.helpers.reliability import build, close


@pytest.mark.parametrize("typed", ["USD 12", "JPY 12", "12 GBP", "$12", "€12"])
async def test_salesforceiq_refuses_a_currency_its_amounts_cannot_keep(
    tmp_path: Path, typed: str
) -> None:
    """SalesforceIQ keeps amounts without a currency: "JPY 12" became 12.00 (read as
    USD, EUR... by whoever looks); it is refused as the other vendors refuse a currency
    that is not the record's, and the number alone is taken."""
    rig = build("salesforceiq", tmp_path / "cache.sqlite3")
    try:
        kind = (await rig.crm.kinds("salesforceiq"))[0].kind
        specs = await rig.crm.fields("salesforceiq", kind)
        key = next(s.key for s in specs if s.type is FieldType.MONEY and s.writable)
        record = (await rig.crm.refresh("salesforceiq", kind, Query(per_page=1))).records[0]
        ref = RecordRef(profile="salesforceiq", kind=kind, id=record.id)
        with pytest.raises(FieldError) as raised:
            await rig.crm.validate(ref, {key: typed})
        assert "without" in str(raised.value) and "number alone" in str(raised.value)
        assert await rig.crm.validate(ref, {key: "12"}) == {key: "12.00"}
    finally:
        await close(rig)


@pytest.mark.parametrize("vendor", VENDORS)
async def test_free_text_in_a_reference_field_is_refused_and_an_id_taken(
    tmp_path: Path, vendor: str
) -> None:
    """A task's contact typed as "abc" passed validation, then failed in the Salesloft
    adapter (int("abc")) or came back 4xx (Freshsales, SalesforceIQ). It is refused
    before anything is queued, saying to pick a record; a record's id is taken."""
    rig = build(vendor, tmp_path / "cache.sqlite3")
    checked = 0
    try:
        for info in await rig.crm.kinds(vendor):
            specs = {s.key: s for s in await rig.crm.fields(vendor, info.kind)}
            refs = {
                k: t
                for k, t in info.references.items()
                if k in specs and (specs[k].writable or specs[k].on_create)
            }
            if not refs:
                continue
            page = await rig.crm.refresh(vendor, info.kind, Query(per_page=2))
            if not page.records:
                continue
            for key, target in refs.items():
                # a reference set only when the record is created is checked as a create
                # checks it (``create`` validates under the id "new")
                made = page.records[0].id if specs[key].writable else "new"
                ref = RecordRef(profile=vendor, kind=info.kind, id=made)
                if specs[key].type in (FieldType.CHOICE, FieldType.USER):
                    continue  # picked among its choices (validated as a choice)
                others = await rig.crm.refresh(vendor, target, Query(per_page=2))
                with pytest.raises(FieldError) as raised:
                    await rig.crm.validate(ref, {key: "abc"})
                assert "pick" in str(raised.value), raised.value
                if others.records:
                    some = others.records[0].id
                    taken = [some] if is_multi(specs[key]) else some  # several: a list
                    assert await rig.crm.validate(ref, {key: some}) == {key: taken}
                checked += 1
    finally:
        await close(rig)
    # ActiveCampaign's and SalesSeek's writable references are picked among choices
    assert checked or vendor in ("activecampaign", "salesseek")


async def test_freshsales_a_custom_dropdown_is_saved_as_the_choice_text(tmp_path: Path) -> None:
    """A Freshsales dropdown custom field could never be saved: its choices were the
    choices' ids, which the API refuses (400), while records hold the text. It is sent
    as the doc shows (``"cf_rating": "Excellent"``) and reads back as picked."""
    rig = build("freshsales", tmp_path / "cache.sqlite3")
    try:
        specs = await rig.crm.fields("freshsales", "contact")
        spec = next(s for s in specs if s.custom and s.type is FieldType.CHOICE and s.writable)
        assert all(c.value == c.label for c in spec.choices)
        record = (await rig.crm.refresh("freshsales", "contact", Query(per_page=1))).records[0]
        ref = RecordRef(profile="freshsales", kind="contact", id=record.id)
        picked = next(c.label for c in spec.choices if c.label != record.fields.get(spec.key))
        await rig.crm.edit(ref, {spec.key: picked})
        await rig.crm.send_now("freshsales")
        assert (await rig.crm.get(ref)).fields[spec.key] == picked
    finally:
        await close(rig)
