"""Hostile inputs against the running gateway, counted from the sender's side.

A worker, the HTTPS ingress and the auditors' API (``a6gw api``) run on a real broker with
real TLS. Each category of hostile inputs (``hostile.py``, ``hostile_http.py``) is produced
to Kafka or sent over HTTPS; after each batch a valid input is published on every input
partition the batch touched and must be decided within ``timeouts.stall_s``. Then every
produced (topic, partition, offset) must match exactly one entry of the audit log or a
record on ``a6.dlq`` (``counting.py``); crashes are the worker log's crashed agents and
supervisor restarts, and a worker that exited; every HTTP answer must be a success or a
coded problem document below 500.

    python -m tests.adversarial.adversary --inputs 10000 --seed 14
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError

from gateway.core.topics import INPUT_PREFIX, input_topic
from gateway.demo.https import HttpsPartner, configure, start_partner
from gateway.demo.stack import Gateway, start_gateway
from gateway.http.pki import LocalCA
from gateway.http.tls import client_tls
from gateway.transport.broker import LocalBroker
from gateway.transport.clients import KafkaClients, partner_clients
from tests.adversarial import hostile, hostile_http
from tests.adversarial.counting import (
    Figures,
    Log,
    Sent,
    candidates,
    crash_marks,
    dead_letters,
    judge,
)
from tests.ports import free_port, free_port_pair
from tests.workdirs import finish

#: Who writes the hostile records: a factory of producers. The broker authenticates every
#: client and its ACLs let a registry write only its own input topic; the hostile records
#: here go to many topics, internal ones included, so they are written with the broker
#: admin's credentials (``privileged``): what anyone who got write access could send. What
#: the ACLs refuse is counted apart (``partner_writes``).
Writer = Callable[["Stack"], AIOKafkaProducer]
WEIGHTS = {  # share of the inputs each category gets, in the order they run
    "bytes": 0.25, "envelope": 0.24, "signatures": 0.15, "keys": 0.14, "api": 0.06,
    "ingress": 0.04, "timestamps": 0.05, "internal": 0.05, "nesting": 0.02,
}  # fmt: skip
KAFKA: dict[str, Callable[..., list[hostile.Hostile]]] = {
    "bytes": hostile.hostile_bytes,
    "envelope": hostile.envelope_fields,
    "signatures": hostile.signatures,
    "keys": hostile.keys_headers,
    "timestamps": hostile.timestamps,
    "internal": hostile.internal_topics,
}
BATCH = 250
#: the API client that may post operators' commands
OPERATOR = "ops"
#: The product's default: a valid input after hostile ones must be decided this soon (the
#: demo world's 10 s is too close to what a loaded 2-core machine takes now and then).
STALL_S = 30.0
#: How long to wait for the audit entries of records whose partition a probe has passed.
SETTLE_S = 10.0


def privileged(stack: Stack) -> AIOKafkaProducer:
    return stack.gw.admin.producer(acks="all", linger_ms=5)


def counts(total: int) -> dict[str, int]:
    return {name: max(1, round(total * share)) for name, share in WEIGHTS.items()}


class ApiProcess:
    """``a6gw api --config CONFIG --port PORT`` in its own process group."""

    def __init__(self, config: Path, port: int, log_path: Path) -> None:
        log = open(log_path, "ab")  # noqa: SIM115 - the child owns it
        cmd = [sys.executable, "-m", "gateway", "api", "--config", str(config)]
        self.proc = subprocess.Popen(
            [*cmd, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        log.close()
        self.log_path = log_path

    def exited(self) -> int | None:
        return self.proc.poll()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


@dataclass
class Stack:
    gw: Gateway
    partner: HttpsPartner
    api: ApiProcess
    api_url: str
    log: Log
    #: Who publishes the valid probes: a registry (its credentials, once the broker asks).
    probe_writer: Writer = privileged

    @property
    def bootstrap(self) -> str:
        return self.gw.lc.config.kafka.bootstrap

    @property
    def stall_s(self) -> float:
        return self.gw.lc.config.timeouts.stall_s

    @property
    def max_bytes(self) -> int:
        return self.gw.lc.config.limits.max_message_bytes

    def tls(self, client: str) -> Any:
        pki = self.gw.world.root / "pki"
        return client_tls(*(str(pki / f) for f in ("ca.pem", f"{client}.pem", f"{client}.key")))

    def stop(self) -> None:
        self.api.stop()
        self.gw.worker.stop()
        self.partner.stop()


def start(root: Path, admin: KafkaClients) -> Stack:
    """The demo world with IDN01 over HTTPS: a worker, the ingress, the API; all ready."""
    stack = serve(
        root, admin, ["auditor", {"name": OPERATOR, "role": "operator"}], issue=(OPERATOR,)
    )  # the operator posts the API's commands
    try:
        figures = Figures()
        asyncio.run(_probe_all(stack, figures, topics=stack_inputs(stack), timeout=180))
        if figures.stalled:
            raise RuntimeError(f"the worker does not decide: {stack.gw.worker.log_tail(20)}")
    except BaseException:
        stack.stop()
        raise
    return stack


def serve(
    root: Path,
    admin: KafkaClients,
    api_clients: list[Any],
    *,
    issue: tuple[str, ...] = (),
    stall_s: float = STALL_S,
) -> Stack:
    """The demo world with IDN01 over HTTPS (a worker, the ingress, the API with
    ``api_clients``), once the API answers; ``issue``: more client certificates."""
    ports: dict[str, int] = {}

    def adjust(world: Any) -> None:
        ports["sim"], ports["ingress"] = configure(world, root)
        for name in issue:
            LocalCA.load(root / "pki").issue(name)
        doc = yaml.safe_load(world.config_path.read_text())
        doc["timeouts"]["stall_s"] = stall_s
        doc.setdefault("api", {})["clients"] = api_clients
        world.config_path.write_text(yaml.safe_dump(doc, sort_keys=False))

    gw = start_gateway(root, admin, adjust=adjust)
    partner = start_partner(gw.world, root, ports["sim"], ports["ingress"])
    port = free_port()
    api = ApiProcess(gw.world.config_path, port, root / "api.log")
    stack = Stack(gw, partner, api, f"https://127.0.0.1:{port}", Log(gw.store))
    try:
        client = next(c if isinstance(c, str) else c["name"] for c in api_clients)
        hostile_http.wait_serving(stack.api_url + "/v1/checkpoint", stack.tls(client), 60)
    except BaseException:
        stack.stop()
        raise
    return stack


def stack_inputs(stack: Stack) -> list[str]:
    return [input_topic(r) for r in (*hostile.REGISTRIES, hostile_http.REGISTRY)]


async def _probe_all(
    stack: Stack, figures: Figures, *, topics: Iterable[str], timeout: float | None = None
) -> None:
    """A valid input on every partition of ``topics``; each must be decided in time."""
    parts = [(t, p) for t in topics for p in range(stack.gw.topics[t])]
    await _probe(stack, figures, parts, timeout or stack.stall_s)


async def _probe(
    stack: Stack, figures: Figures, parts: Iterable[tuple[str, int]], timeout: float
) -> None:
    producer = stack.probe_writer(stack)
    await producer.start()
    want: dict[str, str] = {}
    try:
        for topic, p in sorted(set(parts)):
            registry = topic.removeprefix(INPUT_PREFIX)
            eid = f"probe-{registry}-{p}-{time.monotonic_ns()}"
            value, entry_id = hostile.probe(stack.gw.world, registry, eid)
            await producer.send_and_wait(topic, value, key=eid.encode(), partition=p)
            want[entry_id] = f"{topic}/{p}"
    finally:
        await producer.stop()
    figures.probes += len(want)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(not stack.log.ids[i] for i in want):
        await asyncio.sleep(0.1)
        stack.log.update()
    figures.stalled += [
        f"{where}: no decision in {timeout:.0f} s"
        for i, where in want.items()
        if not stack.log.ids[i]
    ]


async def produce(
    stack: Stack, items: list[hostile.Hostile], figures: Figures, writer: Writer
) -> list[Sent]:
    """Produce ``items`` in batches, each followed by probes of the partitions it touched."""
    sent: list[Sent] = []
    producer = writer(stack)
    await producer.start()
    try:
        for i in range(0, len(items), BATCH):
            batch = items[i : i + BATCH]
            at_ms = int(time.time() * 1000)
            futures = [
                await producer.send(
                    h.topic, h.value, key=h.key, headers=list(h.headers) or None,
                    timestamp_ms=h.timestamp_ms,
                )
                for h in batch
            ]  # fmt: skip
            results = await asyncio.gather(*futures, return_exceptions=True)
            metas = []
            for h, m in zip(batch, results, strict=True):
                if isinstance(m, KafkaError):  # e.g. a timestamp out of the broker's range
                    figures.broker_refused += 1
                    continue
                if isinstance(m, BaseException):
                    raise m
                metas.append(m)
                sent.append(Sent(h, m.partition, m.offset, at_ms))
            inputs = stack_inputs(stack)
            touched = {(m.topic, m.partition) for m in metas if m.topic in inputs}
            if any(m.topic not in inputs for m in metas):  # internal topics: probe every input
                touched |= {(t, p) for t in inputs for p in range(stack.gw.topics[t])}
            await _probe(stack, figures, touched, stack.stall_s)
    finally:
        await producer.stop()
    return sent


def settle(stack: Stack, sent: list[Sent], figures: Figures) -> None:
    """Wait (up to ``SETTLE_S``) for every record's entry, then judge each."""
    cands = [candidates(s) for s in sent]
    deadline = time.monotonic() + SETTLE_S
    while True:
        log = stack.log.update()
        waiting = [c for c in cands if not any(log.ids[i] for i in c)]
        if not waiting or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    dlq = asyncio.run(dead_letters(stack.gw.admin, stack.gw.topics)) if waiting else set()
    for s, ids in zip(sent, cands, strict=True):
        entries = [log.first[i] for i in ids if log.ids[i] for _ in range(log.ids[i])]
        judge(s, entries, (s.item.topic, s.partition, s.offset) in dlq, figures)


def run_kafka(
    stack: Stack, name: str, count: int, seed: int, writer: Writer = privileged
) -> Figures:
    """One Kafka category: produce, probe, then judge every record."""
    figures, t0 = Figures(), time.monotonic()
    before = len(crash_marks(stack.gw.worker))
    if name == "nesting":
        items = hostile.nesting(stack.gw.world, count, seed, max_bytes=stack.max_bytes)
    else:
        items = KAFKA[name](stack.gw.world, count, seed)
    sent = asyncio.run(produce(stack, items, figures, writer))
    figures.sent = len(sent)
    if name == "internal":  # the same records from a registry: the broker refuses each
        asyncio.run(partner_writes(stack, items, figures))
    settle(stack, sent, figures)
    _crashes(stack, figures, before)
    figures.seconds = time.monotonic() - t0
    return figures


async def partner_writes(stack: Stack, items: list[hostile.Hostile], figures: Figures) -> None:
    """Each record written as a registry (MNG01's credentials) to an internal topic must be
    refused by the broker's ACLs; one that is taken is counted as unexpected."""
    kafka = partner_clients(stack.gw.lc, "registry-MNG01")
    producer = kafka.producer(acks="all", request_timeout_ms=5000)
    await producer.start()
    try:
        for h in items:
            try:
                await asyncio.wait_for(producer.send_and_wait(h.topic, h.value, key=h.key), 15)
            except TopicAuthorizationFailedError:
                figures.broker_refused += 1
            else:
                figures.unexpected.append(f"{h.what}: MNG01 wrote it to {h.topic}")
    finally:
        await producer.stop()


def run_http(stack: Stack, name: str, count: int, seed: int) -> Figures:
    """The ingress (signed posts; what it takes must be decided once) or the API."""
    figures, t0 = Figures(), time.monotonic()
    before = len(crash_marks(stack.gw.worker))
    if name == "ingress":
        world = stack.gw.world
        reqs = hostile_http.ingress_requests(world, count, seed, max_bytes=stack.max_bytes)
        base = stack.partner.ingress_url.removesuffix("/v1/events")
        answers = hostile_http.send(base, stack.tls(hostile_http.REGISTRY), reqs, world)
        topic = input_topic(hostile_http.REGISTRY)
        asyncio.run(_probe_all(stack, figures, topics=[topic]))
        _settle_taken(stack, answers.taken, figures)
    else:
        reqs = hostile_http.api_requests(count, seed, max_bytes=stack.max_bytes)
        # as an operator: an auditor's commands stop at 403 before their bodies are read
        answers = hostile_http.send(stack.api_url, stack.tls(OPERATOR), reqs, None)
        if (code := stack.api.exited()) is not None:
            figures.crashes.append(f"the API exited with {code}")
    figures.sent, figures.http = len(reqs), answers.by_status
    figures.uncoded += answers.uncoded
    _crashes(stack, figures, before)
    figures.seconds = time.monotonic() - t0
    return figures


def _settle_taken(stack: Stack, taken: list[tuple[str, bytes]], figures: Figures) -> None:
    """Each body the ingress took (202) is one entry on ``a6.in.IDN01``, found by its hash."""
    from gateway.core.canonical import sha256_hex

    topic = input_topic(hostile_http.REGISTRY)

    def found(body: bytes) -> list[dict[str, Any]]:
        return [
            e for e in stack.log.by_sha.get(sha256_hex(body), [])
            if e["input"].get("topic") == topic or e["input"].get("source") == "IDN01"
        ]  # fmt: skip

    deadline = time.monotonic() + SETTLE_S
    while any(not found(b) for _, b in taken) and time.monotonic() < deadline:
        time.sleep(0.3)
        stack.log.update()
    for what, body in taken:
        entries = found(body)
        if entries and len({e["entry_id"] for e in entries}) == 1:
            entries = entries[:1]  # the same decision re-emitted is one decision
        judge_taken = Sent(hostile.Hostile(f"posted {what}", topic, body, None), -1, -1, 0)
        judge(judge_taken, entries, False, figures)


def _crashes(stack: Stack, figures: Figures, before: int) -> None:
    figures.crashes += crash_marks(stack.gw.worker)[before:]
    if not stack.gw.worker.alive():  # go on with the next category on a running worker
        stack.gw.worker.start()


def run_all(stack: Stack, total: int, seed: int, say: Callable[[str], None] = print) -> Figures:
    everything = Figures()
    for name, count in counts(total).items():
        run = run_http if name in ("api", "ingress") else run_kafka
        figures = run(stack, name, count, seed)
        say(figures.render(name) + ("" if figures.clean else f" -- {figures.explain()}"))
        everything.add(figures)
    return everything


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--inputs", type=int, default=10_000, help="hostile inputs to send")
    parser.add_argument("--seed", type=int, default=14, help="the hypothesis seed")
    parser.add_argument("--port", type=int, default=0, help="port of the run's own broker")
    parser.add_argument("--workdir", default=None, help="working folder (default: a temp dir)")
    args = parser.parse_args(argv)
    # The client retries and the ingress's tracebacks of the 500s it answers (counted) are
    # noise here.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="a6gw-adversarial-"))
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    return finish(workdir, own=args.workdir is None, code=_run(args, workdir))


def _run(args: argparse.Namespace, workdir: Path) -> int:
    port = args.port or free_port_pair()
    broker = LocalBroker(workdir / "kafka", port=port, verbose=False)
    broker.start()
    t0 = time.monotonic()
    try:
        stack = start(workdir / "gw", broker.clients())
        try:
            say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
            figures = run_all(stack, args.inputs, args.seed, say)
        finally:
            stack.stop()
    finally:
        broker.stop()
    figures.seconds = time.monotonic() - t0
    print(figures.render(f"adversarial (seed {args.seed})"))
    return 0 if figures.clean else 1


if __name__ == "__main__":
    sys.exit(main())
