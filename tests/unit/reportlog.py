"""Test helpers for reports at a checkpoint: sign a checkpoint over a store, and build the
``party-settings`` entries the worker records (the format of
:mod:`gateway.core.settings_log`)."""

from __future__ import annotations

from typing import Any

from gateway.audit.logstore import LogStore
from gateway.audit.note import Checkpoint, LogKey
from gateway.core.settings_log import PartySettings, settings_entry

ORIGIN = "a6gw.test/audit"


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
