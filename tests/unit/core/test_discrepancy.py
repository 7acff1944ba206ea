"""The discrepancy lifecycle: allowed transitions, refusals with their codes, history."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.core.discrepancy import ALLOWED, Command, Discrepancy, Refused, apply

FOUND = Discrepancy(
    id="rec-1-0",
    code="REC-002",
    severity="error",
    registries=("JPN01",),
    blocks=(("CA0001", "MNG01", 1001, 2000),),
    first_seen="2026-11-29T10:00:00.000Z",
)


def cmd(action: str, **kw: str) -> Command:
    return Command("rec-1-0", action, by="operator-1", at="2026-11-29T11:00:00.000Z", **kw)  # type: ignore[arg-type]


def test_acknowledge_then_resolve() -> None:
    acked = apply(FOUND, cmd("acknowledge"))
    assert isinstance(acked, Discrepancy)
    assert (acked.status, acked.owner) == ("acknowledged", "operator-1")
    done = apply(acked, cmd("resolve", note="JPN01 re-exported its holdings"))
    assert isinstance(done, Discrepancy)
    assert (done.status, done.manual) == ("resolved", False)
    assert done.resolution == "JPN01 re-exported its holdings"
    assert [h[0] for h in done.history] == ["acknowledge", "resolve"]


def test_resolve_by_hand_needs_a_note_and_the_correction() -> None:
    assert apply(FOUND, cmd("resolve-by-hand", note="fixed")) == Refused(
        "REC-103", "a resolution by hand needs the operator's correction"
    )
    done = apply(
        FOUND, cmd("resolve-by-hand", note="fixed", correction="JPN01 holds 1001-2000 in JP-GOV-1")
    )
    assert isinstance(done, Discrepancy) and done.manual and done.status == "resolved"
    assert "JP-GOV-1" in (done.resolution or "")


def test_refusals_leave_the_discrepancy_as_it_was() -> None:
    assert isinstance(apply(None, cmd("acknowledge")), Refused)
    assert apply(None, cmd("acknowledge")).code == "REC-101"
    other = Command("rec-9", "acknowledge", by="x", at="t")
    assert apply(FOUND, other).code == "REC-101"
    assert apply(FOUND, cmd("resolve")).code == "REC-103"
    done = apply(FOUND, cmd("resolve", note="ok"))
    assert isinstance(done, Discrepancy)
    again = apply(done, cmd("acknowledge"))
    assert isinstance(again, Refused) and again.code == "REC-102"  # resolved is final


@given(st.lists(st.sampled_from(["acknowledge", "resolve", "resolve-by-hand"]), max_size=8))
def test_any_sequence_of_commands_only_takes_allowed_steps(actions: list[str]) -> None:
    state = FOUND
    for action in actions:
        result = apply(state, cmd(action, note="n", correction="c"))
        if isinstance(result, Refused):
            assert action not in ALLOWED[state.status]
            continue
        assert action in ALLOWED[state.status]
        assert len(result.history) == len(state.history) + 1
        state = result
    assert state.status in {"open", "acknowledged", "resolved"}
    assert sum(1 for a, _, _ in state.history if a != "acknowledge") <= 1  # resolved once


def test_resolved_is_final_and_acknowledging_twice_is_refused() -> None:
    assert ALLOWED == {
        "open": {"acknowledge", "resolve", "resolve-by-hand"},
        "acknowledged": {"resolve", "resolve-by-hand"},
        "resolved": set(),
    }
    acked = apply(FOUND, cmd("acknowledge"))
    assert isinstance(acked, Discrepancy)
    twice = apply(acked, cmd("acknowledge"))
    assert isinstance(twice, Refused) and twice.code == "REC-102"
