"""The cosignature vectors under an independent implementation of cosignature/v1: the
transparency-dev ``formats/note`` package with ``golang.org/x/mod/sumdb/note`` (Go,
tools/cosig-go/, pinned by its go.sum). Both ways: it gives each vector's verdict, and the
cosignatures its own signer writes verify with the gateway's code. Skipped only when Go is
not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.cosignature import parse_witness_vkey, verified_cosignatures
from gateway.audit.note import open_checkpoint, parse_vkey
from gateway.errors import VerificationError
from schemas.vectors import VECTORS_DIR
from tests.unit.vectors._load import load

TOOL = Path(__file__).resolve().parents[3] / "tools" / "cosig-go"

pytestmark = pytest.mark.skipif(shutil.which("go") is None, reason="go not installed")


@pytest.fixture(scope="module")
def cosig_go(tmp_path_factory: pytest.TempPathFactory) -> Path:
    binary = tmp_path_factory.mktemp("cosig-go") / "cosig-go"
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly"}
    subprocess.run(
        ["go", "build", "-o", str(binary), "."],
        cwd=TOOL,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return binary


def _run(binary: Path, vectors: Path) -> tuple[int, dict[str, Any]]:
    done = subprocess.run([str(binary), str(vectors)], capture_output=True, text=True, timeout=60)
    return done.returncode, json.loads(done.stdout)


def test_formats_agrees_with_every_vector(cosig_go: Path) -> None:
    code, summary = _run(cosig_go, VECTORS_DIR / "cosignatures.json")
    assert summary["failures"] == [] and code == 0
    assert summary["checked"] == len(load("cosignatures.json")["vectors"])


def test_formats_cosignatures_verify_with_the_gateway(cosig_go: Path) -> None:
    doc = load("cosignatures.json")
    _code, summary = _run(cosig_go, VECTORS_DIR / "cosignatures.json")
    assert set(summary["signed"]) == set(doc["witnesses"])
    for short, note in summary["signed"].items():
        cosigner = parse_witness_vkey(doc["witnesses"][short]["vkey"])
        checkpoint, found = verified_cosignatures(note, [cosigner])
        assert [c.name for c in found] == [cosigner.name]
        assert checkpoint.to_text() == doc["vectors"][0]["checkpoint_text"]
    # and the note is the log's checkpoint text under the witness's line only
    with pytest.raises(VerificationError, match="no signature by a known key"):
        open_checkpoint(summary["signed"]["jp"], parse_vkey(doc["log_vkey"]))


def test_a_wrong_expectation_is_caught(cosig_go: Path, tmp_path: Path) -> None:
    doc = load("cosignatures.json")
    doc["vectors"][0]["expect"]["witnesses"] = []
    doc["vectors"][-2]["expect"] = {"valid": True, "witnesses": ["jp"]}
    (tmp_path / "cosignatures.json").write_text(json.dumps(doc), encoding="utf-8")
    code, summary = _run(cosig_go, tmp_path / "cosignatures.json")
    assert code == 1
    assert [f.split(":")[0] for f in summary["failures"]] == [
        doc["vectors"][0]["name"],
        doc["vectors"][-2]["name"],
    ]
