"""The trust and settings folds and diffs of ``gateway.core.trust_log``: a key registered,
rotated, revoked, withdrawn and registered again; a Party's settings changed and changed
back; nothing changed gives nothing; the ids are chained and follow the fixed formula."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import rfc8785

from gateway.config import PartyConfig
from gateway.core.canonical import canonical_bytes
from gateway.core.settings_log import parties_at
from gateway.core.trust import Trust, TrustedKey
from gateway.core.trust_log import TrustFold, changes, key_doc, trust_at
from schemas.entries import parse_entry

AT = 1_777_864_921_123  # 2026-05-04T03:22:01.123Z
PARTY = PartyConfig(code="JPN", name="Japan", ndc_period=(2021, 2030))
PUBLIC = "MCowBQYDK2VwAyEA" + "A" * 43 + "="


def key(key_id: str, **fields: Any) -> TrustedKey:
    base: dict[str, Any] = {
        "key_id": key_id,
        "public_key": PUBLIC,
        "principal": "JPN01",
        "role": "registry",
        "valid_from": "2026-01-01T00:00:00Z",
    }
    return TrustedKey.model_validate(base | fields)


def trust(*keys: TrustedKey) -> Trust:
    return Trust(keys=keys)


def logged(entries: list[dict[str, Any]]) -> list[bytes]:
    """The entries as the log holds them: canonical bytes, each parsed by its model."""
    out = [canonical_bytes(e) for e in entries]
    for body in out:
        assert canonical_bytes(parse_entry(body).wire()) == body
    return out


def test_first_start_registers_every_key_and_party_then_nothing() -> None:
    current = (trust(key("b"), key("a")), [PARTY])
    first = changes([], current, at_ms=AT)
    assert [(e["entry_type"], e.get("key_id") or e["party"]) for e in first] == [
        ("trust-key", "a"),
        ("trust-key", "b"),
        ("party-settings", "JPN"),
    ]
    assert {e["change"] for e in first[:2]} == {"registered"}
    assert first[2]["recorded_at"] == "2026-05-04T03:22:01.123Z"
    log = logged(first)
    assert changes(log, current, at_ms=AT + 1) == []
    assert trust_at(log) == trust(key("a"), key("b"))


def test_rotation_revocation_and_withdrawal_are_one_entry_each() -> None:
    log = logged(changes([], (trust(key("old"), key("gone")), [PARTY]), at_ms=AT))
    rotated = key("old", valid_to="2026-07-01T00:00:00Z")
    new = key("new", valid_from="2026-06-01T00:00:00Z")
    step = changes(log, (trust(rotated, new, key("gone")), [PARTY]), at_ms=AT)
    assert [(e["key_id"], e["change"]) for e in step] == [("new", "registered"), ("old", "changed")]
    assert step[1]["valid_to"] == "2026-07-01T00:00:00Z"
    log += logged(step)
    revoked = key("new", valid_from="2026-06-01T00:00:00Z", status="revoked")
    step = changes(log, (trust(rotated, revoked), [PARTY]), at_ms=AT)
    assert [(e["key_id"], e["change"], e["status"]) for e in step] == [
        ("gone", "withdrawn", "active"),  # the key as it last stood
        ("new", "changed", "revoked"),
    ]
    log += logged(step)
    assert trust_at(log) == trust(rotated, revoked)
    assert changes(log, (trust(rotated, revoked), [PARTY]), at_ms=AT) == []


def test_a_withdrawn_key_that_comes_back_is_registered_again_under_a_new_id() -> None:
    log = logged(changes([], (trust(key("k")), [PARTY]), at_ms=AT))
    log += logged(changes(log, (trust(), [PARTY]), at_ms=AT))
    assert trust_at(log) == trust()
    assert changes(log, (trust(), [PARTY]), at_ms=AT) == []  # withdrawn stays withdrawn
    back = changes(log, (trust(key("k")), [PARTY]), at_ms=AT)
    assert [e["change"] for e in back] == ["registered"]
    ids = [parse_entry(b).entry_id for b in log] + [back[0]["entry_id"]]
    assert len(set(ids)) == len(ids)


def test_party_settings_a_b_a_gives_three_entries_with_distinct_ids() -> None:
    a, b = PARTY, PARTY.model_copy(update={"ca_method": "averaging", "ndc_period": (2030, 2030)})
    log: list[bytes] = []
    ids = []
    for party in (a, b, a):
        step = changes(log, (trust(), [party]), at_ms=AT)
        assert len(step) == 1 and step[0]["entry_type"] == "party-settings"
        ids.append(step[0]["entry_id"])
        log += logged(step)
    assert len(set(ids)) == 3
    assert changes(log, (trust(), [a]), at_ms=AT) == []
    assert TrustFold().add(log[1]) and parse_entry(log[1]).ca_method == "averaging"  # type: ignore[union-attr]
    # the reports' fold reads what the worker writes: the settings at each size of the log
    folded = [parties_at(json.loads(body) for body in log[:n])["JPN"] for n in (1, 2, 3)]
    assert [(p.ca_method, p.ndc_period) for p in folded] == [
        ("trajectory", (2021, 2030)),
        ("averaging", (2030, 2030)),
        ("trajectory", (2021, 2030)),
    ]


def test_a_party_gone_from_the_config_is_left_as_recorded() -> None:
    other = PartyConfig(code="MNG", name="Mongolia")
    log = logged(changes([], (trust(), [PARTY, other]), at_ms=AT))
    assert changes(log, (trust(), [PARTY]), at_ms=AT) == []


def test_the_party_settings_id_follows_the_fixed_formula() -> None:
    (first,) = changes([], (trust(), [PARTY]), at_ms=AT)
    settings: dict[str, Any] = {
        "party": "JPN",
        "name": "Japan",
        "ndc_period": [2021, 2030],
        "ca_method": "trajectory",
        "ca_year": "first-transfer",
    }
    want = hashlib.sha256(b"party-settings\nJPN\n\n" + rfc8785.dumps(settings)).hexdigest()
    assert first["entry_id"] == "cfg-" + want[:40]
    assert {k: first[k] for k in settings} == settings
    changed = PARTY.model_copy(update={"ca_year": "vintage"})
    (second,) = changes(logged([first]), (trust(), [changed]), at_ms=AT)
    body = rfc8785.dumps(settings | {"ca_year": "vintage"})
    prev = first["entry_id"].encode()
    want = hashlib.sha256(b"party-settings\nJPN\n" + prev + b"\n" + body).hexdigest()
    assert second["entry_id"] == "cfg-" + want[:40]


def test_the_ids_do_not_depend_on_when_they_are_recorded() -> None:
    current = (trust(key("k")), [PARTY])
    one, two = changes([], current, at_ms=AT), changes([], current, at_ms=AT + 60_000)
    assert [e["entry_id"] for e in one] == [e["entry_id"] for e in two]
    assert one != two  # recorded_at differs


def test_key_times_are_written_in_utc() -> None:
    k = key("k", valid_from=datetime(2026, 1, 1, 9, tzinfo=UTC).astimezone().isoformat())
    assert key_doc(k)["valid_from"] == "2026-01-01T09:00:00Z"


def test_other_entries_and_garbage_are_not_folded() -> None:
    fold = TrustFold()
    assert not fold.add(b'{"entry_type":"decision"}')
    assert not fold.add(b'{"entry_type":"trust-key" not json')
    assert not fold.add({"entry_type": "decision"})
    (good,) = changes([], (trust(key("k")), []), at_ms=AT)
    assert not fold.add(good | {"valid_from": "yesterday"})  # no time: not a key
    assert not fold.add({k: v for k, v in good.items() if k != "key_id"})
    assert fold.seen == 0 and fold.trust() == trust()
    assert fold.add(canonical_bytes(good)) and fold.trust() == trust(key("k"))
