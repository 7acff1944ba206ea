"""The roll-forward check (I-AEF-1) over a hand-built audit log (``aeflog``): it passes on
a consistent log and fails, naming the keys, on a corrupted one."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.core.aef_rollforward import require, roll_forward
from gateway.errors import AefError
from tests.unit.aeflog import REGISTRIES, a6_row, the_log


def figures(log: list[dict[str, Any]], party: str, year: int) -> list[tuple[Any, ...]]:
    rf = roll_forward(log, party, year, REGISTRIES[party])
    return [
        (ln.ca_id, ln.authorization_id, ln.vintage, ln.opening, ln.flows, ln.closing, ln.ok)
        for ln in rf.lines
    ]


def test_roll_forward_on_a_consistent_log() -> None:
    log = the_log()
    key = ("CA0001", "AUTH-1", 2025)
    assert figures(log, "JPN", 2025) == [(*key, 0, (("acquired", 100), ("used", 30)), 70, True)]
    assert figures(log, "JPN", 2026) == [
        (*key, 70, (("transferred", 10), ("cancelled", 10)), 50, True)
    ]
    # a first transfer to another Party is neither in nor out of the sender's holdings
    assert figures(log, "MNG", 2025) == []
    assert figures(log, "MNG", 2026) == [(*key, 0, (("acquired", 10),), 10, True)]
    assert figures(log, "JPN", 2027) == [(*key, 50, (), 50, True)]
    assert require(roll_forward(log, "JPN", 2026, {"JPN01"})).ok


def _retire_cancelled_block(log: list[dict[str, Any]]) -> None:
    log[5]["blocks"][0]["state"] = "held"  # the cancelled block's state changed


def _drop_use(log: list[dict[str, Any]]) -> None:
    del log[2]["a6"]


def _grow_acquisition(log: list[dict[str, Any]]) -> None:
    a6_row(log, 1, 1).update(last="110", quantity="110")  # a consistent but false row


def _use_by_another_party(log: list[dict[str, Any]]) -> None:
    a6_row(log, 2)["party"] = "MNG"  # placed by registry: still out of JPN01


@pytest.mark.parametrize(
    ("corrupt", "year", "fails"),
    [
        (_retire_cancelled_block, 2026, "70 + 0 - 20 = 50, holdings 60"),
        (_drop_use, 2025, "0 + 100 - 0 = 100, holdings 70"),
        (_grow_acquisition, 2025, "0 + 110 - 30 = 80, holdings 70"),
    ],
)
def test_roll_forward_fails_on_a_corrupted_ledger(corrupt: Any, year: int, fails: str) -> None:
    log = the_log()
    corrupt(log)
    rf = roll_forward(log, "JPN", year, {"JPN01"})
    assert not rf.ok and [ln.text() for ln in rf.failures]
    with pytest.raises(AefError) as err:
        require(rf)
    assert err.value.code == "A6-AEF-003"
    assert f"CA0001/AUTH-1/2025: {fails}" in str(err.value)


def test_rows_are_placed_by_registry_not_party() -> None:
    log = the_log()
    _use_by_another_party(log)
    assert roll_forward(log, "JPN", 2025, {"JPN01"}).ok
    assert roll_forward(log, "MNG", 2025, {"MNG01"}).ok


def test_an_unknown_action_type_stops_the_roll_forward() -> None:
    log = the_log()
    a6_row(log, 2)["action"] = "Retirement"
    with pytest.raises(AefError) as err:
        roll_forward(log, "JPN", 2025, {"JPN01"})
    assert err.value.code == "A6-AEF-002"
