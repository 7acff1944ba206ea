"""The worker on the real broker: the bundled scenario, restarts, kill -9, the bundle.

One worker serves the module (the gateway's topic names are fixed, so tests of this module
share them and run in file order).
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.api.client import AuditClient
from gateway.api.server import Access, AuditAPI, ServerThread, make_app, server_tls
from gateway.audit.bundle import write_bundle
from gateway.audit.note import open_checkpoint
from gateway.audit.open import open_store
from gateway.audit.rfc6962 import leaf_hash
from gateway.audit.store import AuditStore
from gateway.audit.verify import verify_inclusion
from gateway.config import LoadedConfig
from gateway.core import discrepancy as dsc
from gateway.core import tracecontext
from gateway.core.canonical import canonical_bytes, sha256_hex
from gateway.core.decision import event_entry_id, raw_entry_id
from gateway.core.ingest import RawInput
from gateway.core.oversight import command_entry_id, command_envelope
from gateway.core.signing import sign_envelope
from gateway.core.topics import (
    AUDIT_TOPIC,
    COMMANDS_TOPIC,
    INPUT_PREFIX,
    LEDGER_TOPIC,
    input_topic,
    is_changelog,
    output_topic,
)
from gateway.demo.run import DEMO_ANSWER_S, check, replay
from gateway.demo.scenario import Expect, Step, load_steps
from gateway.demo.stack import start_gateway
from gateway.demo.world import World, now_utc, signed_event
from gateway.http.pki import init_pki
from gateway.http.tls import client_tls
from gateway.transport.clients import KafkaClients, clients_for
from gateway.transport.read import read_partition
from gateway.transport.topic_plan import topic_plan
from gateway.worker.exits import Exit
from gateway.worker.process import WorkerProcess
from gateway.worker.sequencing import request_checkpoint
from schemas.events import EVENT_TYPES
from tests import records_check
from tests.integration.offsets import commit_to_end
from tests.ports import free_port

pytestmark = pytest.mark.kafka


@dataclass
class Running:
    world: World
    lc: LoadedConfig
    worker: WorkerProcess
    store: AuditStore
    steps: list[Step]
    observed: dict[str, Any]
    admin: KafkaClients  # the broker admin's clients: the tests' observer


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory, kafka_admin: KafkaClients
) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("gateway")
    gw = start_gateway(root, kafka_admin, transfer_answer_s=DEMO_ANSWER_S)
    world, lc, worker, store = gw.world, gw.lc, gw.worker, gw.store
    try:
        steps = load_steps(world)
        observed = asyncio.run(replay(lc, steps, store, worker, gw.admin, say=lambda _m: None))
        yield Running(world, lc, worker, store, steps, observed, gw.admin)
    finally:
        worker.stop()
        print(worker.log_tail(15))


def _step(
    world: World,
    sid: str,
    signer: str,
    name: str,
    data: dict[str, Any],
    outcome: str,
    codes: tuple[str, ...] = (),
) -> Step:
    value = signed_event(
        world.keys[signer],
        key_id=world.key_id(signer),
        source=signer,
        name=name,
        event_id=sid,
        data=data,
    )
    return Step(sid, input_topic(signer), sid.encode(), value, Expect(outcome, codes), signer, sid)


def _retirement(transaction_id: str, ndc_year: int, first: str, last: str) -> dict[str, Any]:
    """JPN01 retires MNG01-originated units of CA0001 towards Japan's NDC."""
    return {
        "transaction_id": transaction_id,
        "ca_id": "CA0001",
        "originating_registry": "MNG01",
        "registry_id": "JPN01",
        "account_id": "JP-GOV-1",
        "retirement_account_id": "JP-RET-1",
        "using_party": "JPN",
        "ndc_year": ndc_year,
        "blocks": [{"serial_start": first, "serial_end": last}],
    }


def test_every_input_ends_as_its_expected_decision(running: Running) -> None:
    rows = check(running.steps, running.observed, running.store)
    problems = {r.step.id: r.problems for r in rows if r.problems}
    assert problems == {}
    distinct = [s for s in running.steps if not s.is_redelivery]
    assert len(_decisions(running.store)) == len(distinct)
    assert running.worker.crashes() == []


def _decisions(store: AuditStore) -> list[dict[str, Any]]:
    """The entries of inputs (every entry but the discrepancies' transitions and the trust
    and settings records)."""
    entries = (json.loads(b) for b in store.entries())
    return [e for e in entries if e["entry_type"] not in NOT_INPUTS]


NOT_INPUTS = ("discrepancy", "trust-key", "party-settings")


def _wait_for(store: AuditStore, entry_id: str, worker: WorkerProcess) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while (index := store.index_of(entry_id)) is None:
        worker.check_alive()
        assert time.monotonic() < deadline, f"no entry {entry_id}"
        time.sleep(0.2)
    return dict(json.loads(store.entry(index)))


def test_failed_notifications_open_discrepancies_operators_move_them(running: Running) -> None:
    """Continuous reconciliation: every notification whose checks failed is a finding, on
    record as an open discrepancy; an operator's signed command moves it, anything else
    sent to the command topic is dead-lettered (and the worker goes on)."""
    failed = [e for e in _decisions(running.store) if e["outcome"] == "discrepancy"]
    assert sorted(e["results"][0]["code"] for e in failed) == ["A6-007", "A6-015", "TRN-001"]
    opened = []
    for e in failed:
        found = dsc.decision_finding(e)
        assert found is not None
        opened.append(_wait_for(running.store, dsc.opened_entry(found)["entry_id"], running.worker))
    assert {o["outcome"] for o in opened} == {"open"}
    target = dsc.from_record(opened[0]["discrepancy"])
    key = running.world.keys["ops-1"]
    good = command_envelope(
        key, key_id="ops-1-2026", principal="ops-1", discrepancy_id=target.id,
        action="acknowledge", time=now_utc(),
    )  # fmt: skip
    forged = command_envelope(
        Ed25519PrivateKey.generate(), key_id="ops-1-2026", principal="ops-1",
        discrepancy_id=target.id, action="resolve", note="not me", time=now_utc(),
    )  # fmt: skip

    async def send() -> list[str]:
        producer = running.admin.producer()
        await producer.start()
        try:
            metas = [
                await producer.send_and_wait(COMMANDS_TOPIC, v, key=target.id.encode())
                for v in (good, forged)
            ]
        finally:
            await producer.stop()
        return [raw_entry_id(m.topic, m.partition, m.offset) for m in metas]

    _, forged_entry = asyncio.run(send())
    acked = _wait_for(running.store, command_entry_id(good), running.worker)
    assert (acked["outcome"], acked["input"]["signer"]) == ("acknowledged", "ops-1")
    assert dsc.from_record(acked["discrepancy"]).owner == "ops-1"
    dead = _wait_for(running.store, forged_entry, running.worker)
    assert (dead["outcome"], dead["results"][0]["code"]) == ("dead-lettered", "MSG-003")
    assert dsc.fold(json.loads(b) for b in running.store.entries())[target.id].status == (
        "acknowledged"
    )
    assert running.worker.alive()


def test_dead_letters_carry_reason_codes(running: Running) -> None:
    codes = sorted(d["reason_code"] for d in running.observed["dlq"])
    assert codes == ["MSG-001", "MSG-002", "MSG-003"]
    assert running.worker.alive(), "a bad input must never stop the worker"


def test_transfer_proposal_reaches_the_acquiring_registry(running: Running) -> None:
    kinds = [(t, n["kind"]) for t, n in running.observed["notices"]]
    assert (output_topic("JPN01"), "transfer.proposed") in kinds
    assert (output_topic("MNG01"), "transfer.completed") in kinds


async def _records(clients: KafkaClients, topic: str, partitions: int) -> list[RawInput]:
    return [
        rec
        for p in range(partitions)
        async for batch in read_partition(clients, topic, p)
        for rec in batch
    ]


def test_decisions_read_back_through_the_cloudevents_kafka_binding(running: Running) -> None:
    topic = output_topic("MNG01")
    parts = topic_plan(running.lc.config)[0][topic]
    records = asyncio.run(_records(running.admin, topic, parts))
    assert records, f"nothing on {topic}"
    types = set()
    for rec in records:
        headers = dict(rec.headers)
        # structured content mode (Kafka protocol binding §3.2.1): no ce_ header at all
        assert headers["content-type"] == b"application/cloudevents+json; charset=UTF-8"
        assert not any(name.startswith("ce_") for name in headers)
        message = ce_kafka.KafkaMessage(headers=headers, key=rec.key, value=rec.value)
        event = ce_kafka.from_kafka_event(message)  # the SDK picks the mode from the headers
        envelope = json.loads(rec.value)
        assert event.get_id() == envelope["id"] and event.get_source() == envelope["source"]
        assert event.get_type() == envelope["type"]
        assert event.get_data() == envelope["data"]
        assert event.get_extension("a6signature") == envelope["a6signature"]
        types.add(event.get_type())
    assert EVENT_TYPES["a6gw.decision.v2"].type in types
    # the audit log's entries are no CloudEvents: no content-type, only the MAC
    entries = asyncio.run(_records(running.admin, AUDIT_TOPIC, 1))
    assert entries and {tuple(n for n, _ in r.headers) for r in entries} == {("a6-mac",)}


def test_a_binary_mode_input_is_dead_lettered_with_msg011(running: Running) -> None:
    topic = input_topic("JPN01")
    ce = [("ce_specversion", b"1.0"), ("ce_id", b"bin-1"), ("ce_source", b"JPN01")]
    ce += [("ce_type", b"a6gw.account.v1"), ("content-type", b"application/json")]

    async def send() -> Any:
        producer = running.admin.producer(acks="all")
        await producer.start()
        try:
            return await producer.send_and_wait(
                topic, b'{"registry_id":"JPN01"}', key=b"bin-1", headers=ce
            )
        finally:
            await producer.stop()

    meta = asyncio.run(send())
    entry_id = raw_entry_id(topic, meta.partition, meta.offset)
    entry = _wait_for(running.store, entry_id, running.worker)
    assert entry["outcome"] == "dead-lettered"
    assert [r["code"] for r in entry["results"]] == ["MSG-011"]
    assert running.worker.alive()


def test_subject_dataschema_and_trace_context_travel_as_the_profile_says(
    running: Running,
) -> None:
    """An input with ``subject``, ``dataschema`` and the originating trace
    (docs/cloudevents.md) is decided; its audit entry keeps them; the decision on
    ``a6.out`` continues the trace in its Kafka headers (same trace id, a new parent id),
    never in its signed envelope."""
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    extra = {
        "subject": "JP-TRACE-1",
        "dataschema": "urn:a6gw:schema:account.opened:1",
        "traceparent": f"00-{trace_id}-{parent_id}-01",
        "tracestate": "a6gw=e2e",
    }
    env = {
        "specversion": "1.0",
        "id": "jpn-trace-1",
        "source": "JPN01",
        "type": "a6gw.account.opened.v1",
        "time": now_utc(),
        "datacontenttype": "application/json",
        "a6keyid": running.world.key_id("JPN01"),
        "data": {
            "registry_id": "JPN01",
            "account_id": "JP-TRACE-1",
            "account_type": "participant-holding",
            "holder": "Tracing Co.",
        },
    } | extra
    value = canonical_bytes(sign_envelope(env, running.world.keys["JPN01"]))
    topic = input_topic("JPN01")

    async def send() -> None:
        producer = running.admin.producer(acks="all")
        await producer.start()
        try:
            headers = [("content-type", b"application/cloudevents+json; charset=UTF-8")]
            await producer.send_and_wait(topic, value, key=b"jpn-trace-1", headers=headers)
        finally:
            await producer.stop()

    asyncio.run(send())
    entry_id = event_entry_id("JPN01", "jpn-trace-1", sha256_hex(value))
    entry = _wait_for(running.store, entry_id, running.worker)
    assert entry["outcome"] == "recorded", entry["results"]
    assert {k: entry["input"][k] for k in ("subject", "traceparent", "tracestate")} == {
        k: extra[k] for k in ("subject", "traceparent", "tracestate")
    }
    out = output_topic("JPN01")
    parts = topic_plan(running.lc.config)[0][out]
    (decision,) = [
        r for r in asyncio.run(_records(running.admin, out, parts)) if r.key == b"jpn-trace-1"
    ]
    hop = tracecontext.from_headers(decision.headers)
    assert hop is not None, decision.headers
    assert hop.trace_id == trace_id and hop.parent_id != parent_id
    assert (hop.flags, hop.state) == ("01", "a6gw=e2e")
    # the ledger hand-off is a hop of its own: the trace's span between the two
    ledger_parts = topic_plan(running.lc.config)[0][LEDGER_TOPIC]
    handoffs = asyncio.run(_records(running.admin, LEDGER_TOPIC, ledger_parts))
    (handoff,) = [r for r in handoffs if json.loads(r.value)["event"]["id"] == "jpn-trace-1"]
    ingest_hop = tracecontext.from_headers(handoff.headers)
    assert ingest_hop is not None and ingest_hop.trace_id == trace_id
    assert len({parent_id, ingest_hop.parent_id, hop.parent_id}) == 3
    envelope = json.loads(decision.value)
    assert envelope["data"]["input_id"] == "jpn-trace-1"
    assert not {"traceparent", "tracestate", "subject", "dataschema"} & set(envelope)
    # the stock SDK still reads the decision in structured mode
    message = ce_kafka.KafkaMessage(
        headers=dict(decision.headers), key=decision.key, value=decision.value
    )
    assert ce_kafka.from_kafka_event(message).get_id() == envelope["id"]


def test_dead_letters_and_notices_read_from_the_broker_fit_their_schemas(
    running: Running,
) -> None:
    """What a registry reads from ``a6.out.<registryId>`` and an operator from ``a6.dlq``
    validates against ``notice-data.schema.json`` and ``dead-letter.schema.json``."""
    letters = running.observed["dlq"]
    for letter in letters:
        records_check.check_dead_letter(canonical_bytes(letter))
        assert letter["topic"] in running.lc.config.input_topics()
        assert letter["key_b64"] is not None
    notices = running.observed["notices"]
    kinds = {records_check.check_notice(data)["kind"] for _, data in notices}
    assert len(letters) == 3 and {"transfer.proposed", "transfer.completed"} <= kinds


def test_every_record_of_every_topic_the_gateway_writes_fits_its_published_schema(
    running: Running,
) -> None:
    """After the demo scenario, every record on the gateway's outputs (``a6.out.*``, the
    inventory answers, an HTTPS partner's retries), ``a6.dlq``, ``a6.discrepancies``,
    ``a6.audit.log``, ``a6.audit.checkpoints`` and ``a6.ledger`` fits the schema published
    for it (``tests.records_check.check_record``), and every CloudEvent reads back through
    the cloudevents SDK's Kafka binding in structured mode with the envelope's attributes."""
    lc = running.lc
    kafka = clients_for(lc, "checkpoint")
    asyncio.run(request_checkpoint(kafka, lc.load_mac_key(), min_size=running.store.size()))
    verifier = lc.load_log_key().verifier()
    seen: Counter[str] = Counter()
    notes = []
    for topic, parts in topic_plan(lc.config)[0].items():
        if topic.startswith(INPUT_PREFIX) or topic == COMMANDS_TOPIC:
            continue  # written by registries, agencies and operators, not the gateway
        if is_changelog(topic):
            continue  # the stream processor's private state, not a contract (no schema)
        for rec in asyncio.run(_records(running.admin, topic, parts)):
            kind = records_check.check_record(rec, lambda n: open_checkpoint(n, verifier))
            seen[kind] += 1
            if kind == "out" and b'"a6gw.decision.v2"' in rec.value:
                notes.append(json.loads(rec.value)["data"]["note"])
    want = {"out", "out.inventory", "dlq", "discrepancies", "audit.log", "audit.checkpoints"}
    assert want | {"ledger"} <= set(seen), seen
    assert any(" cancelled: no answer by " in n for n in notes), notes


def test_kill_9_then_restart_recovers_state_without_duplicates(running: Running) -> None:
    before = len(_decisions(running.store))
    running.worker.kill()
    running.worker.start()
    ret = next(s for s in running.steps if s.id == "jpn-ret-1")
    redelivered = Step(
        "again",
        ret.topic,
        ret.key,
        ret.value,
        Expect("accepted", (), None, "jpn-ret-1"),
        ret.source,
        ret.event_id,
    )
    retire = _retirement("JPN01-RET-8", 2026, "1001", "1500")
    retire_again = _retirement("JPN01-RET-9", 2025, "1", "10")
    steps = [
        _step(running.world, "after-restart-use", "JPN01", "retirement", retire, "accepted"),
        redelivered,
        _step(
            running.world,
            "after-restart-retire",
            "JPN01",
            "retirement",
            retire_again,
            "rejected",
            ("BLK-007",),
        ),
    ]
    observed = asyncio.run(
        replay(running.lc, steps, running.store, running.worker, running.admin, say=lambda _m: None)
    )
    rows = check(steps, observed, running.store)
    assert {r.step.id: r.problems for r in rows if r.problems} == {}
    assert len(_decisions(running.store)) == before + 2
    ids = [json.loads(b)["entry_id"] for b in running.store.entries()]
    assert len(ids) == len(set(ids))


def test_records_committed_but_never_processed_are_processed(running: Running) -> None:
    """A consumer that commits past records it never handed to the agent loses nothing.

    faust can do this around a rebalance (see gateway.worker.gaps). Here the worker is down
    while inputs arrive and the group's offsets are committed past them; when it starts again
    its watchdog finds the partitions behind their committed offsets and reads them anyway.
    """
    running.worker.stop()
    steps = [
        _step(
            running.world,
            f"skipped-{n}",
            "JPN01",
            "retirement",
            _retirement(f"JPN01-RET-SKIP-{n}", 2025, "1", "10"),
            "rejected",
            ("BLK-007",),
        )
        for n in range(6)
    ]

    async def publish() -> None:
        producer = running.admin.producer(acks="all")
        await producer.start()
        try:
            for step in steps:
                await producer.send_and_wait(step.topic, step.value, key=step.key)
        finally:
            await producer.stop()

    asyncio.run(publish())
    cfg = running.lc.config
    asyncio.run(
        commit_to_end(running.admin, cfg.gateway.id, input_topic("JPN01"), cfg.kafka.partitions)
    )
    running.worker.start()
    want = {e for step in steps if (e := step.entry_id) is not None}
    assert len(want) == len(steps)
    deadline = time.monotonic() + 180
    while not all(running.store.has(e) for e in want):
        running.worker.check_alive()
        assert time.monotonic() < deadline, running.worker.log_tail(30)
        time.sleep(0.5)
    log = running.worker.log_path.read_text(encoding="utf-8", errors="replace")
    assert "a6.in.JPN01#" in log and "seeking to" in log


def _a6gw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], capture_output=True, text=True, check=False
    )


def _node_verify(*args: str) -> subprocess.CompletedProcess[str]:
    tool = Path(__file__).resolve().parents[2] / "tools" / "verify-bundle.mjs"
    return subprocess.run(["node", str(tool), *args], capture_output=True, text=True, check=False)


def _decide_more(running: Running, tag: str, count: int) -> None:
    steps = [
        _step(
            running.world,
            f"{tag}-{n}",
            "JPN01",
            "retirement",
            _retirement(f"JPN01-RET-{tag}-{n}", 2025, "1", "10"),
            "rejected",
            ("BLK-007",),
        )
        for n in range(count)
    ]
    observed = asyncio.run(
        replay(running.lc, steps, running.store, running.worker, running.admin, say=lambda _m: None)
    )
    assert {
        r.step.id: r.problems for r in check(steps, observed, running.store) if r.problems
    } == {}


def test_published_checkpoints_export_and_verify_twice_over(
    running: Running, tmp_path: Path
) -> None:
    """The sequencer's checkpoint, exported, passes a6gw verify and the Node verifier; one
    changed byte fails both; a later export is consistent with the earlier checkpoint."""
    config = str(running.world.config_path)
    vkey = tmp_path / "log.vkey"
    vkey.write_text(running.lc.load_log_key().public_vkey() + "\n")
    first = _a6gw("audit", "checkpoint", "--config", config, "--out", str(tmp_path / "cp1"))
    assert first.returncode == 0, first.stderr
    old = tmp_path / "old"
    assert _a6gw("audit", "export", str(old), "--config", config).returncode == 0
    verified = _a6gw("verify", str(old), "--vkey", str(vkey))
    assert verified.returncode == 0, verified.stderr
    # every decision of the demo was signed by a key the log trusted where it stands
    assert "OK: signers: " in verified.stdout and "before the first" not in verified.stdout
    node = _node_verify(str(old), "--vkey", str(vkey))
    assert node.returncode == 0, node.stderr
    size1 = int((tmp_path / "cp1").read_text().split("\n")[1])
    assert f"size={size1} " in node.stdout

    _decide_more(running, "since", 3)
    second = _a6gw("audit", "checkpoint", "--config", config, "--out", str(tmp_path / "cp2"))
    assert second.returncode == 0, second.stderr
    new = tmp_path / "new"
    assert _a6gw("audit", "export", str(new), "--config", config).returncode == 0
    since = _a6gw("verify", str(new), "--since", str(tmp_path / "cp1"), "--vkey", str(vkey))
    assert since.returncode == 0, since.stderr
    assert _node_verify(str(new), "--since", str(tmp_path / "cp1")).returncode == 0

    # A range with proofs, checked entry by entry.
    part = tmp_path / "part"
    assert (
        _a6gw(
            "audit", "export", str(part), "--config", config, "--start", "2", "--end", "9"
        ).returncode
        == 0
    )
    assert _a6gw("verify", str(part)).returncode == 0
    assert "range=[2,9)" in _node_verify(str(part)).stdout

    # One byte of an entry: both verifiers fail.
    lines = (new / "entries.ndjson").read_bytes().split(b"\n")
    n = next(i for i, x in enumerate(lines) if b'"entry_type":"decision"' in x)  # after trust
    lines[n] = (
        lines[n].replace(b'"recorded"', b'"accepted"', 1).replace(b'"rejected"', b'"accepted"', 1)
    )
    (new / "entries.ndjson").write_bytes(b"\n".join(lines))
    broken = _a6gw("verify", str(new))
    assert broken.returncode == 1 and "AUD-VERIFY" in broken.stderr
    assert _node_verify(str(new)).returncode == 1

    # A forked log (entry 2 rewritten, the checkpoint re-signed) fails --since.
    key = running.lc.load_log_key()
    forged = list((old / "entries.ndjson").read_bytes().split(b"\n")[:-1])
    forged[2] = forged[2].replace(b'"entry_version"', b'"entry_version" ', 1)
    write_bundle(tmp_path / "fork", forged, key, running.lc.config.gateway.log_origin)
    fork = _a6gw("verify", str(tmp_path / "fork"), "--since", str(tmp_path / "cp1"))
    assert fork.returncode == 1 and "not consistent" in fork.stderr
    assert _node_verify(str(tmp_path / "fork"), "--since", str(tmp_path / "cp1")).returncode == 1


def test_the_chain_of_custody_of_a_demo_unit_over_the_api(running: Running, tmp_path: Path) -> None:
    """Units 1-10 of CA0001 from MNG01: issued, first transferred to JPN01, retired; the API
    shows each step with an inclusion proof that verifies against the signed checkpoint."""
    lc = running.lc
    kafka = clients_for(lc, "checkpoint")
    note = asyncio.run(request_checkpoint(kafka, lc.load_mac_key(), min_size=running.store.size()))
    key = lc.load_log_key()
    init_pki(tmp_path / "pki", ("auditor",))
    pki = tmp_path / "pki"
    port = free_port()

    def build():  # type: ignore[no-untyped-def]
        api = AuditAPI(open_store(lc.audit_store()), [key.verifier()])
        return make_app(api, Access(frozenset({"auditor"})))

    tls = server_tls(str(pki / "server.pem"), str(pki / "server.key"), str(pki / "ca.pem"))
    server = ServerThread(build, "127.0.0.1", port, tls).start()
    try:
        client_ctx = client_tls(
            str(pki / "ca.pem"), str(pki / "auditor.pem"), str(pki / "auditor.key")
        )
        client = AuditClient(f"https://127.0.0.1:{port}", client_ctx)
        doc = client.get("/v1/custody", itmo="CA0001:MNG01:1-10")
        client.close()
    finally:
        server.stop()
    cp = open_checkpoint(doc["checkpoint"]["note"], key.verifier())
    assert cp.size >= open_checkpoint(note, key.verifier()).size
    steps = []
    for item in doc["items"]:
        body = item["entry"]["body"].encode()
        verify_inclusion(
            index=item["entry"]["index"],
            size=cp.size,
            leaf_hash=leaf_hash(body),
            proof=[base64.b64decode(h) for h in item["proof"]["hashes"]],
            root=cp.root,
        )
        entry = json.loads(body)
        steps.append((entry["input"]["id"], entry["actions"]))
    ids = [i for i, _ in steps]
    assert ids.index("mng-iss-1") < ids.index("mng-tx-1") < ids.index("jpn-ret-1")
    actions = {a for _, acts in steps for a in acts}
    assert {"Issuance", "First transfer"} <= actions, steps


def test_the_sequencer_refuses_a_store_behind_its_published_checkpoint(
    running: Running, tmp_path: Path
) -> None:
    """A store restored from an old backup would rewrite published history: the worker stops."""
    store_path = running.lc.data_dir / "audit.sqlite"
    running.worker.stop()
    backup = tmp_path / "backup.sqlite"
    shutil.copy(store_path, backup)
    running.worker.start()
    _decide_more(running, "behind", 2)
    note = _a6gw("audit", "checkpoint", "--config", str(running.world.config_path))
    assert note.returncode == 0, note.stderr
    running.worker.stop()
    current = tmp_path / "current.sqlite"
    shutil.move(store_path, current)
    for suffix in ("-wal", "-shm"):
        Path(f"{store_path}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, store_path)
    try:
        running.worker.start()
        asyncio.run(_publish_one(running))  # the worker stops on the first batch it sequences
        assert running.worker.proc is not None
        assert running.worker.proc.wait(180) == Exit.REFUSED
        assert "AUD-BEHIND" in running.worker.log_path.read_text(encoding="utf-8")
    finally:
        running.worker.stop()
        store_path.unlink()
        shutil.move(current, store_path)
        running.worker.start()


async def _publish_one(running: Running) -> None:
    step = _step(
        running.world,
        "behind-trigger",
        "JPN01",
        "retirement",
        _retirement("JPN01-RET-behind-trigger", 2025, "1", "10"),
        "rejected",
        ("BLK-007",),
    )
    producer = running.admin.producer(acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(step.topic, step.value, key=step.key)
    finally:
        await producer.stop()
