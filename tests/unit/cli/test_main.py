"""The command line, the compose file and what the Makefile's two commands run."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parents[3]


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for cmd in (
        "kafka", "worker", "topics", "demo", "verify", "audit", "schemas", "init", "api", "pki",
        "discrepancy",
    ):  # fmt: skip
        assert f"    {cmd}" in out


def test_kafka_subcommands() -> None:
    parser = build_parser()
    for action in ("start", "stop", "status"):
        args = parser.parse_args(["kafka", action])
        assert callable(args.func)


def test_module_entry_point_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout.startswith("a6gw ")


def test_errors_exit_2_with_the_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(tmp_path / "nope")]) == 2  # nothing to verify: usage
    assert "does not exist" in capsys.readouterr().err
    assert main(["topics", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "[A6-CFG-002]" in capsys.readouterr().err


def test_init_writes_a_loadable_world(tmp_path: Path) -> None:
    from gateway.config import load_config

    assert main(["init", str(tmp_path), "--bootstrap", "kafka:9092"]) == 0
    lc = load_config(tmp_path / "config.yaml")
    assert lc.config.kafka.bootstrap == "kafka:9092"
    assert len(lc.load_trust().keys) >= 8
    assert main(["init", str(tmp_path), "--keep-existing"]) == 0


def make_would_run(target: str) -> list[list[str]]:
    """The commands ``make <target>`` runs, as make itself expands them (a dry run)."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    done = subprocess.run(
        [make, "--dry-run", "--always-make", "-C", str(ROOT), target],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = (line for line in done.stdout.splitlines() if line and not line.startswith("make"))
    return [shlex.split(line) for line in lines]


def test_make_demo_runs_the_demo_command() -> None:
    demo = [argv[1:] for argv in make_would_run("demo") if Path(argv[0]).name == "a6gw"]
    assert [argv[:1] for argv in demo] == [["demo"]]
    assert callable(build_parser().parse_args(demo[0]).func)  # a command line the CLI takes


def test_make_test_runs_the_linters_then_every_test() -> None:
    commands = make_would_run("test")
    tools = [Path(argv[0]).name for argv in commands]
    pytest_runs = [argv[1:] for argv in commands if Path(argv[0]).name == "pytest"]
    assert {"ruff", "mypy"} <= set(tools[: tools.index("pytest")])  # lint comes first
    assert [argv[:1] for argv in pytest_runs] == [["tests"]]  # one run, the whole tree


def test_pki_init_writes_a_ca_and_certificates_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptography import x509

    pki = tmp_path / "pki"
    assert main(["pki", "init", str(pki), "--clients", "auditor", "JPN01"]) == 0
    for name in ("ca", "server", "auditor", "JPN01"):
        assert (pki / f"{name}.pem").exists() and (pki / f"{name}.key").exists()
        assert (pki / f"{name}.key").stat().st_mode & 0o077 == 0  # keys are private
    server = x509.load_pem_x509_certificate((pki / "server.pem").read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    before = (pki / "ca.pem").read_bytes()
    assert main(["pki", "init", str(pki)]) == 2  # refuses to replace a CA silently
    assert main(["pki", "init", str(pki), "--keep-existing"]) == 0
    assert (pki / "ca.pem").read_bytes() == before


def test_verify_needs_a_bundle_or_an_api(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify"]) == 2
    assert main(["verify", "--api", "https://127.0.0.1:1"]) == 2  # no --vkey
    assert "--vkey" in capsys.readouterr().err
