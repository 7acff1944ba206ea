"""axe-core for the accessibility test: the npm package pinned by tools/axe/package-lock.json,
installed once into the tools' cache (:mod:`tests.npm_tools`). No npm fails the test with
what to install (CI installs it: ``.ci/run``)."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import pytest

from tests.npm_tools import installed

SCRIPT = Path("node_modules") / "axe-core" / "axe.min.js"


@cache
def axe_script() -> Path:
    """``axe.min.js`` of the locked axe-core (installed on first use)."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed to install axe-core (Debian: apt-get install npm)")
    return installed("axe", str(SCRIPT), npm) / SCRIPT
