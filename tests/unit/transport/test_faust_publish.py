"""Changelog records go straight to the started producer, without a turn of the event loop
(``gateway.transport.faust_transport.publish``)."""

from __future__ import annotations

import asyncio
from typing import Any

import faust

from gateway.transport.clients import Credentials, KafkaClients
from gateway.transport.faust_transport import publish


class FakeProducer:
    """Records its sends; each returns a future the test resolves."""

    def __init__(self, started: bool) -> None:
        self.started = started
        self.sent: list[tuple[Any, ...]] = []
        self.futures: list[asyncio.Future[Any]] = []

    async def send(self, topic: str, key: Any, value: Any, **kw: Any) -> asyncio.Future[Any]:
        self.sent.append((topic, key, value, kw["partition"], kw["headers"]))
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.futures.append(fut)
        return fut


def _app(producer: FakeProducer) -> faust.App:
    kafka = KafkaClients("127.0.0.1:1", Credentials("gw-worker", "secret"))  # never reached
    app = kafka.faust_app("publish-test", autodiscover=False)
    app.producer = producer  # type: ignore[assignment]
    return app


def test_a_record_reaches_the_producer_and_its_future_resolves_without_a_turn() -> None:
    producer = FakeProducer(started=True)
    app = _app(producer)
    topic = app.topic("t-changelog", key_serializer="raw", value_serializer="raw")
    called: list[Any] = []

    async def scenario() -> None:
        turns = 0

        async def other() -> None:
            nonlocal turns
            turns += 1

        fut = topic.as_future_message(
            key=b"k", value=b"v", partition=2, headers=[("h", b"1")], callback=called.append
        )
        task = asyncio.get_running_loop().create_task(other())
        await publish(fut)
        assert turns == 0  # the loop ran nothing else meanwhile
        assert producer.sent == [("t-changelog", b"k", b"v", 2, [("h", b"1")])]
        assert not fut.done()
        producer.futures[0].set_result("metadata")
        await asyncio.sleep(0)
        assert fut.result() == "metadata" and called == [fut]
        await task

    asyncio.run(scenario())


def test_a_failed_send_fails_the_future_message() -> None:
    producer = FakeProducer(started=True)
    topic = _app(producer).topic("t-changelog", key_serializer="raw", value_serializer="raw")

    async def scenario() -> None:
        fut = topic.as_future_message(key=b"k", value=b"v", partition=0)
        await publish(fut)
        producer.futures[0].set_exception(RuntimeError("broker"))
        await asyncio.sleep(0)
        assert isinstance(fut.exception(), RuntimeError)

    asyncio.run(scenario())


def test_before_the_producer_started_the_topic_publishes_it() -> None:
    producer = FakeProducer(started=False)
    topic = _app(producer).topic("t-changelog", key_serializer="raw", value_serializer="raw")
    seen: list[Any] = []

    async def publish_message(fut: Any, wait: bool = False) -> None:
        seen.append((fut, wait))

    topic.publish_message = publish_message  # type: ignore[method-assign,assignment]

    async def scenario() -> None:
        fut = topic.as_future_message(key=b"k", value=b"v", partition=0)
        await publish(fut)
        assert seen == [(fut, False)] and producer.sent == []

    asyncio.run(scenario())
