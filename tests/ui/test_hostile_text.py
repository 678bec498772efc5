"""Vendor text is inert on every screen: no terminal control, no markup, no click actions.

Hostile names, titles, notes, stage labels, task titles and a vendor's 422 message are put
into the sandboxes' own data (so they arrive as a vendor would send them) and the app is
walked through every screen with Pilot. On each screen, what would be drawn holds no
control character, escape or bidi override, the terminal output carries no OSC sequence
(clipboard, window title, hyperlink), the markup shows literally, and clicking a
would-be ``[@click=…]`` link runs nothing. A long field is shown cut, with a marker,
and ``v`` shows all of it in a view that draws only what is on screen.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from starlette.responses import JSONResponse
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, Label, ListView, TabbedContent

from crmtui.model import Change, ChangeState, RecordRef
from crmtui.notebook_html import record_html, timeline_html
from crmtui.text import PREVIEW_CHARS, clean
from crmtui.ui.app import CrmApp
from crmtui.ui.screens.conflict import ConflictScreen
from crmtui.ui.screens.filters import FilterScreen
from crmtui.ui.screens.help import HelpScreen
from crmtui.ui.screens.home import HomeScreen
from crmtui.ui.screens.log import RequestLogScreen
from crmtui.ui.screens.my_day import MyDayScreen
from crmtui.ui.screens.outbox import OutboxScreen
from crmtui.ui.screens.record import FieldItem, RecordScreen
from crmtui.ui.screens.search import SearchScreen
from crmtui.ui.screens.text_view import TextViewScreen
from crmtui.ui.screens.user_card import UserCardScreen
from crmtui.ui.screens.vendor import KindView, VendorScreen
from crmtui.ui.widgets.long_text import LongText
from crmtui.ui.widgets.reference_picker import ReferencePicker
from crmtui.ui.widgets.timeline import Timeline
from tests.helpers.ui import Demo, open_board_at_start, palette_search, wait_for

SIZE = (150, 45)
FS = "demo-freshsales"
AC = "demo-activecampaign"

FIRST = "[bold red]Ananya[/]"
LAST = "Shah 漢字e\u0301\x1b]52;c;aGFja2Vk\x07"
JOB = "[@click=app.hostile]Click me[/] \x1b[2J\x9b31m\u202eevil"
ACCOUNT = "Bright [/] Mfg\x1b]0;pwned\x07"
NOTE = "Line one [/]\n\x1b]52;c;bm90ZQ==\x07 two [@click=app.hostile]x[/]"
TASK = "[/] Call [b]now\x1b[5m"
OWNER = "[@click=app.hostile]Sam[/] \x1b]0;owner\x07[/]"
REFUSAL = "[/] is not valid for [@click=app.hostile]job[/] \x1b[31mred\u2066"
STAGE = "[reverse]To Contact[/]\x1b[1m"
DEAL = "[link=https://evil.example]Big deal[/link]\x00\x7f 漢字漢字漢字漢字漢字漢字漢字漢字"
NASTY = [FIRST, LAST, JOB, ACCOUNT, NOTE, TASK, REFUSAL, STAGE, DEAL]

# What no terminal may receive as text (written out here, not taken from crmtui.text).
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ud800-\udfff]"
)


# -- what the screen draws -------------------------------------------------------------


def screen_lines(app: App[Any]) -> list[str]:
    """The text of every cell the current screen would draw, row by row."""
    strips = app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip) for strip in strips]


def screen_text(app: App[Any]) -> str:
    return "\n".join(screen_lines(app))


def terminal_output(app: App[Any]) -> str:
    """What the terminal would receive for a full redraw of the screen."""
    console = Console(
        file=io.StringIO(), force_terminal=True, color_system="truecolor", width=SIZE[0]
    )
    console.print(app.screen._compositor.render_update(full=True))
    return console.file.getvalue()  # type: ignore[attr-defined]


def assert_inert(app: App[Any], *literals: str) -> str:
    """No control text on screen, no OSC/BEL/C1 to the terminal, ``literals`` shown."""
    lines = screen_lines(app)
    bad = {f"U+{ord(c):04X}" for line in lines for c in UNSAFE.findall(line)}
    assert not bad, type(app.screen).__name__
    # wide characters counted as two cells: no line runs past the screen's edge
    assert {cell_len(line) for line in lines} == {SIZE[0]}, type(app.screen).__name__
    text = "\n".join(lines)
    output = terminal_output(app)
    for bad in ("\x1b]", "\x07", "\x9b", "\x1b[2J", "\x1b[5m"):
        assert bad not in output, (type(app.screen).__name__, bad)
    for literal in literals:
        assert clean(literal) in text, (type(app.screen).__name__, clean(literal))
    return text


async def click_on(pilot: Pilot, words: str) -> None:
    """Click the middle of ``words`` where the screen shows them."""
    for y, line in enumerate(screen_lines(pilot.app)):
        x = line.find(words)
        if x >= 0:
            await pilot.click(offset=(x + len(words) // 2, y))
            await pilot.pause()
            return
    raise AssertionError(f"{words!r} is not on screen")


@pytest.fixture
def hostile_action(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``app.hostile``: what a ``[@click=app.hostile]`` link would run, if it ran."""
    calls: list[str] = []
    monkeypatch.setattr(CrmApp, "action_hostile", lambda self: calls.append("ran"), raising=False)
    return calls


# -- Freshsales: lists, record, related, timeline, search, palette, notices, outbox ----


def refusing(app: Any, message: str) -> Callable[..., Any]:
    """The sandbox, but every write gets a 422 whose message is ``message``."""

    async def wrapper(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and scope["method"] in ("PUT", "PATCH", "POST"):
            body = {"errors": {"code": 422, "message": message}}
            await JSONResponse(body, status_code=422)(scope, receive, send)
            return
        await app(scope, receive, send)

    return wrapper


def poison_freshsales(demo: Demo) -> None:
    db = demo.db
    contact = db.contacts[16000001]
    contact.update(first_name=FIRST, last_name=LAST, display_name=f"{FIRST} {LAST}")
    contact["job_title"] = JOB
    db.sales_accounts[contact["sales_account_id"]]["name"] = ACCOUNT
    db.ensure("Contact", 16000001)
    db.users[contact["owner_id"]]["display_name"] = OWNER  # the user card and picker
    note = dict(next(iter(db.notes.values())))
    note.update(id=db.new_id("notes"), description=NOTE, targetable_type="Contact")
    note["targetable_id"] = 16000001
    db.notes[note["id"]] = note
    db.attach("notes", note)
    task = next(t for t in db.tasks.values() if t["status"] == 0)
    task.update(title=TASK, due_date="2026-10-01T09:00:00Z")  # first of the overdue
    task["owner_id"] = db.api_keys["sandbox"]  # the demo user's: My day lists it by default


async def wait_screen(pilot: Pilot, kind: type) -> Any:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind))
    await wait_for(pilot, lambda: pilot.app.screen.is_mounted)
    await pilot.pause()
    return pilot.app.screen


async def test_hostile_freshsales_text_is_inert_on_every_screen(
    demo: Demo, hostile_action: list[str]
) -> None:
    poison_freshsales(demo)
    app, crm = demo.app, demo.crm
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_screen(pilot, HomeScreen)
        assert_inert(app)

        # the list: the contact's row, found with the list's search box
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, VendorScreen) and app.screen.query(KindView)
        )
        app.screen.query_one(TabbedContent).active = "tab-contact"
        view = app.screen.query_one("#tab-contact KindView", KindView)
        await wait_for(pilot, lambda: view.table.row_count > 0 and not view.fetching)
        view.query_one(".list-search", Input).value = "Ananya"
        await wait_for(pilot, lambda: view.search_text == "Ananya" and view.table.row_count > 0)
        await wait_for(pilot, lambda: not view.fetching)
        await pilot.pause()
        assert_inert(app, FIRST)

        # the record: title, fields, related account, timeline note
        app.open_record(RecordRef(profile=FS, kind="contact", id="16000001"))
        record = await wait_screen(pilot, RecordScreen)
        timeline = record.query_one(Timeline)
        await wait_for(pilot, lambda: not timeline.fetching and timeline.activities)
        await wait_for(
            pilot, lambda: any(i.spec.key == "job_title" for i in record.query(FieldItem))
        )
        await pilot.pause()
        assert_inert(app, FIRST, JOB, ACCOUNT, "Line one [/]", "two [@click=app.hostile]x[/]")
        await click_on(pilot, "Click me")
        assert hostile_action == []

        # v: the whole job title in the viewer, as typed
        fields = record.query_one("#fields", ListView)
        fields.focus()
        fields.index = next(
            i for i, item in enumerate(record.query(FieldItem)) if item.spec.key == "job_title"
        )
        await pilot.press("v")
        await wait_screen(pilot, TextViewScreen)
        await pilot.pause()
        assert_inert(app, JOB)
        await pilot.press("escape")
        await wait_screen(pilot, RecordScreen)

        # e: the editor shows the value inert, and holds it unchanged
        fields.focus()
        await pilot.press("e")
        item = next(i for i in record.query(FieldItem) if i.spec.key == "job_title")
        await wait_for(pilot, lambda: item.editing and item.query(Input))
        await pilot.pause()
        assert item.query_one(Input).value == JOB
        assert_inert(app, JOB)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not item.editing)
        assert app.screen is record  # escape closed the editor, not the record

        # enter on the owner: the user's card; e: the users to pick from
        fields.focus()
        fields.index = next(
            i for i, item in enumerate(record.query(FieldItem)) if item.spec.key == "owner"
        )
        await pilot.press("enter")
        await wait_screen(pilot, UserCardScreen)
        assert_inert(app, OWNER)
        await pilot.press("escape")
        await wait_screen(pilot, RecordScreen)
        fields.focus()
        await pilot.press("e")
        picker = await wait_screen(pilot, ReferencePicker)
        await wait_for(pilot, lambda: picker.shown == picker.generation)
        assert_inert(app, OWNER)
        await pilot.press("escape")
        await wait_screen(pilot, RecordScreen)

        # ctrl+k: search every profile
        await pilot.press("ctrl+k")
        search = await wait_screen(pilot, SearchScreen)
        search.query_one(Input).value = "Ananya"
        await wait_for(pilot, lambda: search.refs)
        await pilot.pause()
        assert_inert(app, FIRST)
        await click_on(pilot, "Ananya")
        await pilot.press("escape")
        await wait_screen(pilot, RecordScreen)

        # ctrl+p: the command palette's record hits (label and help line)
        await palette_search(pilot, "Ananya")
        await pilot.pause()
        assert_inert(app, FIRST)
        await pilot.press("escape")
        await wait_screen(pilot, RecordScreen)

        # a notice with vendor words (as the service sends for a refused edit)
        crm.notice(REFUSAL, "error")
        await wait_for(pilot, lambda: "is not valid for" in screen_text(app))
        assert_inert(app, "[/] is not valid for", "[@click=app.hostile]job[/]")
        await click_on(pilot, "job[/]")  # a click on a toast dismisses it; runs nothing

        # a 422 whose message is hostile: the record's pending line, the outbox, a notice
        crm.http.mount_app("http://freshsales.localhost", refusing(demo.sandbox, REFUSAL))
        ref = record.ref
        await crm.edit(ref, {"job_title": "Head of Procurement"})
        await wait_for(
            pilot,
            lambda: any(c.state is ChangeState.REJECTED for c in crm.changes(FS)),
        )
        await pilot.pause()
        assert_inert(app, "edit refused: Freshsales: " + REFUSAL[:40])
        await pilot.press("ctrl+o")
        await wait_screen(pilot, OutboxScreen)
        await pilot.pause()
        assert_inert(app, FIRST, "Freshsales: [/] is not valid for")

        # a conflict on the same record, every column vendor text
        change = Change(
            ref=ref,
            values={"job_title": TASK},
            base={"job_title": JOB},
            theirs={"job_title": NOTE},
            state=ChangeState.CONFLICT,
        )
        app.push_screen(ConflictScreen(crm, change))
        await wait_screen(pilot, ConflictScreen)
        await pilot.pause()
        assert_inert(app, FIRST, TASK, "[@click=app.hostile]Click me[/]")
        await click_on(pilot, "Click me")
        app.pop_screen()

        # My day: the hostile task
        app.action_my_day()
        my_day = await wait_screen(pilot, MyDayScreen)
        await wait_for(pilot, lambda: not my_day.refreshing)
        await pilot.pause()
        assert_inert(app, TASK)

        # help and the request log
        await pilot.press("question_mark")
        await wait_screen(pilot, HelpScreen)
        assert_inert(app)
        await pilot.press("escape")
        await pilot.press("ctrl+l")
        await wait_screen(pilot, RequestLogScreen)
        assert_inert(app)
        assert hostile_action == []


# -- ActiveCampaign: the board, its stage labels and the filter prompt ------------------


async def test_hostile_stage_and_deal_names_on_the_board_and_filters(
    vendor_demo: Callable[[str], Demo], hostile_action: list[str]
) -> None:
    demo = vendor_demo("activecampaign")
    stage = next(s for s in demo.db.stages.values() if s["group"] == "1")
    stage["title"] = STAGE
    deal = next(
        d for d in demo.db.deals.values() if d["stage"] == stage["id"] and str(d["status"]) == "0"
    )
    deal["title"] = DEAL
    demo.db.groups["1"]["title"] = "[/] Pipeline \x1b]0;x\x07"
    app = demo.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, HomeScreen)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, VendorScreen) and app.screen.query(KindView)
        )
        app.screen.query_one(TabbedContent).active = "tab-deal"
        view = app.screen.query_one("#tab-deal KindView", KindView)
        await wait_for(pilot, lambda: view.table.row_count > 0 and not view.fetching)
        view.table.focus()
        await pilot.pause()
        assert_inert(app)

        await open_board_at_start(pilot, view, record_id=str(deal["id"]))
        await pilot.pause()
        assert_inert(app, "[reverse]To Contact[/]", "[link=https://evil.ex", "[/] Pipeline")
        await pilot.press("escape")
        await wait_screen(pilot, VendorScreen)

        await pilot.press("F")
        await wait_screen(pilot, FilterScreen)
        await pilot.pause()
        assert_inert(app, "[/] Pipeline ␛]0;x␇", "[reverse]To Contact[/]␛[1m")
        await pilot.press("escape")
        assert hostile_action == []


# -- a long field ---------------------------------------------------------------------


async def test_a_long_field_is_cut_with_a_marker_and_v_shows_it_all(demo: Demo) -> None:
    long_text = ("The quick brown fox [/] jumps over the lazy dog. " * 20 + "\n") * 5_000
    demo.db.contacts[16000001]["job_title"] = long_text  # about 5 MB
    ref = RecordRef(profile=FS, kind="contact", id="16000001")
    app = demo.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, HomeScreen)
        await demo.crm.get(ref)
        app.open_record(ref)
        record = await wait_screen(pilot, RecordScreen)
        await wait_for(
            pilot, lambda: any(i.spec.key == "job_title" for i in record.query(FieldItem))
        )
        item = next(i for i in record.query(FieldItem) if i.spec.key == "job_title")
        shown = str(item.query_one(".field-value", Label).render())
        assert shown.startswith("The quick brown fox [/] jumps")
        assert len(shown) == PREVIEW_CHARS  # the first line, cut
        marker = str(item.query_one(".field-more", Label).render())
        hidden = len(long_text) - PREVIEW_CHARS
        assert marker == f"… {hidden / 1e6:.1f} million more characters — v shows it all"
        assert len(screen_lines(app)[0].strip()) <= 300  # the heading (its summary) is cut

        fields = record.query_one("#fields", ListView)
        fields.focus()
        fields.index = list(record.query(FieldItem)).index(item)
        await pilot.pause()
        assert "v shows it all" in screen_text(app)
        await pilot.press("v")
        await wait_screen(pilot, TextViewScreen)
        viewer = app.screen.query_one(LongText)
        assert viewer.text == long_text  # stored and shown whole
        await pilot.pause()
        assert "The quick brown fox [/] jumps" in screen_text(app)
        await pilot.press("G")
        await pilot.pause()
        assert viewer.scroll_offset.y > 0
        last = viewer.row_text(viewer.rows - 2)
        assert last and long_text.rstrip("\n").endswith(last)
        await pilot.press("escape")
        await wait_screen(pilot, RecordScreen)


# -- the notebook --------------------------------------------------------------------


def test_notebook_html_escapes_and_cleans_vendor_text() -> None:
    from datetime import UTC, datetime

    from crmtui.model import Activity, ActivityType, Record

    record = Record(
        profile=FS,
        vendor="freshsales",
        kind="contact",
        id="1",
        title=FIRST + "<script>alert(1)</script>",
        subtitle=JOB,
        fields={"job_title": NOTE},
        remote_url="javascript:alert(1)",
    )
    html = record_html(record, {})
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "[bold red]Ananya[/]" in html and "javascript:" not in html.split("<h4>")[1][:20]
    assert not UNSAFE.search(html)
    activity = Activity(
        id="a",
        type=ActivityType.NOTE,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        summary=TASK,
        body=NOTE,
        who=LAST,
    )
    html = timeline_html([activity])
    assert not UNSAFE.search(html.replace("\n", ""))
    assert "Line one [/]\n␛]52;c;bm90ZQ==␇ two" in html


# -- a light property test through one screen -------------------------------------------


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(NASTY) | st.text(max_size=30), min_size=1, max_size=4).map("".join))
def test_any_title_is_inert_on_the_record_screen(tmp_path_factory: Any, title: str) -> None:
    import asyncio

    from tests.helpers.ui import build_demo

    demo = build_demo("freshsales", tmp_path_factory.mktemp("hostile") / "cache.sqlite3")
    demo.db.contacts[16000001].update(display_name=title, job_title=title)
    ref = RecordRef(profile=FS, kind="contact", id="16000001")

    async def run() -> None:
        async with demo.app.run_test(size=SIZE) as pilot:
            await wait_screen(pilot, HomeScreen)
            demo.app.open_record(ref)
            record = await wait_screen(pilot, RecordScreen)
            await wait_for(pilot, lambda: record.record is not None and record.specs)
            await pilot.pause()
            assert_inert(demo.app)

    asyncio.run(run())
