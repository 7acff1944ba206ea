"""``python -m schemas.vectors [--check]``: write the signing test vectors, or check them."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from schemas.vectors import VECTORS_DIR
from schemas.vectors.cosignatures import cosignatures_document
from schemas.vectors.envelopes import envelopes_document
from schemas.vectors.http import http_document
from schemas.vectors.jcs import jcs_document
from schemas.vectors.keys import keys_document
from schemas.vectors.log import log_document

FILES: dict[str, Callable[[], dict[str, Any]]] = {
    "keys.json": keys_document,
    "envelopes.json": envelopes_document,
    "http-signatures.json": http_document,
    "log.json": log_document,
    "jcs.json": jcs_document,
    "cosignatures.json": cosignatures_document,
}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m schemas.vectors",
        description="Write the signing test vectors (TEST-ONLY keys) into schemas/vectors/: "
        + ", ".join(FILES)
        + ". See schemas/vectors/README.md.",
    )
    ap.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is missing or stale"
    )
    args = ap.parse_args(argv)
    stale = []
    for name, build in FILES.items():
        path = VECTORS_DIR / name
        text = render(build())
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(
            f"stale signing vectors: {', '.join(stale)} (run: python -m schemas.vectors)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
