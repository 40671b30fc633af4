"""PDF: pdfium's text layer first (fast); words placed by position when rows come out short."""

from __future__ import annotations

import re

from crawler.model import ParseError
from crawler.parsing.document import Document

_PAGE_NUMBER = re.compile(r"^\s*(?:[-—–]\s*\d{1,3}\s*[-—–]|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$")


def _open(data: bytes):
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        text = str(e).lower()
        if "password" in text:
            raise ParseError("encrypted", "the PDF is encrypted (password required)") from e
        raise ParseError("unreadable", f"the PDF cannot be opened ({e})") from e


def read_pdf(data: bytes, ocr: bool = False) -> Document:
    pdf = _open(data)
    try:
        blocks: list[str] = []
        for i in range(len(pdf)):
            page = pdf[i]
            text = page.get_textpage().get_text_range()
            lines = [ln for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if ln.strip()]
            # Drop running page numbers ("- 3 -") at the top or bottom of a page.
            while lines and _PAGE_NUMBER.match(lines[0]):
                lines.pop(0)
            while lines and _PAGE_NUMBER.match(lines[-1]):
                lines.pop()
            blocks.extend(lines)
        pages = len(pdf)
        title = (pdf.get_metadata_dict() or {}).get("Title") or None
    finally:
        pdf.close()
    if not "".join(blocks).strip():
        raise ParseError("no_text", "the PDF has no text layer (a scanned image); OCR is off")
    return Document(blocks, "pdf", title_hint=title, pages=pages)
