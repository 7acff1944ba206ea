"""``/readyz`` of a worker restarted on a large ledger state says not ready until the state
is back, then ready; ``/livez`` answers throughout.

The state is the fault harness's recovery load (``tests.faults.faults``: issuances of 1,000
one-unit blocks each); the worker is killed with ``kill -9`` and started again on its own
data folder, as ``make faults`` times it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
import yaml

from gateway.demo.stack import start_gateway
from gateway.demo.world import World
from gateway.transport.clients import KafkaClients
from tests.faults.faults import _probe, _publish, _wait, big_issuances, phases
from tests.integration.scrape import health, scrape
from tests.ports import free_port

# A broker of its own: the demo world's topics and checkpoints must not be another test's.
pytestmark = [pytest.mark.kafka, pytest.mark.own_broker, pytest.mark.slow]

#: Blocks in the ledger (1,000 per issuance), as ``make faults`` recovers them.
BLOCKS = 100_000
PER_ISSUANCE = 1000


def _answers(url: str, timeout: float) -> list[tuple[float, int, dict[str, object]]]:
    """Poll ``/readyz`` (and ``/livez``) until ready: every answer, timed."""
    out: list[tuple[float, int, dict[str, object]]] = []
    t0 = deadline = time.monotonic()
    deadline += timeout
    while time.monotonic() < deadline:
        try:
            status, body = health(url, "/readyz")
        except httpx.HTTPError:
            time.sleep(0.05)  # not listening yet
            continue
        out.append((time.monotonic() - t0, status, body))
        if status == 200:
            return out
        assert health(url, "/livez")[0] in (200, 503)
        time.sleep(0.1)
    raise AssertionError(f"not ready within {timeout:.0f} s; last: {out[-1:]}")


def test_readyz_is_not_ready_while_a_large_state_recovers(
    tmp_path: Path, kafka_admin: KafkaClients
) -> None:
    port = free_port()

    def adjust(world: World) -> None:
        doc = yaml.safe_load(world.config_path.read_text(encoding="utf-8"))
        doc["metrics"] = {"worker_port": port}
        world.config_path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")

    gw = start_gateway(tmp_path, kafka_admin, adjust=adjust)
    url = f"http://127.0.0.1:{port}"
    try:
        load = [phases(gw.world, 8)[0], big_issuances(gw.world, BLOCKS, PER_ISSUANCE)]
        for phase in load:
            asyncio.run(_publish(kafka_admin, phase))
            _wait(gw.store, {i.entry_id for i in phase}, 600 + len(phase))
        before = scrape(url)
        assert before.value("a6gw_decisions_total", outcome="accepted") >= BLOCKS // PER_ISSUANCE
        gw.worker.kill()
        gw.worker.start()
        answers = _answers(url, 600)
        not_ready = [body for _, status, body in answers if status == 503]
        named = {name for body in not_ready for name in body.get("not_ready", [])}  # type: ignore[attr-defined]
        assert named & {"tables", "ledger", "event-loop"}, answers
        # Ready means ready: the next input that needs the state is decided.
        probe = _probe(gw.world, 0)
        asyncio.run(_publish(kafka_admin, [probe]))
        _wait(gw.store, {probe.entry_id}, 300)
        print(f"readiness after kill -9 with {BLOCKS} blocks: {answers[-1][0]:.1f} s, "
              f"{len(not_ready)} answers not ready ({sorted(named)})")  # fmt: skip
    finally:
        gw.worker.stop()
