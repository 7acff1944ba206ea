"""No secret reaches a log: the demo at DEBUG with JSON logs from every process.

`a6gw demo --keep` runs the scenario (its worker and supervisor in their own processes, the
ingress in the demo's) and keeps running; then `a6gw api` serves the same world with an
operator's bearer token and the auditor's client certificate, and answers a few requests.
Every process logs JSON lines at DEBUG. Once all have stopped, every byte they wrote is
scanned for every secret of the world, in every form a careless line could show it: each
private key as PEM, as the base64 of its PEM body, and its raw bytes as hex and base64; the
API token; each SCRAM password (``kafka-credentials/*.json``); the MAC key
(``keys/internal.mac``). The lines themselves are checked too: one JSON object per line,
a line per decision, an access line per request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tests.ports import free_port, free_port_pair

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

DEMO_DONE = "broker and worker keep running"


def _start(cmd: list[str], out: Path, err: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("A6GW_LOG_")}
    with out.open("wb") as o, err.open("wb") as e:
        return subprocess.Popen(
            cmd, stdout=o, stderr=e, stdin=subprocess.DEVNULL, env=env, start_new_session=True
        )


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGINT, wait: float = 120) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)


def _wait_for(path: Path, text: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):
        assert proc.poll() is None, path.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, f"no {text!r} in {path}"
        time.sleep(1)


def key_forms(pem: str) -> Iterator[str]:
    """A private key's PEM, its PEM body in base64, its raw bytes in hex and base64."""
    yield pem.strip()
    body = [ln for ln in pem.strip().splitlines()[1:-1] if ln]
    yield "".join(body)
    yield from (ln for ln in body if len(ln) >= 16)
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.private_bytes_raw()
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        raw = key.private_numbers().private_value.to_bytes(32, "big")
    else:
        assert isinstance(key, rsa.RSAPrivateKey)
        raw = key.private_numbers().d.to_bytes(256, "big")
    yield from bytes_forms(raw)


def bytes_forms(raw: bytes) -> Iterator[str]:
    yield raw.hex()
    yield raw.hex().upper()
    for b64 in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        yield b64.decode().rstrip("=")


def world_secrets(root: Path, token: str) -> dict[str, list[str]]:
    """Every secret of the demo world under ``root``, by where it came from."""
    found: dict[str, list[str]] = {"api token": [token]}
    for path in sorted((root / "keys").glob("*.pem")) + sorted((root / "pki").glob("*.key")):
        found[str(path.relative_to(root))] = list(key_forms(path.read_text()))
    log_key = json.loads((root / "keys" / "log.key").read_text())
    found["keys/log.key"] = list(key_forms(log_key["private_key_pem"]))
    mac = (root / "keys" / "internal.mac").read_text().strip()
    found["keys/internal.mac"] = [mac, *bytes_forms(bytes.fromhex(mac))]
    creds = sorted((root / "kafka-credentials").glob("*.json"))
    assert len(creds) >= 5, creds
    for path in creds:
        found[str(path.relative_to(root))] = [json.loads(path.read_text())["password"]]
    return found


def json_lines(text: str, where: str, *, only_braced: bool = False) -> list[dict[str, Any]]:
    """The lines of ``text``, each a JSON object with the fields every line has."""
    docs = []
    for line in text.splitlines():
        if not line.strip() or (only_braced and not line.startswith("{")):
            continue
        doc = json.loads(line)  # a line that is not JSON fails here
        assert {"time", "level", "logger", "message"} <= doc.keys(), (where, line)
        docs.append(doc)
    return docs


def api_config(root: Path, port: int, token: str) -> Path:
    doc = yaml.safe_load((root / "config.yaml").read_text())
    doc["api"] = {
        "host": "127.0.0.1",
        "port": port,
        "cert_file": "pki/server.pem",
        "key_file": "pki/server.key",
        "client_ca_file": "pki/ca.pem",
        "clients": ["auditor"],
        "tokens": [{"sha256": hashlib.sha256(token.encode()).hexdigest(), "role": "operator"}],
    }
    path = root / "config-api.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def ask_api(root: Path, port: int, token: str) -> None:
    base = f"https://127.0.0.1:{port}"
    ca = ssl.create_default_context(cafile=str(root / "pki" / "ca.pem"))
    deadline = time.monotonic() + 60
    with httpx.Client(verify=ca, timeout=10) as plain:
        while True:
            try:
                answer = plain.get(f"{base}/v1/checkpoint", headers={"Authorization": "Bearer x"})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the API did not answer"
                time.sleep(0.5)
        assert answer.status_code == 401
        bearer = {"Authorization": f"Bearer {token}"}
        assert plain.get(f"{base}/v1/checkpoint", headers=bearer).status_code == 200
        # a secret in a query string must not reach the log either
        answer = plain.get(f"{base}/v1/search", params={"outcome": token}, headers=bearer)
        assert answer.status_code in (200, 400)
    mutual = ssl.create_default_context(cafile=str(root / "pki" / "ca.pem"))
    mutual.load_cert_chain(str(root / "pki" / "auditor.pem"), str(root / "pki" / "auditor.key"))
    with httpx.Client(verify=mutual, timeout=10) as auditor:
        assert auditor.get(f"{base}/v1/checkpoint").status_code == 200


def test_the_demo_at_debug_logs_json_lines_and_no_secret(tmp_path: Path) -> None:
    root, logs_dir = tmp_path / "demo", tmp_path / "logs"
    logs_dir.mkdir()
    flags = ["--log-format", "json", "--log-level", "debug"]
    demo_cmd = [sys.executable, "-m", "gateway", "demo", "--keep", "--workdir", str(root)]
    demo_cmd += ["--port", str(free_port_pair()), *flags]
    demo = _start(demo_cmd, logs_dir / "demo.out", logs_dir / "demo.err")
    api: subprocess.Popen[bytes] | None = None
    token = "a6t-" + secrets.token_urlsafe(32)
    try:
        _wait_for(logs_dir / "demo.err", DEMO_DONE, demo, 600)
        port = free_port()
        api_cmd = [sys.executable, "-m", "gateway", "api", "--config"]
        api_cmd += [str(api_config(root, port, token)), *flags]
        api = _start(api_cmd, logs_dir / "api.out", logs_dir / "api.err")
        ask_api(root, port, token)
    finally:
        if api is not None:
            _stop(api)
        _stop(demo)
    assert demo.returncode in (0, 130, -signal.SIGINT), (logs_dir / "demo.err").read_text()[-3000:]

    texts = {p.name: p.read_text(errors="replace") for p in sorted(logs_dir.iterdir())}
    texts["worker.log"] = (root / "worker.log").read_text(errors="replace")
    assert "OK: every input ended as its expected decision" in texts["demo.out"]
    for name, text in texts.items():
        for origin, forms in world_secrets(root, token).items():
            for form in forms:
                assert form not in text, f"{origin} ({form[:8]}...) is in {name}"

    worker = json_lines(texts["worker.log"], "worker.log")
    assert {d["level"] for d in worker} >= {"debug", "info"}
    trail = [d for d in worker if d["logger"] == "a6gw.decisions"]
    decisions = [d for d in trail if d["level"] == "info"]
    assert any(d["message"] == "no audit entry" for d in trail)  # DEBUG: forwarded inputs
    assert len(decisions) >= 30, len(decisions)
    rejected = [d for d in decisions if d.get("outcome") == "rejected"]
    assert rejected and all(d["codes"] and d["event_id"] and d["source"] for d in rejected)
    assert any(d.get("entry_type") == "dead-letter" for d in decisions)
    assert {"step", "topic", "partition", "offset", "entry_id"} <= decisions[0].keys()

    api_lines = json_lines(texts["api.err"], "api.err")
    access = [d for d in api_lines if d["logger"] == "a6gw.api.access"]
    assert [(d["status"], d["auth"], d["role"]) for d in access] == [
        (401, "none", None),
        (200, "token", "operator"),
        (access[2]["status"], "token", "operator"),
        (200, "certificate", "auditor"),
    ]
    assert access[3]["client_cn"] == "auditor" and access[2]["path"] == "/v1/search"
    assert all(d["remote"] == "127.0.0.1" and d["duration_ms"] >= 0 for d in access)

    demo_lines = json_lines(texts["demo.err"], "demo.err", only_braced=True)
    ingress = [d for d in demo_lines if d["logger"] == "a6gw.ingress.access"]
    assert len(ingress) >= 5 and {d["registry"] for d in ingress} == {"IDN01"}
    assert {d["client_cn"] for d in ingress} == {"IDN01"}
    assert 202 in {d["status"] for d in ingress} and {d["path"] for d in ingress} == {"/v1/events"}
