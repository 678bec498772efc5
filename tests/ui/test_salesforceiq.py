"""SalesforceIQ in the app: each List a tab with its own columns, then Accounts and
Contacts; list items rendered by data type; the missing activity feed said in its words.

Driven with Pilot against the SalesforceIQ sandbox in-process; what reached the "vendor"
is checked in the sandbox's own data (``demo.db``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import ListView

from crmtui.ui.screens.record import FieldItem, RecordScreen
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

PROFILE = "demo-salesforceiq"
SIZE = (130, 40)


@pytest.fixture
def iq(vendor_demo: Callable[[str], Demo]) -> Demo:
    return vendor_demo("salesforceiq")


def sandbox_list(demo: Demo, title: str) -> dict[str, Any]:
    return next(lst for lst in demo.db.lists.values() if lst["title"] == title)


def shown(screen: RecordScreen, key: str) -> str:
    """The text the record screen shows for a field."""
    item = next((i for i in screen.query(FieldItem) if i.spec.key == key), None)
    return "" if item is None else str(item.query_one(".field-value").render())


async def test_every_list_is_a_tab_with_its_own_columns(iq: Demo) -> None:
    async with iq.app.run_test(size=SIZE) as pilot:
        lst = sandbox_list(iq, "Opportunities")
        view = await open_kind(pilot, f"list:{lst['id']}")
        titles = [x["title"] for x in iq.db.lists.values()]
        assert tab_labels(pilot) == [*titles, "Accounts", "Contacts"]
        headers = [c.label for c in view.table.columns]
        assert headers[0] == "Name"
        names = {m["name"] for m in lst["fields"]}
        assert {"Status", "Revenue", "Close Date", "Owner"} <= set(headers[1:]) <= names
        assert view.table.row_count == len(iq.db.items[lst["id"]])

        other = sandbox_list(iq, "Leads")
        leads = await open_kind(pilot, f"list:{other['id']}")
        assert "Notes" in [c.label for c in leads.table.columns]  # Leads' own column


async def test_a_list_item_shows_values_by_data_type_and_says_why_no_timeline(
    iq: Demo,
) -> None:
    async with iq.app.run_test(size=SIZE) as pilot:
        lst = sandbox_list(iq, "Opportunities")
        view = await open_kind(pilot, f"list:{lst['id']}")
        record = view.table.current
        assert record is not None
        screen = await open_current(pilot)
        item = iq.db.items[lst["id"]][record.id]
        account = iq.db.accounts[item["accountId"]]
        await wait_for(pilot, lambda: shown(screen, "company") == account["name"])
        metas = {m["name"]: m for m in lst["fields"]}

        options = {o["id"]: o["display"] for o in metas["Status"]["listOptions"]}
        assert shown(screen, "stage") == options[item["fieldValues"]["0"][0]["raw"]]
        owner = item["fieldValues"]["1"][0]["raw"]
        assert shown(screen, "owner") == iq.db.users[owner]["name"]
        ms = int(item["fieldValues"]["process_close_date"][0]["raw"])
        close = datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()
        assert shown(screen, "expected_close") == close
        assert shown(screen, "pipeline") == "Opportunities"
        assert shown(screen, "company") == account["name"]

        timeline = screen.query_one(Timeline)
        assert "has no tasks and cannot read the Stream" in timeline.note
        assert not any("Nothing here yet" in str(s.render()) for s in timeline.query(".entry"))
        summaries = [a.summary for a in timeline.activities]
        assert f"Added to Opportunities: {item['name']}" in summaries

        related = screen.query_one("#related", ListView)
        labels = [str(i.query_one("Label").render()) for i in related.query(".related-item")]
        assert f"Account: {account['name']}" in labels


async def test_a_stage_change_reaches_salesforceiq(iq: Demo) -> None:
    async with iq.app.run_test(size=SIZE) as pilot:
        lst = sandbox_list(iq, "Customers")
        view = await open_kind(pilot, f"list:{lst['id']}")
        record = view.table.current
        assert record is not None
        screen = await open_current(pilot)
        fields = screen.query_one("#fields", ListView)
        await wait_for(pilot, lambda: any(i.spec.writable for i in fields.query(FieldItem)))
        first = next(i for i in fields.query(FieldItem) if i.spec.writable)
        assert first.spec.key == "stage" and first.spec.label == "Status"
        new = next(c for c in first.spec.choices if c.value != record.fields["stage"])

        item = await open_field(pilot, "stage")
        await type_into(pilot, item, new.label)
        await wait_for(pilot, lambda: not item.editing)
        await iq.crm.outbox.wait_idle()
        await wait_for(pilot, lambda: iq.crm.queued(PROFILE) == 0)
        row = iq.db.items[lst["id"]][record.id]
        assert row["fieldValues"]["0"] == [{"raw": new.value}]
        assert shown(screen, "stage") == new.label


# -- snapshots ----------------------------------------------------------------------------


def test_snapshot_opportunities_list(snap_compare, iq: Demo) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_kind(pilot, f"list:{sandbox_list(iq, 'Opportunities')['id']}")
        await settle(pilot)

    assert snap_compare(iq.app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_list_item_record(snap_compare, iq: Demo) -> None:
    async def run_before(pilot: Pilot) -> None:
        await open_kind(pilot, f"list:{sandbox_list(iq, 'Opportunities')['id']}")
        screen = await open_current(pilot)
        await wait_for(pilot, lambda: screen.record and screen.record.fields.get("company_name"))
        await settle(pilot)

    assert snap_compare(iq.app, terminal_size=SIZE, run_before=run_before)
