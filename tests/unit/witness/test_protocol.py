"""The add-checkpoint logic (tlog-witness) without HTTP: parsing, the log's signature, and
the judgement against the latest cosigned checkpoint, each refusal with the spec's status."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from gateway.audit.note import LogKey
from gateway.audit.rfc6962 import EMPTY_ROOT
from gateway.audit.tlog_witness import add_checkpoint_body, parse_size_body
from gateway.errors import AuditError, VerificationError
from gateway.witness.protocol import (
    MAX_PROOF_LINES,
    AddCheckpoint,
    Latest,
    Refusal,
    check_signed,
    judge,
    parse_request,
)
from tests.unit.witness.logs import ORIGIN, TreeLog

KEY = LogKey.generate(ORIGIN)
LOG = TreeLog(KEY, 20)
FORK = TreeLog(KEY, 20, tag="fork")
LOGS = {ORIGIN: [KEY.verifier()]}


@contextmanager
def _refusal(status: int, code: str) -> Iterator[None]:
    with pytest.raises(Refusal) as err:
        yield
    assert (err.value.status, err.value.code) == (status, code), err.value


def _judge(body: bytes, latest: Latest) -> None:
    request = parse_request(body)
    judge(request, check_signed(request, LOGS), latest)


def test_parse_a_request() -> None:
    request = parse_request(LOG.body(5, 9))
    assert request.old_size == 5
    assert list(request.proof) == LOG.proof(5, 9) and len(request.proof) > 0
    assert request.note == LOG.note(9)
    assert parse_request(LOG.body(0, 3)) == AddCheckpoint(0, (), LOG.note(3))


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"old 1\n", "no empty line"),
        (b"old 01\n\nx", "canonical decimal"),
        (b"new 1\n\nx", "'old <size>'"),
        (b"old -1\n\nx", "canonical decimal"),
        (b"old 1\n!!!!\n\nx", "not base64"),
        (b"old 1\nAAAA\n\nx", "3 bytes, want 32"),
        (b"\xff\n\n", "not UTF-8"),
        (b"old 1\n" + (base64.b64encode(bytes(32)) + b"\n") * 64 + b"\nx", "at most 63"),
    ],
)
def test_a_malformed_body_is_400(body: bytes, why: str) -> None:
    with pytest.raises(Refusal, match=why) as err:
        parse_request(body)
    assert (err.value.status, err.value.code) == (400, "WITNESS-REQUEST")
    assert MAX_PROOF_LINES == 63


def test_a_malformed_checkpoint_is_400() -> None:
    with _refusal(400, "WITNESS-REQUEST"):
        check_signed(parse_request(b"old 0\n\nnot a note\n"), LOGS)
    bad_size = KEY.sign(f"{ORIGIN}\n07\n{base64.b64encode(EMPTY_ROOT).decode()}\n")
    with _refusal(400, "WITNESS-REQUEST"):
        check_signed(parse_request(b"old 0\n\n" + bad_size.encode()), LOGS)


def test_an_unknown_origin_is_404() -> None:
    other = TreeLog(LogKey.generate("other.example/log"), 3)
    with _refusal(404, "WITNESS-ORIGIN"):
        check_signed(parse_request(other.body(0, 3)), LOGS)


def test_no_trusted_signature_is_403() -> None:
    stranger = TreeLog(LogKey.generate(ORIGIN), 3)  # same name, another key: ignored
    with _refusal(403, "WITNESS-SIGNATURE"):
        check_signed(parse_request(stranger.body(0, 3)), LOGS)
    tampered = LOG.note(3).replace("\n3\n", "\n4\n")  # the trusted key's line fails
    with _refusal(403, "WITNESS-SIGNATURE"):
        check_signed(parse_request(LOG.body(0, 3, tampered)), LOGS)


def test_an_unsigned_checkpoint_is_403_and_its_unknown_origin_404() -> None:
    text = LOG.checkpoint(3).to_text()
    for unsigned in (text, text + "\n"):
        with _refusal(403, "WITNESS-SIGNATURE"):
            check_signed(parse_request(b"old 0\n\n" + unsigned.encode()), LOGS)
    other = TreeLog(LogKey.generate("other.example/log"), 3).checkpoint(3).to_text()
    with _refusal(404, "WITNESS-ORIGIN"):
        check_signed(parse_request(b"old 0\n\n" + other.encode()), LOGS)


def test_extra_signatures_by_unknown_keys_are_ignored() -> None:
    other = LogKey.generate("witness.example/else")
    note = LOG.note(3) + other.sign(LOG.checkpoint(3).to_text()).split("\n\n")[1]
    assert check_signed(parse_request(LOG.body(0, 3, note)), LOGS) == LOG.checkpoint(3)


def test_judge_in_the_specs_order() -> None:
    at5 = Latest(5, LOG.checkpoint(5).root)
    _judge(LOG.body(5, 9), at5)  # consistent: no refusal
    _judge(LOG.body(5, 5), at5)  # the same checkpoint again
    _judge(LOG.body(0, 4), Latest(0, EMPTY_ROOT))  # the first one
    with _refusal(400, "WITNESS-SIZE"):
        _judge(b"old 9\n\n" + LOG.note(5).encode(), at5)
    with pytest.raises(Refusal) as err:
        _judge(LOG.body(3, 9), at5)
    assert (err.value.status, err.value.code, err.value.latest_size) == (
        409,
        "WITNESS-CONFLICT",
        5,
    )
    with _refusal(409, "WITNESS-CONFLICT"):
        _judge(LOG.body(0, 9), at5)  # a client that does not know the state asks with 0


def test_an_inconsistent_checkpoint_is_422() -> None:
    at5 = Latest(5, LOG.checkpoint(5).root)
    with _refusal(422, "WITNESS-PROOF"):
        _judge(FORK.body(5, 9), at5)  # the fork's own proof does not reach our root
    forged = LOG.body(5, 9).replace(b"old 5\n", b"old 5\n" + base64.b64encode(bytes(32)) + b"\n")
    with _refusal(422, "WITNESS-PROOF"):
        _judge(forged, at5)  # one extra node
    with _refusal(422, "WITNESS-PROOF"):
        _judge(FORK.body(5, 5), at5)  # the same size with another root


def test_size_zero_rules_are_422() -> None:
    none = Latest(0, EMPTY_ROOT)
    _judge(LOG.body(0, 0), none)  # the empty tree
    with _refusal(422, "WITNESS-PROOF"):
        _judge(
            LOG.body(0, 3).replace(b"old 0\n", b"old 0\n" + base64.b64encode(bytes(32)) + b"\n"),
            none,
        )
    wrong_empty = KEY.sign(f"{ORIGIN}\n0\n{base64.b64encode(bytes(32)).decode()}\n")
    with _refusal(422, "WITNESS-PROOF"):
        _judge(b"old 0\n\n" + wrong_empty.encode(), none)


def test_the_clients_body_is_what_the_witness_parses() -> None:
    proof = LOG.proof(5, 9)
    body = add_checkpoint_body(5, proof, LOG.note(9))
    assert body.startswith(b"old 5\n") and body.count(b"\n\n") == 2
    assert parse_request(body) == AddCheckpoint(5, tuple(proof), LOG.note(9))
    for bad in ((-1, []), (1, [bytes(31)]), (1, [bytes(32)] * 64)):
        with pytest.raises(AuditError):
            add_checkpoint_body(bad[0], bad[1], LOG.note(9))


def test_a_409_body_is_a_size_and_a_newline() -> None:
    assert parse_size_body(b"0\n") == 0
    assert parse_size_body(b"20852014\n") == 20852014
    for bad in (b"5", b"05\n", b"5\n\n", b"-1\n", b"", b"five\n", b"18446744073709551616\n"):
        with pytest.raises(VerificationError):
            parse_size_body(bad)
