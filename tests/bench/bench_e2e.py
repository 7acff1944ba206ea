"""End-to-end benchmark of the gateway on its own real, authenticated Kafka broker.

In one run, run by run (``--runs 3``), for each number of worker processes in turn
(``--processes 1,2``: 1, 2, 1, 2, 1, 2), on a fresh broker with the demo world's gateway
(the approaches are the benchmark's, see ``tests/bench/e2e_mix.py``):

0. the machine's pace: Ed25519 sign + verify + SHA-256 of a ~550-byte event, per second of
   CPU on one core, before anything else of the session starts (``ref/s``); the workers'
   CPU per input is also given in these reference events (``ref/in``), which compare
   across days and machines (``tests/bench/e2e_machine.py``);

1. burst: ``--inputs`` pre-signed valid inputs of a realistic mix (issuances, transfers
   within and across registries, the acquiring registry's acceptances, authorizations,
   retirements) over ``--approaches`` cooperative approaches, published in phases whose
   inputs do not depend on one another; timed from the first publish to the last input's
   signed decision on its registry's output topic and in the audit store (the output
   topics are tailed with fuller fetches, every 100 ms, until the latencies: the end of
   each phase is seen up to 100 ms late, and the tail costs the shared cores less). It reports
   inputs/s, the workers' CPU per input (user + system of every worker process tree,
   supervisors included), the records written per input by topic (end offsets of every
   topic before and after), and checks that every input has exactly one decision in the
   audit log, the expected one, and a signed decision on its output topic;
2. latency (first run of each process count): an open-loop generator offers each of
   ``--rates`` inputs/s for ``--duration`` seconds (never waiting for answers); p50, p99 and
   max from each input's scheduled send time to its signed decision on the output topic,
   and whether the gateway kept up (``--drain`` seconds after the last send at most);
3. pipe, with the workers stopped: a bare consume→produce pipe (fresh group, acks=all,
   batched, one commit per fetched batch) over the same records, read back from the input
   topics: the broker's own pace in the same run, the burst's yardstick, and the CPU its
   client (this process) and the broker used per record moved, beside the workers' CPU per
   record they write.

Each session's broker first carries ``--broker-warm-up`` seconds of untimed traffic of the
gateway's kinds on a scratch topic: a fresh JVM compiles its request paths during its first
seconds of traffic, which would otherwise be charged to the burst (the pipe runs later, on
a warm broker). The burst also reports the broker's and this benchmark's own CPU per input:
one machine runs all three.

Then one burst with a single hot approach (every input on one approach; ``--no-hot`` skips
it), and the recovery: a worker whose ledger holds ``--recovery-blocks`` blocks (0 skips
it) is killed with ``kill -9`` and restarted, on its local tables and then without them;
the seconds from the restart to the next decision. It prints a table (2 ÷ 1 processes
both as the ratio of the medians and as the median of each run's own ratio; ``--json
FILE`` writes every figure) and exits non-zero when a correctness check fails.

    python -m tests.bench.bench_e2e [--inputs 50000] [--processes 1,2] [--runs 3]
    python -m tests.bench.bench_e2e --quick      # a few hundred inputs, for a smoke test
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gateway.config import load_config
from gateway.demo.world import World, write_world
from tests.bench import e2e_mix as mix
from tests.bench.e2e_recovery import run_recovery
from tests.bench.e2e_report import render, summarize
from tests.bench.e2e_session import Plan, run_session

QUICK = {
    "inputs": 300,
    "processes": "1",
    "runs": 1,
    "rates": "50",
    "duration": 5.0,
    "drain": 30.0,
    "recovery_blocks": 0,
    "hot": False,
    "broker_warm_up": 2.0,
}


def say(msg: str) -> None:
    print(f"[e2e {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m tests.bench.bench_e2e",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = p.add_argument
    add("--inputs", type=int, default=50_000, metavar="N", help="burst inputs, at least")
    add("--approaches", type=int, default=4, metavar="N", help="approaches of the mix (>= 4)")
    add("--processes", default="1,2", metavar="LIST", help="worker process counts (1,2)")
    add("--runs", type=int, default=3, metavar="N", help="bursts per process count (median)")
    add("--rates", default="500", metavar="LIST", help="offered inputs/s, e.g. 100,500; '' none")
    add("--duration", type=float, default=60.0, metavar="S", help="seconds per offered rate")
    add("--drain", type=float, default=60.0, metavar="S", help="wait after a rate's last send")
    add("--recovery-blocks", type=int, default=100_000, metavar="N", help="0 skips recovery")
    add("--hot", dest="hot", action="store_true", default=True, help="run the hot approach")
    add("--no-hot", dest="hot", action="store_false", help="skip the hot approach")
    add("--hot-processes", type=int, metavar="N", help="its processes (default: the most)")
    add(
        "--broker-warm-up",
        type=float,
        default=20.0,
        metavar="S",
        help="seconds of untimed traffic on each fresh broker first, so its JIT has compiled "
        "its request paths (0: none)",
    )
    p.add_argument("--quick", action="store_true", help="a small run: " + json.dumps(QUICK))
    p.add_argument(
        "--port", type=int, default=0, help="the run's broker port, +1 too (default: free ones)"
    )
    p.add_argument("--workdir", help="working folder (default: a temporary one, removed)")
    p.add_argument("--json", metavar="FILE", help="write every figure as JSON")
    args = p.parse_args(argv)
    if args.quick:
        given = {
            a.lstrip("-").partition("=")[0].replace("-", "_")
            for a in (sys.argv[1:] if argv is None else argv)
            if a.startswith("--")
        }
        for k, v in QUICK.items():
            if k not in given:
                setattr(args, k, v)
    if args.approaches < 4 or args.inputs < 1 or args.runs < 1:
        p.error(
            "--approaches must be at least 4 (the hot run is the one-approach case), "
            "--inputs and --runs positive"
        )
    return args


@dataclass
class Sets:
    """The pre-signed inputs of one bench run (signed once, replayed on each broker)."""

    multi: list[list[mix.Input]]
    hot: list[list[mix.Input]] | None
    streams: dict[int, tuple[list[list[mix.Input]], list[mix.Input]]]
    recovery: tuple[list[mix.Input], list[mix.Input], list[mix.Input]]


def sign_everything(world: World, args: argparse.Namespace, cas: list[str]) -> Sets:
    t = time.monotonic()
    say(f"signing the inputs ({args.inputs:,} per burst, {args.rates or 'no'} inputs/s offered)")
    signer = mix.Signer(world, cas, "")
    multi = mix.burst(signer, args.inputs)
    hot = mix.burst(mix.Signer(world, cas[:1], "hot-"), args.inputs) if args.hot else None
    streams = {}
    for n, rate in enumerate(_ints(args.rates)):
        count = max(1, int(rate * args.duration))
        streams[rate] = mix.stream(signer, count, mix.RATE_BASE + n * 10**8)
    rec = mix.Signer(world, cas, "rec-")
    load = mix.recovery_load(rec, args.recovery_blocks)
    probes = [mix.recovery_probe(rec, 0), mix.recovery_probe(rec, max(0, args.recovery_blocks - 1))]
    total = sum(map(len, multi)) + sum(map(len, hot or []))
    total += sum(len(s[1]) for s in streams.values())
    say(f"signed {total} inputs in {time.monotonic() - t:.0f} s")
    return Sets(multi, hot, streams, (rec.setup(), load, probes))


def adjust(config_path: Path, cas: list[str]) -> None:
    """The benchmark's approaches in the demo world's config."""
    doc = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    doc["cooperative_approaches"] = mix.approaches_config(cas)
    config_path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="a6gw-e2e-"))
    workdir.mkdir(parents=True, exist_ok=True)
    root = workdir / "world"
    sessions: list[dict[str, Any]] = []
    problems: list[str] = []
    rec = None
    try:
        world = write_world(root, bootstrap="127.0.0.1:1")  # the keys; each broker has its own
        # The approaches spread over the ledger topic's partitions (as many as the config's).
        partitions = load_config(world.config_path).config.kafka.partitions
        cas = mix.approach_ids(args.approaches, partitions)
        sets = sign_everything(world, args, cas)
        by_ca, by_kind = mix.shares([i for phase in sets.multi[1:] for i in phase])
        say("mix: " + ", ".join(f"{k} {v:.0%}" for k, v in {**by_ca, **by_kind}.items()))
        plan = Plan(
            workdir, root, args.port, cas, args.drain, lambda p: adjust(p, cas),
            args.broker_warm_up,
        )  # fmt: skip
        # Run by run, each process count in turn: a change in the machine's pace during the
        # run falls on every count alike, not on the last one measured.
        for r in range(args.runs):
            for n in _ints(args.processes):
                label = f"{n} proc, run {r + 1}"
                rates = sets.streams if r == 0 else {}
                session = run_session(plan, label, n, sets.multi, rates, say)
                sessions.append({**session, "run": r + 1})
        if sets.hot is not None:
            n = args.hot_processes or max(_ints(args.processes))
            sessions.append(run_session(plan, f"hot, {n} proc", n, sets.hot, {}, say, hot=True))
        if args.recovery_blocks:
            say(f"recovery: {args.recovery_blocks} blocks, then kill -9 and restart")
            try:
                rec = run_recovery(plan, *sets.recovery, args.recovery_blocks, say)
            except Exception as exc:  # reported with the rest
                problems.append(f"recovery: {type(exc).__name__}: {exc}")
    finally:
        failed = problems or any(s["problems"] for s in sessions)
        if not args.workdir and not failed:
            shutil.rmtree(workdir, ignore_errors=True)
        elif failed:
            say(f"the workers' logs are kept in {workdir / 'logs'}")
    for s in sessions:
        problems += [f"{s['label']}: {p}" for p in s["problems"]]
    doc = {
        "args": {k: v for k, v in vars(args).items() if k not in ("json", "workdir")},
        "approaches": cas,
        "mix": {"by_approach": by_ca, "by_kind": by_kind},
        "sessions": sessions,
        "summary": summarize(sessions, rec),
        "ok": not problems and bool(sessions),
        "problems": problems,
    }
    print(render(doc))
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0 if doc["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
