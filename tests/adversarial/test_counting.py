"""How the suite judges one produced record against the entries found for it (no broker)."""

from __future__ import annotations

import time
from typing import Any

from gateway.core.canonical import sha256_hex
from gateway.core.decision import event_entry_id, raw_entry_id
from gateway.core.topics import input_topic
from tests.adversarial.counting import Figures, Sent, candidates, judge
from tests.adversarial.hostile import Hostile

ENVELOPE = b'{"id":"e1","source":"JPN01"}'


def sent(expect: Any = "any", **kw: Any) -> Sent:
    item = Hostile("case", input_topic("JPN01"), ENVELOPE, b"e1", expect=expect, **kw)
    return Sent(item, 2, 7, int(time.time() * 1000))


def entry(outcome: str, codes: tuple[str, ...] = (), **kw: Any) -> dict[str, Any]:
    kind = "dead-letter" if outcome == "dead-lettered" else "decision"
    return {"entry_id": "x", "entry_type": kind, "outcome": outcome,
            "results": [{"code": c} for c in codes], **kw}  # fmt: skip


def judged(s: Sent, entries: list[dict[str, Any]], in_dlq: bool = False) -> Figures:
    figures = Figures()
    judge(s, entries, in_dlq, figures)
    return figures


def test_a_record_may_be_a_dead_letter_by_offset_or_a_decision_by_source_and_id() -> None:
    ids = candidates(sent())
    assert raw_entry_id(input_topic("JPN01"), 2, 7) in ids
    assert event_entry_id("JPN01", "e1", sha256_hex(ENVELOPE)) in ids


def test_nothing_found_is_lost_unless_on_the_dead_letter_topic() -> None:
    assert judged(sent(), []).lost
    f = judged(sent("dead-letter"), [], in_dlq=True)
    assert (f.lost, f.dead_lettered) == ([], 1)


def test_two_entries_for_one_record_are_double() -> None:
    assert judged(sent(), [entry("accepted"), entry("dead-lettered", ("MSG-001",))]).double


def test_a_refusal_without_a_code_is_uncoded() -> None:
    assert judged(sent(), [entry("rejected")]).uncoded
    assert not judged(sent(), [entry("rejected", ("MSG-007",))]).uncoded


def test_an_outcome_the_category_does_not_allow_is_unexpected() -> None:
    assert judged(sent("dead-letter"), [entry("recorded")]).unexpected
    assert judged(sent("refused"), [entry("accepted")]).unexpected
    assert judged(sent(codes=("MSG-005",)), [entry("rejected", ("BLK-003",))]).unexpected
    assert not judged(sent(codes=("MSG-005",)), [entry("rejected", ("MSG-005",))]).unexpected
    stale = entry("recorded", decided_at="1970-01-01T00:00:00.001Z")
    assert judged(sent(arrival_time=True), [stale]).unexpected
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    assert not judged(sent(arrival_time=True), [entry("recorded", decided_at=now)]).unexpected


def test_the_explanation_groups_items_by_what_they_are() -> None:
    f = Figures(lost=[f"a6.in.JPN01/0@{i} data nested 1,000 deep" for i in range(5)])
    assert f.explain().startswith("lost 5: 5 x data nested 1,000 deep (e.g. a6.in.JPN01/0@0")
    assert not f.clean
