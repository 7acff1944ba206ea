"""The README's quick start, run as written: ``docs/quickstart/publish.py`` (Kafka) and
``docs/quickstart/ingress.py`` (HTTPS) in subprocesses, configured only by the environment
variables they document, against the demo world's worker, ingress and auditors' API on a
real broker with real TLS. Each must print its decision and find its entry in the audit log,
and the entry must be in the gateway's store as printed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.core.signing import public_key_b64
from gateway.demo.https import REGISTRY as HTTPS_REGISTRY
from gateway.transport.acls import registry_principal
from gateway.transport.clients import KafkaClients, credentials_path
from tests.adversarial.adversary import Stack, serve

# A broker of its own: the demo world's topics and checkpoints must not be another test's.
pytestmark = [pytest.mark.kafka, pytest.mark.own_broker, pytest.mark.slow]

SNIPPETS = Path(__file__).resolve().parents[2] / "docs" / "quickstart"
KAFKA_REGISTRY = "JPN01"
ENTRY = re.compile(r"^audit log: entry (\d+) (\S+): (\w+)$", re.M)


@pytest.fixture(scope="module")
def stack(kafka_admin: KafkaClients, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The demo world with IDN01 over HTTPS (a worker, the ingress, the API); JPN01 and
    IDN01 may read their Party's entries on the API with their client certificates."""
    clients = [
        {"name": KAFKA_REGISTRY, "party": "JPN"},
        {"name": HTTPS_REGISTRY, "party": "IDN"},
    ]
    root = tmp_path_factory.mktemp("quickstart")
    running = serve(root, kafka_admin, clients, issue=(KAFKA_REGISTRY,))
    try:
        yield running
    finally:
        running.stop()


def snippet_env(stack: Stack, registry: str, **more: str) -> dict[str, str]:
    """The variables the snippets' docstrings list, from the demo world's files."""
    world, pki = stack.gw.world, stack.gw.world.root / "pki"
    signer = world.keys[stack.gw.lc.config.gateway.id]
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR", "LANG")}
    return keep | {
        "KAFKA_BOOTSTRAP": stack.gw.lc.config.kafka.bootstrap,
        "KAFKA_CREDENTIALS_FILE": str(credentials_path(stack.gw.lc, registry_principal(registry))),
        "REGISTRY_ID": registry,
        "SIGNING_KEY_FILE": str(world.root / "keys" / f"{registry}.pem"),
        "SIGNING_KEY_ID": world.key_id(registry),
        "GATEWAY_PUBLIC_KEY": public_key_b64(signer.public_key()),
        "A6GW_API_URL": stack.api_url,
        "TLS_CA_FILE": str(pki / "ca.pem"),
        "TLS_CERT_FILE": str(pki / f"{registry}.pem"),
        "TLS_KEY_FILE": str(pki / f"{registry}.key"),
        **more,
    }


def run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python docs/quickstart/SCRIPT``, as the README says."""
    cmd = [sys.executable, str(SNIPPETS / script)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)


def entry_of(stack: Stack, out: str) -> dict[str, Any]:
    """The audit entry the snippet printed, as the gateway's own store holds it."""
    found = ENTRY.search(out)
    assert found is not None, out
    index, entry_id, outcome = found.groups()
    body = stack.gw.store.entry(int(index))
    entry: dict[str, Any] = json.loads(body)
    assert (entry["entry_id"], entry["outcome"]) == (entry_id, outcome)
    return entry


def test_publish_over_kafka_reads_the_signed_decision_and_finds_the_entry(stack: Stack) -> None:
    result = run("publish.py", snippet_env(stack, KAFKA_REGISTRY))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    published = re.search(r"^published (qs-[0-9a-f]{32}) to a6\.in\.JPN01$", out, re.M)
    assert published is not None, out
    gateway_key = stack.gw.world.key_id(stack.gw.lc.config.gateway.id)
    assert f"decision: recorded, signed by {gateway_key} (verified)" in out
    assert f"note: account.opened {published.group(1)} recorded\n" in out
    entry = entry_of(stack, out)
    assert entry["input"]["id"] == published.group(1)
    assert entry["input"]["source"] == KAFKA_REGISTRY
    assert entry["input"]["type"] == "a6gw.account.opened.v1"


def test_publish_refuses_a_decision_another_key_signed(stack: Stack) -> None:
    """The snippet's check of the gateway's signature is real: with another Ed25519 key as
    the gateway's, the decision does not verify and the snippet fails."""
    other = public_key_b64(stack.gw.world.keys["ops-1"].public_key())
    result = run("publish.py", snippet_env(stack, KAFKA_REGISTRY, GATEWAY_PUBLIC_KEY=other))
    assert result.returncode != 0
    assert "InvalidSignature" in result.stderr
    assert "decision:" not in result.stdout


def test_post_to_the_ingress_finds_the_entry(stack: Stack) -> None:
    ingress = stack.partner.ingress_url.removesuffix("/v1/events")
    result = run("ingress.py", snippet_env(stack, HTTPS_REGISTRY, A6GW_INGRESS_URL=ingress))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    accepted = re.search(r'^ingress: 202 \{"event_id": "(qs-[0-9a-f]{32})"', out, re.M)
    assert accepted is not None, out
    entry = entry_of(stack, out)
    assert entry["outcome"] == "recorded"
    assert (entry["input"]["id"], entry["input"]["source"]) == (accepted.group(1), "IDN01")
