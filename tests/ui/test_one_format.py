"""One money and date format on every screen, and a queued value shown everywhere at once
(issue 15.2), in one Freshsales app (its titles said ``USD 7200.00``): the record's
title and field, the outbox, search, the list and the board show the amount as
``fields.money_text`` writes it, the queued one at once; My day's dates are dates."""

from __future__ import annotations

import re
from pathlib import Path

from textual.pilot import Pilot

from crmtui.fields import money_text
from crmtui.sandbox.fake import Fake
from crmtui.ui.screens.board import BoardScreen
from crmtui.ui.screens.outbox import OutboxScreen
from crmtui.ui.screens.record import RecordScreen
from crmtui.ui.screens.search import SearchScreen
from crmtui.ui.screens.vendor import VendorScreen
from tests.helpers.ui import (
    build_demo,
    open_current,
    open_field,
    open_kind,
    open_my_day,
    screen_text,
    type_into,
    wait_for,
)

SIZE = (160, 48)
# an amount in any other way of writing it: "USD 7200.00", "7200.00 USD", "7200.00"
UNGROUPED = re.compile(r"(?<![\d,.])\d{4,}\.\d{2}\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
MONTH_WORDS = re.compile(r"\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\w* \d{4}")


def heading(pilot: Pilot) -> str:
    return screen_text(pilot.app).splitlines()[0]


async def shown_on(pilot: Pilot, screen: type, key: str, text: str) -> str:
    """Open ``screen`` with ``key`` and wait until ``text`` is drawn; the screen's text."""
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, screen))
    await wait_for(pilot, lambda: text in screen_text(pilot.app))
    return screen_text(pilot.app)


async def test_freshsales_shows_one_money_format_and_a_queued_amount_everywhere(
    tmp_path: Path,
) -> None:
    demo = build_demo("freshsales", tmp_path / "cache.sqlite3")
    demo.app.clock = lambda: Fake.NOW  # the demo's day: My day has tasks due
    async with demo.app.run_test(size=SIZE) as pilot:
        await open_kind(pilot, "deal")
        screen = await open_current(pilot, timeline=False)  # the list's first deal
        record = screen.record
        assert record is not None
        currency = str(record.fields["currency"])
        old = money_text(record.fields["amount"], currency)
        await wait_for(pilot, lambda: old in heading(pilot))
        assert not UNGROUPED.search(heading(pilot)), heading(pilot)

        demo.crm.outbox.paused = True  # queued: what every screen shows before it is sent
        await type_into(pilot, await open_field(pilot, "amount"), "8123")
        new = money_text("8123", currency)
        assert new == f"8,123.00 {currency.upper()}"
        await wait_for(pilot, lambda: new in heading(pilot) and old not in heading(pilot))
        assert f"{new}" in screen_text(pilot.app).split("\n", 1)[1]  # the field too

        outbox = await shown_on(pilot, OutboxScreen, "ctrl+o", f"→ {new}")
        assert old in outbox  # from, with its currency too
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))

        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, SearchScreen))
        await pilot.press(*record.title[:24])
        await wait_for(pilot, lambda: f"— {new}" in screen_text(pilot.app))
        assert old not in screen_text(pilot.app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))

        await pilot.press("escape")  # the list the record was opened from: its row
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, VendorScreen))
        await wait_for(pilot, lambda: new in screen_text(pilot.app))
        assert old not in screen_text(pilot.app)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, BoardScreen))
        board = pilot.app.screen
        assert isinstance(board, BoardScreen)
        await wait_for(pilot, lambda: board.current is not None)
        cards = [  # the card's lines as the column draws them
            "\n".join(column.card(r, "", 40))
            for column in board.columns
            for r in column.records
            if r.id == record.id
        ]
        assert cards and new in cards[0], cards
        demo.crm.outbox.paused = False

        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, VendorScreen))
        day = await open_my_day(pilot)
        text = screen_text(pilot.app)
        assert "ago" not in text and not MONTH_WORDS.search(text)  # dates, never words
        assert len(ISO_DATE.findall(text)) >= len(day.tasks) > 0, text
