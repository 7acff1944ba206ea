"""Retry policy for partner registries: backoff with full jitter, budget, breaker."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.policy import Backoff, BreakerState, CircuitBreaker, RetryBudget, retryable


def state(cb: CircuitBreaker) -> BreakerState:
    """The breaker's state now (a call, so no earlier comparison narrows what it can be)."""
    return cb.state


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- backoff ----------------------------------------------------------------------------------


def test_backoff_ceiling_grows_then_caps() -> None:
    b = Backoff(base_s=0.2, cap_s=30.0, factor=2.0)
    assert [b.ceiling(n) for n in range(4)] == [0.2, 0.4, 0.8, 1.6]
    assert b.ceiling(8) == 30.0 and b.ceiling(10_000) == 30.0  # no overflow
    assert b.delay(3, lambda: 0.0) == 0.0
    assert b.delay(3, lambda: 0.5) == pytest.approx(0.8)


@given(
    attempt=st.integers(0, 5000),
    r=st.floats(0.0, 1.0, exclude_max=True),
    base=st.floats(0.0, 10.0),
    cap=st.floats(0.0, 100.0),
    factor=st.floats(1.0, 10.0),
)
def test_full_jitter_stays_within_its_ceiling(
    attempt: int, r: float, base: float, cap: float, factor: float
) -> None:
    b = Backoff(base_s=base, cap_s=cap, factor=factor)
    delay = b.delay(attempt, lambda: r)
    assert 0.0 <= delay <= min(cap, b.ceiling(attempt))


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(factor=0.5)


# -- budget and retryability ------------------------------------------------------------------


def test_retry_budget_counts_attempts_and_time() -> None:
    budget = RetryBudget(max_attempts=3, max_elapsed_s=10.0)
    assert budget.allows(1, 0.0) and budget.allows(2, 9.0, 1.0)
    assert not budget.allows(3, 0.0)  # three made: no fourth
    assert not budget.allows(1, 9.5, 1.0)  # the wait would pass the deadline
    with pytest.raises(ValueError):
        RetryBudget(max_attempts=0)


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (None, "connect", True),
        (None, "timeout", True),
        (None, "reset", True),
        (None, "tls", False),
        (None, "protocol", False),
        (408, "http", True),
        (429, "http", True),
        (500, "http", True),
        (502, "http", True),
        (503, "http", True),
        (504, "http", True),
        (599, "http", True),
        (400, "http", False),
        (401, "http", False),
        (403, "http", False),
        (404, "http", False),
        (409, "http", False),
        (422, "http", False),
        (200, "http", False),
        (302, "http", False),
    ],
)
def test_retryable(status: int | None, kind: str, expected: bool) -> None:
    assert retryable(status, kind) is expected


@given(st.integers(400, 499))
def test_only_408_and_429_of_the_4xx_are_retried(status: int) -> None:
    assert retryable(status, "http") is (status in (408, 429))


# -- circuit breaker --------------------------------------------------------------------------


def test_breaker_opens_after_consecutive_failures_only() -> None:
    clock = Clock()
    cb = CircuitBreaker(failure_threshold=3, reset_after_s=30, clock=clock)
    for _ in range(2):
        assert cb.allow()
        cb.failure()
    cb.success()  # a success resets the count
    for _ in range(2):
        cb.failure()
    assert state(cb) == "closed" and cb.allow()
    cb.failure()
    assert state(cb) == "open" and not cb.allow()


def test_breaker_half_open_lets_one_probe_through() -> None:
    clock = Clock()
    cb = CircuitBreaker(failure_threshold=1, reset_after_s=30, clock=clock)
    cb.failure()
    clock.now += 29.9
    assert not cb.allow()
    clock.now += 0.1
    assert state(cb) == "half-open"
    assert cb.allow()  # the probe
    assert not cb.allow()  # nobody else while it runs
    cb.failure()  # the probe failed: open for another reset_after_s
    assert state(cb) == "open" and not cb.allow()
    clock.now += 30
    assert cb.allow()
    cb.success()
    assert state(cb) == "closed" and cb.allow() and cb.allow()


def test_a_probe_that_never_reports_is_replaced() -> None:
    clock = Clock()
    cb = CircuitBreaker(failure_threshold=1, reset_after_s=5, clock=clock)
    cb.failure()
    clock.now += 5
    assert cb.allow() and not cb.allow()
    clock.now += 5
    assert cb.allow()  # the first probe was lost (cancelled): another may go


@given(st.lists(st.sampled_from(["ok", "fail", "tick", "allow"]), max_size=60))
def test_breaker_never_allows_while_open(ops: list[str]) -> None:
    clock = Clock()
    cb = CircuitBreaker(failure_threshold=3, reset_after_s=10, clock=clock)
    for op in ops:
        if op == "ok":
            cb.success()
        elif op == "fail":
            cb.failure()
        elif op == "tick":
            clock.now += 4
        else:
            before = state(cb)
            allowed = cb.allow()
            if before == "open":
                assert not allowed
            if before == "closed":
                assert allowed
