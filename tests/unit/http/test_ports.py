"""Loopback ports picked below the kernel's range for outgoing connections."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gateway.http import ports


def test_the_range_is_read_from_the_kernel_file(tmp_path: Path) -> None:
    f = tmp_path / "range"
    f.write_text("40000\t50000\n", encoding="ascii")
    assert ports.ephemeral_range(f) == (40000, 50000)


@pytest.mark.parametrize("text", [None, "", "garbage", "1 2 3"])
def test_an_unreadable_range_is_linux_default(tmp_path: Path, text: str | None) -> None:
    f = tmp_path / "range"
    if text is not None:
        f.write_text(text, encoding="ascii")
    assert ports.ephemeral_range(f) == ports.DEFAULT_EPHEMERAL == (32768, 60999)


def test_candidates_stay_out_of_the_outgoing_range() -> None:
    assert ports.candidates((32768, 60999)) == range(20000, 32768)
    # a range that starts low: above it instead
    assert ports.candidates((1024, 50000)) == range(50001, 65535)


def test_ports_are_outside_the_range_bindable_and_never_repeated() -> None:
    low, high = ports.ephemeral_range()
    seen = {ports.loopback_port() for _ in range(200)}
    assert len(seen) == 200
    assert not any(low <= p <= high for p in seen)
    for p in list(seen)[:20]:
        with socket.socket() as sock:
            sock.bind((ports.HOST, p))


def test_a_span_is_free_in_full() -> None:
    first = ports.loopback_port(span=2)
    assert ports.can_bind(first) and ports.can_bind(first + 1)
    assert {first, first + 1} <= ports._given


def test_a_port_in_use_is_never_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as held:
        held.bind((ports.HOST, 0))
        held.listen()
        taken = held.getsockname()[1]
        assert not ports.can_bind(taken)
        monkeypatch.setattr(ports, "candidates", lambda _r: range(taken, taken + 1))
        with pytest.raises(OSError, match="no 1 free loopback port"):
            ports.loopback_port()


def test_a_port_handed_out_is_not_handed_out_again(monkeypatch: pytest.MonkeyPatch) -> None:
    first = ports.loopback_port()
    monkeypatch.setattr(ports, "candidates", lambda _r: range(first, first + 1))
    with pytest.raises(OSError):
        ports.loopback_port()
