"""What the gateway's collector does with a witness's answer: pure decisions.

The collector (:mod:`gateway.worker.witnessing`) submits a checkpoint of ``size`` to a witness
with ``old <old size>`` and a consistency proof (C2SP tlog-witness §add-checkpoint), then calls
:func:`decide` on the answer. Each outcome names the next step:

- ``cosigned``: 200; the body's lines are cosignatures (the collector checks each against the
  witness's pinned key before keeping it);
- ``resubmit``: 409 with a size below or equal to ours: the witness last cosigned that size,
  prove from it. At the same size the witness may hold this very checkpoint (it answers the
  resubmission with 200) or another tree of that size (it answers 422: a fork);
- ``superseded``: 409 with a size above ours: the witness saw a newer checkpoint; nothing to do
  with this one;
- ``fork``: 422 (the proof fails, or the same size with another root): evidence that two
  histories of the log exist. A discrepancy and an alert;
- ``misconfigured``: 403 (the witness does not trust the log's key), 404 (it does not know the
  origin) and 400 (it cannot read the request): an alert for the operator, no retry;
- ``retry``: 408, 429, 5xx and transport failures (``status`` None), with backoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gateway.audit.tlog_witness import SIZE_TYPE, parse_size_body
from gateway.errors import VerificationError

__all__ = ["MAX_RESUBMITS", "Outcome", "decide"]

Kind = Literal["cosigned", "resubmit", "superseded", "fork", "misconfigured", "retry"]
#: 409s answered in a row for one checkpoint before the collector gives up on it (a witness
#: that keeps moving its size is being written by someone else as well).
MAX_RESUBMITS = 3


@dataclass(frozen=True)
class Outcome:
    """The next step, with the witness's size for ``resubmit`` and why, for logs."""

    kind: Kind
    why: str
    old_size: int | None = None
    lines: tuple[str, ...] = ()


def _lines(body: bytes) -> tuple[str, ...]:
    text = body.decode("utf-8", errors="replace")
    return tuple(line + "\n" for line in text.split("\n") if line)


def _conflict(size: int, content_type: str, body: bytes) -> Outcome:
    if content_type.split(";")[0].strip().lower() != SIZE_TYPE:
        return Outcome("retry", f"409 without a {SIZE_TYPE} body")
    try:
        theirs = parse_size_body(body)
    except VerificationError as exc:
        return Outcome("retry", f"409: {exc.args[0]}")
    if theirs > size:
        return Outcome("superseded", f"the witness cosigned size {theirs} already", theirs)
    return Outcome("resubmit", f"the witness last cosigned size {theirs}", theirs)


def decide(
    status: int | None, *, size: int, old_size: int, content_type: str = "", body: bytes = b""
) -> Outcome:
    """The collector's next step after a submission of ``size`` from ``old_size``.

    ``status`` None: no answer (connect error, timeout, TLS failure after the retries of the
    transport).
    """
    if status is None or status in (408, 429) or 500 <= status <= 599:
        return Outcome("retry", "no answer" if status is None else f"status {status}")
    if status == 200:
        lines = _lines(body)
        if not lines:
            return Outcome("retry", "200 without a cosignature")
        return Outcome("cosigned", "cosigned", lines=lines)
    if status == 409:
        out = _conflict(size, content_type, body)
        if out.kind == "resubmit" and out.old_size == old_size:
            # the witness says the size we proved from is not its latest, yet names it
            return Outcome("misconfigured", f"409 naming our own old size {old_size}")
        return out
    if status == 422:
        return Outcome("fork", f"the witness refused size {size} from {old_size} as a fork")
    if status in (400, 403, 404):
        what = {400: "the request", 403: "the log's signature", 404: "the log's origin"}[status]
        return Outcome("misconfigured", f"the witness refused {what} ({status})")
    return Outcome("misconfigured", f"unexpected status {status}")
