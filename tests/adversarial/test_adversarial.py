"""The adversarial suite: hostile inputs against the running worker, ingress and API.

A fixed seed and ``SUITE_INPUTS`` inputs in all (``make faults`` runs ``adversary.py`` with
10,000). One stack serves the module, on its own broker (the gateway's topic names are
fixed); the categories run in file order, those that stop a partition last. Each test
asserts, for its category: nothing lost, nothing decided twice, every outcome coded, no
crash, no partition stalled, and the outcome the category calls for.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import adversary
import pytest
from counting import Figures

from gateway.kafka.broker import LocalBroker

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

SEED = 14
SUITE_INPUTS = 2_000
COUNTS = adversary.counts(SUITE_INPUTS)


def _free_pair() -> int:
    """A port whose successor is free too (the broker's controller listens there)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port pair")


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, adversarial_report: dict[str, Any]
) -> Iterator[adversary.Stack]:
    root = tmp_path_factory.mktemp("adversarial")
    broker = LocalBroker(root / "kafka", port=_free_pair(), verbose=False)
    broker.start(timeout=120)
    adversarial_report["seed"] = SEED
    try:
        running = adversary.start(root / "gw", broker.bootstrap)
        try:
            yield running
        finally:
            running.stop()
    finally:
        broker.stop()


def _run(stack: adversary.Stack, request: pytest.FixtureRequest, name: str) -> Figures:
    run = adversary.run_http if name in ("api", "ingress") else adversary.run_kafka
    figures = run(stack, name, COUNTS[name], SEED)
    request.getfixturevalue("adversarial_report")["figures"].add(figures)
    return figures


def _check(figures: Figures) -> None:
    assert figures.clean, f"{figures.render()} -- {figures.explain()}"


def test_hostile_bytes_are_dead_lettered(
    stack: adversary.Stack, request: pytest.FixtureRequest
) -> None:
    _check(_run(stack, request, "bytes"))


def test_envelopes_mutated_field_by_field(
    stack: adversary.Stack, request: pytest.FixtureRequest
) -> None:
    _check(_run(stack, request, "envelope"))


def test_foreign_broken_or_missing_signatures_are_never_taken(
    stack: adversary.Stack, request: pytest.FixtureRequest
) -> None:
    _check(_run(stack, request, "signatures"))


def test_hostile_record_keys_and_headers(
    stack: adversary.Stack, request: pytest.FixtureRequest
) -> None:
    _check(_run(stack, request, "keys"))


@pytest.mark.xfail(
    strict=True,
    reason="issue 14 #7: the API answers 500 to integers >= 2^63 in a path or `after` "
    "(SQLite overflow) and to a deep body on the command route",
)
def test_api_answers_every_hostile_request_with_a_coded_problem(
    stack: adversary.Stack, request: pytest.FixtureRequest
) -> None:
    _check(_run(stack, request, "api"))


@pytest.mark.xfail(
    strict=True,
    reason="issue 14 #6: the ingress answers aiohttp's plain-text 413 to a body over "
    "max_message_bytes + 1 KiB and 500 to a validly signed deep body",
)
def test_ingress_answers_every_hostile_post_and_what_it_takes_is_decided(
    stack: adversary.Stack, request: pytest.FixtureRequest
) -> None:
    _check(_run(stack, request, "ingress"))


@pytest.mark.xfail(
    strict=True,
    reason="issue 14 #2: the producer's record timestamp is trusted as the arrival time "
    "(back-dated proposals are not MSG-005; decided_at is the back-dated time)",
)
def test_record_timestamps_are_not_the_arrival_time(
    stack: adversary.Stack, request: pytest.FixtureRequest
) -> None:
    _check(_run(stack, request, "timestamps"))


@pytest.mark.xfail(
    strict=True,
    reason="issue 14 #3: records anyone writes to a6.ledger / a6.audit.log are taken "
    "(an unsigned issuance accepted, a forged entry appended) instead of dead-lettered",
)
def test_writes_to_internal_topics_are_dead_lettered(
    stack: adversary.Stack, request: pytest.FixtureRequest
) -> None:
    _check(_run(stack, request, "internal"))


@pytest.mark.xfail(
    strict=True,
    reason="issue 14 #1: a deep or 5,000-digit body makes the ingest agent raise: no dead "
    "letter, the worker crash-loops and the partition stalls",
)
def test_deep_huge_and_oversized_bodies_are_dead_lettered(
    stack: adversary.Stack, request: pytest.FixtureRequest
) -> None:
    _check(_run(stack, request, "nesting"))
