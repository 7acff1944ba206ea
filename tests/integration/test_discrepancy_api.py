"""The discrepancy routes of the auditors' API over real TLS on loopback, and commands on
the real broker.

A store is filled with hand-built entries (the core's builders: reconciliation runs and
their findings, findings of parked deliveries and decisions, operators' commands applied or
refused). Reads are checked against it; a posted command is checked by the API as the
worker would check it and, when it passes, must be on ``a6.discrepancy.commands`` keyed by
the discrepancy id with exactly the posted bytes. ``a6gw discrepancy`` sends commands both
ways (the API, and Kafka directly); one run goes through a stand-in for the worker (its
own pure step over the topic) to the printed outcome.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiohttp import web
from aiokafka.structs import TopicPartition
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.api.client import AuditClient
from gateway.api.discrepancy_routes import KafkaPublisher, Publisher
from gateway.api.server import Access, AuditAPI, Grant, ServerThread, make_app, server_tls
from gateway.audit.open import open_store
from gateway.audit.store import AuditStore
from gateway.config import load_config
from gateway.core import discrepancy as dsc
from gateway.core.canonical import canonical_bytes, sha256_hex
from gateway.core.decision_time import iso_ms
from gateway.core.ingest import RawInput
from gateway.core.oversight import command_entry_id, command_envelope, oversight_step
from gateway.core.reconcile import Holding, reconcile
from gateway.core.signing import private_key_pem, public_key_b64
from gateway.core.topics import AUDIT_TOPIC, COMMANDS_TOPIC
from gateway.core.trust import Trust, TrustedKey
from gateway.demo.world import write_world
from gateway.errors import ApiProblem
from gateway.http.pki import init_pki
from gateway.http.tls import client_tls
from gateway.services.discrepancies import COMMAND_TYPE, load_discrepancies
from gateway.services.reconciliation import records
from gateway.transport import create_topics
from gateway.transport.acls import provision
from gateway.transport.clients import KafkaClients
from tests.ports import free_port

AT = "2026-11-29T12:00:00.000Z"
OPS = Ed25519PrivateKey.generate()
PARTITIONS = 4  # the gateway's default partition count for a6.discrepancy.commands


def holding(account: str, start: int, end: int) -> Holding:
    return Holding("JPN01", account, "holding", "CA0001", "MNG01", 2026, "JCM", start, end)


def finding(code: str, found_by: dsc.FoundBy, registry: str, source: str) -> dsc.Discrepancy:
    return dsc.Discrepancy(
        id=dsc.discrepancy_id(found_by, source),
        code=code,
        severity="error",
        registries=(registry,),
        blocks=(("CA0001", "MNG01", 1, 10),),
        first_seen=AT,
        found_by=found_by,
        source_entry=source,
        summary=f"{code} at {registry}",
    )


class Book:
    """Entries built with the core's builders, appended as the sequencer would."""

    def __init__(self, store: AuditStore) -> None:
        self.store, self.n = store, 0

    def add(self, entry: dict[str, Any]) -> None:
        self.store.append([(str(entry["entry_id"]), canonical_bytes(entry))])

    def run(self, report: Any, at_ms: int) -> tuple[str, list[str]]:
        items = records("JPN01", report, at_ms)
        run = json.loads(items[0][2])
        self.add(run)
        found = [dsc.from_record(json.loads(v)) for _, _, v in items[1:]]
        for d in found:
            self.add(dsc.opened_entry(d))
        return str(run["entry_id"]), [d.id for d in found]

    def command(self, d_id: str, action: dsc.Action, note: str = "", fix: str = "") -> None:
        self.n += 1
        known = load_discrepancies(self.store).get(d_id)
        before = known.discrepancy if known else None
        after = dsc.apply(before, dsc.Command(d_id, action, "ops-1", AT, note, fix))
        identity = {
            "source": "ops-1",
            "id": f"cmd-book-{self.n}",
            "type": COMMAND_TYPE,
            "time": AT,
            "sha256": sha256_hex(str(self.n).encode()),
            "signer": "ops-1",
        }
        self.add(dsc.command_entry(identity, after, before, AT))


@dataclass
class Env:
    root: Path
    pki: Path
    store_at: Path
    trust: Trust
    key_file: Path
    manual_run: str  # both findings resolved, one by hand
    manual_ids: list[str]
    open_run: str  # its one finding open
    deliveries: list[str]  # open, one per test that sends a command
    acked: str  # a decision finding, acknowledged

    def tls(self, client: str | None = "auditor") -> Any:
        if client is None:
            return client_tls(str(self.pki / "ca.pem"))
        pem, key = self.pki / f"{client}.pem", self.pki / f"{client}.key"
        return client_tls(str(self.pki / "ca.pem"), str(pem), str(key))


def operator_trust() -> Trust:
    since = datetime.now(UTC) - timedelta(days=1)
    ops = TrustedKey(
        key_id="ops-1-k",
        public_key=public_key_b64(OPS.public_key()),
        principal="ops-1",
        role="operator",
        valid_from=since,
    )
    return Trust(keys=(ops,))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("dscapi")
    init_pki(root / "pki", ("auditor",))
    store = AuditStore(root / "audit.sqlite")
    book = Book(store)
    book.add({"entry_type": "decision", "entry_id": "ev-x", "input": {"type": "a6gw.transfer.v1"}})
    short = reconcile([holding("JP-1", 1, 100)], [holding("JP-1", 1, 50)])
    manual_run, manual_ids = book.run(short, 1_796_000_000_000)
    book.command(manual_ids[0], "resolve-by-hand", note="exported", fix="JP-1 holds 51-100")
    book.command(manual_ids[1], "acknowledge")
    book.command(manual_ids[1], "acknowledge")  # refused: REC-102
    book.command(manual_ids[1], "resolve", note="the same difference")
    moved = reconcile([holding("JP-1", 1, 100)], [holding("JP-2", 1, 100)])
    open_run, _ = book.run(moved, 1_796_000_000_001)
    deliveries = [finding("DLV-001", "delivery", "IDN01", f"ev-parked-{n}") for n in range(6)]
    for d in deliveries:
        book.add(dsc.opened_entry(d))
    acked = finding("BLK-003", "decision", "MNG01", "ev-decision-1")
    book.add(dsc.opened_entry(acked))
    book.command(acked.id, "acknowledge")
    store.close()
    (root / "ops.pem").write_bytes(private_key_pem(OPS))
    yield Env(
        root, root / "pki", root / "audit.sqlite", operator_trust(), root / "ops.pem",
        manual_run, manual_ids, open_run, [d.id for d in deliveries], acked.id,
    )  # fmt: skip


@contextmanager
def serve(env: Env, publisher: Callable[[], Publisher | None]) -> Iterator[str]:
    """The API on a free port; ``publisher`` is made in the server's thread (its loop)."""
    port = free_port()
    access = Access({"auditor": Grant("operator")})  # an operator: it posts commands too

    def build() -> web.Application:
        pub = publisher()
        app = make_app(
            AuditAPI(open_store(env.store_at), [], publisher=pub, trust=env.trust), access
        )
        if isinstance(pub, KafkaPublisher):  # as `a6gw api` wires it

            async def start(_app: web.Application) -> None:
                await pub.start()

            async def stop(_app: web.Application) -> None:
                await pub.stop()

            app.on_startup.append(start)
            app.on_cleanup.append(stop)
        return app

    pki = env.pki
    tls = server_tls(str(pki / "server.pem"), str(pki / "server.key"), str(pki / "ca.pem"))
    thread = ServerThread(build, "127.0.0.1", port, tls).start()
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        thread.stop()


@pytest.fixture(scope="module")
def read_only(env: Env) -> Iterator[str]:
    with serve(env, lambda: None) as url:
        yield url


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []

    async def __call__(self, topic: str, key: bytes, value: bytes) -> None:
        self.sent.append((topic, key, value))


@pytest.fixture(scope="module")
def recorded(env: Env) -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()
    with serve(env, lambda: recorder) as url:
        yield url, recorder


@pytest.fixture(scope="module")
def topic(kafka_admin: KafkaClients) -> Iterator[str]:
    """The gateway's command topic on the session broker, deleted afterwards: a worker
    started later on the same broker must not find these commands waiting for it."""
    asyncio.run(create_topics(kafka_admin, {COMMANDS_TOPIC: PARTITIONS}))
    yield COMMANDS_TOPIC
    asyncio.run(_delete_topic(kafka_admin, COMMANDS_TOPIC))


async def _delete_topic(kafka: KafkaClients, name: str) -> None:
    admin = kafka.admin()
    await admin.start()
    try:
        await admin.delete_topics([name])
        for _ in range(100):  # deletion completes asynchronously
            if name not in await admin.list_topics():
                return
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def kafka_api(env: Env, kafka_admin: KafkaClients, topic: str) -> Iterator[str]:
    with serve(env, lambda: KafkaPublisher(kafka_admin)) as url:
        yield url


def get(env: Env, url: str, path: str, **params: object) -> httpx.Response:
    with httpx.Client(verify=env.tls(), timeout=10) as http:
        return http.get(url + path, params=params)  # type: ignore[arg-type]


def post(env: Env, url: str, d_id: str, body: bytes, client: str | None = "auditor") -> Any:
    with httpx.Client(verify=env.tls(client), timeout=30) as http:
        return http.post(
            f"{url}/v1/discrepancies/{d_id}/commands",
            content=body,
            headers={"Content-Type": "application/json"},
        )


def signed(d_id: str, action: dsc.Action = "acknowledge", key: Ed25519PrivateKey = OPS) -> bytes:
    return command_envelope(
        key, key_id="ops-1-k", principal="ops-1", discrepancy_id=d_id, action=action,
        time=iso_ms(int(time.time() * 1000)), command_id=f"cmd-{uuid.uuid4().hex}",
    )  # fmt: skip


# -- reading ---------------------------------------------------------------------------------


def test_the_list_is_the_current_state_with_filters(env: Env, read_only: str) -> None:
    r = get(env, read_only, "/v1/discrepancies")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["discrepancy_id"] for i in items[:2]] == env.manual_ids
    assert len(items) == 2 + 1 + 6 + 1
    by_id = {i["discrepancy_id"]: i for i in items}
    store = open_store(env.store_at)
    try:
        for item in items:  # the leaf index of its latest entry carries that very state
            latest = json.loads(store.entry(item["latest_index"]))
            assert latest["discrepancy"]["discrepancy_id"] == item["discrepancy_id"]
    finally:
        store.close()
    assert by_id[env.manual_ids[0]]["manual"] is True

    def ids(**params: str) -> list[str]:
        found = get(env, read_only, "/v1/discrepancies", **params)
        assert found.status_code == 200, found.text
        return [i["discrepancy_id"] for i in found.json()["items"]]

    assert ids(status="resolved") == env.manual_ids
    assert ids(status="acknowledged") == [env.acked]
    assert ids(found_by="delivery", status="open") == env.deliveries
    assert ids(code="BLK-003", registry="MNG01") == [env.acked]
    assert len(ids(found_by="reconciliation")) == 3 and ids(registry="XXX01") == []
    bad = get(env, read_only, "/v1/discrepancies", status="closed")
    assert bad.status_code == 400 and bad.json()["code"] == "API-REQUEST"


def test_one_discrepancy_with_its_entries_in_order(env: Env, read_only: str) -> None:
    doc = get(env, read_only, f"/v1/discrepancies/{env.manual_ids[1]}").json()
    assert doc["discrepancy"]["status"] == "resolved" and not doc["discrepancy"]["manual"]
    steps = doc["entries"]
    assert [s["outcome"] for s in steps] == ["open", "acknowledged", "refused", "resolved"]
    assert steps[2]["codes"] == ["REC-102"] and steps[1]["by"] == "ops-1"
    assert [s["index"] for s in steps] == sorted(s["index"] for s in steps)
    assert doc["discrepancy"]["latest_index"] == steps[-1]["index"]
    missing = get(env, read_only, "/v1/discrepancies/dsc-" + "0" * 40)
    assert missing.status_code == 404 and missing.json()["code"] == "REC-101"


def test_runs_and_one_run(env: Env, read_only: str) -> None:
    runs = get(env, read_only, "/v1/reconciliations").json()["items"]
    assert [r["run_id"] for r in runs] == [env.open_run, env.manual_run]  # newest first
    assert (runs[0]["report_status"], runs[0]["status"]) == ("blocks-inconsistent",) * 2
    assert runs[1]["status"] == "completed-with-manual-intervention"
    doc = get(env, read_only, f"/v1/reconciliations/{env.manual_run}").json()
    assert doc["run"]["discrepancy_ids"] == env.manual_ids and doc["run"]["pending"] == 0
    assert doc["report"]["status"] == "totals-inconsistent"
    assert [d["discrepancy_id"] for d in doc["discrepancies"]] == env.manual_ids
    assert all(d["status"] == "resolved" for d in doc["discrepancies"])
    missing = get(env, read_only, "/v1/reconciliations/rec-nope")
    assert missing.status_code == 404 and missing.json()["code"] == "AUD-NOT-FOUND"


def test_the_client_reads_them_too(env: Env, read_only: str) -> None:
    client = AuditClient(read_only, env.tls())
    try:
        assert [d.discrepancy_id for d in client.discrepancies(status="acknowledged")] == [
            env.acked
        ]
        assert client.discrepancy(env.acked).discrepancy.owner == "ops-1"
        assert client.reconciliations()[1].run_id == env.manual_run
        assert client.reconciliation(env.open_run).run.status == "blocks-inconsistent"
        assert client.find_entry("dsx-nothing") is None
    finally:
        client.close()


# -- commands ---------------------------------------------------------------------------------


def test_a_read_only_api_answers_503(env: Env, read_only: str) -> None:
    r = post(env, read_only, env.deliveries[0], signed(env.deliveries[0]))
    assert r.status_code == 503 and r.json()["code"] == "API-READONLY"
    assert r.headers["content-type"].startswith("application/problem+json")


def test_commands_are_refused_with_their_code_before_anything_is_published(
    env: Env, recorded: tuple[str, Recorder]
) -> None:
    url, recorder = recorded
    d_id = env.deliveries[0]
    forged = signed(d_id, key=Ed25519PrivateKey.generate())
    r = post(env, url, d_id, forged)
    assert (r.status_code, r.json()["code"]) == (401, "MSG-003")
    r = post(env, url, env.deliveries[1], signed(d_id))  # the path names another one
    assert (r.status_code, r.json()["code"]) == (400, "MSG-007")
    unknown = dsc.discrepancy_id("delivery", "never-parked")
    r = post(env, url, unknown, signed(unknown))
    assert (r.status_code, r.json()["code"]) == (404, "REC-101")
    r = post(env, url, d_id, b"{not json")
    assert (r.status_code, r.json()["code"]) == (400, "MSG-001")
    r = post(env, url, d_id, signed("dsc-short"))  # authentic, but not a valid command
    assert (r.status_code, r.json()["code"]) == (422, "MSG-001")
    assert post(env, url, d_id, signed(d_id), client=None).status_code == 401  # API-AUTH
    assert recorder.sent == []
    client = AuditClient(url, env.tls())
    try:
        with pytest.raises(ApiProblem) as err:
            client.send_command(d_id, forged)
        assert (err.value.status, err.value.problem_code) == (401, "MSG-003")
    finally:
        client.close()


def test_deep_and_huge_command_bodies_are_coded_4xx(
    env: Env, recorded: tuple[str, Recorder]
) -> None:
    url, recorder = recorded
    d_id = env.deliveries[0]
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"id": ' + b"9" * 5000 + b"}"):
        r = post(env, url, d_id, body)
        assert (r.status_code, r.json()["code"]) == (400, "MSG-001"), r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    huge = post(env, url, d_id, b" " * (2 * 1024 * 1024))
    assert (huge.status_code, huge.json()["code"]) == (413, "MSG-008")
    assert recorder.sent == []


async def _end_offsets(kafka: KafkaClients) -> dict[TopicPartition, int]:
    consumer = kafka.consumer(enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(COMMANDS_TOPIC, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


async def _records_since(
    kafka: KafkaClients, since: dict[TopicPartition, int], want: int, timeout_s: float = 30
) -> list[Any]:
    consumer = kafka.consumer(enable_auto_commit=False)
    await consumer.start()
    got: list[Any] = []
    try:
        consumer.assign(list(since))
        for tp, offset in since.items():
            consumer.seek(tp, offset)
        deadline = time.monotonic() + timeout_s
        while len(got) < want and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            got += [r for recs in batch.values() for r in recs]
    finally:
        await consumer.stop()
    return got


def test_a_checked_command_is_published_as_posted(
    env: Env, kafka_api: str, kafka_admin: KafkaClients
) -> None:
    d_id = env.deliveries[2]
    since = asyncio.run(_end_offsets(kafka_admin))
    body = signed(d_id)
    r = post(env, kafka_api, d_id, body)
    assert r.status_code == 202, r.text
    assert r.json() == {
        "discrepancy_id": d_id,
        "command_id": json.loads(body)["id"],
        "entry_id": command_entry_id(body),
    }
    (record,) = asyncio.run(_records_since(kafka_admin, since, 1))
    assert (record.topic, record.key, record.value) == (COMMANDS_TOPIC, d_id.encode(), body)


def _world(env: Env, kafka: KafkaClients) -> Path:
    """A config on the session broker whose audit store is the env's, trusting ops-1."""
    root = env.root / f"world-{uuid.uuid4().hex[:6]}"
    write_world(root, bootstrap=kafka.bootstrap)
    cfg = yaml.safe_load((root / "config.yaml").read_text())
    cfg["audit"] = {"store": str(env.store_at)}
    (root / "config.yaml").write_text(yaml.safe_dump(cfg))
    (root / "trust.yaml").write_text(yaml.safe_dump(env.trust.model_dump(mode="json")))
    lc = load_config(root / "config.yaml")
    assert lc.audit_store() == str(env.store_at)
    asyncio.run(provision(lc, kafka))  # `a6gw discrepancy` publishes as its own principal
    return root / "config.yaml"


def _a6gw(*args: str) -> list[str]:
    return [sys.executable, "-m", "gateway", *args]


def test_a6gw_discrepancy_sends_directly_and_through_the_api(
    env: Env, kafka_api: str, kafka_admin: KafkaClients
) -> None:
    config = _world(env, kafka_admin)
    key = ["--signing-key", str(env.key_file), "--key-id", "ops-1-k", "--as", "ops-1"]
    since = asyncio.run(_end_offsets(kafka_admin))
    direct = subprocess.run(
        _a6gw("discrepancy", "acknowledge", env.deliveries[3], "--config", str(config), *key,
              "--wait", "0"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert direct.returncode == 0, direct.stderr
    api = ["--api", kafka_api, "--ca", str(env.pki / "ca.pem")]
    api += ["--cert", str(env.pki / "auditor.pem"), "--key", str(env.pki / "auditor.key")]
    through = subprocess.run(
        _a6gw("discrepancy", "acknowledge", env.deliveries[4], "--config", str(config), *key,
              *api, "--wait", "0"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert through.returncode == 0, through.stderr
    got = asyncio.run(_records_since(kafka_admin, since, 2))
    assert sorted(r.key for r in got) == sorted(d.encode() for d in env.deliveries[3:5])
    for r in got:
        entry_id = command_entry_id(r.value)
        assert entry_id in direct.stderr + through.stderr  # it said what to wait for
    refused = subprocess.run(
        _a6gw("discrepancy", "acknowledge", "dsc-" + "1" * 40, "--config", str(config), *key,
              *api),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 1 and refused.stdout.startswith("refused REC-101")


async def _stand_in_worker(
    kafka: KafkaClients, since: dict[TopicPartition, int], store_at: Path, trust: Trust, done: Any
) -> int:
    """The worker's discrepancy step over the topic, its entries into the store."""
    consumer = kafka.consumer(enable_auto_commit=False)
    await consumer.start()
    store = open_store(store_at)
    applied = 0
    try:
        consumer.assign(list(since))
        for tp, offset in since.items():
            consumer.seek(tp, offset)
        while done.poll() is None:
            batch = await consumer.getmany(timeout_ms=200)
            for rec in (r for recs in batch.values() for r in recs):
                raw = RawInput(rec.topic, rec.partition, rec.offset, rec.key, rec.value,
                               rec.timestamp)  # fmt: skip
                known = {i: dsc.record(t.discrepancy) for i, t in load_discrepancies(store).items()}
                result = oversight_step(raw, known, trust, {}, max_bytes=256 * 1024)
                store.append([(o.key, o.value) for o in result.outputs if o.topic == AUDIT_TOPIC])
                applied += 1
    finally:
        await consumer.stop()
        store.close()
    return applied


def test_a6gw_discrepancy_waits_for_the_outcome_through_the_api(
    env: Env, kafka_api: str, kafka_admin: KafkaClients
) -> None:
    config = _world(env, kafka_admin)
    d_id = env.deliveries[5]
    key = ["--signing-key", str(env.key_file), "--key-id", "ops-1-k", "--as", "ops-1"]
    api = ["--api", kafka_api, "--ca", str(env.pki / "ca.pem")]
    api += ["--cert", str(env.pki / "auditor.pem"), "--key", str(env.pki / "auditor.key")]

    def send(*args: str) -> tuple[int, str]:
        since = asyncio.run(_end_offsets(kafka_admin))
        proc = subprocess.Popen(
            _a6gw("discrepancy", *args, "--config", str(config), *key, *api, "--wait", "60"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        applied = asyncio.run(_stand_in_worker(kafka_admin, since, env.store_at, env.trust, proc))
        out, err = proc.communicate(timeout=60)
        assert applied >= 1, err
        return proc.returncode, out.strip()

    assert send("resolve-by-hand", d_id, "--note", "re-sent", "--correction", "msg 7 re-sent") == (
        0,
        "resolved by hand",
    )
    code, out = send("acknowledge", d_id)
    assert code == 1 and out.startswith("refused REC-102: cannot acknowledge")
