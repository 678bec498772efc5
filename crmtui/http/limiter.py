"""A token-bucket rate limiter, one per profile, that keeps a vendor under its budget.

The bucket holds ``capacity`` tokens and refills at ``rate`` tokens a second. A request
takes ``cost`` tokens (1 for most vendors; Salesloft charges more for deep pages) and
waits, without blocking the event loop, until they are there. A vendor that reports its
own remaining budget in headers can correct the bucket with ``observe``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class RateBudget:
    """A documented limit: ``requests`` per ``seconds`` (cost units for cost-based APIs)."""

    requests: float
    seconds: float
    burst: float | None = None  # how many may go at once; default: the whole budget
    note: str = ""
    # Share of the rate left unused, for a limit counted per second at the vendor's end:
    # requests spaced exactly 1/rate apart arrive closer together after any delay on the
    # way (a busy machine, the network), and the vendor counts one too many.
    margin: float = 0.0

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def describe(self) -> str:
        if self.seconds == 1:
            unit = "second"
        elif self.seconds == 60:
            unit = "minute"
        elif self.seconds == 3600:
            unit = "hour"
        elif self.seconds == 86400:
            unit = "day"
        else:
            unit = f"{self.seconds:g} s"
        return f"{self.requests:g} per {unit}"


class RateLimiter:
    def __init__(
        self,
        budget: RateBudget,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.budget = budget
        self.capacity = budget.burst if budget.burst is not None else budget.requests
        self._rate = budget.per_second * (1 - budget.margin)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._stamp = clock()
        self._lock = asyncio.Lock()
        self.waited = 0.0  # seconds spent waiting, for the status bar and benchmarks
        self._held: list[RateLimiter] = []  # the buckets of ``holding`` blocks, newest last

    @property
    def current(self) -> RateLimiter:
        """The bucket requests draw from now: this one, or that of a ``holding`` block."""
        return self._held[-1] if self._held else self

    @contextmanager
    def holding(self, budget: RateBudget) -> Iterator[RateBudget]:
        """Keep every request to ``budget`` while the block runs (a sync paces steadily
        below the documented budget), in a bucket of its own that starts full; this
        limiter's own bucket is left as it was. Yields this limiter's own budget.

        Blocks may overlap (two syncs of one profile): the newest one's budget holds,
        and each block ends only its own.
        """
        held = RateLimiter(budget, clock=self._clock, sleep=self._sleep)
        self._held.append(held)
        try:
            yield self.budget
        finally:
            self._held.remove(held)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now

    @property
    def remaining(self) -> float:
        if self._held:
            return self._held[-1].remaining
        self._refill()
        return max(0.0, self._tokens)

    def wait_time(self, cost: float = 1) -> float:
        """Seconds a request of ``cost`` would wait now."""
        if self._held:
            return self._held[-1].wait_time(cost)
        self._refill()
        missing = min(cost, self.capacity) - self._tokens
        # Ignore float residue: a clock cannot advance by 1e-13 s, so waiting for it spins.
        return missing / self._rate if missing > 1e-6 else 0.0

    async def acquire(self, cost: float = 1) -> None:
        if self._held:
            await self._held[-1].acquire(cost)
            return
        cost = min(cost, self.capacity)
        async with self._lock:
            while True:
                delay = self.wait_time(cost)
                if delay <= 0:
                    self._tokens -= cost
                    return
                self.waited += delay
                await self._sleep(delay)

    def observe(self, remaining: float) -> None:
        """The vendor says only ``remaining`` is left: never believe we have more."""
        if self._held:
            self._held[-1].observe(remaining)
            return
        self._refill()
        self._tokens = min(self._tokens, remaining)

    def penalise(self, seconds: float) -> None:
        """After a 429: hold every request of this profile for ``seconds``.

        Not cumulative: several 429s that say "wait 7 s" hold for 7 s, not 7 s each.
        """
        if self._held:
            self._held[-1].penalise(seconds)
            return
        self._refill()
        self._tokens = min(self._tokens, min(1.0, self.capacity) - seconds * self._rate)
