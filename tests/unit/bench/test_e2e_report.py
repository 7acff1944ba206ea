"""The end-to-end benchmark's pure figures: percentiles, records per input, the table."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bench.e2e_report import (
    latency_figures,
    median,
    paired_ratios,
    per_input,
    percentile,
    render,
    summarize,
    timeline,
)


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(values, 0)


def test_an_undecided_input_counts_as_longer_than_any_decided_one() -> None:
    values: list[float | None] = [0.01] * 98 + [None, None]
    assert percentile(values, 50) == 0.01
    assert percentile(values, 99) is None
    fig = latency_figures(values)
    assert fig["undecided"] == 2 and fig["max_s"] is None and fig["p50_s"] == 0.01
    assert fig["decided_p99_s"] == 0.01


def test_records_per_input_by_topic() -> None:
    before = {"a": 10, "b": 5}
    after = {"a": 30, "b": 5, "c": 4}
    assert per_input(before, after, 4) == {"a": 5.0, "c": 1.0}


def test_the_worst_seconds_of_a_phase_in_time_order() -> None:
    offsets = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    lat: list[float | None] = [0.01, 0.02, 0.9, 0.1, None, 0.03, 0.05]
    rows = timeline(offsets, lat, worst=2)
    assert [r["second"] for r in rows] == [1, 2]  # second 2 holds an undecided input
    assert rows[0] == {"second": 1, "inputs": 2, "p50_s": 0.1, "p99_s": 0.9, "max_s": 0.9}
    assert rows[1]["p99_s"] is None and rows[1]["inputs"] == 2
    assert len(timeline(offsets, lat)) == 4


def test_median() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([]) is None


def test_the_table_shows_the_figures_and_the_verdict() -> None:
    burst = {
        "inputs": 1000,
        "inputs_per_s": 250.0,
        "cpu_ms_per_input": 3.5,
        "records_per_input": 6.25,
        "by_topic": {"x-changelog": 2.0},
    }
    rate = {"rate": 50, "sent": 250, "p50_s": 0.02, "p99_s": 0.08, "max_s": 0.1, "undecided": 0,
            "decided_p50_s": 0.02, "decided_p99_s": 0.08, "kept_up": True, "why": "",
            "worst_seconds": [{"second": 3, "inputs": 50, "p50_s": 0.02, "p99_s": 0.4,
                               "max_s": 0.5}]}  # fmt: skip
    doc = {
        "sessions": [
            {
                "label": "1 proc, run 1",
                "burst": burst,
                "pipe": {"records_per_s": 10_000.0},
                "ratio": 0.025,
                "ok": True,
                "rates": [rate],
            },
        ],  # fmt: skip
        "summary": {
            "by_processes": {
                "1": {
                    "runs": 1,
                    "failed_checks": 0,
                    "inputs_per_s": 250.0,
                    "ratio": 0.025,
                    "cpu_us_per_record_written": 560.0,
                }
            },
            "pipe_cpu_us_per_record": {"client": 21.0, "broker": 34.0},
            "scaling": None,
            "hot": None,
            "recovery": {
                "blocks": 1000,
                "restart_to_decision_s": 2.5,
                "restart_without_tables_to_decision_s": 4.5,
                "load_s": 9.0,
            },
        },
        "ok": False,
        "problems": ["1 proc, run 1: lost: 1"],
    }
    text = render(doc)
    assert "250" in text and "0.0250" in text and "3.50" in text and "6.25" in text
    assert "x-changelog" in text and "80" in text and "2.5 s" in text and "4.5 s" in text
    assert "RESULT: FAILED: 1 proc, run 1: lost: 1" in text
    assert "worst seconds by p99 (ms): 3 s: 400" in text
    assert "560 µs per record written" in text
    assert "its client 21 µs, the broker 34 µs" in text


def _session(
    n: int, rate: float | None, ok: bool = True, hot: bool = False, run: int | None = None
) -> dict[str, Any]:
    burst = (
        None
        if rate is None
        else {"inputs_per_s": rate, "cpu_ms_per_input": 2.0, "records_per_input": 4.0}
    )
    return {"processes": n, "hot": hot, "ok": ok and burst is not None, "burst": burst,
            "ratio": None if rate is None else rate / 1000, "run": run,
            "reference_per_s": 5000.0}  # fmt: skip


def test_the_summary_takes_medians_per_process_count_and_their_ratio() -> None:
    sessions = [
        _session(1, 100.0), _session(1, 300.0), _session(1, 200.0),
        _session(2, 500.0, ok=False), _session(2, 300.0), _session(2, None),
        _session(2, 50.0, hot=True),
    ]  # fmt: skip
    summary = summarize(sessions, None)
    one, two = summary["by_processes"]["1"], summary["by_processes"]["2"]
    assert (one["runs"], one["failed_checks"], one["inputs_per_s"]) == (3, 0, 200.0)
    assert (two["runs"], two["failed_checks"], two["inputs_per_s"]) == (2, 1, 400.0)
    assert summary["scaling"] == 2.0
    assert summary["hot"] == {"processes": 2, "inputs_per_s": 50.0, "ok": True}


def test_no_ratio_without_both_process_counts() -> None:
    summary = summarize([_session(1, 100.0), _session(2, None, hot=True)], None)
    assert summary["scaling"] is None and summary["hot"] is None


def test_two_over_one_run_by_run() -> None:
    sessions = [
        _session(1, 100.0, run=1), _session(2, 150.0, run=1),
        _session(1, 200.0, run=2), _session(2, 240.0, run=2),
        _session(1, 100.0, run=3), _session(2, None, run=3),  # a failed burst: no pair
        _session(2, 50.0, hot=True),
    ]  # fmt: skip
    assert paired_ratios(sessions) == [1.5, 1.2]
    summary = summarize(sessions, None)
    assert summary["scaling_paired"] == pytest.approx(1.35)
    assert summary["scaling"] == pytest.approx(195.0 / 100.0)  # the medians' ratio


def test_cpu_in_machine_references() -> None:
    summary = summarize([_session(1, 100.0, run=1)], None)
    one = summary["by_processes"]["1"]
    # 2 ms per input on a machine doing 5,000 reference events per second: 10 of them
    assert one["cpu_refs_per_input"] == pytest.approx(10.0)
    assert one["reference_per_s"] == 5000.0
    doc = {"sessions": [], "summary": summary, "ok": True, "problems": []}
    # and per record written: 2 ms over 4 records
    assert one["cpu_us_per_record_written"] == pytest.approx(500.0)
    assert "(10.0 ref/input at 5,000 ref/s; 500 µs per record written)" in render(doc)


def test_the_pipes_cpu_per_record_is_the_median_over_the_sessions() -> None:
    sessions = [_session(1, 100.0, run=1), _session(2, 150.0, run=1), _session(1, 90.0, run=2)]
    for s, client, broker in zip(sessions, (20.0, 24.0, 30.0), (40.0, 35.0, 50.0), strict=True):
        s["pipe"] = {"client_cpu_us_per_record": client, "broker_cpu_us_per_record": broker}
    summary = summarize([*sessions, _session(2, None, run=2)], None)
    assert summary["pipe_cpu_us_per_record"] == {"client": 24.0, "broker": 40.0}
    doc = {"sessions": [], "summary": summary, "ok": True, "problems": []}
    assert "its client 24 µs, the broker 40 µs" in render(doc)
    # none measured (an older run's sessions): no line
    summary = summarize([_session(1, 100.0, run=1)], None)
    assert summary["pipe_cpu_us_per_record"] == {"client": None, "broker": None}
    assert "bare pipe, CPU" not in render({**doc, "summary": summary})


def test_the_reference_is_measured_on_this_machine() -> None:
    from tests.bench.e2e_machine import in_references, reference_per_s

    assert reference_per_s(0.05) > 100  # Ed25519 sign + verify: thousands per second
    assert in_references(None, 5000.0) is None and in_references(1.0, None) is None
