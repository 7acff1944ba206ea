"""The tests' pinned JavaScript tools (tools/<name>/package.json and package-lock.json):
``npm ci --ignore-scripts`` installs one once into a cache folder named by its manifests'
digest ($XDG_CACHE_HOME/a6gw, else ~/.cache/a6gw), shared by every checkout and run."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[1] / "tools"
MANIFESTS = ("package.json", "package-lock.json")


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "a6gw"


def installed(name: str, probe: str, npm: str) -> Path:
    """The folder holding tools/``name``'s locked node_modules, installed with ``npm`` on
    first use; ``probe`` (a path under it) tells that it is there."""
    tool = TOOLS / name
    digest = hashlib.sha256(b"".join((tool / m).read_bytes() for m in MANIFESTS)).hexdigest()
    target = cache_root() / f"{name}-{digest[:16]}"
    if (target / probe).exists():
        return target
    staging = target.with_name(f"{target.name}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for manifest in MANIFESTS:
        shutil.copy(tool / manifest, staging / manifest)
    # --ignore-scripts: nothing of the dependencies runs at install time
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
    return target
