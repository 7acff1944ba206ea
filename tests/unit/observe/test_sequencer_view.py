"""The sequencer's gauges, over a real SQLite audit store: exported only while it owns the
log; appended entries and those on record already told apart by the store's own answer."""

from __future__ import annotations

import json
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from gateway.audit.open import open_store
from gateway.observe import metrics as m
from gateway.observe.sequencer import SequencerView

GOLDEN = json.loads(
    (Path(__file__).resolve().parents[2] / "fixtures" / "entries-golden.json").read_text()
)


def _scrape(state: m.AuditState) -> str:
    registry = CollectorRegistry()
    registry.register(m.AuditCollector(state))
    return generate_latest(registry).decode()


def test_gauges_follow_the_log_while_the_sequencer_owns_it(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "audit.sqlite"))
    state = m.AuditState()
    view = SequencerView(store, state, clock=lambda: 1000.0)
    assert "a6gw_audit_tree_size" not in _scrape(state)  # not the owner: nothing
    view.took_over(-1)
    assert "a6gw_audit_tree_size 0.0" in _scrape(state)
    items = [(n, GOLDEN[n].encode()) for n in ("decision-accepted", "discrepancy-opened")]
    view.appended(items, store.append(items))
    before = m.REGISTRY.get_sample_value("a6gw_audit_duplicates_total", {"entry_type": "decision"})
    again = [items[0], ("dead-letter", GOLDEN["dead-letter"].encode())]
    view.appended(again, store.append(again))
    after = m.REGISTRY.get_sample_value("a6gw_audit_duplicates_total", {"entry_type": "decision"})
    assert (after or 0) == (before or 0) + 1
    text = _scrape(state)
    assert "a6gw_audit_tree_size 3.0" in text
    assert 'a6gw_discrepancies{status="open"} 1.0' in text
    assert "a6gw_audit_checkpoint_size" not in text  # none published yet
    view.published(2)
    text = _scrape(state)
    assert "a6gw_audit_checkpoint_size 2.0" in text
    assert "a6gw_audit_unsigned_entries 1.0" in text
    view.left()
    assert "a6gw_audit_tree_size" not in _scrape(state)
    store.close()


def test_a_new_owner_reads_the_discrepancies_from_the_store(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "audit.sqlite"))
    opened = ("discrepancy-opened", GOLDEN["discrepancy-opened"].encode())
    store.append([opened])
    state = m.AuditState()
    SequencerView(store, state).took_over(1)
    assert state.statuses()["open"] == 1 and state.checkpoint_size == 1
    store.close()


def test_a_refusal_is_counted_and_kept_for_readyz(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "audit.sqlite"))
    state = m.AuditState()
    before = m.REGISTRY.get_sample_value("a6gw_sequencer_refusals_total", {"code": "AUD-FORK"})
    SequencerView(store, state).refused("AUD-FORK", "the store was rewritten")
    after = m.REGISTRY.get_sample_value("a6gw_sequencer_refusals_total", {"code": "AUD-FORK"})
    assert (after or 0) == (before or 0) + 1
    assert state.refusal == "AUD-FORK: the store was rewritten"
    store.close()
