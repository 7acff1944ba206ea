"""Write the checked-in OpenAPI documents of the HTTPS APIs from the route table.

``python -m gateway.api.gen`` rewrites ``schemas/openapi/``; ``python -m gateway.api.gen
--check`` exits 1 when a checked-in document is stale or missing. The event schemas have
their own generator below the API (``python -m schemas.gen``); ``make schemas`` and
``a6gw schemas`` run both.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gateway.api.openapi import openapi
from schemas.gen import run, stale_in, write_in

__all__ = ["OPENAPI_DIR", "main", "render_openapi", "stale", "write"]

OPENAPI_DIR = Path(__file__).resolve().parents[2] / "schemas" / "openapi"
PATTERN = "*.openapi.json"


def render_openapi() -> dict[str, str]:
    """Return ``{file name: JSON text}`` for every HTTPS API's OpenAPI document."""
    return {"audit-api.openapi.json": json.dumps(openapi(), indent=2, sort_keys=True) + "\n"}


def stale() -> list[str]:
    """Every OpenAPI document that is stale, missing or extra."""
    return stale_in(OPENAPI_DIR, PATTERN, render_openapi())


def write() -> int:
    """Rewrite every OpenAPI document; returns how many there are."""
    return write_in(OPENAPI_DIR, PATTERN, render_openapi())


def main(argv: list[str] | None = None) -> int:
    return run(
        argv,
        prog="gateway.api.gen",
        doc=__doc__,
        what="OpenAPI",
        directory=OPENAPI_DIR,
        pattern=PATTERN,
        render=render_openapi,
    )


if __name__ == "__main__":
    sys.exit(main())
