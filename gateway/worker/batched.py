"""Tables whose changelog holds one record per batch, not one per row: :class:`BatchedTable`.

The ``inputs`` table (ingest's dedup rows) and the ``decisions`` table (the ledger's) take a
row per input. faust writes one changelog record per row (serialised again, sealed again,
one producer send each); here a row goes into the local store at once, as before (a read by
key is the store's: RocksDB, O(log n)), and the rows written since the last flush go to the
changelog together, one record per table partition (:func:`pack`), when the worker waits
for its writes (:meth:`gateway.worker.runtime.Changes.wait`, at an agent's commit).

**A batch record** is keyed ``batch|<partition>|<digest>`` and its value is the rows, each
as the store keeps it (the key's and the sealed value's bytes, so the write serialises a
row once and the recovery puts the bytes back as they are), then one MAC over the rows, the
changelog topic and ``batch|<partition>`` (:func:`gateway.core.mac.tag`), so a record moved
to another partition or table does not verify. The digest is the MAC's first 16 bytes: the
key is a function of the content, so a retried batch overwrites its own record and two
batches never share a key (compaction, which keeps the last record of a key, keeps every
row's last write). A batch larger than :data:`CHUNK_BYTES` is cut into several records (a
row larger than that alone in one: the changelog topics take four times an input, see
``gateway.transport.sizes``).

**Recovery** (a fresh worker, a rebalance, or the records the local store missed) goes
through :meth:`BatchedTable.apply_changelog_batch`: each batch record is checked and
exploded into its rows, which the store takes as if each had its own record; a record of
one row (written before this layout) is applied as it is (a worker of that layout cannot
read a batch record: upgrade the workers of a gateway together). A record whose MAC does not
verify (or a deletion: these tables delete nothing) is not applied: alert ``A6-ALERT-003``
and the record is skipped, as faust skips a value its codec refuses.

A record whose send fails puts its rows back among the pending ones, with the value the
store holds then (the newest), so the next flush writes them; the waiter that saw the
failure retries its run (``Shield.retry``).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from faust.stores.base import SerializedStore
from faust.tables.table import Table
from faust.types import TP

from gateway.alerts import alert
from gateway.core import mac
from gateway.errors import WorkerError

#: the most bytes of rows in one batch record (Kafka's default max.message.bytes is 1 MiB)
CHUNK_BYTES = 512 * 1024
PREFIX = b"batch|"
#: the format of a batch record's rows (the first byte of its value); a newer one stops the
#: recovery (WORKER-VERSION) rather than losing rows. Records of format 1 must stay readable:
#: ``tests/fixtures/release-1/``.
VERSION = b"\x01"
_LEN = 4


def _scope(partition: int) -> bytes:
    return PREFIX + str(partition).encode()


def chunks(
    rows: Iterable[tuple[bytes, bytes]], limit: int = CHUNK_BYTES
) -> Iterator[tuple[bytes, list[bytes]]]:
    """The rows framed (``len key | key | len value | value``), cut into bodies of at most
    ``limit`` bytes of rows (a larger row alone); each body with its rows' keys."""
    parts: list[bytes] = []
    keys: list[bytes] = []
    size = 0
    for key, value in rows:
        framed = len(key).to_bytes(_LEN, "big") + key + len(value).to_bytes(_LEN, "big") + value
        if parts and size + len(framed) > limit:
            yield VERSION + b"".join(parts), keys
            parts, keys, size = [], [], 0
        parts.append(framed)
        keys.append(key)
        size += len(framed)
    if parts:
        yield VERSION + b"".join(parts), keys


def rows_of(body: bytes) -> list[tuple[bytes, bytes]]:
    """The rows :func:`chunks` framed in ``body``.

    :raises ValueError: ``body`` is not such a framing.
    :raises WorkerError: (WORKER-VERSION) its format is newer than :data:`VERSION`.
    """
    if body[:1] != VERSION:
        if body[:1] > VERSION:
            raise WorkerError(
                f"a changelog batch record of format {body[0]} was written by a newer release "
                f"(this one reads format {VERSION[0]}): upgrade every worker of the gateway "
                "together",
                code="WORKER-VERSION",
            )
        raise ValueError(f"batch record of unknown format {body[:1]!r}")
    view = memoryview(body)
    out: list[tuple[bytes, bytes]] = []
    at, end = 1, len(body)
    while at < end:
        fields = []
        for _ in range(2):
            if at + _LEN > end:
                raise ValueError("batch record cut short")
            n = int.from_bytes(view[at : at + _LEN], "big")
            at += _LEN
            if at + n > end:
                raise ValueError("batch record cut short")
            fields.append(bytes(view[at : at + n]))
            at += n
        out.append((fields[0], fields[1]))
    return out


def pack(
    secret: bytes,
    topic: str,
    partition: int,
    rows: Iterable[tuple[bytes, bytes]],
    limit: int = CHUNK_BYTES,
) -> list[tuple[bytes, bytes, list[bytes]]]:
    """The batch records (key, value) that carry ``rows`` on ``topic``'s ``partition``,
    each with the keys of its rows."""
    out = []
    for body, keys in chunks(rows, limit):
        tag = mac.tag(secret, topic, _scope(partition), body)
        out.append((_scope(partition) + b"|" + tag[:16].hex().encode(), body + tag, keys))
    return out


def unpack(
    secret: bytes, topic: str, partition: int, key: bytes, value: bytes
) -> list[tuple[bytes, bytes]] | None:
    """The rows of a batch record read at ``partition`` of ``topic``; None when it is not
    one a gateway process wrote there (its MAC, partition or key does not match)."""
    scope, _, digest = key.rpartition(b"|")
    if scope != _scope(partition) or len(value) < mac.TAG_BYTES:
        return None
    body, got = value[: -mac.TAG_BYTES], value[-mac.TAG_BYTES :]
    want = mac.tag(secret, topic, scope, body)
    if not hmac.compare_digest(got, want) or digest != want[:16].hex().encode():
        return None
    return rows_of(body)


def is_batch(key: bytes | None) -> bool:
    return key is not None and key.startswith(PREFIX)


class Pending:
    """The rows written and not yet handed over in a batch record, by partition (the last
    write of a key replaces an earlier one)."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[bytes, bytes]] = {}

    def put(self, partition: int, key: bytes, value: bytes) -> None:
        self.rows.setdefault(partition, {})[key] = value

    def take(self) -> dict[int, dict[bytes, bytes]]:
        rows, self.rows = self.rows, {}
        return rows

    def put_back(
        self, partition: int, keys: Iterable[bytes], current: Callable[[bytes], bytes | None]
    ) -> None:
        """The rows of a record that failed, as ``current`` reads them now (a row written
        again since is pending already, or went in a later record, with this value)."""
        mine = self.rows.setdefault(partition, {})
        for key in keys:
            if key not in mine and (value := current(key)) is not None:
                mine[key] = value


class RowMessage(NamedTuple):
    """What a store's ``apply_changelog_batch`` reads of a changelog record."""

    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes | None

    @property
    def tp(self) -> TP:
        return TP(self.topic, self.partition)


class Row:
    """One row of a changelog record, as the store's ``apply_changelog_batch`` takes an
    event (an in-memory store also reads the decoded key and value)."""

    __slots__ = ("message", "_table")

    def __init__(self, message: RowMessage, table: BatchedTable) -> None:
        self.message = message
        self._table = table

    @property
    def key(self) -> Any:
        return self._table.loads_key(self.message.key)

    @property
    def value(self) -> Any:
        return self._table.loads_value(self.message.value)


class BatchedTable(Table[str, Any]):
    """A faust table of sealed JSON values whose changelog takes a record per batch.

    Declare it with :func:`batched_table`; its rows reach the changelog when
    :meth:`records` is called (by ``Changes.publish``). Rows are set, never deleted.
    """

    secret: bytes
    pending: Pending
    refused: int

    def _new_changelog_topic(self, **kwargs: Any) -> Any:
        # The records are this module's bytes (the batch and its MAC), read back raw; faust
        # builds the topic (its settings, its schema) from the table's serializers, which
        # the store keeps using (the sealed JSON of each row).
        serializers = self.key_serializer, self.value_serializer
        self.key_serializer = self.value_serializer = "raw"
        try:
            return super()._new_changelog_topic(**kwargs)
        finally:
            self.key_serializer, self.value_serializer = serializers

    def __setitem__(self, key: str, value: Any) -> None:
        partition = self.partition_for_key(key)  # the event being processed's
        assert partition is not None  # a table of the worker's, not partitioned by the producer
        store: Any = self.data
        if isinstance(store, SerializedStore):
            k, v = store._encode_key(key), _bytes(store._encode_value(value))  # noqa: SLF001
            store._set(k, v)  # noqa: SLF001
        else:  # the in-memory store keeps the objects
            store[key] = value
            k, v = self.dumps_key(key), self.dumps_value(value)
        self.pending.put(partition, k, v)

    def __delitem__(self, key: str) -> None:
        raise TypeError(f"rows of the {self.name} table are not deleted")

    def dumps_key(self, key: Any) -> bytes:
        return _bytes(self.app.serializers.dumps_key(None, key, serializer=self.key_serializer))

    def dumps_value(self, value: Any) -> bytes:
        serializers = self.app.serializers
        return _bytes(serializers.dumps_value(None, value, serializer=self.value_serializer))

    def loads_key(self, key: bytes) -> Any:
        return self.app.serializers.loads_key(None, key, serializer=self.key_serializer)

    def loads_value(self, value: bytes | None) -> Any:
        if value is None:
            return None
        return self.app.serializers.loads_value(None, value, serializer=self.value_serializer)

    def records(self) -> list[Any]:
        """The pending rows as batch records handed to the changelog topic (faust's
        ``FutureMessage`` each, published by the caller); each keeps the store's record
        of the changelog offset it holds, and puts its rows back if it fails."""
        topic: Any = self.changelog_topic
        name = topic.get_topic_name()
        futures = []
        for partition, rows in self.pending.take().items():
            for key, value, keys in pack(self.secret, name, partition, rows.items()):
                fut = topic.as_future_message(
                    key=key,
                    value=value,
                    partition=partition,
                    key_serializer="raw",
                    value_serializer="raw",
                    callback=self._on_changelog_sent,
                    eager_partitioning=True,
                )
                fut.add_done_callback(self._settled(partition, keys))
                futures.append(fut)
        return futures

    def _settled(self, partition: int, keys: list[bytes]) -> Callable[[Any], None]:
        def settled(fut: Any) -> None:
            if fut.cancelled() or fut.exception() is not None:
                self.pending.put_back(partition, keys, lambda k: self._stored(partition, k))

        return settled

    def _stored(self, partition: int, key: bytes) -> bytes | None:
        """The bytes the store holds for ``key`` in ``partition``."""
        store: Any = self.data
        if isinstance(store, SerializedStore):
            got: bytes | None = store._db_for_partition(partition).get(key)  # type: ignore[attr-defined]  # noqa: SLF001
            return got
        value = store.data.get(self.loads_key(key))
        return None if value is None else self.dumps_value(value)

    def apply_changelog_batch(self, batch: Iterable[Any]) -> None:
        """Apply changelog records read at recovery: each batch record as its rows."""
        rows: list[Any] = []
        for event in batch:
            rows.extend(self._rows(event.message))
        self.data.apply_changelog_batch(rows, to_key=self._to_key, to_value=self._to_value)

    def _rows(self, msg: Any) -> list[Row]:
        key, value = msg.key, msg.value
        at = (msg.topic, msg.partition, msg.offset)
        if is_batch(key) and value is not None:
            rows = unpack(self.secret, msg.topic, msg.partition, key, value)
            if rows is not None:
                return [Row(RowMessage(*at, k, v), self) for k, v in rows]
        elif (
            key is not None and value is not None and mac.open_value(self.secret, value) is not None
        ):
            return [Row(RowMessage(*at, key, value), self)]  # a row's own record
        self.refused += 1
        alert(
            "A6-ALERT-003",
            f"{msg.topic}[{msg.partition}]@{msg.offset}: a changelog record without the MAC "
            "of a gateway process; not applied",
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
        )
        return []


def _bytes(data: bytes | None) -> bytes:
    if data is None:
        raise TypeError("a row of a batched table serialises to bytes")
    return data


def batched_table(app: Any, secret: bytes, name: str, partitions: int) -> BatchedTable:
    """A :class:`BatchedTable` declared on ``app`` (then sealed, ``Seal.seal_table``)."""
    table = BatchedTable(
        app, name=name, default=None, partitions=partitions, beacon=app.tables.beacon
    )
    table.secret = secret
    table.pending = Pending()
    table.refused = 0
    app.tables.add(table)
    return table
