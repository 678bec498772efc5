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

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from crmtui.ui.screens.home import HomeScreen
from crmtui.ui.screens.vendor import VendorScreen
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
@pytest.mark.parametrize("size", SIZES, ids=["160x48", "80x24"])
async def test_home_says_sign_in_failed_for_a_wrong_key(
    tmp_path: Path, vendor: str, size: tuple[int, int]
) -> None:
    demo = build_demo(vendor, tmp_path / "cache.sqlite3")
    wrong_credentials(demo)
    profile = f"demo-{vendor}"
    async with demo.app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        await wait_for(pilot, lambda: "sign-in failed" in status_cell(pilot.app, profile))
        assert "online" not in status_cell(pilot.app, profile)
        problem = pilot.app.screen.query_one("#profile-problem", Static)
        assert problem.display and problem.region.height > 0  # on screen, at either size
        text = str(problem.render())
        assert "sign-in failed" in text and "credentials" in text
        assert "sign-in failed" in status_line(pilot)
        assert "online" not in status_line(pilot)
        assert demo.crm.status(profile).state == "sign-in failed"
        # the vendor screen's status line says it too, not "online"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, VendorScreen))
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
