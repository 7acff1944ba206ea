"""The BTR structured summary (decision 5/CMA.3, CTF Table 4) rows 5 and 7-14, from the log.

Everything comes from audit entries, read once in log order by
:func:`gateway.core.summary_log.collect`: the Article 6 action rows each decision carries
under ``a6`` (:mod:`gateway.core.actions`), the recorded national inventory figures
(``inventory.emissions``) and the rows a Party reported (``summary.reported``, compared in
:mod:`gateway.core.summary_check`). For Party P and year y of its NDC period:

- R5(y): emissions covered by the NDC, from the latest recorded inventory figure for (P, y);
  a recalculation supersedes the earlier figure, which stays in the history (I-INV-1).
  With no figure R5 is *unknown* (None, with a reason), never zero; so is R14.
- R7(y): "First transfer" rows whose first transferring Party is P and whose purposes
  include the NDC (the CN-2026 values that start with "NDC": "NDC", "NDC and OIMP", ...),
  first transferred in y (I-A6-1). R8(y): the same for the purposes without the NDC (OIMP,
  IMP, OP: mitigation outcomes authorized for other international mitigation purposes).
  A row counts in one of the two, never both.
- R9(y): "Use" rows whose using Party is P and whose use year is y (I-A6-2).
- R10 = R7 + R8 - R9; R13(y) = sum of R10 over the NDC period's years up to y (I-A6-3).
- R11 (averaging only): R13(y) / elapsed years, 3 decimals, half-even (I-A6-4).
- R12: averaging: R11; trajectory or budget counted by first-transfer year: R10; counted by
  vintage: units P first transferred (the R7 + R8 population, any year) of vintage y, minus
  R9(y) (I-A6-5). R14 = R5 + R12: emissions plus ITMOs first transferred minus ITMOs used
  (I-A6-6; the GS/Verra tool's R5 - R12 is not followed).

"The year" of a first transfer is the UTC year of its entry's ``decided_at``; of a use, its
use year. Quantities are Decimals; integer sums stay integers.

Every computed row keeps the blocks behind it (entry, serial space, range, quantity,
action); R5 and R14 also name the inventory entry. The rows only exist once a first
transfer fired (the ledger writes them at settlement), so counting rows is the refusal of
I-A6-7; uses of units never first transferred are reported apart (CTF-004).

Errors (``GatewayError``, stable codes):

- CTF-101: the Party has no NDC period in its config;
- CTF-102: the year lies outside the Party's NDC period;
- CTF-103: a recorded row or figure cannot be read (raised by ``summary_log``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any, Literal

from gateway.core.summary_log import Counted, Facts, Figure, Item, text
from gateway.errors import GatewayError

CaMethod = Literal["averaging", "trajectory", "budget"]
CaYear = Literal["first-transfer", "vintage"]
Status = Literal["computed", "unknown", "not applicable"]
ROWS = ("R5", "R7", "R8", "R9", "R10", "R11", "R12", "R13", "R14")
THOUSANDTH = Decimal("0.001")


@dataclass(frozen=True)
class Method:
    """How a Party's summary is computed: its NDC period and corresponding-adjustment method
    (the fields of ``gateway.config.PartyConfig`` of the same names)."""

    code: str
    ndc_period: tuple[int, int] | None
    ca_method: CaMethod = "trajectory"
    ca_year: CaYear = "first-transfer"

    @property
    def averaging(self) -> bool:
        return self.ca_method == "averaging"


@dataclass(frozen=True)
class Row:
    name: str
    value: Decimal | None
    status: Status = "computed"
    reason: str = ""
    blocks: tuple[Counted, ...] = ()
    entries: tuple[str, ...] = ()  # inventory entries behind R5 and R14

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": None if self.value is None else text(self.value),
            "status": self.status,
            "reason": self.reason,
            "entries": list(self.entries),
            "blocks": [b.to_dict() for b in self.blocks],
        }


@dataclass(frozen=True)
class Summary:
    party: str
    year: int
    method: Method
    rows: Mapping[str, Row]
    inventory: tuple[Figure, ...] = ()  # the figures recorded for the year, latest last

    def value(self, name: str) -> Decimal | None:
        return self.rows[name].value

    def to_dict(self) -> dict[str, Any]:
        return {
            "party": self.party,
            "year": self.year,
            "ca_method": self.method.ca_method,
            "ca_year": self.method.ca_year,
            "ndc_period": list(self.method.ndc_period or ()),
            "rows": {n: self.rows[n].to_dict() for n in ROWS},
            "inventory": [
                {
                    "entry_id": f.entry_id,
                    "submission_id": f.submission_id,
                    "emissions_tco2e": text(f.emissions),
                    "decided_at": f.decided_at,
                    "current": n == len(self.inventory) - 1,
                }
                for n, f in enumerate(self.inventory)
            ],
        }


def period_of(method: Method) -> tuple[int, int]:
    if method.ndc_period is None:
        raise GatewayError(
            f"party {method.code} has no ndc_period in the config: no structured summary",
            code="CTF-101",
        )
    return method.ndc_period


def default_years(facts: Facts, method: Method) -> list[int]:
    """The NDC period's years up to the latest year with data (none: no years)."""
    first, last = period_of(method)
    latest = max((y for y in facts.data_years() if y <= last), default=first - 1)
    return list(range(first, latest + 1))


def _sum(items: Iterable[Item]) -> tuple[Decimal, tuple[Counted, ...]]:
    chosen = tuple(items)
    return Decimal(sum(i.counted.quantity for i in chosen)), tuple(i.counted for i in chosen)


def _r10(facts: Facts, year: int) -> tuple[Decimal, Decimal, Decimal, list[Row]]:
    """R7, R8, R9 of ``year`` and those rows."""
    r7, b7 = _sum(i for i in facts.first_transfers if i.year == year and i.ndc)
    r8, b8 = _sum(i for i in facts.first_transfers if i.year == year and not i.ndc)
    r9, b9 = _sum(i for i in facts.uses if i.year == year)
    rows = [Row("R7", r7, blocks=b7), Row("R8", r8, blocks=b8), Row("R9", r9, blocks=b9)]
    return r7, r8, r9, rows


def summarise(facts: Facts, method: Method, year: int) -> Summary:
    """Rows 5 and 7-14 of Party ``facts.party`` for ``year``.

    :raises GatewayError: CTF-101 without an NDC period, CTF-102 for a year outside it.
    """
    first, last = period_of(method)
    if not first <= year <= last:
        raise GatewayError(
            f"{year} is outside {method.code}'s NDC period {first}-{last}", code="CTF-102"
        )
    rows: dict[str, Row] = {}
    cumulative = Decimal(0)
    cum_blocks: tuple[Counted, ...] = ()
    for t in range(first, year + 1):
        r7, r8, r9, these = _r10(facts, t)
        b10 = tuple(b for r in these for b in r.blocks)
        cumulative += r7 + r8 - r9
        cum_blocks += b10
        if t == year:
            rows |= {r.name: r for r in these}
            rows["R10"] = Row("R10", r7 + r8 - r9, blocks=b10)
    rows["R13"] = Row("R13", cumulative, blocks=cum_blocks)
    if method.averaging:
        # "Elapsed years" (2/CMA.3 annex para 7(a), averaging approach): the calendar years
        # of the NDC implementation period from its first year to y, inclusive. The GS/Verra
        # tool divides by the years that have an inventory figure instead; a year without
        # a figure has still elapsed, so the gateway does not.
        with localcontext() as ctx:
            ctx.prec = 60
            average = (cumulative / (year - first + 1)).quantize(THOUSANDTH, ROUND_HALF_EVEN)
        rows["R11"] = Row("R11", average, blocks=cum_blocks)
        rows["R12"] = Row("R12", average, reason="averaging: R11", blocks=cum_blocks)
    else:
        rows["R11"] = Row("R11", None, "not applicable", f"{method.ca_method}: no averaging", ())
        rows["R12"] = _r12_annual(facts, method, year, rows)
    rows["R5"], rows["R14"] = _balance(facts, year, rows["R12"])
    history = tuple(facts.inventory.get(year, ()))
    return Summary(facts.party, year, method, {n: rows[n] for n in ROWS}, history)


def _r12_annual(facts: Facts, method: Method, year: int, rows: Mapping[str, Row]) -> Row:
    if method.ca_year == "first-transfer":
        r10 = rows["R10"]
        return Row("R12", r10.value, reason="by first-transfer year: R10", blocks=r10.blocks)
    # By vintage (I-A6-5): the population is the R7 + R8 one (first transferred by the
    # Party, any purpose), keyed by vintage instead of the year of the first transfer.
    of_vintage, b = _sum(i for i in facts.first_transfers if i.vintage == year)
    r9 = rows["R9"]
    value = of_vintage - (r9.value or Decimal(0))
    reason = f"by vintage: first transferred of vintage {year} ({text(of_vintage)}) - R9"
    return Row("R12", value, reason=reason, blocks=b + r9.blocks)


def _balance(facts: Facts, year: int, r12: Row) -> tuple[Row, Row]:
    """R5 (the latest inventory figure) and R14 = R5 + R12, or both unknown."""
    history = facts.inventory.get(year)
    if not history:
        why = f"no inventory figure of {facts.party} for {year} is recorded"
        return (
            Row("R5", None, "unknown", why),
            Row("R14", None, "unknown", f"R5 is unknown: {why}", r12.blocks),
        )
    latest = history[-1]
    note = f"submission {latest.submission_id}" + (
        f" (supersedes {len(history) - 1} earlier)" if len(history) > 1 else ""
    )
    r5 = Row("R5", latest.emissions, reason=note, entries=(latest.entry_id,))
    assert r12.value is not None  # R12 is always computed
    r14 = Row(
        "R14",
        latest.emissions + r12.value,
        reason="R5 + R12",
        blocks=r12.blocks,
        entries=(latest.entry_id,),
    )
    return r5, r14
