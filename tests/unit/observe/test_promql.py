"""Every metric the dashboard and the alert rules query is one the gateway's processes
export (or Prometheus's own ``up``): the metric identifiers of each PromQL expression,
against the names the metric definitions register (with the ``_total``, ``_bucket``,
``_sum``, ``_count`` and ``_info`` suffixes the exposition adds)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from gateway.observe.metrics import REGISTRY, exported_names

ROOT = Path(__file__).resolve().parents[3]
DASHBOARD = ROOT / "deploy" / "grafana" / "a6gw-dashboard.json"
RULES = ROOT / "deploy" / "prometheus" / "a6gw-alerts.yaml"

#: Series Prometheus makes itself for every target.
PROMETHEUS_OWN = {"up"}
KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
    "unless", "bool", "offset", "inf", "nan",
}  # fmt: skip

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENT = re.compile(r"(?<![\w:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()")
_NUMBER = re.compile(r"\b\d+(\.\d+)?([eE][+-]?\d+)?\b")


def metric_names(expr: str) -> set[str]:
    """The metric identifiers of a PromQL expression: strings, label matchers, ranges and
    grouping clauses taken out, then every identifier that is not a function call or a
    keyword."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    return {m for m in _IDENT.findall(text) if m.lower() not in KEYWORDS}


def _standard_names() -> set[str]:
    """The client's own families (process_, python_) as a scrape shows them."""
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.update(sample.name for sample in family.samples)
    return {n for n in names if not n.startswith("a6gw_")}


def _dashboard_exprs() -> list[str]:
    doc = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [t["expr"] for p in doc["panels"] for t in p.get("targets", [])]


def _rule_exprs() -> list[tuple[str, str]]:
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [(r["alert"], r["expr"]) for g in doc["groups"] for r in g["rules"]]


def test_the_identifier_reader() -> None:
    expr = (
        'sum by (topic, agent) (rate(a6gw_inputs_total{agent="ingest", topic=~"a6.in.*"}'
        "[$__rate_interval])) / on(agent) group_left() a6gw_batches_total > 0.5 and up == 1"
        ' or histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m]))) offset 1h + label_x{a="b"}'
    )
    assert metric_names(expr) == {
        "a6gw_inputs_total",
        "a6gw_batches_total",
        "up",
        "x_bucket",
        "label_x",
    }


def test_every_metric_of_the_dashboard_is_exported() -> None:
    exported = exported_names() | _standard_names() | PROMETHEUS_OWN
    exprs = _dashboard_exprs()
    assert len(exprs) >= 20
    unknown = {n: e for e in exprs for n in metric_names(e) if n not in exported}
    assert unknown == {}


def test_every_metric_of_the_alert_rules_is_exported() -> None:
    exported = exported_names() | PROMETHEUS_OWN
    rules = _rule_exprs()
    used = {n for _, e in rules for n in metric_names(e)}
    assert {n for n in used if n not in exported} == set()
    # each alert uses at least one gateway metric, or up
    assert all(metric_names(e) for _, e in rules)


def test_every_alert_has_a_summary_and_a_runbook_section() -> None:
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    runbook = (ROOT / "docs" / "operations-alerts.md").read_text(encoding="utf-8")
    for group in doc["groups"]:
        for rule in group["rules"]:
            notes = rule["annotations"]
            assert notes["summary"] and len(notes["description"]) > 80, rule["alert"]
            anchor = rule["alert"].lower()
            assert f"operations-alerts.md#{anchor}" in notes["description"], rule["alert"]
            assert f"## {rule['alert']}" in runbook, rule["alert"]


def test_the_metrics_page_is_current() -> None:
    from gateway.observe.docs import DOC, render

    assert DOC.read_text(encoding="utf-8") == render(), "run: python -m gateway.observe.docs"


def test_promtool_accepts_the_rules() -> None:
    """Prometheus's own checker, where it is installed (the Debian package prometheus)."""
    import shutil
    import subprocess

    import pytest

    tool = shutil.which("promtool")
    if tool is None:
        pytest.skip("promtool is not installed")
    result = subprocess.run([tool, "check", "rules", str(RULES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
