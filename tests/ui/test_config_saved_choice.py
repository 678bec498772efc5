"""A theme chosen in the app edits config.toml: the user's own text stays byte for byte,
the line added ends as the file's lines do, and the save runs in a thread (the screen
keeps answering) with the last choice winning."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from crmtui.config import Config
from crmtui.ui.screens.home import HomeScreen
from tests.helpers.ui import Demo, busy, run_command, wait_for

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


async def test_the_save_runs_off_the_screen_and_the_last_choice_wins(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big config file takes seconds to save: meanwhile the app keeps answering keys,
    and two themes chosen in a row leave the second in the file."""
    path = tmp_path / "config.toml"
    path.write_text(MINE, encoding="utf-8")
    path.chmod(0o600)
    demo.app.config = Config.load(path)
    save = Config.save
    threads: list[threading.Thread] = []
    answered: list[bool] = []  # each save: whether the app answered while it ran
    go_on = threading.Event()

    def slow_save(config: Config) -> None:
        threads.append(threading.current_thread())
        answered.append(go_on.wait(10))  # only the test, driving the app, sets it
        save(config)

    monkeypatch.setattr(Config, "save", slow_save)
    async with demo.app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        await run_command(pilot, "Theme: High contrast")
        await wait_for(pilot, lambda: len(threads) == 1)  # saving, and the app answers:
        await run_command(pilot, "Theme: Light")  # a second choice while it saves
        assert demo.app.theme == "crmtui-light"
        go_on.set()
        await wait_for(pilot, lambda: len(threads) == 2 and not busy(pilot))
    assert answered == [True, True]
    assert threading.main_thread() not in threads
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.remove('theme = "crmtui-light"\n')  # the last choice, the one line added
    assert "".join(lines) == MINE
    assert Config.load(path).theme == "crmtui-light"


async def test_a_crlf_config_gets_a_crlf_theme_line(demo: Demo, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(MINE.replace("\n", "\r\n").encode())
    path.chmod(0o600)
    demo.app.config = Config.load(path)
    async with demo.app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        await run_command(pilot, "Theme: High contrast")
        await wait_for(pilot, lambda: b"crmtui-high-contrast" in path.read_bytes())
    raw = path.read_bytes()
    assert raw.count(b"\n") == raw.count(b"\r\n") == MINE.count("\n") + 1
    lines = raw.splitlines(keepends=True)
    lines.remove(b'theme = "crmtui-high-contrast"\r\n')
    assert b"".join(lines) == MINE.replace("\n", "\r\n").encode()
