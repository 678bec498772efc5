"""The app on a vendor's demo sandbox, driven by Pilot (helpers: ``tests.helpers.ui``).

Vendor rate limits are off (sandbox, client pacing, retry waits) unless a test asks for
them with ``build_demo(..., rate_limits=True)``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.ui import Demo, build_demo, use_quick_idle_wait, use_shared_css, wait_for

__all__ = ["Demo", "build_demo", "wait_for"]  # still importable from here meanwhile

use_quick_idle_wait()  # Pilot's waits after each key: 5 ms looks, see the helper
use_shared_css()  # each CSS source parsed once a process, not once an app


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    """A fresh app on the Freshsales sandbox (fixed data and clock, steady status line)."""
    return build_demo("freshsales", tmp_path / "cache.sqlite3")


@pytest.fixture
def vendor_demo(tmp_path: Path) -> Callable[[str], Demo]:
    """Builds a fresh app on any one vendor's sandbox: ``vendor_demo("salesloft")``."""
    return lambda vendor: build_demo(vendor, tmp_path / f"{vendor}.sqlite3")
