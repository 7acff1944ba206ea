"""JSON proof vectors: the shared transparency-dev set and the project's own set.

Shared vectors are read in place from ../shared/vectors (never copied into the repo)
and skipped when absent. The project's vectors in tests/vectors/merkle are generated
by tests/vectors/gen_merkle.py; a test regenerates them and fails on any difference.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from gateway.audit.verify import verify_consistency, verify_inclusion
from gateway.errors import VerificationError

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO / ".." / "shared" / "vectors" / "merkle"
OWN = REPO / "tests" / "vectors" / "merkle"
GEN_MERKLE = REPO / "tests" / "vectors" / "gen_merkle.py"


def load_generator() -> ModuleType:
    name = "a6gw_tests_gen_merkle"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, GEN_MERKLE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


ref = load_generator()


def vector_files(root: Path) -> list[Path]:
    return sorted(root.glob("inclusion/**/*.json")) + sorted(root.glob("consistency/**/*.json"))


def params(root: Path) -> list[Any]:
    files = vector_files(root) if root.is_dir() else []
    if not files:
        return [pytest.param(None, id="absent")]
    return [pytest.param(p, id=p.relative_to(root).as_posix()) for p in files]


def b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def outcome(check: Callable[[], None]) -> bool:
    """Run a verification; return whether it failed with VerificationError."""
    try:
        check()
    except VerificationError:
        return True
    return False


def run_vector(path: Path) -> None:
    """Assert a vector's wantErr with the gateway verifier and with the reference one.

    The recursive reference must agree on every file, which also validates the oracle.
    """
    v = json.loads(path.read_text(encoding="utf-8"))
    proof = [b64(p) for p in v["proof"] or []]  # Go writes an empty proof as null
    if "leafIdx" in v:
        index, size, leaf, root = v["leafIdx"], v["treeSize"], b64(v["leafHash"]), b64(v["root"])
        got = outcome(
            lambda: verify_inclusion(index=index, size=size, leaf_hash=leaf, proof=proof, root=root)
        )
        ref_err = not ref.ref_verify_inclusion(index, size, leaf, proof, root)
    else:
        size1, size2, root1, root2 = v["size1"], v["size2"], b64(v["root1"]), b64(v["root2"])
        got = outcome(
            lambda: verify_consistency(
                size1=size1, size2=size2, root1=root1, root2=root2, proof=proof
            )
        )
        ref_err = not ref.ref_verify_consistency(size1, size2, root1, root2, proof)
    assert (got, ref_err) == (v["wantErr"], v["wantErr"]), v["desc"]


@pytest.mark.parametrize("path", params(SHARED))
def test_shared_transparency_dev_vector(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"shared vectors not present at {SHARED}")
    run_vector(path)


@pytest.mark.parametrize("path", params(OWN))
def test_project_vector(path: Path | None) -> None:
    assert path is not None, f"project vectors missing: run python {GEN_MERKLE}"
    run_vector(path)


def test_project_vectors_are_up_to_date(tmp_path: Path) -> None:
    ref.write(tmp_path)
    fresh = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in vector_files(tmp_path)}
    stored = {p.relative_to(OWN).as_posix(): p.read_bytes() for p in vector_files(OWN)}
    assert sorted(stored) == sorted(fresh), f"stale vectors: run python {GEN_MERKLE}"
    stale = [rel for rel in fresh if fresh[rel] != stored[rel]]
    assert not stale, f"stale vectors {stale}: run python {GEN_MERKLE}"


def test_project_vectors_cover_both_outcomes() -> None:
    outcomes = {json.loads(p.read_text(encoding="utf-8"))["wantErr"] for p in vector_files(OWN)}
    assert outcomes == {True, False}
