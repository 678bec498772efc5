"""Fixtures for the store tests: an in-memory store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crmtui.store import Store


@pytest.fixture
def store() -> Iterator[Store]:
    s = Store(":memory:")
    yield s
    s.close()
