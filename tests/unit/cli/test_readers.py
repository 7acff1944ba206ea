"""Commands that only read the audit store never create one: against a missing store each
fails with a clear error (AUD-STORE, the path) and leaves no file behind; against an existing
store they read it through a read-only connection."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.audit.open import open_store
from gateway.audit.store import AuditStore
from gateway.cli.main import main
from gateway.config import load_config
from gateway.errors import AuditError


@pytest.fixture
def world(tmp_path: Path) -> Path:
    assert main(["init", str(tmp_path / "w")]) == 0
    return tmp_path / "w" / "config.yaml"


def _store_of(config: Path) -> Path:
    return Path(load_config(config).audit_store())


READERS = [
    pytest.param(lambda cfg, out: ["audit", "export", "--config", cfg, out], id="audit-export"),
    pytest.param(lambda cfg, out: ["summary", "--config", cfg, "--party", "JPN"], id="summary"),
    pytest.param(
        lambda cfg, out: (
            ["aef", "export", "--config", cfg, "--party", "JPN", "--year", "2025"]
            + ["--format", "json", "--out", out]
        ),
        id="aef-export",
    ),
    pytest.param(lambda cfg, out: ["discrepancy", "list", "--config", cfg], id="discrepancy-list"),
    pytest.param(
        lambda cfg, out: ["discrepancy", "show", "--config", cfg, "dsc-0"], id="discrepancy-show"
    ),
    pytest.param(
        lambda cfg, out: (
            ["reconcile", "--config", cfg, "--registry", "JPN01", "--dry-run"] + ["--snapshot", out]
        ),
        id="reconcile",
    ),
]


@pytest.mark.parametrize("argv", READERS)
def test_a_reader_reports_a_missing_store_and_creates_none(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: object
) -> None:
    store = _store_of(world)
    assert not store.exists()
    args = argv(str(world), str(tmp_path / "out"))  # type: ignore[operator]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "[AUD-STORE] no audit store at" in err and str(store) in err
    assert not store.exists()
    assert not store.parent.exists() or list(store.parent.iterdir()) == []


def test_read_only_opening_reads_what_a_writer_wrote_and_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    writer = AuditStore(path)
    writer.append([("e1", b'{"a":1}'), ("e2", b'{"a":2}')])
    reader = open_store(str(path), readonly=True)
    try:
        assert list(reader.entries()) == [b'{"a":1}', b'{"a":2}']
        assert reader.size() == 2
        with pytest.raises(AuditError, match="AUD-STORE|readonly"):
            reader.append([("e3", b"{}")])
    finally:
        reader.close()
        writer.close()
    closed = open_store(path, readonly=True)  # every writer gone: still read, read-only
    try:
        assert closed.size() == 2
    finally:
        closed.close()
    assert AuditStore(path).size() == 2


def test_a_file_that_is_no_store_is_named(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    path.write_bytes(b"not a database at all" * 10)
    with pytest.raises(AuditError, match=r"cannot read the audit store .*audit\.sqlite"):
        open_store(path, readonly=True)
    folder = tmp_path / "dir.sqlite"
    folder.mkdir()
    with pytest.raises(AuditError, match="is not a file"):
        open_store(folder, readonly=True)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "No such file"), (b"{not json", "not a snapshot"), (b'{"blocks": []}', "rows")],
)
def test_reconcile_names_an_unusable_snapshot_file(
    world: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    message: str,
) -> None:
    store = _store_of(world)
    store.parent.mkdir(parents=True)
    AuditStore(store).close()
    snapshot = tmp_path / "snapshot.json"
    if content is not None:
        snapshot.write_bytes(content)
    argv = ["reconcile", "--config", str(world), "--registry", "JPN01", "--dry-run"]
    assert main([*argv, "--snapshot", str(snapshot)]) == 2
    err = capsys.readouterr().err
    assert f"[RECON-001] cannot use the snapshot {snapshot}" in err and message in err
