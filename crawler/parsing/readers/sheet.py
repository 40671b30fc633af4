"""XLSX/XLS: the tables of each visible sheet; merged ranges leave None where they cover.

openpyxl loads XLSX in its normal mode: read-only mode does not report merged ranges, and the
package is size- and entity-checked first. XLS goes through xlrd with formatting info (which is
where it keeps merged ranges).
"""

from __future__ import annotations

import io
import math
import zipfile
from datetime import date, datetime, time

from crawler.model import Finding, ParseError
from crawler.parsing.document import Document, Table
from crawler.parsing.readers.docx import check_package

Cell = str | None


def number_text(value: float | int) -> str:
    """A number as a person would print it: 3.0 → "3", 95399.67 → "95399.67", no exponent."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return ""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    if "e" in text or "E" in text:
        text = f"{value:.12f}".rstrip("0").rstrip(".")
    return text


def _value_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return number_text(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return f"{value.year}年{value.month}月{value.day}日"
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value)


def regions(rows: list[list[Cell]]) -> list[Table]:
    """The tables of a sheet: runs of rows between empty rows, each cut to the columns it prints.

    A sheet's used range is one rectangle, so a narrow table under a wide one would otherwise carry
    trailing blank cells that read as blank figures; empty formatted margins are not cells either.
    """
    tables: list[Table] = []
    run: list[list[Cell]] = []
    for row in [*rows, []]:
        if any(row):
            run.append(row)
            continue
        used = [i for r in run for i, c in enumerate(r) if c]
        if used:
            lo, hi = min(used), max(used)
            tables.append(Table([r[lo : hi + 1] + [""] * max(0, hi + 1 - len(r)) for r in run]))
        run = []
    return tables


def _open_xlsx(data: bytes, data_only: bool):
    import openpyxl

    try:
        return openpyxl.load_workbook(io.BytesIO(data), data_only=data_only, read_only=False)
    except Exception as e:  # openpyxl raises many types for a damaged package
        raise ParseError("unreadable", f"the XLSX cannot be opened ({type(e).__name__}: {e})") from e


def _has_formulas(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheets = (zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml"))
        return any(b"<f>" in xml or b"<f " in xml for xml in sheets)


def _xlsx_tables(data: bytes) -> tuple[list[Table], list[Finding]]:
    """Tables of the visible sheets, and a finding for formulas saved without their results
    (files written by generators rather than Excel): those cells read blank, never computed here."""
    check_package(data, "XLSX")
    from openpyxl.cell.cell import MergedCell

    book = _open_xlsx(data, data_only=True)
    formulas = _open_xlsx(data, data_only=False) if _has_formulas(data) else None
    tables: list[Table] = []
    uncached = 0
    for ws in book.worksheets:
        if ws.sheet_state != "visible":
            continue
        rows = [[None if isinstance(c, MergedCell) else _value_text(c.value) for c in row] for row in ws.iter_rows()]
        tables += regions(rows)
        if formulas is not None:
            uncached += sum(
                1
                for row in formulas[ws.title].iter_rows()
                for c in row
                if isinstance(c.value, str) and c.value.startswith("=") and ws[c.coordinate].value is None
            )
    findings = []
    if uncached:
        findings.append(
            Finding(
                "parse.uncached_formula",
                "info",
                "warning",
                f"{uncached}个单元格是未保存计算结果的公式，按空白处理",
                data={"count": uncached},
            )
        )
    return tables, findings


def _xls_tables(data: bytes) -> list[Table]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True)
    except xlrd.XLRDError as e:
        if "encrypt" in str(e).lower():
            raise ParseError("encrypted", "the XLS workbook is encrypted (password required)") from e
        raise ParseError("unreadable", f"the XLS cannot be opened ({e})") from e
    except Exception as e:  # xlrd's compound-document reader raises assorted errors on damage
        raise ParseError("unreadable", f"the XLS cannot be opened ({type(e).__name__}: {e})") from e
    tables = []
    for sheet in book.sheets():
        if sheet.visibility != 0:
            continue
        covered = {
            (r, c)
            for rlo, rhi, clo, chi in sheet.merged_cells
            for r in range(rlo, rhi)
            for c in range(clo, chi)
            if (r, c) != (rlo, clo)
        }
        rows: list[list[Cell]] = []
        for r in range(sheet.nrows):
            row: list[Cell] = []
            for c in range(sheet.ncols):
                if (r, c) in covered:
                    row.append(None)
                    continue
                cell = sheet.cell(r, c)
                if cell.ctype == xlrd.XL_CELL_DATE:
                    row.append(_value_text(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)))
                elif cell.ctype == xlrd.XL_CELL_NUMBER:
                    row.append(number_text(cell.value))
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    row.append(number_text(bool(cell.value)))
                elif cell.ctype == xlrd.XL_CELL_TEXT:
                    row.append(cell.value)
                else:  # empty, blank, error
                    row.append("")
            rows.append(row)
        tables += regions(rows)
    return tables


def read_sheet(data: bytes, fmt: str) -> Document:
    tables, findings = _xlsx_tables(data) if fmt == "xlsx" else (_xls_tables(data), [])
    if not tables:
        raise ParseError("no_text", f"the {fmt.upper()} workbook has no cells with content")
    return Document(list(tables), fmt, extra_findings=findings)
