"""The auditors' API handlers: each answers one route of :data:`gateway.api.routes.ROUTES`.

Handlers only move bytes: the store answers (entries, search, proofs from stored nodes,
discrepancies and runs folded from their entries) and the answers are the models of
:mod:`gateway.api.models`. Every proof is against a tree size no larger than the latest
*published* checkpoint, so a client can check it against that signed note (``a6gw verify
--api`` does). The one write, an operator's signed discrepancy command, is checked as the
worker will check it and then published to Kafka (:mod:`gateway.api.discrepancy_routes`);
without a publisher the API is read-only. A Party's structured summary and AEF are computed
from the log at a published checkpoint by :mod:`gateway.api.reporting`.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from aiohttp import web
from pydantic import BaseModel

from gateway.api import discrepancy_routes as oversight
from gateway.api.access import Scope
from gateway.api.models import (
    CheckpointOut,
    CommandAccepted,
    ConsistencyOut,
    CustodyItem,
    CustodyOut,
    EntryOut,
    EntryPage,
    InclusionOut,
)
from gateway.api.reporting import Reporting
from gateway.audit.cosignature import Cosigner
from gateway.audit.cosigned import for_readers, no_checkpoint
from gateway.audit.logstore import LogStore
from gateway.audit.note import Checkpoint, Verifier, open_checkpoint
from gateway.audit.rfc6962 import leaf_hash
from gateway.audit.search import TERMS, Query, parse_itmo
from gateway.config import PartyConfig
from gateway.core.oversight import command_entry_id
from gateway.core.topics import COMMANDS_TOPIC
from gateway.core.trust import Trust
from gateway.errors import AuditError, CommandProblem, GatewayError, VerificationError
from gateway.services.discrepancies import is_known

__all__ = ["SCOPE", "AuditAPI"]

MAX_LIMIT = 1000
#: Integers the stores hold (SQLite INTEGER, PostgreSQL bigint): a larger one is no index.
MAX_INT = 2**63 - 1


@dataclass
class AuditAPI:
    store: LogStore
    verifiers: Sequence[Verifier]
    party_sources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    parties: Mapping[str, PartyConfig] = field(default_factory=dict)  # for the reporting routes
    # Commands: checked against the trust file, then published; None: read-only.
    publisher: oversight.Publisher | None = None
    trust: Trust | None = None
    max_command_bytes: int = 256 * 1024
    clock_ms: Callable[[], int] = field(default=lambda: int(time.time() * 1000))
    #: readers get the latest checkpoint cosigned by at least ``quorum`` of ``witnesses``
    witnesses: Sequence[Cosigner] = ()
    quorum: int = 0

    @cached_property
    def reports(self) -> Reporting:
        """The reporting routes' handlers, over the same store and Parties."""
        return Reporting(
            self.store, self.parties, self.verifiers, witnesses=self.witnesses, quorum=self.quorum
        )

    # -- helpers ------------------------------------------------------------------------

    def checkpoint(self) -> tuple[Checkpoint, str]:
        latest = for_readers(self.store, self.witnesses, self.quorum)
        if latest is None:
            raise AuditError(no_checkpoint(self.quorum), code="AUD-NOT-FOUND")
        try:
            return open_checkpoint(latest.note, self.verifiers), latest.note
        except VerificationError as exc:
            raise AuditError(
                f"the stored checkpoint does not verify: {exc.args[0]}", code="AUD-CHECKPOINT"
            ) from exc

    def visible(self, request: web.Request, index: int) -> int:
        """``index``, if the client's scope sees its entry.

        :raises GatewayError: (API-SCOPE) when it does not."""
        scope = _scope(request)
        if scope.party is not None:
            scope.check(scope.sees_entry(self.store.entry(index)), f"entry {index}")
        return index

    def entry(self, index: int) -> EntryOut:
        body = self.store.entry(index)
        entry_id = str(json.loads(body).get("entry_id", ""))
        return EntryOut(
            index=index,
            entry_id=entry_id,
            leaf_hash=leaf_hash(body).hex(),
            body=body.decode("utf-8"),
        )

    def inclusion(self, index: int, size: int) -> InclusionOut:
        if not 0 <= index < size:
            raise AuditError(f"entry {index} is not in a tree of {size}", code="AUD-NOT-FOUND")
        proof = self.store.inclusion_proof(index, size)
        return InclusionOut(
            index=index,
            size=size,
            leaf_hash=leaf_hash(self.store.entry(index)).hex(),
            hashes=[base64.b64encode(h).decode() for h in proof],
        )

    def query(self, params: dict[str, str]) -> Query:
        terms: list[tuple[str, str]] = []
        for name in TERMS:
            if params.get(name):
                terms.append((name, params[name]))
        if params.get("party"):
            sources = self.party_sources.get(params["party"])
            if not sources:
                raise AuditError(f"unknown Party {params['party']!r}", code="AUD-QUERY")
            terms += [("source", s) for s in sources]
        serials = parse_itmo(params["itmo"]) if params.get("itmo") else None
        return Query(tuple(terms), serials, params.get("from"), params.get("to"))

    def page(
        self, query: Query, params: dict[str, str], scope: Scope
    ) -> tuple[list[int], int | None]:
        after = _int(params, "after", -1)
        limit = min(max(_int(params, "limit", 100), 1), MAX_LIMIT)
        found = self.store.search(query, after, limit + 1)
        page, next_after = found[:limit], (found[limit - 1] if len(found) > limit else None)
        if scope.party is not None:  # a short page, but next_after still goes on from it
            page = [i for i in page if scope.sees_entry(self.store.entry(i))]
        return page, next_after

    # -- handlers -----------------------------------------------------------------------

    async def get_checkpoint(self, request: web.Request) -> BaseModel:
        cp, note = self.checkpoint()
        return CheckpointOut(origin=cp.origin, size=cp.size, root=cp.root.hex(), note=note)

    async def get_entry(self, request: web.Request) -> BaseModel:
        index = _int(dict(request.match_info), "index", None)
        if not 0 <= index < self.store.size():
            raise AuditError(f"no entry {index}", code="AUD-NOT-FOUND")
        return self.entry(self.visible(request, index))

    async def get_entry_by_id(self, request: web.Request) -> BaseModel:
        index = self.store.index_of(request.match_info["entry_id"])
        if index is None:
            raise AuditError("no entry with that id", code="AUD-NOT-FOUND")
        return self.entry(self.visible(request, index))

    async def search(self, request: web.Request) -> BaseModel:
        params = dict(request.query)
        found, next_after = self.page(self.query(params), params, _scope(request))
        return EntryPage(items=[self.entry(i) for i in found], next_after=next_after)

    async def get_inclusion(self, request: web.Request) -> BaseModel:
        params = dict(request.query)
        cp, _ = self.checkpoint()
        size = _int(params, "size", cp.size)
        if size > cp.size:
            raise AuditError(
                f"tree size {size} is beyond the published checkpoint ({cp.size})",
                code="AUD-RANGE",
            )
        if "entry_id" in params:
            index = self.store.index_of(params["entry_id"])
            if index is None:
                raise AuditError("no entry with that id", code="AUD-NOT-FOUND")
        else:
            index = _int(params, "index", None)
        if 0 <= index < size:
            self.visible(request, index)
        return self.inclusion(index, size)

    async def get_consistency(self, request: web.Request) -> BaseModel:
        params = dict(request.query)
        cp, _ = self.checkpoint()
        size1, size2 = _int(params, "from", None), _int(params, "to", cp.size)
        if not 0 < size1 <= size2 or size2 > cp.size:
            raise AuditError(f"no consistency proof from {size1} to {size2}", code="AUD-RANGE")
        proof = self.store.consistency_proof(size1, size2)
        return ConsistencyOut(
            size1=size1, size2=size2, hashes=[base64.b64encode(h).decode() for h in proof]
        )

    async def custody(self, request: web.Request) -> BaseModel:
        params = dict(request.query)
        if not params.get("itmo"):
            raise AuditError("custody needs itmo=CA:ORIGIN:FIRST-LAST", code="AUD-QUERY")
        serials = parse_itmo(params["itmo"])
        cp, note = self.checkpoint()
        found, next_after = self.page(Query(serials=serials), params, _scope(request))
        items = [
            CustodyItem(entry=self.entry(i), proof=self.inclusion(i, cp.size))
            for i in found
            if i < cp.size
        ]
        return CustodyOut(
            ca_id=serials.ca_id,
            origin=serials.origin,
            serial_start=str(serials.start),
            serial_end=str(serials.end),
            checkpoint=CheckpointOut(origin=cp.origin, size=cp.size, root=cp.root.hex(), note=note),
            items=items,
            next_after=next_after,
        )

    async def list_discrepancies(self, request: web.Request) -> BaseModel:
        found = oversight.discrepancy_list(self.store, dict(request.query))
        scope = _scope(request)
        items = [d for d in found.items if scope.sees_registries(d.registries)]
        return found.model_copy(update={"items": items})

    async def get_discrepancy(self, request: web.Request) -> BaseModel:
        found = oversight.discrepancy_answer(self.store, request.match_info["discrepancy_id"])
        visible = _scope(request).sees_registries(found.discrepancy.registries)
        _scope(request).check(visible, "this discrepancy")
        return found

    async def list_runs(self, request: web.Request) -> BaseModel:
        found = oversight.run_list(self.store)
        scope = _scope(request)
        items = [r for r in found.items if scope.sees_registries((r.registry,))]
        return found.model_copy(update={"items": items})

    async def get_run(self, request: web.Request) -> BaseModel:
        found = oversight.run_answer(self.store, request.match_info["run_id"])
        _scope(request).check(_scope(request).sees_registries((found.run.registry,)), "this run")
        return found

    async def post_command(self, request: web.Request) -> BaseModel:
        if self.publisher is None or self.trust is None:
            raise GatewayError(
                "this API is read-only: it has no Kafka producer", code="API-READONLY"
            )
        discrepancy_id = request.match_info["discrepancy_id"]
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge as exc:
            raise CommandProblem(413, "MSG-008", "the command is too large") from exc
        identity, _ = oversight.check_command(
            body,
            discrepancy_id,
            self.trust,
            now_ms=self.clock_ms(),
            max_bytes=self.max_command_bytes,
        )
        if not is_known(self.store, discrepancy_id):
            raise AuditError(f"no discrepancy {discrepancy_id!r} in the log", code="REC-101")
        scope = _scope(request)
        if scope.party is not None:
            found = oversight.discrepancy_answer(self.store, discrepancy_id).discrepancy
            scope.check(scope.sees_registries(found.registries), "this discrepancy")
        await self.publisher(COMMANDS_TOPIC, discrepancy_id.encode(), body)
        return CommandAccepted(
            discrepancy_id=discrepancy_id,
            command_id=str(identity["id"]),
            entry_id=command_entry_id(body),
        )

    async def get_summary(self, request: web.Request) -> BaseModel:
        return await self.reports.get_summary(request)

    async def get_aef(self, request: web.Request) -> web.Response:
        return await self.reports.get_aef(request)


#: The client's scope, which the server's guard puts on every request it lets through.
SCOPE = web.RequestKey("a6gw.scope", Scope)


def _scope(request: web.Request) -> Scope:
    scope = request.get(SCOPE)
    return scope if isinstance(scope, Scope) else Scope(None, frozenset())


def _int(params: dict[str, str], name: str, default: int | None) -> int:
    raw = params.get(name)
    if raw is None:
        if default is None:
            raise AuditError(f"parameter {name!r} is required", code="API-REQUEST")
        return default
    if len(raw) > 20:  # int() of thousands of digits is slow, and no store holds them
        raise AuditError(f"parameter {name!r} is out of range", code="API-REQUEST")
    try:
        value = int(raw)
    except ValueError as exc:
        raise AuditError(f"parameter {name!r} is not an integer", code="API-REQUEST") from exc
    if not -MAX_INT - 1 <= value <= MAX_INT:
        raise AuditError(f"parameter {name!r} is out of range", code="API-REQUEST")
    return value
