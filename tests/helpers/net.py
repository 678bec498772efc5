"""Loopback ports for the tests that start a real server (each asks the OS: no fixed port,
so parallel workers never collide)."""

from __future__ import annotations

import contextlib
import socket

from tests.helpers.waits import eventually_sync


def free_port() -> int:
    """A loopback port nothing listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


def wait_port(port: int, timeout: float = 20.0) -> None:
    """Once something listens on 127.0.0.1:``port`` (fails the test after ``timeout``)."""
    eventually_sync(lambda: listening(port), timeout)
