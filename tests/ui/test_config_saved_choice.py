"""A theme chosen in the app edits config.toml: the user's own text stays byte for byte."""

from __future__ import annotations

from pathlib import Path

from crmtui.config import Config
from crmtui.ui.screens.home import HomeScreen
from tests.helpers.ui import Demo, run_command, wait_for

MINE = """\
# crmtui, as I like it
timezone = "Europe/Berlin"  # office hours

[keys]
my_day = "t"          # t for today
someday = "f12"       # a binding of a newer crmtui

# the one account I use
[profiles.acme]
vendor = "Freshsales"
domain = "acme"
api_key_env = "ACME_KEY"
"""


async def test_choosing_a_theme_keeps_the_users_file(demo: Demo, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(MINE, encoding="utf-8")
    path.chmod(0o600)
    demo.app.config = Config.load(path)
    async with demo.app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        assert path.read_text(encoding="utf-8") == MINE  # nothing written at startup
        await run_command(pilot, "Theme: High contrast")
        await wait_for(pilot, lambda: "crmtui-high-contrast" in path.read_text(encoding="utf-8"))
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.remove('theme = "crmtui-high-contrast"\n')  # the one line added
    assert "".join(lines) == MINE


async def test_a_theme_not_saved_is_said_and_the_file_kept(demo: Demo, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(MINE, encoding="utf-8")
    path.chmod(0o600)
    demo.app.config = Config.load(path)
    broken = MINE + "[profiles.half\n"  # the user is editing the file meanwhile
    async with demo.app.run_test(size=(120, 36), notifications=True) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        path.write_text(broken, encoding="utf-8")
        await run_command(pilot, "Theme: High contrast")
        await wait_for(
            pilot,
            lambda: any("Theme not saved" in str(n.message) for n in pilot.app._notifications),
        )
        (notice,) = [str(n.message) for n in pilot.app._notifications if "Theme not" in n.message]
        assert "no longer valid TOML" in notice
        assert demo.app.theme == "crmtui-high-contrast"  # the app still uses it
    assert path.read_text(encoding="utf-8") == broken
