"""Stored entries read through the entry models, and the bytes the models refuse."""

from __future__ import annotations

import json

from gateway.core import discrepancy as dsc
from gateway.core.canonical import canonical_bytes
from gateway.services.entries import read_entries, read_entry
from schemas.entries import DiscrepancyEntry
from tests.unit.dsclog import finding


def test_an_entry_is_read_through_its_model_and_refused_bytes_are_none() -> None:
    d = finding("DLV-001", "delivery", "IDN01", 1)
    stored = canonical_bytes(dsc.opened_entry(d))
    read = read_entry(stored)
    assert isinstance(read, DiscrepancyEntry) and read.discrepancy is not None
    assert read.discrepancy.discrepancy_id == d.id
    loose = json.dumps({"entry_type": "decision", "entry_id": "ev-x"}).encode()
    assert read_entry(loose) is None and read_entry(b"{") is None and read_entry(b"[1]") is None
    assert [e.entry_id for e in read_entries([loose, stored, b"{"])] == [read.entry_id]
