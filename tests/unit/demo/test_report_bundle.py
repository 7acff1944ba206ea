"""``a6gw summary`` and ``a6gw aef export`` at a checkpoint: over the config's store (the
latest, or ``--size N``) and over an audit bundle alone (``--bundle DIR --vkey FILE``), on
the demo scenario's log run in memory, with the Parties' settings recorded in it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.export import export_bundle
from gateway.audit.store import AuditStore
from gateway.cli.main import main
from gateway.core.canonical import canonical_bytes
from tests.unit.reportlog import party_settings, scenario, sign_checkpoint
from tests.unit.worker.test_pipeline import MemoryPipeline


@dataclass
class World:
    pipe: MemoryPipeline
    config: str
    vkey: Path
    year: int
    first: int  # the size of the first checkpoint
    bundle: Path  # exported at the first checkpoint


def _append(store: AuditStore, entries: Sequence[dict[str, Any]]) -> None:
    store.append([(str(e["entry_id"]), canonical_bytes(e)) for e in entries])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The scenario's log with Japan's settings recorded (from its config, with budget
    instead of trajectory) and Mongolia's not; one checkpoint, a bundle cut there, then one
    more entry and a second checkpoint."""
    root = tmp_path_factory.mktemp("report-bundle")
    pipe, entries, year = scenario(root / "world")
    key = pipe.lc.load_log_key()
    jpn = party_settings("JPN", (2021, 2030), "budget", "first-transfer", name="Japan")
    path = Path(pipe.lc.audit_store())
    path.unlink(missing_ok=True)
    store = AuditStore(path)
    try:
        _append(store, [jpn, *entries])
        sign_checkpoint(store, key)
        first = store.size()
        latest = store.latest_checkpoint()
        assert latest is not None
        bundle = root / "bundle"
        export_bundle(bundle, store, latest.note, [key.verifier()])
        later = party_settings(
            "JPN", (2021, 2030), "trajectory", name="Japan", previous=jpn["entry_id"]
        )
        _append(store, [later])
        sign_checkpoint(store, key)
    finally:
        store.close()
    vkey = root / "log.vkey"
    vkey.write_text(key.verifier().to_vkey() + "\n", encoding="utf-8")
    yield World(pipe, str(pipe.world.config_path), vkey, year, first, bundle)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_summary_from_the_bundle_is_the_one_at_its_checkpoint(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    config = ("--config", world.config)
    bundle = ("--bundle", str(world.bundle), "--vkey", str(world.vkey))
    ask = ("summary", "--party", "JPN", "--json", "--check", "--dry-run")
    code, out, _ = run(capsys, *ask, *config, "--size", str(world.first))
    assert code == 0, out
    at_first = json.loads(out)
    code, out, err = run(capsys, *ask, *bundle)
    assert code == 0, err
    assert json.loads(out) == at_first
    assert at_first["settings"] == "log"
    assert at_first["checkpoint"]["size"] == world.first
    assert {y["ca_method"] for y in at_first["years"]} == {"budget"}  # the log's, not config's
    # the later checkpoint holds Japan's newer settings
    code, out, _ = run(capsys, *ask, *config)
    latest = json.loads(out)
    assert latest["checkpoint"]["size"] == world.first + 1
    assert {y["ca_method"] for y in latest["years"]} == {"trajectory"}
    assert latest["checkpoint"]["root"] != at_first["checkpoint"]["root"]
    # Mongolia's settings are in the config only: fine with it, refused from the bundle
    code, out, _ = run(capsys, "summary", "--party", "MNG", "--json", *config)
    assert code == 0 and json.loads(out)["settings"] == "config"
    code, _, err = run(capsys, "summary", "--party", "MNG", *bundle)
    assert code == 2 and "RPT-SETTINGS" in err


def test_the_aef_from_the_bundle_is_the_one_at_its_checkpoint(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def export(where: Path, *source: str) -> dict[str, Any]:
        code, out, err = run(
            capsys,
            "aef",
            "export",
            *source,
            "--party",
            "JPN",
            "--year",
            str(world.year),
            "--format",
            "json",
            "--out",
            str(where),
            "--date",
            "31/03/2027",
        )
        assert code == 0, err
        assert f"size {world.first} root " in out
        (name,) = [p for p in where.iterdir()]
        doc: dict[str, Any] = json.loads(name.read_text(encoding="utf-8"))
        return doc

    stored = export(tmp_path / "s", "--config", world.config, "--size", str(world.first))
    bundled = export(tmp_path / "b", "--bundle", str(world.bundle), "--vkey", str(world.vkey))
    assert bundled == stored
    assert bundled["checkpoint"]["size"] == world.first and bundled["settings"] == "log"
    assert bundled["tables"]["Actions"]


def test_sizes_that_are_not_a_published_checkpoint(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "summary", "--party", "JPN", "--config", world.config, "--size", "3")
    assert code == 2 and "RPT-SIZE" in err
    bundle = ("--bundle", str(world.bundle))
    code, _, err = run(capsys, "summary", "--party", "JPN", *bundle, "--size", "3")
    assert code == 2 and "RPT-SIZE" in err
    code, _, err = run(capsys, "summary", "--party", "JPN", *bundle)
    assert code == 0 and "no key pinned" in err  # as a6gw verify warns


def test_usage_errors(world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(
        capsys, "summary", "--party", "JPN", "--config", world.config, "--vkey", str(world.vkey)
    )
    assert code == 2 and "--vkey goes with --bundle" in err
    code, _, err = run(
        capsys, "summary", "--party", "JPN", "--bundle", str(world.bundle), "--check"
    )
    assert code == 2 and "--dry-run" in err
    code, _, err = run(capsys, "summary", "--party", "KHM", "--config", world.config)
    assert code == 2 and "no party 'KHM'" in err
    with pytest.raises(SystemExit):  # argparse: --config and --bundle exclude each other
        main(["summary", "--party", "JPN", "--config", world.config, "--bundle", "x"])
    capsys.readouterr()
    code, _, err = run(capsys, "summary", "--party", "JPN", "--bundle", str(tmp_path))
    assert code == 2 and "RPT-BUNDLE" in err
