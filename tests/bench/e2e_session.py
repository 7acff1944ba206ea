"""One session of the end-to-end benchmark: a fresh broker, the gateway with N worker
processes, a timed burst, the bare pipe over the same records, the offered rates."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.audit.store import AuditStore
from gateway.config import LoadedConfig, load_config
from gateway.core.signing import verify_envelope
from gateway.core.topics import INPUT_PREFIX, is_output
from gateway.demo.world import GATEWAY_ID, World, write_world
from gateway.transport.acls import provision
from gateway.transport.broker import LocalBroker
from gateway.transport.clients import KafkaClients
from gateway.transport.topic_plan import ensure_topics
from tests.bench.e2e_kafka import (
    Decisions,
    Say,
    end_offsets,
    pipe,
    publish,
    wait_group,
    warm_up,
)
from tests.bench.e2e_machine import reference_per_s
from tests.bench.e2e_mix import Input
from tests.bench.e2e_procs import Workers, tree_cpu_s
from tests.bench.e2e_report import latency_figures, per_input, percentile, timeline
from tests.ports import free_port_pair

Stream = tuple[list[list[Input]], list[Input]]


@dataclass(frozen=True)
class Plan:
    workdir: Path
    root: Path  # the world (its keys are kept from session to session)
    port: int  # 0: a free pair for each broker
    cas: list[str]
    drain: float
    adjust: Callable[[Path], None]
    warm_up: float = 0.0  # seconds of broker warm-up traffic before the timed parts


@dataclass
class Live:
    """What a session's coroutines share."""

    kafka: KafkaClients
    lc: LoadedConfig
    world: World
    workers: Workers
    decisions: Decisions
    store: AuditStore
    partitions: dict[str, int]
    say: Say
    broker_pid: int | None = None

    def others_cpu_s(self) -> tuple[float, float]:
        """CPU seconds used so far by the broker's process and by this benchmark's own."""
        broker = tree_cpu_s([self.broker_pid]) if self.broker_pid is not None else 0.0
        return broker, time.process_time()


@contextmanager
def fresh_gateway(plan: Plan, label: str, processes: int, say: Say) -> Iterator[Live]:
    """A fresh broker with the world's gateway (principals, ACLs, topics) and ``processes``
    running workers; everything is stopped on the way out."""
    shutil.rmtree(plan.root / "data", ignore_errors=True)
    broker = LocalBroker(plan.workdir / "kafka", port=plan.port or free_port_pair(), verbose=False)
    broker.wipe()
    broker.start(timeout=120)
    workers: Workers | None = None
    try:
        kafka = broker.clients()
        world = write_world(plan.root, bootstrap=broker.bootstrap)
        plan.adjust(world.config_path)
        lc = load_config(world.config_path)
        asyncio.run(provision(lc, kafka))
        partitions, _ = asyncio.run(ensure_topics(kafka, lc.config))
        logs = plan.workdir / "logs" / label.replace(" ", "").replace(",", "-")
        workers = Workers(world.config_path, lc.data_dir, logs, processes)
        workers.start()
        store = AuditStore(Path(lc.audit_store()))
        outputs = {t: n for t, n in partitions.items() if is_output(t)}
        yield Live(
            kafka, lc, world, workers, Decisions(kafka, outputs), store, partitions, say,
            broker.status().pid,
        )  # fmt: skip
    except Exception:
        if workers is not None:
            say(workers.log_tail())
        raise
    finally:
        if workers is not None:
            workers.stop()
        broker.stop()


def run_session(
    plan: Plan,
    label: str,
    processes: int,
    phases: list[list[Input]],
    rates: dict[int, Stream],
    say: Say,
    *,
    hot: bool = False,
) -> dict[str, Any]:
    """One session on a fresh broker; returns its figures and problems."""
    ref = reference_per_s()
    say(
        f"session '{label}': fresh broker, {processes} worker process(es); machine {ref:,.0f} ref/s"
    )
    out: dict[str, Any] = {
        "label": label, "processes": processes, "hot": hot, "problems": [],
        "reference_per_s": ref,
    }  # fmt: skip
    try:
        with fresh_gateway(plan, label, processes, say) as live:
            asyncio.run(_drive(live, phases, rates, plan.drain, out, plan.warm_up))
            out["worker_restarts"] = live.workers.restarts()
            if crashes := live.workers.crashes():
                out["problems"].append(f"agent crashes: {crashes[:2]}")
    except Exception as exc:  # a session that breaks is reported, the next one runs
        out["problems"].append(f"{type(exc).__name__}: {exc}")
    out.setdefault("burst", None)
    out["ok"] = not out["problems"] and out["burst"] is not None
    return out


async def wait_ready(live: Live) -> None:
    """Until every worker is in the consumer group and the group is stable."""
    waited = await wait_group(live.kafka, GATEWAY_ID, len(live.workers.procs), 180)
    live.say(f"  {len(live.workers.procs)} worker(s) in the group after {waited:.0f} s")


async def _drive(
    live: Live,
    phases: list[list[Input]],
    rates: dict[int, Stream],
    drain: float,
    out: dict[str, Any],
    warm: float = 0.0,
) -> None:
    await live.decisions.start(precise=False)  # until the latencies
    try:
        if warm:
            out["broker_warm_up"] = await warm_up(live.kafka, warm, live.say)
        await wait_ready(live)
        await phase(live, phases[0], "warm-up (accounts, decisions, authorizations)")
        out["burst"] = await _burst(live, phases, out["problems"])
        out["rates"] = []
        if rates:
            await live.decisions.precise()
        for rate, (prep, stream) in rates.items():
            for n, inputs in enumerate(prep):
                await phase(live, inputs, f"rate {rate}/s preparation {n + 1}/{len(prep)}")
            out["rates"].append(await _open_loop(live, stream, rate, drain))
        live.workers.stop()  # the pipe has the broker and the cores to itself
        out["pipe"] = await pipe(live.kafka, live.partitions, live.say, live.others_cpu_s)
        out["ratio"] = out["burst"]["inputs_per_s"] / out["pipe"]["records_per_s"]
    finally:
        await live.decisions.stop()


async def phase(live: Live, inputs: list[Input], what: str, timeout: float | None = None) -> None:
    """Publish ``inputs`` and wait until each has its decision (untimed; by default at
    least 20 inputs/s after a 3-minute grace)."""
    await publish(live.kafka, inputs)
    until = time.monotonic() + (180 + len(inputs) / 20 if timeout is None else timeout)
    left = await live.decisions.wait([i.key for i in inputs], until=until, say=live.say, what=what)
    if left:
        raise RuntimeError(f"{what}: {len(left)} of {len(inputs)} inputs undecided")
    live.say(f"  {what}: {len(inputs)} decided")


async def _burst(live: Live, phases: list[list[Input]], problems: list[str]) -> dict[str, Any]:
    timed = [i for inputs in phases[1:] for i in inputs]
    before = await end_offsets(live.kafka)
    cpu0, t0 = live.workers.cpu_s(), time.monotonic()
    others0 = live.others_cpu_s()
    for n, inputs in enumerate(phases[1:], 1):
        await publish(live.kafka, inputs)
        until = time.monotonic() + 120 + len(inputs) / 20
        what = f"burst phase {n}/{len(phases) - 1}"
        left = await live.decisions.wait(
            [i.key for i in inputs], until=until, say=live.say, what=what
        )
        if left:
            problems.append(f"{what}: {len(left)} of {len(inputs)} inputs without a decision")
            break
        live.say(f"  {what}: {len(inputs)} decided ({time.monotonic() - t0:.1f} s)")
    want = sum(map(len, phases))
    until = time.monotonic() + 120
    while live.store.size() < want and time.monotonic() < until:
        await asyncio.sleep(0.02)
    stored = time.monotonic()
    cpu1 = live.workers.cpu_s()
    others1 = live.others_cpu_s()
    last = max((live.decisions.first.get(i.key, 0.0) for i in timed), default=t0)
    seconds = max(last, stored) - t0
    await asyncio.sleep(1.0)  # let the last writes of the burst land before counting
    by_topic = per_input(before, await end_offsets(live.kafka), len(timed))
    written = {t: v for t, v in by_topic.items() if not t.startswith(INPUT_PREFIX)}
    checks = _check(live, phases)
    problems += checks.pop("problems")
    live.say(f"  burst: {len(timed)} inputs in {seconds:.1f} s")
    return {
        "inputs": len(timed),
        "seconds": seconds,
        "inputs_per_s": len(timed) / seconds,
        "cpu_s": cpu1 - cpu0,
        "cpu_ms_per_input": (cpu1 - cpu0) * 1000 / len(timed),
        # the rest of the machine's work in the same seconds (one machine runs it all)
        "broker_cpu_ms_per_input": (others1[0] - others0[0]) * 1000 / len(timed),
        "bench_cpu_ms_per_input": (others1[1] - others0[1]) * 1000 / len(timed),
        "by_topic": by_topic,
        "records_per_input": sum(written.values()),
        "checks": checks,
    }


def _check(live: Live, phases: list[list[Input]]) -> dict[str, Any]:
    """Every input has exactly one decision in the audit log (the expected outcome, no
    finding) and a signed decision on its output topic."""
    every = {(i.source, i.event_id): i for inputs in phases for i in inputs}
    per: Counter[tuple[str, str]] = Counter()
    wrong = extra = 0
    for body in live.store.entries():
        e = json.loads(body)
        if e["entry_type"] in ("trust-key", "party-settings"):
            continue  # a worker's start-up records, no input's
        key = (e["input"].get("source"), e["input"].get("id"))
        per[key] += 1
        i = every.get(key)
        if i is None:
            extra += 1
        elif per[key] == 1 and (e["outcome"] != i.expect or e["results"]):
            wrong += 1
    lost = sum(1 for k in every if per[k] == 0)
    duplicated = sum(n - 1 for k, n in per.items() if n > 1)
    unsigned = sum(1 for i in every.values() if i.key not in live.decisions.first)
    counts = live.decisions.count
    resent = sum(counts[i.key] - 1 for i in every.values() if i.key in counts)
    public = live.world.keys[GATEWAY_ID].public_key()
    bad = 0
    for value in live.decisions.sample.values():
        try:
            verify_envelope(json.loads(value), public)
        except Exception:  # any failure is a bad signature here
            bad += 1
    figures = {
        "inputs": len(every),
        "lost": lost,
        "duplicated": duplicated,
        "unexpected": wrong,
        "extra_entries": extra,
        "without_output_decision": unsigned,
        "output_decisions_resent": resent,
        "signatures_checked": len(live.decisions.sample),
        "bad_signatures": bad,
    }
    problems = [
        f"{k}: {figures[k]}"
        for k in ("lost", "duplicated", "unexpected", "extra_entries", "bad_signatures")
        if figures[k]
    ]
    if unsigned:
        problems.append(f"without_output_decision: {unsigned}")
    return figures | {"problems": problems}


async def _open_loop(live: Live, inputs: list[Input], rate: int, drain: float) -> dict[str, Any]:
    """Offer ``inputs`` at ``rate``/s on a fixed schedule; latency from each scheduled send
    time to its decision's arrival on the output topic."""
    producer = live.kafka.producer(acks="all", enable_idempotence=True, linger_ms=0)
    await producer.start()
    start = time.monotonic() + 0.2
    sched = [start + i / rate for i in range(len(inputs))]
    at = time.strftime("%H:%M:%S", time.gmtime(time.time() + 0.2))
    live.say(f"  the schedule starts at {at} UTC (the worst seconds below count from it)")
    futures, late, i, shown = [], 0.0, 0, start
    live.say(f"  offering {rate} inputs/s for {len(inputs) / rate:.0f} s")
    try:
        while i < len(inputs):
            now = time.monotonic()
            if sched[i] > now:
                await asyncio.sleep(min(sched[i] - now, 0.01))
                continue
            while i < len(inputs) and sched[i] <= now:
                inp = inputs[i]
                futures.append(await producer.send(inp.topic, inp.value, key=inp.key))
                late = max(late, time.monotonic() - sched[i])
                i += 1
            if now - shown >= 10:
                done = sum(1 for x in inputs[:i] if x.key in live.decisions.first)
                live.say(f"    rate {rate}/s: {i} sent, {done} decided")
                shown = now
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    end = sched[-1]
    keys = [x.key for x in inputs]
    await live.decisions.wait(keys, until=end + drain, say=live.say, what=f"rate {rate}/s drain")
    first = live.decisions.first
    lat = [first[k] - s if k in first else None for k, s in zip(keys, sched, strict=True)]
    on_time = sum(1 for k in keys if k in first and first[k] <= end + 1.0)
    fig = latency_figures(lat)
    fig["worst_seconds"] = timeline([s - start for s in sched], lat)
    # The same to the decision record's timestamp: the gateway's part, without this tail's.
    made = live.decisions.made
    written = [made[k] - s for k, s in zip(keys, sched, strict=True) if k in made]
    fig |= {"written_p50_s": percentile(written, 50), "written_p99_s": percentile(written, 99)}
    why = ""
    if fig["undecided"]:
        why = f"{fig['undecided']} undecided {drain:.0f} s after the last send"
    elif on_time < 0.95 * len(keys):
        why = f"only {on_time / len(keys):.0%} decided by 1 s after the last send"
    return {
        "rate": rate,
        "sent": len(inputs),
        "generator_late_max_s": late,
        **fig,
        "decided_by_end_plus_1s": on_time,
        "kept_up": not why,
        "why": why,
    }
