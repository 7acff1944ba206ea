"""The client's side of the C2SP tlog-witness ``add-checkpoint`` call, as pure functions.

A log (the gateway's collector) sends :func:`add_checkpoint_body` and reads the answer:
200 with cosignature lines (append them to the note with
:func:`gateway.audit.cosignature.add_cosignatures` after checking them), or a 409 whose
body :func:`parse_size_body` reads: the size the witness last cosigned, to prove from next.
The server's side is :mod:`gateway.witness.protocol`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence

from gateway.audit.rfc6962 import HASH_SIZE
from gateway.errors import AuditError, VerificationError

__all__ = ["MAX_PROOF_LINES", "SIZE_TYPE", "add_checkpoint_body", "parse_size_body"]

#: tlog-witness §add-checkpoint: a client MUST NOT send more than 63 proof lines.
MAX_PROOF_LINES = 63
#: tlog-witness §add-checkpoint: the media type of a 409's body.
SIZE_TYPE = "text/x.tlog.size"
_SIZE_RE = re.compile(r"0|[1-9][0-9]{0,19}")  # ASCII decimal, no leading zeroes


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    """``old <size>\\n``, one base64 line per proof hash, ``\\n``, then the signed note.

    Preconditions: ``note`` is a signed checkpoint note; ``proof`` proves ``old_size`` to
    its size (empty from 0 or for the same size).

    :raises AuditError: for a negative size, more than 63 hashes or one not 32 bytes.
    """
    if isinstance(old_size, bool) or not 0 <= old_size < 2**64:
        raise AuditError(f"old size {old_size!r} is not a uint64")
    if len(proof) > MAX_PROOF_LINES:
        raise AuditError(f"{len(proof)} proof hashes, at most {MAX_PROOF_LINES}")
    if any(len(h) != HASH_SIZE for h in proof):
        raise AuditError(f"every proof hash must have {HASH_SIZE} bytes")
    lines = [f"old {old_size}", *(base64.b64encode(h).decode("ascii") for h in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode("utf-8")


def parse_size_body(body: bytes) -> int:
    """The size in a 409's ``text/x.tlog.size`` body: decimal digits and a newline.

    :raises VerificationError: if the body is anything else.
    """
    text = body.decode("ascii", errors="replace")
    if not text.endswith("\n") or not _SIZE_RE.fullmatch(text[:-1]) or int(text[:-1]) >= 2**64:
        raise VerificationError(f"a {SIZE_TYPE} body must be a decimal size and a newline")
    return int(text[:-1])
