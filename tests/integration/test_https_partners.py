"""An HTTPS partner registry (IDN01) end to end: delivery from the worker, ingress to it.

Its own broker (the gateway's topic names are fixed), a local PKI, the reference partner
registry (``connectors.partner_sim``) over real TLS on loopback, the worker as a process,
and the ingress in a thread. Delivery: every idempotency key applied exactly once at the
partner, in order per key, through 5xx answers, connection resets, a partner that is down
for a while (messages parked on ``a6.retry.IDN01`` and delivered when it is back) and a
worker killed in the middle. Ingress: identity, signature, digest and replay checks, each
refusal an audit entry; a good event is decided by the worker.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from connectors.httpsig import sign_request
from connectors.partner_sim import PartnerSim
from gateway.api.server import ServerThread
from gateway.audit.store import AuditStore
from gateway.config import LoadedConfig, load_config
from gateway.core.canonical import sha256_hex
from gateway.core.decision import event_entry_id
from gateway.core.signing import load_public_key_b64
from gateway.core.topics import output_topic
from gateway.demo.world import World, signed_event, write_world
from gateway.errors import RegistryError
from gateway.http.pki import init_pki
from gateway.http.tls import client_tls
from gateway.ingress import KafkaSend, ingress_from_config, ingress_tls, make_app
from gateway.transport.acls import provision
from gateway.transport.broker import LocalBroker
from gateway.transport.clients import clients_for
from gateway.transport.topic_plan import ensure_topics
from gateway.worker.process import WorkerProcess
from tests.ports import free_port

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

PORT = 19792


@dataclass
class Stack:
    world: World
    lc: LoadedConfig
    pki: Path
    sim: PartnerSim
    worker: WorkerProcess
    store: AuditStore
    ingress_url: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("https")
    broker = LocalBroker(root / "kafka", port=PORT, verbose=False)
    broker.wipe()
    broker.start()
    pki = root / "pki"
    init_pki(pki, ("a6gw-gateway", "IDN01", "auditor"))
    sim_port, ingress_port = free_port(), free_port()
    world = write_world(root / "gw", bootstrap=broker.bootstrap)
    doc = yaml.safe_load(world.config_path.read_text())
    for reg in doc["registries"]:
        if reg["id"] == "IDN01":
            reg |= {"transport": "https", "endpoint": f"https://127.0.0.1:{sim_port}"}
    doc["connectors"] = {
        "ca_file": str(pki / "ca.pem"),
        "cert_file": str(pki / "a6gw-gateway.pem"),
        "key_file": str(pki / "a6gw-gateway.key"),
        "timeout_s": 2.0,
        "retry_budget_s": 3.0,
        "ingress_port": ingress_port,
        "ingress_cert_file": str(pki / "server.pem"),
        "ingress_key_file": str(pki / "server.key"),
    }
    world.config_path.write_text(yaml.safe_dump(doc, sort_keys=False))
    lc = load_config(world.config_path)
    trust = lc.load_trust()
    gw_key_id = lc.config.gateway.signing_key_id
    sim = PartnerSim(
        "IDN01",
        pki,
        gateway_keys={gw_key_id: load_public_key_b64(trust.by_id[gw_key_id].public_key)},
        accounts=("ID-GOV-1", "ID-PP-1"),
        key=world.keys["IDN01"],
        key_id=world.key_id("IDN01"),
    )
    sim_thread = sim.serve(sim_port)
    asyncio.run(provision(lc, broker.clients()))
    asyncio.run(ensure_topics(broker.clients(), lc.config))
    worker = WorkerProcess(world.config_path, root / "worker.log")
    worker.start()
    send = KafkaSend(clients_for(lc, "ingress"), lc.load_mac_key())
    ingress = ServerThread(
        lambda: make_app(ingress_from_config(lc, send), send.close),
        "127.0.0.1",
        ingress_port,
        ingress_tls(str(pki / "server.pem"), str(pki / "server.key"), str(pki / "ca.pem")),
    ).start()
    try:
        yield Stack(
            world,
            lc,
            pki,
            sim,
            worker,
            AuditStore(lc.data_dir / "audit.sqlite"),
            f"https://127.0.0.1:{ingress_port}/v1/events",
        )
    finally:
        ingress.stop()
        worker.stop()
        print(worker.log_tail(20))
        sim_thread.stop()
        sim.close()
        broker.stop()


def message(key: str, seq: int, run: str) -> bytes:
    """A message the ledger would put on a6.out.IDN01 (what the partner is told)."""
    doc = {
        "specversion": "1.0",
        "id": f"{run}-{key}-{seq:03d}",
        "source": "a6gw-demo",
        "type": "a6gw.notice.v1",
        "data": {"transaction_id": f"{run}-{key}", "seq": seq},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def publish_out(stack: Stack, keys: int, per_key: int, run: str) -> list[tuple[str, list[str]]]:
    """Messages on a6.out.IDN01, keys interleaved, in order per key; returns the plan."""

    async def go() -> None:
        # the gateway's worker writes the output topics
        producer = clients_for(stack.lc, "worker").producer(acks="all")
        await producer.start()
        try:
            for seq in range(per_key):
                for k in range(keys):
                    key = f"k{k:02d}"
                    await producer.send(
                        output_topic("IDN01"), message(key, seq, run), key=f"{run}-{key}".encode()
                    )
            await producer.flush()
        finally:
            await producer.stop()

    asyncio.run(go())
    return [
        (f"{run}-k{k:02d}", [f"{run}-k{k:02d}-{seq:03d}" for seq in range(per_key)])
        for k in range(keys)
    ]


def wait_applied(stack: Stack, plan: list[tuple[str, list[str]]], timeout: float) -> None:
    ids = [i for _, seq in plan for i in seq]
    deadline = time.monotonic() + timeout
    while sum(1 for i in ids if stack.sim.applications(i)) < len(ids):
        stack.worker.check_alive()
        if time.monotonic() > deadline:
            missing = [i for i in ids if not stack.sim.applications(i)]
            raise AssertionError(f"{len(missing)} not applied, e.g. {missing[:5]}")
        time.sleep(0.5)


def assert_exactly_once_in_order(stack: Stack, plan: list[tuple[str, list[str]]]) -> None:
    for tx, seq in plan:
        assert [stack.sim.applications(i) for i in seq] == [1] * len(seq), tx
        assert stack.sim.order(tx) == seq, tx


def test_a_thousand_deliveries_through_5xx_and_resets(stack: Stack) -> None:
    stack.sim.set_faults(fail_5xx_rate=0.15, reset_rate=0.1)
    try:
        plan = publish_out(stack, keys=50, per_key=20, run="flaky")
        wait_applied(stack, plan, timeout=300)
    finally:
        stack.sim.set_faults(fail_5xx_rate=0.0, reset_rate=0.0)
    assert_exactly_once_in_order(stack, plan)
    attempts = sum(stack.sim.attempts(i) for _, seq in plan for i in seq)
    assert attempts > 1000  # the faults happened, and were retried


def test_a_partner_down_for_a_while_gets_its_messages_parked_then_delivered(stack: Stack) -> None:
    stack.sim.set_faults(fail_5xx=10**9)  # down
    plan = publish_out(stack, keys=3, per_key=5, run="down")
    deadline = time.monotonic() + 120
    parked: list[dict[str, object]] = []
    while not parked:
        assert time.monotonic() < deadline, "nothing was parked"
        time.sleep(1)
        parked = [
            e
            for e in map(json.loads, stack.store.entries())
            if e["entry_type"] == "delivery-parked"
        ]
    assert parked[0]["results"][0]["code"] in {"REG-EXHAUSTED", "REG-OPEN"}  # type: ignore[index]
    stack.sim.set_faults(fail_5xx=0)  # back
    wait_applied(stack, plan, timeout=180)
    assert_exactly_once_in_order(stack, plan)


def test_a_worker_killed_in_the_middle_of_delivery_still_applies_each_key_once(
    stack: Stack,
) -> None:
    stack.sim.set_faults(delay_s=0.01, reset_rate=0.05)  # a reset after applying: lost answers
    try:
        plan = publish_out(stack, keys=10, per_key=30, run="kill")
        ids = [i for _, seq in plan for i in seq]
        deadline = time.monotonic() + 120
        while sum(1 for i in ids if stack.sim.applications(i)) < 60:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        stack.worker.kill()
        stack.worker.start()
        wait_applied(stack, plan, timeout=300)
    finally:
        stack.sim.set_faults(delay_s=0.0, reset_rate=0.0)
    assert_exactly_once_in_order(stack, plan)


# -- the ingress ---------------------------------------------------------------------------


def envelope(stack: Stack, event_id: str) -> bytes:
    return signed_event(
        stack.world.keys["IDN01"],
        key_id=stack.world.key_id("IDN01"),
        source="IDN01",
        name="account.opened",
        event_id=event_id,
        data={
            "registry_id": "IDN01",
            "account_id": f"ID-{event_id}",
            "account_type": "participant-holding",
            "holder": "Indonesian project participant",
        },
    )


def post(
    stack: Stack,
    body: bytes,
    *,
    tamper: bytes | None = None,
    nonce: str | None = None,
    created: int | None = None,
    cert: str = "IDN01",
) -> httpx.Response:
    headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
    headers |= sign_request(
        "POST", stack.ingress_url, headers, body,
        key_id=stack.world.key_id("IDN01"), private_key=stack.world.keys["IDN01"],
        created=created or int(time.time()), nonce=nonce or uuid.uuid4().hex,
    )  # fmt: skip
    tls = client_tls(*(str(stack.pki / f) for f in ("ca.pem", f"{cert}.pem", f"{cert}.key")))
    with httpx.Client(verify=tls, timeout=10) as http:
        return http.post(stack.ingress_url, content=tamper or body, headers=headers)


def refusals(stack: Stack, code: str, timeout: float = 60) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while True:
        found = [
            e
            for e in map(json.loads, stack.store.entries())
            if e["entry_type"] == "http-refusal" and e["results"][0]["code"] == code
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_a_signed_event_posted_to_the_ingress_is_decided(stack: Stack) -> None:
    body = envelope(stack, "idn-acc-http-1")
    first = post(stack, body)
    assert first.status_code == 202, first.text
    assert first.json() == {"event_id": "idn-acc-http-1", "registry": "IDN01"}
    again = post(stack, body)  # a duplicate: the same answer, and still one decision
    assert again.status_code == 202 and again.json() == first.json()
    entry_id = event_entry_id("IDN01", "idn-acc-http-1", sha256_hex(body))
    deadline = time.monotonic() + 60
    while not stack.store.has(entry_id):
        assert time.monotonic() < deadline, stack.worker.log_tail(20)
        time.sleep(0.5)
    ids = [json.loads(b)["entry_id"] for b in stack.store.entries()]
    assert ids.count(entry_id) == 1


def test_the_partner_sim_posts_through_its_connector(stack: Stack) -> None:
    done = asyncio.run(
        stack.sim.post_event(stack.ingress_url, envelope(stack, "idn-acc-http-2"), "idn-acc-http-2")
    )
    assert done.status == 202


def test_a_tampered_body_is_refused_and_on_record(stack: Stack) -> None:
    body = envelope(stack, "idn-acc-http-3")
    r = post(stack, body, tamper=body.replace(b"ID-idn", b"ID-xxx"))
    assert r.status_code == 401 and r.json()["code"] == "REG-DIGEST"
    assert refusals(stack, "REG-DIGEST")


def test_a_replayed_request_is_refused(stack: Stack) -> None:
    body = envelope(stack, "idn-acc-http-4")
    nonce = uuid.uuid4().hex
    assert post(stack, body, nonce=nonce).status_code == 202
    replay = post(stack, body, nonce=nonce)
    assert replay.status_code == 401 and replay.json()["code"] == "REG-REPLAY"
    stale = post(stack, body, created=int(time.time()) - 3600)
    assert stale.status_code == 401 and stale.json()["code"] == "REG-SIG-STALE"
    assert refusals(stack, "REG-REPLAY")


def test_a_signature_by_an_unknown_key_is_refused(stack: Stack) -> None:
    stack.sim.set_faults(bad_signature=True)
    try:
        with pytest.raises(RegistryError) as err:
            asyncio.run(stack.sim.post_event(stack.ingress_url, envelope(stack, "idn-x"), "idn-x"))
    finally:
        stack.sim.set_faults(bad_signature=False)
    assert "401" in err.value.code
    assert refusals(stack, "REG-SIG-INVALID")  # a known key id, but not its key


def test_a_certificate_of_another_registry_or_ca_is_refused(stack: Stack) -> None:
    body = envelope(stack, "idn-acc-http-5")
    other = post(stack, body, cert="auditor")  # a valid certificate, but no HTTPS registry
    assert other.status_code == 403 and other.json()["code"] == "REG-IDENTITY"
    stack.sim.set_faults(wrong_certificate=True)
    try:
        with pytest.raises(RegistryError) as err:
            asyncio.run(stack.sim.post_event(stack.ingress_url, body, "idn-acc-http-5"))
    finally:
        stack.sim.set_faults(wrong_certificate=False)
    assert err.value.code in {"REG-TLS", "REG-CONNECT", "REG-EXHAUSTED"}
    no_cert = client_tls(str(stack.pki / "ca.pem"))
    with httpx.Client(verify=no_cert, timeout=10) as http, pytest.raises(httpx.HTTPError):
        http.post(stack.ingress_url, content=body)
