"""Loopback ports for the servers the demo and the tests start, before they start.

A port the kernel picks (bind to port 0) comes from its range for outgoing connections
(``net.ipv4.ip_local_port_range``, 32768-60999 by default). Between the pick and the
server's own bind, any client connection may take it as its local port, and the Kafka
clients, the broker and PostgreSQL open many. So the ports here come from below that
range, where only listeners bind, and each is handed out once per process.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

HOST = "127.0.0.1"
#: The lowest port handed out: above the well-known and most registered services' ports.
FLOOR = 20000
#: Linux's default range for outgoing connections (used where /proc does not say).
DEFAULT_EPHEMERAL = (32768, 60999)
_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_given: set[int] = set()
_rng = random.SystemRandom()


def ephemeral_range(path: Path = _RANGE_FILE) -> tuple[int, int]:
    """The kernel's range of local ports for outgoing connections (inclusive)."""
    try:
        low, high = (int(x) for x in path.read_text(encoding="ascii").split())
    except (OSError, ValueError):
        return DEFAULT_EPHEMERAL
    return low, high


def candidates(ephemeral: tuple[int, int]) -> range:
    """The ports to pick from: below the outgoing range, or above it when it starts low."""
    low, high = ephemeral
    if low - FLOOR >= 1000:
        return range(FLOOR, low)
    return range(high + 1, 65535)


def can_bind(port: int, host: str = HOST) -> bool:
    """Whether ``port`` can be bound on ``host`` now (a port in TIME_WAIT cannot)."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def loopback_port(span: int = 1) -> int:
    """A port free on 127.0.0.1 with the ``span - 1`` ports after it, never handed out
    before by this process, outside the range for outgoing connections.

    :raises OSError: no such port after 1,000 tries.
    """
    pool = candidates(ephemeral_range())
    for _ in range(1000):
        port = _rng.randrange(pool.start, pool.stop - span + 1)
        wanted = range(port, port + span)
        if any(p in _given for p in wanted):
            continue
        if all(can_bind(p) for p in wanted):
            _given.update(wanted)
            return port
    raise OSError(f"no {span} free loopback port(s) in {pool.start}-{pool.stop - 1}")
