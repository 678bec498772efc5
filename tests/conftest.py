"""Shared fixtures: a vendor adapter wired to its sandbox (``tests.helpers.wiring``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from functools import partial

import pytest

from crmtui.http import Http
from tests.helpers.wiring import Wired
from tests.helpers.wiring import wire as wire_to

__all__ = ["Wired"]  # still importable from here meanwhile


@pytest.fixture
def wire() -> Iterator[Callable[..., Wired]]:
    """``wire("freshsales", transport="asgi"|"loopback", seed=0, faults=Faults(...))``.

    Retries do not really sleep (``Http(sleep=...)``) unless ``real_sleep=True``.
    """
    with ExitStack() as stack:
        yield partial(wire_to, stack)


@pytest.fixture
async def closing_http() -> AsyncIterator[list[Http]]:
    clients: list[Http] = []
    yield clients
    for client in clients:
        await client.aclose()
