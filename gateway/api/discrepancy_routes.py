"""The discrepancy routes' parts: answers from the log, the command check, the publisher.

A command posted to the API is checked *before* it is published, with the function the
worker's ``discrepancies`` agent authenticates it with
(:func:`gateway.core.oversight.authenticate_command`), as if it had just arrived on
``a6.discrepancy.commands`` keyed by the discrepancy id of the path. A command that passes
is published exactly as posted, so the audit entry it ends as is
:func:`gateway.core.oversight.command_entry_id` of the posted bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from gateway.api.models import (
    BlockOut,
    DiscrepancyDetail,
    DiscrepancyList,
    DiscrepancyOut,
    HistoryOut,
    RunDetail,
    RunList,
    RunOut,
    StepOut,
)
from gateway.audit.logstore import LogStore
from gateway.core import binding
from gateway.core import discrepancy as dsc
from gateway.core.ingest import RawInput, parse_envelope
from gateway.core.oversight import authenticate_command
from gateway.core.topics import COMMANDS_TOPIC
from gateway.core.trust import Trust
from gateway.errors import (
    AuditError,
    AuthenticationError,
    CommandProblem,
    GatewayError,
    PayloadInvalid,
    SchemaError,
)
from gateway.services import discrepancies as dq
from gateway.services.discrepancies import Run, Tracked
from gateway.transport.clients import KafkaClients

__all__ = [
    "KafkaPublisher",
    "Publisher",
    "check_command",
    "discrepancy_out",
    "run_out",
]

#: ``(topic, key, value)``: puts one record on the broker (acks=all) or raises.
Publisher = Callable[[str, bytes, bytes], Awaitable[None]]
#: The list's filters with a closed set of values.
CHOICES = {
    "status": ("open", "acknowledged", "resolved"),
    "found_by": dsc.FOUND_BY,
}


def check_command(
    body: bytes, discrepancy_id: str, trust: Trust, *, now_ms: int, max_bytes: int
) -> tuple[dict[str, Any], dsc.Command]:
    """The command's identity and content, as the worker will find them.

    :raises CommandProblem: 413 MSG-008 too large; 400 MSG-001/MSG-006 not an envelope (or
        JSON nested too deep, or an integer of too many digits);
        422 MSG-001 an envelope that is not a valid discrepancy command; 401 MSG-002/MSG-003
        not signed by an active operator key; 400 MSG-007 another discrepancy than the
        path's.
    """
    raw = RawInput(COMMANDS_TOPIC, -1, -1, discrepancy_id.encode(), body, now_ms)
    try:
        parse_envelope(body, max_bytes)
    except SchemaError as exc:
        raise CommandProblem(413 if exc.code == "MSG-008" else 400, exc.code, _text(exc)) from exc
    except (RecursionError, ValueError) as exc:  # nested too deep; an int of too many digits
        raise CommandProblem(400, "MSG-001", f"not JSON this gateway reads: {exc}") from exc
    try:
        return authenticate_command(raw, trust, {}, max_bytes=max_bytes)
    except (RecursionError, ValueError) as exc:
        raise CommandProblem(422, "MSG-001", f"not a command this gateway reads: {exc}") from exc
    except AuthenticationError as exc:
        raise CommandProblem(401, exc.code, _text(exc)) from exc
    except PayloadInvalid as exc:
        raise CommandProblem(422, exc.code, _text(exc)) from exc
    except SchemaError as exc:
        raise CommandProblem(400 if exc.code == "MSG-007" else 422, exc.code, _text(exc)) from exc


def _text(exc: GatewayError) -> str:
    return str(exc.args[0])


def discrepancy_out(t: Tracked) -> DiscrepancyOut:
    d = t.discrepancy
    return DiscrepancyOut(
        discrepancy_id=d.id,
        code=d.code,
        severity=d.severity,
        status=d.status,
        registries=list(d.registries),
        blocks=[BlockOut(ca_id=c, origin=o, start=str(s), end=str(e)) for c, o, s, e in d.blocks],
        first_seen=d.first_seen,
        found_by=d.found_by,
        source_entry=d.source_entry,
        summary=d.summary,
        detail=dict(d.detail),
        owner=d.owner,
        resolution=d.resolution,
        manual=d.manual,
        history=[HistoryOut(action=a, by=b, at=at) for a, b, at in d.history],
        latest_index=t.latest,
    )


def discrepancy_detail(t: Tracked) -> DiscrepancyDetail:
    steps = [
        StepOut(
            index=s.index,
            entry_id=s.entry_id,
            outcome=s.outcome,
            at=s.at,
            by=s.by,
            codes=list(s.codes),
            message=s.message,
        )
        for s in t.steps
    ]
    return DiscrepancyDetail(discrepancy=discrepancy_out(t), entries=steps)


def run_out(r: Run) -> RunOut:
    return RunOut(
        run_id=r.id,
        index=r.index,
        registry=r.registry,
        decided_at=r.decided_at,
        report_status=r.report_status,
        status=r.status,
        discrepancy_ids=list(r.discrepancy_ids),
        pending=r.pending,
    )


def discrepancy_list(store: LogStore, params: Mapping[str, str]) -> DiscrepancyList:
    """``GET /v1/discrepancies``: filtered by status, code, registry, found_by.

    :raises AuditError: (API-REQUEST) a status or found_by that none can have.
    """
    for name, allowed in CHOICES.items():
        if params.get(name) and params[name] not in allowed:
            raise AuditError(f"{name} is one of {', '.join(allowed)}", code="API-REQUEST")
    found = dq.select(
        dq.load_discrepancies(store).values(),
        status=params.get("status") or None,
        code=params.get("code") or None,
        registry=params.get("registry") or None,
        found_by=params.get("found_by") or None,
    )
    return DiscrepancyList(items=[discrepancy_out(t) for t in found])


def discrepancy_answer(store: LogStore, discrepancy_id: str) -> DiscrepancyDetail:
    """:raises AuditError: (REC-101) no such discrepancy in the log."""
    found = dq.load_one(store, discrepancy_id)
    if found is None:
        raise AuditError(f"no discrepancy {discrepancy_id!r} in the log", code="REC-101")
    return discrepancy_detail(found)


def run_list(store: LogStore) -> RunList:
    return RunList(items=[run_out(r) for r in dq.load_runs(store)])


def _keys_sorted(value: Any) -> Any:
    """``value`` with every object's keys in the order of the stored entry (RFC 8785)."""
    if isinstance(value, dict):
        return {k: _keys_sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_keys_sorted(v) for v in value]
    return value


def run_answer(store: LogStore, run_id: str) -> RunDetail:
    """:raises AuditError: (AUD-NOT-FOUND) no such run in the log."""
    tracked = dq.load_discrepancies(store)
    run = next((r for r in dq.load_runs(store, tracked) if r.id == run_id), None)
    if run is None:
        raise AuditError(f"no reconciliation run {run_id!r} in the log", code="AUD-NOT-FOUND")
    return RunDetail(
        run=run_out(run),
        report=_keys_sorted(run.report.model_dump(mode="json", by_alias=True)),
        discrepancies=[discrepancy_out(tracked[i]) for i in run.discrepancy_ids],
    )


class KafkaPublisher:
    """The API's :data:`Publisher`: one idempotent producer (acks=all) for the process.

    ``start`` (on the app's startup) connects in the background, so a broker that is down
    does not keep the read routes from serving; the first command starts it again if it
    has to.
    """

    def __init__(self, clients: KafkaClients) -> None:
        self.clients = clients
        self.bootstrap = clients.bootstrap
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._warming: asyncio.Task[None] | None = None

    async def _started(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = self.clients.producer(acks="all", enable_idempotence=True)
                try:
                    await producer.start()
                except KafkaError as exc:
                    await producer.stop()
                    raise GatewayError(
                        f"cannot reach the broker at {self.bootstrap}: {exc}", code="API-PUBLISH"
                    ) from exc
                except asyncio.CancelledError:  # the app stops while it connects
                    await producer.stop()
                    raise
                self._producer = producer
            return self._producer

    async def _warm(self) -> None:
        try:
            await self._started()
        except GatewayError as exc:
            print(f"a6gw api: {exc} (commands will retry)", file=sys.stderr, flush=True)

    async def start(self) -> None:
        self._warming = asyncio.get_running_loop().create_task(self._warm())

    async def stop(self) -> None:
        if self._warming is not None and not self._warming.done():
            self._warming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._warming
        async with self._lock:
            if self._producer is not None:
                await self._producer.stop()
                self._producer = None

    async def __call__(self, topic: str, key: bytes, value: bytes) -> None:
        producer = await self._started()
        try:
            headers = list(binding.headers_for(topic))  # a signed command: a CloudEvent
            await producer.send_and_wait(topic, value, key=key, headers=headers)
        except KafkaError as exc:
            raise GatewayError(
                f"the broker did not take the command: {exc}", code="API-PUBLISH"
            ) from exc
