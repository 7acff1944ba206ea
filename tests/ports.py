"""Free loopback ports for the brokers and servers the tests and scripts start.

They come from ``gateway.http.ports``: below the kernel's range for outgoing connections,
so no client connection takes one between the pick and the server's bind.
"""

from __future__ import annotations

import socket

from gateway.http.ports import loopback_port


def free_port() -> int:
    """A port free on 127.0.0.1 now, not handed out before in this process."""
    return loopback_port()


def free_port_pair() -> int:
    """A free port whose successor is free too (a broker's controller listens there)."""
    return loopback_port(span=2)


def ports_free(*ports: int) -> bool:
    """Whether each of ``ports`` can be bound on 127.0.0.1 now (a port in TIME_WAIT can:
    the fixed test ports are reused session after session, and the servers reuse them)."""
    for port in ports:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True
