"""The ``witnesses`` section and ``witness_quorum``: validated with the config, each
witness's key read from a file or the line itself and checked against its name."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gateway.audit.cosignature import WitnessKey
from gateway.config import Config, LoadedConfig
from gateway.errors import ConfigError
from gateway.http.pki import init_pki
from gateway.services.configcheck import witnesses
from gateway.services.configcheck.report import Report

JP = WitnessKey.generate("witness.jp.test/a6gw")
MN = WitnessKey.generate("witness.mn.test/a6gw")


def _config(witnesses: list[dict[str, Any]], quorum: int = 0) -> Config:
    return Config.model_validate(
        {
            "parties": [{"code": "JPN", "name": "Japan"}],
            "registries": [{"id": "JPN01", "party": "JPN"}],
            "witnesses": witnesses,
            "witness_quorum": quorum,
        }
    )


def _w(key: WitnessKey, vkey: str | None = None, **more: Any) -> dict[str, Any]:
    url = f"https://{key.name.split('/')[0]}:8643/witness"
    return {"name": key.name, "url": url, "vkey": vkey or key.vkey(), **more}


def test_keys_come_from_files_or_lines_in_config_order(tmp_path: Path) -> None:
    (tmp_path / "mn.vkey").write_text(MN.vkey() + "\n")
    lc = LoadedConfig(_config([_w(JP), _w(MN, "mn.vkey")], quorum=2), tmp_path)
    assert lc.witness_keys() == [JP.cosigner(), MN.cosigner()]
    assert LoadedConfig(_config([]), tmp_path).witness_keys() == []
    assert _config([]).witness_quorum == 0


@pytest.mark.parametrize(
    ("witnesses", "quorum", "says"),
    [
        ([_w(JP)], 2, "witness_quorum 2 exceeds the 1 witnesses"),
        ([_w(JP), _w(JP)], 0, "witness names must be unique"),
        ([_w(JP, url="http://plain.example/witness")], 0, "url"),
        ([_w(JP, url="https://w.example/witness/")], 0, "url"),  # no trailing slash
        ([_w(JP)], -1, "witness_quorum"),
    ],
)
def test_mistakes_are_refused(witnesses: list[dict[str, Any]], quorum: int, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        _config(witnesses, quorum)


@pytest.mark.parametrize(
    ("vkey", "says"),
    [
        ("missing.vkey", "witnesses.0.vkey: .*No such file"),
        (MN.vkey(), "witnesses.0.vkey: the key is 'witness.mn.test/a6gw''s"),
        (JP.vkey()[:-4] + "AAAA", "witnesses.0.vkey"),  # another key under its key ID
        ("log.example+01020304+AQ", "witnesses.0.vkey"),  # not a cosignature key
    ],
)
def test_a_bad_key_is_a_coded_config_error(tmp_path: Path, vkey: str, says: str) -> None:
    lc = LoadedConfig(_config([_w(JP, vkey)]), tmp_path)
    with pytest.raises(ConfigError, match=says) as err:
        lc.witness_keys()
    assert err.value.code == "A6-CFG-001"


def test_the_config_check_names_each_witness_problem(tmp_path: Path) -> None:
    init_pki(tmp_path / "pki", ("gw",))
    ca = "pki/ca.pem"
    good = _w(JP, ca_file=ca, client_cert="pki/gw.pem", client_key="pki/gw.key")
    half = _w(MN, "mn.vkey", ca_file="pki/none.pem", client_cert="pki/gw.pem")
    r = Report("config.yaml")
    lc = LoadedConfig(_config([good, half], quorum=2), tmp_path)
    witnesses.keys(r, lc)
    witnesses.files(r, lc, datetime.now(UTC))
    found = [(p.code, p.message) for p in r.errors]
    assert ("A6-CFG-001", found[0][1]) == found[0] and "witnesses.1.vkey" in found[0][1]
    assert any("witnesses.1: client_cert and client_key go together" in m for _, m in found)
    assert any("none.pem" in p.file for p in r.errors)
    assert len(found) == 3, found
