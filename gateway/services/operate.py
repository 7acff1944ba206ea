"""Operators' views of the worker from outside it: dead letters and their replay, and lag.

- :func:`dead_letters` reads ``a6.dlq``; :func:`replay` republishes the input of a gateway
  fault's dead letter (GWF-001/002: the gateway failed on it, the input was not judged) on
  the topic and partition it came from, with its key and complete bytes, and a header
  naming the dead input (``a6gw-replay-of: <topic>/<partition>/<offset>``). The decision's
  audit entry then names the dead letter it replays (``replays``). Replaying twice is
  harmless: an input is identified by its ``(source, id)``, so the second copy gets the
  same decision. A dead letter of a refused input (MSG-…) is not replayable.
- :func:`lag` shows, per partition of the topics the worker consumes, the log end, the
  agent's own position (the cursor it keeps in the ``cursors`` table, read from that
  table's changelog; the sequencer's is in the audit store) and the group's committed
  offset. Lag is end minus position: a partition whose agent is stuck shows, even while the
  committed offsets have moved on.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition

from gateway.audit.open import open_store
from gateway.config import LoadedConfig
from gateway.core import mac
from gateway.core.decision import REPLAY_HEADER, raw_entry_id
from gateway.core.faults import replayable
from gateway.core.topics import (
    AUDIT_TOPIC,
    COMMANDS_TOPIC,
    DLQ_TOPIC,
    FINDINGS_TOPIC,
    LEDGER_TOPIC,
    changelog_topic,
)
from gateway.errors import WorkerError
from gateway.transport.clients import KafkaClients, clients_for
from gateway.transport.topic_plan import topic_plan

#: Topics a dead input is never put back on (the worker's outputs of record).
NOT_REPLAYED = frozenset({DLQ_TOPIC, AUDIT_TOPIC})


#: The principal of ``a6gw lag`` and ``a6gw dlq`` (README, "Kafka principals").
ROLE = "operator"
Record = tuple[int, int, bytes | None, bytes, tuple[tuple[str, bytes], ...]]


async def _read_all(
    kafka: KafkaClients, topic: str, partitions: int, timeout_s: float = 120.0
) -> list[Record]:
    """Every record of ``topic`` up to its current end:
    ``(partition, offset, key, value, headers)``."""
    consumer = kafka.consumer(group_id=None, enable_auto_commit=False)
    out: list[Record] = []
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    try:
        await consumer.start()
        consumer.assign(tps)
        first = await consumer.beginning_offsets(tps)
        end = await consumer.end_offsets(tps)
        left = {tp for tp in tps if end[tp] > first[tp]}
        for tp in left:
            consumer.seek(tp, first[tp])
        deadline = time.monotonic() + timeout_s
        while left:
            if time.monotonic() > deadline:
                raise WorkerError(f"{topic} was not read to its end in time", code="WORKER-READ")
            batch = await consumer.getmany(*left, timeout_ms=1000)
            for tp, records in batch.items():
                out.extend(
                    (tp.partition, r.offset, r.key, bytes(r.value or b""), tuple(r.headers or ()))
                    for r in records
                    if r.offset < end[tp]
                )
            for tp in list(left):  # a compacted log may end past its last record
                if await consumer.position(tp) >= end[tp]:
                    left.discard(tp)
    except KafkaError as exc:
        raise WorkerError(f"cannot read {topic}: {exc}", code="WORKER-READ") from exc
    finally:
        await consumer.stop()
    return out


async def dead_letters(lc: LoadedConfig) -> list[dict[str, Any]]:
    """The dead letters on ``a6.dlq``, each with where it is (``dlq_partition/offset``).

    Only records a gateway process wrote count: one without a verifying MAC is passed over.
    """
    out = []
    parts = topic_plan(lc.config)[0][DLQ_TOPIC]
    secret = lc.load_mac_key()
    for partition, offset, key, value, headers in await _read_all(
        clients_for(lc, ROLE), DLQ_TOPIC, parts
    ):
        if mac.problem(secret, DLQ_TOPIC, key, value, headers) is not None:
            continue
        try:
            record = json.loads(value)
        except ValueError:
            continue
        if isinstance(record, dict):
            out.append(record | {"dlq_partition": partition, "dlq_offset": offset})
    return out


async def replay(lc: LoadedConfig, topic: str, partition: int, offset: int) -> dict[str, Any]:
    """Republish the input dead-lettered at ``topic[partition]@offset``.

    :raises WorkerError: (WORKER-REPLAY) when there is no such dead letter, it is not a
        gateway fault, it does not keep the complete bytes, or the broker fails.
    """
    if topic in NOT_REPLAYED:
        raise WorkerError(f"records of {topic} are not replayed", code="WORKER-REPLAY")
    wanted = raw_entry_id(topic, partition, offset)
    found = [d for d in await dead_letters(lc) if d.get("audit_entry_id") == wanted]
    if not found:
        raise WorkerError(
            f"no dead letter of {topic}[{partition}]@{offset} on {DLQ_TOPIC}", code="WORKER-REPLAY"
        )
    record = found[0]
    if (why := replayable(record)) is not None:
        raise WorkerError(f"not replayable: {why}", code="WORKER-REPLAY")
    value = base64.b64decode(record["value_b64"])
    key_b64 = record.get("key_b64")
    key = None if key_b64 is None else base64.b64decode(key_b64)
    header = (REPLAY_HEADER, f"{topic}/{partition}/{offset}".encode())
    producer = clients_for(lc, ROLE).producer(acks="all")
    try:
        await producer.start()
        meta = await producer.send_and_wait(
            topic, value, key=key, partition=partition, headers=[header]
        )
    except KafkaError as exc:
        raise WorkerError(f"cannot republish on {topic}: {exc}", code="WORKER-REPLAY") from exc
    finally:
        await producer.stop()
    return {
        "replayed": {"topic": topic, "partition": partition, "offset": offset},
        "dead_letter": wanted,
        "reason_code": record["reason_code"],
        "published": {"topic": meta.topic, "partition": meta.partition, "offset": meta.offset},
    }


@dataclass(frozen=True)
class Lag:
    topic: str
    partition: int
    agent: str
    end: int
    position: int  # the next offset the agent will process (its cursor + 1)
    committed: int | None
    lag: int  # end - position
    committed_lag: int | None

    def row(self) -> dict[str, Any]:
        return asdict(self)


def consumed_topics(lc: LoadedConfig) -> dict[str, str]:
    """The topics whose partitions the worker's agents keep cursors for → the agent."""
    out = {t: "ingest" for t in lc.config.input_topics()}
    out |= {
        LEDGER_TOPIC: "ledger",
        FINDINGS_TOPIC: "discrepancies",
        COMMANDS_TOPIC: "discrepancies",
        AUDIT_TOPIC: "sequencer",
    }
    return out


async def cursors(lc: LoadedConfig) -> dict[str, int]:
    """The agents' cursors (``topic#partition`` → last offset processed), as the worker's
    ``cursors`` table holds them, from that table's changelog."""
    out: dict[str, int] = {}
    cfg = lc.config
    changelog = changelog_topic(cfg.gateway.id, "cursors")
    secret = lc.load_mac_key()
    for _p, _o, key, value, _h in await _read_all(
        clients_for(lc, ROLE),
        changelog,
        topic_plan(cfg)[0].get(changelog, cfg.kafka.partitions),
    ):
        opened = mac.open_value(secret, value) if value else b"null"
        if opened is None:
            continue  # not written by a gateway process (table values carry their MAC)
        try:
            name = json.loads(key or b"null")
            last = json.loads(opened)
        except ValueError:
            continue
        if isinstance(name, str) and isinstance(last, int):
            out[name] = last
        elif isinstance(name, str) and last is None:
            out.pop(name, None)
    return out


async def lag(lc: LoadedConfig) -> list[Lag]:
    """:raises WorkerError: (WORKER-READ) when the broker cannot be read."""
    cfg = lc.config
    group = cfg.gateway.id
    topics = consumed_topics(lc)
    known = await cursors(lc)
    plan = topic_plan(cfg)[0]
    kafka = clients_for(lc, ROLE)
    consumer, admin = kafka.consumer(group_id=None, enable_auto_commit=False), kafka.admin()
    try:
        await consumer.start()
        await admin.start()
        tps = [TopicPartition(t, p) for t in sorted(topics) for p in range(plan[t])]
        end = await consumer.end_offsets(tps)
        meta = await admin.list_consumer_group_offsets(group, partitions=tps)
    except KafkaError as exc:
        raise WorkerError(f"cannot read offsets: {exc}", code="WORKER-READ") from exc
    finally:
        await consumer.stop()
        await admin.close()
    committed = {tp: m.offset for tp, m in meta.items() if m.offset >= 0}
    store = open_store(lc.audit_store())
    try:
        sequenced = store.position(AUDIT_TOPIC, 0)
    finally:
        store.close()
    rows = []
    for tp in tps:
        last = sequenced if tp.topic == AUDIT_TOPIC else known.get(f"{tp.topic}#{tp.partition}")
        position = 0 if last is None else last + 1
        done = committed.get(tp)
        rows.append(
            Lag(
                tp.topic,
                tp.partition,
                topics[tp.topic],
                end[tp],
                position,
                done,
                end[tp] - position,
                None if done is None else end[tp] - done,
            )
        )
    return rows


def render_lag(rows: list[Lag]) -> str:
    head = f"{'topic':<28}{'part':>5}{'end':>10}{'position':>10}{'committed':>11}{'lag':>8}"
    lines = [head + "  agent"]
    for r in rows:
        done = "-" if r.committed is None else str(r.committed)
        lines.append(
            f"{r.topic:<28}{r.partition:>5}{r.end:>10}{r.position:>10}{done:>11}{r.lag:>8}"
            f"  {r.agent}"
        )
    return "\n".join(lines)
