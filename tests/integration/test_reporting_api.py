"""The reporting routes of the auditors' API over real TLS on loopback: each Party's
structured summary (with the leaf index of every entry behind it) and its AEF in each
format, from the demo scenario's log.

The scenario runs in memory (the unit tests' ``MemoryPipeline``: the whole decision path, no
broker); its audit entries are sequenced into a store under a signed checkpoint and served
with the demo config's Parties and registries. A second store holds the same log and one
forged entry, which retires a block of Japan's holdings with no Article 6 row: Japan's
holdings no longer roll forward, Mongolia's still do.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from gateway.api.client import AuditClient
from gateway.api.reporting import XLSX, ZIP
from gateway.api.server import Access, AuditAPI, ServerThread, make_app, server_tls
from gateway.audit.note import LogKey, open_checkpoint
from gateway.audit.open import open_store
from gateway.audit.rfc6962 import leaf_hash
from gateway.audit.sequencer import Sequencer
from gateway.audit.verify import verify_inclusion
from gateway.config import LoadedConfig
from gateway.core.aef import build
from gateway.core.aef_write import document, to_csv
from gateway.core.canonical import canonical_bytes
from gateway.core.summary_log import collect
from gateway.core.topics import AUDIT_TOPIC
from gateway.demo.scenario import load_steps
from gateway.errors import ApiProblem
from gateway.http.pki import init_pki
from gateway.http.tls import client_tls
from gateway.services.reporting import method_of, results
from schemas import entry_parts as ep
from tests.ports import free_port
from tests.unit.schemas import factories as fx
from tests.unit.worker.test_pipeline import MemoryPipeline

ORIGIN = "a6gw.test/reporting"


@dataclass
class Env:
    lc: LoadedConfig
    pki: Path
    key: LogKey
    entries: list[dict[str, Any]]  # the scenario's log, in order
    year: int  # the scenario's year (its events are stamped now)
    url: str  # the API over the scenario's log
    forged_url: str  # the API over the log with the forged entry

    def tls(self, client: str | None = "auditor") -> Any:
        if client is None:
            return client_tls(str(self.pki / "ca.pem"))
        pem, key = self.pki / f"{client}.pem", self.pki / f"{client}.key"
        return client_tls(str(self.pki / "ca.pem"), str(pem), str(key))

    def client(self, url: str | None = None) -> AuditClient:
        return AuditClient(url or self.url, self.tls())

    def registries(self, party: str) -> set[str]:
        return {r.id for r in self.lc.config.registries if r.party == party}


def forged_retirement(entries: list[dict[str, Any]], year: int) -> dict[str, Any]:
    """A block Japan holds, retired by an entry with no Article 6 row."""
    last = {}
    for e in entries:
        for b in e.get("blocks") or ():
            last[(b["ca_id"], b["origin"], b["start"])] = b
    held = next(
        b
        for b in last.values()
        if b["registry"] == "JPN01" and b["first_transferred"] and b["state"] == "held"
    )
    forged = fx.decision(
        "forged",
        source="JPN01",
        type_="a6gw.retirement.v1",
        blocks=[ep.BlockRecord.model_validate(held | {"state": "retired"})],
        decided_at=f"{year}-12-31T23:00:00.000Z",
    )
    return forged.wire()


def sequenced(path: Path, key: LogKey, entries: list[dict[str, Any]]) -> str:
    """A store with the entries and a checkpoint over all of them."""
    seq = Sequencer(open_store(str(path)), key, ORIGIN)
    try:
        seq.take_over("test", None)
        items = [(str(e["entry_id"]), canonical_bytes(e)) for e in entries]
        seq.append(items, (AUDIT_TOPIC, 0, len(items) - 1))
        seq.checkpoint()
    finally:
        seq.store.close()
    return str(path)


def scenario_log(world: Path) -> tuple[MemoryPipeline, list[dict[str, Any]]]:
    """The demo scenario run in memory (its world written in ``world``): the pipeline, and
    its audit entries in order."""
    pipe = MemoryPipeline(world)
    for step in load_steps(pipe.world):
        if not step.awaits:
            pipe.publish(step.topic, step.key, step.value)
    pipe.fire_timers(pipe.ts + 10**9)
    return pipe, [json.loads(raw) for raw in pipe.audit.values()]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("reporting")
    pipe, entries = scenario_log(root / "world")
    years = {int(e["decided_at"][:4]) for e in entries if e.get("a6")}
    assert len(years) == 1, years  # the scenario runs within one year
    year = years.pop()
    init_pki(root / "pki", ("auditor",))
    key = LogKey.generate("a6gw.test/reporting")
    clean = sequenced(root / "audit.sqlite", key, entries)
    forged = sequenced(root / "forged.sqlite", key, [*entries, forged_retirement(entries, year)])
    cfg = pipe.lc.config
    sources: dict[str, tuple[str, ...]] = {}
    for reg in cfg.registries:
        sources[reg.party] = (*sources.get(reg.party, ()), reg.id)
    pki = root / "pki"
    tls = server_tls(str(pki / "server.pem"), str(pki / "server.key"), str(pki / "ca.pem"))
    threads = []
    urls = []
    for store_at in (clean, forged):

        def build_app(at: str = store_at) -> web.Application:
            api = AuditAPI(
                open_store(at),
                [key.verifier()],
                sources,
                parties={p.code: p for p in cfg.parties},
            )
            return make_app(api, Access(frozenset({"auditor"})))

        port = free_port()
        threads.append(ServerThread(build_app, "127.0.0.1", port, tls).start())
        urls.append(f"https://127.0.0.1:{port}")
    try:
        yield Env(pipe.lc, pki, key, entries, year, urls[0], urls[1])
    finally:
        for thread in threads:
            thread.stop()


def get(
    env: Env, path: str, url: str | None = None, client: str | None = "auditor", **params: Any
) -> httpx.Response:
    with httpx.Client(verify=env.tls(client), timeout=30) as http:
        return http.get((url or env.url) + path, params=params)


def proved(env: Env, index: int) -> dict[str, Any]:
    """The entry at ``index``, once its inclusion proof verifies against the checkpoint."""
    cp = open_checkpoint(get(env, "/v1/checkpoint").json()["note"], env.key.verifier())
    entry = get(env, f"/v1/entries/{index}").json()
    proof = get(env, "/v1/proofs/inclusion", index=index).json()
    verify_inclusion(
        index=index,
        size=cp.size,
        leaf_hash=leaf_hash(entry["body"].encode()),
        proof=[base64.b64decode(h) for h in proof["hashes"]],
        root=cp.root,
    )
    body: dict[str, Any] = json.loads(entry["body"])
    return body


def without_indices(row: dict[str, Any]) -> dict[str, Any]:
    """A row of the answer as ``a6gw summary --json`` has it."""
    return {
        "value": row["value"],
        "status": row["status"],
        "reason": row["reason"],
        "entries": [e["entry_id"] for e in row["entries"]],
        "blocks": [{k: v for k, v in b.items() if k != "index"} for b in row["blocks"]],
    }


# -- the structured summary ------------------------------------------------------------------


def test_japan_summary_is_the_commands_with_its_drill_down_proved(env: Env) -> None:
    client = env.client()
    try:
        doc = client.summary("JPN")
    finally:
        client.close()
    assert (doc["party"], doc["ca_method"], doc["ca_year"]) == (
        "JPN",
        "trajectory",
        "first-transfer",
    )
    party = next(p for p in env.lc.config.parties if p.code == "JPN")
    facts = collect(env.entries, "JPN")
    want = results(facts, method_of(party), list(range(2021, env.year + 1)), check=True)
    assert [y["year"] for y in doc["years"]] == [r.summary.year for r in want]
    for got, ours in zip(doc["years"], want, strict=True):
        expected = ours.to_dict()
        assert {n: without_indices(r) for n, r in got["rows"].items()} == expected["rows"]
        assert got["outcome"] == expected["outcome"]
        assert got["findings"] == []  # Japan's reported 2025 rows are right
    y2025 = next(y for y in doc["years"] if y["year"] == 2025)
    assert y2025["outcome"] == "consistent" and y2025["reported"]["rows"]["R9"] == "1000"
    (use,) = y2025["rows"]["R9"]["blocks"]
    assert (use["action"], use["first"], use["last"], use["quantity"]) == (
        "Use",
        "1",
        "1000",
        "1000",
    )
    body = proved(env, use["index"])
    assert body["entry_id"] == use["entry_id"]
    assert ("Use", "1", "1000", "JPN") in [
        (a["action"], a["first"], a["last"], a["party"]) for a in body["a6"]
    ]
    # R5 is the recalculated inventory figure; its entry and the reported rows' are proved too
    r5 = y2025["rows"]["R5"]
    assert r5["value"] == "1016500000" and y2025["rows"]["R14"]["value"] == "1016499000"
    (figure,) = r5["entries"]
    assert [f["current"] for f in y2025["inventory"]] == [False, True]
    assert y2025["inventory"][-1]["index"] == figure["index"]
    assert proved(env, figure["index"])["data"]["submission_id"] == "JPN-NIR-2027-v2"
    reported = y2025["reported"]
    assert proved(env, reported["index"])["entry_id"] == reported["entry_id"]


def test_mongolia_row_7_of_this_year_is_a_ctf_001_with_its_blocks(env: Env) -> None:
    this_year = datetime.now(UTC).year  # the scenario's transfers happen now
    r = get(env, "/v1/summary", party="MNG", year=this_year)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    (year,) = r.json()["years"]
    r7 = year["rows"]["R7"]
    assert r7["value"] == "2100"
    assert [(b["first"], b["last"], b["action"]) for b in r7["blocks"]] == [
        ("1", "2000", "First transfer"),
        ("2401", "2500", "First transfer"),
    ]
    assert year["reported"]["rows"]["R7"] == "2000" and year["outcome"] == "inconsistent"
    (finding,) = year["findings"]
    assert (finding["code"], finding["row"], finding["reported"], finding["computed"]) == (
        "CTF-001",
        "R7",
        "2000",
        "2100",
    )
    assert [(b["first"], b["last"]) for b in finding["blocks"]] == [("1", "2000"), ("2401", "2500")]
    for block in r7["blocks"]:  # each index leads to the very row counted
        body = proved(env, block["index"])
        assert body["entry_id"] == block["entry_id"]
        counted = (block["action"], block["first"], block["last"], "MNG")
        assert counted in [(a["action"], a["first"], a["last"], a["party"]) for a in body["a6"]]


def test_unknown_party_and_years_outside_the_period(env: Env) -> None:
    queries: tuple[tuple[str, dict[str, Any]], ...] = (
        ("/v1/summary", {}),
        ("/v1/aef", {"year": env.year}),
    )
    for path, params in queries:
        r = get(env, path, party="XYZ", **params)
        assert r.status_code == 404, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "API-PARTY"
    r = get(env, "/v1/summary", party="JPN", year=2019)
    assert r.status_code == 400 and r.json()["code"] == "CTF-102"
    assert "2021-2030" in r.json()["detail"]
    r = get(env, "/v1/summary", party="JPN", year="last")
    assert r.status_code == 400 and r.json()["code"] == "API-REQUEST"
    assert get(env, "/v1/summary").json()["code"] == "API-REQUEST"


# -- the AEF ---------------------------------------------------------------------------------


@pytest.mark.parametrize("party", ["JPN", "MNG"])
def test_the_aef_document_is_build_of_the_same_log(env: Env, party: str) -> None:
    client = env.client()
    try:
        got = json.loads(client.aef(party, env.year, "json", date="31/03/2027", version="2.1"))
        default = json.loads(client.aef(party, env.year))
    finally:
        client.close()
    ndc = next(p.ndc_period for p in env.lc.config.parties if p.code == party)
    aef = build(
        env.entries,
        party=party,
        year=env.year,
        registries=env.registries(party),
        ndc_period=ndc,
        submitted="31/03/2027",
        version="2.1",
    )
    assert got == json.loads(json.dumps(document(aef)))
    assert got["tables"]["Actions"]  # the scenario has Article 6 actions for both
    (submission,) = default["tables"]["Submission"]
    today = datetime.now(UTC).strftime("%d/%m/%Y")
    assert (submission["Date of submission"], default["version"]) == (today, "1.0")


def test_the_aef_as_csv_files_in_a_zip(env: Env) -> None:
    r = get(env, "/v1/aef", party="JPN", year=env.year, format="csv", date="31/03/2027")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == ZIP
    name = f"aef-JPN-{env.year}-csv.zip"
    assert r.headers["content-disposition"] == f'attachment; filename="{name}"'
    aef = build(
        env.entries,
        party="JPN",
        year=env.year,
        registries=env.registries("JPN"),
        ndc_period=(2021, 2030),
        submitted="31/03/2027",
    )
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = zf.namelist()
        assert len(names) == 5 and all(n.endswith(".csv") for n in names)
        assert {n: zf.read(n) for n in names} == to_csv(aef)


def test_the_aef_as_a_workbook(env: Env) -> None:
    r = get(env, "/v1/aef", party="MNG", year=env.year, format="xlsx")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    assert r.headers["content-disposition"] == (
        f'attachment; filename="aef-MNG-{env.year}-v1.0.xlsx"'
    )
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert "xl/workbook.xml" in zf.namelist()
        assert b"Table 3 Actions" in zf.read("xl/workbook.xml")


def test_bad_aef_parameters_are_400(env: Env) -> None:
    def code(**params: Any) -> tuple[int, str]:
        r = get(env, "/v1/aef", party="JPN", **params)
        return r.status_code, r.json()["code"]

    assert code() == (400, "API-REQUEST")  # no year
    assert code(year=env.year, format="pdf") == (400, "API-REQUEST")
    assert code(year=env.year, date="2027-03-31") == (400, "A6-AEF-004")
    assert code(year=env.year, version="two") == (400, "A6-AEF-004")


def test_a_log_that_does_not_roll_forward_is_refused_409(env: Env) -> None:
    r = get(env, "/v1/aef", url=env.forged_url, party="JPN", year=env.year, format="xlsx")
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["code"] == "A6-AEF-003"
    assert "CA0001/MN-AUTH-2025-1/2025" in problem["detail"]
    client = env.client(env.forged_url)
    try:
        with pytest.raises(ApiProblem) as refused:
            client.aef("JPN", env.year, "csv")
        assert (refused.value.status, refused.value.problem_code) == (409, "A6-AEF-003")
        assert client.aef("MNG", env.year, "csv")[:2] == b"PK"  # Mongolia's still rolls forward
        assert client.summary("JPN", 2025)["years"][0]["outcome"] == "consistent"
    finally:
        client.close()


def test_without_credentials_401(env: Env) -> None:
    for path, params in (("/v1/summary", {"party": "JPN"}), ("/v1/aef", {"party": "JPN"})):
        r = get(env, path, client=None, year=env.year, **params)
        assert r.status_code == 401
        assert r.json()["code"] == "API-AUTH"
