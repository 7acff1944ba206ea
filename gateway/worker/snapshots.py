"""Local snapshots of the ledger's working state (``gateway.worker.memory``), so a restart
recovers from a file and the decisions after it instead of from every stored decision.

**The file** (``ledger-state.snapshot`` in the worker's data folder) is one header line,
``{"format": FORMAT, "positions": {"<partition>": <offset>, ...}}``, then the state as
:func:`gateway.core.state.snapshot_chunks` writes it (its ``accounts`` table holds the
worker's own accounts), then the MAC of both (:func:`gateway.core.mac.tag` under the
gateway's MAC key, for the pseudo-topic :data:`MAC_TOPIC`, which no Kafka topic can be
named). It is written whole to a temporary file, fsynced, renamed over the last one and the
folder fsynced: a crash leaves the old snapshot or the new one, never half of one.

**Positions.** For each ``a6.ledger`` partition the state holds, the offset ``v`` up to which
every input has been handled with its decision durable (the ledger's cursor when the
snapshot was taken, at a point where every effect in the state came from a durable
decision): no input at or before ``v`` is decided after the snapshot, so the decisions the
snapshot lacks are those of the inputs after ``v``.

**Catching up** (:func:`to_reapply`): the inputs after ``v`` are read back from
``a6.ledger`` (:class:`LedgerTail`); the stored decision of each (the ``decisions`` table,
looked up by ``source|id``; the table is the truth, the records only say which keys to look
up) is re-applied when its version is after ``v``, in version order. A version is the
input's offset in its partition, so nothing the snapshot lacks is missed; re-applying one it
has is a no-op (the version guard). A snapshot that does not fit (a bad MAC, another
format, other partitions, a partition that no longer reaches ``v``: another broker, or the
records after it gone by retention) is ignored with a log line and the full rebuild runs.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition

from gateway.core import mac
from gateway.core.ingest import RawInput
from gateway.core.state import TableName, snapshot_chunks, snapshot_tables
from gateway.core.steps import forwarded_key
from gateway.errors import WorkerError
from gateway.transport.clients import KafkaClients
from gateway.worker.gaps import RangeReader

log = logging.getLogger("a6gw.worker")

#: the snapshot's format, in its header line; a snapshot of a newer one is ignored (with a
#: log line saying so) and the state rebuilt in full. Version 1 files must stay readable:
#: ``tests/fixtures/release-1/``.
VERSION = 1
FORMAT = f"a6gw.worker-snapshot.v{VERSION}"
MAC_TOPIC = "<ledger state snapshot>"
FILE_NAME = "ledger-state.snapshot"

#: ``a6.ledger`` partition → the offset up to which every input's decision is in the state
Positions = dict[int, int]
#: a stored decision to re-apply: its version and its effects (``[table, key, value]``)
Stored = tuple[int, list[Any]]


@dataclass(frozen=True)
class Snapshot:
    positions: Positions
    tables: dict[TableName, dict[str, Any]]


def chunks(
    positions: Mapping[int, int], tables: Mapping[TableName, Mapping[str, Any]]
) -> Iterator[bytes]:
    """The snapshot's bytes before the MAC, in pieces (see :func:`snapshot_chunks`)."""
    head = {"format": FORMAT, "positions": {str(p): int(v) for p, v in sorted(positions.items())}}
    yield json.dumps(head, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    yield from snapshot_chunks(tables, PIECE_RECORDS)


#: records per piece of a snapshot made in the event loop (~0.5 ms each, ~3.5 ms for the
#: piece that sorts the keys of a table of 80,000 records): the default, and where the worker
#: cannot fork the child that config ``snapshot_writer: fork`` asks for
#: (``gateway.worker.forked``). Pieces of 500 records (0.13 ms) made a snapshot of 140,000
#: records take 1.4 s or more of pauses; these take ~0.4 s.
PIECE_RECORDS = 2_000
#: the pause after each piece, in which the agents run: a snapshot of 140,000 records
#: (~60 ms of the worker's CPU for its bytes, ~40 ms more to seal and write them in a
#: thread) takes ~0.4 s and a tenth of the event loop meanwhile
PIECE_PAUSE_S = 0.005


async def in_turns(pieces: Iterable[bytes], pause: float = PIECE_PAUSE_S) -> list[bytes]:
    """The pieces, made in the event loop in turns with the agents: a pause after each.

    Made back to back (a pause of 0), a snapshot took a third of the event loop or more for
    about a second: at 500 inputs/s the inputs of that second waited (p99 ~300 ms, where it
    is ~150-230 ms with the pause). Not in a thread: a thread that computes holds the interpreter
    for up to its switch interval (5 ms) each time the event loop lets go of it for a
    system call, hundreds of times per batch."""
    out: list[bytes] = []
    for piece in pieces:
        out.append(piece)
        await asyncio.sleep(pause)
    return out


def seal(secret: bytes, body: bytes) -> bytes:
    return body + mac.tag(secret, MAC_TOPIC, None, body)


def parse(secret: bytes, data: bytes) -> Snapshot:
    """The snapshot ``data`` holds.

    :raises ValueError: when its MAC does not verify or it is not a snapshot of this format.
    """
    body, got = data[: -mac.TAG_BYTES], data[-mac.TAG_BYTES :]
    if len(data) < mac.TAG_BYTES or not hmac.compare_digest(
        got, mac.tag(secret, MAC_TOPIC, None, body)
    ):
        raise ValueError("its MAC does not verify")
    head_line, _, state = body.partition(b"\n")
    head = json.loads(head_line)
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        found = head.get("format") if isinstance(head, dict) else None
        newer = re.fullmatch(r"a6gw\.worker-snapshot\.v([0-9]+)", str(found))
        if newer is not None and int(newer.group(1)) > VERSION:
            raise ValueError(f"format {found} is newer than this release reads ({FORMAT})")
        raise ValueError(f"not a {FORMAT} snapshot")
    raw = head.get("positions")
    if not isinstance(raw, dict):
        raise ValueError("no positions")
    positions = {int(p): int(v) for p, v in raw.items()}
    return Snapshot(positions, snapshot_tables(state))


def to_reapply(
    positions: Mapping[int, int],
    tails: Mapping[int, Sequence[RawInput]],
    decisions: Mapping[str, Any],
) -> list[Stored]:
    """The stored decisions a snapshot at ``positions`` lacks, in version order: those of
    the inputs ``tails`` holds (each partition's records after its position) whose version
    is after their partition's position. A record that is not a forwarded input (a forged
    one, dead-lettered when it came) names no decision and is passed over."""
    found: dict[str, Stored] = {}
    for partition, records in tails.items():
        after = positions[partition]
        for rec in records:
            if rec.offset <= after:
                continue
            try:
                key = forwarded_key(json.loads(rec.value))
            except (ValueError, KeyError, TypeError):
                continue
            if key in found:
                continue
            stored = decisions.get(key)
            if stored is not None and int(stored["version"]) > after:
                found[key] = (int(stored["version"]), stored["effects"])
    return sorted(found.values(), key=_version)


def _version(item: Stored) -> int:
    return item[0]


class SnapshotFile:
    """The worker's snapshot file, sealed with the gateway's MAC key."""

    def __init__(self, path: Path, secret: bytes) -> None:
        self.path = path
        self.secret = secret

    def load(self) -> Snapshot | None:
        """The snapshot, or None (with a log line saying why) when there is none to use."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("ledger snapshot %s unreadable (%s); rebuilding in full", self.path, exc)
            return None
        try:
            return parse(self.secret, data)
        except (ValueError, UnicodeDecodeError) as exc:
            log.warning("ledger snapshot %s ignored (%s); rebuilding in full", self.path, exc)
            return None

    def write(self, parts: Sequence[bytes]) -> None:
        """Replace the snapshot with the bytes ``parts`` join to (sealed here) atomically: a
        temporary file, fsynced, renamed over the old one, then the folder fsynced. The
        parts are written and hashed one by one, never joined: a copy of a state of tens of
        megabytes would hold the interpreter (and the worker's event loop) while it is made."""
        tag = mac.tag_parts(self.secret, MAC_TOPIC, None, parts)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for part in (*parts, tag):
                view = memoryview(part)
                while view:
                    view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


class LedgerTail:
    """Reads each partition's ``a6.ledger`` records from a position to the end."""

    def __init__(self, clients: KafkaClients, reader: RangeReader, topic: str) -> None:
        self.clients = clients
        self.reader = reader
        self.topic = topic

    async def read(self, positions: Mapping[int, int]) -> dict[int, list[RawInput]] | None:
        """Each partition's records from its position (included, to show the partition
        still reaches it) to its end; None (logged) when one does not reach its position
        or the broker cannot be read."""
        tps = [TopicPartition(self.topic, p) for p in sorted(positions)]
        consumer = self.clients.consumer(group_id=None)
        try:
            await consumer.start()
            ends = await consumer.end_offsets(tps)
        except KafkaError as exc:
            log.warning("ledger snapshot: cannot read %s's ends (%s)", self.topic, exc)
            return None
        finally:
            await consumer.stop()
        out: dict[int, list[RawInput]] = {}
        for tp in tps:
            start, end = max(positions[tp.partition], 0), ends[tp]
            if end <= positions[tp.partition]:
                log.warning(
                    "ledger snapshot: %s[%d] ends at %d, before its position %d",
                    self.topic,
                    tp.partition,
                    end,
                    positions[tp.partition],
                )
                return None
            if start >= end:  # an empty partition (position -1): nothing to read
                out[tp.partition] = []
                continue
            try:
                records = await self.reader.read(self.topic, tp.partition, range(start, end))
            except WorkerError as exc:
                log.warning("ledger snapshot: %s", exc)
                return None
            if not records or records[0].offset != start:
                log.warning(
                    "ledger snapshot: %s[%d] no longer holds offset %d (retention)",
                    self.topic,
                    tp.partition,
                    start,
                )
                return None
            out[tp.partition] = records
        return out
