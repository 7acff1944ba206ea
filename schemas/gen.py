"""Generate the checked-in JSON Schema files of the events from the models.

``python -m schemas.gen`` rewrites ``schemas/json/``; ``python -m schemas.gen --check`` exits
1 when a checked-in file is stale or missing (CI runs the same comparison as a test). The
OpenAPI documents in ``schemas/openapi/`` come from the API's route table, above this
package: ``python -m gateway.api.gen`` writes them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from schemas.entries import AUDIT_ENTRY
from schemas.envelope import Envelope
from schemas.events import EVENT_TYPES
from schemas.records import (
    CHECKPOINT_REQUEST_SCHEMA,
    DEAD_LETTER,
    DEAD_LETTER_SCHEMA,
    DISCREPANCY,
    DISCREPANCY_SCHEMA,
    HOLDINGS_PAGE_SCHEMA,
    LEDGER_RECORD_SCHEMA,
    NOTICE,
    NOTICE_SCHEMA,
    CheckpointRequest,
    HoldingsPage,
    LedgerRecord,
    urn,
)

SCHEMA_DIR = Path(__file__).resolve().parent / "json"
PATTERN = "*.schema.json"


def render() -> dict[str, str]:
    """Return ``{file name: JSON text}`` for the envelope, every event type, the audit entry
    and the gateway's own records, each with its absolute ``$id`` (:func:`urn`): an event
    type ``a6gw.<name>.v<major>``'s data is ``urn:a6gw:schema:<name>:<major>`` (file names
    stay ``<type>.schema.json``)."""
    docs: list[tuple[str, str, dict[str, object]]] = [
        ("envelope", urn("envelope"), Envelope.model_json_schema())
    ]
    for et in EVENT_TYPES.values():
        schema = et.model.model_json_schema()
        schema["$comment"] = (
            f"CloudEvents type {et.type}; kind: {et.kind}; signed by: " + ", ".join(et.roles)
        )
        docs.append((et.type, urn(et.name, et.major), schema))
    entries = AUDIT_ENTRY.json_schema()
    entries["$comment"] = "An audit entry: the JSON document of one leaf of the audit log"
    docs.append(("audit-entry", urn("audit-entry"), entries))
    return _files(docs) | records()


def records() -> dict[str, str]:
    """The gateway's own records (:mod:`schemas.records`)."""
    dead = DEAD_LETTER.json_schema()
    dead["$comment"] = "A dead letter: the JSON value of one record of a6.dlq"
    notice = NOTICE.json_schema()
    notice["$comment"] = "The data of a signed a6gw.notice.v1 event on a6.out.<registryId>, by kind"
    notice["title"] = "Notice"
    found = DISCREPANCY.json_schema()
    found["$comment"] = "A discrepancy: the JSON value of one record of a6.discrepancies"
    found["title"] = "Discrepancy"
    ledger = LedgerRecord.model_json_schema()
    ledger["$comment"] = "The JSON value of one record of a6.ledger (internal, for auditors)"
    request = CheckpointRequest.model_json_schema()
    request["$comment"] = "The value of a record keyed a6gw.checkpoint-request on a6.audit.log"
    page = HoldingsPage.model_json_schema()
    page["$comment"] = "One page of an HTTPS partner's GET /v1/holdings (reconciliation)"
    return _files(
        [
            (name, urn(name), schema)
            for name, schema in (
                (DEAD_LETTER_SCHEMA, dead),
                (NOTICE_SCHEMA, notice),
                (DISCREPANCY_SCHEMA, found),
                (LEDGER_RECORD_SCHEMA, ledger),
                (CHECKPOINT_REQUEST_SCHEMA, request),
                (HOLDINGS_PAGE_SCHEMA, page),
            )
        ]
    )


def _files(docs: list[tuple[str, str, dict[str, object]]]) -> dict[str, str]:
    """``{name}.schema.json`` -> the schema's JSON text, with its ``$schema`` and ``$id``."""
    files: dict[str, str] = {}
    for name, sid, schema in docs:
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = sid
        files[f"{name}.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return files


def stale_in(directory: Path, pattern: str, want: dict[str, str]) -> list[str]:
    """Names of files that differ from, are missing from, or are extra in ``directory``."""
    have = {p.name for p in directory.glob(pattern)} if directory.exists() else set()
    out = [
        n
        for n, text in want.items()
        if not (directory / n).exists() or (directory / n).read_text(encoding="utf-8") != text
    ]
    return sorted(out + sorted(have - set(want)))


def write_in(directory: Path, pattern: str, want: dict[str, str]) -> int:
    """Make ``directory``'s files matching ``pattern`` exactly ``want``; returns how many."""
    directory.mkdir(parents=True, exist_ok=True)
    for p in directory.glob(pattern):
        if p.name not in want:
            p.unlink()
    for name, text in want.items():
        (directory / name).write_text(text, encoding="utf-8")
    return len(want)


def run(
    argv: list[str] | None,
    *,
    prog: str,
    doc: str | None,
    what: str,
    directory: Path,
    pattern: str,
    render: Callable[[], dict[str, str]],
) -> int:
    """A generator's command line: rewrite the files, or ``--check`` them (exit 1 if stale)."""
    parser = argparse.ArgumentParser(prog=f"python -m {prog}", description=doc)
    parser.add_argument("--check", action="store_true", help="fail if checked-in files are stale")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale_in(directory, pattern, render())
        if bad:
            print(f"stale {what} files: " + ", ".join(bad), file=sys.stderr)
            print(f"run: python -m {prog}", file=sys.stderr)
            return 1
        print(f"{what} files are current")
        return 0
    print(f"wrote {write_in(directory, pattern, render())} files to {directory}")
    return 0


def stale() -> list[str]:
    """Every generated file that is stale, missing or extra."""
    return stale_in(SCHEMA_DIR, PATTERN, render())


def write() -> int:
    """Rewrite every generated file; returns how many there are."""
    return write_in(SCHEMA_DIR, PATTERN, render())


def main(argv: list[str] | None = None) -> int:
    return run(
        argv,
        prog="schemas.gen",
        doc=__doc__,
        what="schema",
        directory=SCHEMA_DIR,
        pattern=PATTERN,
        render=render,
    )


if __name__ == "__main__":
    sys.exit(main())
