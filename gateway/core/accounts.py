"""Accounts opened, blocked and closed: notifications that build the account table."""

from __future__ import annotations

from gateway.core.model import Directory, Evaluation, Event, Finding
from gateway.core.rules import account_of, sender_is
from gateway.core.state import LedgerState, Put
from schemas import events as ev


def account_opened(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.AccountOpened)
    findings = sender_is(event, p.registry_id)
    if account_of(state, p.registry_id, p.account_id) is not None:
        findings.append(Finding("ACC-010", f"account {p.registry_id}/{p.account_id} exists"))
    if findings:
        return Evaluation("discrepancy", tuple(findings))
    record = p.model_dump(mode="json") | {"status": "open"}
    return Evaluation(
        "recorded", effects=(Put("accounts", f"{p.registry_id}|{p.account_id}", record),)
    )


def _status_change(
    event: Event, state: LedgerState, registry: str, account: str, status: str
) -> Evaluation:
    findings = sender_is(event, registry)
    acc = account_of(state, registry, account)
    if acc is None:
        findings.append(Finding("ACC-001", f"account {registry}/{account} does not exist"))
    elif acc["status"] == "closed":
        findings.append(Finding("ACC-002", f"account {registry}/{account} is closed"))
    if findings or acc is None:
        return Evaluation("discrepancy", tuple(findings))
    return Evaluation(
        "recorded", effects=(Put("accounts", f"{registry}|{account}", {**acc, "status": status}),)
    )


def account_blocked(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.AccountBlocked)
    return _status_change(event, state, p.registry_id, p.account_id, "blocked")


def account_closed(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.AccountClosed)
    return _status_change(event, state, p.registry_id, p.account_id, "closed")
