"""`a6gw checks`: every check of the domain brief is implemented or says why not."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gateway.cli.main import main
from gateway.core.catalogue import BY_CODE, CATALOGUE

DOMAIN = Path(__file__).resolve().parents[3].parent / "shared" / "domain.md"
# The codes of domain.md §d, as of this writing; the brief itself is read when present.
BRIEF_CODES = (
    [f"MSG-{i:03d}" for i in range(1, 7)]
    + [f"ACC-{i:03d}" for i in range(1, 10)]
    + [f"BLK-{i:03d}" for i in range(1, 9)]
    + [f"QTY-{i:03d}" for i in range(1, 4)]
    + [f"A6-{i:03d}" for i in range(1, 16)]
    + [f"AEF-{i:03d}" for i in range(1, 4)]
    + [f"JCM-{i:03d}" for i in range(1, 5)]
    + ["RCN-001"]
)


def brief_codes() -> list[str]:
    if not DOMAIN.exists():
        return BRIEF_CODES
    text = DOMAIN.read_text(encoding="utf-8")
    section = text[text.index("## (d)") : text.index("## (e)")]
    return sorted(set(re.findall(r"^\| ([A-Z0-9]+-\d{3}) \|", section, re.M)))


def test_every_brief_check_is_listed() -> None:
    codes = brief_codes()
    assert len(codes) >= 49
    assert [c for c in codes if c not in BY_CODE] == []


def test_enough_checks_are_implemented_and_the_rest_say_why() -> None:
    implemented = [c for c in CATALOGUE if c.status == "implemented"]
    assert len(implemented) >= 35
    for c in CATALOGUE:
        assert c.rule and c.source, c.code
        assert (c.status == "not applicable") == bool(c.reason), c.code
    assert len({c.code for c in CATALOGUE}) == len(CATALOGUE)


def test_cli_prints_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks"]) == 0
    out = capsys.readouterr().out
    for c in CATALOGUE:
        assert c.code in out
    assert "not applicable" in out and "implemented" in out
    assert main(["checks", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["code"] for r in rows} == set(BY_CODE)
    assert {"code", "group", "rule", "applies_to", "status", "reason", "source"} <= set(rows[0])
