"""The tlog-witness ``add-checkpoint`` call as pure functions (c2sp.org/tlog-witness).

:func:`parse_request` reads the request body; :func:`check_signed` finds the log and
checks its signature (404, 403); :func:`judge` compares the checkpoint with the latest one
the witness cosigned for that origin (400, 409, 422). The store (:mod:`.state`) runs
:func:`judge` inside the transaction that then records the new checkpoint, so the check and
the update are one atomic step.

Every refusal is a :class:`Refusal` with the spec's HTTP status and a project code (the
server puts the code in a header, never in a 409 body, whose content the spec fixes).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.audit.note import Checkpoint, Verifier, _split_note, verify_note
from gateway.audit.rfc6962 import EMPTY_ROOT, HASH_SIZE
from gateway.audit.tlog_witness import MAX_PROOF_LINES
from gateway.audit.verify import verify_consistency
from gateway.errors import GatewayError, VerificationError

__all__ = [
    "MAX_PROOF_LINES",
    "AddCheckpoint",
    "Latest",
    "Refusal",
    "check_signed",
    "judge",
    "parse_request",
]

_SIZE_RE = re.compile(r"0|[1-9][0-9]{0,19}")  # ASCII decimal, no leading zeroes
_MAX_SIZE = 2**64 - 1


class Refusal(GatewayError):
    """The witness does not cosign: ``status`` is the spec's HTTP status, ``code`` ours.

    ``latest_size`` is set for a 409: the size of the latest checkpoint cosigned.
    """

    def __init__(
        self, status: int, code: str, message: str, *, latest_size: int | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.status, self.latest_size = status, latest_size


@dataclass(frozen=True)
class AddCheckpoint:
    """A parsed add-checkpoint request: old size, proof hashes, the signed note."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str


@dataclass(frozen=True)
class Latest:
    """The latest checkpoint cosigned for one origin (size 0, empty root: none yet)."""

    size: int
    root: bytes


def _bad(message: str) -> Refusal:
    return Refusal(400, "WITNESS-REQUEST", message)


def parse_request(body: bytes) -> AddCheckpoint:
    """Parse ``old <size>\\n``, up to 63 base64 hash lines, ``\\n``, then the checkpoint.

    :raises Refusal: (400 WITNESS-REQUEST) when the body does not have that shape.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(f"the body is not UTF-8 (byte {exc.start})") from exc
    head, sep, note = text.partition("\n\n")  # the proof ends at the first empty line
    if not sep:
        raise _bad("no empty line between the proof and the checkpoint")
    lines = head.split("\n")
    old_line, proof_lines = lines[0], lines[1:]
    old = old_line.removeprefix("old ")
    if old == old_line or not _SIZE_RE.fullmatch(old) or int(old) > _MAX_SIZE:
        raise _bad(f"the first line must be 'old <size>' in canonical decimal, got {old_line!r}")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise _bad(f"{len(proof_lines)} proof lines, at most {MAX_PROOF_LINES}")
    proof = []
    for n, line in enumerate(proof_lines, 1):
        try:
            node = base64.b64decode(line.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
            raise _bad(f"proof line {n} is not base64") from exc
        if len(node) != HASH_SIZE:
            raise _bad(f"proof line {n} has {len(node)} bytes, want {HASH_SIZE}")
        proof.append(node)
    return AddCheckpoint(int(old), tuple(proof), note)


def _checkpoint_of(note: str) -> tuple[Checkpoint, bool]:
    """The note's checkpoint, and whether the note has signature lines at all: an unsigned
    checkpoint (its body alone, or with an empty signature block) is refused with 403 like
    any checkpoint no trusted key signed, not as a malformed request."""
    try:
        text, _lines = _split_note(note)
        return Checkpoint.from_text(text), True
    except VerificationError as exc:
        bare = note[:-1] if note.endswith("\n\n") else note
        try:
            return Checkpoint.from_text(bare), False
        except VerificationError:
            raise _bad(f"the checkpoint note is malformed: {exc.args[0]}") from exc


def check_signed(request: AddCheckpoint, logs: Mapping[str, Sequence[Verifier]]) -> Checkpoint:
    """The request's checkpoint, signed by a key the witness trusts for its origin.

    :raises Refusal: 400 (WITNESS-REQUEST) for a malformed note or checkpoint; 404
        (WITNESS-ORIGIN) for an unknown origin; 403 (WITNESS-SIGNATURE) when no trusted
        key signed it or a trusted key's signature fails (tlog-witness §add-checkpoint).
    """
    checkpoint, signed = _checkpoint_of(request.note)
    verifiers = logs.get(checkpoint.origin)
    if verifiers is None:
        raise Refusal(404, "WITNESS-ORIGIN", f"unknown log origin {checkpoint.origin!r}")
    if not signed:
        raise Refusal(403, "WITNESS-SIGNATURE", "the checkpoint carries no signature")
    try:
        verify_note(request.note, verifiers)
    except VerificationError as exc:
        raise Refusal(403, "WITNESS-SIGNATURE", str(exc.args[0])) from exc
    return checkpoint


def judge(request: AddCheckpoint, checkpoint: Checkpoint, latest: Latest) -> None:
    """Check the checkpoint against the latest one cosigned for its origin.

    The order is the spec's (tlog-witness §add-checkpoint): old size above the checkpoint's
    (400); old size not the latest cosigned (409 with that size); a size-0 checkpoint whose
    root is not the empty tree's, a proof from size 0, a proof that does not verify, or the
    same size with another root (422).

    :raises Refusal: with the status above when the witness must not cosign.
    """
    old, size = request.old_size, checkpoint.size
    if old > size:
        raise Refusal(400, "WITNESS-SIZE", f"old size {old} is larger than the checkpoint's {size}")
    if old != latest.size:
        raise Refusal(
            409,
            "WITNESS-CONFLICT",
            f"old size {old} is not the latest cosigned size {latest.size}",
            latest_size=latest.size,
        )
    if size == 0 and checkpoint.root != EMPTY_ROOT:
        raise Refusal(422, "WITNESS-PROOF", "a checkpoint of size 0 must have the empty root")
    if old == 0:
        if request.proof:
            raise Refusal(422, "WITNESS-PROOF", "a proof from size 0 must be empty")
        return
    try:
        verify_consistency(
            size1=old, size2=size, root1=latest.root, root2=checkpoint.root, proof=request.proof
        )
    except VerificationError as exc:
        raise Refusal(422, "WITNESS-PROOF", str(exc.args[0])) from exc
