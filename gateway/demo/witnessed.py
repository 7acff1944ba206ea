"""The demo's witnesses at work: a checkpoint cosigned by Japan's and Mongolia's witnesses, a
bundle that verifies with both pinned, and a forked log that both refuse.

The fork is what a compromised operator could do: take a copy of the store, rewrite one
entry, and sign the rewritten tree's checkpoint directly with the log key. The log key's
signature is good, so a reader who trusts only that key accepts it; the witnesses, which
cosigned the real history at that size, refuse it (tlog-witness 422), so a reader who asks
for one witness's cosignature rejects the forked bundle.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from gateway.audit.cosigned import for_readers
from gateway.audit.export import export_bundle
from gateway.audit.note import Checkpoint
from gateway.audit.store import AuditStore
from gateway.config import LoadedConfig
from gateway.demo.witnesses import WitnessProcess
from gateway.errors import GatewayError
from gateway.worker.witnessing import Collector, links_for

Say = Callable[[str], None]
#: How long the demo waits for both witnesses to cosign the checkpoint it asked for.
COSIGN_WAIT_S = 60.0


def wait_cosigned(lc: LoadedConfig, store: AuditStore, size: int) -> str:
    """The note of the checkpoint of at least ``size`` entries, once ``witness_quorum``
    witnesses cosigned it.

    :raises GatewayError: (DEMO-TIMEOUT) when they did not within :data:`COSIGN_WAIT_S`.
    """
    keys, quorum = lc.witness_keys(), lc.config.witness_quorum
    deadline = time.monotonic() + COSIGN_WAIT_S
    while time.monotonic() < deadline:
        found = for_readers(store, keys, quorum)
        if found is not None and found.size >= size:
            return found.note
        time.sleep(0.2)
    raise GatewayError(
        f"the witnesses did not cosign a checkpoint of {size} entries in time", code="DEMO-TIMEOUT"
    )


def _verify(bundle: Path, witnesses: list[WitnessProcess], k: int) -> tuple[int, str]:
    keys = [a for w in witnesses for a in ("--witness-key", str(w.vkey_file))]
    cmd = [sys.executable, "-m", "gateway", "verify", str(bundle), *keys]
    done = subprocess.run(  # noqa: S603 - our own CLI
        [*cmd, "--min-witnesses", str(k)], capture_output=True, text=True, timeout=120
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    said = [ln for ln in lines if "cosign" in ln or ln.startswith("FAIL")]  # the policy's line
    return done.returncode, (said or lines or [""])[-1]


def show_cosigned(bundle: Path, witnesses: list[WitnessProcess], say: Say) -> list[str]:
    """Verify the exported bundle with both witnesses pinned (K = 2); problems, if any."""
    names = " and ".join(f"{w.short.upper()} ({w.name})" for w in witnesses)
    size = int((bundle / "checkpoint").read_text().split("\n")[1])
    say(f"witnesses: checkpoint of {size} entries cosigned by {names}")
    code, last = _verify(bundle, witnesses, len(witnesses))
    say(f"witnesses: a6gw verify --min-witnesses {len(witnesses)}: {last}")
    return [] if code == 0 else [f"the cosigned bundle does not verify: {last}"]


def _forked_copy(store: AuditStore, size: int, path: Path) -> AuditStore:
    """The first ``size`` entries of ``store`` in a new store, one of them rewritten."""
    forked = AuditStore(path)
    rewritten = False
    batch = []
    for raw in store.entries(0, size):
        entry_id = str(json.loads(raw)["entry_id"])
        if not rewritten and b'"outcome":"accepted"' in raw:
            raw, rewritten = raw.replace(b'"outcome":"accepted"', b'"outcome":"rejected"'), True
        batch.append((entry_id, raw))
    forked.append(batch)
    return forked


def show_fork(
    lc: LoadedConfig, store: AuditStore, witnesses: list[WitnessProcess], workdir: Path, say: Say
) -> list[str]:
    """Fork the log as a compromised operator would, submit it to the witnesses, and check
    that a reader who needs one witness's cosignature rejects its bundle; problems, if any."""
    size = min(store.witness_size(w.name) or 0 for w in witnesses)
    (workdir / "forked").mkdir(parents=True, exist_ok=True)
    forked = _forked_copy(store, size, workdir / "forked" / "audit.sqlite")
    key = lc.load_log_key()
    note = key.sign(Checkpoint(lc.config.gateway.log_origin, size, forked.root(size)).to_text())
    forked.save_checkpoint(size, note)
    say(
        f"fork: a compromised operator rewrites one entry of a copy of the store and signs "
        f"its checkpoint of {size} entries with the log key (root {forked.root(size).hex()[:16]}…)"
    )
    verifiers = [key.verifier(), *lc.previous_log_verifiers()]

    async def submit() -> dict[str, str]:
        async def no_topic(_t: str, _k: bytes, _v: bytes) -> None:
            return None  # the demo reports the refusals itself

        collector = Collector(forked, links_for(lc), verifiers, no_topic)
        try:
            return await collector.submit(note)
        finally:
            await collector.close()

    outcomes = asyncio.run(submit())
    problems = []
    for w in witnesses:
        got = outcomes.get(w.name)
        say(f"fork: witness {w.short.upper()} {'refused it (422)' if got == 'fork' else got}")
        if got != "fork":
            problems.append(f"witness {w.short} did not refuse the fork: {got}")
    bundle = workdir / "forked-bundle"
    export_bundle(bundle, forked, note, verifiers)
    code, last = _verify(bundle, witnesses, 1)
    say(f"fork: a6gw verify --min-witnesses 1 of the forked bundle: exit {code}: {last}")
    if code != 1:
        problems.append(f"the forked bundle was not rejected (exit {code})")
    forked.close()
    return problems
