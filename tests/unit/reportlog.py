"""Test helpers for reports at a checkpoint: sign a checkpoint over a store, and build the
``party-settings`` entries the worker records (the format of
:mod:`gateway.core.settings_log`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.audit.logstore import LogStore
from gateway.audit.note import Checkpoint, LogKey
from gateway.core.settings_log import PartySettings, settings_entry

if TYPE_CHECKING:
    from tests.unit.worker.test_pipeline import MemoryPipeline

ORIGIN = "a6gw.test/audit"


def scenario(directory: Path) -> tuple[MemoryPipeline, list[dict[str, Any]], int]:
    """The demo scenario run in memory (the whole decision path, no broker): the pipeline,
    its audit entries in log order, and the one year its Article 6 actions fall in."""
    from gateway.demo.scenario import load_steps
    from tests.unit.worker.test_pipeline import MemoryPipeline

    pipe = MemoryPipeline(directory)
    for step in load_steps(pipe.world):
        if not step.awaits:
            pipe.publish(step.topic, step.key, step.value)
    pipe.fire_timers(pipe.ts + 10**9)
    entries = [json.loads(raw) for raw in pipe.audit.values()]
    years = {int(e["decided_at"][:4]) for e in entries if e.get("a6")}
    assert len(years) == 1, years  # the scenario runs within one year
    return pipe, entries, years.pop()


def sign_checkpoint(store: LogStore, key: LogKey, origin: str = ORIGIN) -> str:
    """Sign a checkpoint over every entry of ``store``, as the sequencer does, and keep it."""
    size = store.size()
    note = key.sign(Checkpoint(origin, size, store.root(size)).to_text())
    store.save_checkpoint(size, note)
    return note


def party_settings(
    code: str,
    ndc_period: tuple[int, int] | None = (2021, 2030),
    ca_method: Any = "trajectory",
    ca_year: Any = "first-transfer",
    *,
    name: str = "",
    previous: str = "",
    at: str = "2026-01-05T00:00:00.000Z",
) -> dict[str, Any]:
    """A ``party-settings`` entry (after the Party's entry ``previous``), with the
    ``logged_at`` the sequencer stamps."""
    settings = PartySettings(code, name or code, ndc_period, ca_method, ca_year)
    return settings_entry(settings, previous, at) | {"logged_at": at}
