"""faust's aiokafka transport with the worker consumer's fetch wait set by the config, a
hand-off of fetched records to the streams that costs one task per record, a publish of
table changelog records straight to the started producer (:func:`publish`), and an app
without faust's monitor (:class:`App`).

**The fetch wait.** faust builds the worker's ``AIOKafkaConsumer`` with
``fetch_max_wait_ms=1500`` and no setting to change it. aiokafka sends a broker its next
fetch only once the one in flight returns, and a partition whose fetched records are still
being handled is left out of the fetch in flight; when that partition gets new records,
they wait for the fetch in flight, which the broker holds up to ``fetch_max_wait_ms`` when
its other partitions have nothing new. Under load every hop (input → ingest → ledger →
audit log) could wait that long: seconds per input at a steady 500 inputs/s
(``tests/bench/bench_e2e.py``). :class:`Transport` is faust's, with the worker consumer's
wait taken from ``kafka.fetch_max_wait_ms`` (:func:`install`).

**The hand-off.** faust's consumer hands each fetched record to the streams under
``wait_first(callback(record), suspend_flow.wait())``: four tasks per record (the hand-off,
the flow's event, the consumer's stopped and crashed events), an ``asyncio.wait`` and three
cancellations, about a tenth of a worker's time at a thousand inputs per second.
:meth:`Consumer._drain_messages` runs the hand-off as the one task it awaits; a flow stop
(a rebalance) cancels the hand-off in progress (:meth:`Consumer.stop_flow`: a record waiting
for room in a full stream buffer), and while the flow is stopped records are passed over
without a hand-off, as faust passes them over (they are fetched again from the committed
offsets once the flow resumes: every resumption in faust seeks there first). The rest is
faust's: a record below the partition's read offset is passed over, a jump in offsets of a
partition with acknowledgements is recorded as a gap, the read offset moves to each record
handed over, unless a seek moved it while that record was being handed over (faust's moved
it anyway, and the records the seek was to fetch again were then passed over as below it).

**The seek after a recovery.** Once the tables are recovered, faust resumes the stream
partitions while the flow still runs (it ran to read the changelogs), seeks them to their
committed offsets, then clears the streams' buffers (``FlowControlEvent.resume``) and
resumes the flow. Records fetched while the seek was under way were handed over, then
cleared from the buffers, and the consumer fetched on from past them: the partition stalled
until the watchdog sought it back, ~20 s later (7 of 18 restarts without the local tables
in ``tests/bench/bench_e2e.py`` once the worker switched threads every 1 ms,
``gateway.worker.run``; none in 6 since). :meth:`Consumer.perform_seek` stops the flow
before it seeks, so nothing is handed over until the buffers are cleared and the flow
resumes; a record fetched meanwhile is passed over, and faust seeks back to it (a fetch
that returns while the flow is stopped).

**The publish.** A faust topic's ``publish_message`` looks its producer up through
``App.maybe_start_producer``, which mode guards against a stampede with three
``asyncio.sleep(0)``: each changelog record gave the event loop three turns, behind whatever
else was ready (another agent's batch, the sequencer's append). At 500 inputs/s a commit's
~10 records took 4-7 ms to hand over, and the next commit waited 2-3 ms more for the lock
that keeps them in order. :func:`publish` does what ``publish_message(wait=False)`` does (the
send-initiated sensor, the producer's send, the topic's own completion callback, which
resolves the future message and runs its callback) with the app's producer once started.

**The monitor.** faust adds its ``Monitor`` sensor to every app as it starts: per record it
keeps timings and offsets, per table read and write a counter, for faust's web views and
its metrics exporters. The gateway serves neither (``web_enabled=False``; its metrics are
its own, ``gateway.observe``), and the monitor and the sensor calls it made took ~2% of a
worker's CPU in a burst. :class:`App` takes it out of the sensors as it starts; the
sensors added on purpose stay.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import faust
from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import FutureMessage

#: records handed over between two turns given to the rest of the event loop (faust's)
YIELD_EVERY = 100


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """faust's consumer thread; its worker consumer fetches with the transport's wait."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # AIOKafkaConsumer passes this to its Fetcher at start(), which has not run yet.
        consumer._fetch_max_wait_ms = transport.fetch_max_wait_ms  # noqa: SLF001
        return consumer


class Consumer(faust_aiokafka.Consumer):
    """faust's aiokafka consumer with the hand-off of the module doc."""

    #: the hand-off in progress (a flow stop cancels it)
    _handing: asyncio.Task[Any] | None = None

    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def stop_flow(self) -> None:
        super().stop_flow()
        handing = self._handing
        if handing is not None and not handing.done():
            handing.cancel()

    async def perform_seek(self) -> None:
        """faust's seek of every partition to its committed offset, with the flow stopped
        (see the module: the seek after a recovery). The caller resumes it: faust's recovery
        does right after the seek; ``getmany`` seeks only when the flow stopped already."""
        self.stop_flow()
        await super().perform_seek()

    def _stopping(self, fetcher: Any) -> bool:
        return bool(self._stopped.is_set() or fetcher._stopped.is_set())  # noqa: SLF001

    async def _drain_messages(self, fetcher: Any) -> None:
        """Hand every fetched record to the streams until the consumer or ``fetcher``
        stops (faust runs this as the fetcher's task)."""
        try:
            while not self._stopping(fetcher):
                self.diag.set_flag(CONSUMER_FETCHING)
                records = self.getmany(timeout=1.0)
                await self.sleep(0)  # getmany may return at once, again and again
                if not self.should_stop:
                    since_yield = 0
                    async for tp, message in records:
                        since_yield += 1
                        if since_yield > YIELD_EVERY:
                            await asyncio.sleep(0)
                            since_yield = 0
                        await self._hand_over(tp, message)
                self.diag.unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if not self.transport.app.should_stop:
                raise
            self.log.info("Broker stopped consumer, shutting down...")
        except asyncio.CancelledError:
            if not self.transport.app.should_stop:
                raise
            self.log.info("Consumer shutting down for user cancel.")
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            self.diag.unset_flag(CONSUMER_FETCHING)

    async def _hand_over(self, tp: Any, message: Any) -> None:
        """Hand ``message`` to the streams (or pass over it: see the module doc)."""
        offset = message.offset
        read = self._read_offset[tp]
        if read is not None and offset < read:
            self.log.dev("DROPPED MESSAGE ROFF %r: k=%r v=%r", offset, message.key, message.value)
            return
        if read and offset - read > 1 and self.app.topics.acks_enabled_for(message.topic):
            await self._add_gap(tp, read + 1, offset)
        every = self._commit_every
        if every is not None and self._n_acked >= every:
            self._n_acked = 0
            await self.commit()
        if self.suspend_flow.is_set():
            return  # passed over: fetched again once the flow resumes
        handing = self._handing = asyncio.ensure_future(self.callback(message))
        try:
            await handing
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not handing.cancelled() or (task is not None and task.cancelling()):
                raise
            return  # the flow stopped: passed over
        finally:
            self._handing = None
        if self._read_offset[tp] == read:  # not moved by a seek (or a revocation) meanwhile
            self._read_offset[tp] = offset


class App(faust.App):
    """faust's App, without its Monitor among the sensors (see the module)."""

    def on_init_dependencies(self) -> Any:
        services = super().on_init_dependencies()  # adds the monitor to the sensors
        self.sensors.remove(self.monitor)
        return services


class Transport(faust_aiokafka.Transport):
    Consumer = Consumer
    fetch_max_wait_ms = 1500  # faust's; set per transport by install()


def install(app: faust.App, fetch_max_wait_ms: int) -> None:
    """Give ``app`` a consumer transport whose worker consumer waits at most
    ``fetch_max_wait_ms`` per fetch (before anything has used the app's transport)."""
    if app._transport is not None:  # noqa: SLF001 - faust creates it lazily
        raise RuntimeError("the app's transport is in use already")
    transport = Transport(app.conf.broker_consumer, app)
    transport.fetch_max_wait_ms = fetch_max_wait_ms
    app.transport = transport


async def publish(fut: FutureMessage) -> None:
    """Hand ``fut`` (a faust future message, its key and value serialized) to its app's
    producer without giving the event loop a turn; before the producer has started (or for
    a channel that is not a faust topic), through the channel's ``publish_message``."""
    message = fut.message
    channel: Any = message.channel
    producer = channel.app.producer if isinstance(channel, faust.Topic) else None
    if producer is None or not producer.started:  # not a topic's, or not started yet
        await channel.publish_message(fut, wait=False)
        return
    app = channel.app
    key, value = message.key, message.value
    topic = channel.get_topic_name()
    state = app.sensors.on_send_initiated(
        producer, topic, message=message, keysize=_size(key), valsize=_size(value)
    )
    sent: Any = await producer.send(
        topic,
        key,
        value,
        partition=message.partition,
        timestamp=message.timestamp,
        headers=message.headers,
    )
    sent.add_done_callback(
        partial(channel._on_published, message=fut, state=state, producer=producer)  # noqa: SLF001
    )


def _size(data: Any) -> int:
    return len(data) if isinstance(data, bytes | str) else 0
