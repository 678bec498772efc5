"""A vendor search answers with a few fields per hit: it must not erase cached fields."""

from __future__ import annotations

from pathlib import Path

from crmtui.model import Query
from crmtui.ui.launch import demo_crm


async def test_search_hits_do_not_overwrite_full_cached_records(tmp_path: Path) -> None:
    crm, _ = demo_crm(vendors=["freshsales"], store_path=str(tmp_path / "cache.sqlite3"))
    profile = "demo-freshsales"
    page = await crm.refresh(profile, "deal", Query())
    deal = page.records[0]
    assert deal.fields["amount"] and deal.fields["stage"]

    hits = await crm.refresh(profile, "deal", Query(search=deal.title.split()[0]))
    assert any(hit.id == deal.id and hit.partial for hit in hits.records)

    cached = crm.cached(deal.ref)
    assert cached is not None
    assert cached.fields["amount"] == deal.fields["amount"]
    assert cached.fields["stage"] == deal.fields["stage"]
    await crm.http.aclose()
    crm.store.close()
