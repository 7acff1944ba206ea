"""Fixtures of the core unit tests: one demo world (keys, config, trust) per session, and the
cross-checks of the check path's shortcuts that every core test runs."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import astuple
from typing import Any

import pytest

from gateway.core import canonical, state
from gateway.core import decision as dec
from gateway.core.blocks import Block
from gateway.core.model import Evaluation, Event
from tests.unit.core.a6book import Book
from tests.unit.core.a6kit import Kit


@pytest.fixture(scope="session")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    return Kit.make(tmp_path_factory.mktemp("world"))


@pytest.fixture()
def book() -> Book:
    """Decision D1 (1e6 units each side), MNG01 [1, 100] in MN-A, MNG authorizes [1, 100]."""
    b = Book()
    assert b.decide().outcome == "recorded"
    assert b.issue("MNG01", [(1, 100, "MN-A")]).outcome == "accepted"
    assert b.authorize("MNG", [("MNG01", 1, 100)]).outcome == "recorded"
    return b


@pytest.fixture(autouse=True)
def _fast_paths_match_the_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every core test also checks the check path's shortcuts against what they replace:
    a decision entry built as a plain object against its model's ``wire()`` (members and
    their order), canonical bytes written without reading back against
    :func:`canonical_bytes`, and the block a ``blocks`` put hands the index against the
    block its record reads back to."""
    fast_entry = dec.decision_wire

    def decision_wire(event: Event, evaluation: Evaluation, **kw: Any) -> dict[str, Any]:
        got = fast_entry(event, evaluation, **kw)
        records: Sequence[Mapping[str, Any]] = kw.pop("block_records", ())
        blocks = [Block.from_record(dict(r)) for r in records]
        want = dec.decision_model(event, evaluation, blocks_after=blocks, **kw).wire()
        assert json.dumps(got) == json.dumps(want)
        assert dec.decision_bytes(got) == dec.entry_bytes(want)
        return got

    monkeypatch.setattr(dec, "decision_wire", decision_wire)
    fast_bytes = canonical.plain_bytes

    def plain_bytes(obj: Any) -> bytes:
        got = fast_bytes(obj)
        assert got == canonical.canonical_bytes(obj)
        return got

    fast_put = state.block_put

    def block_put(block: Block) -> state.Put:
        put = fast_put(block)
        read = state._block_of(put.value)  # what the index would read from the record
        assert read == block and [type(v) for v in astuple(read)] == [
            type(v) for v in astuple(block)
        ]
        return put

    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        if name.startswith("gateway.") and getattr(module, "plain_bytes", None) is fast_bytes:
            monkeypatch.setattr(module, "plain_bytes", plain_bytes)
        if name.startswith("gateway.") and getattr(module, "block_put", None) is fast_put:
            monkeypatch.setattr(module, "block_put", block_put)
