"""Readiness reports and the producer check, without a broker (the producer's state is
what aiokafka keeps: a started flag, the cluster metadata, the connections)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from gateway.observe.health import producer_connected, report, run_checks


def test_every_check_passed_is_ready() -> None:
    r = report({"store": None, "producer": None})
    assert (r.ready, r.status) == (True, 200)
    assert json.loads(r.body()) == {"ready": True, "checks": {"producer": "ok", "store": "ok"}}


def test_a_failing_check_is_named_with_its_reason() -> None:
    r = report({"store": None, "ledger": "not recovered yet"})
    body = json.loads(r.body())
    assert (r.ready, r.status) == (False, 503)
    assert body["not_ready"] == ["ledger"] and body["checks"]["ledger"] == "not recovered yet"


def test_a_check_that_raises_is_not_ready() -> None:
    async def fine() -> str | None:
        return None

    async def broken() -> str | None:
        raise OSError("disk I/O error")

    r = asyncio.run(run_checks({"fine": fine, "store": broken}))
    assert not r.ready and r.checks["store"] == "OSError: disk I/O error"


@dataclass
class _Conn:
    up: bool

    def connected(self) -> bool:
        return self.up


@dataclass
class _Cluster:
    known: list[int]

    def brokers(self) -> list[int]:
        return self.known


@dataclass
class _Client:
    cluster: _Cluster
    _conns: dict[int, _Conn] = field(default_factory=dict)


@dataclass
class _Producer:
    client: _Client
    _closed: bool | None = False


def test_producer_states() -> None:
    assert producer_connected(None) == "no producer"
    never = _Producer(_Client(_Cluster([1])), _closed=None)
    assert producer_connected(never) == "the producer is not started"
    unbooted = _Producer(_Client(_Cluster([])))
    assert "bootstrap" in (producer_connected(unbooted) or "")
    idle = _Producer(_Client(_Cluster([1])))
    assert producer_connected(idle) is None  # nothing sent yet: no connection held
    up = _Producer(_Client(_Cluster([1]), {1: _Conn(False), 2: _Conn(True)}))
    assert producer_connected(up) is None
    down = _Producer(_Client(_Cluster([1]), {1: _Conn(False)}))
    assert "down" in (producer_connected(down) or "")
