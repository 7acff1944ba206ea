"""Benchmark of the audit log: append rate, proof latency, full verification rate.

Every figure is printed beside a baseline measured in the same run on the same data:

- append: ``AuditStore.append`` in batches of 500 (entries, leaf hashes, tree nodes, input
  position, one transaction per batch) against SHA-256 leaf hashing of the same entries;
- proofs: inclusion and consistency proofs from the stored nodes of a log of N entries
  (p50/p99 over random indices and sizes) against reading one entry by index;
- verification: ``verify_bundle`` over the exported bundle (every leaf hashed, the root
  rebuilt, the checkpoint signature checked) against raw SHA-256 over the same lines; and
  the independent Node.js verifier, when ``node`` is on PATH.

The search and proof figures are then measured again on PostgreSQL (a private cluster the
benchmark starts, as the tests do), when its server binaries are installed.

    python -m tests.bench.bench_audit [--entries N] [--samples S] [--no-postgres] [--json FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gateway.audit.bundle import verify_bundle
from gateway.audit.export import export_bundle
from gateway.audit.note import LogKey, open_checkpoint
from gateway.audit.rfc6962 import leaf_hash
from gateway.audit.search import Query, SerialRange
from gateway.audit.sequencer import Sequencer
from gateway.audit.store import AuditStore
from gateway.audit.verify import verify_consistency, verify_inclusion
from gateway.core.topics import AUDIT_TOPIC
from tests.unit.schemas import factories as fx

BATCH = 500
TOOL = Path(__file__).resolve().parents[2] / "tools" / "verify-bundle.mjs"


def entry(i: int) -> tuple[str, bytes]:
    """A realistic decision entry (about 900 bytes of canonical JSON)."""
    doc = fx.decision(
        f"jpn-tx-{i}",
        source=("JPN01", "MNG01", "IDN01")[i % 3],
        outcome="accepted" if i % 10 else "rejected",
        results=[] if i % 10 else [fx.result("BLK-003", "serials already recorded")],
        blocks=[fx.block(i * 100 + 1, i * 100 + 100)],
        transaction_id=f"MNG01-TX-{i}",
        decided_at=f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T08:00:00.000Z",
    )
    return doc.entry_id, fx.wire_bytes(doc)


SEARCHES: dict[str, Any] = {
    "event id": lambda i: Query((("event", f"jpn-tx-{i}"),)),
    "transaction": lambda i: Query((("transaction", f"MNG01-TX-{i}"),)),
    "code, first page": lambda i: Query((("code", "BLK-003"),)),
    "ITMO serial": lambda i: Query(
        serials=SerialRange("CA0001", "MNG01", i * 100 + 50, i * 100 + 50)
    ),
    "source + month": lambda i: Query((("source", "IDN01"),), None, "2026-03", "2026-04"),
}


def time_searches(store: Any, n: int, samples: int, figures: dict[str, Any], label: str) -> None:
    """p50/p99 of each kind of search (first page of 100), beside one entry read."""
    rnd = random.Random(2)
    reads = []
    for _ in range(samples):
        index = rnd.randrange(n)
        t0 = time.perf_counter()
        store.entry(index)
        reads.append(time.perf_counter() - t0)
    base = statistics.median(reads)
    for name, make in SEARCHES.items():
        took = []
        for _ in range(max(samples // 4, 50)):
            i = rnd.randrange(n)
            t0 = time.perf_counter()
            found = store.search(make(i), -1, 100)
            took.append(time.perf_counter() - t0)
            if not found:
                raise SystemExit(f"FAIL: {label} search {name!r} for {i} found nothing")
        p50, p99 = percentile(took, 0.5) * 1000, percentile(took, 0.99) * 1000
        figures[f"{label}_search_{name}_p50_ms"] = p50
        figures[f"{label}_search_{name}_p99_ms"] = p99
        ratio = p50 / 1000 / base
        say(f"{label} search by {name}: p50 {p50:.3f} ms, p99 {p99:.3f} ms ({ratio:.1f}x a read)")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def say(msg: str) -> None:
    print(msg, flush=True)


def time_proofs(store: Any, n: int, samples: int, figures: dict[str, Any], label: str) -> None:
    rnd = random.Random(3)
    incl, cons = [], []
    for _ in range(samples):
        index = rnd.randrange(n)
        t0 = time.perf_counter()
        store.inclusion_proof(index, n)
        incl.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        store.consistency_proof(rnd.randrange(1, n + 1), n)
        cons.append(time.perf_counter() - t0)
    for name, values in (("inclusion", incl), ("consistency", cons)):
        p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
        figures[f"{label}_{name}_p50_ms"], figures[f"{label}_{name}_p99_ms"] = p50, p99
        say(f"{label} {name} proof on {n:,}: p50 {p50:.3f} ms, p99 {p99:.3f} ms")


def bench_postgres(
    work: Path, items: list[tuple[str, bytes]], samples: int, figures: dict[str, Any]
) -> None:
    """The same log in PostgreSQL: append rate, proofs and searches."""
    from gateway.audit.pgstore import PostgresStore
    from gateway.errors import AuditError
    from gateway.pg.local import LocalPostgres

    pg_root = Path(tempfile.gettempdir()) / f"a6gw-bench-pg-{os.getuid()}"
    server = LocalPostgres(pg_root, 15499)
    try:
        server.wipe()
        dsn = server.start(timeout=120)
    except AuditError as exc:
        say(f"PostgreSQL skipped: {exc}")
        return
    try:
        n = len(items)
        store = PostgresStore(dsn)
        say(f"postgres: appending {n:,} entries in batches of 500")
        t0 = time.perf_counter()
        for lo in range(0, n, BATCH):
            store.append(items[lo : lo + BATCH], position=(AUDIT_TOPIC, 0, lo + BATCH - 1))
            if lo and lo % 200_000 == 0:
                say(f"  {lo:,} appended")
        took = time.perf_counter() - t0
        figures["postgres_append_per_s"] = n / took
        say(f"postgres append: {n / took:,.0f} entries/s")
        time_proofs(store, n, samples, figures, "postgres")
        time_searches(store, n, samples, figures, "postgres")
        store.close()
    finally:
        server.stop()
        server.wipe()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2000, help="proofs timed per kind")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    n = args.entries
    work = Path(tempfile.mkdtemp(prefix="a6gw-bench-audit-"))
    figures: dict[str, Any] = {"entries": n}
    try:
        key = LogKey.generate("a6gw.bench/log")
        seq = Sequencer(AuditStore(work / "audit.sqlite"), key, "a6gw.bench/audit")
        seq.take_over("bench", None)

        say(f"generating {n:,} entries")
        items = [entry(i) for i in range(n)]
        t0 = time.perf_counter()
        for _, body in items:
            leaf_hash(body)
        hash_s = time.perf_counter() - t0

        say("appending in batches of 500")
        t0 = time.perf_counter()
        for lo in range(0, n, BATCH):
            seq.append(items[lo : lo + BATCH], (AUDIT_TOPIC, 0, lo + BATCH - 1))
            if lo and lo % 200_000 == 0:
                say(f"  {lo:,} appended")
        append_s = time.perf_counter() - t0
        _cp, note = seq.checkpoint()
        checkpoint = open_checkpoint(note, key.verifier())
        figures["append_per_s"] = n / append_s
        figures["leaf_hash_per_s"] = n / hash_s
        say(
            f"append: {n / append_s:,.0f} entries/s; leaf hashing alone "
            f"{n / hash_s:,.0f}/s (append runs at {hash_s / append_s:.3f}x the hashing rate)"
        )

        store = seq.store
        rnd = random.Random(1)
        reads, incl, cons = [], [], []
        for _ in range(args.samples):
            index = rnd.randrange(n)
            t0 = time.perf_counter()
            store.entry(index)
            reads.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            proof = store.inclusion_proof(index, n)
            incl.append(time.perf_counter() - t0)
            verify_inclusion(
                index=index,
                size=n,
                leaf_hash=leaf_hash(items[index][1]),
                proof=proof,
                root=checkpoint.root,
            )
            size1 = rnd.randrange(1, n + 1)
            t0 = time.perf_counter()
            cproof = store.consistency_proof(size1, n)
            cons.append(time.perf_counter() - t0)
            if rnd.random() < 0.02:  # check a sample (the old root costs O(log n) too)
                verify_consistency(
                    size1=size1,
                    size2=n,
                    root1=store.root(size1),
                    root2=checkpoint.root,
                    proof=cproof,
                )
        for name, values in (("entry_read", reads), ("inclusion", incl), ("consistency", cons)):
            figures[f"{name}_p50_ms"] = percentile(values, 0.50) * 1000
            figures[f"{name}_p99_ms"] = percentile(values, 0.99) * 1000
        base = statistics.median(reads)
        say(
            f"inclusion proof on {n:,}: p50 {figures['inclusion_p50_ms']:.3f} ms, "
            f"p99 {figures['inclusion_p99_ms']:.3f} ms "
            f"({statistics.median(incl) / base:.1f}x one entry read, "
            f"p50 {figures['entry_read_p50_ms']:.3f} ms)"
        )
        say(
            f"consistency proof: p50 {figures['consistency_p50_ms']:.3f} ms, "
            f"p99 {figures['consistency_p99_ms']:.3f} ms "
            f"({statistics.median(cons) / base:.1f}x one entry read)"
        )

        time_searches(store, n, args.samples, figures, "sqlite")

        say("exporting the bundle")
        bundle = work / "bundle"
        export_bundle(bundle, store, note, [key.verifier()])
        lines = (bundle / "entries.ndjson").read_bytes()[:-1].split(b"\n")
        t0 = time.perf_counter()
        for line in lines:
            hashlib.sha256(line).digest()
        raw_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = verify_bundle(bundle)
        verify_s = time.perf_counter() - t0
        assert report.size == n
        figures["verify_per_s"] = n / verify_s
        figures["raw_sha256_per_s"] = n / raw_s
        say(
            f"a6gw verify: {n / verify_s:,.0f} entries/s; raw SHA-256 over the same lines "
            f"{n / raw_s:,.0f}/s (verify runs at {raw_s / verify_s:.2f}x the raw rate)"
        )
        node = shutil.which("node")
        if node:
            t0 = time.perf_counter()
            done = subprocess.run([node, str(TOOL), str(bundle)], capture_output=True, text=True)
            node_s = time.perf_counter() - t0
            if done.returncode != 0:
                say(f"FAIL: the Node verifier rejected the bundle: {done.stderr}")
                return 1
            figures["node_verify_per_s"] = n / node_s
            say(f"Node verifier: {n / node_s:,.0f} entries/s ({node_s:.2f} s, incl. start-up)")
        if not args.no_postgres:
            bench_postgres(work, items, args.samples, figures)
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
