"""Ed25519 signatures over RFC 8785 canonical envelope bytes."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.core import ed25519
from gateway.core.canonical import canonical_bytes, plain_bytes
from gateway.errors import AuthenticationError, ConfigError
from schemas.envelope import SIGNATURE_ATTRIBUTE


def signing_input(envelope: Mapping[str, Any]) -> bytes:
    """The bytes a signature covers: the canonical envelope without its signature member."""
    return canonical_bytes({k: v for k, v in envelope.items() if k != SIGNATURE_ATTRIBUTE})


def sign_envelope(envelope: Mapping[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """Return a copy of ``envelope`` with ``a6signature`` set (base64, 64-byte Ed25519)."""
    signature = key.sign(signing_input(envelope))
    out = dict(envelope)
    out[SIGNATURE_ATTRIBUTE] = base64.b64encode(signature).decode("ascii")
    return out


def verify_envelope(
    envelope: Mapping[str, Any], key: Ed25519PublicKey, *, plain: bool = False
) -> None:
    """Check the envelope's signature. ``plain``: the envelope was decoded from JSON and
    holds no float and no integer of more than 15 digits, so its signing input is the C
    encoder's text (:func:`gateway.core.canonical.plain_bytes`).

    :raises AuthenticationError: (MSG-003) when the signature is missing, malformed or wrong.
    """
    raw = envelope.get(SIGNATURE_ATTRIBUTE)
    if not isinstance(raw, str):
        raise AuthenticationError("envelope carries no signature", code="MSG-003")
    try:
        signature = base64.b64decode(raw, validate=True)
    except binascii.Error as exc:
        raise AuthenticationError("signature is not valid base64", code="MSG-003") from exc
    unsigned = {k: v for k, v in envelope.items() if k != SIGNATURE_ATTRIBUTE}
    message = plain_bytes(unsigned) if plain else canonical_bytes(unsigned)
    if not ed25519.verify(key, signature, message):
        raise AuthenticationError("Ed25519 signature does not verify", code="MSG-003")


def public_key_b64(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def load_public_key_b64(text: str) -> Ed25519PublicKey:
    """Parse a base64 raw 32-byte Ed25519 public key.

    :raises ConfigError: when the text is not such a key.
    """
    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"not a base64 Ed25519 public key: {text[:16]}...") from exc


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key_pem(data: bytes) -> Ed25519PrivateKey:
    """Parse a PKCS#8 PEM Ed25519 private key.

    :raises ConfigError: when the data is not such a key.
    """
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError("not a PEM PKCS#8 private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError("private key is not Ed25519")
    return key
