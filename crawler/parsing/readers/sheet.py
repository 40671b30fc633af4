"""XLSX/XLS: the tables of each visible sheet; merged ranges leave None where they cover.

openpyxl loads XLSX in its normal mode: read-only mode does not report merged ranges, and the
package is size- and entity-checked first. XLS goes through xlrd with formatting info (which is
where it keeps merged ranges).

Both libraries lay out more than the file holds: openpyxl makes an object for every cell a merged
range covers (A1:XFD1048576 is 17 billion of them), and a sheet is read as the rectangle up to its
last cell. Merged areas and sheet extents are charged to the grid budget before either happens.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from datetime import date, datetime, time

import openpyxl
import xlrd
from openpyxl.cell.cell import MergedCell
from openpyxl.utils.cell import range_boundaries

from crawler.model import Finding, ParseError
from crawler.parsing import limits
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
    try:
        return openpyxl.load_workbook(io.BytesIO(data), data_only=data_only, read_only=False)
    except Exception as e:  # openpyxl raises many types for a damaged package
        raise ParseError("unreadable", f"the XLSX cannot be opened ({type(e).__name__}: {e})") from e


def _has_formulas(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheets = (zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml"))
        return any(b"<f>" in xml or b"<f " in xml for xml in sheets)


_MERGE = re.compile(rb"""<(?:[\w.-]+:)?mergeCell\b[^>]*?\bref\s*=\s*["']([^"']{1,64})["']""")
_XLSX_ROWS, _XLSX_COLUMNS = 1 << 20, 1 << 14  # a reference without rows (A:C) or columns (1:3) means all


def _merged_area(ref: bytes) -> int:
    """Positions a merged range covers, as openpyxl reads the reference (open ends reach the sheet's edge)."""
    try:
        c0, r0, c1, r1 = range_boundaries(ref.decode("ascii"))
    except (ValueError, TypeError, UnicodeDecodeError):
        return 0  # openpyxl refuses it too
    cols = (c1 or _XLSX_COLUMNS) - (c0 or 1) + 1
    rows = (r1 or _XLSX_ROWS) - (r0 or 1) + 1
    return max(1, cols) * max(1, rows)


def _charge_merges(data: bytes, budget: limits.Budget) -> None:
    """Charge every merged range of every worksheet before openpyxl lays them out, reading the XML in
    chunks (a chunk is cut after its last complete tag, so no range is missed or counted twice)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            pending = b""
            with zf.open(name) as fh:
                while chunk := fh.read(1 << 20):
                    pending += chunk
                    cut = pending.rfind(b">") + 1
                    for m in _MERGE.finditer(pending, 0, cut):
                        budget.take(_merged_area(m[1]))
                    pending = pending[cut:]


def _xlsx_tables(data: bytes) -> tuple[list[Table], list[Finding]]:
    """Tables of the visible sheets, and a finding for formulas saved without their results
    (files written by generators rather than Excel): those cells read blank, never computed here."""
    check_package(data, "XLSX")
    budget = limits.Budget("XLSX")
    _charge_merges(data, budget)
    book = _open_xlsx(data, data_only=True)
    formulas = _open_xlsx(data, data_only=False) if _has_formulas(data) else None
    tables: list[Table] = []
    uncached = 0
    for ws in book.worksheets:
        if ws.sheet_state != "visible":
            continue
        budget.take(ws.max_row * ws.max_column)  # iter_rows makes every position up to the last cell
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
    try:
        # ragged rows: xlrd would otherwise pad every row to the widest, before any budget is charged
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, ragged_rows=True)
    except xlrd.XLRDError as e:
        if "encrypt" in str(e).lower():
            raise ParseError("encrypted", "the XLS workbook is encrypted (password required)") from e
        raise ParseError("unreadable", f"the XLS cannot be opened ({e})") from e
    except Exception as e:  # xlrd's compound-document reader raises assorted errors on damage
        raise ParseError("unreadable", f"the XLS cannot be opened ({type(e).__name__}: {e})") from e
    tables = []
    budget = limits.Budget("XLS")
    for sheet in book.sheets():
        if sheet.visibility != 0:
            continue
        budget.take(sheet.nrows * sheet.ncols)
        merged = [(rlo, min(rhi, sheet.nrows), clo, min(chi, sheet.ncols)) for rlo, rhi, clo, chi in sheet.merged_cells]
        for rlo, rhi, clo, chi in merged:
            budget.take(max(0, rhi - rlo) * max(0, chi - clo))
        covered = {
            (r, c)
            for rlo, rhi, clo, chi in merged
            for r in range(rlo, rhi)
            for c in range(clo, chi)
            if (r, c) != (rlo, clo)
        }
        rows: list[list[Cell]] = []
        for r in range(sheet.nrows):
            row: list[Cell] = []
            width = sheet.row_len(r)
            for c in range(sheet.ncols):
                if (r, c) in covered:
                    row.append(None)
                    continue
                if c >= width:  # past the row's last cell: what xlrd would have padded with
                    row.append("")
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
