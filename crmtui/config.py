"""config.toml: named profiles, where their secrets come from, and app preferences.

Secrets are never written in the file. Each secret setting of a vendor (say Freshsales'
``api_key``) is read from an environment variable named by ``api_key_env``, or from the
system keyring (``api_key_keyring = true``, service ``crmtui``, user
``<profile>:<setting>``) when the ``keyring`` package is installed. Example::

    theme = "crmtui-dark"

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
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmtui import locations, vendors
from crmtui.http.urls import check_base_url
from crmtui.vendors.base import Profile

KEYRING_SERVICE = "crmtui"


class ConfigError(Exception):
    """The config cannot be used as written; the text says what to change."""


@dataclass
class ProfileConfig:
    name: str
    vendor: str
    values: dict[str, Any] = field(default_factory=dict)

    def resolve(self, environ: dict[str, str] | None = None) -> Profile:
        """The profile with its secrets read from the environment or the keyring."""
        environ = dict(os.environ) if environ is None else environ
        try:
            cls = vendors.load(self.vendor)
        except (KeyError, ImportError) as exc:
            raise ConfigError(f"profile {self.name!r}: {exc}") from None
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
                value = self.values.get(setting.name)
                if value not in (None, ""):
                    settings[setting.name] = str(value)
                elif setting.required and not self.values.get("base_url"):
                    raise ConfigError(
                        f"profile {self.name!r} needs {setting.name} ({setting.label})"
                    )
        base_url = self.values.get("base_url")
        if base_url:
            try:
                check_base_url(str(base_url))
            except ValueError as exc:
                raise ConfigError(f"profile {self.name!r}: {exc}") from None
        return Profile(
            name=self.name,
            vendor=self.vendor,
            base_url=str(base_url) if base_url else None,
            settings=settings,
            secrets=secrets,
            rate_scale=float(self.values.get("rate_scale", 1.0)),
        )

    def _secret(self, name: str, environ: dict[str, str]) -> str:
        if self.values.get(name):
            raise ConfigError(
                f"profile {self.name!r}: do not write the {name} in config.toml; "
                f"use {name}_env (an environment variable) or {name}_keyring = true"
            )
        variable = self.values.get(f"{name}_env")
        if variable:
            value = environ.get(str(variable), "")
            if not value:
                raise ConfigError(
                    f"profile {self.name!r}: the environment variable {variable} "
                    f"(its {name}) is not set"
                )
            return value
        if self.values.get(f"{name}_keyring"):
            return keyring_get(f"{self.name}:{name}")
        return ""


def keyring_get(user: str) -> str:
    try:
        import keyring  # type: ignore[import-not-found]
    except ImportError:
        raise ConfigError(
            "a profile reads its secret from the system keyring, but the keyring "
            "package is not installed (pip install 'crmtui[keyring]')"
        ) from None
    return keyring.get_password(KEYRING_SERVICE, user) or ""


def keyring_delete(user: str) -> bool:
    try:
        import keyring  # type: ignore[import-not-found]
        from keyring.errors import PasswordDeleteError  # type: ignore[import-not-found]
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

    @classmethod
    def load(cls, path: Path | None = None) -> Config:
        path = path or locations.config_file()
        if not path.exists():
            return cls(path=path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        profiles: dict[str, ProfileConfig] = {}
        for name, values in (data.get("profiles") or {}).items():
            if not isinstance(values, dict) or "vendor" not in values:
                raise ConfigError(f'{path}: [profiles.{name}] needs vendor = "..."')
            values = dict(values)
            profiles[name] = ProfileConfig(name, str(values.pop("vendor")), values)
        theme = data.get("theme")
        keys = {  # action (binding id) -> key(s): "n" , "down,n" or ["down", "n"]
            str(k): ",".join(map(str, v)) if isinstance(v, list) else str(v)
            for k, v in (data.get("keys") or {}).items()
        }
        return cls(path=path, profiles=profiles, theme=theme, keys=keys, exists=True)

    def save(self) -> None:
        """Write the file with mode 0600 (it names where secrets live)."""
        lines = ["# crmtui configuration: see `crmtui --help` and the README.", ""]
        if self.theme:
            lines.append(f"theme = {_toml(self.theme)}")
            lines.append("")
        if self.keys:
            lines.append("[keys]")
            lines += [f"{_toml_key(k)} = {_toml(v)}" for k, v in sorted(self.keys.items())]
            lines.append("")
        for profile in self.profiles.values():
            lines.append(f"[profiles.{_toml_key(profile.name)}]")
            lines.append(f"vendor = {_toml(profile.vendor)}")
            lines += [f"{_toml_key(k)} = {_toml(v)}" for k, v in profile.values.items()]
            lines.append("")
        write_private(self.path, "\n".join(lines))


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else _toml(key)


HOW_TO = """\
No profiles yet. Write {path} like this (one [profiles.NAME] table per account):

    [profiles.acme]
    vendor = "freshsales"              # {vendors}
    domain = "acme"                    # your https://acme.freshsales.io account
    api_key_env = "ACME_FRESHSALES_KEY"  # the variable that holds your API key

Secrets never go in the file: name an environment variable (<secret>_env) or use the
system keyring (<secret>_keyring = true). Then run `crmtui` again.

Or try everything first, with no account and no network:  crmtui demo
"""


def how_to(path: Path) -> str:
    return HOW_TO.format(path=path, vendors=" | ".join(sorted(vendors.available())))
