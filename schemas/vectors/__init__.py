"""Signing test vectors for partners' developers: fixed TEST-ONLY keys, signed envelopes
with their RFC 8785 bytes, RFC 9421 requests signed as the ingress expects, and C2SP
checkpoints with RFC 9162 proofs of a small log (``schemas/vectors/*.json``, see README.md).

``python -m schemas.vectors`` writes the files; ``--check`` fails when one is stale. The
generator is a small reference of its own: it uses ``cryptography``, ``rfc8785`` and
``hashlib`` and nothing of the gateway, so the vectors are not derived from the code the
tests check against them (tests/unit/vectors/).
"""

from __future__ import annotations

from pathlib import Path

#: Where the vector files live (beside this package's modules).
VECTORS_DIR = Path(__file__).resolve().parent
