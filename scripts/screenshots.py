"""Regenerate screenshots/: the app on the demo sandboxes, driven like a user would.

    python scripts/screenshots.py [--out screenshots] [--only NAME ...]

Each picture is an SVG saved by Textual, and a PNG of it when ``rsvg-convert`` is
installed (Debian: librsvg2-bin; ``--readme-png-only`` keeps PNGs to the pictures the
README shows). The data and clock are the sandboxes' fixed
ones, so the pictures change only when the app does. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, ListView, TabbedContent

from crmtui import sandbox
from crmtui.sandbox.fake import Fake
from crmtui.ui.app import CrmApp
from crmtui.ui.launch import demo_crm
from crmtui.ui.screens.board import BoardScreen
from crmtui.ui.screens.conflict import ConflictScreen
from crmtui.ui.screens.home import HomeScreen
from crmtui.ui.screens.my_day import MyDayScreen
from crmtui.ui.screens.outbox import OutboxScreen
from crmtui.ui.screens.record import FieldItem, RecordScreen
from crmtui.ui.screens.vendor import KindView, VendorScreen
from crmtui.ui.themes import load_themes
from crmtui.ui.widgets.timeline import Timeline

SIZE = (130, 40)
PNG = {"home", "record-with-timeline", "pipeline-board", "my-day", "conflict", "theme-light"}
DEJAVU_ADVANCE = 1233 / 2048  # DejaVu Sans Mono's advance width, in ems
ROOT = Path(__file__).resolve().parents[1]
Shot = Callable[[Pilot, Any], Awaitable[None]]


async def wait_for(pilot: Pilot, condition: Callable[[], Any], timeout: float = 20.0) -> None:
    waited = 0.0
    while not condition():
        if waited >= timeout:
            raise TimeoutError(f"timed out waiting for {condition}")
        await pilot.pause(0.05)
        waited += 0.05


async def settle(pilot: Pilot) -> None:
    await pilot.pause(0.3)
    await pilot.wait_for_scheduled_animations()


# -- the steps to each picture --------------------------------------------------------------


async def home(pilot: Pilot, crm: Any) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
    await wait_for(pilot, lambda: all(s.online is not None for s in crm.states.values()))


async def main_list(pilot: Pilot, crm: Any, tab: str | None = None) -> KindView:
    await home(pilot, crm)
    await pilot.press("enter")
    app = pilot.app
    await wait_for(
        pilot, lambda: isinstance(app.screen, VendorScreen) and app.screen.query(KindView)
    )
    if tab is not None:
        app.screen.query_one(TabbedContent).active = tab
    view = app.screen.query_one(TabbedContent).active_pane.query_one(KindView)  # type: ignore[union-attr]
    await wait_for(pilot, lambda: view.table.row_count > 0 and not view.fetching)
    view.table.focus()
    return view


async def deals(pilot: Pilot, crm: Any) -> None:
    await main_list(pilot, crm, "tab-deal")


async def record(pilot: Pilot, crm: Any) -> RecordScreen:
    await deals(pilot, crm)
    await pilot.press("j", "j", "enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
    screen = pilot.app.screen
    timeline = screen.query_one(Timeline)
    await wait_for(pilot, lambda: not timeline.fetching and timeline.activities)
    return screen  # type: ignore[return-value]


async def open_field(pilot: Pilot, key: str) -> FieldItem:
    fields = pilot.app.screen.query_one("#fields", ListView)
    await wait_for(pilot, lambda: any(i.spec.key == key for i in fields.query(FieldItem)))
    items = list(fields.query(FieldItem))
    fields.focus()
    fields.index = next(i for i, item in enumerate(items) if item.spec.key == key)
    await pilot.press("e")
    item = items[fields.index]
    await wait_for(pilot, lambda: item.editing and item.query(Input))
    item.query_one(Input).cursor_blink = False
    return item


async def edit(pilot: Pilot, crm: Any) -> None:
    await record(pilot, crm)
    item = await open_field(pilot, "amount")
    item.query_one(Input).value = ""
    await pilot.press(*"12x", "enter")
    await wait_for(pilot, lambda: "not a number" in str(item.query_one(".field-error").render()))


async def board(pilot: Pilot, crm: Any) -> None:
    await deals(pilot, crm)
    await pilot.press("b")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, BoardScreen))
    await pilot.pause(1.0)
    await pilot.press("l", "j")


async def conflict(pilot: Pilot, crm: Any) -> None:
    """A real conflict: edit the amount, change it at the vendor too, then send."""
    screen = await record(pilot, crm)
    crm.outbox.paused = True
    item = await open_field(pilot, "amount")
    item.query_one(Input).value = ""
    await pilot.press(*"48000", "enter")
    await wait_for(pilot, lambda: not item.editing)
    row = pilot.app.sandbox.state.db.table("deals")[int(screen.ref.id)]  # type: ignore[attr-defined]
    row["amount"] = 52500.0
    row["updated_at"] = "2026-11-20T10:30:00Z"
    crm.outbox.paused = False
    await crm.outbox.flush(screen.ref.profile)
    await pilot.press("ctrl+o")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, OutboxScreen))
    await wait_for(pilot, lambda: any(c.state.value == "conflict" for c in crm.changes()))
    pilot.app.screen.fill()  # type: ignore[attr-defined]
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConflictScreen))


async def my_day(pilot: Pilot, crm: Any) -> None:
    await home(pilot, crm)
    await pilot.press("d")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MyDayScreen))
    screen = pilot.app.screen
    await wait_for(pilot, lambda: not screen.refreshing and screen.tasks)  # type: ignore[attr-defined]


def shots() -> dict[str, tuple[list[str] | None, Shot, str | None]]:
    """name -> (vendors, steps, theme)."""
    out: dict[str, tuple[list[str] | None, Shot, str | None]] = {
        "home": (None, home, None),
        "record-with-timeline": (["freshsales"], record, None),
        "edit-in-progress": (["freshsales"], edit, None),
        "pipeline-board": (["activecampaign"], board, None),
        "conflict": (["freshsales"], conflict, None),
        "my-day": (None, my_day, None),
    }
    for vendor in sandbox.SANDBOXES:
        out[f"list-{vendor}"] = ([vendor], main_list, None)
    for theme in load_themes():
        out[f"theme-{theme.name.removeprefix('crmtui-')}"] = (["freshsales"], deals, theme.name)
    return out


async def take(
    name: str, vendors: list[str] | None, steps: Shot, theme: str | None, out: Path
) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        crm, demos = demo_crm(vendors=vendors, store_path=str(Path(tmp) / "cache.sqlite3"))
        app = CrmApp(crm, title="crmtui demo", steady_status=True)
        app.clock = lambda: Fake.NOW
        app.sandbox = demos[0].app  # type: ignore[attr-defined]
        async with app.run_test(size=SIZE) as pilot:
            if theme:
                app.theme = theme
            await steps(pilot, crm)
            await settle(pilot)
            svg = out / f"{name}.svg"
            app.save_screenshot(filename=svg.name, path=str(out))
    return svg


def to_png(svg: Path, zoom: float = 0.6) -> Path | None:
    """The SVG as a PNG (rsvg-convert), with the terminal font sized to its cell grid.

    Textual's SVG places each run of text at exact cell positions and asks for Fira Code;
    rsvg-convert draws with the system's monospace font (DejaVu Sans Mono, a little
    narrower) and ignores ``textLength``, so long runs would drift left of short ones.
    Scaling the font so its advance matches the cell width keeps the columns aligned.
    """
    if shutil.which("rsvg-convert") is None:
        return None
    text = svg.read_text(encoding="utf-8")
    size = 20 * 0.61 / DEJAVU_ADVANCE
    text = re.sub(
        r"font-family: Fira Code, monospace;\s*font-size: 20px;",
        f"font-family: DejaVu Sans Mono, monospace; font-size: {size:.3f}px;",
        text,
    )
    png = svg.with_suffix(".png")
    subprocess.run(
        ["rsvg-convert", "--zoom", str(zoom), "-o", str(png)],
        input=text.encode(),
        check=True,
    )
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--only", nargs="*", help="only these pictures (names without .svg)")
    parser.add_argument(
        "--readme-png-only", action="store_true", help="PNGs only of the pictures the README shows"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (vendors, steps, theme) in shots().items():
        if args.only and name not in args.only:
            continue
        svg = asyncio.run(take(name, vendors, steps, theme, args.out))
        png = to_png(svg) if not args.readme_png_only or name in PNG else None
        print(f"{svg.name}" + (f" + {png.name}" if png else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
