"""TRN-004: one transaction id, one transaction.

A DES transaction identifier carries the code of the registry that originates the
transaction, so an id is unique per (cooperative approach, originating registry) for every
kind of transaction: an issuance, a transfer within a registry or to another one, a
retirement, a cancellation. The originating registry of a transaction is the registry that
proposes it (the issuing, transferring, retiring or cancelling registry), which is not the
``originating_registry`` of the units it moves (their serial space).

Only an accepted transaction takes its id: a rejected proposal changed nothing in the
ledger, and its registry may correct it and send it again under the same id (the ITL's
check 10006 refuses an id it already holds; what it holds here are the transactions the
gateway accepted). The check is one keyed lookup in the ``transactions`` table, and is
listed with every other failing check of the input.

A transfer between two registries is also named by the acquiring registry's answer, which
carries the approach and the id but not the transferring registry: its id must also be
free among the approach's cross-registry transfers (the ``transfers`` table).
"""

from __future__ import annotations

from gateway.core.model import Evaluation, Event, Finding
from gateway.core.state import LedgerState, Put
from schemas import events as ev


def originated(event: Event) -> tuple[str, str, str] | None:
    """``(ca_id, originating registry, transaction id)`` of a transaction the event
    proposes; None for events that name no new transaction (an answer names its transfer's)."""
    p = event.payload
    if isinstance(p, ev.Issuance | ev.Retirement | ev.Cancellation):
        return p.ca_id, p.registry_id, p.transaction_id
    if isinstance(p, ev.Transfer):
        return p.ca_id, p.transferring.registry_id, p.transaction_id
    return None


def transaction_key(ca_id: str, registry: str, transaction_id: str) -> str:
    return f"{ca_id}|{registry}|{transaction_id}"


def id_used(event: Event, state: LedgerState) -> Finding | None:
    """TRN-004 when the transaction id the event proposes is already used."""
    scope = originated(event)
    if scope is None:
        return None
    ca_id, registry, tx = scope
    if state.get("transactions", transaction_key(*scope)) is not None:
        return Finding("TRN-004", f"transaction id {tx} of {registry} is already used in {ca_id}")
    p = event.payload
    transfer = state.get("transfers", f"{ca_id}|{tx}")
    if transfer is None:
        return None
    across = isinstance(p, ev.Transfer) and p.acquiring.registry_id != registry
    if across or transfer["transferring"]["registry_id"] == registry:
        return Finding(
            "TRN-004",
            f"transaction id {tx} is already used in {ca_id} by a transfer from "
            f"{transfer['transferring']['registry_id']} to another registry",
        )
    return None


def one_transaction_per_id(event: Event, state: LedgerState, evaluation: Evaluation) -> Evaluation:
    """The evaluation with TRN-004 listed among its findings, or, when it is accepted, with
    the effect that marks its id used."""
    used = id_used(event, state)
    if used is not None:
        return Evaluation("rejected", (*evaluation.findings, used), quantity=evaluation.quantity)
    scope = originated(event)
    if scope is None or evaluation.outcome != "accepted":
        return evaluation
    mark = Put(
        "transactions",
        transaction_key(*scope),
        {"event_source": event.source, "event_id": event.id, "type": event.name},
    )
    e = evaluation  # dataclasses.replace(e, effects=...) written out (its checks are slow)
    return Evaluation(
        outcome=e.outcome,
        findings=e.findings,
        actions=e.actions,
        effects=(*e.effects, mark),
        notices=e.notices,
        quantity=e.quantity,
        note=e.note,
        a6=e.a6,
    )
