"""The reader's policy: ``a6gw verify DIR --witness-key F ... --min-witnesses K`` accepts a
bundle's checkpoint only with K valid cosignatures by distinct pinned witnesses over that
very checkpoint (exit 1 otherwise), and says plainly when the policy itself is a mistake
(exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.audit.bundle import CHECKPOINT_FILE, write_bundle
from gateway.audit.cosignature import WitnessKey, add_cosignatures
from gateway.audit.note import Checkpoint, LogKey
from gateway.cli.main import main

ORIGIN = "a6gw.test/verify"
ENTRIES = [b'{"n":1}', b'{"n":2}', b'{"n":3}']
JP = WitnessKey.generate("witness.jp.test/a6gw")
MN = WitnessKey.generate("witness.mn.test/a6gw")
KEY = LogKey.generate(ORIGIN)


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Checkpoint, Path, Path, Path]:
    checkpoint = write_bundle(tmp_path / "bundle", ENTRIES, KEY, ORIGIN)
    (tmp_path / "log.vkey").write_text(KEY.public_vkey() + "\n")
    (tmp_path / "jp.vkey").write_text(JP.vkey() + "\n")
    (tmp_path / "mn.vkey").write_text(MN.vkey() + "\n")
    return (
        tmp_path / "bundle",
        checkpoint,
        tmp_path / "log.vkey",
        tmp_path / "jp.vkey",
        tmp_path / "mn.vkey",
    )


def _cosign(bundle: Path, *lines: str) -> None:
    path = bundle / CHECKPOINT_FILE
    path.write_text(add_cosignatures(path.read_text(), lines))


def _pin(log: Path, jp: Path, mn: Path, k: int) -> tuple[str | Path, ...]:
    """The log key and both witnesses pinned, K required."""
    return ("--vkey", log, "--witness-key", jp, "--witness-key", mn, "--min-witnesses", str(k))


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["verify", *(str(a) for a in args)])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err


def test_two_cosignatures_meet_k_2(
    world: tuple[Path, Checkpoint, Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bundle, cp, log, jp, mn = world
    _cosign(bundle, JP.cosign(cp, 100), MN.cosign(cp, 101))
    code, out, err = run(capsys, bundle, *_pin(log, jp, mn, 2))
    assert (code, err) == (0, "")
    assert "cosigned by 2 pinned witnesses (at least 2)" in out and JP.name in out
    # one file may hold both keys; K defaults to 1
    both = log.parent / "both.vkey"
    both.write_text(jp.read_text() + mn.read_text())
    assert run(capsys, bundle, "--vkey", log, "--witness-key", both)[0] == 0


def test_too_few_cosignatures_fail(
    world: tuple[Path, Checkpoint, Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bundle, cp, log, jp, mn = world
    code, _, err = run(capsys, bundle, "--vkey", log, "--witness-key", jp)
    assert code == 1 and "0 valid cosignatures" in err and err.startswith("FAIL:")
    _cosign(bundle, JP.cosign(cp, 100))
    _cosign(bundle, JP.cosign(cp, 100))  # the same line twice counts once
    args = _pin(log, jp, mn, 2)
    code, _, err = run(capsys, bundle, *args)
    assert code == 1 and "1 valid cosignatures" in err and "want at least 2" in err
    # a witness that is not pinned does not count
    stranger = WitnessKey.generate("witness.mn.test/a6gw")  # MN's name, another key
    _cosign(bundle, stranger.cosign(cp, 100))
    assert run(capsys, bundle, *args)[0] == 1


def test_a_cosignature_over_another_checkpoint_fails(
    world: tuple[Path, Checkpoint, Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bundle, cp, log, jp, mn = world
    other = Checkpoint(ORIGIN, 2, cp.root)  # e.g. what the witness saw on a fork
    _cosign(bundle, JP.cosign(cp, 100), MN.cosign(other, 100))
    code, _, err = run(capsys, bundle, *_pin(log, jp, mn, 1))
    assert code == 1 and "does not verify over this checkpoint" in err


def test_policy_mistakes_exit_2(
    world: tuple[Path, Checkpoint, Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bundle, cp, log, jp, _mn = world
    _cosign(bundle, JP.cosign(cp, 100))
    cases = [
        (("--witness-key", jp, "--min-witnesses", "2"), "from 1 to 1"),
        (("--witness-key", jp, "--min-witnesses", "0"), "from 1 to 1"),
        (("--min-witnesses", "1"), "needs --witness-key"),
        (("--witness-key", log), "want 04"),  # the log's key is no witness key
        (("--witness-key", log.parent / "missing.vkey"), "cannot read"),
    ]
    for extra, why in cases:
        code, _, err = run(capsys, bundle, "--vkey", log, *extra)
        assert code == 2 and why in err, (extra, err)
