"""The Agreed Electronic Format (current "V2": 5 tables) of one Party and year, from the log.

Decision 2/CMA.3 annex para 20: each Party reports its annual Article 6 information in the
AEF. :func:`build` computes it from the audit entries alone, in log order:

- Table 1 Submission: the Party, version, reported year, date of submission and its NDC
  implementation period (from the config);
- Table 2 Authorizations: the Party's authorizations dated up to 31 December of the year,
  each in its latest version so dated (revoked ones too, their status said);
- Table 3 Actions: the Party's Article 6 rows (``row["party"]``, see
  :mod:`gateway.core.actions`) of the entries decided in the year (UTC);
- Table 4 Holdings: the ITMOs in the Party's registries at 31 December 23:59:59.999 UTC
  (:mod:`gateway.core.aef_rollforward`), from the entries decided by then: a frozen
  snapshot (AEF-002) that entries decided later never change;
- Table 5 Authorized entities: the Party's entities authorized up to 31 December.

Fields the CARP populates are never written (AEF-001; :data:`~gateway.core.aef_vocab.CARP_FIELDS`).
A field that does not apply to a row (a transferring Party on a use: A6-008; a non-GHG
quantity for a GHG metric: A6-014; no underlying unit registry) is written ``NA``; an
optional field the log does not record (GWP values, terms and conditions) is left empty;
a required one that is missing is a refusal. Every refusal is an
:class:`~gateway.errors.AefError` with a stable code:

- A6-AEF-001 a required field has no value (an authorization without a sector or a
  mitigation type, a Party without an NDC period, ...);
- A6-AEF-002 a value outside its CN-2026 controlled vocabulary;
- A6-AEF-003 the holdings do not roll forward (I-AEF-1), listing the keys;
- A6-AEF-004 an invalid version, date of submission or year;
- A6-AEF-005 the log contradicts itself (a row under an authorization never recorded, a
  quantity that is not the size of its serials, a malformed date or decision time);
- A6-AEF-006 a value the AEF or the file format cannot carry (a non-GHG metric with no
  tCO2e figure; a unit type without a CN-2026 underlying registry code).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.core import aef_vocab as v
from gateway.core.aef_rollforward import (
    Entry,
    decided_at,
    itmo_holdings,
    row_quantity,
    year_end,
)
from gateway.errors import AefError

Cell = str | int | None
Row = dict[str, Cell]
NA = "NA"
AUTHORIZATION_TYPE = "a6gw.authorization.v1"
ENTITY_TYPE = "a6gw.entity.authorized.v1"
_PARTY = re.compile(r"^[A-Z]{3}$")
YEAR = "Calendar year for which the ITMOs are used towards the Party's NDC"
PURPOSE = "Purpose for which the ITMO has been used towards or cancelled for OIMP"
FT_DEFINITION = "First transfer definition for OIMP"


@dataclass(frozen=True)
class Aef:
    """One AEF submission: its identity and its tables (rows keyed by V2 field name)."""

    party: str
    reported_year: int
    version: str
    tables: dict[str, tuple[Row, ...]]


def _date(iso: object, where: str) -> str:
    """``yyyy-mm-dd`` as the AEF writes dates: ``dd/mm/yyyy``."""
    try:
        return datetime.strptime(str(iso), "%Y-%m-%d").strftime("%d/%m/%Y")
    except ValueError as exc:
        raise AefError(f"{where}: {iso!r} is not a date", code=v.INCONSISTENT) from exc


def _party(table: str, field: str, value: object, where: str) -> str:
    v.required(table, field, value, where)
    if not isinstance(value, str) or not _PARTY.match(value):
        raise AefError(f"{table}: {field}: {value!r} is not a Party code ({where})", code=v.UNKNOWN)
    return value


# ---- the log's authorizations ---------------------------------------------------------


class Authorizations:
    """The authorizations recorded in the log, every version, in log order."""

    def __init__(self) -> None:
        self.versions: dict[tuple[str, str], list[Mapping[str, Any]]] = {}

    def add(self, entry: Entry) -> None:
        data = entry.get("data")
        if entry.get("input", {}).get("type") == AUTHORIZATION_TYPE and isinstance(data, dict):
            self.versions.setdefault((data["ca_id"], data["authorization_id"]), []).append(data)

    def latest(self, ca_id: str, auth_id: str) -> Mapping[str, Any] | None:
        """The highest version recorded so far."""
        found = self.versions.get((ca_id, auth_id), [])
        return max(found, key=lambda a: int(a["version"])) if found else None

    def dated(self, party: str, last_day: str) -> list[Mapping[str, Any]]:
        """``party``'s authorizations, each at its highest version dated by ``last_day``."""
        out = []
        for (_ca, _id), found in sorted(self.versions.items()):
            mine = [a for a in found if a["authorizing_party"] == party and a["date"] <= last_day]
            if mine:
                out.append(max(mine, key=lambda a: int(a["version"])))
        return out


def _needed(auths: Authorizations, ca_id: object, auth_id: object, where: str) -> Mapping[str, Any]:
    auth = auths.latest(str(ca_id), str(auth_id)) if auth_id else None
    if auth is None:
        raise AefError(
            f"{where}: authorization {auth_id!r} of {ca_id} is not recorded in the log",
            code=v.INCONSISTENT,
        )
    return auth


# ---- units (Tables 3 and 4) -----------------------------------------------------------


def _units(
    table: str, unit_type: object, serials: tuple[int, int], auth: Mapping[str, Any], where: str
) -> Row:
    """The unit fields shared by Actions and Holdings, from First ID to Vintage."""
    underlying = v.UNDERLYING_BY_UNIT_TYPE.get(str(unit_type))
    if underlying is None:
        raise AefError(
            f"{table}: Underlying unit registry ID: unit type {unit_type!r} has no CN-2026 "
            f"underlying registry code ({where})",
            code=v.UNWRITABLE,
        )
    v.controlled(table, "Underlying unit registry ID", "Underlying unit registry ID", underlying)
    first, last = serials
    metric = v.controlled(table, "Metric", "Metric", auth.get("metric", "GHG"), where)
    if metric != "GHG":
        raise AefError(
            f"{table}: Quantity (t CO2 eq): the metric is {metric} and the log records no "
            f"tCO2e figure ({where})",
            code=v.UNWRITABLE,
        )
    what = f"authorization {auth['authorization_id']} ({where})"
    mitigation = v.required(table, "Mitigation type", auth.get("mitigation_type"), what)
    return {
        "First ID": first,
        "Last ID": last,
        "Underlying unit registry ID": underlying,
        "First unit ID": NA if underlying == NA else first,
        "Last unit ID": NA if underlying == NA else last,
        "Metric": metric,
        "Applicable GWP value(s)": None,
        "Applicable non-GHG metric": NA,
        "Quantity (t CO2 eq)": last - first + 1,
        "Quantity (in non-GHG metric)": NA,
        "Mitigation type": v.controlled(table, "Mitigation type", "Mitigation type", mitigation),
    }


def _oimp_part(purposes: str) -> str | None:
    """The non-NDC purpose within ``purposes`` ("NDC and OIMP" -> "OIMP"), None for NDC."""
    return None if purposes == "NDC" else purposes.removeprefix("NDC and ")


def action_row(entry: Entry, row: Mapping[str, Any], auth: Mapping[str, Any], where: str) -> Row:
    """Table 3: one Article 6 row of an entry (domain.md §f.2, 26 fields)."""
    t = v.ACTIONS
    action = v.controlled(t, "Action type", "Action type", row.get("action"), where)
    sub = v.subtype(t, action, row.get("subtype"), where)
    if sub is not None:
        v.controlled(t, "Action subtype", "Action subtype", sub, where)
    row_quantity(row, where)  # the serials and quantity agree
    first = int(row["first"])
    purposes = v.controlled(t, "Purposes", "Purposes", row.get("purposes"), where)
    # A6-008 and A6-010: the Party fields of one action type only; NA on the others.
    transferring = _conditional(row, "transferring_party", action == "Acquisition", where)
    acquiring = _conditional(
        row, "acquiring_party", action in ("First transfer", "Transfer"), where
    )
    terminal = action in ("Use", "Cancellation", "Voluntary Cancellation")
    use_or_cancel = terminal or sub == "Use or cancellation"
    using = _conditional(row, "using_party", use_or_cancel, where)
    entity = _conditional(row, "using_entity", use_or_cancel, where)
    year = _conditional(row, "use_year", action == "Use", where)
    if action == "Acquisition":
        _party(t, "Transferring participating Party ID", transferring, where)
    if sub == "First transfer to another Party" or action == "Transfer":
        _party(t, "Acquiring participating Party ID", acquiring, where)
    if action == "Use":
        _party(t, "Using/cancelling participating Party ID", using, where)
        v.required(t, YEAR, year, where)
    purpose: Cell = NA
    if action == "Use":
        purpose = "NDC"
    elif use_or_cancel:
        purpose = _oimp_part(purposes)
    if purpose not in (None, NA):
        v.controlled(t, PURPOSE, "Purposes", purpose, where)
    ca, registry, ftp = row.get("ca_id"), row.get("registry"), row.get("first_transferring_party")
    first_party = "First transferring participating Party ID"
    note = f"originating registry {row.get('origin')}"
    if entry.get("transaction_id"):
        note += f"; transaction {entry['transaction_id']}"
    units = _units(t, row.get("unit_type"), (first, int(row["last"])), auth, where)
    out: Row = {
        "Action date": decided_at(entry),
        "Action type": action,
        "Action subtype": sub,
        "Cooperative approach ID": str(v.required(t, "Cooperative approach ID", ca, where)),
        "Authorization ID": str(row["authorization_id"]),
        "First transferring participating Party ID": _party(t, first_party, ftp, where),
        "Party ITMO registry ID": str(v.required(t, "Party ITMO registry ID", registry, where)),
        **units,
        "Vintage": int(row["vintage"]),
        "Transferring participating Party ID": transferring,
        "Acquiring participating Party ID": acquiring,
        PURPOSE: purpose,
        "Using/cancelling participating Party ID": using,
        "Using/cancelling authorized entity ID": entity,
        YEAR: year,
        "Additional explanatory information": note,
    }
    return {f: out[f] for f in v.FIELDS[v.ACTIONS]}


def _conditional(row: Mapping[str, Any], name: str, applies: bool, where: str) -> Cell:
    """A field that applies to some action types only: its value (None when absent) where
    it applies, ``NA`` elsewhere (a transfer's rows name both Parties; each side's row
    reports the other Party only)."""
    value = row.get(name)
    if not applies:
        return NA
    if value is None or value == "":
        return None
    if isinstance(value, str | int):
        return value
    raise AefError(f"{v.ACTIONS}: {name}: {value!r} is not a value ({where})", code=v.INCONSISTENT)


def holding_row(block: Mapping[str, Any], auth: Mapping[str, Any], where: str) -> Row:
    """Table 4: one ITMO block held at the year's end (16 fields)."""
    t = v.HOLDINGS
    first, last = int(block["start"]), int(block["end"])
    out: Row = {
        "Cooperative approach ID": str(block["ca_id"]),
        "Authorization ID": str(auth["authorization_id"]),
        "First transferring participating Party ID": _party(
            t, "First transferring participating Party ID", auth.get("authorizing_party"), where
        ),
        "Party ITMO registry ID": str(block["registry"]),
        **_units(t, block.get("unit_type"), (first, last), auth, where),
        "Vintage": int(block["vintage"]),
    }
    return {f: out[f] for f in v.FIELDS[v.HOLDINGS]}


# ---- authorizations and entities (Tables 2 and 5) ---------------------------------------


def authorization_row(a: Mapping[str, Any]) -> Row:
    """Table 2: one authorization, in the version reported (18 fields)."""
    t = v.AUTHORIZATIONS
    where = f"authorization {a.get('authorization_id')} version {a.get('version')}"
    sectors = list(v.required(t, "Sector(s)", a.get("sectors"), where) or ())
    v.required(t, "Mitigation type", a.get("mitigation_type"), where)  # Tables 3-4 need it
    v.controlled(t, "Mitigation type", "Mitigation type", a.get("mitigation_type"), where)
    purposes = v.controlled(t, "Purposes for authorization", "Purposes", a.get("purposes"), where)
    metric = v.controlled(t, "Metric", "Metric", a.get("metric", "GHG"), where)
    non_ghg: Cell = NA
    if metric != "GHG":
        non_ghg = str(v.required(t, "Applicable non-GHG metric", a.get("non_ghg_metric"), where))
    oimp = purposes in v.OIMP_PURPOSES
    definition: Cell = NA
    if oimp:
        found = a.get("first_transfer_definition")
        definition = v.controlled(t, FT_DEFINITION, "First transfer definition", found, where)
    quantity = a.get("authorized_quantity")
    return {
        "Authorization ID": str(a["authorization_id"]),
        "Date of authorization": _date(a.get("date"), where),
        "Cooperative approach ID": str(a["ca_id"]),
        "Version of the authorization": int(a["version"]),
        "Authorized quantity": int(quantity) if quantity is not None else None,
        "Metric": metric,
        "Applicable GWP value(s)": None,
        "Applicable non-GHG metric": non_ghg,
        "Sector(s)": "; ".join(v.controlled(t, "Sector(s)", "Sector", s, where) for s in sectors),
        "Activity type(s)": "; ".join(
            v.controlled(t, "Activity type(s)", "Activity type", x, where)
            for x in a.get("activity_types") or ()
        )
        or None,
        "Purposes for authorization": purposes,
        "Authorized Party(ies) ID": None,
        "Authorized entity(ies) ID": "; ".join(a.get("authorized_entity_ids") or ()) or None,
        "OIMP authorized by the Party": (a.get("oimp_authorized") or None) if oimp else NA,
        "Authorized timeframe": a.get("authorized_timeframe") or None,
        "Authorization terms and conditions": None,
        "First transfer definition for OIMP": definition,
        "Additional explanatory information": f"status: {a.get('status')}",
    }


def entity_row(e: Mapping[str, Any]) -> Row:
    """Table 5: one authorized entity (8 fields)."""
    t = v.ENTITIES
    where = f"authorized entity {e.get('name')!r}"
    return {
        "Date of the authorization": _date(v.required(t, "Date", e.get("date"), where), where),
        "Name": str(v.required(t, "Name", e.get("name"), where)),
        "Country of incorporation": _party(
            t, "Country of incorporation", e.get("country_of_incorporation"), where
        ),
        "Identification number": str(
            v.required(t, "Identification number", e.get("identification_number"), where)
        ),
        "Cooperative approach ID": str(e["ca_id"]),
        "Conditions": e.get("conditions") or None,
        "Change and revocation conditions": e.get("change_and_revocation_conditions") or None,
        "Additional explanatory information": e.get("additional_information") or None,
    }


# ---- the submission ---------------------------------------------------------------------


def submission_row(
    party: str, year: int, version: str, submitted: str, ndc_period: tuple[int, int] | None
) -> Row:
    """Table 1 (6 fields; the CARP's three are not written)."""
    if not re.fullmatch(r"\d+\.\d+", version):
        raise AefError(f"version {version!r} is not X.Y", code=v.BAD_PARAMETER)
    try:
        datetime.strptime(submitted, "%d/%m/%Y")
    except ValueError as exc:
        raise AefError(
            f"date of submission {submitted!r} is not dd/mm/yyyy", code=v.BAD_PARAMETER
        ) from exc
    if not re.fullmatch(r"\d{2}/\d{2}/\d{4}", submitted):
        raise AefError(f"date of submission {submitted!r} is not dd/mm/yyyy", code=v.BAD_PARAMETER)
    if not 1990 <= year <= 2100:
        raise AefError(f"reported year {year} is out of range", code=v.BAD_PARAMETER)
    if ndc_period is None:
        raise AefError(
            f"{v.SUBMISSION}: the NDC implementation period is required, and {party} has "
            "none in the config (parties[].ndc_period)",
            code=v.MISSING,
        )
    return {
        "Party": _party(v.SUBMISSION, "Party", party, "the submission"),
        "Version": version,
        "Reported year": year,
        "Date of submission": submitted,
        "First year of the NDC implementation period": ndc_period[0],
        "Last year of the NDC implementation period": ndc_period[1],
    }


def build(
    entries: Iterable[Entry],
    *,
    party: str,
    year: int,
    registries: Collection[str],
    ndc_period: tuple[int, int] | None,
    submitted: str,
    version: str = "1.0",
) -> Aef:
    """The AEF of ``party`` (its ITMO registries ``registries``) for ``year``.

    ``submitted`` is the date of submission (dd/mm/yyyy). Does not check the roll-forward:
    run :func:`gateway.core.aef_rollforward.roll_forward` first.
    """
    log = list(entries)
    header = submission_row(party, year, version, submitted, ndc_period)
    cutoff, last_day = year_end(year), f"{year}-12-31"
    auths, at_cutoff = Authorizations(), Authorizations()
    actions: list[Row] = []
    entities: dict[tuple[tuple[str, Cell], ...], Row] = {}
    for entry in log:
        at = decided_at(entry)
        auths.add(entry)  # a row's authorization is recorded before it, in log order
        if at[:23] <= cutoff:
            at_cutoff.add(entry)
        data = entry.get("data")
        if entry.get("input", {}).get("type") == ENTITY_TYPE and isinstance(data, dict):
            if data.get("authorizing_party") == party and str(data.get("date")) <= last_day:
                row = entity_row(data)
                entities.setdefault(tuple(row.items()), row)
        if not at.startswith(f"{year}-"):
            continue
        for n, r in enumerate(entry.get("a6") or ()):
            if r.get("party") == party:
                where = f"audit entry {entry.get('entry_id')} row {n}"
                auth = _needed(auths, r.get("ca_id"), r.get("authorization_id"), where)
                actions.append(action_row(entry, r, auth, where))
    holdings = []
    for b in itmo_holdings(log, cutoff, registries):
        where = f"block {b['ca_id']}:{b['origin']}:{b['start']}-{b['end']} at {b['registry']}"
        auth = _needed(at_cutoff, b["ca_id"], b.get("authorization_id"), where)
        holdings.append(holding_row(b, auth, where))
    tables = {
        v.SUBMISSION: (header,),
        v.AUTHORIZATIONS: tuple(authorization_row(a) for a in auths.dated(party, last_day)),
        v.ACTIONS: tuple(actions),
        v.HOLDINGS: tuple(holdings),
        v.ENTITIES: tuple(entities.values()),
    }
    return Aef(party, year, version, tables)
