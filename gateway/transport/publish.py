"""Putting a few records on the broker: one idempotent producer, started and stopped."""

from __future__ import annotations

from gateway.core import binding, mac
from gateway.transport.clients import KafkaClients


async def publish(
    clients: KafkaClients,
    items: list[tuple[str, bytes, bytes]],
    *,
    mac_key: bytes | None = None,
) -> None:
    """Write ``items`` (topic, key, value); with ``mac_key``, each with its MAC header
    (:mod:`gateway.core.mac`), as every record on an internal topic must carry; an envelope
    with its ``content-type`` header (:mod:`gateway.core.binding`)."""
    producer = clients.producer(acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for topic, key, value in items:
            headers = mac.headers(mac_key, topic, key, value) if mac_key is not None else []
            headers.extend(binding.headers_for(topic))
            await producer.send(topic, value, key=key, headers=headers or None)
        await producer.flush()
    finally:
        await producer.stop()
