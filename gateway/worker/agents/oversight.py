"""``discrepancies``: ``a6.discrepancies`` (findings) and ``a6.discrepancy.commands``
(operators' signed commands), keyed by discrepancy id → the ``discrepancies`` table and one
audit entry per record (``gateway.core.oversight``)."""

from __future__ import annotations

from faust.types import StreamT

from gateway.core.ingest import RawInput
from gateway.core.oversight import oversight_step
from gateway.core.topics import COMMANDS_TOPIC, FINDINGS_TOPIC
from gateway.worker.gaps import raw_of
from gateway.worker.runtime import Runtime


def install(rt: Runtime) -> None:
    """The ``discrepancies`` agent and its table."""
    ctx, max_bytes = rt.ctx, rt.config.limits.max_message_bytes
    topic = rt.topic(FINDINGS_TOPIC, COMMANDS_TOPIC)
    known = rt.table("discrepancies")

    async def handle(rec: RawInput) -> None:
        result = oversight_step(rec, known, ctx.trust, ctx.public_keys, max_bytes=max_bytes)
        await rt.send_all(result.outputs)  # the entry first: a crash before the row replays it
        if result.put is not None:
            known[result.put[0]] = result.put[1]

    checked = rt.seal.checked(rt.shield.protect("discrepancies", handle), rt.send_all)

    @rt.app.agent(topic, name="discrepancies", concurrency=1)
    async def discrepancies(stream: StreamT[bytes]) -> None:
        async for event in stream.events():
            await rt.guard.run(raw_of(event.message), checked)
