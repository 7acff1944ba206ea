"""The end-to-end benchmark's figures: percentiles, medians, the table it prints."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from tests.bench.e2e_machine import in_references


def percentile(values: Sequence[float | None], q: float) -> float | None:
    """The nearest-rank ``q`` percentile (0 < q <= 100) of ``values``; None stands for an
    input never decided (longer than any value), so a percentile that falls on one is None."""
    if not values:
        return None
    if not 0 < q <= 100:
        raise ValueError(f"percentile {q} is not in (0, 100]")
    ordered = sorted(values, key=lambda v: math.inf if v is None else v)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def latency_figures(latencies: Sequence[float | None]) -> dict[str, Any]:
    """p50, p99 and max (seconds; None: beyond the inputs decided), how many were not
    decided, and p50 and p99 of those that were."""
    decided = [v for v in latencies if v is not None]
    return {
        "p50_s": percentile(latencies, 50),
        "p99_s": percentile(latencies, 99),
        "max_s": percentile(latencies, 100),
        "undecided": len(latencies) - len(decided),
        "decided_p50_s": percentile(decided, 50),
        "decided_p99_s": percentile(decided, 99),
    }


def timeline(
    offsets: Sequence[float], latencies: Sequence[float | None], *, worst: int = 5
) -> list[dict[str, Any]]:
    """The ``worst`` seconds of an open-loop phase by their p99: each second of the schedule
    (``offsets``, seconds from the first scheduled send) with how many inputs it offered,
    their p50, p99 and max (None: one was not decided), in time order, so a spike can be
    set beside the workers' logs."""
    seconds: dict[int, list[float | None]] = {}
    for at, value in zip(offsets, latencies, strict=True):
        seconds.setdefault(int(at), []).append(value)
    rows = [
        {
            "second": sec,
            "inputs": len(vals),
            "p50_s": percentile(vals, 50),
            "p99_s": percentile(vals, 99),
            "max_s": percentile(vals, 100),
        }
        for sec, vals in seconds.items()
    ]
    rows.sort(key=lambda r: math.inf if r["p99_s"] is None else r["p99_s"], reverse=True)
    return sorted(rows[:worst], key=lambda r: r["second"])


def per_input(before: dict[str, int], after: dict[str, int], inputs: int) -> dict[str, float]:
    """Records written to each topic between two end-offset readings, per input."""
    out = {t: (after[t] - before.get(t, 0)) / inputs for t in sorted(after)}
    return {t: v for t, v in out.items() if v}


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def summarize(sessions: list[dict[str, Any]], rec: dict[str, Any] | None) -> dict[str, Any]:
    """Medians per process count (over every session that finished its burst; how many of
    them failed a check is said too), the 2 ÷ 1 processes ratio, the hot approach, recovery."""
    by: dict[str, dict[str, Any]] = {}
    for n in sorted({s["processes"] for s in sessions if not s["hot"]}):
        runs = [s for s in sessions if s["processes"] == n and not s["hot"] and s["burst"]]
        by[str(n)] = {
            "runs": len(runs),
            "failed_checks": sum(1 for s in runs if not s["ok"]),
            "inputs_per_s": median([s["burst"]["inputs_per_s"] for s in runs]),
            "ratio": median([s["ratio"] for s in runs if s.get("ratio") is not None]),
            "cpu_ms_per_input": median([s["burst"]["cpu_ms_per_input"] for s in runs]),
            "cpu_refs_per_input": median([r for s in runs if (r := _refs(s)) is not None]),
            "cpu_us_per_record_written": median(
                [
                    s["burst"]["cpu_ms_per_input"] * 1000 / s["burst"]["records_per_input"]
                    for s in runs
                    if s["burst"]["records_per_input"]
                ]
            ),
            "reference_per_s": median(
                [s["reference_per_s"] for s in runs if s.get("reference_per_s")]
            ),
        }
    one, two = by.get("1", {}).get("inputs_per_s"), by.get("2", {}).get("inputs_per_s")
    hot = next((s for s in sessions if s["hot"] and s["burst"]), None)
    return {
        "by_processes": by,
        "scaling": two / one if one and two else None,
        "scaling_paired": median(paired_ratios(sessions)),
        "hot": None
        if hot is None
        else {
            "processes": hot["processes"],
            "inputs_per_s": hot["burst"]["inputs_per_s"],
            "ok": hot["ok"],
        },
        "recovery": rec,
        "pipe_cpu_us_per_record": {
            who: median([s["pipe"][key] for s in sessions if key in (s.get("pipe") or {})])
            for who, key in (
                ("client", "client_cpu_us_per_record"),
                ("broker", "broker_cpu_us_per_record"),
            )
        },
    }


def paired_ratios(sessions: list[dict[str, Any]]) -> list[float]:
    """2 ÷ 1 processes run by run: each run's two bursts ran back to back, at the same pace
    of the machine."""
    burst: dict[tuple[int, int], float] = {
        (s["run"], s["processes"]): s["burst"]["inputs_per_s"]
        for s in sessions
        if not s["hot"] and s["burst"] and s.get("run") is not None
    }
    return [v / burst[(r, 1)] for (r, n), v in sorted(burst.items()) if n == 2 and (r, 1) in burst]


def _refs(session: dict[str, Any]) -> float | None:
    burst = session["burst"]
    return in_references(
        burst["cpu_ms_per_input"] if burst else None, session.get("reference_per_s")
    )


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v * 1000:.0f}"


def _num(v: float | None, fmt: str = ",.0f") -> str:
    return "-" if v is None else format(v, fmt)


def render(doc: dict[str, Any]) -> str:
    """The table printed at the end of a run."""
    lines = ["", "End-to-end benchmark (real broker, authenticated; timings are wall clock)", ""]
    head = (
        f"{'run':<16}{'inputs':>8}{'inputs/s':>10}{'pipe rec/s':>12}{'gw/pipe':>9}"
        f"{'CPU ms/in':>11}{'ref/in':>8}{'broker':>8}{'bench':>7}{'rec/in':>8}{'ref/s':>8}  checks"
    )
    lines += [head, "-" * len(head)]
    for s in doc["sessions"]:
        b = s["burst"]
        if b is None:
            lines.append(f"{s['label']:<16}  FAILED: {'; '.join(s['problems'])}")
            continue
        lines.append(
            f"{s['label']:<16}{b['inputs']:>8}{_num(b['inputs_per_s']):>10}"
            f"{_num(s['pipe']['records_per_s'] if s.get('pipe') else None):>12}"
            f"{_num(s.get('ratio'), '.4f'):>9}{_num(b['cpu_ms_per_input'], '.2f'):>11}"
            f"{_num(_refs(s), '.1f'):>8}"
            f"{_num(b.get('broker_cpu_ms_per_input'), '.2f'):>8}"
            f"{_num(b.get('bench_cpu_ms_per_input'), '.2f'):>7}"
            f"{_num(b['records_per_input'], '.2f'):>8}{_num(s.get('reference_per_s')):>8}"
            f"  {'ok' if s['ok'] else 'FAILED'}"
            + (f" ({s['worker_restarts']} worker restarts)" if s.get("worker_restarts") else "")
        )
    first = next((s["burst"] for s in doc["sessions"] if s["burst"]), None)
    if first:
        label = next(s["label"] for s in doc["sessions"] if s["burst"] is first)
        lines += ["", f"Records written per input by topic ({label}):"]
        for topic, v in first["by_topic"].items():
            lines.append(f"  {topic:<44}{v:>8.2f}")
        lines.append(f"  {'total written by the gateway':<44}{first['records_per_input']:>8.2f}")
    lat = [(s["label"], r) for s in doc["sessions"] for r in s.get("rates", [])]
    if lat:
        lines += ["", "Latency, scheduled send → signed decision on the output topic (ms):"]
        lines.append(
            f"  {'run':<16}{'offered/s':>10}{'sent':>8}{'p50':>8}{'p99':>8}{'max':>8}"
            f"{'undecided':>10}{'p50, p99 of the decided':>25}{'written':>12}  kept up"
        )
        for label, r in lat:
            decided = f"{_ms(r['decided_p50_s'])}, {_ms(r['decided_p99_s'])}"
            written = f"{_ms(r.get('written_p50_s'))}, {_ms(r.get('written_p99_s'))}"
            lines.append(
                f"  {label:<16}{r['rate']:>10}{r['sent']:>8}{_ms(r['p50_s']):>8}"
                f"{_ms(r['p99_s']):>8}{_ms(r['max_s']):>8}{r['undecided']:>10}{decided:>25}"
                f"{written:>12}  " + ("yes" if r["kept_up"] else f"NO ({r['why']})")
            )
        lines.append(
            "  (-: beyond the inputs decided when the wait ended; written: p50, p99 to the "
            "decision record's timestamp, when the gateway wrote it)"
        )
        for label, r in lat:
            worst = ", ".join(
                f"{w['second']} s: {_ms(w['p99_s'])}" for w in r.get("worst_seconds", [])
            )
            if worst:
                lines.append(f"  {label}, {r['rate']}/s, worst seconds by p99 (ms): {worst}")
    summary = doc["summary"]
    lines += [""]
    for n, fig in summary["by_processes"].items():
        failed = f" (checks FAILED in {fig['failed_checks']})" if fig["failed_checks"] else ""
        lines.append(
            f"{n} worker process(es): median {_num(fig['inputs_per_s'])} inputs/s over "
            f"{fig['runs']} run(s){failed}, gateway ÷ pipe {_num(fig['ratio'], '.4f')}, "
            f"worker CPU {_num(fig.get('cpu_ms_per_input'), '.2f')} ms/input "
            f"({_num(fig.get('cpu_refs_per_input'), '.1f')} ref/input at "
            f"{_num(fig.get('reference_per_s'))} ref/s; "
            f"{_num(fig.get('cpu_us_per_record_written'))} µs per record written)"
        )
    pipe_cpu = summary.get("pipe_cpu_us_per_record") or {}
    if pipe_cpu.get("client") is not None:
        lines.append(
            "bare pipe, CPU per record moved (read, written, its offset committed; medians): "
            f"its client {_num(pipe_cpu['client'])} µs, the broker "
            f"{_num(pipe_cpu.get('broker'))} µs"
        )
    if summary.get("scaling") is not None:
        paired = summary.get("scaling_paired")
        lines.append(
            f"2 ÷ 1 worker processes (medians): {summary['scaling']:.2f}×"
            + ("" if paired is None else f"; run by run, median {paired:.2f}×")
        )
    if summary.get("hot"):
        h = summary["hot"]
        lines.append(
            f"single hot approach, {h['processes']} process(es): {_num(h['inputs_per_s'])} inputs/s"
        )
    if summary.get("recovery"):
        r = summary["recovery"]
        lines.append(
            f"recovery after kill -9 with {r['blocks']:,} blocks: "
            f"{r['restart_to_decision_s']:.1f} s from the restart to the next decision, "
            f"{r['restart_without_tables_to_decision_s']:.1f} s without the local tables "
            f"(building the state took {r['load_s']:.0f} s)"
        )
    lines.append("")
    lines.append("RESULT: " + ("ok" if doc["ok"] else "FAILED: " + "; ".join(doc["problems"])))
    return "\n".join(lines)
