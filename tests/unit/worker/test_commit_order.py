"""Each stage writes its cursors last, once everything its run wrote is on the broker: a
record at or before its cursor is then skipped when it comes again
(``gateway.worker.batches``), and nothing of its run is lost by that."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from gateway.core.state import VERSION
from gateway.core.steps import Output
from gateway.core.topics import LEDGER_TOPIC
from gateway.worker.agents.ingest import IngestStage
from gateway.worker.agents.ledger import LedgerStage
from gateway.worker.agents.oversight import OversightStage
from gateway.worker.gaps import cursor_key


@dataclass(eq=False)
class FakeEvent:
    message: Any = field(default_factory=lambda: SimpleNamespace(partition=0))


class Journal(dict[str, Any]):
    """A table that notes each write in the runtime's journal."""

    def __init__(self, journal: list[str], name: str) -> None:
        super().__init__()
        self.journal, self.name = journal, name

    def __setitem__(self, key: str, value: Any) -> None:
        self.journal.append(f"{self.name} {key}")
        super().__setitem__(key, value)


class FakeRuntime:
    """What the stages' commits use: the sender, the flushes, the guard's cursors, the
    accounts table and the ledger's memory; every call noted in order."""

    def __init__(self) -> None:
        self.journal: list[str] = []
        self.guard = SimpleNamespace(cursors=Journal(self.journal, "cursor"))
        self.accounts = Journal(self.journal, "account")
        self.sender = SimpleNamespace(enqueue=self.enqueue)
        self.ledger = SimpleNamespace(settled=lambda p: self.journal.append(f"settled {p}"))

    async def enqueue(self, outputs: list[Output]) -> list[Awaitable[Any]]:
        self.journal.append(f"send {len(outputs)}")
        return []

    async def durable(self, futures: Iterable[Awaitable[Any]] = ()) -> None:
        self.journal.append("flush")


def event() -> Any:
    """A stand-in for a faust event (the partition its table writes go to)."""
    return FakeEvent()


CURSORS = {(LEDGER_TOPIC, 0): (7, event())}
OUT = [Output(LEDGER_TOPIC, "k", b"v")]


def test_ingest_writes_its_cursors_after_the_flush_of_its_forwards() -> None:
    rt = FakeRuntime()
    stage = IngestStage(rt)  # type: ignore[arg-type]
    stage.outputs = list(OUT)
    asyncio.run(stage.commit(CURSORS))
    assert rt.journal == ["send 1", "flush", f"cursor {cursor_key(LEDGER_TOPIC, 0)}"]


def test_the_ledger_writes_its_cursors_after_its_decisions_effects_and_outputs() -> None:
    rt = FakeRuntime()
    stage = LedgerStage(rt)  # type: ignore[arg-type]
    stage.outputs = list(OUT)
    stage.accounts = [(event(), "JP-1", {"status": "open", VERSION: 7})]
    asyncio.run(stage.commit(CURSORS))
    assert rt.journal == [
        "flush",  # the decisions, before anything else
        "account JP-1",
        "send 1",
        "flush",
        f"cursor {cursor_key(LEDGER_TOPIC, 0)}",
        "settled {0: 7}",
    ]


def test_the_discrepancies_agent_writes_its_cursors_after_its_rows_are_flushed() -> None:
    rt = FakeRuntime()
    known = Journal(rt.journal, "row")
    stage = OversightStage(rt, known)  # type: ignore[arg-type]
    stage.begin()
    stage.outputs = list(OUT)
    stage.overlay.rows["dsc-1"] = (event(), {"status": "open"})
    asyncio.run(stage.commit(CURSORS))
    assert rt.journal == [
        "send 1",
        "flush",
        "row dsc-1",
        "flush",
        f"cursor {cursor_key(LEDGER_TOPIC, 0)}",
    ]
