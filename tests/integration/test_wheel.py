"""The wheel works alone: built from the checkout's sdist with the locked build tools (as
``make dist`` builds it), installed into a fresh virtualenv outside the checkout with the
hashed runtime lock (as the image, deploy/docker/Dockerfile, installs it), and run there.

It runs ``a6gw --help``, ``init``, ``config check``, ``kafka start | status | provision |
stop`` and ``demo`` from that virtualenv, with the checkout neither the working directory nor
on the path, so every file a command reads must come from the installed package. The broker's
jars come from the usual jar cache (``$A6GW_KAFKA_JARS`` or ``~/.cache/a6gw/kafka-<version>``):
the installed package carries the same ``pom.xml``, so a machine that fetched them once does
not fetch them again. Needs the package index (the dependencies) and java; about two minutes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.ui import STATIC
from gateway.ui.serve import page_paths
from tests.ports import free_port_pair

pytestmark = pytest.mark.wheel

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
BROKER_FILES = ("pom.xml", "server.properties", "log4j2.properties")


@dataclass(frozen=True)
class Installed:
    """A virtualenv outside the checkout with the wheel and its locked dependencies."""

    venv: Path
    wheel: Path
    work: Path  # the working directory for its commands (outside the checkout)

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        exe = str(self.venv / "bin" / args[0])
        return subprocess.run(
            [exe, *args[1:]],
            cwd=self.work,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str, timeout: float = 120) -> str:
        res = self.run(*args, timeout=timeout)
        assert res.returncode == 0, f"{' '.join(args)}: exit {res.returncode}\n{res.stderr}"
        return res.stdout


def _ok(cmd: list[str], what: str) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, (
        f"{what}: exit {res.returncode}\n{res.stdout[-2000:]}{res.stderr[-3000:]}"
    )


def _outside_checkout(path: Path) -> bool:
    return not path.resolve().is_relative_to(ROOT)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    if not _outside_checkout(base):
        pytest.fail(f"the temp dir {base} is inside the checkout; pass --basetemp outside it")
    dist = base / "dist"
    builder, venv = base / "build-venv", base / "venv"
    for env, lock in ((builder, "requirements-build.lock"), (venv, "requirements.lock")):
        _ok([sys.executable, "-m", "venv", str(env)], "making a virtualenv")
        pip = [str(env / "bin/python"), "-m", "pip", "install", "-q", "--require-hashes"]
        _ok([*pip, "-r", str(ROOT / lock)], f"installing {lock}")
    # As make dist does: the sdist, then the wheel from the sdist, with the locked build tools.
    build = [str(builder / "bin/python"), "-m", "build", "--no-isolation", "--outdir", str(dist)]
    _ok([*build, str(ROOT)], "building the sdist and the wheel")
    (wheel,) = dist.glob("a6gw-*.whl")
    install = [str(venv / "bin/python"), "-m", "pip", "install", "-q", "--no-deps", str(wheel)]
    _ok(install, "installing the wheel")
    work = base / "work"
    work.mkdir()
    return Installed(venv, wheel, work)


def test_the_wheel_carries_its_files_and_licence(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for name in BROKER_FILES:
        assert f"gateway/transport/broker_files/{name}" in names
    assert "gateway/demo/scenario.yaml" in names
    assert any(n.startswith("schemas/json/") and n.endswith(".schema.json") for n in names)
    assert "schemas/openapi/audit-api.openapi.json" in names
    # The auditors' page: every file it is served from, byte for byte (README's digests).
    page = list(page_paths(STATIC))
    assert any(rel == "index.html" for rel, _ in page)
    for rel, path in page:
        name = f"gateway/ui/static/{rel}"
        assert name in names, name
        assert zipfile.ZipFile(installed.wheel).read(name) == path.read_bytes(), name
    meta = zipfile.ZipFile(installed.wheel).read("a6gw-0.1.0.dist-info/METADATA").decode()
    assert "License-Expression: Apache-2.0" in meta and "License-File: LICENSE" in meta
    licence = zipfile.ZipFile(installed.wheel).read("a6gw-0.1.0.dist-info/licenses/LICENSE")
    assert licence == (ROOT / "LICENSE").read_bytes()


def test_the_installed_package_runs_from_the_virtualenv(installed: Installed) -> None:
    where = installed.ok("python", "-c", "import gateway, schemas; print(gateway.__file__)")
    assert Path(where.strip()).is_relative_to(installed.venv), where
    assert _outside_checkout(Path(where.strip()))
    installed.ok("python", "-m", "pip", "check")  # the lock satisfies the wheel's requirements
    help_text = installed.ok("a6gw", "--help")
    for command in ("kafka", "init", "worker", "api", "ingress", "verify", "demo", "ui"):
        assert f"\n    {command} " in help_text, command
    # The JSON Schema and OpenAPI files installed with it match its models.
    installed.ok("a6gw", "schemas", "--check")
    # The page's files load from the installed package (as a6gw ui and the API serve them).
    loaded = installed.ok(
        "python",
        "-c",
        "from gateway.ui import STATIC; from gateway.ui.serve import load_page; "
        "print(STATIC); print(len(load_page(STATIC)))",
    ).split()
    assert _outside_checkout(Path(loaded[0])) and int(loaded[1]) == len(list(page_paths(STATIC)))
    assert "--api URL" in installed.ok("a6gw", "ui", "--help")


@dataclass(frozen=True)
class World:
    """``a6gw init`` and ``a6gw pki init`` from the wheel, for a broker on ``port``."""

    config: Path
    port: int
    state: Path  # the local broker's state dir

    @property
    def broker_args(self) -> tuple[str, ...]:
        return ("--port", str(self.port), "--dir", str(self.state))


@pytest.fixture(scope="module")
def world(installed: Installed) -> World:
    port = free_port_pair()
    folder = installed.work / "world"
    installed.ok("a6gw", "init", str(folder), "--bootstrap", f"127.0.0.1:{port}")
    installed.ok("a6gw", "pki", "init", str(folder / "pki"))  # the API's TLS files
    assert (folder / "config.yaml").is_file() and (folder / "trust.yaml").is_file()
    return World(folder / "config.yaml", port, installed.work / "kafka")


@dataclass(frozen=True)
class Started:
    output: str  # of a6gw kafka start
    credentials: list[Path]  # the files a6gw kafka provision wrote


@pytest.fixture(scope="module")
def started(installed: Installed, world: World) -> Iterator[Started]:
    """The wheel's local broker, started, with the world's principals provisioned; stopped at
    the end in any case."""
    try:
        out = installed.ok("a6gw", "kafka", "start", *world.broker_args, timeout=300)
        cmd = ("a6gw", "kafka", "provision", "--config", str(world.config), "--dir")
        provisioned = installed.ok(*cmd, str(world.state))
        assert f"ACLs on 127.0.0.1:{world.port}" in provisioned
        # one line per principal: its name, then its credentials file
        lines = provisioned.splitlines()[:-1]
        yield Started(out, [Path(line.split()[-1]) for line in lines if line.strip()])
    finally:
        installed.run("a6gw", "kafka", "stop", *world.broker_args)


def test_the_local_broker_starts_and_answers(
    installed: Installed, world: World, started: Started
) -> None:
    assert f"bootstrap servers: 127.0.0.1:{world.port}" in started.output
    assert started.credentials and all(path.is_file() for path in started.credentials)
    assert "running at" in installed.ok("a6gw", "kafka", "status", *world.broker_args)
    props = (world.state / "server.properties").read_text()
    assert str(installed.venv) in props.splitlines()[0]  # rendered from the installed file


def test_config_check_of_the_provisioned_world(
    installed: Installed, world: World, started: Started
) -> None:
    if "\n    config " not in installed.ok("a6gw", "--help"):
        pytest.skip("this a6gw has no 'config' command: 'a6gw config check' not run")
    check = installed.run("a6gw", "config", "check", "--config", str(world.config))
    assert check.returncode == 0, check.stdout + check.stderr
    # The same world without the credentials provisioning wrote: the check names what is missing.
    folder, bare = world.config.parent, installed.work / "world-unprovisioned"
    shutil.copytree(folder, bare)
    removed = [bare / path.relative_to(folder) for path in started.credentials]
    for path in removed:
        path.unlink()
    failed = installed.run("a6gw", "config", "check", "--config", str(bare / "config.yaml"))
    assert failed.returncode != 0
    assert any(str(path) in failed.stdout + failed.stderr for path in removed), failed.stderr


def test_the_local_broker_stops(installed: Installed, world: World, started: Started) -> None:
    stopped = installed.run("a6gw", "kafka", "stop", *world.broker_args)
    assert stopped.returncode == 0 and "Kafka stopped" in stopped.stdout, stopped.stderr
    after = installed.run("a6gw", "kafka", "status", *world.broker_args)
    assert after.returncode == 3 and "not running" in after.stdout


def test_the_demo_runs_from_the_wheel(installed: Installed) -> None:
    """``a6gw demo``: its own broker, gateway and scenario, all from the installed package."""
    work, bundle = installed.work / "demo", installed.work / "bundle"
    port = str(free_port_pair())
    demo = ("a6gw", "demo", "--workdir", str(work), "--port", port, "--export", str(bundle))
    out = installed.ok(*demo, timeout=400)
    assert "OK: every input ended as its expected decision" in out and "(verified: size" in out
    assert "OK" in installed.ok("a6gw", "verify", str(bundle))  # exit 0: the bundle verifies


def test_the_sbom_lists_every_locked_pin(tmp_path: Path) -> None:
    """``make dist``'s SBOM step: every pin of the runtime lock is a component with its purl."""
    out = tmp_path / "a6gw.cdx.json"
    cmd = [str(Path(sys.executable).parent / "cyclonedx-py"), "requirements"]
    cmd += ["--pyproject", str(ROOT / "pyproject.toml"), "--of", "JSON", "-o", str(out)]
    res = subprocess.run(
        [*cmd, str(ROOT / "requirements.lock")], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stderr
    bom = json.loads(out.read_text())
    assert bom["bomFormat"] == "CycloneDX"
    assert bom["metadata"]["component"]["name"] == "a6gw"
    purls = {c.get("purl") for c in bom["components"]}
    lock = (ROOT / "requirements.lock").read_text()
    pins = [line.split(" ")[0] for line in lock.splitlines() if "==" in line[:80]]
    pins = [p for p in pins if p and p[0].isalnum()]
    assert pins
    for pin in pins:
        name, version = pin.split("==")
        assert f"pkg:pypi/{name.lower()}@{version}" in purls, pin
