"""Child processes for the kill -9 tests: started with a job, killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]  # the repository: children import from there
WAIT = 30.0  # seconds a step may take before the test gives up


@contextmanager
def running(job: dict[str, Any], module: str) -> Iterator[subprocess.Popen[str]]:
    """``module``'s ``child()`` doing ``job``; killed with SIGKILL at the latest on exit."""
    entry = f"from {module} import child; child()"
    proc = subprocess.Popen(
        [sys.executable, "-c", entry, json.dumps(job)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(WAIT)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()


def kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(WAIT) == -signal.SIGKILL
