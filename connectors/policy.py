"""Retry and failure policy for partner registries: backoff, budget, retryability, breaker.

Pure and deterministic given the injected random source and clock, so the delivery loop
in :mod:`connectors.client` can be tested without waiting.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ERROR_KINDS",
    "Backoff",
    "BreakerState",
    "CircuitBreaker",
    "RetryBudget",
    "retryable",
]

# What went wrong on the way: an HTTP answer ("http") or a transport failure.
ERROR_KINDS = frozenset({"http", "connect", "timeout", "reset", "tls", "protocol"})
_TRANSIENT_KINDS = frozenset({"connect", "timeout", "reset"})
_RETRYABLE_4XX = frozenset({408, 429})  # Request Timeout, Too Many Requests

BreakerState = Literal["closed", "open", "half-open"]


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with "full jitter": ``uniform(0, min(cap, base * factor**n))``."""

    base_s: float = 0.2
    cap_s: float = 30.0
    factor: float = 2.0

    def __post_init__(self) -> None:
        if self.base_s < 0 or self.cap_s < 0 or self.factor < 1:
            raise ValueError("backoff needs base_s >= 0, cap_s >= 0 and factor >= 1")

    def ceiling(self, attempt: int) -> float:
        """The upper bound of the delay before retry number ``attempt`` (0 for the first)."""
        try:
            grown = self.base_s * self.factor ** max(attempt, 0)
        except OverflowError:
            return self.cap_s
        return min(self.cap_s, grown) if math.isfinite(grown) else self.cap_s

    def delay(self, attempt: int, rnd: Callable[[], float]) -> float:
        """A delay in ``[0, ceiling(attempt)]``; ``rnd()`` is uniform in ``[0, 1)``."""
        return self.ceiling(attempt) * min(max(rnd(), 0.0), 1.0)


@dataclass(frozen=True)
class RetryBudget:
    """How much one delivery may spend: attempts in all, and seconds since the first."""

    max_attempts: int = 8
    max_elapsed_s: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.max_elapsed_s < 0:
            raise ValueError("a retry budget needs max_attempts >= 1 and max_elapsed_s >= 0")

    def allows(self, attempts: int, elapsed_s: float, delay_s: float = 0.0) -> bool:
        """May another attempt start after ``attempts`` made, ``elapsed_s`` and a wait?"""
        return attempts < self.max_attempts and elapsed_s + delay_s <= self.max_elapsed_s


def retryable(status: int | None, error_kind: str) -> bool:
    """Is a failure worth another try with the same idempotency key?

    Transport failures (connect errors, timeouts, resets) are; TLS and protocol errors are
    configuration or implementation faults that a retry does not fix. Of HTTP answers, 408,
    429 and every 5xx are (RFC 9110 §15.6: the server failed); other 4xx are the request's
    own fault and are not; nor are 1xx-3xx.
    """
    if status is None:
        return error_kind in _TRANSIENT_KINDS
    return status in _RETRYABLE_4XX or 500 <= status <= 599


@dataclass
class CircuitBreaker:
    """Stop calling a partner after ``failure_threshold`` failures in a row.

    closed: calls pass; consecutive failures are counted, a success resets the count.
    open: calls are refused until ``reset_after_s`` passed since it opened.
    half-open: one probe call passes; its success closes the breaker, its failure opens it
    again for another ``reset_after_s``. Other calls are refused while the probe runs.
    """

    failure_threshold: int = 5
    reset_after_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    failures: int = field(default=0, init=False)
    opened_at: float | None = field(default=None, init=False)
    _probe_at: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.failure_threshold < 1 or self.reset_after_s < 0:
            raise ValueError("a breaker needs failure_threshold >= 1 and reset_after_s >= 0")

    @property
    def state(self) -> BreakerState:
        if self.opened_at is None:
            return "closed"
        if self._probe_at is not None or self.clock() - self.opened_at >= self.reset_after_s:
            return "half-open"
        return "open"

    def allow(self) -> bool:
        """May a call go out now? In half-open, True once (the probe) until it reports.

        A probe that never reports (its caller was cancelled) is replaced by another after
        ``reset_after_s``.
        """
        state = self.state
        if state == "closed":
            return True
        now = self.clock()
        if state == "half-open" and (
            self._probe_at is None or now - self._probe_at >= self.reset_after_s
        ):
            self._probe_at = now
            return True
        return False

    def success(self) -> None:
        self.failures, self.opened_at, self._probe_at = 0, None, None

    def failure(self) -> None:
        if self.opened_at is not None:  # the probe (or a late call) failed: open again
            self.opened_at, self._probe_at = self.clock(), None
            return
        self.failures += 1
        if self.failures >= self.failure_threshold:
            self.opened_at = self.clock()
