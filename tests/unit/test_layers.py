"""The import-linter contracts of pyproject.toml fail on a planted violation.

A contract that cannot fail proves nothing: each test copies the packages and
``pyproject.toml`` into a temporary folder, plants a wrong-way import in the copy, and runs
``lint-imports`` there (the copy first on ``PYTHONPATH``, so the copy is what it reads).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("gateway", "schemas", "connectors")


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tree / package, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _plant(module: Path, line: str) -> None:
    text = module.read_text(encoding="utf-8")
    head, sep, tail = text.partition("from __future__ import annotations\n")
    assert sep, module
    module.write_text(f"{head}{sep}\n{line}\n{tail}", encoding="utf-8")


@pytest.fixture(scope="module")
def unplanted(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    return _lint(_copy(tmp_path_factory.mktemp("unplanted")))


@pytest.mark.parametrize(
    ("module", "line", "reported"),
    [
        # a layer importing one above it
        ("gateway/core/blocks.py", "import gateway.cli", "gateway.core.blocks -> gateway.cli"),
        # the pure core importing a client library
        ("gateway/core/blocks.py", "import aiokafka", "gateway.core.blocks -> aiokafka"),
        # two independent siblings
        (
            "gateway/transport/sizes.py",
            "import gateway.http.tls",
            "gateway.transport.sizes -> gateway.http.tls",
        ),
        # the bottom importing the gateway
        ("schemas/_types.py", "import gateway.audit.note", "schemas._types -> gateway.audit.note"),
    ],
)
def test_lint_imports_fails_on_a_planted_violation(
    tmp_path: Path,
    unplanted: subprocess.CompletedProcess[str],
    module: str,
    line: str,
    reported: str,
) -> None:
    assert unplanted.returncode in (0, 1), unplanted.stderr
    assert reported not in unplanted.stdout
    tree = _copy(tmp_path)
    _plant(tree / module, line)
    planted = _lint(tree)
    assert planted.returncode == 1, planted.stdout + planted.stderr
    assert reported in planted.stdout


def test_the_unplanted_copy_keeps_every_contract(
    unplanted: subprocess.CompletedProcess[str],
) -> None:
    assert unplanted.returncode == 0, unplanted.stdout + unplanted.stderr
