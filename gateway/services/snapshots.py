"""Holdings snapshots from Kafka registries, DES-style: announce a time, collect signed pages.

The gateway announces a snapshot on the registry's output topic (a signed
``a6gw.notice.v1`` of kind ``reconciliation.requested``: reconciliation id and snapshot
time). The registry answers on its input topic with ``a6gw.holdings.snapshot.v1`` pages,
signed like any of its events; the worker decides each page as an input (``recorded``), and
the reconciliation run reads the same pages, authenticated with the same function the
ingest stage uses, so a page it compares is a page the log holds. (HTTPS partners are
pulled through the connector instead; see :mod:`gateway.services.reconciliation`.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka.structs import TopicPartition

from gateway.config import LoadedConfig
from gateway.core import binding, topics
from gateway.core.decision import event_entry_id
from gateway.core.decision_time import iso_ms
from gateway.core.ingest import RawInput, authenticate
from gateway.errors import AuthenticationError, ReconciliationError, SchemaError
from gateway.services.keys import TrustedKeys, gateway_signer
from gateway.transport.clients import clients_for
from schemas import events as ev

Say = Callable[[str], None]


@dataclass(frozen=True)
class Page:
    page: int
    pages: int
    rows: tuple[dict[str, Any], ...]
    entry_id: str  # the audit entry the page is decided as


def request_id(registry: str, at_ms: int) -> str:
    return f"snap-{registry}-{at_ms}"


def rows_of(snapshot: ev.HoldingsSnapshot) -> tuple[dict[str, Any], ...]:
    """A page's rows in the form :func:`gateway.services.reconciliation.snapshot_holdings` reads."""
    return tuple(
        {
            "account_id": r.account_id,
            "ca_id": r.ca_id,
            "origin": r.originating_registry,
            "serial_start": r.serial_start,
            "serial_end": r.serial_end,
            "unit_type": r.unit_type,
            "vintage": r.vintage,
        }
        for r in snapshot.rows
    )


def assemble(pages: Iterable[Page]) -> tuple[list[dict[str, Any]], list[str]] | None:
    """The rows of a complete snapshot and its pages' entry ids, or None while pages are
    missing. A page sent twice counts once; pages that disagree on the count are refused.

    :raises ReconciliationError: (RECON-PAGES) pages announce different page counts.
    """
    by_number: dict[int, Page] = {}
    counts = set()
    for p in pages:
        counts.add(p.pages)
        by_number.setdefault(p.page, p)
    if len(counts) > 1:
        raise ReconciliationError(
            f"snapshot pages announce different page counts {sorted(counts)}", code="RECON-PAGES"
        )
    if not counts or set(by_number) != set(range(1, next(iter(counts)) + 1)):
        return None
    ordered = [by_number[n] for n in sorted(by_number)]
    return [r for p in ordered for r in p.rows], [p.entry_id for p in ordered]


def request_notice(registry: str, rec_id: str, at_ms: int) -> dict[str, Any]:
    """The ``data`` of the ``reconciliation.requested`` notice (``schemas.records``)."""
    body = {"reconciliation_id": rec_id, "registry_id": registry, "snapshot_at": iso_ms(at_ms)}
    return {"kind": "reconciliation.requested", "body": body}


async def announce(lc: LoadedConfig, registry: str, rec_id: str, at_ms: int) -> None:
    """Put the signed ``reconciliation.requested`` notice on the registry's output topic."""
    signer = gateway_signer(lc)
    value = signer.envelope(
        "notice", f"ntc-{rec_id}", iso_ms(at_ms), request_notice(registry, rec_id, at_ms)
    )
    producer = clients_for(lc, "reconcile").producer(acks="all")
    await producer.start()
    try:
        out = topics.output_topic(registry)
        headers = list(binding.headers_for(out))  # a CloudEvent in structured mode
        await producer.send_and_wait(out, value, key=rec_id.encode(), headers=headers)
    finally:
        await producer.stop()


def page_of(raw: RawInput, rec_id: str, lc: LoadedConfig, trust_ctx: TrustedKeys) -> Page | None:
    """The snapshot page ``raw`` carries for ``rec_id``, or None (another event, another
    snapshot, or bytes the ingest stage will dead-letter)."""
    owner = lc.config.input_topics()[raw.topic]
    try:
        event = authenticate(
            raw,
            owner,
            trust_ctx.trust,
            trust_ctx.public_keys,
            trust_ctx.joint_committees(owner),
            max_bytes=lc.config.limits.max_message_bytes,
        )
    except (SchemaError, AuthenticationError):
        return None
    p = event.payload
    if not isinstance(p, ev.HoldingsSnapshot) or p.reconciliation_id != rec_id:
        return None
    if p.registry_id != owner.registry or p.page > p.pages:
        return None  # decided as a discrepancy by the ledger; never compared
    entry_id = event_entry_id(event.source, event.id, event.sha256)
    return Page(p.page, p.pages, rows_of(p), entry_id)


async def collect(
    lc: LoadedConfig,
    registry: str,
    rec_id: str,
    *,
    since_ms: int,
    timeout_s: float,
    say: Say,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Read the registry's input topic from ``since_ms`` until every page of ``rec_id``
    arrived.

    :raises ReconciliationError: (RECON-SNAPSHOT) not complete within ``timeout_s``.
    """
    ctx = TrustedKeys.load(lc)
    topic = topics.input_topic(registry)
    consumer = clients_for(lc, "reconcile").consumer(enable_auto_commit=False)
    await consumer.start()
    pages: list[Page] = []
    try:
        # input topics have the configured partition count (gateway.transport.topic_plan)
        tps = [TopicPartition(topic, n) for n in range(lc.config.kafka.partitions)]
        consumer.assign(tps)
        # The ends first: a page written after this read is at or past them, and one
        # written before it (since ``since_ms``) is found by its time. In the other order a
        # page written between the two reads would be skipped.
        ends = await consumer.end_offsets(tps)
        starts = await consumer.offsets_for_times({tp: since_ms for tp in tps})
        for tp in tps:
            found = starts.get(tp)
            consumer.seek(tp, found.offset if found is not None else ends[tp])
        deadline = time.monotonic() + timeout_s
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            for tp, records in batches.items():
                for r in records:
                    raw = RawInput(tp.topic, tp.partition, r.offset, r.key, r.value, r.timestamp)
                    page = page_of(raw, rec_id, lc, ctx)
                    if page is not None:
                        pages.append(page)
            done = assemble(pages)
            if done is not None:
                n = len(done[1])
                say(f"snapshot {rec_id}: {n} signed page{'s' * (n != 1)}, {len(done[0])} rows")
                return done
            if time.monotonic() > deadline:
                have = sorted({p.page for p in pages})
                raise ReconciliationError(
                    f"{registry} did not send snapshot {rec_id} within {timeout_s:.0f} s "
                    f"(pages received: {have or 'none'})",
                    code="RECON-SNAPSHOT",
                )
    finally:
        await consumer.stop()


def pages_of(
    lc: LoadedConfig,
    registry: str,
    *,
    rec_id: str | None,
    timeout_s: float,
    say: Say,
) -> tuple[str, list[dict[str, Any]], list[str]]:
    """A Kafka registry's snapshot: announced now (or the pages of ``rec_id`` it already
    sent), collected; returns (reconciliation id, rows, page entry ids)."""
    now_ms = int(time.time() * 1000)
    since_ms = now_ms - 3_600_000  # pages already sent for a given id: the last hour
    if rec_id is None:
        rec_id = request_id(registry, now_ms)
        asyncio.run(announce(lc, registry, rec_id, now_ms))
        say(f"announced snapshot {rec_id} on a6.out.{registry}; waiting for its pages")
        since_ms = now_ms - 1000
    rows, entries = asyncio.run(
        collect(lc, registry, rec_id, since_ms=since_ms, timeout_s=timeout_s, say=say)
    )
    return rec_id, rows, entries


def snapshot_pages(
    registry: str,
    rec_id: str,
    rows: Sequence[Mapping[str, Any]],
    snapshot_at: str,
    size: int = 1000,
) -> list[dict[str, Any]]:
    """The ``data`` of each page a registry sends for ``rows`` (as the demo's JPN01 does)."""
    chunks = [rows[i : i + size] for i in range(0, len(rows), size)] or [[]]
    return [
        {
            "reconciliation_id": rec_id,
            "registry_id": registry,
            "snapshot_at": snapshot_at,
            "page": n,
            "pages": len(chunks),
            "rows": [
                {
                    "account_id": r["account_id"],
                    "ca_id": r["ca_id"],
                    "originating_registry": r["origin"],
                    "serial_start": str(r["serial_start"]),
                    "serial_end": str(r["serial_end"]),
                    "vintage": int(r["vintage"]),
                    "unit_type": r["unit_type"],
                }
                for r in chunk
            ],
        }
        for n, chunk in enumerate(chunks, start=1)
    ]
