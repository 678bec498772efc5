"""Waiting in tests: on a condition with a timeout, never for a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

POLL = 0.01  # seconds between two looks at a condition


async def no_sleep(seconds: float) -> None:
    """A client's retry backoff or rate-limit wait, recorded by the caller, not slept."""
    return None


async def eventually(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """``condition()`` once it is truthy (looked at every ``POLL`` s, the event loop
    running meanwhile); the test fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await asyncio.sleep(POLL)
    return result


def eventually_sync(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """``eventually`` for code outside an event loop (a subprocess, a thread)."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        time.sleep(POLL)
    return result
