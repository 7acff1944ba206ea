"""A ledger driven by plain payloads, for the core unit tests (no keys, no signatures).

``Book`` evaluates one event at a time against a :class:`LedgerState` and applies the effects
at a new version, as stage B does. It opens, by default, the accounts the tests use in every
demo registry: two holding accounts named after the registry (``MN-A``, ``MN-B``, ...), two
plain ones (``A``, ``B``) and a retirement (``RET``) and a cancellation (``CAN``) account.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from gateway.core.blocks import Range, merge_ranges
from gateway.core.ledger import evaluate
from gateway.core.model import Directory, Evaluation, Event
from gateway.core.state import LedgerState
from gateway.core.txids import id_used
from gateway.demo.world import CAS, PARTIES, REGISTRIES, SIGNERS
from schemas.events import EVENT_TYPES

TIME = "2026-01-01T00:00:00.000Z"
NDC_PERIOD = (2021, 2030)  # the demo world's Parties all have this NDC period
# What gateway.worker.context.directory_of builds from the demo world's config.
DIRECTORY = Directory(
    registry_party=dict(REGISTRIES),
    ca_parties={ca: parties for ca, (_title, parties, _jc) in CAS.items()},
    ca_unit_types={ca: ("JCM",) for ca in CAS},
    ndc_period={p: NDC_PERIOD for p in PARTIES},
)


def accounts_of(registry: str) -> list[tuple[str, str]]:
    """The accounts a :class:`Book` opens in ``registry``: ``(account id, account type)``."""
    prefix = registry[:2]
    return [
        (f"{prefix}-A", "government-holding"),
        (f"{prefix}-B", "participant-holding"),
        ("A", "government-holding"),
        ("B", "participant-holding"),
        ("RET", "retirement"),
        ("CAN", "cancellation"),
    ]


def make_event(principal: str, name: str, data: dict[str, Any], *, event_id: str = "ev") -> Event:
    """An authenticated event built directly (the ledger never looks at the signature)."""
    et = EVENT_TYPES[f"a6gw.{name}.v1"]
    return Event(
        source=principal,
        id=event_id,
        type=et.type,
        name=et.name,
        kind=et.kind,
        time=TIME,
        payload=et.model.model_validate_json(json.dumps(data)),
        sha256="0" * 64,
        signer_principal=principal,
        signer_role=SIGNERS[principal][1],
    )


def rng(start: int, end: int) -> dict[str, str]:
    return {"serial_start": str(start), "serial_end": str(end)}


def merge(rs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of inclusive ranges, adjacent ones joined."""
    return [(r.start, r.end) for r in merge_ranges(Range(s, e) for s, e in rs)]


@dataclass
class Book:
    """A ledger driven by plain payloads: evaluate, then apply the effects at a new version.

    Every builder takes extra payload fields as keyword arguments (``quantity="5"``,
    ``first_transfer=True``, ...); they are added to, or replace, the built payload.
    """

    state: LedgerState = field(default_factory=LedgerState)
    version: int = 0
    directory: Directory = DIRECTORY
    accounts: bool = True

    def __post_init__(self) -> None:
        if self.accounts:
            for registry in REGISTRIES:
                for account, kind in accounts_of(registry):
                    assert self.open(registry, account, kind).outcome == "recorded"

    def do(self, principal: str, name: str, data: dict[str, Any]) -> Evaluation:
        out = evaluate(make_event(principal, name, data), self.state, self.directory)
        self.state.apply(out.effects, self.version)
        self.version += 1
        return out

    # ---- accounts ------------------------------------------------------------------------
    def open(
        self, registry: str, account: str, kind: str = "participant-holding", **extra: Any
    ) -> Evaluation:
        data = {"registry_id": registry, "account_id": account, "account_type": kind}
        return self.do(registry, "account.opened", data | {"holder": "someone"} | extra)

    def block(self, registry: str, account: str, *, signer: str | None = None) -> Evaluation:
        data = {"registry_id": registry, "account_id": account, "reason": "investigation"}
        return self.do(signer or registry, "account.blocked", data)

    def close(self, registry: str, account: str, *, signer: str | None = None) -> Evaluation:
        data = {"registry_id": registry, "account_id": account}
        return self.do(signer or registry, "account.closed", data)

    # ---- payload builders with the demo's defaults -------------------------------------
    def decide(
        self,
        decision_id: str = "D1",
        ca: str = "CA0001",
        quantity: int = 0,
        *,
        vintage: int = 2025,
        **alloc: int,
    ) -> Evaluation:
        alloc = alloc or {"MNG01": 1_000_000, "JPN01": 1_000_000}
        jc = CAS[ca][2]
        return self.do(
            jc,
            "jcm.issuance.decided",
            {
                "decision_id": decision_id,
                "ca_id": ca,
                "project_id": "MN003",
                "monitoring_period": {"start": "2025-01-01", "end": "2025-06-30"},
                "vintage": vintage,
                "quantity": str(quantity or sum(alloc.values())),
                "allocation": [{"registry_id": r, "quantity": str(q)} for r, q in alloc.items()],
            },
        )

    def issue(
        self,
        registry: str,
        blocks: list[tuple[int, int, str]],
        *,
        ca: str = "CA0001",
        decision_id: str = "D1",
        signer: str | None = None,
        vintage: int = 2025,
        **extra: Any,
    ) -> Evaluation:
        data = {
            "transaction_id": f"ISS-{self.version}",
            "ca_id": ca,
            "registry_id": registry,
            "decision_id": decision_id,
            "vintage": vintage,
            "unit_type": "JCM",
            "blocks": [rng(s, e) | {"account_id": a} for s, e, a in blocks],
        }
        return self.do(signer or registry, "issuance", data | extra)

    def authorize(
        self,
        party: str,
        coverage: list[tuple[str, int, int]],
        *,
        auth_id: str = "AUTH-1",
        version: int = 1,
        status: str = "granted",
        ca: str = "CA0001",
        definition: str = "First international transfer",
        purposes: str = "NDC",
        signer: str | None = None,
        **extra: Any,
    ) -> Evaluation:
        data = {
            "authorization_id": auth_id,
            "version": version,
            "status": status,
            "ca_id": ca,
            "authorizing_party": party,
            "date": "2025-09-01",
            "purposes": purposes,
            "first_transfer_definition": definition,
            "coverage": [rng(s, e) | {"originating_registry": o} for o, s, e in coverage],
        }
        return self.do(signer or party, "authorization", data | extra)

    def transfer(
        self,
        src: tuple[str, str],
        dst: tuple[str, str],
        ranges: list[tuple[int, int]],
        *,
        tx: str | None = None,
        origin: str = "MNG01",
        ca: str = "CA0001",
        signer: str | None = None,
        **extra: Any,
    ) -> Evaluation:
        """A transfer; without ``tx``, under id ``TX-1`` while that id is free, else a fresh
        one (an id is used once: TRN-004)."""
        data = {
            "transaction_id": tx or "TX-1",
            "ca_id": ca,
            "originating_registry": origin,
            "transferring": {"registry_id": src[0], "account_id": src[1]},
            "acquiring": {"registry_id": dst[0], "account_id": dst[1]},
            "blocks": [rng(s, e) for s, e in ranges],
        }
        if tx is None and id_used(make_event(src[0], "transfer", data), self.state):
            data["transaction_id"] = f"TX-{self.version}"
        return self.do(signer or src[0], "transfer", data | extra)

    def answer(
        self,
        signer: str,
        tx: str = "TX-1",
        answer: str = "accepted",
        ca: str = "CA0001",
        origin: str = "MNG01",
    ) -> Evaluation:
        data: dict[str, Any] = {
            "transaction_id": tx,
            "ca_id": ca,
            "originating_registry": origin,
            "answer": answer,
        }
        if answer == "rejected":
            data["reason_code"] = 5902
        return self.do(signer, "transfer.answer", data)

    def terminal(
        self,
        kind: str,
        registry: str,
        account: str,
        ranges: list[tuple[int, int]],
        *,
        origin: str = "MNG01",
        ca: str = "CA0001",
        signer: str | None = None,
        to: str | None = None,
        **extra: Any,
    ) -> Evaluation:
        """A retirement (used by the registry's own Party in 2025 unless ``extra`` says
        otherwise) into ``RET``, or a cancellation into ``CAN``."""
        data: dict[str, Any] = {
            "transaction_id": f"T-{self.version}",
            "ca_id": ca,
            "originating_registry": origin,
            "registry_id": registry,
            "account_id": account,
            "blocks": [rng(s, e) for s, e in ranges],
        }
        if kind == "retirement":
            data |= {
                "retirement_account_id": to or "RET",
                "using_party": REGISTRIES.get(registry, "JPN"),
                "ndc_year": 2025,
            }
        else:
            data |= {"cancellation_account_id": to or "CAN", "subtype": "Other cancellations"}
        return self.do(signer or registry, kind, data | extra)

    def opening(
        self,
        registry: str,
        blocks: list[dict[str, Any]],
        *,
        origin: str | None = None,
        ca: str = "CA0001",
        signer: str | None = None,
    ) -> Evaluation:
        """Opening holdings; each block needs ``serial_start``/``serial_end``/``account_id``
        and defaults to vintage 2025, unit type JCM."""
        data = {
            "registry_id": registry,
            "ca_id": ca,
            "originating_registry": origin or registry,
            "as_of": "2026-01-01",
            "blocks": [{"vintage": 2025, "unit_type": "JCM"} | b for b in blocks],
        }
        return self.do(signer or registry, "holdings.opening", data)

    # ---- reads ---------------------------------------------------------------------------
    def holdings(self) -> dict[tuple[str, str, str], list[tuple[int, int]]]:
        """``(registry, account, state) -> sorted ranges`` over every block."""
        out: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
        for b in self.state.blocks():
            out.setdefault((b.registry, b.account, b.state), []).append((b.start, b.end))
        return {k: sorted(v) for k, v in out.items()}

    def first(self, origin: str = "MNG01") -> dict[str | None, list[tuple[int, int]]]:
        """``authorization id -> merged ranges`` of the first-transferred units of ``origin``."""
        out: dict[str | None, list[tuple[int, int]]] = {}
        for b in self.state.blocks():
            if b.origin == origin and b.first_transferred:
                out.setdefault(b.authorization_id, []).append((b.start, b.end))
        return {k: merge(v) for k, v in out.items()}

    def counter(self, auth_id: str = "AUTH-1", ca: str = "CA0001") -> int:
        """The authorization's count of units first transferred under it."""
        rec = self.state.get("authorizations", f"{ca}|{auth_id}")
        assert rec is not None
        return int(rec["first_transferred_qty"])


def codes(evaluation: Evaluation) -> list[str]:
    return sorted(f.code for f in evaluation.findings)


def ranges_of(evaluation: Evaluation, code: str) -> list[tuple[int, int]]:
    (finding,) = [f for f in evaluation.findings if f.code == code]
    return sorted((r.start, r.end) for r in finding.ranges)


def only(ev: Evaluation, code: str, outcome: str = "rejected") -> list[tuple[int, int]]:
    """Assert ``ev`` failed with exactly ``code`` and changed nothing; return its ranges."""
    assert (ev.outcome, codes(ev)) == (outcome, [code]), ev.findings
    assert ev.effects == ()
    return ranges_of(ev, code)
