"""Hand-built audit logs of discrepancies and reconciliation runs, for the unit tests.

Imported as ``tests.unit.dsclog`` by the services and cli tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway.audit.store import AuditStore
from gateway.core import discrepancy as dsc
from gateway.core.canonical import canonical_bytes, sha256_hex
from gateway.core.decision import decision_entry
from gateway.core.model import Evaluation, Event
from gateway.core.reconcile import Holding, Report, reconcile
from gateway.services import discrepancies as dq
from gateway.services.reconciliation import records
from tests.unit.schemas.entry_cases import ISSUANCE

T0 = 1_796_000_000_000  # 2026-11-30T...
AT = "2026-11-29T12:00:00.000Z"


def holding(account: str, start: int, end: int) -> Holding:
    return Holding("JPN01", account, "holding", "CA0001", "MNG01", 2026, "JCM", start, end)


def totals_short() -> Report:
    """JPN01 holds 1-100 in the log, 1-50 in its snapshot: a cell and a block differ."""
    return reconcile([holding("JP-1", 1, 100)], [holding("JP-1", 1, 50)])


def elsewhere() -> Report:
    """The same units, another account: one block differs."""
    return reconcile([holding("JP-1", 1, 100)], [holding("JP-2", 1, 100)])


class Log:
    """An in-memory store and the core's entry builders, as the worker would log them."""

    def __init__(self, at: Path = Path(":memory:")) -> None:
        self.store = AuditStore(at)
        self.n = 0

    def add(self, entry: dict[str, Any]) -> int:
        self.store.append([(entry["entry_id"], canonical_bytes(entry))])
        return self.store.size() - 1

    def noise(self) -> None:
        """An accepted transfer's decision: an entry of another type."""
        self.n += 1
        event = Event(
            source="MNG01",
            id=f"tx-{self.n}",
            type="a6gw.transfer.v1",
            name="transfer",
            kind="proposal",
            time=AT,
            payload=ISSUANCE,
            sha256=sha256_hex(f"tx-{self.n}".encode()),
            signer_principal="User:mng01",
            signer_role="registry",
        )
        self.add(decision_entry(event, Evaluation("accepted"), decided_at=AT))

    def run(self, report: Report, *, at_ms: int = T0, open_first: int | None = None) -> str:
        """The run's entry, then the opening of its findings (the first ``open_first``)."""
        items = records("JPN01", report, at_ms)
        run = json.loads(items[0][2])
        self.add(run)
        for _, _, value in items[1 : None if open_first is None else 1 + open_first]:
            self.add(dsc.opened_entry(dsc.from_record(json.loads(value))))
        return str(run["entry_id"])

    def open(self, d: dsc.Discrepancy) -> None:
        self.add(dsc.opened_entry(d))

    def command(
        self, d_id: str, action: dsc.Action, by: str = "ops-1", note: str = "", fix: str = ""
    ) -> dict[str, Any]:
        self.n += 1
        known = dq.load_discrepancies(self.store).get(d_id)
        before = known.discrepancy if known else None
        after = dsc.apply(before, dsc.Command(d_id, action, by, AT, note=note, correction=fix))
        identity = {
            "source": by,
            "id": f"cmd-{self.n}",
            "type": dq.COMMAND_TYPE,
            "time": AT,
            "sha256": sha256_hex(str(self.n).encode()),
            "signer": by,
        }
        entry = dsc.command_entry(identity, after, before, AT)
        self.add(entry)
        return entry


def finding(code: str, found_by: dsc.FoundBy, registry: str, n: int) -> dsc.Discrepancy:
    return dsc.Discrepancy(
        id=dsc.discrepancy_id(found_by, f"ev-src-{n}"),
        code=code,
        severity="error",
        registries=(registry,),
        blocks=(("CA0001", "MNG01", 1, 10),),
        first_seen=AT,
        found_by=found_by,
        source_entry=f"ev-src-{n}",
        summary=f"{code} at {registry}",
    )
