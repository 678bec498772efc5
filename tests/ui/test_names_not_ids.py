"""Names, never ids (issue 15.1): a reference field shows the record's name, ``enter``
opens that record, ``e`` picks another by name (search as you type over the cache) and
the outbox says what changed in labels and names; search and the palette name a
SalesforceIQ list by its name. One app per vendor, each checking several things."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, OptionList

from crmtui.model import ChangeState, FieldSpec, Record, RecordRef
from crmtui.ui.screens.record import FieldItem, RecordScreen
from crmtui.ui.screens.search import SearchScreen
from crmtui.ui.widgets.record_table import Column
from crmtui.ui.widgets.timeline import Timeline
from tests.helpers.ui import (
    build_demo,
    highlight,
    palette_hits,
    palette_search,
    pick_reference,
    sent,
    settle,
    wait_for,
)

FS = "demo-freshsales"


def test_a_reference_column_and_an_unnamed_timeline_filter_read_as_words() -> None:
    record = Record(
        vendor="v", profile="p", kind="deal", id="1", title="t", fields={"company": "4000093"}
    )
    record.names["company"] = "Acme"  # as ``Crm.window`` resolves it
    column = Column(key="company", label="Account", spec=FieldSpec(key="company", label="Account"))
    assert column.cell(record) == "Acme"
    # a family the vendor does not name (Freshsales' action types) reads as words
    assert Timeline().label("note_created") == "Note created"
    assert Timeline().label(None) == "everything"


async def test_freshsales_reference_shown_opened_and_picked_by_name(tmp_path: Path) -> None:
    demo = build_demo("freshsales", tmp_path / "cache.sqlite3")
    crm = demo.crm
    async with demo.app.run_test(size=(160, 48)) as pilot:
        await crm.kinds(FS)
        companies = {r.id: r for r in (await crm.refresh(FS, "company")).records}
        deals = (await crm.refresh(FS, "deal")).records
        deal = next(d for d in deals if d.fields.get("company") in companies)
        account = companies[str(deal.fields["company"])]
        other = next(c for c in companies.values() if c.id != account.id)
        ref = RecordRef(profile=FS, kind="deal", id=deal.id)
        demo.app.open_record(ref)
        await wait_for(pilot, lambda: isinstance(demo.app.screen, RecordScreen))
        screen = demo.app.screen
        assert isinstance(screen, RecordScreen)
        await settle(pilot)

        # shown by the account's name, never its id
        item = await highlight(pilot, screen, "company")
        await wait_for(pilot, lambda: item.full_text() == account.title)
        assert account.id not in str(item.value_label.render())

        # enter opens the account
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(demo.app.screen, RecordScreen) and demo.app.screen is not screen,
        )
        opened = demo.app.screen
        assert isinstance(opened, RecordScreen)
        assert opened.ref == RecordRef(profile=FS, kind="company", id=account.id)
        await pilot.press("escape")
        await wait_for(pilot, lambda: demo.app.screen is screen)

        # e: the picker, search as you type over the cached accounts; the id is queued
        item = await highlight(pilot, screen, "company")
        picker = await pick_reference(pilot, other.title, other.id)
        assert picker.query_one(Input).value == other.title
        await pilot.press("enter")
        await wait_for(pilot, lambda: demo.app.screen is screen)
        item = next(i for i in screen.query(FieldItem) if i.spec.key == "company")
        await wait_for(pilot, lambda: item.full_text() == other.title)
        assert await sent(pilot, demo, ref, "company") == other.id  # the id is what went

        # what was sent reads in labels and names (as the outbox and timeline say it)
        done = crm.store.changes(profile=FS, states=[ChangeState.DONE])
        change = next(c for c in done if c.ref == ref and "company" in c.values)
        text = crm.describe(change)
        assert text == f"Account name: {account.title} → {other.title}"
        # the record's timeline shows the name, never the id
        pane = screen.query_one(Timeline)
        summaries = " ".join(a.summary for a in pane.activities)
        assert other.id not in summaries


async def test_salesforceiq_lists_are_named_in_search_and_the_palette(tmp_path: Path) -> None:
    demo = build_demo("salesforceiq", tmp_path / "cache.sqlite3")
    crm = demo.crm
    profile = "demo-salesforceiq"
    async with demo.app.run_test(size=(160, 48)) as pilot:
        infos = await crm.kinds(profile)
        info = next(i for i in infos if i.kind.startswith("list:"))
        item = (await crm.refresh(profile, info.kind)).records[0]
        await settle(pilot)

        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, SearchScreen))
        await pilot.press(*item.title)
        results = demo.app.screen.query_one(OptionList)
        await wait_for(pilot, lambda: results.option_count > 0)
        labels = [str(results.get_option_at_index(i).prompt) for i in range(results.option_count)]
        mine = next(label for label in labels if label.startswith(item.title))
        assert f"· {info.singular}]" in mine and "list:" not in " ".join(labels)
        await pilot.press("escape")

        await palette_search(pilot, item.title)
        hits = [h for h in palette_hits(demo.app) if h.startswith(item.title)]
        assert hits and all(f"— {info.singular} in" in h for h in hits)
        assert not any("list:" in h for h in palette_hits(demo.app))
