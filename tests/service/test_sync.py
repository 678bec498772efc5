"""Whole-kind sync against the ActiveCampaign sandbox, in-process, as a rep would notice.

Requests are counted in the shared client's request log (``http.log``).
"""

from __future__ import annotations

import pytest

from crmtui.http import Offline
from crmtui.model import Change
from crmtui.service.sync import PACE, SyncProgress
from tests.helpers.service import PROFILE, Rig

PER_PAGE = 20


def deal_lists(rig: Rig) -> list[str]:
    """The deal list requests the service sent so far, as logged paths."""
    return [
        e.path
        for e in rig.crm.http.log.recent(PROFILE)
        if e.method == "GET" and e.path.split("?")[0].endswith("/deals")
    ]


async def sync_deals(rig: Rig, progress=None):  # type: ignore[no-untyped-def]
    (result,) = await rig.crm.sync(PROFILE, ["deal"], progress, per_page=PER_PAGE)
    return result


async def test_a_first_sync_brings_every_record_of_the_kind(rig: Rig) -> None:
    reports: list[SyncProgress] = []
    result = await sync_deals(rig, reports.append)
    total = len(rig.db.deals)
    assert rig.crm.count(PROFILE, "deal") == total
    assert (result.records, result.changed, result.incremental) == (total, total, False)
    plan = reports[0].plan
    assert plan is not None and plan.records == total
    assert plan.requests == -(-total // PER_PAGE) == result.pages
    assert "budget 1000 per second" in plan.describe()  # the rig lifts the 5/s pacing
    assert [r.pages for r in reports[1:]] == list(range(1, result.pages + 1))
    assert reports[-1].done and reports[-1].records == total and reports[-1].eta == 0
    assert "done" in reports[-1].bar()
    assert rig.store.get_sync_state(PROFILE, "deal")["since"]


async def test_the_next_sync_fetches_only_what_changed(rig: Rig) -> None:
    await sync_deals(rig)
    full_requests = len(deal_lists(rig))
    deal_id = next(iter(rig.db.deals))
    adapter = rig.crm.adapter(PROFILE)
    await adapter.update(Change(ref=rig.ref(deal_id), values={"name": "Renamed by a colleague"}))
    before = len(deal_lists(rig))

    result = await sync_deals(rig)

    sent = deal_lists(rig)[before:]
    assert len(sent) == 1 < full_requests
    assert "updated_after" in sent[0]
    assert result.incremental and result.changed == 1
    assert rig.crm.cached(rig.ref(deal_id)).title == "Renamed by a colleague"
    assert rig.crm.count(PROFILE, "deal") == len(rig.db.deals)


async def test_an_interrupted_sync_resumes_where_it_stopped(rig: Rig) -> None:
    class Stop(Exception):
        pass

    def stop_after_two_pages(report: SyncProgress) -> None:
        if report.pages == 2:
            raise Stop

    with pytest.raises(Stop):
        await sync_deals(rig, stop_after_two_pages)
    assert rig.crm.count(PROFILE, "deal") == 2 * PER_PAGE
    first_run = len(deal_lists(rig))

    result = await sync_deals(rig)

    resumed = deal_lists(rig)[first_run:]
    # from the last deal read (the anchor), the row before the next page
    assert result.resumed and f"offset={2 * PER_PAGE - 1}" in resumed[0]
    assert not any("offset=0" in path for path in resumed)
    assert rig.crm.count(PROFILE, "deal") == len(rig.db.deals) == result.records
    assert rig.store.get_sync_state(PROFILE, "deal").get("run") is None


async def test_offline_sync_says_so_and_keeps_what_it_had(rig: Rig) -> None:
    await sync_deals(rig)
    cached = rig.crm.count(PROFILE, "deal")
    rig.offline()
    with pytest.raises(Offline) as caught:
        await sync_deals(rig)
    message = str(caught.value)
    assert "sync of Deals stopped" in message and "could not connect" in message
    assert "keeps what it had" in message
    assert rig.crm.count(PROFILE, "deal") == cached
    assert rig.crm.states[PROFILE].online is False


async def test_going_offline_mid_sync_keeps_the_pages_and_resumes(rig: Rig) -> None:
    def unplug_after_two_pages(report: SyncProgress) -> None:
        if report.pages == 2:
            rig.offline()

    with pytest.raises(Offline, match=f"{2 * PER_PAGE} Deals received before that are kept"):
        await sync_deals(rig, unplug_after_two_pages)
    assert rig.crm.count(PROFILE, "deal") == 2 * PER_PAGE
    rig.online()
    result = await sync_deals(rig)
    assert result.resumed and rig.crm.count(PROFILE, "deal") == len(rig.db.deals)


async def test_a_synced_kind_gets_its_sort_and_filter_indexes_in_the_background(
    rig: Rig,
) -> None:
    rig.crm.prepare_rows = 1  # the sandbox's lists stand in for long ones
    await sync_deals(rig)
    info = next(i for i in rig.crm.states[PROFILE].kinds if i.kind == "deal")
    assert rig.store.list_indexes(PROFILE, info), "nothing to build: the test proves nothing"
    assert rig.crm.preparing
    await rig.crm.prepared()
    assert rig.store.list_indexes(PROFILE, info) == []
    assert rig.crm.prepare(PROFILE, info) is None  # built once, not again


@pytest.mark.parametrize("damaged", ["not a time", "2026-13-45T99:00:00Z"])
async def test_a_sync_mark_that_cannot_be_read_means_a_full_sync_not_a_crash(
    rig: Rig, damaged: str
) -> None:
    """A sync state whose mark is not a time (a damaged or hand-edited cache): the next
    sync is a full one that puts a readable mark back, never a TypeError."""
    await sync_deals(rig)
    state = rig.store.get_sync_state(PROFILE, "deal")
    rig.store.put_sync_state(PROFILE, "deal", {**state, "since": damaged})

    result = await sync_deals(rig)

    assert not result.incremental and result.records == len(rig.db.deals)
    assert rig.store.get_sync_state(PROFILE, "deal")["since"] != damaged
    assert (await sync_deals(rig)).incremental  # the mark it put back is read next time


async def test_a_resumed_run_with_a_mark_that_cannot_be_read_starts_over(rig: Rig) -> None:
    rig.store.put_sync_state(
        PROFILE, "deal", {"run": {"since": "garbage", "cursor": "40", "mark": "garbage"}}
    )
    result = await sync_deals(rig)
    assert not result.resumed and not result.incremental
    assert rig.crm.count(PROFILE, "deal") == len(rig.db.deals) == result.records


async def test_a_sync_paces_steadily_and_leaves_the_profiles_own_budget_as_it_was(
    rig: Rig,
) -> None:
    """While a sync runs, requests keep to PACE of the budget; after it, the profile's
    own bucket is untouched (full), so the next request does not wait for the sync's."""
    seen: list[float] = []

    def budget_now(report: SyncProgress) -> None:
        budget = rig.crm.budget(PROFILE)
        assert budget is not None
        seen.append(budget.budget.requests)

    own = rig.crm.budget(PROFILE)
    assert own is not None
    await sync_deals(rig, budget_now)
    assert seen and all(requests == pytest.approx(own.budget.requests * PACE) for requests in seen)
    after = rig.crm.budget(PROFILE)
    assert after is not None and after.budget == own.budget
    assert after.remaining == pytest.approx(own.capacity) and after.wait == 0
