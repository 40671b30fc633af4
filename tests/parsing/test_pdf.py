"""PDF reading: blank cells, labels one character per line, tables across pages, damaged
files (OCR of pages without a text layer: test_ocr.py).

The PDFs are made here: a report laid out like the national template is written as DOCX
(python-docx, merged cells) with figures from a seed's expected cells, and LibreOffice
prints it to PDF. Expected cells come from the seed, so every assertion is exact.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from support.shared import expected_for, seed_paths

from crawler import template as tpl
from crawler.model import ParseError
from crawler.parsing import build_report, parse_bytes
from crawler.parsing.document import Table
from crawler.parsing.readers.pdf import read_pdf
from crawler.parsing.tables import extract
from crawler.parsing.tokens import tokenize

# ---- a template report as DOCX -------------------------------------------------------------
Cell = tuple[str, int, int]  # text, colspan, rowspan


def _printed(value, kind: tpl.Kind) -> str:
    if value is None:
        return ""
    if kind == tpl.Kind.CHANGE and value:
        return f"增{value}" if value > 0 else f"减{-value}"
    return str(value)


def _active_rows(template: str, cells: dict) -> list[list[Cell]]:
    index = tpl.cell_index(template)
    rows: list[list[Cell]] = []
    block_seen = None
    for row, label, block, cols in tpl.ACTIVE_ROWS[template]:
        if (block, cols) != block_seen:
            block_seen = (block, cols)
            rows.append([(block, 4, 1)])
            heads = [tpl._ACTIVE_COLUMNS[c][0] for c in cols]
            if "amount" in cols and template == "2021":
                heads[-1] = "本年收费金额（单位：万元）"
            rows.append(
                [("信息内容", 1, 1)]
                + [(h, 1 if i < len(heads) - 1 else 4 - len(heads), 1) for i, h in enumerate(heads)]
            )
        keys = [f"active.{row}.{c}" for c in cols]
        vals = [_printed(cells.get(k), index[k].kind) for k in keys]
        rows.append([(label, 1, 1)] + [(v, 1 if i < len(vals) - 1 else 4 - len(vals), 1) for i, v in enumerate(vals)])
    return rows


def _application_rows(template: str, cells: dict) -> list[list[Cell]]:
    cols = [c for c, _ in tpl.APPLICANT_COLUMNS]

    def vals(row: str) -> list[Cell]:
        return [(_printed(cells.get(f"applications.{row}.{c}"), tpl.Kind.COUNT), 1, 1) for c in cols]

    rows: list[list[Cell]] = [
        [("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 3, 3), ("申请人情况", 7, 1)],
        [("自然人", 1, 2), ("法人或其他组织", 5, 1), ("总计", 1, 2)],
        [("商业企业", 1, 1), ("科研机构", 1, 1), ("社会公益组织", 1, 1), ("法律服务机构", 1, 1), ("其他", 1, 1)],
    ]
    labelled = tpl.application_rows(template)
    result = labelled[2:-1]
    rows.append([(labelled[0][1], 3, 1), *vals("new")])
    rows.append([(labelled[1][1], 3, 1), *vals("carried_over")])
    first = True
    i = 0
    while i < len(result):
        row, label = result[i]
        lead = [("三、本年度办理结果", 1, len(result))] if first else []
        first = False
        group, _, item = label.partition(" ")
        if not item:
            rows.append([*lead, (label, 2, 1), *vals(row)])
            i += 1
            continue
        members = [r for r in result[i:] if r[1].partition(" ")[0] == group]
        for k, (mrow, mlabel) in enumerate(members):
            head = [(group, 1, len(members))] if k == 0 else []
            rows.append([*(lead if k == 0 else []), *head, (mlabel.partition(" ")[2], 1, 1), *vals(mrow)])
        i += len(members)
    rows.append([(labelled[-1][1], 3, 1), *vals("carry_forward")])
    return rows


def _review_rows(cells: dict) -> list[list[Cell]]:
    heads = [label for _, label in tpl.REVIEW_COLUMNS]
    return [
        [("行政复议", 5, 1), ("行政诉讼", 10, 1)],
        [*((h, 1, 2) for h in heads), ("未经复议直接起诉", 5, 1), ("复议后起诉", 5, 1)],
        [(h, 1, 1) for h in heads * 2],
        [
            (_printed(cells.get(f"{g}.{c}"), tpl.Kind.COUNT), 1, 1)
            for g, _ in tpl.REVIEW_GROUPS
            for c, _ in tpl.REVIEW_COLUMNS
        ],
    ]


@dataclass(frozen=True)
class Layout:
    ruled: bool = True  # cell borders drawn
    label_cm: float = 1.6  # width of the 三、本年度办理结果 column; ~0.7 prints one character per line
    filler: int = 0  # paragraphs before the tables, to move page breaks
    centered: bool = True  # values vertically centred in their cells


def _add_table(doc, rows: list[list[Cell]], widths: list[float], layout: Layout) -> None:
    from docx.enum.table import WD_ALIGN_VERTICAL
    from docx.shared import Cm, Pt

    placed: list[tuple[int, int, Cell]] = []
    taken: set[tuple[int, int]] = set()
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            placed.append((r, c, cell))
            taken |= {(r + dr, c + dc) for dr in range(cell[2]) for dc in range(cell[1])}
            c += cell[1]
    ncols = max(c for _, c in taken) + 1
    table = doc.add_table(rows=len(rows), cols=ncols)
    if layout.ruled:
        table.style = "Table Grid"
    table.autofit = False
    for i, w in enumerate(widths):
        table.columns[i].width = Cm(w)
        for r in range(len(rows)):
            table.cell(r, i).width = Cm(w)
    for r, c, (text, cs, rs) in placed:
        cell = table.cell(r, c)
        if cs > 1 or rs > 1:
            cell = cell.merge(table.cell(r + rs - 1, c + cs - 1))
        cell.text = text
        for p in cell.paragraphs:
            for run in p.runs:
                run.font.size = Pt(9)
        if layout.centered:
            cell.vertical_alignment = WD_ALIGN_VERTICAL.CENTER


def _page_number_footer(doc) -> None:
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    p = doc.sections[0].footer.paragraphs[0]
    p.add_run("- ")
    p._p.append(parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr="PAGE"><w:r><w:t>1</w:t></w:r></w:fldSimple>'))
    p.add_run(" -")


def report_docx(expected: dict, layout: Layout) -> bytes:
    """A report with the three template tables filled from `expected` cells."""
    import io

    from docx import Document as Docx

    t, cells = expected["template"], expected["cells"]
    doc = Docx()
    _page_number_footer(doc)
    doc.add_paragraph(f"{expected['agency']}{expected['year']}年政府信息公开工作年度报告")
    doc.add_paragraph("一、总体情况")
    for _ in range(layout.filler):
        doc.add_paragraph("本年度我们认真贯彻落实政府信息公开条例，主动公开各类信息，依法办理依申请公开事项，" * 2)
    doc.add_paragraph("二、主动公开政府信息情况")
    _add_table(doc, _active_rows(t, cells), [4.0, 3.5, 3.5, 3.5], layout)
    doc.add_paragraph("三、收到和处理政府信息公开申请情况")
    _add_table(
        doc, _application_rows(t, cells), [layout.label_cm, 1.6, 3.6 - layout.label_cm + 1.6] + [1.3] * 7, layout
    )
    doc.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
    _add_table(doc, _review_rows(cells), [1.06] * 15, layout)
    doc.add_paragraph("五、存在的主要问题及改进情况")
    doc.add_paragraph("信息公开的及时性还需提高。")
    doc.add_paragraph("六、其他需要报告的事项")
    doc.add_paragraph("本年度未收取信息处理费。")
    doc.add_paragraph(expected["agency"])
    doc.add_paragraph("2022年1月20日")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# ---- the PDFs ---------------------------------------------------------------------------------
def _seed(prefix: str) -> dict:
    return next(expected_for(p) for p in seed_paths() if p.stem.startswith(prefix))


def _zeros_blank(expected: dict) -> dict:
    """The report as agencies that leave zeros blank print it (Shanghai 2019 style)."""
    return {**expected, "cells": {k: None if v == 0 else v for k, v in expected["cells"].items()}}


def _rows_blank(expected: dict, *groups: str) -> dict:
    """Whole rows printed blank, every other row full: no row is short in the text layer."""
    blank = {
        k: None if any(k.startswith(f"applications.{g}.") for g in groups) else v for k, v in expected["cells"].items()
    }
    return {**expected, "cells": blank}


# name → (expected cells, layout). Page breaks fall where LibreOffice puts them; the tests
# below check that each PDF really has the property it is here for.
VARIANTS = {
    # 嘉兴: 163 of 200 cells blank; a narrow group column prints 三、本年度办理结果 one
    # character per line; table 三 runs over a page break without repeating its header.
    "blank_cells": (_seed("003"), Layout(label_cm=0.7)),
    # 温州 (2019 format, 增7): table 三 breaks inside the row 2.其他法律行政法规禁止公开.
    "split_row": (_seed("000"), Layout(label_cm=0.9, filler=4)),
    # 沈阳 with the 不予公开 and 无法提供 rows all blank: the text layer runs their labels
    # together, and only the label of a row with no cell in it tells that a row is lost.
    "blank_rows": (_rows_blank(_seed("001"), "refused", "unable"), Layout()),
    # No ruling lines at all: columns come from the header, the header is not repeated.
    "borderless": (_seed("003"), Layout(ruled=False)),
    # Zeros left blank and no ruling lines: whole rows of blanks; the header row of table 三
    # is itself cut by the page break.
    "borderless_zeros_blank": (_zeros_blank(_seed("003")), Layout(ruled=False, filler=1)),
}


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> dict[str, bytes]:
    from crawler.parsing.readers.office import convert

    out = tmp_path_factory.mktemp("pdf")
    sources = []
    for name, (expected, layout) in VARIANTS.items():
        path = out / f"{name}.docx"
        path.write_bytes(report_docx(expected, layout))
        sources.append(path)
    locked = out / "locked"
    locked.mkdir()
    password = (
        '{"EncryptFile":{"type":"boolean","value":"true"},"DocumentOpenPassword":{"type":"string","value":"xxgk"}}'
    )
    with ThreadPoolExecutor(2) as pool:  # the two LibreOffice runs side by side
        jobs = [
            pool.submit(convert, sources, "pdf", out, 180),
            pool.submit(convert, [sources[-1]], f"pdf:writer_pdf_Export:{password}", locked, 180),
        ]
        for job in jobs:
            job.result()
    made = {name: (out / f"{name}.pdf").read_bytes() for name in VARIANTS}
    made["encrypted"] = (locked / f"{sources[-1].stem}.pdf").read_bytes()
    return made


def _exact(cells: dict, expected: dict) -> None:
    want = expected["cells"]
    assert set(cells) == set(want), {"extra": sorted(set(cells) - set(want)), "missing": sorted(set(want) - set(cells))}
    wrong = {k: (cells[k], want[k]) for k in want if cells[k] != want[k] or (cells[k] is None) != (want[k] is None)}
    assert not wrong


def _page_texts(data: bytes) -> list[str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def _rows(doc) -> list[list[str | None]]:
    return [row for block in doc.blocks if isinstance(block, Table) for row in block.rows]


def _squash(text: str | None) -> str:
    from crawler.text import squash

    return squash(text or "")


@pytest.mark.parametrize("name", list(VARIANTS))
def test_rendition_parses_exactly(pdfs, name):
    report = parse_bytes(pdfs[name])
    assert report.format == "pdf"
    _exact(report.contract()["cells"], VARIANTS[name][0])


def test_plain_text_loses_blank_cells_and_positions_keep_them(pdfs):
    doc = read_pdf(pdfs["blank_cells"])
    # The text layer prints "一、本年新收… 9 9": two numbers for seven columns.
    assert extract(tokenize(doc)).incomplete
    rows = _rows(doc.alternative())
    new = next(r for r in rows if r and _squash(r[0]).startswith("一、本年新收"))
    assert [c for c in new if c is not None][1:] == ["9", "", "", "", "", "", "9"]
    partial = next(r for r in rows if any(_squash(c).startswith("(二)部分公开") for c in r))
    assert [c for c in partial if c is not None][-7:] == [""] * 7


def test_labels_printed_one_character_per_line(pdfs):
    lines = [ln.strip() for t in _page_texts(pdfs["blank_cells"]) for ln in t.splitlines()]
    at = lines.index("本")
    assert lines[at : at + 3] == ["本", "年", "度"]  # the text layer really stacks them
    cells = [_squash(c) for r in _rows(read_pdf(pdfs["blank_cells"]).alternative()) for c in r]
    assert "三、本年度办理结果" in cells


def test_table_crossing_a_page_without_repeated_header(pdfs):
    pages = _page_texts(pdfs["blank_cells"])
    header = [i for i, t in enumerate(pages) if "法人或其他组织" in t]
    last_row = [i for i, t in enumerate(pages) if "结转下年度继续办理" in t]
    assert len(header) == 1 and last_row[0] > header[0]
    assert (
        build_report(read_pdf(pdfs["blank_cells"]).alternative()).cells["applications.carry_forward.total"].value == 1
    )


def test_row_split_by_a_page_break_is_rejoined(pdfs):
    pages = _page_texts(pdfs["split_row"])
    assert not any("禁止公开" in _squash(t) for t in pages)  # the label is cut by the break
    assert any("禁止公" in _squash(t) for t in pages)
    rows = _rows(read_pdf(pdfs["split_row"]).alternative())
    joined = next(r for r in rows if any("禁止公开" in _squash(c) for c in r))
    assert [c for c in joined if c is not None][-7:] == ["0"] * 7  # its figures, from the page before


def test_borderless_pdfs_have_no_ruling_lines(pdfs):
    import pypdfium2 as pdfium

    from crawler.parsing.readers.pdf_grid import page_grids

    for name in ("borderless", "borderless_zeros_blank"):
        pdf = pdfium.PdfDocument(pdfs[name])
        assert all(page_grids(pdf[i]) == [] for i in range(len(pdf)))
        pdf.close()
    assert len(page_grids(pdfium.PdfDocument(pdfs["blank_cells"])[1])) >= 1


# ---- damaged files ----------------------------------------------------------------------------
def test_encrypted_pdf(pdfs):
    with pytest.raises(ParseError) as e:
        parse_bytes(pdfs["encrypted"])
    assert e.value.reason == "encrypted"


def test_encrypted_pdf_on_the_command_line(pdfs, tmp_path):
    import sys

    path = tmp_path / "locked.pdf"
    path.write_bytes(pdfs["encrypted"])
    proc = subprocess.run([sys.executable, "-m", "crawler.cli", "parse", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "encrypted" in proc.stderr


@pytest.mark.parametrize("cut", ["half", "tail"])
def test_truncated_pdf_is_unreadable(real_pdf, cut):
    data = real_pdf.read_bytes()
    # pdfium rebuilds a file missing only its last bytes; it must still be refused.
    damaged = data[: len(data) // 2] if cut == "half" else data[:-12]
    with pytest.raises(ParseError) as e:
        parse_bytes(damaged)
    assert e.value.reason == "unreadable"


def test_garbage_after_a_pdf_header_is_unreadable():
    with pytest.raises(ParseError) as e:
        parse_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 64 + b"\n%%EOF\n")
    assert e.value.reason == "unreadable"
