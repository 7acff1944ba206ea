"""Refusal entries (digest and head, never the body) and the per-client refusal budget."""

from __future__ import annotations

import base64

from gateway.core.canonical import sha256_hex
from gateway.core.refusals import RefusalBudget, rate_entry, refusal_entry


def test_a_refusal_entry_keeps_the_digest_size_and_first_kib_only() -> None:
    body = bytes(range(256)) * 20
    e = refusal_entry(
        registry="IDN01", path="/v1/events", body=body, size=None, signature="s",
        code="REG-DIGEST", message="m", at="2026-12-03T00:00:00.000Z",
    )  # fmt: skip
    assert e["input"]["sha256"] == sha256_hex(body) and e["input"]["size"] == len(body)
    assert base64.b64decode(e["input"]["head_b64"]) == body[:1024]
    unread = refusal_entry(
        registry="IDN01", path="/v1/events", body=None, size=10**7, signature="s",
        code="MSG-008", message="m", at="2026-12-03T00:00:00.000Z",
    )  # fmt: skip
    assert unread["input"] | {} == {
        "registry": "IDN01", "path": "/v1/events", "sha256": None, "size": 10**7,
        "head_b64": None,
    }  # fmt: skip
    assert unread["entry_id"] != e["entry_id"]


def test_the_budget_records_n_then_summarises_once_per_window() -> None:
    budget = RefusalBudget(limit=2, window_s=60)
    verdicts = [budget.take("A", 100.0 + i)[0] for i in range(5)]
    assert verdicts == ["record", "record", "summarise", "limit", "limit"]
    assert budget.take("B", 104.0)[0] == "record"  # per client
    assert budget.retry_after("A", 104.0) == 56
    assert budget.take("A", 160.0) == ("record", 160.0)  # a new window
    r1 = rate_entry(registry="A", path="/p", window_start="t1", limit=2, window_s=60, at="t")
    r2 = rate_entry(registry="A", path="/p", window_start="t2", limit=2, window_s=60, at="t")
    assert r1["entry_id"] != r2["entry_id"] and r1["results"][0]["code"] == "REG-RATE"
