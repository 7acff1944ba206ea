"""The AEF of the demo scenario (run in memory), and ``a6gw aef export`` over its audit store.

The scenario runs in the current year (its events are stamped now), so the reported year is
taken from the entries' decision times.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from gateway.audit.store import AuditStore
from gateway.cli.main import main
from gateway.core import aef_vocab as v
from gateway.core.aef import Aef, build
from gateway.core.aef_rollforward import roll_forward
from gateway.core.canonical import canonical_bytes
from gateway.demo.scenario import load_steps
from tests.unit.reportlog import sign_checkpoint
from tests.unit.worker.test_pipeline import MemoryPipeline


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> MemoryPipeline:
    pipe = MemoryPipeline(tmp_path_factory.mktemp("aef-demo"))
    for step in load_steps(pipe.world):
        if not step.awaits:
            pipe.publish(step.topic, step.key, step.value)
    pipe.fire_timers(pipe.ts + 10**9)
    return pipe


def entries_of(pipe: MemoryPipeline) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in pipe.audit.values()]


def year_of(entries: list[dict[str, Any]]) -> int:
    years = {int(e["decided_at"][:4]) for e in entries if e.get("a6")}
    assert len(years) == 1, years  # the scenario runs within one year
    return years.pop()


def registries(pipe: MemoryPipeline, party: str) -> set[str]:
    return {r.id for r in pipe.lc.config.registries if r.party == party}


def export(pipe: MemoryPipeline, party: str) -> Aef:
    entries = entries_of(pipe)
    year = year_of(entries)
    rf = roll_forward(entries, party, year, registries(pipe, party))
    assert rf.ok, [ln.text() for ln in rf.failures]
    ndc = next(p.ndc_period for p in pipe.lc.config.parties if p.code == party)
    return build(
        entries,
        party=party,
        year=year,
        registries=registries(pipe, party),
        ndc_period=ndc,
        submitted="31/03/2027",
    )


def actions(aef: Aef, *fields: str) -> list[tuple[Any, ...]]:
    return [tuple(r[f] for f in fields) for r in aef.tables[v.ACTIONS]]


ROW = (
    "Action type",
    "Action subtype",
    "Party ITMO registry ID",
    "First ID",
    "Last ID",
    "Quantity (t CO2 eq)",
)


def test_demo_roll_forward_passes_for_every_party(demo: MemoryPipeline) -> None:
    entries = entries_of(demo)
    year = year_of(entries)
    totals = {}
    for party in ("JPN", "MNG", "IDN"):
        rf = roll_forward(entries, party, year, registries(demo, party))
        assert rf.ok, [ln.text() for ln in rf.failures]
        totals[party] = [(ln.authorization_id, ln.opening, ln.closing) for ln in rf.lines]
    # Japan: 2100 acquired (2000 + 100), 1000 used, 100 moved back; Mongolia: the 100 back.
    assert totals == {
        "JPN": [("MN-AUTH-2025-1", 0, 1000)],
        "MNG": [("MN-AUTH-2025-1", 0, 100)],
        "IDN": [],
    }


def test_demo_aef_of_japan(demo: MemoryPipeline) -> None:
    aef = export(demo, "JPN")
    year = year_of(entries_of(demo))
    assert aef.tables[v.SUBMISSION][0]["Reported year"] == year
    assert sorted(actions(aef, *ROW)) == [
        ("Acquisition", None, "JPN01", 1, 2000, 2000),
        ("Acquisition", None, "JPN01", 2401, 2500, 100),
        ("Transfer", None, "JPN01", 1901, 2000, 100),
        ("Use", None, "JPN01", 1, 1000, 1000),
    ]
    by_type = {r["Action type"]: r for r in aef.tables[v.ACTIONS]}
    use = by_type["Use"]
    assert use["Calendar year for which the ITMOs are used towards the Party's NDC"] == 2025
    assert use["Using/cancelling participating Party ID"] == "JPN"
    assert use["Mitigation type"] == "Emission reductions"
    assert use["First transferring participating Party ID"] == "MNG"
    assert by_type["Transfer"]["Acquiring participating Party ID"] == "MNG"
    assert {
        r["Transferring participating Party ID"]
        for r in aef.tables[v.ACTIONS]
        if r["Action type"] == "Acquisition"
    } == {"MNG"}
    assert all(str(r["Action date"]).startswith(f"{year}-") for r in aef.tables[v.ACTIONS])
    held = [
        (r["Party ITMO registry ID"], r["First ID"], r["Last ID"], r["Authorization ID"])
        for r in aef.tables[v.HOLDINGS]
    ]
    auth = "MN-AUTH-2025-1"
    assert held == [("JPN01", 1001, 1900, auth), ("JPN01", 2401, 2500, auth)]
    assert aef.tables[v.AUTHORIZATIONS] == ()  # Japan authorized nothing
    mine = [
        e["data"]["name"]
        for e in entries_of(demo)
        if e["input"].get("type") == "a6gw.entity.authorized.v1"
        and e.get("data", {}).get("authorizing_party") == "JPN"
    ]
    assert [r["Name"] for r in aef.tables[v.ENTITIES]] == mine


def test_demo_aef_of_mongolia(demo: MemoryPipeline) -> None:
    aef = export(demo, "MNG")
    assert sorted(actions(aef, *ROW)) == [
        ("Acquisition", None, "MNG01", 1901, 2000, 100),
        ("First transfer", "First transfer to another Party", "MNG01", 1, 2000, 2000),
        ("First transfer", "First transfer to another Party", "MNG01", 2401, 2500, 100),
    ]
    fields = ("Authorization ID", "Version of the authorization", "Sector(s)")
    reported = [tuple(r[f] for f in fields) for r in aef.tables[v.AUTHORIZATIONS]]
    assert reported == [("MN-AUTH-2025-1", 1, "Energy generation")]
    held = [(r["First ID"], r["Last ID"]) for r in aef.tables[v.HOLDINGS]]
    assert held == [(1901, 2000)]


def test_demo_parties_report_each_first_transfer_as_an_acquisition(demo: MemoryPipeline) -> None:
    """I-X-1: Mongolia's first transfers to Japan are Japan's acquisitions from Mongolia."""
    ids = (
        "Cooperative approach ID",
        "Authorization ID",
        "First ID",
        "Last ID",
        "Quantity (t CO2 eq)",
        "Vintage",
    )
    mng, jpn = export(demo, "MNG"), export(demo, "JPN")
    sent = [r for r in mng.tables[v.ACTIONS] if r["Action type"] == "First transfer"]
    got = [r for r in jpn.tables[v.ACTIONS] if r["Action type"] == "Acquisition"]
    assert {r["Acquiring participating Party ID"] for r in sent} == {"JPN"}
    assert sorted(tuple(r[f] for f in ids) for r in sent) == sorted(
        tuple(r[f] for f in ids) for r in got
    )


# ---- the command ------------------------------------------------------------------------


def _store(pipe: MemoryPipeline, extra: Sequence[dict[str, Any]] = ()) -> Path:
    path = Path(pipe.lc.audit_store())
    path.unlink(missing_ok=True)
    store = AuditStore(path)
    try:
        for raw in pipe.audit.values():
            store.append([(json.loads(raw)["entry_id"], raw)])
        for e in extra:
            store.append([(e["entry_id"], canonical_bytes(e))])
        sign_checkpoint(store, pipe.lc.load_log_key())
    finally:
        store.close()
    return path


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_cli_exports_each_format(
    demo: MemoryPipeline, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _store(demo)
    year = year_of(entries_of(demo))
    out = tmp_path / "aef"
    argv = [
        "aef",
        "export",
        "--config",
        str(demo.world.config_path),
        "--party",
        "JPN",
        "--year",
        str(year),
        "--format",
        fmt,
        "--out",
        str(out),
        "--date",
        "31/03/2027",
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "Table 3 Actions: 4 rows" in text and "Table 4 Holdings: 2 rows" in text
    assert "roll-forward (I-AEF-1): 1 keys, all consistent" in text
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p for p in names if p.startswith(f"aef-JPN-{year}-v1.0"))
    assert len(names) == (6 if fmt == "csv" else 1)  # csv: the tables and their manifest
    assert all(n in text for n in names)
    # every format names the checkpoint it was computed at, and where the settings came from
    store = AuditStore(Path(demo.lc.audit_store()), readonly=True)
    try:
        size, root = store.size(), store.root().hex()
    finally:
        store.close()
    checkpoint = {"origin": "a6gw.test/audit", "size": size, "root": root}
    assert f"at checkpoint a6gw.test/audit size {size} root {root}" in text
    if fmt == "json":
        doc = json.loads((out / names[0]).read_text(encoding="utf-8"))
        assert doc["tables"]["Submission"][0]["Date of submission"] == "31/03/2027"
        assert (doc["checkpoint"], doc["settings"]) == (checkpoint, "config")
    elif fmt == "csv":
        (manifest,) = [n for n in names if n.endswith("-manifest.json")]
        doc = json.loads((out / manifest).read_text(encoding="utf-8"))
        assert (doc["checkpoint"], doc["settings"]) == (checkpoint, "config")
        tables = {n: hashlib.sha256((out / n).read_bytes()).hexdigest() for n in names}
        assert doc["files"] == {n: h for n, h in tables.items() if n != manifest}
    else:
        book = openpyxl.load_workbook(out / names[0], read_only=True)
        assert book.sheetnames[-1] == "Checkpoint"
        rows = list(book["Checkpoint"].iter_rows(values_only=True))
        assert rows == [
            ("name", "value"),
            ("checkpoint origin", "a6gw.test/audit"),
            ("checkpoint size", size),
            ("checkpoint root", root),
            ("settings", "config"),
        ]
        book.close()


def test_cli_refuses_a_log_that_does_not_roll_forward(
    demo: MemoryPipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A block of Japan's holdings retired with no Article 6 row: nothing is written."""
    entries = entries_of(demo)
    year = year_of(entries)
    last = {}
    for e in entries:
        for b in e.get("blocks") or ():
            last[(b["ca_id"], b["origin"], b["start"])] = b
    held = next(
        b
        for b in last.values()
        if b["registry"] == "JPN01" and b["first_transferred"] and b["state"] == "held"
    )
    forged = {
        "entry_version": 1,
        "entry_type": "decision",
        "entry_id": "ev-forged",
        "input": {"type": "a6gw.retirement.v1", "id": "forged"},
        "outcome": "accepted",
        "results": [],
        "blocks": [held | {"state": "retired"}],
        "decided_at": f"{year}-12-31T23:00:00.000Z",
    }
    _store(demo, [forged])
    out = tmp_path / "aef"
    argv = [
        "aef",
        "export",
        "--config",
        str(demo.world.config_path),
        "--party",
        "JPN",
        "--year",
        str(year),
        "--format",
        "json",
        "--out",
        str(out),
    ]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "A6-AEF-003" in err and "CA0001/MN-AUTH-2025-1/2025" in err
    assert "nothing was written" in err
    assert not out.exists()
    # Mongolia's holdings are untouched: its export still runs
    argv[argv.index("JPN")] = "MNG"
    assert main(argv) == 0


def test_cli_exports_over_a_log_with_trust_and_settings_records(
    demo: MemoryPipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The records a worker puts on the log at start (no decision time, no blocks) are
    not the AEF's: the export passes them over."""
    from gateway.core.trust_log import changes

    current = (demo.lc.load_trust(), demo.lc.config.parties)
    records = changes([], current, at_ms=1_777_000_000_000)
    _store(demo, extra=records)
    year = year_of(entries_of(demo))
    argv = ["aef", "export", "--config", str(demo.world.config_path), "--party", "JPN"]
    argv += ["--year", str(year), "--format", "json", "--out", str(tmp_path / "aef")]
    assert main(argv) == 0
    assert "roll-forward (I-AEF-1): 1 keys, all consistent" in capsys.readouterr().out
