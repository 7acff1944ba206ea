"""``discrepancies``: ``a6.discrepancies`` (findings) and ``a6.discrepancy.commands``
(operators' signed commands), keyed by discrepancy id → the ``discrepancies`` table and one
audit entry per record (``gateway.core.oversight``), a batch at a time
(``gateway.worker.batches``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gateway.core.ingest import RawInput
from gateway.core.oversight import oversight_step
from gateway.core.topics import COMMANDS_TOPIC, FINDINGS_TOPIC
from gateway.worker.batches import (
    Batches,
    Collecting,
    Event,
    Part,
    consume,
    in_partition,
    write_cursors,
)
from gateway.worker.runtime import Runtime, Table


class Overlay(Mapping[str, Any]):
    """A table as a run sees it: the rows the run put, over the table."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.rows: dict[str, tuple[Event, Any]] = {}

    def __getitem__(self, key: str) -> Any:
        if key in self.rows:
            return self.rows[key][1]
        value = self.table.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        raise TypeError("a table is not scanned")

    def __len__(self) -> int:
        raise TypeError("a table is not scanned")


class OversightStage(Collecting):
    """Decides a run of findings and commands; the audit entries are on the broker before
    the rows (a crash before the rows replays the records, which find no row)."""

    step = "discrepancies"

    def __init__(self, rt: Runtime, known: Table) -> None:
        super().__init__()
        self.rt = rt
        self.known = known
        self.overlay = Overlay(known)

    def begin(self) -> None:
        super().begin()
        self.overlay = Overlay(self.known)

    def decide(self, rec: RawInput, event: Event) -> None:
        ctx, max_bytes = self.rt.ctx, self.rt.config.limits.max_message_bytes
        result = oversight_step(rec, self.overlay, ctx.trust, ctx.public_keys, max_bytes=max_bytes)
        self.outputs.extend(result.outputs)
        if result.put is not None:
            self.overlay.rows[result.put[0]] = (event, result.put[1])

    async def commit(self, cursors: dict[Part, tuple[int, Event]]) -> None:
        rt = self.rt
        await rt.durable(await rt.sender.enqueue(self.outputs))
        for key, (event, value) in self.overlay.rows.items():
            with in_partition(event):
                self.known[key] = value
        await rt.durable()
        write_cursors(rt.guard, cursors)  # last: the run is on the broker


def install(rt: Runtime) -> None:
    """The ``discrepancies`` agent and its table."""
    topic = rt.topic(FINDINGS_TOPIC, COMMANDS_TOPIC)
    known = rt.table("discrepancies", tracked=True)
    batches = Batches(OversightStage(rt, known), rt.guard, rt.shield, rt.seal, check_mac=True)
    consume(rt.app, topic, "discrepancies", batches)
