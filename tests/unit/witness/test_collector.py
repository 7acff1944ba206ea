"""The gateway's witness collector against the witness's own application in process (plain
HTTP on loopback) and a real SQLite audit store: cosignatures kept and served by quorum, a 409
answered by a proof from the size it names, a fork reported, refusals alerted, transient
failures retried behind the breaker. Real processes over HTTPS on the real broker:
tests/integration/test_witness_collector.py."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer

from gateway.audit.cosignature import WitnessKey, require_cosignatures
from gateway.audit.cosigned import for_readers
from gateway.audit.note import Checkpoint, LogKey
from gateway.audit.store import AuditStore
from gateway.core.topics import DISCREPANCY_TOPIC
from gateway.observe.metrics import REGISTRY
from gateway.witness.server import Witness, make_app
from gateway.worker.witnessing import Collector, WitnessLink
from tests.ports import free_port
from tests.unit.witness.logs import ORIGIN

KEY = LogKey.generate(ORIGIN)
JP = WitnessKey.generate("witness.jp.example/a6gw")
MN = WitnessKey.generate("witness.mn.example/a6gw")
Sent = list[tuple[str, bytes, bytes]]


def _store(path: Path, size: int, tag: str = "main") -> AuditStore:
    store = AuditStore(path)
    grow(store, size, tag)
    return store


def grow(store: AuditStore, size: int, tag: str = "main") -> str:
    """Append entries up to ``size``, sign and keep a checkpoint; its note."""
    have = store.size()
    store.append((f"{tag}-{i}", f'{{"n":"{tag}-{i}"}}'.encode()) for i in range(have, size))
    note = KEY.sign(Checkpoint(ORIGIN, size, store.root(size)).to_text())
    store.save_checkpoint(size, note)
    return note


@asynccontextmanager
async def witnesses(tmp: Path, *keys: WitnessKey) -> AsyncIterator[list[str]]:
    """Each witness's application served on loopback; their submission prefixes."""
    async with AsyncExitStack() as stack:
        urls = []
        for key in keys:
            witness = Witness(key, {ORIGIN: [KEY.verifier()]}, tmp / f"{key.name.split('.')[1]}.db")
            server = TestServer(make_app(witness, "/w"), port=free_port())
            await stack.enter_async_context(server)
            urls.append(str(server.make_url("/w")))
        yield urls


def collector(store: AuditStore, urls: list[str], keys: list[WitnessKey], sent: Sent) -> Collector:
    links = [
        WitnessLink(k.name, u, k.cosigner(), httpx.AsyncClient(timeout=5))
        for u, k in zip(urls, keys, strict=True)
    ]

    async def send(topic: str, key: bytes, value: bytes) -> None:
        sent.append((topic, key, value))

    async def no_wait(_s: float) -> None:
        return None

    return Collector(store, links, [KEY.verifier()], send, sleep=no_wait)


def _count(witness: str, outcome: str) -> float:
    labels = {"witness": witness, "outcome": outcome}
    return REGISTRY.get_sample_value("a6gw_witness_submissions_total", labels) or 0.0


def test_both_witnesses_cosign_and_readers_get_the_quorum(tmp_path: Path) -> None:
    store = _store(tmp_path / "a.sqlite", 5)
    sent: Sent = []

    async def go() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        async with witnesses(tmp_path, JP, MN) as urls:
            c = collector(store, urls, [JP, MN], sent)
            first = await c.submit(store.latest_checkpoint().note)  # type: ignore[union-attr]
            second = await c.submit(grow(store, 9))
            again = await c.submit(store.latest_checkpoint().note)  # type: ignore[union-attr]
            await c.close()
            return first, second, again

    first, second, again = asyncio.run(go())
    assert first == second == {JP.name: "cosigned", MN.name: "cosigned"}
    assert again == {JP.name: "superseded", MN.name: "superseded"}  # not sent twice
    assert store.witness_size(JP.name) == 9
    served = for_readers(store, [JP.cosigner(), MN.cosigner()], 2)
    assert served is not None and served.size == 9
    assert len(require_cosignatures(served.note, [JP.cosigner(), MN.cosigner()], 2)) == 2
    assert sent == []


def test_quorum_serves_the_newest_checkpoint_cosigned_by_enough_witnesses(tmp_path: Path) -> None:
    store = _store(tmp_path / "a.sqlite", 5)

    async def go() -> None:
        async with witnesses(tmp_path, JP, MN) as urls:
            both = collector(store, urls, [JP, MN], [])
            await both.submit(store.latest_checkpoint().note)  # type: ignore[union-attr]
            only_jp = collector(store, urls[:1], [JP], [])
            await only_jp.submit(grow(store, 8))
            await both.close()
            await only_jp.close()

    asyncio.run(go())
    keys = [JP.cosigner(), MN.cosigner()]
    assert for_readers(store, keys, 2).size == 5  # type: ignore[union-attr]
    one = for_readers(store, keys, 1)
    assert one is not None and one.size == 8
    latest = for_readers(store, keys, 0)
    assert latest is not None and latest.size == 8 and JP.name in latest.note
    # a stored line that no longer verifies (the pinned key changed) is not counted
    assert for_readers(store, [WitnessKey.generate(JP.name).cosigner(), MN.cosigner()], 2) is None


def test_a_409_is_answered_with_a_proof_from_the_size_it_names(tmp_path: Path) -> None:
    store = _store(tmp_path / "a.sqlite", 5)
    fresh = tmp_path / "fresh.sqlite"  # a gateway that lost what the witness cosigned

    async def go() -> dict[str, str]:
        async with witnesses(tmp_path, JP) as urls:
            c = collector(store, urls, [JP], [])
            await c.submit(store.latest_checkpoint().note)  # type: ignore[union-attr]
            other = _store(fresh, 5)
            note = grow(other, 12)
            c2 = collector(other, urls, [JP], [])
            out = await c2.submit(note)
            await c.close()
            await c2.close()
            return out

    before = _count(JP.name, "resubmit")
    assert asyncio.run(go()) == {JP.name: "cosigned"}
    assert _count(JP.name, "resubmit") == before + 1  # old 0 -> 409 "5" -> proof 5..12 -> 200
    assert AuditStore(fresh).witness_size(JP.name) == 12


def test_a_fork_is_a_discrepancy_and_an_alert(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = _store(tmp_path / "a.sqlite", 5)
    forked = _store(tmp_path / "fork.sqlite", 5, tag="rewritten")
    sent: Sent = []

    async def go() -> tuple[dict[str, str], dict[str, str]]:
        async with witnesses(tmp_path, JP) as urls:
            c = collector(store, urls, [JP], [])
            await c.submit(store.latest_checkpoint().note)  # type: ignore[union-attr]
            bad = collector(forked, urls, [JP], sent)
            same_size = await bad.submit(forked.latest_checkpoint().note)  # type: ignore[union-attr]
            larger = await bad.submit(grow(forked, 7, tag="rewritten"))
            await c.close()
            await bad.close()
            return same_size, larger

    with caplog.at_level(logging.ERROR, "a6gw.alert"):
        same_size, larger = asyncio.run(go())
    assert same_size == larger == {JP.name: "fork"}
    assert [t for t, _, _ in sent] == [DISCREPANCY_TOPIC, DISCREPANCY_TOPIC]
    assert b'"code":"WIT-001"' in sent[0][2] and b'"found_by":"witness"' in sent[0][2]
    assert sum("ALERT A6-ALERT-006" in r.getMessage() for r in caplog.records) == 2
    assert forked.cosignature_lines(5) == [] and forked.witness_size(JP.name) is None


def test_refusals_and_bad_cosignatures_are_configuration_alerts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = _store(tmp_path / "a.sqlite", 5)
    stranger = LogKey.generate("a6gw.example/other")
    unknown = stranger.sign(Checkpoint(stranger.name, 5, store.root(5)).to_text())

    async def go() -> tuple[dict[str, str], dict[str, str]]:
        async with witnesses(tmp_path, JP) as urls:
            c = collector(store, urls, [JP], [])
            c.verifiers = [KEY.verifier(), stranger.verifier()]
            origin = await c.submit(unknown)  # 404: the witness does not know the origin
            # a link that pins another key than the witness's: its cosignature is not kept
            wrong = collector(store, urls, [WitnessKey.generate(JP.name)], [])
            invalid = await wrong.submit(store.latest_checkpoint().note)  # type: ignore[union-attr]
            await c.close()
            await wrong.close()
            return origin, invalid

    with caplog.at_level(logging.ERROR, "a6gw.alert"):
        origin, invalid = asyncio.run(go())
    assert origin == {JP.name: "misconfigured"}
    assert invalid == {JP.name: "invalid"}
    assert store.cosignature_lines(5) == []
    assert sum("ALERT A6-ALERT-007" in r.getMessage() for r in caplog.records) == 2


def test_an_unreachable_witness_is_retried_then_left_behind_its_breaker(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = _store(tmp_path / "a.sqlite", 5)
    note = store.latest_checkpoint().note  # type: ignore[union-attr]
    c = collector(store, [f"http://127.0.0.1:{free_port()}/w"], [JP], [])

    async def go() -> tuple[dict[str, str], dict[str, str]]:
        first = await c.submit(note)
        second = await c.submit(note)
        await c.close()
        return first, second

    with caplog.at_level(logging.WARNING):
        first, second = asyncio.run(go())
    assert first == second == {JP.name: "retry"}
    assert c.links[0].breaker.state == "open"  # three failures in a row opened it
    assert any("breaker open" in r.getMessage() for r in caplog.records)
    assert any("ALERT A6-ALERT-005" in r.getMessage() for r in caplog.records)
