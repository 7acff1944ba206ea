"""Benchmark of snapshot reconciliation (``gateway.core.reconcile``): time, memory, growth.

For each size N it builds the gateway's holdings (N blocks) and a registry snapshot of the
same holdings with a handful of planted differences, both shuffled independently, then
measures:

- ``reconcile`` as DES runs it (blocks compared in the cells whose totals differ only);
- ``reconcile(every_cell=True)``: every block of both sides swept (the O(n log n) worst case);
- the baseline, measured in the same run on the same data: sorting both sides by serial
  (``sorted(side, key=attrgetter("ca_id", "origin", "start"))``), the least any block
  comparison must do;
- the peak memory of the every-cell run (``tracemalloc``, a separate untimed run).

Times are the best of ``--repeat`` runs below 10^6 blocks, one run from 10^6 up. The growth
per 10x of N is printed for reconcile and for the sort: O(n log n) means about 12x, and the
ratio to the sort should stay flat. The holdings are realistic: three cooperative approaches
over six serial spaces, four registries with participant and government accounts, vintages
2021-2025, two unit types, blocks of 1 to 10,000 units with gaps between them.

Planted differences (the exit status is non-zero unless exactly these are found, in both
modes, with exactly the cell totals they change):

1. a block the gateway holds is absent at the registry (a missing acquisition): REC-002;
2. a block the registry holds short of one inner range of units: REC-002 on that range;
3. a block the registry holds in another account (a government account): REC-004;
4. a block with another vintage at the registry: REC-005;
5. units in a gap between two blocks that only the registry holds: REC-003.

    python -m tests.bench.bench_reconcile [--sizes 10000,100000,1000000] [--repeat R]
                                          [--seed S] [--json FILE]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from operator import attrgetter
from pathlib import Path
from typing import Any

from gateway.core.reconcile import BlockDiff, Cell, Holding, Kind, Place, Report, reconcile

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
DEFAULT_REPEAT = 3
ONE_RUN_FROM = 1_000_000

ACCOUNTS = {
    "JPN01": {"JP-PP-1": "participant-holding", "JP-PP-2": "participant-holding",
              "JP-PP-3": "participant-holding", "JP-GOV-1": "government-holding"},
    "MNG01": {"MN-PP-1": "participant-holding", "MN-PP-2": "participant-holding",
              "MN-GOV-1": "government-holding"},
    "IDN01": {"ID-PP-1": "participant-holding", "ID-PP-2": "participant-holding",
              "ID-GOV-1": "government-holding"},
    "THA01": {"TH-PP-1": "participant-holding", "TH-GOV-1": "government-holding"},
}  # fmt: skip
GOV = {registry: next(a for a, t in accts.items() if t.startswith("gov"))
       for registry, accts in ACCOUNTS.items()}  # fmt: skip
# (cooperative approach, originating registry) -> (share of the blocks, unit type,
# registries its units are held in: the host's and Japan's)
SPACES = {
    ("CA0001", "MNG01"): (0.30, "JCM", ("MNG01", "JPN01")),
    ("CA0001", "JPN01"): (0.10, "JCM", ("JPN01", "MNG01")),
    ("CA0002", "IDN01"): (0.25, "JCM", ("IDN01", "JPN01")),
    ("CA0002", "JPN01"): (0.10, "JCM", ("JPN01", "IDN01")),
    ("CA0003", "THA01"): (0.15, "ITMO", ("THA01", "JPN01")),
    ("CA0003", "JPN01"): (0.10, "ITMO", ("JPN01", "THA01")),
}
CODE: dict[Kind, str] = {  # the module's stable codes, restated
    "missing-at-registry": "REC-002",
    "extra-at-registry": "REC-003",
    "account-differs": "REC-004",
    "attributes-differ": "REC-005",
    "held-twice": "REC-006",
}
VINTAGES = (2021, 2022, 2023, 2024, 2025)
Row = tuple[str, str, str, str, str, int, str, int, int]  # Holding's fields, in order


def progress(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---- workload -------------------------------------------------------------------------------


def generate(n: int, rnd: random.Random) -> list[Row]:
    """N blocks, space by space in serial order, each space's vintages in issuance order."""
    counts = [round(n * share) for share, _, _ in SPACES.values()]
    counts[-1] = n - sum(counts[:-1])
    rows: list[Row] = []
    for ((ca_id, origin), (_, unit_type, registries)), count in zip(
        SPACES.items(), counts, strict=True
    ):
        accounts = [(r, a, t) for r in registries for a, t in ACCOUNTS[r].items()]
        cursor = 1
        for k in range(count):
            cursor += 0 if rnd.random() < 0.5 else rnd.randint(1, 50)  # retired, cancelled...
            end = cursor + int(10 ** (rnd.random() * 4)) - 1  # 1 to 10,000 units, log-uniform
            registry, account, account_type = accounts[rnd.randrange(len(accounts))]
            vintage = VINTAGES[k * len(VINTAGES) // count]
            rows.append(
                (registry, account, account_type, ca_id, origin, vintage, unit_type, cursor, end)
            )
            cursor = end + 1
    return rows


def place(row: Row) -> Place:
    return (row[0], row[1], row[2], row[5], row[6])


def cell(row: Row) -> Cell:
    return (row[0], row[2], row[3], row[5], row[6])


def plant(rows: list[Row]) -> tuple[list[Row], list[BlockDiff], dict[Cell, int]]:
    """The registry's rows: ``rows`` with the planted differences; the block diffs they must
    produce and the change of each cell's total (theirs minus ours)."""
    theirs: list[Row | None] = list(rows)
    expect: list[BlockDiff] = []
    delta: Counter[Cell] = Counter()

    def find(frac: float, ok: Callable[[int], bool]) -> int:
        i = int(len(rows) * frac)
        while not ok(i):
            i += 1
        return i

    def planted(kind: Kind, lo: int, hi: int, ours: Row | None, mine: Row | None) -> None:
        row = ours or mine
        assert row is not None
        o = (place(ours),) if ours else ()
        t = (place(mine),) if mine else ()
        expect.append(BlockDiff(CODE[kind], kind, row[3], row[4], lo, hi, o, t))
        if ours:
            delta[cell(ours)] -= hi - lo + 1
        if mine:
            delta[cell(mine)] += hi - lo + 1

    # 1. a missing acquisition: the registry lacks the whole block
    i = find(0.1, lambda i: True)
    r = rows[i]
    theirs[i] = None
    planted("missing-at-registry", r[7], r[8], r, None)
    # 2. the registry holds the block short of one inner range of units
    i = find(0.3, lambda i: rows[i][8] - rows[i][7] >= 9)
    r = rows[i]
    lo, hi = r[7] + 3, r[8] - 3
    theirs[i] = with_serials(r, r[7], lo - 1)
    theirs.append(with_serials(r, hi + 1, r[8]))
    planted("missing-at-registry", lo, hi, r, None)
    # 3. the same units in the registry's government account
    i = find(0.5, lambda i: rows[i][2] == "participant-holding")
    r = rows[i]
    moved: Row = (r[0], GOV[r[0]], "government-holding", r[3], r[4], r[5], r[6], r[7], r[8])
    theirs[i] = moved
    planted("account-differs", r[7], r[8], r, moved)
    # 4. another vintage at the registry
    i = find(0.7, lambda i: True)
    r = rows[i]
    changed: Row = (r[0], r[1], r[2], r[3], r[4], r[5] + 1, r[6], r[7], r[8])
    theirs[i] = changed
    planted("attributes-differ", r[7], r[8], r, changed)
    # 5. units in a gap between two blocks that only the registry holds
    i = find(0.9, lambda i: rows[i - 1][3:5] == rows[i][3:5] and rows[i - 1][8] + 1 < rows[i][7])
    extra = with_serials(rows[i], rows[i - 1][8] + 1, rows[i][7] - 1)
    theirs.append(extra)
    planted("extra-at-registry", extra[7], extra[8], None, extra)

    expect.sort(key=lambda d: (d.ca_id, d.origin, d.start))
    return [t for t in theirs if t is not None], expect, {c: d for c, d in delta.items() if d}


def with_serials(r: Row, start: int, end: int) -> Row:
    return (r[0], r[1], r[2], r[3], r[4], r[5], r[6], start, end)


def check(report: Report, expect: list[BlockDiff], delta: dict[Cell, int], label: str) -> None:
    problems = []
    if report.status != "totals-inconsistent":
        problems.append(f"status {report.status}")
    found = {d.cell: d.theirs - d.ours for d in report.cell_diffs}
    if found != delta:
        problems.append(f"cell diffs {found} != planted {delta}")
    if list(report.block_diffs) != expect:
        problems.append(
            "block diffs differ from the planted ones:\n  found    "
            + "\n           ".join(map(str, report.block_diffs))
            + "\n  expected "
            + "\n           ".join(map(str, expect))
        )
    if problems:
        print(f"FAIL ({label}): " + "; ".join(problems), file=sys.stderr)
        raise SystemExit(1)


# ---- measuring ------------------------------------------------------------------------------


def best_of(repeat: int, fn: Callable[[], object], label: str) -> tuple[float, Any]:
    best, result = math.inf, None
    for k in range(repeat):
        result = None  # let the previous run's result go before the next one
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        took = time.perf_counter() - t0
        best = min(best, took)
        progress(f"  {label}: run {k + 1}/{repeat} {took:.3f} s")
    return best, result


def measure(n: int, repeat: int, seed: int) -> dict[str, Any]:
    rnd = random.Random(seed + n)
    progress(f"N = {n:,}: generating")
    gc.disable()  # millions of long-lived objects: no point in scanning them while building
    rows = generate(n, rnd)
    their_rows, expect, delta = plant(rows)
    ours = [Holding(*r) for r in rows]
    theirs = [Holding(*r) for r in their_rows]
    rnd.shuffle(ours)
    rnd.shuffle(theirs)
    units = sum(h.end - h.start + 1 for h in ours)
    gc.enable()
    gc.collect()
    gc.freeze()  # the inputs are long-lived: keep them out of the collector's way
    reps = 1 if n >= ONE_RUN_FROM else repeat
    key = attrgetter("ca_id", "origin", "start")

    def sort_both() -> object:
        return sorted(ours, key=key), sorted(theirs, key=key)

    sort_s, _ = best_of(reps, sort_both, "sort (baseline)")
    des_s, des = best_of(reps, lambda: reconcile(ours, theirs), "reconcile, DES scope")
    check(des, expect, delta, f"N={n:,} DES scope")
    every_s, every = best_of(
        reps, lambda: reconcile(ours, theirs, every_cell=True), "reconcile, every cell"
    )
    check(every, expect, delta, f"N={n:,} every cell")
    progress("  peak memory (tracemalloc, untimed)")
    gc.collect()
    tracemalloc.start()
    reconcile(ours, theirs, every_cell=True)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    gc.unfreeze()
    return {
        "n": n,
        "units": units,
        "registry_blocks": len(theirs),
        "runs": reps,
        "cells": every.cells_compared,
        "des_blocks_compared": des.blocks_compared,
        "every_blocks_compared": every.blocks_compared,
        "block_diffs": len(every.block_diffs),
        "codes": every.codes,
        "sort_s": sort_s,
        "des_s": des_s,
        "every_s": every_s,
        "every_over_sort": every_s / sort_s,
        "des_over_sort": des_s / sort_s,
        "peak_bytes": peak,
        "peak_bytes_per_block": peak / every.blocks_compared,
    }


def print_table(figs: list[dict[str, Any]]) -> None:
    w = sys.stdout.write
    w("\nSnapshot reconciliation (gateway.core.reconcile), one core, best of runs shown\n")
    head = (
        f"{'N blocks':>10}{'units':>16}{'runs':>5}{'sort s':>9}{'DES s':>9}{'every s':>9}"
        f"{'every/sort':>11}{'DES/sort':>9}{'peak MiB':>10}{'B/block':>9}\n"
    )
    w(head + "-" * (len(head) - 1) + "\n")
    for f in figs:
        w(
            f"{f['n']:>10,}{f['units']:>16,}{f['runs']:>5}{f['sort_s']:>9.3f}{f['des_s']:>9.3f}"
            f"{f['every_s']:>9.3f}{f['every_over_sort']:>10.2f}×{f['des_over_sort']:>8.2f}×"
            f"{f['peak_bytes'] / 2**20:>10.1f}{f['peak_bytes_per_block']:>9.0f}\n"
        )
    w("-" * (len(head) - 1) + "\n")
    for f in figs:
        w(
            f"N={f['n']:,}: {f['cells']} cells; DES compared {f['des_blocks_compared']:,} of "
            f"{f['every_blocks_compared']:,} blocks; found {f['block_diffs']} block diffs "
            f"({', '.join(f['codes'])}): exactly the planted ones\n"
        )
    for a, b in zip(figs, figs[1:], strict=False):
        k = b["n"] / a["n"]
        nlogn = k * math.log(b["n"]) / math.log(a["n"])
        every = b["every_s"] / a["every_s"]
        w(
            f"growth {a['n']:,} → {b['n']:,} (×{k:g}): every-cell ×{every:.1f}"
            f", DES ×{b['des_s'] / a['des_s']:.1f}, sort ×{b['sort_s'] / a['sort_s']:.1f}"
            f" (n log n predicts ×{nlogn:.1f}); every/sort {a['every_over_sort']:.2f} → "
            f"{b['every_over_sort']:.2f}\n"
        )
    w("B/block: peak bytes allocated by one every-cell run per block compared (both sides)\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, DEFAULT_SIZES)),
        help="comma-separated block counts per side (default %(default)s)",
    )
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="runs below 10^6")
    parser.add_argument("--seed", type=int, default=20260301)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if any(s < 100 for s in sizes):
        parser.error("each size must be at least 100 blocks")
    started = time.perf_counter()
    figs = [measure(n, args.repeat, args.seed) for n in sizes]
    print_table(figs)
    total = time.perf_counter() - started
    print(f"total run time {total:.1f} s")
    if args.json:
        info = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "seed": args.seed,
            "repeat": args.repeat,
            "total_seconds": total,
        }
        args.json.write_text(json.dumps({"info": info, "sizes": figs}, indent=2) + "\n")
        progress(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
