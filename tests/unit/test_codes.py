"""The operational codes: every code the source gives is in gateway.codes, and docs/codes.md
is current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import gateway
from gateway import codes, errors
from gateway.alerts import ALERTS
from gateway.api.server import STATUS
from gateway.codes import ALIASES, CODES, DOC, FAMILIES, canonical, render
from gateway.core.catalogue import BY_CODE

ROOT = Path(gateway.__file__).resolve().parents[1]  # wherever this test file moves
LITERAL = re.compile(r"""["']([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)["']""")


def family(code: str) -> str | None:
    found = [f.prefix for f in FAMILIES if code.startswith(f.prefix + "-")]
    return max(found, key=len) if found else None


def patterns() -> list[re.Pattern[str]]:
    return [re.compile(re.escape(c.code).replace("<nnn>", r"[1-5]\d\d") + "$") for c in CODES]


def given_by_the_source() -> set[str]:
    """Every string literal of the gateway and connectors that is a code of a family."""
    found = set()
    for package in ("gateway", "connectors"):
        for path in (ROOT / package).rglob("*.py"):
            for code in LITERAL.findall(path.read_text(encoding="utf-8")):
                if code not in BY_CODE and family(code) is not None:
                    found.add(code)
    return found


def test_the_codes_page_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "run: python -m gateway.codes"


def test_every_code_the_source_gives_is_listed_and_every_listed_code_is_given() -> None:
    given = given_by_the_source()
    assert len(given) > 100
    unlisted = {c for c in given if not any(p.match(c) for p in patterns())}
    assert unlisted == set(), "add them to gateway/codes.py"
    fixed = {c.code for c in CODES if "<" not in c.code}
    assert fixed - given == set()


def test_each_code_is_listed_once_in_a_family_and_is_no_check_code() -> None:
    listed = [c.code for c in CODES]
    assert len(listed) == len(set(listed))
    for code in listed:
        assert family(code) is not None, code
        assert code not in BY_CODE, code
    assert all(c.meaning for c in CODES)


def test_the_alerts_and_the_api_statuses_agree_with_the_list() -> None:
    by_code = {c.code: c for c in CODES}
    assert set(ALERTS) == {c for c in by_code if c.startswith("A6-ALERT-")}
    for code, status in STATUS.items():
        if code in by_code:
            assert by_code[code].http == status, code
        else:
            assert code in BY_CODE, code


def test_every_error_class_has_its_code_listed_or_in_the_catalogue() -> None:
    classes = [
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.GatewayError)
    ]
    assert len(classes) >= 15
    listed = {c.code for c in CODES}
    for cls in classes:
        assert cls.code in listed or cls.code in BY_CODE, cls.__name__


def test_a_renamed_code_still_resolves_to_its_new_one(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(ALIASES.values()) <= {c.code for c in CODES}
    assert not set(ALIASES) & {c.code for c in CODES}
    assert canonical("REG-RATE") == "REG-RATE"
    monkeypatch.setitem(codes.ALIASES, "REG-SLOW", "REG-RATE")
    assert canonical("REG-SLOW") == "REG-RATE"
    assert "| REG-SLOW | REG-RATE |" in render()
