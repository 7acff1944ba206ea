"""HMAC-SHA-256 on the records the gateway writes to its internal topics.

The broker's ACLs keep others off ``a6.ledger``, ``a6.audit.log``, ``a6.discrepancies``,
``a6.retry.*`` and ``a6.dlq``; as defence in depth, every record a gateway process writes
there carries a MAC in the Kafka header :data:`HEADER`, keyed by a secret the gateway's
processes share (``gateway.mac_key_file``), and the stage that reads an internal topic
dead-letters a record whose MAC does not verify (MSG-010). So only entries a gateway process
authenticated reach the log, and the ledger decides only what the ingest authenticated.

The MAC covers a domain-separated encoding of the topic, the record key and the value
(:func:`message`): each as a presence byte and, when present, an 8-byte big-endian length
and the bytes; so a record cannot be replayed on another topic or under another key, and no
two (topic, key, value) triples share an encoding. HMAC rather than a signature: it costs
about a microsecond per record.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from gateway.core.topics import INTERNAL_TOPICS, RETRY_PREFIX

#: the Kafka header that carries the MAC (32 bytes)
HEADER = "a6-mac"
#: the prefix of every MAC'd message: a version, so the encoding can change safely
DOMAIN = b"a6gw/internal-record/v1\x00"
#: the shortest secret accepted (bytes)
MIN_KEY_BYTES = 32
#: topics whose readers check the MAC (``a6.retry.<registry>`` by prefix)


def is_internal(topic: str) -> bool:
    return topic in INTERNAL_TOPICS or topic.startswith(RETRY_PREFIX)


def _field(data: bytes | None) -> bytes:
    if data is None:
        return b"\x00"
    return b"\x01" + len(data).to_bytes(8, "big") + data


def message(topic: str, key: bytes | None, value: bytes | None) -> bytes:
    """The bytes the MAC is computed over."""
    return DOMAIN + _field(topic.encode("utf-8")) + _field(key) + _field(value)


def tag(secret: bytes, topic: str, key: bytes | None, value: bytes | None) -> bytes:
    """HMAC-SHA-256 of the record under ``secret``."""
    return hmac.digest(secret, message(topic, key, value), hashlib.sha256)


def tag_parts(secret: bytes, topic: str, key: bytes | None, parts: Iterable[bytes]) -> bytes:
    """:func:`tag` of the value ``b"".join(parts)``, without joining them (a value of many
    megabytes is hashed piece by piece, and hashlib lets other threads run meanwhile)."""
    pieces = list(parts)
    mac = hmac.new(secret, DOMAIN + _field(topic.encode("utf-8")) + _field(key), hashlib.sha256)
    mac.update(b"\x01" + sum(len(p) for p in pieces).to_bytes(8, "big"))
    for piece in pieces:
        mac.update(piece)
    return mac.digest()


def headers(
    secret: bytes, topic: str, key: bytes | None, value: bytes | None
) -> list[tuple[str, bytes]]:
    """The headers a gateway process puts on a record it writes to ``topic``."""
    return [(HEADER, tag(secret, topic, key, value))]


def problem(
    secret: bytes,
    topic: str,
    key: bytes | None,
    value: bytes | None,
    record_headers: Iterable[tuple[str, bytes]],
) -> str | None:
    """Why the record's MAC does not verify, or None when it does."""
    tags = [v for k, v in record_headers if k == HEADER]
    if not tags:
        return f"no {HEADER} header: not written by a gateway process"
    if len(tags) > 1:
        return f"{len(tags)} {HEADER} headers"
    if not hmac.compare_digest(tags[0], tag(secret, topic, key, value)):
        return f"the {HEADER} header does not verify: not written by a gateway process"
    return None


#: what stands for the topic in the MAC of a table value: no Kafka topic can be named so
TABLE = "<table value>"
TAG_BYTES = 32


def seal_value(secret: bytes, value: bytes) -> bytes:
    """A table value as stored (changelog, local store): the value, then its 32-byte MAC.

    A table's changelog record is written and read by faust, not by the agents, so its MAC
    travels in the value; it covers the value alone (faust encodes keys apart).
    """
    return value + tag(secret, TABLE, None, value)


def open_value(secret: bytes, sealed: bytes) -> bytes | None:
    """The value :func:`seal_value` sealed, or None when its MAC does not verify."""
    if len(sealed) < TAG_BYTES:
        return None
    value, got = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
    if not hmac.compare_digest(got, tag(secret, TABLE, None, value)):
        return None
    return value
