"""C2SP signed notes and tlog checkpoints with Ed25519 keys.

Formats (c2sp.org/signed-note, c2sp.org/tlog-checkpoint):

- note: ``text`` (ends in ``\\n``), a blank line, then one or more signature lines
  ``"— <key name> <base64(4-byte key ID || signature)>\\n"`` (U+2014 em dash). The
  signature covers ``text`` including its final newline.
- verifier key: ``<name>+<hex key ID>+<base64(0x01 || 32-byte Ed25519 public key)>``.
- checkpoint text: ``<origin>\\n<decimal size>\\n<base64 root>\\n[extension lines\\n]``.

Parsing and verifying untrusted input raises :class:`VerificationError`; invalid
arguments on the producing side (signing, building) raise :class:`AuditError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.audit.rfc6962 import HASH_SIZE
from gateway.errors import AuditError, VerificationError

__all__ = [
    "MAX_SIGNATURES",
    "Checkpoint",
    "LogKey",
    "Verifier",
    "key_id",
    "open_checkpoint",
    "parse_vkey",
    "sign_checkpoint",
    "sign_note",
    "verify_note",
    "vkey_line",
]

SIG_PREFIX = "\u2014 "  # signed-note §Format: em dash U+2014, then a space
ED25519_TYPE = b"\x01"  # signed-note §Signature types
#: Most signature lines a note may carry (C2SP: verifiers must accept at least 16).
MAX_SIGNATURES = 100
_MAX_SIZE = 2**64 - 1
_SIZE_RE = re.compile(r"0|[1-9][0-9]{0,19}")  # tlog-checkpoint: ASCII decimal, no leading 0
_KEY_ID_RE = re.compile(r"[0-9a-fA-F]{8}")


def _is_valid_key_name(name: str) -> bool:
    # signed-note §Format: non-empty, no Unicode spaces, no "+". Controls never allowed.
    return bool(name) and "+" not in name and not any(c.isspace() or c < " " for c in name)


def _control_char(text: str) -> int | None:
    """Return the offset of the first control character other than newline, if any."""
    for i, c in enumerate(text):
        if c < " " and c != "\n":
            return i
    return None


def _b64decode(value: str, what: str) -> bytes:
    """Decode strict, canonical standard base64 (RFC 4648 §4)."""
    try:
        out = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise VerificationError(f"{what}: invalid base64 {value!r}") from exc
    if base64.b64encode(out).decode("ascii") != value:
        raise VerificationError(f"{what}: non-canonical base64 {value!r}")
    return out


def _raw_public(public_key: Ed25519PublicKey | bytes) -> bytes:
    if isinstance(public_key, Ed25519PublicKey):
        return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if len(public_key) != 32:
        raise AuditError(f"Ed25519 public key has {len(public_key)} bytes, want 32")
    return bytes(public_key)


def key_id(name: str, public_key_bytes: bytes) -> bytes:
    """Return the 4-byte key ID ``SHA-256(name || 0x0A || 0x01 || pubkey)[:4]``.

    Preconditions: ``public_key_bytes`` is a raw 32-byte Ed25519 key (signed-note §Ed25519).
    """
    raw = _raw_public(public_key_bytes)
    return hashlib.sha256(name.encode("utf-8") + b"\n" + ED25519_TYPE + raw).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """An Ed25519 note verifier: key name, 4-byte key ID and raw 32-byte public key."""

    name: str
    key_id: bytes
    public_key: bytes

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Return whether ``signature`` is a valid Ed25519 signature of ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_vkey(self) -> str:
        """Return the verifier key line ``name+hexid+base64(0x01||pub)``."""
        b64 = base64.b64encode(ED25519_TYPE + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{b64}"


def vkey_line(name: str, public_key: Ed25519PublicKey | bytes) -> str:
    """Return the verifier key line for ``name`` and an Ed25519 public key.

    :raises AuditError: if ``name`` is not a valid key name or the key is not 32 bytes.
    """
    if not _is_valid_key_name(name):
        raise AuditError(f"invalid key name {name!r}")
    raw = _raw_public(public_key)
    return Verifier(name, key_id(name, raw), raw).to_vkey()


def vkey_parts(line: str, what: str) -> tuple[str, str, bytes]:
    """The key name, hex key ID and decoded key (type byte first) of a vkey line.

    :raises VerificationError: if the line is not ``name+8 hex digits+base64``.
    """
    parts = line.split("+", 2)
    if len(parts) != 3:
        raise VerificationError(f"{what} {line!r}: want name+hexid+base64key")
    name, id_hex, key_b64 = parts
    if not _is_valid_key_name(name):
        raise VerificationError(f"{what}: invalid key name {name!r}")
    if not _KEY_ID_RE.fullmatch(id_hex):
        raise VerificationError(f"{what}: key ID {id_hex!r} is not 8 hex digits")
    return name, id_hex, _b64decode(key_b64, what)


def parse_vkey(line: str) -> Verifier:
    """Parse a verifier key line ``name+hexid+base64(0x01||pub)`` (no trailing newline).

    base64 may itself contain ``+``, hence ``split("+", 2)``. The key ID must match the
    one derived from name and key.

    :raises VerificationError: if the line is malformed or the key ID does not match.
    """
    name, id_hex, key = vkey_parts(line, "verifier key")
    if len(key) != 33 or key[:1] != ED25519_TYPE:
        raise VerificationError("verifier key: not an Ed25519 key (want 0x01 || 32 bytes)")
    got = key_id(name, key[1:])
    if got != bytes.fromhex(id_hex):
        raise VerificationError(f"verifier key: key ID {id_hex} does not match key ({got.hex()})")
    return Verifier(name, got, key[1:])


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Return the signed note: ``text``, a blank line, one Ed25519 signature line.

    Preconditions: ``text`` is non-empty, ends with ``\\n``, has no control characters
    other than ``\\n``; ``name`` is a valid key name.

    :raises AuditError: if a precondition does not hold.
    """
    if not _is_valid_key_name(name):
        raise AuditError(f"invalid key name {name!r}")
    if not text.endswith("\n"):
        raise AuditError("note text must be non-empty and end with a newline")
    if (pos := _control_char(text)) is not None:
        raise AuditError(f"note text has control character {ord(text[pos]):#04x} at {pos}")
    try:
        message = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise AuditError("note text is not valid Unicode") from exc
    kid = key_id(name, _raw_public(private_key.public_key()))
    blob = base64.b64encode(kid + private_key.sign(message)).decode("ascii")
    return f"{text}\n{SIG_PREFIX}{name} {blob}\n"


def verify_note(note: str | bytes, verifiers: Iterable[Verifier]) -> str:
    """Verify a signed note and return its text (with the final newline).

    Signatures from unknown (name, key ID) pairs are ignored; a known key whose
    signature fails rejects the whole note; at least one known key must verify
    (signed-note §Signatures). Preconditions: ``verifiers`` are trusted keys.

    :raises VerificationError: if the note is malformed (not UTF-8, control characters,
        no blank line, bad signature line or base64, more than ``MAX_SIGNATURES``
        lines) or does not verify.
    """
    text, lines = _split_note(note)
    ring = _keyring(verifiers)
    message = text.encode("utf-8")
    verified, seen = 0, []
    for n, line in enumerate(lines, 1):
        name, kid, sig = _signature_line(n, line)
        seen.append(f"{name}+{kid.hex()}")
        verifier = ring.get((name, kid))
        if verifier is None:
            continue  # unknown key: MUST be ignored
        if not verifier.verify(message, sig):
            raise VerificationError(f"note signature line {n} by {name}+{kid.hex()} is invalid")
        verified += 1
    if not verified:
        known = sorted(f"{name}+{kid.hex()}" for name, kid in ring)
        raise VerificationError(f"note has no signature by a known key: got {seen}, want {known}")
    return text


def _split_note(note: str | bytes) -> tuple[str, list[str]]:
    """The note's text (up to its last blank line) and its signature lines."""
    if isinstance(note, str):
        try:
            note = note.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise VerificationError("note is not valid UTF-8") from exc
    try:
        decoded = note.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VerificationError(f"note is not valid UTF-8 at byte {exc.start}") from exc
    if (pos := _control_char(decoded)) is not None:
        raise VerificationError(f"note has control character {ord(decoded[pos]):#04x} at {pos}")
    split = decoded.rfind("\n\n")  # the text ends at the LAST blank line
    if split < 0:
        raise VerificationError("note has no blank line before its signatures")
    text, sigs = decoded[: split + 1], decoded[split + 2 :]
    if not sigs.endswith("\n"):
        raise VerificationError("note signature block is empty or lacks its final newline")
    lines = sigs[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise VerificationError(f"note has {len(lines)} signature lines, max {MAX_SIGNATURES}")
    return text, lines


def _keyring(verifiers: Iterable[Verifier]) -> dict[tuple[str, bytes], Verifier]:
    """The verifiers by (name, key ID); two may not share both (AuditError)."""
    ring: dict[tuple[str, bytes], Verifier] = {}
    for v in verifiers:
        if ring.setdefault((v.name, v.key_id), v) != v:
            raise AuditError(f"two verifiers share name {v.name!r} and key ID {v.key_id.hex()}")
    return ring


def _signature_line(n: int, line: str) -> tuple[str, bytes, bytes]:
    """The key name, 4-byte key ID and signature of signature line ``n``."""
    name, sep, b64 = line.removeprefix(SIG_PREFIX).partition(" ")
    if not line.startswith(SIG_PREFIX) or not sep or not _is_valid_key_name(name):
        raise VerificationError(f"note signature line {n} is malformed: {line!r}")
    blob = _b64decode(b64, f"note signature line {n}")
    if len(blob) < 5:
        raise VerificationError(f"note signature line {n}: {len(blob)} bytes, want >= 5")
    return name, blob[:4], blob[4:]


@dataclass(frozen=True)
class Checkpoint:
    """A tlog checkpoint body: origin, tree size, 32-byte root and extension lines.

    :raises AuditError: on construction with invalid fields.
    """

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or _control_char(self.origin) is not None or "\n" in self.origin:
            raise AuditError(f"checkpoint origin {self.origin!r} is empty or has controls")
        if isinstance(self.size, bool) or not 0 <= self.size <= _MAX_SIZE:
            raise AuditError(f"checkpoint size {self.size!r} is not a uint64")
        if len(self.root) != HASH_SIZE:
            raise AuditError(f"checkpoint root has {len(self.root)} bytes, want {HASH_SIZE}")
        for ext in self.extensions:
            if not ext or "\n" in ext or _control_char(ext) is not None:
                raise AuditError(f"checkpoint extension line {ext!r} is empty or has controls")

    def to_text(self) -> str:
        """Return the note text, ending with a newline (tlog-checkpoint §Note text)."""
        root = base64.b64encode(self.root).decode("ascii")
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions)
        )

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body strictly (the inverse of :meth:`to_text`).

        :raises VerificationError: unless ``text`` is at least three non-empty lines,
            each ending in ``\\n``: origin, decimal size without leading zeros,
            canonical base64 of a 32-byte root; then optional non-empty extensions.
        """
        if not text.endswith("\n"):
            raise VerificationError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise VerificationError(f"checkpoint has {len(lines)} lines, want at least 3")
        origin, size_line, root_line, *extensions = lines
        if not _SIZE_RE.fullmatch(size_line) or int(size_line) > _MAX_SIZE:
            raise VerificationError(f"checkpoint size {size_line!r} is not a canonical uint64")
        root = _b64decode(root_line, "checkpoint root")
        try:
            return cls(origin, int(size_line), root, tuple(extensions))
        except AuditError as exc:
            raise VerificationError(exc.args[0]) from exc


def sign_checkpoint(checkpoint: Checkpoint, name: str, private_key: Ed25519PrivateKey) -> str:
    """Return ``checkpoint`` as a signed note by key ``name`` (see :func:`sign_note`)."""
    return sign_note(checkpoint.to_text(), name, private_key)


def open_checkpoint(note: str | bytes, verifier: Verifier | Iterable[Verifier]) -> Checkpoint:
    """Verify a checkpoint note signed by ``verifier`` (or by one of several, e.g. the current
    log key and earlier ones after a rotation) and parse its body.

    :raises VerificationError: if the note or the checkpoint body is invalid.
    """
    verifiers = [verifier] if isinstance(verifier, Verifier) else list(verifier)
    return Checkpoint.from_text(verify_note(note, verifiers))


@dataclass(frozen=True, eq=False)
class LogKey:
    """The log's Ed25519 signing key and key name.

    File format (``save``/``load``): a UTF-8 JSON object with exactly two string
    members, ``{"name": "<key name>", "private_key_pem": "<PKCS#8 PEM, unencrypted>"}``,
    created with mode 0600. Keep it out of bundles; bundles carry ``public_vkey()``.
    """

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        if not _is_valid_key_name(self.name):
            raise AuditError(f"invalid key name {self.name!r}")

    @classmethod
    def generate(cls, name: str) -> LogKey:
        """Return a fresh key named ``name``."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: Path) -> LogKey:
        """Read a key file written by :meth:`save`.

        :raises AuditError: if the file is unreadable, malformed or not Ed25519.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise AuditError(f"cannot load log key {path}: {exc}") from exc
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, source: str = "the log key") -> LogKey:
        """A key from the text of a key file (e.g. held in an environment variable).

        :raises AuditError: if the text is malformed or not an Ed25519 key.
        """
        try:
            doc = json.loads(text)
            if not isinstance(doc, dict) or set(doc) != {"name", "private_key_pem"}:
                raise ValueError("want an object with exactly name and private_key_pem")
            name, pem = doc["name"], doc["private_key_pem"]
            if not isinstance(name, str) or not isinstance(pem, str):
                raise ValueError("name and private_key_pem must be strings")
            key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise AuditError(f"cannot load log key {source}: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditError(f"log key {source} is not an Ed25519 key")
        return cls(name, key)

    def save(self, path: Path, *, overwrite: bool = False) -> None:
        """Write the key file (mode 0600); refuse to replace one unless ``overwrite``.

        :raises AuditError: if the file exists (and not ``overwrite``) or cannot be written.
        """
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        data = json.dumps({"name": self.name, "private_key_pem": pem}, indent=2) + "\n"
        from gateway.files import write_secret

        try:  # 0600 from creation; a file of a wider mode is replaced, not rewritten
            write_secret(path, data.encode("utf-8"), overwrite=overwrite)
        except OSError as exc:
            raise AuditError(f"cannot write log key {path}: {exc}") from exc

    def public_key_bytes(self) -> bytes:
        """Return the raw 32-byte Ed25519 public key."""
        return _raw_public(self.private_key.public_key())

    def verifier(self) -> Verifier:
        """Return the matching :class:`Verifier`."""
        raw = self.public_key_bytes()
        return Verifier(self.name, key_id(self.name, raw), raw)

    def public_vkey(self) -> str:
        """Return the verifier key line ``name+hexid+base64(0x01||pub)``."""
        return self.verifier().to_vkey()

    def sign(self, text: str) -> str:
        """Sign ``text`` as a note (see :func:`sign_note`)."""
        return sign_note(text, self.name, self.private_key)
