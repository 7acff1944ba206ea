"""Fixtures of the core unit tests: one demo world (keys, config, trust) per session."""

from __future__ import annotations

import pytest
from a6kit import Kit


@pytest.fixture(scope="session")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    return Kit.make(tmp_path_factory.mktemp("world"))
