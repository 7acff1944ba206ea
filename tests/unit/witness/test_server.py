"""The witness's aiohttp application in process (plain HTTP): the answers' shapes, and a
state that fails (a fault injected into the state) answered with 500, nothing cosigned.
Real HTTPS and real processes: tests/integration/test_witness.py."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.audit.cosignature import WitnessKey, verified_cosignatures
from gateway.audit.note import LogKey
from gateway.errors import AuditError
from gateway.witness.server import CODE_HEADER, Witness, make_app
from tests.unit.witness.logs import ORIGIN, TreeLog

KEY = LogKey.generate(ORIGIN)
WITNESS = WitnessKey.generate("witness.example/w")


def _witness(tmp_path: Path) -> Witness:
    return Witness(WITNESS, {ORIGIN: [KEY.verifier()]}, tmp_path / "w.db", clock=lambda: 1234.5)


async def _post(witness: Witness, *bodies: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    out = []
    async with TestClient(TestServer(make_app(witness, "/w"))) as client:
        for body in bodies:
            answer = await client.post("/w/add-checkpoint", data=body)
            out.append((answer.status, dict(answer.headers), await answer.read()))
    return out


def test_answers(tmp_path: Path) -> None:
    log = TreeLog(KEY, 5)
    (ok, headers, body), (conflict, c_headers, c_body) = asyncio.run(
        _post(_witness(tmp_path), log.body(0, 5), log.body(0, 5))
    )
    assert ok == 200 and CODE_HEADER not in headers
    assert body.decode().startswith(f"\u2014 {WITNESS.name} ")
    _, [cosig] = verified_cosignatures(log.note(5) + body.decode(), [WITNESS.cosigner()])
    assert cosig.timestamp == 1234  # the witness's clock, in whole seconds
    assert (conflict, c_body) == (409, b"5\n")
    assert c_headers["Content-Type"] == "text/x.tlog.size"
    assert c_headers[CODE_HEADER] == "WITNESS-CONFLICT"


class _BrokenState:
    def advance(self, *args: object) -> str:
        raise AuditError("disk I/O error", code="AUD-STORE")

    def close(self) -> None:
        pass


def test_a_failing_state_is_a_500_with_its_code(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    witness = _witness(tmp_path)
    opened = witness.open

    def open_broken() -> None:
        opened()
        assert witness._state is not None
        witness._state.close()
        witness._state = _BrokenState()  # type: ignore[assignment]

    witness.open = open_broken  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="a6gw.witness"):
        [(status, headers, body)] = asyncio.run(_post(witness, TreeLog(KEY, 3).body(0, 3)))
    assert (status, headers[CODE_HEADER]) == (500, "AUD-STORE")
    assert b"cannot record" in body and "disk I/O error" in caplog.text
