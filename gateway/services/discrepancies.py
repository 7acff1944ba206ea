"""Discrepancies and reconciliation runs as the audit log has them.

Both are read with the store's index (``type`` terms), never by scanning the whole log:
discrepancy entries are those of type ``a6gw.discrepancy.opened`` (a finding put on record)
and ``a6gw.discrepancy.command.v1`` (an operator's command, applied or refused); a run is an
entry of type ``a6gw.reconciliation.run``. Every discrepancy entry carries the discrepancy
as it stands after it, so folding them in log order (:func:`gateway.core.discrepancy.fold`)
gives each one's current state; :func:`track` keeps the entries too (leaf index, outcome,
who, codes), and :func:`runs` gives each run its status after its discrepancies' lifecycle.

Everything but :func:`indexed` and the ``load_*`` helpers is pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from gateway.audit.logstore import LogStore
from gateway.audit.search import Query
from gateway.core import discrepancy as dsc
from gateway.core.decision import RUN_TYPE
from gateway.core.ingest import COMMAND_TYPES
from gateway.services.entries import read_entry
from schemas import entries as en
from schemas import entry_parts as ep

__all__ = [
    "COMMAND_TYPE",
    "DISCREPANCY_TYPES",
    "RUN_TYPE",
    "Run",
    "Step",
    "Tracked",
    "indexed",
    "is_known",
    "load_discrepancies",
    "load_one",
    "load_runs",
    "runs",
    "select",
    "states",
    "track",
]

COMMAND_TYPE = "a6gw.discrepancy.command.v1"
#: The input types of discrepancy entries: openings and operators' commands.
DISCREPANCY_TYPES = (dsc.OPENED_TYPE, *sorted(COMMAND_TYPES | {COMMAND_TYPE}))
INCONSISTENT = ("totals-inconsistent", "blocks-inconsistent")
#: Leaf indices asked of the store per search.
PAGE = 1000

#: ``(leaf index, entry)``.
Indexed = tuple[int, en.AuditEntry]


@dataclass(frozen=True)
class Step:
    """One audit entry of a discrepancy: its opening, an applied command or a refusal."""

    index: int
    entry_id: str
    outcome: str  # open, acknowledged, resolved, refused
    at: str
    by: str | None  # the command's signer; None for the opening
    codes: tuple[str, ...]  # the finding's code (opening) or the refusal's (REC-10x)
    message: str


@dataclass(frozen=True)
class Tracked:
    """A discrepancy's current state and every entry about it, in log order."""

    discrepancy: dsc.Discrepancy
    steps: tuple[Step, ...]

    @property
    def latest(self) -> int:
        """The leaf index of its latest entry."""
        return self.steps[-1].index

    @property
    def opened_at(self) -> int:
        return self.steps[0].index


@dataclass(frozen=True)
class Run:
    """A reconciliation run and what became of its findings."""

    id: str
    index: int
    registry: str
    decided_at: str
    report_status: str  # as the run found it
    status: str  # after its discrepancies' lifecycle
    discrepancy_ids: tuple[str, ...]  # in the order they were opened
    pending: int  # differences of the report whose discrepancy is not in the log yet
    report: ep.RunReport


def _step(index: int, entry: en.DiscrepancyEntry) -> Step:
    inp, results = entry.input, entry.results
    return Step(
        index=index,
        entry_id=entry.entry_id,
        outcome=entry.outcome,
        at=entry.decided_at,
        by=None if isinstance(inp, ep.Opened) else inp.signer or inp.source,
        codes=tuple(r.code for r in results),
        message=results[0].message if results else "",
    )


def _state_of(record: ep.OpenRecord) -> dsc.Discrepancy:
    """The discrepancy an entry carries (as it stands after the entry)."""
    return dsc.from_record(record.model_dump(mode="json"))


def track(items: Iterable[Indexed]) -> dict[str, Tracked]:
    """Every discrepancy's current state and entries, from ``(leaf index, entry)`` pairs
    in log order. Refusals that name no known discrepancy (REC-101) belong to none."""
    states: dict[str, dsc.Discrepancy] = {}
    steps: dict[str, list[Step]] = {}
    for index, entry in items:
        if isinstance(entry, en.DiscrepancyEntry) and entry.discrepancy is not None:
            d = _state_of(entry.discrepancy)
            states[d.id] = d
            steps.setdefault(d.id, []).append(_step(index, entry))
    return {d_id: Tracked(d, tuple(steps[d_id])) for d_id, d in states.items()}


def states(entries: Iterable[en.AuditEntry]) -> dict[str, dsc.Discrepancy]:
    """Every discrepancy's current state, from entries in log order."""
    return {d_id: t.discrepancy for d_id, t in track(enumerate(entries)).items()}


def select(
    tracked: Iterable[Tracked],
    *,
    status: str | None = None,
    code: str | None = None,
    registry: str | None = None,
    found_by: str | None = None,
) -> list[Tracked]:
    """The discrepancies matching every filter given, in the order they were opened."""
    out = [
        t
        for t in tracked
        if (status is None or t.discrepancy.status == status)
        and (code is None or t.discrepancy.code == code)
        and (registry is None or registry in t.discrepancy.registries)
        and (found_by is None or t.discrepancy.found_by == found_by)
    ]
    return sorted(out, key=lambda t: t.opened_at)


def expected_findings(report: ep.RunReport) -> int:
    """How many discrepancies a run's report opens: one per differing cell and block."""
    return len(report.cells) + len(report.blocks)


def runs(items: Iterable[Indexed], tracked: Mapping[str, Tracked]) -> list[Run]:
    """The reconciliation runs among ``items``, newest first, each with its status after
    its discrepancies' lifecycle. A run some of whose findings are not in the log yet keeps
    the status its report gave it."""
    by_run: dict[str, list[Tracked]] = {}
    for t in tracked.values():
        if t.discrepancy.found_by == "reconciliation":
            by_run.setdefault(t.discrepancy.source_entry, []).append(t)
    out = []
    for index, entry in items:
        if not isinstance(entry, en.ReconciliationEntry):
            continue
        run_id = entry.input.id
        mine = sorted(by_run.get(run_id, ()), key=lambda t: t.opened_at)
        pending = max(0, expected_findings(entry.report) - len(mine))
        status = (
            entry.outcome
            if pending
            else dsc.run_status(entry.outcome, (t.discrepancy for t in mine))
        )
        out.append(
            Run(
                id=run_id,
                index=index,
                registry=entry.input.registry,
                decided_at=entry.decided_at,
                report_status=entry.outcome,
                status=status,
                discrepancy_ids=tuple(t.discrepancy.id for t in mine),
                pending=pending,
                report=entry.report,
            )
        )
    return sorted(out, key=lambda r: r.index, reverse=True)


# -- reading the store ---------------------------------------------------------------------


def indexed(
    store: LogStore, types: Sequence[str], *, page: int = PAGE, query: Query | None = None
) -> Iterator[Indexed]:
    """``(leaf index, entry)`` of every entry whose input type is one of ``types`` (or that
    ``query`` finds), in log order, by the store's index (a page of leaf indices per
    search). Entries the models refuse are left out (:mod:`gateway.services.entries`)."""
    query = query or Query(terms=tuple(("type", t) for t in types))
    after = -1
    while True:
        found = store.search(query, after, page)
        for index in found:
            entry = read_entry(store.entry(index))
            if entry is not None:
                yield index, entry
        if len(found) < page:
            return
        after = found[-1]


def load_discrepancies(store: LogStore) -> dict[str, Tracked]:
    """Every discrepancy in the log, with its entries."""
    return track(indexed(store, DISCREPANCY_TYPES))


def load_one(store: LogStore, discrepancy_id: str) -> Tracked | None:
    """One discrepancy with its entries, by the index of discrepancy ids."""
    query = Query(terms=(("discrepancy", discrepancy_id),))
    return track(indexed(store, (), query=query)).get(discrepancy_id)


def load_runs(store: LogStore, tracked: Mapping[str, Tracked] | None = None) -> list[Run]:
    """Every reconciliation run in the log, newest first."""
    known = load_discrepancies(store) if tracked is None else tracked
    return runs(indexed(store, (RUN_TYPE,)), known)


def is_known(store: LogStore, discrepancy_id: str) -> bool:
    """Whether the log has opened ``discrepancy_id`` (one index lookup)."""
    query = Query(terms=(("event", discrepancy_id), ("type", dsc.OPENED_TYPE)))
    return bool(store.search(query, -1, 1))
