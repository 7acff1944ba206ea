"""No input stops a partition: the agents' handlers run inside a :class:`Shield`.

- An exception from a parser or a pure step is deterministic: it would be raised again on
  every redelivery. The input is dead-lettered at once as a gateway fault (GWF-001, naming
  the step and the exception class, keeping the input's bytes) and alert A6-ALERT-001 is
  raised; the partition goes on.
- An edge error (broker, store, network, file system) says nothing about the input: the
  handler is retried with backoff, never dead-lettered; A6-ALERT-005 when it keeps failing.
- An input the process dies on (``os._exit``, a signal, ``MemoryError``) cannot be caught.
  Before each attempt the shield appends a line to an attempts journal in the worker's data
  directory, and a line after it; an attempt with no line after it ended in a death. A
  death strikes every record in flight, in every agent; so a record with a death against it
  (a *suspect*) is handled alone, with no other handler running, and its next death is its
  own: a bystander's suspicion is cleared by its next run. The line before an attempt says
  whether the record runs alone; on the start after :data:`MAX_ALONE` deaths *alone* at one
  offset the input is dead-lettered unhandled (GWF-002, alert A6-ALERT-002). Only those
  deaths count: a kill from outside (an operator, an orchestrator's probe) that lands while
  an innocent record is in flight in a batch, and again while it runs with the other
  suspects, does not quarantine it; the input that kills the process does it alone. The journal
  is written with one ``write(2)`` per
  line and never fsynced: it must outlive the process, not the machine (a reboot that loses
  it only delays the quarantine), and a broker round trip per record would cost the
  throughput the gateway needs. It is compacted when it opens and as it grows.

For tests only, ``A6GW_TEST_FAULTS`` injects faults deterministically: ``raise:<marker>``
makes the step raise on an input whose bytes contain ``<marker>`` (unless it is a replay),
``exit:<marker>`` makes the process exit there, as a crash would.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from aiokafka.errors import KafkaError

from gateway.alerts import alert
from gateway.core import decision as dec
from gateway.core.faults import fault_finding, fault_outputs, quarantine_finding
from gateway.core.ingest import RawInput
from gateway.core.steps import Output
from gateway.errors import AuditError, RegistryError, WorkerError
from gateway.worker.exits import Exit

log = logging.getLogger("a6gw.worker")

Handler = Callable[[RawInput], Awaitable[None]]
SendAll = Callable[[list[Output]], Awaitable[None]]
Run = Callable[[RawInput, Handler], Awaitable[None]]
#: a record's place: topic, partition, offset
Where = tuple[str, int, int]

#: Deaths at one offset while its record ran alone in the process; the next start
#: quarantines it.
MAX_ALONE = 2
FAULTS_ENV = "A6GW_TEST_FAULTS"
COMPACT_BYTES = 16 * 1024 * 1024


class InjectedFault(RuntimeError):
    """The fault a test asked for (``A6GW_TEST_FAULTS``), raised inside the step."""


def is_edge(exc: BaseException) -> bool:
    """Whether ``exc`` comes from outside the process's logic (retry it) rather than from
    the input (dead-letter it)."""
    if isinstance(exc, AuditError):
        return exc.code == "AUD-STORE"  # the store failed; other codes judge the data
    return isinstance(
        exc, (KafkaError, OSError, WorkerError, RegistryError, httpx.HTTPError, sqlite3.Error)
    )


class Attempts:
    """The attempts journal: per record (topic, partition, offset), how many starts at it
    ended without a line after them, and how many of those ran it alone (a redelivery of
    earlier offsets changes nothing).

    Lines: ``B`` before an attempt in company, ``A`` before an attempt alone, ``D`` after
    either; a tab, then topic, partition and offset."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pending: dict[Where, int] = {}
        self.alone: dict[Where, int] = {}
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            for line in path.read_bytes().split(b"\n"):
                self._fold(line)
        self._fd = -1
        self._compact()

    def _fold(self, line: bytes) -> None:
        parts = line.split(b"\t")
        if len(parts) != 4 or parts[0] not in (b"B", b"A", b"D"):
            return  # a line cut short by a crash
        try:
            topic, partition, offset = parts[1].decode(), int(parts[2]), int(parts[3])
        except (UnicodeDecodeError, ValueError):
            return
        self._count(parts[0], (topic, partition, offset))

    def _count(self, kind: bytes, where: Where) -> None:
        if kind == b"D":
            self.pending.pop(where, None)
            self.alone.pop(where, None)
            return
        self.pending[where] = self.pending.get(where, 0) + 1
        if kind == b"A":
            self.alone[where] = self.alone.get(where, 0) + 1

    def _compact(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        lines = b"".join(
            _line(b"B", where) * (n - self.alone.get(where, 0))
            + _line(b"A", where) * self.alone.get(where, 0)
            for where, n in sorted(self.pending.items())
        )
        tmp.write_bytes(lines)
        os.replace(tmp, self.path)
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._size = len(lines)

    def starts(self, rec: RawInput) -> int:
        """How many earlier starts at ``rec``'s offset ended in a death."""
        return self.pending.get((rec.topic, rec.partition, rec.offset), 0)

    def doomed(self, rec: RawInput) -> bool:
        """Whether the process died :data:`MAX_ALONE` times while ``rec`` ran alone: the
        input kills it, and this start quarantines it."""
        return self.alone.get((rec.topic, rec.partition, rec.offset), 0) >= MAX_ALONE

    def _write(self, kind: bytes, wheres: list[Where]) -> None:
        """One line per record of ``wheres``, in one write."""
        lines = b"".join(_line(kind, where) for where in wheres)
        os.write(self._fd, lines)
        for where in wheres:
            self._count(kind, where)
        self._size += len(lines)
        if self._size > COMPACT_BYTES:
            self._compact()

    def begin(self, rec: RawInput, *, alone: bool = False) -> None:
        """The line before an attempt at ``rec``; ``alone``: no other record is in flight."""
        self.begin_all([rec], alone=alone)

    def begin_all(self, recs: list[RawInput], *, alone: bool = False) -> None:
        """The line before each of ``recs`` (a run's), in one write."""
        if recs:
            self._write(b"A" if alone else b"B", [(r.topic, r.partition, r.offset) for r in recs])

    def end(self, rec: RawInput) -> None:
        self._write(b"D", [(rec.topic, rec.partition, rec.offset)])

    def end_all(self, recs: list[RawInput]) -> None:
        """The line after each of ``recs`` (a batch's), in one write."""
        if recs:
            self._write(b"D", [(r.topic, r.partition, r.offset) for r in recs])

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _line(kind: bytes, where: Where) -> bytes:
    return b"%s\t%s\t%d\t%d\n" % (kind, where[0].encode(), where[1], where[2])


def _injected() -> list[tuple[str, bytes]]:
    spec = os.environ.get(FAULTS_ENV, "")
    out = []
    for item in filter(None, spec.split(",")):
        kind, _, marker = item.partition(":")
        if kind in ("raise", "exit") and marker:
            out.append((kind, marker.encode()))
    return out


class Shield:
    """Runs each handler so that no input can stop its partition (see the module)."""

    def __init__(
        self,
        attempts: Attempts,
        send_all: SendAll,
        *,
        pause_s: float = 0.5,
        max_pause_s: float = 30.0,
        alert_after: int = 5,
    ) -> None:
        self.attempts = attempts
        self.send_all = send_all
        self.pause_s = pause_s
        self.max_pause_s = max_pause_s
        self.alert_after = alert_after
        self.faults = 0
        self.quarantined = 0
        self._inject = _injected()
        # Handlers in flight, and whether a suspect runs (or waits to run) alone.
        self._cond = asyncio.Condition()
        self._active = 0
        self._solo = False
        self._solo_waiting = 0

    async def _enter(self, solo: bool) -> None:
        async with self._cond:
            if solo:
                self._solo_waiting += 1
                await self._cond.wait_for(lambda: self._active == 0 and not self._solo)
                self._solo_waiting -= 1
                self._solo = True
            else:
                await self._cond.wait_for(lambda: not self._solo and not self._solo_waiting)
                self._active += 1

    async def _leave(self, solo: bool) -> None:
        async with self._cond:
            if solo:
                self._solo = False
            else:
                self._active -= 1
            self._cond.notify_all()

    @asynccontextmanager
    async def alone(self, solo: bool) -> AsyncIterator[None]:
        """Around a batch's handling: ``solo`` (a suspect's batch) waits until no other
        handler runs and keeps the others waiting; the others run side by side."""
        await self._enter(solo)
        try:
            yield
        finally:
            await self._leave(solo)

    def protect(self, step: str, handle: Handler) -> Handler:
        async def run(rec: RawInput) -> None:
            await self.run(step, rec, handle)

        return run

    def guarded(self, run: Run) -> Run:
        """``run`` (the contiguity guard's) with each handler protected, named after it."""

        async def shielded(rec: RawInput, handle: Handler) -> None:
            await run(rec, self.protect(getattr(handle, "__qualname__", "handler"), handle))

        return shielded

    async def retry(self, step: str, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        """``fn(*args)`` retried with backoff while it fails at the edge (a batch step, whose
        records are checked one by one inside it); any other exception propagates."""
        failures, pause = 0, self.pause_s
        while True:
            try:
                await fn(*args)
                return
            except Exception as exc:
                if not is_edge(exc):
                    raise
                failures += 1
                log.warning(
                    "%s failed at the edge (%s); retry %d in %.1f s", step, exc, failures, pause
                )
                if failures % self.alert_after == 0:
                    alert(
                        "A6-ALERT-005",
                        f"{step} keeps failing at the edge",
                        failures=failures,
                        error=f"{type(exc).__name__}: {exc}",
                    )
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.max_pause_s)

    async def run(self, step: str, rec: RawInput, handle: Handler) -> None:
        starts = self.attempts.starts(rec)
        solo = starts > 0
        if solo:
            log.warning(
                "%s: %s was in flight at %d deaths; handling it alone", step, _where(rec), starts
            )
        await self._enter(solo)
        try:
            await self._run(step, rec, handle, starts)
        finally:
            await self._leave(solo)

    async def _run(self, step: str, rec: RawInput, handle: Handler, starts: int) -> None:
        if self.attempts.doomed(rec):
            await self._quarantine(step, rec, starts)
            self.attempts.end(rec)
            return
        failures = 0
        pause = self.pause_s
        while True:
            self.attempts.begin(rec, alone=starts > 0)
            try:
                self._maybe_inject(rec)
                await handle(rec)
                break
            except MemoryError:
                # Not the input's fault for sure, nor safe to go on: die, and let the starts
                # count (a second death at this offset points at the input after all).
                log.critical("%s: out of memory on %s; exiting", step, _where(rec))
                logging.shutdown()
                os._exit(Exit.CRASHED)
            except Exception as exc:  # noqa: BLE001 - every exception is mapped, none lost
                if not is_edge(exc):
                    await self._fault(step, rec, exc)
                    break
                failures += 1
                self.attempts.end(rec)  # the edge failed, not the process on this input
                log.warning(
                    "%s: %s failed at the edge (%s: %s); retry %d in %.1f s",
                    step, _where(rec), type(exc).__name__, exc, failures, pause,
                )  # fmt: skip
                if failures % self.alert_after == 0:
                    alert(
                        "A6-ALERT-005",
                        f"{step} keeps failing at the edge",
                        where=_where(rec),
                        failures=failures,
                        error=f"{type(exc).__name__}: {exc}",
                    )
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.max_pause_s)
        self.attempts.end(rec)

    def inject(self, rec: RawInput) -> None:
        """The fault ``A6GW_TEST_FAULTS`` asks for on ``rec``, if any (tests only)."""
        self._maybe_inject(rec)

    def _maybe_inject(self, rec: RawInput) -> None:
        if not self._inject or dec.replay_of(rec.headers) is not None:
            return
        for kind, marker in self._inject:
            if marker in rec.value:
                if kind == "exit":
                    log.critical("injected crash on %s", _where(rec))
                    logging.shutdown()
                    os._exit(Exit.CRASHED)
                raise InjectedFault(f"injected fault on {_where(rec)}")

    async def _fault(self, step: str, rec: RawInput, exc: Exception) -> None:
        await self._send_letter(rec, self.fault_outputs(step, rec, exc))

    def fault_outputs(self, step: str, rec: RawInput, exc: Exception) -> list[Output]:
        """The GWF-001 dead letter and audit entry of ``rec``, which ``step`` raised ``exc``
        on (logged and alerted here; the caller sends them)."""
        finding = fault_finding(step, exc)
        self.faults += 1
        log.error("%s: %s on %s", step, finding.message, _where(rec), exc_info=exc)
        alert(
            "A6-ALERT-001",
            f"gateway fault in {step}: {type(exc).__name__}",
            where=_where(rec),
            reason_code=finding.code,
        )
        return fault_outputs(rec, finding, step=step, exception=type(exc).__name__)

    async def _quarantine(self, step: str, rec: RawInput, starts: int) -> None:
        await self._send_letter(rec, self.quarantine_outputs(step, rec, starts))

    def quarantine_outputs(self, step: str, rec: RawInput, starts: int) -> list[Output]:
        """The GWF-002 dead letter and audit entry of ``rec``, quarantined unhandled after
        ``starts`` deaths (alerted here; the caller sends them)."""
        finding = quarantine_finding(step, starts)
        self.quarantined += 1
        alert(
            "A6-ALERT-002",
            f"input quarantined in {step} after {starts} deaths",
            where=_where(rec),
            reason_code=finding.code,
        )
        return fault_outputs(rec, finding, step=step, exception="process death")

    async def _send_letter(self, rec: RawInput, outputs: list[Output]) -> None:
        pause = self.pause_s
        while True:  # the dead letter itself crosses the edge: retried like any output
            try:
                await self.send_all(outputs)
                return
            except Exception as exc2:
                if not is_edge(exc2):
                    raise
                log.warning("dead letter of %s not sent (%s); retrying", _where(rec), exc2)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.max_pause_s)


def _where(rec: RawInput) -> str:
    return f"{rec.topic}[{rec.partition}]@{rec.offset}"
