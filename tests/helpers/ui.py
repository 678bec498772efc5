"""Driving the app with Pilot: the demo on one vendor's sandbox, and the steps tests share.

Every wait here waits for a condition (with a timeout that fails the test), never for a
fixed time.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import textual.app
import textual.pilot
from textual import events
from textual.app import App
from textual.command import CommandList, CommandPalette
from textual.css.stylesheet import Stylesheet
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Checkbox, Input, ListView, OptionList, Select, Tab, TabbedContent
from textual.worker import WorkerState

from crmtui.config import Config
from crmtui.http import Http
from crmtui.model import Record, RecordRef, Role
from crmtui.service import Crm
from crmtui.store import Store
from crmtui.ui.app import CrmApp
from crmtui.ui.launch import demo_crm
from crmtui.ui.screens.board import BoardScreen
from crmtui.ui.screens.home import HomeScreen
from crmtui.ui.screens.my_day import MyDayScreen
from crmtui.ui.screens.record import FieldItem, RecordScreen
from crmtui.ui.screens.vendor import KindView, VendorScreen
from crmtui.ui.widgets.reference_picker import ReferencePicker
from crmtui.ui.widgets.timeline import Timeline
from tests.helpers.waits import no_sleep as no_sleep  # re-exported for UI tests
from tests.helpers.waits import polls

POLL = 0.02  # seconds between two looks at a condition, at most


IDLE_SLICE = 0.005  # seconds of each look at whether the app still works (Textual: 0.02)
# busy: at least 3.3 % of a slice running or waiting to run (5 % once counted the ~80 µs
# the two looks at /proc cost when each opened the file; the same bar of work as then)
IDLE_BUSY = IDLE_SLICE / 30


_schedstat = threading.local()  # .fd: this thread's /proc schedstat, open (-1: none)


def _waited_to_run() -> float:
    """Seconds this thread (the event loop's) has waited for a CPU while it could run
    (Linux schedstat; 0 elsewhere). The file is opened once a thread and read again from
    its start: an open and close each 5 ms slice cost more CPU than the rest of the wait
    (profiled: 40 µs a look against 1 µs)."""
    fd = getattr(_schedstat, "fd", None)
    if fd is None:
        try:
            fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        except OSError:
            fd = -1
        _schedstat.fd = fd
    if fd < 0:
        return 0.0
    try:
        return int(os.pread(fd, 128, 0).split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


async def wait_for_idle(min_sleep: float = IDLE_SLICE, max_sleep: float = 1) -> None:
    """Textual's ``wait_for_idle`` (Pilot waits with it after every key and in ``pause``),
    looking in 5 ms slices instead of 20 ms, and not mistaking a wait for the CPU for
    idleness: a slice in which the process ran (any thread) or the loop's thread stood
    ready to run (its own wake-up at the slice's end aside) for 5 % of it is busy. The
    app is as settled as Textual's wait leaves it, with no 20 ms floor a key, and a
    process held off the CPU of a busy machine is not taken for one that has finished."""
    start = time.monotonic()
    while True:
        began, cpu, queued = time.monotonic(), time.process_time(), _waited_to_run()
        await asyncio.sleep(IDLE_SLICE)
        ended = time.monotonic()
        # the wait to run past the slice's end is this sleep's own wake-up, not work
        held = _waited_to_run() - queued - max(0.0, ended - began - IDLE_SLICE)
        busy = time.process_time() - cpu + max(0.0, held)
        elapsed = ended - start
        if elapsed >= max_sleep or (elapsed > min_sleep and busy < IDLE_BUSY):
            return


def use_quick_idle_wait() -> None:
    """Pilot's key presses and pauses wait with ``wait_for_idle`` (in this process)."""
    textual.app.wait_for_idle = wait_for_idle  # type: ignore[attr-defined]
    textual.pilot.wait_for_idle = wait_for_idle  # type: ignore[attr-defined]


_PARSED: dict[tuple[Any, ...], list[Any]] = {}  # CSS source and variables -> its rules
_parse_rules = Stylesheet._parse_rules


def _shared_parse_rules(
    self: Stylesheet,
    css: str,
    read_from: Any,
    is_default_rules: bool = False,
    tie_breaker: int = 0,
    scope: str = "",
) -> list[Any]:
    key = (css, read_from, is_default_rules, tie_breaker, scope, *sorted(self._variables.items()))
    rules = _PARSED.get(key)
    if rules is None:
        rules = _PARSED[key] = _parse_rules(
            self, css, read_from, is_default_rules, tie_breaker, scope
        )
    return rules


def use_shared_css() -> None:
    """Each app's stylesheet takes the rules of a CSS source parsed earlier in this
    process with the same variables (the theme's), instead of parsing it again.

    Textual keeps parsed rules per stylesheet: every app a test starts parsed the same
    forty sources (widgets' default CSS, app.tcss) anew, and again for the theme set at
    start (profiled: a twentieth of tests/ui's CPU). The rules are the same objects any
    app of the process would have parsed; what fails to parse still fails each time."""
    Stylesheet._parse_rules = _shared_parse_rules  # type: ignore[method-assign]


@dataclass
class Demo:
    app: CrmApp
    crm: Crm
    sandbox: Any  # the vendor's sandbox app; .state.db is the vendor's own data

    @property
    def db(self) -> Any:
        return self.sandbox.state.db


def build_demo(
    vendor: str, store_path: Path, *, rate_limits: bool = False, config: Config | None = None
) -> Demo:
    """The app on one vendor's sandbox (fixed data and clock, steady status line).

    ``rate_limits``: whether the vendor's rate limits hold (the sandbox's, the client's
    pacing and its retry waits), as in the real demo; off unless a test is about them.
    """
    new_cache(store_path)
    crm, demos = demo_crm(
        vendors=[vendor],
        store_path=str(store_path),
        rate_limits=rate_limits,
        http=None if rate_limits else Http(sleep=no_sleep),
    )
    app = CrmApp(crm, title="crmtui demo", config=config, steady_status=True)
    return Demo(app=app, crm=crm, sandbox=demos[0].app)


_EMPTY_CACHE: list[bytes] = []  # a new cache file's bytes, made once a process


def new_cache(path: Path) -> None:
    """Put a new, empty cache at ``path`` (unless a file is there): a copy of one the
    store made once in this process. Each test's own store would otherwise create the
    schema and run every migration again (profiled: about 35 ms of CPU an app, a fortieth
    of tests/ui); opening the copy finds it current. The store's own tests make theirs."""
    if path.exists():
        return
    if not _EMPTY_CACHE:
        with tempfile.TemporaryDirectory() as folder:
            made = Path(folder) / "empty.sqlite3"
            Store(made).close()  # closed: the WAL checkpointed into the file, and gone
            _EMPTY_CACHE.append(made.read_bytes())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(_EMPTY_CACHE[0])


async def wait_for(pilot: Pilot, condition: Callable[[], Any], timeout: float = 10.0) -> None:
    """Let the app work until ``condition()`` holds (fails the test once its pauses add
    up to ``timeout`` seconds: the time the app had, however busy the machine). Looked at
    again after each pause (``polls``: 1 ms first, doubling up to ``POLL``), the app
    handling its messages meanwhile."""
    waited = 0.0
    for delay in polls(POLL):
        if condition():
            return
        if waited >= timeout:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(delay)
        waited += delay


def busy(pilot: Pilot) -> bool:
    """Whether a worker of the app (a fetch, a page of rows, a timeline) still runs."""
    return any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers)


async def settle(pilot: Pilot) -> None:
    """Let the app finish what it started (workers, animations) and paint the result: what
    a snapshot or an eye would see once the screen stops moving."""
    await wait_for(pilot, lambda: not busy(pilot))
    await pilot.wait_for_scheduled_animations()
    await wait_for(pilot, lambda: not busy(pilot))
    await pilot.pause()


# -- the vendor screen -----------------------------------------------------------------


async def open_vendor(pilot: Pilot) -> VendorScreen:
    """From the home screen, the only profile's screen with every tab in."""
    app = pilot.app
    if not isinstance(app.screen, VendorScreen):
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.press("enter")
    await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, VendorScreen)
            and app.screen.query(KindView)
            and not app.screen.query_one("#kinds-loading").display  # every tab is in
        ),
    )
    screen = app.screen
    assert isinstance(screen, VendorScreen)
    return screen


async def open_kind(pilot: Pilot, kind: str) -> KindView:
    """Open the only profile (unless open) and the tab of ``kind``, its table focused."""
    screen = await open_vendor(pilot)
    tab = f"tab-{kind.replace(':', '-')}"
    tabs = screen.query_one(TabbedContent)

    def on_tab() -> bool:  # a tab bar message still in flight may switch back: insist
        if tabs.active != tab:
            tabs.active = tab
            return False
        return True

    await wait_for(pilot, on_tab)
    await pilot.pause()
    await wait_for(pilot, on_tab)
    view = screen.query_one(f"#{tab} KindView", KindView)
    await wait_for(
        pilot,
        lambda: view.table.row_count > 0 and not view.fetching and view.table.region.height > 0,
    )
    view.table.focus()
    return view


async def open_deals(pilot: Pilot) -> KindView:
    return await open_kind(pilot, "deal")


async def open_board_at_start(
    pilot: Pilot, view: KindView, timeout: float = 10.0, record_id: str | None = None
) -> BoardScreen:
    """Highlight an open record of the kind's first board and first stage (the first such
    row of the list, or the one of ``record_id``), then press ``b``: the board opens on
    the highlighted record's pipeline with its card selected, so this is the board's
    start."""
    info = view.info
    specs = {s.key: s for s in view.crm.cached_fields(view.profile, info.kind)}
    stage = specs[info.role(Role.STAGE) or info.board_field or ""]
    first = stage.choices[0]
    status = specs.get(info.role(Role.STATUS) or "")
    table = view.table

    def fits(record: Record | None) -> bool:
        if record is None or str(record.fields.get(stage.key)) != first.value:
            return False
        if record_id is not None and record.id != record_id:
            return False
        return (
            status is None
            or status.choice("open") is None
            or (str(record.fields.get(status.key)) == "open")
        )

    row = next(i for i in range(table.row_count) if fits(table.record_at(i)))
    table.cursor = row
    await wait_for(pilot, lambda: table.current is not None and fits(table.current))
    await pilot.press("b")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, BoardScreen))
    board = pilot.app.screen
    assert isinstance(board, BoardScreen)
    await wait_for(pilot, lambda: not board.refreshing and board.current is not None, timeout)
    return board


def tab_labels(pilot: Pilot) -> list[str]:
    return [str(tab.label) for tab in pilot.app.screen.query_one(TabbedContent).query(Tab)]


# -- the record screen -----------------------------------------------------------------


async def open_current(pilot: Pilot, *, timeline: bool = True) -> RecordScreen:
    """Open the highlighted row; wait for the record and (if asked) its timeline."""
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
    screen = pilot.app.screen
    assert isinstance(screen, RecordScreen)
    pane = screen.query_one(Timeline)
    await wait_for(pilot, lambda: not pane.fetching and (pane.activities or not timeline))
    return screen


async def open_record(
    pilot: Pilot, demo: Demo, vendor: str, kind: str, at: int = 0
) -> RecordScreen:
    """The record screen of the first record of ``kind`` (a prefix for SalesforceIQ
    lists), or of the record ``at`` that place in the cache's order."""
    profile = f"demo-{vendor}"
    await wait_for(pilot, lambda: pilot.app.screen_stack)
    kinds = await demo.crm.kinds(profile)
    kind = next(k.kind for k in kinds if k.kind.startswith(kind))
    page = await demo.crm.refresh(profile, kind)

    def found() -> list[Record]:
        if at:
            return demo.crm.window(profile, kind, offset=at, limit=1)
        return page.records or demo.crm.window(profile, kind, limit=1)

    await wait_for(pilot, found)
    record = found()[0]
    pilot.app.open_record(RecordRef(profile=profile, kind=kind, id=record.id))  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
    screen = pilot.app.screen
    assert isinstance(screen, RecordScreen)

    def loaded() -> bool:  # the fields as the vendor has them, not those of the cache
        loading = [w for w in pilot.app.workers if w.node is screen and w.group == "load"]
        return (
            screen.is_mounted
            and screen.record is not None
            and not any(not w.is_finished for w in loading)
        )

    await wait_for(pilot, loaded)
    return screen


async def open_field(pilot: Pilot, key: str) -> FieldItem:
    """Open the editor of the writable field ``key`` on the record screen."""
    screen = pilot.app.screen
    assert isinstance(screen, RecordScreen)
    fields = screen.query_one("#fields", ListView)
    await wait_for(
        pilot, lambda: any(i.spec.key == key and i.spec.writable for i in fields.query(FieldItem))
    )
    await pilot.pause()  # the rows of a rebuild (the vendor's fields after the cache's) in
    items = list(fields.query(FieldItem))
    fields.focus()
    fields.index = next(i for i, item in enumerate(items) if item.spec.key == key)
    await pilot.press("e")
    item = items[fields.index]
    await wait_for(pilot, lambda: item.editing and item.query(Input))
    return item


async def type_text(pilot: Pilot, box: Input, text: str) -> None:
    """Type ``text`` into ``box`` (focused) as a fast typist does: a key event a character,
    all delivered at once (``burst``), then wait until the box holds it. ``pilot.press``
    waits for the app to go idle after each key (twice, at least 20 ms each) and paints
    each: seconds for a sentence, where the tests of typing pace (tests/ui/test_typing.py)
    are the ones about the pace."""
    await wait_for(pilot, lambda: box.has_focus)
    await burst(pilot, *text)
    await wait_for(pilot, lambda: box.value == text)


async def type_into(pilot: Pilot, item: FieldItem, text: str) -> None:
    editor = item.query_one(Input)
    editor.value = ""
    await type_text(pilot, editor, text)
    await pilot.press("enter")


async def highlight(pilot: Pilot, screen: RecordScreen, key: str) -> FieldItem:
    """Move the fields list to the writable field ``key`` (once the vendor's specs are in)."""
    fields = screen.query_one("#fields", ListView)

    def rows() -> list[FieldItem]:
        return list(fields.query(FieldItem))

    def ready() -> list[int]:
        return [n for n, i in enumerate(rows()) if i.spec.key == key and i.spec.writable]

    def highlighted() -> bool:  # the list may be rebuilt meanwhile (the vendor's specs)
        at = ready()
        if not at:
            return False
        if fields.index != at[0]:
            fields.index = at[0]
            return False
        return True

    fields.focus()
    await wait_for(pilot, highlighted)
    await pilot.pause()
    await wait_for(pilot, highlighted)
    return rows()[ready()[0]]


async def sent(pilot: Pilot, demo: Demo, ref: RecordRef, key: str) -> object:
    """The field's value as the vendor holds it, once the outbox is empty."""
    await wait_for(pilot, lambda: not demo.crm.changes(ref.profile), timeout=20)
    record = await demo.crm.get(ref)
    return record.fields.get(key)


async def burst(pilot: Pilot, *keys: str) -> None:
    """Keys as a terminal delivers a paste or a fast typist: all at once, no idle between."""
    app = pilot.app
    for key in keys:
        name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
        char = key if len(key) == 1 else {"enter": "\r", "tab": "\t"}.get(key)
        app.post_message(events.Key(name, char))
    await pilot.pause()


async def pick_reference(pilot: Pilot, title: str, id: str) -> ReferencePicker:
    """``e`` on the highlighted reference field, then type ``title`` in the picker until
    the record ``id`` is its first hit (the cached records listed at once before); the
    picker, for enter to pick it."""
    await pilot.press("e")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ReferencePicker))
    picker = pilot.app.screen
    assert isinstance(picker, ReferencePicker)
    await wait_for(pilot, lambda: picker.query_one(OptionList).option_count > 0)
    await type_text(pilot, picker.query_one(Input), title)
    await wait_for(
        pilot,
        lambda: (
            picker.shown == picker.generation and bool(picker.found) and picker.found[0].id == id
        ),
    )
    return picker


# -- My day ----------------------------------------------------------------------------


async def open_my_day(pilot: Pilot) -> MyDayScreen:
    """My day from the command palette, once its tasks are in."""
    await run_command(pilot, "My day")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MyDayScreen))
    day = pilot.app.screen
    assert isinstance(day, MyDayScreen)
    await wait_for(pilot, lambda: not day.refreshing and day.tasks)
    return day


# -- the command palette ---------------------------------------------------------------


def palette_hits(app: App[Any]) -> list[str]:
    """The prompts the command palette lists now (none while it is not open)."""
    lists = app.screen.query(CommandList)
    if not lists:
        return []
    hits = lists.first()
    return [str(hits.get_option_at_index(i).prompt) for i in range(hits.option_count)]


async def palette_search(pilot: Pilot, text: str) -> None:
    """Open the command palette and type ``text``, until a hit shows it."""
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
    await type_text(pilot, pilot.app.screen.query_one(Input), text)
    await wait_for(pilot, lambda: any(text in hit for hit in palette_hits(pilot.app)))


def highlighted_hit(app: App[Any]) -> str:
    """The prompt of the command palette's highlighted hit ("" when none)."""
    lists = app.screen.query(CommandList)
    index = lists.first().highlighted if lists else None
    return "" if index is None else str(lists.first().get_option_at_index(index).prompt)


async def run_command(pilot: Pilot, text: str) -> None:
    """Run the command palette's hit for ``text`` (the palette closes): enter once that
    hit is highlighted (hits arrive and reorder as the providers answer)."""
    await palette_search(pilot, text)
    await wait_for(pilot, lambda: text in highlighted_hit(pilot.app))
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, CommandPalette))


async def fill_field(pilot: Pilot, screen: Screen[Any], key: str, text: str) -> None:
    """Type ``text`` into a form's field ``key`` (``#field-<key>``: the create form, the
    log-a-call form); a pick or a choice: its option of that value; a flag: ticked when
    ``text`` is not empty."""
    await wait_for(pilot, lambda: screen.is_mounted)  # pushed, a form composes after
    widget = screen.query_one(f"#field-{key}")
    if isinstance(widget, Select):
        widget.value = text
    elif isinstance(widget, Checkbox):
        widget.value = bool(text)
    else:
        assert isinstance(widget, Input)
        widget.focus()
        widget.value = ""
        await type_text(pilot, widget, text)
    await pilot.pause()


def screen_text(app: App[Any]) -> str:
    """The text of every cell the current screen draws, line by line (what a user reads)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)
