"""At start, put the trust file's keys and the Parties' settings on record when they changed.

Before a worker process decides anything, it reads the ``trust-key`` and ``party-settings``
entries the audit store holds (an index lookup by kind), compares them with the trust file
and config it loaded (:func:`gateway.core.trust_log.changes`), and writes one entry per
change to ``a6.audit.log`` as every gateway process writes there: with its MAC, waiting for
the broker's acknowledgement (acks=all). The sequencer then appends them like any entry.

Every worker does this, not only the one that owns the sequencer: the log has one
partition, so entries a worker acknowledged before it started deciding come before every
decision it makes, and a key a new trust file registers is on record before the first
decision it signed. The ids are deterministic and chained (see ``gateway.core.trust_log``):
two workers starting at once, a restart, or an entry still on its way to the store give the
same ids, which the sequencer appends once. Nothing changed: nothing is written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

from gateway.audit.logstore import LogStore
from gateway.audit.open import open_store
from gateway.audit.search import Query
from gateway.config import LoadedConfig
from gateway.core.canonical import canonical_bytes
from gateway.core.topics import AUDIT_TOPIC
from gateway.core.trust_log import KEY_TYPE, SETTINGS_TYPE, changes
from gateway.errors import AuditError
from gateway.files import is_postgres_url
from gateway.transport.clients import KafkaClients, clients_for
from gateway.transport.publish import publish

log = logging.getLogger("a6gw.worker")

#: leaf indices asked of the store's index per page
PAGE = 1000


def recorded(store: LogStore) -> Iterator[bytes]:
    """The trust-key and party-settings entries of ``store``, in log order."""
    query = Query(terms=(("type", KEY_TYPE), ("type", SETTINGS_TYPE)))
    after = -1
    while True:
        found = store.search(query, after, PAGE)
        for index in found:
            yield store.entry(index)
        if len(found) < PAGE:
            return
        after = found[-1]


def _reader(where: str) -> LogStore | None:
    """The audit store to read the records from; None for a SQLite store not made yet."""
    if is_postgres_url(where):
        return open_store(where)  # makes its tables in a new database
    if not Path(where).is_file():
        return None  # the first start: nothing recorded yet
    try:
        # Read-only: closing it never checkpoints the file nor removes the write-ahead log
        # that other processes' connections read.
        return open_store(where, readonly=True)
    except AuditError:
        return open_store(where)  # a file without the store's tables: they are made


async def record_trust(lc: LoadedConfig, clients: KafkaClients | None = None) -> int:
    """Write the entries that put the trust file and the config's Parties on record (as the
    ``worker`` principal, unless ``clients`` are given); how many were written.

    :raises ConfigError: the trust file or the MAC key cannot be loaded.
    :raises AuditError: (AUD-STORE) the audit store cannot be opened.
    :raises aiokafka.errors.KafkaError: the broker did not take them.
    """
    trust, mac_key = lc.load_trust(), lc.load_mac_key()
    store = _reader(lc.audit_store())
    try:
        known = list(recorded(store)) if store is not None else []
    finally:
        if store is not None:
            store.close()
    entries = changes(known, (trust, lc.config.parties), at_ms=int(time.time() * 1000))
    if entries:
        items = [(AUDIT_TOPIC, e["entry_id"].encode(), canonical_bytes(e)) for e in entries]
        await publish(clients or clients_for(lc, "worker"), items, mac_key=mac_key)
    for e in entries:
        what = e.get("key_id") or e.get("party")
        log.info("trust: %s %s %s (%s)", e["entry_type"], what, e.get("change", ""), e["entry_id"])
    return len(entries)
