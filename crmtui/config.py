"""config.toml: named profiles, where their secrets come from, and app preferences.

Secrets are never written in the file. Each secret setting of a vendor (say Freshsales'
``api_key``) is read from an environment variable named by ``api_key_env``, or from the
system keyring (``api_key_keyring = true``, service ``crmtui``, user
``<profile>:<setting>``) when the ``keyring`` package is installed. Example::

    theme = "crmtui-dark"
    timezone = "Europe/Berlin"          # how times are shown (default: the system's)

    [keys]                              # binding id = key(s); `?` in the app lists them
    my_day = "t"
    cursor_down = "down,j,n"

    [profiles.acme]
    vendor = "freshsales"
    domain = "acme"                     # https://acme.freshsales.io/api/
    api_key_env = "ACME_FRESHSALES_KEY"

    [profiles.local]
    vendor = "freshsales"
    base_url = "http://127.0.0.1:8001/api/"   # a `crmtui sandbox freshsales --port 8001`
    api_key_env = "SANDBOX_KEY"

``Config.load`` checks the whole file at once (pydantic models built from each vendor's
declared ``Setting``s): types, unknown keys (with the nearest known name), settings that
become part of a URL (one DNS label such as ``acme``, or ``acme.freshsales.io``), and
``base_url`` (parsed: https, or http to loopback; no user@, ?query or #fragment). Each
problem is one line of the ``ConfigError``, naming the key, the value and what is
expected; a secret's value is never repeated.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import json
import os
import re
import stat
import tempfile
import threading
import tomllib
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomlkit
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic_core import ErrorDetails
from tomlkit.items import AoT, Comment, Table, Whitespace

from crmtui import files, locations, vendors
from crmtui.http.urls import check_base_url, is_local_name
from crmtui.http.urls import shown as shown_url
from crmtui.vendors.base import Profile, Setting

KEYRING_SERVICE = "crmtui"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_LONE_LF = re.compile(r"(?<!\r)\n")
_SAVING = threading.Lock()  # Config.save: one at a time (each reads, edits, replaces)
# Keys whose value may be a secret pasted in the wrong place: never shown in a message.
_SECRET_KEY = re.compile(r"(_env|_keyring)$|(^|_)(api_?key|key|secret|password|passwd|token)($|_)")


class ConfigError(Exception):
    """The config cannot be used as written; the text says what to change.

    One line per problem, each naming the key, the value and what is expected.
    """


# -- the schema: pydantic models checked strictly (types, unknown keys) ------------------


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError('an IANA time zone name, e.g. "Europe/Berlin"') from None
    return value


def _check_base_url(value: str) -> str:
    """A vendor API root: parsed, http(s) with a host and nothing that could move it."""
    expected = 'an https URL of the API root, e.g. "https://acme.freshsales.io/api/"'
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c == "\\" for c in value):
        raise ValueError(expected + " (no spaces, control characters or backslashes)")
    if "@" in value or "?" in value or "#" in value:
        raise ValueError(expected + " (no user@, ?query or #fragment)")
    try:
        check_base_url(value)
    except ValueError as exc:
        raise ValueError(f"{expected}; {exc}") from None
    parts = urlsplit(value)
    if parts.scheme.lower() == "http" and is_local_name(parts.hostname or ""):
        # NAME.localhost over plain http is only ever a sandbox mounted in-process (tests,
        # the demo): from a config file it would go to whatever the resolver answers
        raise ValueError(f"{expected}; plain http to {parts.hostname} is for in-process sandboxes")
    return value


def _check_env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError('the name of an environment variable, e.g. "ACME_API_KEY"')
    return value


class _File(BaseModel):
    """The top level of config.toml."""

    model_config = ConfigDict(extra="forbid", strict=True)

    theme: str | None = Field(None, description='a theme name, e.g. "crmtui-dark"')
    timezone: Annotated[str, AfterValidator(_check_timezone)] | None = Field(
        None, description='an IANA time zone name, e.g. "Europe/Berlin"'
    )
    keys: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description='a [keys] table of binding = "key(s)", e.g. quit = "ctrl+q"',
    )
    profiles: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description='[profiles.NAME] tables, e.g. [profiles.acme] with vendor = "freshsales"',
    )


class _ProfileBase(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    vendor: str = Field(description="a vendor name")
    base_url: Annotated[str, AfterValidator(_check_base_url)] | None = Field(
        None, description='an https URL of the API root, e.g. "https://acme.freshsales.io/api/"'
    )
    rate_scale: float = Field(
        1.0,
        gt=0,
        allow_inf_nan=False,
        description="a number above 0: the share of the vendor's rate budget to use, e.g. 0.9",
    )
    allow_other_host: bool = Field(
        False,
        description="true or false: whether base_url may be on a host outside the vendor's "
        "own domains (the credentials are sent there)",
    )


def _setting_check(setting: Setting) -> Callable[[str], str]:
    def check(value: str) -> str:
        return setting.check(value)

    return check


@cache
def _profile_model(vendor: str) -> type[BaseModel]:
    """The keys a profile of ``vendor`` may have, from the vendor's declared settings."""
    cls = vendors.load(vendor)
    fields: dict[str, Any] = {}
    for setting in cls.settings:
        if setting.secret:
            fields[f"{setting.name}_env"] = (
                Annotated[str, AfterValidator(_check_env_name)] | None,
                Field(None, description=f"the environment variable holding the {setting.label}"),
            )
            fields[f"{setting.name}_keyring"] = (
                bool,
                Field(False, description="true or false (read the secret from the keyring)"),
            )
        else:
            fields[setting.name] = (
                Annotated[str, AfterValidator(_setting_check(setting))] | None,
                Field(None, description=setting.expected()),
            )
    return create_model(f"{cls.__name__}Profile", __base__=_ProfileBase, **fields)


def _show(value: Any) -> str:
    if isinstance(value, str | int | float | bool):
        text = _toml(value)
    elif isinstance(value, list):
        text = "[" + ", ".join(_show(v) for v in value) + "]"
    else:
        text = "a table" if isinstance(value, dict) else type(value).__name__
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    text = re.sub(r"//[^@]*@", "//…@", text)  # a user:password@ part is never shown
    return text if len(text) <= 60 else text[:57] + "…"


def _nearest(key: str, known: list[str], what: str = "keys") -> str:
    """``; did you mean NEAREST?`` (or the list of ``known`` ones) for a misspelt key."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]}?"
    return f"; known {what}: {', '.join(known)}"


def _explain(
    error: ErrorDetails, model: type[BaseModel], data: Mapping[str, Any], where: str
) -> str:
    """One pydantic error as one line a person can act on."""
    key = str(error["loc"][0]) if error["loc"] else ""
    known = list(model.model_fields)
    if error["type"] == "extra_forbidden":
        # the value is not shown (a secret?); the key is escaped (it may hold anything)
        return f"{where}unknown key {_toml_key(key)}{_nearest(key, known)}"
    info = model.model_fields.get(key)
    expected = info.description if info is not None and info.description else "another value"
    if error["type"] == "missing":
        return f"{where}needs {key} ({expected})"
    if error["type"] == "value_error":
        expected = str(error.get("ctx", {}).get("error", expected))
    shown = key
    if len(error["loc"]) > 1 and key in ("keys", "profiles"):
        inner = str(error["loc"][1])
        shown = f"{key}.{_toml_key(inner)}"
        value = data[key][inner] if isinstance(data.get(key), dict) else data.get(key)
        expected = (
            'a key or a list of keys, e.g. "ctrl+q" or ["down", "j"]'
            if key == "keys"
            else f'a table [profiles.{_toml_key(inner)}] with vendor = "..."'
        )
    else:
        value = error.get("input", data.get(key))
    if key == "base_url" and isinstance(value, str):  # a token in ?query or user:pass@
        value = shown_url(value) + ("?…" if "?" in value else "") + ("#…" if "#" in value else "")
    shown_value = _hidden(value) if _SECRET_KEY.search(key) else _show(value)
    return f"{where}{shown} = {shown_value}: expected {expected}"


def _hidden(value: Any) -> str:
    """A value of a secret-ish key (``api_key_env``: someone may paste the key itself)."""
    if isinstance(value, str):
        return f"(not shown: {len(value)} characters)"
    return _show(value) if isinstance(value, bool | int | float) else "(not shown)"


def _check(model: type[BaseModel], data: Mapping[str, Any], where: str) -> list[str]:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        lines = [_explain(e, model, data, where) for e in exc.errors()]
        return list(dict.fromkeys(lines))  # a union's two errors read as one
    return []


def profile_errors(name: str, vendor: Any, values: Mapping[str, Any]) -> list[str]:
    """What is wrong with the profile ``name`` (one line each); [] when it can be used."""
    where = f"[profiles.{_toml_key(name)}] "
    known = sorted(vendors.available())
    typed, vendor = vendor, vendors.canonical(vendor)  # "Freshsales" is freshsales
    if vendor is None:
        hint = difflib.get_close_matches(str(typed).strip().casefold(), known, n=1)
        mean = f" (did you mean {hint[0]}?)" if hint else ""
        return [
            f"{where}vendor = {_show(typed)}: expected one of {' | '.join(known)} "
            f"(in any case){mean}"
        ]
    try:
        cls = vendors.load(vendor)
        model = _profile_model(vendor)
    except (KeyError, ImportError) as exc:
        return [f"{where}vendor = {_show(vendor)}: {exc}"]
    lines: list[str] = []
    rest = dict(values)
    for setting in cls.settings:
        if setting.secret and rest.pop(setting.name, None) not in (None, ""):
            lines.append(
                f"{where}do not write the {setting.name} in config.toml; use "
                f'{setting.name}_env = "SOME_VARIABLE" (an environment variable) or '
                f"{setting.name}_keyring = true"
            )
    lines += _check(model, {"vendor": vendor, **rest}, where)
    base_url = values.get("base_url")
    if not lines and isinstance(base_url, str) and base_url:  # on the vendor's own hosts?
        try:
            cls.check_base_url(base_url, allow_other_host=values.get("allow_other_host") is True)
        except ValueError as exc:
            lines.append(f"{where}base_url = {_show(base_url)}: {exc}")
    if not lines and not values.get("base_url"):
        for setting in cls.settings:
            if not setting.secret and setting.required and values.get(setting.name) in (None, ""):
                lines.append(f"{where}needs {setting.name} ({setting.expected()})")
    return lines


@dataclass
class ProfileConfig:
    name: str
    vendor: str  # as typed, in any case; kept as the vendor's own name ("freshsales")
    values: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.vendor = vendors.canonical(self.vendor) or self.vendor

    def resolve(self, environ: dict[str, str] | None = None) -> Profile:
        """The profile with its secrets read from the environment or the keyring."""
        environ = dict(os.environ) if environ is None else environ
        problems = profile_errors(self.name, self.vendor, self.values)
        if problems:
            raise ConfigError("\n".join(problems))
        cls = vendors.load(self.vendor)
        settings: dict[str, str] = {}
        secrets: dict[str, str] = {}
        for setting in cls.settings:
            if setting.secret:
                value = self._secret(setting.name, environ)
                if value:
                    secrets[setting.name] = value
                elif setting.required:
                    raise ConfigError(
                        f"profile {self.name!r} needs its {setting.label}: set "
                        f'{setting.name}_env = "SOME_VARIABLE" and export that variable, '
                        f"or {setting.name}_keyring = true"
                    )
            else:
                given = self.values.get(setting.name)
                if given not in (None, ""):
                    settings[setting.name] = setting.check(str(given))
        base_url = self.values.get("base_url")
        return Profile(
            name=self.name,
            vendor=self.vendor,
            base_url=str(base_url) if base_url else None,
            settings=settings,
            secrets=secrets,
            rate_scale=float(self.values.get("rate_scale", 1.0)),
            allow_other_host=self.values.get("allow_other_host") is True,
        )

    def _secret(self, name: str, environ: dict[str, str]) -> str:
        variable = self.values.get(f"{name}_env")
        if variable:
            value = environ.get(str(variable), "")
            if not value:
                raise ConfigError(
                    f"profile {self.name!r}: the environment variable {_env_shown(variable)} "
                    f"(its {name}) is not set"
                )
            return value
        if self.values.get(f"{name}_keyring"):
            return keyring_get(f"{self.name}:{name}")
        return ""


def _env_shown(variable: object) -> str:
    """An environment variable's name, unless it looks like a key pasted in its place."""
    text = str(variable)
    if len(text) < 16 or re.fullmatch(r"[A-Z_][A-Z0-9_]*", text):
        return text
    return f"named in {_hidden(text)[1:-1]} (is it the secret itself? name the variable)"


def keyring_get(user: str) -> str:
    try:
        import keyring
    except ImportError:
        raise ConfigError(
            "a profile reads its secret from the system keyring, but the keyring "
            "package is not installed (pip install 'crmtui[keyring]')"
        ) from None
    return keyring.get_password(KEYRING_SERVICE, user) or ""


def keyring_delete(user: str) -> bool:
    try:
        import keyring
        from keyring.errors import PasswordDeleteError
    except ImportError:
        return False
    try:
        keyring.delete_password(KEYRING_SERVICE, user)
    except PasswordDeleteError:
        return False
    return True


@dataclass
class Config:
    path: Path
    profiles: dict[str, ProfileConfig] = field(default_factory=dict)
    theme: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    exists: bool = False
    timezone: str | None = None  # IANA name (e.g. "Europe/Berlin"); None: the system's
    warnings: list[str] = field(default_factory=list)  # e.g. the file is readable by others
    # what the file said when read (or last saved): ``save`` writes only what differs
    _read: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def load(cls, path: Path | None = None) -> Config:
        """Read and check the whole file: every problem is one line of the ``ConfigError``."""
        path = path or locations.config_file()
        if not path.exists():
            return cls(path=path)
        try:
            raw = files.read_regular(path)
        except files.NotAFile as exc:
            raise ConfigError(f"{path}: cannot be used: it is {exc.what}") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        try:
            text = raw.decode("utf-8-sig")  # a byte-order mark (some editors write one) is fine
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{path}: not UTF-8 text ({_where_not_utf8(raw, exc)}); save it as UTF-8"
            ) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except RecursionError:  # theme = [[[[...]]]]: tomllib recurses once per level
            raise ConfigError(
                f"{path}: not valid TOML for crmtui: arrays or tables nested too deeply"
            ) from None
        problems = _check(_File, data, "")
        profiles: dict[str, ProfileConfig] = {}
        tables = data.get("profiles")
        if isinstance(tables, dict):  # each profile is checked even when other keys are wrong
            for name, values in tables.items():
                if not isinstance(values, dict):
                    continue  # reported above
                values = dict(values)
                vendor = values.pop("vendor", None)
                if vendor is None:
                    known = " | ".join(sorted(vendors.available()))
                    problems.append(f'[profiles.{_toml_key(name)}] needs vendor = "{known}"')
                    continue
                problems += profile_errors(name, vendor, values)
                profiles[name] = ProfileConfig(name, str(vendor), values)
        table = data.get("keys")
        keys = {  # action (binding id) -> key(s): "n" , "down,n" or ["down", "n"]
            str(k): ",".join(map(str, v)) if isinstance(v, list) else str(v)
            for k, v in (table if isinstance(table, dict) else {}).items()
        }
        problems += [
            f"[keys] {_toml_key(name)} = {json.dumps(value)}: {problem}"
            for name, value in keys.items()
            if (problem := _key_problem(value))
        ]
        if problems:
            raise ConfigError("\n".join(f"{path}: {line}" for line in problems))
        config = cls(
            path=path,
            profiles=profiles,
            theme=data.get("theme"),
            keys=keys,
            exists=True,
            timezone=data.get("timezone"),
            warnings=_loose_mode(path) + _key_clashes(keys),
        )
        config._read = config._values()
        return config

    def unknown_bindings(self, known: Iterable[str]) -> list[str]:
        """One line per ``[keys]`` id that names none of the ``known`` binding ids (the
        app's), with the nearest valid id; such an entry changes no key."""
        ids = sorted(known)
        return [
            f"{self.path}: [keys] {_toml_key(name)} = {json.dumps(value)}: no binding has "
            f"this id{_nearest(name, ids, 'binding ids')}"
            for name, value in self.keys.items()
            if name not in ids
        ]

    def warn(self) -> None:
        """Issue ``warnings`` as Python warnings (for the notebook API)."""
        for text in self.warnings:
            warnings.warn(text, UserWarning, stacklevel=3)

    def save(self) -> None:
        """Write what changed since the file was read (or last saved), mode 0600 (it
        names where secrets live). This is how crmtui saves a choice (the theme...).

        The file is edited, not rewritten: it is read again and parsed as a TOML
        document (tomlkit), and only the values this ``Config`` changed are set or
        removed, escaped as TOML needs (a profile name with a newline reads back as
        written). Everything else stays byte for byte: the user's comments, blank lines,
        order, quoting, ``[keys]`` ids this version has no binding for, and whatever the
        file holds that this ``Config`` did not read: values edited in it since, and keys
        added since, even ones crmtui does not know (``load`` refuses such keys, so a file
        that has them cannot be opened again until they are removed; ``save`` does not
        remove them for the user). A line crmtui adds ends as the file's lines do: CRLF
        in a file whose every line ends so (Windows editors), else LF. A file that is no longer valid TOML is not touched (``ConfigError``). See
        ``write_private`` for how it is written (atomically; what a symbolic link in its
        place gets).

        It parses and writes the whole file (seconds for a file of megabytes): the app
        calls it in a thread. Saves run one at a time in this process, each writing the
        values this ``Config`` holds when its turn comes; when they are what the last
        save wrote (a later choice already saved), it writes nothing.
        """
        with _SAVING:
            wanted = self._values()
            if self._read and wanted == self._read:
                return
            bom, newline, document = self._document()
            text = tomlkit.dumps(_merge(document, wanted, self._read))
            if newline != "\n":  # tomlkit ends the lines it adds with \n
                text = _LONE_LF.sub(newline, text)
            write_private(self.path, bom + text)
            self._read = wanted
            self.warnings = [w for w in self.warnings if not w.startswith(f"{self.path} can be")]

    def _values(self) -> dict[str, Any]:
        """What the file says, as this ``Config`` holds it (None: no such key)."""
        return copy.deepcopy(
            {
                "theme": self.theme or None,
                "timezone": self.timezone or None,
                "keys": dict(self.keys) or None,
                "profiles": {
                    p.name: {"vendor": p.vendor, **p.values} for p in self.profiles.values()
                }
                or None,
            }
        )

    def _document(self) -> tuple[str, str, tomlkit.TOMLDocument]:
        """The file as it is now: its byte-order mark (if any), its line ending (see
        ``_newline``) and its TOML document; a new document when there is no file."""
        try:
            raw = files.read_regular(self.path)
        except FileNotFoundError:
            doc = tomlkit.document()
            doc.add(tomlkit.comment("crmtui configuration: see `crmtui --help` and the README."))
            doc.add(tomlkit.nl())
            return "", "\n", doc
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:  # saved in another encoding meanwhile
            raise ConfigError(
                f"{self.path}: not saved: the file is no longer UTF-8 text "
                f"({_where_not_utf8(raw, exc)}); save it as UTF-8 and choose again"
            ) from None
        try:
            bom = "\ufeff" if raw.startswith(b"\xef\xbb\xbf") else ""
            return bom, _newline(text), tomlkit.parse(text)
        except (ValueError, RecursionError) as exc:  # edited into something else meanwhile
            raise ConfigError(
                f"{self.path}: not saved: the file is no longer valid TOML ({exc}); "
                "fix it and choose again"
            ) from None


def _where_not_utf8(raw: bytes, exc: UnicodeDecodeError) -> str:
    """Where ``raw`` stops being UTF-8: ``byte 0xe9 on line 3``."""
    at = exc.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)
    line = raw[:at].count(b"\n") + 1
    return f"byte 0x{raw[at]:02x} on line {line}"


def _newline(text: str) -> str:
    """The line ending of ``text``: CRLF when every line ends so, else LF.

    A file of mixed endings keeps each of its lines as it is, and the lines crmtui adds
    end with LF (rewriting the user's other lines to one ending is not a save's job)."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf == text.count("\n") else "\n"


def _merge(table: Any, wanted: Mapping[str, Any], before: Mapping[str, Any]) -> Any:
    """Apply to the tomlkit ``table`` what changed from ``before`` to ``wanted`` (None:
    no such key). A key that did not change, or that crmtui never read, is left exactly
    as the file has it (with its comments and layout)."""
    for key, value in wanted.items():
        old = before.get(key)
        if value == old and type(value) is type(old):
            continue
        if value is None:
            if key in table:
                del table[key]
        elif isinstance(value, dict):
            inner = table.get(key)
            if not isinstance(inner, dict):
                inner = tomlkit.table(is_super_table=key == "profiles")
                table[key] = inner
            _merge(inner, value, old if isinstance(old, dict) else {})
        elif key not in table and isinstance(table, tomlkit.TOMLDocument):
            _add_top_level(table, key, value)
        else:
            table[key] = value
    for key in before:
        if key not in wanted and key in table:  # removed by crmtui
            del table[key]
    return table


def _add_top_level(doc: tomlkit.TOMLDocument, key: str, value: Any) -> None:
    """Add ``key = value`` above the tables, and above the comment lines written right
    over the first table (they are about that table: tomlkit alone would put the new
    key between them and it)."""
    body = doc.body
    first = next((i for i, (_, item) in enumerate(body) if isinstance(item, Table | AoT)), None)
    start = first
    while start and isinstance(body[start - 1][1], Comment):
        start -= 1
    insert_at = getattr(doc, "_insert_at", None)  # tomlkit's own (private) insertion
    if first is None or start == first or insert_at is None:
        doc[key] = value
        return
    assert start is not None
    item = tomlkit.item(value)
    if start > 0 and isinstance(body[start - 1][1], Whitespace):
        insert_at(start - 1, key, item)  # before the blank line over the comments
    else:
        item.trivia.trail = "\n\n"  # a blank line between it and those comments
        insert_at(start, key, item)


def _loose_mode(path: Path) -> list[str]:
    """A warning when others may read the file (it names where secrets live)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if os.name != "posix" or not mode & 0o077:
        return []
    return [
        f"{path} can be read by other users (mode {mode:04o}); run `chmod 600 {path}` "
        "(crmtui writes it 0600)"
    ]


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600), atomically.

    The text goes to a new file made by ``mkstemp`` (0600, a name nobody could plant a
    link at) in the same folder, then replaces ``path`` in one step (``os.replace``).
    A symbolic link at ``path`` (a dotfiles repository links config.toml) is written
    through: its target is replaced and stays a link's target, provided it is a regular
    file owned by this user; a link to anything else (or to nothing) is refused
    (``files.NotAFile``) rather than followed, so crmtui never rewrites or chmods another
    user's file, nor creates one behind a dangling link.
    """
    if path.is_symlink():
        target = path.resolve()
        if not target.exists():  # nothing is created behind a dangling link
            raise files.NotAFile(path, f"a link to {target}, which does not exist")
        files.check_regular(path, target.stat(), own=True)
        path = target
    elif path.exists():
        files.check_regular(path, path.stat(), own=True)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _toml(value: Any) -> str:
    """``value`` as TOML (for messages): a string quoted with every control or invisible
    character escaped (``\\n``, ``\\u001b``), so a message stays one inert line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = "".join(_escape(c) for c in str(value))
    return f'"{text}"'


def _escape(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if char.isprintable():
        return char
    return f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml(key)


HOW_TO = """\
crmtui: {problem}: nothing to open yet.
Try it first, with no account and no network:  crmtui demo
To open your CRM, write one table per account in {path}, e.g.

    [profiles.acme]
    vendor = "freshsales"                # {vendors}
    domain = "acme"                      # your https://acme.freshsales.io account
    api_key_env = "ACME_FRESHSALES_KEY"  # the variable that holds your API key

then run `crmtui` again. Secrets never go in the file: name an environment variable
(<secret>_env) or use the system keyring (<secret>_keyring = true). `crmtui --help`
lists every command.\
"""


def how_to(path: Path, *, exists: bool = False) -> str:
    """What ``crmtui`` says when it has no profile to open: how to start."""
    problem = f"{path} has no [profiles.NAME] table" if exists else f"no config file at {path}"
    return HOW_TO.format(
        problem=problem, path=path, vendors=" | ".join(sorted(vendors.available()))
    )


_MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
_KEY_EXAMPLE = 'expected a key such as "ctrl+q", "j", "f5", "pagedown" or several: "down,j"'


@cache
def _key_names() -> frozenset[str]:
    """Every key name Textual gives a key press (``down``, ``pagedown``, ``f5``...)."""
    from textual import keys

    names = {key.value.rsplit("+", 1)[-1] for key in keys.Keys}
    names |= set(keys.KEY_ALIASES) | set(keys.KEY_NAME_REPLACEMENTS.values())
    return frozenset(names | {"space", "enter", "tab", "backspace"})


def _key_problem(value: str) -> str | None:
    """Why ``value`` (one [keys] entry: keys separated by commas) names no key, or None."""
    parts = [part.strip() for part in value.split(",")]
    if not any(parts):
        return f"no key given; {_KEY_EXAMPLE}"
    for part in parts:
        *modifiers, name = part.split("+") if part != "+" else ["+"]
        if not part or not name or any(m not in _MODIFIERS for m in modifiers):
            return f"{json.dumps(part)} is not a key; {_KEY_EXAMPLE}"
        if len(name) == 1 and name.isprintable():
            continue
        if name.lower() in _key_names():
            continue
        with contextlib.suppress(KeyError):  # a character by its name: question_mark
            unicodedata.lookup(name.replace("_", " "))
            continue
        return f"{json.dumps(part)} is not a key; {_KEY_EXAMPLE}"
    return None


def _key_clashes(keys: dict[str, str]) -> list[str]:
    """One warning per key that [keys] gives to more than one binding."""
    owners: dict[str, list[str]] = {}
    for name, value in keys.items():
        for part in value.split(","):
            if part.strip():
                owners.setdefault(part.strip(), []).append(name)
    return [
        f"[keys]: {', '.join(names)} share the key {json.dumps(key)}; where they apply"
        " together only one of them runs"
        for key, names in owners.items()
        if len(names) > 1
    ]
