"""An edit right after ``list()`` is based on the vendor's value, never on a field the
list row did not carry (ActiveCampaign's deal rows have no custom fields): it reached the
vendor, not a conflict nobody caused."""

from __future__ import annotations

from pathlib import Path

from crmtui.api import open_demo
from crmtui.model import ChangeState
from tests.helpers.wiring import on_sandbox_time


async def test_an_edit_after_list_of_a_field_the_row_lacks_is_sent(tmp_path: Path) -> None:
    crm = await open_demo("activecampaign", store_path=tmp_path / "cache.sqlite3")
    # the client's 5/s pacing costs no real time: it waits on the sandbox's clock
    app = crm.service.http.transport._mounts["http://activecampaign.localhost"].app  # type: ignore[attr-defined]
    on_sandbox_time(crm.service.adapter(crm.profile), app)
    try:
        row = (await crm.records("deal", limit=1))[0]
        assert "cf_contract_term_months" not in row.fields  # the list row lacks it
        change = await crm.edit(row, cf_contract_term_months="24")
        assert change is not None
        assert change.base["cf_contract_term_months"] not in (None, "")  # the vendor's
        left = await crm.sync_outbox()
        assert not [c for c in left if c.state is ChangeState.CONFLICT]
        assert list(left) == []
        fresh = await crm.service.adapter(crm.profile).get("deal", row.id)
        assert fresh.fields["cf_contract_term_months"] == 24
    finally:
        await crm.close()
