"""The catalogue of coded checks against the code that emits them and the tests that fail them.

Codes are collected from source text: the string literals of the test modules in this folder
(comments do not count), and the ``Finding("...")`` and ``code="..."`` literals of the core.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import gateway.core
from gateway.core.catalogue import BY_CODE, CATALOGUE, render
from gateway.errors import AuthenticationError, SchemaError

HERE = Path(__file__).parent
CORE = Path(gateway.core.__file__).parent
CODE = re.compile(r"\b(?:MSG|ACC|BLK|QTY|A6|AEF|JCM|RCN|AUT|OPN|TRN|CTF|GWF)-\d{3}\b")
EMITTED = re.compile(r'Finding\(\s*"([A-Z0-9]+-\d{3})"')
RAISED = re.compile(r'code="([A-Z0-9]+-\d{3})"')
IMPLEMENTED = {c.code for c in CATALOGUE if c.status == "implemented"}


def strings_of(path: Path) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return [t.string for t in tokens if t.type == tokenize.STRING]


def codes_in_tests() -> set[str]:
    """Codes named in string literals of the test modules (this one excepted)."""
    return {
        code
        for path in HERE.glob("test_*.py")
        if path.name != Path(__file__).name
        for s in strings_of(path)
        for code in CODE.findall(s)
    }


def emitted_codes() -> set[str]:
    """Codes the core can emit: findings, and the codes ingest (with the CloudEvents
    profile) and signing raise with."""
    out = {SchemaError.code, AuthenticationError.code}  # raised without an explicit code
    for path in CORE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        out |= set(EMITTED.findall(text))
        if path.name in ("ingest.py", "ceprofile.py", "signing.py"):
            out |= set(RAISED.findall(text))
    return out


def test_catalogue_codes_are_all_tested() -> None:
    untested = sorted(IMPLEMENTED - codes_in_tests())
    assert untested == [], f"implemented codes no test fails with: {untested}"
    emitted = emitted_codes()
    assert len(emitted) > 40  # the scan found the core's findings
    assert sorted(emitted - set(BY_CODE)) == [], "codes the core emits outside the catalogue"
    assert sorted(emitted - IMPLEMENTED) == [], "codes emitted but marked not applicable"
    assert sorted(IMPLEMENTED - emitted) == [], "implemented codes the core never emits"


def test_catalogue_rows_are_well_formed() -> None:
    codes = [c.code for c in CATALOGUE]
    assert len(codes) == len(set(codes)) == len(BY_CODE)
    for c in CATALOGUE:
        assert CODE.fullmatch(c.code), c.code
        assert c.rule and c.source, c.code
        if c.status == "implemented":
            assert c.applies_to in ("proposals", "notifications", "all inputs") and not c.reason
        else:
            assert c.applies_to == "-" and c.reason, c.code
    table = render()
    assert all(f"\n{c}" in table for c in codes)
    done = len(IMPLEMENTED)
    assert table.endswith(f"{done} implemented, {len(codes) - done} not applicable")
