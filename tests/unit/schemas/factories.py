"""Small typed factories of real audit entries, for tests of the entry readers.

Each builds the entry model with the fields a test names and plausible values for the
rest, so a reader's test feeds it what the log holds (the models refuse partial entries).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from gateway.core import decision as dec
from gateway.core import discrepancy as dsc
from gateway.core.canonical import canonical_bytes
from schemas import entries as en
from schemas import entry_parts as ep

SHA = "ab" * 32
AT = "2026-11-29T08:00:00.000Z"

Outcome = Literal["accepted", "rejected", "recorded", "discrepancy", "dead-lettered"]


def result(code: str, message: str = "", blocks: Sequence[tuple[int, int]] = ()) -> ep.Result:
    """A coded result naming serial ranges."""
    return ep.Result(
        code=code,
        message=message,
        blocks=[ep.Serials(serial_start=str(a), serial_end=str(b)) for a, b in blocks],
    )


def block(
    start: int,
    end: int,
    *,
    ca_id: str = "CA0001",
    origin: str = "MNG01",
    registry: str = "MNG01",
    account: str = "MNG01-H-1",
    state: Literal["held", "reserved", "retired", "cancelled"] = "held",
) -> ep.BlockRecord:
    """A block record as a decision writes it after the decision."""
    return ep.BlockRecord(
        ca_id=ca_id,
        origin=origin,
        start=str(start),
        end=str(end),
        vintage=2025,
        unit_type="A6.4ER",
        registry=registry,
        account=account,
        state=state,
        first_transferred=False,
        reserved_by=None,
        authorization_id=None,
    )


def decision(
    event_id: str = "e1",
    *,
    source: str = "MNG01",
    signer: str | None = None,
    type_: str = "a6gw.transfer.v1",
    kind: Literal["proposal", "notification"] = "proposal",
    outcome: Outcome = "accepted",
    results: Sequence[ep.Result] = (),
    blocks: Sequence[ep.BlockRecord] = (),
    ca_id: str | None = "CA0001",
    transaction_id: str | None = None,
    decided_at: str = AT,
    **optional: Any,
) -> en.DecisionEntry:
    """A decision entry on input ``event_id`` of ``source`` (``optional``: ``a6``, ``data``,
    ``note``, ... as models)."""
    return en.DecisionEntry(
        entry_version=1,
        entry_type="decision",
        entry_id=dec.event_entry_id(source, event_id, SHA),
        input=ep.DecisionInput(
            source=source,
            id=event_id,
            type=type_,
            kind=kind,
            time=decided_at,
            sha256=SHA,
            signer=signer or source,
        ),
        ca_id=ca_id,
        outcome=outcome,
        results=list(results),
        actions=[],
        quantity="0",
        blocks=list(blocks),
        decided_at=decided_at,
        transaction_id=transaction_id,
        **optional,
    )


def opened(d: dsc.Discrepancy) -> en.DiscrepancyEntry:
    """The entry that puts ``d`` on record, through the gateway's builder."""
    return en.DiscrepancyEntry.model_validate_json(canonical_bytes(dsc.opened_entry(d)))


def wire_bytes(entry: en.Entry) -> bytes:
    """The entry's bytes as the log stores them."""
    return canonical_bytes(entry.wire())
