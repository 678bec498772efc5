"""Two processes opening an old (or new) cache at the same moment both get a usable cache.

Each read the cache's version before either migrated it. The second one's migration must
wait for the first and find it done: it used to stop with "the cache is locked by another
program" (schema 7 -> 8: a deferred transaction that read the schema before the other
process committed cannot write after it) or call a fresh cache damaged ("table records
already exists": a script migration run twice).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crmtui.store import Store, db

# Says it is ready, waits for "go" (given to both at once), then opens the cache and
# counts its records.
_OPEN = """
import sys
from crmtui.store import Store
print("ready", flush=True)
sys.stdin.readline()
store = Store(sys.argv[1])
print(store.count("p", "deals"))
store.close()
"""


def _schema(path: Path, version: int) -> None:
    """A cache of schema ``version`` at ``path``, as an older crmtui left it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    for number in range(version):
        db._run(conn, number)
    if version == 7:  # the ascending sort index schema 7 built beside the descending one
        value = "json_extract(fields, '$.\"stage\"')"
        conn.execute(
            f"CREATE INDEX records_sort_old ON records"
            f" (profile, kind, is_deleted, ({value}) IS NULL, {value}, id)"
        )
    conn.close()


def test_a_step_another_process_made_meanwhile_is_skipped(tmp_path: Path) -> None:
    """The slow opener read version 6; the other one migrated to the end meanwhile."""
    path = tmp_path / "cache.db"
    _schema(path, 6)
    slow = sqlite3.connect(path, isolation_level=None)
    assert db.check_schema(slow) == 6
    db.connect(path).close()  # the other process, all the way
    for number in range(6, db.SCHEMA_VERSION):
        db._run(slow, number)  # was: "table records_preview... already exists"
    assert db.check_schema(slow) == db.SCHEMA_VERSION
    slow.close()
    store = Store(path)
    assert store.count("p", "deals") == 0
    store.close()


@pytest.mark.parametrize("version", [0, 7])
def test_two_processes_open_at_once(tmp_path: Path, version: int) -> None:
    for attempt in range(3):
        path = tmp_path / f"cache{attempt}.db"
        if version:
            _schema(path, version)
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _OPEN, str(path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for proc in procs:  # both imported crmtui and wait
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outs = [p.communicate(timeout=60) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [err[-500:] for _, err in outs]
        assert [out.strip() for out, _ in outs] == ["0", "0"]
        conn = sqlite3.connect(path)
        assert db.check_schema(conn) == db.SCHEMA_VERSION
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master")]
        assert "records_sort_old" not in names
        conn.close()
