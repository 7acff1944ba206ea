"""``a6gw verify`` exits as auditors expect: 0 verified, 1 does not verify, 2 nothing checked;
it warns when no key is pinned, and no user mistake ends in a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.audit.bundle import CHECKPOINT_FILE, ENTRIES_FILE, VKEY_FILE, write_bundle
from gateway.audit.note import LogKey
from gateway.cli.main import main

ORIGIN = "a6gw.test/verify"
ENTRIES = [b'{"n":1}', b'{"n":2}', b'{"n":3}']


@pytest.fixture
def key() -> LogKey:
    return LogKey.generate(ORIGIN)


@pytest.fixture
def bundle(tmp_path: Path, key: LogKey) -> Path:
    write_bundle(tmp_path / "bundle", ENTRIES, key, ORIGIN)
    return tmp_path / "bundle"


@pytest.fixture
def vkey(tmp_path: Path, key: LogKey) -> Path:
    path = tmp_path / "log.vkey"
    path.write_text(key.public_vkey() + "\n", encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["verify", *(str(a) for a in args)])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err


def test_a_pinned_bundle_verifies_without_a_warning(
    bundle: Path, vkey: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, bundle, "--vkey", vkey)
    assert (code, err) == (0, "")
    assert out.startswith("OK: 3 entries") and "(pinned key)" in out


def test_without_vkey_it_verifies_but_warns_what_was_not_checked(
    bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, bundle)
    assert code == 0
    assert "not pinned" in out
    assert err.startswith("warning: no key pinned (--vkey)")
    assert "NOT checked" in err and "log.vkey" in err


def test_a_tampered_entry_does_not_verify(
    bundle: Path, vkey: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = bundle / ENTRIES_FILE
    entries.write_bytes(entries.read_bytes().replace(b'"n":2', b'"n":9'))
    code, out, err = run(capsys, bundle, "--vkey", vkey)
    assert (code, out) == (1, "")
    assert err.startswith("FAIL: [AUD-VERIFY] root mismatch")


def test_a_bad_signature_does_not_verify(
    bundle: Path, vkey: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    note = bundle / CHECKPOINT_FILE
    text = note.read_text(encoding="utf-8")
    sig = text.rsplit(" ", 1)[1]
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    note.write_text(text[: -len(sig)] + flipped, encoding="utf-8")
    code, _out, err = run(capsys, bundle, "--vkey", vkey)
    assert code == 1
    assert err.startswith("FAIL: ") and CHECKPOINT_FILE in err


def test_a_bundle_of_another_key_does_not_verify_against_the_pinned_one(
    tmp_path: Path, vkey: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_bundle(tmp_path / "forged", ENTRIES, LogKey.generate(ORIGIN), ORIGIN)
    code, _out, err = run(capsys, tmp_path / "forged", "--vkey", vkey)
    assert code == 1
    assert "trusted key" in err


def test_a_bundle_missing_its_files_does_not_verify(
    bundle: Path, vkey: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (bundle / VKEY_FILE).unlink()
    code, _out, err = run(capsys, bundle, "--vkey", vkey)
    assert code == 1
    assert "FAIL: " in err and VKEY_FILE in err


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.vkey", "cannot read --vkey"),
        (lambda d: d, "cannot read --vkey"),  # a folder
        (lambda d: _write(d / "empty.vkey", ""), "no verifier key line"),
        (lambda d: _write(d / "bad.vkey", "not a key\n"), "line 1"),
        (lambda d: _write(d / "bin.vkey", b"\xff\xfe"), "not UTF-8"),
    ],
)
def test_a_bad_vkey_file_is_a_usage_error(
    bundle: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: object,
    message: str,
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    code, out, err = run(capsys, bundle, "--vkey", path)
    assert (code, out) == (2, "")
    assert message in err and str(path) in err


def test_a_missing_since_file_or_bundle_folder_is_a_usage_error(
    bundle: Path, vkey: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(capsys, bundle, "--vkey", vkey, "--since", tmp_path / "old.cp")
    assert code == 2 and "cannot read --since" in err
    code, _out, err = run(capsys, tmp_path / "nope", "--vkey", vkey)
    assert code == 2 and "does not exist" in err
    code, _out, err = run(capsys, vkey)  # a file, not a folder
    assert code == 2 and "is not a folder" in err


def test_a_since_checkpoint_of_another_log_does_not_verify(
    bundle: Path, vkey: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_bundle(tmp_path / "other", [b"x"], LogKey.generate(ORIGIN), ORIGIN)
    since = tmp_path / "other" / CHECKPOINT_FILE
    code, _out, err = run(capsys, bundle, "--vkey", vkey, "--since", since)
    assert code == 1 and err.startswith("FAIL: ")


def test_api_usage_errors_name_the_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = "https://127.0.0.1:1"
    code, _out, err = run(capsys, "--api", api, "--vkey", tmp_path / "nope", "--ca", tmp_path)
    assert code == 2 and "cannot read --vkey" in err
    vkey = _write(tmp_path / "v", LogKey.generate(ORIGIN).public_vkey())
    code, _out, err = run(capsys, "--api", api, "--vkey", vkey, "--ca", tmp_path / "ca.pem")
    assert code == 2 and "A6-CFG-TLS" in err


def _write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path
