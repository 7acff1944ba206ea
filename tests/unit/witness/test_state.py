"""The witness's state: check-and-update in one transaction, durable, never rolled back,
also with several connections (threads, processes) on one file."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from gateway.audit.cosignature import WitnessKey, add_cosignatures
from gateway.audit.note import LogKey
from gateway.errors import AuditError
from gateway.witness.protocol import Latest, Refusal, check_signed, judge, parse_request
from gateway.witness.state import WitnessState
from tests.unit.witness.logs import ORIGIN, TreeLog

KEY = LogKey.generate(ORIGIN)
WITNESS = WitnessKey.generate("witness.example/w")
LOGS = {ORIGIN: [KEY.verifier()]}


def _submit(state: WitnessState, body: bytes) -> str:
    request = parse_request(body)
    checkpoint = check_signed(request, LOGS)
    return state.advance(
        checkpoint,
        lambda latest: judge(request, checkpoint, latest),
        lambda: add_cosignatures(request.note, [WITNESS.cosign(checkpoint, 1)]),
    )


def test_advance_records_and_survives_a_reopen(tmp_path: Path) -> None:
    log = TreeLog(KEY, 9)
    state = WitnessState(tmp_path / "w.db")
    assert stat.S_IMODE((tmp_path / "w.db").stat().st_mode) == 0o600
    assert state.get(ORIGIN) is None
    note = _submit(state, log.body(0, 5))
    assert note.startswith(log.note(5)) and WITNESS.name in note
    state.close()
    again = WitnessState(tmp_path / "w.db")
    stored = again.get(ORIGIN)
    assert stored is not None
    assert (stored.size, stored.root, stored.note) == (5, log.checkpoint(5).root, note)
    _submit(again, log.body(5, 9))
    assert (again.get(ORIGIN) or pytest.fail()).size == 9


def test_a_refusal_writes_nothing(tmp_path: Path) -> None:
    log, fork = TreeLog(KEY, 9), TreeLog(KEY, 9, tag="fork")
    state = WitnessState(tmp_path / "w.db")
    _submit(state, log.body(0, 5))
    for body in (fork.body(5, 9), log.body(3, 9), fork.body(5, 5)):
        with pytest.raises(Refusal):
            _submit(state, body)
        assert (state.get(ORIGIN) or pytest.fail()).size == 5
    assert not state._db.in_transaction


def test_the_stored_size_never_goes_down_even_if_the_check_passes(tmp_path: Path) -> None:
    log = TreeLog(KEY, 9)
    state = WitnessState(tmp_path / "w.db")
    _submit(state, log.body(0, 9))
    with pytest.raises(AuditError, match="refusing to roll"):
        state.advance(log.checkpoint(5), lambda latest: None, lambda: "note")
    assert (state.get(ORIGIN) or pytest.fail()).size == 9


def test_concurrent_forks_on_separate_connections_exactly_one_wins(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    WitnessState(path).close()
    forks = [TreeLog(KEY, 8, tag="a"), TreeLog(KEY, 8, tag="b")]
    outcomes: list[tuple[str, int]] = []
    lock, start = threading.Lock(), threading.Barrier(20)

    def submit(i: int) -> None:
        fork = forks[i % 2]
        state = WitnessState(path)
        start.wait()
        try:
            _submit(state, fork.body(0, 8))
            result = (fork.tag, 200)
        except Refusal as exc:
            result = (fork.tag, exc.status)
        finally:
            state.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    winners = [tag for tag, status in outcomes if status == 200]
    assert len(outcomes) == 20 and len(winners) == 1
    assert {status for _, status in outcomes} == {200, 409}
    stored = WitnessState(path).get(ORIGIN)
    assert stored is not None
    assert stored.root == forks[0 if winners[0] == "a" else 1].checkpoint(8).root


def test_an_unopenable_file_is_an_audit_error(tmp_path: Path) -> None:
    (tmp_path / "w.db").write_bytes(b"not a SQLite database, " * 100)
    with pytest.raises(AuditError, match="cannot open the witness state") as err:
        WitnessState(tmp_path / "w.db")
    assert err.value.code == "AUD-STORE"


def test_latest_defaults_to_the_empty_tree(tmp_path: Path) -> None:
    seen: list[Latest] = []
    state = WitnessState(tmp_path / "w.db")
    log = TreeLog(KEY, 1)
    state.advance(log.checkpoint(1), seen.append, lambda: "n")
    assert seen[0].size == 0 and len(seen[0].root) == 32
