"""The partner connector against the reference partner registry over real TLS on loopback.

A local PKI issues the server and client certificates, the simulator runs in a thread
(:class:`gateway.api.server.ServerThread`), and the gateway side is a
:class:`connectors.client.PartnerClient` with its own client certificate and a fresh
Ed25519 key the simulator knows. Nothing on the network is mocked.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors.client import Delivered, PartnerClient
from connectors.httpsig import content_digest, sign_request
from connectors.partner_sim import PartnerSim
from connectors.policy import Backoff, BreakerState, CircuitBreaker, RetryBudget
from gateway.api.server import ServerThread
from gateway.errors import RegistryError
from gateway.http.pki import init_pki
from gateway.http.tls import client_tls
from tests.ports import free_port

KEY_ID = "a6gw-gateway-http-1"
KNOWN_ACCOUNT = "IDN01-HOLD-100"


def state(breaker: CircuitBreaker) -> BreakerState:
    """The breaker's state now (a call, so no earlier comparison narrows what it can be)."""
    return breaker.state


def envelope(event_id: str, tx: str, account: str | None = KNOWN_ACCOUNT) -> bytes:
    data: dict[str, Any] = {"transaction_id": tx, "ca_id": "CA0002"}
    if account is not None:
        data |= {
            "acquiring": {"registry_id": "IDN01", "account_id": account},
            "blocks": [{"serial_start": "1", "serial_end": "10"}],
        }
    doc = {
        "specversion": "1.0",
        "id": event_id,
        "source": "a6gw",
        "type": "a6gw.transfer.proposed.v1" if account else "a6gw.notice.v1",
        "time": "2026-11-02T08:00:00.000Z",
        "datacontenttype": "application/json",
        "data": data,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def holding(n: int) -> dict[str, Any]:
    return {
        "account_id": f"IDN01-HOLD-{n % 7}",
        "ca_id": "CA0002",
        "origin": "IDN01",
        "serial_start": str(n * 10 + 1),
        "serial_end": str(n * 10 + 10),
        "unit_type": "JCM",
        "vintage": 2025,
    }


@dataclass
class World:
    pki: Path
    other_pki: Path
    key: Ed25519PrivateKey
    sim: PartnerSim

    @property
    def url(self) -> str:
        assert self.sim.base_url is not None
        return self.sim.base_url

    def tls(self, pki: Path | None = None, name: str | None = "a6gw-gateway") -> Any:
        if name is None:
            return client_tls(str(self.pki / "ca.pem"))
        where = pki or self.pki
        return client_tls(
            str(self.pki / "ca.pem"), str(where / f"{name}.pem"), str(where / f"{name}.key")
        )

    def client(self, **kw: Any) -> PartnerClient:
        tls = kw.pop("tls", None) or self.tls()
        kw.setdefault("backoff", Backoff(base_s=0.001, cap_s=0.02))
        kw.setdefault("budget", RetryBudget(max_attempts=30, max_elapsed_s=60))
        return PartnerClient(
            "IDN01",
            self.url,
            tls,
            key_id=kw.pop("key_id", KEY_ID),
            private_key=kw.pop("signing_key", self.key),
            **kw,
        )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("pki")
    init_pki(root / "main", ("a6gw-gateway", "IDN01"))
    init_pki(root / "other", ("a6gw-gateway", "IDN01"))  # same names, another CA
    return root / "main", root / "other"


@pytest.fixture
def world(pki: tuple[Path, Path]) -> Iterator[World]:
    key = Ed25519PrivateKey.generate()
    sim = PartnerSim(
        "IDN01",
        pki[0],
        gateway_keys={KEY_ID: key.public_key()},
        holdings=[holding(n) for n in range(250)],
        accounts=[KNOWN_ACCOUNT],
        seed=7,
    )
    server = sim.serve(free_port())
    try:
        yield World(pki[0], pki[1], key, sim)
    finally:
        server.stop()
        sim.close()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def deliver(world: World, body: bytes, idem: str, **kw: Any) -> Delivered:
    async with world.client(**kw) as client:
        return await client.deliver("/v1/messages", body, idem)


def code_of(excinfo: pytest.ExceptionInfo[RegistryError]) -> str:
    return excinfo.value.code


# -- plain delivery ---------------------------------------------------------------------------


def test_delivery_answers_and_applies_each_key_once(world: World) -> None:
    accepted = run(deliver(world, envelope("ev-1", "TX-1"), "ev-1"))
    assert (accepted.status, accepted.attempts) == (200, 1)
    assert accepted.answer == {"idempotency_key": "ev-1", "applied": True, "answer": "accepted"}
    again = run(deliver(world, envelope("ev-1", "TX-1"), "ev-1"))
    assert again.answer == {"idempotency_key": "ev-1", "applied": False, "answer": "accepted"}
    rejected = run(deliver(world, envelope("ev-2", "TX-2", "NO-SUCH-ACCOUNT"), "ev-2"))
    assert rejected.answer["answer"] == "rejected" and rejected.answer["reason_code"] == 5902
    recorded = run(deliver(world, envelope("ev-3", "TX-3", None), "ev-3"))
    assert recorded.answer["answer"] == "recorded"
    assert [world.sim.applications(k) for k in ("ev-1", "ev-2", "ev-3")] == [1, 1, 1]
    assert world.sim.attempts("ev-1") == 2
    with httpx.Client(verify=world.tls()) as http:  # the admin view of the same counters
        stats = http.get(f"{world.url}/admin/stats").json()
    assert stats["applications"] == {"ev-1": 1, "ev-2": 1, "ev-3": 1}
    assert stats["order"]["TX-1"] == ["ev-1"]


def test_same_key_with_another_body_is_refused_without_retry(world: World) -> None:
    run(deliver(world, envelope("ev-9", "TX-9"), "ev-9"))
    with pytest.raises(RegistryError) as excinfo:
        run(deliver(world, envelope("ev-9", "TX-OTHER"), "ev-9"))
    assert code_of(excinfo) == "REG-HTTP-422"
    assert world.sim.attempts("ev-9") == 2 and world.sim.applications("ev-9") == 1


def test_holdings_are_fetched_across_pages(world: World) -> None:
    async def fetch() -> list[dict[str, Any]]:
        async with world.client() as client:
            return await client.fetch_holdings(limit=100)

    rows = run(fetch())
    assert len(rows) == 250 and rows == world.sim.holdings


# -- TLS: the partner wants a client certificate from its CA ----------------------------------


def test_no_client_certificate_is_refused_in_the_handshake(world: World) -> None:
    with pytest.raises(RegistryError) as excinfo:
        run(deliver(world, envelope("ev-t1", "TX-T"), "ev-t1", tls=world.tls(name=None)))
    assert code_of(excinfo) == "REG-TLS"
    assert world.sim.attempts("ev-t1") == 0


def test_certificate_from_another_ca_is_refused(world: World) -> None:
    tls = world.tls(pki=world.other_pki)
    with pytest.raises(RegistryError) as excinfo:
        run(deliver(world, envelope("ev-t2", "TX-T"), "ev-t2", tls=tls))
    assert code_of(excinfo) == "REG-TLS"
    assert world.sim.attempts("ev-t2") == 0


# -- request signatures -----------------------------------------------------------------------


def signed(world: World, body: bytes, key: str, **kw: Any) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    return headers | sign_request(
        "POST",
        f"{world.url}/v1/messages",
        headers,
        body,
        key_id=KEY_ID,
        private_key=world.key,
        created=kw.get("created", int(time.time())),
        nonce=kw.get("nonce", f"n-{key}"),
    )


def post(world: World, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    with httpx.Client(verify=world.tls()) as http:
        response = http.post(f"{world.url}/v1/messages", content=body, headers=headers)
    return response.status_code, response.json()


def test_signature_failures_are_answered_401_with_their_code(world: World) -> None:
    body = envelope("ev-s", "TX-S")
    tampered_body = envelope("ev-s", "TX-EVIL")
    status, problem = post(world, tampered_body, signed(world, body, "ev-s1"))
    assert (status, problem["code"]) == (401, "REG-DIGEST")

    wrong_digest = signed(world, body, "ev-s2") | {"Content-Digest": content_digest(b"{}")}
    assert post(world, body, wrong_digest)[1]["code"] == "REG-DIGEST"

    headers = signed(world, body, "ev-s3")
    raw = bytearray(base64.b64decode(headers["Signature"][len("a6gw=:") : -1]))
    raw[0] ^= 1
    headers["Signature"] = f"a6gw=:{base64.b64encode(bytes(raw)).decode()}:"
    assert post(world, body, headers)[1]["code"] == "REG-SIG-INVALID"

    headers = signed(world, body, "ev-s4")
    assert post(world, body, headers)[0] == 200
    status, problem = post(world, body, headers)  # the same request again: same nonce
    assert (status, problem["code"]) == (401, "REG-REPLAY")

    old = signed(world, body, "ev-s5", created=int(time.time()) - 3600)
    assert post(world, body, old)[1]["code"] == "REG-SIG-STALE"

    unsigned = {"Content-Type": "application/json", "Idempotency-Key": "ev-s6"}
    assert post(world, body, unsigned)[1]["code"] == "REG-SIG-MISSING"
    assert [world.sim.applications(f"ev-s{n}") for n in range(1, 7)] == [0, 0, 0, 1, 0, 0]


def test_unknown_signing_key_is_not_retried(world: World) -> None:
    with pytest.raises(RegistryError) as excinfo:
        run(
            deliver(
                world,
                envelope("ev-k", "TX-K"),
                "ev-k",
                signing_key=Ed25519PrivateKey.generate(),
                key_id="stranger",
            )
        )
    assert code_of(excinfo) == "REG-HTTP-401" and "REG-SIG-KEY" in str(excinfo.value)
    assert world.sim.attempts("ev-k") == 1


# -- faults, retries, idempotency -------------------------------------------------------------


def test_thousand_deliveries_through_faults_apply_each_key_once_in_order(world: World) -> None:
    """50 message keys x 20 messages, keys interleaved, each key's messages in order; 503s
    and dropped connections (half of them after the partner applied the message)."""
    world.sim.set_faults(fail_5xx=5, reset=5, fail_5xx_rate=0.08, reset_rate=0.08)
    sent: dict[str, list[str]] = {f"TX-{k:02d}": [] for k in range(50)}

    async def one_key(client: PartnerClient, tx: str) -> list[Delivered]:
        out = []
        for n in range(20):
            event_id = f"{tx}-ev-{n:02d}"
            out.append(await client.deliver("/v1/messages", envelope(event_id, tx), event_id))
            sent[tx].append(event_id)
        return out

    async def all_keys() -> list[Delivered]:
        async with world.client(breaker=CircuitBreaker(failure_threshold=10_000)) as client:
            per_key = await asyncio.gather(*(one_key(client, tx) for tx in sent))
        return [d for ds in per_key for d in ds]

    delivered = run(all_keys())
    assert len(delivered) == 1000
    stats = world.sim.stats()
    keys = [k for ks in sent.values() for k in ks]
    assert all(stats["applications"][k] == 1 for k in keys)
    assert sorted(stats["applications"]) == sorted(keys)
    assert {tx: stats["order"][tx] for tx in sent} == sent
    attempts = sum(stats["attempts"][k] for k in keys)
    assert attempts > 1000 and attempts == sum(d.attempts for d in delivered)
    # some answers were lost after the partner applied: the retry got the stored answer
    assert any(d.answer["applied"] is False for d in delivered)
    assert all(d.answer["answer"] == "accepted" for d in delivered)


def test_dropped_connections_before_applying_are_retried(world: World) -> None:
    world.sim.set_faults(reset=2, reset_after_apply=False)
    got = run(deliver(world, envelope("ev-r", "TX-R"), "ev-r"))
    assert got.attempts == 3 and got.answer["applied"] is True
    assert world.sim.attempts("ev-r") == 3 and world.sim.applications("ev-r") == 1


def test_budget_exhaustion_carries_the_last_cause(world: World) -> None:
    world.sim.set_faults(delay_s=0.4)
    sleeps: list[float] = []

    async def no_wait(s: float) -> None:
        sleeps.append(s)

    budget = RetryBudget(max_attempts=2, max_elapsed_s=10)
    with pytest.raises(RegistryError) as excinfo:
        run(
            deliver(
                world, envelope("ev-d", "TX-D"), "ev-d", timeout_s=0.1, budget=budget, sleep=no_wait
            )
        )
    assert code_of(excinfo) == "REG-EXHAUSTED"
    cause = excinfo.value.__cause__
    assert isinstance(cause, RegistryError) and cause.code == "REG-TIMEOUT"
    assert len(sleeps) == 1


def test_connection_refused_is_retried_then_reported(world: World) -> None:
    async def no_wait(_s: float) -> None:
        return None

    async def go() -> None:
        tls = world.tls()
        budget = RetryBudget(max_attempts=3, max_elapsed_s=10)
        async with PartnerClient(
            "IDN01",
            f"https://127.0.0.1:{free_port()}",
            tls,
            key_id=KEY_ID,
            private_key=world.key,
            budget=budget,
            sleep=no_wait,
        ) as client:
            await client.deliver("/v1/messages", b"{}", "ev-c")

    with pytest.raises(RegistryError) as excinfo:
        run(go())
    assert code_of(excinfo) == "REG-EXHAUSTED"
    assert isinstance(excinfo.value.__cause__, RegistryError)
    assert excinfo.value.__cause__.code == "REG-CONNECT"


def test_circuit_breaker_opens_and_lets_a_probe_through_later(world: World) -> None:
    """The breaker's clock is a manual one, so a loaded machine cannot make it flaky."""
    world.sim.set_faults(fail_5xx=1_000_000)
    now = [100.0]
    breaker = CircuitBreaker(failure_threshold=3, reset_after_s=0.5, clock=lambda: now[0])
    budget = RetryBudget(max_attempts=1, max_elapsed_s=10)

    async def go() -> None:
        async with world.client(breaker=breaker, budget=budget) as client:

            async def send(event_id: str) -> Delivered:
                return await client.deliver("/v1/messages", envelope(event_id, "TX-B"), event_id)

            for n in range(3):
                with pytest.raises(RegistryError) as excinfo:
                    await send(f"ev-b{n}")
                assert code_of(excinfo) == "REG-EXHAUSTED"
            assert state(breaker) == "open"
            with pytest.raises(RegistryError) as excinfo:
                await send("ev-b3")
            assert code_of(excinfo) == "REG-OPEN"
            assert world.sim.attempts("ev-b3") == 0  # not called at all
            now[0] += 0.5
            assert state(breaker) == "half-open"
            with pytest.raises(RegistryError):  # the probe goes out and fails: open again
                await send("ev-b4")
            assert world.sim.attempts("ev-b4") == 1 and state(breaker) == "open"
            with pytest.raises(RegistryError) as excinfo:
                await send("ev-b5")
            assert code_of(excinfo) == "REG-OPEN" and world.sim.attempts("ev-b5") == 0
            world.sim.set_faults(fail_5xx=0)
            now[0] += 0.5
            ok = await send("ev-b6")  # the next probe succeeds: closed
            assert ok.status == 200 and breaker.state == "closed"
            assert (await send("ev-b7")).status == 200

    run(go())


# -- the simulator as a sender --------------------------------------------------------------


def test_simulator_posts_signed_events_with_its_own_certificate(world: World) -> None:
    """A second simulator plays the gateway's ingress: it trusts IDN01's key and cert."""
    sender = world.sim
    ingress = PartnerSim(
        "GATEWAY",
        world.pki,
        gateway_keys={sender.key_id: sender.key.public_key()},
        clients=("IDN01",),
    )
    server: ServerThread = ingress.serve(free_port())
    try:
        url = f"{ingress.base_url}/v1/messages"
        got = run(sender.post_event(url, envelope("ev-p1", "TX-P", None), "ev-p1"))
        assert got.status == 200 and got.answer["answer"] == "recorded"
        assert ingress.applications("ev-p1") == 1

        sender.set_faults(bad_signature=True)
        with pytest.raises(RegistryError) as excinfo:
            run(sender.post_event(url, envelope("ev-p2", "TX-P", None), "ev-p2"))
        assert code_of(excinfo) == "REG-HTTP-401" and "REG-SIG-INVALID" in str(excinfo.value)

        sender.set_faults(bad_signature=False, wrong_certificate=True)
        with pytest.raises(RegistryError) as excinfo:
            run(sender.post_event(url, envelope("ev-p3", "TX-P", None), "ev-p3"))
        assert code_of(excinfo) == "REG-TLS"
        assert ingress.attempts("ev-p3") == 0
    finally:
        server.stop()
        ingress.close()
