"""A hand-built audit log for the AEF tests: two Parties, two years, every kind of row.

Imported as ``tests.unit.aeflog`` by the AEF tests (core, api). The
rows and block records are made by the core's own builders (``gateway.core.actions.row``,
``Block.to_record``), the entries as ``gateway.core.decision`` lays them out.
"""

from __future__ import annotations

from typing import Any

from gateway.core.actions import row
from gateway.core.aef import Aef, build
from gateway.core.blocks import Block, Range

REGISTRIES = {"JPN": {"JPN01"}, "MNG": {"MNG01"}}
PARTY_OF = {"JPN01": "JPN", "MNG01": "MNG"}


def authorization(**changes: Any) -> dict[str, Any]:
    """MNG's authorization AUTH-1 (as an ``authorization`` entry's data)."""
    return {
        "authorization_id": "AUTH-1",
        "version": 1,
        "status": "granted",
        "ca_id": "CA0001",
        "authorizing_party": "MNG",
        "date": "2025-03-01",
        "purposes": "NDC",
        "first_transfer_definition": "First international transfer",
        "authorized_quantity": "5000",
        "authorized_timeframe": None,
        "metric": "GHG",
        "non_ghg_metric": None,
        "authorized_entity_ids": ["JP-ENT-1"],
        "coverage": [{"originating_registry": "MNG01", "serial_start": "1", "serial_end": "500"}],
        "sectors": ["Energy generation"],
        "activity_types": ["Solar", "Wind"],
        "mitigation_type": "Emission reductions",
        "oimp_authorized": None,
    } | changes


def blk(start: int, end: int, registry: str, state: str = "held", **changes: Any) -> Block:
    base = Block("CA0001", "MNG01", start, end, 2025, "JCM", registry, registry[:2] + "-A")
    fields = {"state": state, "first_transferred": True, "authorization_id": "AUTH-1"}
    return Block(**{**base.__dict__, **fields, **changes})


def entry(
    n: int,
    at: str,
    *,
    kind: str = "transfer",
    a6: list[dict[str, Any]] | None = None,
    blocks: list[Block] | None = None,
    data: dict[str, Any] | None = None,
    tx: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "entry_type": "decision",
        "entry_id": f"ev-{n}",
        "input": {"type": f"a6gw.{kind}.v1", "id": f"in-{n}"},
        "outcome": "recorded" if data else "accepted",
        "results": [],
        "blocks": [b.to_record() for b in blocks or ()],
        "decided_at": at,
    }
    if a6:
        out["a6"] = a6
    if data:
        out["data"] = data
    if tx:
        out["transaction_id"] = tx
    return out


def moved(b: Block, lo: int, hi: int, src: str, dst: str, first: bool) -> list[dict[str, Any]]:
    """A settled transfer's two rows (the first transferring / transferring Party's, and
    the acquiring Party's), as gateway.core.actions writes them."""
    auth = authorization()
    sides = {"transferring_party": PARTY_OF[src], "acquiring_party": PARTY_OF[dst]}
    part = Range(lo, hi)
    if first:
        out = row(
            "First transfer",
            b,
            part,
            auth,
            party=PARTY_OF[src],
            registry=src,
            subtype="First transfer to another Party",
            **sides,
        )
    else:
        out = row("Transfer", b, part, auth, party=PARTY_OF[src], registry=src, **sides)
    return [out, row("Acquisition", b, part, auth, party=PARTY_OF[dst], registry=dst, **sides)]


def the_log() -> list[dict[str, Any]]:
    """2025: MNG authorizes; 100 ITMOs go MNG01 -> JPN01 (first transfer); JPN uses 30.
    2026: the authorization's version 2; JPN moves 10 back; JPN01 cancels 10; JPN and MNG
    each authorize an entity."""
    auth = authorization()
    used = row(
        "Use",
        blk(1, 30, "JPN01"),
        Range(1, 30),
        auth,
        party="JPN",
        registry="JPN01",
        using_party="JPN",
        using_entity="JP-ENT-1",
        use_year=2025,
    )
    cancelled = row(
        "Cancellation",
        blk(31, 40, "JPN01"),
        Range(31, 40),
        auth,
        party="JPN",
        registry="JPN01",
        subtype="Other cancellations",
        using_party="JPN",
    )
    entity = {
        "ca_id": "CA0001",
        "authorizing_party": "JPN",
        "date": "2026-01-15",
        "name": 'Acme, "Carbon" Ltd',
        "country_of_incorporation": "JPN",
        "identification_number": "JP-123",
        "conditions": "buys for its NDC use only",
        "change_and_revocation_conditions": None,
        "additional_information": None,
    }
    return [
        entry(0, "2025-03-01T09:00:00.000Z", kind="authorization", data=auth),
        entry(
            1,
            "2025-04-01T09:00:00.000Z",
            blocks=[blk(1, 100, "JPN01")],
            a6=moved(
                blk(1, 100, "MNG01", first_transferred=False), 1, 100, "MNG01", "JPN01", first=True
            ),
            tx="TX-1",
        ),
        entry(
            2,
            "2025-05-01T09:00:00.000Z",
            kind="retirement",
            tx="RET-1",
            blocks=[blk(1, 30, "JPN01", "retired"), blk(31, 100, "JPN01")],
            a6=[used],
        ),
        entry(
            3,
            "2026-01-10T09:00:00.000Z",
            kind="authorization",
            data=authorization(version=2, status="amended", date="2026-01-10"),
        ),
        entry(
            4,
            "2026-02-01T09:00:00.000Z",
            tx="TX-2",
            blocks=[blk(31, 90, "JPN01"), blk(91, 100, "MNG01")],
            a6=moved(blk(31, 100, "JPN01"), 91, 100, "JPN01", "MNG01", first=False),
        ),
        entry(
            5,
            "2026-03-01T09:00:00.000Z",
            kind="cancellation",
            tx="CAN-1",
            blocks=[blk(31, 40, "JPN01", "cancelled"), blk(41, 90, "JPN01")],
            a6=[cancelled],
        ),
        entry(6, "2026-03-02T09:00:00.000Z", kind="entity.authorized", data=entity),
        entry(
            7,
            "2026-03-03T09:00:00.000Z",
            kind="entity.authorized",
            data=entity | {"authorizing_party": "MNG", "name": "MN Co"},
        ),
    ]


def aef_of(log: list[dict[str, Any]], party: str, year: int, **kw: Any) -> Aef:
    kw = {"ndc_period": (2021, 2030), "submitted": "15/04/2027"} | kw
    return build(log, party=party, year=year, registries=REGISTRIES[party], **kw)


def cells(aef: Aef, table: str, *fields: str) -> list[tuple[Any, ...]]:
    return [tuple(r[f] for f in fields) for r in aef.tables[table]]


# ---- the tables -------------------------------------------------------------------------


def a6_row(log: list[dict[str, Any]], n: int, i: int = 0) -> dict[str, Any]:
    r: dict[str, Any] = log[n]["a6"][i]
    return r
