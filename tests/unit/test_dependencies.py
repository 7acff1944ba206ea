"""Every third-party module the code imports is a declared dependency, and the lock files pin
every declared dependency at a version its specifier allows.

The package's own imports (gateway, schemas, connectors) must map to ``[project]
dependencies``: an installed wheel gets nothing else. The tests' imports may also use the
``dev`` extra. ``requirements.lock`` (the image), ``requirements-dev.lock`` (CI, ``make
setup``) and ``requirements-build.lock`` (the build backend the image builds the wheel with)
are written by ``make lock``; when one falls behind pyproject.toml, run it again.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tools import audit_deps

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
FIRST_PARTY = {"gateway", "schemas", "connectors", "tests", "tools"}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)


@cache
def _project() -> dict[str, object]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = data["project"]
    assert isinstance(project, dict)
    return project


def _requirements(extra: str | None) -> list[Requirement]:
    project = _project()
    deps = project["dependencies"]
    assert isinstance(deps, list)
    reqs = [Requirement(d) for d in deps]
    if extra is not None:
        extras = project["optional-dependencies"]
        assert isinstance(extras, dict)
        reqs += [Requirement(d) for d in extras[extra]]
    return reqs


def imported_modules(*dirs: str) -> dict[str, Path]:
    """Top-level modules imported anywhere under ``dirs`` (absolute imports), with one file
    that imports each; conditional, lazy and TYPE_CHECKING imports count too."""
    found: dict[str, Path] = {}
    for name in dirs:
        for path in sorted((ROOT / name).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    tops = [alias.name.split(".")[0] for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    tops = [node.module.split(".")[0]]
                else:
                    continue
                for top in tops:
                    found.setdefault(top, path.relative_to(ROOT))
    return found


def _undeclared(dirs: tuple[str, ...], extra: str | None) -> list[str]:
    declared = {canonicalize_name(r.name) for r in _requirements(extra)}
    owners = packages_distributions()
    problems = []
    for module, where in sorted(imported_modules(*dirs).items()):
        if module in sys.stdlib_module_names or module in FIRST_PARTY:
            continue
        dists = {canonicalize_name(d) for d in owners.get(module, [])}
        if not dists:
            problems.append(f"{module} (imported by {where}) belongs to no installed distribution")
        elif not dists & declared:
            names = ", ".join(sorted(dists))
            problems.append(f"{module} (imported by {where}) comes from {names}: not declared")
    return problems


def test_the_package_declares_what_it_imports() -> None:
    assert _undeclared(("gateway", "schemas", "connectors"), None) == []


def test_the_tests_declare_what_they_import() -> None:
    assert _undeclared(("gateway", "schemas", "connectors", "tests", "tools"), "dev") == []


def test_the_walk_sees_lazy_and_guarded_imports() -> None:
    # gateway/transport/broker.py imports aiokafka inside a method; the API imports aiohttp.
    found = imported_modules("gateway")
    assert {"aiokafka", "aiohttp", "faust", "pydantic"} <= set(found)
    assert "gateway" in found and "json" in found  # filtered later, not missed


def pins(lock: Path) -> dict[str, Version]:
    """``name==version`` lines of a hashed lock file, by normalised name."""
    text = lock.read_text(encoding="utf-8")
    return {canonicalize_name(name): Version(ver) for name, ver in _PIN.findall(text)}


def _build_requirements() -> list[Requirement]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [Requirement(r) for r in data["build-system"]["requires"]]


@pytest.mark.parametrize(
    ("lock", "kind"),
    [
        ("requirements.lock", "runtime"),
        ("requirements-dev.lock", "dev"),
        ("requirements-build.lock", "build"),
    ],
)
def test_the_lock_pins_every_declared_dependency(lock: str, kind: str) -> None:
    declared = {
        "runtime": _requirements(None),
        "dev": _requirements("dev"),
        "build": _build_requirements(),
    }[kind]
    path = ROOT / lock
    pinned = pins(path)
    text = path.read_text(encoding="utf-8")
    stale = []
    for req in declared:
        got = pinned.get(canonicalize_name(req.name))
        if got is None or not req.specifier.contains(got, prereleases=True):
            stale.append(f"{req} (lock: {got})")
    assert stale == [], f"{lock} is behind pyproject.toml: run 'make lock'"
    # every pin carries hashes, so pip installs it with --require-hashes
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    unhashed = [b.split()[0] for b in blocks if "==" in b and "--hash=sha256:" not in b]
    assert unhashed == []


def test_the_runtime_lock_holds_no_development_tool() -> None:
    runtime = pins(ROOT / "requirements.lock")
    for tool in ("pytest", "ruff", "mypy", "pip-audit", "uv"):
        assert canonicalize_name(tool) not in runtime
    assert set(runtime) <= set(pins(ROOT / "requirements-dev.lock"))


def test_every_data_file_of_the_packages_is_package_data() -> None:
    """A file the code reads beside itself (scenario, schemas, the broker's files) must be
    declared package data, or the wheel leaves it out (tests/integration/test_wheel.py)."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs: dict[str, list[str]] = data["tool"]["setuptools"]["package-data"]
    missing = []
    for package in ("gateway", "schemas", "connectors"):
        for path in sorted((ROOT / package).rglob("*")):
            if not path.is_file() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            rel = path.relative_to(ROOT / package)
            if not any(rel.match(glob) for glob in globs.get(package, [])):
                missing.append(str(path.relative_to(ROOT)))
    assert missing == [], "add them to [tool.setuptools.package-data] in pyproject.toml"


# make audit-deps (tools/audit_deps.py): a skipped pin is reported as not audited, never as clean.


def _report(*deps: dict[str, object]) -> dict[str, object]:
    return {"dependencies": list(deps), "fixes": []}


def test_audit_counts_vulnerable_clean_and_skipped_pins(capsys: pytest.CaptureFixture[str]) -> None:
    report = _report(
        {"name": "a", "version": "1.0", "vulns": []},
        {"name": "b", "version": "2.0", "vulns": [{"id": "PYSEC-1", "fix_versions": ["2.1"]}]},
        {"name": "c", "skip_reason": "Dependency not found"},
    )
    audit = audit_deps.read_report("x.lock", report)
    assert (audit.audited, audit.skipped) == (2, ["c: Dependency not found"])
    assert audit.vulnerable == ["b==2.0 PYSEC-1 (fixed in: 2.1)"]
    assert audit_deps.summarise([audit], allow_unaudited=True) == 1  # a finding always fails
    out = capsys.readouterr()
    assert "VULNERABLE b==2.0 PYSEC-1" in out.out and "NOT AUDITED: 1 pins" in out.err


def test_audit_that_skipped_pins_is_not_clean(capsys: pytest.CaptureFixture[str]) -> None:
    report = _report({"name": "a", "version": "1", "vulns": []}, {"name": "c", "skip_reason": "x"})
    audit = audit_deps.read_report("x.lock", report)
    assert audit_deps.summarise([audit], allow_unaudited=False) == 3
    assert audit_deps.summarise([audit], allow_unaudited=True) == 0
    assert "nothing above says they are free of known vulnerabilities" in capsys.readouterr().err
    clean = audit_deps.read_report("x.lock", _report({"name": "a", "version": "1", "vulns": []}))
    assert audit_deps.summarise([clean], allow_unaudited=False) == 0


def test_audit_without_a_report_is_not_audited(capsys: pytest.CaptureFixture[str]) -> None:
    failed = audit_deps.Audit("x.lock", failure="pip-audit exit 1: ConnectionError")
    assert audit_deps.summarise([failed], allow_unaudited=False) == 3
    assert "x.lock: NOT AUDITED: pip-audit exit 1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not a pip-audit JSON report"):
        audit_deps.read_report("x.lock", {"unexpected": True})


# The image (deploy/docker/Dockerfile) installs only what the locks pin, as an unprivileged user.


def _dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (ROOT / "deploy" / "docker" / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.strip() for line in joined.splitlines() if line.strip() and line[0] != "#"]


def test_the_image_installs_only_from_the_hashed_locks() -> None:
    lines = _dockerfile()
    installs = [line for line in lines if "pip install" in line or "pip wheel" in line]
    assert installs
    for line in installs:
        for step in line.split("&&"):
            if "pip install" in step and "--no-deps" not in step:
                assert "--require-hashes -r" in step, step
            if "pip wheel" in step:
                assert "--no-deps" in step and "--no-build-isolation" in step, step
    copied = " ".join(line for line in lines if line.startswith("COPY"))
    for lock in ("requirements.lock", "requirements-build.lock"):
        assert lock in copied and any(lock in line for line in installs)


def test_the_image_copies_every_package_and_file_the_build_reads() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    copied = {
        word.rstrip("/").removeprefix("./")
        for line in _dockerfile()
        if line.startswith("COPY") and "--from" not in line
        for word in line.split()[1:-1]
    }
    packages = {p.rstrip("*") for p in data["tool"]["setuptools"]["packages"]["find"]["include"]}
    files = {data["project"]["readme"], *data["project"]["license-files"], "pyproject.toml"}
    assert packages | files <= copied


def test_the_image_base_is_pinned_and_it_runs_unprivileged_with_a_health_check() -> None:
    lines = _dockerfile()
    base = next(line for line in lines if line.startswith("ARG PYTHON_IMAGE="))
    assert re.fullmatch(r"ARG PYTHON_IMAGE=python:3\.11\.\d+-\S+@sha256:[0-9a-f]{64}", base)
    froms = [line for line in lines if line.startswith("FROM")]
    assert froms and all(line.split()[1] == "${PYTHON_IMAGE}" for line in froms)
    user = [line.split()[1] for line in lines if line.startswith("USER")]
    assert user and user[-1].split(":")[0] not in ("0", "root")
    (health,) = [line for line in lines if line.startswith("HEALTHCHECK")]
    assert "/livez" in health and "A6GW_HEALTH_PORT" in health
