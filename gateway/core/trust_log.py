"""Trust and Party settings as the audit log records them: pure folds and diffs.

The gateway logs the keys of its trust file (``trust-key`` entries) and each Party's
corresponding-adjustment settings (``party-settings`` entries) when they change, so a
decision or a report can be checked from a bundle alone (``schemas.entries``):

- :func:`trust_at` folds the ``trust-key`` entries of a log prefix into the :class:`Trust`
  the log knew at its end; :class:`TrustFold` does it entry by entry (the offline verifier
  walks the log once);
- :func:`changes` compares what the log holds with the trust file and config loaded now and
  gives the entries to append: a key registered, changed (suspended, revoked, ``valid_to``
  set by a rotation) or withdrawn (no longer in the file), a Party's settings new or changed.
  Nothing changed: nothing to append.

Entry ids are deterministic and chained on the previous entry of the same key or Party, so
two workers that append the same change at once, or a restart, append it once (the
sequencer skips ids it has logged), while a change back (A, B, A) is a new entry each time::

    "key-" + sha256_hex("trust-key\\n" + key_id + "\\n" + previous_id_or_empty + "\\n"
                        + JCS({**key, "change": change}))[:40]
    "cfg-" + sha256_hex("party-settings\\n" + party + "\\n" + previous_id_or_empty + "\\n"
                        + JCS(settings))[:40]

(JCS: RFC 8785; the key object is :data:`KEY_FIELDS`, the settings object
``{party, name, ndc_period, ca_method, ca_year}``.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from gateway.core import settings_log as sl
from gateway.core.canonical import canonical_bytes
from gateway.core.decision_time import iso_ms
from gateway.core.trust import Trust, TrustedKey
from schemas import entries as en

__all__ = [
    "KEY_FIELDS",
    "KEY_TYPE",
    "KINDS",
    "SETTINGS_FIELDS",
    "SETTINGS_TYPE",
    "PartyLike",
    "TrustFold",
    "changes",
    "key_doc",
    "key_entry_id",
    "rfc3339",
    "settings_doc",
    "settings_entry_id",
    "trust_at",
]

KEY_TYPE = "trust-key"
SETTINGS_TYPE = "party-settings"
#: The kinds that record the gateway's trust and configuration, not an input: they have no
#: ``decided_at``, ``input`` or ``blocks`` (readers of decisions pass them over).
KINDS = (KEY_TYPE, SETTINGS_TYPE)
#: The members of a key that a trust-key entry records (and whose change it logs).
KEY_FIELDS = ("key_id", "public_key", "principal", "role", "valid_from", "valid_to", "status")
#: The members of a Party's settings that a party-settings entry records.
SETTINGS_FIELDS = ("party", "name", "ndc_period", "ca_method", "ca_year")
#: The quick test for a kind on an entry's canonical bytes (keys sorted, no spaces).
_MARKS = (b'"entry_type":"trust-key"', b'"entry_type":"party-settings"')


class PartyLike(Protocol):
    """A Party's settings (``gateway.config.PartyConfig`` has these attributes)."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def ndc_period(self) -> tuple[int, int] | None: ...
    @property
    def ca_method(self) -> str: ...
    @property
    def ca_year(self) -> str: ...


def rfc3339(t: datetime) -> str:
    """An aware time as RFC 3339 UTC with ``Z`` (fractions only when it has them)."""
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def key_doc(key: TrustedKey) -> dict[str, Any]:
    """The members of ``key`` a trust-key entry records."""
    return {
        "key_id": key.key_id,
        "public_key": key.public_key,
        "principal": key.principal,
        "role": key.role,
        "valid_from": rfc3339(key.valid_from),
        "valid_to": rfc3339(key.valid_to) if key.valid_to is not None else None,
        "status": key.status,
    }


def settings_doc(party: PartyLike) -> dict[str, Any]:
    """The settings object of a Party (what a party-settings entry records)."""
    return _settings(party).settings_object()


def _settings(party: PartyLike) -> sl.PartySettings:
    period = party.ndc_period
    return sl.PartySettings(
        party.code,
        party.name,
        None if period is None else (period[0], period[1]),
        party.ca_method,  # type: ignore[arg-type]
        party.ca_year,  # type: ignore[arg-type]
    )


def _chained(kind: str, subject: str, previous: str | None, doc: Mapping[str, Any]) -> str:
    head = f"{kind}\n{subject}\n{previous or ''}\n".encode()
    return hashlib.sha256(head + canonical_bytes(dict(doc))).hexdigest()[:40]


def key_entry_id(doc: Mapping[str, Any], change: str, previous: str | None) -> str:
    """The id of the trust-key entry of ``doc`` (:func:`key_doc`) and ``change``, chained on
    the previous trust-key entry of that key id (None: the first)."""
    return "key-" + _chained(KEY_TYPE, doc["key_id"], previous, {**doc, "change": change})


def settings_entry_id(doc: Mapping[str, Any], previous: str | None) -> str:
    """The id of the party-settings entry of ``doc`` (:func:`settings_doc`), chained on the
    previous party-settings entry of that Party (None: the first):
    :func:`gateway.core.settings_log.settings_entry_id`, the one formula."""
    return sl.settings_entry_id(sl.read_settings(doc), previous or "")


def _obj(raw: bytes | str | Mapping[str, Any]) -> Mapping[str, Any] | None:
    """A trust or settings entry as a JSON object; None for any other entry (or bytes)."""
    if isinstance(raw, Mapping):
        return raw if raw.get("entry_type") in (KEY_TYPE, SETTINGS_TYPE) else None
    data = raw.encode() if isinstance(raw, str) else raw
    if not any(mark in data for mark in _MARKS):
        return None  # most entries: no JSON parse
    try:
        obj = json.loads(data)
    except ValueError:
        return None
    ok = isinstance(obj, dict) and obj.get("entry_type") in (KEY_TYPE, SETTINGS_TYPE)
    return obj if ok else None


@dataclass
class TrustFold:
    """The trust and settings the log knows, entry by entry, and each key's and Party's last
    entry id (what the next entry chains on)."""

    #: key id -> (last trust-key entry id, the key's members as recorded); None: withdrawn
    keys: dict[str, tuple[str, dict[str, Any] | None]] = field(default_factory=dict)
    #: party -> (last party-settings entry id, its settings object)
    parties: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    #: how many trust and settings entries were folded
    seen: int = 0
    _trust: Trust | None = field(default=None, repr=False)

    def add(self, raw: bytes | str | Mapping[str, Any]) -> bool:
        """Fold one entry in; True when it was a trust-key or party-settings entry (one the
        entry models refuse, or a key with a time that is no time, is not)."""
        obj = _obj(raw)
        entry = en.read_entry(obj) if obj is not None else None
        if isinstance(entry, en.TrustKeyEntry):
            doc = {k: getattr(entry, k) for k in KEY_FIELDS}
            try:
                TrustedKey.model_validate(doc)
            except ValidationError:
                return False  # not a key the gateway could have loaded: not a trust entry
            gone = entry.change == "withdrawn"
            self.keys[entry.key_id] = (entry.entry_id, None if gone else doc)
            self._trust = None
        elif isinstance(entry, en.PartySettingsEntry):
            doc = {k: getattr(entry, k) for k in SETTINGS_FIELDS}
            self.parties[entry.party] = (entry.entry_id, doc)
        else:
            return False
        self.seen += 1
        return True

    def trust(self) -> Trust:
        """The keys as the log knows them (withdrawn ones left out); event roles: the
        catalogue's (``schemas.events``)."""
        if self._trust is None:
            keys = [TrustedKey.model_validate(d) for _e, d in self.keys.values() if d is not None]
            self._trust = Trust(keys=tuple(keys))
        return self._trust


def trust_at(entries: Iterable[bytes | str | Mapping[str, Any]]) -> Trust:
    """The keys as the log knows them at the end of ``entries`` (in log order)."""
    fold = TrustFold()
    for raw in entries:
        fold.add(raw)
    return fold.trust()


def changes(
    recorded: Iterable[bytes | str | Mapping[str, Any]],
    current: tuple[Trust, Sequence[PartyLike]],
    *,
    at_ms: int,
) -> list[dict[str, Any]]:
    """The entries to append so that the log knows ``current`` (the trust file and the
    config's Parties loaded now), given the entries ``recorded`` so far: keys first (by key
    id), then Parties (by code); ``recorded_at`` is ``at_ms``. A Party no longer in the
    config is left as it was recorded (its settings still apply to what was logged)."""
    fold = TrustFold()
    for raw in recorded:
        fold.add(raw)
    trust, parties = current
    at = iso_ms(at_ms)
    out: list[dict[str, Any]] = []
    now = {k.key_id: key_doc(k) for k in trust.keys}
    for key_id in sorted(set(now) | set(fold.keys)):
        previous, before = fold.keys.get(key_id, (None, None))
        doc = now.get(key_id)
        if doc == before:
            continue  # unchanged, or withdrawn and still absent
        if doc is not None:
            change = "registered" if before is None else "changed"
            out.append(_key_entry(doc, change, previous, at))
        elif before is not None:
            out.append(_key_entry(before, "withdrawn", previous, at))
    for party in sorted(parties, key=lambda p: p.code):
        doc = settings_doc(party)
        previous, before = fold.parties.get(party.code, (None, None))
        if doc != before:
            entry_id = settings_entry_id(doc, previous)
            out.append(_entry(SETTINGS_TYPE, entry_id) | doc | {"recorded_at": at})
    return out


def _entry(kind: str, entry_id: str) -> dict[str, Any]:
    return {"entry_version": 1, "entry_type": kind, "entry_id": entry_id}


def _key_entry(doc: dict[str, Any], change: str, previous: str | None, at: str) -> dict[str, Any]:
    entry_id = key_entry_id(doc, change, previous)
    return _entry(KEY_TYPE, entry_id) | {"change": change} | doc | {"recorded_at": at}
