"""The app on the Freshsales demo sandbox, driven by Pilot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from crmtui.service import Crm
from crmtui.ui.app import CrmApp
from crmtui.ui.launch import demo_crm


@dataclass
class Demo:
    app: CrmApp
    crm: Crm
    sandbox: Any  # the Freshsales sandbox app; .state.db is the vendor's own data

    @property
    def db(self) -> Any:
        return self.sandbox.state.db


def build_demo(vendor: str, store_path: Path) -> Demo:
    """The app on one vendor's sandbox (fixed data and clock, steady status line)."""
    crm, demos = demo_crm(vendors=[vendor], store_path=str(store_path))
    app = CrmApp(crm, title="crmtui demo", steady_status=True)
    return Demo(app=app, crm=crm, sandbox=demos[0].app)


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    """A fresh app on the Freshsales sandbox (fixed data and clock, steady status line)."""
    return build_demo("freshsales", tmp_path / "cache.sqlite3")


@pytest.fixture
def vendor_demo(tmp_path: Path) -> Callable[[str], Demo]:
    """Builds a fresh app on any one vendor's sandbox: ``vendor_demo("salesloft")``."""
    return lambda vendor: build_demo(vendor, tmp_path / f"{vendor}.sqlite3")


async def wait_for(pilot: Pilot, condition: Callable[[], Any], timeout: float = 10.0) -> None:
    """Let the app work until ``condition()`` holds (fails the test after ``timeout``)."""
    waited = 0.0
    while not condition():
        if waited >= timeout:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.05)
        waited += 0.05


Waiter = Callable[[Pilot, Callable[[], Any]], Awaitable[None]]
