"""Tracked tables' changelog writes: queued, published in order in one go, awaited by a
commit; a failed write is reported to a waiter once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

from gateway.worker.runtime import Changes


class Channel:
    """What faust's changelog topic does with a queued record: hands it to the producer,
    which acknowledges it later (or fails it)."""

    def __init__(self) -> None:
        self.published: list[Any] = []
        self.fail: set[Any] = set()

    async def publish_message(self, fut: Any, wait: bool = False) -> None:
        if fut.message.key in self.fail:
            raise KafkaConnectionError()
        self.published.append(fut.message.key)
        asyncio.get_running_loop().call_later(0.01, fut.set_result, fut.message.key)


class Message:
    def __init__(self, channel: Channel, key: Any, partition: int | None) -> None:
        self.channel = channel
        self.key = key
        self.partition = partition


class Future(asyncio.Future[Any]):
    message: Message


class Topic:
    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.made: list[dict[str, Any]] = []

    def as_future_message(self, **kw: Any) -> Future:
        self.made.append(kw)
        fut = Future()
        fut.message = Message(self.channel, kw["key"], kw["partition"])
        return fut


class Table:
    key_serializer = "json"
    value_serializer = "sealed"

    def __init__(self, channel: Channel) -> None:
        self.changelog_topic = Topic(channel)

    def send_changelog(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("replaced by the tracker")

    def _on_changelog_sent(self, fut: Any) -> None:
        pass


def test_writes_are_published_in_order_and_a_commit_waits_for_them() -> None:
    channel = Channel()

    async def scenario() -> None:
        changes = Changes()
        table: Any = changes.track(Table(channel))  # type: ignore[arg-type]
        futs = [table.send_changelog(1, f"k{i}", {"v": i}) for i in range(5)]
        assert channel.published == []  # queued: the write itself returns at once
        await changes.wait()
        assert channel.published == [f"k{i}" for i in range(5)]
        assert all(f.done() for f in futs) and changes.pending == []
        made = table.changelog_topic.made[0]
        assert (made["partition"], made["value_serializer"]) == (1, "sealed")
        assert made["callback"] == table._on_changelog_sent  # the store keeps its offset
        # Written between commits: published soon by the tracker's own task.
        table.send_changelog(2, "later", {})
        await asyncio.sleep(0.05)
        assert channel.published[-1] == "later"

    asyncio.run(scenario())


def test_a_failed_write_is_reported_to_a_waiter_once() -> None:
    channel = Channel()
    channel.fail.add("bad")

    async def scenario() -> None:
        changes = Changes()
        table: Any = changes.track(Table(channel))  # type: ignore[arg-type]
        table.send_changelog(0, "good", {})
        table.send_changelog(0, "bad", {})
        with pytest.raises(KafkaConnectionError):
            await changes.wait()
        assert channel.published == ["good"] and changes.pending == []
        await changes.wait()  # reported once: the retried run writes it again

    asyncio.run(scenario())
