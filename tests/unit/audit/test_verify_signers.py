"""The offline signer check (``gateway.audit.verify_signers``): each decision's signer had an
active key, valid then, of an allowed role, in the trust the log records before it; a log
without trust entries is not checked; ``a6gw verify`` runs it over a bundle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.bundle import write_bundle
from gateway.audit.note import LogKey
from gateway.audit.verify_signers import check_signers
from gateway.cli.main import main
from gateway.core.canonical import canonical_bytes
from gateway.core.trust import Trust
from gateway.core.trust_log import changes
from gateway.errors import VerificationError
from tests.unit.core.test_trust_log import AT, PARTY, key

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "entries-golden.json"


def decision(signer: str = "JPN01", at: str = "2026-05-04T03:02:01.123Z", **input_: Any) -> bytes:
    """The golden accepted issuance, signed by ``signer``, arrived at ``at``."""
    entry = json.loads(json.loads(GOLDEN.read_text())["decision-accepted"])
    entry["input"] |= {"signer": signer, **input_}
    entry["decided_at"] = at
    return canonical_bytes(entry)


def recorded(*keys: Any, log: list[bytes] | None = None) -> list[bytes]:
    """The trust entries that put ``keys`` on record after ``log``."""
    before = log or []
    return [canonical_bytes(e) for e in changes(before, (Trust(keys=keys), [PARTY]), at_ms=AT)]


def test_a_log_without_trust_entries_is_not_checked() -> None:
    report = check_signers([decision(), decision("nobody")])
    assert report.trust_entries == 0 and report.checked == 0
    assert report.text() == "signers: not checked (no trust entries)"


def test_decisions_by_keys_the_log_trusts_pass() -> None:
    log = recorded(key("JPN01-1")) + [decision(), decision()]
    report = check_signers(log)
    assert (report.checked, report.before) == (2, 0)
    assert report.text().startswith("OK: signers: 2 decisions")


def test_decisions_before_the_first_trust_entry_are_counted_not_checked() -> None:
    report = check_signers([decision("nobody"), *recorded(key("JPN01-1")), decision()])
    assert (report.checked, report.before) == (1, 1)


@pytest.mark.parametrize(
    ("later", "why"),
    [
        (key("JPN01-1", status="revoked"), "is revoked"),
        (key("JPN01-1", status="suspended"), "is suspended"),
        (key("JPN01-1", valid_to="2026-05-01T00:00:00Z"), "not valid at"),
        (key("JPN01-1", role="inventory-agency"), "has role inventory-agency"),
    ],
)
def test_a_decision_after_its_key_stopped_being_good_fails(later: Any, why: str) -> None:
    log = recorded(key("JPN01-1")) + [decision()]
    log += recorded(later, log=log)
    with pytest.raises(VerificationError, match=why) as err:
        check_signers([*log, decision()])
    assert err.value.code == "AUD-SIGNER"
    assert check_signers(log).checked == 1  # the decision before the change still passes


def test_a_rotation_keeps_decisions_that_arrived_before_the_old_key_ended() -> None:
    log = recorded(key("JPN01-1"))
    log += recorded(key("JPN01-1", valid_to="2026-05-04T03:02:02Z"), log=log)
    assert check_signers([*log, decision()]).checked == 1
    with pytest.raises(VerificationError, match="not valid at"):
        check_signers([*log, decision(at="2026-05-04T03:02:02.000Z")])


def test_an_unknown_signer_and_a_withdrawn_key_fail() -> None:
    log = recorded(key("JPN01-1"))
    with pytest.raises(VerificationError, match="MNG01 has no key in the log's trust"):
        check_signers([*log, decision("MNG01")])
    log += recorded(log=log)  # the key leaves the file
    with pytest.raises(VerificationError, match="JPN01 has no key"):
        check_signers([*log, decision()])


def test_one_good_key_of_the_signer_is_enough_and_every_bad_one_is_named() -> None:
    revoked = key("JPN01-1", status="revoked")
    log = recorded(revoked, key("JPN01-2"), key("MNG01-1", principal="MNG01"))
    assert check_signers([*log, decision()]).checked == 1
    log += recorded(revoked, key("JPN01-2", status="suspended"), log=log)
    with pytest.raises(VerificationError, match="JPN01-1 is revoked; key JPN01-2 is suspended"):
        check_signers([*log, decision()])


def test_an_unreadable_decision_entry_is_counted_not_checked() -> None:
    report = check_signers([*recorded(key("JPN01-1")), decision(surprise="x")])
    assert (report.checked, report.unreadable) == (0, 1)
    assert "1 decision entries unreadable" in report.text()


def test_the_gateways_own_inputs_need_no_trust_file_key() -> None:
    own = decision("a6gw", type="a6gw.transfer.timeout.v1", kind="notification")
    report = check_signers([*recorded(key("JPN01-1")), own])
    assert (report.own, report.checked) == (1, 0)


def test_a6gw_verify_fails_a_bundle_with_a_forged_signer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log_key = LogKey.generate("a6gw.test/signers")
    good = [*recorded(key("JPN01-1")), decision()]
    write_bundle(tmp_path / "good", good, log_key, "a6gw.test/signers")
    assert main(["verify", str(tmp_path / "good")]) == 0
    assert "OK: signers: 1 decisions" in capsys.readouterr().out
    write_bundle(tmp_path / "bad", [*good, decision("MNG01")], log_key, "a6gw.test/signers")
    assert main(["verify", str(tmp_path / "bad")]) == 1
    err = capsys.readouterr().err
    assert "FAIL: [AUD-SIGNER] entry 3" in err and "MNG01 has no key" in err
