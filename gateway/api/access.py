"""Who may do what on the auditors' API: roles and an optional Party scope per client.

A client is a client certificate's common name (``api.clients``) or a bearer token
(``api.tokens``, ``api.token_sha256``), each with a :class:`Grant`:

- role ``auditor`` reads; role ``operator`` reads and posts discrepancy commands. Any other
  client is answered 401 API-AUTH; an auditor's command 403 API-ROLE.
- ``party`` (optional) scopes the client to one Party P: it sees only what *touches* P and
  is answered 403 API-SCOPE for anything else. An audit entry touches P when one of its
  fields ``input.source``, ``input.registry``, ``input.signer``, ``registry``, ``party``,
  ``blocks[].origin``, ``registries[]`` or ``discrepancy.registries[]`` names P or one of
  P's registries (``registries[].party`` in the config). A discrepancy touches P when one of
  its registries is P's; a reconciliation run when its registry is; the summary and the AEF
  when their ``party`` is P. Search, custody, and the lists of discrepancies and runs leave
  out what does not touch P (a page may then hold fewer items than its limit: follow
  ``next_after``). Checkpoints and consistency proofs carry no entry and are served to all.

The auditors' page (``/ui`` and everything under ``/ui/``: :func:`is_public`) is served to
anyone, without a certificate or a token: it is the same static files the package ships,
and holds no data; the page then asks ``/v1/`` with the client's own credentials.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from aiohttp import web

from gateway.errors import GatewayError
from gateway.services.entries import read_entry
from gateway.ui.serve import PREFIX
from schemas.entries import (
    AuditEntry,
    DecisionEntry,
    DeliveryParkedEntry,
    DiscrepancyEntry,
    HttpRefusalEntry,
    PartySettingsEntry,
    ReconciliationEntry,
    TrustKeyEntry,
)
from schemas.entry_parts import Opened

if TYPE_CHECKING:
    from gateway.config import ApiSection

__all__ = ["Access", "Grant", "Role", "Scope", "entry_touches", "is_public"]

Role = Literal["auditor", "operator"]

#: where the API serves the auditors' page (gateway.ui.serve.PREFIX)
PAGE = PREFIX


@dataclass(frozen=True)
class Grant:
    role: Role = "auditor"
    party: str | None = None


class Access:
    """Client certificate common names and SHA-256 digests (hex) of tokens, with grants; a
    plain collection of names or digests makes each an unscoped auditor."""

    def __init__(
        self,
        clients: Mapping[str, Grant] | Iterable[str] = (),
        tokens: Mapping[str, Grant] | Iterable[str] = (),
    ) -> None:
        self.clients = _grants(clients)
        self.tokens = _grants(tokens)

    def grant(self, request: web.Request) -> Grant | None:
        cert = request.transport.get_extra_info("peercert") if request.transport else None
        if cert:  # only present when it verified against the client CA
            for rdn in cert.get("subject", ()):
                for attr, value in rdn:
                    if attr == "commonName" and value in self.clients:
                        return self.clients[value]
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            digest = hashlib.sha256(auth[7:].strip().encode()).hexdigest()
            for known, grant in self.tokens.items():
                if hmac.compare_digest(digest, known):
                    return grant
        return None

    def allows(self, request: web.Request) -> bool:
        return self.grant(request) is not None


def is_public(path: str) -> bool:
    """Is ``path`` the auditors' page's (``/ui``, ``/ui/...``), served without credentials?"""
    return path == PAGE or path.startswith(PAGE + "/")


def _grants(given: Mapping[str, Grant] | Iterable[str]) -> dict[str, Grant]:
    if isinstance(given, Mapping):
        return dict(given)
    return {str(name): Grant() for name in given}


def named(entry: AuditEntry) -> list[str | None]:
    """The registries, principals and finders an entry names where a Party's scope counts:
    the input's source, signer and registry, the decision's blocks' origins, the
    discrepancy's registries."""
    match entry:
        case DecisionEntry():
            return [entry.input.source, entry.input.signer, *(b.origin for b in entry.blocks)]
        case HttpRefusalEntry() | DeliveryParkedEntry() | ReconciliationEntry():
            return [entry.input.registry]
        case PartySettingsEntry():
            return [entry.party]
        case TrustKeyEntry():
            return [entry.principal]
        case DiscrepancyEntry():
            inp = entry.input
            found: list[str | None] = [inp.source]
            if not isinstance(inp, Opened):
                found.append(inp.signer)
            return found + list(entry.discrepancy.registries if entry.discrepancy else ())
    return []


def entry_touches(body: bytes, names: frozenset[str]) -> bool:
    """Does the entry name one of ``names`` (a Party and its registries) where it counts?
    An entry the models refuse touches none."""
    entry = read_entry(body)
    return entry is not None and any(v in names for v in named(entry) if v is not None)


@dataclass(frozen=True)
class Scope:
    """What one request may see: everything (``party`` None) or what touches a Party."""

    party: str | None
    names: frozenset[str]  # the Party's code and its registries

    @classmethod
    def of(cls, grant: Grant, sources: Mapping[str, tuple[str, ...]]) -> Scope:
        if grant.party is None:
            return cls(None, frozenset())
        return cls(grant.party, frozenset({grant.party, *sources.get(grant.party, ())}))

    def sees_entry(self, body: bytes) -> bool:
        return self.party is None or entry_touches(body, self.names)

    def sees_registries(self, registries: Iterable[str]) -> bool:
        return self.party is None or any(r in self.names for r in registries)

    def check(self, visible: bool, what: str) -> None:
        """:raises GatewayError: (API-SCOPE) when ``what`` is outside the client's Party."""
        if not visible:
            raise GatewayError(
                f"{what} is outside this client's Party scope ({self.party})", code="API-SCOPE"
            )


def access_of(section: ApiSection) -> Access:
    """The API's clients and tokens with their roles and Party scopes."""
    clients: dict[str, Grant] = {}
    for c in section.clients:
        if isinstance(c, str):
            clients[c] = Grant()
        else:
            clients[c.name] = Grant(c.role, c.party)
    tokens = {t: Grant() for t in section.token_sha256}
    tokens |= {t.sha256: Grant(t.role, t.party) for t in section.tokens}
    return Access(clients, tokens)
