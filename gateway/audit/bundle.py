"""Audit bundles: a directory an auditor can verify offline.

Contract (all three files are required)::

    entries.ndjson   one entry per line, in log order. The bytes of line i without its
                     terminating 0x0A are exactly the bytes hashed as leaf i
                     (leaf_hash(line)). Every line, including the last, ends in 0x0A;
                     lines are split on b"\\n" only (never str.splitlines, which would
                     also split on U+2028, U+0085, \\r, ...). An empty log is an empty file.
    checkpoint       the C2SP checkpoint note for the whole file, signed by the log key.
    log.vkey         verifier key lines (name+hexid+base64key), one per line: the current
                     log key first, then earlier ones (after a rotation, checkpoints they
                     signed still verify).

A *range* bundle (``a6gw audit export --start I --end J``) holds entries ``[I, J)`` of the
tree the checkpoint commits to, with their inclusion proofs::

    range.json       {"start": I, "end": J, "size": N}
    proofs.ndjson    one line per entry: {"index": i, "proof": [base64 hashes, leaf upward]}

``log.vkey`` travels with the bundle, so on its own it only proves internal
consistency; pin the key with ``trusted_vkey`` or check ``since`` against a checkpoint
obtained earlier to tie the bundle to the log you know.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.audit.note import Checkpoint, LogKey, Verifier, open_checkpoint, parse_vkey
from gateway.audit.proof import consistency_proof
from gateway.audit.rfc6962 import EMPTY_ROOT, leaf_hash, range_root, root_from_leaf_hashes
from gateway.audit.verify import verify_consistency, verify_inclusion
from gateway.errors import AuditError, VerificationError

__all__ = [
    "CHECKPOINT_FILE",
    "ENTRIES_FILE",
    "VKEY_FILE",
    "BundleReport",
    "verify_bundle",
    "verify_range",
    "write_bundle",
]

ENTRIES_FILE = "entries.ndjson"
RANGE_FILE = "range.json"
PROOFS_FILE = "proofs.ndjson"
CHECKPOINT_FILE = "checkpoint"
VKEY_FILE = "log.vkey"


@dataclass(frozen=True)
class BundleReport:
    """What a verified bundle commits to: tree size, hex root and checkpoint origin."""

    size: int
    root: str
    origin: str


def write_bundle(
    directory: Path, entries: Sequence[bytes], log_key: LogKey, origin: str
) -> Checkpoint:
    """Write ``entries`` as a bundle into ``directory`` (created if missing) and sign it.

    Preconditions: no entry contains 0x0A. Existing bundle files are replaced.

    :raises AuditError: if an entry contains a newline or a file cannot be written.
    """
    for i, entry in enumerate(entries):
        if b"\n" in entry:
            raise AuditError(f"entry {i} contains a newline (0x0A); bundle lines must not")
    checkpoint = Checkpoint(origin, len(entries), root_from_leaf_hashes(_hash_all(entries)))
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / ENTRIES_FILE).write_bytes(b"".join(e + b"\n" for e in entries))
        note = log_key.sign(checkpoint.to_text())
        (directory / CHECKPOINT_FILE).write_bytes(note.encode("utf-8"))
        (directory / VKEY_FILE).write_bytes(log_key.public_vkey().encode("utf-8") + b"\n")
    except OSError as exc:
        raise AuditError(f"cannot write bundle {directory}: {exc}") from exc
    return checkpoint


def _hash_all(entries: Sequence[bytes]) -> list[bytes]:
    return [leaf_hash(e) for e in entries]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise VerificationError(f"cannot read {path}: {exc}") from exc


def _read_vkeys(path: Path) -> list[Verifier]:
    raw = _read(path)
    try:
        lines = raw.decode("utf-8").removesuffix("\n").split("\n")
    except UnicodeDecodeError as exc:
        raise VerificationError(f"{path}: not valid UTF-8") from exc
    if lines == [""]:
        raise VerificationError(f"{path}: want at least one verifier key line")
    return [parse_vkey(line) for line in lines]


def _split_lines(data: bytes, path: Path) -> list[bytes]:
    """Split NDJSON bytes into lines on b"\\n" only; the last line must be terminated."""
    if not data:
        return []
    if not data.endswith(b"\n"):
        line_no = data.count(b"\n")
        raise VerificationError(f"{path}: line {line_no} (0-based) lacks its final newline")
    return data[:-1].split(b"\n")


def verify_bundle(
    directory: Path,
    *,
    since: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    trusted_vkey: str | None = None,
) -> BundleReport:
    """Verify a bundle and return what it commits to.

    Checks, in order: ``log.vkey`` parses (and equals ``trusted_vkey`` if given); the
    checkpoint note verifies with it; every line of ``entries.ndjson`` is hashed
    (``progress(done, total)`` is called after each line, or once as ``(0, 0)``); the
    line count equals the checkpoint size; the computed root equals the checkpoint
    root. With ``since`` (an older checkpoint note signed by the same key) a
    consistency proof from the old tree to the new one is built from the leaves and
    verified against both signed roots.

    Preconditions: none; the directory content is untrusted.

    :raises VerificationError: on the first problem found, naming the file, line or
        index and the expected and computed values.
    """
    directory = Path(directory)
    verifiers = _read_vkeys(directory / VKEY_FILE)
    if trusted_vkey is not None and parse_vkey(trusted_vkey) not in verifiers:
        raise VerificationError(
            f"{VKEY_FILE}: the trusted key {trusted_vkey!r} is not among the bundle's keys"
        )
    checkpoint = _open(directory / CHECKPOINT_FILE, verifiers)
    if (directory / RANGE_FILE).exists():
        if since is not None:
            raise VerificationError("--since needs a whole-log bundle, not a range bundle")
        return verify_range(directory, checkpoint, progress)
    lines = _split_lines(_read(directory / ENTRIES_FILE), directory / ENTRIES_FILE)
    total = len(lines)
    hashes: list[bytes] = []
    for done, line in enumerate(lines, 1):
        hashes.append(leaf_hash(line))
        if progress is not None:  # after every line; callers throttle their output
            progress(done, total)
    if progress is not None and total == 0:
        progress(0, 0)
    if total != checkpoint.size:
        raise VerificationError(
            f"{ENTRIES_FILE} has {total} lines but the checkpoint size is {checkpoint.size}"
        )
    root = root_from_leaf_hashes(hashes)
    if root != checkpoint.root:
        hint = next((i for i, line in enumerate(lines) if line.endswith(b"\r")), None)
        extra = "" if hint is None else f" (line {hint} ends in CR: was the file converted?)"
        raise VerificationError(
            f"root mismatch over {total} lines: checkpoint {checkpoint.root.hex()}, "
            f"computed {root.hex()}{extra}"
        )
    if since is not None:
        _check_since(since, verifiers, checkpoint, hashes)
    return BundleReport(size=checkpoint.size, root=root.hex(), origin=checkpoint.origin)


def _open(path: Path, verifiers: list[Verifier]) -> Checkpoint:
    try:
        return open_checkpoint(_read(path), verifiers)
    except VerificationError as exc:
        raise VerificationError(f"{path}: {exc.args[0]}") from exc


def _check_since(
    path: Path, verifiers: list[Verifier], new: Checkpoint, hashes: list[bytes]
) -> None:
    """Verify that the older checkpoint at ``path`` is a prefix of the new tree."""
    old = _open(path, verifiers)
    if old.origin != new.origin:
        raise VerificationError(f"{path}: origin {old.origin!r}, want {new.origin!r}")
    if old.size > new.size:
        raise VerificationError(
            f"{path}: older checkpoint size {old.size} > current size {new.size} (rollback?)"
        )
    if old.size == 0:  # the empty tree is a prefix of every tree; only its root is fixed
        if old.root != EMPTY_ROOT:
            raise VerificationError(
                f"{path}: size 0 but root {old.root.hex()}, want {EMPTY_ROOT.hex()}"
            )
        return
    proof = consistency_proof(old.size, hashes)
    try:
        verify_consistency(
            size1=old.size, size2=new.size, root1=old.root, root2=new.root, proof=proof
        )
    except VerificationError as exc:
        prefix = range_root(hashes, 0, old.size).hex()
        raise VerificationError(
            f"{path} (size {old.size}, root {old.root.hex()}) is not consistent with the "
            f"bundle (size {new.size}; its first {old.size} leaves have root {prefix}): "
            f"{exc.args[0]}"
        ) from exc


def _range_meta(directory: Path, size: int) -> tuple[int, int]:
    try:
        meta = json.loads(_read(directory / RANGE_FILE))
        lo, hi, n = meta["start"], meta["end"], meta["size"]
    except (ValueError, KeyError, TypeError) as exc:
        raise VerificationError(f"{RANGE_FILE}: malformed ({exc})") from exc
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (lo, hi, n)):
        raise VerificationError(f"{RANGE_FILE}: start, end and size must be integers")
    if n != size or not 0 <= lo <= hi <= size:
        raise VerificationError(
            f"{RANGE_FILE}: range [{lo}, {hi}) of size {n} does not fit the checkpoint size {size}"
        )
    return lo, hi


def verify_range(
    directory: Path, checkpoint: Checkpoint, progress: Callable[[int, int], None] | None = None
) -> BundleReport:
    """Check every entry of a range bundle against the checkpoint with its inclusion proof.

    :raises VerificationError: naming the entry and what failed.
    """
    lo, hi = _range_meta(directory, checkpoint.size)
    lines = _split_lines(_read(directory / ENTRIES_FILE), directory / ENTRIES_FILE)
    proofs = _split_lines(_read(directory / PROOFS_FILE), directory / PROOFS_FILE)
    if len(lines) != hi - lo or len(proofs) != hi - lo:
        raise VerificationError(
            f"range [{lo}, {hi}) wants {hi - lo} entries and proofs; "
            f"got {len(lines)} entries and {len(proofs)} proofs"
        )
    for n, (line, raw) in enumerate(zip(lines, proofs, strict=True)):
        index = lo + n
        try:
            doc = json.loads(raw)
            if doc["index"] != index:
                raise ValueError(f"index {doc['index']}, want {index}")
            proof = [base64.b64decode(h, validate=True) for h in doc["proof"]]
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise VerificationError(f"{PROOFS_FILE} line {n}: malformed ({exc})") from exc
        try:
            verify_inclusion(
                index=index,
                size=checkpoint.size,
                leaf_hash=leaf_hash(line),
                proof=proof,
                root=checkpoint.root,
            )
        except VerificationError as exc:
            raise VerificationError(f"entry {index}: {exc.args[0]}") from exc
        if progress is not None:
            progress(n + 1, hi - lo)
    return BundleReport(size=checkpoint.size, root=checkpoint.root.hex(), origin=checkpoint.origin)
