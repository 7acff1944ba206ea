"""The demo's witnesses: Japan's and Mongolia's ``a6gw witness serve`` processes.

:func:`start_witnesses` makes each witness's key with ``a6gw witness keygen``, writes its
config (the demo log's origin and verifier key; TLS from the demo's CA) and starts it;
:func:`configure` adds them to the gateway's config with a quorum. Used by ``a6gw demo``
(:mod:`gateway.demo.witnessed`) and the integration tests.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gateway.config import load_config
from gateway.demo.world import World
from gateway.errors import GatewayError
from gateway.http.ports import loopback_port

#: The demo's witnesses: a short name, and the witness's key name.
WITNESSES = {"jp": "witness.mofa.go.jp/a6gw", "mn": "witness.mfa.gov.mn/a6gw"}
PREFIX = "/witness"


def _a6gw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "gateway", *args], capture_output=True, text=True, timeout=60
    )


@dataclass
class WitnessProcess:
    """One running witness: its folder, config, port, verifier key file and process."""

    short: str
    name: str
    root: Path
    port: int
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def config(self) -> Path:
        return self.root / "witness.yaml"

    @property
    def vkey_file(self) -> Path:
        return self.root / "witness.key.vkey"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}{PREFIX}"

    def start(self, wait_s: float = 30.0) -> None:
        """Start ``a6gw witness serve`` and wait until it listens.

        :raises GatewayError: (DEMO-TIMEOUT) when it exits or does not listen in time.
        """
        log = open(self.root / "witness.log", "ab")  # noqa: SIM115 - the child owns it
        cmd = [sys.executable, "-m", "gateway", "witness", "serve", "--config", str(self.config)]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        log.close()
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise GatewayError(f"witness {self.short} exited", code="DEMO-TIMEOUT")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise GatewayError(f"witness {self.short} did not listen in time", code="DEMO-TIMEOUT")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def witness_config(w: WitnessProcess, origin: str, log_vkey: str, pki: Path) -> dict[str, Any]:
    """The config file of witness ``w``: its key and state beside the file, TLS from ``pki``
    (absolute: a config's relative paths are read from the config's own folder)."""
    pki = pki.resolve()
    return {
        "witness": {"name": w.name, "key_file": "witness.key", "state_file": "state.db"},
        "listen": {"host": "127.0.0.1", "port": w.port, "prefix": PREFIX},
        "tls": {"cert_file": str(pki / "server.pem"), "key_file": str(pki / "server.key")},
        "logs": [{"origin": origin, "vkeys": [log_vkey]}],
    }


def start_witnesses(root: Path, origin: str, log_vkey: str, pki: Path) -> list[WitnessProcess]:
    """Make a key and a config for each of :data:`WITNESSES` under ``root/witness-<short>``
    and start them (TLS: ``pki``'s server certificate, as ``a6gw pki init`` makes it).

    :raises GatewayError: (DEMO-TIMEOUT) a witness does not start.
    """
    out = []
    try:
        for short, name in WITNESSES.items():
            w = WitnessProcess(short, name, root / f"witness-{short}", loopback_port())
            w.root.mkdir(parents=True, exist_ok=True)
            if not (w.root / "witness.key").exists():
                made = _a6gw(
                    "witness", "keygen", "--name", name, "--out", str(w.root / "witness.key")
                )
                if made.returncode != 0:
                    raise GatewayError(f"witness keygen: {made.stderr}", code="DEMO-TIMEOUT")
            config = witness_config(w, origin, log_vkey, pki)
            w.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
            out.append(w)
            w.start()
    except BaseException:
        for w in out:
            w.stop()
        raise
    return out


def start_for(world: World, root: Path, pki: Path) -> list[WitnessProcess]:
    """Start the witnesses of the world's log (its origin and key) and configure the gateway
    to need both witnesses' cosignatures (K = 2); TLS from ``pki`` (``ca.pem``, ``server.*``).
    """
    lc = load_config(world.config_path)
    key = lc.load_log_key()
    witnesses = start_witnesses(root, lc.config.gateway.log_origin, key.public_vkey(), pki)
    configure(world, witnesses, len(witnesses), pki / "ca.pem")
    return witnesses


def configure(world: World, witnesses: list[WitnessProcess], quorum: int, ca: Path) -> None:
    """The gateway's config: submit to ``witnesses``; readers need ``quorum`` cosignatures."""
    doc = yaml.safe_load(world.config_path.read_text(encoding="utf-8"))
    doc["witnesses"] = [
        # absolute: the gateway reads its config's relative paths from the config's folder
        {
            "name": w.name,
            "url": w.url,
            "vkey": str(w.vkey_file.resolve()),
            "ca_file": str(ca.resolve()),
        }
        for w in witnesses
    ]
    doc["witness_quorum"] = quorum
    world.config_path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
