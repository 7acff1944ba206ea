"""The demo's witness and gateway configs name files that exist from the configs' own
folders, also when the demo's folder is given relative to the working directory (as
``make demo`` gives ``.a6gw/demo``): a config's relative paths are read from its folder."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
import yaml

from gateway.audit.note import LogKey
from gateway.demo.witnesses import WitnessProcess, configure, witness_config
from gateway.demo.world import World
from gateway.witness.config import load_witness_config


def test_relative_demo_folders_give_configs_whose_files_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    pki = Path(".a6gw/demo/pki")
    pki.mkdir(parents=True)
    for name in ("server.pem", "server.key", "ca.pem"):
        (pki / name).write_text("x", encoding="utf-8")
    w = WitnessProcess("jp", "witness.test/a6gw", Path(".a6gw/demo/witness-jp"), 1)
    w.root.mkdir(parents=True)
    w.vkey_file.write_text("witness.test/a6gw+00000000+AA==\n", encoding="utf-8")
    log = LogKey.generate("a6gw.test/demo")
    config = witness_config(w, "a6gw.test/demo", log.public_vkey(), pki)
    w.config.write_text(yaml.safe_dump(config), encoding="utf-8")

    loaded = load_witness_config(w.config)
    tls = loaded.config.tls
    assert loaded.path(tls.cert_file).is_file() and loaded.path(tls.key_file).is_file()

    gateway = Path(".a6gw/demo/config.yaml")
    gateway.write_text("gateway: {}\n", encoding="utf-8")
    configure(cast(World, SimpleNamespace(config_path=gateway)), [w], 1, pki / "ca.pem")
    doc = yaml.safe_load(gateway.read_text(encoding="utf-8"))
    for field in ("vkey", "ca_file"):
        named = Path(doc["witnesses"][0][field])
        assert (gateway.parent / named).is_file(), (field, named)
