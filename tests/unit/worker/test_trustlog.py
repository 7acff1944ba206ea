"""The worker's start-up records (``gateway.worker.trustlog``): the trust and settings
entries are found through the store's index, in log order, among other entries; the diff
over them is empty once they are logged. Writing them to the broker is tested on the real
one (``tests/integration/test_trust_log.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.audit.store import AuditStore
from gateway.core.canonical import canonical_bytes
from gateway.core.trust import Trust
from gateway.core.trust_log import changes
from gateway.worker import trustlog
from tests.unit.audit.test_verify_signers import decision
from tests.unit.core.test_trust_log import AT, PARTY, key


def test_the_store_gives_back_the_trust_entries_in_log_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = AuditStore(tmp_path / "audit.sqlite")
    current = (Trust(keys=(key("a"), key("b"))), [PARTY])
    first = changes([], current, at_ms=AT)
    revoked = (Trust(keys=(key("a", status="revoked"), key("b"))), [PARTY])
    bodies = [canonical_bytes(e) for e in first]
    later = changes(bodies, revoked, at_ms=AT)
    items = [*bodies[:2], decision(), bodies[2], *(canonical_bytes(e) for e in later)]
    store.append((f"id-{n}", body) for n, body in enumerate(items))
    monkeypatch.setattr(trustlog, "PAGE", 2)  # several pages of the index, as on a large log
    got = list(trustlog.recorded(store))
    assert got == [b for b in items if b != items[2]]
    assert changes(got, revoked, at_ms=AT + 1) == []
    store.close()


def test_a_store_not_made_yet_has_nothing_on_record(tmp_path: Path) -> None:
    assert trustlog._reader(str(tmp_path / "none.sqlite")) is None  # noqa: SLF001
    (tmp_path / "empty.sqlite").touch()  # a file without the store's tables (a bare copy)
    store = trustlog._reader(str(tmp_path / "empty.sqlite"))  # noqa: SLF001
    assert store is not None and list(trustlog.recorded(store)) == []
    store.close()
