"""The machine's own pace, measured in the benchmark's run.

A shared 2-core machine is not equally fast all day: a neighbour's load or the host's
scheduling can make the same work cost more CPU time. Each session first measures a fixed
piece of the gateway's own work on one core, with nothing else of the benchmark running:
Ed25519 sign and verify and SHA-256 of one ~550-byte event (the reference of the issue
that set the speed goals). Figures of runs on different days compare through it; a
worker's CPU per input is also given in these units (``ref/in``), which do not change with
the machine's pace.
"""

from __future__ import annotations

import hashlib
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

#: the size of a typical signed input envelope, bytes
EVENT_BYTES = 550


def reference_per_s(seconds: float = 1.0) -> float:
    """Events signed, verified and hashed per second of this process's CPU time, over about
    ``seconds`` of wall time (CPU time: a moment off the CPU is not counted against it)."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    event = bytes(range(256)) * 2 + bytes(EVENT_BYTES - 512)
    n = 0
    wall_end = time.monotonic() + seconds
    cpu_start = time.process_time()
    while time.monotonic() < wall_end:
        for _ in range(50):
            public.verify(key.sign(event), event)
            hashlib.sha256(event).digest()
        n += 50
    return n / max(time.process_time() - cpu_start, 1e-9)


def in_references(cpu_ms_per_input: float | None, ref_per_s: float | None) -> float | None:
    """A CPU cost per input in reference events (machine-independent)."""
    if cpu_ms_per_input is None or not ref_per_s:
        return None
    return cpu_ms_per_input / 1000 * ref_per_s
