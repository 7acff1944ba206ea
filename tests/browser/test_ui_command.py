"""``a6gw ui`` as the auditor runs it: a subprocess serving the packaged page on loopback and
forwarding /v1/ to the API over mutual TLS with the auditor's client certificate (the page
itself holds no credential), and its clear refusals before serving."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from gateway.ui.serve import CSP
from tests.browser.conftest import new_page
from tests.browser.world import TOKEN, World
from tests.ports import free_port

A6GW = [sys.executable, "-m", "gateway"]


def ui_args(world: World, *extra: str) -> list[str]:
    return [*A6GW, "ui", "--api", world.url, "--cacert", str(world.pki / "ca.pem"), *extra]


def cert_args(world: World) -> list[str]:
    return ["--cert", str(world.pki / "auditor.pem"), "--key", str(world.pki / "auditor.key")]


def run_ui(args: list[str]) -> subprocess.CompletedProcess[str]:
    """``a6gw ui`` expected to stop before serving."""
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


@contextmanager
def serving(args: list[str], log: Path) -> Iterator[str]:
    """``a6gw ui`` with ``args`` on a free loopback port until the context ends; its URL."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603
            [*args, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"a6gw ui exited: {log.read_text()}"
            try:
                httpx.get(f"{url}/ui/", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"a6gw ui did not serve: {log.read_text()}"
                time.sleep(0.2)
        assert f"the auditors' page at {url}/ui/" in log.read_text()
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def local_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ui") / "ui.log"


@pytest.fixture(scope="module")
def local(world: World, local_log: Path) -> Iterator[str]:
    """``a6gw ui`` with the auditor's client certificate, logging JSON lines."""
    args = [*ui_args(world, *cert_args(world)), "--log-format", "json"]
    with serving(args, local_log) as url:
        yield url


def test_the_local_server_forwards_with_the_client_certificate(local: str, world: World) -> None:
    with httpx.Client(base_url=local, timeout=30) as http:
        r = http.get("/v1/checkpoint")  # no credential here: the forwarder presents the cert
        assert r.status_code == 200
        assert r.json() == world.get("/v1/checkpoint").json()
        assert r.headers["content-security-policy"] == CSP
        entry = http.get("/v1/entries/2")
        assert entry.json()["body"].encode() == world.bodies[2]
        searched = http.get("/v1/search", params={"outcome": "accepted", "limit": 3})
        assert searched.json() == world.get("/v1/search", outcome="accepted", limit=3).json()
        missing = http.get("/v1/entries/999999")
        assert missing.status_code == 404 and missing.json()["code"] == "AUD-NOT-FOUND"
        page = http.get("/ui/")
        assert page.status_code == 200 and page.headers["content-security-policy"] == CSP
        assert http.get("/").headers["location"] == "/ui/"
        refused = http.post("/v1/discrepancies/dsc-x/commands", content=b"{}")
        assert refused.status_code == 405 and refused.json()["code"] == "UI-METHOD"


def test_each_request_is_logged_as_a_json_line(local: str, local_log: Path) -> None:
    httpx.get(f"{local}/v1/entries/1?secret-looking=query", timeout=30)
    lines = [json.loads(line) for line in local_log.read_text().splitlines() if line[:1] == "{"]
    forwarded = [
        x for x in lines if x["logger"] == "a6gw.ui.access" and x["path"] == "/v1/entries/1"
    ]
    assert forwarded and forwarded[-1]["status"] == 200 and forwarded[-1]["method"] == "GET"
    assert all("secret-looking" not in json.dumps(x) for x in lines)  # never the query


def test_another_host_name_is_refused(local: str) -> None:
    # A page elsewhere whose name was made to point here (DNS rebinding) sends its own name.
    r = httpx.get(f"{local}/v1/checkpoint", headers={"Host": "attacker.example"}, timeout=30)
    assert r.status_code == 421 and r.json()["code"] == "UI-HOST"
    port = local.rsplit(":", 1)[1]
    ok = httpx.get(f"{local}/ui/", headers={"Host": f"localhost:{port}"}, timeout=30)
    assert ok.status_code == 200


@pytest.mark.browser
def test_the_page_loads_its_checkpoint_through_the_local_server(
    browser: Browser, local: str, world: World
) -> None:
    g = new_page(browser, local, token=None, vkey=world.vkey)
    try:
        page = g.open("#/log")
        assert page.evaluate("window.isSecureContext")  # http on loopback: WebCrypto works
        assert page.locator("#checkpoint-state").get_attribute("data-state") == "verified"
        size = str(len(world.bodies))
        assert page.locator("#checkpoint-size").inner_text().strip() == size
        g.check()
    finally:
        g.page.context.close()


def test_refusals_before_serving(world: World, tmp_path: Path) -> None:
    port = str(free_port())
    down = run_ui([*A6GW, "ui", "--api", f"https://127.0.0.1:{free_port()}", "--port", port])
    assert down.returncode == 2 and "cannot reach the API" in down.stderr, down.stderr
    plain = run_ui([*A6GW, "ui", "--api", "http://127.0.0.1:1", "--port", port])
    assert plain.returncode == 2 and "https://" in plain.stderr
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    cert = run_ui(ui_args(world, "--cert", str(bad), "--port", port))
    assert cert.returncode == 2 and "cannot load the client certificate" in cert.stderr
    untrusted = run_ui([*A6GW, "ui", "--api", world.url, "--port", port])  # no --cacert
    assert untrusted.returncode == 2 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
    wrong = tmp_path / "token"
    wrong.write_text("not-the-token\n")
    token = run_ui(ui_args(world, "--token-file", str(wrong), "--port", port))
    assert token.returncode == 2 and "does not accept this token" in token.stderr
    both = run_ui(ui_args(world, *cert_args(world), "--token-file", str(wrong)))
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_a_token_file_is_used_for_the_page(world: World, tmp_path: Path) -> None:
    (tmp_path / "token").write_text(TOKEN + "\n")
    args = ui_args(world, "--token-file", str(tmp_path / "token"))
    with serving(args, tmp_path / "ui.log") as url:
        assert "with token file" in (tmp_path / "ui.log").read_text()
        assert httpx.get(f"{url}/v1/checkpoint", timeout=30).status_code == 200
