"""Witness cosignatures (C2SP tlog-cosignature, cosignature/v1) over the log's checkpoints
(``cosignatures.json``).

A cosignature is a note signature line ``— <witness name> base64(key id || timestamp ||
signature)``: the key id is ``SHA-256(name || 0x0A || 0x04 || public key)[:4]`` (type 0x04,
§Format), the timestamp 8 bytes big-endian, the Ed25519 signature over ``cosignature/v1\\n``
+ ``time <timestamp>\\n`` + the checkpoint body (§Ed25519 signed message). Written here
from the specification alone, like the rest of the generator.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from schemas.vectors.keys import LOG, LOG_ORIGIN, TestKey, note_key_id
from schemas.vectors.log import ENTRIES, checkpoint, mth

COSIGNATURE_TYPE = b"\x04"
#: The cosignatures' fixed time: 2026-11-30T00:00:00Z as a POSIX timestamp.
TIME = 1795996800


def _witness(name: str, what: str) -> TestKey:
    seed = hashlib.sha256(b"a6gw TEST ONLY vector key " + name.encode("ascii")).digest()
    return TestKey(name, name, "witness", seed, what)


WITNESS_JP = _witness("witness.jp.test/a6gw", "Japan's witness (TEST ONLY)")
WITNESS_MN = _witness("witness.mn.test/a6gw", "Mongolia's witness (TEST ONLY)")
WITNESSES = (WITNESS_JP, WITNESS_MN)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def cosig_key_id(name: str, public_raw: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + COSIGNATURE_TYPE + public_raw).digest()[:4]


def witness_vkey(key: TestKey) -> str:
    kid = cosig_key_id(key.key_id, key.public_raw).hex()
    return f"{key.key_id}+{kid}+{_b64(COSIGNATURE_TYPE + key.public_raw)}"


def signed_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def cosignature_line(
    key: TestKey, text: str, timestamp: int = TIME, key_type: bytes = COSIGNATURE_TYPE
) -> str:
    pub = key.public_raw
    kid = hashlib.sha256(key.key_id.encode("utf-8") + b"\n" + key_type + pub).digest()[:4]
    blob = kid + timestamp.to_bytes(8, "big") + key.sign(signed_message(text, timestamp))
    return f"\u2014 {key.key_id} {_b64(blob)}\n"


def _with_extension() -> dict[str, str]:
    """The 7-entry checkpoint with one extension line, signed by the log key."""
    text = f"{LOG_ORIGIN}\n7\n{_b64(mth(ENTRIES))}\nextension: a6gw test\n"
    blob = note_key_id(LOG_ORIGIN, LOG.public_raw) + LOG.sign(text.encode("utf-8"))
    return {"text": text, "note": f"{text}\n\u2014 {LOG_ORIGIN} {_b64(blob)}\n"}


def _vector(
    name: str, base: dict[str, str], lines: list[str], expect: dict[str, Any], why: str
) -> dict[str, Any]:
    return {
        "name": name,
        "description": why,
        "checkpoint_text": base["text"],
        "note": base["note"] + "".join(lines),
        "expect": expect,
    }


def _vectors() -> list[dict[str, Any]]:
    cp7, cp4, ext = checkpoint(7), checkpoint(4), _with_extension()
    jp7, mn7 = cosignature_line(WITNESS_JP, cp7["text"]), cosignature_line(WITNESS_MN, cp7["text"])
    jp4 = cosignature_line(WITNESS_JP, cp4["text"])
    bad = {"valid": False, "code": "AUD-VERIFY"}
    blob = bytearray(base64.b64decode(jp7.split(" ")[2]))
    blob[11] ^= 1  # the timestamp's last byte: the signed time line no longer matches
    retimed = f"\u2014 {WITNESS_JP.key_id} {_b64(bytes(blob))}\n"
    return [
        _vector(
            "cosigned-by-jp",
            cp7,
            [jp7],
            {"valid": True, "witnesses": ["jp"]},
            "the log's signature, then JP's cosignature",
        ),
        _vector(
            "cosigned-by-both",
            cp7,
            [jp7, mn7],
            {"valid": True, "witnesses": ["jp", "mn"]},
            "the log's signature, then both witnesses' cosignatures",
        ),
        _vector(
            "extension-line",
            ext,
            [cosignature_line(WITNESS_MN, ext["text"])],
            {"valid": True, "witnesses": ["mn"]},
            "the signed message includes the checkpoint's extension line",
        ),
        _vector(
            "cosignature-of-another-checkpoint",
            cp7,
            [jp4],
            bad,
            "JP's cosignature of the size-4 checkpoint attached to the size-7 one",
        ),
        _vector("timestamp-altered", cp7, [retimed], bad, "the timestamp differs from the signed"),
        _vector(
            "key-type-01",
            cp7,
            [cosignature_line(WITNESS_JP, cp7["text"], key_type=b"\x01")],
            {"valid": True, "witnesses": []},
            "key id made with type 0x01: no pinned witness key matches, the line is ignored",
        ),
    ]


def cosignatures_document() -> dict[str, Any]:
    """``cosignatures.json``."""
    return {
        "description": "cosignature/v1 (C2SP tlog-cosignature, Ed25519) by two TEST-ONLY "
        "witness keys over checkpoints of log.json's log; each note carries the log's "
        "signature first. expect.witnesses: the pinned witnesses whose cosignature verifies",
        "log_vkey": LOG.describe()["vkey"],
        "time": TIME,
        "witnesses": {
            short: {
                "name": key.key_id,
                "private_seed_hex": key.seed.hex(),
                "public_key_hex": key.public_raw.hex(),
                "key_id_hex": cosig_key_id(key.key_id, key.public_raw).hex(),
                "vkey": witness_vkey(key),
            }
            for short, key in (("jp", WITNESS_JP), ("mn", WITNESS_MN))
        },
        "signed_message_example": {
            "utf8": signed_message(checkpoint(7)["text"], TIME).decode("utf-8"),
            "hex": signed_message(checkpoint(7)["text"], TIME).hex(),
        },
        "vectors": _vectors(),
    }
