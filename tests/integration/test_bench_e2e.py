"""The end-to-end benchmark in quick mode: its own broker, one worker process, a short rate.

It checks the benchmark's correctness checks pass and its figures are sane, not speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.core.topics import AUDIT_TOPIC
from tests.bench.bench_e2e import main

# The benchmark starts brokers of its own (free ports), never the session's.
pytestmark = [pytest.mark.kafka, pytest.mark.own_broker, pytest.mark.slow]


def test_the_quick_benchmark_decides_every_input_once_and_reports_sane_figures(
    tmp_path: Path,
) -> None:
    out = tmp_path / "e2e.json"
    code = main(["--quick", "--inputs", "120", "--duration", "2", "--workdir",
                 str(tmp_path / "run"), "--json", str(out)])  # fmt: skip
    doc = json.loads(out.read_text())
    assert code == 0, doc["problems"]
    assert doc["ok"] and doc["problems"] == []
    assert len(doc["approaches"]) >= 4
    shares = doc["mix"]["by_approach"]
    assert len(shares) >= 4 and max(shares.values()) <= 0.40
    (session,) = doc["sessions"]
    burst, checks = session["burst"], session["burst"]["checks"]
    assert burst["inputs"] >= 120
    assert checks["inputs"] > burst["inputs"]  # the warm-up's inputs are checked too
    for key in ("lost", "duplicated", "unexpected", "extra_entries", "without_output_decision"):
        assert checks[key] == 0, key
    assert checks["signatures_checked"] > 0 and checks["bad_signatures"] == 0
    assert burst["inputs_per_s"] > 0 and burst["seconds"] > 0
    assert burst["cpu_ms_per_input"] > 0
    assert burst["records_per_input"] >= 2  # at least its audit entry and its decision
    assert burst["by_topic"][AUDIT_TOPIC] == pytest.approx(1.0)
    assert session["pipe"]["records"] >= checks["inputs"]
    assert session["pipe"]["records_per_s"] > 0 and session["ratio"] > 0
    # the pipe's own CPU per record (its client's, the broker's), beside the workers'; the
    # broker's is read in clock ticks (10 ms), which a pipe of a few hundred records may
    # not reach
    assert session["pipe"]["client_cpu_us_per_record"] > 0
    assert session["pipe"]["broker_cpu_us_per_record"] >= 0
    (rate,) = session["rates"]
    assert rate["rate"] == 50 and rate["sent"] == 100
    assert rate["undecided"] == 0
    assert 0 < rate["p50_s"] <= rate["p99_s"] <= rate["max_s"]
    one = doc["summary"]["by_processes"]["1"]
    assert one["runs"] == 1 and session["run"] == 1
    # the machine's pace, and the workers' CPU in its units
    assert session["reference_per_s"] > 100 and one["cpu_refs_per_input"] > 0
    assert one["cpu_us_per_record_written"] == pytest.approx(
        burst["cpu_ms_per_input"] * 1000 / burst["records_per_input"]
    )
    assert doc["summary"]["pipe_cpu_us_per_record"]["client"] == pytest.approx(
        session["pipe"]["client_cpu_us_per_record"]
    )
