"""C2SP signed notes, verifier keys, checkpoints and the log key file."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.note import (
    MAX_SIGNATURES,
    Checkpoint,
    LogKey,
    Verifier,
    key_id,
    open_checkpoint,
    parse_vkey,
    sign_checkpoint,
    sign_note,
    verify_note,
    vkey_line,
)
from gateway.audit.rfc6962 import EMPTY_ROOT, leaf_hash
from gateway.errors import AuditError, VerificationError

# c2sp.org/signed-note "Example" (Ed25519); the dash is U+2014.
EXAMPLE_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
EXAMPLE_TEXT = "This is an example message.\n"
EXAMPLE_SIG = (
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM="
)
EXAMPLE_NOTE = f"{EXAMPLE_TEXT}\n\u2014 example.com/foo {EXAMPLE_SIG}\n"

ORIGIN = "a6gw.example/audit"
ROOT = leaf_hash(b"root")


@pytest.fixture(scope="module")
def example() -> Verifier:
    return parse_vkey(EXAMPLE_VKEY)


@pytest.fixture(scope="module")
def log_key() -> LogKey:
    return LogKey.generate(ORIGIN)


# --- verifier keys ------------------------------------------------------------------


def test_example_vkey_parses(example: Verifier) -> None:
    assert example.name == "example.com/foo"
    assert example.key_id.hex() == "530d903a"
    assert key_id(example.name, example.public_key) == example.key_id
    assert example.to_vkey() == EXAMPLE_VKEY
    assert vkey_line(example.name, example.public_key) == EXAMPLE_VKEY


def test_vkey_with_plus_in_base64_parses(log_key: LogKey) -> None:
    # base64 may contain "+"; a naive split("+") would break such keys.
    for _ in range(64):
        key = LogKey.generate("plus.example/log")
        line = key.public_vkey()
        if "+" in line.split("+", 2)[2]:
            assert parse_vkey(line) == key.verifier()
            return
    pytest.fail("no generated key had a '+' in its base64 (astronomically unlikely)")


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("example.com/foo", "want name\\+hexid\\+base64key"),
        ("example.com/foo+530d903a", "want name"),
        ("+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "invalid key name"),
        ("example com+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "key name"),
        ("example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "8 hex"),
        ("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "does not match"),
        ("example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "does not match"),
        ("example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "Ed25519"),
        ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2", "base64"),
        ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k\n", "base64"),
    ],
)
def test_bad_vkeys_are_rejected(line: str, match: str) -> None:
    with pytest.raises(VerificationError, match=match):
        parse_vkey(line)


# --- signed notes -------------------------------------------------------------------


def test_c2sp_example_note_verifies(example: Verifier) -> None:
    assert verify_note(EXAMPLE_NOTE, [example]) == EXAMPLE_TEXT
    assert verify_note(EXAMPLE_NOTE.encode("utf-8"), [example]) == EXAMPLE_TEXT


@pytest.mark.parametrize(
    ("note", "match"),
    [
        (EXAMPLE_NOTE.replace("example message", "example massage"), "invalid"),
        (EXAMPLE_NOTE.replace("Ztg1", "Ztg2"), "line 1 by example.com/foo\\+530d903a is invalid"),
        (EXAMPLE_NOTE.replace("Uw2Q", "Uw2R"), "no signature by a known key"),
        (EXAMPLE_NOTE.replace("\n\n", "\n"), "no blank line"),
        (EXAMPLE_NOTE.replace("\u2014", "-"), "malformed"),
        (EXAMPLE_NOTE.replace("\u2014 ", "\u2014"), "malformed"),
        (EXAMPLE_NOTE.replace("example.com/foo ", "example.com/foo  "), "base64"),
        (EXAMPLE_NOTE.replace("example.com/foo ", "example.com/bar "), "no signature by a known"),
        (EXAMPLE_NOTE.replace("IneyaQM=", "IneyaQM"), "base64"),
        (EXAMPLE_NOTE.replace("IneyaQM=", "Ineya*M="), "base64"),
        (EXAMPLE_NOTE[:-1], "final newline"),
        (EXAMPLE_NOTE + "\n", "final newline"),
        (EXAMPLE_NOTE.replace("This", "Th\tis"), "control character 0x09"),
        (EXAMPLE_NOTE.replace("message.\n", "message.\r\n"), "control character 0x0d"),
        (f"{EXAMPLE_TEXT}\n\u2014 example.com/foo U3Q=\n", ">= 5"),
        ("\ud800" + EXAMPLE_NOTE, "UTF-8"),
    ],
)
def test_mutated_example_note_fails(example: Verifier, note: str, match: str) -> None:
    with pytest.raises(VerificationError, match=match):
        verify_note(note, [example])


def test_non_utf8_note_fails(example: Verifier) -> None:
    raw = EXAMPLE_NOTE.encode("utf-8").replace(b"example message", b"ex\xffample message")
    with pytest.raises(VerificationError, match="UTF-8 at byte"):
        verify_note(raw, [example])


def test_no_verifiers_fails() -> None:
    with pytest.raises(VerificationError, match="no signature by a known key"):
        verify_note(EXAMPLE_NOTE, [])


def test_unknown_signers_are_ignored(example: Verifier, log_key: LogKey) -> None:
    # A signature by another key (even with the same name) is ignored, not fatal.
    other = LogKey.generate("example.com/foo").sign(EXAMPLE_TEXT).split("\n\n")[1]
    stranger = LogKey.generate("stranger.example").sign(EXAMPLE_TEXT).split("\n\n")[1]
    note = EXAMPLE_NOTE + other + stranger
    assert verify_note(note, [example]) == EXAMPLE_TEXT
    with pytest.raises(VerificationError, match="no signature by a known key"):
        verify_note(EXAMPLE_TEXT + "\n" + other + stranger, [example])


def test_bad_signature_by_known_key_rejects_note(example: Verifier) -> None:
    forged = base64.b64encode(example.key_id + bytes(64)).decode()
    note = EXAMPLE_NOTE + f"\u2014 example.com/foo {forged}\n"
    with pytest.raises(VerificationError, match="signature line 2 by example.com/foo\\+530d903a"):
        verify_note(note, [example])


def test_signature_count_limit(example: Verifier) -> None:
    unknown = f"\u2014 unknown.example {base64.b64encode(bytes(68)).decode()}\n"
    ok = EXAMPLE_NOTE + unknown * (MAX_SIGNATURES - 1)
    assert verify_note(ok, [example]) == EXAMPLE_TEXT
    with pytest.raises(VerificationError, match="101 signature lines"):
        verify_note(ok + unknown, [example])


def test_sign_and_verify_round_trip(log_key: LogKey) -> None:
    text = "line one\n\nline three after a blank line \u2028 \u00e9\n"
    note = sign_note(text, log_key.name, log_key.private_key)
    assert note == log_key.sign(text)  # Ed25519 is deterministic
    assert verify_note(note, [log_key.verifier()]) == text
    assert verify_note(note, [parse_vkey(log_key.public_vkey())]) == text


@pytest.mark.parametrize(
    ("text", "name", "match"),
    [
        ("no newline", ORIGIN, "end with a newline"),
        ("", ORIGIN, "end with a newline"),
        ("bell \x07\n", ORIGIN, "control character"),
        ("ok\n", "has space", "key name"),
        ("ok\n", "has+plus", "key name"),
        ("ok\n", "", "key name"),
    ],
)
def test_sign_note_preconditions(text: str, name: str, match: str) -> None:
    with pytest.raises(AuditError, match=match):
        sign_note(text, name, Ed25519PrivateKey.generate())


def test_duplicate_verifier_entries_must_agree(example: Verifier) -> None:
    assert verify_note(EXAMPLE_NOTE, [example, example]) == EXAMPLE_TEXT
    clash = Verifier(example.name, example.key_id, bytes(32))
    with pytest.raises(AuditError, match="share name"):
        verify_note(EXAMPLE_NOTE, [example, clash])


# --- checkpoints --------------------------------------------------------------------


def test_checkpoint_round_trip_object_text_object() -> None:
    cp = Checkpoint(ORIGIN, 12345, ROOT, ("ext one", "ext \u2014 two"))
    assert Checkpoint.from_text(cp.to_text()) == cp


def test_checkpoint_round_trip_text_object_text() -> None:
    root = base64.b64encode(ROOT).decode()
    for text in (f"{ORIGIN}\n0\n{root}\n", f"{ORIGIN}\n18446744073709551615\n{root}\nx y\n"):
        assert Checkpoint.from_text(text).to_text() == text


def test_checkpoint_text_layout() -> None:
    text = Checkpoint(ORIGIN, 3, EMPTY_ROOT).to_text()
    assert text == f"{ORIGIN}\n3\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"


def test_c2sp_checkpoint_example_parses() -> None:
    # c2sp.org/tlog-checkpoint example body.
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    cp = Checkpoint.from_text(text)
    assert (cp.origin, cp.size, len(cp.root)) == ("example.com/behind-the-sofa", 20852163, 32)


ROOT_B64 = base64.b64encode(ROOT).decode()
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# Same 32 bytes, but the unused low bits of the last base64 digit set: non-canonical.
NONCANONICAL_ROOT = ROOT_B64[:-2] + _ALPHABET[_ALPHABET.index(ROOT_B64[-2]) ^ 1] + "="


@pytest.mark.parametrize(
    "text",
    [
        f"{ORIGIN}\n1\n{ROOT_B64}",  # no final newline
        f"{ORIGIN}\n1\n",  # missing root
        f"{ORIGIN}\n{ROOT_B64}\n",  # missing size
        f"\n1\n{ROOT_B64}\n",  # empty origin
        f"{ORIGIN}\n01\n{ROOT_B64}\n",  # leading zero
        f"{ORIGIN}\n00\n{ROOT_B64}\n",
        f"{ORIGIN}\n-1\n{ROOT_B64}\n",
        f"{ORIGIN}\n+1\n{ROOT_B64}\n",
        f"{ORIGIN}\n 1\n{ROOT_B64}\n",
        f"{ORIGIN}\n1.0\n{ROOT_B64}\n",
        f"{ORIGIN}\n1_0\n{ROOT_B64}\n",
        f"{ORIGIN}\n\uff11\n{ROOT_B64}\n",  # fullwidth digit one
        f"{ORIGIN}\n18446744073709551616\n{ROOT_B64}\n",  # 2**64
        f"{ORIGIN}\n{'9' * 5000}\n{ROOT_B64}\n",
        f"{ORIGIN}\n1\n{ROOT_B64[:-1]}\n",  # bad padding
        f"{ORIGIN}\n1\n{NONCANONICAL_ROOT}\n",  # non-canonical trailing bits
        f"{ORIGIN}\n1\n{ROOT_B64.replace('=', '')}\n",
        f"{ORIGIN}\n1\n{base64.b64encode(ROOT[:31]).decode()}\n",  # 31-byte root
        f"{ORIGIN}\n1\n{base64.urlsafe_b64encode(bytes([251]) * 32).decode()}\n",  # URL alphabet
        f"{ORIGIN}\n1\n{ROOT_B64}\n\n",  # empty extension line
        f"{ORIGIN}\r\n1\r\n{ROOT_B64}\r\n",  # CRLF
        f"{ORIGIN}\x00\n1\n{ROOT_B64}\n",
    ],
)
def test_malformed_checkpoints_are_rejected(text: str) -> None:
    with pytest.raises(VerificationError):
        Checkpoint.from_text(text)


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        ("", 1, ROOT, ()),
        ("a\nb", 1, ROOT, ()),
        (ORIGIN, -1, ROOT, ()),
        (ORIGIN, 2**64, ROOT, ()),
        (ORIGIN, True, ROOT, ()),
        (ORIGIN, 1, ROOT[:31], ()),
        (ORIGIN, 1, ROOT, ("",)),
        (ORIGIN, 1, ROOT, ("a\nb",)),
    ],
)
def test_invalid_checkpoint_fields(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    with pytest.raises(AuditError):
        Checkpoint(origin, size, root, extensions)


def test_signed_checkpoint_round_trip(log_key: LogKey) -> None:
    cp = Checkpoint(ORIGIN, 7, ROOT)
    note = sign_checkpoint(cp, log_key.name, log_key.private_key)
    assert note.startswith(cp.to_text() + "\n\u2014 " + ORIGIN + " ")
    assert open_checkpoint(note, log_key.verifier()) == cp
    with pytest.raises(VerificationError):
        open_checkpoint(note.replace("\n7\n", "\n8\n"), log_key.verifier())
    with pytest.raises(VerificationError, match="known key"):
        open_checkpoint(note, LogKey.generate(ORIGIN).verifier())


def test_signed_but_malformed_checkpoint_is_rejected(log_key: LogKey) -> None:
    note = log_key.sign(f"{ORIGIN}\n007\n{ROOT_B64}\n")
    with pytest.raises(VerificationError, match="canonical uint64"):
        open_checkpoint(note, log_key.verifier())


# --- log key file -------------------------------------------------------------------


def test_log_key_save_load_round_trip(tmp_path: Path, log_key: LogKey) -> None:
    path = tmp_path / "log-key.json"
    log_key.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert set(doc) == {"name", "private_key_pem"}
    assert doc["name"] == ORIGIN
    assert doc["private_key_pem"].startswith("-----BEGIN PRIVATE KEY-----\n")
    loaded = LogKey.load(path)
    assert loaded.name == ORIGIN
    assert loaded.public_vkey() == log_key.public_vkey()
    assert ORIGIN in repr(loaded) and "private_key" not in repr(loaded)


def test_log_key_save_refuses_to_overwrite(tmp_path: Path, log_key: LogKey) -> None:
    path = tmp_path / "log-key.json"
    log_key.save(path)
    with pytest.raises(AuditError, match="cannot write"):
        LogKey.generate(ORIGIN).save(path)
    other = LogKey.generate(ORIGIN)
    other.save(path, overwrite=True)
    assert LogKey.load(path).public_vkey() == other.public_vkey()


def _pem(key: ec.EllipticCurvePrivateKey | Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("not json", "cannot load"),
        ("[]", "exactly name and private_key_pem"),
        (json.dumps({"name": ORIGIN}), "exactly name"),
        (json.dumps({"name": 1, "private_key_pem": "x"}), "must be strings"),
        (json.dumps({"name": ORIGIN, "private_key_pem": "garbage"}), "cannot load"),
        (
            json.dumps(
                {"name": ORIGIN, "private_key_pem": _pem(ec.generate_private_key(ec.SECP256R1()))}
            ),
            "not an Ed25519",
        ),
        (
            json.dumps({"name": "bad name", "private_key_pem": _pem(Ed25519PrivateKey.generate())}),
            "key name",
        ),
    ],
)
def test_log_key_load_rejects_bad_files(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "key.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AuditError, match=match):
        LogKey.load(path)


def test_log_key_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="cannot load"):
        LogKey.load(tmp_path / "absent.json")
