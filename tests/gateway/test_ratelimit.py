"""The in-process rate limiter: limits hold, memory stays bounded however many keys pass,
and a refused caller is told how long to wait. Time is a fake clock: nothing here sleeps
or measures speed (that belongs in bench/)."""
from __future__ import annotations

from gateway.ratelimit import SlidingWindowLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_over_its_limit_is_refused_and_told_when_to_come_back() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(3, window=60.0, clock=clock)
    assert [limiter.allow("conv") for _ in range(3)] == [True, True, True]
    clock.now += 20
    assert limiter.take("conv") == 40.0  # the first event leaves the window in 40 s
    assert not limiter.allow("conv")
    clock.now += 40.5
    assert limiter.allow("conv")
    assert limiter.allow("other")  # keys are independent


def test_expired_keys_are_forgotten_while_many_distinct_keys_pass() -> None:
    """100,000 one-off keys (e.g. addresses), 10 ms apart: only those inside the 60 s
    window may be remembered; the old limiter kept every key it had ever seen."""
    clock = Clock()
    limiter = SlidingWindowLimiter(5, window=60.0, clock=clock)
    largest = 0
    for i in range(100_000):
        clock.now += 0.01
        assert limiter.allow(f"key-{i}")
        largest = max(largest, len(limiter))
    assert largest <= 6_001  # 60 s / 10 ms, plus the one just added
    clock.now += 61
    assert limiter.allow("late")
    assert len(limiter) == 1  # everything else expired and is gone


def test_the_limit_still_holds_for_a_busy_key_among_100000_others() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(3, window=60.0, clock=clock)
    assert all(limiter.allow("busy") for _ in range(3))
    for i in range(100_000):
        clock.now += 0.0005  # 50 s in all: "busy" is still inside its window
        limiter.allow(f"key-{i}")
        if i % 10_000 == 0:
            assert not limiter.allow("busy")
    assert not limiter.allow("busy")
    clock.now += 11
    assert limiter.allow("busy")


def test_memory_has_a_hard_cap_even_when_every_key_is_live() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(2, window=60.0, clock=clock, max_keys=1_000)
    for i in range(100_000):
        limiter.allow(f"key-{i}")  # the clock stands still: nothing expires
    assert len(limiter) == 1_000
    # the most recent keys are the ones kept, with their counts
    assert limiter.allow("key-99999") and not limiter.allow("key-99999")


def test_a_refunded_event_gives_the_budget_back() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(1, window=60.0, clock=clock)
    assert limiter.allow("addr")
    limiter.refund("addr")
    assert limiter.allow("addr")
    assert not limiter.allow("addr")
    assert limiter.retry_after("addr") == 60.0  # asking does not take
    assert limiter.retry_after("unknown") == 0.0
