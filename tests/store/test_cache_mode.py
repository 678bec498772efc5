"""Opening a cache makes it private, and never loosens what its owner chose."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from crmtui.store import Store


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_opening_tightens_a_cache_and_never_loosens_a_read_only_one(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    Store(path).close()
    os.chmod(path, 0o644)
    Store(path).close()
    assert mode(path) == 0o600  # others' bits removed
    os.chmod(path, 0o400)  # the user made it read-only
    with contextlib.suppress(Exception):  # refused for a normal user; root may open it
        Store(path).close()
    assert mode(path) == 0o400
