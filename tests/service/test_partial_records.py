"""A vendor search answers with a few fields per hit: it must not erase cached fields."""

from __future__ import annotations

from pathlib import Path

from crmtui.model import Query
from crmtui.ui.launch import demo_crm


async def test_search_hits_do_not_overwrite_full_cached_records(tmp_path: Path) -> None:
    """SalesSeek's search answers are "reduced" (its doc): no communication, so no email."""
    crm, _ = demo_crm(
        vendors=["salesseek"], store_path=str(tmp_path / "cache.sqlite3"), rate_limits=False
    )
    profile = "demo-salesseek"
    page = await crm.refresh(profile, "contact", Query())
    person = next(r for r in page.records if r.fields["email"] and r.fields["last_name"])
    assert not person.partial

    hits = await crm.refresh(profile, "contact", Query(search=person.fields["last_name"]))
    hit = next(h for h in hits.records if h.id == person.id)
    assert hit.partial and hit.fields["email"] is None  # the hit lacks it

    cached = crm.cached(person.ref)
    assert cached is not None
    assert cached.fields["email"] == person.fields["email"]
    assert cached.title == person.title
    await crm.http.aclose()
    crm.store.close()
