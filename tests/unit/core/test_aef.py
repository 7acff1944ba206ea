"""The AEF tables over a hand-built audit log (``aeflog``): the five tables, the fields the
CARP populates never written, and the refusals: required values missing, values outside
their controlled vocabulary, values the AEF cannot carry, logs that contradict themselves."""

from __future__ import annotations

import copy
import io
import zipfile
from typing import Any

import pytest

from gateway.core import aef_vocab as v
from gateway.core.aef import build
from gateway.core.aef_write import to_csv, to_json, to_xlsx
from gateway.errors import AefError
from tests.unit.aeflog import a6_row, aef_of, authorization, cells, entry, the_log


def test_submission_and_authorizations() -> None:
    log = the_log()
    aef = aef_of(log, "MNG", 2025, version="2.1")
    assert aef.tables[v.SUBMISSION] == (
        {
            "Party": "MNG",
            "Version": "2.1",
            "Reported year": 2025,
            "Date of submission": "15/04/2027",
            "First year of the NDC implementation period": 2021,
            "Last year of the NDC implementation period": 2030,
        },
    )
    (auth,) = aef.tables[v.AUTHORIZATIONS]
    assert auth == {
        "Authorization ID": "AUTH-1",
        "Date of authorization": "01/03/2025",
        "Cooperative approach ID": "CA0001",
        "Version of the authorization": 1,
        "Authorized quantity": 5000,
        "Metric": "GHG",
        "Applicable GWP value(s)": None,
        "Applicable non-GHG metric": "NA",
        "Sector(s)": "Energy generation",
        "Activity type(s)": "Solar; Wind",
        "Purposes for authorization": "NDC",
        "Authorized Party(ies) ID": None,
        "Authorized entity(ies) ID": "JP-ENT-1",
        "OIMP authorized by the Party": "NA",
        "Authorized timeframe": None,
        "Authorization terms and conditions": None,
        "First transfer definition for OIMP": "NA",
        "Additional explanatory information": "status: granted",
    }
    # the next year reports version 2; JPN authorized nothing
    assert cells(aef_of(log, "MNG", 2026), v.AUTHORIZATIONS, "Version of the authorization") == [
        (2,)
    ]
    assert aef_of(log, "JPN", 2026).tables[v.AUTHORIZATIONS] == ()
    # a revoked version is reported, with its status
    v3 = authorization(version=3, status="revoked", date="2026-06-01")
    revoked = [*log, entry(9, "2026-06-01T00:00:00.000Z", kind="authorization", data=v3)]
    (auth,) = aef_of(revoked, "MNG", 2026).tables[v.AUTHORIZATIONS]
    assert (auth["Version of the authorization"], auth["Additional explanatory information"]) == (
        3,
        "status: revoked",
    )


def test_oimp_authorization_fields() -> None:
    oimp = authorization(
        purposes="NDC and OIMP",
        first_transfer_definition="Issuance",
        oimp_authorized="CORSIA",
        authorized_timeframe="2025 - 2030",
    )
    log = [entry(0, "2025-03-01T00:00:00.000Z", kind="authorization", data=oimp)]
    (auth,) = aef_of(log, "MNG", 2025).tables[v.AUTHORIZATIONS]
    assert auth["First transfer definition for OIMP"] == "Issuance"
    assert auth["OIMP authorized by the Party"] == "CORSIA"
    assert auth["Authorized timeframe"] == "2025 - 2030"


def test_actions_of_a_party_in_a_year() -> None:
    log = the_log()
    jpn25 = aef_of(log, "JPN", 2025)
    fields = (
        "Action date",
        "Action type",
        "Action subtype",
        "First ID",
        "Last ID",
        "Quantity (t CO2 eq)",
        "Transferring participating Party ID",
        "Acquiring participating Party ID",
    )
    assert cells(jpn25, v.ACTIONS, *fields) == [
        ("2025-04-01T09:00:00.000Z", "Acquisition", None, 1, 100, 100, "MNG", "NA"),
        ("2025-05-01T09:00:00.000Z", "Use", None, 1, 30, 30, "NA", "NA"),
    ]
    use = jpn25.tables[v.ACTIONS][1]
    assert use["Calendar year for which the ITMOs are used towards the Party's NDC"] == 2025
    assert use["Using/cancelling participating Party ID"] == "JPN"
    assert use["Using/cancelling authorized entity ID"] == "JP-ENT-1"
    assert use["Purpose for which the ITMO has been used towards or cancelled for OIMP"] == "NDC"
    assert use["Mitigation type"] == "Emission reductions"
    assert use["First transferring participating Party ID"] == "MNG"
    assert use["Underlying unit registry ID"] == "JCM"
    assert (use["First unit ID"], use["Last unit ID"]) == (1, 30)
    note = "originating registry MNG01; transaction RET-1"
    assert use["Additional explanatory information"] == note
    jpn26 = aef_of(log, "JPN", 2026)
    assert cells(jpn26, v.ACTIONS, "Action type", "Action subtype", "First ID", "Last ID") == [
        ("Transfer", None, 91, 100),
        ("Cancellation", "Other cancellations", 31, 40),
    ]
    transfer, cancel = jpn26.tables[v.ACTIONS]
    assert transfer["Acquiring participating Party ID"] == "MNG"
    assert transfer["Calendar year for which the ITMOs are used towards the Party's NDC"] == "NA"
    assert cancel["Using/cancelling participating Party ID"] == "JPN"
    # cancelled from an NDC-only authorization: not for an OIMP purpose
    assert cancel["Purpose for which the ITMO has been used towards or cancelled for OIMP"] is None
    mng25 = aef_of(log, "MNG", 2025)
    assert cells(
        mng25,
        v.ACTIONS,
        "Action type",
        "Action subtype",
        "Party ITMO registry ID",
        "Acquiring participating Party ID",
    ) == [("First transfer", "First transfer to another Party", "MNG01", "JPN")]
    assert cells(
        aef_of(log, "MNG", 2026), v.ACTIONS, "Action type", "Transferring participating Party ID"
    ) == [("Acquisition", "JPN")]


def test_holdings_at_the_year_end() -> None:
    log = the_log()
    fields = ("Party ITMO registry ID", "First ID", "Last ID", "Quantity (t CO2 eq)", "Vintage")
    assert cells(aef_of(log, "JPN", 2025), v.HOLDINGS, *fields) == [("JPN01", 31, 100, 70, 2025)]
    assert cells(aef_of(log, "JPN", 2026), v.HOLDINGS, *fields) == [("JPN01", 41, 90, 50, 2025)]
    assert cells(aef_of(log, "MNG", 2025), v.HOLDINGS, *fields) == []
    (held,) = aef_of(log, "MNG", 2026).tables[v.HOLDINGS]
    assert held == {
        "Cooperative approach ID": "CA0001",
        "Authorization ID": "AUTH-1",
        "First transferring participating Party ID": "MNG",
        "Party ITMO registry ID": "MNG01",
        "First ID": 91,
        "Last ID": 100,
        "Underlying unit registry ID": "JCM",
        "First unit ID": 91,
        "Last unit ID": 100,
        "Metric": "GHG",
        "Applicable GWP value(s)": None,
        "Applicable non-GHG metric": "NA",
        "Quantity (t CO2 eq)": 10,
        "Quantity (in non-GHG metric)": "NA",
        "Mitigation type": "Emission reductions",
        "Vintage": 2025,
    }
    # An entry decided at the last millisecond of the year counts; one a millisecond later
    # does not (and the log need not be in time order).
    late = copy.deepcopy(log)
    late[4]["decided_at"] = "2025-12-31T23:59:59.999Z"
    assert cells(aef_of(late, "JPN", 2025), v.HOLDINGS, "First ID", "Last ID") == [(31, 90)]
    assert cells(aef_of(late, "MNG", 2025), v.HOLDINGS, "First ID", "Last ID") == [(91, 100)]
    later = copy.deepcopy(log)
    later[2]["decided_at"] = "2026-01-01T00:00:00.000Z"
    assert cells(aef_of(later, "JPN", 2025), v.HOLDINGS, "First ID", "Last ID") == [(1, 100)]


def test_authorized_entities() -> None:
    log = the_log()
    assert aef_of(log, "JPN", 2025).tables[v.ENTITIES] == ()
    (ent,) = aef_of(log, "JPN", 2026).tables[v.ENTITIES]
    assert ent == {
        "Date of the authorization": "15/01/2026",
        "Name": 'Acme, "Carbon" Ltd',
        "Country of incorporation": "JPN",
        "Identification number": "JP-123",
        "Cooperative approach ID": "CA0001",
        "Conditions": "buys for its NDC use only",
        "Change and revocation conditions": None,
        "Additional explanatory information": None,
    }
    assert cells(aef_of(log, "MNG", 2026), v.ENTITIES, "Name") == [("MN Co",)]


def test_carp_populated_fields_are_never_written() -> None:
    counts = {t: (len(v.V2_FIELDS[t]), len(v.FIELDS[t])) for t in v.TABLES}
    assert counts == {
        v.SUBMISSION: (9, 6),
        v.AUTHORIZATIONS: (19, 18),
        v.ACTIONS: (27, 26),
        v.HOLDINGS: (16, 16),
        v.ENTITIES: (8, 8),
    }
    assert v.CARP_FIELDS <= {f for t in v.TABLES for f in v.V2_FIELDS[t]}
    aef = aef_of(the_log(), "JPN", 2026)
    for table in v.TABLES:
        assert not v.CARP_FIELDS & set(v.FIELDS[table]), table
        for r in aef.tables[table]:
            assert tuple(r) == v.FIELDS[table]
    files = {**to_csv(aef), **to_json(aef), **to_xlsx(aef)}
    xlsx = next(data for name, data in files.items() if name.endswith(".xlsx"))
    with zipfile.ZipFile(io.BytesIO(xlsx)) as zf:
        texts = [zf.read(n) for n in zf.namelist()]
    for data in [*(d for n, d in files.items() if not n.endswith(".xlsx")), *texts]:
        for field in v.CARP_FIELDS:
            assert field.encode() not in data


# ---- refusals ---------------------------------------------------------------------------


def refused(log: list[dict[str, Any]], party: str, year: int, code: str, **kw: Any) -> str:
    with pytest.raises(AefError) as err:
        aef_of(log, party, year, **kw)
    assert err.value.code == code, str(err.value)
    return str(err.value)


def test_required_fields_are_refused_never_blank() -> None:
    log = the_log()
    log[0]["data"] = authorization(sectors=[])
    msg = refused(log, "MNG", 2025, "A6-AEF-001")
    assert "Authorizations: Sector(s) is required" in msg and "AUTH-1 version 1" in msg
    # no mitigation type: Table 2 refuses the authorization, Table 3 the rows under it
    log = the_log()
    log[0]["data"] = authorization(mitigation_type=None)
    assert "Mitigation type" in refused(log, "MNG", 2025, "A6-AEF-001")
    msg = refused(log, "JPN", 2025, "A6-AEF-001")
    assert "Actions: Mitigation type is required" in msg and "AUTH-1" in msg
    assert "NDC implementation period" in refused(
        the_log(), "JPN", 2025, "A6-AEF-001", ndc_period=None
    )
    log = the_log()
    del log[2]["a6"][0]["use_year"]
    assert "Calendar year" in refused(log, "JPN", 2025, "A6-AEF-001")
    log = the_log()
    log[1]["a6"][1]["transferring_party"] = None
    assert "Transferring participating Party ID" in refused(log, "JPN", 2025, "A6-AEF-001")


def _kwh_authorization_only(log: list[dict[str, Any]]) -> None:
    log[0]["data"]["metric"] = "kWh"
    del log[1:]  # no actions: Table 2 meets the metric first


@pytest.mark.parametrize(
    ("corrupt", "party", "year", "expect"),
    [
        (
            lambda log: a6_row(log, 2).update(action="Retirement"),
            "JPN",
            2025,
            "Actions: Action type: 'Retirement'",
        ),
        (
            lambda log: a6_row(log, 5).update(subtype="Lost"),
            "JPN",
            2026,
            "Actions: Action subtype: 'Lost'",
        ),
        (
            lambda log: a6_row(log, 2).update(subtype="Issuance"),
            "JPN",
            2025,
            "Actions: Action subtype: 'Issuance'",
        ),
        (
            lambda log: a6_row(log, 2).update(purposes="Everything"),
            "JPN",
            2025,
            "Actions: Purposes: 'Everything'",
        ),
        (
            lambda log: log[0]["data"].update(sectors=["Mining"]),
            "MNG",
            2025,
            "Authorizations: Sector(s): 'Mining'",
        ),
        (
            lambda log: log[0]["data"].update(activity_types=["CO2 usage"]),
            "MNG",
            2025,
            "Authorizations: Activity type(s): 'CO2 usage'",
        ),
        (
            lambda log: log[0]["data"].update(mitigation_type="Avoidance"),
            "JPN",
            2025,
            "Actions: Mitigation type: 'Avoidance'",
        ),
        (lambda log: log[0]["data"].update(metric="kWh"), "JPN", 2025, "Actions: Metric: 'kWh'"),
        (_kwh_authorization_only, "MNG", 2025, "Authorizations: Metric: 'kWh'"),
        (
            lambda log: log[0]["data"].update(purposes="OIMP", first_transfer_definition="Sale"),
            "MNG",
            2025,
            "Authorizations: First transfer definition for OIMP: 'Sale'",
        ),
    ],
    ids=["action type", "subtype", "subtype of type", "purposes", "sector", "activity type",
         "mitigation type", "metric in actions", "metric", "first transfer definition"],
)  # fmt: skip
def test_unknown_controlled_values_are_refused(
    corrupt: Any, party: str, year: int, expect: str
) -> None:
    """Never a blank or a zero: an unknown value stops the export and names what it is."""
    log = the_log()
    corrupt(log)
    assert expect in refused(log, party, year, "A6-AEF-002")


def test_values_the_aef_cannot_carry_are_refused() -> None:
    log = the_log()
    a6_row(log, 2)["unit_type"] = "A6.4ER"
    assert "unit type 'A6.4ER'" in refused(log, "JPN", 2025, "A6-AEF-006")
    log = the_log()
    log[0]["data"] |= {"metric": "non-GHG", "non_ghg_metric": "MWh"}
    (auth,) = aef_of(log[:1], "MNG", 2025).tables[v.AUTHORIZATIONS]
    assert auth["Applicable non-GHG metric"] == "MWh"
    assert "no tCO2e figure" in refused(log, "JPN", 2025, "A6-AEF-006")
    log[0]["data"]["non_ghg_metric"] = None
    assert "Applicable non-GHG metric" in refused(log[:1], "MNG", 2025, "A6-AEF-001")


def test_inconsistent_logs_are_refused() -> None:
    log = the_log()
    a6_row(log, 2)["authorization_id"] = "AUTH-9"
    assert "'AUTH-9' of CA0001 is not recorded" in refused(log, "JPN", 2025, "A6-AEF-005")
    log = the_log()
    a6_row(log, 2)["quantity"] = "31"
    assert "quantity 31 is not the size of serials 1-30" in refused(log, "JPN", 2025, "A6-AEF-005")


@pytest.mark.parametrize(
    ("kw", "expect"),
    [({"version": "1"}, "version '1'"), ({"submitted": "2027-04-15"}, "dd/mm/yyyy")],
)
def test_bad_parameters(kw: dict[str, Any], expect: str) -> None:
    with pytest.raises(AefError, match=expect) as err:
        build(
            the_log(),
            party="JPN",
            year=2025,
            registries={"JPN01"},
            ndc_period=(2021, 2030),
            **{"submitted": "01/01/2027"} | kw,
        )
    assert err.value.code == "A6-AEF-004"
