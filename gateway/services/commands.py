"""Sending an operator's signed discrepancy command and waiting for what became of it.

A :class:`Channel` sends the command's bytes (straight to Kafka after the same check the
worker makes, or to the auditors' API, which makes it) and looks up the audit entry it ends
as (:func:`gateway.core.oversight.command_entry_id`): in the config's audit store, or
through the API. :func:`send_command` returns the exit code of ``a6gw discrepancy
acknowledge|resolve|resolve-by-hand``: 0 applied, 1 refused, 3 no outcome in time.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.config import LoadedConfig
from gateway.core.oversight import command_entry_id
from gateway.core.trust import Trust
from gateway.errors import CommandRefused
from gateway.services import discrepancies as dq
from gateway.services.entries import read_entry
from schemas.entries import DiscrepancyEntry
from schemas.entry_parts import TrackedRecord

APPLIED, REFUSED, USAGE, PENDING = 0, 1, 2, 3
Say = Callable[[str], None]


def outcome(entry: DiscrepancyEntry) -> tuple[str, int]:
    """What became of a command, from the audit entry it ended as, and the exit code."""
    if entry.outcome == "refused":
        first = entry.results[0] if entry.results else None
        code, message = (first.code, first.message) if first else ("", "")
        return f"refused {code}: {message}", REFUSED
    state = entry.discrepancy
    by_hand = " by hand" if isinstance(state, TrackedRecord) and state.manual else ""
    return f"{entry.outcome}{by_hand}", APPLIED


def usage_problem(action: str, note: str, correction: str) -> str | None:
    """What a command lacks that the worker would refuse it for (REC-103), if anything."""
    if action != "acknowledge" and not note.strip():
        return f"{action} needs --note: how it was resolved"
    if action == "resolve-by-hand" and not correction.strip():
        return "resolve-by-hand needs --correction: what the operator changed, and where"
    return None


# -- sending a command ---------------------------------------------------------------------


@dataclass
class Channel:
    """Where a command goes (``send``; raises :class:`CommandRefused`) and where its audit entry is
    looked for (``lookup``: its bytes, or None while the log does not have it)."""

    send: Callable[[bytes], None]
    lookup: Callable[[str], bytes | None]
    close: Callable[[], None]


def wait_for(
    lookup: Callable[[str], bytes | None],
    entry_id: str,
    wait_s: float,
    *,
    poll_s: float = 0.25,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bytes | None:
    """The entry's bytes once the log has it; None after ``wait_s`` seconds."""
    deadline = clock() + wait_s
    while True:
        found = lookup(entry_id)
        if found is not None or clock() >= deadline:
            return found
        sleep(poll_s)


def send_command(body: bytes, channel: Channel, wait_s: float, say: Say) -> int:
    """Send a signed command, wait for its entry, say the outcome; the exit code."""
    entry_id = command_entry_id(body)
    try:
        channel.send(body)
    except CommandRefused as exc:
        say(str(exc))
        return REFUSED
    print(f"sent command {json.loads(body)['id']}; its audit entry: {entry_id}", file=sys.stderr)
    if wait_s <= 0:
        return APPLIED
    found = wait_for(channel.lookup, entry_id, wait_s)
    if found is None:
        say(f"no outcome within {wait_s:g} s: {entry_id} is not in the log yet (is the worker up?)")
        return PENDING
    entry = read_entry(found)
    if not isinstance(entry, DiscrepancyEntry):
        say(f"{entry_id} is in the log but is not a discrepancy entry the gateway writes")
        return PENDING
    text, code = outcome(entry)
    say(text)
    return code


#: ``(body, trust)``: checks a command as the worker will, or raises :class:`CommandRefused`.
Check = Callable[[bytes, Trust], None]


def direct_channel(lc: LoadedConfig, discrepancy_id: str, check: Check) -> Channel:
    """Checked here against the config's trust file (``check``) and log, then published to
    Kafka."""
    from aiokafka.errors import KafkaError

    from gateway.audit.open import open_store
    from gateway.core.topics import COMMANDS_TOPIC
    from gateway.errors import GatewayError
    from gateway.transport.clients import clients_for
    from gateway.transport.publish import publish

    store = open_store(lc.audit_store())
    trust = lc.load_trust()
    bootstrap = lc.config.kafka.bootstrap

    def send(body: bytes) -> None:
        check(body, trust)
        if not dq.is_known(store, discrepancy_id):
            raise CommandRefused("REC-101", f"no discrepancy {discrepancy_id!r} in the log")
        try:
            kafka = clients_for(lc, "discrepancy")  # only once the command passed the checks
            asyncio.run(publish(kafka, [(COMMANDS_TOPIC, discrepancy_id.encode(), body)]))
        except KafkaError as exc:
            raise GatewayError(
                f"cannot publish to {bootstrap}: {exc}", code="KAFKA-PUBLISH"
            ) from exc

    def lookup(entry_id: str) -> bytes | None:
        index = store.index_of(entry_id)
        return None if index is None else store.entry(index)

    return Channel(send, lookup, store.close)
