"""RFC 9421 HTTP message signatures of requests to the ingress (``http-signatures.json``).

The ingress (gateway/ingress.py, connectors/httpsig.py) takes ``POST /v1/events`` signed
with label ``a6gw`` over ``@method``, ``@target-uri``, ``content-digest`` (RFC 9530,
sha-256), ``content-type`` and ``idempotency-key`` (the event id), with the parameters
``created``, ``keyid``, ``alg="ed25519"`` and ``nonce``; ``@target-uri`` is the ingress's
configured public URL plus the path. The signature base (RFC 9421 §2.5) is written out here
line by line. The first vector is RFC 9421 Appendix B.2.6 itself.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from schemas.vectors.envelopes import envelope_vectors
from schemas.vectors.keys import JPN01, MNG01, RFC9421, TestKey

BASE_URL = "https://gateway.example:8444"
TARGET = BASE_URL + "/v1/events"
COMPONENTS = ("@method", "@target-uri", "content-digest", "content-type", "idempotency-key")
CREATED = 1772355600  # 2026-03-01T09:00:00Z
LABEL = "a6gw"
MAX_AGE_S = 300

# RFC 9421 Appendix B.2: the test request; B.2.6: its covered components, parameters and
# the expected signature (Ed25519 is deterministic: signing again gives the same bytes).
B26_HEADERS = [
    ["Host", "example.com"],
    ["Date", "Tue, 20 Apr 2021 02:07:55 GMT"],
    ["Content-Type", "application/json"],
    [
        "Content-Digest",
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
    ],
    ["Content-Length", "18"],
]
B26_SIGNATURE = (
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
)
B26_PARAMS = (
    '("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    f'"@signature-params": {B26_PARAMS}'
)


def content_digest(body: bytes) -> str:
    """RFC 9530 §2: ``sha-256=:<base64 of SHA-256(body)>:``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def ingress_request(
    body: bytes, event_id: str, key: TestKey, *, nonce: str, key_id: str | None = None
) -> dict[str, Any]:
    """A request signed as the ingress expects (label, components and parameters above)."""
    key_id = key_id or key.key_id
    digest = content_digest(body)
    params = (
        "(" + " ".join(f'"{c}"' for c in COMPONENTS) + ")"
        f';created={CREATED};keyid="{key_id}";alg="ed25519";nonce="{nonce}"'
    )
    base = "\n".join(
        [
            '"@method": POST',
            f'"@target-uri": {TARGET}',
            f'"content-digest": {digest}',
            '"content-type": application/json',
            f'"idempotency-key": {event_id}',
            f'"@signature-params": {params}',
        ]
    )
    signature = base64.b64encode(key.sign(base.encode("ascii"))).decode("ascii")
    return {
        "method": "POST",
        "url": TARGET,
        "headers": [
            ["Content-Type", "application/json"],
            ["Idempotency-Key", event_id],
            ["Content-Digest", digest],
            ["Signature-Input", f"{LABEL}={params}"],
            ["Signature", f"{LABEL}=:{signature}:"],
        ],
        "body": body.decode("utf-8"),
        "signature_base": base,
        "signature_base_hex": base.encode("ascii").hex(),
        "signature": signature,
        "key_id": key_id,
    }


def _with_header(request: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    headers = [[n, value if n == name else v] for n, v in request["headers"]]
    return request | {"headers": headers}


def _refused(code: str, why: str, *, rfc9421: bool = False) -> dict[str, Any]:
    """The ingress refuses with ``code``; ``rfc9421``: the signature itself is valid."""
    return {"rfc9421": rfc9421, "ingress": False, "code": code, "why": why}


def _b26() -> dict[str, Any]:
    signature = base64.b64encode(RFC9421.sign(B26_BASE.encode("ascii"))).decode("ascii")
    if signature != B26_SIGNATURE:  # the generator itself checks the RFC's figure
        raise AssertionError(f"RFC 9421 B.2.6: got {signature}, want {B26_SIGNATURE}")
    return {
        "name": "rfc9421-b.2.6",
        "description": "RFC 9421 Appendix B.2.6 as printed: Ed25519 over date, @method, @path, "
        "@authority, content-type, content-length; no alg, no nonce",
        "source": "RFC 9421 Appendix B.2 (request), B.1.4 (key), B.2.6 (signature)",
        "method": "POST",
        "url": "https://example.com/foo?param=Value&Pet=dog",
        "headers": [
            *B26_HEADERS,
            ["Signature-Input", f"sig-b26={B26_PARAMS}"],
            ["Signature", f"sig-b26=:{B26_SIGNATURE}:"],
        ],
        "body": '{"hello": "world"}',
        "label": "sig-b26",
        "signature_base": B26_BASE,
        "signature_base_hex": B26_BASE.encode("ascii").hex(),
        "signature": B26_SIGNATURE,
        "key_id": RFC9421.key_id,
        "verify_at": 1618884473,
        "expect": {
            "rfc9421": True,
            "ingress": False,
            "code": "REG-SIG-MALFORMED",
            "why": "a valid RFC 9421 signature outside the ingress's profile (no nonce, "
            "no alg, and the ingress's components not covered)",
        },
    }


def http_vectors() -> list[dict[str, Any]]:
    envelopes = {v["name"]: v for v in envelope_vectors()}
    issuance = envelopes["issuance"]
    body = issuance["wire"].encode("utf-8")
    event_id = issuance["envelope"]["id"]
    good = ingress_request(body, event_id, JPN01, nonce="vector-nonce-0001")
    valid = {"rfc9421": True, "ingress": True}
    at = {"label": LABEL, "verify_at": CREATED + 5}
    answer = envelopes["transfer-answer"]
    return [
        _b26(),
        good
        | at
        | {
            "name": "ingress-issuance",
            "description": "JPN01 posts its issuance envelope to the ingress",
            "expect": valid,
        },
        ingress_request(
            answer["wire"].encode("utf-8"),
            answer["envelope"]["id"],
            MNG01,
            nonce="vector-nonce-0002",
        )
        | at
        | {
            "name": "ingress-transfer-answer",
            "description": "MNG01 posts its answer envelope to the ingress",
            "expect": valid,
        },
        good
        | at
        | {
            "name": "tampered-body",
            "description": "the body changed after signing (Content-Digest no longer matches)",
            "body": good["body"].replace('"1000"', '"9000"'),
            "expect": _refused("REG-DIGEST", "Content-Digest does not match the body"),
        },
        _with_header(good, "Idempotency-Key", "JPN01-EV-9999")
        | at
        | {
            "name": "tampered-idempotency-key",
            "description": "a covered header changed after signing",
            "expect": _refused("REG-SIG-INVALID", "the signature does not verify"),
        },
        ingress_request(body, event_id, MNG01, nonce="vector-nonce-0003", key_id=JPN01.key_id)
        | at
        | {
            "name": "wrong-key",
            "description": "names JPN01-test as its key but is signed by MNG01's key",
            "expect": _refused("REG-SIG-INVALID", "the signature does not verify"),
        },
        good
        | {
            "name": "stale",
            "description": "verified 301 s after created (the ingress allows 300 s)",
            "label": LABEL,
            "verify_at": CREATED + MAX_AGE_S + 1,
            "expect": _refused("REG-SIG-STALE", "created is too old", rfc9421=True),
        },
    ]


def http_document() -> dict[str, Any]:
    """``http-signatures.json``."""
    return {
        "description": "RFC 9421 HTTP message signatures of requests to the a6gw ingress "
        "(TEST-ONLY keys, see keys.json) and RFC 9421 Appendix B.2.6",
        "ingress_profile": {
            "label": LABEL,
            "components": list(COMPONENTS),
            "parameters": ["created", "keyid", "alg", "nonce"],
            "alg": "ed25519",
            "max_age_s": MAX_AGE_S,
            "content_digest": "RFC 9530 sha-256 (sha-512 also accepted)",
            "target_uri": "the ingress's configured public URL + /v1/events",
        },
        "vectors": http_vectors(),
    }
