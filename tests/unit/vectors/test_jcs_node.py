"""The vectors' RFC 8785 bytes and RFC 8785's own examples under an independent
implementation: the npm ``canonicalize`` package under Node (tools/jcs/, pinned by its
package-lock.json). Skipped only when node or npm is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from schemas.vectors import VECTORS_DIR
from tests.unit.vectors._load import load

JCS_DIR = Path(__file__).resolve().parents[3] / "tools" / "jcs"
SCRIPT = JCS_DIR / "check-vectors.mjs"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="node/npm not installed"
)


@pytest.fixture(scope="module")
def node_jcs() -> Path:
    if not (JCS_DIR / "node_modules" / "canonicalize").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=JCS_DIR, check=True, capture_output=True
        )
    return SCRIPT


def _run(script: Path, vectors: Path) -> tuple[int, dict[str, object]]:
    done = subprocess.run(
        ["node", str(script), str(vectors)], capture_output=True, text=True, timeout=120
    )
    return done.returncode, json.loads(done.stdout)


def test_canonicalize_agrees_with_every_vector_and_rfc8785s_examples(node_jcs: Path) -> None:
    code, summary = _run(node_jcs, VECTORS_DIR)
    assert summary["failures"] == [] and code == 0
    expected = (
        4 * len(load("envelopes.json")["vectors"])
        + len(load("log.json")["entries"])
        + 1
        + len(load("jcs.json")["numbers"])
    )
    assert summary["checked"] == expected


def test_a_wrong_signing_input_is_caught(node_jcs: Path, tmp_path: Path) -> None:
    for name in ("envelopes.json", "log.json", "jcs.json"):
        shutil.copy(VECTORS_DIR / name, tmp_path / name)
    doc = load("envelopes.json")
    doc["vectors"][0]["signing_input"]["utf8"] = doc["vectors"][0]["signing_input"]["utf8"][:-1]
    (tmp_path / "envelopes.json").write_text(json.dumps(doc), encoding="utf-8")
    code, summary = _run(node_jcs, tmp_path)
    assert code == 1
    assert summary["failures"] != []
