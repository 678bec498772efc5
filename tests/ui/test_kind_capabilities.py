"""What a kind says it offers is what the app offers: ``KindInfo.searchable``,
``creatable`` and ``deletable`` are honoured, with a clear word when one is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmtui.api import open_demo
from crmtui.http import CrmError, Http
from tests.helpers.ui import Demo, build_demo, no_sleep, open_kind, wait_for

SIZE = (140, 40)


@pytest.fixture
def salesloft(tmp_path: Path) -> Demo:
    return build_demo("salesloft", tmp_path / "cache.sqlite3")


async def test_a_kind_the_vendor_cannot_search_is_searched_in_the_cache_only(
    salesloft: Demo,
) -> None:
    """Salesloft has no search on tasks: `/` says so, the vendor is not asked, and the
    cached tasks are still searched (offline too)."""
    sent: list[str] = []
    async with salesloft.app.run_test(size=SIZE) as pilot:
        view = await open_kind(pilot, "task")
        assert not view.info.searchable
        await wait_for(pilot, lambda: not view.fetching and view.table.row_count > 0)
        word = view.table.cached_at(0).title.split()[0]  # type: ignore[union-attr]
        salesloft.crm.http.log.listeners.append(lambda entry: sent.append(entry.path))
        await pilot.press("slash")
        await wait_for(
            pilot,
            lambda: any(
                "Salesloft cannot search tasks" in n.message for n in pilot.app._notifications
            ),
        )
        await pilot.press(*word, "enter")
        await wait_for(pilot, lambda: view.search_text == word and not view.fetching)
        assert view.table.row_count > 0
        assert all(
            word.lower() in (r.title + r.subtitle).lower()
            for r in (view.table.cached_at(i) for i in range(view.table.row_count))
            if r is not None
        )
        assert "(cached only)" in str(view.query_one(".facts").render())
        assert not [path for path in sent if "task" in path]  # enter asked the vendor nothing


async def test_a_searchable_kind_still_asks_the_vendor(salesloft: Demo) -> None:
    async with salesloft.app.run_test(size=SIZE) as pilot:
        view = await open_kind(pilot, "company")
        assert view.info.searchable
        await pilot.press("slash")
        await pilot.pause()
        assert not any("cannot search" in n.message for n in pilot.app._notifications)
        assert view._query(None).search == "" and not view.search_text
        view.search_text = "acme"
        assert view._query(None).search == "acme"


async def test_creating_or_deleting_what_the_vendor_does_not_offer_is_refused(
    tmp_path: Path,
) -> None:
    """ActiveCampaign's contacts here are read-only (no create, no delete) and its pipelines
    too: refused with the reason, and nothing is queued."""
    crm = await open_demo(
        "activecampaign", store_path=tmp_path / "cache.sqlite3", http=Http(sleep=no_sleep)
    )
    try:
        contacts = await crm.records("contact", limit=1)
        with pytest.raises(CrmError, match="no way to create contacts; nothing was queued"):
            await crm.create("contact", first_name="Ada", last_name="Lovelace")
        with pytest.raises(CrmError, match="no way to delete contacts"):
            await crm.delete(contacts[0])
        assert crm.queued == 0
        deals = await crm.records("deal", limit=1)
        change = await crm.delete(deals[0])  # a deal may be deleted
        assert change is not None and crm.queued == 1
    finally:
        await crm.close()
