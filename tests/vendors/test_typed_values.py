"""What a user types is checked before anything is queued: a currency the amount cannot
keep, free text where a reference to a record belongs."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmtui.fields import FieldError
from crmtui.model import FieldType, Query, RecordRef
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
