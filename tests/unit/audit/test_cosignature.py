"""cosignature/v1 (C2SP tlog-cosignature): key ids, vkeys, the signed message, signing,
verifying and attaching cosignature lines to a signed note."""

from __future__ import annotations

import base64
import hashlib
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit.cosignature import (
    MAX_TIMESTAMP,
    Cosigner,
    WitnessKey,
    add_cosignatures,
    cosignature_key_id,
    cosigned_message,
    parse_witness_vkey,
    require_cosignatures,
    verified_cosignatures,
)
from gateway.audit.note import Checkpoint, LogKey, key_id, open_checkpoint
from gateway.audit.rfc6962 import leaf_hash
from gateway.errors import AuditError, VerificationError

ORIGIN = "a6gw.example/audit"
CP = Checkpoint(ORIGIN, 7, leaf_hash(b"root"))
OTHER = Checkpoint(ORIGIN, 8, leaf_hash(b"other"))


@pytest.fixture(scope="module")
def log() -> LogKey:
    return LogKey.generate(ORIGIN)


@pytest.fixture(scope="module")
def jp() -> WitnessKey:
    return WitnessKey.generate("witness.example/jp")


@pytest.fixture(scope="module")
def mn() -> WitnessKey:
    return WitnessKey.generate("witness.example/mn")


def _blob(line: str) -> bytes:
    return base64.b64decode(line.rstrip("\n").split(" ")[2])


def test_the_key_id_uses_type_0x04_not_the_note_keys_0x01(jp: WitnessKey) -> None:
    raw = jp.key.public_key_bytes()
    want = hashlib.sha256(b"witness.example/jp\n\x04" + raw).digest()[:4]
    assert cosignature_key_id(jp.name, raw) == want == jp.cosigner().key_id
    assert want != key_id(jp.name, raw)  # the same key as a plain note key has another id


def test_vkey_round_trip_and_refusals(jp: WitnessKey, log: LogKey) -> None:
    line = jp.vkey()
    name, kid, b64 = line.split("+", 2)
    assert name == jp.name and bytes.fromhex(kid) == jp.cosigner().key_id
    assert base64.b64decode(b64)[:1] == b"\x04"
    assert parse_witness_vkey(line) == jp.cosigner()
    with pytest.raises(VerificationError, match="type byte 01, want 04"):
        parse_witness_vkey(log.public_vkey())  # a log key is no witness key
    with pytest.raises(VerificationError, match="does not match"):
        parse_witness_vkey(line.replace(kid, "00000000"))
    with pytest.raises(VerificationError, match="want name"):
        parse_witness_vkey("no-plus-signs")


def test_the_signed_message_is_header_time_then_the_body() -> None:
    text = CP.to_text()
    assert cosigned_message(text, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n" + text.encode()
    )
    for bad in (-1, MAX_TIMESTAMP + 1):
        with pytest.raises(AuditError, match="2\\^63-1"):
            cosigned_message(text, bad)
    with pytest.raises(AuditError, match="newline"):
        cosigned_message(text[:-1], 1)


def test_a_cosignature_line_is_key_id_time_and_an_ed25519_signature(jp: WitnessKey) -> None:
    line = jp.cosign(CP, 1_700_000_000)
    assert line.startswith(f"\u2014 {jp.name} ") and line.endswith("\n")
    blob = _blob(line)
    assert len(blob) == 4 + 8 + 64
    assert blob[:4] == jp.cosigner().key_id
    assert struct.unpack(">Q", blob[4:12])[0] == 1_700_000_000
    public = Ed25519PublicKey.from_public_bytes(jp.key.public_key_bytes())
    public.verify(blob[12:], cosigned_message(CP.to_text(), 1_700_000_000))  # raises if not
    assert jp.cosigner().verify(CP.to_text(), blob[4:]) == 1_700_000_000
    with pytest.raises(AuditError, match="zero timestamp"):
        jp.cosign(CP, 0)


def test_verified_cosignatures_counts_pinned_witnesses_only(
    log: LogKey, jp: WitnessKey, mn: WitnessKey
) -> None:
    note = log.sign(CP.to_text())
    cosigned = add_cosignatures(note, [jp.cosign(CP, 5), mn.cosign(CP, 6)])
    assert open_checkpoint(cosigned, log.verifier()) == CP  # the log's note still opens
    cp, found = verified_cosignatures(cosigned, [jp.cosigner(), mn.cosigner()])
    assert cp == CP
    assert [(c.name, c.timestamp) for c in found] == [(jp.name, 5), (mn.name, 6)]
    _, only_jp = verified_cosignatures(cosigned, [jp.cosigner()])
    assert [c.name for c in only_jp] == [jp.name]
    _, none = verified_cosignatures(note, [jp.cosigner()])
    assert none == []


def test_a_cosignature_over_another_checkpoint_is_refused(log: LogKey, jp: WitnessKey) -> None:
    note = add_cosignatures(log.sign(CP.to_text()), [jp.cosign(OTHER, 5)])
    with pytest.raises(VerificationError, match="does not verify over this checkpoint"):
        verified_cosignatures(note, [jp.cosigner()])


def test_an_altered_timestamp_is_refused(log: LogKey, jp: WitnessKey) -> None:
    line = jp.cosign(CP, 5)
    blob = bytearray(_blob(line))
    blob[11] = 6
    forged = f"\u2014 {jp.name} {base64.b64encode(bytes(blob)).decode()}\n"
    note = add_cosignatures(log.sign(CP.to_text()), [forged])
    with pytest.raises(VerificationError, match="does not verify"):
        verified_cosignatures(note, [jp.cosigner()])


def test_a_short_blob_or_a_timestamp_above_2_63_is_refused(jp: WitnessKey) -> None:
    c = jp.cosigner()
    with pytest.raises(VerificationError, match="72"):
        c.verify(CP.to_text(), b"\x00" * 71)
    with pytest.raises(VerificationError, match="2\\^63-1"):
        c.verify(CP.to_text(), b"\xff" * 8 + b"\x00" * 64)


def test_add_cosignatures_appends_once_and_checks_lines(log: LogKey, jp: WitnessKey) -> None:
    note = log.sign(CP.to_text())
    line = jp.cosign(CP, 5)
    once = add_cosignatures(note, [line])
    assert once == note + line
    assert add_cosignatures(once, [line]) == once
    for bad in ("no dash\n", "\u2014 x y", "\u2014 a b\n\u2014 c d\n"):
        with pytest.raises(AuditError, match="not one signature line"):
            add_cosignatures(note, [bad])


def test_the_witness_key_file_round_trips(tmp_path: Path) -> None:
    key = WitnessKey.generate("witness.example/x")
    key.key.save(tmp_path / "w.key")
    again = WitnessKey.load(tmp_path / "w.key")
    assert again.vkey() == key.vkey() and again.name == key.name
    assert Cosigner.of(key.name, key.key.public_key_bytes()) == key.cosigner()


def test_require_cosignatures_counts_distinct_pinned_witnesses(
    log: LogKey, jp: WitnessKey, mn: WitnessKey
) -> None:
    pinned = [jp.cosigner(), mn.cosigner()]
    note = add_cosignatures(log.sign(CP.to_text()), [jp.cosign(CP, 5)])
    assert [c.name for c in require_cosignatures(note, pinned, 1)] == [jp.name]
    with pytest.raises(VerificationError, match="1 valid cosignatures .*want at least 2"):
        require_cosignatures(note, pinned, 2)
    both = add_cosignatures(note, [mn.cosign(CP, 6)])
    assert len(require_cosignatures(both, pinned, 2)) == 2
    for k in (0, 3):
        with pytest.raises(AuditError, match="witness keys pinned"):
            require_cosignatures(both, pinned, k)
    with pytest.raises(AuditError, match="2 witness keys pinned"):
        require_cosignatures(both, [*pinned, jp.cosigner()], 3)  # a key pinned twice: once
