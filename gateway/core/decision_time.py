"""The one timestamp format the gateway writes: RFC 3339 UTC with milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_ms(timestamp_ms: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` for a time in ms since the epoch (e.g. a record timestamp).

    Fixed width, so these strings order like the times they denote.
    """
    t = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    if t.year < 1000:  # isoformat pads the year to four digits, strftime does not
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    return t.isoformat(timespec="milliseconds")[:23] + "Z"  # half the time of strftime
