"""The demo's operator: every discrepancy found is acknowledged or resolved, on record.

After the scenario and the two snapshot reconciliations the log holds the findings:

- continuous: the notifications whose checks failed (the scenario's A6-007 and TRN-001, and
  MNG01's answer whose record of the credited units missed half of them, A6-015);
- snapshot: IDN01's block 100 units short and JPN01's missing acquisition (REC-001/002).

The operator (key role ``operator``) then signs commands on ``a6.discrepancy.commands``:
A6-015 is acknowledged and resolved (MNG01 re-sent its answer and the transfer settled);
IDN01's findings are resolved by hand with the correction (DES "completed with manual
intervention"); JPN01's are acknowledged and resolved after it re-exports its holdings; the
other two are acknowledged; one command is refused on purpose (REC-102). IDN01 and JPN01 are
then reconciled again and agree. Returns what did not end as expected.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from gateway.audit.store import AuditStore
from gateway.config import LoadedConfig
from gateway.core import discrepancy as dsc
from gateway.core.oversight import command_entry_id, command_envelope
from gateway.core.topics import COMMANDS_TOPIC
from gateway.demo.https import HttpsPartner
from gateway.demo.planted import KafkaRegistry, snapshot_rows
from gateway.demo.world import World, now_utc
from gateway.errors import GatewayError
from gateway.services import discrepancies as dq
from gateway.services.entries import read_entries
from gateway.services.reconciliation import run
from gateway.transport.clients import KafkaClients, clients_for
from gateway.worker.process import WorkerProcess
from schemas.entries import INPUT_KINDS, AuditEntry, ReconciliationEntry

Say = Callable[[str], None]
OPERATOR = "ops-1"
#: Findings of the scenario's notifications whose checks failed.
CONTINUOUS = ("A6-007", "A6-015", "TRN-001")


def _entries(store: AuditStore) -> list[AuditEntry]:
    return list(read_entries(store.entries()))


def wait_findings(store: AuditStore, worker: WorkerProcess, timeout: float = 60.0) -> None:
    """Until every finding is on record: the continuous ones, one per difference of a run."""
    deadline = time.monotonic() + timeout
    while True:
        entries = _entries(store)
        runs = [e.report for e in entries if isinstance(e, ReconciliationEntry)]
        found = [d.code for r in runs for d in r.cells] + [d.code for r in runs for d in r.blocks]
        want = sorted([*CONTINUOUS, *found])
        have = sorted(d.code for d in dq.states(entries).values())
        if have == want:
            return
        worker.check_alive()
        if time.monotonic() > deadline:
            raise GatewayError(f"findings on record {have}, expected {want}", code="DEMO-LOG")
        time.sleep(0.3)


async def _publish(clients: KafkaClients, commands: list[tuple[str, bytes]]) -> None:
    producer = clients.producer(acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for key, value in commands:
            await producer.send_and_wait(COMMANDS_TOPIC, value, key=key.encode())
    finally:
        await producer.stop()


def _wait(store: AuditStore, entry_ids: list[str], worker: WorkerProcess) -> None:
    deadline = time.monotonic() + 60
    while not all(store.has(e) for e in entry_ids):
        worker.check_alive()
        if time.monotonic() > deadline:
            raise GatewayError("operator commands were not decided in 60 s", code="DEMO-LOG")
        time.sleep(0.2)


def table(found: list[dsc.Discrepancy]) -> str:
    """The discrepancies as a small table (code, found by, registries, status, summary)."""
    rows = [f"    {'code':<8} {'found by':<15} {'registries':<12} {'status':<12} summary"]
    for d in sorted(found, key=lambda d: (d.first_seen, d.id)):
        status = d.status + (" (by hand)" if d.manual else "")
        summary = d.summary if len(d.summary) <= 70 else d.summary[:67] + "..."
        regs = ",".join(d.registries)
        rows.append(f"    {d.code:<8} {d.found_by:<15} {regs:<12} {status:<12} {summary}")
    return "\n".join(rows)


def operate(
    lc: LoadedConfig,
    world: World,
    store: AuditStore,
    worker: WorkerProcess,
    https: HttpsPartner,
    say: Say,
) -> list[str]:
    """Act on every finding as described above; returns the problems."""
    wait_findings(store, worker)
    entries = _entries(store)
    found = list(dq.states(entries).values())
    say(f"{len(found)} discrepancies are open:\n{table(found)}")
    runs = {e.entry_id: e for e in entries if isinstance(e, ReconciliationEntry)}
    registry_of = {rid: e.input.registry for rid, e in runs.items()}
    key, kid = world.keys[OPERATOR], world.key_id(OPERATOR)
    plan: list[tuple[dsc.Discrepancy, dsc.Action, str, str, str]] = []
    for d in found:
        where = registry_of.get(d.source_entry, "")
        if d.code == "A6-015":
            plan.append((d, "acknowledge", "", "", "acknowledged"))
            note = "MNG01 re-sent its answer with its full record; the transfer settled"
            plan.append((d, "resolve", note, "", "resolved"))
            plan.append((d, "acknowledge", "again, by mistake", "", "refused"))
        elif where == "IDN01":
            note = "IDN01's snapshot missed units its journal holds"
            fix = "IDN01 restored the block from its transaction journal"
            plan.append((d, "resolve-by-hand", note, fix, "resolved"))
        elif where == "JPN01":
            plan.append((d, "acknowledge", "", "", "acknowledged"))
            note = "JPN01 re-exported its holdings with the acquisition from MNG01"
            plan.append((d, "resolve", note, "", "resolved"))
        else:
            plan.append((d, "acknowledge", "", "", "acknowledged"))
    commands = []
    expected: dict[str, str] = {}
    for n, (d, action, note, fix, outcome) in enumerate(plan):
        value = command_envelope(
            key,
            key_id=kid,
            principal=OPERATOR,
            discrepancy_id=d.id,
            action=action,
            time=now_utc(),
            note=note,
            correction=fix,
            command_id=f"cmd-demo-{n}",
        )
        commands.append((d.id, value))
        expected[command_entry_id(value)] = outcome
    asyncio.run(_publish(clients_for(lc, "discrepancy"), commands))
    _wait(store, list(expected), worker)
    problems: list[str] = []
    by_id = {e.entry_id: e for e in _entries(store) if isinstance(e, INPUT_KINDS)}
    for entry_id, outcome in expected.items():
        got = by_id[entry_id]
        if got.outcome != outcome:
            problems.append(f"command {entry_id}: {got.outcome}, expected {outcome}")
    refused = [by_id[e] for e, o in expected.items() if o == "refused"]
    codes = [r.code for e in refused for r in e.results]
    say(
        f"operator {OPERATOR}: {len(commands)} signed commands; "
        f"{len(refused)} refused as it should be ({', '.join(codes)})"
    )
    # The registries fixed their books: reconcile them again.
    https.sim.holdings = snapshot_rows(store, "IDN01")
    report, _ = run(lc, store, "IDN01", snapshot=None, say=lambda m: say(f"  IDN01 again: {m}"))
    if report.status != "completed":
        problems.append(f"IDN01 reconciled again: {report.status}")
    with KafkaRegistry(lc, world, "JPN01").answering(snapshot_rows(store, "JPN01")):
        report, _ = run(lc, store, "JPN01", snapshot=None, say=lambda m: say(f"  JPN01 again: {m}"))
    if report.status != "completed":
        problems.append(f"JPN01 reconciled again: {report.status}")
    final = dq.states(_entries(store))
    say(f"discrepancies now:\n{table(list(final.values()))}")
    for rid, entry in runs.items():
        mine = [d for d in final.values() if d.source_entry == rid]
        status = dsc.run_status(entry.outcome, mine)
        want = {
            "IDN01": "completed-with-manual-intervention",
            "JPN01": "completed",
        }[registry_of[rid]]
        say(f"reconciliation {rid[:16]}… of {registry_of[rid]}: {entry.outcome} → {status}")
        if status != want:
            problems.append(f"run of {registry_of[rid]}: {status}, expected {want}")
    still_open = [d.code for d in final.values() if d.status == "open"]
    if still_open:
        problems.append(f"discrepancies left open: {still_open}")
    return problems
