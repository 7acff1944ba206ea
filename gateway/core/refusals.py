"""Audit entries for requests an HTTPS endpoint refused, and the budget that bounds them.

A refused request never becomes an input, but the refusal of a request from a known
registry is on record: an ``http-refusal`` entry with the body's SHA-256, its size and its
first 1 KiB (base64), never the whole body. Each client may leave at most ``limit`` such
entries in a window of ``window_s`` seconds that opens with its first refusal; beyond that
its refusals are answered 429 (REG-RATE) and the window gets one summary entry, written at
the first refusal over the budget. Pure: the caller gives the time.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.core.canonical import sha256_hex
from gateway.core.decision import ENTRY_VERSION
from schemas import entries as en
from schemas import entry_parts as ep

__all__ = ["HEAD_BYTES", "RATE_CODE", "RefusalBudget", "rate_entry", "refusal_entry"]

HEAD_BYTES = 1024
RATE_CODE = "REG-RATE"


def refusal_entry(
    *,
    registry: str,
    path: str,
    body: bytes | None,
    size: int | None,
    signature: str,
    code: str,
    message: str,
    at: str,
) -> dict[str, Any]:
    """The ``http-refusal`` entry; ``body`` None when it was not read (too large), and then
    ``size`` is the length the client declared (None if it declared none)."""
    sha = sha256_hex(body) if body is not None else None
    ident = sha256_hex(f"{registry}\n{path}\n{sha}\n{size}\n{signature}\n{code}".encode())[:40]
    head = base64.b64encode(body[:HEAD_BYTES]).decode("ascii") if body is not None else None
    return en.HttpRefusalEntry(
        entry_version=ENTRY_VERSION,
        entry_type="http-refusal",
        entry_id=f"http-{ident}",
        input=ep.RefusedRequest(
            registry=registry,
            path=path,
            sha256=sha,
            size=len(body) if body is not None else size,
            head_b64=head,
        ),
        outcome="refused",
        results=[ep.Result(code=code, message=message, blocks=[])],
        decided_at=at,
    ).wire()


def rate_entry(
    *, registry: str, path: str, window_start: str, limit: int, window_s: int, at: str
) -> dict[str, Any]:
    """The one summary entry of a window in which ``registry`` went over its budget."""
    ident = sha256_hex(f"{registry}\n{path}\n{window_start}\n{RATE_CODE}".encode())[:40]
    message = (
        f"more than {limit} refused requests from {registry} within {window_s}s from "
        f"{window_start}; the others of this window were answered 429 and are not recorded"
    )
    return en.HttpRefusalEntry(
        entry_version=ENTRY_VERSION,
        entry_type="http-refusal",
        entry_id=f"http-{ident}",
        input=ep.RateWindow(registry=registry, path=path, window_start=window_start),
        outcome="refused",
        results=[ep.Result(code=RATE_CODE, message=message, blocks=[])],
        decided_at=at,
    ).wire()


Verdict = Literal["record", "summarise", "limit"]


@dataclass
class RefusalBudget:
    """At most ``limit`` recorded refusals per client per window of ``window_s`` seconds.

    :meth:`take` says what to do with one more refusal: ``record`` it, or answer 429 and
    ``summarise`` the window (the first time over) or just ``limit`` it.
    """

    limit: int
    window_s: int = 60
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)

    def take(self, client: str, now: float) -> tuple[Verdict, float]:
        """The verdict and the start of the client's current window (seconds)."""
        start, count = self._windows.get(client, (now, 0))
        if now - start >= self.window_s:
            start, count = now, 0
        count += 1
        self._windows[client] = (start, count)
        if len(self._windows) > 10_000:  # forget closed windows
            self._windows = {c: w for c, w in self._windows.items() if now - w[0] < self.window_s}
        if count <= self.limit:
            return "record", start
        return ("summarise" if count == self.limit + 1 else "limit"), start

    def retry_after(self, client: str, now: float) -> int:
        start, _ = self._windows.get(client, (now, 0))
        return max(1, int(start + self.window_s - now + 0.999))
