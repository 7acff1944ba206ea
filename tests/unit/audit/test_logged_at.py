"""``logged_at``: the sequencer's stamp on each entry, which never decreases in leaf order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import rfc8785

from gateway.audit.note import LogKey
from gateway.audit.rfc6962 import leaf_hash, root_from_leaf_hashes
from gateway.audit.sequencer import Sequencer, stamp
from gateway.audit.store import AuditStore
from gateway.core.topics import AUDIT_TOPIC

ORIGIN = "a6gw.test/audit"
POS = (AUDIT_TOPIC, 0)


class Clock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def items(lo: int, hi: int) -> list[tuple[str, bytes]]:
    return [(f"ev-{i}", f'{{"n":{i}}}'.encode()) for i in range(lo, hi)]


def test_logged_at_never_decreases_in_leaf_order(tmp_path: Path) -> None:
    """The wall clock jumps back, and a new sequencer takes over with a slower clock."""
    key = LogKey.generate("a6gw.test/log")
    wall = Clock()
    store = AuditStore(tmp_path / "audit.sqlite")
    seq = Sequencer(store, key, ORIGIN, clock=Clock(), wall=wall)
    seq.take_over("w1", None)
    for n, now in enumerate((1_800_000_000.0, 1_800_000_005.5, 1_799_999_000.0)):
        wall.now = now
        seq.append(seq.stamp(items(3 * n, 3 * n + 3)), (*POS, 3 * n + 2))
    slower = Clock(1_700_000_000.0)
    later = Sequencer(store, key, ORIGIN, clock=Clock(), wall=slower)
    later.take_over("w2", None)
    later.append(later.stamp(items(9, 11)), (*POS, 10))
    stamps = [json.loads(body)["logged_at"] for body in store.entries()]
    assert len(stamps) == 11
    assert stamps == sorted(stamps)
    assert stamps[0] == "2027-01-15T08:00:00.000Z"
    assert stamps[3] == "2027-01-15T08:00:05.500Z"
    assert set(stamps[6:]) == {"2027-01-15T08:00:05.500Z"}
    # the stamp is inside the leaf: the log's root covers it
    assert store.root() == root_from_leaf_hashes([leaf_hash(b) for b in store.entries()])
    assert json.loads(store.entry(0)) == {"n": 0, "logged_at": stamps[0]}


def test_a_stamped_entry_stays_rfc8785() -> None:
    entry: dict[str, Any] = {
        "entry_id": "ev-1",
        "note": 'é\u2028\x1f"\\',
        "outcome": "accepted",
        "z": [1, {}],
    }
    stamped = stamp(rfc8785.dumps(entry), "2027-01-15T08:00:00.000Z")
    assert stamped == rfc8785.dumps(entry | {"logged_at": "2027-01-15T08:00:00.000Z"})
    assert stamp(b"not json", "x") == b"not json"


def _stdlib(obj: Any) -> bytes:
    """What the sequencer wrote before orjson: the bytes a rebuilt store must come to."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_a_stamp_writes_the_bytes_the_standard_library_wrote() -> None:
    """A store rebuilt from the topic (``a6gw audit restore``) stamps the entries again:
    its leaves must be the bytes of the store that logged them first, whatever encoder
    each release used. orjson writes some floats otherwise (``0.000049305051314766004``, not
    ``4.9305051314766004e-05``)."""
    at = "2027-01-15T08:00:00.000Z"
    for entry in (
        {"entry_id": "ev-1", "note": "日本\U0001f600\x7f", "n": 2**63, "list": [True, None]},
        {"entry_id": "ev-2", "big": 2**70},  # beyond orjson's integers
        {"entry_id": "ev-3", "f": 4.9305051314766004e-05, "g": 0.1},  # floats: not orjson's
    ):
        body = json.dumps(entry, ensure_ascii=False).encode()
        assert stamp(body, at) == _stdlib(entry | {"logged_at": at})
    assert stamp(b"[1]", at) == b"[1]"
