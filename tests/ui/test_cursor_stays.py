"""The highlighted row stays the same record when the list changes around it: a refresh
brings new records that sort above the cursor (another rep's deals, a sync), or removes
some. Before, the cursor kept its row number, so the highlight silently moved to another
record and the next `e` or `enter` acted on a record the rep had not chosen."""

from __future__ import annotations

import copy
from collections.abc import Callable

from tests.helpers.ui import Demo, open_kind, wait_for

SIZE = (140, 40)
PROFILE = "demo-activecampaign"
LATER = "2027-01-05T10:00:00-06:00"  # after the sandbox's clock: a later edit


async def test_the_highlight_follows_its_record_when_rows_arrive_or_go_above_it(
    vendor_demo: Callable[[str], Demo],
) -> None:
    demo = vendor_demo("activecampaign")
    async with demo.app.run_test(size=SIZE) as pilot:
        view = await open_kind(pilot, "deal")
        table = view.table
        for _ in range(6):
            await pilot.press("j")
        await wait_for(pilot, lambda: table.cursor == 6 and table.current is not None)
        chosen = table.current
        assert chosen is not None

        # three deals whose names sort first arrive with a sync (another rep's deals)
        deals = demo.db.deals
        model = next(iter(deals.values()))
        added: list[str] = []
        for n in range(3):
            new_id = str(max(int(i) for i in deals) + 1)
            deals[new_id] = copy.deepcopy(model) | {"id": new_id, "title": f"AAA first deal {n}"}
            added.append(new_id)
        await demo.crm.sync(PROFILE, ["deal"])
        await wait_for(pilot, lambda: table.row_count == len(deals))
        await wait_for(pilot, lambda: table.current is not None and table.current.id == chosen.id)
        moved = table.cursor
        assert moved >= 9  # the three, and the rest of the deals the sync brought
        # a page at the top of the list stays at the top (the deals sorting first show),
        # the highlight moved down with its record; a scrolled page keeps its line
        # (tests/ui/test_partial_sync_rows.py)
        assert int(table.scroll_offset.y) == 0 and moved < table.page_rows

        # and back: they are renamed to sort last (another rep's edit, seen by a sync)
        for n in range(3):
            deal = deals[added[n]]
            deal |= {"title": f"ZZZ last deal {n}", "mdate": LATER, "udate": LATER}
        await demo.crm.sync(PROFILE, ["deal"])
        await wait_for(pilot, lambda: table.cursor == moved - 3)
        assert table.current is not None and table.current.id == chosen.id
