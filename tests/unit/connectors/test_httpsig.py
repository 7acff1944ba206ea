"""RFC 9421 request signatures and RFC 9530 Content-Digest: vectors, round trips, failures."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from connectors.httpsig import (
    DEFAULT_COMPONENTS,
    SigParams,
    content_digest,
    sign_request,
    signature_base,
    verify_request,
)
from gateway.errors import RegistryError

URL = "https://idn01.example:8443/v1/messages"
BODY = b'{"id":"ev-1","type":"a6gw.transfer.proposed.v1"}'
HEADERS = {"Content-Type": "application/json", "Idempotency-Key": "ev-1"}
NOW = 1_790_000_000
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def nonce_store() -> Callable[[str, str], bool]:
    seen: set[tuple[str, str]] = set()

    def seen_nonce(keyid: str, nonce: str) -> bool:
        if (keyid, nonce) in seen:
            return True
        seen.add((keyid, nonce))
        return False

    return seen_nonce


def signed(
    body: bytes = BODY, *, created: int = NOW, nonce: str = "n-1", **kw: Any
) -> dict[str, str]:
    headers = dict(kw.pop("headers", HEADERS))
    return headers | sign_request(
        "POST",
        URL,
        headers,
        body,
        key_id=kw.pop("key_id", "gw-1"),
        private_key=kw.pop("private_key", KEY),
        created=created,
        nonce=nonce,
        **kw,
    )


def verify(headers: dict[str, str], body: bytes = BODY, **kw: Any) -> Any:
    keys: dict[str, Ed25519PublicKey] = {"gw-1": KEY.public_key()}
    kw.setdefault("seen_nonce", nonce_store())
    return verify_request(
        kw.pop("method", "POST"), kw.pop("url", URL), headers, body, keys=keys.get, now=NOW, **kw
    )


def code(fn: Callable[[], object]) -> str:
    with pytest.raises(RegistryError) as excinfo:
        fn()
    return excinfo.value.code


# -- vectors ----------------------------------------------------------------------------------


def test_content_digest_matches_rfc9530_example() -> None:
    # RFC 9530 §2 (and RFC 9421 Appendix B.2): the digest of {"hello": "world"}
    body = b'{"hello": "world"}'
    assert content_digest(body) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"


def test_signature_base_of_a_fixed_request_is_built_as_rfc9421_section_2_5() -> None:
    headers = HEADERS | {"Content-Digest": content_digest(BODY), "X-Other": "ignored"}
    params = SigParams(created=1_790_000_000, keyid="gw-1", nonce="abc")
    components = ["@method", "@target-uri", "@authority", "@path", "@query", "content-type"]
    base = signature_base(components, params, "POST", URL + "?a=1&b=2", headers)
    expected = (
        b'"@method": POST\n'
        b'"@target-uri": https://idn01.example:8443/v1/messages?a=1&b=2\n'
        b'"@authority": idn01.example:8443\n'
        b'"@path": /v1/messages\n'
        b'"@query": ?a=1&b=2\n'
        b'"content-type": application/json\n'
        b'"@signature-params": ("@method" "@target-uri" "@authority" "@path" "@query"'
        b' "content-type");created=1790000000;keyid="gw-1";alg="ed25519";nonce="abc"'
    )
    assert base == expected


def test_derived_components_normalise_as_rfc9421_section_2_2() -> None:
    params = SigParams(created=1, keyid="k", nonce="n")
    lines = signature_base(
        ["@authority", "@path", "@query"], params, "GET", "https://EXAMPLE.org:443", {}
    ).split(b"\n")
    # default port left out, host lowercased; empty path is "/", empty query is "?"
    assert lines[:3] == [b'"@authority": example.org', b'"@path": /', b'"@query": ?']


def test_params_serialise_in_a_fixed_order_with_expires() -> None:
    params = SigParams(created=5, keyid='a"b', nonce="n", expires=9)
    base = signature_base(["@method"], params, "POST", URL, {})
    assert base.endswith(b'("@method");created=5;expires=9;keyid="a\\"b";alg="ed25519";nonce="n"')


# RFC 9421 Appendix B.1.4 (the Ed25519 test key) and B.2.6 (signing a request with it).
RFC_TEST_KEY = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
RFC_REQUEST_HEADERS = {  # RFC 9421 Appendix B.2, the test request
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7B"
    "NNyealdVLvRwEmTHWXvJwew==:",
    "Content-Length": "18",
}
RFC_B26_BASE = b"""\
"date": Tue, 20 Apr 2021 02:07:55 GMT
"@method": POST
"@path": /foo
"@authority": example.com
"content-type": application/json
"content-length": 18
"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length")\
;created=1618884473;keyid="test-key-ed25519\""""
RFC_B26_SIGNATURE = (
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
)


def test_rfc9421_appendix_b_2_6_ed25519_example() -> None:
    components = ["date", "@method", "@path", "@authority", "content-type", "content-length"]
    params = SigParams(created=1618884473, keyid="test-key-ed25519", alg=None, nonce=None)
    base = signature_base(
        components,
        params,
        "POST",
        "https://example.com/foo?param=Value&Pet=dog",
        RFC_REQUEST_HEADERS,
    )
    assert base == RFC_B26_BASE
    key = serialization.load_pem_private_key(RFC_TEST_KEY, None)
    assert isinstance(key, Ed25519PrivateKey)
    assert base64.b64encode(key.sign(base)).decode() == RFC_B26_SIGNATURE  # Ed25519: deterministic
    assert content_digest(b'{"hello": "world"}').startswith("sha-256=:X48E")


# -- round trips ------------------------------------------------------------------------------


def test_round_trip() -> None:
    headers = signed()
    assert headers["Signature-Input"].startswith(
        'a6gw=("@method" "@target-uri" "content-digest" "content-type" "idempotency-key")'
        ';created=1790000000;keyid="gw-1";alg="ed25519";nonce="n-1"'
    )
    assert headers["Signature"].startswith("a6gw=:") and headers["Signature"].endswith(":")
    got = verify(headers)
    assert (got.keyid, got.created, got.nonce) == ("gw-1", NOW, "n-1")


def test_header_names_are_case_insensitive_and_other_signatures_are_ignored() -> None:
    headers = {k.upper(): v for k, v in signed().items()}
    headers["SIGNATURE-INPUT"] = (
        'other=("@method");created=1;keyid="x", ' + headers["SIGNATURE-INPUT"]
    )
    headers["SIGNATURE"] = "other=:AAAA:, " + headers["SIGNATURE"]
    assert verify(headers).keyid == "gw-1"


def test_sign_request_requires_every_covered_header() -> None:
    assert code(lambda: signed(headers={"Content-Type": "application/json"})) == (
        "REG-SIG-COMPONENT"
    )


@given(
    body=st.binary(max_size=300),
    idem=st.from_regex(r"[A-Za-z0-9._:-]{1,40}", fullmatch=True),
    nonce=st.from_regex(r"[ -~]{1,30}", fullmatch=True),
    created=st.integers(NOW - 300, NOW + 300),
)
def test_round_trip_property(body: bytes, idem: str, nonce: str, created: int) -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": idem}
    sig = signed(body, headers=headers, nonce=nonce, created=created)
    assert verify(sig, body).nonce == nonce
    if body:
        assert code(lambda: verify(sig, body[:-1])) == "REG-DIGEST"


# -- each failure its own code ----------------------------------------------------------------


def test_missing_signature_headers() -> None:
    headers = signed()
    assert code(lambda: verify(dict(HEADERS))) == "REG-SIG-MISSING"
    no_sig = {k: v for k, v in headers.items() if k != "Signature"}
    assert code(lambda: verify(no_sig)) == "REG-SIG-MISSING"
    other_label = signed(label="theirs")
    assert code(lambda: verify(other_label)) == "REG-SIG-MISSING"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Signature-Input", "a6gw=("),
        ("Signature-Input", 'a6gw=("@method" "@target-uri"'),
        ("Signature-Input", "a6gw=:AAAA:"),
        ("Signature-Input", 'a6gw=("@method");created=1.5;keyid="gw-1";nonce="n"'),
        ("Signature-Input", 'a6gw=("@method");created="1";keyid="gw-1";nonce="n"'),
        ("Signature-Input", 'a6gw=("@method");created=1;keyid="gw-1"'),
        ("Signature-Input", 'a6gw=("@method");created=1;keyid="gw-1";nonce="n";tag="t"'),
        ("Signature-Input", 'a6gw=("@method";sf);created=1;keyid="gw-1";nonce="n"'),
        ("Signature-Input", 'a6gw=("@method" "@method");created=1;keyid="gw-1";nonce="n"'),
        ("Signature-Input", 'a6gw=("@request-target");created=1;keyid="gw-1";nonce="n"'),
        ("Signature-Input", 'a6gw=("Content-Type");created=1;keyid="gw-1";nonce="n"'),
        ("Signature-Input", 'a6gw=("@method");created=1;created=2;keyid="k";nonce="n"'),
        ("Signature-Input", 'a6gw=(@method);created=1;keyid="gw-1";nonce="n"'),
        ("Signature-Input", 'a6gw=("@method");created=1;keyid="gw-1";nonce="n",'),
        ("Signature", "a6gw=:not base64!:"),
        ("Signature", "a6gw=:AAAA:"),
        ("Signature", '"a6gw"=:AAAA:'),
        ("Signature", 'a6gw="text"'),
        ("Signature", "other=:AAAA:"),
    ],
)
def test_malformed_fields(field: str, value: str) -> None:
    headers = signed() | {field: value}
    assert code(lambda: verify(headers)) == "REG-SIG-MALFORMED"


def test_required_components_must_be_covered() -> None:
    partial = signed(components=("@method", "@target-uri", "content-digest"))
    assert code(lambda: verify(partial)) == "REG-SIG-COVERAGE"
    assert verify(partial, required=("@method", "content-digest")).keyid == "gw-1"


@pytest.mark.parametrize("alg", [';alg="rsa-pss-sha512"', ';alg="ED25519"', ""])
def test_alg_must_be_ed25519(alg: str) -> None:
    headers = signed()
    changed = headers["Signature-Input"].replace(';alg="ed25519"', alg)
    assert code(lambda: verify(headers | {"Signature-Input": changed})) == "REG-SIG-ALG"


def test_unknown_key_id() -> None:
    assert code(lambda: verify(signed(key_id="stranger"))) == "REG-SIG-KEY"


def test_content_digest_missing_or_wrong() -> None:
    headers = signed()
    no_digest = {k: v for k, v in headers.items() if k != "Content-Digest"}
    assert code(lambda: verify(no_digest)) == "REG-DIGEST"
    assert code(lambda: verify(headers, BODY + b" ")) == "REG-DIGEST"
    other = headers | {"Content-Digest": content_digest(b"other")}
    assert code(lambda: verify(other)) == "REG-DIGEST"
    garbage = headers | {"Content-Digest": "sha-256=not-bytes"}
    assert code(lambda: verify(garbage)) == "REG-DIGEST"
    unsupported = headers | {"Content-Digest": "md5=:AAAA:"}
    assert code(lambda: verify(unsupported)) == "REG-DIGEST"


def test_created_too_old_or_too_new_or_expired() -> None:
    assert code(lambda: verify(signed(created=NOW - 301))) == "REG-SIG-STALE"
    assert code(lambda: verify(signed(created=NOW + 301))) == "REG-SIG-STALE"
    assert verify(signed(created=NOW - 300)).created == NOW - 300
    assert code(lambda: verify(signed(created=NOW - 60), max_age_s=30)) == "REG-SIG-STALE"


def test_tampering_breaks_the_signature() -> None:
    headers = signed()
    raw = bytearray(base64.b64decode(headers["Signature"][6:-1]))
    raw[10] ^= 0x40
    forged = headers | {"Signature": f"a6gw=:{base64.b64encode(bytes(raw)).decode()}:"}
    assert code(lambda: verify(forged)) == "REG-SIG-INVALID"
    assert code(lambda: verify(headers | {"Idempotency-Key": "ev-2"})) == "REG-SIG-INVALID"
    assert code(lambda: verify(headers | {"Content-Type": "text/plain"})) == "REG-SIG-INVALID"
    assert code(lambda: verify(headers, method="PUT")) == "REG-SIG-INVALID"
    assert code(lambda: verify(headers, url=URL + "?x=1")) == "REG-SIG-INVALID"
    other_key = signed(private_key=Ed25519PrivateKey.generate())
    assert code(lambda: verify(other_key)) == "REG-SIG-INVALID"
    # parameters are covered too: a changed nonce or created does not verify
    changed = headers["Signature-Input"].replace('nonce="n-1"', 'nonce="n-2"')
    assert code(lambda: verify(headers | {"Signature-Input": changed})) == "REG-SIG-INVALID"


def test_a_covered_header_removed_after_signing() -> None:
    headers = {k: v for k, v in signed().items() if k != "Idempotency-Key"}
    assert code(lambda: verify(headers)) == "REG-SIG-COMPONENT"


def test_replay_of_a_nonce_is_refused_per_key_id() -> None:
    store = nonce_store()
    headers = signed()
    assert verify(headers, seen_nonce=store).nonce == "n-1"
    assert code(lambda: verify(headers, seen_nonce=store)) == "REG-REPLAY"
    assert verify(signed(nonce="n-2"), seen_nonce=store).nonce == "n-2"


def test_a_forged_request_does_not_burn_the_nonce() -> None:
    store = nonce_store()
    forged = signed(private_key=Ed25519PrivateKey.generate())
    assert code(lambda: verify(forged, seen_nonce=store)) == "REG-SIG-INVALID"
    assert verify(signed(), seen_nonce=store).nonce == "n-1"


def test_signature_params_are_rebuilt_in_the_received_order() -> None:
    """RFC 9421 §3.2: the verifier re-serialises the received parameters as they came."""
    components = list(DEFAULT_COMPONENTS)
    headers = dict(HEADERS) | {"Content-Digest": content_digest(BODY)}
    line = '("' + '" "'.join(components) + '");nonce="z";alg="ed25519";keyid="gw-1";created='
    line += str(NOW)
    base_lines = signature_base(
        components, SigParams(created=NOW, keyid="gw-1", nonce="z"), "POST", URL, headers
    ).split(b"\n")[:-1]
    base = b"\n".join([*base_lines, f'"@signature-params": {line}'.encode()])
    sig = base64.b64encode(KEY.sign(base)).decode()
    got = verify(headers | {"Signature-Input": f"a6gw={line}", "Signature": f"a6gw=:{sig}:"})
    assert got.nonce == "z"
