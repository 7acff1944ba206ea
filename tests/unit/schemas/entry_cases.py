"""One audit entry of every kind (and of every optional part of a kind), built by the
gateway's entry builders from fixed inputs.

``tests/fixtures/entries-golden.json`` holds the canonical bytes these builders wrote
before the entries had models; ``python tests/unit/entry_cases.py`` rewrites it (only ever
to add a case: the bytes of an existing case never change).
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway.core import decision as dec
from gateway.core import discrepancy as dsc
from gateway.core import summary_check as sc
from gateway.core.actions import row
from gateway.core.blocks import Block, Range
from gateway.core.canonical import canonical_bytes
from gateway.core.ingest import RawInput
from gateway.core.model import Evaluation, Event, Finding
from gateway.core.reconcile import Holding, Report, reconcile
from gateway.core.refusals import rate_entry, refusal_entry
from gateway.core.summary import ROWS, Method, Row, Summary
from gateway.core.summary_log import Counted, Figure, Reported
from gateway.core.topics import input_topic
from schemas.events import AccountOpened, Authorization, Issuance

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "entries-golden.json"
SHA = "ab" * 32
AT = "2026-05-04T03:02:01.123Z"
AUTH = Authorization.model_validate_json(
    json.dumps(
        {
            "authorization_id": "AUTH-1",
            "version": 1,
            "status": "granted",
            "ca_id": "CA0001",
            "authorizing_party": "MNG",
            "date": "2026-01-02",
            "purposes": "NDC",
            "first_transfer_definition": "First international transfer",
            "coverage": [{"serial_start": "1", "serial_end": "9", "originating_registry": "MNG01"}],
        }
    )
)
ISSUANCE = Issuance.model_validate_json(
    json.dumps(
        {
            "transaction_id": "tx-1",
            "ca_id": "CA0001",
            "registry_id": "MNG01",
            "decision_id": "d-1",
            "vintage": 2026,
            "unit_type": "JCM",
            "blocks": [{"serial_start": "1", "serial_end": "9", "account_id": "a1"}],
        }
    )
)
OPENED = AccountOpened(
    registry_id="MNG01", account_id="a1", account_type="participant-holding", holder="H"
)
BLOCK = Block("CA0001", "MNG01", 1, 9, 2026, "JCM", "MNG01", "a1", first_transferred=True)
RAW = RawInput(input_topic("MNG01"), 2, 77, b"k", b"\x00not json", 1_777_000_000_123)


def _event(name: str, kind: str, payload: Any) -> Event:
    return Event(
        source="MNG01",
        id=f"{name}-1",
        type=f"a6gw.{name}.v1",
        name=name,
        kind=kind,
        time="2026-05-04T03:02:00Z",
        payload=payload,
        sha256=SHA,
        signer_principal="User:mng01",
        signer_role="registry",
    )


def _decisions() -> dict[str, dict[str, Any]]:
    a6 = row(
        "First transfer",
        BLOCK,
        Range(1, 9),
        AUTH.model_dump(mode="json"),
        party="MNG",
        registry="MNG01",
        subtype="First transfer to another Party",
        transferring_party="MNG",
        acquiring_party="JPN",
    )
    issued = Evaluation(
        "accepted",
        actions=("issue",),
        quantity=9,
        note="waits",
        a6=(a6,),
    )
    rejected = Evaluation(
        "rejected",
        findings=(Finding("BLK-002", "not held", (Range(3, 4), Range(5, 6))),),
    )
    replays = dec.replay_of([(dec.REPLAY_HEADER, f"{input_topic('MNG01')}/0/12".encode())])
    assert replays is not None
    return {
        "decision-accepted": dec.decision_entry(
            _event("issuance", "proposal", ISSUANCE),
            issued,
            decided_at=AT,
            blocks_after=[BLOCK],
            ca_id="CA0001",
        ),
        "decision-rejected": dec.decision_entry(
            _event("issuance", "proposal", ISSUANCE), rejected, decided_at=AT
        ),
        "decision-replayed": dec.decision_entry(
            _event("issuance", "proposal", ISSUANCE), rejected, decided_at=AT, replays=replays
        ),
        "decision-recorded-data": dec.decision_entry(
            _event("authorization", "notification", AUTH),
            Evaluation("recorded"),
            decided_at=AT,
            ca_id="CA0001",
        ),
        "decision-account": dec.decision_entry(
            _event("account.opened", "notification", OPENED), Evaluation("recorded"), decided_at=AT
        ),
    }


def _discrepancies() -> dict[str, dict[str, Any]]:
    found = dsc.Discrepancy(
        id=dsc.discrepancy_id("decision", "ev-" + "1" * 40),
        code="BLK-002",
        severity="error",
        registries=("MNG01",),
        blocks=(("CA0001", "MNG01", 3, 6),),
        first_seen=AT,
        found_by="decision",
        source_entry="ev-" + "1" * 40,
        summary="not held",
        detail={"codes": ["BLK-002"], "input": {"id": "x", "n": 1}},
    )
    cmd_input = {
        "source": "operator",
        "id": "cmd-1",
        "type": "a6gw.discrepancy.command.v1",
        "time": "2026-05-04T03:02:00Z",
        "sha256": SHA,
        "signer": "User:operator",
    }
    ack = dsc.apply(found, dsc.Command(found.id, "acknowledge", "User:operator", AT))
    assert isinstance(ack, dsc.Discrepancy)
    refused = dsc.Refused("DSC-002", "no such discrepancy")
    return {
        "discrepancy-opened": dsc.opened_entry(found),
        "discrepancy-command": dsc.command_entry(cmd_input, ack, found, AT),
        "discrepancy-refused": dsc.command_entry(cmd_input, refused, found, AT),
        "discrepancy-refused-unknown": dsc.command_entry(cmd_input, refused, None, AT),
    }


def _summary_check() -> dict[str, Any]:
    counted = Counted("ev-" + "2" * 40, "CA0001", "MNG01", 1, 9, 9, "First transfer")
    rows = {
        n: Row(n, Decimal("9") if n == "R7" else None, blocks=(counted,) if n == "R7" else ())
        for n in ROWS
    }
    rows["R11"] = Row("R11", None, status="not applicable", reason="no averaging")
    figure = Figure("ev-" + "3" * 40, "sub-1", Decimal("-12.5"), AT)
    summary = Summary("MNG", 2026, Method("MNG", (2021, 2030)), rows, (figure,))
    reported = Reported("ev-" + "4" * 40, AT, {"r7": Decimal("8")})
    found = sc.SummaryFinding("CTF-001", "MNG", 2026, "R7", Decimal("8"), Decimal("9"), "off")
    return sc.check_entry(summary, reported, [found], 1_777_000_000_123)


def run_report() -> Report:
    def holding(account: str, start: int, end: int) -> Holding:
        return Holding("MNG01", account, "participant-holding", "CA0001", "MNG01", 2026, "JCM",
                       start, end)  # fmt: skip

    return reconcile([holding("a1", 1, 9)], [holding("a2", 1, 4), holding("a1", 5, 9)])


RUN_SOURCES: dict[str, dict[str, Any] | None] = {
    "reconciliation-file": {"from": "file", "sha256": SHA},
    "reconciliation-kafka": {"from": "kafka", "reconciliation_id": "r1", "pages": []},
    "reconciliation-none": None,
}


def _reconciliation() -> dict[str, dict[str, Any]]:
    return {
        name: dec.reconciliation_entry("MNG01", run_report(), 1_777_000_000_123, source)
        for name, source in RUN_SOURCES.items()
    }


def cases() -> dict[str, dict[str, Any]]:
    """Every case, by name: the entry as its builder returns it."""
    parked, _finding = dec.parked_entry("IDN01", "m-1", "k-1", "DLV-002", "gone", AT)
    return (
        _decisions()
        | {
            "dead-letter": dec.dead_letter_entry(RAW, Finding("MSG-001", "not JSON")),
            "http-refusal": refusal_entry(
                registry="IDN01",
                path="/v1/in",
                body=b"{}",
                size=None,
                signature="s",
                code="REG-SIG",
                message="bad",
                at=AT,
            ),  # fmt: skip
            "http-refusal-unread": refusal_entry(
                registry="IDN01",
                path="/v1/in",
                body=None,
                size=None,
                signature="s",
                code="REG-SIZE",
                message="too big",
                at=AT,
            ),  # fmt: skip
            "http-refusal-rate": rate_entry(
                registry="IDN01", path="/v1/in", window_start=AT, limit=5, window_s=60, at=AT
            ),
            "delivery-parked": parked,
            "summary-check": _summary_check(),
        }
        | _discrepancies()
        | _reconciliation()
        | _trust()
    )


def _trust() -> dict[str, dict[str, Any]]:
    """A key registered, then rotated out (``valid_to`` set) and withdrawn; a Party's
    settings (``gateway.core.trust_log``)."""
    from gateway.core.trust import Trust
    from gateway.core.trust_log import changes
    from tests.unit.core.test_trust_log import PARTY, key

    at = 1_777_864_921_123
    k = key("JPN01-2026")
    first = changes([], (Trust(keys=(k,)), [PARTY]), at_ms=at)
    rotated = Trust(keys=(key("JPN01-2026", valid_to="2026-12-31T00:00:00Z"),))
    changed = changes(first, (rotated, [PARTY]), at_ms=at)
    withdrawn = changes(first + changed, (Trust(keys=()), [PARTY]), at_ms=at)
    return {
        "trust-key-registered": first[0],
        "trust-key-changed": changed[0],
        "trust-key-withdrawn": withdrawn[0],
        "party-settings": first[1],
    }


def main() -> int:
    golden = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    for name, entry in cases().items():
        golden.setdefault(name, canonical_bytes(entry).decode("utf-8"))
    GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(f"{len(golden)} cases in {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
