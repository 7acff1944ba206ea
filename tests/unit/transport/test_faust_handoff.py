"""The worker consumer's hand-off of fetched records (``gateway.transport.faust_transport``):
faust's rules (order, offsets below the read offset, gaps), one task per record, and a flow
stop that passes over a record waiting for room without stopping the drain.

The consumer is faust's, built for an app whose broker is never reached; the streams'
callback and the gap store are stand-ins (the integration tests run the real ones: every
worker test, and the rebalances of ``tests/integration/test_workers.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from faust.types import TP

from gateway.core.topics import LEDGER_TOPIC
from gateway.transport.clients import Credentials, KafkaClients
from gateway.transport.faust_transport import Consumer

TOPIC = LEDGER_TOPIC
TP0 = TP(TOPIC, 0)


def _message(offset: int) -> Any:
    return SimpleNamespace(topic=TOPIC, partition=0, tp=TP0, offset=offset, key=b"k", value=b"v")


class Streams:
    """The streams' side of the hand-off: records taken, and a switch that makes the next
    hand-off wait (a full stream buffer)."""

    def __init__(self) -> None:
        self.taken: list[int] = []
        self.room = asyncio.Event()
        self.room.set()
        self.waiting = asyncio.Event()

    async def callback(self, message: Any) -> None:
        if not self.room.is_set():
            self.waiting.set()
            await self.room.wait()
        self.taken.append(message.offset)


@pytest.fixture
def consumer() -> Iterator[Consumer]:
    kafka = KafkaClients("127.0.0.1:1", Credentials("gw-worker", "secret"))
    app = kafka.faust_app("gw", autodiscover=False, fetch_max_wait_ms=10)
    made = app.consumer
    assert isinstance(made, Consumer)
    try:
        yield made
    finally:
        made._thread.thread_loop.close()  # noqa: SLF001 - the thread's own loop (never ran)


def _wire(consumer: Consumer, streams: Streams, gaps: list[tuple[int, int]]) -> None:
    async def add_gap(tp: TP, start: int, end: int) -> None:
        gaps.append((start, end))

    stand_in: Any = consumer
    stand_in.callback = streams.callback
    stand_in._add_gap = add_gap  # noqa: SLF001
    consumer.app.topics.acks_enabled_for = lambda topic: True  # type: ignore[method-assign]


def test_records_are_handed_over_in_order_and_move_the_read_offset(consumer: Consumer) -> None:
    async def scenario() -> tuple[list[int], list[tuple[int, int]]]:
        streams, gaps = Streams(), []  # type: ignore[var-annotated]
        _wire(consumer, streams, gaps)
        for offset in (5, 6, 7, 3, 7, 12):  # 3 and the second 7: below the read offset
            await consumer._hand_over(TP0, _message(offset))  # noqa: SLF001
            assert consumer._handing is None  # noqa: SLF001
        return streams.taken, gaps

    taken, gaps = asyncio.run(scenario())
    assert taken == [5, 6, 7, 7, 12]  # faust hands over a record at the read offset again
    assert gaps == [(8, 12)]  # 8..11 never came (compacted, or a transaction's marker)
    assert consumer._read_offset[TP0] == 12  # noqa: SLF001


def test_a_flow_stop_passes_over_the_waiting_record_and_the_drain_goes_on(
    consumer: Consumer,
) -> None:
    async def scenario() -> list[int]:
        streams: Streams = Streams()
        _wire(consumer, streams, [])
        await consumer._hand_over(TP0, _message(1))  # noqa: SLF001
        streams.room.clear()
        waiting = asyncio.ensure_future(consumer._hand_over(TP0, _message(2)))  # noqa: SLF001
        await streams.waiting.wait()
        consumer.stop_flow()  # a rebalance starts
        await waiting  # returns: the drain is not cancelled
        streams.room.set()
        await consumer._hand_over(TP0, _message(3))  # noqa: SLF001 - flow stopped: passed over
        consumer.resume_flow()
        await consumer._hand_over(TP0, _message(4))  # noqa: SLF001
        return streams.taken

    assert asyncio.run(scenario()) == [1, 4]
    assert consumer._read_offset[TP0] == 4  # noqa: SLF001


def test_cancelling_the_drain_cancels_the_hand_off(consumer: Consumer) -> None:
    async def scenario() -> tuple[bool, bool]:
        streams: Streams = Streams()
        _wire(consumer, streams, [])
        streams.room.clear()
        drain = asyncio.ensure_future(consumer._hand_over(TP0, _message(1)))  # noqa: SLF001
        await streams.waiting.wait()
        handing = consumer._handing  # noqa: SLF001
        assert handing is not None
        drain.cancel()  # the fetcher stops
        with pytest.raises(asyncio.CancelledError):
            await drain
        return handing.cancelled(), consumer._read_offset[TP0] is None  # noqa: SLF001

    assert asyncio.run(scenario()) == (True, True)


def test_nothing_is_handed_over_while_the_partitions_are_sought_back(consumer: Consumer) -> None:
    """faust seeks the stream partitions after a recovery with the flow running, then clears
    the streams' buffers: a record handed over during the seek would be lost."""

    async def scenario() -> tuple[list[int], int | None, bool]:
        streams: Streams = Streams()
        _wire(consumer, streams, [])
        sought, seek_done = asyncio.Event(), asyncio.Event()

        async def seek_to_committed() -> dict[TP, int]:
            sought.set()
            await seek_done.wait()  # the broker answers
            return {TP0: 3}

        stand_in: Any = consumer
        stand_in.seek_to_committed = seek_to_committed
        await consumer._hand_over(TP0, _message(2))  # noqa: SLF001
        seeking = asyncio.ensure_future(consumer.perform_seek())
        await sought.wait()
        await consumer._hand_over(TP0, _message(5))  # noqa: SLF001 - fetched during the seek
        seek_done.set()
        await seeking
        read_after_seek = consumer._read_offset[TP0]  # noqa: SLF001
        stopped = not consumer.flow_active
        consumer.resume_flow()  # faust's recovery: buffers cleared, then the flow resumes
        for offset in (3, 4, 5):  # fetched again from the committed offset
            await consumer._hand_over(TP0, _message(offset))  # noqa: SLF001
        return streams.taken, read_after_seek, stopped

    taken, read_after_seek, stopped = asyncio.run(scenario())
    assert stopped  # the caller resumes the flow
    assert read_after_seek == 3
    assert taken == [2, 3, 4, 5]
    assert consumer._read_offset[TP0] == 5  # noqa: SLF001


def test_a_seek_during_a_hand_off_keeps_its_read_offset(consumer: Consumer) -> None:
    async def scenario() -> list[int]:
        streams: Streams = Streams()
        _wire(consumer, streams, [])
        for offset in (10, 11):
            await consumer._hand_over(TP0, _message(offset))  # noqa: SLF001
        streams.room.clear()
        waiting = asyncio.ensure_future(consumer._hand_over(TP0, _message(12)))  # noqa: SLF001
        await streams.waiting.wait()
        consumer._read_offset[TP0] = 7  # noqa: SLF001 - a seek back to 7 (the watchdog's)
        streams.room.set()
        await waiting
        for offset in (7, 8, 9, 10, 11, 12):  # fetched again from 7
            await consumer._hand_over(TP0, _message(offset))  # noqa: SLF001
        return streams.taken

    assert asyncio.run(scenario()) == [10, 11, 12, 7, 8, 9, 10, 11, 12]
