"""File type from content, never from the name: magic bytes, then container members, then markup."""

from __future__ import annotations

import io
import re
import zipfile

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML = re.compile(rb"<(!doctype\s+html|html|head|body|table|div|p|meta|title)[\s>/]", re.I)
# A pipe table's delimiter row (|---|:---:|, or --- | --- without the outer pipes).
MD_DELIMITER = re.compile(r"^\s*\|?\s*:?-{1,}:?\s*(?:\|\s*:?-{1,}:?\s*)+\|?\s*$|^\s*\|\s*:?-{3,}:?\s*\|\s*$")
_MD_HEADING = re.compile(r"^#{1,6}\s", re.M)
_MD_SAMPLE = 1 << 18


def sniff(data: bytes) -> str:
    """One of: pdf, docx, xlsx, zip, ofd, doc, xls, wps, rtf, markdown, html, text, binary, empty."""
    head = data[:2048]
    if not data.strip():
        return "empty"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError, OSError):  # a damaged directory
            return "binary"
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "OFD.xml" in names:
            return "ofd"
        return "zip"
    if head.startswith(OLE_MAGIC):
        return _ole_kind(data)
    if head.lstrip().startswith(b"{\\rtf"):
        return "rtf"
    if not data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") and is_markdown(data[:_MD_SAMPLE]):
        return "markdown"
    if _HTML.search(data[:65536]):
        return "html"
    sample = data[:4096]
    if b"\x00" in sample and sample.count(b"\x00") > len(sample) // 10:
        return "binary"
    return "text"


def _ole_kind(data: bytes) -> str:
    """Tell Word, Kingsoft WPS and Excel compound files apart by their stream names."""
    try:
        import olefile

        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            streams = {"/".join(s).lower() for s in ole.listdir()}
    except Exception:
        streams = set()
        low = data[:65536].lower()
        for name in (b"w\x00o\x00r\x00d\x00d\x00o\x00c", b"w\x00o\x00r\x00k\x00b\x00o\x00o\x00k"):
            if name in low:
                streams.add("worddocument" if name.startswith(b"w\x00o\x00r\x00d") else "workbook")
    if "workbook" in streams or "book" in streams:
        return "xls"
    if "worddocument" in streams:
        return "doc"
    return "wps"


def is_markdown(data: bytes) -> bool:
    """Pipe tables (a row over a delimiter row), or Markdown headings beside an HTML table (what MinerU
    writes). Only ASCII marks are looked at, so any ASCII-compatible encoding (UTF-8, GBK) reads the same."""
    text = data.decode("latin-1")
    lines = text.split("\n")
    if any("|" in a and MD_DELIMITER.match(b) for a, b in zip(lines, lines[1:], strict=False)):
        return True
    run = 0  # pipe rows without a delimiter row: three lines or more that open and close with "|"
    for line in lines:
        s = line.strip()
        run = run + 1 if len(s) > 2 and s[0] == s[-1] == "|" and s.count("|") >= 3 else 0
        if run >= 3:
            return True
    return len(_MD_HEADING.findall(text)) >= 2 and "<table" in text.lower()
