"""Shared field types for the event models (CN-2026 identifier formats, decimal strings)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Identifier formats from the UNFCCC "List of common nomenclatures under Article 6.2"
# (17 Feb 2026): Party codes are ISO 3166-1 alpha-3 (Table 28 prefixes them to registry ids),
# cooperative approach ids are CANNNN (Table 9(a)), Party ITMO registry ids AAA99 (Table 28).
PartyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
RegistryId = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}\d{2}$")]
CooperativeApproachId = Annotated[str, StringConstraints(pattern=r"^CA\d{4}$")]
AccountId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
TransactionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
# JCM project ids are two-letter host code + three digits (e.g. MN003, ID028).
JcmProjectId = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}\d{3}$")]
AuthorizationId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 -]{1,64}$")]
# Serials and quantities travel as decimal strings: RFC 8785 cannot carry integers above
# 2^53 - 1, and the core parses them to int. No sign, no leading zeros, at most 18 digits.
DecimalInt = Annotated[str, StringConstraints(pattern=r"^(0|[1-9][0-9]{0,17})$")]
PositiveDecimalInt = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,17}$")]
# Signed decimal with up to 6 fraction digits, for tCO2e figures that may be negative.
SignedDecimal = Annotated[
    str, StringConstraints(pattern=r"^-?(0|[1-9][0-9]{0,17})(\.[0-9]{1,6})?$")
]
Year = Annotated[int, Field(ge=1990, le=2100)]
IsoDate = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]

AccountType = Literal["government-holding", "participant-holding", "cancellation", "retirement"]
# CN-2026 Table 16(b)
Purpose = Literal["NDC", "OIMP", "IMP", "OP", "NDC and OIMP", "NDC and IMP", "NDC and OP"]
# CN-2026 Table 49(b)
FirstTransferDefinition = Literal[
    "First international transfer", "Authorisation", "Issuance", "Use or Cancellation"
]
# CN-2026 sectors (AEF Table 2 "Sector(s)")
Sector = Literal[
    "Agriculture",
    "Building and construction",
    "Cross-sectoral mechanisms",
    "Energy generation",
    "Forestry and land use",
    "Industrial processes",
    "Transportation",
    "Urban development",
    "Waste management",
]
# CN-2026 activity types (AEF Table 2 "Activity type(s)"): the 22 of its 27 values our
# sources name, spelled as CN-2026 spells them ("C02 usage" with a digit zero). The export
# refuses any other value rather than guess.
ActivityType = Literal[
    "Afforestation",
    "Biogas",
    "Cement",
    "C02 usage",
    "Energy distribution",
    "Energy Efficiency households",
    "Energy Efficiency Industry",
    "Energy Efficiency own generation",
    "Energy Efficiency service",
    "Energy Efficiency supply side",
    "Fossil fuel switch",
    "Hydro",
    "Landfill gas",
    "Methane avoidance",
    "N2O",
    "PFCs and SF6",
    "Reforestation",
    "Solar",
    "Tidal",
    "Transport",
    "Waste",
    "Wind",
]
# CN-2026 mitigation types (AEF Tables 3 and 4)
MitigationType = Literal["Emission reductions", "Removals", "Emission reductions and removals"]
# CN-2026 Table 26(b), cancellation subtypes
CancellationSubtype = Literal[
    "Mandatory cancellation to deliver OMGE",
    "Voluntary cancellation to deliver OMGE",
    "Other cancellations",
    "Not yet defined",
]


class Strict(BaseModel):
    """Base for every wire model: unknown fields rejected, values immutable, no coercion."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class SerialRange(Strict):
    """An inclusive range of unit serial numbers within one serial space."""

    serial_start: PositiveDecimalInt
    serial_end: PositiveDecimalInt
