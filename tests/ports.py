"""Free loopback ports for the brokers and servers the tests and scripts start."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port free on 127.0.0.1 now (the kernel's pick)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_pair() -> int:
    """A free port whose successor is free too (a broker's controller listens there)."""
    for _ in range(100):
        port = free_port()
        if port < 65535 and ports_free(port, port + 1):
            return port
    raise RuntimeError("no free pair of loopback ports")


def ports_free(*ports: int) -> bool:
    """Whether each of ``ports`` can be bound on 127.0.0.1 now."""
    for port in ports:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True
