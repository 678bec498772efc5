"""Salesloft in the app: People, Accounts, Cadences, Tasks (with their time views), Calls
and Emails, and a person's merged timeline.

Driven with Pilot against the Salesloft sandbox in-process; what reached the "vendor" is
checked in the sandbox's own data (``demo.db``).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import ListView, Static

from crmtui.ui.screens.record import FieldItem
from crmtui.ui.screens.vendor import KindView, VendorScreen
from crmtui.ui.widgets.timeline import Timeline
from tests.helpers.ui import Demo, open_current, open_kind, settle, tab_labels, wait_for

PROFILE = "demo-salesloft"
SIZE = (130, 40)


@pytest.fixture
def loft(vendor_demo: Callable[[str], Demo]) -> Demo:
    return vendor_demo("salesloft")


async def switch_view(pilot: Pilot, view: KindView, name: str) -> None:
    """Press v until the vendor view ``name`` is on and its rows are in."""
    for _ in range(len(view.info.views) + 1):
        if view.view == name:
            break
        await pilot.press("v")
    assert view.view == name
    await wait_for(pilot, lambda: not view.fetching and view.view_rows)


def views_line(view: KindView) -> str:
    return str(view.query_one(".list-view-name", Static).render())


async def test_tabs_are_salesloft_s_own_and_there_is_no_deals_tab(loft: Demo) -> None:
    async with loft.app.run_test(size=SIZE) as pilot:
        await open_kind(pilot, "contact")
        assert tab_labels(pilot) == ["People", "Accounts", "Tasks", "Cadences", "Calls", "Emails"]


async def test_task_views_show_salesloft_s_counts(loft: Demo) -> None:
    async with loft.app.run_test(size=SIZE) as pilot:
        view = await open_kind(pilot, "task")
        await wait_for(pilot, lambda: view.view_counts)
        labels = {"overdue", "today", "tomorrow", "this_week", "next_week"}
        assert set(view.view_counts) == labels
        line = views_line(view)
        for key, label in view.info.views.items():
            assert f"{label} ({view.view_counts[key]})" in line

        await switch_view(pilot, view, "today")
        assert view.table.row_count == view.view_counts["today"] > 0
        rows = view.table._fetch(0, 100)
        assert all(not r.fields["done"] for r in rows)


async def test_done_today_task_leaves_the_today_view(loft: Demo) -> None:
    async with loft.app.run_test(size=SIZE) as pilot:
        view = await open_kind(pilot, "task")
        await switch_view(pilot, view, "today")
        today_before = view.view_counts["today"]
        task = view.table.current
        assert task is not None and task.fields["done"] is False

        screen = await open_current(pilot, timeline=False)
        fields = screen.query_one("#fields", ListView)
        await wait_for(
            pilot,
            lambda: any(i.spec.key == "done" and i.spec.writable for i in fields.query(FieldItem)),
        )
        fields.focus()
        fields.index = next(
            i for i, item in enumerate(fields.query(FieldItem)) if item.spec.key == "done"
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: loft.crm.cached(screen.ref).fields["done"] is True)
        await loft.crm.outbox.wait_idle()
        await wait_for(pilot, lambda: loft.crm.queued(PROFILE) == 0)
        row = loft.db["tasks"][int(task.id)]
        assert row["current_state"] == "completed" and row["completed_at"] is not None

        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, VendorScreen))
        view.table.focus()
        await pilot.press("r")
        await wait_for(
            pilot,
            lambda: (
                not view.fetching
                and view.view_counts["today"] == today_before - 1
                and task.id not in {r.id for r in view.view_rows or []}
            ),
        )
        assert f"Today ({today_before - 1})" in views_line(view)


async def test_a_person_has_one_merged_timeline(loft: Demo) -> None:
    async with loft.app.run_test(size=SIZE) as pilot:
        await open_kind(pilot, "contact")
        screen = await open_current(pilot)
        timeline = screen.query_one(Timeline)
        families = {a.family for a in timeline.activities}
        assert {"note", "email"} <= families
        times = [a.occurred_at for a in timeline.activities]
        assert times == sorted(times, reverse=True)
        assert [timeline.label(f) for f in timeline.families()][:5] == [
            "Notes",
            "Calls",
            "Emails",
            "Completed tasks",
            "CRM activities",
        ]
        related = screen.query_one("#related", ListView)
        await wait_for(pilot, lambda: related.query(".related-item"))
        label = str(related.query(".related-item").first().query_one("Label").render())
        assert label.startswith("Account: ")


# -- snapshots ----------------------------------------------------------------------------


def test_snapshot_people_list(snap_compare, loft: Demo) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_kind(pilot, "contact")
        await settle(pilot)

    assert snap_compare(loft.app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_tasks_due_today(snap_compare, loft: Demo) -> None:
    async def run_before(pilot: Pilot) -> None:
        view = await open_kind(pilot, "task")
        await switch_view(pilot, view, "today")
        await settle(pilot)

    assert snap_compare(loft.app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_person_with_merged_timeline(snap_compare, loft: Demo) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_kind(pilot, "contact")
        await open_current(pilot)
        await settle(pilot)

    assert snap_compare(loft.app, terminal_size=SIZE, run_before=run_before)
