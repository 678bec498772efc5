"""Waiting in tests: on a condition with a timeout, never for a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

POLL = 0.01  # seconds between two looks at a condition, at most
FIRST_POLL = 0.001  # the first looks come sooner: most conditions hold within milliseconds


def polls(longest: float = POLL) -> Iterator[float]:
    """Seconds to wait before each next look at a condition: from ``FIRST_POLL``, doubling
    up to ``longest`` (a condition that holds at once is seen at once; a long wait costs
    no more looks than a fixed ``longest`` would)."""
    delay = FIRST_POLL
    while True:
        yield delay
        delay = min(longest, delay * 2)


async def no_sleep(seconds: float) -> None:
    """A client's retry backoff or rate-limit wait, recorded by the caller, not slept."""
    return None


async def eventually(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """``condition()`` once it is truthy (looked at again and again, ``polls()``, the event
    loop running meanwhile); the test fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    delays = polls()
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await asyncio.sleep(next(delays))
    return result


def eventually_sync(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """``eventually`` for code outside an event loop (a subprocess, a thread)."""
    deadline = time.monotonic() + timeout
    delays = polls()
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        time.sleep(next(delays))
    return result
