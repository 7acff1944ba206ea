"""Benchmark of the reports computed from the audit log: the structured summary and the AEF.

For each size N it builds a synthetic audit log of N entries (RFC 8785 bytes, as the store
keeps them), parses it once, and measures on the parsed entries:

- summary: ``gateway.core.summary_log.collect(entries, party)`` (over the entry models,
  ``schemas.entries.parse_entry`` of every entry, parsed once and timed apart) and
  ``gateway.core.summary.summarise`` for every year of the NDC period (2021-2030), through
  ``gateway.services.reporting.results`` and ``method_of``, as ``a6gw summary`` computes them, for
  the first-transferring Party (MNG);
- AEF: ``gateway.services.reporting.export_party`` (the roll-forward check I-AEF-1, then the five
  tables) for the acquiring Party (JPN) and the last year (2025), as ``a6gw aef export``;
- xlsx: ``gateway.core.aef_write.write(aef, "xlsx")`` of that AEF;
- the baseline, measured in the same run on the same bytes: ``json.loads`` of every entry,
  the least any report over the log must do, timed with the garbage collector off (both
  commands parse the log this way before computing; the timed reports start from the parsed
  entries, frozen out of the collector's way, so a command costs about parse + report);
- the peak memory of each report (``tracemalloc``, a separate untimed run): the summary
  (up to ``--trace-summary-up-to`` entries, default 300,000: tracemalloc slows it about 8x)
  and the AEF with its xlsx.

Times are the best of ``--repeat`` runs below 30,000 entries, one run from 30,000 up (the
parse, cheap, is always the best of ``--repeat``). The growth per 10x of N is printed for
every figure (linear: about 10x).

The default sizes are 10,000, 100,000 and 300,000 entries (about 4 minutes on 2 cores; a
million entries needs some 10 GiB for the parsed log and can be asked for with
``--sizes``). This benchmark found the summary quadratic in the number of first transfers:
its first-transfer coverage re-merged every range of a serial space on each new one (420 s
at 100,000 entries). It now adds and asks by binary search: 2 s at 100,000, below the parse.

The log is realistic and consistent. Two Parties of cooperative approach CA0001: Mongolia
(registry MNG01, the host) and Japan (JPN01); one authorization by MNG (purposes NDC), then
its version 2; one entity authorized by JPN. Entries are spread over 2021-2025 in time
order; in every run of ten: one JCM issuance of six blocks into MNG01 (1 to 1,000 units
each, vintage the year or the year before, gaps between issuances; one block of the six
stays with the host, never transferred); five settled cross-registry transfers MNG01 ->
JPN01 of an issued block (one in five of part of it), each with its First transfer and
Acquisition rows and the blocks moving (first transferred, under the authorization); two
uses by JPN of some or all of a block it holds (the Use row, the used part retired, the rest
held); one transfer back JPN01 -> MNG01 (Transfer and Acquisition rows); and one other
entry: the inventory figures of both Parties for the year before (JPN's recalculated), the
authorization's version 2, or a rejected transfer proposal. About N/2 entries are first
transfers.

Checked at every size (the exit status is 1 otherwise): the roll-forward of JPN for 2025
passes (``export_party`` raises otherwise); MNG's R7 of each year of the NDC period equals
the units the generator first transferred in that year, its R8 and R9 are 0 and its R13 of
2030 is the total first transferred; the AEF's Table 3 has exactly JPN's rows of 2025, their
Use rows the units JPN used that year, Table 4 exactly the blocks JPN01 holds at the end of
2025 (count and units), Tables 1 and 5 one row each; the xlsx is a zip of five sheets.

    python -m tests.bench.bench_reporting [--sizes 10000,100000,300000] [--repeat R]
                                          [--trace-summary-up-to N] [--seed S] [--json FILE]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import io
import json
import math
import os
import platform
import random
import sys
import time
import tracemalloc
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway.config import PartyConfig
from gateway.core import aef_vocab as vocab
from gateway.core import summary as sm
from gateway.core import summary_log as sl
from gateway.core.actions import row
from gateway.core.aef import Aef
from gateway.core.aef_write import write
from gateway.core.blocks import Block, Range
from gateway.core.canonical import canonical_bytes
from gateway.core.decision import event_entry_id
from gateway.core.decision_time import iso_ms
from gateway.errors import AefError
from gateway.services.reporting import YearResult, export_party, method_of, results
from schemas.entries import AuditEntry, parse_entry

DEFAULT_SIZES = (10_000, 100_000, 300_000)
DEFAULT_REPEAT = 3
ONE_RUN_FROM = 30_000
TRACE_SUMMARY_UP_TO = 300_000

CA = "CA0001"
HOST, BUYER = "MNG", "JPN"
HOST_REG, BUYER_REG = "MNG01", "JPN01"
HOST_ACCOUNTS = ("MN-PP-1", "MN-PP-2", "MN-GOV-1")
BUYER_ACCOUNTS = ("JP-PP-1", "JP-PP-2", "JP-PP-3", "JP-GOV-1")
ENTITY = "JP-ENT-1"
AUTH_ID = "MNG-AUTH-2021-001"
NDC_PERIOD = (2021, 2030)
FIRST_YEAR, LAST_YEAR = 2021, 2025  # the years the log spans
AEF_YEAR = LAST_YEAR
SUBMITTED = "15/04/2026"
START_MS = int(datetime(2021, 1, 4, tzinfo=UTC).timestamp() * 1000)
END_MS = int(datetime(2025, 12, 20, tzinfo=UTC).timestamp() * 1000)
PARTIES = {
    HOST: PartyConfig(code=HOST, name="Mongolia", ndc_period=NDC_PERIOD),
    BUYER: PartyConfig(code=BUYER, name="Japan", ndc_period=NDC_PERIOD, ca_method="averaging"),
}
# One run of ten entries (after the authorization and the entity): issuance first, the rest
# in a random order.
RUN = ("transfer",) * 5 + ("use",) * 2 + ("return", "other")
ISSUED_PER_RUN = 6
KEPT_PER_RUN = 1  # of the issued blocks, stays with the host


def progress(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---- workload -------------------------------------------------------------------------------


def authorization(version: int = 1, date: str = "2021-01-04") -> dict[str, Any]:
    """MNG's authorization (an ``authorization`` entry's data), in ``version``."""
    return {
        "authorization_id": AUTH_ID,
        "version": version,
        "status": "granted" if version == 1 else "amended",
        "ca_id": CA,
        "authorizing_party": HOST,
        "date": date,
        "purposes": "NDC",
        "first_transfer_definition": "First international transfer",
        "authorized_quantity": "1000000000000",
        "authorized_timeframe": "2021 - 2030",
        "metric": "GHG",
        "non_ghg_metric": None,
        "authorized_entity_ids": [ENTITY],
        "coverage": [
            {"originating_registry": HOST_REG, "serial_start": "1", "serial_end": "999999999999"}
        ],
        "sectors": ["Energy generation"],
        "activity_types": ["Solar", "Wind"],
        "mitigation_type": "Emission reductions",
        "oimp_authorized": None,
    }


ENTITY_DATA = {
    "ca_id": CA,
    "authorizing_party": BUYER,
    "date": "2021-01-05",
    "name": "JP Carbon Offsetting Co.",
    "country_of_incorporation": BUYER,
    "identification_number": "JP-0100-01-123456",
    "conditions": "acquires and uses ITMOs towards Japan's NDC only",
    "change_and_revocation_conditions": None,
    "additional_information": None,
}


@dataclass
class Truth:
    """What the generator did, to check the reports against."""

    first_transferred: Counter[int] = field(default_factory=Counter)  # by year: MNG's R7
    used: Counter[int] = field(default_factory=Counter)  # by use year: JPN's R9
    buyer_rows: Counter[int] = field(default_factory=Counter)  # JPN's a6 rows, by year
    kinds: Counter[str] = field(default_factory=Counter)
    held: dict[int, Block] = field(default_factory=dict)  # JPN01's ITMO blocks by start


class Log:
    """Builds the entries, in order, and keeps only their bytes."""

    def __init__(self, n: int, rnd: random.Random) -> None:
        self.n, self.rnd = n, rnd
        self.out: list[bytes] = []
        self.truth = Truth()
        self.cursor = 1  # next serial of MNG01's space
        self.pool: list[Block] = []  # issued at MNG01, to be transferred
        self.buyer: list[Block] = []  # JPN01's held ITMO blocks (for uses and returns)
        self.queue: list[tuple[str, dict[str, Any]]] = []  # recorded notifications due
        self.year = FIRST_YEAR
        self.checked = 0  # entries compared with canonical_bytes

    def at(self) -> str:
        i = len(self.out)
        return iso_ms(START_MS + (END_MS - START_MS) * i // self.n)

    def add(
        self,
        kind: str,
        outcome: str,
        *,
        source: str,
        blocks: Sequence[Block] = (),
        a6: list[dict[str, Any]] | None = None,
        data: dict[str, Any] | None = None,
        tx: str | None = None,
        results: list[dict[str, Any]] | None = None,
        actions: tuple[str, ...] = (),
        quantity: int = 0,
    ) -> None:
        """One decision entry, laid out as ``gateway.core.decision.decision_entry`` does."""
        i = len(self.out)
        at = self.at()
        event_id = f"{source.lower()}-{kind}-{i}"
        sha = hashlib.sha256(event_id.encode()).hexdigest()
        entry: dict[str, Any] = {
            "entry_version": 1,
            "entry_type": "decision",
            "entry_id": event_entry_id(source, event_id, sha),
            "input": {
                "source": source,
                "id": event_id,
                "type": f"a6gw.{kind}.v1",
                "kind": "notification" if data else "proposal",
                "time": at,
                "sha256": sha,
                "signer": source,
            },
            "ca_id": CA,
            "outcome": outcome,
            "results": results or [],
            "actions": list(actions),
            "quantity": str(quantity),
            "blocks": [b.to_record() for b in blocks],
            "decided_at": at,
        }
        if a6:
            entry["a6"] = a6
        if data:
            entry["data"] = data
        if tx:
            entry["transaction_id"] = tx
        raw = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        out = raw.encode()
        if self.checked < 200:  # the fast encoding is RFC 8785 for these values: check it
            assert out == canonical_bytes(entry), "not the canonical bytes"
            self.checked += 1
        self.out.append(out)
        self.truth.kinds[kind if outcome != "rejected" else f"{kind} (rejected)"] += 1

    def year_now(self) -> int:
        y = int(self.at()[:4])
        if y != self.year:  # a new year: the last one's inventory figures become due
            for party, base in ((BUYER, 1_150_000_000), (HOST, 43_000_000)):
                emissions = base - 1000 * (self.year - 2020)
                sub = f"{party}-NIR-{self.year}-v1"
                fig = {"party": party, "year": self.year, "emissions_tco2e": f"{emissions}.5",
                       "submission_id": sub}  # fmt: skip
                self.queue.append(("inventory.emissions", fig))
            # JPN recalculates its figure later the same year: the latest supersedes
            recalc = fig | {"party": BUYER, "emissions_tco2e": f"{1_150_000_000 - 7}",
                            "submission_id": f"{BUYER}-NIR-{self.year}-v2"}  # fmt: skip
            self.queue.append(("inventory.emissions", recalc))
            if y == 2023:
                self.queue.append(("authorization", authorization(2, "2023-01-02")))
            self.year = y
        return y

    # -- the kinds of entry --

    def issuance(self) -> None:
        y = self.year_now()
        vintage = max(FIRST_YEAR, y - self.rnd.randint(0, 1))
        self.cursor += self.rnd.randint(1, 500)  # another decision's serials in between
        blocks = []
        for _ in range(ISSUED_PER_RUN):
            size = int(10 ** (self.rnd.random() * 3))  # 1 to 1,000 units, log-uniform
            account = HOST_ACCOUNTS[self.rnd.randrange(len(HOST_ACCOUNTS))]
            b = Block(CA, HOST_REG, self.cursor, self.cursor + size - 1, vintage, "JCM",
                      HOST_REG, account)  # fmt: skip
            self.cursor += size
            blocks.append(b)
        kept = set(self.rnd.sample(range(ISSUED_PER_RUN), KEPT_PER_RUN))
        self.pool += [b for k, b in enumerate(blocks) if k not in kept]
        qty = sum(b.quantity for b in blocks)
        self.add("issuance", "accepted", source=HOST_REG, blocks=blocks, actions=("Issuance",),
                 quantity=qty)  # fmt: skip

    def transfer(self) -> None:
        y = self.year_now()
        b = self.pool.pop(self.rnd.randrange(len(self.pool)))
        if b.quantity > 1 and self.rnd.random() < 0.2:  # part of the block
            cut = b.start + self.rnd.randint(1, b.quantity - 1)
            rest = replace(b, start=cut)
            self.pool.append(rest)
            part, after = Range(b.start, cut - 1), [rest]
        else:
            part, after = b.range, []
        account = BUYER_ACCOUNTS[self.rnd.randrange(len(BUYER_ACCOUNTS))]
        moved = replace(b, end=part.end, registry=BUYER_REG, account=account,
                        first_transferred=True, authorization_id=AUTH_ID)  # fmt: skip
        auth = authorization()
        sides = {"transferring_party": HOST, "acquiring_party": BUYER}
        rows = [
            row("First transfer", b, part, auth, party=HOST, registry=HOST_REG,
                subtype="First transfer to another Party", **sides),
            row("Acquisition", b, part, auth, party=BUYER, registry=BUYER_REG, **sides),
        ]  # fmt: skip
        self.truth.first_transferred[y] += part.quantity
        self.truth.buyer_rows[y] += 1
        self.truth.held[moved.start] = moved
        self.buyer.append(moved)
        self.add("transfer.answer", "recorded", source=BUYER_REG, blocks=[moved, *after], a6=rows,
                 tx=f"{HOST_REG}-TX-{len(self.out)}",
                 actions=("First transfer", "Acquisition"), quantity=part.quantity)  # fmt: skip

    def _take(self) -> Block | None:
        """A block JPN01 holds, removed from the pick list (None: it holds none yet)."""
        if not self.buyer:
            return None
        k = self.rnd.randrange(len(self.buyer))
        self.buyer[k], self.buyer[-1] = self.buyer[-1], self.buyer[k]
        return self.buyer.pop()

    def use(self) -> None:
        y = self.year_now()
        b = self._take()
        if b is None:
            return self.other()
        whole = b.quantity == 1 or self.rnd.random() < 0.5
        last = b.end if whole else b.start + self.rnd.randint(0, b.quantity - 2)
        retired = replace(b, end=last, state="retired", account="JP-RET-1")
        after = [retired]
        del self.truth.held[b.start]
        if not whole:
            rest = replace(b, start=last + 1)
            after.append(rest)
            self.truth.held[rest.start] = rest
            self.buyer.append(rest)
        part = Range(b.start, last)
        rows = [row("Use", b, part, authorization(), party=BUYER, registry=BUYER_REG,
                    using_party=BUYER, using_entity=ENTITY, use_year=y)]  # fmt: skip
        self.truth.used[y] += part.quantity
        self.truth.buyer_rows[y] += 1
        self.add("retirement", "accepted", source=BUYER_REG, blocks=after, a6=rows,
                 tx=f"{BUYER_REG}-RET-{len(self.out)}", actions=("Use",),
                 quantity=part.quantity)  # fmt: skip
        return None

    def back(self) -> None:
        y = self.year_now()
        b = self._take()
        if b is None:
            return self.other()
        del self.truth.held[b.start]
        moved = replace(b, registry=HOST_REG, account="MN-GOV-1")
        sides = {"transferring_party": BUYER, "acquiring_party": HOST}
        auth = authorization()
        rows = [
            row("Transfer", b, b.range, auth, party=BUYER, registry=BUYER_REG, **sides),
            row("Acquisition", b, b.range, auth, party=HOST, registry=HOST_REG, **sides),
        ]
        self.truth.buyer_rows[y] += 1
        self.add("transfer.answer", "recorded", source=HOST_REG, blocks=[moved], a6=rows,
                 tx=f"{BUYER_REG}-TX-{len(self.out)}", actions=("Transfer", "Acquisition"),
                 quantity=b.quantity)  # fmt: skip
        return None

    def other(self) -> None:
        self.year_now()
        if self.queue:
            kind, data = self.queue.pop(0)
            party = data.get("party", data.get("authorizing_party"))
            source = HOST_REG if party == HOST else BUYER_REG
            self.add(kind, "recorded", source=source, data=data)
            return
        results = [{"code": "BLK-003", "message": "units not held in the transferring account",
                    "blocks": [{"serial_start": "1", "serial_end": "10"}]}]  # fmt: skip
        self.add("transfer", "rejected", source=HOST_REG, results=results, quantity=10)

    def build(self) -> list[bytes]:
        self.add("authorization", "recorded", source=HOST_REG, data=authorization())
        self.add("entity.authorized", "recorded", source=BUYER_REG, data=ENTITY_DATA)
        steps: dict[str, Callable[[], None]] = {
            "transfer": self.transfer, "use": self.use, "return": self.back, "other": self.other,
        }  # fmt: skip
        while len(self.out) < self.n:
            self.issuance()
            for kind in self.rnd.sample(RUN, len(RUN)):
                if len(self.out) >= self.n:
                    break
                steps[kind]()
        return self.out


# ---- the reports and their checks -----------------------------------------------------------


def summary(entries: list[AuditEntry]) -> list[YearResult]:
    """``a6gw summary`` for MNG over every year of its NDC period (its computation), over
    the entries as its reader takes them (models, parsed once from the stored bytes)."""
    party = PARTIES[HOST]
    method = method_of(party)
    facts = sl.collect(entries, party.code)
    first, last = sm.period_of(method)
    return results(facts, method, range(first, last + 1), check=False)


def aef(entries: list[dict[str, Any]], label: str) -> Aef:
    """``a6gw aef export`` for JPN and the last year (the roll-forward, then the tables)."""
    try:
        _, out = export_party(
            PARTIES[BUYER], {BUYER_REG}, entries, year=AEF_YEAR, submitted=SUBMITTED
        )
    except AefError as exc:  # the roll-forward failed, or the export was refused
        fail(label, [f"AEF refused: {exc.code}: {exc}"])
        raise
    return out


def xlsx(a: Aef) -> dict[str, bytes]:
    return write(a, "xlsx")


def fail(label: str, problems: list[str]) -> None:
    if problems:
        print(f"FAIL ({label}): " + "; ".join(problems), file=sys.stderr)
        raise SystemExit(1)


def check_summary(rs: list[YearResult], truth: Truth, label: str) -> None:
    problems = []
    years = [r.summary.year for r in rs]
    if years != list(range(NDC_PERIOD[0], NDC_PERIOD[1] + 1)):
        problems.append(f"years {years}")
    for r in rs:
        y, s = r.summary.year, r.summary
        want = {"R7": truth.first_transferred[y], "R8": 0, "R9": 0}
        got = {name: s.value(name) for name in want}
        if got != {k: Decimal(v) for k, v in want.items()}:
            problems.append(f"{y}: {got} != first transferred {want}")
    total = sum(truth.first_transferred.values())
    if rs and rs[-1].summary.value("R13") != total:
        problems.append(f"R13 {rs[-1].summary.value('R13')} != {total} first transferred")
    fail(label, problems)


def check_aef(a: Aef, files: dict[str, bytes], truth: Truth, label: str) -> None:
    problems = []
    actions, holdings = a.tables[vocab.ACTIONS], a.tables[vocab.HOLDINGS]
    if len(actions) != truth.buyer_rows[AEF_YEAR]:
        problems.append(f"Table 3: {len(actions)} rows != {truth.buyer_rows[AEF_YEAR]}")
    units = sum(int(r["Quantity (t CO2 eq)"] or 0) for r in holdings)
    want = sum(b.quantity for b in truth.held.values())
    if (len(holdings), units) != (len(truth.held), want):
        problems.append(
            f"Table 4: {len(holdings)} blocks, {units} units != {len(truth.held)}, {want}"
        )
    used = sum(int(r["Quantity (t CO2 eq)"] or 0) for r in actions if r["Action type"] == "Use")
    if used != truth.used[AEF_YEAR]:
        problems.append(f"Table 3: {used} units used != {truth.used[AEF_YEAR]}")
    if len(a.tables[vocab.ENTITIES]) != 1 or len(a.tables[vocab.SUBMISSION]) != 1:
        problems.append("Tables 1 and 5: not one row each")
    (data,) = files.values()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheets = [n for n in zf.namelist() if n.startswith("xl/worksheets/")]
    if len(sheets) != len(vocab.TABLES):
        problems.append(f"xlsx: {len(sheets)} sheets")
    fail(label, problems)


# ---- measuring ------------------------------------------------------------------------------


def best_of(
    repeat: int, fn: Callable[[], Any], label: str, *, no_gc: bool = False
) -> tuple[float, Any]:
    best, result = math.inf, None
    for k in range(repeat):
        result = None  # let the previous run's result go before the next one
        gc.collect()
        if no_gc:
            gc.disable()
        t0 = time.perf_counter()
        result = fn()
        took = time.perf_counter() - t0
        gc.enable()
        best = min(best, took)
        progress(f"  {label}: run {k + 1}/{repeat} {took:.3f} s")
    return best, result


def measure(n: int, repeat: int, seed: int, trace_summary_up_to: int) -> dict[str, Any]:
    rnd = random.Random(seed + n)
    progress(f"N = {n:,}: generating")
    gc.disable()  # millions of long-lived objects: no point in scanning them while building
    log = Log(n, rnd)
    raw = log.build()
    truth = log.truth
    del log
    gc.enable()
    gc.collect()
    size = sum(map(len, raw))
    progress(f"  {n:,} entries, {size / 2**20:.1f} MiB; {dict(truth.kinds)}")
    reps = 1 if n >= ONE_RUN_FROM else repeat
    loads = json.loads

    def parse() -> list[dict[str, Any]]:
        return [loads(b) for b in raw]

    parse_s, entries = best_of(repeat, parse, "json.loads (baseline)", no_gc=True)

    def parse_models() -> list[AuditEntry]:
        return [parse_entry(b) for b in raw]

    models_s, models = best_of(repeat, parse_models, "parse_entry (entry models)", no_gc=True)
    gc.collect()
    gc.freeze()  # the parsed log is long-lived: keep it out of the collector's way
    label = f"N={n:,}"
    summary_s, rs = best_of(reps, lambda: summary(models), "summary (collect + summarise)")
    check_summary(rs, truth, label)
    del rs
    aef_s, report = best_of(reps, lambda: aef(entries, label), "AEF (roll-forward + tables)")
    xlsx_s, files = best_of(reps, lambda: xlsx(report), "xlsx")
    check_aef(report, files, truth, label)
    xlsx_bytes = sum(map(len, files.values()))
    rows = {t: len(report.tables[t]) for t in vocab.TABLES}
    report = files = None
    progress("  peak memory (tracemalloc, untimed)")
    gc.collect()
    tracemalloc.start()
    peak_summary = None
    if n <= trace_summary_up_to:
        summary(models)
        peak_summary = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
    else:
        progress(f"  (no traced summary run above {trace_summary_up_to:,} entries)")
    xlsx(aef(entries, label))
    peak_aef = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    gc.unfreeze()
    return {
        "n": n,
        "bytes": size,
        "runs": reps,
        "first_transferred": sum(truth.first_transferred.values()),
        "kinds": dict(truth.kinds),
        "aef_rows": rows,
        "xlsx_bytes": xlsx_bytes,
        "parse_s": parse_s,
        "parse_models_s": models_s,
        "summary_s": summary_s,
        "aef_s": aef_s,
        "xlsx_s": xlsx_s,
        "summary_over_parse": summary_s / parse_s,
        "aef_over_parse": aef_s / parse_s,
        "xlsx_over_parse": xlsx_s / parse_s,
        "peak_summary_bytes": peak_summary,
        "peak_aef_bytes": peak_aef,
    }


def mib(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**20:.1f}"


def print_table(figs: list[dict[str, Any]]) -> None:
    w = sys.stdout.write
    w("\nReports from the audit log (summary: MNG, 2021-2030; AEF: JPN 2025), one core, best of"
      " runs shown\n")  # fmt: skip
    head = (
        f"{'entries':>10}{'MiB':>8}{'runs':>5}{'parse s':>9}{'summary s':>10}{'AEF s':>9}"
        f"{'xlsx s':>9}{'sum/parse':>10}{'AEF/parse':>10}{'xlsx/parse':>11}"
        f"{'sum MiB':>9}{'AEF MiB':>9}\n"
    )
    w(head + "-" * (len(head) - 1) + "\n")
    for f in figs:
        w(
            f"{f['n']:>10,}{f['bytes'] / 2**20:>8.1f}{f['runs']:>5}{f['parse_s']:>9.3f}"
            f"{f['summary_s']:>10.3f}{f['aef_s']:>9.3f}{f['xlsx_s']:>9.3f}"
            f"{f['summary_over_parse']:>9.2f}×{f['aef_over_parse']:>9.2f}×"
            f"{f['xlsx_over_parse']:>10.2f}×"
            f"{mib(f['peak_summary_bytes']):>9}{mib(f['peak_aef_bytes']):>9}\n"
        )
    w("-" * (len(head) - 1) + "\n")
    for f in figs:
        rows = f["aef_rows"]
        w(
            f"N={f['n']:,}: {f['bytes']:,} bytes; {f['kinds'].get('transfer.answer', 0):,} "
            f"settled transfers, {f['first_transferred']:,} units first transferred; AEF rows "
            f"{', '.join(str(rows[t]) for t in vocab.TABLES)}, xlsx {f['xlsx_bytes']:,} bytes: "
            "roll-forward passes; R7, R13 and the tables as generated\n"
        )
    pairs = list(zip(figs, figs[1:], strict=False))
    if len(figs) > 2:
        pairs.append((figs[0], figs[-1]))
    for a, b in pairs:
        k = b["n"] / a["n"]
        parts = []
        for key, name in (("parse_s", "parse"), ("summary_s", "summary"), ("aef_s", "AEF"),
                          ("xlsx_s", "xlsx")):  # fmt: skip
            g = b[key] / a[key]
            per10 = g ** (1 / math.log10(k)) if k > 1 else math.nan
            parts.append(f"{name} ×{g:.1f} ({per10:.1f} per 10x)")
        w(f"growth {a['n']:,} → {b['n']:,} (×{k:g}): " + ", ".join(parts) + "\n")
    w(
        "parse: json.loads of every entry (the baseline, best of --repeat, GC off); runs: of "
        "each report; summary: collect + summarise, 10 "
        "years; AEF: export_party (roll-forward + 5 tables); sum/AEF MiB: tracemalloc peaks "
        "(AEF includes its xlsx; -: not traced, see --trace-summary-up-to)\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, DEFAULT_SIZES)),
        help="comma-separated entry counts (default %(default)s)",
    )
    parser.add_argument(
        "--repeat", type=int, default=DEFAULT_REPEAT, help=f"runs below {ONE_RUN_FROM:,}"
    )
    parser.add_argument(
        "--trace-summary-up-to",
        type=int,
        default=TRACE_SUMMARY_UP_TO,
        metavar="N",
        help="trace the summary's peak memory only up to N entries (default %(default)s): "
        "tracemalloc slows it about 8x",
    )
    parser.add_argument("--seed", type=int, default=20260301)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if any(s < 1000 for s in sizes):
        parser.error("each size must be at least 1000 entries")
    started = time.perf_counter()
    figs = [measure(n, args.repeat, args.seed, args.trace_summary_up_to) for n in sizes]
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
            "trace_summary_up_to": args.trace_summary_up_to,
            "total_seconds": total,
        }
        args.json.write_text(json.dumps({"info": info, "sizes": figs}, indent=2) + "\n")
        progress(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
