"""The end-to-end benchmark's recovery: a worker with a large ledger state is killed with
``kill -9`` and restarted; how long from its restart to the next decision. Once on its own
table folder (a restart in place), once without it (a new machine: the state comes back
from the changelog)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

from tests.bench.e2e_kafka import Say, publish
from tests.bench.e2e_mix import Input
from tests.bench.e2e_session import Live, Plan, fresh_gateway, phase, wait_ready


def run_recovery(
    plan: Plan, setup: list[Input], load: list[Input], probes: list[Input], blocks: int, say: Say
) -> dict[str, Any]:
    """Figures of a recovery run on a fresh broker with one worker process."""
    with fresh_gateway(plan, "recovery", 1, say) as live:
        return asyncio.run(_recover(live, setup, load, probes, blocks))


async def _recover(
    live: Live, setup: list[Input], load: list[Input], probes: list[Input], blocks: int
) -> dict[str, Any]:
    await live.decisions.start()
    try:
        await wait_ready(live)
        await phase(live, setup, "recovery warm-up")
        t = time.monotonic()
        # Today's worker takes ~1 s per issuance of 1,000 blocks: wait for 5 s each at worst.
        what = f"recovery: {blocks} blocks in {len(load)} issuances"
        await phase(live, load, what, timeout=300 + 5 * len(load))
        out: dict[str, Any] = {"blocks": blocks, "load_s": time.monotonic() - t}
        for name, wipe, probe in (
            ("restart_to_decision_s", False, probes[0]),
            ("restart_without_tables_to_decision_s", True, probes[1]),
        ):
            live.workers.kill(0)
            if wipe:
                live.workers.wipe_tables(0)
            t0 = time.monotonic()
            live.workers.start()
            await publish(live.kafka, [probe])
            left = await live.decisions.wait(
                [probe.key], until=t0 + 900, say=live.say, what=f"recovery ({name})"
            )
            if left:
                raise RuntimeError(f"no decision 900 s after the restart ({name})")
            out[name] = live.decisions.first[probe.key] - t0
            state = _state_line(live.workers.procs[0].log_tail(10**6))
            out[name.replace("_to_decision_s", "_state")] = state
            live.say(f"  kill -9{' and no tables' if wipe else ''}: {out[name]:.1f} s ({state})")
        out["probe_outcomes"] = await _outcomes(live, probes)
        if set(out["probe_outcomes"]) != {"accepted"}:
            raise RuntimeError(f"the probes after recovery were {out['probe_outcomes']}")
        return out
    finally:
        await live.decisions.stop()


def _state_line(log: str) -> str:
    """How the restarted worker made its ledger state, from its log: the last line that
    says so (restored from its snapshot or rebuilt, and in how long)."""
    found = re.findall(r"ledger state (?:restored|rebuilt) [^\n]* in [0-9.]+ s", log)
    return found[-1] if found else "no ledger state line in the worker's log"


async def _outcomes(live: Live, probes: list[Input]) -> list[str]:
    """The probes' outcomes in the audit log (once the sequencer has them)."""
    want = {p.event_id for p in probes}
    until = time.monotonic() + 60
    found: dict[str, str] = {}
    while time.monotonic() < until:
        size = live.store.size()
        for body in live.store.entries(max(0, size - 50)):
            e = json.loads(body)
            if e.get("input", {}).get("id") in want:  # trust records have no input
                found[e["input"]["id"]] = e["outcome"]
        if len(found) == len(want):
            break
        await asyncio.sleep(0.2)
    return [found.get(p.event_id, "missing") for p in probes]
