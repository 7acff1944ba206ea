"""C2SP ``cosignature/v1``: a witness's Ed25519 signature over a checkpoint it checked.

Format (c2sp.org/tlog-cosignature, §Format and §Ed25519 signed message):

- a cosignature is a signed-note signature line ``— <name> base64(key ID || timestamp ||
  signature)``; the key ID is ``SHA-256(name || 0x0A || 0x04 || 32-byte public key)[:4]``
  (type byte 0x04, not the 0x01 of a plain Ed25519 note key);
- ``timestamp`` is a u64 POSIX time, big-endian, at most 2^63 - 1; the 64-byte Ed25519
  signature covers ``cosignature/v1\\n`` + ``time <timestamp>\\n`` + the whole checkpoint
  body (extension lines included, signature lines not);
- a witness's verifier key is ``<name>+<hex key ID>+<base64(0x04 || public key)>``.

The same raw Ed25519 key must never serve as a witness key and a log key (the message does
not commit to the name; §Ed25519 signed message).

Parsing and verifying untrusted input raises :class:`VerificationError`; invalid arguments
on the producing side raise :class:`AuditError`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit.note import (
    SIG_PREFIX,
    Checkpoint,
    LogKey,
    _is_valid_key_name,
    _raw_public,
    _signature_line,
    _split_note,
    vkey_parts,
)
from gateway.errors import AuditError, VerificationError

__all__ = [
    "COSIGNATURE_TYPE",
    "MAX_TIMESTAMP",
    "Cosignature",
    "Cosigner",
    "WitnessKey",
    "add_cosignatures",
    "cosignature_key_id",
    "cosigned_message",
    "parse_witness_vkey",
    "require_cosignatures",
    "verified_cosignatures",
]

#: Key type byte of an Ed25519 cosignature/v1 key (tlog-cosignature §Format).
COSIGNATURE_TYPE = b"\x04"
HEADER = "cosignature/v1\n"  # §Ed25519 signed message: domain separation
#: §Format: the timestamp MUST NOT exceed 2^63 - 1.
MAX_TIMESTAMP = 2**63 - 1
_BLOB_SIZE = 4 + 8 + 64  # key ID, timestamp, Ed25519 signature


def cosignature_key_id(name: str, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || 0x04 || public key)[:4]`` (tlog-cosignature §Format).

    :raises AuditError: if ``public_key`` is not 32 bytes.
    """
    raw = _raw_public(public_key)
    return hashlib.sha256(name.encode("utf-8") + b"\n" + COSIGNATURE_TYPE + raw).digest()[:4]


def cosigned_message(text: str, timestamp: int) -> bytes:
    """The bytes a cosignature/v1 signs: header line, time line, checkpoint body.

    Preconditions: ``text`` is a checkpoint body ending in ``\\n`` (no signature lines).

    :raises AuditError: if ``timestamp`` is outside 0..2^63-1 or ``text`` lacks its newline.
    """
    if isinstance(timestamp, bool) or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise AuditError(f"cosignature timestamp {timestamp!r} is not in 0..2^63-1")
    if not text.endswith("\n"):
        raise AuditError("a cosigned checkpoint body must end with a newline")
    return f"{HEADER}time {timestamp}\n{text}".encode()


@dataclass(frozen=True)
class Cosignature:
    """One verified cosignature: the witness's name and key ID, and its timestamp."""

    name: str
    key_id: bytes
    timestamp: int


@dataclass(frozen=True)
class Cosigner:
    """A witness's public key as a verifier pins it: name, key ID, raw 32-byte key."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def of(cls, name: str, public_key: bytes) -> Cosigner:
        """The cosigner ``name`` with raw key ``public_key`` (key ID derived).

        :raises AuditError: if the name is invalid or the key is not 32 bytes.
        """
        if not _is_valid_key_name(name):
            raise AuditError(f"invalid witness name {name!r}")
        return cls(name, cosignature_key_id(name, public_key), bytes(public_key))

    def to_vkey(self) -> str:
        """``name+hex key ID+base64(0x04 || public key)`` (signed-note §Verifier keys)."""
        b64 = base64.b64encode(COSIGNATURE_TYPE + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{b64}"

    def verify(self, text: str, blob: bytes) -> int:
        """Check ``blob`` (timestamp || signature, without the key ID) over ``text``.

        :returns: the cosignature's timestamp.
        :raises VerificationError: if the blob has the wrong size, the timestamp exceeds
            2^63 - 1, or the signature does not verify.
        """
        if len(blob) != _BLOB_SIZE - 4:
            raise VerificationError(
                f"cosignature by {self.name} has {len(blob)} bytes, want {_BLOB_SIZE - 4}"
            )
        timestamp = int.from_bytes(blob[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            raise VerificationError(f"cosignature by {self.name}: timestamp above 2^63-1")
        try:
            key = Ed25519PublicKey.from_public_bytes(self.public_key)
            key.verify(blob[8:], cosigned_message(text, timestamp))
        except (InvalidSignature, ValueError) as exc:
            raise VerificationError(
                f"cosignature by {self.name}+{self.key_id.hex()} does not verify over "
                "this checkpoint"
            ) from exc
        return timestamp


def parse_witness_vkey(line: str) -> Cosigner:
    """Parse a witness verifier key ``name+hexid+base64(0x04||pub)`` (no newline).

    :raises VerificationError: if malformed, not type 0x04, or the key ID does not match.
    """
    name, id_hex, key = vkey_parts(line.strip(), "witness key")
    if len(key) != 33 or key[:1] != COSIGNATURE_TYPE:
        got = key[:1].hex() or "nothing"
        raise VerificationError(
            f"witness key {name}: type byte {got}, want 04 (cosignature/v1) and 32 key bytes"
        )
    cosigner = Cosigner.of(name, key[1:])
    if cosigner.key_id != bytes.fromhex(id_hex):
        raise VerificationError(
            f"witness key {name}: key ID {id_hex} does not match the key ({cosigner.key_id.hex()})"
        )
    return cosigner


def verified_cosignatures(
    note: str | bytes, cosigners: Iterable[Cosigner]
) -> tuple[Checkpoint, list[Cosignature]]:
    """The checkpoint of a signed note and its valid cosignatures by pinned ``cosigners``.

    Lines by other keys (the log's, unknown witnesses') are ignored, as signed-note says;
    a line by a pinned witness that does not verify over this very checkpoint rejects the
    note (a cosignature over another checkpoint is evidence, not noise). The log's own
    signature is NOT checked here: open the note with the log key as well.

    :raises VerificationError: if the note or its body is malformed, or a pinned witness's
        line does not verify.
    """
    text, lines = _split_note(note)
    checkpoint = Checkpoint.from_text(text)
    ring = {(c.name, c.key_id): c for c in cosigners}
    found: dict[tuple[str, bytes], Cosignature] = {}
    for n, line in enumerate(lines, 1):
        name, kid, blob = _signature_line(n, line)
        cosigner = ring.get((name, kid))
        if cosigner is None:
            continue
        timestamp = cosigner.verify(text, blob)
        found.setdefault((name, kid), Cosignature(name, kid, timestamp))
    return checkpoint, list(found.values())


def require_cosignatures(
    note: str | bytes, cosigners: Iterable[Cosigner], min_witnesses: int
) -> list[Cosignature]:
    """The reader's policy: at least ``min_witnesses`` distinct pinned witnesses cosigned
    this very checkpoint (each line checked by :func:`verified_cosignatures`).

    Preconditions: ``1 <= min_witnesses <= len(cosigners)`` (AuditError otherwise: a policy
    no note can meet is a mistake, not a failed verification).

    :raises VerificationError: with fewer valid cosignatures, or a pinned witness's line
        that does not verify over the checkpoint.
    """
    pinned = list(cosigners)
    names = {(c.name, c.key_id) for c in pinned}
    if not 1 <= min_witnesses <= len(names):
        raise AuditError(
            f"at least {min_witnesses} witnesses required but {len(names)} witness keys pinned"
        )
    checkpoint, found = verified_cosignatures(note, pinned)
    if len(found) < min_witnesses:
        got = ", ".join(c.name for c in found) or "none"
        raise VerificationError(
            f"checkpoint {checkpoint.origin} at size {checkpoint.size} has {len(found)} valid "
            f"cosignatures by pinned witnesses ({got}), want at least {min_witnesses}"
        )
    return found


def add_cosignatures(note: str, lines: Iterable[str]) -> str:
    """``note`` with cosignature ``lines`` (each ``— ...\\n``) appended after its own.

    Lines the note already carries are not repeated.

    :raises AuditError: if a line is not one signature line ending in a newline.
    """
    if not note.endswith("\n"):
        raise AuditError("a signed note ends with a newline")
    out = note
    for line in lines:
        if not line.startswith(SIG_PREFIX) or not line.endswith("\n") or "\n" in line[:-1]:
            raise AuditError(f"not one signature line: {line!r}")
        if f"\n{line}" not in out:
            out += line
    return out


@dataclass(frozen=True, eq=False)
class WitnessKey:
    """A witness's signing key: a key file of :class:`LogKey`'s format (name and PKCS#8
    PEM, mode 0600) used for cosignature/v1 (key type 0x04)."""

    key: LogKey

    @classmethod
    def generate(cls, name: str) -> WitnessKey:
        """A fresh key named ``name`` (:raises AuditError: for an invalid name)."""
        return cls(LogKey.generate(name))

    @classmethod
    def load(cls, path: Path) -> WitnessKey:
        """:raises AuditError: if the key file is unreadable, malformed or not Ed25519."""
        return cls(LogKey.load(path))

    @property
    def name(self) -> str:
        return self.key.name

    def cosigner(self) -> Cosigner:
        """The public half, as a verifier pins it."""
        return Cosigner.of(self.key.name, self.key.public_key_bytes())

    def vkey(self) -> str:
        """The witness's verifier key line (type 0x04)."""
        return self.cosigner().to_vkey()

    def cosign(self, checkpoint: Checkpoint, timestamp: int) -> str:
        """The cosignature line ``— <name> base64(key ID || timestamp || sig)\\n``.

        :raises AuditError: if ``timestamp`` is outside 1..2^63-1 (tlog-witness: a witness's
            cosignature MUST NOT have a zero timestamp).
        """
        if timestamp == 0:
            raise AuditError("a witness's cosignature must not have a zero timestamp")
        message = cosigned_message(checkpoint.to_text(), timestamp)
        signature = self.key.private_key.sign(message)
        blob = self.cosigner().key_id + timestamp.to_bytes(8, "big") + signature
        return f"{SIG_PREFIX}{self.key.name} {base64.b64encode(blob).decode('ascii')}\n"
