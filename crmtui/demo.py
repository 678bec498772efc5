"""The demo: every vendor sandbox in-process, each behind a `.localhost` origin.

No account and no network: the shared client routes ``http://<vendor>.localhost`` to
the sandbox app in memory. The sandboxes are anchored at the real current time, so
"today" and "overdue" mean what they say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from crmtui import locations, sandbox
from crmtui.http import Http
from crmtui.service import Crm, open_crm
from crmtui.vendors import canonical
from crmtui.vendors.base import Profile


@dataclass
class DemoProfile:
    profile: Profile
    app: Any


# A client paced at this many times a vendor's budget never waits (``rate_limits=False``).
UNPACED = 1_000_000.0


def demo_profiles(
    *,
    seed: int = 0,
    now: datetime | None = None,
    vendors: list[str] | None = None,
    rate_limits: bool = True,
) -> list[DemoProfile]:
    """One profile per sandbox, named like the vendor (``demo-freshsales``...).

    ``rate_limits=False`` (tests): the sandboxes enforce no rate limit and the profiles
    pace the client far above the vendor's budget, so nothing waits on the wall clock.
    """
    out = []
    for typed in vendors or list(sandbox.available()):
        name = canonical(typed, sandbox.available()) or typed  # "FreshSales" is freshsales
        info = sandbox.info(name)
        try:
            app = sandbox.create_app(name, seed=seed, now=now, rate_limit=rate_limits)
        except ImportError:
            continue  # a vendor whose sandbox is not there yet
        profile = Profile(
            name=f"demo-{name}",
            vendor=name,
            base_url=f"http://{name}.localhost{info.base_path}",
            settings=dict(info.settings),
            secrets=dict(info.secrets),
            rate_scale=1.0 if rate_limits else UNPACED,
        )
        out.append(DemoProfile(profile, app))
    return out


def mount(http: Http, demos: list[DemoProfile]) -> list[Profile]:
    for demo in demos:
        http.mount_app(f"http://{demo.profile.vendor}.localhost", demo.app)
    return [demo.profile for demo in demos]


def demo_crm(
    *,
    seed: int = 0,
    vendors: list[str] | None = None,
    now: datetime | None = None,
    store_path: str | Path | None = None,
    http: Http | None = None,
    rate_limits: bool = True,
) -> tuple[Crm, list[DemoProfile]]:
    """The service (``open_crm``) over in-process sandboxes, and the demo profiles.

    Without ``store_path`` the cache is the demo's own file, started afresh.
    ``rate_limits=False``: no vendor rate limit on either side (see ``demo_profiles``).
    """
    http = http or Http()
    demos = demo_profiles(seed=seed, now=now, vendors=vendors, rate_limits=rate_limits)
    profiles = mount(http, demos)
    if store_path is None:
        path = locations.cache_db("demo")
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        store_path = path
    return open_crm(profiles, store=store_path, http=http), demos
