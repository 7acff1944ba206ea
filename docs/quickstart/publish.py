"""A registry's first signed event over Kafka: publish it, read the gateway's signed
decision, find it in the audit log. Needs only cryptography, rfc8785, aiokafka and httpx.

Set, from what the gateway's operator gives you:
  KAFKA_BOOTSTRAP         the broker, host:port[,host:port...]
  KAFKA_CREDENTIALS_FILE  your registry's credentials (JSON written by `a6gw kafka provision`)
  KAFKA_CA_FILE           (optional) the broker's CA: SASL_SSL instead of SASL_PLAINTEXT
  REGISTRY_ID             your registry id, e.g. JPN01
  SIGNING_KEY_FILE        your Ed25519 private key (PEM, PKCS#8)
  SIGNING_KEY_ID          its key id in the gateway's trust file, e.g. JPN01-2026
  GATEWAY_PUBLIC_KEY      the gateway's key (base64, from the trust file's role: gateway)
  A6GW_API_URL            the auditors' API, e.g. https://audit.example.org:8443
  TLS_CA_FILE, TLS_CERT_FILE, TLS_KEY_FILE   the API's CA, your client certificate and key
"""

import asyncio
import base64
import hashlib
import json
import os
import ssl
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import rfc8785
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

env = os.environ


def signing_key() -> Ed25519PrivateKey:
    key = load_pem_private_key(Path(env["SIGNING_KEY_FILE"]).read_bytes(), None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def first_event() -> tuple[str, bytes]:
    """An account opened in your registry: a CloudEvents 1.0 envelope, signed with Ed25519
    over the RFC 8785 bytes of every member but a6signature. Returns its id and bytes."""
    envelope = {
        "specversion": "1.0",
        "id": f"qs-{uuid.uuid4().hex}",
        "source": env["REGISTRY_ID"],
        "type": "a6gw.account.opened.v1",
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "a6keyid": env["SIGNING_KEY_ID"],
        "data": {
            "registry_id": env["REGISTRY_ID"],
            "account_id": f"QS-{uuid.uuid4().hex[:12]}",
            "account_type": "participant-holding",
            "holder": "Quick start holder",
        },
    }
    signature = signing_key().sign(rfc8785.dumps(envelope))
    envelope["a6signature"] = base64.b64encode(signature).decode()
    return envelope["id"], rfc8785.dumps(envelope)


def verify_gateway(envelope: dict[str, Any]) -> None:
    """Raise InvalidSignature unless the gateway signed ``envelope``."""
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(env["GATEWAY_PUBLIC_KEY"]))
    unsigned = {k: v for k, v in envelope.items() if k != "a6signature"}
    key.verify(base64.b64decode(envelope["a6signature"]), rfc8785.dumps(unsigned))


def tls_client() -> ssl.SSLContext:
    """Mutual TLS: trust the gateway's CA, present your client certificate."""
    tls = ssl.create_default_context(cafile=env["TLS_CA_FILE"])
    tls.load_cert_chain(env["TLS_CERT_FILE"], env["TLS_KEY_FILE"])
    return tls


def find_in_audit_log(path: str, timeout: float = 60.0) -> dict[str, Any]:
    """GET ``path`` on the auditors' API until it names an entry; check its leaf hash."""
    with httpx.Client(base_url=env["A6GW_API_URL"], verify=tls_client()) as api:
        deadline = time.monotonic() + timeout
        while True:  # the API serves what the worker has appended so far
            answer = api.get(path)
            if answer.status_code == 200 and answer.json().get("items", [answer.json()]):
                entry: dict[str, Any] = answer.json().get("items", [answer.json()])[0]
                break
            if answer.status_code not in (200, 404) or time.monotonic() > deadline:
                raise SystemExit(f"{path}: {answer.status_code} {answer.text}")
            time.sleep(0.5)
    body = entry["body"].encode()  # the entry's exact bytes: leaf hash SHA-256(0x00 || body)
    assert hashlib.sha256(b"\x00" + body).hexdigest() == entry["leaf_hash"]
    decided: dict[str, Any] = json.loads(body)
    print(f"audit log: entry {entry['index']} {entry['entry_id']}: {decided['outcome']}")
    return decided


def kafka_login() -> dict[str, Any]:
    """The broker's SASL SCRAM-SHA-512 login with your registry's credentials."""
    creds = json.loads(Path(env["KAFKA_CREDENTIALS_FILE"]).read_text())
    login = {
        "bootstrap_servers": env["KAFKA_BOOTSTRAP"],
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": creds["username"],
        "sasl_plain_password": creds["password"],
    }
    if env.get("KAFKA_CA_FILE"):
        login["security_protocol"] = "SASL_SSL"
        login["ssl_context"] = ssl.create_default_context(cafile=env["KAFKA_CA_FILE"])
    return login


async def publish_and_read_decision(registry: str) -> dict[str, Any]:
    event_id, value = first_event()
    producer = AIOKafkaProducer(acks="all", **kafka_login())
    await producer.start()
    try:  # you may write only your input topic; the record key is the event id
        structured = [("content-type", b"application/cloudevents+json; charset=UTF-8")]
        await producer.send_and_wait(
            f"a6.in.{registry}", value, key=event_id.encode(), headers=structured
        )
    finally:
        await producer.stop()
    print(f"published {event_id} to a6.in.{registry}")
    # ... and read only your output topic, in the group named after your principal
    consumer = AIOKafkaConsumer(
        f"a6.out.{registry}",
        group_id=f"registry-{registry}",
        auto_offset_reset="earliest",
        **kafka_login(),
    )
    await consumer.start()
    try:
        async with asyncio.timeout(120):
            async for record in consumer:  # decisions and notices: find this event's
                envelope = json.loads(record.value)
                if envelope["type"] == "a6gw.decision.v2":
                    if envelope["data"]["input_id"] == event_id:
                        break
    finally:
        await consumer.stop()
    verify_gateway(envelope)
    decision: dict[str, Any] = envelope["data"]
    assert decision["input_sha256"] == hashlib.sha256(value).hexdigest()
    print(f"decision: {decision['outcome']}, signed by {envelope['a6keyid']} (verified)")
    print(f"note: {decision['note']}")  # v2: a sentence for a person, and the transaction_id
    return decision


if __name__ == "__main__":
    decision = asyncio.run(publish_and_read_decision(env["REGISTRY_ID"]))
    find_in_audit_log(f"/v1/entries/by-id/{decision['audit_entry_id']}")
