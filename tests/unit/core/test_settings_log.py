"""The fold of ``party-settings`` entries: entry ids, the settings at a tree size, refusals."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import rfc8785

from gateway.core.settings_log import (
    PartySettings,
    parties_at,
    registries_at,
    settings_entry,
    settings_entry_id,
)
from gateway.errors import GatewayError
from tests.unit.reportlog import party_settings

JPN = PartySettings("JPN", "Japan", (2021, 2030), "trajectory", "first-transfer")


def test_the_entry_id_is_the_documented_hash() -> None:
    # computed here with the reference rfc8785 package, not the gateway's canonicaliser
    settings: dict[str, Any] = {
        "party": "JPN",
        "name": "Japan",
        "ndc_period": [2021, 2030],
        "ca_method": "trajectory",
        "ca_year": "first-transfer",
    }
    first = hashlib.sha256(b"party-settings\nJPN\n\n" + rfc8785.dumps(settings)).hexdigest()
    assert settings_entry_id(JPN) == "cfg-" + first[:40]
    prev = "cfg-" + first[:40]
    second = hashlib.sha256(
        f"party-settings\nJPN\n{prev}\n".encode() + rfc8785.dumps(settings)
    ).hexdigest()
    assert settings_entry_id(JPN, prev) == "cfg-" + second[:40] != prev


def test_the_entry_has_the_fixed_shape() -> None:
    entry = settings_entry(JPN, "", "2026-01-05T00:00:00.000Z")
    assert entry == {
        "entry_version": 1,
        "entry_type": "party-settings",
        "entry_id": settings_entry_id(JPN),
        "party": "JPN",
        "name": "Japan",
        "ndc_period": [2021, 2030],
        "ca_method": "trajectory",
        "ca_year": "first-transfer",
        "recorded_at": "2026-01-05T00:00:00.000Z",
    }
    none = settings_entry(PartySettings("MNG", "Mongolia", None), "", "2026-01-05T00:00:00.000Z")
    assert none["ndc_period"] is None


def test_the_last_entry_below_the_size_wins_per_party() -> None:
    jpn1 = party_settings("JPN", name="Japan")
    mng = party_settings("MNG", None, "averaging", name="Mongolia")
    jpn2 = party_settings("JPN", (2021, 2030), "budget", "vintage", previous=jpn1["entry_id"])
    other = {"entry_type": "decision", "entry_id": "ev-1", "party": "XXX"}
    log = [jpn1, other, mng, jpn2]
    assert parties_at([]) == {}
    assert parties_at(log[:1]) == {"JPN": JPN}
    at3 = parties_at(log[:3])
    assert at3["JPN"] == JPN and at3["MNG"] == PartySettings("MNG", "Mongolia", None, "averaging")
    now = parties_at(log)
    assert (now["JPN"].ca_method, now["JPN"].ca_year) == ("budget", "vintage")
    assert now["MNG"] == at3["MNG"]


def _refused(entries: list[dict[str, Any]]) -> str:
    with pytest.raises(GatewayError) as exc:
        parties_at(entries)
    assert exc.value.code == "RPT-LOG"
    return str(exc.value)


def test_an_entry_whose_id_is_not_its_own_is_refused() -> None:
    jpn = party_settings("JPN", name="Japan")
    assert "entry 0" in _refused([jpn | {"ca_method": "averaging"}])  # edited after the fact
    # the second entry of a Party must chain to its first
    again = party_settings("JPN", (2021, 2035), name="Japan")  # hashed without `previous`
    assert "entry 1" in _refused([jpn, again])


@pytest.mark.parametrize(
    "change",
    [
        {"ca_method": "annual"},
        {"ca_year": "vintages"},
        {"ndc_period": [2030, 2021]},
        {"ndc_period": [2021]},
        {"ndc_period": ["2021", "2030"]},
        {"ndc_period": [2021, True]},
        {"party": ""},
        {"name": None},
    ],
)
def test_settings_that_do_not_read_are_refused(change: dict[str, Any]) -> None:
    assert "party-settings entry 0" in _refused([party_settings("JPN") | change])


def test_the_registries_of_a_party_are_those_the_log_names() -> None:
    entries: list[dict[str, Any]] = [
        {"blocks": [{"registry": "JPN01"}, {"registry": "MNG01"}]},
        {"a6": [{"registry": "JPN02", "party": "JPN"}], "blocks": None},
        {"entry_type": "party-settings", "party": "JPN"},
    ]
    assert registries_at(entries, "JPN") == {"JPN01", "JPN02"}
    assert registries_at(entries, "MNG") == {"MNG01"}
    assert registries_at(entries, "KHM") == frozenset()
