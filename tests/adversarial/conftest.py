"""The adversarial suite's figures, printed as one line at the end of the session."""

from __future__ import annotations

from typing import Any

import pytest

from tests.adversarial.counting import Figures

_REPORT = pytest.StashKey[dict[str, Any]]()


@pytest.fixture(scope="session")
def adversarial_report(pytestconfig: pytest.Config) -> dict[str, Any]:
    """``{"seed": ..., "figures": Figures}``: what the suite's categories add up to."""
    return pytestconfig.stash.setdefault(_REPORT, {"seed": None, "figures": Figures()})


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    report = terminalreporter.config.stash.get(_REPORT, None)
    if report is not None:
        title = f"adversarial suite (seed {report['seed']})"
        terminalreporter.write_line(report["figures"].render(title))
