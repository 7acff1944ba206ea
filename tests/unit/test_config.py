"""``gateway.mac_key_file``: created 0600 by the world writers, loaded from the file only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gateway.config import load_config
from gateway.demo.world import write_world
from gateway.errors import ConfigError


def test_init_creates_the_key_0600_and_keeps_it(tmp_path: Path) -> None:
    world = write_world(tmp_path, bootstrap="127.0.0.1:1")
    path = tmp_path / "keys" / "internal.mac"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lc = load_config(world.config_path)
    secret = lc.load_mac_key()
    assert len(secret) == 32 and secret == bytes.fromhex(path.read_text())
    write_world(tmp_path, bootstrap="127.0.0.1:1")  # run again: the key stays
    assert load_config(world.config_path).load_mac_key() == secret


@pytest.mark.parametrize(
    ("content", "mode", "words"),
    [
        (None, 0o600, "cannot read"),
        ("ab" * 32, 0o644, "mode 644"),
        ("zz" * 32, 0o600, "not hex"),
        ("ab" * 16, 0o600, "16 bytes"),
    ],
)
def test_a_bad_key_file_is_a_coded_error(
    tmp_path: Path, content: str | None, mode: int, words: str
) -> None:
    world = write_world(tmp_path, bootstrap="127.0.0.1:1")
    path = tmp_path / "keys" / "internal.mac"
    path.unlink()
    if content is not None:
        path.write_text(content)
        os.chmod(path, mode)
    with pytest.raises(ConfigError) as info:
        load_config(world.config_path).load_mac_key()
    assert info.value.code == "A6-CFG-006" and words in str(info.value)


def test_ledger_snapshots_are_made_in_the_loop_unless_fork_is_chosen() -> None:
    from pydantic import ValidationError

    from gateway.config import GatewaySection

    assert GatewaySection(id="gw").snapshot_writer == "loop"
    assert GatewaySection(id="gw", snapshot_writer="fork").snapshot_writer == "fork"
    with pytest.raises(ValidationError):
        GatewaySection(id="gw", snapshot_writer="thread")
