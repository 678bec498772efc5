"""Bulk edit, attacked through the notebook client on the Freshsales and Salesloft
sandboxes: records the vendor no longer has, the vendor unreachable, the same record
twice, and the preview's cost against what is sent on a kind other than deals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crmtui.api import Client, open_demo
from crmtui.http import Http
from crmtui.model import Role
from crmtui.ui.screens.board import group_field
from crmtui.ui.screens.bulk import value_choices
from tests.helpers.service import Unreachable
from tests.helpers.waits import no_sleep
from tests.helpers.wiring import on_sandbox_time


@pytest.fixture
async def freshsales(tmp_path: Path) -> AsyncIterator[Client]:
    client = await open_demo(
        "freshsales", store_path=tmp_path / "cache.sqlite3", http=Http(sleep=no_sleep)
    )
    yield client
    await client.close()


async def test_a_record_the_vendor_no_longer_has_is_not_told_to_try_again(
    freshsales: Client,
) -> None:
    """A marked id the vendor answers 404 for (deleted there) is refused as gone, not as
    "could not be read: try again once it answers"; unplugged, an unread one is the
    latter. The others are previewed as usual and nothing is queued."""
    crm = freshsales
    deals = await crm.records("deal", limit=3)
    plan = await crm.bulk_edit(
        "deal", [deals[0].id, "99999999"], "expected_close", "2027-01-15", preview=True
    )
    assert [row.action for row in plan.rows] == ["change", "refused"]
    gone = plan.rows[1].reason
    assert "Freshsales has no such deal (deleted there?)" in gone
    assert "try again" not in gone

    origin = next(iter(crm.service.http.transport._mounts))
    crm.service.http.transport.mount(origin, Unreachable())
    plan = await crm.bulk_edit("deal", [deals[1].id, "99999998"], "expected_close", "2027-01-15")
    assert [row.action for row in plan.rows] == ["change", "refused"]
    assert "could not be read: try again once it answers" in plan.rows[1].reason
    assert crm.queued == 1  # offline: the one change waits in the outbox


async def test_salesloft_tasks_twice_marked_are_edited_once_at_the_previewed_cost(
    tmp_path: Path,
) -> None:
    crm = await open_demo(
        "salesloft", store_path=tmp_path / "cache.sqlite3", http=Http(sleep=no_sleep)
    )
    try:
        tasks = await crm.records("task", limit=4)
        ids = [task.id for task in tasks][:3]
        plan = await crm.bulk_edit("task", [*ids, ids[0]], "Due date", "2027-02-03", preview=True)
        assert len(plan.changes) == 3
        sent: list[str] = []
        stop = crm.service.watch_requests(lambda entry: sent.append(entry.method))
        await crm.bulk_edit("task", [*ids, ids[0]], "Due date", "2027-02-03")
        await crm.sync_outbox()
        stop()
        assert crm.queued == 0
        assert len(sent) == plan.cost.requests
        for id in ids:
            assert (await crm.get("task", id)).fields["due_date"] == "2027-02-03"
    finally:
        await crm.close()


async def test_a_stage_several_pipelines_share_is_offered_naming_them(tmp_path: Path) -> None:
    """ActiveCampaign's stages name their pipeline by id: the bulk edit's value list says
    "Closing  (Sales Pipeline, …)", never "Closing  (1, 3)"."""
    crm = await open_demo(
        "activecampaign", store_path=tmp_path / "cache.sqlite3", http=Http(sleep=no_sleep)
    )
    # the client's 5/s pacing costs no real time: it waits on the sandbox's clock
    app = crm.service.http.transport._mounts["http://activecampaign.localhost"].app  # type: ignore[attr-defined]
    on_sandbox_time(crm.service.adapter(crm.profile), app)
    try:
        info = await crm.kind("deal")
        specs = await crm.service.bulk.fields(crm.profile, info.kind)
        stage = next(spec for spec in specs if spec.key == "stage")
        pipelines = next(spec for spec in specs if spec.key == "pipeline")
        groups = group_field(specs, stage, info.role(Role.PIPELINE))
        shared = [prompt for _, prompt in value_choices(stage, groups) if "(" in prompt]
        assert shared, "the demo has a stage label in two pipelines"
        names = {choice.label for choice in pipelines.choices}
        for prompt in shared:
            named = prompt.split("(", 1)[1].rstrip(")").split(", ")
            assert set(named) <= names, prompt

        # a stage of one pipeline on deals of others: refused, naming that pipeline
        deals = await crm.records("deal", limit=40)
        first = next(c for c in stage.choices if c.group)
        others = [d.id for d in deals if str(d.fields.get("pipeline")) != first.group][:2]
        plan = await crm.bulk_edit("deal", others, "stage", first.label, preview=True)
        home = pipelines.choice_label(first.group)
        assert len(plan.refused) == 2
        for row in plan.refused:
            assert f"is in {home}" in row.reason or f", {home}" in row.reason, row.reason
            assert f"is in {first.group}," not in row.reason
    finally:
        await crm.close()
