"""The BTR structured summary (CTF Table 4 rows 5, 7-14) from hand-built audit entries, its
check against the rows a Party reported, and ``a6gw summary`` over a store.

The hand-computed case (Party JPN, NDC period 2021-2030), in log order:

====  ==========  ====================================================================
e1    2025-03-01  JPN first transfers JPN01 1-300 (vintage 2024, NDC) to MNG
e2    2025-06-01  JPN authorizes JPN01 1001-1050 (vintage 2025) for OIMP: first transfer
e3    2025-09-01  MNG first transfers MNG01 1-1000 (vintage 2024, NDC) to JPN
e4    2026-02-01  JPN uses MNG01 1-400 for 2026 (first transferred the year before)
e5    2026-05-01  JPN first transfers JPN01 301-500 (vintage 2025, NDC) to MNG
e6    2026-07-01  MNG uses JPN01 1-300 for 2026 (another Party's use: not JPN's)
e7    2027-01-15  JPN uses MNG01 401-500 for 2027
inv   JPN 2025: 1000000; JPN 2026: 990000, then recalculated to 985000.5; none for 2027
====  ==========  ====================================================================
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.note import LogKey
from gateway.audit.store import AuditStore
from gateway.cli.main import main
from gateway.core import decision as dec
from gateway.core import discrepancy as dsc
from gateway.core import summary_check as sc
from gateway.core.actions import row
from gateway.core.blocks import Block, Range
from gateway.core.canonical import canonical_bytes, sha256_hex
from gateway.core.summary import Method, Summary, default_years, summarise
from gateway.core.summary_log import Facts, collect
from gateway.core.topics import AUDIT_TOPIC, FINDINGS_TOPIC
from gateway.demo.world import write_mac_key
from gateway.errors import GatewayError
from gateway.services.reporting import YearResult, records, year_text
from gateway.transport.clients import Credentials, KafkaClients
from schemas import entry_parts as ep
from tests.unit.reportlog import ORIGIN, sign_checkpoint
from tests.unit.schemas import factories as fx

CA = "CA0001"
PERIOD = (2021, 2030)

# -- entries by hand ------------------------------------------------------------------------


def _auth(party: str, purposes: str) -> dict[str, str]:
    return {
        "authorization_id": f"{party}-AUTH-{purposes}",
        "authorizing_party": party,
        "purposes": purposes,
    }


def ft(
    origin: str,
    first: int,
    last: int,
    vintage: int,
    *,
    by: str,
    to: str = "",
    purposes: str = "NDC",
) -> dict[str, Any]:
    """A "First transfer" row of units of ``origin`` by Party ``by``."""
    block = Block(CA, origin, first, last, vintage, "JCM", origin, "GOV")
    return row(
        "First transfer",
        block,
        Range(first, last),
        _auth(by, purposes),
        party=by,
        registry=origin,
        subtype="First transfer to another Party",
        transferring_party=by,
        acquiring_party=to or None,
    )


def acq(origin: str, first: int, last: int, vintage: int, *, by: str, frm: str) -> dict[str, Any]:
    block = Block(CA, origin, first, last, vintage, "JCM", origin, "GOV")
    return row(
        "Acquisition",
        block,
        Range(first, last),
        _auth(frm, "NDC"),
        party=by,
        registry=f"{by}01",
        transferring_party=frm,
        acquiring_party=by,
    )


def use(
    origin: str,
    first: int,
    last: int,
    vintage: int,
    *,
    by: str,
    year: int,
    authorized_by: str = "MNG",
) -> dict[str, Any]:
    block = Block(CA, origin, first, last, vintage, "JCM", f"{by}01", "GOV")
    return row(
        "Use",
        block,
        Range(first, last),
        _auth(authorized_by, "NDC"),
        party=by,
        registry=f"{by}01",
        using_party=by,
        use_year=year,
    )


#: The readable name each hand-built entry was given, by its entry id.
NAMES: dict[str, str] = {}


def entry(
    name: str,
    at: str,
    *rows: dict[str, Any],
    kind: str = "transfer.answer",
    outcome: fx.Outcome = "recorded",
    data: dict[str, Any] | None = None,
    blocks: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A decision entry on input ``in-<name>`` (its id: :func:`eid`) carrying ``rows``."""
    e = fx.decision(
        f"in-{name}",
        source="X",
        type_=f"a6gw.{kind}.v1",
        kind="notification",
        outcome=outcome,
        ca_id=None,
        decided_at=at,
        blocks=[ep.BlockRecord.model_validate(b) for b in blocks],
        a6=[ep.ActionRow.model_validate(r) for r in rows] or None,
        data=data,
    )
    NAMES[e.entry_id] = name
    return e.wire()


def eid(name: str) -> str:
    """The entry id of the entry :func:`entry` builds as ``name``."""
    return dec.event_entry_id("X", f"in-{name}", fx.SHA)


def n(entry_id: str | None) -> str | None:
    """The readable name of a hand-built entry's id."""
    return NAMES.get(entry_id or "", entry_id)


def inventory(eid: str, at: str, party: str, year: int, tco2e: str, sub: str) -> dict[str, Any]:
    data = {"party": party, "year": year, "emissions_tco2e": tco2e, "submission_id": sub}
    return entry(eid, at, kind="inventory.emissions", data=data)


def reported(eid: str, at: str, party: str, year: int, **rows: str | None) -> dict[str, Any]:
    data = {"party": party, "year": year, "rows": {f"r{n}": None for n in range(7, 15)} | rows}
    return entry(eid, at, kind="summary.reported", data=data)


def opening(eid: str, at: str, origin: str, first: int, last: int, ft_: bool) -> dict[str, Any]:
    block = Block(CA, origin, first, last, 2024, "JCM", "JPN01", "GOV", "held", ft_)
    return entry(eid, at, kind="holdings.opening", blocks=[block.to_record()])


def case() -> list[dict[str, Any]]:
    return [
        entry(
            "e1",
            "2025-03-01T10:00:00.000Z",
            ft("JPN01", 1, 300, 2024, by="JPN", to="MNG"),
            acq("JPN01", 1, 300, 2024, by="MNG", frm="JPN"),
        ),
        entry(
            "e2",
            "2025-06-01T10:00:00.000Z",
            ft("JPN01", 1001, 1050, 2025, by="JPN", purposes="OIMP"),
            kind="authorization",
        ),
        entry(
            "e3",
            "2025-09-01T10:00:00.000Z",
            ft("MNG01", 1, 1000, 2024, by="MNG", to="JPN"),
            acq("MNG01", 1, 1000, 2024, by="JPN", frm="MNG"),
        ),
        inventory("i1", "2025-10-01T00:00:00.000Z", "JPN", 2025, "1000000", "NIR-25-v1"),
        entry(
            "e4",
            "2026-02-01T10:00:00.000Z",
            use("MNG01", 1, 400, 2024, by="JPN", year=2026),
            kind="retirement",
            outcome="accepted",
        ),
        inventory("i2", "2026-03-01T00:00:00.000Z", "JPN", 2026, "990000", "NIR-26-v1"),
        entry("e5", "2026-05-01T10:00:00.000Z", ft("JPN01", 301, 500, 2025, by="JPN", to="MNG")),
        entry(
            "e6",
            "2026-07-01T10:00:00.000Z",
            use("JPN01", 1, 300, 2024, by="MNG", year=2026, authorized_by="JPN"),
            kind="retirement",
            outcome="accepted",
        ),
        inventory("i3", "2026-08-01T00:00:00.000Z", "MNG", 2026, "50000", "MNG-NIR-26"),
        inventory("i4", "2026-09-01T00:00:00.000Z", "JPN", 2026, "985000.5", "NIR-26-v2"),
        entry(
            "e7",
            "2027-01-15T10:00:00.000Z",
            use("MNG01", 401, 500, 2024, by="JPN", year=2027),
            kind="retirement",
            outcome="accepted",
        ),
    ]


def method(ca_method: str = "trajectory", ca_year: str = "first-transfer") -> Method:
    return Method("JPN", PERIOD, ca_method, ca_year)  # type: ignore[arg-type]


def values(s: Summary) -> dict[str, str | None]:
    return {n: (None if r.value is None else format(r.value, "f")) for n, r in s.rows.items()}


def rows_of(entries: list[dict[str, Any]], m: Method, years: Sequence[int]) -> list[Summary]:
    facts = collect(entries, m.code)
    return [summarise(facts, m, y) for y in years]


# Rows common to every method (R7-R10, R13), hand-computed from the table above:
#   R7: 2025 300 (e1), 2026 200 (e5), 2027 0;  R8: 2025 50 (e2), else 0
#   R9: 2025 0, 2026 400 (e4), 2027 100 (e7)
#   R10 = R7 + R8 - R9: 2025 350, 2026 -200, 2027 -100
#   R13 = sum of R10 from 2021: 2025 350, 2026 150, 2027 50
COMMON = {
    2025: {"R7": "300", "R8": "50", "R9": "0", "R10": "350", "R13": "350"},
    2026: {"R7": "200", "R8": "0", "R9": "400", "R10": "-200", "R13": "150"},
    2027: {"R7": "0", "R8": "0", "R9": "100", "R10": "-100", "R13": "50"},
}
# R5: 2025 1000000; 2026 985000.5 (the recalculation i4 supersedes i2); 2027 unknown.
R5 = {2025: "1000000", 2026: "985000.5", 2027: None}


def test_averaging_rows_by_hand() -> None:
    # R11 = R13 / calendar years elapsed since 2021: 2025: 350/5 = 70; 2026: 150/6 = 25;
    # 2027: 50/7 = 7.142857... -> 7.143. R12 = R11. R14 = R5 + R12: 1000000 + 70 =
    # 1000070.000; 985000.5 + 25 = 985025.500; 2027 unknown (no inventory).
    got = rows_of(case(), method("averaging"), [2025, 2026, 2027])
    r11 = {2025: "70.000", 2026: "25.000", 2027: "7.143"}
    r14 = {2025: "1000070.000", 2026: "985025.500", 2027: None}
    for s in got:
        y = s.year
        assert values(s) == COMMON[y] | {"R5": R5[y], "R11": r11[y], "R12": r11[y], "R14": r14[y]}


def test_trajectory_by_first_transfer_year_rows_by_hand() -> None:
    # R11 not applicable; R12 = R10: 350, -200, -100; R14 = R5 + R12: 1000350, 984800.5.
    got = rows_of(case(), method("trajectory", "first-transfer"), [2025, 2026, 2027])
    r12 = {2025: "350", 2026: "-200", 2027: "-100"}
    r14 = {2025: "1000350", 2026: "984800.5", 2027: None}
    for s in got:
        y = s.year
        assert values(s) == COMMON[y] | {"R5": R5[y], "R11": None, "R12": r12[y], "R14": r14[y]}
        assert s.rows["R11"].status == "not applicable"


@pytest.mark.parametrize("ca_method", ["trajectory", "budget"])
def test_trajectory_by_vintage_rows_by_hand(ca_method: str) -> None:
    # R12(y) = units JPN first transferred (any purpose, any year) of vintage y - R9(y):
    #   vintage 2025: e2 50 + e5 200 = 250 (e5 came in 2026, its vintage is 2025) -> 250 - 0
    #   vintage 2026: none -> 0 - 400 = -400;  vintage 2027: none -> 0 - 100 = -100
    #   (e1's 300 are vintage 2024: in no year shown)
    # R14: 1000000 + 250 = 1000250; 985000.5 - 400 = 984600.5; 2027 unknown.
    got = rows_of(case(), method(ca_method, "vintage"), [2025, 2026, 2027])
    r12 = {2025: "250", 2026: "-400", 2027: "-100"}
    r14 = {2025: "1000250", 2026: "984600.5", 2027: None}
    for s in got:
        y = s.year
        assert values(s) == COMMON[y] | {"R5": R5[y], "R11": None, "R12": r12[y], "R14": r14[y]}
    blocks = {(n(b.entry_id), b.first, b.last, b.action) for b in got[0].rows["R12"].blocks}
    assert blocks == {("e2", 1001, 1050, "First transfer"), ("e5", 301, 500, "First transfer")}


def test_rows_keep_their_blocks() -> None:
    s = summarise(collect(case(), "JPN"), method(), 2026)
    r9 = [
        (n(b.entry_id), b.ca_id, b.origin, b.first, b.last, b.quantity, b.action)
        for b in s.rows["R9"].blocks
    ]
    assert r9 == [("e4", CA, "MNG01", 1, 400, 400, "Use")]
    assert [n(b.entry_id) for b in s.rows["R10"].blocks] == ["e5", "e4"]
    assert [n(b.entry_id) for b in s.rows["R13"].blocks] == ["e1", "e2", "e5", "e4"]
    assert s.rows["R5"].entries == (eid("i4"),) and s.rows["R14"].entries == (eid("i4"),)
    doc = s.to_dict()
    assert doc["rows"]["R9"]["blocks"][0] == {
        "entry_id": eid("e4"),
        "ca_id": CA,
        "origin": "MNG01",
        "first": "1",
        "last": "400",
        "quantity": "400",
        "action": "Use",
    }
    json.dumps(doc)  # plain values only


def test_a_recalculated_inventory_supersedes_and_the_history_stays() -> None:
    s = summarise(collect(case(), "JPN"), method(), 2026)
    assert s.value("R5") == Decimal("985000.5")
    assert "NIR-26-v2" in s.rows["R5"].reason and "supersedes 1 earlier" in s.rows["R5"].reason
    history = s.to_dict()["inventory"]
    assert [(n(h["entry_id"]), h["emissions_tco2e"], h["current"]) for h in history] == [
        ("i2", "990000", False),
        ("i4", "985000.5", True),
    ]


def test_missing_inventory_is_unknown_not_zero_and_reporting_r14_is_ctf_002() -> None:
    entries = [
        *case(),
        reported(
            "s1",
            "2028-04-01T00:00:00.000Z",
            "JPN",
            2027,
            r7="0",
            r9="100",
            r10="-100",
            r12="-100",
            r13="50",
            r14="-100",
        ),
    ]
    facts = collect(entries, "JPN")
    s = summarise(facts, method(), 2027)
    assert s.value("R5") is None and s.value("R14") is None
    assert s.rows["R5"].status == "unknown" and "no inventory figure" in s.rows["R5"].reason
    _, found = sc.check(facts, s)
    assert [(f.code, f.row) for f in found] == [("CTF-002", "R14")]
    # R8 and R11 reported as null: R8 is 0 and R11 not applicable, so nothing to say.


def test_a_wrong_reported_row_is_ctf_001_naming_the_row_and_its_blocks() -> None:
    # JPN reports 2026 R7 as 250 (it first transferred 200) and R9 right.
    entries = [
        *case(),
        reported(
            "s1",
            "2027-04-01T00:00:00.000Z",
            "JPN",
            2026,
            r7="250",
            r8="0",
            r9="400",
            r10="-200",
            r12="-200",
            r13="150",
            r14="984800.5",
        ),
    ]
    facts = collect(entries, "JPN")
    s = summarise(facts, method(), 2026)
    rep, found = sc.check(facts, s)
    assert rep is not None and n(rep.entry_id) == "s1"
    assert [(f.code, f.row) for f in found] == [("CTF-001", "R7")]
    f = found[0]
    assert "R7" in f.message and "250" in f.message and "200" in f.message
    assert f.blocks == ((CA, "JPN01", 301, 500),)
    assert sc.outcome(rep, found) == "inconsistent"


def test_a_later_report_supersedes_and_a_null_for_a_non_zero_row_is_ctf_003() -> None:
    right = {
        "r7": "300",
        "r8": "50",
        "r9": "0",
        "r10": "350",
        "r12": "350",
        "r13": "350",
        "r14": "1000350",
    }
    entries = [*case(), reported("s1", "2027-04-01T00:00:00.000Z", "JPN", 2025, **right)]
    facts = collect(entries, "JPN")
    s = summarise(facts, method(), 2025)
    assert sc.check(facts, s)[1] == []
    entries.append(reported("s2", "2027-05-01T00:00:00.000Z", "JPN", 2025, **right | {"r8": None}))
    rep, found = sc.check(collect(entries, "JPN"), s)
    assert rep is not None and n(rep.entry_id) == "s2"
    assert [(f.code, f.row, f.reported, f.computed) for f in found] == [
        ("CTF-003", "R8", None, Decimal(50))
    ]
    assert found[0].blocks == ((CA, "JPN01", 1001, 1050),)


def test_averaging_rows_pass_within_a_thousandth() -> None:
    # 2027 averaging: R11 = R12 = 7.143 (50/7); JPN reports the unrounded 7.142857.
    rows = {
        "r7": "0",
        "r8": "0",
        "r9": "100",
        "r10": "-100",
        "r11": "7.142857",
        "r12": "7.142857",
        "r13": "50",
    }
    entries = [*case(), reported("s1", "2028-04-01T00:00:00.000Z", "JPN", 2027, **rows)]
    facts = collect(entries, "JPN")
    s = summarise(facts, method("averaging"), 2027)
    assert sc.check(facts, s)[1] == []
    entries.append(
        reported("s2", "2028-05-01T00:00:00.000Z", "JPN", 2027, **rows | {"r11": "7.15"})
    )
    found = sc.check(collect(entries, "JPN"), s)[1]
    assert [(f.code, f.row) for f in found] == [("CTF-001", "R11")]
    # Integer rows are exact: under trajectory R12 "-100.0001" is a difference.
    traj = summarise(facts, method(), 2027)
    entries.append(
        reported(
            "s3",
            "2028-06-01T00:00:00.000Z",
            "JPN",
            2027,
            **rows | {"r11": None, "r12": "-100.0001"},
        )
    )
    found = sc.check(collect(entries, "JPN"), traj)[1]
    assert [(f.code, f.row) for f in found] == [("CTF-001", "R12")]


def test_r11_rounds_half_even() -> None:
    # Period 2021-2040; one unit first transferred in 2036: R13 = 1 over 16 years = 0.0625,
    # which rounds half-even to 0.062 (half-up would give 0.063).
    m = Method("JPN", (2021, 2040), "averaging")
    entries = [entry("e1", "2036-01-02T00:00:00.000Z", ft("JPN01", 1, 1, 2035, by="JPN"))]
    s = summarise(collect(entries, "JPN"), m, 2036)
    assert values(s)["R11"] == "0.062" and values(s)["R12"] == "0.062"


def test_oimp_counts_in_r8_and_ndc_with_oimp_in_r7() -> None:
    entries = [
        entry("a", "2025-01-10T00:00:00.000Z", ft("JPN01", 1, 10, 2025, by="JPN", purposes="OIMP")),
        entry("b", "2025-01-11T00:00:00.000Z", ft("JPN01", 11, 30, 2025, by="JPN", purposes="IMP")),
        entry("c", "2025-01-12T00:00:00.000Z", ft("JPN01", 31, 70, 2025, by="JPN", purposes="OP")),
        entry(
            "d",
            "2025-01-13T00:00:00.000Z",
            ft("JPN01", 71, 170, 2025, by="JPN", purposes="NDC and OIMP"),
        ),
    ]
    s = summarise(collect(entries, "JPN"), method(), 2025)
    # R7 = 100 ("NDC and OIMP" includes the NDC); R8 = 10 + 20 + 40 = 70; R10 = 170.
    assert (values(s)["R7"], values(s)["R8"], values(s)["R10"]) == ("100", "70", "170")
    assert [n(b.entry_id) for b in s.rows["R8"].blocks] == ["a", "b", "c"]


def test_unknown_purposes_fail_loudly() -> None:
    bad = ft("JPN01", 1, 10, 2025, by="JPN") | {"purposes": "Mitigation"}
    with pytest.raises(GatewayError) as exc:
        collect([entry("a", "2025-01-10T00:00:00.000Z", bad)], "JPN")
    assert exc.value.code == "CTF-103"


def test_the_year_of_a_first_transfer_is_the_utc_year_of_its_entry() -> None:
    entries = [
        entry("a", "2025-12-31T23:59:59.999Z", ft("JPN01", 1, 10, 2025, by="JPN")),
        entry("b", "2026-01-01T00:00:00.000Z", ft("JPN01", 11, 30, 2025, by="JPN")),
        entry("c", "2026-01-01T08:30:00+09:00", ft("JPN01", 31, 70, 2025, by="JPN")),  # 2025 UTC
    ]
    facts = collect(entries, "JPN")
    assert values(summarise(facts, method(), 2025))["R7"] == "50"
    assert values(summarise(facts, method(), 2026))["R7"] == "20"


def test_a_year_outside_the_ndc_period_or_no_period_is_a_coded_error() -> None:
    facts = collect(case(), "JPN")
    with pytest.raises(GatewayError) as exc:
        summarise(facts, method(), 2031)
    assert exc.value.code == "CTF-102"
    with pytest.raises(GatewayError) as exc:
        summarise(facts, Method("JPN", None), 2025)
    assert exc.value.code == "CTF-101"
    assert default_years(facts, method()) == list(range(2021, 2028))
    assert default_years(Facts("JPN"), method()) == []


def test_use_of_units_never_first_transferred_is_ctf_004() -> None:
    entries = [
        entry("e3", "2025-09-01T10:00:00.000Z", ft("MNG01", 1, 1000, 2024, by="MNG", to="JPN")),
        # 901-1100: 1001-1100 were never first transferred
        entry("u1", "2026-02-01T10:00:00.000Z", use("MNG01", 901, 1100, 2024, by="JPN", year=2026)),
        # opening holdings brought as first transferred: the legitimate exception
        opening("o1", "2026-03-01T00:00:00.000Z", "IDN01", 1, 500, True),
        entry("u2", "2026-04-01T10:00:00.000Z", use("IDN01", 1, 100, 2024, by="JPN", year=2026)),
        # opening holdings not first transferred do not count
        opening("o2", "2026-03-02T00:00:00.000Z", "KHM01", 1, 500, False),
        entry("u3", "2026-04-02T10:00:00.000Z", use("KHM01", 1, 10, 2024, by="JPN", year=2026)),
        # first transfer and use in one entry ("Use or cancellation"): the first comes first
        entry(
            "u4",
            "2026-05-01T10:00:00.000Z",
            ft("MNG01", 2001, 2010, 2024, by="MNG"),
            use("MNG01", 2001, 2010, 2024, by="JPN", year=2026),
        ),
        # a first transfer recorded after the use does not back it
        entry(
            "u5", "2026-06-01T10:00:00.000Z", use("MNG01", 3001, 3005, 2024, by="JPN", year=2026)
        ),
        entry("e9", "2026-06-02T10:00:00.000Z", ft("MNG01", 3001, 3005, 2024, by="MNG")),
        # another Party's unbacked use is not JPN's finding
        entry(
            "u6", "2026-07-01T10:00:00.000Z", use("MNG01", 5001, 5005, 2024, by="MNG", year=2026)
        ),
    ]
    facts = collect(entries, "JPN")
    s = summarise(facts, method(), 2026)
    assert values(s)["R9"] == "325"  # still counted: 200 + 100 + 10 + 10 + 5
    _, found = sc.check(facts, s)  # nothing reported: only the population check
    assert [(f.code, n(f.entry_id), f.blocks) for f in found] == [
        ("CTF-004", "u1", ((CA, "MNG01", 1001, 1100),)),
        ("CTF-004", "u3", ((CA, "KHM01", 1, 10),)),
        ("CTF-004", "u5", ((CA, "MNG01", 3001, 3005),)),
    ]
    assert found[0].computed == Decimal(100) and "no recorded first transfer" in found[0].message
    assert sc.unbacked_findings(facts, 2025) == []


def test_findings_become_discrepancies() -> None:
    entries = [
        *case(),
        reported(
            "s1",
            "2027-04-01T00:00:00.000Z",
            "JPN",
            2026,
            r7="250",
            r9="400",
            r10="-200",
            r12="-200",
            r13="150",
            r14="1",
        ),
    ]
    facts = collect(entries, "JPN")
    s = summarise(facts, method(), 2026)
    _, found = sc.check(facts, s)
    assert [(f.code, f.row) for f in found] == [("CTF-001", "R7"), ("CTF-001", "R14")]
    ds = sc.discrepancies(found, "ctf-abc", "2027-04-02T00:00:00.000Z", ["JPN01"])
    d = ds[0]
    assert d.id == dsc.discrepancy_id("summary", "ctf-abc", 0) != ds[1].id
    assert (d.code, d.found_by, d.source_entry, d.registries) == (
        "CTF-001",
        "summary",
        "ctf-abc",
        ("JPN01",),
    )
    assert d.blocks == ((CA, "JPN01", 301, 500),)
    assert dict(d.detail) == {
        "row": "R7",
        "reported": "250",
        "computed": "200",
        "year": 2026,
        "party": "JPN",
    }
    assert sc.discrepancies(found, "ctf-abc", "t")[0].registries == ("JPN",)
    assert dsc.from_record(dsc.record(d)) == d


def test_check_records_an_entry_and_one_discrepancy_per_finding() -> None:
    entries = [*case(), reported("s1", "2027-04-01T00:00:00.000Z", "JPN", 2026, r7="250")]
    facts = collect(entries, "JPN")
    s = summarise(facts, method(), 2026)
    rep, found = sc.check(facts, s)
    # r7 250 != 200 (CTF-001); r8 null and 0: fine; r11 null, not applicable: fine;
    # r9, r10, r12, r13, r14 null but non-zero (400, -200, -200, 150, 984800.5): CTF-003.
    assert [f.code for f in found] == ["CTF-001"] + ["CTF-003"] * 5
    items = records([YearResult(s, rep, found, checked=True)], 1_800_000_000_000, ["JPN01"])
    assert [t for t, _, _ in items] == [AUDIT_TOPIC] + [FINDINGS_TOPIC] * 6
    e = json.loads(items[0][2])
    assert e["entry_type"] == "summary-check" and e["input"]["type"] == "a6gw.summary.check"
    assert e["input"]["id"] == e["entry_id"] == sc.check_id("JPN", 2026, 1_800_000_000_000)
    assert (e["outcome"], e["input"]["reported_entry"]) == ("inconsistent", eid("s1"))
    assert [r["code"] for r in e["results"]] == [f.code for f in found]
    assert e["summary"]["rows"]["R7"]["value"] == "200"
    assert {json.loads(v)["source_entry"] for _, _, v in items[1:]} == {e["entry_id"]}
    assert "CTF-001" in year_text(YearResult(s, rep, found, checked=True))


# -- properties -----------------------------------------------------------------------------

YEARS = st.integers(2021, 2030)


@st.composite
def logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Random first transfers (of JPN and others) and uses, disjoint serials, in time order."""
    out: list[tuple[int, dict[str, Any]]] = []
    serial = 1
    for n in range(draw(st.integers(0, 12))):
        year = draw(YEARS)
        qty = draw(st.integers(1, 1000))
        party = draw(st.sampled_from(["JPN", "MNG"]))
        purposes = draw(st.sampled_from(["NDC", "OIMP", "NDC and OP", "IMP"]))
        vintage = draw(st.integers(2021, 2030))
        rows = [ft(f"{party}01", serial, serial + qty - 1, vintage, by=party, purposes=purposes)]
        if draw(st.booleans()):
            user = draw(st.sampled_from(["JPN", "MNG"]))
            rows.append(
                use(
                    f"{party}01",
                    serial,
                    serial + qty - 1,
                    vintage,
                    by=user,
                    year=draw(YEARS),
                    authorized_by=party,
                )
            )
        out.append((year, entry(f"e{n}", f"{year}-06-01T00:00:00.000Z", *rows)))
        serial += qty
    out.sort(key=lambda p: p[0])
    return [e for _, e in out]


@given(
    logs(),
    st.sampled_from(["averaging", "trajectory"]),
    st.sampled_from(["first-transfer", "vintage"]),
)
def test_row_identities_hold(entries: list[dict[str, Any]], ca_method: str, ca_year: str) -> None:
    m = method(ca_method, ca_year)
    facts = collect(entries, "JPN")
    assert facts.unbacked == []  # every use comes with or after its first transfer
    running = Decimal(0)
    for y in range(2021, 2031):
        s = summarise(facts, m, y)
        v = {n: r.value for n, r in s.rows.items()}
        r7, r8, r9, r10 = v["R7"], v["R8"], v["R9"], v["R10"]
        assert r7 is not None and r8 is not None and r9 is not None and r10 is not None
        assert r10 == r7 + r8 - r9
        running += r10
        assert v["R13"] == running
        assert v["R5"] is None and v["R14"] is None
        if m.averaging:
            assert abs(v["R11"] * (y - 2020) - running) <= Decimal("0.0005") * (y - 2020)  # type: ignore[operator]
            assert v["R12"] == v["R11"]
        elif ca_year == "first-transfer":
            assert v["R12"] == v["R10"]


@given(logs(), logs())
def test_rows_of_other_parties_are_ignored(
    mine: list[dict[str, Any]], other: list[dict[str, Any]]
) -> None:
    """Rows of other Parties (here: every row of a second log, relabelled MNG/KHM) change
    nothing in JPN's summary."""

    def foreign(e: dict[str, Any]) -> dict[str, Any]:
        rows = [
            r
            | {"first_transferring_party": "KHM", "party": "KHM", "origin": "KHM01"}
            | ({"using_party": "MNG"} if r["action"] == "Use" else {})
            for r in e.get("a6", ())
        ]
        return e | {"entry_id": "ev-" + sha256_hex(e["entry_id"].encode())[:40], "a6": rows}

    together = sorted([*mine, *(foreign(e) for e in other)], key=lambda e: e["decided_at"])
    a, b = collect(mine, "JPN"), collect(together, "JPN")
    for y in (2021, 2025, 2030):
        assert values(summarise(a, method(), y)) == values(summarise(b, method(), y))


# -- the command ----------------------------------------------------------------------------


def _config(tmp_path: Path, entries: list[dict[str, Any]], **jpn: Any) -> Path:
    (tmp_path / "keys").mkdir(exist_ok=True)
    key = LogKey.generate(ORIGIN)
    key.save(tmp_path / "keys" / "log.key")
    store = AuditStore(tmp_path / "audit.sqlite")
    store.append([(e["entry_id"], canonical_bytes(e)) for e in entries])
    sign_checkpoint(store, key)
    store.close()
    parties = [
        {"code": "JPN", "name": "Japan", "ndc_period": [2021, 2030]} | jpn,
        {"code": "MNG", "name": "Mongolia"},
    ]
    doc = {
        "parties": parties,
        "registries": [{"id": "JPN01", "party": "JPN"}, {"id": "MNG01", "party": "MNG"}],
        "audit": {"store": "audit.sqlite"},
    }
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps(doc), encoding="utf-8")  # JSON is YAML
    write_mac_key(tmp_path / "keys" / "internal.mac")
    return path


def test_cli_prints_checks_and_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    right = {
        "r7": "300",
        "r8": "50",
        "r9": "0",
        "r10": "350",
        "r12": "350",
        "r13": "350",
        "r14": "1000350",
    }
    entries = [
        *case(),
        reported("s1", "2027-04-01T00:00:00.000Z", "JPN", 2025, **right),
        reported("s2", "2027-04-01T00:00:00.000Z", "JPN", 2026, r7="250"),
    ]
    cfg = str(_config(tmp_path, entries))
    assert main(["summary", "--config", cfg, "--party", "JPN"]) == 0
    out = capsys.readouterr().out
    assert "JPN 2021" in out and "JPN 2027" in out and "JPN 2028" not in out
    assert (
        main(
            ["summary", "--config", cfg, "--party", "JPN", "--year", "2025", "--check", "--dry-run"]
        )
        == 0
    )
    assert "consistent" in capsys.readouterr().out
    assert main(["summary", "--config", cfg, "--party", "JPN", "--year", "2026", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["years"][0]["rows"]["R9"]["blocks"][0]["entry_id"] == eid("e4")
    assert doc["years"][0]["reported"]["rows"]["R7"] == "250"
    sent: list[tuple[str, bytes, bytes]] = []

    async def publish(
        kafka: KafkaClients, items: list[tuple[str, bytes, bytes]], *, mac_key: bytes
    ) -> None:
        assert kafka.credentials == Credentials("a6gw-summary", "s")  # its own principal
        assert len(mac_key) == 32  # the world's key: the records carry their MAC
        sent.extend(items)

    monkeypatch.setattr("gateway.transport.publish.publish", publish)
    monkeypatch.setenv(
        "A6GW_KAFKA_CREDENTIALS_SUMMARY", '{"username":"a6gw-summary","password":"s"}'
    )
    assert main(["summary", "--config", cfg, "--party", "JPN", "--year", "2026", "--check"]) == 1
    assert [json.loads(v).get("code") for t, _, v in sent if t == FINDINGS_TOPIC][0] == "CTF-001"
    check = json.loads(sent[0][2])
    assert check["outcome"] == "inconsistent" and check["input"]["party"] == "JPN"
    assert json.loads(sent[1][2])["registries"] == ["JPN01"]


def test_cli_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = str(_config(tmp_path, case()))
    assert main(["summary", "--config", cfg, "--party", "KHM"]) == 2
    assert main(["summary", "--config", cfg, "--party", "JPN", "--year", "2035"]) == 2
    assert "CTF-102" in capsys.readouterr().err
    assert main(["summary", "--config", cfg, "--party", "MNG"]) == 2  # no NDC period
    assert "CTF-101" in capsys.readouterr().err
    assert main(["summary", "--config", cfg, "--party", "JPN", "--dry-run"]) == 2


# -- the demo scenario ----------------------------------------------------------------------


def test_the_demo_scenario_rows_of_japan(tmp_path: Path) -> None:
    """The scenario in memory: Mongolia first transfers 1-2000 and 2401-2500 to Japan (NDC
    purposes), Japan uses 1-1000 for 2025 and moves 1901-2000 back (a transfer, not a first
    transfer). Japan (trajectory, by first-transfer year) therefore has R7 = R8 = 0 every
    year, R9(2025) = 1000, R10 = R12 = -1000 in 2025 and 0 in 2026, R13 = -1000 from 2025
    on; R5 is the scenario's latest inventory figure (unknown without one) and R14 = R5 + R12.
    """
    from gateway.demo.scenario import load_steps
    from gateway.services.reporting import method_of
    from tests.unit.worker.test_pipeline import MemoryPipeline

    pipe = MemoryPipeline(tmp_path)
    steps = load_steps(pipe.world)
    for step in steps:
        if not step.awaits:
            pipe.publish(step.topic, step.key, step.value)
    pipe.fire_timers(pipe.ts + 10**9)
    entries = [json.loads(v) for v in pipe.audit.values()]
    party = {p.code: p for p in pipe.lc.config.parties}
    figures: dict[tuple[str, int], Decimal] = {}  # the latest recorded figure per (party, year)
    for step in steps:
        if step.source is None or step.awaits or step.expect.outcome != "recorded":
            continue
        doc = json.loads(step.value)
        if doc.get("type") == "a6gw.inventory.emissions.v1":
            data = doc["data"]
            figures[(data["party"], data["year"])] = Decimal(data["emissions_tco2e"])

    jpn = method_of(party["JPN"])
    assert (jpn.ca_method, jpn.ca_year) == ("trajectory", "first-transfer")
    facts = collect(entries, "JPN")
    assert facts.unbacked == []
    r12 = {2025: Decimal(-1000), 2026: Decimal(0)}
    for year in (2025, 2026):
        s = summarise(facts, jpn, year)
        v = {n: r.value for n, r in s.rows.items()}
        assert (v["R7"], v["R8"], v["R9"]) == (
            Decimal(0),
            Decimal(0),
            Decimal(1000 if year == 2025 else 0),
        )
        assert (v["R10"], v["R11"], v["R12"], v["R13"]) == (
            r12[year],
            None,
            r12[year],
            Decimal(-1000),
        )
        r5 = figures.get(("JPN", year))
        assert v["R5"] == r5
        assert v["R14"] == (None if r5 is None else r5 + r12[year])
        assert sc.check(facts, s)[1] == [] or sc.latest_reported(facts, year) is not None

    # Mongolia first transferred 2100 ITMOs (NDC purposes) this year: its R7.
    this_year = datetime.fromtimestamp(pipe.ts / 1000, UTC).year
    mng = method_of(party["MNG"])
    s = summarise(collect(entries, "MNG"), mng, this_year)
    assert (s.value("R7"), s.value("R8"), s.value("R9"), s.value("R10")) == (
        Decimal(2100),
        Decimal(0),
        Decimal(0),
        Decimal(2100),
    )
    assert [(b.first, b.last) for b in s.rows["R7"].blocks] == [(1, 2000), (2401, 2500)]
