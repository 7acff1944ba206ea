"""Run jobs on a fixed interval until stopped: ``a6gw reconcile --every DURATION``.

:func:`parse_duration` reads ``30s``, ``15m``, ``1h``, ``1h30m``, ``1d`` (strictly: whole
numbers, units ``d h m s`` in that order, each at most once, more than zero in all).

:class:`Schedule` runs its jobs one after the other at each tick, never two at once: a tick
that comes while a run is still going is skipped (logged), and the next run starts at the
next tick after it ends, on the grid ``first + k * every`` (so runs do not drift by their own
length). A job that raises is logged with its count of consecutive failures and run again at
the next tick; the loop ends only when :meth:`Schedule.stop` is called (a signal handler
does it) and then only between two jobs. The clock and the pause are injected, so the
schedule is tested without waiting.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gateway.errors import GatewayError

__all__ = ["Schedule", "next_tick", "parse_duration"]

_UNITS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
#: the longest interval taken (a longer one is a CronJob's or a timer's work)
MAX_S = 7 * 86_400

#: a job: returns a one-line summary of its run, raises when the run failed
Job = Callable[[], str]


def parse_duration(text: str) -> float:
    """The seconds of a duration like ``30s``, ``15m``, ``1h``, ``1h30m`` or ``1d``.

    :raises ValueError: with the reason, when ``text`` is not such a duration, is zero, or
        is longer than 7 days.
    """
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise ValueError(
            f"invalid duration {text!r}: give whole numbers with units d, h, m, s in that "
            "order, e.g. 30s, 15m, 1h, 1h30m"
        )
    seconds = sum(int(n) * s for n, s in zip(match.groups(), _UNITS.values(), strict=True) if n)
    if seconds <= 0:
        raise ValueError(f"invalid duration {text!r}: it must be longer than 0 s")
    if seconds > MAX_S:
        raise ValueError(f"invalid duration {text!r}: at most 7d (use a CronJob for longer)")
    return float(seconds)


def next_tick(last: float, every: float, now: float) -> tuple[float, int]:
    """The first tick ``last + k * every`` (k >= 1) after ``now``, and how many ticks
    between ``last`` and it were missed (they fell while a run was going)."""
    k = max(1, int((now - last) // every) + 1)
    return last + k * every, k - 1


@dataclass
class Schedule:
    """Runs ``jobs`` (name -> job) every ``every`` seconds until :meth:`stop`.

    ``clock`` is monotonic seconds; ``pause(s)`` waits ``s`` seconds or until stopped.
    """

    every: float
    jobs: Mapping[str, Job]
    log: logging.Logger
    clock: Callable[[], float] = time.monotonic
    pause: Callable[[float], None] | None = None
    runs: int = 0
    #: consecutive failures per job (0 after a run that worked)
    failures: dict[str, int] = field(default_factory=dict)
    stopping: bool = False

    def stop(self) -> None:
        """Stop after the job running now (safe to call from a signal handler)."""
        self.stopping = True

    def stopped(self) -> bool:
        return self.stopping

    def _pause(self, seconds: float) -> None:
        if self.pause is not None:
            self.pause(seconds)
            return
        end = self.clock() + seconds
        while not self.stopping and (left := end - self.clock()) > 0:
            time.sleep(min(0.2, left))  # short naps: a stop is seen within 0.2 s

    def tick(self) -> None:
        """One run of every job, in order; a failure is logged and counted, not raised."""
        self.runs += 1
        for name, job in self.jobs.items():
            if self.stopping:
                return
            t0 = self.clock()
            try:
                summary = job()
            except Exception as exc:  # noqa: BLE001 - any failure waits for the next tick
                n = self.failures[name] = self.failures.get(name, 0) + 1
                code = exc.code if isinstance(exc, GatewayError) else type(exc).__name__
                self.log.error(
                    "run %d of %s failed (%s; %d consecutive failure%s), retried at the next "
                    "tick: %s",
                    self.runs,
                    name,
                    code,
                    n,
                    "" if n == 1 else "s",
                    exc,
                )
                self.log.debug("run %d of %s failed", self.runs, name, exc_info=True)
                continue
            if self.failures.get(name):
                self.log.info("%s works again after %d failed runs", name, self.failures[name])
            self.failures[name] = 0
            self.log.info("run %d of %s: %s (%.1f s)", self.runs, name, summary, self.clock() - t0)

    def run(self) -> int:
        """Tick until stopped; returns how many ticks ran."""
        tick_at = self.clock()
        self.log.info(
            "running %s every %g s until stopped (SIGTERM or Ctrl-C)",
            ", ".join(self.jobs),
            self.every,
        )
        while not self.stopped():
            self.tick()
            if self.stopped():
                break
            tick_at, missed = next_tick(tick_at, self.every, self.clock())
            if missed:
                self.log.warning(
                    "run %d took longer than the interval: %d tick%s skipped (runs never overlap)",
                    self.runs,
                    missed,
                    "" if missed == 1 else "s",
                )
            self._pause(tick_at - self.clock())
        self.log.info("stopped after %d run%s", self.runs, "" if self.runs == 1 else "s")
        return self.runs
