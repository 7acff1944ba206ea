"""``a6gw reconcile`` flags: what --every accepts and refuses before it touches anything."""

from __future__ import annotations

import pytest

from gateway.cli.main import main
from gateway.demo.world import write_world


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> str:
    world = write_world(tmp_path_factory.mktemp("world"), bootstrap="127.0.0.1:1")
    return str(world.config_path)


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--registry", "XXX01", "--every", "1m"], "no registry 'XXX01'"),
        (["--every", "1m", "--request", "r-1"], "--request is for one run"),
        (["--every", "1m", "--out", "x.json"], "--out is for one run"),
        (["--every", "1m", "--snapshot", "s.json"], "--snapshot with --every needs exactly one"),
        ([], "give one --registry"),
        (["--registry", "JPN01", "--registry", "MNG01"], "several only with --every"),
    ],
)
def test_refused_flags_exit_2_with_the_reason(
    config: str, flags: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["reconcile", "--config", config, *flags]) == 2
    assert said in capsys.readouterr().err
