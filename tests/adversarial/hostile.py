"""Hostile inputs, drawn deterministically from hypothesis strategies (a fixed seed).

Each category is a function ``(world, count, seed) -> list[Hostile]`` for Kafka, or a list
of :class:`Request` for HTTP. What the gateway must do with each input is in its fields:
``expect`` (a dead letter, anything but acceptance, or any coded outcome), the codes a
decision must carry, and whether the entry's ``decided_at`` may precede the moment it was
sent.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from gateway.core.canonical import canonical_bytes, sha256_hex
from gateway.core.decision import event_entry_id
from gateway.core.signing import sign_envelope
from gateway.core.topics import (
    AUDIT_TOPIC,
    COMMANDS_TOPIC,
    FINDINGS_TOPIC,
    LEDGER_TOPIC,
    input_topic,
)
from gateway.demo.world import World, now_utc, signed_event
from gateway.errors import SchemaError

Expect = Literal["dead-letter", "refused", "any"]
T = TypeVar("T")
#: Input topics the Kafka categories write to (registries that publish over Kafka).
REGISTRIES = ("JPN01", "MNG01")
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Hostile:
    """One record to produce, and what must become of it."""

    what: str  # a short label for failure messages
    topic: str
    value: bytes
    key: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp_ms: int | None = None
    expect: Expect = "any"
    codes: tuple[str, ...] = ()  # a decision must carry one of these codes
    claimed: tuple[str, ...] = ()  # entry ids the record would become if taken as genuine
    arrival_time: bool = False  # the entry's decided_at must be the time it reached us


@dataclass(frozen=True)
class Request:
    """One HTTP request to the ingress (``signed`` by the partner) or the API."""

    what: str
    method: str
    path: str
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)
    signed: bool = True  # ingress: an RFC 9421 signature by the registry's key


def drawn(strategy: st.SearchStrategy[T], count: int, at: int) -> list[T]:
    """``count`` examples of ``strategy`` (fewer if it has fewer), the same for the same seed."""
    out: list[T] = []

    @seed(at)
    @settings(
        max_examples=max(count, 1),
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: T) -> None:
        out.append(example)

    collect()
    return out[:count]


_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    _json_leaf,
    lambda kids: st.one_of(
        st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=10), kids, max_size=4)
    ),
    max_leaves=12,
)
hostile_bodies = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.sampled_from(
        [b"", b"\x00", b"\xef\xbb\xbf{}", b"{}", b"[]", b"null", b'"\xff"', b"{" * 50, b"\xc3"]
    ),
)


def _stamp(world: World, signer: str, eid: str, data: dict[str, Any], **kw: Any) -> bytes:
    return signed_event(
        world.keys[signer],
        key_id=world.key_id(signer),
        source=signer,
        name=kw.pop("name", "account.opened"),
        event_id=eid,
        data=data,
        **kw,
    )


def account(registry: str, account_id: str) -> dict[str, Any]:
    return {
        "registry_id": registry,
        "account_id": account_id,
        "account_type": "participant-holding",
        "holder": "holder",
    }


def probe(world: World, registry: str, eid: str) -> tuple[bytes, str]:
    """A valid input (``recorded``) and its audit entry id."""
    value = _stamp(world, registry, eid, account(registry, f"AC-{eid}"))
    return value, event_entry_id(registry, eid, sha256_hex(value))


def hostile_bytes(world: World, count: int, at: int) -> list[Hostile]:
    """Bytes no signer made: random, not UTF-8, not JSON, JSON of the wrong shape."""
    rows = drawn(st.tuples(st.sampled_from(REGISTRIES), hostile_bodies), count, at)
    return [
        Hostile(f"bytes#{i}", input_topic(r), v, f"hb-{at}-{i}".encode(), expect="dead-letter")
        for i, (r, v) in enumerate(rows)
    ]


_FIELDS = ("specversion", "id", "source", "type", "time", "datacontenttype", "a6keyid", "data")
_DATA = ("registry_id", "account_id", "account_type", "holder")


def envelope_fields(world: World, count: int, at: int) -> list[Hostile]:
    """A valid envelope with one field (or one ``data`` member) deleted, replaced or added,
    then signed again by its registry or sent with the old signature."""
    op = st.sampled_from(["delete", "replace", "add"])
    target = st.sampled_from([*_FIELDS, *(f"data.{k}" for k in _DATA)])
    rows = drawn(
        st.tuples(st.sampled_from(REGISTRIES), op, target, json_values, st.booleans()), count, at
    )
    out = []
    for i, (reg, what, name, value, resign) in enumerate(rows):
        eid = f"ef-{at}-{i}"
        env = json.loads(_stamp(world, reg, eid, account(reg, f"AC-{eid}")))
        holder = env["data"] if name.startswith("data.") else env
        member = name.removeprefix("data.")
        if what == "delete":
            holder.pop(member, None)
        elif what == "replace":
            holder[member] = value
        else:
            holder[f"x-{member}"] = value
        try:
            if resign:
                env.pop("a6signature", None)
                env = sign_envelope(env, world.keys[reg])
            body = canonical_bytes(env)
        except SchemaError:  # a value JCS cannot carry: nobody could have signed it
            resign, body = False, json.dumps(env).encode()
        label = f"field {what} {name}{' re-signed' if resign else ''}"
        out.append(Hostile(label, input_topic(reg), body, eid.encode()))
    return out


def signatures(world: World, count: int, at: int) -> list[Hostile]:
    """Signatures and key ids that do not belong: flipped, cut, missing, another signer's."""
    others = [s for s in world.keys if s not in REGISTRIES]
    kinds = st.sampled_from(
        ["flip", "cut", "drop", "garbage", "other-key", "other-keyid", "keyid", "borrowed"]
    )
    rows = drawn(
        st.tuples(
            st.sampled_from(REGISTRIES),
            kinds,
            st.integers(0, 511),
            st.sampled_from(others),
            st.text(max_size=60),
        ),
        count,
        at,
    )
    out = []
    for i, (reg, kind, bit, other, text) in enumerate(rows):
        eid = f"sg-{at}-{i}"
        env = json.loads(_stamp(world, reg, eid, account(reg, f"AC-{eid}")))
        sig = bytearray(base64.b64decode(env["a6signature"]))
        if kind == "flip":
            sig[bit // 8] ^= 1 << (bit % 8)
            env["a6signature"] = base64.b64encode(bytes(sig)).decode()
        elif kind == "cut":
            env["a6signature"] = base64.b64encode(bytes(sig[: bit % 64])).decode()
        elif kind == "drop":
            del env["a6signature"]
        elif kind == "garbage":
            env["a6signature"] = text
        elif kind == "other-key":  # right key id, a key of another principal
            env.pop("a6signature")
            env = sign_envelope(env, world.keys[other])
        elif kind == "other-keyid":  # another principal's key id, signed by that key
            env.pop("a6signature")
            env["a6keyid"] = world.key_id(other)
            env = sign_envelope(env, world.keys[other])
        elif kind == "keyid":
            env["a6keyid"] = text
        else:  # a genuine signature of another input
            twin = json.loads(_stamp(world, reg, f"{eid}-twin", account(reg, "AC-TWIN")))
            env["a6signature"] = twin["a6signature"]
        out.append(
            Hostile(f"signature {kind}", input_topic(reg), canonical_bytes(env), eid.encode(),
                    expect="refused")
        )  # fmt: skip
    return out


_header = st.tuples(st.text(max_size=30), st.binary(max_size=200))


def keys_headers(world: World, count: int, at: int) -> list[Hostile]:
    """Valid inputs under hostile record keys (none, empty, binary, another id) and headers."""
    keys = st.one_of(st.none(), st.binary(max_size=300), st.sampled_from([b"", b"\x00" * 10_000]))
    rows = drawn(
        st.tuples(
            st.sampled_from(REGISTRIES),
            st.booleans(),
            keys,
            st.lists(_header, max_size=20),
        ),
        count,
        at,
    )
    out = []
    for i, (reg, own_key, key, headers) in enumerate(rows):
        eid = f"kh-{at}-{i}"
        value = _stamp(world, reg, eid, account(reg, f"AC-{eid}"))
        out.append(
            Hostile(
                "record key" if not own_key else "headers",
                input_topic(reg),
                value,
                eid.encode() if own_key else key,
                tuple(headers),
            )
        )
    return out


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _ago(back: int | None) -> str:
    if back is None:
        return "at the epoch"
    return f"{back // DAY_MS} days ago" if back > 0 else f"{-back // 60_000} min ahead"


def timestamps(world: World, count: int, at: int) -> list[Hostile]:
    """Record timestamps the producer chose: back-dated proposals signed as of that time, and
    notifications with timestamps far in the past or the future."""
    now = datetime.now(UTC)
    rows = drawn(
        st.tuples(
            st.sampled_from(REGISTRIES),
            st.booleans(),
            # ms before now; None: the epoch (1 ms); -30 min: ahead, within the broker's range
            st.sampled_from([None, 3 * DAY_MS, 400 * DAY_MS, -DAY_MS // 48]),
            st.integers(0, 60_000),
        ),
        count,
        at,
    )
    now_ms = int(now.timestamp() * 1000)
    out = []
    for i, (reg, proposal, back, jitter) in enumerate(rows):
        back_ms = now_ms - 1 if back is None else back + jitter
        eid = f"ts-{at}-{i}"
        when = now - timedelta(milliseconds=back_ms)
        stamp = now_ms - back_ms
        if proposal and back is not None and back > DAY_MS:
            data = {
                "transaction_id": f"TX-{eid}",
                "ca_id": "CA0001",
                "originating_registry": "MNG01",
                "transferring": {"registry_id": reg, "account_id": "X-1"},
                "acquiring": {"registry_id": reg, "account_id": "X-2"},
                "blocks": [{"serial_start": "1", "serial_end": "10"}],
            }
            value = _stamp(world, reg, eid, data, name="transfer", time=_iso(when))
            out.append(
                Hostile(f"proposal signed and stamped {_ago(back)}",
                        input_topic(reg), value, eid.encode(), timestamp_ms=stamp,
                        expect="refused", codes=("MSG-005",), arrival_time=True)
            )  # fmt: skip
        else:
            value = _stamp(world, reg, eid, account(reg, f"AC-{eid}"), time=now_utc())
            out.append(
                Hostile(f"record timestamp {_ago(back)}", input_topic(reg), value, eid.encode(),
                        timestamp_ms=stamp, arrival_time=True)
            )  # fmt: skip
    return out


def internal_topics(world: World, count: int, at: int) -> list[Hostile]:
    """Records on the gateway's internal topics, written by someone else: an unsigned
    issuance forwarded to the ledger, a forged audit entry and finding, hostile bytes."""
    targets = st.sampled_from(["ledger", "audit", "finding", "bytes"])
    topics = (LEDGER_TOPIC, AUDIT_TOPIC, FINDINGS_TOPIC, COMMANDS_TOPIC)
    rows = drawn(st.tuples(targets, st.sampled_from(topics), hostile_bodies), count, at)
    out: list[Hostile] = []
    seen: set[tuple[str, bytes]] = set()
    for i, (kind, topic, noise) in enumerate(rows):
        eid = f"in-{at}-{i}"
        if kind == "ledger":
            env = json.loads(_stamp(world, "MNG01", eid, _issuance(eid, i), name="issuance"))
            env["a6signature"] = base64.b64encode(bytes(64)).decode()
            raw = canonical_bytes(env)
            sha = sha256_hex(raw)
            record = {
                "value": raw.decode(),
                "sha256": sha,
                "signer": "MNG01",
                "role": "registry",
                "owner": {"registry": "MNG01", "party": "MNG"},
                "timestamp_ms": int(datetime.now(UTC).timestamp() * 1000),
            }
            out.append(
                Hostile("unsigned issuance on a6.ledger", LEDGER_TOPIC, canonical_bytes(record),
                        b"CA0001", expect="dead-letter",
                        claimed=(event_entry_id("MNG01", eid, sha),))
            )  # fmt: skip
        elif kind == "audit":
            forged_id = f"ev-forged-{eid}"
            entry = {
                "entry_version": 1,
                "entry_type": "decision",
                "entry_id": forged_id,
                "input": {"source": "MNG01", "id": eid, "type": "a6gw.issuance.v1"},
                "outcome": "accepted",
                "results": [],
                "decided_at": now_utc(),
            }
            out.append(
                Hostile("forged entry on a6.audit.log", AUDIT_TOPIC, canonical_bytes(entry),
                        forged_id.encode(), expect="dead-letter",
                        claimed=(forged_id,))
            )  # fmt: skip
        elif kind == "finding":
            forged = {"id": f"dsc-forged-{eid}", "code": "REC-001", "severity": "error"}
            out.append(
                Hostile("forged finding on a6.discrepancies", FINDINGS_TOPIC,
                        canonical_bytes(forged), forged["id"].encode(), expect="dead-letter")
            )  # fmt: skip
        elif (topic, noise) not in seen:  # one record per body: it is counted by its bytes
            seen.add((topic, noise))
            out.append(Hostile(f"bytes on {topic}", topic, noise, eid.encode(),
                               expect="dead-letter"))  # fmt: skip
    return out


def _issuance(eid: str, i: int) -> dict[str, Any]:
    start = 10**9 + i * 1000
    return {
        "transaction_id": f"ISS-{eid}",
        "ca_id": "CA0001",
        "registry_id": "MNG01",
        "decision_id": "MN003-FORGED",
        "vintage": 2025,
        "unit_type": "JCM",
        "blocks": [
            {"serial_start": str(start + 1), "serial_end": str(start + 1000), "account_id": "X"}
        ],
    }


def deep(depth: int, leaf: str = "1") -> str:
    return '{"a":' * depth + leaf + "}" * depth


def nesting(world: World, count: int, at: int, *, max_bytes: int) -> list[Hostile]:
    """Bodies that are too deep, too large or carry too many digits; some signed around."""
    env = json.loads(_stamp(world, "JPN01", f"nest-{at}", account("JPN01", "AC-N")))
    head = json.dumps({k: v for k, v in env.items() if k != "data"})[:-1]
    shapes: list[tuple[str, bytes]] = [
        ("[ x 100,000 then ] x 100,000", b"[" * 100_000 + b"]" * 100_000),
        ("data nested 1,000 deep", f'{head},"data":{deep(1000)}}}'.encode()),
        ("an integer of 5,000 digits", b"9" * 5000),
        ("data with an integer of 5,000 digits", f'{head},"data":{"9" * 5000}}}'.encode()),
        ("a string of max_message_bytes + 1", json.dumps("x" * max_bytes).encode()),
        ("900 kB of spaces around {}", b" " * 450_000 + b"{}" + b" " * 450_000),
        ("data nested 200 deep", f'{head},"data":{deep(200)}}}'.encode()),
    ]
    return [  # few shapes: each in turn, on each registry's topic in turn
        Hostile(label, input_topic(REGISTRIES[i % 2]), body, f"nb-{at}-{i}".encode(),
                expect="dead-letter")
        for i, (label, body) in ((i, shapes[i % len(shapes)]) for i in range(count))
    ]  # fmt: skip
