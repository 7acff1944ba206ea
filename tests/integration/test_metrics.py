"""Metrics and health of a running worker, API and ingress, scraped during the demo scenario.

The worker, ``a6gw api`` and ``a6gw ingress`` run as the operator runs them (separate
processes, the plain-HTTP metrics port of each from the config or ``--metrics-port``); the
scenario is replayed as ``a6gw demo`` replays it, IDN01's events posted to the ingress by the
partner registry. The decisions the worker counts by outcome must be what the audit log
holds, the re-sent ones counted apart, and every partition's lag must come back to 0.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from connectors.partner_sim import PartnerSim
from gateway.config import load_config
from gateway.core.signing import load_public_key_b64
from gateway.demo.https import REGISTRY, HttpsPartner, configure, wait_delivered
from gateway.demo.run import DEMO_ANSWER_S, replay
from gateway.demo.scenario import load_steps
from gateway.demo.stack import Gateway, start_gateway
from gateway.demo.world import World
from gateway.http.tls import client_tls
from gateway.services.discrepancies import load_discrepancies
from gateway.services.entries import read_entries
from gateway.transport.clients import KafkaClients
from tests.integration.scrape import Scrape, health, scrape, wait_for
from tests.ports import free_port

# A broker of its own: the demo world's topics and checkpoints must not be another test's.
pytestmark = [pytest.mark.kafka, pytest.mark.own_broker, pytest.mark.slow]

HOST = "127.0.0.1"


@dataclass
class Stack:
    gw: Gateway
    partner: HttpsPartner
    worker_url: str
    api_url: str
    api_metrics: str
    ingress_metrics: str
    pki: Path


def _metrics_config(world: World, ports: dict[str, int]) -> None:
    doc = yaml.safe_load(world.config_path.read_text(encoding="utf-8"))
    # the API's and the ingress's come from --metrics-port
    doc["metrics"] = {
        "host": HOST,
        "worker_port": ports["worker"],
        "api_port": 0,
        "ingress_port": 0,
    }
    doc["api"] = {"port": ports["api"]}
    world.config_path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def _partner(world: World, root: Path, sim_port: int, ingress_port: int) -> HttpsPartner:
    """IDN01's registry (no ingress in this process: ``a6gw ingress`` runs it)."""
    trust = load_config(world.config_path).load_trust()
    gw_key = load_config(world.config_path).config.gateway.signing_key_id
    sim = PartnerSim(
        REGISTRY,
        root / "pki",
        gateway_keys={gw_key: load_public_key_b64(trust.by_id[gw_key].public_key)},
        accounts=("ID-GOV-1", "ID-PP-1"),
        key=world.keys[REGISTRY],
        key_id=world.key_id(REGISTRY),
    )
    thread = sim.serve(sim_port)
    url = f"https://{HOST}:{ingress_port}/v1/events"
    return HttpsPartner(sim, url, (thread,), None)  # type: ignore[arg-type]


def _serve(root: Path, name: str, *args: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "gateway", name, "--config", str(root / "config.yaml"), *args]
    with (root / f"{name}.log").open("ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, kafka_admin: KafkaClients) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("metrics")
    ports = {k: free_port() for k in ("worker", "api", "api_metrics", "ingress_metrics")}
    https_ports: list[int] = []

    def adjust(world: World) -> None:
        https_ports.extend(configure(world, root))
        _metrics_config(world, ports)

    gw = start_gateway(root, kafka_admin, transfer_answer_s=DEMO_ANSWER_S, adjust=adjust)
    servers = [
        _serve(root, "api", "--metrics-port", str(ports["api_metrics"])),
        _serve(root, "ingress", "--metrics-port", str(ports["ingress_metrics"])),
    ]
    partner = _partner(gw.world, root, *https_ports)
    try:
        yield Stack(
            gw,
            partner,
            f"http://{HOST}:{ports['worker']}",
            f"https://{HOST}:{ports['api']}",
            f"http://{HOST}:{ports['api_metrics']}",
            f"http://{HOST}:{ports['ingress_metrics']}",
            root / "pki",
        )
    finally:
        gw.worker.stop()  # first: it holds connections to the partner
        for proc in servers:
            proc.terminate()
            proc.wait(30)
        partner.stop()


def _wait_ready(url: str, timeout: float) -> None:
    last: list[object] = []

    def ready() -> bool:
        try:
            answer = health(url, "/readyz")
        except httpx.HTTPError as exc:
            last[:] = [exc]
            return False
        last[:] = [answer]
        return answer[0] == 200

    try:
        wait_for(f"{url}/readyz answering 200", ready, timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last answer: {last}") from None


def _settled(stack: Stack) -> bool:
    """Every owned partition's lag is 0 and the sequencer has counted the whole log."""
    s = scrape(stack.worker_url)
    lags = s.series("a6gw_partition_lag")
    size = stack.gw.store.size()
    return bool(lags) and all(v == 0 for _, v in lags) and s.value("a6gw_audit_tree_size") == size


def _api_get(stack: Stack, path: str, client: str | None) -> int:
    pki = stack.pki
    if client is None:
        tls = client_tls(str(pki / "ca.pem"))
    else:
        tls = client_tls(
            str(pki / "ca.pem"), str(pki / f"{client}.pem"), str(pki / f"{client}.key")
        )
    with httpx.Client(verify=tls, timeout=10) as http:
        return http.get(stack.api_url + path).status_code


def test_scraped_counts_equal_the_audit_log_and_lag_returns_to_0(stack: Stack) -> None:
    gw = stack.gw
    for url in (stack.worker_url, stack.api_metrics, stack.ingress_metrics):
        _wait_ready(url, 240)
        assert health(url, "/livez") == (200, {"live": True})
    steps = load_steps(gw.world)
    asyncio.run(replay(gw.lc, steps, gw.store, gw.worker, gw.admin, https=stack.partner))
    wait_delivered(stack.partner, gw.admin, gw.lc.config.kafka.partitions, 60)
    wait_for("lag back to 0, the whole log counted", lambda: _settled(stack), 120)

    s = scrape(stack.worker_url)
    entries = list(read_entries(gw.store.entries()))
    decisions = [e for e in entries if e.entry_type == "decision"]
    assert s.by("a6gw_decisions_total", "outcome") == Counter(e.outcome for e in decisions)
    codes = Counter((e.outcome, r.code) for e in decisions for r in e.results)
    got_codes = {
        (labels["outcome"], labels["code"]): v
        for labels, v in s.series("a6gw_decision_codes_total")
        if v
    }
    assert got_codes == codes
    # The scenario's redeliveries were re-sent, not decided again: counted apart.
    resent = sum(1 for step in steps if step.is_redelivery)
    assert resent > 0
    assert sum(s.by("a6gw_decisions_resent_total", "outcome").values()) == resent
    assert s.by("a6gw_audit_entries_total", "entry_type") == Counter(e.entry_type for e in entries)
    dead = Counter(r.code for e in entries if e.entry_type == "dead-letter" for r in e.results)
    assert dead and s.by("a6gw_dead_letters_total", "code") == dead
    assert s.value("a6gw_decision_latency_seconds_count") == len(decisions)
    assert s.value("a6gw_audit_tree_size") == gw.store.size()
    tracked = load_discrepancies(gw.store)
    assert s.by("a6gw_discrepancies", "status") == Counter(
        str(t.discrepancy.status) for t in tracked.values()
    )
    published = sum(1 for step in steps if not step.awaits)
    assert s.value("a6gw_inputs_total", agent="ingest") >= published
    assert s.value("a6gw_deliveries_total", registry=REGISTRY, result="delivered") >= 1
    assert s.value("a6gw_alerts_total") == 0
    _check_servers(stack, steps_to_ingress=sum(1 for st in steps if st.topic.endswith(REGISTRY)))


def _check_servers(stack: Stack, steps_to_ingress: int) -> None:
    """The ingress counted what the partner posted; the API counts requests by route and
    status; the API's own port serves no metrics."""
    ingress = scrape(stack.ingress_metrics)
    posted = ingress.value(
        "a6gw_http_requests_total", server="ingress", route="/v1/events", status="202"
    )
    assert posted == steps_to_ingress > 0
    assert _api_get(stack, "/v1/checkpoint", "auditor") == 200
    assert _api_get(stack, "/v1/checkpoint", None) == 401
    assert _api_get(stack, "/metrics", "auditor") == 404
    api: Scrape = scrape(stack.api_metrics)
    by_status = api.by("a6gw_http_requests_total", "status", server="api")
    assert by_status.get("200", 0) >= 1 and by_status.get("401", 0) >= 1
    assert by_status.get("404", 0) >= 1
    assert api.value("a6gw_http_request_duration_seconds_count", route="/v1/checkpoint") >= 2
    # An API or ingress exports no worker metrics.
    assert not api.series("a6gw_partition_lag") and not api.series("a6gw_audit_tree_size")
