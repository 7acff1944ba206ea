"""The MAC on internal records at the worker's edge: put on every write, checked on reads.

Agents call :meth:`Seal.headers` for what they write and run their handlers through
:meth:`Seal.checked` (or :meth:`Seal.refusal`, the sequencer), which dead-letters a record on
an internal topic whose MAC does not verify (MSG-010, alert ``A6-ALERT-003``) instead of
handling it. The pure parts are :mod:`gateway.core.mac` and :mod:`gateway.core.internal`.

Tables' values (their changelogs, read back at recovery, and the local store) are sealed by
the codec :meth:`Seal.table_codec`: JSON, then the value's MAC appended. A value that does
not verify stops the worker's recovery (``WORKER-MAC``, alert ``A6-ALERT-003``) instead of
becoming state: nobody but a gateway process can put state into a table, and a forged
changelog record needs an operator, not a guess.

The ``inputs`` and ``decisions`` tables write their changelog a batch per record
(``gateway.worker.batched``): each row as the store keeps it (sealed as above), the record
sealed once more as a whole, bound to its table and partition; a record that does not
verify is not applied (alert ``A6-ALERT-003``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from faust.serializers import codecs
from faust.types import TableT

from gateway.alerts import alert
from gateway.core import binding, mac
from gateway.core.ingest import RawInput
from gateway.core.internal import refused
from gateway.core.steps import Output
from gateway.errors import WorkerError
from gateway.transport.faust_json import ValuesJson

Handler = Callable[[RawInput], Awaitable[None]]
SendAll = Callable[[list[Output]], Awaitable[None]]


class Seal:
    """One process's MAC key, and its clock for dating what it refuses."""

    def __init__(
        self, secret: bytes, *, skew_s: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.secret = secret
        self.skew_s = skew_s
        self.clock = clock
        self.refused = 0

    def headers(self, topic: str, key: bytes | None, value: bytes) -> list[tuple[str, bytes]]:
        """The MAC, and ``content-type`` on a record that is a CloudEvent
        (:mod:`gateway.core.binding`; the MAC covers topic, key and value, not headers)."""
        out = mac.headers(self.secret, topic, key, value)
        out.extend(binding.headers_for(topic))
        return out

    def refusal(self, rec: RawInput) -> tuple[str, list[Output]] | None:
        """None when ``rec`` is not on an internal topic or its MAC verifies; else its dead
        letter and audit entry (and the alert is raised)."""
        if not mac.is_internal(rec.topic):
            return None
        why = mac.problem(self.secret, rec.topic, rec.key, rec.value, rec.headers)
        if why is None:
            return None
        self.refused += 1
        eid, outputs = refused(rec, why, now_ms=int(self.clock() * 1000), skew_s=self.skew_s)
        alert(
            "A6-ALERT-003",
            f"{rec.topic}[{rec.partition}]@{rec.offset}: {why}; dead-lettered",
            topic=rec.topic,
            partition=rec.partition,
            offset=rec.offset,
            entry_id=eid,
        )
        return eid, outputs

    def checked(self, handle: Handler, send_all: SendAll) -> Handler:
        """``handle``, for records whose MAC verifies; the others are dead-lettered."""

        async def run(rec: RawInput) -> None:
            refusal = self.refusal(rec)
            if refusal is not None:
                await send_all(refusal[1])
                return
            await handle(rec)

        return run

    def seal_table(self, table: TableT[str, Any]) -> TableT[str, Any]:
        """``table`` with sealed values in its store, its changelog writes and its recovery.

        faust derives a table's value serializer from its value type and builds the
        changelog topic (whose serializer decodes the records read at recovery) as the
        table is declared, so both are replaced here, before the worker starts.
        """
        # Both are attributes of faust's Collection that its TableT does not declare.
        table.value_serializer = self.table_codec()  # type: ignore[attr-defined]
        table.changelog_topic = table._new_changelog_topic()  # type: ignore[attr-defined]  # noqa: SLF001
        return table

    def table_codec(self) -> codecs.Codec:
        """The value serializer of every table: JSON, sealed with the MAC."""
        return ValuesJson() | _Sealed(secret=self.secret)  # type: ignore[no-any-return]


class _Sealed(codecs.Codec):
    """faust codec: appends the MAC on dumps, checks and strips it on loads."""

    def _dumps(self, s: bytes) -> bytes:
        return mac.seal_value(self.kwargs["secret"], s)

    def _loads(self, s: bytes) -> bytes:
        value = mac.open_value(self.kwargs["secret"], s)
        if value is None:
            alert("A6-ALERT-003", "a table value failed its MAC; the worker stops", size=len(s))
            raise WorkerError(
                "a table value (changelog or local store) does not carry the MAC of a gateway "
                "process",
                code="WORKER-MAC",
            )
        return value
