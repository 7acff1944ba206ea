"""The demo's HTTPS partner: Indonesia's registry (IDN01) through the connector.

``make_https_partner`` turns IDN01 into an HTTPS registry in the demo world's config, makes
a local PKI, and starts the reference partner registry and the gateway's ingress (threads of
the demo process). IDN01's events are then posted to the ingress by the partner, and the
gateway's messages to IDN01 are delivered to the partner by the worker.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from aiokafka.structs import TopicPartition

from connectors.client import Delivered
from connectors.partner_sim import PartnerSim
from gateway.api.server import ServerThread
from gateway.config import load_config
from gateway.core import topics
from gateway.core.signing import load_public_key_b64
from gateway.demo.world import World
from gateway.errors import WorkerError
from gateway.http.pki import init_pki
from gateway.http.ports import loopback_port
from gateway.ingress import KafkaSend, ingress_from_config, ingress_tls, make_app
from gateway.transport.clients import KafkaClients, clients_for

REGISTRY = "IDN01"


@dataclass
class HttpsPartner:
    sim: PartnerSim
    ingress_url: str
    _threads: tuple[ServerThread, ...]
    _send: KafkaSend

    @property
    def topic(self) -> str:
        return topics.input_topic(REGISTRY)

    async def post(self, body: bytes, event_id: str) -> Delivered:
        """The partner posts one of its signed events to the gateway's ingress."""
        return await self.sim.post_event(self.ingress_url, body, event_id)

    def delivered(self) -> int:
        """Messages the partner applied (each idempotency key once)."""
        return sum(self.sim.stats()["applications"].values())

    def stop(self) -> None:
        for thread in self._threads:
            thread.stop()
        self.sim.close()


def configure(world: World, root: Path) -> tuple[int, int]:
    """IDN01 as an HTTPS registry in the world's config; returns (partner port, ingress port)."""
    pki = root / "pki"
    init_pki(pki, ("a6gw-gateway", REGISTRY, "auditor"))
    sim_port, ingress_port = loopback_port(), loopback_port()
    doc = yaml.safe_load(world.config_path.read_text())
    for reg in doc["registries"]:
        if reg["id"] == REGISTRY:
            reg |= {"transport": "https", "endpoint": f"https://127.0.0.1:{sim_port}"}
    doc["connectors"] = {
        "ca_file": "pki/ca.pem",
        "cert_file": "pki/a6gw-gateway.pem",
        "key_file": "pki/a6gw-gateway.key",
        "ingress_port": ingress_port,
        "ingress_cert_file": "pki/server.pem",
        "ingress_key_file": "pki/server.key",
    }
    world.config_path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return sim_port, ingress_port


def start_partner(world: World, root: Path, sim_port: int, ingress_port: int) -> HttpsPartner:
    """Start the partner registry and the ingress for a world configured by ``configure``."""
    lc = load_config(world.config_path)
    trust = lc.load_trust()
    gw_key = lc.config.gateway.signing_key_id
    pki = root / "pki"
    sim = PartnerSim(
        REGISTRY,
        pki,
        gateway_keys={gw_key: load_public_key_b64(trust.by_id[gw_key].public_key)},
        accounts=("ID-GOV-1", "ID-PP-1"),
        key=world.keys[REGISTRY],
        key_id=world.key_id(REGISTRY),
    )
    sim_thread = sim.serve(sim_port)
    send = KafkaSend(clients_for(lc, "ingress"), lc.load_mac_key())
    tls = ingress_tls(str(pki / "server.pem"), str(pki / "server.key"), str(pki / "ca.pem"))
    ingress = ServerThread(
        lambda: make_app(ingress_from_config(lc, send), send.close), "127.0.0.1", ingress_port, tls
    ).start()
    url = f"https://127.0.0.1:{ingress_port}/v1/events"
    return HttpsPartner(sim, url, (ingress, sim_thread), send)


async def out_messages(clients: KafkaClients, partitions: int) -> int:
    """How many messages the gateway has put on ``a6.out.IDN01`` (its log end offsets)."""
    consumer = clients.consumer(group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(topics.output_topic(REGISTRY), p) for p in range(partitions)]
        return sum((await consumer.end_offsets(tps)).values())
    finally:
        await consumer.stop()


def wait_delivered(
    partner: HttpsPartner, clients: KafkaClients, partitions: int, timeout: float
) -> int:
    """Wait until the partner applied every message sent to it; returns how many.

    :raises WorkerError: (DEMO-DELIVERY) when some are still missing after ``timeout``.
    """
    want = asyncio.run(out_messages(clients, partitions))
    deadline = time.monotonic() + timeout
    while partner.delivered() < want:
        if time.monotonic() > deadline:
            raise WorkerError(
                f"{partner.delivered()} of {want} messages reached {REGISTRY} over HTTPS",
                code="DEMO-DELIVERY",
            )
        time.sleep(0.5)
    return want
