"""The independent Node.js verifier (tools/verify-bundle.mjs) against Python-written bundles.

The two implementations share no code, so agreement on good bundles and on every tamper
case checks both. Bundles are built with the project's Python API; the verifier runs as a
subprocess. Shared RFC 6962 vectors are read in place from ../shared/vectors when present.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.audit.bundle import (
    CHECKPOINT_FILE,
    ENTRIES_FILE,
    VKEY_FILE,
    verify_bundle,
    write_bundle,
)
from gateway.audit.export import export_bundle
from gateway.audit.note import Checkpoint, LogKey
from gateway.audit.rfc6962 import leaf_hash, root_from_leaf_hashes
from gateway.audit.sequencer import Sequencer
from gateway.audit.store import AuditStore
from gateway.core.topics import AUDIT_TOPIC
from gateway.errors import VerificationError

NODE = shutil.which("node")
if NODE is None:
    pytest.skip("node is not on PATH", allow_module_level=True)

REPO = Path(__file__).resolve().parents[2]
VERIFIER = REPO / "tools" / "verify-bundle.mjs"
SHARED_MERKLE = REPO / ".." / "shared" / "vectors" / "merkle"
ORIGIN = "a6gw.example/log"
KEY_NAME = "a6gw.example/log"

# c2sp.org/signed-note "Example" (Ed25519); the dash is U+2014.
EXAMPLE_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
EXAMPLE_SIG = (
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM="
)
EXAMPLE_NOTE = f"This is an example message.\n\n\u2014 example.com/foo {EXAMPLE_SIG}\n"

# RFC 6962 test leaves (the inputs behind the transparency-dev Merkle vectors); no 0x0A.
RFC6962_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]

# Bytes other splitters treat as line ends (CR, NEL, U+2028) must stay inside the entry.
_ODD = [b"", b"\r", "\u2028".encode(), b"\xc2\x85", b"\x00", "\u00e9".encode(), b"\r\x0b\x0c"]


def make_entries(n: int, tag: str = "e") -> list[bytes]:
    return [b'{"i":%d,"tag":"%s"}' % (i, tag.encode()) + _ODD[i % len(_ODD)] for i in range(n)]


@pytest.fixture(scope="module")
def log_key() -> LogKey:
    return LogKey.generate(KEY_NAME)


@pytest.fixture(scope="module")
def other_key() -> LogKey:
    return LogKey.generate(KEY_NAME)  # same name, different key: only the key id differs


def run_node(*args: str | Path) -> subprocess.CompletedProcess[str]:
    cmd = [str(NODE), str(VERIFIER), *(str(a) for a in args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def assert_ok(result: subprocess.CompletedProcess[str], size: int, root: bytes) -> None:
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"OK origin={ORIGIN} size={size} root={root.hex()}\n"
    assert result.stderr == ""


def assert_fail(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("FAIL: ")
    assert result.stderr.count("\n") == 1
    assert message in result.stderr


def python_rejects(directory: Path, **kwargs: object) -> bool:
    try:
        verify_bundle(directory, **kwargs)  # type: ignore[arg-type]
    except VerificationError:
        return True
    return False


def root_of(entries: list[bytes]) -> bytes:
    return root_from_leaf_hashes([leaf_hash(e) for e in entries])


@pytest.fixture
def bundle9(tmp_path: Path, log_key: LogKey) -> tuple[Path, list[bytes], Checkpoint]:
    entries = make_entries(9)
    directory = tmp_path / "bundle"
    return directory, entries, write_bundle(directory, entries, log_key, ORIGIN)


# --- good bundles ------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 8, 9, 100, 20_000])
def test_bundle_verifies_with_the_python_root(tmp_path: Path, log_key: LogKey, n: int) -> None:
    cp = write_bundle(tmp_path, make_entries(n), log_key, ORIGIN)
    assert_ok(run_node(tmp_path), n, cp.root)
    assert_ok(run_node(tmp_path, "--vkey", tmp_path / VKEY_FILE), n, cp.root)


def test_empty_log_is_the_sha256_of_nothing(tmp_path: Path, log_key: LogKey) -> None:
    write_bundle(tmp_path, [], log_key, ORIGIN)
    assert (tmp_path / ENTRIES_FILE).read_bytes() == b""
    empty = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert_ok(run_node(tmp_path), 0, empty)


def test_extension_lines_and_unknown_cosignatures_are_accepted(
    tmp_path: Path, log_key: LogKey, other_key: LogKey
) -> None:
    cp = write_bundle(tmp_path, make_entries(5), log_key, ORIGIN)
    text = Checkpoint(ORIGIN, cp.size, cp.root, ("ext: one", "ext two")).to_text()
    foreign = LogKey.generate("witness.example/w1").sign(text).rsplit("\n\n", 1)[1]
    stranger = other_key.sign(text).rsplit("\n\n", 1)[1]  # same name, unknown key id
    note = text + "\n" + foreign + log_key.sign(text).rsplit("\n\n", 1)[1] + stranger
    (tmp_path / CHECKPOINT_FILE).write_text(note, encoding="utf-8")
    assert_ok(run_node(tmp_path), 5, cp.root)
    assert not python_rejects(tmp_path)


# --- tampered bundles ----------------------------------------------------------------------


def test_one_byte_of_an_entry_changed(bundle9: tuple[Path, list[bytes], Checkpoint]) -> None:
    directory, entries, cp = bundle9
    entries[4] = entries[4].replace(b'"i":4', b'"i":5')
    (directory / ENTRIES_FILE).write_bytes(b"".join(e + b"\n" for e in entries))
    want = f"root mismatch: checkpoint {cp.root.hex()} computed {root_of(entries).hex()}"
    assert_fail(run_node(directory), want)
    assert python_rejects(directory)


def test_an_entry_dropped(bundle9: tuple[Path, list[bytes], Checkpoint]) -> None:
    directory, entries, _ = bundle9
    del entries[3]
    (directory / ENTRIES_FILE).write_bytes(b"".join(e + b"\n" for e in entries))
    assert_fail(run_node(directory), "size mismatch: checkpoint 9, entries 8")
    assert python_rejects(directory)


def test_two_entries_swapped(bundle9: tuple[Path, list[bytes], Checkpoint]) -> None:
    directory, entries, cp = bundle9
    entries[2], entries[6] = entries[6], entries[2]
    (directory / ENTRIES_FILE).write_bytes(b"".join(e + b"\n" for e in entries))
    want = f"root mismatch: checkpoint {cp.root.hex()} computed {root_of(entries).hex()}"
    assert_fail(run_node(directory), want)
    assert python_rejects(directory)


def test_missing_final_newline(bundle9: tuple[Path, list[bytes], Checkpoint]) -> None:
    directory, _, _ = bundle9
    path = directory / ENTRIES_FILE
    path.write_bytes(path.read_bytes()[:-1])
    assert_fail(run_node(directory), "entries.ndjson does not end with a newline")
    assert python_rejects(directory)


def test_crlf_conversion_is_a_root_mismatch(bundle9: tuple[Path, list[bytes], Checkpoint]) -> None:
    directory, _, cp = bundle9
    path = directory / ENTRIES_FILE
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert_fail(run_node(directory), f"root mismatch: checkpoint {cp.root.hex()} computed ")


def test_one_byte_of_the_checkpoint_root_changed(
    bundle9: tuple[Path, list[bytes], Checkpoint],
) -> None:
    directory, _, cp = bundle9
    path = directory / CHECKPOINT_FILE
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[2] == base64.b64encode(cp.root).decode()
    lines[2] = base64.b64encode(bytes([cp.root[0] ^ 0x01]) + cp.root[1:]).decode()
    path.write_text("\n".join(lines), encoding="utf-8")
    assert_fail(run_node(directory), "checkpoint signature invalid")
    assert python_rejects(directory)


def test_checkpoint_signature_byte_flipped(bundle9: tuple[Path, list[bytes], Checkpoint]) -> None:
    directory, _, _ = bundle9
    path = directory / CHECKPOINT_FILE
    text, sig_line = path.read_text(encoding="utf-8").rsplit("\n\n", 1)
    dash_name, b64 = sig_line.removesuffix("\n").rsplit(" ", 1)
    blob = bytearray(base64.b64decode(b64))
    blob[20] ^= 0x80  # inside the Ed25519 signature (the key id is bytes 0..3)
    path.write_text(f"{text}\n\n{dash_name} {base64.b64encode(blob).decode()}\n", "utf-8")
    assert_fail(run_node(directory), "checkpoint signature invalid")
    assert python_rejects(directory)


def test_wrong_log_vkey(bundle9: tuple[Path, list[bytes], Checkpoint], other_key: LogKey) -> None:
    directory, _, _ = bundle9
    (directory / VKEY_FILE).write_text(other_key.public_vkey() + "\n", encoding="utf-8")
    assert_fail(run_node(directory), "no signature by the log key")
    assert python_rejects(directory)


def test_vkey_key_id_mismatch(bundle9: tuple[Path, list[bytes], Checkpoint]) -> None:
    directory, _, _ = bundle9
    path = directory / VKEY_FILE
    name, key_id, key = path.read_text(encoding="utf-8").split("+", 2)
    bad_id = f"{int(key_id, 16) ^ 1:08x}"
    path.write_text(f"{name}+{bad_id}+{key}", encoding="utf-8")
    assert_fail(run_node(directory), "vkey key id mismatch")
    assert python_rejects(directory)


def test_trusted_vkey_differs(
    bundle9: tuple[Path, list[bytes], Checkpoint], other_key: LogKey, tmp_path: Path
) -> None:
    directory, _, _ = bundle9
    trusted = tmp_path / "trusted.vkey"
    trusted.write_text(other_key.public_vkey() + "\n", encoding="utf-8")
    assert_fail(run_node(directory, "--vkey", trusted), "log.vkey is not the trusted key")
    assert python_rejects(directory, trusted_vkey=other_key.public_vkey())


def test_non_canonical_checkpoint_size(tmp_path: Path, log_key: LogKey) -> None:
    cp = write_bundle(tmp_path, make_entries(9), log_key, ORIGIN)
    root = base64.b64encode(cp.root).decode()
    (tmp_path / CHECKPOINT_FILE).write_text(log_key.sign(f"{ORIGIN}\n09\n{root}\n"), "utf-8")
    assert_fail(run_node(tmp_path), 'tree size "09" is not a canonical decimal uint64')
    assert python_rejects(tmp_path)


# --- since: the bundle extends an earlier checkpoint ----------------------------------------


@pytest.mark.parametrize(("m", "n"), [(0, 9), (1, 9), (5, 9), (8, 9), (9, 9), (64, 100)])
def test_since_an_older_checkpoint_passes(tmp_path: Path, log_key: LogKey, m: int, n: int) -> None:
    entries = make_entries(n)
    write_bundle(tmp_path / "old", entries[:m], log_key, ORIGIN)
    cp = write_bundle(tmp_path / "new", entries, log_key, ORIGIN)
    old = tmp_path / "old" / CHECKPOINT_FILE
    assert_ok(run_node(tmp_path / "new", "--since", old), n, cp.root)
    assert not python_rejects(tmp_path / "new", since=old)


@pytest.mark.parametrize("k", [0, 2, 4])
def test_since_detects_a_forked_log(tmp_path: Path, log_key: LogKey, k: int) -> None:
    entries = make_entries(9)
    write_bundle(tmp_path / "old", entries[:5], log_key, ORIGIN)
    entries[k] = b'{"i":%d,"rewritten":true}' % k
    write_bundle(tmp_path / "new", entries, log_key, ORIGIN)  # validly signed on its own
    assert_ok(run_node(tmp_path / "new"), 9, root_of(entries))
    old = tmp_path / "old" / CHECKPOINT_FILE
    want = "since: first 5 entries do not produce the old root (log rewritten)"
    assert_fail(run_node(tmp_path / "new", "--since", old), want)
    assert python_rejects(tmp_path / "new", since=old)


def test_since_larger_than_the_bundle_fails(tmp_path: Path, log_key: LogKey) -> None:
    entries = make_entries(9)
    write_bundle(tmp_path / "old", entries, log_key, ORIGIN)
    write_bundle(tmp_path / "new", entries[:5], log_key, ORIGIN)
    old = tmp_path / "old" / CHECKPOINT_FILE
    assert_fail(run_node(tmp_path / "new", "--since", old), "since: old checkpoint size 9 > 5")
    assert python_rejects(tmp_path / "new", since=old)


def test_since_by_another_key_or_origin_fails(
    tmp_path: Path, log_key: LogKey, other_key: LogKey
) -> None:
    entries = make_entries(9)
    write_bundle(tmp_path / "new", entries, log_key, ORIGIN)
    write_bundle(tmp_path / "foreign", entries[:5], other_key, ORIGIN)
    write_bundle(tmp_path / "elsewhere", entries[:5], log_key, "other.example/log")
    foreign = tmp_path / "foreign" / CHECKPOINT_FILE
    assert_fail(run_node(tmp_path / "new", "--since", foreign), "no signature by the log key")
    elsewhere = tmp_path / "elsewhere" / CHECKPOINT_FILE
    assert_fail(run_node(tmp_path / "new", "--since", elsewhere), "since: origin mismatch")


# --- command line ----------------------------------------------------------------------------


def test_usage(tmp_path: Path) -> None:
    help_ = run_node("--help")
    assert help_.returncode == 0
    assert help_.stdout.startswith("usage: node tools/verify-bundle.mjs DIR")
    for args in [(), (tmp_path, tmp_path), (tmp_path, "--since"), (tmp_path, "--bogus")]:
        result = run_node(*args)
        assert result.returncode == 2, args
        assert "usage:" in result.stderr
    missing = run_node(tmp_path / "nope")
    assert missing.returncode == 2  # as `a6gw verify`: nothing was checked
    assert "is not a folder" in missing.stderr
    for opt in ("--vkey", "--since"):
        unreadable = run_node(tmp_path, opt, tmp_path / "nope")
        assert unreadable.returncode == 2, opt
        assert f"cannot read {opt}" in unreadable.stderr
    incomplete = run_node(tmp_path)  # a folder without the bundle's files does not verify
    assert incomplete.returncode == 1
    assert "FAIL: cannot read" in incomplete.stderr


# --- external vectors ------------------------------------------------------------------------


def shared_roots() -> dict[int, str]:
    """Tree size -> base64 root from the shared happy-path proof vectors (RFC 6962 leaves)."""
    roots: dict[int, str] = {}
    for path in sorted(SHARED_MERKLE.glob("**/happy-path.json")):
        v = json.loads(path.read_text(encoding="utf-8"))
        pairs = [("treeSize", "root"), ("size1", "root1"), ("size2", "root2")]
        for size_key, root_key in pairs:
            if size_key in v:
                assert roots.setdefault(v[size_key], v[root_key]) == v[root_key], path
    return roots


def test_roots_match_the_shared_rfc6962_vectors(tmp_path: Path, log_key: LogKey) -> None:
    if not SHARED_MERKLE.is_dir():
        pytest.skip(f"{SHARED_MERKLE} is absent")
    roots = shared_roots()
    assert roots, "no happy-path vectors found"
    for size, root_b64 in sorted(roots.items()):
        directory = tmp_path / str(size)
        write_bundle(directory, RFC6962_LEAVES[:size], log_key, ORIGIN)
        assert_ok(run_node(directory), size, base64.b64decode(root_b64))


def test_c2sp_signed_note_example(tmp_path: Path) -> None:
    note, vkey = tmp_path / "note", tmp_path / "vkey"
    note.write_text(EXAMPLE_NOTE, encoding="utf-8")
    vkey.write_text(EXAMPLE_VKEY, encoding="utf-8")
    result = run_node("--note-only", note, vkey)
    assert (result.returncode, result.stdout, result.stderr) == (0, "OK note\n", "")
    note.write_text(EXAMPLE_NOTE.replace("example message", "example massage"), "utf-8")
    assert_fail(run_node("--note-only", note, vkey), "checkpoint signature invalid")


# -- bundles exported from a store: ranges with inclusion proofs, rotated keys --------------


def _sequenced(tmp_path: Path, key: LogKey, n: int) -> tuple[Sequencer, str]:
    seq = Sequencer(AuditStore(tmp_path / "audit.sqlite"), key, ORIGIN)
    seq.take_over("test", None)
    seq.append([(f"ev-{i}", e) for i, e in enumerate(make_entries(n))], (AUDIT_TOPIC, 0, n))
    return seq, seq.checkpoint()[1]


@pytest.mark.parametrize(("start", "end"), [(0, 1), (0, 37), (5, 6), (36, 37), (10, 10)])
def test_a_range_bundle_verifies_by_inclusion_proofs(
    tmp_path: Path, log_key: LogKey, start: int, end: int
) -> None:
    seq, note = _sequenced(tmp_path, log_key, 37)
    out = tmp_path / "range"
    export_bundle(out, seq.store, note, [log_key.verifier()], start=start, end=end)
    result = run_node(out)
    assert result.returncode == 0, result.stderr
    assert f"range=[{start},{end})" in result.stdout


def test_a_range_bundle_with_a_changed_entry_or_proof_fails(
    tmp_path: Path, log_key: LogKey
) -> None:
    seq, note = _sequenced(tmp_path, log_key, 20)
    out = tmp_path / "range"
    export_bundle(out, seq.store, note, [log_key.verifier()], start=4, end=9)
    proofs = (out / "proofs.ndjson").read_text().splitlines()
    doc = json.loads(proofs[2])
    doc["proof"][0] = base64.b64encode(b"\x07" * 32).decode()
    (out / "proofs.ndjson").write_text(
        "\n".join([*proofs[:2], json.dumps(doc), *proofs[3:]]) + "\n"
    )
    assert_fail(run_node(out), "entry 6: inclusion proof gives root")
    assert python_rejects(out)


def test_after_a_rotation_the_bundle_and_an_old_checkpoint_verify(
    tmp_path: Path, log_key: LogKey
) -> None:
    seq, old_note = _sequenced(tmp_path, log_key, 12)
    (tmp_path / "old.cp").write_text(old_note)
    new_key = LogKey.generate("a6gw.test/log-2027")
    rotated = Sequencer(seq.store, new_key, ORIGIN, previous=[log_key.verifier()])
    rotated.take_over("test", old_note)
    rotated.append([("ev-new", b'{"n":"new"}')], (AUDIT_TOPIC, 0, 13))
    _cp, note = rotated.checkpoint()
    out = tmp_path / "bundle"
    export_bundle(out, seq.store, note, rotated.verifiers)
    trusted = tmp_path / "trusted.vkey"
    trusted.write_text(new_key.public_vkey() + "\n")
    result = run_node(out, "--since", tmp_path / "old.cp", "--vkey", trusted)
    assert result.returncode == 0, result.stderr
