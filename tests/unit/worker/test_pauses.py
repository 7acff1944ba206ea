"""The full collections' pauses are timed and logged (``gateway.worker.pauses``)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterator

import pytest

from gateway.worker import pauses


@pytest.fixture
def watched() -> Iterator[pauses.Pauses]:
    before = list(gc.callbacks)
    try:
        yield pauses.watch()
    finally:
        gc.callbacks[:] = before


def test_a_full_collection_is_timed_and_logged(
    watched: pauses.Pauses, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="a6gw.worker")
    gc.collect(0)  # the youngest generation only: not a pause of the whole heap
    assert watched.count == 0
    gc.collect()
    assert watched.count == 1 and watched.total_s > 0
    assert any("garbage collection of the whole heap" in r.getMessage() for r in caplog.records)


def test_watching_twice_keeps_one_callback(watched: pauses.Pauses) -> None:
    assert pauses.watch() is watched
    assert sum(isinstance(cb, pauses.Pauses) for cb in gc.callbacks) == 1


def test_in_the_event_loop_the_line_comes_after_the_collection(
    watched: pauses.Pauses, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="a6gw.worker")

    async def collect() -> list[str]:
        gc.collect()
        during = [r.getMessage() for r in caplog.records]
        await asyncio.sleep(0)
        return during

    during = asyncio.run(collect())
    assert not any("whole heap" in m for m in during)
    assert any("garbage collection of the whole heap" in r.getMessage() for r in caplog.records)
