"""PDF: pdfium's text layer first (fast); words placed by position when rows come out short.

The plain text reading is the Document; its `alternative` is the positional reading
(pdf_layout), computed only when the plain one leaves table rows incomplete. Pages without
a text layer are scans: they are read by OCR (crawler.parsing.ocr) unless it is off (ocr=False, `--no-ocr`,
XXGK_OCR=0); then the file is refused as `no_text` (or, when only some pages are scans, reported in a finding).
"""

from __future__ import annotations

import ctypes
import os
import re

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw

from crawler.model import Finding, ParseError
from crawler.parsing import limits
from crawler.parsing.document import Document, Table
from crawler.parsing.readers.pdf_layout import digital_page, read_layout
from crawler.parsing.readers.pdf_streams import check_streams

_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-—–]\s*\d{1,3}\s*[-—–]|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$"
)
_TAIL = 4096  # a complete PDF ends with %%EOF within its last bytes (some writers pad a little)


def is_page_number(line: str) -> bool:
    return bool(_PAGE_NUMBER.match(line))


def strip_page_numbers(blocks: list[str | Table]) -> list[str | Table]:
    """Drop running page numbers ("- 3 -") at the top or bottom of a page's blocks."""
    start, end = 0, len(blocks)
    while start < end and isinstance(blocks[start], str) and is_page_number(blocks[start]):
        start += 1
    while end > start and isinstance(blocks[end - 1], str) and is_page_number(blocks[end - 1]):
        end -= 1
    return blocks[start:end]


def _open(data: bytes):
    """The PDF opened by pdfium, once its streams are known to inflate within the limits (pdfium aborts the
    process when an allocation fails) and its page count is within PAGES."""
    check_streams(data)
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        if "password" in str(e).lower():
            raise ParseError("encrypted", "the PDF is encrypted (password required)") from e
        raise ParseError("unreadable", f"the PDF cannot be opened ({e})") from e
    # pdfium rebuilds a cut-off file from what is left; half a report must not pass for a report.
    if b"%%EOF" not in data[-_TAIL:]:
        pdf.close()
        raise ParseError("unreadable", "the PDF is truncated (no %%EOF at its end): an incomplete download?")
    if len(pdf) > limits.PAGES:
        pdf.close()
        raise limits.too_large(f"the PDF has more than {limits.PAGES:,} pages")
    return pdf


def _title(pdf) -> str | None:
    """The Title of the PDF's Info dictionary. Read through pdfium's raw call rather than pypdfium2's
    metadata helpers, which decode strictly and raise on a lone UTF-16 surrogate (found by bench/fuzz.py)."""
    size = pdfium_raw.FPDF_GetMetaText(pdf.raw, b"Title\x00", None, 0)
    if size <= 2:
        return None
    buffer = ctypes.create_string_buffer(size)
    pdfium_raw.FPDF_GetMetaText(pdf.raw, b"Title\x00", buffer, size)
    return buffer.raw[: size - 2].decode("utf-16-le", errors="replace") or None


def _page_texts(pdf) -> list[str]:
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    except pdfium.PdfiumError as e:
        raise ParseError("unreadable", f"a page of the PDF cannot be read ({e})") from e


def _without_text(pages: list[int]) -> Finding:
    shown = "、".join(str(p + 1) for p in pages)
    return Finding(
        "parse.pages_without_text",
        "info",
        "warning",
        f"第{shown}页无文字层（扫描图片），内容未读取；OCR已关闭（--no-ocr 或 XXGK_OCR=0）",
        data={"pages": pages},
    )


def _layout(data: bytes, title: str | None, findings: list[Finding]) -> Document:
    pdf = _open(data)
    try:
        doc = read_layout(pdf)
    finally:
        pdf.close()
    doc.title_hint, doc.extra_findings = title, list(findings)
    return doc


def _ocr(pdf, scanned: list[int], title: str | None) -> Document:
    """The positional reading with OCR for the scanned pages (the whole document: positions
    are all OCR gives, so there is no cheaper reading to try first)."""
    from crawler.parsing import ocr  # numpy and the OCR engine: only when a page needs them

    doubtful: list[str] = []
    failed: list[int] = []
    until = ocr.deadline()

    def reader(page, i: int):
        if i not in scanned:
            return digital_page(page)
        if failed:  # the budget ran out on an earlier page: the rest is not read either
            failed.append(i)
            return None
        try:
            got = ocr.ocr_page(page, until)
        except ocr.OcrTimeout:
            failed.append(i)
            return None
        doubtful.extend(got.doubtful)
        return got.chars, got.grids

    doc = read_layout(pdf, reader)
    if len(failed) == len(scanned) == len(pdf):
        raise ParseError("timeout", f"OCR of the document took longer than its {ocr.budget_seconds():g} s budget")
    doc.title_hint = title
    # Every cell is claimed as OCR's, also in a PDF of text pages and scans: a table may run across both.
    doc.extra_findings = [ocr.finding(scanned, doubtful, failed, ocr.read_cells(doc))]
    return doc


def ocr_enabled(requested: bool | None = None) -> bool:
    """OCR of pages without text: on unless the caller says no (False) or XXGK_OCR is 0, false, no or off."""
    if requested is not None:
        return requested
    return os.environ.get("XXGK_OCR", "").strip().lower() not in ("0", "false", "no", "off")


def read_pdf(data: bytes, ocr: bool | None = None) -> Document:
    pdf = _open(data)
    try:
        texts = _page_texts(pdf)
        pages = len(pdf)
        if not pages:
            raise ParseError("unreadable", "the PDF has no pages")
        title = _title(pdf)
        scanned = [i for i, t in enumerate(texts) if not t.strip()]
        if scanned and ocr_enabled(ocr):
            return _ocr(pdf, scanned, title)
    finally:
        pdf.close()
    if len(scanned) == pages:
        raise ParseError("no_text", "the PDF has no text layer (a scanned image); OCR is off (--no-ocr or XXGK_OCR=0)")
    blocks: list[str | Table] = []
    for text in texts:
        lines = [ln for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if ln.strip()]
        blocks.extend(strip_page_numbers(lines))
    findings = [_without_text(scanned)] if scanned else []
    return Document(
        blocks,
        "pdf",
        title_hint=title,
        pages=pages,
        extra_findings=list(findings),
        alternative=lambda: _layout(data, title, findings),
    )
