"""An AEF submission as files: CSV (one per table), one JSON document, or one XLSX workbook.

Pure: each writer returns ``{file name: bytes}``. Every file has the exact V2 field names as
its header (:data:`gateway.core.aef_vocab.FIELDS`, the CARP-populated ones left out).

- CSV: UTF-8, RFC 4180 (the ``csv`` module's minimal quoting, CRLF line ends); an empty
  field is an empty string.
- JSON: ``{"party", "reported_year", "version", "tables": {table: [row objects]}}``, each
  row keyed by field name in table order; an empty field is ``null``.
- XLSX: a minimal SpreadsheetML package written with ``zipfile`` (content types, package
  and workbook relationships, workbook, styles, one worksheet per table), inline strings and
  numbers, the header row bold; an empty field is an absent cell. An integer of more than
  15 digits is written as text: a spreadsheet number keeps only 15 significant digits, and
  serials may have 18. The package is byte-for-byte reproducible (fixed timestamps).

With a :class:`~gateway.core.report_stamp.Stamp` (the checkpoint the AEF was computed at),
each format carries it: JSON adds ``checkpoint: {origin, size, root}`` and ``settings``; CSV
adds a manifest file ``<stem>-manifest.json`` (the stamp and the SHA-256 of each CSV file);
XLSX adds a last sheet ``Checkpoint`` with one (name, value) row per line of the stamp.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from gateway.core.aef import Aef, Cell, Row
from gateway.core.aef_vocab import FIELDS, TABLES, UNWRITABLE
from gateway.core.report_stamp import Stamp
from gateway.errors import AefError

FORMATS = ("csv", "json", "xlsx")
#: Worksheet names (at most 31 characters, none of ``[]:*?/\``).
SHEETS = {t: f"Table {n} {t}" for n, t in enumerate(TABLES, start=1)}
#: The metadata sheet of a stamped workbook (after the tables).
STAMP_SHEET = "Checkpoint"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def stem(aef: Aef) -> str:
    return f"aef-{aef.party}-{aef.reported_year}-v{aef.version}"


def to_csv(aef: Aef, stamp: Stamp | None = None) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for n, table in enumerate(TABLES, start=1):
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(FIELDS[table])
        for row in aef.tables[table]:
            writer.writerow(["" if row[f] is None else row[f] for f in FIELDS[table]])
        name = f"{stem(aef)}-table{n}-{table.lower().replace(' ', '-')}.csv"
        out[name] = buf.getvalue().encode("utf-8")
    if stamp is not None:
        files = {n: hashlib.sha256(data).hexdigest() for n, data in out.items()}
        manifest = {**stamp.to_dict(), "files": files}
        text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        out[f"{stem(aef)}-manifest.json"] = text.encode("utf-8")
    return out


def document(aef: Aef, stamp: Stamp | None = None) -> dict[str, object]:
    """The JSON document of a submission (rows keyed by field name, in field order)."""
    doc: dict[str, object] = {
        "party": aef.party,
        "reported_year": aef.reported_year,
        "version": aef.version,
        "tables": {t: [{f: row[f] for f in FIELDS[t]} for row in aef.tables[t]] for t in TABLES},
    }
    return doc if stamp is None else doc | stamp.to_dict()


def to_json(aef: Aef, stamp: Stamp | None = None) -> dict[str, bytes]:
    text = json.dumps(document(aef, stamp), indent=2, ensure_ascii=False)
    return {f"{stem(aef)}.json": (text + "\n").encode("utf-8")}


# ---- XLSX ---------------------------------------------------------------------------------


def column(n: int) -> str:
    """The letters of the ``n``-th column (0-based): A, ..., Z, AA, ..."""
    letters = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def _cell(ref: str, value: Cell, style: int = 0) -> str:
    if value is None:
        return ""
    s = f' s="{style}"' if style else ""
    if isinstance(value, int) and len(str(abs(value))) <= 15:
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    text = str(value)
    if _XML_BAD.search(text):
        raise AefError(f"{text!r} has a character XML cannot carry", code=UNWRITABLE)
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def sheet_xml(fields: Sequence[str], rows: Sequence[Row]) -> str:
    lines = [
        f'<row r="1">{"".join(_cell(f"{column(i)}1", f, 1) for i, f in enumerate(fields))}</row>'
    ]
    for r, row in enumerate(rows, start=2):
        cells = "".join(_cell(f"{column(i)}{r}", row[f]) for i, f in enumerate(fields))
        lines.append(f'<row r="{r}">{cells}</row>')
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{_MAIN}"><sheetData>{"".join(lines)}</sheetData></worksheet>'
    )


def _sheets(aef: Aef, stamp: Stamp | None) -> list[tuple[str, str]]:
    """(sheet name, worksheet XML) of each sheet, in order."""
    out = [(SHEETS[t], sheet_xml(FIELDS[t], aef.tables[t])) for t in TABLES]
    if stamp is not None:
        rows: list[Row] = [{"name": k, "value": v} for k, v in stamp.lines()]
        out.append((STAMP_SHEET, sheet_xml(("name", "value"), rows)))
    return out


def _parts(aef: Aef, stamp: Stamp | None = None) -> list[tuple[str, str]]:
    named = _sheets(aef, stamp)
    n = len(named)
    sheets = [f"xl/worksheets/sheet{i}.xml" for i in range(1, n + 1)]
    overrides = "".join(
        f'<Override PartName="/{p}" ContentType="{_CT}.worksheet+xml"/>' for p in sheets
    )
    types = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
        f"{overrides}</Types>"
    )
    rels = (
        f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    entries = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
        for i, (name, _) in enumerate(named, start=1)
    )
    workbook = f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{entries}</sheets></workbook>'
    book_rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, n + 1)
    )
    book_rels = (
        f'<Relationships xmlns="{_PKG_REL}">{book_rels}'
        f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        "</Relationships>"
    )
    font = '<sz val="11"/><name val="Calibri"/>'
    styles = (
        f'<styleSheet xmlns="{_MAIN}">'
        f'<fonts count="2"><font>{font}</font><font><b/>{font}</font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        '</cellStyleXfs><cellXfs count="2">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
        "</cellStyles></styleSheet>"
    )
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    parts = [
        ("[Content_Types].xml", head + types),
        ("_rels/.rels", head + rels),
        ("xl/workbook.xml", head + workbook),
        ("xl/_rels/workbook.xml.rels", head + book_rels),
        ("xl/styles.xml", head + styles),
    ]
    for path, (_, xml) in zip(sheets, named, strict=True):
        parts.append((path, xml))
    return parts


def to_xlsx(aef: Aef, stamp: Stamp | None = None) -> dict[str, bytes]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, text in _parts(aef, stamp):
            info = zipfile.ZipInfo(path, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.encode("utf-8"))
    return {f"{stem(aef)}.xlsx": buf.getvalue()}


def write(aef: Aef, fmt: str, stamp: Stamp | None = None) -> dict[str, bytes]:
    """The files of ``aef`` in format ``fmt`` (``csv``, ``json`` or ``xlsx``), each carrying
    ``stamp`` if given (see the module docstring)."""
    writers = {"csv": to_csv, "json": to_json, "xlsx": to_xlsx}
    if fmt not in writers:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return writers[fmt](aef, stamp)
