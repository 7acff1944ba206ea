"""axe-core for the accessibility test: the npm package pinned by tools/axe/package-lock.json,
installed once with ``npm ci --ignore-scripts`` into a cache folder named by the lock's
digest ($XDG_CACHE_HOME/a6gw, else ~/.cache/a6gw), as the AsyncAPI parser's test does.
No node or npm fails the test with what to install (CI installs both: ``.ci/run``)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "axe"
MANIFESTS = ("package.json", "package-lock.json")


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "a6gw"


@cache
def axe_script() -> Path:
    """``axe.min.js`` of the locked axe-core (installed on first use)."""
    digest = hashlib.sha256(b"".join((TOOL / m).read_bytes() for m in MANIFESTS)).hexdigest()
    target = _cache_root() / f"axe-{digest[:16]}"
    script = Path("node_modules") / "axe-core" / "axe.min.js"
    if (target / script).is_file():
        return target / script
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed to install axe-core (Debian: apt-get install npm)")
    staging = target.with_name(f"{target.name}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in MANIFESTS:
        shutil.copy(TOOL / name, staging / name)
    # --ignore-scripts: nothing of the package runs at install time
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=staging,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    try:
        staging.rename(target)
    except OSError:  # another run installed it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return target / script
