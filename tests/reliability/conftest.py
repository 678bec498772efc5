"""The ``rigs`` fixture: a ``Crm`` over any one vendor sandbox (``tests.helpers.reliability``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks.soak import no_sleep
from crmtui.http import Http
from tests.helpers.reliability import Rig, build, close


@pytest.fixture
async def rigs(tmp_path: Path) -> AsyncIterator[Callable[..., Rig]]:
    """``rigs("freshsales", timeout=0.05, secrets={...})``: a ``Rig``, closed afterwards."""
    made: list[Rig] = []

    def make(vendor: str, *, timeout: float | None = None, **options: Any) -> Rig:
        http = Http(sleep=no_sleep, timeout=timeout) if timeout else None
        rig = build(vendor, tmp_path / f"{vendor}-{len(made)}.sqlite3", http=http, **options)
        made.append(rig)
        return rig

    yield make
    for rig in made:
        await close(rig)
