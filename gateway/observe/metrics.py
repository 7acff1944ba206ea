"""Every metric the gateway's processes export, in one registry (:data:`REGISTRY`).

Counters and histograms are per process and start at zero when it starts (Prometheus's
``rate()`` and ``increase()`` take restarts in their stride); a worker started with
``--processes N`` serves one port per process, so sum over the processes (``sum by``).
Where each one is counted:

- the worker's agents count their inputs a batch at a time (``gateway.worker.batches``);
- the sequencer counts the audit entries it appends, and those it finds on record already
  (a re-sent decision, a redelivery), by kind, outcome and code
  (:class:`gateway.observe.tally.EntryTally`): these equal what the audit log holds;
- the watchdog exports each owned partition's log end, the agent's own position (its
  cursor + 1; the sequencer's is in the audit store) and their difference, the lag;
- the API and the ingress count requests by route and status (:mod:`gateway.observe.http`).

``docs/metrics.md`` lists them all (``python -m gateway.observe.docs``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import metadata

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway import alerts

__all__ = ["REGISTRY", "AuditState", "exported_families", "exported_names"]

#: The registry every process serves on ``/metrics``: the a6gw_ metrics below, and the
#: client's process_, python_gc_ and python_info metrics.
REGISTRY = CollectorRegistry(auto_describe=True)
for _standard in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_standard)

#: Seconds from an input's arrival to its decision on record (the audit log).
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)
#: Seconds an HTTP request took to answer.
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

BUILD = Info("a6gw_build", "The gateway's version.", registry=REGISTRY)


def _version() -> str:
    try:
        return metadata.version("a6gw")
    except metadata.PackageNotFoundError:
        return "unknown"


BUILD.info({"version": _version()})

# -- the worker ------------------------------------------------------------------------------

INPUTS = Counter(
    "a6gw_inputs",
    "Records an agent took in, by agent and topic (counted a batch at a time; records the "
    "contiguity guard put back included).",
    ["agent", "topic"],
    registry=REGISTRY,
)
BATCHES = Counter(
    "a6gw_batches",
    "Runs of records an agent decided and made durable, by agent.",
    ["agent"],
    registry=REGISTRY,
)
DECISIONS = Counter(
    "a6gw_decisions",
    "Decisions newly on record in the audit log, by outcome: one per decision (entries of "
    "type decision). Re-sent decisions are counted in a6gw_decisions_resent_total instead.",
    ["outcome"],
    registry=REGISTRY,
)
DECISION_CODES = Counter(
    "a6gw_decision_codes",
    "Codes of the decisions newly on record, by outcome and code: one per code of each "
    "decision (a rejection with two codes counts twice).",
    ["outcome", "code"],
    registry=REGISTRY,
)
RESENT = Counter(
    "a6gw_decisions_resent",
    "Decisions re-sent for an input decided before (a redelivery, a registry sending the "
    "same event again, a restart): the sequencer found them on record and did not append "
    "them again; by outcome.",
    ["outcome"],
    registry=REGISTRY,
)
DEAD_LETTERS = Counter(
    "a6gw_dead_letters",
    "Dead letters newly on record (inputs that could not be parsed or authenticated, "
    "records that failed their MAC, gateway faults), by code.",
    ["code"],
    registry=REGISTRY,
)
FAULTS = Counter(
    "a6gw_gateway_faults",
    "Gateway faults newly on record (GWF-001: a step raised on an input; GWF-002: an input "
    "was quarantined after the process died on it), by code.",
    ["code"],
    registry=REGISTRY,
)
ENTRIES = Counter(
    "a6gw_audit_entries",
    "Entries appended to the audit log, by entry type and outcome.",
    ["entry_type", "outcome"],
    registry=REGISTRY,
)
DUPLICATES = Counter(
    "a6gw_audit_duplicates",
    "Entries the sequencer found on record already and did not append again, by entry type.",
    ["entry_type"],
    registry=REGISTRY,
)
REFUSALS = Counter(
    "a6gw_sequencer_refusals",
    "Times the sequencer refused to run: its store behind the last published checkpoint "
    "(AUD-BEHIND), apart from it (AUD-FORK), or the checkpoint not signed by a known key "
    "(AUD-CHECKPOINT); the worker stops after one. By code.",
    ["code"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "a6gw_decision_latency_seconds",
    "Seconds from an input's arrival at the gateway to its decision's append to the audit "
    "log (decisions newly on record).",
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
LAG = Gauge(
    "a6gw_partition_lag",
    "Records of a partition this worker owns that its agent has not processed: the log end "
    "minus the agent's own position (not the group's committed offset); by topic, "
    "partition and agent. Updated by the watchdog every timeouts.stall_s / 4.",
    ["topic", "partition", "agent"],
    registry=REGISTRY,
)
END_OFFSET = Gauge(
    "a6gw_partition_end_offset",
    "The log end offset of a partition this worker owns.",
    ["topic", "partition", "agent"],
    registry=REGISTRY,
)
POSITION = Gauge(
    "a6gw_partition_position",
    "The next offset the agent will process in a partition this worker owns (its cursor + 1).",
    ["topic", "partition", "agent"],
    registry=REGISTRY,
)
PARKED = Gauge(
    "a6gw_deliveries_parked",
    "Messages for an HTTPS partner waiting on a6.retry.<id> (parked, not yet delivered), in "
    "the partitions this worker owns; by registry.",
    ["registry"],
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "a6gw_deliveries",
    "Messages for HTTPS partners, by registry and result: delivered, parked (moved to "
    "a6.retry.<id>).",
    ["registry", "result"],
    registry=REGISTRY,
)
RESTARTS = Gauge(
    "a6gw_worker_restarts",
    "How often the supervisor started this worker process again (its restarts.json).",
    registry=REGISTRY,
)

WITNESS_ANSWERS = Counter(
    "a6gw_witness_submissions",
    "Checkpoints the collector submitted to a witness, by witness and outcome (cosigned, "
    "resubmit, superseded, fork, misconfigured, retry, invalid: a cosignature that did not "
    "verify).",
    ["witness", "outcome"],
    registry=REGISTRY,
)

# -- the HTTPS servers -----------------------------------------------------------------------

HTTP_REQUESTS = Counter(
    "a6gw_http_requests",
    "Requests answered, by server (api, ingress), route (the path template; unmatched for a "
    "path no route serves), method and status.",
    ["server", "route", "method", "status"],
    registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    "a6gw_http_request_duration_seconds",
    "Seconds to answer a request, by server and route.",
    ["server", "route"],
    buckets=HTTP_BUCKETS,
    registry=REGISTRY,
)


# -- collected when scraped ------------------------------------------------------------------


@dataclass
class AuditState:
    """What the sequencer knows of the audit log while it owns it; exported only then (a
    worker that is not the sequencer exports none of these)."""

    active: bool = False
    tree_size: int = 0
    checkpoint_size: int | None = None
    #: when this sequencer published its last checkpoint, or took the log over (time.time())
    checkpoint_at: float | None = None
    #: each discrepancy's status (open, acknowledged, resolved), by discrepancy id
    discrepancies: dict[str, str] = field(default_factory=dict)
    #: why the sequencer refused to run (its code first), if it did
    refusal: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def statuses(self) -> dict[str, int]:
        with self.lock:
            out = {"open": 0, "acknowledged": 0, "resolved": 0}
            for status in self.discrepancies.values():
                out[status] = out.get(status, 0) + 1
            return out


#: The sequencer's view, set by the worker's hooks.
AUDIT = AuditState()


def _audit_families() -> list[GaugeMetricFamily]:
    return [
        GaugeMetricFamily(
            "a6gw_audit_tree_size",
            "Entries in the audit log (exported by the worker that runs the sequencer).",
        ),
        GaugeMetricFamily(
            "a6gw_audit_checkpoint_size",
            "The tree size of the last checkpoint published on a6.audit.checkpoints.",
        ),
        GaugeMetricFamily(
            "a6gw_audit_checkpoint_age_seconds",
            "Seconds since the sequencer last published a checkpoint (or took the log over).",
        ),
        GaugeMetricFamily(
            "a6gw_audit_unsigned_entries",
            "Entries appended after the last published checkpoint (no checkpoint covers them).",
        ),
        GaugeMetricFamily(
            "a6gw_discrepancies",
            "Discrepancies on record by status (open, acknowledged, resolved), as the audit "
            "log holds them.",
            labels=["status"],
        ),
    ]


class AuditCollector(Collector):
    """The sequencer's gauges, read from :data:`AUDIT` when scraped."""

    def __init__(self, state: AuditState) -> None:
        self.state = state

    def describe(self) -> Iterable[Metric]:
        return _audit_families()

    def collect(self) -> Iterator[Metric]:
        s = self.state
        if not s.active:
            return
        tree, size, age, unsigned, found = _audit_families()
        tree.add_metric([], s.tree_size)
        yield tree
        if s.checkpoint_size is not None:
            size.add_metric([], s.checkpoint_size)
            unsigned.add_metric([], max(0, s.tree_size - s.checkpoint_size))
            yield size
            yield unsigned
        if s.checkpoint_at is not None:
            age.add_metric([], max(0.0, time.time() - s.checkpoint_at))
            yield age
        for status, n in sorted(s.statuses().items()):
            found.add_metric([status], n)
        yield found


class AlertsCollector(Collector):
    """``a6gw_alerts_total``: :mod:`gateway.alerts`' own per-process counts."""

    @staticmethod
    def _family() -> CounterMetricFamily:
        return CounterMetricFamily(
            "a6gw_alerts",
            "Alerts raised in this process (gateway.alerts: A6-ALERT-...), by code.",
            labels=["code"],
        )

    def describe(self) -> Iterable[Metric]:
        return [self._family()]

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        for code, n in sorted(alerts.counts().items()):
            family.add_metric([code], n)
        yield family


REGISTRY.register(AuditCollector(AUDIT))
REGISTRY.register(AlertsCollector())

# -- what is exported ------------------------------------------------------------------------

#: The sample names of each metric type, after the family's name.
_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
    "info": ("_info",),
}


def exported_families() -> list[Metric]:
    """Every a6gw_ family, described (no samples), sorted by name."""
    out: dict[str, Metric] = {}
    collectors = list(REGISTRY._collector_to_names)  # noqa: SLF001 - the client keeps no list
    for collector in collectors:
        describe = getattr(collector, "describe", None)
        for family in describe() if describe is not None else ():
            if family.name.startswith("a6gw_"):
                out[family.name] = family
    return [out[name] for name in sorted(out)]


def exported_names() -> set[str]:
    """The sample names a scrape can show for the a6gw_ families (``a6gw_x_total``,
    ``a6gw_y_bucket``, ...)."""
    names: set[str] = set()
    for family in exported_families():
        names.update(family.name + s for s in _SUFFIXES.get(family.type, ("",)))
    return names
