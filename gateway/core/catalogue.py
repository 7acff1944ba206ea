"""The catalogue of coded checks: every rule the gateway applies, and the ones it does not.

Codes follow the groups of the Kyoto data exchange standards as the domain brief (§d) sets
them out: MSG message integrity, ACC accounts, BLK unit blocks, QTY quantities, A6 Article 6
accounting, AEF reporting, JCM the Joint Crediting Mechanism, RCN reconciliation; plus the
gateway's own AUT (authorization versions), OPN (opening holdings), TRN (the transfer
lifecycle), CTF (a Party's reported structured summary, CTF Table 4, checked against the
log by ``a6gw summary --check``: :mod:`gateway.core.summary_check`) and GWF (gateway
faults: the gateway, not the input, failed on it). A code never changes meaning once
released.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["implemented", "not applicable"]
P, N, I_ = "proposals", "notifications", "all inputs"


@dataclass(frozen=True)
class Check:
    code: str
    rule: str
    applies_to: str
    source: str
    status: Status = "implemented"
    reason: str = ""

    @property
    def group(self) -> str:
        return self.code.split("-")[0]


def _na(code: str, rule: str, source: str, reason: str) -> Check:
    return Check(code, rule, "-", source, "not applicable", reason)


#: Why the CTF checks are not per-input checks: they run over the log, on demand.
_CTF = (
    "a check of a Party's reported structured summary (a6gw summary --check), "
    "not of registry events"
)

CATALOGUE: tuple[Check, ...] = (
    Check(
        "MSG-001",
        "the bytes are a valid versioned envelope and the data matches its type",
        I_,
        "DES message majorVersion/minorVersion (UKETS common.wsdl)",
    ),
    Check(
        "MSG-002",
        "the signer's key is known, active and valid, its role may sign the type, "
        "and its principal owns the topic and is the source",
        I_,
        "DES authentication by digital signature",
    ),
    Check(
        "MSG-003",
        "the Ed25519 signature over the RFC 8785 bytes verifies",
        I_,
        "DES authentication by digital signature",
    ),
    Check(
        "MSG-004",
        "an event id is never reused for other content",
        I_,
        "UKETS transaction log check10006",
    ),
    Check(
        "MSG-005",
        "a proposal is not older than the limit nor ahead of its arrival",
        P,
        "UKETS transaction log check -1 (older than N hours)",
    ),
    Check("MSG-006", "the event time is RFC 3339 UTC", I_, "AEF-V2 action date format"),
    Check("MSG-007", "the record key is the event id", I_, "gateway input identity"),
    Check(
        "MSG-008",
        "the message is no larger than the configured limit",
        I_,
        "gateway resource limit",
    ),
    Check(
        "MSG-009",
        "a notification's time is not after its arrival by more than the allowed clock skew",
        N,
        "gateway time: the arrival time is the broker's or the gateway's, never the sender's",
    ),
    Check(
        "MSG-010",
        "a record on an internal topic (ledger, audit log, findings, retries, dead letters) "
        "carries the MAC of a gateway process",
        I_,
        "gateway defence in depth (HMAC-SHA-256, shared key)",
    ),
    Check(
        "MSG-011",
        "an input is a CloudEvent in structured content mode, not in binary mode "
        "(ce_ headers without an envelope)",
        I_,
        "CloudEvents Kafka protocol binding 1.0 §3 (only a whole envelope is signed)",
    ),
    Check(
        "MSG-012",
        "an envelope's dataschema, when present, is the $id of the published schema of its "
        "type's data (urn:a6gw:schema:<name>:<major> for a6gw.<name>.v<major>)",
        I_,
        "CloudEvents 1.0 dataschema; the a6gw profile (docs/cloudevents.md)",
    ),
    Check(
        "MSG-013",
        "an envelope's traceparent and tracestate, when present, are W3C Trace Context "
        "Level 1 (traceparent version 00, ids not all zeros; tracestate only with it)",
        I_,
        "CloudEvents distributed tracing extension; W3C Trace Context §3.2, §3.3",
    ),
    Check("ACC-001", "the transferring account exists", P, "UKETS check1002, TL check10001"),
    Check(
        "ACC-002",
        "the transferring account is open (not blocked or closed)",
        P,
        "UKETS check1003/1004/1005",
    ),
    Check("ACC-003", "the acquiring account exists (DES 5902)", P, "UKETS check2002"),
    Check(
        "ACC-004",
        "the acquiring account may receive the units (DES 5903)",
        P,
        "UKETS check2006/2007/2010",
    ),
    Check("ACC-005", "the acquiring account is open (DES 5906)", P, "UKETS check2003"),
    Check("ACC-006", "acquiring and transferring accounts differ", P, "UKETS check2508"),
    _na(
        "ACC-007",
        "account identifier check digits are valid (MOD 97)",
        "UKETS check1001/2001",
        "JCM and Article 6 account identifiers carry no check digits (CN-2026 defines none)",
    ),
    Check(
        "ACC-008",
        "the transferring account's type may give units away (DES 5904)",
        P,
        "UKETS check1007",
    ),
    _na(
        "ACC-009",
        "the acquiring account is on the sender's trusted list",
        "UKETS check2507",
        "neither the JCM rules nor decision 2/CMA.3 define trusted-account lists",
    ),
    Check("ACC-010", "an account is opened once", N, "gateway account lifecycle"),
    Check("BLK-001", "every block has serial_start <= serial_end", P, "DES unit block semantics"),
    Check("BLK-002", "the blocks of one transaction do not overlap", P, "DES one unit, one place"),
    Check(
        "BLK-003",
        "the transferring account holds every unit",
        P,
        "UKETS transaction log check10005",
    ),
    Check("BLK-004", "no serial is issued or recorded twice", P, "3/CMP.1 appendix D para 4"),
    Check(
        "BLK-005",
        "every block's vintage lies in the originating Party's NDC period",
        P,
        "UKETS check3003 (one commitment period per transaction)",
    ),
    _na(
        "BLK-006",
        "origin, unit type, vintage, approach and authorization never change in transfers",
        "UNDP split rule",
        "holds by construction: events name serial ranges only "
        "and the ledger keeps every other attribute of a block",
    ),
    Check(
        "BLK-007", "retired or cancelled units do not move", P, "JCM Common Specifications defs 4-5"
    ),
    Check(
        "BLK-008", "the unit type is one the cooperative approach issues", P, "UKETS check3006/3009"
    ),
    Check(
        "BLK-009",
        "units reserved by a transfer in progress do not move",
        P,
        "DES transaction lifecycle",
    ),
    Check(
        "QTY-001",
        "a declared quantity is positive and equals the units named",
        P,
        "UKETS check3007/3008",
    ),
    Check(
        "QTY-002",
        "the quantity does not exceed the account's balance",
        P,
        "UKETS check3005, TL check10003",
    ),
    Check(
        "QTY-003",
        "issuance never exceeds the decided quantity",
        P,
        "UKETS check3010/3011, TL check10004",
    ),
    Check(
        "A6-001",
        "the cooperative approach exists and each registry's Party takes part",
        I_,
        "CN-2026 Table 9(a)",
    ),
    Check(
        "A6-002",
        "a valid authorization by the first transferring Party covers units before "
        "their first transfer or use",
        P,
        "2/CMA.3 annex para 2; SBSTA 60 draft",
    ),
    Check(
        "A6-003",
        "the authorization's purposes cover a use towards an NDC",
        P,
        "AEF Table 2 purposes; purposes survive transfers",
    ),
    Check(
        "A6-004",
        "vintages are 2021 or later and inside the authorized timeframe",
        I_,
        "2/CMA.3 annex para 1(e); AEF Table 2 authorized timeframe",
    ),
    Check(
        "A6-005",
        "first transfers never exceed the authorized quantity",
        I_,
        "AEF Table 2 authorized quantity",
    ),
    Check(
        "A6-006",
        "a unit is first transferred once; a sender's claim must match",
        P,
        "2/CMA.3 annex para 2",
    ),
    Check(
        "A6-007",
        "the first-transfer definition fits the purposes",
        N,
        "2/CMA.3 annex para 2(a)-(b); CN-2026 Table 22(b)",
    ),
    _na(
        "A6-008",
        "transferring/acquiring Party fields present only for their action types",
        "AEF-V2 field conditions",
        "a rule of AEF rows the gateway writes, not of registry events: the export validates it",
    ),
    Check(
        "A6-009",
        "a use names a year inside the using Party's NDC period",
        P,
        "AEF-V2 Table 3 (Use only)",
    ),
    Check(
        "A6-010",
        "the using Party is the Party of the registry that holds the units",
        P,
        "AEF-V2 Table 3 using Party",
    ),
    _na(
        "A6-011",
        "the action subtype is allowed for the action type",
        "CN-2026 Table 26(b)",
        "enforced by the schema's controlled vocabulary (fails as MSG-001)",
    ),
    Check(
        "A6-012",
        "a using entity is authorized under the units' authorization",
        P,
        "AEF Table 5; 2/CMA.3 authorization of entities",
    ),
    Check("A6-013", "every registry named is a known Party ITMO registry", I_, "CN-2026 Table 28"),
    Check(
        "A6-014",
        "a non-GHG metric is named if and only if the metric is non-GHG",
        N,
        "AEF-V2 footnotes",
    ),
    Check(
        "A6-015",
        "both Parties report the same ITMO block identically",
        N,
        "2/CMA.3 annex para 33(a); DES mirrored transfer",
    ),
    _na(
        "AEF-001",
        "CARP-populated fields are never written",
        "AEF-V2 carpPopulated",
        "a rule of the AEF export, not of registry events",
    ),
    _na(
        "AEF-002",
        "31 December holdings are frozen snapshots",
        "aef-v2 README",
        "a rule of the AEF export, not of registry events",
    ),
    _na(
        "AEF-003",
        "submissions are keyed by Party, year and version",
        "aef-v2 README",
        "a rule of the AEF export, not of registry events",
    ),
    _na(
        "CTF-001",
        "a reported structured-summary row (R7-R14) equals the one the log implies",
        "decision 5/CMA.3 CTF Table 4; 2/CMA.3 annex para 23(c)-(f), 23(k)(i)",
        _CTF,
    ),
    _na(
        "CTF-002",
        "no row is reported that the log cannot support (R14 without an inventory figure)",
        "CTF Table 4 rows 5 and 14; domain brief I-INV-1",
        _CTF,
    ),
    _na(
        "CTF-003",
        "a row the log makes non-zero is not reported as not applicable",
        "decision 5/CMA.3 CTF Table 4",
        _CTF,
    ),
    _na(
        "CTF-004",
        "units a Party used have a recorded first transfer (or came in as first transferred)",
        "2/CMA.3 annex para 2; domain brief I-A6-7",
        _CTF,
    ),
    Check(
        "JCM-001",
        "issuance only against a recorded Joint Committee decision, with its vintage",
        P,
        "JCM Common Specifications def. 1",
    ),
    Check(
        "JCM-002",
        "issuances follow the decision's allocation, which adds up to its quantity",
        I_,
        "JCM credit allocation form",
    ),
    Check(
        "JCM-003",
        "only the acquiring registry completes a cross-registry move",
        N,
        "JCM Common Specifications def. 2",
    ),
    Check(
        "JCM-004",
        "cancellation and retirement go into an open account of that type",
        P,
        "JCM Common Specifications defs 4-5",
    ),
    Check("JCM-005", "a Joint Committee decision is recorded once", N, "gateway"),
    _na(
        "RCN-001",
        "no transactions for an account while its reconciliation snapshot is taken",
        "UKETS check3016; DES snapshotDatetime",
        "reconciliation pins its reads to the snapshot time instead of blocking transactions",
    ),
    Check(
        "AUT-001",
        "a new authorization version is newer than the recorded one",
        N,
        "AEF Table 2 version of the authorization",
    ),
    Check(
        "OPN-001",
        "a registry's opening holdings for a serial space are recorded once",
        N,
        "gateway onboarding",
    ),
    Check(
        "TRN-001",
        "an answer refers to a transfer the gateway proposed (it follows the proposal's "
        "notice): an answer to none is a discrepancy at once and settles nothing",
        N,
        "DES transaction lifecycle",
    ),
    Check("TRN-002", "a transfer's final status is final", N, "DES transaction statuses"),
    Check(
        "TRN-003",
        "an answer names the serial space of the transfer it answers",
        N,
        "DES transaction lifecycle",
    ),
    Check(
        "TRN-004",
        "a transaction id (issuance, transfer, retirement, cancellation) is used once per "
        "cooperative approach and originating registry",
        P,
        "DES transactionIdentifier",
    ),
    Check(
        "GWF-001",
        "a gateway fault: a parser or a pure step raised on the input (the dead letter names "
        "the step and the exception class); not a verdict on the input, which can be replayed",
        I_,
        "gateway fault handling (a6gw dlq replay)",
    ),
    Check(
        "GWF-002",
        "a quarantined input: the process died while handling it, twice with no other input "
        "in flight; dead-lettered unhandled on the next start",
        I_,
        "gateway fault handling (a6gw dlq replay)",
    ),
)

BY_CODE = {c.code: c for c in CATALOGUE}


def render() -> str:
    """The catalogue as a table for ``a6gw checks``."""
    rows = [f"{'code':<9}{'group':<6}{'status':<16}{'applies to':<15}rule"]
    for c in CATALOGUE:
        rule = c.rule if c.status == "implemented" else f"{c.rule} [{c.reason}]"
        rows.append(f"{c.code:<9}{c.group:<6}{c.status:<16}{c.applies_to:<15}{rule}")
    done = sum(c.status == "implemented" for c in CATALOGUE)
    rows.append(f"\n{done} implemented, {len(CATALOGUE) - done} not applicable")
    return "\n".join(rows)
