"""The per-input Ed25519 path (libsodium) against the keys' own library (OpenSSL) and RFC 8032."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core import ed25519

# RFC 8032 §7.1, TEST 1 and TEST 2 (secret key, public key, message, signature)
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032)
def test_rfc8032_vectors(secret: str, public: str, message: str, signature: str) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    assert key.public_key().public_bytes_raw().hex() == public
    sig = ed25519.signer(key)(bytes.fromhex(message))
    assert sig.hex() == signature
    pub = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
    assert ed25519.verify(pub, sig, bytes.fromhex(message))
    assert not ed25519.verify(pub, sig, bytes.fromhex(message) + b"x")


def _openssl_verifies(pub: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        pub.verify(signature, message)
    except InvalidSignature:
        return False
    return True


@settings(max_examples=200, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=2000))
def test_same_signature_as_openssl(seed: bytes, message: bytes) -> None:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    assert ed25519.signer(key)(message) == key.sign(message)  # RFC 8032: deterministic


@settings(max_examples=200, deadline=None)
@given(
    seed=st.binary(min_size=32, max_size=32),
    message=st.binary(max_size=500),
    flip=st.integers(min_value=0, max_value=64 * 8 - 1),
    other=st.binary(max_size=500),
)
def test_same_verdicts_as_openssl(seed: bytes, message: bytes, flip: int, other: bytes) -> None:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    pub = key.public_key()
    good = key.sign(message)
    bad = bytearray(good)
    bad[flip // 8] ^= 1 << (flip % 8)
    for sig, msg in ((good, message), (bytes(bad), message), (good, other)):
        assert ed25519.verify(pub, sig, msg) == _openssl_verifies(pub, sig, msg)
    assert ed25519.verify(pub, good, message)
    assert not ed25519.verify(pub, bytes(bad), message)


@pytest.mark.parametrize("length", [0, 1, 63, 65, 128])
def test_a_signature_of_another_length_does_not_verify(length: int) -> None:
    key = Ed25519PrivateKey.generate()
    message = b"m"
    signature = (key.sign(message) * 3)[:length]
    assert not ed25519.verify(key.public_key(), signature, message)


def test_another_key_does_not_verify() -> None:
    one, two = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    assert not ed25519.verify(two.public_key(), one.sign(b"m"), b"m")
    assert ed25519.verify(one.public_key(), one.sign(b"m"), b"m")


def test_small_order_public_key_is_refused() -> None:
    """libsodium refuses a small-order public key (here the identity point, encoded as y = 1),
    for which any (R = identity, S = 0) 'verifies' under a cofactorless check."""
    identity = bytes([1]) + bytes(31)
    pub = Ed25519PublicKey.from_public_bytes(identity)
    forged = identity + bytes(32)
    assert not ed25519.verify(pub, forged, b"anything")
