"""Read the signing vectors (schemas/vectors/*.json) for the tests."""

from __future__ import annotations

import json
from typing import Any

from schemas.vectors import VECTORS_DIR


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((VECTORS_DIR / name).read_text(encoding="utf-8"))
    return doc


def ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [str(v["name"]) for v in vectors]
