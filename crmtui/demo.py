"""The demo: every vendor sandbox in-process, each behind a `.localhost` origin.

No account and no network: the shared client routes ``http://<vendor>.localhost`` to
the sandbox app in memory. The sandboxes are anchored at the real current time, so
"today" and "overdue" mean what they say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crmtui import sandbox
from crmtui.http import Http
from crmtui.vendors.base import Profile


@dataclass
class DemoProfile:
    profile: Profile
    app: Any


def demo_profiles(
    *, seed: int = 0, now: datetime | None = None, vendors: list[str] | None = None
) -> list[DemoProfile]:
    """One profile per sandbox, named like the vendor (``demo-freshsales``...)."""
    out = []
    for name in vendors or list(sandbox.SANDBOXES):
        info = sandbox.info(name)
        try:
            app = sandbox.create_app(name, seed=seed, now=now)
        except ImportError:
            continue  # a vendor whose sandbox is not there yet
        profile = Profile(
            name=f"demo-{name}",
            vendor=name,
            base_url=f"http://{name}.localhost{info.base_path}",
            settings=dict(info.settings),
            secrets=dict(info.secrets),
        )
        out.append(DemoProfile(profile, app))
    return out


def mount(http: Http, demos: list[DemoProfile]) -> list[Profile]:
    for demo in demos:
        http.mount_app(f"http://{demo.profile.vendor}.localhost", demo.app)
    return [demo.profile for demo in demos]
