"""Counting from the sender's side: what became of each produced record.

A record matches the audit log's entries it may have become (a dead letter by where it was
read, a decision by its source and id, or the entry it claims to be) or a record on
``a6.dlq``: exactly one is wanted, with a code unless it was accepted.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka.structs import TopicPartition

from gateway.audit.store import AuditStore
from gateway.core.canonical import sha256_hex
from gateway.core.decision import event_entry_id, raw_entry_id
from gateway.core.topics import AUDIT_TOPIC, DLQ_TOPIC
from gateway.transport.clients import KafkaClients
from gateway.worker.process import WorkerProcess
from tests.adversarial import hostile

POSITIVE = frozenset({"accepted", "recorded"})


@dataclass
class Figures:
    sent: int = 0
    probes: int = 0
    decided: int = 0
    dead_lettered: int = 0
    lost: list[str] = field(default_factory=list)
    double: list[str] = field(default_factory=list)
    uncoded: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    stalled: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    broker_refused: int = 0  # records the broker would not take (no offset: not inputs)
    http: Counter[int] = field(default_factory=Counter)
    seconds: float = 0.0

    LISTS = ("lost", "double", "uncoded", "unexpected", "stalled", "crashes")

    def add(self, other: Figures) -> None:
        for name in ("sent", "probes", "decided", "dead_lettered", "broker_refused", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in self.LISTS:
            getattr(self, name).extend(getattr(other, name))
        self.http.update(other.http)

    @property
    def clean(self) -> bool:
        return not any(getattr(self, name) for name in self.LISTS)

    def render(self, title: str = "adversarial") -> str:
        http = ", ".join(f"{s}: {n}" for s, n in sorted(self.http.items())) or "none"
        return (
            f"{title}: inputs sent {self.sent} (+{self.probes} probes; "
            f"{self.broker_refused} refused by the broker), decided {self.decided}, "
            f"dead-lettered {self.dead_lettered}, lost {len(self.lost)}, "
            f"double {len(self.double)}, uncoded {len(self.uncoded)}, "
            f"unexpected {len(self.unexpected)}, stalled {len(self.stalled)}, "
            f"crashes {len(self.crashes)}, HTTP answers {{{http}}}, {self.seconds:.0f} s"
        )

    def explain(self) -> str:
        """What went wrong, the first few of each kind (for a failing test's message)."""
        parts = []
        for name in self.LISTS:
            items: list[str] = getattr(self, name)
            if not items:
                continue
            examples: dict[str, str] = {}
            kinds = Counter(_kind(i) for i in items)
            for i in items:
                examples.setdefault(_kind(i), i)
            shown = [f"{n} x {k} (e.g. {examples[k][:200]})" for k, n in kinds.most_common(8)]
            parts.append(f"{name} {len(items)}: " + " | ".join(shown))
        return "; ".join(parts) or "clean"


def _kind(item: str) -> str:
    """What an item says without where it was read: ``a6.in.X/0@12 what: why`` -> ``what``."""
    if "Crashed reason=" in item:
        agent = item.split("[.]", 1)[-1].split("]", 1)[0]
        return f"agent {agent} crashed: {item.split('Crashed reason=', 1)[1].split('(', 1)[0]}"
    if "starting it again" in item:
        return "the supervisor restarted the worker"
    if " -> " in item:  # an HTTP answer: the request and the status
        return item.rsplit(" ", 2)[0] if item.count(" ") > 2 else item
    if item.startswith("a6.") and " " in item:
        item = item.split(" ", 1)[1]
    return item.split(":", 1)[0]


class Log:
    """The audit log's entries, read incrementally: how often each entry id occurs, and the
    entries by the SHA-256 of their input."""

    def __init__(self, store: AuditStore) -> None:
        self.store, self.read = store, 0
        self.ids: Counter[str] = Counter()
        self.first: dict[str, dict[str, Any]] = {}
        self.by_sha: dict[str, list[dict[str, Any]]] = {}

    def update(self) -> Log:
        for body in self.store.entries(self.read):
            self.read += 1
            try:
                e = json.loads(body)
            except (ValueError, RecursionError):
                e = None
            if not isinstance(e, dict) or not isinstance(e.get("entry_id"), str):
                # Bytes someone wrote to the log topic, appended as they were.
                e = {"entry_id": foreign_id(body), "outcome": "appended as it was written"}
            self.ids[e["entry_id"]] += 1
            self.first.setdefault(e["entry_id"], e)
            given = e.get("input")
            inp: dict[str, Any] = given if isinstance(given, dict) else {}
            if e.get("entry_type") != "http-refusal" and (sha := inp.get("sha256")):
                self.by_sha.setdefault(sha, []).append(e)
        return self


def foreign_id(body: bytes) -> str:
    """How a log entry that is not a gateway's entry is counted: by its bytes."""
    return "foreign-" + sha256_hex(body)


def crash_marks(worker: WorkerProcess) -> list[str]:
    """Crashed agents, supervisor restarts, and the worker's own exit."""
    try:
        text = worker.log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    marks = [ln for ln in text.splitlines() if "Crashed reason=" in ln or "starting it again" in ln]
    if not worker.alive() and worker.proc is not None:
        marks.append(f"the worker exited with {worker.proc.returncode}")
    return marks


@dataclass(frozen=True)
class Sent:
    item: hostile.Hostile
    partition: int
    offset: int
    at_ms: int


async def dead_letters(kafka: KafkaClients, topics: dict[str, int]) -> set[tuple[str, int, int]]:
    """(topic, partition, offset) of every record on ``a6.dlq``."""
    consumer = kafka.consumer(group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(DLQ_TOPIC, p) for p in range(topics[DLQ_TOPIC])]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: set[tuple[str, int, int]] = set()
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for recs in (await consumer.getmany(*tps, timeout_ms=1000)).values():
                for r in recs:
                    d = json.loads(r.value or b"{}")
                    out.add((d.get("topic"), d.get("partition"), d.get("offset")))
        return out
    finally:
        await consumer.stop()


def candidates(s: Sent) -> set[str]:
    """The entry ids the record may have become: a dead letter by where it was read, a
    decision by its source and id, or what it claims to be."""
    ids = {raw_entry_id(s.item.topic, s.partition, s.offset), *s.item.claimed}
    if s.item.topic == AUDIT_TOPIC:  # bytes the sequencer may have appended as they are
        ids.add(foreign_id(s.item.value))
    try:
        env = json.loads(s.item.value)
    except (ValueError, RecursionError):
        return ids
    if (
        isinstance(env, dict)
        and isinstance(env.get("source"), str)
        and isinstance(env.get("id"), str)
    ):
        ids.add(event_entry_id(env["source"], env["id"], sha256_hex(s.item.value)))
    return ids


def judge(s: Sent, entries: list[dict[str, Any]], in_dlq: bool, figures: Figures) -> None:
    """One produced record against the entries found for it."""
    h = s.item
    where = f"{h.topic}/{s.partition}@{s.offset} {h.what}"
    if not entries:
        if in_dlq and h.expect != "refused":
            figures.dead_lettered += 1
        else:
            figures.lost.append(where)
        return
    if len(entries) > 1:
        figures.double.append(f"{where}: {[e['entry_id'] for e in entries]}")
        return
    e = entries[0]
    dead = e.get("entry_type") == "dead-letter"
    figures.dead_lettered += dead
    figures.decided += not dead
    codes: set[str] = {
        code for r in e.get("results", []) if isinstance(r, dict) and (code := r.get("code"))
    }
    if e.get("outcome") not in POSITIVE and not codes:
        figures.uncoded.append(f"{where}: {e.get('outcome')} without a code")
    wrong = (
        (h.expect == "dead-letter" and not dead)
        or (h.expect == "refused" and e.get("outcome") in POSITIVE)
        or (h.codes and not codes & set(h.codes))
    )
    if wrong:
        figures.unexpected.append(f"{where}: {e.get('outcome')} {sorted(codes)}")
    if h.arrival_time and not _near(e.get("decided_at"), s.at_ms):
        figures.unexpected.append(f"{where}: decided_at {e.get('decided_at')} is not its arrival")


def _near(stamp: Any, at_ms: int, slack_ms: int = 120_000) -> bool:
    try:
        t = datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp() * 1000
    except ValueError:
        return False
    return at_ms - slack_ms <= t <= time.time() * 1000 + slack_ms
