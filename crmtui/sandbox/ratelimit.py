"""The server side of a vendor's rate limit: a fixed window per account, as vendors do."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class WindowLimit:
    """At most ``limit`` cost units per ``window`` seconds; ``take`` says if one fits."""

    limit: float
    window: float
    enabled: bool = True
    clock: Callable[[], float] = time.monotonic
    _start: float = field(default=0.0, init=False)
    used: float = field(default=0.0, init=False)
    rejected: int = field(default=0, init=False)

    def _roll(self) -> None:
        now = self.clock()
        if now - self._start >= self.window:
            self._start = now
            self.used = 0.0

    def take(self, cost: float = 1.0) -> bool:
        if not self.enabled:
            return True
        self._roll()
        if self.used + cost > self.limit:
            self.rejected += 1
            return False
        self.used += cost
        return True

    @property
    def remaining(self) -> float:
        self._roll()
        return max(0.0, self.limit - self.used)

    @property
    def reset_in(self) -> float:
        self._roll()
        return max(0.0, self.window - (self.clock() - self._start))
