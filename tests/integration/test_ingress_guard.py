"""The ingress's guards over real TLS on a real broker: replays across restarts and replicas,
oversized and deep bodies, who may leave refusals on record and how many.

The ingress runs in threads (``ServerThread``) on loopback with a local PKI; records go to
the session's broker through the ingress's own producer (``KafkaSend``), and the refusal
entries are read back from ``a6.audit.log``. The nonce store is the SQLite file of the
default deployment and, marked ``postgres``, the real PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import TopicPartition
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors.httpsig import sign_request
from gateway import alerts
from gateway.api.server import ServerThread
from gateway.core.topics import AUDIT_TOPIC, input_topic
from gateway.http.nonces import open_nonces
from gateway.http.pki import init_pki
from gateway.http.tls import client_tls
from gateway.ingress import Ingress, KafkaSend, ingress_tls, make_app
from gateway.transport.admin import create_topics
from gateway.transport.clients import KafkaClients
from tests.ports import free_port

# Posts land on IDN01's input topic and refusals on the audit topic: on a broker of this
# module's own, so that no later world's worker consumes them.
pytestmark = [pytest.mark.kafka, pytest.mark.own_broker]

REGISTRY = "IDN01"
KEY = Ed25519PrivateKey.generate()
KEY_ID = "IDN01-ingress-test"


MAX = 8192
LIMIT = 3
MAC_KEY = bytes(range(32))  # the gateway processes' shared key (records to a6.audit.log)


@dataclass
class Site:
    pki: Path
    kafka: KafkaClients  # the broker admin's: the ingress writes, the test reads
    nonces_at: str  # a SQLite path or a postgresql:// URL
    public_url: str  # what partners sign against (the first replica's URL)

    def start(
        self, port: int | None = None, limit: int = LIMIT
    ) -> tuple[ServerThread, Ingress, str]:
        """One ingress replica; ``port`` None: on the public URL's port."""
        port = port or int(self.public_url.rsplit(":", 1)[1].split("/")[0])
        send = KafkaSend(self.kafka, MAC_KEY)
        built: dict[str, Ingress] = {}

        def build() -> Any:
            ingress = Ingress(
                base_url=self.public_url.removesuffix("/v1/events"),
                registry_of_cn={REGISTRY: REGISTRY},
                keys={KEY_ID: (REGISTRY, KEY.public_key())},
                send=send,
                max_bytes=MAX,
                nonces=open_nonces(self.nonces_at, 300),
                max_refusals_per_minute=limit,
            )
            built["ingress"] = ingress
            return make_app(ingress, send.close)

        tls = ingress_tls(*(str(self.pki / f) for f in ("server.pem", "server.key", "ca.pem")))
        thread = ServerThread(build, "127.0.0.1", port, tls).start()
        return thread, built["ingress"], f"https://127.0.0.1:{port}/v1/events"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ingress-pki")
    init_pki(root, (REGISTRY, "auditor"))
    return root


@pytest.fixture(scope="module")
def topics(kafka_admin: KafkaClients) -> KafkaClients:
    # as every world on the session's broker lays them out (write_world's partitions)
    asyncio.run(create_topics(kafka_admin, {AUDIT_TOPIC: 1, input_topic(REGISTRY): 4}))
    return kafka_admin


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def site(
    request: pytest.FixtureRequest, pki: Path, topics: KafkaClients, tmp_path: Path
) -> Iterator[Site]:
    if request.param == "postgres":
        nonces_at = request.getfixturevalue("postgres_database")
    else:
        nonces_at = str(tmp_path / "state" / "ingress-nonces.sqlite")
    yield Site(pki, topics, nonces_at, f"https://127.0.0.1:{free_port()}/v1/events")


def envelope(event_id: str, data: bytes = b'{"registry_id":"IDN01"}') -> bytes:
    return (
        b'{"specversion":"1.0","id":"' + event_id.encode() + b'","source":"IDN01",'
        b'"type":"a6gw.account.opened.v1","time":"2026-11-01T00:00:00.000Z",'
        b'"datacontenttype":"application/json","data":' + data + b"}"
    )


def post(
    site: Site,
    body: bytes,
    *,
    url: str | None = None,
    nonce: str | None = None,
    cert: str = REGISTRY,
    send_body: bytes | None = None,
) -> httpx.Response:
    headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
    headers |= sign_request(
        "POST", site.public_url, headers, body, key_id=KEY_ID, private_key=KEY,
        created=int(time.time()), nonce=nonce or uuid.uuid4().hex,
    )  # fmt: skip
    tls = client_tls(*(str(site.pki / f) for f in ("ca.pem", f"{cert}.pem", f"{cert}.key")))
    with httpx.Client(verify=tls, timeout=20) as http:
        return http.post(url or site.public_url, content=send_body or body, headers=headers)


def assert_problem(r: httpx.Response, status: int, code: str) -> None:
    assert (r.status_code, r.headers["content-type"].split(";")[0]) == (
        status,
        "application/problem+json",
    ), r.text
    assert r.json()["code"] == code, r.text


async def _audit_end(kafka: KafkaClients) -> int:
    consumer = kafka.consumer(enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(AUDIT_TOPIC, 0)
        return int((await consumer.end_offsets([tp]))[tp])
    finally:
        await consumer.stop()


async def _audit_since(kafka: KafkaClients, offset: int) -> list[dict[str, Any]]:
    consumer = kafka.consumer(enable_auto_commit=False)
    await consumer.start()
    out: list[dict[str, Any]] = []
    try:
        tp = TopicPartition(AUDIT_TOPIC, 0)
        consumer.assign([tp])
        consumer.seek(tp, offset)
        end = int((await consumer.end_offsets([tp]))[tp])
        deadline = time.monotonic() + 30
        while await consumer.position(tp) < end and time.monotonic() < deadline:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            out += [json.loads(r.value) for r in batch.get(tp, [])]
    finally:
        await consumer.stop()
    return out


def audit_end(site: Site) -> int:
    return asyncio.run(_audit_end(site.kafka))


def audit_since(site: Site, offset: int) -> list[dict[str, Any]]:
    return asyncio.run(_audit_since(site.kafka, offset))


def test_a_replay_after_a_restart_or_at_another_replica_is_refused(site: Site) -> None:
    first, _, url_a = site.start()
    body, nonce = envelope(f"ev-{uuid.uuid4().hex}"), uuid.uuid4().hex
    try:
        assert post(site, body, nonce=nonce).status_code == 202
    finally:
        first.stop()
    again, _, _ = site.start()  # the same ingress, restarted
    other, _, url_b = site.start(free_port())  # and a second replica behind the same URL
    try:
        assert_problem(post(site, body, nonce=nonce), 401, "REG-REPLAY")
        assert_problem(post(site, body, nonce=nonce, url=url_b), 401, "REG-REPLAY")
        fresh = uuid.uuid4().hex
        assert post(site, body, nonce=fresh, url=url_b).status_code == 202
        assert_problem(post(site, body, nonce=fresh), 401, "REG-REPLAY")
    finally:
        other.stop()
        again.stop()
    assert url_a == site.public_url


def test_oversized_and_deep_bodies_get_coded_answers_on_record(site: Site) -> None:
    thread, _, _ = site.start(limit=10)
    since = audit_end(site)
    try:
        huge = envelope("ev-huge", b'"' + b"x" * (MAX + 4096) + b'"')
        assert_problem(post(site, huge), 413, "MSG-008")
        near = envelope("ev-near", b'"' + b"x" * (MAX + 100 - len(envelope("", b'""'))) + b'"')
        assert MAX < len(near) <= MAX + 1024
        assert_problem(post(site, near), 413, "MSG-008")
        deep = envelope("ev-deep", b"[" * 1500 + b"]" * 1500)
        assert len(deep) <= MAX
        assert_problem(post(site, deep), 400, "MSG-001")
        digits = envelope("ev-digits", b"9" * 5000)
        assert_problem(post(site, digits), 400, "MSG-001")
    finally:
        thread.stop()
    codes = [e["results"][0]["code"] for e in audit_since(site, since)]
    assert codes.count("MSG-008") == 2 and codes.count("MSG-001") == 2, codes


def test_refusals_on_record_are_bounded_and_keep_a_digest_and_the_head(site: Site) -> None:
    thread, ingress, _ = site.start()
    since = audit_end(site)
    before = alerts.counts()["A6-ALERT-004"]
    try:
        body = envelope(f"ev-{uuid.uuid4().hex}", b'"' + b"y" * 2000 + b'"')
        tampered = body.replace(b"yyyy", b"zzzz", 1)
        stranger = post(site, body, cert="auditor")  # of the CA, but no registry
        assert_problem(stranger, 403, "REG-IDENTITY")
        answers = [post(site, body, send_body=tampered) for _ in range(LIMIT + 3)]
        for r in answers[:LIMIT]:
            assert_problem(r, 401, "REG-DIGEST")
        for r in answers[LIMIT:]:
            assert_problem(r, 429, "REG-RATE")
            assert int(r.headers["Retry-After"]) >= 1
        assert post(site, envelope(f"ev-{uuid.uuid4().hex}")).status_code == 202
    finally:
        thread.stop()
    entries = [e for e in audit_since(site, since) if e["entry_type"] == "http-refusal"]
    codes = [e["results"][0]["code"] for e in entries]
    assert "REG-IDENTITY" not in codes
    assert codes.count("REG-RATE") == 1, codes
    recorded = [e for e in entries if e["results"][0]["code"] == "REG-DIGEST"]
    assert len(recorded) == LIMIT
    assert alerts.counts()["A6-ALERT-004"] == before + 1
    entry = recorded[0]
    assert entry["input"]["sha256"] == hashlib.sha256(tampered).hexdigest()
    assert entry["input"]["size"] == len(tampered)
    assert base64.b64decode(entry["input"]["head_b64"]) == tampered[:1024]
    assert "body" not in entry["input"] and "y" * 1100 not in json.dumps(entry)


def test_a_failing_nonce_store_is_answered_503_never_accepted(site: Site) -> None:
    thread, ingress, _ = site.start()
    try:
        ingress.nonces.close()  # the store is gone (database down, file lost)
        r = post(site, envelope(f"ev-{uuid.uuid4().hex}"))
        assert_problem(r, 503, "INGRESS-STORE")
    finally:
        ingress.nonces = open_nonces(site.nonces_at, 300)  # for the app's cleanup
        thread.stop()
