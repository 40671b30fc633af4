"""How far one document may expand while it is read; past any of these a reader refuses it as `too_large`.

A 56 KB HTML table, a 180 KB DOCX or a 2 MB PDF can describe gigabytes (spans covering the rest of a table,
a Flate stream of zeros listed eight times on a page). Real reports stay far below every figure here: a few
hundred table cells, a few dozen pages, content streams of kilobytes. The limits are named once, here, so
that every reader refuses at the same sizes and the message says which limit was met.
"""

from __future__ import annotations

from crawler.model import ParseError

INPUT_BYTES = 200 << 20  # a file `xxgk parse` reads (downloads stop at DOWNLOAD_MAXSIZE, 50 MB, before this)
PACKAGE_BYTES = 200 << 20  # everything a DOCX/XLSX zip unpacks to (its media included)
XML_BYTES = 100 << 20  # the XML a DOCX/XLSX unpacks to (real ones: a few MB)
XML_ELEMENTS = 1_000_000  # elements in that XML: lxml keeps ~150 bytes each (a 300-page report: ~100,000)
GRID_CELLS = 1_000_000  # table positions in one document, merged-over positions included (a report: ~1,000)
SPAN = 1000  # columns one cell may span (the HTML limit for colspan)
PAGES = 2000  # pages of one PDF
PDF_STREAM_BYTES = 64 << 20  # what one PDF stream (a page's content, a font, an object stream) inflates to
PDF_PAGE_CONTENT_BYTES = 16 << 20  # the content one page lists, a stream listed twice counted twice
PDF_TOTAL_BYTES = 512 << 20  # every stream of a PDF inflated once, and all its pages' content
PDF_OBJECTS = 500_000  # objects of one PDF (a 300-page report: ~5,000)
PDF_GRID_CELLS = 10_000  # rows × columns of one ruled table on a PDF page
PDF_RULING_LINES = 5000  # ruling lines of one PDF page (after joining collinear pieces)
RENDER_PIXELS = 100_000_000  # pixels of one page rendered for OCR (A4 at 300 dpi: 8.7 million)
LAYOUT_CHARS = 2_000_000  # characters an OFD draws, template pages counted on every page (300 pages: ~600,000)
PATH_POINTS = 5_000_000  # numbers in an OFD's path data (a ruled 300-page report: ~500,000)
MARKDOWN_LINES = 200_000  # lines of one Markdown file (a converted 300-page report: ~20,000)


def too_large(what: str) -> ParseError:
    """The one wording of a refusal: what the document would expand to."""
    return ParseError("too_large", f"refused: {what}")


class Budget:
    """Grid positions a document's tables have laid out so far, against GRID_CELLS.

    Readers charge every position they allocate (a cell, each position a merged cell covers, each row) before
    allocating it, so a table that would grow past the limit is refused while it is still small.
    """

    def __init__(self, kind: str, limit: int | None = None):
        self.kind = kind
        self.limit = GRID_CELLS if limit is None else limit
        self.used = 0

    def take(self, positions: int) -> None:
        self.used += positions
        if self.used > self.limit:
            raise too_large(f"the {self.kind}'s tables expand to more than {self.limit:,} cells")
