"""The adversarial suite: hostile inputs against the running worker, ingress and API.

A fixed seed and ``SUITE_INPUTS`` inputs in all (``make faults`` runs ``adversary.py`` with
10,000). One stack serves the module, on its own broker (the gateway's topic names are
fixed); the categories run in file order. Each test asserts, for its category: nothing
lost, nothing decided twice, every outcome coded, no crash, no partition stalled, and the
outcome the category calls for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gateway.transport.broker import LocalBroker
from tests.adversarial import adversary
from tests.ports import free_port_pair

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

SEED = 14
SUITE_INPUTS = 2_000
COUNTS = adversary.counts(SUITE_INPUTS)


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, adversarial_report: dict[str, Any]
) -> Iterator[adversary.Stack]:
    root = tmp_path_factory.mktemp("adversarial")
    broker = LocalBroker(root / "kafka", port=free_port_pair(), verbose=False)
    broker.start(timeout=120)
    adversarial_report["seed"] = SEED
    try:
        running = adversary.start(root / "gw", broker.clients())
        try:
            yield running
        finally:
            running.stop()
    finally:
        broker.stop()


#: The categories, in the order they run:
#: hostile bytes; envelopes mutated field by field; foreign, broken or missing signatures and
#: key ids; hostile record keys and headers; the API's paths, parameters and command bodies;
#: posts to the ingress; producers' record timestamps; writes to internal topics; deep, huge
#: and oversized bodies.
CATEGORIES = [
    pytest.param("bytes", id="hostile-bytes-are-dead-lettered"),
    pytest.param("envelope", id="envelopes-mutated-field-by-field"),
    pytest.param("signatures", id="foreign-broken-or-missing-signatures-are-never-taken"),
    pytest.param("keys", id="hostile-record-keys-and-headers"),
    pytest.param("api", id="api-answers-each-request-with-a-coded-problem"),
    pytest.param("ingress", id="ingress-answers-each-post-and-what-it-takes-is-decided"),
    pytest.param("timestamps", id="record-timestamps-are-not-the-arrival-time"),
    pytest.param("internal", id="writes-to-internal-topics-are-dead-lettered"),
    pytest.param("nesting", id="deep-huge-and-oversized-bodies-are-dead-lettered"),
]


@pytest.mark.parametrize("category", CATEGORIES)
def test_hostile_inputs(
    stack: adversary.Stack, adversarial_report: dict[str, Any], category: str
) -> None:
    """Nothing lost or decided twice, every outcome coded, no crash, no stalled partition,
    and the outcome the category calls for."""
    run = adversary.run_http if category in ("api", "ingress") else adversary.run_kafka
    figures = run(stack, category, COUNTS[category], SEED)
    adversarial_report["figures"].add(figures)
    assert figures.clean, f"{figures.render(category)} -- {figures.explain()}"
