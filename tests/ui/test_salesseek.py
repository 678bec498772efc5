"""SalesSeek in the app: Organizations, Individuals, Deals, Tasks and Groups.

Driven with Pilot against the SalesSeek sandbox in-process; what reached the "vendor" is
checked in the sandbox's own data (``demo.db``).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import ListView

from crmtui.model import ActivityType
from crmtui.ui.screens.record import RecordScreen
from crmtui.ui.widgets.timeline import Timeline
from tests.helpers.ui import (
    Demo,
    open_current,
    open_field,
    open_kind,
    settle,
    tab_labels,
    type_into,
    wait_for,
)

PROFILE = "demo-salesseek"
SIZE = (130, 40)


@pytest.fixture
def seek(vendor_demo: Callable[[str], Demo]) -> Demo:
    return vendor_demo("salesseek")


async def test_tabs_search_and_sort_organizations(seek: Demo) -> None:
    async with seek.app.run_test(size=SIZE) as pilot:
        view = await open_kind(pilot, "company")
        assert tab_labels(pilot) == ["Organizations", "Individuals", "Deals", "Tasks", "Groups"]
        word = "Crescent"
        await pilot.press("slash", *list(word), "enter")
        await wait_for(pilot, lambda: view.search_text == word and not view.fetching)
        rows = view.table._fetch(0, 100)
        assert rows and all(word.lower() in r.title.lower() for r in rows)

        await pilot.press("s", "down", "enter")  # the sort picker: Name ▼
        await wait_for(pilot, lambda: view.sort == "title" and view.descending)
        await wait_for(pilot, lambda: not view.fetching)
        titles = [r.title for r in view.table._fetch(0, 100)]
        assert titles == sorted(titles, key=str.lower, reverse=True)


async def test_a_group_shows_its_members_and_enter_opens_one(seek: Demo) -> None:
    async with seek.app.run_test(size=SIZE) as pilot:
        view = await open_kind(pilot, "group")
        group = view.table.current
        assert group is not None
        screen = await open_current(pilot, timeline=False)
        related = screen.query_one("#related", ListView)
        await wait_for(pilot, lambda: len(related.query(".related-item")) > 1)
        members = seek.db.group_members(seek.db.groups[group.id])
        items = list(related.query(".related-item"))
        assert all(str(item.query_one("Label").render()).startswith("Members: ") for item in items)
        assert len(items) == min(50, len(members))
        # the timeline pane says why a group has none
        assert "not on groups" in screen.query_one(Timeline).note

        related.focus()
        related.index = 0
        target = items[0].target  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(pilot.app.screen, RecordScreen) and pilot.app.screen.ref == target,
        )
        member = pilot.app.screen
        assert member.ref.kind == {"individuals": "contact", "organizations": "company"}.get(
            group.fields["element_type"], "deal"
        )
        await wait_for(pilot, lambda: member.record is not None and member.record.title)


async def test_record_shows_custom_fields_by_name_and_timeline_filters(seek: Demo) -> None:
    async with seek.app.run_test(size=SIZE) as pilot:
        await open_kind(pilot, "company")
        screen = await open_current(pilot)
        timeline = screen.query_one(Timeline)
        # custom fields by their SalesSeek names
        custom = {d["name"] for d in seek.db.custom_fields.values() if d["view"] == "organizations"}
        labels = {s.label for s in screen.specs if s.custom}
        assert custom and custom <= labels
        # HTML notes read as text
        assert timeline.activities
        assert not any("<p>" in a.body for a in timeline.activities)
        # the documented families, by name; f cycles through them
        assert [timeline.label(f) for f in timeline.families()][:6] == [
            "Notes",
            "Communications",
            "Contact updates",
            "Deals",
            "Campaign emails",
            "Automation emails",
        ]
        await pilot.press("f")
        assert timeline.family == "notes"
        await pilot.press("f")
        assert timeline.family == "communications"
        shown = [a for a in timeline.activities if a.family == "communications"]
        assert shown and all(a.type in (ActivityType.CALL, ActivityType.EMAIL) for a in shown)
        heading = str(timeline.query(".timeline-heading").first().render())
        assert "only Communications" in heading


async def test_a_deal_phase_move_reaches_salesseek_and_its_timeline(seek: Demo) -> None:
    async with seek.app.run_test(size=SIZE) as pilot:
        view = await open_kind(pilot, "deal")
        while (deal := view.table.current) is not None and deal.fields.get("status") != "open":
            await pilot.press("down")
        assert deal is not None
        screen = await open_current(pilot)
        specs = {s.key: s for s in await seek.crm.fields(PROFILE, "deal")}
        current = specs["stage"].choice(deal.fields["stage"])
        assert current is not None
        new_phase = next(
            c
            for c in specs["stage"].choices
            if c.group == current.group and c.value != current.value
        )

        item = await open_field(pilot, "stage")
        await type_into(pilot, item, new_phase.label)
        await wait_for(pilot, lambda: not item.editing)
        await seek.crm.outbox.wait_idle()
        await wait_for(pilot, lambda: seek.crm.queued(PROFILE) == 0)
        assert seek.db.opportunities[deal.id]["phase_id"] == new_phase.value

        moves = [
            a
            for a in seek.db.activities.values()
            if a["activity_type"] == "auto:opportunity_movement"
            and a["target_id"] == deal.id
            and a["params"]["to"] == new_phase.label
        ]
        assert len(moves) == 1

        await pilot.press("r")
        timeline = screen.query_one(Timeline)
        await wait_for(pilot, lambda: any(a.id == moves[0]["id"] for a in timeline.activities))
        entry = next(a for a in timeline.activities if a.id == moves[0]["id"])
        assert entry.type is ActivityType.STAGE_CHANGE and entry.family == "deals"
        assert entry.summary == f"Moved from {current.label} to {new_phase.label}"
        assert timeline.activities[0].id == entry.id  # newest first


# -- snapshots ----------------------------------------------------------------------------


def test_snapshot_deals_list(snap_compare, seek: Demo) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_kind(pilot, "deal")
        await settle(pilot)

    assert snap_compare(seek.app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_organization_with_timeline(snap_compare, seek: Demo) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_kind(pilot, "company")
        await open_current(pilot)
        await settle(pilot)

    assert snap_compare(seek.app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_timeline_filtered_to_communications(snap_compare, seek: Demo) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_kind(pilot, "company")
        screen = await open_current(pilot)
        await pilot.press("f", "f")
        await wait_for(pilot, lambda: screen.query_one(Timeline).family == "communications")
        pilot.app.clear_notifications()
        await settle(pilot)

    assert snap_compare(seek.app, terminal_size=SIZE, run_before=run_before)
