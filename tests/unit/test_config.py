"""config.toml: profiles, secrets from the environment only, loopback-only http, 0600."""

from __future__ import annotations

import re
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[profiles.acme]\nvendor = "freshsales"\ndomain = "acme"\nrate_scale = "fast"\n',
            r'\[profiles\.acme\] rate_scale = "fast": expected a number above 0',
        ),
        ('profiles = "x"\n', r'profiles = "x": expected \[profiles\.NAME\] tables'),
        ("keys = 5\n", r"keys = 5: expected a \[keys\] table"),
        ("[keys]\nquit = 5\n", r'keys\.quit = 5: expected a key or a list of keys, e.g. "ctrl\+q"'),
        ("theme = 3\n", r'theme = 3: expected a theme name, e.g. "crmtui-dark"'),
        ('timezone = "Mars/Base"\n', r'timezone = "Mars/Base": expected an IANA time zone'),
        (
            '[profiles.acme]\nvendor = "freshsales"\ndomain = "acme"\napi_key_evn = "K"\n',
            r"\[profiles\.acme\] unknown key api_key_evn; did you mean api_key_env\?",
        ),
        ('them = "crmtui-dark"\n', r"unknown key them; did you mean theme\?"),
        (
            '[profiles.acme]\nvendor = "freshsale"\n',
            r'vendor = "freshsale": expected one of .*\(did you mean freshsales\?\)',
        ),
        ('[profiles.acme]\ndomain = "acme"\n', r'\[profiles\.acme\] needs vendor = "'),
        (
            '[profiles.acme]\nvendor = "freshsales"\napi_key_env = "K"\n',
            r'\[profiles\.acme\] needs domain \(.*e\.g\. "acme"\)',
        ),
        (
            '[profiles.acme]\nvendor = "freshsales"\ndomain = "acme"\napi_key_keyring = "yes"\n',
            r"api_key_keyring = \(not shown: 3 characters\): expected true or false",
        ),
        (
            '[profiles.acme]\nvendor = "freshsales"\ndomain = "acme"\napi_key_env = "MY KEY"\n',
            r"api_key_env = \(not shown: 6 characters\): expected the name of an environment",
        ),
    ],
)
def test_each_config_mistake_is_one_line_naming_key_value_and_expectation(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path / "config.toml", text)
    with pytest.raises(ConfigError) as info:
        Config.load(path)
    message = str(info.value)
    assert len(message.splitlines()) == 1, message
    assert message.startswith(f"{path}: ")
    assert re.search(expected, message), message


def problems(tmp_path: Path, text: str) -> list[str]:
    """The lines of the ConfigError that loading ``text`` as config.toml raises."""
    with pytest.raises(ConfigError) as info:
        Config.load(write(tmp_path / "config.toml", text))
    return str(info.value).splitlines()


def test_several_mistakes_give_one_line_each(tmp_path: Path) -> None:
    lines = problems(
        tmp_path,
        '[profiles.acme]\nvendor = "freshsales"\ndomain = "acme"\n'
        'rate_scale = "fast"\napi_key_evn = "K"\n',
    )
    assert len(lines) == 2
    assert any("rate_scale" in line for line in lines)
    assert any("api_key_evn" in line for line in lines)


def test_an_unknown_key_never_echoes_its_value(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config.toml",
        '[profiles.acme]\nvendor = "freshsales"\ndomain = "acme"\napi_kye = "s3cret-value"\n',
    )
    with pytest.raises(ConfigError, match="unknown key api_kye") as info:
        Config.load(path)
    assert "s3cret-value" not in str(info.value)


def test_a_file_that_is_not_utf8_says_so_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'theme = "crmtui-dark"\n[profiles.caf\xe9]\n')
    with pytest.raises(ConfigError) as info:
        Config.load(path)
    message = str(info.value)
    assert "not UTF-8" in message and "line 2" in message and "0xe9" in message
    assert len(message.splitlines()) == 1


def test_a_toml_syntax_error_gives_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", 'theme = "a"\n[profiles.acme\n')
    with pytest.raises(ConfigError, match=r"line 2") as info:
        Config.load(path)
    assert len(str(info.value).splitlines()) == 1


def test_the_documented_forms_load(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config.toml",
        'theme = "crmtui-dark"\ntimezone = "Europe/Berlin"\n'
        '[keys]\nmy_day = "t"\ncursor_down = ["down", "j"]\n'
        '[profiles.acme]\nvendor = "freshsales"\ndomain = "acme"\n'
        'api_key_env = "ACME_KEY"\nrate_scale = 1\n'
        '[profiles.suite]\nvendor = "freshsales"\ndomain = "acme.myfreshworks.com"\n'
        "api_key_keyring = true\n"
        '[profiles.local]\nvendor = "salesseek"\nbase_url = "http://127.0.0.1:8001/api/"\n'
        'email = "ann@example.com"\npassword_env = "PW"\nrate_scale = 0.5\n',
    )
    path.chmod(0o600)
    config = Config.load(path)
    assert config.timezone == "Europe/Berlin"
    assert config.keys["cursor_down"] == "down,j"
    assert set(config.profiles) == {"acme", "suite", "local"}
    assert config.warnings == []
    profile = config.profiles["local"].resolve({"PW": "pw"})
    assert profile.rate_scale == 0.5 and profile.base_url == "http://127.0.0.1:8001/api/"


def test_a_config_readable_by_others_is_warned_about_and_tightened_on_save(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "config.toml", 'theme = "crmtui-dark"\n')
    path.chmod(0o644)
    config = Config.load(path)
    assert len(config.warnings) == 1
    assert "read by other users" in config.warnings[0] and "chmod 600" in config.warnings[0]
    config.theme = "crmtui-light"
    config.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Config.load(path).warnings == []


def test_the_cli_prints_each_config_error_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from crmtui.cli import main

    path = write(tmp_path / "config.toml", 'them = "crmtui-dark"\nprofiles = "x"\n')
    code = main(["--config", str(path)])
    assert code == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith(f"crmtui: {path}: ") for line in err)
    assert any("unknown key them; did you mean theme?" in line for line in err)
    assert any('profiles = "x": expected' in line for line in err)


def test_profiles_are_checked_even_when_a_top_level_key_is_wrong(tmp_path: Path) -> None:
    lines = problems(
        tmp_path,
        '[keys]\ncursor_down = ["down", 5]\n'
        '[profiles.acme]\nvendor = "freshsales"\ndomain = "evil.example/"\n',
    )
    assert len(lines) == 2
    assert 'keys.cursor_down = ["down", 5]: expected a key or a list of keys' in lines[0]
    assert '[profiles.acme] domain = "evil.example/": expected' in lines[1]


# -- what an attacker (or an accident) puts in place of config.toml ----------------------


def load_in_thread(path: Path) -> str:
    """Config.load's error text, loaded in a thread so that a hang fails the test."""
    import threading

    said: list[str] = []

    def run() -> None:
        try:
            Config.load(path)
            said.append("loaded")
        except ConfigError as exc:
            said.append(str(exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(20)
    assert said, "Config.load did not return (it waits on the file)"
    return said[0]


def test_a_fifo_in_place_of_the_config_is_one_line_not_a_hang(tmp_path: Path) -> None:
    import os

    path = tmp_path / "config.toml"
    os.mkfifo(path)
    message = load_in_thread(path)
    assert message == f"{path}: cannot be used: it is a FIFO (named pipe), not a file"


def test_deeply_nested_toml_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", "theme = " + "[" * 3000 + "]" * 3000 + "\n")
    message = load_in_thread(path)
    assert message == f"{path}: not valid TOML for crmtui: arrays or tables nested too deeply"


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'\xef\xbb\xbftheme = "crmtui-dark"\n')
    assert Config.load(path).theme == "crmtui-dark"


@pytest.mark.parametrize(
    "line",
    [
        'api_key_env = "sk-live-SUPERSECRET123"',
        'api_key_keyring = "sk-live-SUPERSECRET123"',
    ],
)
def test_a_secret_pasted_into_a_secret_setting_is_never_echoed(tmp_path: Path, line: str) -> None:
    lines = problems(tmp_path, f'[profiles.a]\nvendor = "freshsales"\ndomain = "acme"\n{line}\n')
    assert len(lines) == 1 and "(not shown: 22 characters)" in lines[0], lines
    assert "SUPERSECRET" not in lines[0]


def test_a_secret_named_as_a_variable_is_not_echoed_when_unset() -> None:
    entry = ProfileConfig(
        "acme", "freshsales", {"domain": "acme", "api_key_env": "sk_live_SUPERSECRET123"}
    )
    with pytest.raises(ConfigError, match="not set") as info:
        entry.resolve({})
    assert "SUPERSECRET" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            '[profiles."a\\nb"]\nvendor = "freshsales"\ndomain = 1\napi_key_env = "K"\n',
            '[profiles."a\\u000ab"] domain = 1',
        ),
        (
            '[profiles."\\u001b[2J\\u001b]0;x\\u0007"]\nvendor = "freshsales"\ndomain = 1\n',
            '[profiles."\\u001b[2J\\u001b]0;x\\u0007"] domain = 1',
        ),
        (
            '[profiles.a]\nvendor = "freshsales"\ndomain = "acme"\n"\\u001b[31mred\\nx" = 1\n',
            'unknown key "\\u001b[31mred\\u000ax"',
        ),
    ],
)
def test_names_and_keys_in_messages_are_escaped(tmp_path: Path, text: str, shown: str) -> None:
    lines = problems(tmp_path, text)
    assert len(lines) == 1 and shown in lines[0], lines
    assert not any(ord(c) < 32 or ord(c) == 127 for c in lines[0])


def test_save_writes_what_it_can_read_back_and_keeps_the_users_comments(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path / "config.toml",
        '# my settings\ntheme = "crmtui-dark"  # dark at night\n\n'
        '[profiles."acme\\nsecond"]\nvendor = "freshsales"  # work\ndomain = "acme"\n'
        'api_key_env = "K"\n',
    )
    config = Config.load(path)
    config.theme = 'crmtui-"light"\nx'
    config.save()
    text = path.read_text()
    assert "# my settings" in text and "# dark at night" in text and "# work" in text
    again = Config.load(path)
    assert again.theme == 'crmtui-"light"\nx'
    assert list(again.profiles) == ["acme\nsecond"]


def test_save_never_follows_a_planted_temporary_file(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", 'theme = "crmtui-dark"\n')
    victim = write(tmp_path / "victim.txt", "IMPORTANT\n")
    victim.chmod(0o644)
    for name in ("config.toml.tmp", ".config.toml.tmp"):
        (tmp_path / name).symlink_to(victim)
    config = Config.load(path)
    config.theme = "crmtui-light"
    config.save()
    assert victim.read_text() == "IMPORTANT\n"
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert not path.is_symlink() and Config.load(path).theme == "crmtui-light"


def test_a_linked_config_is_written_through_to_its_target_0600(tmp_path: Path) -> None:
    (tmp_path / "dotfiles").mkdir()
    target = write(tmp_path / "dotfiles" / "crmtui.toml", 'theme = "crmtui-dark"\n')
    target.chmod(0o644)
    path = tmp_path / "config.toml"
    path.symlink_to(target)
    config = Config.load(path)
    config.theme = "crmtui-light"
    config.save()
    assert path.is_symlink() and path.resolve() == target.resolve()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert Config.load(path).theme == "crmtui-light"


@pytest.mark.skipif(not hasattr(__import__("os"), "geteuid"), reason="POSIX owners")
def test_a_link_to_another_users_file_is_not_written(tmp_path: Path) -> None:
    import os

    from crmtui.files import NotAFile

    target = write(tmp_path / "theirs.toml", 'theme = "crmtui-dark"\n')
    if os.geteuid() != 0:
        pytest.skip("needs root to give the file to another user")
    os.chown(target, 65534, -1)
    path = tmp_path / "config.toml"
    path.symlink_to(target)
    config = Config.load(path)
    config.theme = "crmtui-light"
    with pytest.raises(NotAFile, match="owned by another user"):
        config.save()
    assert target.read_text() == 'theme = "crmtui-dark"\n'


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.freshsales.io/api/?token=SUPERSECRET123",
        "https://u:SUPER/SECRET123@acme.freshsales.io/api/",
        "https://acme.freshsales.io/api/#SUPERSECRET123",
    ],
)
def test_a_refused_base_url_never_shows_its_credentials(tmp_path: Path, url: str) -> None:
    lines = problems(
        tmp_path, f'[profiles.a]\nvendor = "freshsales"\nbase_url = "{url}"\napi_key_env = "K"\n'
    )
    assert len(lines) == 1 and "base_url = " in lines[0], lines
    assert "SECRET" not in lines[0]


def test_nothing_is_created_behind_a_dangling_linked_config(tmp_path: Path) -> None:
    from crmtui.files import NotAFile

    path = tmp_path / "config.toml"
    target = tmp_path / "elsewhere" / "planted.toml"
    path.symlink_to(target)
    config = Config(path=path, theme="crmtui-light")
    with pytest.raises(NotAFile, match="does not exist"):
        config.save()
    assert not target.exists() and not target.parent.exists()


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('"ctrl+definitely+not"', '"ctrl+definitely+not" is not a key'),
        ('" , "', "no key given"),
        ('""', "no key given"),
        ('["down", "hyper+"]', '"hyper+" is not a key'),
    ],
)
def test_a_keys_value_that_names_no_key_is_one_line_naming_it(
    tmp_path: Path, value: str, shown: str
) -> None:
    """A [keys] value that is no key would leave the action with no key (ctrl+q no longer
    quits): refused in one line with the binding, the value and an example."""
    path = tmp_path / "config.toml"
    path.write_text(f"[keys]\nquit = {value}\n")
    path.chmod(0o600)
    with pytest.raises(ConfigError) as raised:
        Config.load(path)
    (line,) = str(raised.value).splitlines()
    assert "[keys] quit = " in line and shown in line and '"ctrl+q"' in line


def test_keys_that_are_keys_load_and_a_key_given_twice_is_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[keys]\nquit = "ctrl+shift+q,f10"\nhelp = "question_mark"\n'
        'cursor_down = ["down", "j"]\nopen = "j"\n'
    )
    path.chmod(0o600)
    config = Config.load(path)
    assert config.keys["quit"] == "ctrl+shift+q,f10"
    assert config.warnings == [
        '[keys]: cursor_down, open share the key "j"; where they apply together only one'
        " of them runs"
    ]


def test_a_name_localhost_base_url_is_refused_when_the_config_loads(tmp_path: Path) -> None:
    """``http://NAME.localhost`` is only ever an in-process sandbox: from a file it would go
    wherever the resolver says, so it is refused at load, not at the first request."""
    path = tmp_path / "config.toml"
    path.write_text(
        '[profiles.acme]\nvendor = "freshsales"\nbase_url = "http://evil.localhost/api/"\n'
        'api_key_env = "K"\n'
    )
    path.chmod(0o600)
    with pytest.raises(ConfigError) as raised:
        Config.load(path)
    (line,) = str(raised.value).splitlines()
    assert "base_url" in line and "evil.localhost" in line and "https" in line
