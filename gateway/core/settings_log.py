"""Each Party's reporting settings as the log records them: the fold of ``party-settings``.

The worker records a Party's settings (its name, NDC implementation period and how it
applies corresponding adjustments: decision 2/CMA.3 annex paras 7-8) as an audit entry
whenever they change, so that a report can be recomputed from the log alone::

    {"entry_version": 1, "entry_type": "party-settings", "entry_id": "cfg-<40 hex>",
     "party": "JPN", "name": "Japan", "ndc_period": [2021, 2030] or null,
     "ca_method": "trajectory|averaging|budget", "ca_year": "first-transfer|vintage",
     "recorded_at": "<RFC 3339, ms, Z>"}                  (+ "logged_at", the sequencer's)

``entry_id`` chains the Party's entries: ``"cfg-"`` and the first 40 hex digits of
SHA-256 over ``"party-settings\\n<party>\\n<the previous party-settings entry_id of that
Party, or nothing>\\n"`` followed by the RFC 8785 bytes of the settings object ``{party,
name, ndc_period, ca_method, ca_year}`` (:func:`settings_entry_id`).

A Party's settings at tree size N are those of its last ``party-settings`` entry below
index N: :func:`parties_at` folds the entries ``[0, N)`` it is given. An entry that does not
read as settings, or whose id is not the one its content and its predecessor give, is an
error (``RPT-LOG``): a report never silently skips what the log says of a Party.

Also here, :func:`registries_at`: the ITMO registries of a Party, as the log names them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from gateway.core.canonical import canonical_bytes
from gateway.errors import GatewayError

__all__ = [
    "ENTRY_TYPE",
    "PartySettings",
    "parties_at",
    "registries_at",
    "settings_entry",
    "settings_entry_id",
]

ENTRY_TYPE = "party-settings"
CA_METHODS = ("averaging", "trajectory", "budget")
CA_YEARS = ("first-transfer", "vintage")
BAD_ENTRY = "RPT-LOG"


@dataclass(frozen=True)
class PartySettings:
    """A Party's reporting settings (the attributes of ``gateway.config.PartyConfig``)."""

    code: str
    name: str
    ndc_period: tuple[int, int] | None
    ca_method: Literal["averaging", "trajectory", "budget"] = "trajectory"
    ca_year: Literal["first-transfer", "vintage"] = "first-transfer"

    def settings_object(self) -> dict[str, Any]:
        """The object the entry id hashes: ``{party, name, ndc_period, ca_method, ca_year}``."""
        return {
            "party": self.code,
            "name": self.name,
            "ndc_period": None if self.ndc_period is None else list(self.ndc_period),
            "ca_method": self.ca_method,
            "ca_year": self.ca_year,
        }


def settings_entry_id(settings: PartySettings, previous: str = "") -> str:
    """The entry id of ``settings`` recorded after the Party's entry ``previous`` ("" first)."""
    head = f"{ENTRY_TYPE}\n{settings.code}\n{previous}\n".encode()
    digest = hashlib.sha256(head + canonical_bytes(settings.settings_object())).hexdigest()
    return "cfg-" + digest[:40]


def settings_entry(settings: PartySettings, previous: str, recorded_at: str) -> dict[str, Any]:
    """The ``party-settings`` entry of ``settings`` (without ``logged_at``, which the
    sequencer stamps), after the Party's entry ``previous`` ("" for its first)."""
    return {
        "entry_version": 1,
        "entry_type": ENTRY_TYPE,
        "entry_id": settings_entry_id(settings, previous),
        **settings.settings_object(),
        "recorded_at": recorded_at,
    }


def _bad(n: int, why: str) -> GatewayError:
    return GatewayError(f"party-settings entry {n} of the log: {why}", code=BAD_ENTRY)


def _period(value: object, n: int) -> tuple[int, int] | None:
    if value is None:
        return None
    ok = isinstance(value, list | tuple) and len(value) == 2
    if not ok or not all(type(y) is int for y in cast(list[object], value)):
        raise _bad(n, f"ndc_period {value!r} is not two years or null")
    first, last = cast(tuple[int, int], tuple(cast(list[int], value)))
    if not first <= last:
        raise _bad(n, f"ndc_period {value!r} ends before it starts")
    return first, last


def read_settings(entry: Mapping[str, Any], n: int = 0) -> PartySettings:
    """The settings a ``party-settings`` entry records.

    :raises GatewayError: (RPT-LOG) when a field is missing or of the wrong kind.
    """
    code, name = entry.get("party"), entry.get("name")
    method, year = entry.get("ca_method"), entry.get("ca_year")
    if not isinstance(code, str) or not code or not isinstance(name, str):
        raise _bad(n, "no party code or name")
    if method not in CA_METHODS:
        raise _bad(n, f"ca_method {method!r} is not one of {', '.join(CA_METHODS)}")
    if year not in CA_YEARS:
        raise _bad(n, f"ca_year {year!r} is not one of {', '.join(CA_YEARS)}")
    return PartySettings(code, name, _period(entry.get("ndc_period"), n), method, year)


def parties_at(entries: Iterable[Mapping[str, Any]]) -> dict[str, PartySettings]:
    """Each Party's settings after ``entries`` (in log order): its last ``party-settings``.

    Pass the entries ``[0, N)`` for the settings at tree size N.

    :raises GatewayError: (RPT-LOG) an entry that does not read as settings, or whose
        entry id is not :func:`settings_entry_id` of its content and the Party's previous one.
    """
    found: dict[str, PartySettings] = {}
    last: dict[str, str] = {}
    for n, entry in enumerate(entries):
        if entry.get("entry_type") != ENTRY_TYPE:
            continue
        settings = read_settings(entry, n)
        want = settings_entry_id(settings, last.get(settings.code, ""))
        if entry.get("entry_id") != want:
            raise _bad(n, f"entry_id {entry.get('entry_id')!r}, want {want!r}")
        found[settings.code] = settings
        last[settings.code] = want
    return found


def registries_at(entries: Iterable[Mapping[str, Any]], party: str) -> frozenset[str]:
    """The registries of ``party`` the log names: every registry of a block or an Article 6
    row whose id starts with the Party's code (a Party ITMO registry id is the Party's code
    and two digits, CN-2026 Table 28; the config refuses any other). These are the only
    registries an AEF's holdings and roll-forward look at.
    """
    found: set[str] = set()
    for entry in entries:
        for item in (*(entry.get("blocks") or ()), *(entry.get("a6") or ())):
            registry = item.get("registry") if isinstance(item, Mapping) else None
            if isinstance(registry, str) and registry.startswith(party):
                found.add(registry)
    return frozenset(found)
