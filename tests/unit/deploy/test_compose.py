"""compose.yaml, checked without Docker: valid against the Compose Specification's schema;
every service has an image, a command the gateway's command line takes, and the ports and
health checks it needs (the gateway's processes on their /livez endpoints)."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import jsonschema
import pytest
import yaml

from gateway.cli.main import build_parser
from gateway.config import ApiSection, ConnectorsSection
from tests.unit.deploy.kustomize import REPO

SCHEMA = REPO / "tests" / "fixtures" / "compose" / "compose-spec.json"
#: The gateway's long-running processes: service -> (command, metrics port, HTTPS port).
PROCESSES = {
    "gateway": ("worker", 9464, None),
    "api": ("api", 9465, ApiSection().port),
    "ingress": ("ingress", 9466, ConnectorsSection().ingress_port),
}
#: One-shot set-up steps: service -> the gateway command it runs.
STEPS = {"gateway-init": "init", "gateway-pki": "pki", "gateway-topics": "topics"}
PENDING_FLAGS = {"--log-format", "--log-level", "--metrics-port"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    return data


def gateway_args(service: dict[str, Any]) -> list[str]:
    """The arguments ``a6gw`` gets: the command, or the ``a6gw ...`` of a shell entrypoint."""
    command = service["command"]
    if service.get("entrypoint") == ["sh", "-c"]:
        (script,) = command
        first = script.split("&&")[0]
        args = shlex.split(first)
        assert args[0] == "a6gw", script
        return args[1:]
    assert isinstance(command, list)
    return [str(c) for c in command]


def test_compose_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose)]
    assert not errors
    broken = {
        **compose,
        "services": {
            **compose["services"],
            "api": {**compose["services"]["api"], "helthcheck": {}},
        },
    }
    assert not validator.is_valid(broken)


def test_every_service_is_known_and_has_an_image(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"kafka", *PROCESSES, *STEPS}
    builders = [s for s in services.values() if "build" in s]
    (builder,) = builders
    assert (REPO / builder["build"]["context"] / builder["build"]["dockerfile"]).is_file()
    for name, service in services.items():
        image = service["image"]
        assert image == ("apache/kafka:4.1.1" if name == "kafka" else "a6gw:local"), name
        for dep in service.get("depends_on", {}):
            assert dep in services, f"{name} depends on {dep}"
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in compose["volumes"], f"{name}: {volume}"


@pytest.mark.parametrize("name", [*PROCESSES, *STEPS])
def test_each_gateway_service_runs_a_command_the_cli_takes(
    compose: dict[str, Any], name: str
) -> None:
    args = gateway_args(compose["services"][name])
    parsed, unknown = build_parser().parse_known_args(args)
    assert not {u for u in unknown if u.startswith("-")} - PENDING_FLAGS, unknown
    wanted = PROCESSES[name][0] if name in PROCESSES else STEPS[name]
    assert parsed.command == wanted
    if name in PROCESSES or name == "gateway-topics":
        assert parsed.config == "/config/config.yaml"


def test_the_sample_config_serves_metrics_beyond_the_containers_loopback(
    compose: dict[str, Any],
) -> None:
    (script,) = compose["services"]["gateway-init"]["command"]
    appended = re.search(r"printf '([^']*)' >> /config/config.yaml", script)
    assert appended, script
    section = yaml.safe_load(appended.group(1).replace("\\n", "\n"))
    assert section == {"metrics": {"host": "0.0.0.0"}}  # noqa: S104 - published ports reach it


@pytest.mark.parametrize("name", list(PROCESSES))
def test_each_process_publishes_its_ports_and_is_health_checked(
    compose: dict[str, Any], name: str
) -> None:
    service = compose["services"][name]
    command, metrics_port, https_port = PROCESSES[name]
    ports = service["ports"]
    # Metrics and health are unauthenticated: the host's loopback only.
    assert f"127.0.0.1:{metrics_port}:{metrics_port}" in ports
    if https_port:
        assert f"{https_port}:{https_port}" in ports
        assert "--host" in service["command"]
    assert len(ports) == (2 if https_port else 1)
    check = service["healthcheck"]
    test = check["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    code = test[3]
    assert f"'http://127.0.0.1:{metrics_port}/livez'" in code and "urlopen" in code
    compile(code, f"{name} healthcheck", "exec")  # valid Python
    assert {"interval", "timeout", "retries", "start_period"} <= check.keys()
    assert service["restart"] == "unless-stopped"


def test_the_kafka_broker_is_health_checked_before_the_gateway_starts(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert "healthcheck" in services["kafka"]
    for name in ("gateway", "gateway-topics"):
        assert services[name]["depends_on"]["kafka"] == {"condition": "service_healthy"}
    assert services["ingress"]["depends_on"]["gateway-topics"] == {
        "condition": "service_completed_successfully"
    }
