"""What a config check found: each problem with its code, the file it is about and a hint.

A check never stops at the first problem: every part adds what it finds to one
:class:`Report`, and ``a6gw config check`` (or a process refusing to start) lists them all.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding. ``file`` is the path (or ``$VARIABLE``) it is about, ``code`` one of
    :mod:`gateway.codes`; a warning does not stop a process from starting."""

    code: str
    file: str
    message: str
    hint: str = ""
    severity: Severity = "error"

    def text(self) -> str:
        hint = f"\n    hint: {self.hint}" if self.hint else ""
        return f"{self.severity}: [{self.code}] {self.file}: {self.message}{hint}"


@dataclass
class Report:
    """Every problem found, in the order found, and what was checked without one."""

    config: str
    problems: list[Problem] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def error(self, code: str, file: object, message: str, hint: str = "") -> None:
        self.problems.append(Problem(code, str(file), message, hint))

    def warn(self, code: str, file: object, message: str, hint: str = "") -> None:
        self.problems.append(Problem(code, str(file), message, hint, "warning"))

    def ok(self, what: str) -> None:
        self.checked.append(what)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "ok": not self.errors,
            "problems": [asdict(p) for p in self.problems],
            "checked": list(self.checked),
        }

    def text(self) -> str:
        lines = [p.text() for p in self.problems]
        n, w = len(self.errors), len(self.warnings)
        verdict = "OK" if not n else f"{n} problem{'s' if n != 1 else ''}"
        warned = f"{w} warning{'s' if w != 1 else ''}"
        lines.append(f"{verdict}: {self.config} ({len(self.checked)} checks passed, {warned})")
        return "\n".join(lines)
