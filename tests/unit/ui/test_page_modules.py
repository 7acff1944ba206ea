"""The auditors' page's pure modules (gateway/ui/static/js) under Node, against the vectors.

``check_modules.mjs`` imports ``merkle.js``, ``note.js`` and ``i18n.js`` as the browser does
(ES modules, WebCrypto) and checks them against ``schemas/vectors/log.json`` and
``tests/vectors/merkle``: leaf hashes and roots computed from the bytes, every proof and
every mutation, the signed checkpoints against the log key and another key. The labels are
checked here too: Japanese has every English key, and every key the page uses exists.
Skipped only when node is not installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gateway.ui import STATIC

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("check_modules.mjs")
JS = STATIC / "js"

node = pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")


def _run(vectors_root: Path) -> dict[str, Any]:
    done = subprocess.run(
        ["node", str(SCRIPT), str(ROOT), str(vectors_root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@node
def test_the_modules_agree_with_every_vector() -> None:
    result = _run(ROOT)
    assert result["failures"] == []
    assert result["checked"] > 100


def _copy_vectors(dest: Path) -> None:
    shutil.copytree(ROOT / "schemas" / "vectors", dest / "schemas" / "vectors")
    shutil.copytree(ROOT / "tests" / "vectors" / "merkle", dest / "tests" / "vectors" / "merkle")


@node
def test_a_tampered_proof_vector_is_caught(tmp_path: Path) -> None:
    _copy_vectors(tmp_path)
    path = tmp_path / "tests/vectors/merkle/inclusion/2-in-6/happy-path.json"
    vector = json.loads(path.read_text())
    vector["wantErr"] = True  # the happy path said to fail: the module must disagree
    path.write_text(json.dumps(vector))
    log_path = tmp_path / "schemas/vectors/log.json"
    log = json.loads(log_path.read_text())
    log["roots"]["5"] = "00" * 32
    log_path.write_text(json.dumps(log))
    failures = _run(tmp_path)["failures"]
    assert any("inclusion/2-in-6/happy-path.json" in f for f in failures)
    assert "root of size 5" in failures


@node
def test_a_checkpoint_said_valid_but_altered_is_caught(tmp_path: Path) -> None:
    _copy_vectors(tmp_path)
    log_path = tmp_path / "schemas/vectors/log.json"
    log = json.loads(log_path.read_text())
    altered = next(c for c in log["checkpoints"] if c["name"] == "checkpoint-7-size-changed")
    altered["expect"] = {"valid": True}
    log_path.write_text(json.dumps(log))
    failures = _run(tmp_path)["failures"]
    assert "checkpoint-7-size-changed: not-verified, want verified" in failures


def _dictionary(lang: str) -> set[str]:
    text = (JS / f"i18n-{lang}.js").read_text(encoding="utf-8")
    return set(re.findall(r'^\s*"?([\w.-]+)"?\s*:', text, re.MULTILINE))


def test_japanese_has_every_english_key() -> None:
    en, ja = _dictionary("en"), _dictionary("ja")
    assert len(en) > 50
    assert sorted(en - ja) == []
    assert sorted(ja - en) == []


def test_every_label_the_page_uses_is_in_the_dictionary() -> None:
    en = _dictionary("en")
    used: set[str] = set()
    for path in JS.glob("*.js"):
        used |= set(re.findall(r'\bt\(\s*"([\w.-]+)"', path.read_text(encoding="utf-8")))
        used |= set(re.findall(r'\bheading\(\s*"([\w.-]+)"', path.read_text(encoding="utf-8")))
        used |= set(re.findall(r'"(reason\.[\w-]+)"', path.read_text(encoding="utf-8")))
        used |= set(re.findall(r'"(witness\.row\.[\w-]+)"', path.read_text(encoding="utf-8")))
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    used |= set(re.findall(r'data-i18n(?:-[\w-]+)?="([\w.-]+)"', html))
    used |= {
        f"state.{s}"
        for s in ("verified", "not-verified", "unpinned", "unsupported", "fork", "checking")
    }
    assert sorted(used - en) == []


def test_the_page_needs_no_inline_script_or_style() -> None:
    """CSP ``default-src 'self'``: no inline script, no style attribute, nothing remote."""
    for path in [STATIC / "index.html", *JS.glob("*.js"), STATIC / "app.css"]:
        text = re.sub(r"(?m)^\s*//.*$", "", path.read_text(encoding="utf-8"))  # comments
        text = text.replace('"http://www.w3.org/2000/svg"', "").replace(
            '"http://www.w3.org/1999/xhtml"', ""
        )
        assert not re.search(r"https?://", text), path
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert not re.search(r"\sstyle=|\.style\b|innerHTML|eval\(|new Function", text), path


@node
def test_a_cosignature_of_another_checkpoint_said_valid_is_caught(tmp_path: Path) -> None:
    """cosignature.js must refuse JP's line over the size-4 checkpoint on the size-7 one,
    and count JP's valid line (the vectors' verdicts are the Python reader's)."""
    _copy_vectors(tmp_path)
    path = tmp_path / "schemas/vectors/cosignatures.json"
    doc = json.loads(path.read_text())
    stale = next(v for v in doc["vectors"] if v["name"] == "cosignature-of-another-checkpoint")
    stale["expect"] = {"valid": True, "witnesses": ["jp"]}
    only_jp = next(v for v in doc["vectors"] if v["name"] == "cosigned-by-jp")
    only_jp["expect"]["witnesses"] = ["jp", "mn"]
    path.write_text(json.dumps(doc))
    failures = _run(tmp_path)["failures"]
    assert "cosignature-of-another-checkpoint: verified [], want [jp]" in failures
    assert "cosigned-by-jp: verified [jp], want [jp,mn]" in failures
