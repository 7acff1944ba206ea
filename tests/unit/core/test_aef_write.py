"""The AEF writers: CSV files, the JSON document, and an XLSX workbook read back with
zipfile and ElementTree and compared with the JSON rows."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from gateway.core import aef_vocab as v
from gateway.core.aef_write import SHEETS, column, document, to_csv, to_json, to_xlsx, write
from gateway.errors import AefError
from tests.unit.aeflog import aef_of, the_log

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _as_text(value: Any) -> str:
    return "" if value is None else str(value)


def test_csv_files() -> None:
    aef = aef_of(the_log(), "JPN", 2026)
    files = to_csv(aef)
    assert list(files) == [
        "aef-JPN-2026-v1.0-table1-submission.csv",
        "aef-JPN-2026-v1.0-table2-authorizations.csv",
        "aef-JPN-2026-v1.0-table3-actions.csv",
        "aef-JPN-2026-v1.0-table4-holdings.csv",
        "aef-JPN-2026-v1.0-table5-authorized-entities.csv",
    ]
    for (name, data), table in zip(files.items(), v.TABLES, strict=True):
        text = data.decode("utf-8")
        assert text.endswith("\r\n"), name
        got = list(csv.reader(io.StringIO(text, newline="")))
        assert tuple(got[0]) == v.FIELDS[table]
        want = [[_as_text(r[f]) for f in v.FIELDS[table]] for r in aef.tables[table]]
        assert got[1:] == want
    entities = files["aef-JPN-2026-v1.0-table5-authorized-entities.csv"].decode()
    assert '"Acme, ""Carbon"" Ltd"' in entities  # RFC 4180 quoting


def test_json_document() -> None:
    aef = aef_of(the_log(), "JPN", 2026)
    ((name, data),) = to_json(aef).items()
    assert name == "aef-JPN-2026-v1.0.json"
    doc = json.loads(data)
    assert (doc["party"], doc["reported_year"], doc["version"]) == ("JPN", 2026, "1.0")
    assert list(doc["tables"]) == list(v.TABLES)
    for table in v.TABLES:
        assert [list(r) for r in doc["tables"][table]] == [
            list(v.FIELDS[table]) for _ in aef.tables[table]
        ]
        assert doc["tables"][table] == [dict(r) for r in aef.tables[table]]
    assert doc == json.loads(json.dumps(document(aef)))
    assert write(aef, "json") == to_json(aef)
    with pytest.raises(ValueError, match="unknown format"):
        write(aef, "ods")


def _xml(data: bytes) -> ET.Element:
    return ET.fromstring(data)  # noqa: S314 (the bytes this test's writer produced)


def read_xlsx(data: bytes) -> tuple[dict[str, str], dict[str, list[list[Any]]]]:
    """Content types by part, and each sheet's rows as cell values (None for no cell)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        types = _xml(zf.read("[Content_Types].xml"))
        ct = {o.get("PartName", ""): o.get("ContentType", "") for o in types}
        _xml(zf.read("_rels/.rels"))
        _xml(zf.read("xl/styles.xml"))
        rels = _xml(zf.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels}
        book = _xml(zf.read("xl/workbook.xml"))
        rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
        sheets: dict[str, list[list[Any]]] = {}
        for sheet in book.iterfind("m:sheets/m:sheet", NS):
            xml = _xml(zf.read(f"xl/{targets[sheet.get(rid)]}"))
            rows = []
            for r in xml.iterfind("m:sheetData/m:row", NS):
                values: dict[str, Any] = {}
                for c in r:
                    ref = c.get("r", "")
                    col = ref.rstrip("0123456789")
                    assert ref == f"{col}{r.get('r')}"
                    if c.get("t") == "inlineStr":
                        values[col] = c.findtext("m:is/m:t", namespaces=NS)
                    else:
                        values[col] = int(c.findtext("m:v", namespaces=NS) or "")
                rows.append(values)
            sheets[sheet.get("name", "")] = [
                [vals.get(column(i)) for i in range(max(len(rows[0]), 1))] for vals in rows
            ]
    return ct, sheets


def test_xlsx_workbook_reads_back_as_the_json_rows() -> None:
    log = the_log()
    # a serial of 18 digits: written as text, a spreadsheet number would round it
    big = 10**17 + 1
    log[2]["a6"][0].update(first=str(big), last=str(big + 29), quantity="30")
    aef = aef_of(log, "JPN", 2025)
    ((name, data),) = to_xlsx(aef).items()
    assert name == "aef-JPN-2025-v1.0.xlsx"
    assert data == to_xlsx(aef)[name]  # reproducible bytes
    ct, sheets = read_xlsx(data)
    main = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    assert ct["/xl/workbook.xml"] == f"{main}.sheet.main+xml"
    assert ct["/xl/styles.xml"] == f"{main}.styles+xml"
    for n in range(1, 6):
        assert ct[f"/xl/worksheets/sheet{n}.xml"] == f"{main}.worksheet+xml"
    assert list(sheets) == [SHEETS[t] for t in v.TABLES]
    assert all(len(s) <= 31 for s in sheets)
    doc = json.loads(to_json(aef)[name.replace(".xlsx", ".json")])
    for table in v.TABLES:
        header, *rows = sheets[SHEETS[table]]
        assert tuple(header) == v.FIELDS[table]
        want = [list(r.values()) for r in doc["tables"][table]]
        assert rows == [
            [str(x) if isinstance(x, int) and x > 10**15 else x for x in r] for r in want
        ]
    use = sheets[SHEETS[v.ACTIONS]][2]
    assert use[v.FIELDS[v.ACTIONS].index("First ID")] == str(big)


def test_xlsx_refuses_characters_xml_cannot_carry() -> None:
    log = the_log()
    log[6]["data"]["conditions"] = "bell\x07"
    aef = aef_of(log, "JPN", 2026)
    with pytest.raises(AefError) as err:
        to_xlsx(aef)
    assert err.value.code == "A6-AEF-006"


def test_column_letters() -> None:
    assert [column(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AB",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]
