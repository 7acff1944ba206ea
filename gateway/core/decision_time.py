"""The one timestamp format the gateway writes: RFC 3339 UTC with milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

#: 2100-01-01T00:00:00Z in ms: below it (and from the epoch on) a time in ms divided by 1000
#: is within half a microsecond of the exact instant, so ``datetime.fromtimestamp`` reads
#: back exactly its second and its milliseconds
_EXACT_MS = 4_102_444_800_000


@lru_cache(maxsize=256)
def _second(seconds: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS.`` of a whole second since the epoch (year 1970 to 2099)."""
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat()[:19] + "."


def iso_ms(timestamp_ms: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` for a time in ms since the epoch (e.g. a record timestamp).

    Fixed width, so these strings order like the times they denote.
    """
    if type(timestamp_ms) is int and 0 <= timestamp_ms < _EXACT_MS:
        # the common case: the second's text computed once per second
        seconds, ms = divmod(timestamp_ms, 1000)
        return f"{_second(seconds)}{ms:03d}Z"
    t = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    if t.year < 1000:  # isoformat pads the year to four digits, strftime does not
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    return t.isoformat(timespec="milliseconds")[:23] + "Z"  # half the time of strftime
