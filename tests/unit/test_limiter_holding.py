"""``RateLimiter.holding``: a sync keeps to a steady budget without swapping limiters."""

from __future__ import annotations

import pytest

from crmtui.http import RateBudget, RateLimiter

OWN = RateBudget(100, 60)
STEADY = RateBudget(97, 60, burst=3)


def frozen() -> RateLimiter:
    return RateLimiter(OWN, clock=lambda: 1000.0)  # time stands still: no refill


async def test_requests_draw_from_the_held_bucket_and_the_own_one_is_left_as_it_was() -> None:
    limiter = frozen()
    with limiter.holding(STEADY) as own:
        assert own == OWN and limiter.budget == OWN
        assert limiter.current.budget == STEADY and limiter.remaining == 3
        for _ in range(3):
            await limiter.acquire()
        assert limiter.wait_time(1) > 0  # the steady burst is spent
    assert limiter.current is limiter and limiter.remaining == 100 and limiter.wait_time(1) == 0


def test_overlapping_holds_end_each_its_own() -> None:
    limiter = frozen()
    first, second = limiter.holding(STEADY), limiter.holding(RateBudget(10, 60, burst=1))
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first sync ends while the second runs
    assert limiter.current.budget.requests == 10
    second.__exit__(None, None, None)
    assert limiter.current is limiter


def test_a_hold_ends_even_when_the_block_fails() -> None:
    limiter = frozen()
    with pytest.raises(RuntimeError), limiter.holding(STEADY):
        raise RuntimeError("offline")
    assert limiter.current is limiter


def test_a_429_while_held_holds_the_held_bucket() -> None:
    limiter = frozen()
    with limiter.holding(STEADY):
        limiter.penalise(30)
        assert limiter.wait_time(1) >= 29
    assert limiter.wait_time(1) == 0
