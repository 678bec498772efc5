"""A rep's day on Freshsales, driven through the real app with Pilot."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from textual.widgets import ListView, OptionList, TabbedContent

from crmtui.model import ActivityType, Query
from crmtui.ui.screens.home import HomeScreen
from crmtui.ui.screens.record import FieldItem, RecordScreen
from crmtui.ui.screens.vendor import KindView, VendorScreen
from crmtui.ui.widgets.record_table import RecordTable
from crmtui.ui.widgets.timeline import Timeline
from tests.helpers.ui import Demo, build_demo, open_deals, open_field, type_into, wait_for

PROFILE = "demo-freshsales"


def sandbox_deal(demo: Demo, deal_id: str) -> dict:
    return demo.db.table("deals")[int(deal_id)]


async def test_open_deals_search_open_and_edit_stage_and_amount(demo: Demo) -> None:
    async with demo.app.run_test(size=(140, 42)) as pilot:
        view = await open_deals(pilot)
        assert view.table.row_count == demo.crm.count(PROFILE, "deal") > 0
        target = view.table.current
        assert target is not None
        word = target.title.split()[0]

        # search narrows the list to matching deals: the cached ones (Freshsales documents
        # no search), and the app says so
        await pilot.press("slash")
        notes = [n.message for n in pilot.app._notifications]
        assert any("Freshsales cannot search deals" in n for n in notes), notes
        await pilot.press(*list(word))
        await wait_for(pilot, lambda: view.table.row_count > 0 and view.search_text == word)
        assert all(word.lower() in (r.title + r.subtitle).lower() for r in view.table._fetch(0, 50))
        await pilot.press("enter")  # back to the table
        await wait_for(pilot, lambda: view.table.has_focus)

        # open the deal
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
        screen = pilot.app.screen
        assert isinstance(screen, RecordScreen)
        deal = demo.crm.cached(screen.ref)
        assert deal is not None
        specs = {s.key: s for s in await demo.crm.fields(PROFILE, "deal")}
        stage_spec = specs["stage"]
        current = stage_spec.choice(deal.fields["stage"])
        assert current is not None
        new_stage = next(
            c for c in stage_spec.choices if c.group == current.group and c.value != current.value
        )

        # change the stage by typing its name, and the amount (held in the outbox for now)
        demo.crm.outbox.paused = True
        item = await open_field(pilot, "stage")
        await type_into(pilot, item, new_stage.label)
        await wait_for(pilot, lambda: not item.editing)
        item = await open_field(pilot, "amount")
        await type_into(pilot, item, "12345.67")
        await wait_for(pilot, lambda: not item.editing)

        # shown at once in the record, the list and the timeline, then sent
        assert demo.crm.cached(screen.ref).fields["amount"] == "12345.67"
        listed = demo.crm.window(PROFILE, "deal", offset=0, limit=200)
        assert any(r.id == screen.ref.id and r.fields["amount"] == "12345.67" for r in listed)
        timeline = screen.query_one(Timeline)
        await wait_for(
            pilot,
            lambda: any(
                "12,345.67" in a.summary for a in timeline.activities if a.id.startswith("local:")
            ),
        )
        assert demo.crm.queued(PROFILE) == 2
        demo.crm.outbox.paused = False
        await demo.crm.outbox.flush(PROFILE)
        await demo.crm.outbox.wait_idle()
        await wait_for(pilot, lambda: demo.crm.queued(PROFILE) == 0)
        row = sandbox_deal(demo, screen.ref.id)
        assert Decimal(str(row["amount"])) == Decimal("12345.67")
        assert str(row["deal_stage_id"]) == new_stage.value

        # the timeline shows the vendor's own stage change entry, the queued ones gone
        await wait_for(
            pilot,
            lambda: (
                not timeline.fetching
                and any(
                    a.type is ActivityType.STAGE_CHANGE and new_stage.label in a.summary + a.body
                    for a in timeline.activities
                )
            ),
        )


async def test_a_bad_amount_is_refused_in_place_and_nothing_is_sent(demo: Demo) -> None:
    async with demo.app.run_test(size=(140, 42)) as pilot:
        view = await open_deals(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
        screen = pilot.app.screen
        before = dict(sandbox_deal(demo, screen.ref.id))
        requests_before = len(demo.crm.http.log.entries)

        item = await open_field(pilot, "amount")
        await type_into(pilot, item, "12x")
        await wait_for(pilot, lambda: str(item.query_one(".field-error").render()))

        assert item.editing, "the editor stays open with the bad value"
        error = str(item.query_one(".field-error").render())
        assert "not a number" in error
        assert demo.crm.queued(PROFILE) == 0
        assert sandbox_deal(demo, screen.ref.id) == before
        sent = list(demo.crm.http.log.entries)[requests_before:]
        assert not [e for e in sent if e.method in ("PUT", "POST", "DELETE")]

        await pilot.press("escape")
        assert not item.editing
        assert view is not None


async def test_task_done_toggles_with_enter_and_reaches_the_vendor(demo: Demo) -> None:
    async with demo.app.run_test(size=(140, 42)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, VendorScreen)
                and pilot.app.screen.query(KindView)
                and not pilot.app.screen.query_one("#kinds-loading").display  # every tab is in
            ),
        )
        pilot.app.screen.query_one(TabbedContent).active = "tab-task"
        view = pilot.app.screen.query_one("#tab-task KindView", KindView)
        await wait_for(
            pilot,
            lambda: view.table.row_count > 0 and not view.fetching and view.table.region.height > 0,
        )
        view.table.focus()
        task = view.table.current
        assert task is not None and task.fields.get("done") is False
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
        screen = pilot.app.screen
        fields = screen.query_one("#fields", ListView)
        await wait_for(
            pilot,
            lambda: any(i.spec.key == "done" and i.spec.writable for i in fields.query(FieldItem)),
        )
        fields.focus()
        fields.index = next(
            i for i, it in enumerate(fields.query(FieldItem)) if it.spec.key == "done"
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: demo.crm.cached(screen.ref).fields.get("done") is True)
        await demo.crm.outbox.wait_idle()
        await wait_for(pilot, lambda: demo.crm.queued(PROFILE) == 0)
        assert demo.db.table("tasks")[int(screen.ref.id)]["status"] == 1


async def test_help_lists_the_bindings_of_the_screen(demo: Demo) -> None:
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await open_deals(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen")
        table = pilot.app.screen.query_one("DataTable")
        actions = {str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert {"Search", "Sort", "Open", "Back"} <= actions


async def test_global_search_finds_a_cached_record_and_opens_it(demo: Demo) -> None:
    async with demo.app.run_test(size=(120, 40)) as pilot:
        view = await open_deals(pilot)
        deal = view.table.current
        assert deal is not None
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "SearchScreen")
        await pilot.press(*list(deal.title[:12]))
        results = pilot.app.screen.query_one("#search-results", OptionList)
        await wait_for(pilot, lambda: results.option_count > 0)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
        assert pilot.app.screen.ref.kind == "deal"


async def test_the_table_reads_windows_and_fetches_the_next_page_near_the_end(demo: Demo) -> None:
    async with demo.app.run_test(size=(120, 40)) as pilot:
        view = await open_deals(pilot)
        table: RecordTable = view.table
        cached = table.row_count
        assert cached < demo.crm.count(PROFILE, "deal") or view.next_cursor is not None
        # every deal of the list's view (a view is a defined set: not every deal)
        shown = await demo.crm.adapter(PROFILE).list_page("deal", Query(per_page=1))
        assert shown.total is not None and cached < shown.total
        # end, once: the vendor's next pages are read into the cache, the cursor follows
        # them to the true last row
        await pilot.press("end")
        last = shown.total - 1
        await wait_for(pilot, lambda: table.row_count == shown.total and table.cursor == last)
        await wait_for(pilot, lambda: not view.fetching)
        # a jump to the end reads the last block, not everything in between
        await pilot.press("home")
        await wait_for(pilot, lambda: table.cursor == 0 and table.showing())
        fetched_before = table.fetches
        await pilot.press("end")
        await wait_for(pilot, lambda: table.cursor == last and table.showing())
        assert table.fetches - fetched_before <= 2


async def test_arrow_keys_move_between_tabs_from_the_list(demo: Demo) -> None:
    async with demo.app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(pilot.app.screen, VendorScreen) and pilot.app.screen.query(KindView),
        )
        tabs = pilot.app.screen.query_one(TabbedContent)
        await wait_for(pilot, lambda: isinstance(pilot.app.focused, RecordTable))
        assert tabs.active == "tab-contact"
        await pilot.press("right", "right")
        await wait_for(pilot, lambda: tabs.active == "tab-company")
        await pilot.press("h")
        await wait_for(pilot, lambda: tabs.active == "tab-lead")


async def test_a_rate_limit_wait_shows_as_a_status_hint(tmp_path: Path) -> None:
    from crmtui.ui.widgets.status import StatusBar

    demo = build_demo("freshsales", tmp_path / "cache.sqlite3", rate_limits=True)
    async with demo.app.run_test(size=(140, 40)) as pilot:
        await open_deals(pilot)
        bar = pilot.app.screen.query_one(StatusBar)
        assert "rate limit" not in str(bar.render())
        demo.crm.adapter(PROFILE).limiter.penalise(30)  # what a 429 with Retry-After: 30 does
        bar.update_status()
        assert "Freshsales rate limit: next request in 30 s" in str(bar.render())
