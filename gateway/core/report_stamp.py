"""What a report is computed at: a published checkpoint of the log, and the settings' source.

A structured summary or an AEF counts only the entries ``[0, size)`` of the tree a signed
checkpoint commits to, so an auditor can tie it to that checkpoint (its origin, tree size
and root hash) and recompute it from an audit bundle cut there. ``settings`` says where the
Party's NDC period and corresponding-adjustment method came from: ``log`` (its last
``party-settings`` entry below ``size``, :mod:`gateway.core.settings_log`) or ``config``
(a log written before the gateway recorded settings; never for a bundle).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Source", "Stamp"]

Source = Literal["log", "config"]


@dataclass(frozen=True)
class Stamp:
    """The checkpoint a report was computed at (``root``: hex) and its settings' source."""

    origin: str
    size: int
    root: str
    settings: Source = "log"

    def checkpoint(self) -> dict[str, Any]:
        """``{"origin", "size", "root"}``, as every JSON report carries it."""
        return {"origin": self.origin, "size": self.size, "root": self.root}

    def to_dict(self) -> dict[str, Any]:
        """The members a JSON report adds: ``checkpoint`` and ``settings``."""
        return {"checkpoint": self.checkpoint(), "settings": self.settings}

    def lines(self) -> list[tuple[str, str | int]]:
        """(name, value) pairs, for a manifest or a metadata sheet."""
        return [
            ("checkpoint origin", self.origin),
            ("checkpoint size", self.size),
            ("checkpoint root", self.root),
            ("settings", self.settings),
        ]

    def text(self) -> str:
        """One line for a human: ``at checkpoint <origin> size N root <hex> (settings: ...)``."""
        return (
            f"at checkpoint {self.origin} size {self.size} root {self.root} "
            f"(settings from the {self.settings})"
        )
