"""Ed25519 (RFC 8032) for the per-input path, through libsodium (PyNaCl).

Keys stay ``cryptography`` objects everywhere (loading, PEM, the trust file); only the two
operations every input pays for go through libsodium, which does them in about half the
time on the machines we measure (``tests/bench/bench_checks.py``, "ed25519" line):

- :func:`verify`, an input's signature;
- :func:`signer`, the gateway's signature on each message it sends.

Ed25519 signing is deterministic (RFC 8032 §5.1.6), so libsodium writes the same 64 bytes
as OpenSSL for the same key and message; ``tests/unit/core/test_ed25519.py`` checks it, and
that both libraries agree on valid and altered signatures. libsodium's verification is the
stricter one: it also refuses a non-canonical or small-order point, which no honest signer
writes, so such an input is refused with the same code (MSG-003) as any bad signature.
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

#: RFC 8032 §5.1.6: a signature is R || S, 32 bytes each
SIGNATURE_BYTES = 64
#: libsodium's key objects by raw public key; a trust file names a few hundred keys at most
_VERIFIERS: dict[bytes, VerifyKey] = {}
_VERIFIERS_MAX = 4096


def verify(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is ``key``'s Ed25519 signature of ``message``."""
    if len(signature) != SIGNATURE_BYTES:
        return False
    raw = key.public_bytes_raw()
    verifier = _VERIFIERS.get(raw)
    if verifier is None:
        if len(_VERIFIERS) >= _VERIFIERS_MAX:
            _VERIFIERS.clear()
        verifier = _VERIFIERS[raw] = VerifyKey(raw)
    try:
        verifier.verify(message, signature)
    except BadSignatureError:
        return False
    return True


def signer(key: Ed25519PrivateKey) -> Callable[[bytes], bytes]:
    """A function that signs a message with ``key`` (the 64-byte signature)."""
    signing = SigningKey(key.private_bytes_raw())

    def sign(message: bytes) -> bytes:
        return signing.sign(message).signature

    return sign
