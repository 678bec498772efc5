"""config.toml: profiles, secrets from the environment only, loopback-only http, 0600."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from crmtui.config import Config, ConfigError, ProfileConfig, how_to


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_profile_reads_its_secret_from_the_named_variable(tmp_path: Path) -> None:
    config = Config.load(
        write(
            tmp_path / "config.toml",
            '[profiles.acme]\nvendor = "freshsales"\ndomain = "acme"\napi_key_env = "ACME_KEY"\n',
        )
    )
    profile = config.profiles["acme"].resolve({"ACME_KEY": "s3cret-key"})
    assert profile.vendor == "freshsales"
    assert profile.secret("api_key") == "s3cret-key"
    assert profile.setting("domain") == "acme"


def test_missing_variable_is_explained_without_a_secret(tmp_path: Path) -> None:
    entry = ProfileConfig("acme", "freshsales", {"domain": "acme", "api_key_env": "ACME_KEY"})
    with pytest.raises(ConfigError, match=r"ACME_KEY.*not set"):
        entry.resolve({})


def test_a_secret_written_in_the_file_is_refused(tmp_path: Path) -> None:
    entry = ProfileConfig("acme", "freshsales", {"domain": "acme", "api_key": "plain"})
    with pytest.raises(ConfigError, match="do not write the api_key") as info:
        entry.resolve({})
    assert "plain" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://acme.freshsales.io/api/", True),
        ("http://127.0.0.1:8001/api/", True),
        ("http://localhost:8001/api/", True),
        ("http://[::1]:8001/api/", True),
        ("http://acme.freshsales.io/api/", False),
        ("http://10.0.0.5/api/", False),
    ],
)
def test_plain_http_only_to_loopback(url: str, ok: bool) -> None:
    entry = ProfileConfig("p", "freshsales", {"base_url": url, "api_key_env": "K"})
    if ok:
        assert entry.resolve({"K": "x"}).base_url == url
    else:
        with pytest.raises(ConfigError, match="https"):
            entry.resolve({"K": "x"})


def test_unknown_vendor_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="freshsales"):
        ProfileConfig("p", "hubspot", {}).resolve({})


def test_save_writes_0600_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    config = Config(path=path, theme="crmtui-dark")
    config.profiles["acme"] = ProfileConfig(
        "acme", "freshsales", {"domain": "acme", "api_key_env": "K"}
    )
    config.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Config.load(path)
    assert again.theme == "crmtui-dark"
    assert again.profiles["acme"].values == {"domain": "acme", "api_key_env": "K"}


def test_broken_toml_says_where(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        Config.load(write(tmp_path / "config.toml", "[profiles.acme\n"))


def test_how_to_offers_the_demo(tmp_path: Path) -> None:
    text = how_to(tmp_path / "config.toml")
    assert "crmtui demo" in text and "api_key_env" in text
