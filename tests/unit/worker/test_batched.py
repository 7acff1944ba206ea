"""Batched changelogs: a batch's rows in one sealed record per partition (chunked), the
record bound to its table, partition and key; recovery explodes it into the rows (both
stores), applies a row's own record of the older layout, and refuses what a gateway
process did not write; a failed record's rows go out again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from faust.types import TP

from gateway.alerts import counts
from gateway.core import mac
from gateway.core.topics import input_topic
from gateway.errors import WorkerError
from gateway.transport.clients import KafkaClients
from gateway.worker.batched import (
    CHUNK_BYTES,
    BatchedTable,
    batched_table,
    chunks,
    is_batch,
    pack,
    rows_of,
    unpack,
)
from gateway.worker.batches import in_partition
from gateway.worker.runtime import Changes
from gateway.worker.sealed import Seal
from tests.unit.worker import test_changes as tc

SECRET = bytes(range(1, 33))
TOPIC = "gw-inputs-changelog"
SOURCE = input_topic("MNG01")


def _rows(n: int, size: int = 10) -> list[tuple[bytes, bytes]]:
    return [(f'"k|{i}"'.encode(), bytes([i % 256]) * size) for i in range(n)]


def test_rows_pack_into_records_and_back() -> None:
    rows = _rows(50)
    ((key, value, keys),) = pack(SECRET, TOPIC, 3, rows)
    assert is_batch(key) and key.startswith(b"batch|3|")
    assert keys == [k for k, _ in rows]
    assert unpack(SECRET, TOPIC, 3, key, value) == rows
    # The key follows the content: the same rows, the same record; other rows, another.
    assert pack(SECRET, TOPIC, 3, rows)[0][:2] == (key, value)
    assert pack(SECRET, TOPIC, 3, rows[1:])[0][0] != key


def test_a_batch_is_cut_into_chunks_and_a_large_row_goes_alone() -> None:
    rows = [*_rows(30, size=100), (b'"big"', b"x" * 5000), *_rows(3, size=100)]
    bodies = list(chunks(rows, limit=1000))
    assert [k for _, keys in bodies for k in keys] == [k for k, _ in rows]
    got = [row for body, _ in bodies for row in rows_of(body)]
    assert got == rows
    for body, keys in bodies:
        assert len(body) <= 1 + 1000 or keys == [b'"big"']
    assert [b'"big"'] in [keys for _, keys in bodies]
    records = pack(SECRET, TOPIC, 0, rows, limit=1000)
    assert len(records) == len(bodies) > 3
    assert len({k for k, _, _ in records}) == len(records)  # every chunk its own key
    # The default keeps a record well below Kafka's 1 MiB max.message.bytes.
    big = pack(SECRET, TOPIC, 0, _rows(3000, size=1000))
    assert len(big) > 1 and all(len(v) <= CHUNK_BYTES + 64 for _, v, _ in big)


def test_a_batch_record_is_bound_to_its_secret_table_partition_and_key() -> None:
    ((key, value, _),) = pack(SECRET, TOPIC, 1, _rows(5))
    assert unpack(SECRET, TOPIC, 1, key, value) is not None
    assert unpack(bytes(32), TOPIC, 1, key, value) is None  # another key: forged
    assert unpack(SECRET, "gw-decisions-changelog", 1, key, value) is None  # another table
    moved = key.replace(b"batch|1|", b"batch|2|")
    assert unpack(SECRET, TOPIC, 2, key, value) is None  # read at another partition
    assert unpack(SECRET, TOPIC, 2, moved, value) is None  # rekeyed for it too
    assert unpack(SECRET, TOPIC, 1, key[:-1] + b"0", value) is None  # another digest
    flipped = bytearray(value)
    flipped[10] ^= 1
    assert unpack(SECRET, TOPIC, 1, key, bytes(flipped)) is None
    assert unpack(SECRET, TOPIC, 1, key, value[:20]) is None
    with pytest.raises(ValueError):
        rows_of(b"\x01\x00\x00\x00\x09short")
    with pytest.raises(ValueError):
        rows_of(b"\x00")
    with pytest.raises(WorkerError, match="newer release") as newer:
        rows_of(b"\x02")
    assert newer.value.code == "WORKER-VERSION"


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None = None
    value: bytes | None = None

    @property
    def tp(self) -> TP:
        return TP(self.topic, self.partition)


@dataclass(eq=False)
class Event:
    message: Message


def _at(partition: int) -> Any:
    """An event of the source topic's ``partition``, for :func:`in_partition`."""
    return Event(Message(SOURCE, partition, 0))


def _table(store: str, datadir: Path) -> BatchedTable:
    kafka = KafkaClients("127.0.0.1:1", None, security_protocol="PLAINTEXT")
    app = kafka.faust_app("gw", store=store, datadir=str(datadir))
    seal = Seal(SECRET, skew_s=60)
    table = batched_table(app, seal.secret, "inputs", 4)
    seal.seal_table(table)
    table._verified_source_topics_for_partitions.add(SOURCE)  # noqa: SLF001 - no broker here
    return table


@pytest.fixture(params=["memory://", "rocksdb://"])
def store(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


def _write(table: BatchedTable, rows: dict[int, dict[str, Any]]) -> None:
    for partition, values in rows.items():
        with in_partition(_at(partition)):
            for key, value in values.items():
                table[key] = value


def _sent(table: BatchedTable, first_offset: int = 0) -> list[Event]:
    """The table's pending rows as the changelog records recovery reads back."""

    async def take() -> list[Any]:
        return table.records()

    futures = asyncio.run(take())
    name = table.changelog_topic.get_topic_name()
    return [
        Event(Message(name, f.message.partition, first_offset + i, f.message.key, f.message.value))
        for i, f in enumerate(futures)
    ]


def _read(table: BatchedTable, partition: int, key: str) -> Any:
    with in_partition(_at(partition)):
        return table.get(key)


def test_rows_are_read_at_once_and_recovered_from_one_record_per_partition(
    store: str, tmp_path: Path
) -> None:
    rows: dict[int, dict[str, Any]] = {
        0: {f"MNG01|e{i}": {"sha256": f"s{i}", "entry": None} for i in range(40)},
        2: {"JPN01|x": {"sha256": "x", "entry": {"id": "d"}}},
    }
    table = _table(store, tmp_path / "a")
    _write(table, rows)
    assert _read(table, 0, "MNG01|e7") == {"sha256": "s7", "entry": None}  # the store's
    assert _read(table, 0, "MNG01|nope") is None
    records = _sent(table, first_offset=10)
    assert sorted(e.message.partition for e in records) == [0, 2]  # a record per partition
    assert table.pending.rows == {}
    assert all(is_batch(e.message.key) for e in records)

    fresh = _table(store, tmp_path / "b")  # another worker, no local state
    fresh.apply_changelog_batch(records)
    for partition, values in rows.items():
        for key, value in values.items():
            assert _read(fresh, partition, key) == value
    if store == "rocksdb://":  # the store knows which changelog offset it holds
        assert fresh.data.persisted_offset(records[0].message.tp) == 10


def test_a_later_record_wins_and_a_row_of_the_older_layout_is_applied(
    store: str, tmp_path: Path
) -> None:
    table = _table(store, tmp_path / "a")
    _write(table, {1: {"A|1": {"v": 1}, "A|2": {"v": 1}}})
    first = _sent(table)
    _write(table, {1: {"A|1": {"v": 2}}})
    second = _sent(table, first_offset=1)
    name = table.changelog_topic.get_topic_name()
    old = Event(Message(name, 1, 2, b'"A|3"', mac.seal_value(SECRET, b'{"v":3}')))
    fresh = _table(store, tmp_path / "b")
    fresh.apply_changelog_batch([*first, *second, old])
    assert [_read(fresh, 1, f"A|{i}") for i in (1, 2, 3)] == [{"v": 2}, {"v": 1}, {"v": 3}]


def test_a_forged_changelog_record_is_not_applied(store: str, tmp_path: Path) -> None:
    table = _table(store, tmp_path / "a")
    _write(table, {0: {"A|1": {"v": 1}}})
    (good,) = _sent(table)
    name = table.changelog_topic.get_topic_name()
    ((key, value, _),) = pack(bytes(32), name, 0, [(b'"A|2"', mac.seal_value(bytes(32), b"{}"))])
    forged = [
        Event(Message(name, 0, 5, key, value)),  # sealed under another key
        Event(Message(name, 3, 6, good.message.key, good.message.value)),  # moved
        Event(Message(name, 0, 7, b'"A|3"', b'{"v":3}' + bytes(32))),  # a row, unsealed
        Event(Message(name, 0, 8, b'"A|1"', None)),  # a deletion
    ]
    before = counts()["A6-ALERT-003"]
    fresh = _table(store, tmp_path / "b")
    fresh.apply_changelog_batch([good, *forged])
    assert fresh.refused == 4 and counts()["A6-ALERT-003"] == before + 4
    assert _read(fresh, 0, "A|1") == {"v": 1}  # the deletion was not applied either
    assert _read(fresh, 0, "A|2") is None and _read(fresh, 0, "A|3") is None
    if store == "rocksdb://":  # (the in-memory store keeps every partition in one dict)
        assert _read(fresh, 3, "A|1") is None


def test_a_failed_record_puts_its_rows_back_as_the_store_has_them(
    store: str, tmp_path: Path
) -> None:
    table = _table(store, tmp_path / "a")
    _write(table, {0: {"A|1": {"v": 1}, "A|2": {"v": 1}}, 1: {"B|1": {"v": 1}}})

    async def scenario() -> None:
        futures = table.records()
        _write(table, {0: {"A|2": {"v": 2}}})  # written again while the record is out
        by_partition = {f.message.partition: f for f in futures}
        by_partition[0].set_exception(ConnectionError("broker gone"))
        by_partition[1].cancel()
        await asyncio.sleep(0)  # done callbacks run on the loop
        pending = {p: {table.loads_key(k): table.loads_value(v)} for p, rows in
                   table.pending.rows.items() for k, v in rows.items()}  # fmt: skip
        assert set(table.pending.rows) == {0, 1}
        assert {table.loads_key(k): table.loads_value(v) for k, v in
                table.pending.rows[0].items()} == {"A|1": {"v": 1}, "A|2": {"v": 2}}  # fmt: skip
        assert pending[1] == {"B|1": {"v": 1}}
        again = table.records()
        assert sorted(f.message.partition for f in again) == [0, 1]

    asyncio.run(scenario())


def test_the_changelog_reads_bytes_and_the_store_sealed_json(tmp_path: Path) -> None:
    table = _table("rocksdb://", tmp_path)
    topic: Any = table.changelog_topic
    assert (topic.key_serializer, topic.value_serializer) == ("raw", "raw")
    assert (topic.schema.key_serializer, topic.schema.value_serializer) == ("raw", "raw")
    assert topic.acks is False and topic.internal  # as faust makes a changelog topic
    assert table.key_serializer == "json" and table.value_serializer != "raw"
    _write(table, {0: {"A|1": {"v": 1}}})
    ((key, value),) = table.pending.rows[0].items()
    assert (key, mac.open_value(SECRET, value)) == (b'"A|1"', b'{"v":1}')


def test_rows_are_set_never_deleted(tmp_path: Path) -> None:
    table = _table("memory://", tmp_path)
    _write(table, {0: {"A|1": {"v": 1}}})
    with in_partition(_at(0)), pytest.raises(TypeError):
        del table["A|1"]


class Batched:
    """A batched table as ``Changes`` sees it: its records, taken when a commit waits."""

    def __init__(self, channel: tc.Channel) -> None:
        self.channel = channel
        self.rows: list[str] = []
        self.taken: list[list[str]] = []

    def records(self) -> list[Any]:
        rows, self.rows = self.rows, []
        if not rows:
            return []
        self.taken.append(rows)
        fut = tc.Future()
        fut.message = tc.Message(self.channel, "batch|" + ",".join(rows), 0)
        return [fut]


def test_a_commit_publishes_the_batched_rows_and_a_tracked_write_does_not() -> None:
    channel = tc.Channel()

    async def scenario() -> None:
        changes = Changes()
        batched = Batched(channel)
        changes.batched.append(batched)  # type: ignore[arg-type]
        cursors: Any = changes.track(tc.Table(channel))  # type: ignore[arg-type]
        batched.rows += ["a", "b"]
        cursors.send_changelog(0, "cursor", 1)
        await asyncio.sleep(0.05)  # the tracked write is published soon, alone
        assert channel.published == ["cursor"] and batched.taken == []
        batched.rows += ["c"]
        await changes.wait()  # a commit: every row so far, in one record
        assert channel.published == ["cursor", "batch|a,b,c"]
        assert changes.pending == []

    asyncio.run(scenario())
