"""``make audit-deps``: pip-audit over the hashed lock files; says plainly what it did not audit.

pip-audit looks every pinned release up in a vulnerability service: the package index's
per-release records by default (``--service osv`` for OSV). A release it cannot look up is
*skipped*, and pip-audit then still exits 0; this wrapper counts the skipped ones and does not
let "no known vulnerabilities" stand for "not audited".

Exit status: 0 every pin audited and none has a known vulnerability; 1 a known vulnerability
(listed); 3 some pins could not be audited (the service unreachable or without records for
them), unless ``--allow-unaudited``, which prints the same warning and exits 0.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Audit:
    """What one pip-audit run over one lock file found."""

    lock: str
    audited: int = 0
    vulnerable: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failure: str = ""  # pip-audit gave no report at all (e.g. the service unreachable)


def read_report(lock: str, report: object) -> Audit:
    """An :class:`Audit` from pip-audit's ``--format json`` report.

    :raises ValueError: the report is not pip-audit's JSON shape.
    """
    if not isinstance(report, dict) or not isinstance(report.get("dependencies"), list):
        raise ValueError("not a pip-audit JSON report (no 'dependencies' list)")
    audit = Audit(lock)
    for dep in report["dependencies"]:
        name = f"{dep.get('name')}=={dep.get('version', '?')}"
        if "skip_reason" in dep:
            audit.skipped.append(f"{dep.get('name')}: {dep['skip_reason']}")
            continue
        audit.audited += 1
        for vuln in dep.get("vulns") or []:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "none"
            audit.vulnerable.append(f"{name} {vuln.get('id')} (fixed in: {fixed})")
    return audit


def run_pip_audit(lock: Path, service: str, timeout: int) -> Audit:
    """Run pip-audit on one hashed lock file (no resolution, no pip)."""
    exe = shutil.which("pip-audit", path=str(Path(sys.executable).parent)) or "pip-audit"
    with tempfile.TemporaryDirectory(prefix="a6gw-audit-") as tmp:
        out = Path(tmp) / "report.json"
        cmd = [exe, "--disable-pip", "--progress-spinner", "off", "-f", "json", "-o", str(out)]
        cmd += ["-s", service, "--timeout", str(timeout), "-r", str(lock)]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        except OSError as exc:
            return Audit(str(lock), failure=f"cannot run pip-audit: {exc}")
        try:
            return read_report(str(lock), json.loads(out.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
            return Audit(str(lock), failure=f"pip-audit exit {res.returncode}: " + " | ".join(tail))


def summarise(audits: list[Audit], allow_unaudited: bool) -> int:
    """Print what was and was not audited; the exit status (see the module docstring)."""
    for audit in audits:
        if audit.failure:
            print(f"audit-deps: {audit.lock}: NOT AUDITED: {audit.failure}", file=sys.stderr)
            continue
        total = audit.audited + len(audit.skipped)
        print(f"audit-deps: {audit.lock}: {audit.audited} of {total} pins audited")
        for line in audit.vulnerable:
            print(f"  VULNERABLE {line}")
        if audit.skipped:
            print(
                f"audit-deps: {audit.lock}: NOT AUDITED: {len(audit.skipped)} pins had no "
                f"vulnerability record reachable, e.g. {audit.skipped[0]}",
                file=sys.stderr,
            )
    if any(audit.failure or audit.skipped for audit in audits):
        print(
            "audit-deps: the vulnerability service could not be reached or had no records for "
            "these releases; nothing above says they are free of known vulnerabilities. "
            "Run 'make audit-deps' where the index's vulnerability data (or OSV: "
            "AUDIT_ARGS='--service osv') is reachable.",
            file=sys.stderr,
        )
        unaudited = 0 if allow_unaudited else 3
    else:
        unaudited = 0
    return 1 if any(audit.vulnerable for audit in audits) else unaudited


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.audit_deps", description=__doc__)
    parser.add_argument("locks", nargs="+", type=Path, help="hashed requirement lock files")
    parser.add_argument("--service", default="pypi", choices=["pypi", "osv"])
    parser.add_argument("--timeout", type=int, default=15, help="seconds per request")
    parser.add_argument(
        "--allow-unaudited",
        action="store_true",
        help="exit 0 (with the warning) when pins could not be audited",
    )
    args = parser.parse_args(argv)
    audits = [run_pip_audit(lock, args.service, args.timeout) for lock in args.locks]
    return summarise(audits, args.allow_unaudited)


if __name__ == "__main__":
    sys.exit(main())
