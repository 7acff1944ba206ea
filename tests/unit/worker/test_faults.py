"""Issue 14 #1, the worker's side: the shield maps exceptions, the journal quarantines."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

from aiokafka.errors import KafkaConnectionError

from gateway import alerts
from gateway.core.faults import replayable
from gateway.core.ingest import RawInput
from gateway.core.steps import Output
from gateway.core.topics import AUDIT_TOPIC, DLQ_TOPIC, LEDGER_TOPIC, input_topic
from gateway.errors import AuditError
from gateway.worker.faults import MAX_ALONE, Attempts, Shield


def rec(offset: int = 4, value: bytes = b"[[[") -> RawInput:
    return RawInput(input_topic("JPN01"), 2, offset, b"key-1", value, 1_700_000_000_000, 1)


class Sent:
    """The shield's only edge, recorded (a real broker is used in tests/integration)."""

    def __init__(self) -> None:
        self.outputs: list[Output] = []

    async def __call__(self, outputs: list[Output]) -> None:
        self.outputs.extend(outputs)


def shield(tmp_path: Path, sent: Sent) -> Shield:
    return Shield(Attempts(tmp_path / "attempts.log"), sent, pause_s=0.01, alert_after=2)


def test_an_exception_of_a_step_is_a_coded_dead_letter_at_once(tmp_path: Path) -> None:
    sent = Sent()
    calls = []

    async def step(r: RawInput) -> None:
        calls.append(r.offset)
        raise RecursionError("maximum recursion depth exceeded")

    before = alerts.counts()["A6-ALERT-001"]
    asyncio.run(shield(tmp_path, sent).run("ingest", rec(), step))
    assert calls == [4]  # not retried: it would raise again
    assert [o.topic for o in sent.outputs] == [DLQ_TOPIC, AUDIT_TOPIC]
    letter = json.loads(sent.outputs[0].value)
    entry = json.loads(sent.outputs[1].value)
    assert letter["reason_code"] == "GWF-001"
    assert "ingest" in letter["reason"] and "RecursionError" in letter["reason"]
    assert letter["fault"] == {"step": "ingest", "exception": "RecursionError"}
    assert base64.b64decode(letter["value_b64"]) == b"[[[" and not letter["truncated"]
    assert base64.b64decode(letter["key_b64"]) == b"key-1"
    assert replayable(letter) is None
    assert (entry["outcome"], entry["results"][0]["code"]) == ("dead-lettered", "GWF-001")
    assert alerts.counts()["A6-ALERT-001"] == before + 1


def test_an_edge_error_is_retried_never_dead_lettered(tmp_path: Path) -> None:
    sent = Sent()
    errors = [KafkaConnectionError(), OSError("disk"), AuditError("locked", code="AUD-STORE")]
    done = []

    async def step(r: RawInput) -> None:
        if errors:
            raise errors.pop(0)
        done.append(r.offset)

    before = alerts.counts()["A6-ALERT-005"]
    asyncio.run(shield(tmp_path, sent).run("ledger", rec(), step))
    assert done == [4] and sent.outputs == []
    assert alerts.counts()["A6-ALERT-005"] == before + 1  # after 2 failures (alert_after)


def test_an_input_the_process_dies_on_is_quarantined_on_the_fourth_start(
    tmp_path: Path,
) -> None:
    path = tmp_path / "attempts.log"
    for n in range(1 + MAX_ALONE):  # each start begins the attempt, and the process dies
        journal = Attempts(path)
        assert journal.starts(rec()) == n and not journal.doomed(rec())
        journal.begin(rec(), alone=n > 0)  # the first in company, then alone (Shield.run)
        journal.close()
    sent = Sent()
    handled = []

    async def step(r: RawInput) -> None:
        handled.append(r.offset)

    before = alerts.counts()["A6-ALERT-002"]
    guard = Shield(Attempts(path), sent)
    asyncio.run(guard.run("ingest", rec(), step))
    assert handled == []
    letter = json.loads(sent.outputs[0].value)
    assert letter["reason_code"] == "GWF-002" and letter["fault"]["step"] == "ingest"
    assert alerts.counts()["A6-ALERT-002"] == before + 1
    # The quarantine is final: the next start handles the next offset normally.
    asyncio.run(Shield(Attempts(path), sent).run("ingest", rec(5), step))
    assert handled == [5]


def test_finished_and_edge_failed_attempts_do_not_count(tmp_path: Path) -> None:
    path = tmp_path / "attempts.log"
    for _ in range(5):  # redelivered after rebalances, handled each time
        journal = Attempts(path)
        journal.begin(rec())
        journal.end(rec())
        journal.close()
    assert Attempts(path).starts(rec()) == 0
    assert path.stat().st_size == 0  # compacted when opened


def test_a_refused_input_is_not_replayable() -> None:
    assert replayable({"reason_code": "MSG-003", "truncated": False}) is not None
    assert replayable({"reason_code": "GWF-001", "truncated": True}) is not None


def test_deaths_count_per_record_and_a_suspect_runs_alone(tmp_path: Path) -> None:
    """A death strikes every record in flight: the culprit and a bystander of another agent.
    Redeliveries of earlier offsets do not reset the count; each suspect then runs with no
    other handler in flight, the bystander is cleared, and only the culprit is quarantined."""
    path = tmp_path / "attempts.log"
    culprit, bystander = rec(7), RawInput(LEDGER_TOPIC, 3, 2, b"CA0001", b"{}", 0, 1)
    journal = Attempts(path)
    journal.begin(culprit)
    journal.begin(bystander)
    journal.close()  # the first death
    for _ in range(MAX_ALONE):  # later starts: earlier offsets again, then the culprit alone
        journal = Attempts(path)
        journal.begin(rec(6))
        journal.end(rec(6))
        journal.begin(culprit, alone=True)
        journal.close()
    sent = Sent()
    shield = Shield(Attempts(path), sent)
    running: list[str] = []
    overlap: list[tuple[str, ...]] = []

    async def step(r: RawInput) -> None:
        running.append(r.topic)
        overlap.append(tuple(running))
        await asyncio.sleep(0.01)
        running.remove(r.topic)

    async def both() -> None:
        await asyncio.gather(
            shield.run("ledger", bystander, step),
            shield.run("ingest", rec(9), step),
            shield.run("ingest", culprit, step),
        )

    asyncio.run(both())
    assert (LEDGER_TOPIC,) in overlap and all(len(o) == 1 for o in overlap if LEDGER_TOPIC in o)
    assert [json.loads(o.value)["reason_code"] for o in sent.outputs[:1]] == ["GWF-002"]
    assert json.loads(sent.outputs[0].value)["offset"] == 7
    assert Attempts(path).pending == {}
