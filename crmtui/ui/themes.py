"""Colour themes: Textual ``Theme``s read from TOML files, and the stage colours they set.

The app's themes live in the top-level ``themes/`` folder (shipped with the package as
data files under ``share/crmtui/themes``); a user can add more in ``<config dir>/themes``.
A theme file holds a ``name``, a ``label`` for the command palette, a ``description``,
any field of ``textual.theme.Theme`` (``primary``, ``background``, ``dark``...) and a
``[variables]`` table with the app's own colours: ``stage-open``, ``stage-won`` and
``stage-lost`` colour the status/stage of deals on lists, boards and record titles.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import sysconfig
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.style import Style
from textual.color import Color, ColorParseError
from textual.theme import Theme

from crmtui import locations
from crmtui.model import Role

if TYPE_CHECKING:
    from textual.app import App

    from crmtui.model import Choice, KindInfo, Record

log = logging.getLogger(__name__)

DEFAULT_THEME = "crmtui-dark"
TONES = ("open", "won", "lost")
# Used when a theme (e.g. one of Textual's own) does not set the app's variables.
VARIABLE_DEFAULTS = {"stage-open": "#7FB2FF", "stage-won": "#4EBF71", "stage-lost": "#E5616E"}
_THEME_FIELDS = {f.name for f in dataclasses.fields(Theme)}
_STAGE_WORDS = {"won": "won", "closed won": "won", "lost": "lost", "closed lost": "lost"}
_COLOR_TONES = {"green": "won", "red": "lost"}


class ThemeError(ValueError):
    """A theme file that cannot be used; the text names the file and the problem."""


@dataclass(frozen=True)
class ThemeFile:
    theme: Theme
    label: str
    description: str
    path: Path

    @property
    def name(self) -> str:
        return self.theme.name


def bundled_dir() -> Path | None:
    """The app's own themes: the source checkout's ``themes/``, else the installed copy."""
    checkout = Path(__file__).resolve().parents[2]
    candidates = []
    if (checkout / "pyproject.toml").is_file():
        candidates.append(checkout / "themes")
    for base in {sysconfig.get_path("data"), sys.prefix, getattr(sys, "base_prefix", "")}:
        if base:
            candidates.append(Path(base) / "share" / "crmtui" / "themes")
    return next((path for path in candidates if path.is_dir()), None)


def user_dir() -> Path:
    return locations.config_dir() / "themes"


def read_theme(path: Path) -> ThemeFile:
    """One theme file as a ``ThemeFile``; raises ``ThemeError`` saying what is wrong."""
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ThemeError(f"{path.name}: {exc}") from None
    label = str(data.pop("label", "") or data.get("name", path.stem))
    description = str(data.pop("description", ""))
    unknown = sorted(set(data) - _THEME_FIELDS)
    if unknown:
        raise ThemeError(f"{path.name}: unknown keys {', '.join(unknown)}")
    if not data.get("name") or not data.get("primary"):
        raise ThemeError(f"{path.name}: a theme needs a name and a primary colour")
    variables = {str(k): str(v) for k, v in (data.pop("variables", None) or {}).items()}
    for key, value in [*data.items(), *variables.items()]:
        if isinstance(value, str) and value.startswith("#"):
            try:
                Color.parse(value)
            except ColorParseError:
                raise ThemeError(f"{path.name}: {key} = {value!r} is not a colour") from None
    return ThemeFile(Theme(**data, variables=variables), label, description, path)


def load_themes(folders: list[Path] | None = None) -> list[ThemeFile]:
    """Every readable theme of the folders, in name order (a later folder wins a name)."""
    if folders is None:
        folders = [path for path in (bundled_dir(), user_dir()) if path is not None]
    found: dict[str, ThemeFile] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            try:
                theme = read_theme(path)
            except ThemeError as exc:
                log.warning("theme skipped: %s", exc)
                continue
            found[theme.name] = theme
    return sorted(found.values(), key=lambda t: (t.name != DEFAULT_THEME, t.label))


def register(app: App[Any], folders: list[Path] | None = None) -> list[ThemeFile]:
    """Register the themes with ``app``; returns them (for the command palette)."""
    themes = load_themes(folders)
    for theme in themes:
        app.register_theme(theme.theme)
    return themes


# -- stage and status colours ------------------------------------------------------------


def record_tone(record: Record, info: KindInfo | None) -> str | None:
    """``open``/``won``/``lost`` from the field of the kind's ``Role.STATUS``, if any."""
    key = info.role(Role.STATUS) if info else None
    status = str(record.fields.get(key) or "").lower() if key else ""
    return status if status in TONES else None


def toned_keys(info: KindInfo | None) -> frozenset[str]:
    """The fields drawn in a record's tone: the kind's status and stage."""
    roles = (Role.STATUS, Role.STAGE)
    return frozenset(key for role in roles if info and (key := info.role(role)))


def choice_tone(choice: Choice) -> str:
    """A stage's tone: from the vendor's colour hint, else its name ("Closed Won")."""
    if choice.color in _COLOR_TONES:
        return _COLOR_TONES[choice.color]
    return _STAGE_WORDS.get(choice.label.strip().lower(), "open")


def tone_color(app: App[Any], tone: str) -> str:
    """The active theme's colour of a tone (``stage-<tone>``), as a CSS colour."""
    variable = f"stage-{tone}"
    value = app.theme_variables.get(variable) or VARIABLE_DEFAULTS.get(variable, "")
    return _hex(value) or VARIABLE_DEFAULTS.get(variable, "#888888")


@lru_cache(maxsize=64)
def _hex(value: str) -> str | None:
    try:
        return Color.parse(value).hex
    except ColorParseError:
        return None


def tone_style(app: App[Any], tone: str | None, *, bold: bool = False) -> Style:
    """A Rich style in the tone's colour (the empty style when there is no tone)."""
    if tone is None:
        return Style(bold=True) if bold else Style()
    return _style(tone_color(app, tone), bold)


@lru_cache(maxsize=64)
def _style(color: str, bold: bool) -> Style:
    return Style(color=color, bold=bold or None)


def tone_badge(tone: str) -> str:
    """Content markup of a status badge (" Won ") in the theme's stage colour."""
    return f"[bold $background on $stage-{tone}] {tone.title()} [/]"
