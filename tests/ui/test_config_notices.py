"""What the app says about its config file: misspelt [keys] and a file others can read."""

from __future__ import annotations

from pathlib import Path

from crmtui.config import Config
from crmtui.ui.screens.home import HomeScreen
from tests.helpers.ui import Demo, wait_for


def notices(demo: Demo) -> list[str]:
    return [str(n.message) for n in demo.app._notifications]


async def shown_at_start(demo: Demo, path: Path, text: str, mode: int, needle: str) -> str:
    """The notice containing ``needle`` that the app shows when it starts with ``text``."""
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    demo.app.config = Config.load(path)
    async with demo.app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        await wait_for(pilot, lambda: any(needle in n for n in notices(demo)))
        (line,) = [n for n in notices(demo) if needle in n]
        return line


async def test_a_misspelt_binding_gets_the_nearest_name(demo: Demo, tmp_path: Path) -> None:
    text = '[keys]\nmy_dya = "t"\n'
    line = await shown_at_start(demo, tmp_path / "config.toml", text, 0o600, "my_dya")
    assert "did you mean my_day?" in line


async def test_a_config_readable_by_others_is_shown(demo: Demo, tmp_path: Path) -> None:
    text = 'theme = "crmtui-dark"\n'
    line = await shown_at_start(demo, tmp_path / "config.toml", text, 0o644, "read by other")
    assert "chmod 600" in line
