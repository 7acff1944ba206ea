"""``a6gw demo``: a local Kafka broker, the worker, and the bundled scenario end to end.

Starts its own broker (in ``<workdir>/kafka``, wiped each run) and the worker as
subprocesses, publishes every scenario step as the registry would, waits for each step's
audit entry, then prints a summary and exits 0 only if every outcome is the expected one.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.audit.bundle import verify_bundle
from gateway.audit.export import export_bundle
from gateway.audit.note import Checkpoint
from gateway.audit.store import AuditStore
from gateway.config import LoadedConfig
from gateway.core.decision import raw_entry_id
from gateway.core.signing import load_public_key_b64
from gateway.demo.collect import OutputCollector, Publishers
from gateway.demo.https import HttpsPartner, configure, start_partner, wait_delivered
from gateway.demo.operator import operate
from gateway.demo.planted import plant_and_reconcile
from gateway.demo.report import StepRow, holdings_from_entries, render_summary
from gateway.demo.reporting import check_summaries, export_aefs
from gateway.demo.scenario import Step, load_steps
from gateway.demo.stack import start_gateway
from gateway.demo.witnessed import show_cosigned, show_fork, wait_cosigned
from gateway.demo.witnesses import WitnessProcess, start_for
from gateway.demo.world import World
from gateway.errors import GatewayError
from gateway.redaction import protect_config
from gateway.services.entries import read_entries, read_entry
from gateway.transport.broker import LocalBroker
from gateway.transport.clients import KafkaClients, clients_for
from gateway.transport.topic_plan import topic_plan
from gateway.worker.process import WorkerProcess
from gateway.worker.sequencing import request_checkpoint
from schemas.entries import INPUT_KINDS, DecisionEntry

Say = Callable[[str], None]
# How long the demo's acquiring registries have to answer a transfer proposal.
DEMO_ANSWER_S = 15


def _say(msg: str) -> None:
    print(f"a6gw demo: {msg}", file=sys.stderr, flush=True)


async def _wait_entry(
    store: AuditStore, entry_id: str, timeout: float, worker: WorkerProcess
) -> None:
    deadline = time.monotonic() + timeout
    while not store.has(entry_id):
        worker.check_alive()
        if time.monotonic() > deadline:
            raise GatewayError(
                f"no audit entry {entry_id} after {timeout:.0f}s", code="DEMO-TIMEOUT"
            )
        await asyncio.sleep(0.05)


async def _wait_input(
    store: AuditStore, source: str, event_id: str, timeout: float, worker: WorkerProcess
) -> str:
    """Wait for the entry of an input the gateway made itself (e.g. a timeout)."""
    deadline = time.monotonic() + timeout
    seen = 0
    while True:
        for body in store.entries(seen):
            seen += 1
            entry = read_entry(body)
            if isinstance(entry, DecisionEntry) and (entry.input.source, entry.input.id) == (
                source,
                event_id,
            ):
                return entry.entry_id
        worker.check_alive()
        if time.monotonic() > deadline:
            raise GatewayError(
                f"no decision for {event_id} after {timeout:.0f}s", code="DEMO-TIMEOUT"
            )
        await asyncio.sleep(0.1)


def await_entries(store: AuditStore, kind: str, count: int, worker: WorkerProcess) -> None:
    """Wait until the log holds ``count`` entries of type ``kind`` (at most a minute)."""
    deadline = time.monotonic() + 60
    while sum(1 for e in read_entries(store.entries()) if e.entry_type == kind) < count:
        worker.check_alive()
        if time.monotonic() > deadline:
            raise GatewayError(f"fewer than {count} {kind} entries were logged", code="DEMO-LOG")
        time.sleep(0.5)


def export_at_new_checkpoint(lc: LoadedConfig, store: AuditStore, directory: Path) -> Checkpoint:
    """Ask the running sequencer for a checkpoint now and export the bundle it signs."""
    kafka = clients_for(lc, "checkpoint")
    note = asyncio.run(request_checkpoint(kafka, lc.load_mac_key(), min_size=store.size()))
    if lc.config.witness_quorum:  # the bundle carries the witnesses' cosignatures
        note = wait_cosigned(lc, store, int(note.split("\n")[1]))
    verifiers = [lc.load_log_key().verifier(), *lc.previous_log_verifiers()]
    return export_bundle(directory, store, note, verifiers)


async def replay(
    lc: LoadedConfig,
    steps: list[Step],
    store: AuditStore,
    worker: WorkerProcess,
    admin: KafkaClients,
    say: Say = _say,
    first_timeout: float = 180.0,
    https: HttpsPartner | None = None,
) -> dict[str, Any]:
    """Publish each step (as its topic's owner) and wait for its decision; returns what was
    observed (read with ``admin``, the broker admin's clients).

    With ``https``, the steps of that partner's topic are posted to the gateway's ingress by
    the partner instead of being put on the topic.
    """
    cfg = lc.config
    gateway_key = load_public_key_b64(lc.load_trust().by_id[cfg.gateway.signing_key_id].public_key)
    collector = OutputCollector(admin, sorted(topic_plan(cfg)[0]), gateway_key)
    await collector.start()
    producer = Publishers(lc)
    observed: dict[str, Any] = {"entries": {}, "size_after": {}}
    try:
        for i, step in enumerate(steps):
            if step.awaits is not None:
                assert step.source is not None
                wait = cfg.timeouts.transfer_answer_s + 60.0
                entry_id = await _wait_input(store, step.source, step.awaits, wait, worker)
                observed["entries"][step.id] = entry_id
                observed["size_after"][step.id] = store.size()
                say(f"step {i + 1:2d}/{len(steps)} {step.id}: decided by the gateway's timer")
                continue
            if https is not None and step.topic == https.topic and step.entry_id:
                await https.post(step.value, step.key.decode())
                entry_id = step.entry_id
            else:
                meta = await producer.send_and_wait(step.topic, step.value, key=step.key)
                entry_id = step.entry_id or raw_entry_id(meta.topic, meta.partition, meta.offset)
            timeout = first_timeout if i == 0 else 60.0
            if step.is_redelivery:
                # The stored decision is re-sent; the audit log must not grow.
                await collector.wait_for_copies("dec-" + entry_id, 2, timeout)
            else:
                await _wait_entry(store, entry_id, timeout, worker)
            observed["entries"][step.id] = entry_id
            observed["size_after"][step.id] = store.size()
            say(f"step {i + 1:2d}/{len(steps)} {step.id}: decided")
        await asyncio.sleep(1.0)  # a late duplicate would show up here
        observed["decisions"] = collector.decisions()
        observed["dlq"] = collector.dead_letters()
        observed["notices"] = collector.notices()
    finally:
        await producer.stop()
        await collector.stop()
    return observed


def check(steps: list[Step], observed: dict[str, Any], store: AuditStore) -> list[StepRow]:
    """Compare every step with its expectation; one row per step for the summary."""
    entries = {e.entry_id: e for e in read_entries(store.entries()) if isinstance(e, INPUT_KINDS)}
    rows: list[StepRow] = []
    for step in steps:
        entry = entries.get(observed["entries"].get(step.id, ""))
        codes = tuple(sorted(r.code for r in entry.results)) if entry else ()
        problems: list[str] = []
        if (entry.outcome if entry else None, codes) != (step.expect.outcome, step.expect.codes):
            problems.append(f"expected {step.expect.outcome} {list(step.expect.codes)}")
        actions = tuple(entry.actions) if isinstance(entry, DecisionEntry) else ()
        if step.expect.actions is not None and actions != step.expect.actions:
            problems.append(f"expected actions {list(step.expect.actions)}")
        if step.is_redelivery:
            prev = steps[[s.id for s in steps].index(step.id) - 1].id
            if observed["size_after"][step.id] != observed["size_after"][prev]:
                problems.append("the redelivery added an audit entry")
        if isinstance(entry, DecisionEntry) and entry.entry_id not in observed["decisions"]:
            problems.append("no signed decision on the registry's output topic")
        rows.append(StepRow(step, entry, codes, problems))
    return rows


def run_demo(
    workdir: Path, *, export: Path | None = None, port: int = 19292, keep_running: bool = False
) -> int:
    """Run the whole demo; returns the process exit code."""
    # Right after topic creation the broker answers NotLeader for a moment; aiokafka retries
    # and logs each retry. The outcome is checked below, so keep the console readable.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    broker = LocalBroker(workdir / "kafka", port=port)
    _say("starting a local Kafka broker (the first run fetches its jars with Maven)")
    t0 = time.monotonic()
    broker.start()
    _say(f"Kafka answers at {broker.bootstrap} after {time.monotonic() - t0:.1f}s")
    worker: WorkerProcess | None = None
    https: HttpsPartner | None = None
    witnesses: list[WitnessProcess] = []
    try:
        ports: list[int] = []

        def adjust(world: World) -> None:
            ports.extend(configure(world, workdir))  # makes the demo's CA in workdir/pki
            witnesses.extend(start_for(world, workdir, workdir / "pki"))

        gw = start_gateway(
            workdir, broker.clients(), transfer_answer_s=DEMO_ANSWER_S, adjust=adjust
        )
        world, lc, worker, store = gw.world, gw.lc, gw.worker, gw.store
        protect_config(lc)  # the ingress runs here: its keys are masked in any log line
        https = start_partner(world, workdir, *ports)
        _say(
            f"created {len(gw.topics)} topics; worker started; IDN01 is an HTTPS registry "
            f"(partner at {https.sim.base_url}, ingress at {https.ingress_url})"
        )
        _say("replaying the scenario")
        steps = load_steps(world)
        observed = asyncio.run(replay(lc, steps, store, worker, gw.admin, https=https))
        rows = check(steps, observed, store)
        posted = sum(1 for s in steps if s.topic == https.topic)
        sent = wait_delivered(https, gw.admin, lc.config.kafka.partitions, 60)
        _say(
            f"IDN01 over HTTPS: {posted} events posted to the ingress; {sent} messages "
            f"delivered to the partner, each idempotency key applied once"
        )
        entries = list(store.entries())
        planted = plant_and_reconcile(lc, world, store, https, _say)
        await_entries(store, "reconciliation", 2, worker)
        _say("the operator acts on every discrepancy found (signed commands)")
        planted += operate(lc, world, store, worker, https, _say)
        _say("Article 6 reporting: structured summaries checked, AEF reports exported")
        planted += check_summaries(lc, store, worker, _say)
        bundle_dir = export or (workdir / "bundle")
        _say("asking the sequencer for a checkpoint over the whole log, then exporting it")
        checkpoint = export_at_new_checkpoint(lc, store, bundle_dir)
        planted += export_aefs(lc, bundle_dir, workdir, _say)
        report = verify_bundle(bundle_dir, trusted_vkey=lc.load_log_key().public_vkey())
        holdings = holdings_from_entries(entries)
        print(render_summary(rows, holdings, checkpoint, report, bundle_dir, observed))
        _say("witnesses: Japan's and Mongolia's witnesses check each checkpoint and cosign it")
        planted += show_cosigned(bundle_dir, witnesses, _say)
        planted += show_fork(lc, store, witnesses, workdir, _say)
        failed = [r for r in rows if r.problems]
        crashes = worker.crashes()
        if crashes:
            print("FAIL: a worker agent crashed:\n" + "\n".join(crashes[:5]))
            return 1
        expected_size = len([s for s in steps if not s.is_redelivery])
        decided = [
            e
            for e in read_entries(entries)
            if isinstance(e, INPUT_KINDS) and e.entry_type != "discrepancy"
        ]
        if len(decided) != expected_size:
            print(f"FAIL: the log has {len(decided)} decisions, expected {expected_size}")
            return 1
        if failed:
            print(f"FAIL: {len(failed)} step(s) did not end as expected")
            return 1
        if planted:
            print("FAIL: reconciliation, discrepancies, reporting: " + "; ".join(planted))
            return 1
        print(
            "OK: every input ended as its expected decision; the planted inconsistencies "
            "were found (continuously and by snapshot reconciliation), each resolved on "
            "record; Mongolia's wrong summary row was found; every Party's AEF rolls "
            "forward; the bundle verifies, cosigned by both witnesses, who refused a "
            "forked copy of the log."
        )
        if keep_running:
            _say("broker and worker keep running; press Ctrl-C to stop")
            while True:
                time.sleep(3600)
        return 0
    except GatewayError as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        if worker is not None:
            print(worker.log_tail(), file=sys.stderr)
        return 1
    finally:
        if https is not None:
            https.stop()
        if worker is not None:
            worker.stop()
        for w in witnesses:
            w.stop()
        broker.stop()
