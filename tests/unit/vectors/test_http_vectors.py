"""schemas/vectors/http-signatures.json against the ingress's verifier and against the
independent ``http-message-signatures`` implementation of RFC 9421.

The ingress's :func:`connectors.httpsig.verify_request` accepts every vector the ingress
should and refuses the others with the vector's code; ``http-message-signatures`` verifies
every vector whose signature is valid under RFC 9421 (including Appendix B.2.6, which the
ingress refuses as outside its profile) and rejects the others. On B.2.6 both build the
signature base the RFC prints and both check the RFC's signature with its key.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import (
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    algorithms,
)

from connectors.httpsig import SigParams, signature_base, verify_request
from gateway.errors import RegistryError
from tests.unit.vectors._load import ids, load

DOC = load("http-signatures.json")
VECTORS = DOC["vectors"]
PUBLIC = {
    k["key_id"]: Ed25519PublicKey.from_public_bytes(bytes.fromhex(k["public_key_hex"]))
    for k in load("keys.json")["keys"]
}
B26 = next(v for v in VECTORS if v["name"] == "rfc9421-b.2.6")


def _gateway_verify(v: dict[str, Any]) -> None:
    seen: set[tuple[str, str]] = set()

    def seen_nonce(keyid: str, nonce: str) -> bool:
        fresh = (keyid, nonce) not in seen
        seen.add((keyid, nonce))
        return not fresh

    verify_request(
        v["method"],
        v["url"],
        dict(v["headers"]),
        v["body"].encode("utf-8"),
        keys=PUBLIC.get,
        now=v["verify_at"],
        max_age_s=DOC["ingress_profile"]["max_age_s"],
        seen_nonce=seen_nonce,
        label=v["label"],
    )


def _library_verify(v: dict[str, Any]) -> None:
    request = httpx.Request(
        v["method"], v["url"], headers=v["headers"], content=v["body"].encode("utf-8")
    )
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys=PUBLIC, private_keys={}),
    )
    covers_digest = "content-digest" in v["signature_base"]
    results = verifier.verify(
        request, max_age=None, body=v["body"].encode("utf-8") if covers_digest else None
    )
    assert [r.label for r in results] == [v["label"]]


@pytest.mark.parametrize("v", VECTORS, ids=ids(VECTORS))
def test_the_ingress_verifier_gives_the_expected_verdict(v: dict[str, Any]) -> None:
    if v["expect"]["ingress"]:
        _gateway_verify(v)
    else:
        with pytest.raises(RegistryError) as caught:
            _gateway_verify(v)
        assert caught.value.code == v["expect"]["code"], caught.value


@pytest.mark.parametrize("v", VECTORS, ids=ids(VECTORS))
def test_http_message_signatures_gives_the_expected_verdict(v: dict[str, Any]) -> None:
    if v["expect"]["rfc9421"]:
        _library_verify(v)
    else:
        with pytest.raises(InvalidSignature):
            _library_verify(v)


@pytest.mark.parametrize("v", VECTORS, ids=ids(VECTORS))
def test_the_signature_base_is_the_gateways(v: dict[str, Any]) -> None:
    line = dict(v["headers"])["Signature-Input"].removeprefix(v["label"] + "=")
    components = line[1 : line.index(")")].replace('"', "").split()
    params = dict(p.split("=", 1) for p in line[line.index(")") + 2 :].split(";"))
    sig_params = SigParams(
        created=int(params["created"]),
        keyid=params["keyid"].strip('"'),
        alg=params["alg"].strip('"') if "alg" in params else None,
        nonce=params["nonce"].strip('"') if "nonce" in params else None,
    )
    base = signature_base(components, sig_params, v["method"], v["url"], dict(v["headers"]))
    assert bytes.fromhex(v["signature_base_hex"]) == v["signature_base"].encode("ascii")
    assert dict(v["headers"])["Signature"] == f"{v['label']}=:{v['signature']}:"
    if v["name"] == "tampered-idempotency-key":  # the base signed is not the one received
        assert base.decode("ascii") != v["signature_base"]
        return
    assert base.decode("ascii") == v["signature_base"]
    if v["expect"]["rfc9421"]:
        PUBLIC[v["key_id"]].verify(base64.b64decode(v["signature"]), base)


def test_b26_is_rfc9421s_own_example() -> None:
    # RFC 9421 Appendix B.1.4: the public key "x" of test-key-ed25519 (JWK, base64url)
    rfc_x = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"
    key = next(k for k in load("keys.json")["keys"] if k["key_id"] == "test-key-ed25519")
    assert key["public_key_b64url"] == rfc_x
    # RFC 9421 Appendix B.2.6: the signature value as printed
    assert B26["signature"] == (
        "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
    )
    assert B26["expect"] == B26["expect"] | {"rfc9421": True, "ingress": False}
