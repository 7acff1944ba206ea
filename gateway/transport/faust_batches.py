"""Batches of a faust stream's events whose wait starts at the first event waiting:
:func:`take_batches`.

faust's ``Stream.take_events(max_, within)`` hands over what its buffer holds every
``within`` seconds, counted from the end of the last batch, and holds the stream still
while a batch is handled. An event that arrives while a batch commits (7-10 ms at 500
inputs/s: the broker's acknowledgement) therefore waits for that commit *and* a whole
window after it; at 500 inputs/s that was a third of an input's time at each hop.

Here, as a producer's ``linger.ms`` does, the window starts when the first event of the
next batch arrives: events keep being collected while a batch is handled, and those that
waited a window already go at once when it returns. A batch is at most ``max_`` events,
and with ``max_bytes`` it is full once its records' values reach that many bytes (a batch
holds at least one event), so that large records (issuances of thousands of blocks) go in
small batches, not in one that holds the event loop for seconds. When a batch is full, the
stream waits for room (so the consumer's buffers, then its fetches, hold the rest). As
with ``take_events``, the stream's own acknowledgements are off and each event is
acknowledged once the body that handled its batch returns, so faust commits no offset of
an event that was not handled.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from faust.types import EventT, StreamT

Event = EventT[Any]


def take_batches(
    stream: StreamT[Any], max_: int, within: float, max_bytes: int | None = None
) -> AsyncIterator[list[Event]]:
    """The stream's events in batches of at most ``max_`` (and, with ``max_bytes``, of
    values of fewer bytes but for their last event), each handed over once its first
    event has waited ``within`` seconds, or at once when it is full (see the module)."""
    if max_ < 1 or within < 0 or (max_bytes is not None and max_bytes < 1):
        raise ValueError("a batch holds at least one event and waits no negative time")
    batches = _batches(stream, max_, within, max_bytes)
    # faust closes the generators a stream registers there when it stops (faust-streaming).
    agens = getattr(stream, "_active_agens", None)
    if agens is not None:
        agens.add(batches)
    return batches


async def _batches(
    stream: Any, max_: int, within: float, max_bytes: int | None
) -> AsyncIterator[list[Event]]:
    loop = asyncio.get_running_loop()
    waiting: list[Event] = []
    first_at = 0.0  # when waiting[0] arrived
    size = 0  # the bytes of the waiting events' values (counted with max_bytes only)
    wake = asyncio.Event()  # the first event arrived, or the batch is full
    room = asyncio.Event()  # the batch is not full
    room.set()

    def full() -> bool:
        return len(waiting) >= max_ or (max_bytes is not None and size >= max_bytes)

    async def collect(value: Any) -> Any:
        nonlocal first_at, size
        while full():
            room.clear()
            if (await stream.wait(room)).stopped:
                return value
        event = stream.current_event
        if event is None:
            raise RuntimeError("a stream processor ran without the stream's current event")
        if not waiting:
            first_at = loop.time()
            wake.set()
        waiting.append(event)
        if max_bytes is not None:
            size += len(event.message.value or b"")
        if full():
            wake.set()
        return value

    enable_acks = stream.enable_acks
    stream.enable_acks = False  # acknowledged below, once handled
    stream.add_processor(collect)
    stream._enable_passive(aiter(stream.channel))  # noqa: SLF001 - faust's passive drain
    try:
        while not stream.should_stop:
            due = first_at + within - loop.time()
            if waiting and (full() or due <= 0):
                batch = waiting[:]
                del waiting[:]
                size = 0
                room.set()
                try:
                    yield batch
                finally:
                    for event in batch:
                        await stream.ack(event)
                continue
            wake.clear()
            await stream.wait_for_stopped(wake, timeout=due if waiting else None)
    finally:
        stream.enable_acks = enable_acks
        stream._processors.remove(collect)  # noqa: SLF001
