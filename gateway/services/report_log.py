"""The log a report is computed over: the entries ``[0, size)`` of a published checkpoint.

A report (a structured summary, an AEF) is computed at a checkpoint the sequencer published
and signed: the latest by default, or the one of tree size ``size``, which must be a
published checkpoint's (``RPT-SIZE`` otherwise). Entries appended after it wait for a later
checkpoint, so the same question at the same checkpoint always has the same answer, and an
auditor can recompute it from an audit bundle cut there:

- :func:`from_store`: the config's store (``a6gw summary``, ``a6gw aef export``, the API);
  the checkpoint note is verified with the log's keys and the store must hold its tree.
- :func:`from_bundle`: a verified whole-log bundle alone (``--bundle DIR``): no config, no
  store; a Party's settings must then be in the log (``RPT-SETTINGS`` otherwise).

:func:`settings_for` says which settings a Party's report uses: those the log records at
the checkpoint, else (a log written before settings were recorded) the config's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from gateway.audit.bundle import ENTRIES_FILE, RANGE_FILE, verify_bundle
from gateway.audit.cosignature import Cosigner
from gateway.audit.cosigned import for_readers, no_checkpoint
from gateway.audit.logstore import LogStore, StoredCheckpoint
from gateway.audit.note import Verifier, open_checkpoint
from gateway.config import PartyConfig
from gateway.core.report_stamp import Source, Stamp
from gateway.core.settings_log import PartySettings, parties_at, registries_at
from gateway.errors import AuditError, GatewayError, VerificationError

__all__ = [
    "BAD_BUNDLE",
    "NO_SETTINGS",
    "NO_SUCH_SIZE",
    "LogAt",
    "checkpoint_of",
    "from_bundle",
    "from_store",
    "require_settings",
    "settings_for",
]

NO_SUCH_SIZE = "RPT-SIZE"
NO_SETTINGS = "RPT-SETTINGS"
BAD_BUNDLE = "RPT-BUNDLE"


@dataclass(frozen=True)
class LogAt:
    """The entries ``[0, size)`` of the tree a published checkpoint commits to."""

    origin: str
    size: int
    root: str  # hex
    raw: Sequence[bytes]  # as stored (leaf i = raw[i])
    from_bundle: bool = False

    @cached_property
    def entries(self) -> list[dict[str, Any]]:
        """The entries, decoded."""
        return [json.loads(b) for b in self.raw]

    @cached_property
    def parties(self) -> dict[str, PartySettings]:
        """Each Party's settings the log records at this checkpoint."""
        return parties_at(self.entries)

    def registries(self, party: str) -> frozenset[str]:
        """The Party's registries, as the log names them."""
        return registries_at(self.entries, party)

    def stamp(self, source: Source) -> Stamp:
        return Stamp(self.origin, self.size, self.root, source)


def checkpoint_of(checkpoints: Sequence[StoredCheckpoint], size: int | None) -> StoredCheckpoint:
    """The published checkpoint of tree size ``size`` (None: the latest).

    :raises AuditError: (AUD-NOT-FOUND) no checkpoint was published yet.
    :raises GatewayError: (RPT-SIZE) none was published at ``size``.
    """
    if not checkpoints:
        raise AuditError("no checkpoint has been published yet", code="AUD-NOT-FOUND")
    if size is None:
        return max(checkpoints, key=lambda c: c.size)
    found = next((c for c in checkpoints if c.size == size), None)
    if found is None:
        sizes = sorted(c.size for c in checkpoints)
        shown = ", ".join(map(str, sizes[-5:]))
        raise GatewayError(
            f"no published checkpoint has tree size {size} (the latest: {shown})",
            code=NO_SUCH_SIZE,
        )
    return found


def from_store(
    store: LogStore,
    verifiers: Sequence[Verifier],
    size: int | None = None,
    *,
    witnesses: Sequence[Cosigner] = (),
    quorum: int = 0,
) -> LogAt:
    """The store's entries at its published checkpoint of tree size ``size`` (None: the
    latest cosigned by at least ``quorum`` of ``witnesses``, :mod:`gateway.audit.cosigned`).

    :raises AuditError: no checkpoint (AUD-NOT-FOUND); its note is not signed by the log's
        keys (AUD-CHECKPOINT); the store does not hold its tree (AUD-FORK).
    :raises GatewayError: (RPT-SIZE) no checkpoint was published at ``size``.
    """
    latest = for_readers(store, witnesses, quorum)
    if size is None and latest is None:
        raise AuditError(no_checkpoint(quorum), code="AUD-NOT-FOUND")
    if size is None or latest is None or latest.size == size:
        stored = checkpoint_of([] if latest is None else [latest], None)
    else:  # an earlier one: look through all
        stored = checkpoint_of(store.checkpoints(), size)
    try:
        cp = open_checkpoint(stored.note, verifiers)
    except VerificationError as exc:
        raise AuditError(
            f"the checkpoint of size {stored.size} does not verify: {exc.args[0]}",
            code="AUD-CHECKPOINT",
        ) from exc
    if store.size() < cp.size or store.root(cp.size) != cp.root:
        raise AuditError(
            f"the store does not hold the tree of the checkpoint (size {cp.size})", code="AUD-FORK"
        )
    raw = list(store.entries(0, cp.size))
    return LogAt(cp.origin, cp.size, cp.root.hex(), raw)


def from_bundle(directory: Path, *, trusted_vkey: str | None, size: int | None = None) -> LogAt:
    """The entries of a whole-log audit bundle, once it verifies (``trusted_vkey``: the log
    key to pin, a vkey line). ``size``: the bundle's own checkpoint's (the one it carries).

    :raises GatewayError: (RPT-BUNDLE) the bundle does not verify or is a range bundle;
        (RPT-SIZE) ``size`` is not the size of the checkpoint the bundle carries.
    """
    try:
        report = verify_bundle(directory, trusted_vkey=trusted_vkey)
    except (VerificationError, AuditError) as exc:
        raise GatewayError(
            f"the bundle {directory} does not verify: {exc.args[0]}", code=BAD_BUNDLE
        ) from exc
    if (directory / RANGE_FILE).exists():
        raise GatewayError(
            f"{directory} is a range bundle; a report needs the log from leaf 0", code=BAD_BUNDLE
        )
    if size is not None and size != report.size:
        raise GatewayError(
            f"the bundle carries the checkpoint of tree size {report.size} only, not {size}",
            code=NO_SUCH_SIZE,
        )
    data = (directory / ENTRIES_FILE).read_bytes()  # verified: each line ends in 0x0A
    raw = data[:-1].split(b"\n") if data else []
    return LogAt(report.origin, report.size, report.root, raw, from_bundle=True)


def settings_for(
    log: LogAt, party: str, configured: Mapping[str, PartyConfig] | None
) -> tuple[PartySettings, Source] | None:
    """The settings ``party``'s report uses and their source: the log's at the checkpoint,
    else the config's (``configured``; None for a bundle); None when neither has the Party.
    """
    recorded = log.parties.get(party)
    if recorded is not None:
        return recorded, "log"
    config = None if configured is None else configured.get(party)
    if config is None:
        return None
    own = PartySettings(
        config.code, config.name, config.ndc_period, config.ca_method, config.ca_year
    )
    return own, "config"


def require_settings(
    log: LogAt, party: str, configured: Mapping[str, PartyConfig] | None
) -> tuple[PartySettings, Source]:
    """:func:`settings_for`, which must find the Party.

    :raises GatewayError: (RPT-SETTINGS) neither the log nor the config has its settings.
    """
    found = settings_for(log, party, configured)
    if found is None:
        where = "the bundle" if configured is None else "the log or the config"
        raise GatewayError(
            f"no settings for Party {party!r} in {where} at tree size {log.size}",
            code=NO_SETTINGS,
        )
    return found
