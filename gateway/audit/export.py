"""Audit bundles from a store: the whole log, or a range with inclusion proofs
(:func:`gateway.audit.bundle.verify_bundle` checks either).

A bundle is always cut at a checkpoint the sequencer published (``a6gw audit export``
takes the latest one), so what an auditor verifies is exactly what was signed and
announced; entries appended after it wait for the next checkpoint.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from pathlib import Path

from gateway.audit.bundle import (
    CHECKPOINT_FILE,
    ENTRIES_FILE,
    PROOFS_FILE,
    RANGE_FILE,
    VKEY_FILE,
)
from gateway.audit.logstore import LogStore
from gateway.audit.note import Checkpoint, Verifier, open_checkpoint
from gateway.errors import AuditError, VerificationError

__all__ = ["export_bundle"]

Progress = Callable[[int, int], None]


def _opened(note: str, verifiers: Sequence[Verifier]) -> Checkpoint:
    try:
        return open_checkpoint(note, verifiers)
    except VerificationError as exc:
        raise AuditError(
            f"the checkpoint is not signed by any of the log's keys: {exc.args[0]}",
            code="AUD-CHECKPOINT",
        ) from exc


def export_bundle(
    directory: Path,
    store: LogStore,
    note: str,
    verifiers: Sequence[Verifier],
    *,
    start: int | None = None,
    end: int | None = None,
    progress: Progress | None = None,
) -> Checkpoint:
    """Write the bundle for the checkpoint ``note`` (whole, or entries ``[start, end)``).

    ``verifiers``: the log's keys, current first; all go into ``log.vkey``.

    :raises AuditError: when the store does not hold the checkpoint's tree (``AUD-FORK``),
        the range is outside it (``AUD-RANGE``), or a file cannot be written.
    """
    checkpoint = _opened(note, verifiers)
    size = checkpoint.size
    if store.size() < size or store.root(size) != checkpoint.root:
        raise AuditError(
            f"the store does not hold the tree of the checkpoint (size {size})", code="AUD-FORK"
        )
    ranged = start is not None or end is not None
    lo, hi = (start or 0), (size if end is None else end)
    if not 0 <= lo <= hi <= size:
        raise AuditError(f"range [{lo}, {hi}) is not within the {size} entries", code="AUD-RANGE")
    directory.mkdir(parents=True, exist_ok=True)
    try:
        with (directory / ENTRIES_FILE).open("wb") as out:
            for done, body in enumerate(store.entries(lo, hi), 1):
                out.write(body + b"\n")
                if progress is not None and (done % 10_000 == 0 or lo + done == hi):
                    progress(done, hi - lo)
        (directory / CHECKPOINT_FILE).write_text(note, encoding="utf-8")
        vkeys = "".join(v.to_vkey() + "\n" for v in verifiers)
        (directory / VKEY_FILE).write_text(vkeys, encoding="utf-8")
        for stale in (RANGE_FILE, PROOFS_FILE):
            (directory / stale).unlink(missing_ok=True)
        if ranged:
            with (directory / PROOFS_FILE).open("w", encoding="utf-8") as out:
                for index in range(lo, hi):
                    proof = [
                        base64.b64encode(h).decode() for h in store.inclusion_proof(index, size)
                    ]
                    out.write(json.dumps({"index": index, "proof": proof}) + "\n")
            meta = {"start": lo, "end": hi, "size": size}
            (directory / RANGE_FILE).write_text(json.dumps(meta) + "\n", encoding="utf-8")
    except OSError as exc:
        raise AuditError(f"cannot write bundle {directory}: {exc}") from exc
    return checkpoint
