"""The reader's witness policy in both verifiers: ``tools/verify-bundle.mjs`` and
``a6gw verify`` with ``--witness-key FILE ... --min-witnesses K``.

Every cosignature vector (schemas/vectors/cosignatures.json) becomes a real bundle: the
vectors' seven log entries, the vector's note as the checkpoint. Both verifiers must give the
same exit code and, on a failed policy, the same message. Bundles cosigned here by witness
keys made for the test cover K against 0, 1 and 2 valid cosignatures, a cosignature of another
checkpoint, a repeated line and a witness that is not pinned.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.bundle import CHECKPOINT_FILE, write_bundle
from gateway.audit.cosignature import WitnessKey, add_cosignatures
from gateway.audit.note import Checkpoint, LogKey
from gateway.cli.main import main
from schemas.vectors import VECTORS_DIR
from tests.integration.test_independent_verifier import ORIGIN, make_entries, run_node

COSIG = json.loads((VECTORS_DIR / "cosignatures.json").read_text(encoding="utf-8"))
LOG = json.loads((VECTORS_DIR / "log.json").read_text(encoding="utf-8"))
TIME = 1_796_000_000


def both(
    capsys: pytest.CaptureFixture[str], bundle: Path, *args: str | Path
) -> tuple[int, str, str, str]:
    """Run the Node verifier and ``a6gw verify`` on ``bundle``: their exit codes must agree.

    :returns: the exit code, Node's stdout and stderr, and ``a6gw verify``'s stderr.
    """
    node = run_node(bundle, *args)
    capsys.readouterr()
    code = main(["verify", str(bundle), *(str(a) for a in args)])
    py = capsys.readouterr()
    assert (node.returncode, code) in {(0, 0), (1, 1), (2, 2)}, (node.stderr, py.err)
    if code == 1:  # the same FAIL message (Python first prints the bundle's own OK)
        assert node.stderr.startswith("FAIL: ") and node.stderr.count("\n") == 1
        python_fail = re.sub(r"^FAIL: \[[A-Z0-9-]+\] ", "FAIL: ", py.err.splitlines()[-1])
        assert python_fail == node.stderr.rstrip("\n"), (py.err, node.stderr)
        assert node.stdout == ""
    if code == 0:
        node_ok = node.stdout.splitlines()[-1]
        assert node_ok == py.out.splitlines()[-1], (node.stdout, py.out)
    return node.returncode, node.stdout, node.stderr, py.err


# --- every vector, in both verifiers -------------------------------------------------------


def _vector_bundle(directory: Path, note: str) -> Path:
    directory.mkdir(parents=True)
    lines = b"".join(e["utf8"].encode("utf-8") + b"\n" for e in LOG["entries"])
    (directory / "entries.ndjson").write_bytes(lines)
    (directory / CHECKPOINT_FILE).write_text(note, encoding="utf-8")
    (directory / "log.vkey").write_text(COSIG["log_vkey"] + "\n", encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def vector_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("witness-vkeys")
    for short, w in COSIG["witnesses"].items():
        (out / f"{short}.vkey").write_text(w["vkey"] + "\n", encoding="utf-8")
    (out / "log.vkey").write_text(COSIG["log_vkey"] + "\n", encoding="utf-8")
    return {p.stem: p for p in out.iterdir()}


@pytest.mark.parametrize("v", COSIG["vectors"], ids=[v["name"] for v in COSIG["vectors"]])
def test_every_cosignature_vector_in_both_verifiers(
    v: dict[str, Any],
    vector_keys: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bundle = _vector_bundle(tmp_path / "b", v["note"])
    pins: list[str | Path] = ["--vkey", vector_keys["log"], "--witness-key", vector_keys["jp"]]
    pins += ["--witness-key", vector_keys["mn"]]
    names = {COSIG["witnesses"][s]["name"]: s for s in COSIG["witnesses"]}
    if not v["expect"]["valid"]:
        for bad_k in ("1", "2"):
            code, _, err, _ = both(capsys, bundle, *pins, "--min-witnesses", bad_k)
            assert code == 1 and "does not verify over this checkpoint" in err
        return
    want = v["expect"]["witnesses"]
    for k in (1, 2):
        code, out, err, _ = both(capsys, bundle, *pins, "--min-witnesses", str(k))
        if k <= len(want):
            assert code == 0, err
            got = out.splitlines()[-1].split(": ", 2)[2].split(", ")
            assert [names[n] for n in got] == want
            assert out.splitlines()[-1].startswith(f"OK: cosigned by {len(want)} pinned witnesses")
        else:
            assert code == 1
            assert f"has {len(want)} valid cosignatures by pinned witnesses" in err
            assert err.rstrip().endswith(f"want at least {k}")


# --- bundles cosigned here -------------------------------------------------------------


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("witnesses")
    witnesses = {s: WitnessKey.generate(f"witness.{s}.example/a6gw") for s in ("jp", "mn", "un")}
    for short, w in witnesses.items():
        (out / f"{short}.vkey").write_text(w.vkey() + "\n", encoding="utf-8")
    (out / "both.vkey").write_text(witnesses["jp"].vkey() + "\n\n" + witnesses["mn"].vkey())
    return {"log": LogKey.generate(ORIGIN), "w": witnesses, "dir": out}


def _cosigned(directory: Path, keys: dict[str, Any], signers: list[str], n: int = 9) -> Path:
    cp = write_bundle(directory, make_entries(n), keys["log"], ORIGIN)
    note = (directory / CHECKPOINT_FILE).read_text(encoding="utf-8")
    lines = [keys["w"][s].cosign(cp, TIME) for s in signers]
    (directory / CHECKPOINT_FILE).write_text(add_cosignatures(note, lines), encoding="utf-8")
    return directory


def _pins(keys: dict[str, Any], *shorts: str) -> list[str | Path]:
    out: list[str | Path] = []
    for s in shorts:
        out += ["--witness-key", keys["dir"] / f"{s}.vkey"]
    return out


@pytest.mark.parametrize("signers", [[], ["jp"], ["jp", "mn"]], ids=["0", "1", "2"])
@pytest.mark.parametrize("k", [1, 2])
def test_k_against_the_valid_cosignatures(
    signers: list[str],
    k: int,
    keys: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bundle = _cosigned(tmp_path / "b", keys, signers)
    code, out, err, _ = both(capsys, bundle, *_pins(keys, "jp", "mn"), "--min-witnesses", str(k))
    if len(signers) >= k:
        assert code == 0
        assert out.splitlines()[0].startswith(f"OK origin={ORIGIN} size=9 root=")
        names = ", ".join(keys["w"][s].name for s in signers)
        assert (
            out.splitlines()[1]
            == f"OK: cosigned by {len(signers)} pinned witnesses (at least {k}): {names}"
        )
    else:
        got = ", ".join(keys["w"][s].name for s in signers) or "none"
        want = (
            f"has {len(signers)} valid cosignatures by pinned witnesses ({got}), want at least {k}"
        )
        assert code == 1 and want in err


def test_k_defaults_to_one_and_a_file_may_hold_several_keys(
    keys: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = _cosigned(tmp_path / "b", keys, ["mn"])
    code, out, _, _ = both(capsys, bundle, "--witness-key", keys["dir"] / "both.vkey")
    assert code == 0 and "(at least 1)" in out
    code, _, err, _ = both(capsys, bundle, *_pins(keys, "jp"))  # only JP pinned: MN is not counted
    assert code == 1 and "has 0 valid cosignatures" in err


def test_a_cosignature_of_another_checkpoint_fails(
    keys: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = _cosigned(tmp_path / "b", keys, ["mn"])
    note = (bundle / CHECKPOINT_FILE).read_text(encoding="utf-8")
    smaller = write_bundle(tmp_path / "old", make_entries(5), keys["log"], ORIGIN)
    stale = keys["w"]["jp"].cosign(smaller, TIME)  # JP's line over the size-5 checkpoint
    (bundle / CHECKPOINT_FILE).write_text(add_cosignatures(note, [stale]), encoding="utf-8")
    w = keys["w"]["jp"].cosigner()
    want = f"cosignature by {w.name}+{w.key_id.hex()} does not verify over this checkpoint"
    for k in ("1", "2"):  # MN's valid line does not save it, whatever K
        code, _, err, _ = both(capsys, bundle, *_pins(keys, "jp", "mn"), "--min-witnesses", k)
        assert code == 1 and want in err
    code, out, _, _ = both(capsys, bundle, *_pins(keys, "mn"))  # JP not pinned: its line ignored
    assert code == 0 and out.endswith(f"(at least 1): {keys['w']['mn'].name}\n")


def test_a_line_repeated_counts_once(
    keys: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = _cosigned(tmp_path / "b", keys, ["jp"])
    path = bundle / CHECKPOINT_FILE
    note = path.read_text(encoding="utf-8")
    line = keys["w"]["jp"].cosign(Checkpoint.from_text(note.split("\n\n")[0] + "\n"), TIME)
    path.write_text(note + line, encoding="utf-8")  # the same line twice
    assert path.read_text(encoding="utf-8").count(line) == 2
    later = keys["w"]["jp"].cosign(Checkpoint.from_text(note.split("\n\n")[0] + "\n"), TIME + 60)
    path.write_text(note + line + later, encoding="utf-8")  # and once more, another time
    pins = _pins(keys, "jp", "mn")
    code, _, err, _ = both(capsys, bundle, *pins, "--min-witnesses", "2")
    assert code == 1 and "has 1 valid cosignatures by pinned witnesses" in err
    code, out, _, _ = both(capsys, bundle, *pins)
    assert code == 0 and "OK: cosigned by 1 pinned witnesses (at least 1)" in out
    # one key pinned twice is one witness: K = 2 is a policy no note can meet
    code, _, err, _ = both(capsys, bundle, *pins[:2], *pins[:2], "--min-witnesses", "2")
    assert code == 2 and "--min-witnesses 2: give a number from 1 to 1 (keys pinned)" in err


def test_a_witness_that_is_not_pinned_is_not_counted(
    keys: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = _cosigned(tmp_path / "b", keys, ["jp", "un"])
    code, _, err, _ = both(capsys, bundle, *_pins(keys, "jp", "mn"), "--min-witnesses", "2")
    assert code == 1 and f"({keys['w']['jp'].name}), want at least 2" in err


def test_a_range_bundle_needs_the_cosignatures_too(
    keys: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gateway.audit.export import export_bundle
    from gateway.audit.sequencer import Sequencer
    from gateway.audit.store import AuditStore
    from gateway.core.topics import AUDIT_TOPIC

    seq = Sequencer(AuditStore(tmp_path / "audit.sqlite"), keys["log"], ORIGIN)
    seq.take_over("test", None)
    seq.append([(f"ev-{i}", e) for i, e in enumerate(make_entries(12))], (AUDIT_TOPIC, 0, 12))
    cp, note = seq.checkpoint()
    cosigned = add_cosignatures(note, [keys["w"]["jp"].cosign(cp, TIME)])
    export_bundle(tmp_path / "r", seq.store, cosigned, [keys["log"].verifier()], start=3, end=7)
    result = run_node(tmp_path / "r", *_pins(keys, "jp"))
    assert result.returncode == 0 and "range=[3,7)" in result.stdout
    assert "OK: cosigned by 1 pinned witnesses" in result.stdout
    result = run_node(tmp_path / "r", *_pins(keys, "jp", "mn"), "--min-witnesses", "2")
    assert result.returncode == 1 and "has 1 valid cosignatures" in result.stderr


# --- a policy no checkpoint can meet: exit 2, nothing checked --------------------------------


def test_usage_errors(
    keys: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = _cosigned(tmp_path / "b", keys, ["jp", "mn"])
    (tmp_path / "empty.vkey").write_text("\n \n", encoding="utf-8")
    log_vkey = tmp_path / "log-as-witness.vkey"
    log_vkey.write_text(keys["log"].public_vkey() + "\n", encoding="utf-8")
    two = _pins(keys, "jp", "mn")
    cases: list[tuple[list[str | Path], str]] = [
        (["--min-witnesses", "1"], "--min-witnesses needs --witness-key FILE"),
        ([*two, "--min-witnesses", "0"], "--min-witnesses 0: give a number from 1 to 2"),
        ([*two, "--min-witnesses", "3"], "--min-witnesses 3: give a number from 1 to 2"),
        (["--witness-key", tmp_path / "empty.vkey"], "empty.vkey: no witness key line"),
        (["--witness-key", tmp_path / "nope.vkey"], "cannot read --witness-key"),
        (
            ["--witness-key", log_vkey],
            "line 1: witness key a6gw.example/log: type byte 01, want 04",
        ),
    ]
    for args, want in cases:
        code, out, err, python_err = both(capsys, bundle, *args)
        assert code == 2 and want in err and out == "", (args, err)
        assert want in python_err, (args, python_err)
    bad_k = run_node(bundle, *two, "--min-witnesses", "two")
    assert bad_k.returncode == 2 and "--min-witnesses two: not a whole number" in bad_k.stderr
    assert run_node(bundle, "--witness-key").returncode == 2
