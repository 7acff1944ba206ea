"""Signed CloudEvents envelopes as the gateway's ingest checks them (``envelopes.json``).

The signature is Ed25519 over the RFC 8785 (JCS) bytes of the envelope without its
``a6signature`` member, in standard base64 with padding (RFC 4648 §4); see
schemas/envelope.py and gateway/core/signing.py. The wire bytes given are the JCS text of
the whole signed envelope (any JSON text of the same object is as good).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import rfc8785

from schemas.envelope import SIGNATURE_ATTRIBUTE
from schemas.vectors.keys import JPN01, MNG01, STRANGER, TestKey

TIME = "2026-03-01T09:00:00.000Z"
#: when the vectors' records arrive (the Kafka record's LogAppendTime)
ARRIVAL = "2026-03-01T09:00:05.000Z"
ARRIVAL_MS = 1772355605000

ISSUANCE = {
    "transaction_id": "JPN01-TX-0001",
    "ca_id": "CA0001",
    "registry_id": "JPN01",
    "decision_id": "JC-JPN-MNG-D-0001",
    "vintage": 2025,
    "unit_type": "JCM",
    "blocks": [{"serial_start": "1", "serial_end": "1000", "account_id": "JPN01-HOLD-1"}],
    "quantity": "1000",
}
TRANSFER = {
    "transaction_id": "JPN01-TX-0002",
    "ca_id": "CA0001",
    "originating_registry": "JPN01",
    "transferring": {"registry_id": "JPN01", "account_id": "JPN01-HOLD-1"},
    "acquiring": {"registry_id": "MNG01", "account_id": "MNG01-HOLD-1"},
    "blocks": [{"serial_start": "1", "serial_end": "400"}],
    "quantity": "400",
}
ANSWER = {
    "transaction_id": "JPN01-TX-0002",
    "ca_id": "CA0001",
    "originating_registry": "JPN01",
    "answer": "accepted",
    "credited": [{"serial_start": "1", "serial_end": "400", "vintage": 2025, "unit_type": "JCM"}],
}

#: the optional attributes of the a6gw profile of CloudEvents (docs/cloudevents.md)
PROFILE = {
    "subject": "JPN01-TX-0002",
    "dataschema": "urn:a6gw:schema:transfer:1",
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "tracestate": "a6gw=vector",
}


def unsigned(key: TestKey, event_id: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
    """An envelope before signing, from ``key``'s principal."""
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": key.principal,
        "type": f"a6gw.{name}.v1",
        "time": TIME,
        "datacontenttype": "application/json",
        "a6keyid": key.key_id,
        "data": data,
    }


def signed(envelope: dict[str, Any], key: TestKey) -> dict[str, Any]:
    """``envelope`` with ``a6signature`` by ``key`` over its JCS bytes."""
    body = {k: v for k, v in envelope.items() if k != SIGNATURE_ATTRIBUTE}
    signature = key.sign(rfc8785.dumps(body))
    return body | {SIGNATURE_ATTRIBUTE: base64.b64encode(signature).decode("ascii")}


def vector(
    name: str, description: str, envelope: dict[str, Any], expect: dict[str, Any]
) -> dict[str, Any]:
    """One vector: the envelope, its signing input (JCS), digest, signature and verdict."""
    signing_input = rfc8785.dumps({k: v for k, v in envelope.items() if k != SIGNATURE_ATTRIBUTE})
    signature = base64.b64decode(envelope[SIGNATURE_ATTRIBUTE])
    return {
        "name": name,
        "description": description,
        "registry": envelope["source"],  # whose input topic the record is on
        "arrival": ARRIVAL,
        "arrival_ms": ARRIVAL_MS,
        "envelope": envelope,
        "signing_input": {
            "utf8": signing_input.decode("utf-8"),
            "hex": signing_input.hex(),
            "sha256": hashlib.sha256(signing_input).hexdigest(),
        },
        "signature": {
            "base64": envelope[SIGNATURE_ATTRIBUTE],
            "base64url": base64.urlsafe_b64encode(signature).decode("ascii").rstrip("="),
            "hex": signature.hex(),
        },
        "wire": rfc8785.dumps(envelope).decode("utf-8"),
        "expect": expect,
    }


VALID = {"valid": True}


def _invalid(code: str, why: str) -> dict[str, Any]:
    return {"valid": False, "code": code, "why": why}


def envelope_vectors() -> list[dict[str, Any]]:
    issuance = signed(unsigned(JPN01, "JPN01-EV-0001", "issuance", ISSUANCE), JPN01)
    transfer = signed(unsigned(JPN01, "JPN01-EV-0002", "transfer", TRANSFER), JPN01)
    answer = signed(unsigned(MNG01, "MNG01-EV-0001", "transfer.answer", ANSWER), MNG01)
    tampered = transfer | {"data": TRANSFER | {"quantity": "4000"}}
    retimed = transfer | {"time": "2026-03-01T09:00:01.000Z"}
    wrong_key = signed(unsigned(JPN01, "JPN01-EV-0003", "transfer", TRANSFER), STRANGER)
    unknown = signed(
        unsigned(JPN01, "JPN01-EV-0004", "transfer", TRANSFER) | {"a6keyid": "JPN01-unknown"},
        JPN01,
    )
    other_source = signed(
        unsigned(MNG01, "MNG01-EV-0002", "transfer", TRANSFER) | {"source": "JPN01"}, MNG01
    )
    traced = signed(unsigned(JPN01, "JPN01-EV-0005", "transfer", TRANSFER) | PROFILE, JPN01)
    resubjected = traced | {"subject": "JPN01-TX-0003"}
    other_schema = signed(
        unsigned(JPN01, "JPN01-EV-0006", "transfer", TRANSFER)
        | {"dataschema": "urn:a6gw:schema:issuance:1"},
        JPN01,
    )
    return [
        vector("issuance", "JPN01 proposes an issuance of 1000 JCM units", issuance, VALID),
        vector("transfer", "JPN01 proposes moving 400 units to MNG01", transfer, VALID),
        vector("transfer-answer", "MNG01 accepts the transfer", answer, VALID),
        vector(
            "tampered-data",
            "the transfer with data.quantity changed after signing",
            tampered,
            _invalid("MSG-003", "the Ed25519 signature does not verify"),
        ),
        vector(
            "tampered-time",
            "the transfer with time changed after signing",
            retimed,
            _invalid("MSG-003", "the Ed25519 signature does not verify"),
        ),
        vector(
            "wrong-key",
            "names JPN01-test as its key but is signed by a key of no one's",
            wrong_key,
            _invalid("MSG-003", "the Ed25519 signature does not verify"),
        ),
        vector(
            "unknown-key-id",
            "signed by JPN01's key but names a key id the trust file does not list",
            unknown,
            _invalid("MSG-002", "unknown key id"),
        ),
        vector(
            "source-not-signer",
            "MNG01's key signs an envelope whose source is JPN01, sent on JPN01's topic",
            other_source,
            _invalid("MSG-002", "the source is not the signer's principal"),
        ),
        vector(
            "transfer-optional-attributes",
            "the transfer with subject, dataschema and the originating trace context "
            "(traceparent, tracestate): all signed (docs/cloudevents.md)",
            traced,
            VALID,
        ),
        vector(
            "tampered-subject",
            "that transfer with subject changed after signing",
            resubjected,
            _invalid("MSG-003", "the Ed25519 signature does not verify"),
        ),
        vector(
            "wrong-dataschema",
            "a transfer whose signed dataschema names the issuance schema",
            other_schema,
            _invalid("MSG-012", "dataschema is not urn:a6gw:schema:transfer:1"),
        ),
    ]


def envelopes_document() -> dict[str, Any]:
    """``envelopes.json``."""
    return {
        "description": "Signed a6gw CloudEvents envelopes (TEST-ONLY keys, see keys.json).",
        "signature": "Ed25519 (RFC 8032) over signing_input: the RFC 8785 bytes of the envelope "
        "without a6signature; a6signature is its standard base64 with padding",
        "trust_file": {"keys": [k.describe()["trust_file_entry"] for k in (JPN01, MNG01)]},
        "vectors": envelope_vectors(),
    }
