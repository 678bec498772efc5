"""Where crmtui keeps its files (platformdirs; overridable with CRMTUI_HOME for tests)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "crmtui"


def _home() -> Path | None:
    home = os.environ.get("CRMTUI_HOME")
    return Path(home) if home else None


def config_dir() -> Path:
    home = _home()
    return home / "config" if home else Path(platformdirs.user_config_dir(APP))


def cache_dir() -> Path:
    home = _home()
    return home / "cache" if home else Path(platformdirs.user_cache_dir(APP))


def config_file() -> Path:
    return config_dir() / "config.toml"


def cache_db(name: str = "cache") -> Path:
    return cache_dir() / f"{name}.sqlite3"
