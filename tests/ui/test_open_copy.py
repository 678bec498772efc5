"""`o` opens a record in its vendor's web app, `y` copies the highlighted value and `Y` the
record's web link: on the record screen, on a list row and from the command palette, on
each of the five vendors; the toy sixth vendor, which declares no web app, says so.

``App.open_url`` and ``App.copy_to_clipboard`` are replaced by recorders: what reaches
them is what the browser and the terminal's clipboard (OSC 52) would get.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from textual.widgets import DataTable, ListView

import tests.toyvendor  # noqa: F401 - registers the toy vendor and its sandbox
from crmtui.model import FieldType, RecordRef
from crmtui.ui.app import CrmApp
from crmtui.ui.open_copy import COPY_LIMIT, copy_value
from crmtui.ui.screens.help import COPY_NOTE, HelpScreen
from crmtui.ui.screens.record import FieldItem, RecordScreen
from tests.helpers.ui import (
    Demo,
    build_demo,
    open_kind,
    open_record,
    run_command,
    wait_for,
)

Url = Callable[[RecordRef], str]

# The web page of each demo's record, as each vendor's web app addresses it (the demo
# profiles name the account "sandbox"): written out here, not asked of the adapters.
PAGES: dict[str, tuple[str, Url]] = {
    "freshsales": ("deal", lambda r: f"https://sandbox.freshsales.io/deals/{r.id}"),
    "salesseek": ("deal", lambda r: f"https://sandbox.salesseek.net/#opportunities/{r.id}"),
    "activecampaign": ("deal", lambda r: f"https://sandbox.activehosted.com/app/deals/{r.id}"),
    "salesloft": ("contact", lambda r: f"https://app.salesloft.com/app/people/{r.id}"),
    "salesforceiq": (
        "list:",
        lambda r: (
            f"https://app.salesforceiq.com/#/lists/{r.kind.removeprefix('list:')}/listitems/{r.id}"
        ),
    ),
}


@dataclass
class Recorded:
    opened: list[str] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)


def recorded(app: CrmApp, monkeypatch: pytest.MonkeyPatch) -> Recorded:
    calls = Recorded()
    monkeypatch.setattr(app, "open_url", lambda url, **_: calls.opened.append(url))
    monkeypatch.setattr(app, "copy_to_clipboard", calls.copied.append)
    return calls


def notices(app: CrmApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def highlight_filled(screen: RecordScreen, text_only: bool = False) -> FieldItem:
    """Highlight the first field with a value (of type text: ``text_only``); the item."""
    fields = screen.query_one("#fields", ListView)
    items = list(fields.query(FieldItem))
    index = next(
        n
        for n, item in enumerate(items)
        if item.full_text().strip() and (item.spec.type is FieldType.TEXT or not text_only)
    )
    fields.focus()
    fields.index = index
    return items[index]


@pytest.fixture
def demo_of(tmp_path: Path) -> Callable[[str], Demo]:
    return lambda vendor: build_demo(vendor, tmp_path / f"{vendor}.sqlite3")


@pytest.mark.parametrize("vendor", list(PAGES))
async def test_a_list_row_and_the_record_screen_open_and_copy(
    vendor: str, demo_of: Callable[[str], Demo], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One app per vendor: a list row, then the record screen."""
    demo = demo_of(vendor)
    calls = recorded(demo.app, monkeypatch)
    kind, page = PAGES[vendor]
    async with demo.app.run_test(size=(140, 40)) as pilot:
        # a list row opens and copies its record
        await wait_for(pilot, lambda: demo.app.screen_stack)
        kinds = await demo.crm.kinds(f"demo-{vendor}")
        view = await open_kind(pilot, next(k.kind for k in kinds if k.kind.startswith(kind)))
        await pilot.press("down")
        await wait_for(pilot, lambda: view.table.cursor == 1)
        record = view.table.current
        assert record is not None

        await pilot.press("o", "Y", "y")
        await wait_for(pilot, lambda: len(calls.copied) == 2)
        assert calls.opened == [page(record.ref)]
        assert calls.copied == [page(record.ref), record.title]
        assert f"Copied Name: {record.title}" in notices(demo.app)

        # the record screen: o, Y and y
        calls.opened.clear()
        calls.copied.clear()
        screen = await open_record(pilot, demo, vendor, kind)
        url = page(screen.ref)

        await pilot.press("o")
        await wait_for(pilot, lambda: calls.opened)
        assert calls.opened == [url]
        assert f"Opening in your browser: {url}" in notices(demo.app)

        await pilot.press("Y")
        await wait_for(pilot, lambda: calls.copied)
        assert calls.copied == [url]
        assert f"Copied the web link: {url}" in notices(demo.app)

        item = await highlight_filled(screen)
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: len(calls.copied) == 2)
        assert calls.copied[1] == item.full_text()
        assert any(n.startswith(f"Copied {item.spec.label}: ") for n in notices(demo.app))
        assert calls.opened == [url]  # y and Y open nothing


async def test_the_palette_offers_open_and_copy_on_a_record_and_help_lists_the_keys(
    demo_of: Callable[[str], Demo], monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = demo_of("freshsales")
    calls = recorded(demo.app, monkeypatch)
    async with demo.app.run_test(size=(140, 40)) as pilot:
        screen = await open_record(pilot, demo, "freshsales", "deal")
        url = PAGES["freshsales"][1](screen.ref)
        # the palette offers open and copy on a record
        await run_command(pilot, "Open in web app")
        await wait_for(pilot, lambda: calls.opened)
        assert calls.opened == [url]
        await run_command(pilot, "Copy web link")
        await wait_for(pilot, lambda: calls.copied)
        assert calls.copied == [url]
        item = await highlight_filled(screen)
        await run_command(pilot, "Copy value")
        await wait_for(pilot, lambda: len(calls.copied) == 2)
        assert calls.copied[1] == item.full_text()

        # help lists the keys
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, HelpScreen))
        table = demo.app.screen.query_one("#help-table", DataTable)
        await wait_for(pilot, lambda: table.row_count > 0)
        rows = {}
        for n in range(table.row_count):
            keys, action = table.get_row_at(n)
            rows[str(action)] = str(keys)
        assert rows.get("Open in web app") == "o", rows
        assert rows.get("Copy value") == "y"
        assert rows.get("Copy web link") == "Y"
        assert rows.get(COPY_NOTE) == "y Y"  # where the copy goes, and what tmux needs


async def test_a_vendor_without_a_web_app_says_so_and_values_are_copied_inert(
    demo_of: Callable[[str], Demo], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The toy vendor has no web app; then a value with terminal controls is copied inert,
    a huge one and an empty one refused (one app)."""
    demo = demo_of("toy")
    calls = recorded(demo.app, monkeypatch)
    async with demo.app.run_test(size=(140, 40)) as pilot:
        screen = await open_record(pilot, demo, "toy", "thing")
        await pilot.press("o", "Y")
        said = "Toy CRM has no web link for things"
        await wait_for(pilot, lambda: notices(demo.app).count(said) == 2)
        assert calls.opened == [] and calls.copied == []
        await highlight_filled(screen)
        await pilot.pause()
        await pilot.press("y")  # a value is still copied
        await wait_for(pilot, lambda: calls.copied)

        calls.copied.clear()
        before = len(notices(demo.app))
        copy_value(demo.app, "Name", "Acme\x1b]52;c;ZXZpbA==\x07 [b]deal[/b]")
        assert calls.copied == ["Acme␛]52;c;ZXZpbA==␇ [b]deal[/b]"]
        copy_value(demo.app, "Notes", "x" * (COPY_LIMIT + 1))
        copy_value(demo.app, "Phone", "  ")
        assert len(calls.copied) == 1
        await wait_for(pilot, lambda: len(notices(demo.app)) == before + 3)
        assert "Copied Name: Acme␛]52;c;ZXZpbA==␇ [b]deal[/b]" in notices(demo.app)
        assert any(n.startswith("Notes is too long to copy") for n in notices(demo.app))
        assert "Phone is empty: nothing copied" in notices(demo.app)
