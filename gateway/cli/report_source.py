"""Where ``a6gw summary`` and ``a6gw aef export`` read the log: the config's store, or an
audit bundle alone, at a published checkpoint (:mod:`gateway.services.report_log`).

``--config FILE`` reads the config's audit store at its latest published checkpoint, or at
``--size N`` (a published checkpoint's tree size); a Party's settings come from the log, or
from the config for a log that records none. ``--bundle DIR`` reads a whole-log audit bundle
once it verifies (``--vkey FILE`` pins the log key, as for ``a6gw verify``), with no config
and no store: every Party's settings must be in the bundle.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gateway.cli.options import CONFIG_HELP, config_of
from gateway.cli.verify import UNPINNED, UsageProblem, _vkeys
from gateway.config import LoadedConfig, PartyConfig
from gateway.services.report_log import LogAt, from_bundle, from_store

__all__ = ["Source", "add_source", "source_of"]


@dataclass(frozen=True)
class Source:
    """The log at the checkpoint, and the config if there is one (None with ``--bundle``)."""

    log: LogAt
    lc: LoadedConfig | None

    @property
    def parties(self) -> Mapping[str, PartyConfig] | None:
        """The config's Parties (the settings' fallback); None for a bundle."""
        return None if self.lc is None else {p.code: p for p in self.lc.config.parties}


def add_source(p: argparse.ArgumentParser) -> None:
    """``--config FILE`` or ``--bundle DIR`` (with ``--vkey FILE``), and ``--size N``."""
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--config", help=CONFIG_HELP + ": read its audit store")
    where.add_argument(
        "--bundle",
        metavar="DIR",
        help="read a whole-log audit bundle (a6gw audit export) instead, once it verifies: no "
        "config, no store; each Party's settings must be recorded in it",
    )
    p.add_argument(
        "--vkey",
        metavar="FILE",
        help="(--bundle) the log key you trust (a vkey line), as for a6gw verify",
    )
    p.add_argument(
        "--size",
        type=int,
        metavar="N",
        help="compute at the published checkpoint of tree size N (default: the latest; with "
        "--bundle: the bundle's own, the only one it carries)",
    )


def source_of(args: argparse.Namespace) -> Source:
    """The log the options name, at its checkpoint.

    :raises GatewayError: RPT-SIZE, RPT-BUNDLE, AUD-* (see :mod:`gateway.services.report_log`).
    :raises UsageProblem: an unreadable ``--vkey`` file, ``--vkey`` without ``--bundle``.
    """
    if args.bundle is None:
        if args.vkey is not None:
            raise UsageProblem("--vkey goes with --bundle")
        from gateway.audit.open import open_store

        lc = config_of(args)
        verifiers = [lc.load_log_key().verifier(), *lc.previous_log_verifiers()]
        store = open_store(lc.audit_store(), readonly=True)
        try:
            at = from_store(
                store,
                verifiers,
                args.size,
                witnesses=lc.witness_keys(),
                quorum=lc.config.witness_quorum,
            )
            return Source(at, lc)
        finally:
            store.close()
    trusted = _vkeys(args.vkey)[0] if args.vkey else None  # the current key comes first
    if trusted is None:
        print(UNPINNED, file=sys.stderr)
    return Source(from_bundle(Path(args.bundle), trusted_vkey=trusted, size=args.size), None)
