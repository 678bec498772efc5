"""config.toml is edited, not rewritten: a choice crmtui saves changes that value only.

The user's comments, blank lines, order, quoting, ``[keys]`` ids this version does not
know and keys added to the file since it was read stay byte for byte; a line added ends
as the file's lines do (CRLF or LF); saves run one at a time; vendor names are read in
any case; a misspelt ``[keys]`` id is named with the nearest valid one.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from crmtui import config as config_module
from crmtui.config import Config, ConfigError, ProfileConfig

HAND_WRITTEN = """\
# my crmtui settings, written by hand
timezone = "Europe/Berlin"   # where I work
theme = 'crmtui-dark'        # dark at night

[keys]
future_binding = "f9"        # not known to this version: kept
quit = [ "ctrl+q",  "f10" ]

# work first, then the side project
[profiles.zeta]
vendor = "Freshsales"        # capitalised, as on the vendor's site
api_key_env = "ZETA_KEY"
domain   =   "zeta"

[profiles.acme]
vendor = "SalesLoft"
api_key_env = "ACME_KEY"
"""

ACME = 'vendor = "freshsales"\ndomain = "acme"\napi_key_env = "ACME_KEY"\n'


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_a_saved_theme_changes_its_value_only_byte_for_byte(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", HAND_WRITTEN)
    config = Config.load(path)
    config.theme = "crmtui-light"
    config.save()
    expected = HAND_WRITTEN.replace("'crmtui-dark'", '"crmtui-light"')
    assert path.read_text(encoding="utf-8") == expected
    assert Config.load(path).theme == "crmtui-light"


def test_a_theme_saved_into_a_file_without_one_adds_one_line(tmp_path: Path) -> None:
    text = HAND_WRITTEN.replace("theme = 'crmtui-dark'        # dark at night\n", "")
    path = write(tmp_path / "config.toml", text)
    config = Config.load(path)
    config.theme = "crmtui-high-contrast"
    config.save()
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    added = 'theme = "crmtui-high-contrast"\n'
    assert lines.count(added) == 1
    lines.remove(added)
    assert "".join(lines) == text
    assert Config.load(path).theme == "crmtui-high-contrast"


def test_saving_again_after_a_save_only_changes_the_new_choice(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", HAND_WRITTEN)
    config = Config.load(path)
    for theme in ("crmtui-light", "crmtui-colorblind", "crmtui-dark"):
        config.theme = theme
        config.save()
    # back to the first value: only the quotes crmtui writes differ
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN.replace(
        "theme = 'crmtui-dark' ", 'theme = "crmtui-dark" '
    )


def test_what_the_user_wrote_while_the_app_ran_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", HAND_WRITTEN)
    config = Config.load(path)  # the app starts
    edited = HAND_WRITTEN + '\n[profiles.new]\nvendor = "salesseek"  # added meanwhile\n'
    edited = edited.replace('timezone = "Europe/Berlin"', 'timezone = "Asia/Tokyo"')
    write(path, edited)
    config.theme = "crmtui-light"  # then a theme is chosen in the app
    config.save()
    assert path.read_text(encoding="utf-8") == edited.replace("'crmtui-dark'", '"crmtui-light"')


def test_a_removed_binding_removes_its_line_only(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", HAND_WRITTEN)
    config = Config.load(path)
    del config.keys["quit"]
    config.keys["my_day"] = "t"
    config.save()
    text = path.read_text(encoding="utf-8")
    assert 'quit = [ "ctrl+q",  "f10" ]\n' not in text
    assert text.replace('my_day = "t"\n', "") == HAND_WRITTEN.replace(
        'quit = [ "ctrl+q",  "f10" ]\n', ""
    )


def test_a_file_that_is_no_longer_toml_is_not_overwritten(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", HAND_WRITTEN)
    config = Config.load(path)
    broken = HAND_WRITTEN + "[profiles.half-typed\n"
    write(path, broken)
    config.theme = "crmtui-light"
    with pytest.raises(ConfigError, match=r"not saved: the file is no longer valid TOML"):
        config.save()
    assert path.read_text(encoding="utf-8") == broken


def test_a_file_saved_in_another_encoding_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", HAND_WRITTEN)
    config = Config.load(path)
    latin1 = b"# caf\xe9\n" + HAND_WRITTEN.encode()  # an editor saved it as Latin-1
    path.write_bytes(latin1)
    config.theme = "crmtui-light"
    with pytest.raises(ConfigError) as info:
        config.save()
    assert str(info.value) == (
        f"{path}: not saved: the file is no longer UTF-8 text (byte 0xe9 on line 1); "
        "save it as UTF-8 and choose again"
    )
    assert path.read_bytes() == latin1


def test_a_byte_order_mark_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + HAND_WRITTEN.encode())
    config = Config.load(path)
    config.theme = "crmtui-light"
    config.save()
    assert path.read_bytes() == b"\xef\xbb\xbf" + HAND_WRITTEN.replace(
        "'crmtui-dark'", '"crmtui-light"'
    ).encode("utf-8")


def test_the_save_is_0600_and_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "config.toml", HAND_WRITTEN, mode=0o644)
    config = Config.load(path)
    config.theme = "crmtui-light"

    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:  # the disk fills up before the rename
        patch.setattr(os, "replace", crash)
        with pytest.raises(OSError, match="No space"):
            config.save()
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN  # old file whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]  # no temp left
    config.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Config.load(path).theme == "crmtui-light"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_a_new_config_object_never_removes_what_the_file_has(tmp_path: Path) -> None:
    # e.g. the demo's own file, which it could not read: choosing a theme adds it only
    text = "later = 1  # a newer crmtui's key\n" + HAND_WRITTEN
    path = write(tmp_path / "demo.toml", text)
    config = Config(path=path, theme="crmtui-light")
    config.save()
    assert path.read_text(encoding="utf-8") == text.replace("'crmtui-dark'", '"crmtui-light"')


# -- line endings: a line crmtui adds ends as the file's lines do ---------------------


def _theme_added(config: Config) -> None:
    config.theme = None  # read from the file, then saved back: the line goes and comes
    config.save()
    config.theme = "crmtui-light"


def _profile_added(config: Config) -> None:
    config.profiles["new"] = ProfileConfig("new", "freshsales", {"domain": "new"})


EDITS: dict[str, Callable[[Config], None]] = {
    "theme changed": lambda c: setattr(c, "theme", "crmtui-light"),
    "theme removed and added again": _theme_added,
    "binding added": lambda c: c.keys.update(my_day="t"),
    "binding removed": lambda c: c.keys.pop("quit"),
    "keys table added": lambda c: (c.keys.clear(), c.save(), c.keys.update(my_day="t")),
    "profile added": _profile_added,
    "profile removed": lambda c: c.profiles.pop("acme"),
}


@pytest.mark.parametrize("edit", list(EDITS))
@pytest.mark.parametrize("last_newline", [True, False], ids=["", "no newline at the end"])
def test_a_crlf_file_gets_crlf_lines_only(tmp_path: Path, edit: str, last_newline: bool) -> None:
    text = HAND_WRITTEN if last_newline else HAND_WRITTEN.rstrip("\n")
    results = {}
    for name, newline in (("lf", "\n"), ("crlf", "\r\n")):
        path = tmp_path / f"{name}.toml"
        path.write_bytes(text.replace("\n", newline).encode())
        config = Config.load(path)
        EDITS[edit](config)
        config.save()
        results[name] = path.read_bytes()
    assert results["lf"] != text.encode()  # the edit did change the file
    # the same edit as in the LF file, byte for byte, each line ending CRLF
    assert results["crlf"] == results["lf"].replace(b"\n", b"\r\n")
    lines = results["crlf"].splitlines(keepends=True)
    assert all(line.endswith(b"\r\n") for line in lines[: -1 if not last_newline else None])
    assert b"\r\r" not in results["crlf"]


def test_a_theme_added_to_a_crlf_file_and_its_blank_line_end_crlf(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"# my account\r\n[profiles.acme]\r\n" + ACME.replace("\n", "\r\n").encode())
    config = Config.load(path)
    config.theme = "crmtui-light"
    config.save()
    assert path.read_bytes() == (
        b'theme = "crmtui-light"\r\n\r\n# my account\r\n[profiles.acme]\r\n'
        + ACME.replace("\n", "\r\n").encode()
    )
    assert Config.load(path).theme == "crmtui-light"


def test_a_file_of_mixed_line_endings_keeps_each_line_as_it_is(tmp_path: Path) -> None:
    text = HAND_WRITTEN.replace("\n", "\r\n").replace(
        'domain   =   "zeta"\r\n', 'domain   =   "zeta"\n'
    )
    path = tmp_path / "config.toml"
    path.write_bytes(text.encode())
    config = Config.load(path)
    config.keys["my_day"] = "t"
    config.save()
    lines = path.read_bytes().splitlines(keepends=True)
    (added,) = [line for line in lines if line.startswith(b"my_day")]
    lines.remove(added)
    assert b"".join(lines) == text.encode()  # not one ending of the user's lines changed


def test_saves_run_one_at_a_time_and_the_last_value_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "config.toml", HAND_WRITTEN)
    config = Config.load(path)
    dumps = config_module.tomlkit.dumps
    inside: list[str] = []
    most = [0]
    first_inside = threading.Event()
    second_came = threading.Event()  # at the lock, or (no lock) in the save itself

    class Watched:
        """The save's lock, saying when the second save waits at it."""

        def __init__(self, lock: threading.Lock) -> None:
            self.lock = lock

        def __enter__(self) -> bool:
            if threading.current_thread().name == "second":
                second_came.set()
            return self.lock.__enter__()

        def __exit__(self, *exc: object) -> None:
            self.lock.__exit__(*exc)

    def watched_dumps(document: object) -> str:
        name = threading.current_thread().name
        inside.append(name)
        most[0] = max(most[0], len(inside))
        first_inside.set()
        if name == "second":
            second_came.set()
        else:  # the first save holds on until the second one has come in
            assert second_came.wait(10)
        try:
            return dumps(document)  # type: ignore[arg-type]
        finally:
            inside.remove(name)

    monkeypatch.setattr(config_module, "_SAVING", Watched(threading.Lock()), raising=False)
    monkeypatch.setattr(config_module.tomlkit, "dumps", watched_dumps)
    config.theme = "crmtui-light"
    first = threading.Thread(target=config.save, name="first")
    first.start()
    assert first_inside.wait(10)
    config.theme = "crmtui-colorblind"  # chosen while the first save runs
    second = threading.Thread(target=config.save, name="second")
    second.start()
    first.join(10)
    second.join(10)
    assert most[0] == 1  # never two saves at once
    assert Config.load(path).theme == "crmtui-colorblind"
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN.replace(
        "'crmtui-dark'", '"crmtui-colorblind"'
    )


def test_a_save_with_nothing_new_leaves_the_file_alone(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", HAND_WRITTEN)
    config = Config.load(path)
    config.theme = "crmtui-light"
    config.save()
    written = path.stat().st_ino
    config.save()  # e.g. a second choice's save, the first having written it already
    assert path.stat().st_ino == written  # not replaced
    config.theme = "crmtui-dark"
    config.save()
    assert path.stat().st_ino != written
    assert Config.load(path).theme == "crmtui-dark"


# -- vendor names in any case ------------------------------------------------------------


@pytest.mark.parametrize("typed", ["Freshsales", "FRESHSALES", "FreshSales", " freshsales "])
def test_a_vendor_name_is_read_in_any_case(tmp_path: Path, typed: str) -> None:
    path = write(
        tmp_path / "config.toml",
        f'[profiles.acme]\nvendor = "{typed}"\ndomain = "acme"\napi_key_env = "K"\n',
    )
    config = Config.load(path)
    profile = config.profiles["acme"].resolve({"K": "key"})
    assert profile.vendor == "freshsales"
    assert profile.setting("domain") == "acme"
    config.theme = "crmtui-light"
    config.save()
    assert f'vendor = "{typed}"\n' in path.read_text(encoding="utf-8")  # as the user wrote it


def test_a_profile_made_in_code_takes_any_case_too() -> None:
    entry = ProfileConfig("acme", "ActiveCampaign", {"account": "acme", "api_key_env": "K"})
    assert entry.vendor == "activecampaign"
    assert entry.resolve({"K": "key"}).vendor == "activecampaign"


def test_an_unknown_vendor_still_names_the_nearest(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", '[profiles.acme]\nvendor = "FreshSale"\n')
    with pytest.raises(ConfigError) as info:
        Config.load(path)
    line = str(info.value)
    assert 'vendor = "FreshSale": expected one of' in line
    assert "(in any case) (did you mean freshsales?)" in line


# -- [keys] ids ---------------------------------------------------------------------------


def test_an_unknown_keys_id_is_named_with_the_nearest_valid_id(tmp_path: Path) -> None:
    from crmtui.ui.app import binding_ids

    path = write(tmp_path / "config.toml", '[keys]\nmy_dya = "t"\nquit = "ctrl+q"\n')
    lines = Config.load(path).unknown_bindings(binding_ids())
    assert lines == [f'{path}: [keys] my_dya = "t": no binding has this id; did you mean my_day?']


def test_an_id_like_no_other_lists_the_valid_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", '[keys]\nzzzz = "t"\n')
    (line,) = Config.load(path).unknown_bindings(["quit", "my_day"])
    assert line.endswith("no binding has this id; known binding ids: my_day, quit")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # a heading, a blank line, then comments about the first table
            "# crmtui\n\n# my account\n[profiles.acme]\n" + ACME,
            '# crmtui\ntheme = "crmtui-light"\n\n# my account\n[profiles.acme]\n' + ACME,
        ),
        (  # the comment over the first table is the file's first line
            "# my account\n[profiles.acme]\n" + ACME,
            'theme = "crmtui-light"\n\n# my account\n[profiles.acme]\n' + ACME,
        ),
    ],
)
def test_a_new_theme_goes_above_the_comments_of_the_first_table(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path / "config.toml", text)
    config = Config.load(path)
    config.theme = "crmtui-light"
    config.save()
    assert path.read_text(encoding="utf-8") == expected
