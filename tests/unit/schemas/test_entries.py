"""The audit entry models: every entry of the kept demo bundle parses and validates against
the generated JSON Schema, the models give back the stored bytes, the builders write the
bytes they wrote before the models, and a bundle exported from an in-memory run validates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from gateway.audit.bundle import ENTRIES_FILE, verify_bundle
from gateway.audit.export import export_bundle
from gateway.audit.note import LogKey
from gateway.audit.sequencer import Sequencer
from gateway.audit.store import AuditStore
from gateway.cli.main import main
from gateway.core.canonical import canonical_bytes
from gateway.core.decision import reconciliation_entry
from gateway.core.reconcile import Holding, reconcile
from gateway.core.topics import AUDIT_TOPIC, FINDINGS_TOPIC
from gateway.demo.scenario import load_steps
from gateway.services.reconciliation import records
from schemas.entries import ENTRY_KINDS, DecisionEntry, parse_entry, read_entry
from schemas.gen import SCHEMA_DIR
from tests.unit.worker.test_pipeline import MemoryPipeline

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
BUNDLE = FIXTURES / "demo-bundle"


def lines(bundle: Path) -> list[bytes]:
    return (bundle / ENTRIES_FILE).read_bytes().splitlines()


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMA_DIR / "audit-entry.schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_the_kept_bundle_verifies_offline() -> None:
    report = verify_bundle(BUNDLE)
    assert report.size == len(lines(BUNDLE)) > 50
    assert main(["verify", str(BUNDLE), "--vkey", str(BUNDLE / "log.vkey")]) == 0


def test_every_entry_of_the_kept_bundle_parses_and_gives_back_its_bytes() -> None:
    kinds = set()
    for line in lines(BUNDLE):
        entry = parse_entry(line)
        kinds.add(type(entry))
        assert canonical_bytes(entry.wire()) == line, entry.entry_id
    assert len(kinds) >= 5  # decisions, dead letters, discrepancies, checks, runs


def test_every_entry_of_the_kept_bundle_validates_against_the_json_schema(
    validator: jsonschema.protocols.Validator,
) -> None:
    for line in lines(BUNDLE):
        validator.validate(json.loads(line))


def test_the_schema_refuses_what_the_model_refuses(
    validator: jsonschema.protocols.Validator,
) -> None:
    entry = json.loads(next(ln for ln in lines(BUNDLE) if b'"entry_type":"decision"' in ln))
    for bad in (
        entry | {"surprise": 1},
        entry | {"entry_type": "verdict"},
        entry | {"outcome": "maybe"},
        {k: v for k, v in entry.items() if k != "input"},
    ):
        with pytest.raises(ValidationError):
            parse_entry(json.dumps(bad))
        with pytest.raises(jsonschema.ValidationError):
            validator.validate(bad)


def golden() -> dict[str, str]:
    data: dict[str, str] = json.loads((FIXTURES / "entries-golden.json").read_text())
    return data


def test_the_builders_write_the_bytes_they_wrote_before_the_models() -> None:
    from tests.unit.schemas.entry_cases import cases

    built = cases()
    assert sorted(built) == sorted(set(golden()) - {LEGACY})
    for name, entry in built.items():
        assert canonical_bytes(entry).decode("utf-8") == golden()[name], name


#: An http-refusal entry as the gateway wrote it before refusals were keyed by their digest
#: and head; no builder writes it any more, but a log may hold it.
LEGACY = "http-refusal-legacy"


def test_an_older_http_refusal_entry_still_parses_and_fits_the_schema() -> None:
    stored = golden()[LEGACY].encode("utf-8")
    entry = parse_entry(stored)
    assert entry.entry_type == "http-refusal"
    schema = json.loads((SCHEMA_DIR / "audit-entry.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(json.loads(stored))


@pytest.mark.parametrize("every_cell", [False, True])
@pytest.mark.parametrize(
    "source",
    [
        None,
        {"from": "https"},
        {"from": "file", "sha256": "cd" * 32},
        {"from": "kafka", "reconciliation_id": "r9", "pages": ["ev-" + "5" * 40, "ev-" + "6" * 40]},
    ],
)
def test_the_core_run_entry_is_the_one_the_reconciliation_service_writes(
    source: dict[str, Any] | None, every_cell: bool
) -> None:
    def holding(account: str, vintage: int, start: int, end: int) -> Holding:
        return Holding("JPN01", account, "participant-holding", "CA0001", "MNG01", vintage, "JCM",
                       start, end)  # fmt: skip

    ours = [holding("a1", 2026, 1, 9), holding("a1", 2027, 20, 29)]
    theirs = [holding("a2", 2026, 1, 4), holding("a1", 2026, 5, 9), holding("a1", 2027, 20, 25)]
    report = reconcile(ours, theirs, every_cell=every_cell)
    assert report.cell_diffs
    _topic, _key, value = records("JPN01", report, 1_777_000_000_456, source)[0]
    assert (
        canonical_bytes(reconciliation_entry("JPN01", report, 1_777_000_000_456, source)) == value
    )


@pytest.mark.parametrize("name", sorted(golden()))
def test_every_golden_entry_parses_gives_back_its_bytes_and_fits_the_schema(
    name: str, validator: jsonschema.protocols.Validator
) -> None:
    text = golden()[name]
    entry = parse_entry(text)
    assert canonical_bytes(entry.wire()).decode("utf-8") == text
    validator.validate(json.loads(text))


def test_every_kind_has_a_golden_case() -> None:
    kinds = {type(parse_entry(text)) for text in golden().values()}
    assert kinds == set(ENTRY_KINDS)


def test_optional_parts_are_left_out_not_written_as_null() -> None:
    entry = parse_entry(golden()["decision-rejected"])
    assert isinstance(entry, DecisionEntry)
    wire: dict[str, Any] = entry.wire()
    assert not {"note", "a6", "data", "account", "replays", "logged_at"} & set(wire)
    assert wire["ca_id"] is None  # ca_id is always there, null when none


def test_a_bundle_exported_from_an_in_memory_run_validates_and_verifies(
    tmp_path: Path, validator: jsonschema.protocols.Validator
) -> None:
    pipe = MemoryPipeline(tmp_path / "world")
    for step in load_steps(pipe.world):
        if not step.awaits:
            pipe.publish(step.topic, step.key, step.value)
    pipe.fire_timers(pipe.ts + 10**9)
    key = LogKey.generate("a6gw.test/log")
    seq = Sequencer(AuditStore(tmp_path / "audit.sqlite"), key, "a6gw.test/audit")
    seq.take_over("test", None)
    items = seq.stamp(pipe.audit.items())
    seq.append(items, (AUDIT_TOPIC, 0, len(items) - 1))
    _checkpoint, note = seq.checkpoint()
    export_bundle(tmp_path / "bundle", seq.store, note, [key.verifier()])
    assert verify_bundle(tmp_path / "bundle").size == len(items) > 40
    for line in lines(tmp_path / "bundle"):
        entry = parse_entry(line)
        assert canonical_bytes(entry.wire()) == line
        validator.validate(json.loads(line))


def test_a_finding_its_entry_model_refuses_is_dead_lettered_not_a_crash() -> None:
    from gateway.core import discrepancy as dsc
    from gateway.core.ingest import RawInput
    from gateway.core.oversight import on_finding

    doc = dsc.record(
        dsc.Discrepancy(
            id="dsc-not-hex",
            code="REC-002",
            severity="error",
            registries=("JPN01",),
            blocks=(),
            first_seen="2026-11-29T10:00:00.000Z",
        )
    )
    raw = RawInput(FINDINGS_TOPIC, 0, 5, b"dsc-not-hex", canonical_bytes(doc), 1_777_000_000)
    result = on_finding(raw, {}, max_bytes=65536)
    (audit,) = [o for o in result.outputs if o.topic == AUDIT_TOPIC]
    entry = parse_entry(audit.value)
    assert entry.entry_type == "dead-letter" and entry.results[0].code == "MSG-001"
    assert result.put is None


def test_read_entry_takes_bytes_decoded_json_and_models_and_refuses_non_entries() -> None:
    for name, text in golden().items():
        model = read_entry(text.encode())
        assert model is not None, name
        assert read_entry(json.loads(text)) == model == read_entry(model), name
    assert read_entry(b"not json") is None
    assert read_entry(b"[1]") is None
    assert read_entry({"entry_id": "ev-1", "input": {"id": "e1"}}) is None
    assert read_entry({"entry_id": object()}) is None
