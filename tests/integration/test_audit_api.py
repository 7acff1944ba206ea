"""The auditors' API over real TLS on loopback: access control, answers that verify.

A log of a few hundred entries (with serial ranges) is sequenced into a store, a local PKI
issues the server and client certificates, and the API runs in a thread; the client side
is httpx with an ``ssl.SSLContext`` and the project's own ``a6gw verify --api``.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gateway.api.client import AuditClient, verify_api
from gateway.api.server import Access, AuditAPI, Grant, ServerThread, make_app, server_tls
from gateway.audit.note import LogKey, open_checkpoint
from gateway.audit.open import open_store
from gateway.audit.rfc6962 import leaf_hash
from gateway.audit.sequencer import Sequencer
from gateway.audit.verify import verify_consistency, verify_inclusion
from gateway.core.blocks import Block
from gateway.core.canonical import canonical_bytes, sha256_hex
from gateway.core.decision import decision_entry
from gateway.core.model import Evaluation, Event, Finding
from gateway.core.topics import AUDIT_TOPIC
from gateway.errors import GatewayError, VerificationError
from gateway.http.pki import LocalCA, init_pki
from gateway.http.tls import client_tls
from tests.ports import free_port
from tests.unit.schemas.entry_cases import ISSUANCE

ORIGIN = "a6gw.test/audit"
TOKEN = "s3cret-token-for-tests"
SOURCES: dict[str, tuple[str, ...]] = {"MNG": ("MNG01",), "JPN": ("JPN01",)}


def entry(n: int) -> tuple[str, bytes]:
    """Issuances of 100-unit blocks of CA0001/MNG01, every 7th one rejected, every 5th a
    transfer of the block issued just before: ``(entry id, the stored bytes)``."""
    kind = "transfer" if n % 5 == 4 else "issuance"
    start = (n - (1 if kind == "transfer" else 0)) * 100 + 1
    source = "MNG01" if n % 3 else "JPN01"
    event = Event(
        source=source,
        id=f"e{n}",
        type=f"a6gw.{kind}.v1",
        name=kind,
        kind="proposal",
        time="2026-11-01T08:00:00Z",
        payload=ISSUANCE.model_copy(update={"transaction_id": f"TX-{n}"}),
        sha256=sha256_hex(f"e{n}".encode()),
        signer_principal=f"User:{source.lower()}",
        signer_role="registry",
    )
    rejected = (Finding("BLK-003", "not held"),) if n % 7 == 6 else ()
    doc = decision_entry(
        event,
        Evaluation("rejected" if rejected else "accepted", findings=rejected),
        decided_at=f"2026-11-{1 + n % 28:02d}T08:00:00.000Z",
        blocks_after=[Block("CA0001", "MNG01", start, start + 99, 2026, "JCM", source, "a1")],
        ca_id="CA0001",
    )
    return str(doc["entry_id"]), canonical_bytes(doc)


def entry_id(n: int) -> str:
    return entry(n)[0]


@dataclass
class Api:
    url: str
    pki: Path
    key: LogKey
    store_at: str  # a SQLite path or a postgresql:// URL
    vkey: Path

    def tls(self, client: str | None = "auditor") -> ssl.SSLContext:
        if client is None:
            return client_tls(str(self.pki / "ca.pem"))
        return client_tls(
            str(self.pki / "ca.pem"),
            str(self.pki / f"{client}.pem"),
            str(self.pki / f"{client}.key"),
        )


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The same API on each store: SQLite (embedded) and PostgreSQL (shared)."""
    root = tmp_path_factory.mktemp("api")
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        name = f"api_{root.name.replace('-', '_')}"
        store_at = server.create_database(name)
        request.addfinalizer(lambda: server.drop_database(name))
    else:
        store_at = str(root / "audit.sqlite")
    pki = root / "pki"
    init_pki(pki, ("auditor", "stranger", "ops", "jpn-auditor"))
    key = LogKey.generate("a6gw.test/log")
    (root / "log.vkey").write_text(key.public_vkey() + "\n")
    seq = Sequencer(open_store(store_at), key, ORIGIN)
    seq.take_over("test", None)
    seq.append([entry(n) for n in range(300)], (AUDIT_TOPIC, 0, 299))
    seq.checkpoint()
    port = free_port()
    access = Access(
        {"auditor": Grant(), "ops": Grant("operator"), "jpn-auditor": Grant("auditor", "JPN")},
        {hashlib.sha256(TOKEN.encode()).hexdigest(): Grant()},
    )

    def build():  # type: ignore[no-untyped-def]
        return make_app(AuditAPI(open_store(store_at), [key.verifier()], SOURCES), access)

    tls = server_tls(str(pki / "server.pem"), str(pki / "server.key"), str(pki / "ca.pem"))
    thread = ServerThread(build, "127.0.0.1", port, tls).start()
    try:
        yield Api(f"https://127.0.0.1:{port}", pki, key, store_at, root / "log.vkey")
    finally:
        thread.stop()
        seq.store.close()


def get(
    api: Api,
    path: str,
    *,
    client: str | None = "auditor",
    query: Mapping[str, str | int] | None = None,
    **params: str | int,
) -> httpx.Response:
    """GET ``path`` as ``client``; ``query`` holds parameters that are not Python names."""
    with httpx.Client(verify=api.tls(client), timeout=10) as http:
        return http.get(api.url + path, params={**(query or {}), **params})


def test_a_request_without_credentials_gets_401(api: Api) -> None:
    r = get(api, "/v1/checkpoint", client=None)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "API-AUTH"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_certificate_of_the_same_ca_but_not_listed_gets_401(api: Api) -> None:
    assert get(api, "/v1/checkpoint", client="stranger").status_code == 401


def test_a_certificate_from_another_ca_is_refused_in_the_handshake(
    api: Api, tmp_path: Path
) -> None:
    other = LocalCA.create(tmp_path / "other")
    other.issue("auditor")  # the right name, the wrong CA
    tls = client_tls(
        str(api.pki / "ca.pem"),
        str(tmp_path / "other/auditor.pem"),
        str(tmp_path / "other/auditor.key"),
    )
    with httpx.Client(verify=tls, timeout=10) as http, pytest.raises(httpx.HTTPError):
        http.get(api.url + "/v1/checkpoint")


def test_a_bearer_token_is_an_alternative(api: Api) -> None:
    with httpx.Client(verify=api.tls(None), timeout=10) as http:
        ok = http.get(api.url + "/v1/checkpoint", headers={"Authorization": f"Bearer {TOKEN}"})
        bad = http.get(api.url + "/v1/checkpoint", headers={"Authorization": "Bearer nope"})
    assert ok.status_code == 200 and bad.status_code == 401


def test_checkpoint_entries_and_proofs_verify(api: Api) -> None:
    cp_doc = get(api, "/v1/checkpoint").json()
    cp = open_checkpoint(cp_doc["note"], api.key.verifier())
    assert cp.size == 300 and cp_doc["root"] == cp.root.hex()
    entry42 = get(api, "/v1/entries/42").json()
    assert entry42["body"].encode() == entry(42)[1]
    assert get(api, f"/v1/entries/by-id/{entry_id(42)}").json() == entry42
    proof = get(api, "/v1/proofs/inclusion", entry_id=entry_id(42)).json()
    verify_inclusion(
        index=42,
        size=300,
        leaf_hash=leaf_hash(entry42["body"].encode()),
        proof=[base64.b64decode(h) for h in proof["hashes"]],
        root=cp.root,
    )
    store = open_store(api.store_at)
    cons = get(api, "/v1/proofs/consistency", query={"from": 77}).json()
    verify_consistency(
        size1=77,
        size2=300,
        root1=store.root(77),
        root2=cp.root,
        proof=[base64.b64decode(h) for h in cons["hashes"]],
    )
    store.close()
    assert get(api, "/v1/entries/300").status_code == 404
    assert get(api, "/v1/entries/x").status_code == 400
    assert get(api, "/v1/proofs/consistency", query={"from": 0}).status_code == 400


def test_search_filters_and_pages(api: Api) -> None:
    def ids(**params: str | int) -> list[int]:
        r = get(api, "/v1/search", query=params)
        assert r.status_code == 200, r.text
        return [item["index"] for item in r.json()["items"]]

    rejected = ids(outcome="rejected", limit=1000)
    assert rejected == [n for n in range(300) if n % 7 == 6]
    assert ids(code="BLK-003", limit=1000) == rejected
    assert ids(transaction="TX-17") == [17]
    assert ids(source="JPN01", outcome="rejected", limit=1000) == [
        n for n in rejected if n % 3 == 0
    ]
    assert ids(party="MNG", limit=1000) == [n for n in range(300) if n % 3]
    assert ids(**{"from": "2026-11-28", "to": "2026-11-29"}, limit=1000) == [
        n for n in range(300) if n % 28 == 27
    ]
    assert ids(itmo="CA0001:MNG01:1350") == [13, 14]  # issued by 13, transferred by 14
    first = get(api, "/v1/search", ca="CA0001", limit=100).json()
    second = get(api, "/v1/search", ca="CA0001", limit=100, after=first["next_after"]).json()
    assert [i["index"] for i in second["items"]] == list(range(100, 200))
    assert get(api, "/v1/search").status_code == 400  # no criterion
    assert get(api, "/v1/search", party="XXX").status_code == 400


def test_chain_of_custody_with_proofs(api: Api) -> None:
    doc = get(api, "/v1/custody", itmo="CA0001:MNG01:1301-1400").json()
    cp = open_checkpoint(doc["checkpoint"]["note"], api.key.verifier())
    assert [item["entry"]["index"] for item in doc["items"]] == [13, 14]
    for item in doc["items"]:
        body = item["entry"]["body"].encode()
        verify_inclusion(
            index=item["entry"]["index"],
            size=cp.size,
            leaf_hash=leaf_hash(body),
            proof=[base64.b64decode(h) for h in item["proof"]["hashes"]],
            root=cp.root,
        )


def test_verify_api_checks_everything_client_side(api: Api) -> None:
    client = AuditClient(api.url, api.tls())
    try:
        report = verify_api(client, [api.key.verifier()], sample=8)
        assert report.checkpoint.size == 300 and report.entries_checked >= 8
        with pytest.raises(VerificationError):
            verify_api(client, [LogKey.generate("a6gw.test/log").verifier()])
    finally:
        client.close()
    no_cert = AuditClient(api.url, api.tls(None))
    try:
        with pytest.raises(GatewayError) as err:
            verify_api(no_cert, [api.key.verifier()])
        assert err.value.code == "API-401"
    finally:
        no_cert.close()


def test_a6gw_verify_api_saves_the_checkpoint_for_the_next_since(api: Api, tmp_path: Path) -> None:
    saved = tmp_path / "seen.checkpoint"
    base = [
        sys.executable, "-m", "gateway", "verify", "--api", api.url, "--vkey", str(api.vkey),
        "--ca", str(api.pki / "ca.pem"), "--cert", str(api.pki / "auditor.pem"),
        "--key", str(api.pki / "auditor.key"),
    ]  # fmt: skip
    first = subprocess.run([*base, "--save", str(saved)], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "OK: 300 entries" in first.stdout
    # The log grows; the next run proves the new checkpoint consistent with the saved one.
    store = open_store(api.store_at)
    seq = Sequencer(store, api.key, ORIGIN)
    seq.take_over("test-2", saved.read_text())
    seq.append([entry(n) for n in range(300, 340)], (AUDIT_TOPIC, 0, 339))
    seq.checkpoint()
    store.close()
    second = subprocess.run([*base, "--since", str(saved)], capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert "consistent with the earlier checkpoint of 300 entries" in second.stdout
    assert "OK: 340 entries" in second.stdout
    assert open_checkpoint(saved.read_text(), api.key.verifier()).size == 340


# -- hostile parameters (issue 14 #7) ---------------------------------------------------------


def assert_problem(r: httpx.Response, status: int, code: str) -> None:
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_integers_out_of_64_bits_and_nul_characters_are_coded_400(api: Api) -> None:
    big, small = str(2**63), str(-(2**63) - 1)
    for path, params in [
        (f"/v1/entries/{big}", {}),
        (f"/v1/entries/{2**80}", {}),
        ("/v1/search", {"ca": "CA0001", "after": big}),
        ("/v1/search", {"ca": "CA0001", "after": small}),
        ("/v1/search", {"ca": "CA0001", "limit": big}),
        ("/v1/proofs/inclusion", {"index": big}),
        ("/v1/proofs/inclusion", {"index": "1", "size": big}),
        ("/v1/proofs/consistency", {"from": "1", "to": big}),
        ("/v1/custody", {"itmo": "CA0001:MNG01:1", "after": big}),
    ]:
        assert_problem(get(api, path, query=params), 400, "API-REQUEST")
    for path, params in [
        ("/v1/search", {"itmo": f"CA0001:MNG01:{2**64}"}),
        ("/v1/search", {"itmo": f"CA0001:MNG01:1-{2**70}"}),
        ("/v1/custody", {"itmo": f"CA0001:MNG01:{2**64}-{2**65}"}),
        ("/v1/summary", {"party": "MNG", "year": big}),
        ("/v1/aef", {"party": "MNG", "year": big}),
    ]:
        r = get(api, path, query=params)
        assert 400 <= r.status_code < 500, (path, params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    for path, params in [
        ("/v1/entries/by-id/ev%0000001", {}),
        ("/v1/search", {"source": "MNG\x0001"}),
        ("/v1/search", {"outcome": "accepted", "code": "\x00"}),
        ("/v1/search", {"party": "MN\x00G"}),
        ("/v1/search", {"ca": "CA0001", "from": "2026\x00"}),
        ("/v1/proofs/inclusion", {"entry_id": "ev\x00"}),
        ("/v1/custody", {"itmo": "CA0001:MNG\x0001:1"}),
        ("/v1/discrepancies", {"code": "\x00"}),
        ("/v1/discrepancies/dsc%00", {}),
        ("/v1/reconciliations/run%00", {}),
    ]:
        assert_problem(get(api, path, query=params), 400, "API-REQUEST")


def test_aiohttp_s_own_answers_are_coded_problems(api: Api) -> None:
    # no route matches (a slash inside an entry id), or the method is not served
    assert_problem(get(api, "/v1/entries/by-id/a/b"), 404, "API-NOT-FOUND")
    assert_problem(get(api, "/v1/nowhere"), 404, "API-NOT-FOUND")
    with httpx.Client(verify=api.tls("ops"), timeout=10) as http:
        assert_problem(http.delete(api.url + "/v1/checkpoint"), 405, "API-METHOD")


def test_proofs_stay_within_the_published_checkpoint(api: Api) -> None:
    store = open_store(api.store_at)
    latest = store.latest_checkpoint()
    assert latest is not None
    published = open_checkpoint(latest.note, api.key.verifier()).size
    seq = Sequencer(store, api.key, ORIGIN)
    seq.take_over("test-unpublished", latest.note)
    last = published + 9
    seq.append([entry(n) for n in range(published, last + 1)], (AUDIT_TOPIC, 0, last))
    store.close()  # appended, never checkpointed: the tree is larger than what was published
    assert get(api, "/v1/checkpoint").json()["size"] == published
    beyond = {"index": published + 1, "size": published + 5}
    assert_problem(get(api, "/v1/proofs/inclusion", query=beyond), 400, "AUD-RANGE")
    unpublished_entry = get(api, "/v1/proofs/inclusion", index=published + 1)
    assert_problem(unpublished_entry, 404, "AUD-NOT-FOUND")
    to_beyond = {"from": 5, "to": published + 1}
    assert_problem(get(api, "/v1/proofs/consistency", query=to_beyond), 400, "AUD-RANGE")
    ok = get(api, "/v1/proofs/consistency", query={"from": 5, "to": published})
    assert ok.status_code == 200 and ok.json()["size2"] == published


# -- roles and Party scope (issue 14 #3) ------------------------------------------------------


def post_command(api: Api, client: str | None, token: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with httpx.Client(verify=api.tls(client), timeout=10) as http:
        return http.post(
            api.url + "/v1/discrepancies/dsc-x/commands", content=b"{}", headers=headers
        )


def test_roles_and_a_party_scope_are_enforced(api: Api) -> None:
    assert_problem(post_command(api, "auditor"), 403, "API-ROLE")
    assert_problem(post_command(api, None, TOKEN), 403, "API-ROLE")  # the token is an auditor's
    assert_problem(post_command(api, "jpn-auditor"), 403, "API-ROLE")
    assert_problem(post_command(api, "ops"), 503, "API-READONLY")  # allowed; no producer here
    assert post_command(api, "stranger").status_code == 401
    assert get(api, "/v1/entries/1", client="ops").status_code == 200  # operators read too

    def scoped(path: str, **params: str | int) -> httpx.Response:
        return get(api, path, client="jpn-auditor", query=params)

    # entries with n % 3 == 0 come from JPN01; the others from MNG01 about MNG01's blocks
    assert scoped("/v1/checkpoint").status_code == 200
    assert scoped("/v1/proofs/consistency", **{"from": 10}).status_code == 200
    assert scoped("/v1/entries/3").status_code == 200
    assert_problem(scoped("/v1/entries/1"), 403, "API-SCOPE")
    assert_problem(scoped(f"/v1/entries/by-id/{entry_id(1)}"), 403, "API-SCOPE")
    assert scoped("/v1/proofs/inclusion", index=3).status_code == 200
    assert_problem(scoped("/v1/proofs/inclusion", index=1), 403, "API-SCOPE")
    assert_problem(scoped("/v1/proofs/inclusion", entry_id=entry_id(1)), 403, "API-SCOPE")
    page = scoped("/v1/search", ca="CA0001", limit=1000).json()
    seen = [item["index"] for item in page["items"]]
    assert len(seen) >= 100 and all(i % 3 == 0 for i in seen)
    assert scoped("/v1/search", party="MNG", limit=1000).json()["items"] == []
    custody = scoped("/v1/custody", itmo="CA0001:MNG01:1301-1600").json()
    assert [item["entry"]["index"] for item in custody["items"]] == [15]
    assert_problem(scoped("/v1/summary", party="MNG"), 403, "API-SCOPE")
    assert_problem(scoped("/v1/aef", party="MNG", year=2026), 403, "API-SCOPE")
    assert scoped("/v1/discrepancies").status_code == 200
