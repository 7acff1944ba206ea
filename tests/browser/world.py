"""The demo world behind the auditors' API over real TLS, for the browser tests.

As tests/integration/test_reporting_api.py does: the demo scenario runs in memory (the unit
tests' ``MemoryPipeline``: the whole decision path, no broker), its audit entries are
sequenced into a SQLite store under a checkpoint signed by a fresh log key, and the API
serves it with the demo config's Parties and registries on loopback, with the local PKI's
server certificate. The client certificate ``auditor`` and the bearer token :data:`TOKEN`
are both let in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from gateway.api.server import Access, AuditAPI, ServerThread, make_app, server_tls
from gateway.audit.note import LogKey
from gateway.audit.open import open_store
from gateway.audit.rfc6962 import leaf_hash, root_from_leaf_hashes
from gateway.core.canonical import canonical_bytes
from gateway.http.pki import init_pki
from gateway.http.tls import client_tls
from tests.integration.test_reporting_api import sequenced
from tests.ports import free_port
from tests.unit.reportlog import scenario

TOKEN = "browser-test-token-0123456789abcdef"


@dataclass(frozen=True)
class World:
    """The API over the demo scenario's log, and what the tests check the page against."""

    url: str  # https://127.0.0.1:<port>
    pki: Path  # ca.pem, server.pem/key, auditor.pem/key
    key: LogKey
    entries: list[dict[str, Any]]  # the log, in order
    bodies: list[bytes]  # each entry's exact bytes (leaf i = bodies[i])

    @property
    def vkey(self) -> str:
        return self.key.public_vkey()

    def root(self, size: int) -> bytes:
        """The log's root at ``size`` (RFC 9162 §2.1.1)."""
        return root_from_leaf_hashes([leaf_hash(b) for b in self.bodies[:size]])

    def get(self, path: str, **params: Any) -> httpx.Response:
        """GET from the API as the auditor (client certificate)."""
        tls = client_tls(
            str(self.pki / "ca.pem"), str(self.pki / "auditor.pem"), str(self.pki / "auditor.key")
        )
        with httpx.Client(verify=tls, timeout=30) as http:
            return http.get(self.url + path, params=params)


@contextmanager
def demo_api(root: Path) -> Iterator[World]:
    """The API over the demo scenario's log, served until the context ends."""
    pipe, entries, _year = scenario(root / "world")
    init_pki(root / "pki", ("auditor",))
    key = LogKey.generate("a6gw.test/browser")
    store_at = sequenced(root / "audit.sqlite", key, entries)
    cfg = pipe.lc.config
    sources: dict[str, tuple[str, ...]] = {}
    for reg in cfg.registries:
        sources[reg.party] = (*sources.get(reg.party, ()), reg.id)
    pki = root / "pki"
    tls = server_tls(str(pki / "server.pem"), str(pki / "server.key"), str(pki / "ca.pem"))
    access = Access(frozenset({"auditor"}), frozenset({hashlib.sha256(TOKEN.encode()).hexdigest()}))

    def build() -> web.Application:
        api = AuditAPI(
            open_store(store_at),
            [key.verifier()],
            sources,
            parties={p.code: p for p in cfg.parties},
        )
        return make_app(api, access)

    port = free_port()
    thread = ServerThread(build, "127.0.0.1", port, tls).start()
    try:
        bodies = [canonical_bytes(e) for e in entries]
        yield World(f"https://127.0.0.1:{port}", pki, key, entries, bodies)
    finally:
        thread.stop()
