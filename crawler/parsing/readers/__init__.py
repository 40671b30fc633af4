"""One reader per file format, each turning bytes into a Document."""

from __future__ import annotations

from collections.abc import Callable

from crawler.model import ParseError
from crawler.parsing.document import Document

_UNSUPPORTED = {
    "empty": ("unreadable", "the file is empty"),
    "binary": ("unsupported", "not a document format xxgk reads (binary data)"),
    "zip": ("unsupported", "a zip archive, not a report document (the crawler unpacks attachments)"),
}

Reader = Callable[..., Document]  # reader(data, fmt, **options)


def reader(fmt: str) -> Reader:
    """The reader of the sniffed format, imported on first use with the libraries it needs (a reader module
    imports them at its top), or ParseError for a format xxgk does not read. The parse sandbox asks for it
    before it forks, so that every child starts with the reader loaded rather than importing it again."""
    if fmt in _UNSUPPORTED:
        reason, message = _UNSUPPORTED[fmt]
        raise ParseError(reason, message)
    if fmt == "text":
        from crawler.parsing.readers.text import read_text

        return lambda data, fmt, **_: read_text(data)
    if fmt == "markdown":
        from crawler.parsing.readers.markdown import read_markdown

        return lambda data, fmt, **_: read_markdown(data)
    if fmt == "html":
        from crawler.parsing.readers.html import read_html

        # a 图片版 page's body images (url → bytes, as archived) are read by OCR where they stand
        return lambda data, fmt, **options: read_html(
            data, images=options.get("images"), page_url=options.get("page_url")
        )
    if fmt == "docx":
        from crawler.parsing.readers.docx import read_docx

        return lambda data, fmt, **_: read_docx(data)
    if fmt == "ofd":
        from crawler.parsing.readers.ofd import read_ofd

        return lambda data, fmt, **_: read_ofd(data)
    if fmt == "pdf":
        from crawler.parsing.readers.pdf import read_pdf

        return lambda data, fmt, **options: read_pdf(data, **options)
    if fmt in ("xlsx", "xls"):
        from crawler.parsing.readers.sheet import read_sheet

        return lambda data, fmt, **_: read_sheet(data, fmt)
    if fmt in ("doc", "wps", "rtf"):
        from crawler.parsing.readers.office import read_office

        return lambda data, fmt, **_: read_office(data, fmt)
    raise ParseError("unsupported", f"unsupported format: {fmt}")


def read_document(data: bytes, fmt: str, **options) -> Document:
    """Dispatch on the sniffed format."""
    return reader(fmt)(data, fmt, **options)
