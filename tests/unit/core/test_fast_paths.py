"""The check path's shortcuts write and decide what the longer ways they replace do."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.core.blocks import Block, Range, evolve
from gateway.core.canonical import canonical_bytes, plain_bytes
from gateway.core.decision_time import iso_ms
from gateway.core.frozen import quick_init
from gateway.core.ingest import parse_envelope, read_envelope
from gateway.core.model import Evaluation, Finding, Notice
from gateway.core.signing import sign_envelope, verify_envelope
from gateway.core.state import LedgerState, Put, _block_of, block_put
from gateway.core.txids import one_transaction_per_id
from gateway.errors import SchemaError
from tests.unit.core.a6book import Book, make_event


def _strftime_iso_ms(ms: int) -> str:
    t = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def test_times_are_written_as_strftime_writes_them() -> None:
    rng = random.Random(16)
    stamps = [0, 1, 999, 1_772_323_200_123, -1, -62_135_596_800_000, 253_402_300_799_999]
    stamps += [-30_000_000_000_000]  # the year 1019; and years before 1000 below
    stamps += [-40_000_000_000_000, -61_000_000_000_000]
    stamps += [rng.randint(-62_135_596_800_000, 253_402_300_799_999) for _ in range(20_000)]
    for ms in stamps:
        assert iso_ms(ms) == _strftime_iso_ms(ms), ms


def test_a_quick_init_keeps_the_dataclass_behaviour() -> None:
    @quick_init
    @dataclasses.dataclass(frozen=True)
    class Sorted:
        name: str
        items: tuple[int, ...] = ()
        note: str = dataclasses.field(default="", compare=False)

        def __post_init__(self) -> None:
            object.__setattr__(self, "items", tuple(sorted(self.items)))

    a = Sorted("a", (3, 1))
    assert a.items == (1, 3) and a.note == ""
    assert a == Sorted(name="a", items=(1, 3), note="other")
    assert hash(a) == hash(Sorted("a", (1, 3)))
    assert repr(a).endswith("Sorted(name='a', items=(1, 3), note='')")
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.name = "b"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Sorted()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        quick_init(dataclasses.dataclass(type("Open", (), {"__annotations__": {"x": "int"}})))
    # the core's own: findings still merge their ranges; blocks and ranges compare by value
    assert Finding("X", "m", (Range(3, 4), Range(1, 2))).ranges == (Range(1, 4),)
    block = Block("CA0001", "MNG01", 1, 10, 2025, "JCM", "MNG01", "A")
    assert block == Block(**dataclasses.asdict(block))
    assert evolve(block, end=5, state="reserved") == dataclasses.replace(
        block, end=5, state="reserved"
    )
    with pytest.raises(TypeError):
        evolve(block, colour="red")


def test_an_accepted_transaction_keeps_every_field_of_its_evaluation() -> None:
    book = Book()
    event = make_event(
        "MNG01",
        "issuance",
        {
            "transaction_id": "tx-1",
            "ca_id": "CA0001",
            "registry_id": "MNG01",
            "decision_id": "D1",
            "vintage": 2025,
            "unit_type": "JCM",
            "blocks": [{"serial_start": "1", "serial_end": "2", "account_id": "MN-A"}],
        },
    )
    full = Evaluation(
        "accepted",
        findings=(Finding("X", "m"),),
        actions=("Issuance",),
        effects=(Put("blocks", "k", {}),),
        notices=(Notice("JPN01", "k", {}),),
        quantity=2,
        note="n",
        a6=({"action": "Use"},),
    )
    got = one_transaction_per_id(event, book.state, full)
    assert got.effects[:-1] == full.effects and got.effects[-1].table == "transactions"
    assert dataclasses.replace(got, effects=full.effects) == full


def _signed(data_text: str) -> tuple[bytes, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    env = {
        "specversion": "1.0",
        "id": "e-1",
        "source": "MNG01",
        "type": "a6gw.issuance.v1",
        "time": "2026-03-01T00:00:00Z",
        "datacontenttype": "application/json",
        "a6keyid": "k-1",
        "data": json.loads(data_text),
    }
    return json.dumps(sign_envelope(env, key), ensure_ascii=False).encode(), key


@pytest.mark.parametrize(
    ("data", "plain", "encoder_differs"),
    [
        ('{"a": "x", "n": 123456789012345, "m": -5, "s": "\\ud83d\\ude00"}', True, False),
        ('{"f": 1.0}', False, True),  # RFC 8785 writes 1
        ('{"f": 1e21, "g": -0.0}', False, True),
        ('{"big": 1234567890123456}', False, False),  # 16 digits: not plain, to be safe
    ],
)
def test_an_envelope_is_read_plain_only_when_the_encoder_writes_its_signing_input(
    data: str, plain: bool, encoder_differs: bool
) -> None:
    value, key = _signed(data)
    obj, envelope, got = read_envelope(value, 1 << 20)
    assert got is plain
    assert (obj, envelope) == parse_envelope(value, 1 << 20)
    verify_envelope(obj, key.public_key(), plain=plain)
    unsigned = {k: v for k, v in obj.items() if k != "a6signature"}
    if plain:
        assert plain_bytes(unsigned) == canonical_bytes(unsigned)
    encoded = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert (encoded.encode() != canonical_bytes(unsigned)) is encoder_differs


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"\xef\xbb\xbf{}", "not JSON: Unexpected UTF-8 BOM (decode using utf-8-sig) at 0"),
        (b'{"a": 1, "b": {"c": 1, "c": 2}, "a": 3}', "duplicate JSON member 'c'"),
        (b'{"a": 1.5, "a": 2}', "duplicate JSON member 'a'"),
        (b'{"a": 1.5, "b": }', "not JSON: Expecting value at 16"),
        (b"[1, 2", "not JSON: Expecting ',' delimiter at 5"),
    ],
)
def test_an_envelope_that_is_not_json_is_refused_in_the_same_words(
    value: bytes, message: str
) -> None:
    with pytest.raises(SchemaError) as exc:
        read_envelope(value, 1 << 20)
    assert exc.value.code == "MSG-001"
    assert message in str(exc.value)


def test_plain_bytes_of_what_the_encoder_cannot_write_alone() -> None:
    for obj in [{"\U0001f600": 1, "\ue000": 2}, ["\ud800"], {"a": ("t", 1)}]:
        try:
            want: bytes | None = canonical_bytes(obj)
        except SchemaError:
            want = None
        if want is None:
            with pytest.raises(SchemaError):
                plain_bytes(obj)
        else:
            assert plain_bytes(obj) == want


def test_overlapping_answers_what_a_scan_of_the_space_answers() -> None:
    rng = random.Random(7)
    for _ in range(200):
        blocks, cursor = [], rng.randint(1, 5)
        for _ in range(rng.randint(0, 12)):  # disjoint blocks with gaps between some
            end = cursor + rng.randint(0, 6)
            blocks.append(Block("CA0001", "MNG01", cursor, end, 2025, "JCM", "MNG01", "A"))
            cursor = end + 1 + rng.choice((0, 0, 1, 3))
        state = LedgerState()
        state.apply([Put("blocks", b.key, b.to_record()) for b in blocks], 0)
        for _ in range(20):
            lo = rng.randint(0, cursor + 2)
            want = Range(lo, lo + rng.randint(-2, 12))
            scan = [b for b in blocks if b.start <= want.end and b.end >= want.start]
            if want.start > want.end:  # a backwards range: the block holding its start
                scan = [b for b in blocks if b.start <= want.start <= b.end]
            assert state.overlapping("CA0001", "MNG01", want) == scan, (want, blocks)


def test_a_block_put_hands_the_index_the_block_its_record_reads_back_to() -> None:
    rng = random.Random(17)
    for _ in range(2_000):
        start = rng.choice([1, rng.randint(1, 10**6), rng.randint(1, 10**18)])
        block = Block(
            rng.choice(["CA0001", "CA0002"]),
            rng.choice(["MNG01", "JPN01"]),
            start,
            start + rng.randint(0, 10**6),
            rng.choice([2021, 2025, 2030]),
            rng.choice(["JCM", "A6.2"]),
            rng.choice(["MNG01", "JPN01"]),
            rng.choice(["MN-A", "JP-B", "é\u2028"]),
            rng.choice(["held", "reserved", "retired", "cancelled"]),
            rng.random() < 0.5,
            rng.choice([None, "tx-1"]),
            rng.choice([None, "AUTH-1"]),
        )
        put = block_put(block)
        assert put == Put("blocks", block.key, block.to_record())  # equal puts, block aside
        read = _block_of(put.value)
        assert read == put.block == block
        assert [type(v) for v in dataclasses.astuple(read)] == [
            type(v) for v in dataclasses.astuple(block)
        ]
        state = LedgerState()
        state.apply([put], 1)
        assert list(state.blocks()) == [read]
