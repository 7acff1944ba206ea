"""The working folder of a run script (``make faults``): its own temporary folder is removed
after a run that passed and kept, with a line saying where, after one that failed."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def finish(workdir: Path, *, own: bool, code: int) -> int:
    """Clean up after a run with exit status ``code``; ``own``: the run made ``workdir``
    itself (no ``--workdir`` given: a folder given is always kept). Returns ``code``."""
    if own:
        if code == 0:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir} (logs, the broker's data)", file=sys.stderr, flush=True)
    return code
