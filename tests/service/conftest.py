"""The ``rig`` fixture: a ``Crm`` over the ActiveCampaign sandbox (``tests.helpers.service``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crmtui import sandbox
from crmtui.store import Store
from tests.helpers.service import VENDOR, Rig, build_crm, close_crm


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    app = sandbox.create_app(VENDOR, seed=0)
    crm = build_crm(Store(tmp_path / "cache.sqlite3"), app)
    made = Rig(crm, app)
    crm.subscribe(made.events.append)
    yield made
    await close_crm(crm)
