"""Long values everywhere: cut with a marker that names the key showing them whole; the
search box keeps up with fast typing; an unexpected error on the outbox screen is redacted."""

from __future__ import annotations

import base64
import threading
from typing import Any

from textual.pilot import Pilot

from crmtui.model import RecordRef
from crmtui.ui.screens.home import HomeScreen
from crmtui.ui.screens.record import RecordScreen
from crmtui.ui.screens.text_view import TextViewScreen
from crmtui.ui.widgets.long_text import LongText
from crmtui.ui.widgets.timeline import TimelineEntry
from tests.helpers.ui import Demo, settle, wait_for

SIZE = (150, 45)
FS = "demo-freshsales"
CONTACT = RecordRef(profile=FS, kind="contact", id="16000001")


async def wait_screen(pilot: Pilot, kind: type) -> Any:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind))
    await wait_for(pilot, lambda: pilot.app.screen.is_mounted)
    await pilot.pause()
    return pilot.app.screen


def screen_text(app: Any) -> str:
    """The text of every cell the current screen would draw."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def long_entries(screen: Any) -> list[TimelineEntry]:
    return [e for e in screen.query(TimelineEntry) if e.can_focus]


async def test_a_long_note_in_the_timeline_has_a_marker_and_v_or_enter_shows_it_whole(
    demo: Demo,
) -> None:
    note = "Call notes [/] from the quarterly review.\n" + "Budget line. " * 400 + "\nTHE END"
    app = demo.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, HomeScreen)
        await demo.crm.get(CONTACT)
        await demo.crm.add_note(CONTACT, note)
        app.open_record(CONTACT)
        record = await wait_screen(pilot, RecordScreen)
        await wait_for(pilot, lambda: long_entries(record))
        entry = long_entries(record)[0]
        shown = str(entry.render())
        assert "Call notes [/] from the quarterly review." in shown
        assert "THE END" not in shown  # cut ...
        assert "more characters — v or enter shows it all" in shown  # ... and it says so
        short = [e for e in record.query(TimelineEntry) if not e.can_focus]
        assert short and all("shows it all" not in str(e.render()) for e in short)

        for key in ("v", "enter"):
            entry = long_entries(record)[0]
            entry.focus()
            await pilot.pause()
            await pilot.press(key)
            viewer_screen = await wait_screen(pilot, TextViewScreen)
            viewer = viewer_screen.query_one(LongText)
            assert viewer.text == note.strip()  # whole, as typed
            await pilot.press("G")
            await pilot.pause()
            assert viewer.row_text(viewer.rows - 1).endswith("THE END")
            await pilot.press("escape")
            await wait_screen(pilot, RecordScreen)

        # A refresh that brings the same entries keeps them as they are: the entry the
        # rep is on stays focused (each show used to mount every entry again)
        await settle(pilot)
        entry = long_entries(record)[0]
        entry.focus()
        await pilot.pause()
        entries = list(record.query(TimelineEntry))
        await pilot.press("r")
        await settle(pilot)
        assert list(record.query(TimelineEntry)) == entries
        assert record.focused is entry


async def test_an_unexpected_send_error_holding_a_secret_is_redacted_everywhere(
    demo: Demo, monkeypatch: Any
) -> None:
    from crmtui.service.outbox import Outbox
    from crmtui.ui.screens.outbox import OutboxScreen

    secrets = demo.crm.states[FS].profile.secrets or {}
    key = next(iter(secrets.values()))
    basic = base64.b64encode(f"{key}:X".encode()).decode()

    async def bug(*args: Any) -> bool:  # a bug outside the adapter calls, quoting the key
        raise RuntimeError(f"request to /contacts?api_key={key} failed: Basic {basic} {key}")

    monkeypatch.setattr(Outbox, "_update", bug)
    notices: list[str] = []
    app = demo.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, HomeScreen)
        demo.crm.subscribe(lambda e: notices.append(str(getattr(e, "text", ""))))
        await demo.crm.get(CONTACT)
        await demo.crm.edit(CONTACT, {"job_title": "Head of Sales EMEA"})
        await wait_for(pilot, lambda: any(c.last_error for c in demo.crm.changes(FS)))
        error = next(c.last_error for c in demo.crm.changes(FS) if c.last_error)
        assert error.startswith("unexpected error: ") and "failed" in error
        app.action_outbox()
        await wait_screen(pilot, OutboxScreen)
        await pilot.pause()
        shown = screen_text(app)
        assert "unexpected error" in shown  # the Last error column
        stored = demo.crm.store.get_change(next(c.id for c in demo.crm.changes(FS)))
        assert stored is not None
        for text in (error, stored.last_error or "", *notices, shown, app.export_screenshot()):
            assert key not in text and basic not in text
        assert any("Could not send an edit" in n for n in notices)


async def test_fast_typing_in_global_search_never_waits_and_shows_the_last_texts_results(
    demo: Demo, monkeypatch: Any
) -> None:
    """The search of "a" is held until the whole word is typed: the keys after it still
    arrive (the search runs off the event loop), and its results, landing last, are
    dropped for those of the final text."""
    from textual.widgets import Input, OptionList

    from crmtui.ui.screens.search import SearchScreen

    app = demo.app
    async with app.run_test(size=SIZE) as pilot:
        await wait_screen(pilot, HomeScreen)
        await demo.crm.refresh(FS, "contact")  # contacts in the cache
        search = demo.crm.search
        word = "Ananya"
        expected = [r.ref for r in search(word, limit=50)]
        first = [r.ref for r in search(word[0], limit=50)]
        assert expected and first != expected
        held, started = threading.Event(), threading.Event()
        searched: list[str] = []
        timed_out: list[bool] = []

        def slow(text: str, **options: Any) -> list[Any]:
            searched.append(text)
            if text == word[0]:
                started.set()
                # ... until the rest has been typed (a search on the event loop would
                # hold the keys typed after it: this would time out)
                timed_out.append(not held.wait(timeout=5))
            return search(text, **options)

        monkeypatch.setattr(demo.crm, "search", slow)
        await pilot.press("ctrl+k")
        screen = await wait_screen(pilot, SearchScreen)
        await pilot.press(word[0])
        await wait_for(pilot, started.is_set)
        await pilot.press(*word[1:])  # the search of the first letter still runs
        assert screen.query_one(Input).value == word
        held.set()
        await wait_for(pilot, lambda: list(screen.refs.values()) == expected)
        await wait_for(pilot, lambda: not any(w.is_running for w in screen.workers))
        await pilot.pause()
        assert list(screen.refs.values()) == expected  # not the first letter's, landed last
        results = screen.query_one(OptionList)
        assert results.option_count == len(expected)
        assert searched[-1] == word and timed_out == [False]

        # enter typed before the results arrive opens the first of the final text's
        await pilot.press("backspace")
        await pilot.press("a", "enter")
        await wait_screen(pilot, RecordScreen)
        assert app.screen.ref == expected[0]
