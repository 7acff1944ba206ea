"""Crash the worker (kill -9) and restart the broker in the middle of a run; lose nothing.

Publishes a realistic load in phases (accounts, a Joint Committee decision and an
authorization; issuances; transfers within and across registries; the acquiring registry's
answers; retirements) while a killer SIGKILLs the worker at random moments and restarts it.
Then it checks, from the audit log alone, that every input has exactly one decision (no
loss, no duplicate), that every decision is the expected one, that the ledger conserves
units with no unit both reserved and free, and that consumer lag is 0.

    python -m tests.faults.faults --events 20000 --kills 10 --broker-restart
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiokafka.structs import TopicPartition

from gateway.audit.note import open_checkpoint
from gateway.audit.store import AuditStore
from gateway.core.canonical import sha256_hex
from gateway.core.decision import event_entry_id
from gateway.core.topics import CHECKPOINT_TOPIC, INPUT_PREFIX, LEDGER_TOPIC, input_topic
from gateway.demo.report import holdings_from_entries
from gateway.demo.stack import start_gateway
from gateway.demo.world import World, signed_event
from gateway.transport.broker import LocalBroker
from gateway.transport.clients import KafkaClients
from tests.faults.crew import Crew, Progress
from tests.workdirs import finish

BLOCK = 100  # units per issued block
#: the workers' snapshot_every here; how long the last kill waits for a snapshot
SNAPSHOT_EVERY = 200
SNAPSHOT_WAIT_S = 30.0
SNAPSHOT_WRITTEN = "ledger snapshot written"


@dataclass(frozen=True)
class Input:
    topic: str
    key: bytes
    value: bytes
    source: str
    expect: str

    @property
    def entry_id(self) -> str:
        return event_entry_id(self.source, self.key.decode(), sha256_hex(self.value))


@dataclass
class Report:
    inputs: int = 0
    decisions: int = 0
    losses: int = 0
    duplicates: int = 0
    wrong: int = 0
    kills: int = 0
    workers: int = 1
    processes: int = 1
    lost: int = 0
    joined: int = 0
    checkpoints: int = 0
    broker_restarts: int = 0
    reserved_left: int = 0
    units_issued: int = 0
    units_seen: int = 0
    lag: int = -1
    #: how often a worker's ledger state was restored from its snapshot / rebuilt in full
    restores: int = 0
    rebuilds: int = 0
    #: ledger snapshots the workers wrote
    snapshots: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        return (
            f"workers {self.workers} x {self.processes} processes "
            f"(lost {self.lost}, joined {self.joined}), "
            f"kills {self.kills}, broker restarts {self.broker_restarts}, inputs {self.inputs}, "
            f"decisions {self.decisions}, losses {self.losses}, duplicates {self.duplicates}, "
            f"unexpected decisions {self.wrong}, reserved units left {self.reserved_left}, "
            f"units issued {self.units_issued} / in the ledger {self.units_seen}, "
            f"consumer lag {self.lag}, checkpoints {self.checkpoints} (all prefixes of the log), "
            f"ledger state restored from a snapshot {self.restores} times, "
            f"rebuilt {self.rebuilds} times, snapshots written {self.snapshots}, "
            f"{self.seconds:.0f} s"
        )


def _ev(
    world: World,
    signer: str,
    name: str,
    eid: str,
    data: dict[str, Any],
    expect: str,
    registry: str | None = None,
) -> Input:
    """A signed input published on ``registry``'s topic (default: the signer's own)."""
    value = signed_event(
        world.keys[signer],
        key_id=world.key_id(signer),
        source=signer,
        name=name,
        event_id=eid,
        data=data,
    )
    return Input(input_topic(registry or signer), eid.encode(), value, signer, expect)


def phases(world: World, events: int) -> list[list[Input]]:
    """The load, in phases whose outcomes do not depend on interleaving within a phase."""
    issued = max(4, int(events / 1.875))
    setup = [
        _ev(
            world,
            r,
            "account.opened",
            f"acc-{r}-{a}",
            {"registry_id": r, "account_id": a, "account_type": t, "holder": "holder"},
            "recorded",
        )
        for r, a, t in [
            ("JPN01", "JP-GOV-1", "government-holding"),
            ("JPN01", "JP-RET-1", "retirement"),
            ("MNG01", "MN-PP-1", "participant-holding"),
            ("MNG01", "MN-GOV-1", "government-holding"),
        ]
    ]
    setup.append(
        _ev(
            world,
            "JC-JPN-MNG",
            "jcm.issuance.decided",
            "jc-1",
            {
                "decision_id": "MN003-1",
                "ca_id": "CA0001",
                "project_id": "MN003",
                "monitoring_period": {"start": "2025-01-01", "end": "2025-12-31"},
                "vintage": 2025,
                "quantity": str(10**12),
                "allocation": [
                    {"registry_id": "MNG01", "quantity": str(6 * 10**11)},
                    {"registry_id": "JPN01", "quantity": str(4 * 10**11)},
                ],
            },
            "recorded",
            "MNG01",
        )
    )
    setup.append(
        _ev(
            world,
            "MNG",
            "authorization",
            "auth-1",
            {
                "authorization_id": "MN-AUTH-1",
                "version": 1,
                "status": "granted",
                "ca_id": "CA0001",
                "authorizing_party": "MNG",
                "date": "2025-09-01",
                "purposes": "NDC",
                "first_transfer_definition": "First international transfer",
                "coverage": [
                    {"originating_registry": "MNG01", "serial_start": "1", "serial_end": str(10**9)}
                ],
            },
            "recorded",
            "MNG01",
        )
    )

    def rng(i: int) -> dict[str, str]:
        return {"serial_start": str(i * BLOCK + 1), "serial_end": str((i + 1) * BLOCK)}

    issue = [
        _ev(
            world,
            "MNG01",
            "issuance",
            f"iss-{i}",
            {
                "transaction_id": f"ISS-{i}",
                "ca_id": "CA0001",
                "registry_id": "MNG01",
                "decision_id": "MN003-1",
                "vintage": 2025,
                "unit_type": "JCM",
                "blocks": [rng(i) | {"account_id": "MN-PP-1"}],
            },
            "accepted",
        )
        for i in range(issued)
    ]
    quarter = issued // 4

    def move(i: int, prefix: str, tx: str, to: tuple[str, str]) -> Input:
        data = {
            "transaction_id": f"{tx}-{i}",
            "ca_id": "CA0001",
            "originating_registry": "MNG01",
            "transferring": {"registry_id": "MNG01", "account_id": "MN-PP-1"},
            "acquiring": {"registry_id": to[0], "account_id": to[1]},
            "blocks": [rng(i)],
        }
        return _ev(world, "MNG01", "transfer", f"{prefix}-{i}", data, "accepted")

    intra = [move(i, "tx-in", "TXI", ("MNG01", "MN-GOV-1")) for i in range(quarter)]
    cross = [move(i, "tx-x", "TXX", ("JPN01", "JP-GOV-1")) for i in range(quarter, 2 * quarter)]
    answers = [
        _ev(
            world,
            "JPN01",
            "transfer.answer",
            f"ans-{i}",
            {
                "transaction_id": f"TXX-{i}",
                "ca_id": "CA0001",
                "originating_registry": "MNG01",
                "answer": "accepted",
            },
            "recorded",
        )
        for i in range(quarter, 2 * quarter)
    ]
    retire = [
        _ev(
            world,
            "JPN01",
            "retirement",
            f"ret-{i}",
            {
                "transaction_id": f"RET-{i}",
                "ca_id": "CA0001",
                "originating_registry": "MNG01",
                "registry_id": "JPN01",
                "account_id": "JP-GOV-1",
                "retirement_account_id": "JP-RET-1",
                "using_party": "JPN",
                "ndc_year": 2026,
                "blocks": [rng(i)],
            },
            "accepted",
        )
        for i in range(quarter, quarter + quarter // 2)
    ]
    return [setup, issue, intra + cross, answers, retire]


async def _publish(kafka: KafkaClients, inputs: list[Input]) -> None:
    producer = kafka.producer(acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(i.topic, i.value, key=i.key) for i in inputs]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _lag(kafka: KafkaClients, group: str, topics: list[str]) -> int:
    admin = kafka.admin()
    consumer = kafka.consumer(group_id=None)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        tps = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        ends = await consumer.end_offsets(tps)
        return sum(ends[tp] - (committed[tp].offset if tp in committed else 0) for tp in tps)
    finally:
        await consumer.stop()
        await admin.close()


def run(
    workdir: Path,
    *,
    events: int,
    kills: int,
    broker_restart: bool,
    port: int,
    seed: int = 1,
    workers: int = 1,
    processes: int = 1,
    join: bool = False,
    say: Any = print,
) -> Report:
    """One fault run in ``workdir`` (wiped) on its own broker; returns the report.

    ``workers``: ``a6gw worker`` started that many times (each its own folder and group
    instance id); each kill picks one at random and starts it again. ``processes``: each
    supervises that many (``--processes``), and a kill hits one of them, which its
    supervisor starts again. ``join``: also lose one
    worker for good (``kill -9``, not restarted) halfway through the issuances, and start a
    new one a third of the way through the transfers.
    """
    rnd = random.Random(seed)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    report = Report(workers=workers, processes=processes)
    t0 = time.monotonic()
    broker = LocalBroker(workdir / "kafka", port=port, verbose=False)
    broker.start()
    gw = start_gateway(workdir, broker.clients(), adjust=_snapshot_often)
    world, lc, topics, store = gw.world, gw.lc, gw.topics, gw.store
    crew = Crew.of(gw.worker, world.config_path, workdir, lc.data_dir, workers, processes)
    plan = phases(world, events)
    every = [i for phase in plan for i in phase]
    report.inputs = len(every)
    # Kills are spread over the issuance, transfer and answer phases, so that some land
    # while cross-registry transfers are in flight.
    quota = {n: kills // 3 + (1 if n - 1 < kills % 3 else 0) for n in (1, 2, 3)}
    # (phase, share of it decided, what happens)
    moves = [(1, 0.5, "lose"), (2, 0.3, "join")] if join else []
    logged = _Logged(store)
    try:
        for n, phase in enumerate(plan):
            asyncio.run(_publish(broker.clients(), phase))
            _drive(
                n,
                phase,
                plan,
                logged,
                crew,
                broker,
                report,
                quota,
                moves,
                rnd,
                say,
                kills=kills,
                broker_restart=broker_restart,
            )
            say(f"phase {n + 1}/{len(plan)}: {len(phase)} inputs decided (log size {store.size()})")
        time.sleep(3)
        _check(report, every, store)
        _check_checkpoints(report, broker.clients(), lc, store)
        report.lag = _wait_lag(
            broker.clients(),
            lc.config.gateway.id,
            [t for t in topics if t.startswith(INPUT_PREFIX) or t == LEDGER_TOPIC],
        )
        if report.lag:
            report.problems.append(f"consumer lag {report.lag}")
        report.restores = crew.logged("ledger state restored from its snapshot")
        report.rebuilds = crew.logged("ledger state rebuilt from")
        report.snapshots = crew.logged(SNAPSHOT_WRITTEN)
        crashes = crew.crashes()
        if crashes:
            report.problems.append(f"agent crashes: {crashes[:3]}")
    finally:
        crew.stop()
        broker.stop()
    report.seconds = time.monotonic() - t0
    return report


def _drive(
    n: int,
    phase: list[Input],
    plan: list[list[Input]],
    logged: _Logged,
    crew: Crew,
    broker: LocalBroker,
    report: Report,
    quota: dict[int, int],
    moves: list[tuple[int, float, str]],
    rnd: random.Random,
    say: Any,
    *,
    kills: int,
    broker_restart: bool,
) -> None:
    """Wait until phase ``n`` is decided, killing, losing and adding workers on the way."""
    want = {i.entry_id for i in phase}
    deadline = time.monotonic() + 120 + len(phase) / 20
    next_kill = time.monotonic() + rnd.uniform(1.0, 4.0)
    progress = Progress(say, f"phase {n + 1}/{len(plan)}", len(phase))
    while not want <= logged.update():
        now = time.monotonic()
        done = len(want & logged.ids)
        progress.tick(done)
        if now > deadline:
            report.problems.append(f"phase {n}: {len(want - logged.ids)} inputs undecided")
            break
        if quota.get(n, 0) and now > next_kill:
            _kill(crew, report, quota, n, rnd, say, kills)
            next_kill = now + rnd.uniform(2.0, 6.0)
        for move in [m for m in moves if m[0] == n and done >= m[1] * len(phase)]:
            _move(move[2], crew, report, rnd, say)
            moves.remove(move)
        if broker_restart and n == 2 and not report.broker_restarts:
            broker.stop()
            broker.start()
            report.broker_restarts += 1
            say("  restarted the broker")
        time.sleep(0.2)
    while quota.get(n, 0):  # a phase too quick for its kills: spend them now
        _kill(crew, report, quota, n, rnd, say, kills)
    for move in [m for m in moves if m[0] == n]:  # too quick for its moves too
        _move(move[2], crew, report, rnd, say)
        moves.remove(move)


def _snapshot_often(world: World) -> None:
    """Workers snapshot their ledger state after less work than by default, so that the
    short runs' restarts also restore snapshots."""
    doc = yaml.safe_load(world.config_path.read_text(encoding="utf-8"))
    doc["gateway"]["snapshot_every"] = SNAPSHOT_EVERY
    world.config_path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def _kill(
    crew: Crew,
    report: Report,
    quota: dict[int, int],
    n: int,
    rnd: random.Random,
    say: Any,
    kills: int,
) -> None:
    if kills > 1 and report.kills == kills - 1:
        # The last kill waits for a snapshot written since the one before, so that at least
        # one restart restores a snapshot (the other kills fall wherever they fall).
        deadline = time.monotonic() + SNAPSHOT_WAIT_S
        while crew.logged(SNAPSHOT_WRITTEN) <= report.snapshots and time.monotonic() < deadline:
            time.sleep(0.2)
    report.snapshots = crew.logged(SNAPSHOT_WRITTEN)
    what = crew.kill_and_restart(rnd)
    report.kills += 1
    quota[n] -= 1
    say(f"  killed (-9) {what} ({report.kills}/{kills})")


def _move(what: str, crew: Crew, report: Report, rnd: random.Random, say: Any) -> None:
    if what == "lose":
        place = crew.lose(rnd)
        report.lost += 1
        say(f"  killed worker {place} (-9) for good; {len(crew.live)} workers left")
    else:
        crew.add()
        report.joined += 1
        say(f"  started a new worker; {len(crew.live)} workers")


class _Logged:
    """The entry ids in the audit store, read incrementally (the log only grows)."""

    def __init__(self, store: AuditStore) -> None:
        self.store = store
        self.ids: set[str] = set()
        self.read = 0

    def update(self) -> set[str]:
        for body in self.store.entries(self.read):
            self.ids.add(json.loads(body)["entry_id"])
            self.read += 1
        return self.ids


def _wait_lag(kafka: KafkaClients, group: str, topics: list[str]) -> int:
    lag = -1
    for _ in range(60):  # faust commits every few seconds
        lag = asyncio.run(_lag(kafka, group, topics))
        if lag == 0:
            break
        time.sleep(1)
    return lag


def _check(report: Report, every: list[Input], store: AuditStore) -> None:
    # the trust and settings records a worker puts on the log at start are no input's
    logged = (json.loads(b) for b in store.entries())
    entries = [e for e in logged if e["entry_type"] not in ("trust-key", "party-settings")]
    report.decisions = len(entries)
    per_input = Counter((e["input"].get("source"), e["input"].get("id")) for e in entries)
    expected = {(i.source, i.key.decode()): i for i in every}
    report.losses = sum(1 for k in expected if per_input[k] == 0)
    report.duplicates = sum(n - 1 for n in per_input.values() if n > 1)
    extra = [k for k in per_input if k not in expected]
    for e in entries:
        i = expected.get((e["input"].get("source"), e["input"].get("id")))
        if i is not None and (e["outcome"] != i.expect or e["results"]):
            report.wrong += 1
    holdings = holdings_from_entries(store.entries())
    report.reserved_left = sum(q for (_, _, state), q in holdings.items() if state == "reserved")
    report.units_seen = sum(holdings.values())
    report.units_issued = BLOCK * sum(1 for i in every if i.key.startswith(b"iss-"))
    for name, value in [
        ("losses", report.losses),
        ("duplicates", report.duplicates),
        ("unexpected decisions", report.wrong),
        ("extra entries", len(extra)),
        ("reserved units left", report.reserved_left),
    ]:
        if value:
            report.problems.append(f"{name}: {value}")
    if report.units_seen != report.units_issued:
        report.problems.append(f"conservation: {report.units_seen} != {report.units_issued}")


async def _notes(kafka: KafkaClients) -> list[str]:
    tp = TopicPartition(CHECKPOINT_TOPIC, 0)
    consumer = kafka.consumer(group_id=None)
    await consumer.start()
    try:
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        consumer.seek(tp, 0)
        notes: list[str] = []
        while len(notes) < end:
            batch = await consumer.getmany(tp, timeout_ms=2000)
            notes += [bytes(r.value or b"").decode() for r in batch.get(tp, [])]
        return notes
    finally:
        await consumer.stop()


def _check_checkpoints(report: Report, kafka: KafkaClients, lc: Any, store: AuditStore) -> None:
    """Every checkpoint published during the run is a prefix of the final log."""
    verifier = lc.load_log_key().verifier()
    for note in asyncio.run(_notes(kafka)):
        cp = open_checkpoint(note, verifier)
        report.checkpoints += 1
        if cp.size > store.size() or store.root(cp.size) != cp.root:
            report.problems.append(f"checkpoint of size {cp.size} is not a prefix of the log")
    if not report.checkpoints:
        report.problems.append("no checkpoint was published")


def recovery(workdir: Path, *, blocks: int, port: int, say: Any = print) -> dict[str, float]:
    """Seconds a worker needs to recover a serial space of ``blocks`` blocks.

    Issues the blocks (1,000 per issuance), then twice restarts the worker and times how
    long until it decides the next input that depends on that state: first after
    ``kill -9`` on its own data folder (its local tables and its ledger snapshot), then
    after a clean stop with the folder deleted (everything comes back from the changelog
    topics).
    """
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    broker = LocalBroker(workdir / "kafka", port=port, verbose=False)
    broker.start()
    gw = start_gateway(workdir, broker.clients())
    world, lc, worker, store = gw.world, gw.lc, gw.worker, gw.store
    try:
        setup = phases(world, 8)[0]
        issue = big_issuances(world, blocks)
        t = time.monotonic()
        for phase in (setup, issue):
            asyncio.run(_publish(broker.clients(), phase))
            _wait(store, {i.entry_id for i in phase}, 600 + len(phase))
        load_s = time.monotonic() - t
        say(f"  {blocks} blocks in the ledger after {load_s:.0f} s")
        figures = {"blocks": blocks, "load_s": load_s}
        for n, (name, wipe) in enumerate(
            (("restart_to_decision_s", False), ("restart_without_tables_to_decision_s", True))
        ):
            if wipe:
                worker.stop()
                shutil.rmtree(lc.data_dir / "worker", ignore_errors=True)
            else:
                worker.kill()
            probe = _probe(world, n)
            t = time.monotonic()
            worker.start()
            asyncio.run(_publish(broker.clients(), [probe]))
            _wait(store, {probe.entry_id}, 900)
            figures[name] = time.monotonic() - t
            entry = next(json.loads(b) for b in store.entries(store.size() - 1))
            if entry["outcome"] != "accepted":
                raise SystemExit(
                    f"the probe after recovery was {entry['outcome']}: {entry['results']}"
                )
            say(f"  {'stop, tables deleted' if wipe else 'kill -9'}: {figures[name]:.1f} s")
        return figures
    finally:
        worker.stop()
        broker.stop()


def big_issuances(world: World, blocks: int, per: int = 1000) -> list[Input]:
    """Issuances of ``blocks`` one-unit blocks on CA0001, ``per`` blocks each (the recovery
    load: every other serial, so no two blocks merge)."""
    return [
        _ev(
            world,
            "MNG01",
            "issuance",
            f"big-{n}",
            {
                "transaction_id": f"BIG-{n}",
                "ca_id": "CA0001",
                "registry_id": "MNG01",
                "decision_id": "MN003-1",
                "vintage": 2025,
                "unit_type": "JCM",
                "blocks": [
                    {
                        "serial_start": str(i * 2 + 1),
                        "serial_end": str(i * 2 + 1),
                        "account_id": "MN-PP-1",
                    }
                    for i in range(n * per, (n + 1) * per)
                ],
            },
            "accepted",
        )
        for n in range(blocks // per)
    ]


def _probe(world: World, n: int) -> Input:
    """A transfer of the ``n``-th block issued: decided only once the state is back."""
    return _ev(
        world,
        "MNG01",
        "transfer",
        f"probe-{n}",
        {
            "transaction_id": f"PROBE-{n}",
            "ca_id": "CA0001",
            "originating_registry": "MNG01",
            "transferring": {"registry_id": "MNG01", "account_id": "MN-PP-1"},
            "acquiring": {"registry_id": "MNG01", "account_id": "MN-GOV-1"},
            "blocks": [{"serial_start": str(2 * n + 1), "serial_end": str(2 * n + 1)}],
        },
        "accepted",
    )


def _wait(store: AuditStore, want: set[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    logged = _Logged(store)
    while not want <= logged.update():
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(want - logged.ids)} inputs undecided after {timeout:.0f} s")
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000, help="inputs to publish")
    parser.add_argument("--kills", type=int, default=10, help="kill -9 the worker this often")
    parser.add_argument("--broker-restart", action="store_true", help="also restart the broker")
    parser.add_argument(
        "--workers", type=int, default=1, help="start `a6gw worker` this many times (default 1)"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="each worker supervises this many processes (a kill hits one of them)",
    )
    parser.add_argument(
        "--join",
        action="store_true",
        help="also kill -9 one worker for good mid-run and start a new one (needs --workers 2+)",
    )
    parser.add_argument("--port", type=int, default=19492, help="port of the run's own broker")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", default=None, help="working folder (default: a temp dir)")
    parser.add_argument(
        "--recovery-blocks",
        type=int,
        default=0,
        metavar="N",
        help="instead: time a worker's recovery of N blocks (kill -9; no local tables)",
    )
    args = parser.parse_args(argv)
    if args.join and args.workers < 2:
        parser.error("--join needs --workers 2 or more (one is lost)")
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="a6gw-faults-"))
    return finish(workdir, own=args.workdir is None, code=_run(args, workdir))


def _run(args: argparse.Namespace, workdir: Path) -> int:
    if args.recovery_blocks:
        figures = recovery(
            workdir,
            blocks=args.recovery_blocks,
            port=args.port,
            say=lambda m: print(m, file=sys.stderr, flush=True),
        )
        print(
            f"recovery of {figures['blocks']} blocks: from restart to the next decision "
            f"{figures['restart_to_decision_s']:.1f} s after kill -9, "
            f"{figures['restart_without_tables_to_decision_s']:.1f} s from the changelog "
            f"without the local tables (loading them took {figures['load_s']:.0f} s)"
        )
        return 0
    report = run(
        workdir,
        events=args.events,
        kills=args.kills,
        broker_restart=args.broker_restart,
        port=args.port,
        seed=args.seed,
        workers=args.workers,
        processes=args.processes,
        join=args.join,
        say=lambda m: print(m, file=sys.stderr, flush=True),
    )
    print(report.render())
    for p in report.problems:
        print(f"FAIL: {p}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
