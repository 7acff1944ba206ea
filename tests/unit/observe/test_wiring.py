"""The metrics config section, ``--metrics-port`` on the three long-running commands, and
one port per process under the worker's supervisor."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gateway.cli.main import build_parser
from gateway.config import load_config
from gateway.demo.world import write_world
from gateway.errors import ConfigError
from gateway.worker.run import plan_members

BASE = ("python", "-m", "gateway", "worker", "--config", "c.yaml")


def test_the_section_defaults_and_its_ports(tmp_path: Path) -> None:
    world = write_world(tmp_path, bootstrap="127.0.0.1:1")
    metrics = load_config(world.config_path).config.metrics
    assert (metrics.host, metrics.worker_port, metrics.api_port, metrics.ingress_port) == (
        "127.0.0.1",
        9464,
        9465,
        9466,
    )
    doc = yaml.safe_load(world.config_path.read_text())
    doc["metrics"] = {"worker_port": 70000}
    world.config_path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match="metrics.worker_port"):
        load_config(world.config_path)
    doc["metrics"] = {"worker_port": 0, "color": "red"}
    world.config_path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match="metrics.color"):
        load_config(world.config_path)


@pytest.mark.parametrize("command", ["worker", "api", "ingress"])
def test_each_long_running_command_takes_a_metrics_port(command: str) -> None:
    parser = build_parser()
    args = parser.parse_args([command, "--config", "c.yaml", "--metrics-port", "0"])
    assert args.metrics_port == 0
    assert parser.parse_args([command, "--config", "c.yaml"]).metrics_port is None


def test_each_supervised_process_gets_its_own_port(tmp_path: Path) -> None:
    ms = plan_members(BASE, tmp_path, 3, gateway_id="gw", host="h", metrics_port=9464)
    ports = [m.cmd[m.cmd.index("--metrics-port") + 1] for m in ms]
    assert ports == ["9464", "9465", "9466"]
    off = plan_members(BASE, tmp_path, 2, gateway_id="gw", host="h", metrics_port=0)
    assert all(m.cmd[m.cmd.index("--metrics-port") + 1] == "0" for m in off)
    unset = plan_members(BASE, tmp_path, 2, gateway_id="gw", host="h")
    assert all("--metrics-port" not in m.cmd for m in unset)
