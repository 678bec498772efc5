"""Building the app for `crmtui demo` and for the profiles in config.toml."""

from __future__ import annotations

from datetime import datetime

from crmtui import locations
from crmtui.config import Config, ConfigError
from crmtui.demo import demo_profiles, mount
from crmtui.http import Http
from crmtui.model import utcnow
from crmtui.service import Crm
from crmtui.store import Store
from crmtui.ui.app import CrmApp


def demo_crm(
    *,
    seed: int = 0,
    vendors: list[str] | None = None,
    now: datetime | None = None,
    store_path: str | None = None,
    http: Http | None = None,
) -> tuple[Crm, list]:
    """A service over in-process sandboxes; returns it and the demo profiles (with apps)."""
    http = http or Http()
    demos = demo_profiles(seed=seed, now=now, vendors=vendors)
    profiles = mount(http, demos)
    if store_path is None:
        path = locations.cache_db("demo")
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        store_path = str(path)
    return Crm(Store(store_path), http, profiles), demos


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
    crm, _ = demo_crm(seed=seed, vendors=vendors, now=utcnow())
    return CrmApp(crm, title="crmtui demo", config=demo_config())


def profiles_app(config: Config) -> CrmApp:
    profiles = [entry.resolve() for entry in config.profiles.values()]
    crm = Crm(Store(locations.cache_db()), Http(), profiles)
    return CrmApp(crm, title="crmtui", config=config)
