"""A run script's own working folder goes after a run that passed, and stays after one that
failed or when it was given."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.workdirs import finish


def _folder(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    (folder / "kafka").mkdir(parents=True)
    (folder / "worker.log").write_text("log\n")
    return folder


def test_its_own_folder_goes_after_a_pass(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "own")
    assert finish(folder, own=True, code=0) == 0
    assert not folder.exists()


def test_its_own_folder_stays_after_a_failure_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, "own")
    assert finish(folder, own=True, code=1) == 1
    assert (folder / "worker.log").exists()
    assert str(folder) in capsys.readouterr().err


def test_a_given_folder_always_stays(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "given")
    assert finish(folder, own=False, code=0) == 0
    assert (folder / "worker.log").exists()
