"""RFC 8785 (JCS) canonical bytes and digests."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

from gateway.errors import SchemaError


def canonical_bytes(obj: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value.

    :raises SchemaError: (MSG-001) for values JCS cannot carry (floats out of range,
        integers above 2^53 - 1, non-string keys).
    """
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise SchemaError(f"value cannot be canonicalised (RFC 8785): {exc}") from exc


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
