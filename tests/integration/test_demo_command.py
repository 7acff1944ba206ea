"""The README's first command, as a user runs it: `a6gw demo --export DIR`."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.audit.bundle import verify_bundle
from gateway.errors import VerificationError

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_demo_exits_0_with_summary_and_a_verifying_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    cmd = [
        sys.executable,
        "-m",
        "gateway",
        "demo",
        "--export",
        str(bundle),
        "--workdir",
        str(tmp_path / "demo"),
        "--port",
        "19392",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "OK: every input ended as its expected decision" in out
    assert "the planted inconsistencies were found (continuously and by snapshot" in out
    err = result.stderr
    assert "1 refused as it should be (REC-102)" in err
    assert "totals-inconsistent → completed-with-manual-intervention" in err
    # Article 6 reporting: Mongolia's wrong row 7 is a discrepancy naming its blocks; every
    # Party's AEF is written in the three formats after its holdings roll forward.
    year = datetime.now(UTC).year
    assert f"MNG {year} R7: reported 2000, computed 2100" in err
    assert "CA0001:MNG01:2401-2500" in err
    for party in ("JPN", "MNG", "IDN"):
        assert f"AEF {party} {year}" in err
        written = sorted(p.name for p in (tmp_path / "demo" / "aef" / party).iterdir())
        assert f"aef-{party}-{year}-v1.0.xlsx" in written, written
        assert f"aef-{party}-{year}-v1.0-table3-actions.csv" in written, written
    assert "IDN01 over HTTPS: 5 events posted to the ingress" in result.stderr + out
    for text in ("bad-forged", "MSG-003", "BLK-004,JCM-002", "First transfer", "Holdings"):
        assert text in out
    report = verify_bundle(bundle)
    assert f"Audit log: {report.size} entries, root {report.root}" in out
    # The independent verifier agrees, and both catch one changed byte.
    tool = Path(__file__).resolve().parents[2] / "tools" / "verify-bundle.mjs"
    node = subprocess.run(["node", str(tool), str(bundle)], capture_output=True, text=True)
    assert node.returncode == 0, node.stderr
    assert f"size={report.size} root={report.root}" in node.stdout
    _check_witnesses(tmp_path / "demo", bundle, err, tool)
    data = bytearray((bundle / "entries.ndjson").read_bytes())
    data[len(data) // 2] ^= 0x01
    (bundle / "entries.ndjson").write_bytes(bytes(data))
    assert subprocess.run(["node", str(tool), str(bundle)], capture_output=True).returncode == 1
    with pytest.raises(VerificationError):
        verify_bundle(bundle)
    # The demo stops what it started: its broker's port is free again.
    import socket

    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", 19392)) != 0


def _check_witnesses(workdir: Path, bundle: Path, err: str, tool: Path) -> None:
    """Japan's and Mongolia's witnesses cosigned the bundle's checkpoint and refused the
    forked copy; both verifiers agree when both witnesses' keys are pinned."""
    jp, mn = "JP (witness.mofa.go.jp/a6gw)", "MN (witness.mfa.gov.mn/a6gw)"
    assert f"entries cosigned by {jp} and {mn}" in err
    assert "a6gw verify --min-witnesses 2: OK: cosigned by 2 pinned witnesses" in err
    assert "fork: witness JP refused it (422)" in err
    assert "fork: witness MN refused it (422)" in err
    assert "fork: a6gw verify --min-witnesses 1 of the forked bundle: exit 1: FAIL:" in err
    keys = [
        a
        for w in ("jp", "mn")
        for a in ("--witness-key", str(workdir / f"witness-{w}" / "witness.key.vkey"))
    ]
    forked = workdir / "forked-bundle"
    ours = [sys.executable, "-m", "gateway", "verify"]
    assert subprocess.run([*ours, str(bundle), *keys, "--min-witnesses", "2"]).returncode == 0
    assert subprocess.run([*ours, str(forked), *keys, "--min-witnesses", "1"]).returncode == 1
    # The independent Node verifier applies the same policy with the same flags.
    node = ["node", str(tool)]
    assert subprocess.run([*node, str(bundle), *keys, "--min-witnesses", "2"]).returncode == 0
    assert subprocess.run([*node, str(forked), *keys, "--min-witnesses", "1"]).returncode == 1
