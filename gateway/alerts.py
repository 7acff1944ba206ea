"""Alerts: conditions an operator must look at, defined once for every process.

An alert is one ERROR log line on the ``a6gw.alert`` logger that starts with its stable code
(``ALERT <code>: <message>``), plus one increment of that code's counter. The counters are
per process; the metrics exporter reads them with :func:`counts`. Every code is listed in
:data:`ALERTS` with what it means; raising an unknown code is a programming error.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

log = logging.getLogger("a6gw.alert")

# code -> what it means (stable: a code never changes meaning once released)
ALERTS: dict[str, str] = {
    "A6-ALERT-001": "a gateway fault: a parser or a pure step raised on one input, which was "
    "dead-lettered with the step and the exception class",
    "A6-ALERT-002": "an input was quarantined: the process died on it at the same offset on "
    "every allowed attempt, and it was dead-lettered as a gateway fault",
    "A6-ALERT-003": "a record on an internal topic failed its MAC and was dead-lettered",
    "A6-ALERT-004": "a client exceeded its refusal budget at the ingress and was answered 429",
    "A6-ALERT-005": "an edge (broker, store, network) keeps failing; the step is retried",
    "A6-ALERT-006": "a witness refused a checkpoint as a fork (422, or another root at the "
    "size it cosigned): two histories of the audit log may exist",
    "A6-ALERT-007": "a witness refused the gateway's request (400, 403: it does not trust the "
    "log key, 404: it does not know the origin) or sent a cosignature that does not verify "
    "against its pinned key: check the witnesses' configuration",
}

_lock = threading.Lock()
_counts: Counter[str] = Counter()


def alert(code: str, message: str, **fields: Any) -> None:
    """Log ``ALERT <code>: <message>`` at ERROR with ``fields`` as ``k=v`` and count it."""
    if code not in ALERTS:
        raise ValueError(f"unknown alert code {code!r}; add it to gateway.alerts.ALERTS")
    with _lock:
        _counts[code] += 1
    extra = "".join(f" {k}={v!r}" for k, v in sorted(fields.items()))
    log.error("ALERT %s: %s%s", code, message, extra, extra={"alert_code": code, **fields})


def counts() -> dict[str, int]:
    """How often each code was raised in this process (every known code, zero included)."""
    with _lock:
        return {code: _counts[code] for code in ALERTS}
