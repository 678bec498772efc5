"""Building the app for `crmtui demo` and for the profiles in config.toml."""

from __future__ import annotations

from crmtui import locations
from crmtui.config import Config, ConfigError
from crmtui.demo import demo_crm
from crmtui.model import utcnow
from crmtui.service import open_crm
from crmtui.ui.app import CrmApp

__all__ = ["demo_app", "demo_config", "demo_crm", "profiles_app"]


def demo_config() -> Config:
    """The demo's own preferences (theme, ``[keys]``): ``demo.toml`` beside config.toml.

    The demo never writes the user's config.toml; a theme chosen in the demo is kept in
    this file (created on the first change) and used by the next demo.
    """
    path = locations.config_dir() / "demo.toml"
    try:
        return Config.load(path)
    except ConfigError:
        return Config(path=path)


def demo_app(*, seed: int = 0, vendors: list[str] | None = None) -> CrmApp:
    """The app on the demo sandboxes; the app closes the service as it ends."""
    crm, _ = demo_crm(seed=seed, vendors=vendors, now=utcnow())
    return CrmApp(crm, title="crmtui demo", config=demo_config())


def profiles_app(config: Config) -> CrmApp:
    """The app on the config's profiles; the app closes the service as it ends."""
    profiles = [entry.resolve() for entry in config.profiles.values()]
    return CrmApp(open_crm(profiles, store=locations.cache_db()), title="crmtui", config=config)
