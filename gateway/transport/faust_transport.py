"""faust's aiokafka transport with the worker consumer's fetch wait set by the config.

faust builds the worker's ``AIOKafkaConsumer`` with ``fetch_max_wait_ms=1500`` and no
setting to change it. aiokafka sends a broker its next fetch only once the one in flight
returns, and a partition whose fetched records are still being handled is left out of the
fetch in flight; when that partition gets new records, they wait for the fetch in flight,
which the broker holds up to ``fetch_max_wait_ms`` when its other partitions have nothing
new. Under load every hop (input → ingest → ledger → audit log) could wait that long:
seconds per input at a steady 500 inputs/s (``tests/bench/bench_e2e.py``).
:class:`Transport` is faust's, with the worker consumer's wait taken from
``kafka.fetch_max_wait_ms`` (:func:`install`).
"""

from __future__ import annotations

from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """faust's consumer thread; its worker consumer fetches with the transport's wait."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # AIOKafkaConsumer passes this to its Fetcher at start(), which has not run yet.
        consumer._fetch_max_wait_ms = transport.fetch_max_wait_ms  # noqa: SLF001
        return consumer


class Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)


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
