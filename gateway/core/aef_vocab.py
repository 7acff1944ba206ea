"""The AEF V2 tables' field names and the controlled values the export may write.

Field names are those of the current Agreed Electronic Format ("V2", 5 tables; domain.md
§f.2), in order, including the fields the CARP populates; the export writes every field
but those (:data:`CARP_FIELDS`, AEF-001 in the check catalogue). Controlled values are the
CN-2026 lists ("List of common nomenclatures under Article 6.2", 17 Feb 2026): one table,
:data:`VOCABULARY`, against which every enumerated value is checked before it is written.
An unknown value is refused with a coded error naming table, field and value, never
written as a blank or a zero (domain.md Appendix F note 7: the silent zero is the canonical
failure of Article 6 reporting tools).
"""

from __future__ import annotations

from typing import TypeVar, get_args

from gateway.errors import AefError
from schemas._types import (
    ActivityType,
    CancellationSubtype,
    FirstTransferDefinition,
    MitigationType,
    Purpose,
    Sector,
)

T = TypeVar("T")
SUBMISSION, AUTHORIZATIONS, ACTIONS, HOLDINGS, ENTITIES = (
    "Submission",
    "Authorizations",
    "Actions",
    "Holdings",
    "Authorized entities",
)
#: The tables in AEF order (Table 1 to Table 5).
TABLES = (SUBMISSION, AUTHORIZATIONS, ACTIONS, HOLDINGS, ENTITIES)

#: Fields the CARP (the Article 6 database) populates: never written by a Party's export.
CARP_FIELDS = frozenset(
    {
        "Review status of the initial report",
        "Result of the consistency check of this AEF submission",
        "Reference to the Article 6 TER report of the initial report",
        "Authorization documentation",
        "Result of the consistency checks",
    }
)

_UNIT_FIELDS = (
    "First ID",
    "Last ID",
    "Underlying unit registry ID",
    "First unit ID",
    "Last unit ID",
    "Metric",
    "Applicable GWP value(s)",
    "Applicable non-GHG metric",
    "Quantity (t CO2 eq)",
    "Quantity (in non-GHG metric)",
    "Mitigation type",
    "Vintage",
)

#: Every V2 field of every table, in order, CARP-populated ones included (domain.md §f.2).
V2_FIELDS: dict[str, tuple[str, ...]] = {
    SUBMISSION: (
        "Party",
        "Version",
        "Reported year",
        "Date of submission",
        "Review status of the initial report",
        "Result of the consistency check of this AEF submission",
        "First year of the NDC implementation period",
        "Last year of the NDC implementation period",
        "Reference to the Article 6 TER report of the initial report",
    ),
    AUTHORIZATIONS: (
        "Authorization ID",
        "Date of authorization",
        "Cooperative approach ID",
        "Version of the authorization",
        "Authorized quantity",
        "Metric",
        "Applicable GWP value(s)",
        "Applicable non-GHG metric",
        "Sector(s)",
        "Activity type(s)",
        "Purposes for authorization",
        "Authorized Party(ies) ID",
        "Authorized entity(ies) ID",
        "OIMP authorized by the Party",
        "Authorized timeframe",
        "Authorization terms and conditions",
        "Authorization documentation",
        "First transfer definition for OIMP",
        "Additional explanatory information",
    ),
    ACTIONS: (
        "Action date",
        "Action type",
        "Action subtype",
        "Cooperative approach ID",
        "Authorization ID",
        "First transferring participating Party ID",
        "Party ITMO registry ID",
        *_UNIT_FIELDS,
        "Transferring participating Party ID",
        "Acquiring participating Party ID",
        "Purpose for which the ITMO has been used towards or cancelled for OIMP",
        "Using/cancelling participating Party ID",
        "Using/cancelling authorized entity ID",
        "Calendar year for which the ITMOs are used towards the Party's NDC",
        "Result of the consistency checks",
        "Additional explanatory information",
    ),
    HOLDINGS: (
        "Cooperative approach ID",
        "Authorization ID",
        "First transferring participating Party ID",
        "Party ITMO registry ID",
        *_UNIT_FIELDS,
    ),
    ENTITIES: (
        "Date of the authorization",
        "Name",
        "Country of incorporation",
        "Identification number",
        "Cooperative approach ID",
        "Conditions",
        "Change and revocation conditions",
        "Additional explanatory information",
    ),
}

#: The fields the export writes: the V2 fields without the CARP-populated ones.
FIELDS: dict[str, tuple[str, ...]] = {
    t: tuple(f for f in fs if f not in CARP_FIELDS) for t, fs in V2_FIELDS.items()
}

# CN-2026 Table 25(b) action types and Table 26(b) subtypes, as mapped per type (§c.1).
ACTION_TYPES = (
    "Authorization",
    "First transfer",
    "Transfer",
    "Acquisition",
    "Use",
    "Cancellation",
    "Voluntary Cancellation",
)
_CANCELLATIONS: tuple[str, ...] = get_args(CancellationSubtype)
SUBTYPES_BY_TYPE: dict[str, tuple[str, ...]] = {
    "Authorization": ("Authorization",),
    "First transfer": (
        "First transfer to another Party",
        "Authorization",
        "Issuance",
        "Use or cancellation",
        *_CANCELLATIONS,
    ),
    "Transfer": (
        "Mandatory transfer to the Adaptation Fund (A6.4 ERs)",
        "Voluntary transfer to the Adaptation Fund (A6.4 ERs)",
        "Not yet defined",
    ),
    "Acquisition": (),
    "Use": (),
    "Cancellation": _CANCELLATIONS,
    "Voluntary Cancellation": _CANCELLATIONS,
}
# CN-2026 Table 31(b) underlying unit registries; "NA" where the unit has none.
UNDERLYING_REGISTRIES = (
    "VCS",
    "GS",
    "CAR",
    "ACR",
    "ART",
    "GCC",
    "Cercarbono",
    "Isometric",
    "ISFL",
    "FCPF",
    "T-VER",
    "JCM",
    "NA",
)
#: The underlying unit registry of each unit type the gateway carries. A6.4ERs are held in
#: the mechanism registry, which Table 31(b) does not list: the export refuses them.
UNDERLYING_BY_UNIT_TYPE = {"JCM": "JCM", "MO": "NA"}

#: The one table of controlled values: vocabulary name -> allowed values.
VOCABULARY: dict[str, frozenset[str]] = {
    "Action type": frozenset(ACTION_TYPES),
    "Action subtype": frozenset(s for ss in SUBTYPES_BY_TYPE.values() for s in ss),
    "Purposes": frozenset(get_args(Purpose)),
    "Metric": frozenset({"GHG", "non-GHG"}),
    "Sector": frozenset(get_args(Sector)),
    "Activity type": frozenset(get_args(ActivityType)),
    "Mitigation type": frozenset(get_args(MitigationType)),
    "First transfer definition": frozenset(get_args(FirstTransferDefinition)),
    "Underlying unit registry ID": frozenset(UNDERLYING_REGISTRIES),
}
#: Purposes that include an international mitigation purpose other than the NDC.
OIMP_PURPOSES = frozenset(VOCABULARY["Purposes"] - {"NDC"})

# Stable codes of a refused export (AefError).
MISSING = "A6-AEF-001"  # a required field has no value
UNKNOWN = "A6-AEF-002"  # a value outside its controlled vocabulary
NO_ROLL_FORWARD = "A6-AEF-003"  # holdings do not roll forward (I-AEF-1)
BAD_PARAMETER = "A6-AEF-004"  # version, date, year or party of the submission
INCONSISTENT = "A6-AEF-005"  # the log contradicts itself (unknown authorization, ...)
UNWRITABLE = "A6-AEF-006"  # a value the AEF (or the file format) cannot carry


def controlled(table: str, field: str, vocabulary: str, value: object, where: str = "") -> str:
    """``value`` if it is in ``vocabulary``; else a coded refusal naming table and field."""
    if isinstance(value, str) and value in VOCABULARY[vocabulary]:
        return value
    at = f" ({where})" if where else ""
    raise AefError(
        f"{table}: {field}: {value!r} is not a CN-2026 {vocabulary.lower()}{at}", code=UNKNOWN
    )


def subtype(table: str, action: str, value: object, where: str = "") -> str | None:
    """The action subtype, checked against those CN-2026 allows for the action type."""
    allowed = SUBTYPES_BY_TYPE[action]
    if value is None and not allowed:
        return None
    if value is None and action in ("Transfer", "Cancellation", "Voluntary Cancellation"):
        return None  # optional for these types
    if isinstance(value, str) and value in allowed:
        return value
    at = f" ({where})" if where else ""
    raise AefError(
        f"{table}: Action subtype: {value!r} is not a CN-2026 subtype of {action!r}{at}",
        code=UNKNOWN,
    )


def required(table: str, field: str, value: T, where: str) -> T:
    """``value`` unless it is missing (None, empty): then a coded refusal naming ``where``."""
    if value is None or value == "" or value == () or value == []:
        raise AefError(f"{table}: {field} is required, and {where} has none", code=MISSING)
    return value
