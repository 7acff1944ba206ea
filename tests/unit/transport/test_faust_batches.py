"""Batches whose wait starts at their first event (``gateway.transport.faust_batches``):
the window, the events that waited while a batch was handled, the cap, the acknowledgements.

The stream is a stand-in with the part of faust's ``Stream`` the batches use (processors
called one event at a time with the event current, as faust's passive drain calls them);
every worker test runs the real stream (``gateway.worker.batches.consume``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import pytest

from gateway.transport.faust_batches import take_batches


class Channel:
    def __aiter__(self) -> Channel:
        return self

    async def __anext__(self) -> Any:
        raise StopAsyncIteration


class Stream:
    """faust's stream as the batches see it."""

    def __init__(self) -> None:
        self.enable_acks = True
        self._processors: list[Callable[[Any], Awaitable[Any]]] = []
        self._active_agens: set[Any] = set()
        self.current_event: Any = None
        self.should_stop = False
        self.acked: list[int] = []
        self.channel = Channel()
        self.passive = False

    def add_processor(self, fun: Callable[[Any], Awaitable[Any]]) -> None:
        self._processors.append(fun)

    def _enable_passive(self, channel: Any) -> None:
        self.passive = True

    async def deliver(self, *values: int, sizes: tuple[int, ...] = ()) -> None:
        """What faust's drain does with each event: every processor, the event current
        (its record's value of ``sizes[i]`` bytes, 1 if not given)."""
        for i, value in enumerate(values):
            size = sizes[i] if i < len(sizes) else 1
            message = SimpleNamespace(value=b"x" * size)
            self.current_event = SimpleNamespace(value=value, message=message)
            for processor in self._processors:
                await processor(value)

    async def wait(self, event: asyncio.Event) -> Any:
        await event.wait()
        return SimpleNamespace(stopped=False)

    async def wait_for_stopped(self, event: asyncio.Event, timeout: float | None = None) -> bool:
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        return False

    async def ack(self, event: Any) -> bool:
        self.acked.append(event.value)
        return True


def _take(stream: Stream, max_: int, within: float, max_bytes: int | None = None) -> Any:
    fake: Any = stream
    return take_batches(fake, max_, within, max_bytes)


def _values(batch: list[Any]) -> list[int]:
    return [e.value for e in batch]


def test_events_that_waited_during_a_batch_go_when_it_returns() -> None:
    within = 0.3

    async def scenario() -> tuple[float, list[int], float, list[int]]:
        stream = Stream()
        batches = _take(stream, 100, within)
        first = asyncio.ensure_future(anext(batches))
        await asyncio.sleep(0)  # the generator starts and adds its processor
        start = time.monotonic()
        await stream.deliver(1)
        got = await first
        first_wait = time.monotonic() - start
        # While the first batch is handled, two more arrive and wait longer than a window.
        await stream.deliver(2, 3)
        await asyncio.sleep(within + 0.05)
        returned = time.monotonic()
        second = await anext(batches)  # the first batch's body returns here
        second_wait = time.monotonic() - returned
        await batches.aclose()
        return first_wait, _values(got), second_wait, _values(second)

    first_wait, first, second_wait, second = asyncio.run(scenario())
    assert first == [1]
    assert first_wait >= within * 0.95  # a lone event waits its window for company
    assert second == [2, 3]
    # faust's take_events would wait a whole window more after the body returns
    assert second_wait < within / 2


def test_a_full_batch_goes_at_once_and_the_stream_waits_for_room() -> None:
    async def scenario() -> tuple[list[list[int]], list[int], bool, bool, list[int]]:
        stream = Stream()
        batches = _take(stream, 2, 60.0)  # the window never ends in this test
        pending = asyncio.ensure_future(anext(batches))
        await asyncio.sleep(0)
        feeding = asyncio.ensure_future(stream.deliver(1, 2, 3, 4, 5))
        got = [_values(await asyncio.wait_for(pending, 5))]
        await asyncio.sleep(0.05)
        acked_while_handled = list(stream.acked)
        held = not feeding.done()  # 3 and 4 wait for the next batch, 5 for room
        got.append(_values(await asyncio.wait_for(anext(batches), 5)))
        await asyncio.sleep(0.05)
        fed = feeding.done()  # 3 and 4 handed over: 5 found room
        acked = list(stream.acked)
        await batches.aclose()
        return got, acked_while_handled, held, fed, acked

    got, acked_while_handled, held, fed, acked = asyncio.run(scenario())
    assert got == [[1, 2], [3, 4]]
    assert acked_while_handled == []  # nothing is acknowledged before its body returns
    assert held and fed
    assert acked == [1, 2]  # the first batch's, once the next was asked for


def test_the_stream_is_restored_when_the_batches_close() -> None:
    async def scenario() -> Stream:
        stream = Stream()
        batches = _take(stream, 10, 0.01)
        pending = asyncio.ensure_future(anext(batches))
        await asyncio.sleep(0)
        assert stream.enable_acks is False and stream.passive and len(stream._processors) == 1
        assert batches in stream._active_agens  # faust closes it when the stream stops
        await stream.deliver(7)
        assert _values(await pending) == [7]
        await batches.aclose()
        return stream

    stream = asyncio.run(scenario())
    assert stream.enable_acks is True
    assert stream._processors == []
    assert stream.acked == [7]  # closed after its body: acknowledged


def test_a_batch_is_full_once_its_values_reach_max_bytes() -> None:
    """Large records go in small batches: the record that reaches the bound is the last of
    its batch, one larger than the bound is a batch of its own, and the stream waits for
    room meanwhile, as for a batch full by count."""

    async def scenario() -> tuple[list[list[int]], bool]:
        stream = Stream()
        batches = _take(stream, 100, 60.0, max_bytes=10)  # the window never ends here
        pending = asyncio.ensure_future(anext(batches))
        await asyncio.sleep(0)
        feeding = asyncio.ensure_future(
            stream.deliver(1, 2, 3, 4, 5, 6, 7, sizes=(4, 4, 4, 30, 9, 1, 1))
        )
        got = [_values(await asyncio.wait_for(pending, 5))]
        await asyncio.sleep(0.05)
        held = not feeding.done()  # 4 waits for the next batch, 5 for room
        for _ in range(2):
            got.append(_values(await asyncio.wait_for(anext(batches), 5)))
        await asyncio.sleep(0.05)
        await batches.aclose()
        return got, held

    got, held = asyncio.run(scenario())
    assert got == [[1, 2, 3], [4], [5, 6]]  # 4+4+4 >= 10; 30 alone; 9+1 >= 10
    assert held


@pytest.mark.parametrize(
    ("max_", "within", "max_bytes"), [(0, 0.01, None), (10, -1.0, None), (10, 0.01, 0)]
)
def test_a_batch_of_nothing_or_a_negative_wait_is_refused(
    max_: int, within: float, max_bytes: int | None
) -> None:
    with pytest.raises(ValueError, match="at least one event"):
        _take(Stream(), max_, within, max_bytes)
