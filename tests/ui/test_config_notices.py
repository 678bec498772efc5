"""What the app says about its config file: misspelt [keys] and a file others can read."""

from __future__ import annotations

from pathlib import Path

from crmtui.config import Config
from crmtui.ui.screens.home import HomeScreen
from tests.ui.conftest import Demo, wait_for


def notices(demo: Demo) -> list[str]:
    return [str(n.message) for n in demo.app._notifications]


async def test_a_misspelt_binding_gets_the_nearest_name(demo: Demo, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[keys]\nmy_dya = "t"\n', encoding="utf-8")
    path.chmod(0o600)
    demo.app.config = Config.load(path)
    async with demo.app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        await wait_for(pilot, lambda: any("my_dya" in n for n in notices(demo)))
        (line,) = [n for n in notices(demo) if "my_dya" in n]
        assert "did you mean my_day?" in line


async def test_a_config_readable_by_others_is_shown(demo: Demo, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "crmtui-dark"\n', encoding="utf-8")
    path.chmod(0o644)
    demo.app.config = Config.load(path)
    async with demo.app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        await wait_for(pilot, lambda: any("read by other users" in n for n in notices(demo)))
