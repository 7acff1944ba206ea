"""``a6gw witness serve`` as a real process over real HTTPS on loopback (C2SP tlog-witness):
each refusal with the spec's status, the state kept across a process restart, and
concurrent submissions from two forks of which exactly one wins."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from gateway.audit.cosignature import parse_witness_vkey, verified_cosignatures
from gateway.audit.note import LogKey, open_checkpoint
from gateway.audit.tlog_witness import parse_size_body
from gateway.http.pki import init_pki
from tests.ports import free_port
from tests.unit.witness.logs import TreeLog

ORIGINS = ("a6gw.test/refusals", "a6gw.test/restart", "a6gw.test/race", "a6gw.test/empty")
WITNESS_NAME = "witness.jp.test/a6gw"


@dataclass
class Setup:
    root: Path
    config: Path
    port: int
    keys: dict[str, LogKey]
    vkey: str

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/witness/add-checkpoint"

    def tls(self, cert: str | None = None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.root / "pki" / "ca.pem"))
        if cert:
            ctx.load_cert_chain(
                self.root / "pki" / f"{cert}.pem", self.root / "pki" / f"{cert}.key"
            )
        return ctx


def _a6gw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], capture_output=True, text=True, timeout=60
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    root = tmp_path_factory.mktemp("witness")
    init_pki(root / "pki", ("gateway",))
    done = _a6gw("witness", "keygen", "--name", WITNESS_NAME, "--out", str(root / "witness.key"))
    assert done.returncode == 0, done.stderr
    vkey = done.stdout.strip()
    assert (root / "witness.key.vkey").read_text().strip() == vkey
    keys = {origin: LogKey.generate(origin) for origin in ORIGINS}
    port = free_port()
    config = {
        "witness": {
            "name": WITNESS_NAME,
            "key_file": "witness.key",
            "state_file": "state/witness.db",
        },
        "listen": {"host": "127.0.0.1", "port": port, "prefix": "/witness"},
        "tls": {"cert_file": "pki/server.pem", "key_file": "pki/server.key"},
        "logs": [{"origin": o, "vkeys": [k.public_vkey()]} for o, k in keys.items()],
    }
    (root / "state").mkdir()
    (root / "witness.yaml").write_text(yaml.safe_dump(config))
    return Setup(root, root / "witness.yaml", port, keys, vkey)


def _wait_listening(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the witness exited: {proc.communicate()[1]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the witness did not listen within 30 s")


@pytest.fixture
def witness(setup: Setup) -> Iterator[subprocess.Popen[str]]:
    proc = _start(setup)
    yield proc
    _stop(proc)


def _start(
    setup: Setup, config: Path | None = None, port: int | None = None
) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway",
            "witness",
            "serve",
            "--config",
            str(config or setup.config),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "A6GW_LOG_FORMAT": "json"},
    )
    _wait_listening(port or setup.port, proc)
    return proc


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err


def post(setup: Setup, body: bytes) -> httpx.Response:
    with httpx.Client(verify=setup.tls(), timeout=30) as client:
        return client.post(setup.url, content=body)


def _cosigned(setup: Setup, log: TreeLog, size: int, answer: httpx.Response) -> None:
    assert answer.status_code == 200, answer.text
    assert answer.text.startswith(f"\u2014 {WITNESS_NAME} ") and answer.text.count("\n") == 1
    _, found = verified_cosignatures(log.note(size) + answer.text, [parse_witness_vkey(setup.vkey)])
    assert [c.name for c in found] == [WITNESS_NAME]
    assert abs(found[0].timestamp - time.time()) < 60


def _refused(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["A6GW-Code"] == code


def test_each_refusal_has_the_specs_status(setup: Setup, witness: subprocess.Popen[str]) -> None:
    key = setup.keys["a6gw.test/refusals"]
    log, fork = TreeLog(key, 12), TreeLog(key, 12, tag="fork")
    stranger = TreeLog(LogKey.generate(key.name), 12)  # the log's name, another key
    unknown = TreeLog(LogKey.generate("a6gw.test/nobody"), 3)
    _refused(post(setup, unknown.body(0, 3)), 404, "WITNESS-ORIGIN")
    _refused(post(setup, stranger.body(0, 5)), 403, "WITNESS-SIGNATURE")
    unsigned = b"old 0\n\n" + log.checkpoint(5).to_text().encode()
    _refused(post(setup, unsigned), 403, "WITNESS-SIGNATURE")
    _cosigned(setup, log, 5, post(setup, log.body(0, 5)))
    _refused(post(setup, b"old 9\n\n" + log.note(5).encode()), 400, "WITNESS-SIZE")
    _refused(post(setup, fork.body(5, 9)), 422, "WITNESS-PROOF")  # inconsistent
    _refused(post(setup, fork.body(5, 5)), 422, "WITNESS-PROOF")  # same size, other root
    older = post(setup, log.body(0, 3))  # older than the last it cosigned
    _refused(older, 409, "WITNESS-CONFLICT")
    assert older.headers["Content-Type"] == "text/x.tlog.size"
    assert older.content == b"5\n" and parse_size_body(older.content) == 5
    _refused(post(setup, b"old 5\n\nnot a note"), 400, "WITNESS-REQUEST")
    _cosigned(setup, log, 12, post(setup, log.body(5, 12)))
    # the monitoring endpoint serves the latest cosigned checkpoint with both signatures
    origin_hash = hashlib.sha256(key.name.encode()).hexdigest()
    url = f"https://127.0.0.1:{setup.port}/witness/{origin_hash}/checkpoint"
    with httpx.Client(verify=setup.tls()) as client:
        latest = client.get(url)
        missing = client.get(url.replace(origin_hash, "0" * 64))
    assert open_checkpoint(latest.text, key.verifier()) == log.checkpoint(12)
    _, found = verified_cosignatures(latest.text, [parse_witness_vkey(setup.vkey)])
    assert len(found) == 1
    assert missing.status_code == 404


def test_the_state_survives_a_restart(setup: Setup) -> None:
    log = TreeLog(setup.keys["a6gw.test/restart"], 9)
    proc = _start(setup)
    _cosigned(setup, log, 6, post(setup, log.body(0, 6)))
    logged = _stop(proc)
    assert '"status":200' in logged and "a6gw.witness.access" in logged
    assert '"message":"cosigned a6gw.test/restart at size 6"' in logged
    proc = _start(setup)
    try:
        answer = post(setup, log.body(0, 9))  # a client that lost track asks from 0
        _refused(answer, 409, "WITNESS-CONFLICT")
        assert answer.content == b"6\n"
        _cosigned(setup, log, 9, post(setup, log.body(6, 9)))  # and resumes from 6
    finally:
        _stop(proc)


def test_concurrent_forks_exactly_one_wins_and_nothing_rolls_back(
    setup: Setup, witness: subprocess.Popen[str]
) -> None:
    key = setup.keys["a6gw.test/race"]
    forks = [TreeLog(key, 10, tag="a"), TreeLog(key, 10, tag="b")]

    async def race() -> list[tuple[int, int]]:
        async with httpx.AsyncClient(verify=setup.tls(), timeout=60) as client:
            bodies = [(i % 2, forks[i % 2].body(0, 4 + i % 2)) for i in range(20)]
            answers = await asyncio.gather(
                *(client.post(setup.url, content=body) for _, body in bodies)
            )
        return [(f, a.status_code) for (f, _), a in zip(bodies, answers, strict=True)]

    outcomes = asyncio.run(race())
    winners = [f for f, status in outcomes if status == 200]
    assert len(winners) == 1, outcomes
    assert sorted(status for _, status in outcomes) == [200] + [409] * 19
    win = forks[winners[0]]
    size = 4 + winners[0]
    # the winner's history goes on; the loser's cannot, from any size
    lose = forks[1 - winners[0]]
    _refused(post(setup, lose.body(size, 10)), 422, "WITNESS-PROOF")
    _cosigned(setup, win, 10, post(setup, win.body(size, 10)))

    async def grow() -> list[int]:  # 20 at once from 10, to sizes 11..30: one wins
        for log in forks:
            log.grow(20)
        async with httpx.AsyncClient(verify=setup.tls(), timeout=60) as client:
            answers = await asyncio.gather(
                *(client.post(setup.url, content=win.body(10, 11 + i)) for i in range(20))
            )
        return [a.status_code for a in answers]

    statuses = asyncio.run(grow())
    assert sorted(statuses) == [200] + [409] * 19
    winner_size = 11 + statuses.index(200)
    answer = post(setup, win.body(0, 11))
    assert answer.content == f"{winner_size}\n".encode()  # not rolled back by the others


def test_mutual_tls_when_required(setup: Setup) -> None:
    config = yaml.safe_load(setup.config.read_text())
    port = free_port()
    config["listen"]["port"] = port
    config["witness"]["state_file"] = "state/mtls.db"
    config["tls"] |= {"client_ca_file": "pki/ca.pem", "require_client": True}
    path = setup.root / "mtls.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = _start(setup, path, port)
    log = TreeLog(setup.keys["a6gw.test/empty"], 0)
    url = f"https://127.0.0.1:{port}/witness/add-checkpoint"
    try:
        with pytest.raises(httpx.TransportError):
            with httpx.Client(verify=setup.tls()) as client:
                client.post(url, content=log.body(0, 0))
        with httpx.Client(verify=setup.tls("gateway")) as client:
            answer = client.post(url, content=log.body(0, 0))  # the empty tree, cosigned
        _cosigned(setup, log, 0, answer)
    finally:
        _stop(proc)


def test_config_mistakes_are_named(setup: Setup, tmp_path: Path) -> None:
    config = yaml.safe_load(setup.config.read_text())
    config["logs"][0]["vkeys"] = ["not-a-vkey"]
    config["tls"]["require_client"] = True
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    done = _a6gw("witness", "serve", "--config", str(bad))
    assert done.returncode == 2
    assert "A6-CFG-004" in done.stderr and "logs.0" in done.stderr and "tls" in done.stderr
    config = yaml.safe_load(setup.config.read_text())
    config["witness"]["name"] = "witness.other/x"
    config["witness"]["key_file"] = str(setup.root / "witness.key")
    bad.write_text(yaml.safe_dump(config))
    done = _a6gw("witness", "serve", "--config", str(bad))
    assert done.returncode == 2 and "A6-CFG-KEY" in done.stderr, done.stderr
    with socket.socket() as taken:  # the port is in use: a clear error, no traceback
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = _a6gw(
            "witness", "serve", "--config", str(setup.config), "--port", str(taken.getsockname()[1])
        )
    assert done.returncode == 2 and "cannot listen on 127.0.0.1" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
