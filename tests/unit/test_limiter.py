"""The per-profile token bucket, on a fake clock whose time moves only when it sleeps."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from crmtui.http import RateBudget, RateLimiter


@dataclass
class FakeClock:
    now: float = 5000.0
    waits: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # yield, so a limiter that spins is caught by wait_for

    @property
    def total(self) -> float:
        return sum(self.waits)


def limiter(budget: RateBudget) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    return RateLimiter(budget, clock=clock, sleep=clock.sleep), clock


async def acquire_many(lim: RateLimiter, n: int, cost: float = 1) -> None:
    for _ in range(n):
        await asyncio.wait_for(lim.acquire(cost), timeout=2)


def test_budget_describe_and_rate() -> None:
    assert RateBudget(1000, 3600).describe() == "1000 per hour"
    assert RateBudget(10, 60).describe() == "10 per minute"
    assert RateBudget(5, 1).describe() == "5 per second"
    assert RateBudget(40000, 86400).describe() == "40000 per day"
    assert RateBudget(100, 10).describe() == "100 per 10 s"
    assert RateBudget(10, 60).per_second == pytest.approx(1 / 6)


async def test_within_budget_does_not_wait() -> None:
    lim, clock = limiter(RateBudget(10, 60))
    await acquire_many(lim, 10)
    assert clock.waits == []
    assert lim.remaining == pytest.approx(0)


async def test_over_budget_waits_the_right_total() -> None:
    """25 requests on 10 per minute: 10 at once, then one every 6 s."""
    lim, clock = limiter(RateBudget(10, 60))
    await acquire_many(lim, 25)
    assert clock.total == pytest.approx(15 * 6)
    assert lim.waited == pytest.approx(90)
    assert all(wait == pytest.approx(6) for wait in clock.waits)


async def test_over_budget_concurrently_is_serialised() -> None:
    lim, clock = limiter(RateBudget(2, 1))
    await asyncio.wait_for(asyncio.gather(*(lim.acquire() for _ in range(12))), timeout=2)
    assert clock.total == pytest.approx(5.0)


async def test_burst_caps_how_many_go_at_once() -> None:
    lim, clock = limiter(RateBudget(60, 60, burst=5))
    assert lim.capacity == 5
    await acquire_many(lim, 5)
    assert clock.waits == []
    await acquire_many(lim, 3)
    assert clock.waits == [pytest.approx(1.0)] * 3


async def test_idle_time_refills_up_to_capacity_only() -> None:
    lim, clock = limiter(RateBudget(60, 60, burst=5))
    await acquire_many(lim, 5)
    clock.now += 3600  # an hour idle does not bank an hour of requests
    assert lim.remaining == pytest.approx(5)
    await acquire_many(lim, 6)
    assert clock.total == pytest.approx(1.0)


async def test_observe_lowers_but_never_raises_the_budget() -> None:
    lim, clock = limiter(RateBudget(10, 10))
    lim.observe(50)  # the vendor's window is bigger: keep our own
    assert lim.remaining == pytest.approx(10)
    lim.observe(2)
    assert lim.remaining == pytest.approx(2)
    await acquire_many(lim, 3)
    assert clock.total == pytest.approx(1.0)


async def test_observe_zero_waits_for_the_next_token() -> None:
    lim, _ = limiter(RateBudget(100, 60))
    lim.observe(0)
    assert lim.wait_time() == pytest.approx(0.6)


async def test_penalise_holds_the_profile_for_the_given_seconds() -> None:
    lim, clock = limiter(RateBudget(100, 10))
    await acquire_many(lim, 3)
    lim.penalise(7)
    assert lim.wait_time() == pytest.approx(7)
    await acquire_many(lim, 1)
    assert clock.total == pytest.approx(7)


async def test_penalties_do_not_pile_up() -> None:
    """Three concurrent 429s saying "retry in 7 s" hold for 7 s, not 21 s."""
    lim, _ = limiter(RateBudget(1, 1))
    for _ in range(3):
        lim.penalise(7)
    assert lim.wait_time() == pytest.approx(7)
    lim.penalise(2)  # a shorter penalty does not shorten the hold
    assert lim.wait_time() == pytest.approx(7)


async def test_penalty_elapses_with_time() -> None:
    lim, clock = limiter(RateBudget(1, 1))
    lim.penalise(7)
    clock.now += 7
    assert lim.wait_time() == pytest.approx(0)


async def test_cost_above_one() -> None:
    """Cost-based APIs: a deep page costs 4 units of a 10-per-second budget."""
    lim, clock = limiter(RateBudget(10, 1))
    await acquire_many(lim, 2, cost=4)
    assert clock.waits == []
    assert lim.remaining == pytest.approx(2)
    assert lim.wait_time(4) == pytest.approx(0.2)
    await acquire_many(lim, 1, cost=4)
    assert clock.total == pytest.approx(0.2)
    await acquire_many(lim, 5, cost=4)
    assert clock.total == pytest.approx(0.2 + 5 * 0.4)


async def test_cost_above_capacity_is_clamped_not_stuck() -> None:
    lim, clock = limiter(RateBudget(10, 1, burst=2))
    await acquire_many(lim, 2, cost=50)
    assert clock.total == pytest.approx(0.2)


async def test_a_margin_leaves_room_for_requests_bunched_on_the_way() -> None:
    """5 a second counted by the vendor, paced with a 20% margin: one every 0.25 s, so
    requests held up to 50 ms on the way (a busy machine) still arrive at most 5 in any
    second. The documented budget is what the status line shows."""
    budget = RateBudget(5, 1, burst=1, margin=0.2)
    lim, clock = limiter(budget)
    await acquire_many(lim, 11)
    assert clock.total == pytest.approx(10 * 0.25)
    assert budget.describe() == "5 per second"
