"""The crmtui command line as a newcomer meets it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crmtui import __version__
from crmtui.cli import build_parser, main, open_sync


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmtui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"CRMTUI_HOME": str(home), "PATH": "/usr/bin:/bin"},
        stdin=subprocess.DEVNULL,
    )


def test_version(tmp_path: Path) -> None:
    result = run("--version", home=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"crmtui {__version__}"


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run("--help", home=tmp_path)
    assert result.returncode == 0
    for command in ("demo", "sandbox", "serve", "forget", "sync", "cache"):
        assert command in result.stdout


def test_sandbox_help_has_the_documented_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sandbox", "--help"])
    out = capsys.readouterr().out
    for option in ("--host", "--port", "--seed", "--scale", "freshsales"):
        assert option in out


def test_no_config_explains_how_to_start_and_fails(tmp_path: Path) -> None:
    result = run(home=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""  # the explanation is an error message: stderr
    path = tmp_path / "config" / "config.toml"
    assert result.stderr.startswith(f"crmtui: no config file at {path}: nothing to open yet.\n")
    assert "crmtui demo" in result.stderr
    assert "[profiles.acme]" in result.stderr and "api_key_env" in result.stderr
    assert "crmtui --help" in result.stderr
    assert not path.exists()  # nothing is written for the user


def test_a_config_with_no_profile_says_so_and_fails(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('theme = "crmtui-light"\n', encoding="utf-8")
    path.chmod(0o600)
    result = run("--config", str(path), home=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"crmtui: {path} has no [profiles.NAME] table")
    assert "crmtui demo" in result.stderr


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["sandbox", "FreshSales"], "freshsales"),
        (["sandbox", "SALESLOFT", "--port", "9000"], "salesloft"),
        (
            ["demo", "--vendor", "ActiveCampaign", "--vendor", "salesseek"],
            ["activecampaign", "salesseek"],
        ),
    ],
)
def test_vendor_arguments_are_read_in_any_case(argv: list[str], expected: object) -> None:
    args = build_parser().parse_args(argv)
    assert args.vendor == expected


def test_an_unknown_vendor_argument_lists_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["sandbox", "HubSpot"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'HubSpot'" in err and "freshsales" in err


def test_sync_demo_takes_a_vendor_in_any_case(tmp_path: Path) -> None:
    import asyncio

    crm, profile = open_sync("SalesforceIQ", config=None, db=tmp_path / "demo.sqlite3")
    asyncio.run(crm.close())
    assert profile == "demo-salesforceiq"


def test_sandbox_refuses_a_non_loopback_host(tmp_path: Path) -> None:
    result = run("sandbox", "freshsales", "--host", "0.0.0.0", home=tmp_path)
    assert result.returncode == 2
    assert "loopback" in result.stderr


def test_sync_prints_the_configs_warnings_like_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CRMTUI_HOME", str(tmp_path))
    monkeypatch.delenv("UNSET_KEY_FOR_TEST", raising=False)
    config = tmp_path / "config.toml"
    config.write_text(
        '[profiles.acme]\nvendor = "freshsales"\ndomain = "acme"\n'
        'api_key_env = "UNSET_KEY_FOR_TEST"\n',
        encoding="utf-8",
    )
    config.chmod(0o644)
    assert main(["--config", str(config), "sync", "acme"]) == 2  # its key is not set
    err = capsys.readouterr().err.splitlines()
    assert any(
        line.startswith("crmtui: warning: ") and "can be read by other users" in line
        for line in err
    ), err
    assert any("UNSET_KEY_FOR_TEST" in line and "not set" in line for line in err), err


def test_a_cache_upgrade_is_announced_before_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An older cache is rewritten when opened (minutes at a million records, before the
    screen shows anything): the command says so first, once; a current cache says nothing."""
    import asyncio
    import sqlite3

    from crmtui.config import Config
    from crmtui.store import pending_upgrade
    from crmtui.store.db import MIGRATIONS, SCHEMA_VERSION

    monkeypatch.setenv("CRMTUI_HOME", str(tmp_path))
    monkeypatch.setenv("KEY_FOR_UPGRADE_TEST", "k")
    config = tmp_path / "config.toml"
    config.write_text(
        '[profiles.acme]\nvendor = "freshsales"\ndomain = "acme"\n'
        'api_key_env = "KEY_FOR_UPGRADE_TEST"\n',
        encoding="utf-8",
    )
    db = tmp_path / "old cache.sqlite3"
    conn = sqlite3.connect(db)
    for number, migration in enumerate(MIGRATIONS[:3]):
        assert isinstance(migration, str)
        conn.executescript(migration)
        conn.execute(f"PRAGMA user_version = {number + 1}")
    conn.close()
    assert pending_upgrade(db) == (3, SCHEMA_VERSION)
    for expected in (True, False):
        crm, _ = open_sync("acme", config=Config.load(config), db=db)
        asyncio.run(crm.close())
        err = capsys.readouterr().err
        said = f"crmtui: upgrading the offline cache {db} (schema 3 to {SCHEMA_VERSION})"
        assert (said in err) is expected, err
    assert pending_upgrade(db) is None
    assert pending_upgrade(tmp_path / "none.sqlite3") is None
