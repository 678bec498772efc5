"""Shared fixtures: a vendor adapter wired to its sandbox (``tests.helpers.wiring``)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from functools import partial

import pytest
import textual.screen

from crmtui.http import Http
from tests.helpers.contract import watching
from tests.helpers.wiring import Wired
from tests.helpers.wiring import wire as wire_to

__all__ = ["Wired"]  # still importable from here meanwhile

# Pilot tests: a screen lays out and paints at most 15 times a second, not Textual's 60
# (``TEXTUAL_FPS``): the changes of a busy moment (rows, counts, tabs arriving) are drawn
# together, and layout and paint are most of a Pilot test's CPU (~8% less measured on
# three UI files). Every wait is for a condition and a snapshot is taken once the app
# settles, so what a test sees is the same. A TEXTUAL_FPS set by whoever runs the tests
# wins. (The module's constant is read as each screen starts its update timer.)
if "TEXTUAL_FPS" not in os.environ:
    textual.screen.UPDATE_PERIOD = 1 / 15


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "off_contract: the test sends requests outside a vendor's contract on purpose"
    )


@pytest.fixture(autouse=True)
def vendor_contracts(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails any test in which a request to a sandbox leaves its vendor's contract (path,
    method, parameter, sort key, body field), unless a known drift
    (``tests.helpers.contract.KNOWN_DRIFTS``) or marked ``off_contract``."""
    with watching() as watch:
        yield
    if watch.broken and request.node.get_closest_marker("off_contract") is None:
        pytest.fail(watch.report(), pytrace=False)


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
