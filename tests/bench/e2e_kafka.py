"""The end-to-end benchmark's broker side: publish, watch decisions, count records, the pipe.

Every client comes from :class:`gateway.transport.clients.KafkaClients` (here the broker
admin's: the benchmark observes every topic and writes a scratch one).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition

from gateway.core.topics import INPUT_PREFIX
from gateway.transport.admin import create_topics, wait_for_topics
from gateway.transport.clients import KafkaClients
from tests.bench.e2e_mix import Input

Say = Callable[[str], None]
PIPE_TOPIC = "bench-pipe"  # the bare pipe's scratch topic (no gateway topic's name)
WARM_TOPIC = "bench-warm-up"  # the broker's warm-up traffic (no gateway topic's name)
#: A decision's envelope id starts with "dec-" (a notice's with "ntc-"); its canonical JSON
#: has no space after the colon.
DECISION_ID = b'"id":"dec-'


async def publish(kafka: KafkaClients, inputs: Iterable[Input]) -> None:
    """Send ``inputs`` as fast as the producer batches them; return once all are acked."""
    producer = kafka.producer(acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(i.topic, i.value, key=i.key) for i in inputs]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


#: the tail's fetches when each arrival's moment counts (latency): answered at once
PRECISE: dict[str, int] = {"fetch_max_wait_ms": 5}
#: the tail's fetches during a burst, where only the last arrival's moment counts: fewer
#: and fuller (each fetch costs the broker and this process CPU the gateway would use)
COARSE: dict[str, int] = {"fetch_max_wait_ms": 100, "fetch_min_bytes": 256 * 1024}


@dataclass
class Decisions:
    """Tails the output topics: when each input's first signed decision arrived (monotonic
    seconds, keyed by event id: a decision's record key) and how many came.

    ``start(precise=False)`` fetches every 100 ms (or 256 KiB): the end of each of a
    burst's phases is seen up to 100 ms late, which counts against the gateway, and the
    tail's own CPU and the broker's for it fall by about half (both share the gateway's two
    cores). :meth:`precise` switches modes, going on from where the tail was.
    """

    kafka: KafkaClients
    partitions: dict[str, int]  # output topic -> partitions
    first: dict[bytes, float] = field(default_factory=dict)
    # when the gateway wrote it: the record's timestamp (its producer's clock), as monotonic
    made: dict[bytes, float] = field(default_factory=dict)
    count: Counter[bytes] = field(default_factory=Counter)
    sample: dict[bytes, bytes] = field(default_factory=dict)  # a few values, to verify
    _watch: set[bytes] = field(default_factory=set)  # the keys a wait is waiting for
    _left: int = 0  # how many of them are still undecided
    _task: asyncio.Task[None] | None = None
    _consumer: AIOKafkaConsumer | None = None
    _fetch: dict[str, int] = field(default_factory=dict)
    _positions: dict[TopicPartition, int] = field(default_factory=dict)

    async def start(self, *, precise: bool = True) -> None:
        self._fetch = PRECISE if precise else COARSE
        consumer = self.kafka.consumer(
            group_id=None, enable_auto_commit=False, max_poll_records=20_000, **self._fetch
        )
        await consumer.start()
        tps = [TopicPartition(t, p) for t, n in self.partitions.items() for p in range(n)]
        consumer.assign(tps)
        if self._positions:
            for tp in tps:
                consumer.seek(tp, self._positions[tp])
        else:
            await consumer.seek_to_beginning(*tps)
        self._consumer = consumer
        self._task = asyncio.create_task(self._run(consumer))

    async def precise(self, on: bool = True) -> None:
        """Fetch as :data:`PRECISE` (or :data:`COARSE`) from now on."""
        if self._fetch is (PRECISE if on else COARSE):
            return
        await self.stop()
        await self.start(precise=on)

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batch = await consumer.getmany(timeout_ms=50, max_records=20_000)
            now = time.monotonic()
            shift = time.time() - now
            for records in batch.values():
                for r in records:
                    value = r.value or b""
                    if r.key is None or DECISION_ID not in value:
                        continue  # a notice, not a decision
                    if r.key not in self.first:
                        self.first[r.key] = now
                        self.made[r.key] = r.timestamp / 1000 - shift
                        if r.key in self._watch:
                            self._left -= 1
                    self.count[r.key] += 1
                    if len(self.sample) < 200:
                        self.sample.setdefault(r.key, value)

    async def stop(self) -> None:
        """Stop tailing; a later :meth:`start` goes on from the next record not read."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            self._positions = {tp: await consumer.position(tp) for tp in consumer.assignment()}
            await consumer.stop()

    def failed(self) -> BaseException | None:
        if self._task is not None and self._task.done() and not self._task.cancelled():
            return self._task.exception()
        return None

    async def wait(
        self, keys: Iterable[bytes], *, until: float, say: Say, what: str, every: float = 10.0
    ) -> list[bytes]:
        """Wait until every key has a decision or the monotonic time ``until``; returns the
        keys still undecided. Says how far it got every ``every`` seconds."""
        self._watch = set(keys)
        self._left = sum(1 for k in self._watch if k not in self.first)
        total, shown = len(self._watch), time.monotonic()
        try:
            while self._left > 0 and (now := time.monotonic()) <= until:
                if (err := self.failed()) is not None:
                    raise RuntimeError(f"the decision reader failed: {err!r}")
                if now - shown >= every:
                    say(f"    {what}: {total - self._left}/{total} decided")
                    shown = now
                await asyncio.sleep(0.01)
            return [k for k in self._watch if k not in self.first]
        finally:
            self._watch, self._left = set(), 0


async def end_offsets(kafka: KafkaClients) -> dict[str, int]:
    """Records on every topic of the broker, internal ones included (its end offsets,
    summed over partitions)."""
    admin = kafka.admin()
    await admin.start()
    try:
        names = set(await admin.list_topics())
    finally:
        await admin.close()
    counts = await wait_for_topics(kafka, names)
    consumer = kafka.consumer(group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t, n in counts.items() for p in range(n)]
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    out: Counter[str] = Counter()
    for tp, end in ends.items():
        out[tp.topic] += end
    return dict(out)


async def group_members(kafka: KafkaClients, group: str) -> tuple[str, int]:
    """``(state, members)`` of a consumer group."""
    admin = kafka.admin()
    await admin.start()
    try:
        for response in await admin.describe_consumer_groups([group]):
            for g in response.groups:
                return str(g[2]), len(g[5])
        return "Unknown", 0
    finally:
        await admin.close()


async def wait_group(kafka: KafkaClients, group: str, members: int, timeout: float) -> float:
    """Wait until ``group`` is stable with ``members`` members; returns the seconds waited."""
    t0 = time.monotonic()
    seen: tuple[str, int] = ("", 0)
    while time.monotonic() - t0 < timeout:
        try:
            seen = await group_members(kafka, group)
        except KafkaError as exc:  # no coordinator yet: the group is still forming
            seen = (type(exc).__name__, 0)
        if seen == ("Stable", members):
            return time.monotonic() - t0
        await asyncio.sleep(0.5)
    raise RuntimeError(f"group {group} not stable with {members} members: {seen}")


async def pipe(
    kafka: KafkaClients,
    partitions: dict[str, int],
    say: Say,
    cpu: Callable[[], tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """A bare consume→produce pipe over what the input topics hold: a fresh group reads
    them, each record goes to a scratch topic (acks=all, batched), one commit per fetched
    batch. Returns records, seconds (first fetch to last commit) and records/s; with
    ``cpu`` (CPU seconds so far of the broker and of this process), the CPU each used per
    record moved over the same span."""
    inputs = {t: n for t, n in partitions.items() if t.startswith(INPUT_PREFIX)}
    ends = await end_offsets(kafka)
    want = sum(ends.get(t, 0) for t in inputs)
    await create_topics(kafka, {PIPE_TOPIC: max(inputs.values())})
    consumer = kafka.consumer(
        *inputs,
        group_id=f"bench-pipe-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=2_000,
    )
    producer = kafka.producer(acks="all", linger_ms=5, max_batch_size=256 * 1024)
    await consumer.start()
    await producer.start()
    moved, t0, deadline = 0, 0.0, time.monotonic() + 120 + want / 500
    cpu0 = cpu1 = (0.0, 0.0)
    try:
        while moved < want and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            if not batch:
                continue
            if not t0:
                t0, cpu0 = time.monotonic(), cpu() if cpu else cpu0
            sent = [
                await producer.send(PIPE_TOPIC, r.value, key=r.key)
                for records in batch.values()
                for r in records
            ]
            await asyncio.gather(*sent)
            await consumer.commit()
            moved += len(sent)
        seconds = time.monotonic() - t0 if t0 else 0.0
        cpu1 = cpu() if cpu else cpu1
    finally:
        await producer.stop()
        await consumer.stop()
    if moved < want:
        raise RuntimeError(f"the pipe moved {moved} of {want} records")
    out = {"records": moved, "seconds": seconds, "records_per_s": moved / seconds}
    if cpu:
        out["broker_cpu_us_per_record"] = (cpu1[0] - cpu0[0]) * 1e6 / moved
        out["client_cpu_us_per_record"] = (cpu1[1] - cpu0[1]) * 1e6 / moved
    say(f"  pipe: {moved} records in {seconds:.2f} s")
    return out


async def warm_up(kafka: KafkaClients, seconds: float, say: Say) -> dict[str, Any]:
    """Traffic of the gateway's kinds (small and large produce batches, acks=all, fetches,
    offset commits) on a scratch topic for ``seconds``, so the broker's JVM has compiled its
    request paths before anything is timed: a fresh broker's JIT compilers otherwise spend
    several CPU seconds during the first timed burst, on a machine the workers share.
    Returns the records moved and the broker's traffic time."""
    await create_topics(kafka, {WARM_TOPIC: 4})
    producer = kafka.producer(acks="all", linger_ms=1)
    consumer = kafka.consumer(
        WARM_TOPIC,
        group_id=f"bench-warm-up-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await producer.start()
    await consumer.start()
    value = b"w" * 550  # about an input's size
    moved, turns, sizes, t0 = 0, 0, (1, 7, 60, 500), time.monotonic()
    try:
        while time.monotonic() - t0 < seconds:
            n = sizes[turns % len(sizes)]
            turns += 1
            sent = [await producer.send(WARM_TOPIC, value, key=str(i).encode()) for i in range(n)]
            await asyncio.gather(*sent)
            got = 0
            while got < n:
                if time.monotonic() - t0 > seconds + 60:
                    raise RuntimeError(f"the broker warm-up read {got} of {n} records back")
                batch = await consumer.getmany(timeout_ms=1000)
                got += sum(map(len, batch.values()))
                if batch:
                    await consumer.commit()
            moved += n
    finally:
        await consumer.stop()
        await producer.stop()
    say(f"  broker warm-up: {moved} records in {time.monotonic() - t0:.0f} s (untimed)")
    return {"records": moved, "seconds": time.monotonic() - t0}
