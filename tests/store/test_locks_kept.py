"""Looking at the cache again in a process that has it open keeps that process's locks.

POSIX drops every lock a process holds on a file when any descriptor of that file is
closed, SQLite's included. crmtui looks at the file before SQLite opens it (creating it
private, reading its header); done by opening and closing it in a running app (a second
connection for a list's order or a timeline, a second ``Store``), the app's connections
would lose the lock that tells other processes they are there: another process closing
its connection (``crmtui forget``, ``crmtui cache check``) would take itself for the last
one and checkpoint and delete the WAL, and the shared memory, under the running app.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from crmtui.store import Store
from crmtui.store.db import connect
from crmtui.store.health import probe

# Another process opens the cache, reads it and closes: the last connection to a file
# checkpoints its WAL and deletes it.
READ_AND_CLOSE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("SELECT count(*) FROM profiles").fetchone()
conn.close()
"""


def another_process_reads(path: Path) -> None:
    subprocess.run([sys.executable, "-c", READ_AND_CLOSE, str(path)], check=True, timeout=60)


def test_a_second_look_and_connection_keep_the_app_known_to_other_processes(
    tmp_path: Path,
) -> None:
    path, wal = tmp_path / "cache.sqlite3", tmp_path / "cache.sqlite3-wal"
    app = Store(path)
    try:
        with app._db.transaction() as conn:
            conn.execute("INSERT INTO profiles (profile, vendor) VALUES ('p', 'v')")
        another_process_reads(path)
        assert wal.exists()  # the app is there: the other process was not the last

        assert probe(path) is None  # what opening a second Store looks at first
        another_process_reads(path)
        assert wal.exists()

        connect(path).close()  # a connection of its own (a list's order being built)
        another_process_reads(path)
        assert wal.exists()
    finally:
        app.close()
