"""A refresh whose records cannot be stored (the cache locked by another program,
read-only, or the disk full) says so in one typed line, and the cache works again once
the trouble is gone: never a raw ``sqlite3.OperationalError: database is locked``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest

from crmtui.model import Query
from crmtui.store import CacheWriteError, Store
from tests.helpers.service import PROFILE, Rig


@contextmanager
def locked(store: Store) -> Iterator[None]:
    """Another program holds the cache's write lock; ours waits 50 ms, not 5 s."""
    other = sqlite3.connect(str(store._db.path), isolation_level=None)
    store._db.conn.execute("PRAGMA busy_timeout = 50")
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()
        store._db.conn.execute("PRAGMA busy_timeout = 5000")


@contextmanager
def read_only(store: Store) -> Iterator[None]:
    store._db.conn.execute("PRAGMA query_only = 1")
    try:
        yield
    finally:
        store._db.conn.execute("PRAGMA query_only = 0")


@pytest.mark.parametrize(
    ("trouble", "words"), [(locked, "locked"), (read_only, "read-only")], ids=["locked", "ro"]
)
async def test_a_refresh_into_a_cache_that_cannot_be_written_says_so_in_one_line(
    rig: Rig, trouble: Callable[[Store], AbstractContextManager[None]], words: str
) -> None:
    await rig.crm.refresh(PROFILE, "deal", Query(per_page=5))
    with trouble(rig.store), pytest.raises(CacheWriteError) as raised:
        await rig.crm.refresh(PROFILE, "deal", Query(per_page=5))
    text = str(raised.value)
    assert words in text and "cache.sqlite3" in text and "refresh again" in text, text
    assert "\n" not in text and "OperationalError" not in text
    page = await rig.crm.refresh(PROFILE, "deal", Query(per_page=5))  # works again after
    assert page.records
