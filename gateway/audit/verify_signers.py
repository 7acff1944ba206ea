"""The offline check that every decision's signer was trusted where the log says it was.

A decision entry names the principal whose key signed its input (``input.signer``) and
when the input arrived (``decided_at``: the time its key's validity was judged at). The log
also records the trust file's keys as they change (``trust-key`` entries,
:mod:`gateway.core.trust_log`). :func:`check_signers` walks the log once, folding the keys
in, and checks each decision against the keys the log knew at that entry's position: its
signer must have a key that is active, valid at ``decided_at`` and of a role allowed to sign
the input's type (``schemas.events``; the catalogue's roles). A decision names its signer's
principal, not the key: any of the principal's keys that passes will do, as at ingest.

Not checked: the gateway's own inputs (a transfer's timeout: signed by the gateway, whose
key is no trust-file key), and decisions logged before the first trust entry (a log begun
before trust was recorded; a log with no trust entry at all is "not checked").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from gateway.audit.bundle import ENTRIES_FILE, RANGE_FILE
from gateway.core.trust import TrustedKey
from gateway.core.trust_log import TrustFold
from gateway.errors import VerificationError
from schemas import entries as en
from schemas.events import EVENT_TYPES, Role

__all__ = ["SignerReport", "check_bundle_signers", "check_signers"]

#: the allowed roles of each event type, by its ``type`` attribute
_ROLES: dict[str, tuple[Role, ...]] = {et.type: et.roles for et in EVENT_TYPES.values()}
_DECISION = b'"entry_type":"decision"'


@dataclass(frozen=True)
class SignerReport:
    """What :func:`check_signers` checked."""

    checked: int  # decisions whose signer had a trusted key there
    own: int  # the gateway's own inputs (no trust-file key)
    before: int  # decisions logged before the first trust entry
    trust_entries: int
    unreadable: int = 0  # decision entries the entry models refuse (not checked)

    def text(self) -> str:
        if not self.trust_entries:
            return "signers: not checked (no trust entries)"
        parts = [f"OK: signers: {self.checked} decisions signed by keys the log trusted there"]
        if self.own:
            parts.append(f"{self.own} of the gateway's own inputs")
        if self.before:
            parts.append(f"{self.before} before the first trust entry, not checked")
        if self.unreadable:
            parts.append(f"{self.unreadable} decision entries unreadable, not checked")
        return "; ".join(parts)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _why_not(key: TrustedKey, entry: en.DecisionEntry, roles: tuple[Role, ...]) -> str | None:
    """Why ``key`` could not have signed the input of ``entry``, or None if it could."""
    if key.status != "active":
        return f"key {key.key_id} is {key.status}"
    at = _time(entry.decided_at)
    if at < key.valid_from or (key.valid_to is not None and at >= key.valid_to):
        return f"key {key.key_id} is not valid at {entry.decided_at}"
    if key.role not in roles:
        return f"key {key.key_id} has role {key.role}, not one of {', '.join(roles)}"
    return None


def _problem(fold: TrustFold, entry: en.DecisionEntry, roles: tuple[Role, ...]) -> str | None:
    mine = [k for k in fold.trust().keys if k.principal == entry.input.signer]
    if not mine:
        return f"{entry.input.signer} has no key in the log's trust"
    reasons = [_why_not(k, entry, roles) for k in mine]
    return None if None in reasons else "; ".join(r for r in reasons if r)


def check_signers(entries: Iterable[bytes]) -> SignerReport:
    """Check every decision's signer against the trust the log records before it.

    :raises VerificationError: (AUD-SIGNER) naming the first decision whose signer had no
        such key, and why each of its keys would not do.
    """
    fold = TrustFold()
    checked = own = before = unreadable = 0
    for index, body in enumerate(entries):
        if fold.add(body) or _DECISION not in body:
            continue
        entry = en.read_entry(body)
        if not isinstance(entry, en.DecisionEntry):
            unreadable += entry is None
            continue
        roles = _ROLES.get(entry.input.type, ())
        if roles == ("gateway",):
            own += 1
        elif not fold.seen:
            before += 1
        elif (why := _problem(fold, entry, roles)) is not None:
            raise VerificationError(
                f"entry {index} ({entry.entry_id}): {entry.input.type} from "
                f"{entry.input.signer} at {entry.decided_at}: no trusted key there ({why})",
                code="AUD-SIGNER",
            )
        else:
            checked += 1
    return SignerReport(checked, own, before, fold.seen, unreadable)


def check_bundle_signers(directory: Path) -> SignerReport | None:
    """:func:`check_signers` over a verified whole-log bundle's entries; None for a range
    bundle (the trust recorded before its first entry is not in it).

    :raises VerificationError: (AUD-SIGNER) see :func:`check_signers`.
    """
    if (directory / RANGE_FILE).exists():
        return None
    data = (directory / ENTRIES_FILE).read_bytes()
    return check_signers(data[:-1].split(b"\n") if data else [])
