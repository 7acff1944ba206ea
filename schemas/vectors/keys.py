"""The fixed TEST-ONLY Ed25519 keys of the vectors. Never trust them anywhere.

Each key's private key is a 32-byte seed (RFC 8032 §5.1.5): ``SHA-256("a6gw TEST ONLY
vector key " || name)``, so anyone can re-derive it; the RFC 9421 key is the one of RFC 9421
Appendix B.1.4 (``test-key-ed25519``).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

_SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
#: Validity of the registry keys in the trust file entries (the envelopes' times fall inside)
VALID_FROM, VALID_TO = "2026-01-01T00:00:00Z", "2031-01-01T00:00:00Z"
#: The checkpoints' origin and the log key's name (C2SP tlog-checkpoint, signed-note)
LOG_ORIGIN = "a6gw.test/vectors"
#: RFC 9421 Appendix B.1.4: the test key's private key "d" (JWK, base64url), its key id
RFC9421_KEY_D = "n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU"
RFC9421_KEY_ID = "test-key-ed25519"


@dataclass(frozen=True)
class TestKey:
    """One test key: its id, whom it speaks for, its role, and its 32-byte seed."""

    key_id: str
    principal: str
    role: str
    seed: bytes
    what: str

    @property
    def private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    def describe(self) -> dict[str, Any]:
        """The key in every format the gateway's files use."""
        public_b64 = base64.b64encode(self.public_raw).decode("ascii")
        out: dict[str, Any] = {
            "key_id": self.key_id,
            "what": self.what,
            "TEST_ONLY": True,
            "private_seed_hex": self.seed.hex(),
            "private_key_pem": self.private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode("ascii"),
            "public_key_hex": self.public_raw.hex(),
            "public_key_b64": public_b64,
            "public_key_b64url": base64.urlsafe_b64encode(self.public_raw)
            .decode("ascii")
            .rstrip("="),
            "public_key_pem": self.private.public_key()
            .public_bytes(serialization.Encoding.PEM, _SPKI)
            .decode("ascii"),
        }
        if self.role == "log":
            out["vkey"] = vkey(self.principal, self.public_raw)
        elif self.role != "rfc9421":
            out["trust_file_entry"] = {
                "key_id": self.key_id,
                "public_key": public_b64,
                "principal": self.principal,
                "role": self.role,
                "valid_from": VALID_FROM,
                "valid_to": VALID_TO,
                "status": "active",
            }
        return out


def _seed(name: str) -> bytes:
    return hashlib.sha256(b"a6gw TEST ONLY vector key " + name.encode("ascii")).digest()


def _test_key(key_id: str, principal: str, role: str, what: str) -> TestKey:
    return TestKey(key_id, principal, role, _seed(key_id), what)


JPN01 = _test_key("JPN01-test", "JPN01", "registry", "registry JPN01 (Japan's JCM registry)")
MNG01 = _test_key("MNG01-test", "MNG01", "registry", "registry MNG01 (Mongolia's registry)")
#: Not in the trust file: signs the "wrong key" vectors.
STRANGER = _test_key("stranger-test", "XXX01", "registry", "a key no trust file lists")
LOG = _test_key(LOG_ORIGIN, LOG_ORIGIN, "log", "the log's checkpoint key (C2SP signed note)")
RFC9421 = TestKey(
    RFC9421_KEY_ID,
    "",
    "rfc9421",
    base64.urlsafe_b64decode(RFC9421_KEY_D + "="),
    "RFC 9421 Appendix B.1.4 test-key-ed25519",
)
ALL = (JPN01, MNG01, STRANGER, LOG, RFC9421)


def note_key_id(name: str, public_raw: bytes) -> bytes:
    """C2SP signed-note: SHA-256(name || 0x0A || 0x01 || public key)[:4] (Ed25519 type 0x01)."""
    return hashlib.sha256(name.encode("utf-8") + b"\n\x01" + public_raw).digest()[:4]


def vkey(name: str, public_raw: bytes) -> str:
    """C2SP signed-note verifier key: ``name+hex(key id)+base64(0x01 || public key)``."""
    encoded = base64.b64encode(b"\x01" + public_raw).decode("ascii")
    return f"{name}+{note_key_id(name, public_raw).hex()}+{encoded}"


def keys_document() -> dict[str, Any]:
    """``keys.json``."""
    return {
        "description": "TEST-ONLY Ed25519 keys of the signing vectors: never trust them.",
        "seed_rule": 'private seed = SHA-256("a6gw TEST ONLY vector key " || key_id), except '
        "test-key-ed25519 (RFC 9421 Appendix B.1.4)",
        "keys": [k.describe() for k in ALL],
    }
