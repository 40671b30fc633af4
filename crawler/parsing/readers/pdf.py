"""PDF: pdfium's text layer first (fast); words placed by position when rows come out short."""

from __future__ import annotations

import re

from crawler.model import ParseError
from crawler.parsing.document import Document, Table

_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-—–]\s*\d{1,3}\s*[-—–]|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$"
)


def is_page_number(line: str) -> bool:
    return bool(_PAGE_NUMBER.match(line))


def strip_page_numbers(blocks: list[str | Table]) -> list[str | Table]:
    """Drop running page numbers ("- 3 -") at the top or bottom of a page's blocks."""
    start, end = 0, len(blocks)
    while start < end and isinstance(blocks[start], str) and _PAGE_NUMBER.match(blocks[start]):
        start += 1
    while end > start and isinstance(blocks[end - 1], str) and _PAGE_NUMBER.match(blocks[end - 1]):
        end -= 1
    return blocks[start:end]


def _open(data: bytes):
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        text = str(e).lower()
        if "password" in text:
            raise ParseError("encrypted", "the PDF is encrypted (password required)") from e
        raise ParseError("unreadable", f"the PDF cannot be opened ({e})") from e


def _layout(data: bytes) -> Document:
    from crawler.parsing.readers.pdf_layout import read_layout

    pdf = _open(data)
    try:
        return read_layout(pdf)
    finally:
        pdf.close()


def read_pdf(data: bytes, ocr: bool = False) -> Document:
    pdf = _open(data)
    try:
        blocks: list[str | Table] = []
        for i in range(len(pdf)):
            text = pdf[i].get_textpage().get_text_range()
            lines = [ln for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if ln.strip()]
            blocks.extend(strip_page_numbers(lines))
        pages = len(pdf)
        title = (pdf.get_metadata_dict() or {}).get("Title") or None
    finally:
        pdf.close()
    if not "".join(b for b in blocks if isinstance(b, str)).strip():
        raise ParseError("no_text", "the PDF has no text layer (a scanned image); OCR is off")

    def alternative() -> Document:
        doc = _layout(data)
        doc.title_hint = title
        return doc

    return Document(blocks, "pdf", title_hint=title, pages=pages, alternative=alternative)
