"""Fixtures of the core unit tests: one demo world (keys, config, trust) per session."""

from __future__ import annotations

import pytest

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
