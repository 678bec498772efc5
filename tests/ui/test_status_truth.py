"""Issue 15, point 5: every status a rep reads tells the truth.

- Home says ``⚠ sign-in failed`` (never ``● online``) for a profile whose vendor refuses
  its credentials (401; ActiveCampaign's 403), on every vendor, and the status line too.
- The outbox asks before it discards a change, names it in field labels, and ``u``
  brings the discarded change back as it was while the app runs; a change being sent is
  not discarded, and says so.
- A sent edit shows ``sent ✓`` in the status line, which goes after a few seconds.
- An edit held back behind a refused edit of the same record says so, and what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import JSONResponse
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from crmtui.model import ChangeState, FieldSpec, FieldType, RecordRef
from crmtui.service import Crm
from crmtui.ui.screens.home import HomeScreen
from crmtui.ui.screens.outbox import ConfirmDiscard, OutboxScreen
from crmtui.ui.screens.vendor import VendorScreen
from crmtui.ui.widgets.fit_table import FitTable
from crmtui.ui.widgets.status import StatusBar
from tests.helpers.ui import Demo, build_demo, open_vendor, settle, wait_for

VENDORS = ["freshsales", "salesloft", "activecampaign", "salesseek", "salesforceiq"]
SIZES = [(160, 48), (80, 24)]


def wrong_credentials(demo: Demo) -> None:
    """The profile's secrets as a rep who pasted the wrong key would have them."""
    for state in demo.crm.states.values():
        secrets = state.profile.secrets or {}
        for key in secrets:
            secrets[key] = "not-the-key"


def status_cell(app: object, profile: str) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, HomeScreen)
    table = screen.query_one(DataTable)
    return str(table.get_row(profile)[2])


def status_line(pilot: Pilot) -> str:
    bar = pilot.app.screen.query_one(StatusBar)
    return str(bar.render())


@pytest.mark.parametrize("vendor", VENDORS)
async def test_home_says_sign_in_failed_for_a_wrong_key(tmp_path: Path, vendor: str) -> None:
    """One app per vendor, checked at 160x48 and again resized to 80x24."""
    demo = build_demo(vendor, tmp_path / "cache.sqlite3")
    wrong_credentials(demo)
    profile = f"demo-{vendor}"
    async with demo.app.run_test(size=SIZES[0]) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        await wait_for(pilot, lambda: "sign-in failed" in status_cell(pilot.app, profile))
        for size in SIZES:
            await pilot.resize_terminal(*size)
            await settle(pilot)
            assert pilot.app.size == size
            assert "online" not in status_cell(pilot.app, profile)
            problem = pilot.app.screen.query_one("#profile-problem", Static)
            assert problem.display and problem.region.height > 0  # on screen, at either size
            text = str(problem.render())
            assert "sign-in failed" in text and "credentials" in text
            assert "sign-in failed" in status_line(pilot)
            assert "online" not in status_line(pilot)
        assert demo.crm.status(profile).state == "sign-in failed"
        # the vendor screen's status line says it too, not "online", at either size
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, VendorScreen))
        for size in reversed(SIZES):
            await pilot.resize_terminal(*size)
            await settle(pilot)
            assert "sign-in failed" in status_line(pilot)
            assert "● online" not in status_line(pilot)


async def test_reconnect_after_a_refused_key_says_online(tmp_path: Path) -> None:
    """A 401 once (a rotated key on Freshsales): r checks again and home says online."""
    demo = build_demo("freshsales", tmp_path / "cache.sqlite3")
    demo.sandbox.state.faults.update({"next": ["expire"]})
    async with demo.app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: "sign-in failed" in status_cell(pilot.app, "demo-freshsales"))
        await pilot.press("r")
        await wait_for(pilot, lambda: status_cell(pilot.app, "demo-freshsales") == "● online")
        assert not pilot.app.screen.query_one("#profile-problem", Static).display
        assert "sign-in failed" not in status_line(pilot)


async def test_fixed_kinds_alone_never_say_online(tmp_path: Path) -> None:
    """Salesloft's kinds take no request: home says online only once the vendor took the
    key (the sign-in check reads one row)."""
    demo = build_demo("salesloft", tmp_path / "cache.sqlite3")
    async with demo.app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: status_cell(pilot.app, "demo-salesloft") == "● online")
        assert demo.crm.states["demo-salesloft"].accepted > 0
        await open_vendor(pilot)


# -- the outbox: refused, held back, discard with a question, undo; sent ✓ ---------------


def refusing(app: Any) -> Callable[..., Any]:
    """The sandbox, but every write gets a 422 (the vendor says no to the value)."""

    async def wrapper(scope: dict[str, Any], receive: Callable[..., Any], send: Callable) -> None:
        if scope["type"] == "http" and scope["method"] in ("PUT", "PATCH", "POST", "DELETE"):
            body = {"message": "[b]Value[/b] refused by the vendor", "errors": []}
            await JSONResponse(body, status_code=422)(scope, receive, send)
            return
        await app(scope, receive, send)

    return wrapper


def origin(vendor: str) -> str:
    return f"http://{vendor}.localhost"


async def text_field(crm: Crm, profile: str) -> tuple[RecordRef, FieldSpec]:
    """A record of the profile and a writable free-text field of it (kinds in tab order)."""
    for info in await crm.kinds(profile):
        if not info.editable:
            continue
        specs = await crm.fields(profile, info.kind)
        spec = next(
            (
                s
                for s in specs
                if s.writable
                and s.type is FieldType.TEXT
                and not s.choices
                and not s.required
                and (s.max_length is None or s.max_length >= 40)
                and s.key not in ("email", "emails", "website", "phone", "url")
                and s.key not in info.references  # another record's id, picked
            ),
            None,
        )
        if spec is None:
            continue
        page = await crm.refresh(profile, info.kind)
        if page.records:
            return RecordRef(profile=profile, kind=info.kind, id=page.records[0].id), spec
    raise AssertionError(f"{profile}: no writable text field")


def outbox_cells(pilot: Pilot) -> list[list[str]]:
    """The outbox's cells as given (uncut: the table cuts them to the screen's width)."""
    table = pilot.app.screen.query_one(FitTable)
    return [table.given(row.key) for row in table.ordered_rows]


def screen_text(pilot: Pilot) -> str:
    return " ".join(str(w.render()) for w in pilot.app.screen.query(Static))


HOSTILE = "[b]Q4[/b][@click=q]x[/]"  # within the Change column's cut of a value


@pytest.mark.parametrize("vendor", VENDORS)
async def test_an_edit_held_back_by_a_refused_one_says_so_and_discard_asks_and_undoes(
    tmp_path: Path, vendor: str
) -> None:
    """One app per vendor: what is checked on screen is checked at 160x48 and at 80x24."""
    demo = build_demo(vendor, tmp_path / "cache.sqlite3")
    crm, profile = demo.crm, f"demo-{vendor}"
    async with demo.app.run_test(size=SIZES[0]) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        ref, spec = await text_field(crm, profile)
        crm.http.mount_app(origin(vendor), refusing(demo.sandbox))
        first = await crm.edit(ref, {spec.key: HOSTILE})
        assert first is not None
        await wait_for(pilot, lambda: crm.change(first.id).state is ChangeState.REJECTED)
        second = await crm.edit(ref, {spec.key: "Second try"})
        assert second is not None
        await crm.outbox.wait_idle()
        assert crm.change(second.id).state is ChangeState.PENDING  # held, never sent

        # the status line says it waits, behind what, and where to go
        words = f"waiting behind a refused change: {spec.label}"
        await wait_for(pilot, lambda: words in status_line(pilot))
        for size in SIZES:
            await pilot.resize_terminal(*size)
            await settle(pilot)
            assert "ctrl+o" in status_line(pilot)
            assert words in status_line(pilot)[: size[0] - 2]  # in sight at 80 columns too

        # the outbox: the held edit's state says so; highlighted, what to do
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, OutboxScreen))
        outbox = pilot.app.screen
        rows = outbox_cells(pilot)
        assert rows[0][3] == "refused"
        assert rows[0][2].startswith(f"{spec.label}: ")  # the field's label, not its key
        assert rows[0][2].endswith(f"→ {HOSTILE}")  # a long old value is cut, not the new
        assert rows[1][3] == words
        table = outbox.query_one(DataTable)
        for size in reversed(SIZES):
            await pilot.resize_terminal(*size)
            await settle(pilot)
            table.move_cursor(row=1)
            await wait_for(pilot, lambda: "discard it (d)" in screen_text(pilot))
            assert words in screen_text(pilot)

            # d asks first, naming the change; n keeps it
            table.move_cursor(row=0)
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmDiscard))
            dialog = pilot.app.screen
            assert dialog.query_one("#discard-dialog").region.right <= size[0]
            assert f"{spec.label}: " in str(dialog.query_one("#discard-what", Static).render())
            assert HOSTILE in str(dialog.query_one("#discard-what", Static).render())
            await pilot.press("n")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, OutboxScreen))
            assert crm.change(first.id) is not None
        before = crm.change(first.id)

        # y discards: the held edit goes on its own (the vendor takes writes again)
        crm.http.mount_app(origin(vendor), demo.sandbox)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmDiscard))
        await pilot.press("y")
        await wait_for(pilot, lambda: crm.change(first.id) is None)
        await wait_for(pilot, lambda: crm.change(second.id).state is ChangeState.DONE)
        # sent ✓ in the status line, then it goes (no fixed sleep: waited for)
        await wait_for(pilot, lambda: "sent ✓" in status_line(pilot))
        assert spec.label in status_line(pilot)
        await wait_for(pilot, lambda: "sent ✓" not in status_line(pilot), timeout=15)

        # u brings the discarded change back, exactly as it was
        crm.outbox.paused = True  # it would be sent (and conflict) at once: look first
        await pilot.press("u")
        await wait_for(pilot, lambda: crm.change(first.id) is not None)
        assert crm.change(first.id) == before
        await wait_for(pilot, lambda: any(HOSTILE in r[2] for r in outbox_cells(pilot)))
        assert not crm.can_undo_discard  # one discard, brought back once


async def test_a_change_being_sent_is_not_discarded(tmp_path: Path) -> None:
    """Freshsales, one app: u with nothing discarded is the app's undo; a change being sent
    is not discarded, and says so; nor is one that started out while the question was open."""
    demo = build_demo("freshsales", tmp_path / "cache.sqlite3")
    crm, profile = demo.crm, "demo-freshsales"
    async with demo.app.run_test(size=(160, 48)) as pilot:
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, OutboxScreen))
        await pilot.press("u")
        await wait_for(
            pilot, lambda: any("Nothing to undo" in n.message for n in pilot.app._notifications)
        )
        assert isinstance(pilot.app.screen, OutboxScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(pilot.app.screen, OutboxScreen))

        ref, spec = await text_field(crm, profile)
        demo.sandbox.state.faults.latency = 3.0  # the vendor takes its time to answer
        change = await crm.edit(ref, {spec.key: "Slow one"})
        assert change is not None
        await wait_for(pilot, lambda: crm.change(change.id).state is ChangeState.SENDING)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, OutboxScreen))
        await wait_for(
            pilot, lambda: outbox_cells(pilot) and outbox_cells(pilot)[0][3] == "sending…"
        )
        await pilot.press("d")
        await wait_for(
            pilot, lambda: any("being sent" in n.message for n in pilot.app._notifications)
        )
        assert isinstance(pilot.app.screen, OutboxScreen)  # no question, no crash
        demo.sandbox.state.faults.latency = 0.0
        await wait_for(pilot, lambda: crm.change(change.id).state is ChangeState.DONE, 20)

        # the question is open while the change starts out (another sender claims it):
        # y does not discard it, and says so
        crm.outbox.paused = True
        racing = await crm.edit(ref, {spec.key: "Racing"})
        assert racing is not None
        await wait_for(pilot, lambda: any("Racing" in r[2] for r in outbox_cells(pilot)))
        pilot.app.screen.query_one(DataTable).move_cursor(
            row=next(n for n, r in enumerate(outbox_cells(pilot)) if "Racing" in r[2])
        )
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmDiscard))
        assert crm.store.claim(racing.id, "another-sender", timedelta(minutes=1)) is not None
        await pilot.press("y")
        await wait_for(
            pilot, lambda: any("Not discarded" in n.message for n in pilot.app._notifications)
        )
        assert crm.change(racing.id) is not None
