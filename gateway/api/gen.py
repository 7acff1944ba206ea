"""Write the checked-in OpenAPI documents of the HTTPS APIs from the route table.

``python -m gateway.api.gen`` rewrites ``schemas/openapi/``; ``python -m gateway.api.gen
--check`` exits 1 when a checked-in document is stale or missing. The event schemas have
their own generator below the API (``python -m schemas.gen``); ``make schemas`` and
``a6gw schemas`` run both.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gateway.api.openapi import openapi
from schemas.gen import stale_in

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
    want = render_openapi()
    OPENAPI_DIR.mkdir(parents=True, exist_ok=True)
    for p in OPENAPI_DIR.glob(PATTERN):
        if p.name not in want:
            p.unlink()
    for name, text in want.items():
        (OPENAPI_DIR / name).write_text(text, encoding="utf-8")
    return len(want)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.api.gen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if checked-in files are stale")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale()
        if bad:
            print("stale OpenAPI files: " + ", ".join(bad), file=sys.stderr)
            print("run: python -m gateway.api.gen", file=sys.stderr)
            return 1
        print("OpenAPI documents are current")
        return 0
    print(f"wrote {write()} files to {OPENAPI_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
