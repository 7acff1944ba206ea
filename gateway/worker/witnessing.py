"""The witness collector's edge: checkpoints to the witnesses, cosignatures to the store.

A task of its own in the worker (``gateway.worker.agents.witnesses``), never in the
sequencer's append loop: the sequencer publishes a checkpoint and goes on; the collector reads
``a6.audit.checkpoints`` and, in the worker that owns the audit log, submits the newest one to
every configured witness at once (C2SP tlog-witness ``add-checkpoint``, over HTTPS):

- from the size that witness last cosigned, as the store knows it (``witness_size``; 0 when
  unknown: the witness's 409 then names its size, and the collector proves from it);
- each answer is decided by :func:`gateway.audit.submission.decide`; a cosignature is checked
  against the witness's pinned key before it is kept beside the checkpoint
  (``save_cosignature``), where ``/v1/checkpoint``, exports and reports read it
  (:mod:`gateway.audit.cosigned`);
- transient failures are retried with backoff, behind a circuit breaker per witness
  (:mod:`connectors.policy`); a checkpoint a witness could not take is left, and the next one
  is submitted from the same old size;
- a fork (422) becomes a discrepancy (WIT-001) on ``a6.discrepancies`` and an alert
  (A6-ALERT-006); a refused request (400, 403, 404) or a cosignature that does not verify is
  an alert for the operator (A6-ALERT-007).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import httpx

from connectors.policy import Backoff, CircuitBreaker
from gateway import alerts
from gateway.audit.cosignature import Cosigner, verified_cosignatures
from gateway.audit.logstore import LogStore
from gateway.audit.note import Checkpoint, Verifier, open_checkpoint
from gateway.audit.submission import MAX_RESUBMITS, Outcome, decide
from gateway.audit.tlog_witness import add_checkpoint_body
from gateway.config import LoadedConfig
from gateway.core import discrepancy as dsc
from gateway.core.canonical import canonical_bytes
from gateway.core.decision_time import iso_ms
from gateway.core.topics import DISCREPANCY_TOPIC
from gateway.errors import VerificationError
from gateway.http.tls import client_tls
from gateway.observe.metrics import WITNESS_ANSWERS

__all__ = ["Collector", "WitnessLink", "links_for"]

log = logging.getLogger("a6gw.witness.collector")

Send = Callable[[str, bytes, bytes], Awaitable[None]]
#: Attempts per checkpoint and witness on transient failures, before the next checkpoint.
RETRIES = 4


@dataclass
class WitnessLink:
    """One configured witness: where it is, its pinned key, its client and its breaker."""

    name: str
    url: str  # the submission prefix; the request goes to <url>/add-checkpoint
    key: Cosigner
    client: httpx.AsyncClient
    breaker: CircuitBreaker = field(default_factory=lambda: CircuitBreaker(3, 10.0))


def links_for(lc: LoadedConfig, timeout_s: float | None = None) -> list[WitnessLink]:
    """A link per configured witness (``witnesses`` in the config).

    :raises ConfigError: a witness key or a TLS file that cannot be loaded.
    """
    cfg = lc.config
    timeout = timeout_s or cfg.connectors.timeout_s
    out = []
    for w, key in zip(cfg.witnesses, lc.witness_keys(), strict=True):
        ca = lc.path(w.ca_file or cfg.connectors.ca_file)
        cert = str(lc.path(w.client_cert)) if w.client_cert else None
        private = str(lc.path(w.client_key)) if w.client_key else None
        tls = client_tls(str(ca), cert, private)
        client = httpx.AsyncClient(verify=tls, timeout=timeout)
        out.append(WitnessLink(w.name, w.url, key, client))
    return out


@dataclass
class Collector:
    """Submits checkpoints to witnesses and keeps the cosignatures they return."""

    store: LogStore
    links: Sequence[WitnessLink]
    verifiers: Sequence[Verifier]  # the log's keys: a note on the topic must verify
    send: Send  # sealed records (the discrepancy of a fork)
    backoff: Backoff = field(default_factory=lambda: Backoff(0.2, 5.0))
    clock_ms: Callable[[], int] = field(default=lambda: int(time.time() * 1000))
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def submit(self, note: str) -> dict[str, str]:
        """Submit the signed checkpoint ``note`` to every witness; each one's last outcome.

        :raises VerificationError: the note is not signed by the log's key.
        """
        checkpoint = open_checkpoint(note, self.verifiers)
        kinds = await asyncio.gather(*(self._one(w, checkpoint, note) for w in self.links))
        return {w.name: kind for w, kind in zip(self.links, kinds, strict=True)}

    async def close(self) -> None:
        for w in self.links:
            await w.client.aclose()

    async def _one(self, w: WitnessLink, cp: Checkpoint, note: str) -> str:
        old = self.store.witness_size(w.name) or 0
        if old >= cp.size:
            return "superseded"  # it cosigned this one, or a newer one, already
        failures = resubmits = 0
        while True:
            if not w.breaker.allow():
                log.warning("witness %s: breaker open; checkpoint %d waits", w.name, cp.size)
                return "retry"
            out = await self._post(w, cp, note, old)
            WITNESS_ANSWERS.labels(w.name, out.kind).inc()
            if out.kind == "retry":
                w.breaker.failure()
                failures += 1
                if w.breaker.state == "open":  # it just opened
                    alerts.alert(
                        "A6-ALERT-005",
                        f"witness {w.name} keeps failing ({out.why}); its breaker opened",
                        witness=w.name,
                        size=cp.size,
                    )
                    return "retry"
                if failures >= RETRIES:
                    return "retry"
                await self.sleep(self.backoff.delay(failures - 1, random.random))  # noqa: S311
                continue
            w.breaker.success()
            if out.kind == "resubmit" and resubmits < MAX_RESUBMITS:
                resubmits += 1
                old = out.old_size or 0
                log.info("witness %s: %s; proving %d from there", w.name, out.why, cp.size)
                continue
            return await self._settle(w, cp, old, out)

    async def _post(self, w: WitnessLink, cp: Checkpoint, note: str, old: int) -> Outcome:
        proof = self.store.consistency_proof(old, cp.size) if 0 < old < cp.size else []
        body = add_checkpoint_body(old, proof, note)
        try:
            resp = await w.client.post(f"{w.url}/add-checkpoint", content=body)
        except httpx.HTTPError as exc:
            return decide(None, size=cp.size, old_size=old, body=str(exc).encode())
        kind = resp.headers.get("content-type", "")
        return decide(
            resp.status_code, size=cp.size, old_size=old, content_type=kind, body=resp.content
        )

    async def _settle(self, w: WitnessLink, cp: Checkpoint, old: int, out: Outcome) -> str:
        """Act on a final outcome: keep the cosignature, or report what went wrong."""
        if out.kind == "cosigned":
            return self._keep(w, cp, out)
        if out.kind == "fork":
            await self._fork(w, cp, old, out.why)
        elif out.kind in ("misconfigured", "resubmit"):
            alerts.alert("A6-ALERT-007", f"witness {w.name}: {out.why}", witness=w.name)
        else:
            log.info("witness %s: %s", w.name, out.why)
        return out.kind

    def _keep(self, w: WitnessLink, cp: Checkpoint, out: Outcome) -> str:
        text = cp.to_text()
        for line in out.lines:
            try:
                _, found = verified_cosignatures(text + "\n" + line, [w.key])
            except VerificationError as exc:
                found, why = [], str(exc.args[0])
            else:
                why = "no line by its pinned key"
            if found:
                self.store.save_cosignature(cp.size, w.name, line)
                log.info("witness %s cosigned checkpoint %d", w.name, cp.size)
                return "cosigned"
        WITNESS_ANSWERS.labels(w.name, "invalid").inc()
        alerts.alert(
            "A6-ALERT-007", f"witness {w.name} sent no valid cosignature: {why}", witness=w.name
        )
        return "invalid"

    async def _fork(self, w: WitnessLink, cp: Checkpoint, old: int, why: str) -> None:
        at = iso_ms(self.clock_ms())
        source = f"witness:{w.name}:{cp.size}:{cp.root.hex()}"
        found = dsc.Discrepancy(
            id=dsc.discrepancy_id("witness", source),
            code="WIT-001",
            severity="error",
            registries=(),
            blocks=(),
            first_seen=at,
            found_by="witness",
            source_entry=source,
            summary=f"witness {w.name} refused checkpoint {cp.size} as a fork: {why}",
            detail={"witness": w.name, "size": cp.size, "root": cp.root.hex(), "old_size": old},
        )
        record = dsc.record(found)
        await self.send(DISCREPANCY_TOPIC, found.id.encode(), canonical_bytes(record))
        alerts.alert(
            "A6-ALERT-006",
            f"witness {w.name} refused checkpoint {cp.size} as a fork: {why}",
            witness=w.name,
            size=cp.size,
            root=cp.root.hex(),
        )
