"""``iso_ms`` writes the same text on its fast path as ``datetime`` does."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.decision_time import iso_ms


def by_datetime(timestamp_ms: int) -> str:
    t = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    return t.isoformat(timespec="milliseconds")[:23] + "Z"


EDGES = [0, 1, 999, 1000, 1_772_323_200_000, 4_102_444_799_999, 4_102_444_800_000, -1, -1001]


def test_edges() -> None:
    for ms in EDGES:
        assert iso_ms(ms) == by_datetime(ms), ms
    assert iso_ms(1_772_323_200_123) == "2026-03-01T00:00:00.123Z"
    assert iso_ms(-1) == "1969-12-31T23:59:59.999Z"


@settings(max_examples=2000, deadline=None)
@given(st.integers(min_value=-(10**12), max_value=10**14))
def test_the_same_text_as_datetime(timestamp_ms: int) -> None:
    assert iso_ms(timestamp_ms) == by_datetime(timestamp_ms)
