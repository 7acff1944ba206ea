"""The MAC on internal records: a fixed vector, and each part of the record is covered."""

from __future__ import annotations

import hashlib
import hmac
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core import mac
from gateway.core.topics import (
    AUDIT_TOPIC,
    COMMANDS_TOPIC,
    DLQ_TOPIC,
    FINDINGS_TOPIC,
    LEDGER_TOPIC,
    input_topic,
    output_topic,
    retry_topic,
)

SECRET = bytes(range(32))


def test_a_fixed_vector_computed_independently() -> None:
    """HMAC-SHA-256 over: domain, then topic, key, value each as 0x01, u64 length, bytes."""
    encoded = (
        b"a6gw/internal-record/v1\x00"
        + b"\x01" + struct.pack(">Q", 9) + b"a6.ledger"
        + b"\x01" + struct.pack(">Q", 6) + b"CA0001"
        + b"\x01" + struct.pack(">Q", 2) + b"{}"
    )  # fmt: skip
    want = hmac.new(SECRET, encoded, hashlib.sha256).hexdigest()
    assert mac.tag(SECRET, LEDGER_TOPIC, b"CA0001", b"{}").hex() == want
    # no key is not the empty key
    none = b"a6gw/internal-record/v1\x00\x01" + struct.pack(">Q", 9) + b"a6.ledger\x00\x01"
    none += struct.pack(">Q", 0)
    assert mac.tag(SECRET, LEDGER_TOPIC, None, b"") == hmac.digest(SECRET, none, "sha256")
    assert mac.tag(SECRET, LEDGER_TOPIC, None, b"") != mac.tag(SECRET, LEDGER_TOPIC, b"", b"")


def test_a_record_with_its_headers_verifies() -> None:
    hs = mac.headers(SECRET, AUDIT_TOPIC, b"ev-1", b'{"a":1}')
    assert hs[0][0] == "a6-mac" and len(hs[0][1]) == 32
    assert mac.problem(SECRET, AUDIT_TOPIC, b"ev-1", b'{"a":1}', [("x", b"y"), *hs]) is None


@pytest.mark.parametrize(
    ("topic", "key", "value", "secret"),
    [
        (DLQ_TOPIC, b"ev-1", b'{"a":1}', SECRET),  # another topic
        (AUDIT_TOPIC, b"ev-2", b'{"a":1}', SECRET),  # another key
        (AUDIT_TOPIC, None, b'{"a":1}', SECRET),
        (AUDIT_TOPIC, b"ev-1", b'{"a":2}', SECRET),  # another value
        (AUDIT_TOPIC, b"ev-1", b'{"a":1}', bytes(32)),  # another secret
        (AUDIT_TOPIC[:-1], b"gev-1", b'{"a":1}', SECRET),  # the same bytes, split elsewhere
    ],
)
def test_each_part_is_covered(topic: str, key: bytes | None, value: bytes, secret: bytes) -> None:
    hs = mac.headers(SECRET, AUDIT_TOPIC, b"ev-1", b'{"a":1}')
    why = mac.problem(secret, topic, key, value, hs)
    assert why is not None and "does not verify" in why


def test_missing_or_doubled_headers() -> None:
    hs = mac.headers(SECRET, LEDGER_TOPIC, b"k", b"v")
    assert "no a6-mac header" in (mac.problem(SECRET, LEDGER_TOPIC, b"k", b"v", []) or "")
    assert "2 a6-mac headers" in (mac.problem(SECRET, LEDGER_TOPIC, b"k", b"v", hs * 2) or "")


def test_internal_topics() -> None:
    internal = [LEDGER_TOPIC, AUDIT_TOPIC, FINDINGS_TOPIC, DLQ_TOPIC, retry_topic("PRT01")]
    assert all(mac.is_internal(t) for t in internal)
    assert not any(
        mac.is_internal(t) for t in (input_topic("MNG01"), output_topic("MNG01"), COMMANDS_TOPIC)
    )


def test_table_values_carry_their_mac() -> None:
    sealed = mac.seal_value(SECRET, b'{"sha256":"x"}')
    encoded = b"a6gw/internal-record/v1\x00\x01" + struct.pack(">Q", 13) + b"<table value>"
    encoded += b"\x00\x01" + struct.pack(">Q", 14) + b'{"sha256":"x"}'
    assert sealed == b'{"sha256":"x"}' + hmac.new(SECRET, encoded, hashlib.sha256).digest()
    assert mac.open_value(SECRET, sealed) == b'{"sha256":"x"}'
    assert mac.open_value(bytes(32), sealed) is None
    assert mac.open_value(SECRET, b'{"sha256":"y"}' + sealed[-32:]) is None
    assert mac.open_value(SECRET, sealed[:31]) is None
    assert mac.open_value(SECRET, b'{"sha256":"x"}') is None  # an unsealed value


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=6), st.one_of(st.none(), st.binary(max_size=8)))
def test_the_tag_of_parts_is_the_tag_of_their_join(parts: list[bytes], key: bytes | None) -> None:
    secret = b"s" * 32
    joined = mac.tag(secret, LEDGER_TOPIC, key, b"".join(parts))
    assert mac.tag_parts(secret, LEDGER_TOPIC, key, parts) == joined
