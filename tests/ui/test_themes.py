"""Themes: loaded from the themes/ files, chosen from the palette, saved in the config."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from textual.pilot import Pilot

from crmtui.config import Config
from crmtui.model import KindInfo, Record, Role
from crmtui.ui import themes
from crmtui.ui.screens.home import HomeScreen
from tests.helpers.ui import Demo, run_command, wait_for


def test_the_bundled_themes_load_and_cover_the_four_needs() -> None:
    loaded = {t.name: t for t in themes.load_themes()}
    assert {
        "crmtui-dark",
        "crmtui-light",
        "crmtui-high-contrast",
        "crmtui-colorblind",
    } <= set(loaded)
    assert loaded["crmtui-light"].theme.dark is False
    for theme in loaded.values():
        assert {"stage-open", "stage-won", "stage-lost"} <= set(theme.theme.variables)
    # Colour-blind safe: won and lost are not green against red.
    blind = loaded["crmtui-colorblind"].theme.variables
    assert blind["stage-won"].upper() == "#56B4E9" and blind["stage-lost"].upper() == "#E69F00"


def test_a_broken_theme_file_is_refused_with_its_name(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('name = "bad"\nprimary = "#12"\n')
    with pytest.raises(themes.ThemeError, match=r"bad\.toml: primary"):
        themes.read_theme(tmp_path / "bad.toml")
    assert themes.load_themes([tmp_path]) == []  # skipped, the app still starts


def test_stage_tones_come_from_the_kinds_status_role() -> None:
    deal = Record(vendor="x", profile="p", kind="deal", id="1", title="D", fields={})
    info = KindInfo(kind="deal", label="Deals", singular="Deal", roles={Role.STATUS: "outcome"})
    assert themes.record_tone(deal, info) is None
    assert themes.record_tone(deal.model_copy(update={"fields": {"outcome": "won"}}), info) == "won"
    # a field merely named "status" is not the kind's status: no tone
    assert themes.record_tone(deal.model_copy(update={"fields": {"status": "won"}}), info) is None
    assert themes.record_tone(deal.model_copy(update={"fields": {"outcome": "won"}}), None) is None


async def choose_theme(pilot: Pilot, label: str) -> None:
    await run_command(pilot, f"Theme: {label}")


async def test_palette_switches_the_theme_and_saves_it(demo: Demo, tmp_path: Path) -> None:
    config = Config(path=tmp_path / "config" / "config.toml")
    demo.app.config = config
    async with demo.app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        assert demo.app.theme == "crmtui-dark"
        assert not config.path.exists()  # the default is not written at startup
        await choose_theme(pilot, "High contrast")
        await wait_for(pilot, lambda: demo.app.theme == "crmtui-high-contrast")
        await wait_for(pilot, config.path.exists)
        assert demo.app.theme_variables["stage-won"].upper() == "#00F080"
    assert Config.load(config.path).theme == "crmtui-high-contrast"
    assert stat.S_IMODE(config.path.stat().st_mode) == 0o600


async def test_the_saved_theme_is_used_at_the_next_start(demo: Demo, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "crmtui-light"\n')
    demo.app.config = Config.load(path)
    async with demo.app.run_test() as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        assert demo.app.theme == "crmtui-light"
        assert demo.app.current_theme.dark is False


async def test_the_demo_keeps_its_theme_in_its_own_file(monkeypatch, tmp_path: Path) -> None:
    from crmtui.ui.launch import demo_config

    monkeypatch.setenv("CRMTUI_HOME", str(tmp_path))
    config = demo_config()
    assert config.path == tmp_path / "config" / "demo.toml"
    config.theme = "crmtui-colorblind"
    config.save()
    assert demo_config().theme == "crmtui-colorblind"
