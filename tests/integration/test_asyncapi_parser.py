"""The AsyncAPI document against the reference parser, @asyncapi/parser under Node.

tools/asyncapi/package-lock.json pins the parser; ``npm ci`` installs it once into a cache
folder named by the lock's digest ($XDG_CACHE_HOME/a6gw, else ~/.cache/a6gw), and
tools/asyncapi/check.mjs parses the document and fails on any diagnostic of severity error.
Skipped only when node or npm is not installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.transport.asyncapi import DOCUMENT
from tests.npm_tools import installed

NODE, NPM = shutil.which("node"), shutil.which("npm")
if NODE is None or NPM is None:
    pytest.skip("node and npm are needed for @asyncapi/parser", allow_module_level=True)

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "asyncapi"
CHECK = TOOL / "check.mjs"


@pytest.fixture(scope="module")
def modules() -> Path:
    """A folder holding the locked parser's node_modules (installed on first use)."""
    assert NPM is not None
    return installed("asyncapi", "node_modules/@asyncapi/parser", NPM)


def check(document: Path, modules: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NODE), str(CHECK), str(document), "--modules", str(modules)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_document_parses_without_errors(modules: Path) -> None:
    done = check(DOCUMENT, modules)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK ")


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (("action: send", "action: publish"), '"action" property must be equal to one of'),
        (("envelope.schema.json", "missing.schema.json"), "missing.schema.json"),
        (("partitions: 1\n", "partitions: 0\n"), "partitions"),
    ],
)
def test_a_broken_document_fails(
    modules: Path, change: tuple[str, str], said: str, tmp_path: Path
) -> None:
    """The check can fail: a copy with one defect (the schemas beside it, so that its
    relative $refs resolve) gets exit 1 and the parser's error."""
    text = DOCUMENT.read_text(encoding="utf-8")
    assert change[0] in text
    shutil.copytree(DOCUMENT.parent.parent / "json", tmp_path / "json")
    broken = tmp_path / "asyncapi" / DOCUMENT.name
    broken.parent.mkdir()
    broken.write_text(text.replace(change[0], change[1]), encoding="utf-8")
    done = check(broken, modules)
    assert done.returncode == 1, done.stdout
    assert said in done.stderr and "FAIL:" in done.stderr


def test_usage_errors_exit_2(modules: Path) -> None:
    done = check(REPO / "no-such-document.yaml", modules)
    assert done.returncode == 2
    assert "cannot read" in done.stderr
