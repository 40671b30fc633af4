"""OCR of pages without a text layer: on by default, off when asked, and never a guessed figure.

The scans are made here from the real Huai'an report (tests/support/scans.py: rendered at 200 dpi, turned,
blurred, speckled, seeded) and read back against its hand-labelled cells, so every assertion compares with
what the page prints. OCR is slow: each test reads as few pages as it needs (page 4 holds the end of table 二
and most of table 三: 92 labelled cells).
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw
from support.scans import as_pdf, as_png, pages

from crawler.model import ParseError
from crawler.parsing import build_report, parse_bytes
from crawler.parsing.readers.images import read_image_document
from crawler.parsing.readers.pdf import read_pdf

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def expected(shared) -> dict:
    return json.loads((shared / "real" / "expected" / "huaian-city-gov-2024.json").read_text())["cells"]


@pytest.fixture(scope="module")
def page4(real_pdf) -> list[Image.Image]:
    return pages(real_pdf, 200, only=[3])


@pytest.fixture(scope="module")
def title_scan(real_pdf) -> bytes:
    """The title lines of page 1 only: a page that OCR reads in a second."""
    img = pages(real_pdf, 200, only=[0])[0]
    return as_pdf([img.crop((0, int(img.height * 0.17), img.width, int(img.height * 0.27)))], 200)


def _page_cells(got: dict, expected: dict) -> dict:
    """The labelled cells page 4 prints (those the scan of it yields keys for)."""
    return {k: v for k, v in expected.items() if k in got}


def test_ocr_is_on_by_default(title_scan, monkeypatch):
    monkeypatch.delenv("XXGK_OCR", raising=False)
    doc = read_pdf(title_scan)
    assert [f.rule for f in doc.extra_findings] == ["parse.ocr"]
    assert "淮安市人民政府" in "".join(doc.lines()).replace(" ", "")


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_ocr_off_refuses_a_scan_as_no_text(title_scan, monkeypatch, how):
    if how == "environment":
        monkeypatch.setenv("XXGK_OCR", "0")
    with pytest.raises(ParseError) as e:
        read_pdf(title_scan, ocr=False if how == "argument" else None)
    assert e.value.reason == "no_text"


def test_a_scanned_page_reads_exactly_and_asserts_no_wrong_figure(page4, expected):
    report = parse_bytes(as_pdf(page4, 200))
    got = report.values()
    cells = _page_cells(got, expected)
    assert len(cells) >= 90  # the page's table rows were all found
    wrong = {k: (got[k], v) for k, v in cells.items() if got[k] is not None and got[k] != v}
    assert not wrong
    exact = sum(got[k] == v for k, v in cells.items())
    assert exact >= len(cells) - 2, (exact, len(cells))
    ocr = next(f for f in report.findings if f.rule == "parse.ocr")
    assert ocr.data["pages"] == [0]
    assert set(ocr.cells) == set(report.cells)  # a scan: every cell is OCR's (the rules' provenance)


def test_png_pages_read_like_the_scanned_pdf(page4, expected):
    report = build_report(read_image_document([as_png(page4[0], 200)]))
    got = report.values()
    cells = _page_cells(got, expected)
    assert len(cells) >= 90
    assert not {k for k, v in cells.items() if got[k] is not None and got[k] != v}
    assert sum(got[k] == v for k, v in cells.items()) >= len(cells) - 2


def test_a_smudged_figure_is_null_with_a_finding_never_a_guess(page4, expected):
    """Table 三's 3001 (自然人, 本年新收) under a scanner's streak: read unsure, so null and named, not a number."""
    from crawler.parsing import ocr

    img = page4[0].copy()
    scale, height = 200 / 72, img.height
    where = next(ch for ch in ocr.ocr_image(np.asarray(img), 200).chars if ch.text == "3001")
    x0, x1 = round(where.x0 * scale), round(where.x1 * scale)
    y0, y1 = round(height - where.y1 * scale), round(height - where.y0 * scale)
    draw = ImageDraw.Draw(img)
    for k in range(0, x1 - x0, 4):
        draw.line((x0 + k, y0, x0 + k + 8, y1), fill=90, width=2)
    report = build_report(read_image_document([as_png(img, 200)]))
    assert report.cells["applications.new.natural_person"].value is None
    unreadable = next(f for f in report.findings if f.rule == "parse.unreadable_value")
    assert "applications.new.natural_person" in unreadable.cells
    assert next(f for f in report.findings if f.rule == "parse.ocr").data["doubtful_numbers"]
    got = report.values()
    assert not {k for k, v in _page_cells(got, expected).items() if got[k] is not None and got[k] != v}


def test_pages_without_text_are_reported_when_ocr_is_off(real_pdf):
    """Text pages with one scanned page in between, OCR off: the text is read, the gap is told."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(real_pdf)
    scanned = pdfium.PdfDocument(as_pdf(pages(real_pdf, 150, only=[3]), 150))
    out = pdfium.PdfDocument.new()
    out.import_pages(src, [0, 1, 2])
    out.import_pages(scanned)
    out.import_pages(src, [4, 5])
    buf = io.BytesIO()
    out.save(buf)
    for doc in (out, scanned, src):
        doc.close()
    report = parse_bytes(buf.getvalue(), ocr=False)
    gap = next(f for f in report.findings if f.rule == "parse.pages_without_text")
    assert gap.data["pages"] == [3]
    assert report.cells["applications.handled_total.total"].value == 3050  # page 5 is still read


def test_the_time_budget_ends_ocr_with_a_clear_reason(title_scan, monkeypatch):
    monkeypatch.setenv("XXGK_OCR_SECONDS", "0.000001")
    with pytest.raises(ParseError) as e:
        read_pdf(title_scan)
    assert e.value.reason == "timeout"


def test_tesseract_is_the_fallback_engine(title_scan, monkeypatch):
    monkeypatch.setenv("XXGK_OCR_ENGINE", "tesseract")
    doc = read_pdf(title_scan)
    ocr = doc.extra_findings[0]
    assert ocr.data["engine"] == "tesseract chi_sim"
    assert "人民政府" in "".join(doc.lines()).replace(" ", "")
    monkeypatch.setenv("XXGK_OCR_ENGINE", "nonesuch")
    with pytest.raises(ParseError) as e:
        read_pdf(title_scan)
    assert e.value.reason == "unsupported"

